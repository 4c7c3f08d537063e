"""Grid files as CSV text (.csv, .txt): columns lon, lat (degrees) or x, y (km), and the value
column (elevation_m or depth_km); one row per node of a regular lattice, in any order; '#' lines
are comments. Checks (each message names the line or the node): numbers only (no NaN), equal
spacing per axis, no duplicated and no missing nodes."""

from __future__ import annotations

import numpy as np

from crustgf.core.tables import TableError, _pick_columns, read_table
from crustgf.geometry.lattice import VALUE_COLUMNS, SurfaceGrid, looks_like_km, regular_axis


def _axis(values: np.ndarray, name: str) -> np.ndarray:
    """The sorted distinct values of a grid column; must be equally spaced."""
    return regular_axis(np.unique(values), name)


def read_csv_grid(path, value: str) -> SurfaceGrid:
    t = read_table(path)
    cols = _pick_columns(t, [("lon", "lat"), ("x", "y")], "grid")
    if not t.has(value):
        raise TableError(f"grid needs a '{value}' column ({VALUE_COLUMNS[value]}); found {t.columns}")
    a_raw, b_raw = t.numbers(cols[0]), t.numbers(cols[1])
    z = t.numbers(value)  # NaN or text: an error naming the line
    a, b = _axis(a_raw, cols[0]), _axis(b_raw, cols[1])
    ia = np.clip(np.searchsorted(a, a_raw), 0, len(a) - 1)
    ib = np.clip(np.searchsorted(b, b_raw), 0, len(b) - 1)
    node = ib * len(a) + ia
    order = np.argsort(node, kind="stable")
    dup = np.flatnonzero(np.diff(node[order]) == 0)
    if len(dup):
        k1, k2 = order[dup[0]], order[dup[0] + 1]
        raise TableError(f"duplicated grid node ({cols[0]}, {cols[1]}) = ({a_raw[k1]:g}, {b_raw[k1]:g}) "
                         f"on lines {t.lines[k1]} and {t.lines[k2]}")
    if len(node) < len(a) * len(b):
        missing = np.setdiff1d(np.arange(len(a) * len(b)), node)[0]
        raise TableError(f"missing grid node ({cols[0]}, {cols[1]}) = ({a[missing % len(a)]:g}, "
                         f"{b[missing // len(a)]:g}) ({len(a) * len(b) - len(node)} of {len(a) * len(b)} missing)")
    values = np.empty(len(a) * len(b))
    values[node] = z
    kind = "lonlat" if cols == ("lon", "lat") else "xy"
    return SurfaceGrid(kind, a, b, values.reshape(len(b), len(a)), looks_like_km(z))
