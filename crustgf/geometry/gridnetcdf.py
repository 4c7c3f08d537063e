"""Grid files as NetCDF (.nc, .nc4, .grd): GMT, GEBCO, ETOPO and other CF-style rectilinear grids,
NetCDF-4/HDF5 (read with h5netcdf) or classic NetCDF-3 (read with scipy), through xarray.

The data variable: the only variable with two dimensions longer than 1; among several, the one
named z, elevation, depth, topo, topography, bathymetry, height, altitude or band1 (case-insensitive);
anything else is an error listing the candidates. Its two dimensions need 1-D coordinate variables.

Which dimension is east-west: the coordinate's standard_name (longitude / projection_x_coordinate,
latitude / projection_y_coordinate), else its units (degrees_east / degrees_north and variants),
else its axis attribute (X / Y), else its name (lon, longitude, x / lat, latitude, y).
Units in brackets count ("longitude [degrees_east]" is degrees_east).
Degrees or km: units in degrees (degrees, degrees_east, degree_N, ...) -> a lon/lat grid; km
(kilometre...) -> x, y in km; m (metre...) -> x, y divided by 1000. Without units, the names
lon/longitude/lat/latitude (or standard_name longitude/latitude) mean degrees; x, y without units
is an error (it could be either).
Node positions are the coordinate values (GMT stores cell centres for pixel-registered grids).

Values: units m (metre...) or km (kilometre...), none = the value column's own unit (m for
elevation_m, km for depth_km); `positive` = "up" or "down"; without it, a variable named depth is
down, one named elevation/height/altitude/topo/topography is up, any other the value column's own
direction (up for elevation_m, down for depth_km). A value v becomes height h = +-v (m) and then
elevation_m = h or depth_km = -h / 1000. A Slab2 .grd (written by USGS MapIO: x, y and z with no
attributes, z in km and negative below sea level, NaN outside the slab) therefore needs units on
x and y (degrees_east, degrees_north) and units = "km", positive = "up" on z, e.g.
`ncatted -a units,x,o,c,degrees_east -a units,y,o,c,degrees_north -a units,z,o,c,km
-a positive,z,o,c,up FILE`, and cropping to the slab (no NaN nodes). A depth_km grid with no
direction given whose values are all <= 0 is an error (negative-down depths read as positive-down
would put the layer above sea level).
Fill values (_FillValue, missing_value) inside the grid are errors naming the node. The warning for
elevations that look like km is given only when the variable declares no units.
"""

from __future__ import annotations

import numpy as np

from crustgf.core.tables import TableError
from crustgf.geometry.lattice import SurfaceGrid, lattice_from_axes

