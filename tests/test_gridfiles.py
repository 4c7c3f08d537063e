"""Grid files in every format (CSV, NetCDF-4, NetCDF-3, GeoTIFF) give the same lattice as an
independent construction of the grid; conventions (descending axes, units, positive, PixelIsArea)
and each bad case (one-line error naming the node or the axis)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import xarray as xr
from test_config import write_config
from test_surface_config import surface_config

from crustgf.config.load import load_config
from crustgf.core.errors import ConfigError
from crustgf.core.tables import TableError
from crustgf.geometry.surface import read_grid

# the lattice, built independently of any reader: 15 x 13 nodes at 0.1 degree, elevations in m
LON = np.round(134.8 + 0.1 * np.arange(15), 10)
LAT = np.round(32.4 + 0.1 * np.arange(13), 10)
D = 0.1


def elevation(lon, lat):
    return -300.0 - 400.0 * (lon - 134.8) + 150.0 * np.sin(3.0 * lat)


ELEV = elevation(LON[None, :], LAT[:, None])  # (lat, lon), m


def write_csv(path, values=ELEV, column="elevation_m"):
    rows = [f"{float(lo)!r},{float(la)!r},{float(values[j, i])!r}"
            for j, la in enumerate(LAT) for i, lo in enumerate(LON)]
    path.write_text(f"lon,lat,{column}\n" + "\n".join(rows) + "\n")
    return path


def write_nc(path, values=ELEV, lon=LON, lat=LAT, name="elevation", attrs=None, engine="h5netcdf",
             lon_attrs=None, lat_attrs=None, names=("lon", "lat"), transpose=False, fill=None, extra=None):
    """A CF grid with values (len(lat), len(lon)) as given (lat descending if lat is); stored as
    (lon, lat) with transpose."""
    lon_attrs = {"units": "degrees_east"} if lon_attrs is None else lon_attrs
    lat_attrs = {"units": "degrees_north"} if lat_attrs is None else lat_attrs
    da = xr.DataArray(values, dims=names[::-1], attrs={"units": "m", "positive": "up"} if attrs is None else attrs,
                      coords={names[0]: (names[0], lon, lon_attrs), names[1]: (names[1], lat, lat_attrs)})
    ds = xr.Dataset({name: da.transpose() if transpose else da, **(extra or {})})
    ds.to_netcdf(path, engine=engine, encoding={name: {"_FillValue": fill}} if fill is not None else {})
    return path


def geokeys(model=2, raster=1, crs=4326, projected=None, datum=None):
    """GeoKeyDirectoryTag (OGC GeoTIFF 1.1, Annex B): header (KeyDirectoryVersion 1, KeyRevision 1,
    MinorRevision 0, NumberOfKeys), then (KeyID, TIFFTagLocation 0 = SHORT value inline, Count 1,
    value), in KeyID order."""
    keys = {1024: model, 1025: raster, 2048: crs, 2054: 9102}
    if datum:
        keys[2050] = datum
    if projected:
        keys = {1024: 1, 1025: raster, 3072: projected}
    out = [1, 1, 0, len(keys)]
    for k in sorted(keys):
        out += [k, 0, 1, keys[k]]
    return out


def write_tif(path, values=ELEV, pixel_is_area=True, nodata=None, keys=None, transform=None):
    """North-up GeoTIFF: row 0 is the northernmost latitude. PixelIsArea: the tiepoint is the
    upper-left corner of pixel (0, 0), half a pixel beyond the first node; PixelIsPoint: the node."""
    half = D / 2 if pixel_is_area else 0.0
    west, north = LON[0] - half, LAT[-1] + half
    keys = geokeys(raster=1 if pixel_is_area else 2) if keys is None else keys
    tags = [(34735, "H", len(keys), keys, False)]
    if transform is None:
        tags += [(33550, "d", 3, (D, D, 0.0), False), (33922, "d", 6, (0, 0, 0, west, north, 0), False)]
    else:
        tags += [(34264, "d", 16, transform, False)]
    if nodata is not None:
        tags.append((42113, "s", 0, nodata, False))
    tifffile.imwrite(path, np.ascontiguousarray(values[::-1]).astype(np.float32), extratags=tags,
                     photometric="rgb" if values.ndim == 3 else "minisblack")
    return path


def same_lattice(grid, values, rtol=0.0):
    assert grid.kind == "lonlat"
    np.testing.assert_allclose(grid.a, LON, rtol=0, atol=1e-9)
    np.testing.assert_allclose(grid.b, LAT, rtol=0, atol=1e-9)
    np.testing.assert_allclose(grid.values, values, rtol=rtol, atol=0)


@pytest.mark.parametrize("engine, magic", [("h5netcdf", b"\x89HDF"), ("scipy", b"CDF")])
@pytest.mark.parametrize("transpose", [False, True])
def test_netcdf_descending_lat_equals_the_csv(tmp_path, engine, magic, transpose):
    csv = read_grid(write_csv(tmp_path / "g.csv"))
    path = write_nc(tmp_path / "g.nc", ELEV[::-1], lat=LAT[::-1], engine=engine, transpose=transpose,
                    extra={"note": xr.DataArray(np.zeros((2, 3)), dims=("u", "v"))})
    assert path.read_bytes().startswith(magic)  # the format we meant to write
    grid = read_grid(path)
    same_lattice(grid, ELEV)
    np.testing.assert_array_equal(grid.values, csv.values)
    np.testing.assert_array_equal(grid.a, csv.a)
    np.testing.assert_array_equal(grid.b, csv.b)


def test_slab2_like_grid_is_read_as_depth_below_sea_level(tmp_path):
    """Slab2 style: x, y in degrees, z in km, negative below sea level (positive = up)."""
    depth = 5.0 + 0.3 * (LON[None, :] - 134.8) * 10 + 0.0 * LAT[:, None]
    path = write_nc(tmp_path / "slab.grd", -depth, name="z", attrs={"units": "km", "positive": "up"},
                    names=("x", "y"), lon_attrs={"units": "degrees_east"},
                    lat_attrs={"units": "latitude [degrees_north]"})
    grid = read_grid(path, "depth_km")
    same_lattice(grid, depth, rtol=1e-12)
    np.testing.assert_allclose(grid.values, read_grid(write_csv(tmp_path / "s.csv", depth, "depth_km"),
                                                      "depth_km").values, rtol=1e-12)


def test_csv_fast_and_line_by_line_readers_agree(tmp_path, monkeypatch):
    """numpy parses an all-numeric CSV; the line-by-line reader (comments among rows, messages with
    line numbers) must give the same lattice."""
    import crustgf.geometry.gridcsv as gridcsv

    rows = write_csv(tmp_path / "a.csv").read_text().splitlines()
    shuffled = [rows[0]] + [rows[1 + k] for k in np.random.default_rng(1).permutation(len(rows) - 1)]
    fast_file = tmp_path / "fast.csv"
    fast_file.write_text("# provenance\n\n" + "\n".join(shuffled) + "\n")
    slow_file = tmp_path / "slow.csv"
    slow_file.write_text("\n".join(shuffled[:50] + ["# a note among the rows"] + shuffled[50:]) + "\n")
    assert gridcsv._numeric_columns(fast_file, "elevation_m") is not None
    assert gridcsv._numeric_columns(slow_file, "elevation_m") is None
    fast, slow = read_grid(fast_file), read_grid(slow_file)
    monkeypatch.setattr(gridcsv, "_numeric_columns", lambda *args: None)
    strict = read_grid(fast_file)
    for g in (fast, slow):
        same_lattice(g, ELEV)
        np.testing.assert_array_equal(g.values, strict.values)
        assert g.looks_like_km == strict.looks_like_km


def test_slab2_mapio_layout_needs_its_attributes(tmp_path):
    """A Slab2 .grd as USGS MapIO writes it (NetCDF-4; x, y, z with no units or direction; z km,
    negative below sea level): refused with the attribute to add; with the attributes of the
    README's ncatted line it reads as positive depths."""
    depth = 10.0 + 2.0 * (LON[None, :] - 134.8) * 10 + 0.5 * (LAT[:, None] - 32.4) * 10
    bare = write_nc(tmp_path / "kur_slab2_dep.grd", -depth, name="z", attrs={}, names=("x", "y"),
                    lon_attrs={}, lat_attrs={})
    with pytest.raises(TableError, match="coordinate 'x' has no units.*ncatted -a units,x,o,c,degrees_east"):
        read_grid(bare, "depth_km")
    fixed = write_nc(tmp_path / "fixed.grd", -depth, name="z", attrs={"units": "km"}, names=("x", "y"),
                     lon_attrs={"units": "degrees_east"}, lat_attrs={"units": "degrees_north"})
    with pytest.raises(TableError, match="nothing says which way is positive"):
        read_grid(fixed, "depth_km")
    fixed = write_nc(tmp_path / "fixed2.grd", -depth, name="z", attrs={"units": "km", "positive": "up"},
                     names=("x", "y"), lon_attrs={"units": "degrees_east"}, lat_attrs={"units": "degrees_north"})
    same_lattice(read_grid(fixed, "depth_km"), depth, rtol=1e-12)


