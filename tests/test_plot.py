"""Plots and cross-section sampling: PNGs of the expected size, and sections that match geometry."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from gf_fixtures import standard_case  # noqa: E402

from crustgf.cli.main import main  # noqa: E402
from crustgf.config.stored import stored_origin
from crustgf.fem.locate import find_elements  # noqa: E402
from crustgf.fem.shapes import tet_barycentric  # noqa: E402
from crustgf.plot import figures as plot  # noqa: E402
from crustgf.plot.section import SectionLine, triangle_plane_crossings  # noqa: E402

TINY = """
[model]
name = "tiny"
[domain]
x = [-40.0, 40.0]
y = [-40.0, 40.0]
depth = 30.0
origin = [135.5, 33.0]
[[layers]]
name = "upper"
bottom = 10.0
vp = 5.8
vs = 3.4
density = 2.7
[[layers]]
name = "lower"
bottom = 30.0
vp = 6.8
vs = 3.9
density = 2.9
[fault]
type = "rectangle"
top_center = [0.0, 0.0, 2.0]
strike = 0.0
dip = 30.0
length = 16.0
width = 8.0
subfaults = [2, 2]
[stations]
grid = { x = [-30.0, 30.0], y = [-30.0, 30.0], spacing = 15.0 }
[mesh]
order = 1
size_fault = 4.0
size_max = 20.0
"""


def png_shape(path: Path) -> tuple[int, ...]:
    import matplotlib.image as mpimg

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(path).shape


def not_blank(path: Path) -> bool:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)[..., :3]
    return float(img.std()) > 0.02 and (img < 0.5).mean() > 0.001  # some dark ink on a light page


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from crustgf.greens.pipeline import mesh_command

    d = tmp_path_factory.mktemp("tiny")
    (d / "tiny.toml").write_text(TINY)
    mesh_command(d / "tiny.toml", d / "tiny.model.h5", quiet=True)
    return d / "tiny.model.h5"


@pytest.fixture(scope="module")
def gf_file(tmp_path_factory):
    return standard_case(tmp_path_factory.mktemp("gf"), n_strike=4, n_dip=3, stations_per_side=6,
                         variants=False)[0]


def test_gf_map_png(gf_file, tmp_path):
    out = plot.plot_greens_function(gf_file, 5, "dip", tmp_path / "map.png")
    h, w = png_shape(out)[:2]
    assert (w, h) == (int(plot.FIGSIZE[0] * plot.DPI), int(plot.FIGSIZE[1] * plot.DPI))
    assert not_blank(out)
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # atomic write: no temp file left


def test_layout_and_section_png(tiny_model, tmp_path):
    out = plot.plot_layout(tiny_model, tmp_path / "layout.png")
    assert png_shape(out)[:2] == (int(plot.FIGSIZE[1] * plot.DPI), int(plot.FIGSIZE[0] * plot.DPI))
    assert not_blank(out)
    out = plot.plot_section(tiny_model, "xy:-30,0,30,0", tmp_path / "section.png", depth_max_km=25.0)
    assert png_shape(out)[:2] == (600, 1200)
    assert not_blank(out)


def test_section_materials_follow_layers(tiny_model):
    from crustgf.io.modelfile import read_model

    model = read_model(tiny_model)
    line = SectionLine(-35e3, -20e3, 35e3, 25e3)
    s, depth, mat = plot.sample_section(model, line, 29e3, ns=60, nz=59)
    expected = np.where(depth < 10e3, 0, 1)[:, None] * np.ones(len(s), int)
    away = np.abs(depth - 10e3) > 1.0  # exactly on the interface either side is right
    assert np.array_equal(mat[away], expected[away])


def test_locate_points_finds_the_holding_element(tiny_model):
    from crustgf.io.modelfile import read_model

    model = read_model(tiny_model)
    rng = np.random.default_rng(1)
    pick = rng.choice(len(model.cells), 200, replace=False)
    w = rng.dirichlet(np.ones(4), size=200)  # random interior points of those elements
    pts = np.einsum("nk,nkd->nd", w, model.nodes[model.cells[pick, :4]])
    found, bary = find_elements(model.nodes, model.cells, pts)
    lam = tet_barycentric(model.nodes[model.cells[found, :4]], pts)
    assert (lam >= -1e-9).all()  # the found element holds the point (a shared face may pick a neighbour)
    np.testing.assert_allclose(bary, lam, atol=1e-12)
    assert (found == pick).mean() > 0.95
    lo, hi = model.nodes.min(axis=0), model.nodes.max(axis=0)
    outside = np.array([hi + 1e3, [lo[0] - 1e3, 0.0, -1e3], [0.0, 0.0, 500.0]])  # beyond the box, above z = 0
    assert (find_elements(model.nodes, model.cells, outside)[0] == -1).all()


def test_fault_trace_in_section_matches_dip(tiny_model):
    """The rectangle (top 2 km deep at x = 0, dip 30 to the east, width 8 km) cut at y = 0."""
    from crustgf.io.modelfile import read_model

    model = read_model(tiny_model)
    line = SectionLine(-30e3, 0.0, 30e3, 0.0)  # passes along the edge shared by two subfaults
    segs = triangle_plane_crossings(model.nodes[model.fault_cells[:, :3]], line)
    pts = segs.reshape(-1, 2)
    assert len(segs) > 0
    x = pts[:, 0] - 30e3  # s -> x
    np.testing.assert_allclose(pts[:, 1], 2e3 + x * np.tan(np.radians(30.0)), atol=1.0)
    assert x.min() == pytest.approx(0.0, abs=1.0)
    assert x.max() == pytest.approx(8e3 * np.cos(np.radians(30.0)), abs=1.0)
    seg_len = np.hypot(*(segs[:, 1] - segs[:, 0]).T).sum()
    assert seg_len == pytest.approx(8e3, rel=1e-6)  # each piece drawn once


def test_helpers():
    assert plot.nice_reference(0.034) == pytest.approx(0.02)
    assert plot.nice_reference(7.0) == pytest.approx(5.0)
    assert plot.nice_reference(1e-3) == pytest.approx(1e-3)
    # two triangles making one square subfault: its outline is the 4 square edges
    edges, sub = plot.subfault_boundary_edges(np.array([[0, 1, 2], [0, 2, 3]]), np.array([0, 0]))
    assert sorted(map(tuple, edges)) == [(0, 1), (0, 3), (1, 2), (2, 3)]
    assert stored_origin('[domain]\norigin = [135.5, 33.0]\n') == (135.5, 33.0)
    assert stored_origin("[domain]\nx = [0, 1]\n") is None


def test_cli_plot_and_errors(gf_file, tiny_model, tmp_path):
    r = CliRunner().invoke(main, ["plot", str(gf_file), "--subfault", "2", "--component", "strike",
                                  "-o", str(tmp_path / "a.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "a.png").stat().st_size > 10_000
    for args, words in (
        (["plot", str(gf_file), "--subfault", "99", "-o", str(tmp_path / "b.png")], "--subfault"),
        (["plot", str(tiny_model), "--layout", "--subfault", "1", "-o", str(tmp_path / "b.png")], "exactly one"),
        (["plot", str(tiny_model), "--section", "1,2,3", "-o", str(tmp_path / "b.png")], "--section"),
        (["plot", str(tiny_model), "--layout", "-o", str(tmp_path / "nodir" / "b.png")], "does not exist"),
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 1, r.output
        assert r.output.startswith("Error:") and words in r.output
        assert not (tmp_path / "b.png").exists()
