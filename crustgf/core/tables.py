"""Small CSV readers for the files a config names: station lists and depth grids.

Format: comma-separated, one header row, then data rows. Lines starting with '#' (provenance
notes, as in ../shared/data) and blank lines are skipped anywhere. Header names are matched
case-insensitively, surrounding spaces ignored; columns nobody asked for are ignored.

These readers know columns and numbers, not units: they return the file's values as written
(km, degrees); `crustgf.config.load` converts them and checks where they lie.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crustgf.core.errors import CrustgfError


class TableError(CrustgfError):
    """A file that cannot be read as the table we need; the message says where (line, column)."""


@dataclass
class Table:
    path: Path
    columns: list[str]  # lower-case header names, in file order
    rows: list[list[str]]  # data cells, stripped
    lines: list[int]  # 1-based source line of each row, for messages

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def text(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def numbers(self, name: str, blank_is_nan: bool = False) -> np.ndarray:
        """A column as float64; a cell that is not a finite number is an error naming its line
        (with blank_is_nan, an empty cell is NaN: a value not given)."""
        out = np.empty(len(self.rows))
        for k, cell in enumerate(self.text(name)):
            if blank_is_nan and cell == "":
                out[k] = np.nan
                continue
            try:
                out[k] = float(cell)
            except ValueError:
                out[k] = np.nan
            if not np.isfinite(out[k]):
                raise TableError(f"line {self.lines[k]}: column '{name}' is not a number: {cell!r}")
        return out


def read_table(path) -> Table:
    """Read a CSV file with a header row, skipping '#' lines and blank lines."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            numbered = [(i + 1, line) for i, line in enumerate(f)]
    except UnicodeDecodeError as exc:
        raise TableError(f"not a text file ({exc.reason})") from None
    except OSError as exc:
        raise TableError(f"cannot read: {exc.strerror or exc}") from None
    kept = [(n, line) for n, line in numbered if line.strip() and not line.lstrip().startswith("#")]
    if not kept:
        raise TableError("no header row")
    try:
        parsed = list(csv.reader(line for _, line in kept))
    except csv.Error as exc:
        raise TableError(f"not a CSV file ({exc})") from None
    header = [h.strip().lower() for h in parsed[0]]
    if len(set(header)) != len(header):
        raise TableError(f"line {kept[0][0]}: repeated column names in header {header}")
    rows, lines = [], []
    for (n, _), cells in zip(kept[1:], parsed[1:]):
        if len(cells) != len(header):
            raise TableError(f"line {n}: {len(cells)} values, the header has {len(header)}")
        rows.append([c.strip() for c in cells])
        lines.append(n)
    return Table(path, header, rows, lines)


def _pick_columns(table: Table, choices: list[tuple[str, ...]], what: str) -> tuple[str, ...]:
    """The one group of column names from `choices` that the table has."""
    found = [c for c in choices if table.has(*c)]
    wanted = " or ".join("(" + ", ".join(c) + ")" for c in choices)
    if not found:
        raise TableError(f"{what} needs columns {wanted}; found {table.columns}")
    if len(found) > 1:
        raise TableError(f"{what} has both {found[0]} and {found[1]} columns; keep one")
    return found[0]


@dataclass
class StationFile:
    names: list[str]
    horizontal: str  # "lonlat" (degrees) or "xy" (km)
    a: np.ndarray  # lon or x
    b: np.ndarray  # lat or y
    z_km: np.ndarray  # elevation in km, up (0 on the free surface; negative below it)
    has_z: bool = True  # False: no z/depth column (the stations sit on the free surface)


def read_station_file(path) -> StationFile:
    """Columns: name, and lon, lat (degrees) or x, y (km); optional z (km, up) or depth (km, down)."""
    t = read_table(path)
    if not t.has("name"):
        raise TableError(f"station file needs a 'name' column; found {t.columns}")
    cols = _pick_columns(t, [("lon", "lat"), ("x", "y")], "station file")
    if t.has("z") and t.has("depth"):
        raise TableError("station file has both 'z' and 'depth' columns; keep one")
    if t.has("z"):
        z = t.numbers("z")
    elif t.has("depth"):
        z = -t.numbers("depth")  # depth is positive down, z positive up
    else:
        z = np.zeros(len(t.rows))
    names = t.text("name")
    for n, line in zip(names, t.lines):
        if not n:
            raise TableError(f"line {line}: empty station name")
    kind = "lonlat" if cols == ("lon", "lat") else "xy"
    return StationFile(names, kind, t.numbers(cols[0]), t.numbers(cols[1]), z,
                       has_z=t.has("z") or t.has("depth"))


@dataclass
class DepthGrid:
    horizontal: str  # "lonlat" (degrees) or "xy" (km)
    a: np.ndarray  # lon or x
    b: np.ndarray  # lat or y
    depth_km: np.ndarray  # positive down


def read_depth_grid(path) -> DepthGrid:
    """Columns: lon, lat (degrees) or x, y (km), and depth_km (km, positive down; `depth` also works)."""
    t = read_table(path)
    cols = _pick_columns(t, [("lon", "lat"), ("x", "y")], "depth grid")
    depth = _pick_columns(t, [("depth_km",), ("depth",)], "depth grid")[0]
    if len(t.rows) < 3:
        raise TableError(f"depth grid has {len(t.rows)} points, needs at least 3")
    kind = "lonlat" if cols == ("lon", "lat") else "xy"
    return DepthGrid(kind, t.numbers(cols[0]), t.numbers(cols[1]), t.numbers(depth))
