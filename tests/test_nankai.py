"""The Nankai Trough model: configs, station sets, and the physics of a very coarse variant.

The end-to-end checks build a very coarse copy of crustgf/configs/nankai-coarse.toml (60 km subfaults,
linear elements of 20-250 km, a smaller box) once per module: enough to test signs and the
material layout, not accuracy.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crustgf" / "data"
CONFIGS = ROOT / "crustgf" / "configs"

# The JIVSM rows (crustgf/data/jivsm_properties.csv) the configs document for each layer.
JIVSM_ROWS = {"sediment": "SED12", "upper_crust": "UPCRUST2", "lower_crust": "LOWCRUST",
              "mantle_wedge": "C-MANTLE", "oceanic_crust": "PHS-LYR3", "oceanic_mantle": "PHS-MNTL"}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return lines[0].split(","), [ln.split(",") for ln in lines[1:]]


def lonlat_stations(path: Path):
    header, rows = read_csv(path)
    assert header == ["name", "lon", "lat"]
    return [r[0] for r in rows], np.array([[float(r[1]), float(r[2])] for r in rows])


# ---- station sets ------------------------------------------------------------------------------

def test_land_grid_is_on_land_and_donet_at_sea():
    from global_land_mask import globe

    from crustgf.data.stationsets import LAND_GRID_BOXES

    names, ll = lonlat_stations(DATA / "gnss_land_grid.csv")
    assert len(names) == len(set(names)) >= 60
    assert globe.is_land(ll[:, 1], ll[:, 0]).all()
    in_box = np.zeros(len(ll), bool)
    for lon0, lon1, lat0, lat1 in LAND_GRID_BOXES.values():
        in_box |= (ll[:, 0] >= lon0) & (ll[:, 0] <= lon1) & (ll[:, 1] >= lat0) & (ll[:, 1] <= lat1)
    assert in_box.all()
    # the mask does tell sea from land here: every DONET site is offshore
    _, donet = lonlat_stations(DATA / "donet_stations.csv")
    assert not globe.is_land(donet[:, 1], donet[:, 0]).any()
    # a few land points we know: Kochi (133.5E 33.5N), Kii interior (135.75E 34.0N), Nagoya area
    have = {tuple(np.round(p, 2)) for p in ll}
    assert {(133.5, 33.5), (135.75, 34.0), (137.0, 35.25)} <= have


def test_station_files_regenerate_identically(tmp_path):
    from crustgf.data.stationsets import write_station_sets

    (tmp_path / "donet_stations.csv").write_text((DATA / "donet_stations.csv").read_text())
    grid, both = write_station_sets(tmp_path)
    assert grid.read_text() == (DATA / "gnss_land_grid.csv").read_text()
    assert both.read_text() == (DATA / "nankai_stations.csv").read_text()
    n_donet = len(lonlat_stations(DATA / "donet_stations.csv")[0])
    n_land = len(lonlat_stations(grid)[0])
    assert len(lonlat_stations(both)[0]) == n_donet + n_land == n_donet + n_land


# ---- configs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["nankai.toml", "nankai-coarse.toml"])
def test_config_layers_are_the_documented_jivsm_rows(name):
    from crustgf.config.load import load_config

    cfg = load_config(CONFIGS / name)
    _, rows = read_csv(DATA / "jivsm_properties.csv")
    jivsm = {r[1]: (float(r[2]), float(r[3]), float(r[4])) for r in rows}
    for layer in cfg.layers + cfg.plate_layers:
        vp, vs, rho = jivsm[JIVSM_ROWS[layer.name]]
        assert (layer.vp, layer.vs, layer.density) == pytest.approx((vp * 1e3, vs * 1e3, rho * 1e3))
    # flat layers at the depths typical of SW Japan; the oceanic crust 7 km thick
    assert [round(layer.bottom / 1e3) for layer in cfg.layers][:3] == [3, 16, 32]
    assert cfg.plate_layers[0].bottom == pytest.approx(7e3)
    assert len(cfg.stations.names) == 51 + len(lonlat_stations(DATA / "gnss_land_grid.csv")[0])
    # the clamped box reaches >= 400 km beyond every station and every part of the fault
    pts = np.vstack([cfg.stations.positions[:, :2], cfg.fault.outline])
    margin = min(pts[:, 0].min() - cfg.domain.x[0], cfg.domain.x[1] - pts[:, 0].max(),
                 pts[:, 1].min() - cfg.domain.y[0], cfg.domain.y[1] - pts[:, 1].max())
    assert margin >= 300e3 and cfg.domain.depth >= 300e3


def test_production_fault_has_about_500_subfaults_from_the_trench_down_to_40_km():
    """reach_surface: the subfaults that get meshed (mesh/trench.py) end at the seafloor along one
    trench line ~700 km long and reach 40 km depth."""
    from crustgf.config.load import load_config
    from crustgf.mesh.build import _drop_above, _warp, fault_patches
    from crustgf.mesh.trench import trench_patches

    cfg = load_config(CONFIGS / "nankai.toml")
    assert cfg.fault.reach_surface
    patches = fault_patches(cfg)
    warp, ref = _warp(cfg, patches, 1e-3)
    true, ref = _drop_above(*trench_patches(patches, ref, warp), 1e-3)
    assert 450 <= true.n_patches <= 550
    depth = -true.patch_corners()[..., 2]
    assert depth.max() <= 40.5e3
    top = ref.corners[:, 2] == 0.0  # the trench corners lie on the seafloor
    assert np.allclose(true.corners[top, 2], cfg.surface.elevation(*true.corners[top, :2].T), atol=1.0)
    assert np.all(true.corners[~top, 2] < cfg.surface.elevation(*true.corners[~top, :2].T))
    span = np.ptp(true.corners[top, 0])
    assert span > 500e3  # along the whole trough
    # no CAD surface rises above the seafloor (asked of OpenCASCADE): the trench subfaults are ruled
    # between the trench and their down-dip edge, the others stay >= 100 m under it (keep_under)
    from crustgf.mesh.trench import MARGIN, cad_tops, is_trench_edge

    tops = cad_tops(ref)
    at_trench = np.array([any(is_trench_edge(ref.edge_points[e]) for e in loop) for loop in ref.patches])
    assert at_trench.sum() >= 30 and np.abs(tops[at_trench]).max() <= 1e-6
    assert tops[~at_trench].max() <= -MARGIN + 1e-6


# ---- a very coarse Nankai model ----------------------------------------------------------------

def very_coarse_text() -> str:
    text = (CONFIGS / "nankai-coarse.toml").read_text()
    text = text.replace('"../data/', f'"{DATA.as_posix()}/')
    subs = {r"origin = ": "x = [-500.0, 500.0]\ny = [-450.0, 450.0]\ndepth = 250.0\norigin = ",
            r"subfault_size = .*": "subfault_size = 60.0", r"order = .*": "order = 1",
            r"size_fault = .*": "size_fault = 20.0", r"size_max = .*": "size_max = 250.0"}
    for pattern, repl in subs.items():
        text, n = re.subn(pattern, repl, text, count=1)
        assert n == 1, pattern
    return text


@pytest.fixture(scope="module")
def nankai(tmp_path_factory):
    from crustgf.config.load import load_config
    from crustgf.io.modelfile import write_model
    from crustgf.mesh import build_model

    d = tmp_path_factory.mktemp("nankai")
    (d / "nankai-test.toml").write_text(very_coarse_text())
    cfg = load_config(d / "nankai-test.toml")
    model = build_model(cfg, progress=False)
    write_model(model, d / "model.h5")
    return cfg, model, d / "model.h5"


def subfault_map_triangles(model, j):
    cells = model.fault_cells[model.fault_cell_subfault == j, :3]
    return model.nodes[cells][..., :2]


def inside_triangles(tri2d: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Which points (n, 2) lie inside any of the map triangles (m, 3, 2)."""
    a, b, c = tri2d[:, 0], tri2d[:, 1], tri2d[:, 2]
    out = np.zeros(len(pts), bool)
    for i, p in enumerate(pts):
        v0, v1, v2 = b - a, c - a, p - a
        det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
        l1 = (v2[:, 0] * v1[:, 1] - v2[:, 1] * v1[:, 0]) / det
        l2 = (v0[:, 0] * v2[:, 1] - v0[:, 1] * v2[:, 0]) / det
        out[i] = ((l1 >= 0) & (l2 >= 0) & (l1 + l2 <= 1)).any()
    return out


