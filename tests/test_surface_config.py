"""[surface] (SPEC 5): config checks (one `Error:` line naming the key/file and the place, nothing
written), stations placed on the surface, and the meshed model's geometry under a surface grid."""

from __future__ import annotations

import numpy as np
import pytest
from test_config import DELETE, base_config, edit, write_config
from test_config_errors import check_case

from crustgf.config.load import load_config

P = pytest.param


def grid_csv(x=range(-60, 61, 20), y=range(-60, 61, 20), elevation=lambda x, y: -1000.0 - 20.0 * x,
             skip=(), extra=(), header="x,y,elevation_m"):
    """A regular x/y (km) grid CSV; elevation(x_km, y_km) in m; rows `skip` left out, `extra` appended."""
    rows = [f"{a},{b},{elevation(a, b)!r}" for b in y for a in x]
    rows = [r for i, r in enumerate(rows) if i not in skip] + list(extra)
    return "# a test surface\n" + header + "\n" + "\n".join(rows) + "\n"


def surface_config(file="topo.csv"):
    cfg = base_config()
    cfg["surface"] = {"file": file}
    return cfg


CASES = [
    P({}, {"topo.csv": grid_csv(elevation=lambda x, y: float("nan") if (x, y) == (0, 0) else -1000.0)},
      "surface.file", "line 27: column 'elevation_m' is not a number", id="nan-node"),
    P({}, {"topo.csv": grid_csv(skip=(10,))}, "surface.file", "missing grid node (x, y) = (0, -40)",
      id="missing-node"),
    P({}, {"topo.csv": grid_csv(extra=("20,-40,-1000",))}, "surface.file",
      "duplicated grid node (x, y) = (20, -40)", id="duplicated-node"),
    P({}, {"topo.csv": grid_csv(x=[-60, -40, -20, 0, 30, 60])}, "surface.file", "irregular grid: column 'x'",
      id="irregular-grid"),
    P({}, {"topo.csv": grid_csv(header="x,y,elevation")}, "surface.file", "'elevation_m' column",
      id="no-elevation-column"),
    P({}, {"topo.csv": grid_csv(x=range(10, 61, 10))}, "surface.file",
      "does not cover the fault: its point at (x, y) = ", id="grid-misses-fault"),
    P({}, {"topo.csv": grid_csv(x=range(-10, 61, 10), y=range(-20, 21, 10))}, "surface.file",
      "does not cover 2 station(s), e.g. A1", id="grid-misses-station"),
    P({}, {"topo.csv": grid_csv(), "stations.csv": "name,x,y,z\nA1,-20.0,5.0,0.0\nA2,0,-10,-2.0\n"},
      "stations", "A1 at z = 0.000 km where the surface is at -0.600 km", id="station-above-surface"),
    P({"surface": {"file": "topo.csv", "elevation": -1.0}}, {"topo.csv": grid_csv()}, "surface",
      "give file or elevation", id="file-and-elevation"),
    P({"surface": {"elevation": "deep"}}, {}, "surface.elevation", "must be a number", id="elevation-not-number"),
    P({"surface": {"elevation": -20.0}}, {}, "surface.elevation", "too little of domain.depth",
      id="elevation-too-deep"),
    P({"surface": {"file": "topo.csv", "datum": "wgs84"}}, {"topo.csv": grid_csv()}, "surface.datum",
      "unknown key", id="unknown-key"),
    P({"surface": {"file": "nope.csv"}}, {}, "surface.file", "file not found", id="file-missing"),
    P({"domain.origin": DELETE}, {"topo.csv": grid_csv(header="lon,lat,elevation_m")}, "surface.file",
      "domain.origin is required", id="lonlat-without-origin"),
]


@pytest.mark.parametrize("edits, files, key, what", CASES)
def test_bad_surface_fails_with_one_line(tmp_path, edits, files, key, what):
    check_case(tmp_path, surface_config(), edits, files, key, what)


def test_reach_surface_must_be_boolean(tmp_path):
    from test_config import grid_config, plane_grid_xy

    cfg = grid_config()
    cfg["fault"]["reach_surface"] = "yes"
    check_case(tmp_path, cfg, {}, {"plane.csv": plane_grid_xy()}, "fault.reach_surface", "must be true or false")


def test_elevations_in_km_give_a_warning(tmp_path):
    topo = grid_csv(elevation=lambda x, y: -1.5 + 0.01 * x)
    cfg = load_config(write_config(tmp_path, surface_config(), {"topo.csv": topo}))
    km = [w for w in cfg.warnings if "look like km" in w]
    assert len(km) == 1 and km[0].startswith("surface.file: ")
    ok = load_config(write_config(tmp_path / "b", surface_config(), {"topo.csv": grid_csv()}))
    assert not [w for w in ok.warnings if "look like km" in w]