VALUE_NAMES = ("z", "elevation", "depth", "topo", "topography", "bathymetry", "height", "altitude", "band1")
UP_NAMES = ("elevation", "height", "altitude", "topo", "topography")
EAST_UNITS = {"degrees_east", "degree_east", "degrees_e", "degree_e", "degreese", "degreee"}
NORTH_UNITS = {"degrees_north", "degree_north", "degrees_n", "degree_n", "degreesn", "degreen"}
DEGREES = EAST_UNITS | NORTH_UNITS | {"degrees", "degree", "deg"}
KM = {"km", "kilometer", "kilometers", "kilometre", "kilometres"}
METRES = {"m", "meter", "meters", "metre", "metres"}
EAST_NAMES, NORTH_NAMES = ("lon", "longitude", "x"), ("lat", "latitude", "y")

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _engine(path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(HDF5_MAGIC):
        return "h5netcdf"
    if head[:4] in (b"CDF\x01", b"CDF\x02"):
        return "scipy"
    if head[:4] == b"CDF\x05":
        raise TableError("NetCDF-3 64-bit-data (CDF5) files are not read; convert it, e.g. nccopy -k nc4 IN OUT")
    raise TableError("not a NetCDF file (neither NetCDF-4/HDF5 nor classic NetCDF-3)")


def _attr(var, name: str) -> str:
    """An attribute in lower case; for units, the part in brackets if any (GMT's "longitude [degrees_east]")."""
    text = str(var.attrs.get(name, "")).strip().lower()
    if name == "units" and "[" in text and text.endswith("]"):
        text = text[text.rindex("[") + 1:-1].strip()
    return text


def _data_variable(ds):
    big = {k: v for k, v in ds.data_vars.items() if sum(n > 1 for n in v.shape) == 2}
    if not big:
        if "x_range" in ds.variables and "spacing" in ds.variables:
            raise TableError("an old GMT 1-D grid (x_range, spacing); convert it: gmt grdconvert IN OUT=nf")
        raise TableError(f"no 2-D variable; variables are {sorted(map(str, ds.variables))}")
    if len(big) > 1:
        named = [k for k in big if str(k).lower() in VALUE_NAMES]
        if len(named) != 1:
            raise TableError(f"cannot tell which variable holds the grid: candidates {sorted(map(str, big))}; "
                             f"keep one, or name it one of {', '.join(VALUE_NAMES)}")
        big = {named[0]: big[named[0]]}
    name, var = next(iter(big.items()))
    return str(name), var.squeeze(drop=True)


def _is_east(coord) -> bool | None:
    """True for the east-west axis, False for north-south, None if nothing says."""
    std = _attr(coord, "standard_name")
    if std in ("longitude", "projection_x_coordinate", "grid_longitude"):
        return True
    if std in ("latitude", "projection_y_coordinate", "grid_latitude"):
        return False
    units = _attr(coord, "units")
    if units in EAST_UNITS or units in NORTH_UNITS:
        return units in EAST_UNITS
    axis = _attr(coord, "axis")
    if axis in ("x", "y"):
        return axis == "x"
    name = str(coord.name).lower()
    return True if name in EAST_NAMES else False if name in NORTH_NAMES else None


def _unit_of(coord) -> tuple[str, float]:
    """("lonlat", 1) or ("xy", factor to km) for a coordinate."""
    units = _attr(coord, "units")
    if units in DEGREES:
        return "lonlat", 1.0
    if units in KM:
        return "xy", 1.0
    if units in METRES:
        return "xy", 1e-3
    name = str(coord.name)
    if not units and (name.lower() in ("lon", "longitude", "lat", "latitude")
                      or _attr(coord, "standard_name") in ("longitude", "latitude")):
        return "lonlat", 1.0
    if not units:
        raise TableError(f"coordinate '{name}' has no units: cannot tell degrees from km; give it units "
                         f"(degrees_east/degrees_north, km or m), e.g. ncatted -a units,{name},o,c,"
                         f"{'degrees_north' if _is_east(coord) is False else 'degrees_east'} FILE")
    raise TableError(f"coordinate '{name}' has units '{units}'; crustgf reads degrees, km or m")


def _axes(var):
    coords = []
    for dim in var.dims:
        if dim not in var.coords or var.coords[dim].ndim != 1:
            raise TableError(f"dimension '{dim}' of '{var.name}' has no coordinate variable (not a rectilinear grid)")
        coords.append(var.coords[dim])
    east = [_is_east(c) for c in coords]
    if None in east or east[0] == east[1]:
        raise TableError(f"cannot tell which of {list(map(str, var.dims))} is east-west; give the coordinates "
                         f"units degrees_east/degrees_north or axis X/Y")
    ca, cb = (coords[0], coords[1]) if east[0] else (coords[1], coords[0])
    (ka, fa), (kb, fb) = _unit_of(ca), _unit_of(cb)
    if ka != kb:
        raise TableError(f"coordinates '{ca.name}' ({_attr(ca, 'units') or 'degrees'}) and '{cb.name}' "
                         f"({_attr(cb, 'units') or 'degrees'}) mix degrees and distances")
    values = var.transpose(cb.name, ca.name).values
    names = ("lon", "lat") if ka == "lonlat" else ("x", "y")
    return ka, ca.values * fa, cb.values * fb, values, names


def _convert(name: str, var, values: np.ndarray, value: str) -> np.ndarray:
    """Values as stored -> the value column's unit and sign (see the module docstring)."""
    units, positive = _attr(var, "units"), _attr(var, "positive")
    if units in METRES:
        to_m = 1.0
    elif units in KM:
        to_m = 1000.0
    elif not units:
        to_m = 1.0 if value == "elevation_m" else 1000.0
    else:
        raise TableError(f"variable '{name}' has units '{units}'; crustgf reads m or km")
    if positive not in ("", "up", "down"):
        raise TableError(f"variable '{name}' has positive = '{positive}'; it must be up or down")
    if positive:
        up = positive == "up"
    elif name.lower() == "depth" or name.lower() in UP_NAMES:
        up = name.lower() in UP_NAMES
    else:
        up = value == "elevation_m"
        finite = values[np.isfinite(values)]
        if value == "depth_km" and finite.size and finite.max() <= 0 and finite.min() < 0:
            raise TableError(f"every '{name}' value is <= 0 and nothing says which way is positive: depths "
                             f"negative down (as in Slab2)? give '{name}' the attribute positive = \"up\" "
                             f"(or \"down\")")
    height_m = values * to_m * (1.0 if up else -1.0)
    return height_m if value == "elevation_m" else -height_m / 1000.0


def read_netcdf_grid(path, value: str) -> SurfaceGrid:
    import xarray as xr

    engine = _engine(path)
    try:
        with xr.open_dataset(path, engine=engine, decode_times=False, mask_and_scale=True) as ds:
            name, var = _data_variable(ds)
            kind, a, b, values, names = _axes(var)
            values = _convert(name, var, np.asarray(values, dtype=float), value)
            declared = bool(_attr(var, "units"))
    except TableError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TableError(f"cannot read as NetCDF ({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from None
    grid = lattice_from_axes(kind, a, b, values, names)
    grid.looks_like_km = grid.looks_like_km and not declared  # declared units need no guess
    return grid