# (stored value, attributes, variable name, value column) -> value in the column's convention
CONVERSIONS = [
    (-2.0, {"units": "km", "positive": "up"}, "z", "elevation_m", -2000.0),
    (2000.0, {"units": "m", "positive": "down"}, "z", "elevation_m", -2000.0),
    (2000.0, {"units": "m"}, "depth", "elevation_m", -2000.0),
    (-2000.0, {}, "z", "elevation_m", -2000.0),
    (-2000.0, {"units": "metres", "positive": "UP"}, "z", "depth_km", 2.0),
    (2.0, {}, "z", "depth_km", 2.0),
    (-2.0, {"units": "km"}, "elevation", "depth_km", 2.0),
]


@pytest.mark.parametrize("stored, attrs, name, value, expected", CONVERSIONS)
def test_units_and_positive_convert_to_the_value_column(tmp_path, stored, attrs, name, value, expected):
    grid = read_grid(write_nc(tmp_path / "c.nc", np.full(ELEV.shape, stored), name=name, attrs=attrs), value)
    np.testing.assert_allclose(grid.values, expected, rtol=1e-12)


def test_xy_grid_in_metres_becomes_km(tmp_path):
    x, y = np.arange(-60e3, 60e3 + 1, 20e3), np.arange(-40e3, 40e3 + 1, 20e3)
    values = np.add.outer(y, x) / 1e3
    path = write_nc(tmp_path / "xy.nc", values, lon=x, lat=y, names=("x", "y"),
                    lon_attrs={"units": "m"}, lat_attrs={"units": "m"})
    grid = read_grid(path)
    assert grid.kind == "xy"
    np.testing.assert_allclose(grid.a, x / 1e3)
    np.testing.assert_allclose(grid.b, y / 1e3)
    np.testing.assert_array_equal(grid.values, values)


