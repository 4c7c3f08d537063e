"""The free surface (config `[surface]`): topography and bathymetry as elevation(x, y).

Elevation is in metres, positive up from sea level (a seafloor is negative). Either a constant, or
a regular grid read from a CSV file with columns lon, lat (degrees) or x, y (km), and elevation_m
(metres above sea level), one row per grid node in any order. Between nodes the surface is
bilinear in the grid's own coordinates (lon/lat grids: in lon/lat); outside the grid it takes the
nearest edge value (the query point is clamped onto the grid's box).

Checks on a grid file (each a one-line message naming the line or the node): numbers only (no NaN),
nodes on a regular lattice (equal spacing per axis), no duplicated and no missing nodes. Values
that look like km (all |elevation| <= 10 on a grid larger than a few nodes) give a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.core.tables import TableError, _pick_columns, read_table

KM_LIKE = 10.0  # m: a real topography grid has values beyond this; all within it smells of km


@dataclass
class Surface:
    """elevation(x, y) in m (local frame, m); picklable (plain arrays; the projection is rebuilt)."""

    constant: float | None = None  # m, for a flat surface
    kind: str = "constant"  # "constant", "xy" (axes in m) or "lonlat" (axes in degrees)
    a: np.ndarray | None = None  # first axis (x in m, or lon), increasing
    b: np.ndarray | None = None  # second axis (y in m, or lat), increasing
    values: np.ndarray | None = None  # (len(b), len(a)) elevations, m
    origin: tuple[float, float] | None = None  # domain.origin, for lon/lat grids
    file: str = ""

    def elevation(self, x, y) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if self.constant is not None:
            return np.full(x.shape, float(self.constant))
        a, b = (x, y) if self.kind == "xy" else self._lonlat(x, y)
        return bilinear(self.a, self.b, self.values, a, b)

    def _lonlat(self, x, y):
        """lon/lat of local points, clamped first onto the grid's x/y box: far outside it (a sized
        far-field box reaches thousands of km) the projection is invalid, and the value there is
        the nearest edge value anyway."""
        from crustgf.geometry.projection import Projection

        if getattr(self, "_xy_box", None) is None:
            ring = self.grid_box_xy()
            self._xy_box = (ring[:, 0].min(), ring[:, 0].max(), ring[:, 1].min(), ring[:, 1].max())
        x0, x1, y0, y1 = self._xy_box
        return Projection(self.origin).to_lonlat(np.clip(x, x0, x1), np.clip(y, y0, y1))

    def is_flat(self) -> bool:
        return self.constant is not None

    def bounds(self) -> tuple[float, float]:
        """(lowest, highest) elevation anywhere, m."""
        if self.constant is not None:
            return float(self.constant), float(self.constant)
        return float(self.values.min()), float(self.values.max())

    def grid_box_xy(self) -> np.ndarray | None:
        """(k, 2) points (m) around the grid's edge in the local frame, None for a constant."""
        if self.constant is not None:
            return None
        t = np.linspace(0.0, 1.0, 50)
        a0, a1, b0, b1 = self.a[0], self.a[-1], self.b[0], self.b[-1]
        ring_a = np.concatenate([a0 + t * (a1 - a0), np.full(50, a1), a1 - t * (a1 - a0), np.full(50, a0)])
        ring_b = np.concatenate([np.full(50, b0), b0 + t * (b1 - b0), np.full(50, b1), b1 - t * (b1 - b0)])
        if self.kind == "xy":
            return np.column_stack([ring_a, ring_b])
        from crustgf.geometry.projection import Projection

        return np.column_stack(Projection(self.origin).to_xy(ring_a, ring_b))

    def covers(self, x, y) -> np.ndarray:
        """Whether local points (m) lie inside the grid (always True for a constant)."""
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if self.constant is not None:
            return np.ones(x.shape, bool)
        a, b = (x, y) if self.kind == "xy" else self._lonlat(x, y)
        return (a >= self.a[0]) & (a <= self.a[-1]) & (b >= self.b[0]) & (b <= self.b[-1])


def bilinear(ax: np.ndarray, bx: np.ndarray, values: np.ndarray, a, b) -> np.ndarray:
    """Bilinear interpolation on the lattice ax x bx of values (len(bx), len(ax)); clamped outside."""
    a = np.clip(np.asarray(a, dtype=float), ax[0], ax[-1])
    b = np.clip(np.asarray(b, dtype=float), bx[0], bx[-1])
    i = np.clip(np.searchsorted(ax, a, side="right") - 1, 0, max(len(ax) - 2, 0))
    j = np.clip(np.searchsorted(bx, b, side="right") - 1, 0, max(len(bx) - 2, 0))
    if len(ax) == 1 or len(bx) == 1:
        raise CrustgfError("surface grid needs at least 2 nodes along each axis")
    ta = (a - ax[i]) / (ax[i + 1] - ax[i])
    tb = (b - bx[j]) / (bx[j + 1] - bx[j])
    v00, v10 = values[j, i], values[j, i + 1]
    v01, v11 = values[j + 1, i], values[j + 1, i + 1]
    return (1 - ta) * (1 - tb) * v00 + ta * (1 - tb) * v10 + (1 - ta) * tb * v01 + ta * tb * v11


def _axis(values: np.ndarray, name: str) -> np.ndarray:
    """The sorted distinct values of a grid column; must be equally spaced."""
    u = np.unique(values)
    if len(u) < 2:
        raise TableError(f"column '{name}' has {len(u)} distinct value(s); a grid needs at least 2")
    steps = np.diff(u)
    if np.ptp(steps) > 1e-6 * max(abs(u).max(), steps.max()) + 1e-3 * steps.min():
        k = int(np.argmax(np.abs(steps - np.median(steps))))
        raise TableError(f"irregular grid: column '{name}' steps from {u[k]:g} to {u[k + 1]:g}, "
                         f"the usual step is {np.median(steps):g}")
    return u


@dataclass
class SurfaceGrid:
    kind: str  # "lonlat" or "xy" (km as written)
    a: np.ndarray
    b: np.ndarray
    values: np.ndarray  # (len(b), len(a)) as written in the value column
    looks_like_km: bool  # every |value| <= 10 on a grid of more than 4 nodes (only meaningful for metres)


VALUE_COLUMNS = {"elevation_m": "metres above sea level", "depth_km": "km below sea level"}


def read_grid(path, value: str = "elevation_m") -> SurfaceGrid:
    """A regular lattice of values: columns lon, lat or x, y (km), and `value` (a VALUE_COLUMNS
    key); one row per node, any order."""
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
    looks_like_km = len(z) > 4 and float(np.abs(z).max()) <= KM_LIKE and float(np.ptp(z)) > 0
    return SurfaceGrid(kind, a, b, values.reshape(len(b), len(a)), looks_like_km)


def read_surface_grid(path) -> SurfaceGrid:
    """The free surface's grid: elevation_m, metres above sea level."""
    return read_grid(path, "elevation_m")