def test_reverse_slip_on_a_shallow_subfault_uplifts_seafloor_and_moves_it_to_the_trough(nankai):
    """Dip-slip +1 (reverse, SPEC 4) on shallow subfaults, seen at the DONET sites above them.

    The shallow plate interface dips only 3-9 degrees, so a slipping patch is close to a buried
    horizontal dislocation: the hanging wall above it moves up-dip (toward the trough, SSE), the
    seafloor rises above the up-dip half and sinks a little above the down-dip end. So: every
    station above the patch moves toward the trough; those above its up-dip half rise.
    """
    from crustgf.greens.operator import GreenSolver

    cfg, model, _ = nankai
    donet = np.array([n.startswith(("KM", "MR")) for n in model.station_names])
    st = model.station_positions[:, :2]
    c = model.subfaults.centroid
    cases = []
    for j in np.nonzero(-c[:, 2] < 15e3)[0]:  # shallow: centroid above 15 km
        above = np.nonzero(donet & inside_triangles(subfault_map_triangles(model, j), st))[0]
        if above.size:
            cases.append((j, above))
    assert len(cases) >= 3
    jobs = np.array([[j, 1] for j, _ in cases])
    res = GreenSolver(model, backend="cpu", method="direct", rtol=1e-8).solve(jobs)
    assert res.converged.all()
    n_uplift_checked = 0
    for k, (j, idx) in enumerate(cases):
        u = res.displacement[idx, :, k]  # (n, 3) east, north, up
        up_dip = np.radians(model.subfaults.strike[j] - 90.0)  # azimuth of the up-dip direction
        e_up = np.array([np.sin(up_dip), np.cos(up_dip)])
        assert 120.0 < np.degrees(up_dip) % 360.0 < 180.0  # the trough lies SE to SSE here
        ang = np.degrees(np.arccos(u[:, :2] @ e_up / np.hypot(u[:, 0], u[:, 1])))
        assert (ang < 45.0).all() and (u[:, 1] < 0).all() and u[:, 0].mean() > 0, (j, u)
        up_half = (st[idx] - c[j, :2]) @ e_up > 3e3  # stations above the up-dip half
        assert (u[up_half, 2] > 0).all(), (j, u[up_half])
        n_uplift_checked += int(up_half.sum())
    assert n_uplift_checked >= 3


