"""Config loading: valid files give the right SI values; projection against geodesy by hand.

The helpers at the top (a tiny TOML writer and a small valid config) are shared with
test_config_errors.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from crustgf.config.load import load_config
from crustgf.config.schema import GridFault, Layer, RectangleFault, apply_variant
from crustgf.core.errors import ConfigError
from crustgf.core.tables import TableError, read_station_file, read_table
from crustgf.geometry.projection import Projection

ROOT = Path(__file__).resolve().parents[1]

# WGS84
A = 6378137.0
F = 1.0 / 298.257223563
E2 = F * (2.0 - F)

DELETE = object()  # marks a key to remove in `edit`


# --- helpers shared with test_config_errors.py ---------------------------------------------------


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string
    if isinstance(v, (int, float)):
        return repr(v)  # nan and inf are TOML too
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_text(cfg: dict) -> str:
    """dict -> TOML: top-level scalars, then [tables] and [[arrays of tables]]."""
    lines = [f"{k} = {toml_value(v)}" for k, v in cfg.items()
             if not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict))]
    for key, value in cfg.items():
        if isinstance(value, dict):
            lines += [f"[{key}]"] + [f"{k} = {toml_value(x)}" for k, x in value.items()]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines += [f"[[{key}]]"] + [f"{k} = {toml_value(x)}" for k, x in item.items()]
    return "\n".join(lines) + "\n"


def edit(cfg: dict, path: str, value) -> None:
    """Set (or with DELETE remove) a key given as `layers[1].vs`, `stations.grid.spacing`."""
    keys = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        keys.append(name)
        keys += [int(i) for i in rest.rstrip("]").split("][")] if rest else []
    node = cfg
    for k in keys[:-1]:
        node = node[k]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value


STATIONS_CSV = "# made-up stations for tests\nname,x,y\nA1,-20.0,5.0\nA2,0.0,-10.0\nA3,15.0,25.0\n"


def base_config() -> dict:
    """A small valid config (km, km/s, g/cm3) whose station file is `stations.csv` beside it."""
    return {
        "model": {"name": "test"},
        "domain": {"x": [-50.0, 50.0], "y": [-50.0, 50.0], "depth": 30.0, "origin": [135.5, 33.0]},
        "layers": [
            {"name": "upper", "bottom": 10.0, "vp": 5.8, "vs": 3.4, "density": 2.7},
            {"name": "lower", "bottom": 30.0, "vp": 6.8, "vs": 3.9, "density": 2.9},
        ],
        "fault": {"type": "rectangle", "top_center": [0.0, 0.0, 1.0], "strike": 0.0, "dip": 45.0,
                  "length": 10.0, "width": 5.0, "subfaults": [2, 1]},
        "stations": {"file": "stations.csv"},
        "mesh": {"order": 2, "size_fault": 2.0, "size_max": 10.0},
        "solver": {"backend": "cpu", "rtol": 1e-8, "batch": 4},
    }


def write_config(folder: Path, cfg: dict, files: dict | None = None, name="config.toml") -> Path:
    """Write cfg as TOML plus `stations.csv` and any extra files {name: text} into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stations.csv").write_text(STATIONS_CSV)
    for fname, text in (files or {}).items():
        (folder / fname).write_text(text)
    path = folder / name
    path.write_text(toml_text(cfg))
    return path


def meridian_radius(lat_deg):
    """Meridional radius of curvature M = a (1 - e^2) / (1 - e^2 sin^2 phi)^(3/2)."""
    s = math.sin(math.radians(lat_deg))
    return A * (1.0 - E2) / (1.0 - E2 * s * s) ** 1.5


def prime_vertical_radius(lat_deg):
    s = math.sin(math.radians(lat_deg))
    return A / math.sqrt(1.0 - E2 * s * s)


# --- valid configs -----------------------------------------------------------------------------------


