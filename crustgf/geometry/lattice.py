"""A regular lattice of values read from a grid file (any format): the one result type of the grid
readers (crustgf.geometry.gridfiles) and the checks every format shares.

A lattice is two increasing, equally spaced axes a (lon, or x in km) and b (lat, or y in km) and
values (len(b), len(a)) in the unit and sign of the value column (VALUE_COLUMNS). Messages are one
line without the file name (the config layer puts `key: file: ` in front, as for every table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.core.tables import TableError

KM_LIKE = 10.0  # m: a real topography grid has values beyond this; all within it smells of km

VALUE_COLUMNS = {"elevation_m": "metres above sea level", "depth_km": "km below sea level"}


@dataclass
class SurfaceGrid:
    kind: str  # "lonlat" or "xy" (km as written)
    a: np.ndarray
    b: np.ndarray
    values: np.ndarray  # (len(b), len(a)) as written in the value column
    looks_like_km: bool  # every |value| <= 10 on a grid of more than 4 nodes (only meaningful for metres)


def check_value(value: str) -> None:
    if value not in VALUE_COLUMNS:
        raise ValueError(f"value must be one of {sorted(VALUE_COLUMNS)}, not {value!r}")


def regular_axis(u: np.ndarray, name: str, what: str = "column") -> np.ndarray:
    """u (sorted, distinct) unchanged if equally spaced; else a TableError naming the odd step."""
    if len(u) < 2:
        raise TableError(f"{what} '{name}' has {len(u)} distinct value(s); a grid needs at least 2")
    steps = np.diff(u)
    if np.ptp(steps) > 1e-6 * max(abs(u).max(), steps.max()) + 1e-3 * steps.min():
        k = int(np.argmax(np.abs(steps - np.median(steps))))
        raise TableError(f"irregular grid: {what} '{name}' steps from {u[k]:g} to {u[k + 1]:g}, "
                         f"the usual step is {np.median(steps):g}")
    return u


def looks_like_km(values: np.ndarray) -> bool:
    return values.size > 4 and float(np.abs(values).max()) <= KM_LIKE and float(np.ptp(values)) > 0


def lattice_from_axes(kind: str, a, b, values, names: tuple[str, str]) -> SurfaceGrid:
    """The lattice of a raster (NetCDF, GeoTIFF): axes as stored (either direction), values
    (len(b), len(a)) with NaN where the file has no value. Descending axes are flipped; an axis
    that is not strictly monotonic or not equally spaced, or a node without a value, is an error
    naming the axis or the node (names: the two axes' names for messages, e.g. ("lon", "lat"))."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.shape != (len(b), len(a)):
        raise TableError(f"values have shape {values.shape}, the axes ({names[1]}, {names[0]}) "
                         f"({len(b)}, {len(a)})")
    for axis, (u, name) in enumerate(((b, names[1]), (a, names[0]))):
        if len(u) >= 2 and u[-1] < u[0]:
            u = u[::-1]
            values = np.flip(values, axis=axis)
        steps = np.diff(u)
        if len(u) >= 2 and not (steps > 0).all():
            k = int(np.argmax(steps <= 0))
            how = "repeats" if steps[k] == 0 else "turns back at"
            raise TableError(f"axis '{name}' is not monotonic: it {how} {u[k + 1]:g}")
        regular_axis(u, name, "axis")
        if axis == 0:
            b = u
        else:
            a = u
    bad = ~np.isfinite(values)
    if bad.any():
        j, i = np.argwhere(bad)[0]
        raise TableError(f"grid node ({names[0]}, {names[1]}) = ({a[i]:g}, {b[j]:g}) has no value "
                         f"(NaN or the file's fill/nodata value; {int(bad.sum())} of {bad.size} nodes)")
    return SurfaceGrid(kind, a, b, values, looks_like_km(values))
