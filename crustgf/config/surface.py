"""The `[surface]` config table (SPEC 5) and the checks that need the surface: grid coverage,
stations on or below it. Part of config loading (problems go to the config's checker, all at once).

    [surface]
    file = "nankai_topo.csv"   # lon, lat (or x, y km), elevation_m; metres above sea level
                               # (or .nc/.grd NetCDF, .tif GeoTIFF: crustgf.geometry.gridfiles)
    # elevation = -4.0         # or a constant elevation, km (negative: a flat seafloor)

A station without z/depth gets z = the surface elevation at its position (build_model then puts
it on the meshed surface); one with z/depth must not be above the surface.
"""

from __future__ import annotations

import numpy as np

from crustgf.config.checker import _read_table_file, _resolve_file, _show
from crustgf.config.domain import _projection_for
from crustgf.config.schema import KM
from crustgf.geometry.projection import Projection
from crustgf.geometry.surface import Surface, read_grid


def read_surface(ck, root, domain, proj, base, warnings: list[str]) -> Surface | None:
    sec = root.table("surface", ("file", "elevation"))
    if sec is None:
        return None
    if not ck.require(sec.has("file") != sec.has("elevation"), sec.path, "give file or elevation (one of them)"):
        return None
    if sec.has("elevation"):
        e = sec.number("elevation")
        if e is None:
            return None
        if domain.depth is not None and not ck.require(-e * KM < 0.5 * domain.depth, sec.at("elevation"),
                                                       f"a surface {_show(-e)} km below sea level leaves too little "
                                                       f"of domain.depth = {_show(domain.depth / KM)} km"):
            return None
        return Surface(constant=e * KM)
    surface, grid = grid_file_surface(ck, sec, proj, base, "elevation_m", 1.0, "the surface grid")
    if surface is not None and grid.looks_like_km:
        warnings.append(f"surface.file: {surface.file}: every elevation_m is within +-10; these look like km, "
                        "the column is metres above sea level")
    return surface


def grid_file_surface(ck, sec, proj, base, value: str, to_z: float, what: str):
    """(Surface, grid) of the grid file named by sec's `file` key (read_grid's `value` column, times
    `to_z` to get z in m, up), in the local frame; (None, None) when a problem was reported."""
    path = _resolve_file(ck, sec, "file", base)
    grid = _read_table_file(ck, sec, "file", path, lambda p: read_grid(p, value)) if path else None
    if grid is None:
        return None, None
    origin = None
    a, b = grid.a, grid.b
    if grid.kind == "lonlat":
        p = _projection_for(ck, sec.at("file"), proj, what)
        if p is None:
            return None, None
        origin = p.origin
    else:
        a, b = a * KM, b * KM
    return Surface(kind=grid.kind, a=a, b=b, values=grid.values * to_z, origin=origin, file=str(path)), grid


def _fault_points(fault) -> np.ndarray:
    """(n, 2) map points (m) the surface grid must cover: rectangle corners, grid outline or points."""
    from crustgf.config.schema import RectangleFault
    from crustgf.geometry.frames import rectangle_corners

    if isinstance(fault, RectangleFault):
        x, y, d = fault.top_center
        return rectangle_corners((x, y, -d), fault.strike, fault.dip, fault.length, fault.width)[:, :2]
    if fault.outline is not None:
        return np.asarray(fault.outline)
    return np.asarray(fault.points)[:, :2]


def _where(surface: Surface | None, x: float, y: float) -> str:
    """A place for a message: lon/lat when the grid is in lon/lat, else local x, y in km."""
    if surface is not None and surface.kind == "lonlat":
        lon, lat = Projection(surface.origin).to_lonlat(x, y)
        return f"lon {float(lon):.3f}, lat {float(lat):.3f}"
    return f"(x, y) = ({x / KM:.3f}, {y / KM:.3f}) km"


def check_surface_geometry(ck, surface: Surface, domain, layers, fault, stations) -> None:
    """Coverage of the fault and the stations by the grid; stations on/below the surface (sets the
    z of stations without one). Reports to ck."""
    if fault is not None:
        pts = _fault_points(fault)
        out = ~surface.covers(pts[:, 0], pts[:, 1])
        if out.any():
            x, y = pts[np.argmax(out)]
            ck.add("surface.file", f"{surface.file}: the grid does not cover the fault: its point at "
                   f"{_where(surface, x, y)} is outside the grid")
    if stations is None:
        return
    x, y, z = stations.positions.T
    out = ~surface.covers(x, y)
    if out.any():
        i = int(np.argmax(out))
        ck.add("surface.file", f"{surface.file}: the grid does not cover {int(out.sum())} station(s), e.g. "
               f"{stations.names[i]} at {_where(surface, x[i], y[i])}")
        return
    s = surface.elevation(x, y)
    on = stations.on_surface if stations.on_surface is not None else np.zeros(len(x), bool)
    above = ~on & (z > s + 1e-6)
    if above.any():
        i = int(np.argmax(above))
        ck.add("stations", f"{int(above.sum())} station(s) above the free surface, e.g. {stations.names[i]} at "
               f"z = {z[i] / KM:.3f} km where the surface is at {s[i] / KM:.3f} km ({_where(surface, x[i], y[i])})")
    if domain.depth is not None and s.min() <= -0.5 * domain.depth:
        ck.add("surface", f"the surface reaches {s.min() / KM:.3f} km, too deep for domain.depth = "
               f"{domain.depth / KM:g} km")
    stations.positions[on, 2] = s[on]