def test_stations_without_z_sit_on_the_surface(tmp_path):
    """Bilinear in the grid: a planar surface is reproduced exactly; stations with z keep it."""
    files = {"topo.csv": grid_csv(), "stations.csv": "name,x,y,depth\nA1,-20.0,5.0,2.0\n",
             "more.csv": "name,x,y\nB1,10.0,-5.0\nB2,-35.0,12.5\n"}
    cfg = surface_config()
    cfg["stations"]["file"] = ["stations.csv", "more.csv"]
    c = load_config(write_config(tmp_path, cfg, files))
    assert c.stations.on_surface.tolist() == [False, True, True]
    assert np.allclose(c.stations.positions[:, 2], [-2000.0, -1000.0 - 200.0, -1000.0 + 700.0])


def test_meshed_surface_layers_and_stations(tmp_path):
    """A planar surface sloping from 0.2 km above to 2.2 km below sea level over a 2 km layer and a
    10 km layer: the mesh top is the surface; the 10 km interface is a mesh plane (imprinted); the
    2 km layer exists only where the surface is above 2 km depth (pinch-out), elements take their
    layer by true centroid depth; stations sit on the meshed surface; the fault breaks the surface."""
    from crustgf.geometry.surface import Surface
    from crustgf.mesh import build_model

    cfg = base_config()
    cfg["layers"] = [{"name": "sed", "bottom": 2.0, "vp": 4.0, "vs": 2.2, "density": 2.4},
                     {"name": "upper", "bottom": 10.0, "vp": 5.8, "vs": 3.4, "density": 2.7},
                     {"name": "lower", "bottom": 30.0, "vp": 6.8, "vs": 3.9, "density": 2.9}]
    cfg["surface"] = {"file": "topo.csv"}
    edit(cfg, "fault.top_center", [0.0, 0.0, 0.0])  # above the surface (-1 km at x = 0): cut there
    c = load_config(write_config(tmp_path, cfg, {"topo.csv": grid_csv()}))
    m = build_model(c, progress=False)
    s = c.surface.elevation
    top = m.nodes[m.free_surface_nodes]
    assert np.allclose(top[:, 2], s(top[:, 0], top[:, 1]), atol=1e-6)
    assert np.all(m.nodes[:, 2] <= s(m.nodes[:, 0], m.nodes[:, 1]) + 1e-6)
    assert np.isclose(m.nodes[:, 2], -10e3, atol=1e-6).sum() > 20  # the imprinted interface
    cen = m.nodes[m.cells[:, :4]].mean(axis=1)
    depth = -cen[:, 2]
    expect = np.where(depth <= 2e3, 0, np.where(depth <= 10e3, 1, 2))
    assert np.array_equal(m.cell_material, expect)
    sed_x = cen[m.cell_material == 0, 0]
    assert sed_x.min() < -30e3 and sed_x.max() < 50e3  # it pinches out at x = 50 km (a staircase)
    assert np.allclose(m.station_positions[:, 2], s(m.station_positions[:, 0], m.station_positions[:, 1]), atol=1e-6)
    fault_nodes = np.unique(m.fault_cells)
    on_top = np.intersect1d(fault_nodes, m.free_surface_nodes)
    assert len(on_top) >= 3  # the fault breaks the surface
    assert np.allclose(m.nodes[on_top, 2], s(m.nodes[on_top, 0], m.nodes[on_top, 1]), atol=1e-6)
    assert not np.isin(on_top, m.buried_edge_nodes).all()
    assert m.subfaults.centroid[:, 2].max() < s(0.0, 0.0)
    assert isinstance(c.surface, Surface)


def test_reach_surface_extends_a_grid_fault_to_the_seafloor(tmp_path):
    """A plane dipping 26.6 deg east (depth 12 + 0.5 x km) whose grid ends 1 km under a flat seafloor
    1 km deep: with reach_surface it is extended up-dip along its own dip and breaks the seafloor
    where the plane meets it, x = -22 km; without, its up-dip edge stays buried."""
    from test_config import grid_config, plane_grid_xy

    from crustgf.mesh import build_model

    def model(reach):
        cfg = grid_config()
        cfg["surface"] = {"elevation": -1.0}
        cfg["fault"].update({"outline": [[-35.0, -8.0], [5.0, -8.0], [5.0, 8.0], [-35.0, 8.0]],
                             "depth_range": [0.0, 20.0], "subfault_size": 6.0, "reach_surface": reach})
        del cfg["plate_layers"]
        c = load_config(write_config(tmp_path / str(reach), cfg, {"plane.csv": plane_grid_xy()}))
        return c, build_model(c, progress=False)

    c, m = model(True)
    assert c.fault.points[:, 0].min() < -21e3  # extension points
    f = np.unique(m.fault_cells)
    trace = np.intersect1d(f, m.free_surface_nodes)
    assert len(trace) >= 3
    assert np.allclose(m.nodes[trace, 2], -1e3) and np.allclose(m.nodes[trace, 0], -22e3, atol=0.3e3)
    assert m.nodes[f, 2].max() <= -1e3 + 1e-6
    _, m0 = model(False)
    f0 = np.unique(m0.fault_cells)
    assert len(np.intersect1d(f0, m0.free_surface_nodes)) == 0 and m0.nodes[f0, 2].max() < -1.5e3