def test_example_config_in_si_units():
    cfg = load_config(ROOT / "crustgf" / "configs" / "two_layer.toml")
    upper = cfg.layers[0]
    assert (upper.name, upper.bottom, upper.vp, upper.vs, upper.density) == \
        ("upper_crust", 15000.0, 5800.0, 3400.0, 2700.0)
    # by hand: mu = 2700 * 3400^2 = 31.212 GPa; lambda = 2700 * 5800^2 - 2 mu = 90.828 - 62.424 GPa
    assert upper.mu == pytest.approx(31.212e9, rel=1e-12)
    assert upper.lam == pytest.approx(28.404e9, rel=1e-12)
    assert cfg.layers[-1].bottom == cfg.domain.depth == 60000.0
    assert cfg.domain.x == (-100000.0, 100000.0) and cfg.domain.origin == (135.5, 33.0)
    f = cfg.fault
    assert isinstance(f, RectangleFault)
    assert f.top_center == (0.0, 0.0, 2000.0) and (f.length, f.width) == (20000.0, 10000.0)
    assert (f.strike, f.dip, f.subfaults) == (0.0, 30.0, (4, 2))
    st = cfg.stations
    assert len(st.names) == 20 and st.names[0] == "S01" and len(set(st.names)) == 20
    np.testing.assert_array_equal(st.positions[0], [-39000.0, -26800.0, 0.0])
    assert st.lonlat.shape == (20, 2)
    assert (cfg.mesh.order, cfg.mesh.size_fault, cfg.mesh.size_max) == (2, 2500.0, 25000.0)
    assert cfg.text == (ROOT / "crustgf" / "configs" / "two_layer.toml").read_text()
    assert cfg.path == (ROOT / "crustgf" / "configs" / "two_layer.toml").resolve()


def test_poisson_ratio_of_layer():
    # vp / vs = sqrt(3) gives nu = 1/4 exactly
    assert Layer("a", 1.0, math.sqrt(3.0), 1.0, 1.0).poisson == pytest.approx(0.25, abs=1e-15)


def test_defaults_when_mesh_and_solver_are_omitted(tmp_path):
    cfg = base_config()
    del cfg["mesh"], cfg["solver"]
    c = load_config(write_config(tmp_path, cfg))
    assert (c.mesh.order, c.mesh.size_fault, c.mesh.size_max) == (2, 2000.0, 50000.0)
    assert (c.solver.backend, c.solver.rtol, c.solver.batch, c.solver.method, c.solver.max_iterations) == \
        ("auto", 1e-8, 16, "auto", 5000)


def test_solver_and_mesh_values_are_taken(tmp_path):
    cfg = base_config()
    cfg["mesh"] = {"order": 1, "size_fault": 1.5, "size_max": 1.5}
    cfg["solver"] = {"backend": "cuda", "rtol": 1e-6, "batch": 32, "method": "amg-cg", "max_iterations": 99}
    c = load_config(write_config(tmp_path, cfg))
    assert (c.mesh.order, c.mesh.size_fault, c.mesh.size_max) == (1, 1500.0, 1500.0)
    assert (c.solver.backend, c.solver.rtol, c.solver.batch, c.solver.method, c.solver.max_iterations) == \
        ("cuda", 1e-6, 32, "amg-cg", 99)


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    path = write_config(tmp_path / "cfgdir", base_config())
    monkeypatch.chdir(tmp_path)  # not the config's folder
    c = load_config(Path("cfgdir") / "config.toml")
    assert c.stations.names == ["A1", "A2", "A3"]
    np.testing.assert_array_equal(c.stations.positions[:, 0], [-20000.0, 0.0, 15000.0])
    assert c.path == path.resolve()


def test_rectangle_may_reach_the_free_surface(tmp_path):
    cfg = base_config()
    cfg["fault"]["top_center"] = [0.0, 0.0, 0.0]
    assert load_config(write_config(tmp_path, cfg)).fault.top_center[2] == 0.0


# --- projection --------------------------------------------------------------------------------------