@pytest.mark.parametrize("pixel_is_area", [True, False])
def test_geotiff_nodes_at_pixel_centres_equal_the_csv(tmp_path, pixel_is_area):
    path = write_tif(tmp_path / "g.tif", pixel_is_area=pixel_is_area)
    with tifffile.TiffFile(path) as tif:  # the tags as tifffile's own GeoTIFF decoder reads them
        geo = tif.pages[0].geotiff_tags
    assert int(geo["GTModelTypeGeoKey"]) == 2 and int(geo["GeographicTypeGeoKey"]) == 4326
    assert int(geo["GTRasterTypeGeoKey"]) == (1 if pixel_is_area else 2)
    assert geo["ModelTiepoint"][3:5] == pytest.approx([LON[0] - D / 2 * pixel_is_area,
                                                      LAT[-1] + D / 2 * pixel_is_area])
    same_lattice(read_grid(path), read_grid(write_csv(tmp_path / "g.csv")).values.astype(np.float32))
    assert read_grid(path).values.dtype == float


def test_geotiff_transformation_without_rotation(tmp_path):
    west, north = LON[0] - D / 2, LAT[-1] + D / 2
    m = (D, 0, 0, west, 0, -D, 0, north, 0, 0, 0, 0, 0, 0, 0, 1)
    same_lattice(read_grid(write_tif(tmp_path / "m.tiff", transform=m)), ELEV.astype(np.float32))


