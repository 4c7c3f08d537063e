"""The free surface (config `[surface]`): topography and bathymetry as elevation(x, y).

Elevation is in metres, positive up from sea level (a seafloor is negative). Either a constant, or
a regular grid read from a grid file: CSV with columns lon, lat (degrees) or x, y (km), and
elevation_m (metres above sea level), one row per grid node in any order; or NetCDF or GeoTIFF
(crustgf.geometry.gridfiles picks the reader by extension; each format module gives its rules).
Between nodes the surface is bilinear in the grid's own coordinates (lon/lat grids: in lon/lat);
outside the grid it takes the nearest edge value (the query point is clamped onto the grid's box).

Checks on a grid file (each a one-line message naming the line or the node): numbers only (no NaN,
no fill value), nodes on a regular lattice (equal spacing per axis), no duplicated and no missing
nodes. Values that look like km (all |elevation| <= 10 on a grid larger than a few nodes) give a
warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.geometry.gridfiles import read_grid_file
from crustgf.geometry.lattice import KM_LIKE, VALUE_COLUMNS, SurfaceGrid

__all__ = ["KM_LIKE", "VALUE_COLUMNS", "Surface", "SurfaceGrid", "bilinear", "read_grid", "read_surface_grid"]


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
        lon, lat = Projection(self.origin).to_lonlat(np.clip(x, x0, x1), np.clip(y, y0, y1))
        mid = 0.5 * (self.a[0] + self.a[-1])  # the grid's own longitudes (-180..180 or 0..360)
        return mid + (lon - mid + 180.0) % 360.0 - 180.0, lat

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


def read_grid(path, value: str = "elevation_m") -> SurfaceGrid:
    """A regular lattice of values from a grid file: CSV (columns lon, lat or x, y (km), and `value`,
    a VALUE_COLUMNS key; one row per node, any order), NetCDF or GeoTIFF, chosen by the file's
    extension (crustgf.geometry.gridfiles, which documents each format's conventions)."""
    return read_grid_file(path, value)


def read_surface_grid(path) -> SurfaceGrid:
    """The free surface's grid: elevation_m, metres above sea level."""
    return read_grid(path, "elevation_m")
