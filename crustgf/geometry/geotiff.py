"""Grid files as GeoTIFF (.tif, .tiff), read with tifffile: one band, geographic lon/lat only.

Georeferencing (OGC GeoTIFF 1.1, Annex B "Raster Space"): ModelPixelScaleTag (33550) with one ModelTiepointTag
(33922) pair, or a ModelTransformationTag (34264) without rotation or shear. Raster space: with
PixelIsArea (GTRasterTypeGeoKey 1025 = 1, the default) the raster point (i, j) is the upper-left
corner of pixel (i, j), so the nodes (pixel centres) are at raster (col + 0.5, row + 0.5); with
PixelIsPoint (= 2) the raster point (col, row) is the node itself. Model X (lon) = X0 + (I - I0) *
ScaleX, Y (lat) = Y0 - (J - J0) * ScaleY.

CRS (GeoKeyDirectoryTag 34735): GTModelTypeGeoKey (1024) = 2 (geographic), or no model type and a
GeographicTypeGeoKey (2048); angular unit (2054) degrees. Geographic CRSs on WGS84-like datums
(WGS84, GRS80-based: JGD2000, JGD2011, ETRS89, NAD83, GDA) are taken as WGS84 lon/lat (they differ
by less than about a metre); a projected CRS or another datum is an error (reproject to EPSG:4326,
e.g. gdalwarp -t_srs EPSG:4326).

Values: a GeoTIFF carries no units or sign: an elevation_m grid holds metres above sea level, a
depth_km grid km below sea level (positive down). Nodes equal to GDAL_NODATA (tag 42113) or NaN are
errors naming the node.
"""

from __future__ import annotations

import numpy as np

from crustgf.core.tables import TableError
from crustgf.geometry.lattice import SurfaceGrid, lattice_from_axes

PIXEL_SCALE, TIEPOINT, TRANSFORMATION, GEOKEYS, NODATA = 33550, 33922, 34264, 34735, 42113
MODEL_TYPE, RASTER_TYPE, GEOGRAPHIC_TYPE, ANGULAR_UNITS, PROJECTED_TYPE = 1024, 1025, 2048, 2054, 3072
PIXEL_IS_AREA, PIXEL_IS_POINT = 1, 2
MODEL_PROJECTED, MODEL_GEOGRAPHIC = 1, 2
DEGREE = 9102
USER_DEFINED = 32767
GEODETIC_DATUM = 2050
# geographic CRSs (and their datums) whose lon/lat equal WGS84's within about a metre: WGS84, GRS80
# unknown datum, ETRS89, NAD83, GDA94, JGD2000, JGD2011, GDA2020 (and 3D WGS84, ETRS89)
WGS84_LIKE = {4326, 4019, 4258, 4269, 4283, 4612, 6668, 7844, 4979, 4937}
WGS84_LIKE_DATUMS = {6326, 6019, 6258, 6269, 6283, 6612, 1128, 1168}


def _geokeys(tags) -> dict[int, int]:
    """The short (inline) keys of the GeoKeyDirectoryTag: {key id: value}."""
    if GEOKEYS not in tags:
        raise TableError("no GeoKeyDirectoryTag: not a GeoTIFF (no coordinate reference system)")
    d = [int(v) for v in tags[GEOKEYS].value]
    keys = {}
    for k in range(d[3]):
        key, location, _count, value = d[4 + 4 * k: 8 + 4 * k]
        if location == 0:
            keys[key] = value
    return keys


def _check_crs(keys: dict[int, int]) -> None:
    model = keys.get(MODEL_TYPE)
    if model == MODEL_PROJECTED or (model is None and PROJECTED_TYPE in keys):
        crs = keys.get(PROJECTED_TYPE)
        raise TableError(f"a projected GeoTIFF ({f'EPSG:{crs}' if crs else 'projected CRS'}): only geographic "
                         f"lon/lat GeoTIFFs are read; reproject it to EPSG:4326")
    if model not in (MODEL_GEOGRAPHIC, None) or (model is None and GEOGRAPHIC_TYPE not in keys):
        raise TableError(f"GTModelTypeGeoKey = {model}: only geographic lon/lat GeoTIFFs are read")
    crs = keys.get(GEOGRAPHIC_TYPE, USER_DEFINED)
    if crs != USER_DEFINED and crs not in WGS84_LIKE:
        raise TableError(f"geographic CRS EPSG:{crs} is not on a WGS84-like datum; reproject it to EPSG:4326")
    datum = keys.get(GEODETIC_DATUM, USER_DEFINED)
    if crs == USER_DEFINED and datum != USER_DEFINED and datum not in WGS84_LIKE_DATUMS:
        raise TableError(f"geodetic datum EPSG:{datum} is not WGS84-like; reproject it to EPSG:4326")
    if keys.get(ANGULAR_UNITS, DEGREE) != DEGREE:
        raise TableError(f"angular unit {keys[ANGULAR_UNITS]} is not degrees (9102)")


def _affine(tags) -> tuple[float, float, float, float]:
    """(x0, dx, y0, dy): model X = x0 + I dx, Y = y0 + J dy at raster point (I, J)."""
    if TRANSFORMATION in tags:
        m = [float(v) for v in tags[TRANSFORMATION].value]
        if m[1] != 0 or m[4] != 0:
            raise TableError("ModelTransformationTag has rotation or shear; only north-up grids are read")
        return m[3], m[0], m[7], m[5]
    if PIXEL_SCALE not in tags or TIEPOINT not in tags:
        raise TableError("no georeferencing: needs ModelPixelScaleTag and ModelTiepointTag, or ModelTransformationTag")
    sx, sy = (float(v) for v in tags[PIXEL_SCALE].value[:2])
    tie = [float(v) for v in tags[TIEPOINT].value]
    if len(tie) != 6:
        raise TableError(f"{len(tie) // 6} tiepoints: only one tiepoint with a pixel scale is read")
    i0, j0, _, x0, y0, _ = tie
    return x0 - i0 * sx, sx, y0 + j0 * sy, -sy


def read_geotiff_grid(path, value: str) -> SurfaceGrid:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = {t.code: t for t in page.tags.values()}
            keys = _geokeys(tags)
            _check_crs(keys)
            x0, dx, y0, dy = _affine(tags)
            data = page.asarray()
            nodata = tags[NODATA].value if NODATA in tags else None
    except TableError:
        raise
    except (OSError, ValueError, KeyError, IndexError, tifffile.TiffFileError) as exc:
        raise TableError(f"cannot read as GeoTIFF ({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from None
    if data.ndim != 2:
        raise TableError(f"image has shape {data.shape}: only one band (a 2-D image) is read")
    raster_type = keys.get(RASTER_TYPE, PIXEL_IS_AREA)
    if raster_type not in (PIXEL_IS_AREA, PIXEL_IS_POINT):
        raise TableError(f"GTRasterTypeGeoKey = {raster_type}: must be 1 (PixelIsArea) or 2 (PixelIsPoint)")
    half = 0.5 if raster_type == PIXEL_IS_AREA else 0.0
    rows, cols = data.shape
    lon = x0 + (np.arange(cols) + half) * dx
    lat = y0 + (np.arange(rows) + half) * dy
    values = data.astype(float)
    if nodata is not None:
        try:
            fill = float(str(nodata).strip("\x00 "))
        except ValueError:
            raise TableError(f"GDAL_NODATA tag '{nodata}' is not a number") from None
        values[values == fill] = np.nan
    return lattice_from_axes("lonlat", lon, lat, values, ("lon", "lat"))