def test_km_warning_only_without_declared_units(tmp_path):
    small = ELEV / 1000.0  # within +-10: looks like km if it says nothing
    assert read_grid(write_nc(tmp_path / "a.nc", small, attrs={})).looks_like_km
    assert not read_grid(write_nc(tmp_path / "b.nc", small, attrs={"units": "m"})).looks_like_km


def test_longitudes_0_to_360_give_the_same_surface():
    """A grid east of 180 E written in 0..360 (as Slab2 does) equals the one written in -180..180."""
    from crustgf.geometry.surface import Surface

    lon = np.round(-126.0 + 0.1 * np.arange(21), 10)
    values = ELEV[:, :1] + 0.0 * lon[None, :] + 10.0 * lon[None, :]
    west = Surface(kind="lonlat", a=lon, b=LAT + 12.0, values=values, origin=(-125.0, 45.0))
    east = Surface(kind="lonlat", a=lon + 360.0, b=LAT + 12.0, values=values, origin=(-125.0, 45.0))
    x, y = np.meshgrid(np.linspace(-70e3, 70e3, 9), np.linspace(-60e3, 60e3, 5))
    np.testing.assert_allclose(east.elevation(x, y), west.elevation(x, y), rtol=1e-12)
    assert east.covers(x, y).all() and west.covers(x, y).all()
    assert not east.covers(-120e3, 0.0) and not west.covers(-120e3, 0.0)


def nan_at(i, j, fill=np.nan):
    v = ELEV.copy()
    v[j, i] = fill
    return v


def two_vars(p):
    return write_nc(p.with_suffix(".nc"), name="z", extra={"elevation": xr.DataArray(ELEV, dims=("lat", "lon"))})


def test_a_conventional_name_picks_the_grid_among_2d_variables(tmp_path):
    path = write_nc(tmp_path / "two.nc", extra={"quality": xr.DataArray(ELEV * 0, dims=("lat", "lon"))})
    same_lattice(read_grid(path), ELEV)