def test_projection_origin_and_round_trip():
    p = Projection((135.5, 33.0))
    x, y = p.to_xy(135.5, 33.0)
    assert abs(x) < 1e-6 and abs(y) < 1e-6
    lon = np.array([133.0, 135.5, 137.9, 136.2])
    lat = np.array([31.0, 33.0, 35.5, 32.1])
    lon2, lat2 = p.to_lonlat(*p.to_xy(lon, lat))
    np.testing.assert_allclose(lon2, lon, atol=1e-9)
    np.testing.assert_allclose(lat2, lat, atol=1e-9)


def test_projection_one_degree_of_latitude_on_the_central_meridian():
    # On the central meridian transverse Mercator (k0 = 1) keeps the meridian arc length:
    # 1 degree about 33N = M(33N) pi / 180 to third order, about 110.9 km.
    p = Projection((135.5, 33.0))
    _, y = p.to_xy([135.5, 135.5], [32.5, 33.5])
    arc = meridian_radius(33.0) * math.pi / 180.0
    assert y[1] - y[0] == pytest.approx(arc, abs=1.0)
    assert (y[1] - y[0]) / 1000.0 == pytest.approx(110.9, abs=0.1)
    assert y[1] > 0 > y[0]  # north is +y


def test_projection_east_west_distance_along_the_parallel():
    # Half a degree east along 33N is N cos(phi) * 0.5 deg; TM stretches it by 1 + x^2 / (2 R^2)
    # (about 3e-5 here) and bends the parallel a little: 1e-4 relative.
    p = Projection((135.5, 33.0))
    x, y = p.to_xy(136.0, 33.0)
    expected = prime_vertical_radius(33.0) * math.cos(math.radians(33.0)) * math.radians(0.5)
    assert x == pytest.approx(expected, rel=1e-4)
    assert x > 0  # east is +x
    x_w, y_w = p.to_xy(135.0, 33.0)
    assert x_w == pytest.approx(-x, rel=1e-12) and y_w == pytest.approx(y, rel=1e-12)  # symmetry


# --- stations ----------------------------------------------------------------------------------------


def test_station_grid_names_and_positions_row_major(tmp_path):
    cfg = base_config()
    cfg["stations"] = {"grid": {"x": [-10.0, 12.0], "y": [-5.0, 5.0], "spacing": 5.0}}
    st = load_config(write_config(tmp_path, cfg)).stations
    # x: -10, -5, 0, 5, 10 (12 is not reached); y: -5, 0, 5 -> 15 stations, x fastest
    assert len(st.names) == 15
    assert st.names[:2] == ["G0001", "G0002"] and st.names[-1] == "G0015"
    np.testing.assert_array_equal(st.positions[0], [-10000.0, -5000.0, 0.0])
    np.testing.assert_array_equal(st.positions[1], [-5000.0, -5000.0, 0.0])
    np.testing.assert_array_equal(st.positions[5], [-10000.0, 0.0, 0.0])
    np.testing.assert_array_equal(st.positions[14], [10000.0, 5000.0, 0.0])


def test_station_file_and_grid_together_file_first(tmp_path):
    cfg = base_config()
    cfg["stations"]["grid"] = {"x": [0.0, 0.0], "y": [0.0, 10.0], "spacing": 10.0}
    st = load_config(write_config(tmp_path, cfg)).stations
    assert st.names == ["A1", "A2", "A3", "G0001", "G0002"]
    np.testing.assert_array_equal(st.positions[4], [0.0, 10000.0, 0.0])


def test_several_station_files_in_order_and_errors_name_the_item(tmp_path):
    """A user's own station file beside a shipped one: `file = [a, b]`, stations in file order."""
    cfg = base_config()
    cfg["stations"]["file"] = ["stations.csv", "mine.csv"]
    files = {"mine.csv": "name,x,y\nM1,1.0,2.0\n"}
    st = load_config(write_config(tmp_path, cfg, files)).stations
    assert st.names == ["A1", "A2", "A3", "M1"]
    np.testing.assert_array_equal(st.positions[3], [1000.0, 2000.0, 0.0])
    cfg["stations"]["file"] = ["stations.csv", "missing.csv"]
    with pytest.raises(ConfigError, match=r"stations\.file\[1\]: file not found"):
        load_config(write_config(tmp_path, cfg))
    cfg["stations"]["file"] = ["stations.csv", "mine.csv"]
    files = {"mine.csv": "name,x,y\nA1,1.0,2.0\n"}  # a name already in the first file
    with pytest.raises(ConfigError, match="station names must be unique; repeated: A1"):
        load_config(write_config(tmp_path, cfg, files))


