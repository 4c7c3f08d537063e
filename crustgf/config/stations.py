"""`[stations]`: station files and grids, checked to lie in the model."""

from __future__ import annotations

import math

import numpy as np

from crustgf.config.checker import _few, _positive, _read_table_file, _resolve_file, _Section
from crustgf.config.domain import _horizontal_to_xy
from crustgf.config.schema import KM, Stations
from crustgf.core.tables import read_station_file
from crustgf.geometry.projection import Projection


def _read_stations(ck, root, domain, proj, base):
    """File stations first (in file order), then grid stations."""
    sec = root.table("stations", ("file", "grid"))
    if sec is None:
        return None
    if not ck.require(sec.has("file") or sec.has("grid"), sec.path, "give a file or a grid (or both)"):
        return None
    parts = []  # (names, positions (n, 3) m, lon/lat as written or None)
    if sec.has("file"):
        files = _station_file_keys(ck, sec)
        if files is None:
            return None
        parts += [_stations_from_file(ck, fsec, base, proj, key) for fsec, key in files]
    if sec.has("grid"):
        parts.append(_stations_from_grid(ck, sec))
    if None in parts:
        return None
    names = [n for part in parts for n in part[0]]
    if not ck.require(len(names) > 0, sec.path, "no stations (the file or grid is empty)"):
        return None
    positions = np.vstack([part[1] for part in parts])
    on_surface = np.concatenate([np.full(len(part[0]), part[3] if len(part) > 3 else True) for part in parts])
    ok = _check_station_names(ck, sec, names)
    ok &= _check_stations_inside(ck, sec, names, positions, domain, above_zero=not root.has("surface"))
    if not ok:
        return None
    lonlat = None
    if isinstance(proj, Projection):
        lonlat = np.vstack([ll if ll is not None else np.column_stack(proj.to_lonlat(p[:, 0], p[:, 1]))
                            for _, p, ll, *_ in parts])
    return Stations(names, positions, lonlat, on_surface=on_surface)


def _station_file_keys(ck, sec):
    """[(section, key)] for `file = "a.csv"` or `file = ["a.csv", "b.csv"]` (keys file[0], file[1], ...)."""
    v = sec.data["file"]
    if not isinstance(v, list):
        return [(sec, "file")]
    if not ck.require(len(v) > 0, sec.at("file"), "must be a file name or a non-empty array of them"):
        return None
    keys = [f"file[{i}]" for i in range(len(v))]
    return [(_Section(ck, {k: item}, sec.path, (k,)), k) for k, item in zip(keys, v)]


def _stations_from_file(ck, sec, base, proj, key="file"):
    path = _resolve_file(ck, sec, key, base)
    st = _read_table_file(ck, sec, key, path, read_station_file) if path else None
    if st is None:
        return None
    xy = _horizontal_to_xy(ck, sec.at(key), st.horizontal, st.a, st.b, proj, "the station file")
    if xy is None:
        return None
    lonlat = np.column_stack([st.a, st.b]) if st.horizontal == "lonlat" else None
    return st.names, np.column_stack([xy[0], xy[1], st.z_km * KM]), lonlat, not st.has_z


def _stations_from_grid(ck, sec):
    """A regular grid on z = 0, named G0001, G0002, ... row by row: y from its start, x fastest."""
    grid = sec.table("grid", ("x", "y", "spacing"))
    if grid is None:
        return None
    x, y, spacing = grid.numbers("x", 2), grid.numbers("y", 2), grid.number("spacing")
    ok = all([_positive(ck, grid, "spacing", spacing)] +
             [p is not None and ck.require(p[1] >= p[0], grid.at(k), f"must be increasing, got {list(p)}")
              for k, p in (("x", x), ("y", y))])
    if not ok:
        return None
    xs, ys = _grid_line(x, spacing), _grid_line(y, spacing)
    if not ck.require(len(xs) * len(ys) <= 1_000_000, grid.path,
                      f"{len(xs) * len(ys)} stations; more than 1000000 is surely a mistake"):
        return None
    gx, gy = np.meshgrid(xs, ys)  # rows follow y, columns x: row-major = x fastest
    n = gx.size
    width = max(4, len(str(n)))
    names = [f"G{i + 1:0{width}d}" for i in range(n)]
    return names, np.column_stack([gx.ravel() * KM, gy.ravel() * KM, np.zeros(n)]), None


def _grid_line(r, spacing):
    """Points from r[0] by spacing up to r[1] inclusive (with a tolerance for rounding)."""
    n = int(math.floor((r[1] - r[0]) / spacing + 1e-9)) + 1
    return r[0] + spacing * np.arange(n)


def _check_station_names(ck, sec, names) -> bool:
    seen, repeated = set(), []
    for n in names:
        if n in seen and n not in repeated:
            repeated.append(n)
        seen.add(n)
    return ck.require(not repeated, sec.path, f"station names must be unique; repeated: {_few(repeated)}")


def _check_stations_inside(ck, sec, names, positions, domain, above_zero=True) -> bool:
    """x, y strictly inside the domain; 0 >= z > -depth (on or below the free surface; under a
    [surface] the z check is crustgf.config.surface's)."""
    if domain.x is None or domain.y is None or domain.depth is None:
        return False
    (x0, x1), (y0, y1) = domain.x, domain.y
    x, y, z = positions.T
    outside = ~((x0 < x) & (x < x1) & (y0 < y) & (y < y1) & (z > -domain.depth))
    above = (z > 0.0) & above_zero
    ok = ck.require(not outside.any(), sec.path,
                    f"{outside.sum()} station(s) outside the domain: "
                    + _few([f"{names[i]} ({x[i] / KM:.3f}, {y[i] / KM:.3f}, {z[i] / KM:.3f}) km"
                            for i in np.flatnonzero(outside)], 3))
    ok &= ck.require(not above.any(), sec.path,
                     f"{above.sum()} station(s) above the free surface (z > 0): "
                     + _few([names[i] for i in np.flatnonzero(above)]))
    return ok