BAD = [
    (lambda p: write_nc(p.with_suffix(".nc"), nan_at(3, 6), fill=-9999.0), "elevation_m",
     "grid node (lon, lat) = (135.1, 33) has no value"),
    (lambda p: write_nc(p.with_suffix(".nc"), nan_at(3, 6), engine="scipy", fill=-9999.0), "elevation_m",
     "grid node (lon, lat) = (135.1, 33) has no value"),
    (lambda p: write_nc(p.with_suffix(".nc"), lat=np.r_[LAT[:5], LAT[5:] + 0.05]), "elevation_m",
     "irregular grid: axis 'lat' steps from 32.8 to 32.95"),
    (lambda p: write_nc(p.with_suffix(".nc"), lon=np.r_[LON[:4], LON[3:-1]]), "elevation_m",
     "axis 'lon' is not monotonic: it repeats 135.1"),
    (two_vars, "elevation_m", "cannot tell which variable holds the grid: candidates ['elevation', 'z']"),
    (lambda p: write_nc(p.with_suffix(".grd"), names=("x", "y"), lon_attrs={}, lat_attrs={}), "elevation_m",
     "coordinate 'x' has no units: cannot tell degrees from km"),
    (lambda p: write_nc(p.with_suffix(".nc"), lat_attrs={"units": "km"}), "elevation_m",
     "mix degrees and distances"),
    (lambda p: write_nc(p.with_suffix(".nc"), attrs={"units": "ft"}), "elevation_m", "has units 'ft'"),
    (lambda p: write_nc(p.with_suffix(".grd"), -np.abs(ELEV) / 1e3, name="z", attrs={"units": "km"}), "depth_km",
     "every 'z' value is <= 0 and nothing says which way is positive"),
    (lambda p: (p.with_suffix(".nc").write_text("lon,lat,elevation_m\n"), p.with_suffix(".nc"))[1], "elevation_m",
     "not a NetCDF file"),
    (lambda p: write_csv(p.with_suffix(".xyz")), "elevation_m", "unknown grid file type '.xyz'; grids are CSV"),
    (lambda p: write_tif(p.with_suffix(".tif"), keys=geokeys(projected=32653)), "elevation_m",
     "a projected GeoTIFF (EPSG:32653): only geographic lon/lat GeoTIFFs are read"),
    (lambda p: write_tif(p.with_suffix(".tif"), keys=geokeys(crs=4301)), "elevation_m",
     "EPSG:4301 is not on a WGS84-like datum"),
    (lambda p: write_tif(p.with_suffix(".tif"), keys=geokeys(crs=32767, datum=6301)), "elevation_m",
     "geodetic datum EPSG:6301 is not WGS84-like"),
    (lambda p: write_tif(p.with_suffix(".tif"), transform=(D, 0.01, 0, 134.75, 0.01, -D, 0, 33.65,
                                                           0, 0, 0, 0, 0, 0, 0, 1)), "elevation_m",
     "ModelTransformationTag has rotation or shear"),
    (lambda p: write_tif(p.with_suffix(".tif"), nan_at(3, 6, fill=-9999.0), nodata="-9999"),
     "elevation_m", "grid node (lon, lat) = (135.1, 33) has no value"),
    (lambda p: (tifffile.imwrite(p.with_suffix(".tif"), ELEV.astype(np.float32)), p.with_suffix(".tif"))[1],
     "elevation_m", "no GeoKeyDirectoryTag: not a GeoTIFF"),
    (lambda p: write_csv(p.with_suffix(".tif")), "elevation_m", "cannot read as GeoTIFF"),
    (lambda p: write_tif(p.with_suffix(".tif"), np.stack([ELEV] * 3, axis=-1)), "elevation_m", "only one band"),
]


@pytest.mark.parametrize("write, value, what", BAD, ids=[f"bad{k}" for k in range(len(BAD))])
def test_bad_grid_files_give_one_line(tmp_path, write, value, what):
    path = write(tmp_path / "bad")
    with pytest.raises(TableError) as exc:
        read_grid(path, value)
    assert what in str(exc.value) and "\n" not in str(exc.value), str(exc.value)


def lonlat_config(tmp_path, name, write):
    folder = tmp_path / name
    cfg = surface_config(file=name)
    config = write_config(folder, cfg)
    write(folder / name)
    return load_config(config)


@pytest.mark.parametrize("name, write", [("topo.nc", write_nc), ("topo.tif", write_tif)])
def test_config_with_a_netcdf_or_geotiff_surface_equals_the_csv(tmp_path, name, write):
    ref = lonlat_config(tmp_path, "topo.csv", write_csv)
    cfg = lonlat_config(tmp_path, name, write)
    assert cfg.surface.kind == "lonlat"
    x, y = np.meshgrid(np.linspace(-55e3, 55e3, 7), np.linspace(-55e3, 55e3, 6))
    np.testing.assert_allclose(cfg.surface.elevation(x, y), ref.surface.elevation(x, y),
                               rtol=1e-6 if name.endswith(".tif") else 1e-15, atol=1e-9)