def test_continental_above_and_oceanic_below_the_interface(nankai):
    from crustgf.fem.locate import find_elements

    cfg, model, _ = nankai
    kinds = np.array(model.layers.kind)
    # several places: the shallowest and deepest subfaults at the west end, middle and east end,
    # leaving out the trench rows (under the seafloor the wedge above the fault is thinner than these
    # 20 km elements, whose layer is their centroid's)
    buried = cfg.surface.elevation(model.subfaults.centroid[:, 0], model.subfaults.centroid[:, 1]) \
        - model.subfaults.centroid[:, 2] > 6e3
    c = np.where(buried[:, None], model.subfaults.centroid, np.nan)
    order = np.argsort(c[:, 0])[: int(buried.sum())]
    thirds = np.array_split(order, 3)
    picks = sorted({int(g[np.argmin(c[g, 2])]) for g in thirds} | {int(g[np.argmax(c[g, 2])]) for g in thirds})
    assert len(picks) >= 5
    for dz, want in ((+1.5e3, "flat"), (-1.5e3, "plate")):  # continental above, oceanic below
        pts = c[picks] + np.array([0.0, 0.0, dz])
        mat = model.cell_material[find_elements(model.nodes, model.cells, pts)[0]]
        assert (kinds[mat] == want).all(), (dz, [model.layers.name[m] for m in mat])
    assert set(kinds) == {"flat", "plate"} and "oceanic_crust" in model.layers.name
    # (which plate layer an element gets depends on its centroid's distance below the interface;
    # with 20 km elements the first element under the fault may already be oceanic mantle)


def test_nankai_plots(nankai, tmp_path):
    from crustgf.plot import figures as plot

    _, _, path = nankai
    out = plot.plot_layout(path, tmp_path / "layout.png")
    assert out.stat().st_size > 20_000
    out = plot.plot_section(path, "136.25,32.35,134.95,34.35", tmp_path / "section.png")
    assert out.stat().st_size > 20_000
    import matplotlib.image as mpimg

    assert mpimg.imread(out).shape[:2] == (600, 1200)


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    """The demo's steps on the very coarse variant: every output exists and is consistent."""
    from crustgf.cli.demo import run_demo
    from crustgf.io.modelfile import read_model

    (tmp_path / "cfg.toml").write_text(very_coarse_text())
    paths = run_demo(tmp_path / "out", tmp_path / "cfg.toml", {"backend": "cpu"}, quiet=True)
    model = read_model(paths["model"])
    G = np.load(paths["matrix"])["G"]
    assert G.shape == (3 * len(model.station_names), 2 * model.n_subfaults)
    assert np.isfinite(G).all() and np.abs(G).max() > 0.05
    for key in ("layout", "section", "gf_dip", "gf_strike"):
        assert paths[key].stat().st_size > 20_000


def test_noise_free_1946_slip_is_recovered_with_the_true_greens_functions(nankai, tmp_path):
    """The 1946 Nankai slip (Baba et al. 2002) mapped onto the model's subfaults, forward-modelled
    with the model's own FE Green's functions (noise-free, 1 mm sigma), and inverted with the same
    Green's functions (Laplacian smoothing, weight by ABIC): recovered within 5 % relative L2."""
    from crustgf.greens.run import solve_greens_functions
    from crustgf.inversion.invert import invert_slip
    from crustgf.inversion.slipmodels import NANKAI_1946
    from crustgf.inversion.synth import StationData, forward, slip_from_model
    from crustgf.io.gfread import load_greens_functions

    _, model, path = nankai
    assert solve_greens_functions(path, tmp_path / "gf.h5", {"backend": "cpu", "method": "direct"},
                                  progress=False) == 0
    gf = load_greens_functions(tmp_path / "gf.h5")
    m_true = slip_from_model(gf, NANKAI_1946)
    assert np.abs(m_true).max() > 1.0 and (np.abs(m_true[:, 1]) > 0.1).sum() >= 5  # real slip, many subfaults
    names = gf.station_names
    data = StationData(names, forward(gf.displacement, m_true), np.full((len(names), 3), 1e-3))
    r = invert_slip(gf, data)
    err = np.linalg.norm(r.slip - m_true) / np.linalg.norm(m_true)
    print(f"1946 slip, {model.n_subfaults} subfaults: relative L2 error {err:.4f}, alpha^2 {r.abic.alpha2:.3g}")
    assert err < 0.05
