"""Grid files as CSV text (.csv, .txt): columns lon, lat (degrees) or x, y (km), and the value
column (elevation_m or depth_km); one row per node of a regular lattice, in any order; '#' lines
are comments. Checks (each message names the line or the node): numbers only (no NaN), equal
spacing per axis, no duplicated and no missing nodes.

Large grids: an all-numeric file is parsed by numpy (np.loadtxt, C speed); anything it does not
take as it is (comments among the rows, text cells, a bad value, a bad lattice) is read again by
the line-by-line table reader (crustgf.core.tables), which says where the problem is."""

from __future__ import annotations

import csv

import numpy as np

from crustgf.core.tables import TableError, _pick_columns, read_table
from crustgf.geometry.lattice import VALUE_COLUMNS, SurfaceGrid, looks_like_km, regular_axis

AXES = [("lon", "lat"), ("x", "y")]


def read_csv_grid(path, value: str) -> SurfaceGrid:
    fast = _numeric_columns(path, value)
    if fast is not None:
        try:
            return _lattice(*fast, lines=None)
        except TableError:
            pass  # the line-by-line reader below finds the same problem and names its lines
    t = read_table(path)
    cols = _pick_columns(t, AXES, "grid")
    if not t.has(value):
        raise TableError(f"grid needs a '{value}' column ({VALUE_COLUMNS[value]}); found {t.columns}")
    # NaN or text: an error naming the line
    return _lattice(t.numbers(cols[0]), t.numbers(cols[1]), t.numbers(value), cols, lines=t.lines)


def _numeric_columns(path, value: str):
    """(a, b, values, axis names) of a file whose data rows are all numbers, or None."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            n, line = next(((n, line) for n, line in enumerate(f, 1)
                            if line.strip() and not line.lstrip().startswith("#")), (0, ""))
        if not n:
            return None
        header = [h.strip().lower() for h in next(csv.reader([line]))]
    except (OSError, UnicodeDecodeError, csv.Error, StopIteration):
        return None
    groups = [c for c in AXES if all(k in header for k in c)]
    if len(set(header)) != len(header) or len(groups) != 1 or value not in header:
        return None
    try:
        data = np.loadtxt(path, delimiter=",", comments=None, skiprows=n, ndmin=2, encoding="utf-8-sig",
                          quotechar='"')
    except (ValueError, OSError):
        return None
    if data.size == 0 or data.shape[1] != len(header) or not np.isfinite(data).all():
        return None
    cols = groups[0]
    return data[:, header.index(cols[0])], data[:, header.index(cols[1])], data[:, header.index(value)], cols


def _lattice(a_raw, b_raw, z, cols, lines) -> SurfaceGrid:
    """Rows (any order) -> the lattice; lines: each row's line number for messages (None: unknown)."""
    a, b = regular_axis(np.unique(a_raw), cols[0]), regular_axis(np.unique(b_raw), cols[1])
    ia = np.clip(np.searchsorted(a, a_raw), 0, len(a) - 1)
    ib = np.clip(np.searchsorted(b, b_raw), 0, len(b) - 1)
    node = ib * len(a) + ia
    order = np.argsort(node, kind="stable")
    dup = np.flatnonzero(np.diff(node[order]) == 0)
    if len(dup):
        k1, k2 = order[dup[0]], order[dup[0] + 1]
        where = f" on lines {lines[k1]} and {lines[k2]}" if lines is not None else ""
        raise TableError(f"duplicated grid node ({cols[0]}, {cols[1]}) = ({a_raw[k1]:g}, {b_raw[k1]:g}){where}")
    if len(node) < len(a) * len(b):
        missing = np.setdiff1d(np.arange(len(a) * len(b)), node)[0]
        raise TableError(f"missing grid node ({cols[0]}, {cols[1]}) = ({a[missing % len(a)]:g}, "
                         f"{b[missing // len(a)]:g}) ({len(a) * len(b) - len(node)} of {len(a) * len(b)} missing)")
    values = np.empty(len(a) * len(b))
    values[node] = z
    kind = "lonlat" if cols == ("lon", "lat") else "xy"
    return SurfaceGrid(kind, a, b, values.reshape(len(b), len(a)), looks_like_km(z))