def test_station_depth_and_z_columns(tmp_path):
    cfg = base_config()
    cfg["stations"]["file"] = "deep.csv"
    files = {"deep.csv": "name,x,y,depth\nB1,1.0,2.0,0.5\nB2,3.0,4.0,0.0\n"}
    st = load_config(write_config(tmp_path, cfg, files)).stations
    np.testing.assert_array_equal(st.positions, [[1000.0, 2000.0, -500.0], [3000.0, 4000.0, 0.0]])
    files = {"deep.csv": "name,x,y,z\nB1,1.0,2.0,-0.25\n"}
    st = load_config(write_config(tmp_path, cfg, files)).stations
    np.testing.assert_array_equal(st.positions, [[1000.0, 2000.0, -250.0]])


def test_lonlat_station_file_is_projected_and_kept(tmp_path):
    cfg = base_config()
    cfg["stations"]["file"] = "ll.csv"
    # the origin itself and a point 0.2 degrees north of it, with provenance lines to skip
    files = {"ll.csv": "# provenance\n# more\nname,lon,lat\n\nO,135.5,33.0\nN,135.5,33.2\n"}
    st = load_config(write_config(tmp_path, cfg, files)).stations
    np.testing.assert_allclose(st.positions[0], [0.0, 0.0, 0.0], atol=1e-6)
    assert st.positions[1, 0] == pytest.approx(0.0, abs=1e-6)
    # 0.2 degree of meridian arc around 33.1N
    assert st.positions[1, 1] == pytest.approx(meridian_radius(33.1) * math.radians(0.2), abs=0.1)
    np.testing.assert_array_equal(st.lonlat, [[135.5, 33.0], [135.5, 33.2]])


def test_xy_stations_get_lonlat_when_an_origin_is_given(tmp_path):
    st = load_config(write_config(tmp_path, base_config())).stations
    p = Projection((135.5, 33.0))
    x, y = p.to_xy(*st.lonlat.T)
    np.testing.assert_allclose(np.column_stack([x, y]), st.positions[:, :2], atol=1e-6)
    cfg = base_config()
    del cfg["domain"]["origin"]
    assert load_config(write_config(tmp_path, cfg)).stations.lonlat is None


# --- grid fault, plate layers, variants ---------------------------------------------------------------


def plane_grid_xy() -> str:
    """A plane dipping east: depth = 12 + 0.5 x (km), on a 5 km grid over x, y in [-20, 20] km."""
    rows = ["# synthetic plane for tests", "x,y,depth_km"]
    for y in range(-20, 21, 5):
        for x in range(-20, 21, 5):
            rows.append(f"{float(x)},{float(y)},{12.0 + 0.5 * x}")
    return "\n".join(rows) + "\n"


def grid_config() -> dict:
    cfg = base_config()
    cfg["fault"] = {"type": "grid", "file": "plane.csv", "outline": [[-10.0, -10.0], [10.0, -10.0], [0.0, 10.0]],
                    "depth_range": [2.0, 20.0], "subfault_size": 4.0}
    cfg["plate_layers"] = [
        {"name": "oceanic_crust", "thickness": 7.0, "vp": 6.5, "vs": 3.7, "density": 2.9},
        {"name": "oceanic_mantle", "vp": 8.1, "vs": 4.6, "density": 3.3},
    ]
    return cfg


