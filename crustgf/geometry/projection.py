"""Longitude/latitude <-> the local frame's x (east), y (north), in metres.

SPEC section 4: lon/lat inputs are projected with a transverse Mercator projection centred on
`domain.origin` (WGS84 ellipsoid, scale factor 1 on the central meridian, no false easting or
northing), so the origin maps to (x, y) = (0, 0), x grows eastwards and y northwards. Distances
near the central meridian are true; the scale error grows like (distance / 6400 km)^2 / 2
(about 0.1 % at 300 km east or west of the origin).
"""

from __future__ import annotations

import numpy as np


def transverse_mercator_crs(lon0: float, lat0: float):
    """The local frame's CRS (pyproj.CRS): WGS84 transverse Mercator whose (0, 0) is (lon0, lat0)."""
    from pyproj import CRS  # imported when a projection is made: crustgf imports without pyproj

    return CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


class Projection:
    """Projection between geographic coordinates (degrees) and the local frame (metres)."""

    def __init__(self, origin: tuple[float, float]):
        lon0, lat0 = (float(v) for v in origin)
        self.origin = (lon0, lat0)
        from pyproj import CRS, Transformer

        self.crs = transverse_mercator_crs(lon0, lat0)
        geographic = CRS.from_epsg(4326)
        # always_xy: (lon, lat) and (x, y) order, whatever the CRS's axis order says
        self._forward = Transformer.from_crs(geographic, self.crs, always_xy=True)
        self._inverse = Transformer.from_crs(self.crs, geographic, always_xy=True)

    def to_xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Local x, y in metres of points given in degrees (scalars or arrays of one shape)."""
        x, y = self._forward.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Longitude, latitude in degrees of local points given in metres."""
        lon, lat = self._inverse.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def describe(self) -> str:
        """One sentence for file attributes (`frame`)."""
        lon0, lat0 = self.origin
        return (f"x east, y north, z up in metres; transverse Mercator (WGS84, k0 = 1) centred on "
                f"lon {lon0:.6f}, lat {lat0:.6f} = (0, 0); free surface z = 0")