@pytest.mark.parametrize("name, write", [
    ("topo.grd", lambda p: write_nc(p, lat=np.r_[LAT[:5], LAT[5:] + 0.05], engine="scipy")),
    ("topo.tif", lambda p: write_tif(p, nan_at(3, 6, fill=-9999.0), nodata="-9999")),
])
def test_mesh_with_a_bad_grid_file_fails_with_one_line(tmp_path, name, write):
    from test_config_errors import assert_one_line_error, mesh_via_cli

    config = write_config(tmp_path / "cfg", surface_config(file=name))
    write(tmp_path / "cfg" / name)
    code, stderr, out = mesh_via_cli(config, tmp_path / "out")
    assert_one_line_error(code, stderr, out, "surface.file", str((tmp_path / "cfg" / name).resolve()))
    assert ("irregular grid: axis 'lat'" if name.endswith(".grd") else "(135.1, 33) has no value") in stderr


def test_config_names_the_key_and_the_file(tmp_path):
    with pytest.raises(ConfigError) as exc:
        lonlat_config(tmp_path, "topo.nc", lambda p: write_nc(p, nan_at(3, 6), fill=-9999.0))
    problems = [p for p in exc.value.problems if p.startswith("surface.file: ")]
    assert len(problems) == 1 and str((tmp_path / "topo.nc" / "topo.nc").resolve()) in problems[0]
    assert "grid node (lon, lat) = (135.1, 33) has no value" in problems[0]


@pytest.mark.parametrize("fmt", ["nc", "tif"])
def test_nankai_config_with_etopo1_as_netcdf_or_geotiff(tmp_path, fmt):
    """The shipped ETOPO1 grid (0.1 deg, grid-registered, whole metres) written as a GMT-style
    NetCDF-3 .grd (int16, lat descending) or an int16 PixelIsPoint GeoTIFF gives configs/nankai-coarse.toml
    the same free surface and the same station heights as the CSV."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "crustgf"
    text = (root / "configs" / "nankai-coarse.toml").read_text().replace('"../data/', f'"{root / "data"}/')
    csv_grid = read_grid(root / "data" / "nankai_topo_etopo1.csv")
    z = csv_grid.values.astype(np.int16)
    assert np.array_equal(z, csv_grid.values)
    if fmt == "nc":
        grid = tmp_path / "etopo1.grd"
        xr.Dataset({"z": (("lat", "lon"), z[::-1], {"units": "m", "positive": "up"})},
                   coords={"lon": ("lon", csv_grid.a, {"units": "degrees_east"}),
                           "lat": ("lat", csv_grid.b[::-1], {"units": "latitude [degrees_north]"})}
                   ).to_netcdf(grid, engine="scipy")
    else:
        grid = tmp_path / "etopo1.tif"
        step = csv_grid.a[1] - csv_grid.a[0]
        keys = geokeys(raster=2)
        tifffile.imwrite(grid, np.ascontiguousarray(z[::-1]), photometric="minisblack", extratags=[
            (33550, "d", 3, (step, step, 0.0), False),
            (33922, "d", 6, (0, 0, 0, csv_grid.a[0], csv_grid.b[-1], 0), False),
            (34735, "H", len(keys), keys, False), (42113, "s", 0, "-32768", False)])
    configs = []
    for name, surface in (("csv", root / "data" / "nankai_topo_etopo1.csv"), (fmt, grid)):
        path = tmp_path / f"{name}.toml"
        path.write_text(text.replace(str(root / "data" / "nankai_topo_etopo1.csv"), str(surface)))
        configs.append(load_config(path))
    ref, cfg = configs
    np.testing.assert_allclose(cfg.stations.positions, ref.stations.positions, rtol=0, atol=1e-6)
    x, y = np.meshgrid(np.linspace(-300e3, 300e3, 41), np.linspace(-250e3, 250e3, 37))
    np.testing.assert_allclose(cfg.surface.elevation(x, y), ref.surface.elevation(x, y), rtol=0, atol=1e-6)