def test_grid_fault_in_km_is_converted_to_metres(tmp_path):
    c = load_config(write_config(tmp_path, grid_config(), {"plane.csv": plane_grid_xy()}))
    f = c.fault
    assert isinstance(f, GridFault)
    assert f.points.shape == (81, 3)
    np.testing.assert_array_equal(f.points[0], [-20000.0, -20000.0, 2000.0])
    np.testing.assert_allclose(f.points[:, 2], 12000.0 + 0.5 * f.points[:, 0])
    np.testing.assert_array_equal(f.outline, [[-10000.0, -10000.0], [10000.0, -10000.0], [0.0, 10000.0]])
    assert f.depth_range == (2000.0, 20000.0) and f.subfault_size == 4000.0
    assert Path(f.file) == (tmp_path / "plane.csv").resolve()
    # plate layers: thickness in m, the last one to the bottom of the domain
    assert [(p.name, p.bottom, p.vp) for p in c.plate_layers] == \
        [("oceanic_crust", 7000.0, 6500.0), ("oceanic_mantle", math.inf, 8100.0)]


def test_grid_fault_in_lonlat_projects_points_and_outline(tmp_path):
    cfg = grid_config()
    cfg["fault"]["outline"] = [[135.4, 32.9], [135.6, 32.9], [135.5, 33.1]]
    files = {"plane.csv": "lon,lat,depth_km\n135.5,33.0,10.0\n135.5,33.1,12.0\n135.6,33.0,14.0\n"}
    f = load_config(write_config(tmp_path, cfg, files)).fault
    np.testing.assert_allclose(f.points[0], [0.0, 0.0, 10000.0], atol=1e-6)
    assert f.points[1, 1] == pytest.approx(meridian_radius(33.05) * math.radians(0.1), abs=0.1)
    assert f.outline[2, 0] == pytest.approx(0.0, abs=1e-6)
    assert f.outline[0, 0] == pytest.approx(-f.outline[1, 0], rel=1e-12)  # symmetric about the meridian


def test_variants_are_read_and_applied(tmp_path):
    cfg = grid_config()
    cfg["variants"] = [
        {"name": "fast_upper", "changes": [{"layer": "upper", "vp_scale": 1.1, "vs_scale": 1.1}]},
        {"name": "dense_slab", "changes": [{"layer": "oceanic_crust", "density": 3.0},
                                           {"layer": "lower", "vs": 3.5}]},
    ]
    c = load_config(write_config(tmp_path, cfg, {"plane.csv": plane_grid_xy()}))
    assert [v.name for v in c.variants] == ["fast_upper", "dense_slab"]
    every = c.layers + c.plate_layers
    fast = apply_variant(every, c.variants[0])
    assert (fast[0].vp, fast[0].vs, fast[0].density) == pytest.approx((6380.0, 3740.0, 2700.0))
    assert (fast[1].vp, fast[1].vs) == (6800.0, 3900.0)  # untouched
    dense = apply_variant(every, c.variants[1])
    assert dense[2].density == 3000.0 and dense[1].vs == 3500.0 and dense[1].vp == 6800.0
    assert every[2].density == 2900.0  # the reference is not modified


# --- several problems at once; tables --------------------------------------------------------------


def test_all_problems_are_reported_at_once(tmp_path):
    cfg = base_config()
    edit(cfg, "layers[1].vs", -3.0)
    edit(cfg, "fault.dip", 0.0)
    edit(cfg, "mesh.order", 3)
    edit(cfg, "solver.batch", 0)
    edit(cfg, "model.colour", "red")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, cfg))
    err = info.value
    assert len(err.problems) == 5
    assert "layers[1].vs: must be > 0, got -3.0" in err.problems
    for key in ("fault.dip:", "mesh.order:", "solver.batch:", "model.colour:"):
        assert any(p.startswith(key) for p in err.problems), key
    assert "\n" not in str(err) and str(err).startswith(str(tmp_path / "config.toml"))


def test_read_table_skips_comments_and_reports_lines(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("# a\n\nName , X,y\n# mid-file note\nA,1,2\n")
    t = read_table(p)
    assert t.columns == ["name", "x", "y"] and t.rows == [["A", "1", "2"]] and t.lines == [5]
    p.write_text("name,x,y\nA,1,2\nB,1\n")
    with pytest.raises(TableError, match="line 3"):
        read_table(p)
    p.write_text("name,x,y\nA,1,2\nB,oops,2\n")
    with pytest.raises(TableError, match="line 3.*'x'"):
        read_station_file(p)
