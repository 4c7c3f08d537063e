"""Export of Green's-function files: npz, long csv and matrix, against the file's own arrays."""

from __future__ import annotations

import csv

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from gf_fixtures import halfspace_gf, planar_fault, standard_case

from crustgf.cli.main import main
from crustgf.core.errors import CrustgfError
from crustgf.io.export import export_greens_functions
from crustgf.io.gfread import load_greens_functions

COMP = {"east": 0, "north": 1, "up": 2}
SLIP = {"strike": 0, "dip": 1}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return standard_case(tmp_path_factory.mktemp("gf"), n_strike=4, n_dip=3, stations_per_side=4)


def test_fixture_slip_signs_follow_spec():
    """SPEC 4 on the cutde fixture: +strike-slip moves the hanging wall along strike, +dip-slip up dip."""
    fault = planar_fault((0.0, 0.0, -2000.0), 0.0, 30.0, 20e3, 10e3, 1, 1)  # strike north, dips east
    hanging, foot = [5e3, 0.0, 0.0], [-5e3, 0.0, 0.0]
    g = halfspace_gf(np.array([hanging, foot]), fault)
    assert g[0, 1, 0, 0] > 0.1  # hanging-wall station moves north (along strike)
    assert g[0, 0, 0, 1] < -0.05 and g[0, 2, 0, 1] > 0.1  # moves west (up dip) and up
    assert g[1, 1, 0, 0] < 0  # footwall side moves the other way


def test_reader_reads_spec_layout(case):
    path, names, pos, fault, disp = case
    gf = load_greens_functions(path)
    assert gf.station_names == names
    np.testing.assert_array_equal(gf.displacement, disp)
    np.testing.assert_array_equal(gf.subfaults.cells, fault["cells"])
    assert gf.variants == ["nu0.20", "nu0.30", "stiff_scaled"]
    v = load_greens_functions(path, variant="stiff_scaled")
    np.testing.assert_allclose(v.displacement, 1.2 * disp)
    assert v.layers["mu"][0] == pytest.approx(3.6e10)


def test_npz_round_trip(case, tmp_path):
    path, names, pos, fault, disp = case
    out = tmp_path / "gf_export"  # no suffix: written exactly there
    export_greens_functions(path, "npz", out)
    with np.load(out) as z:
        np.testing.assert_array_equal(z["greens_functions__displacement"], disp)
        assert list(z["stations__name"]) == names
        np.testing.assert_array_equal(z["stations__position"], pos)
        np.testing.assert_array_equal(z["subfaults__area"], fault["area"])
        np.testing.assert_array_equal(z["subfaults__cell_subfault"], fault["cell_subfault"])
        assert z["solve__done"].all()
        assert str(z["attrs__slip_convention"]).startswith("hanging wall")
        assert str(z["variant"]) == ""


def _read_long_csv(out):
    with open(out) as fh:
        rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]
    return rows[0], rows[1:]


def test_csv_long_format_matches_array(case, tmp_path):
    path, names, pos, fault, disp = case
    out = tmp_path / "gf.csv"
    export_greens_functions(path, "csv", out, variant="nu0.30")
    header, rows = _read_long_csv(out)
    assert header == ["station", "component", "subfault", "slip", "value"]
    assert len(rows) == disp.size
    expected = load_greens_functions(path, variant="nu0.30").displacement
    got = np.full(disp.shape, np.nan)
    for st, comp, j, slip, value in rows:
        got[names.index(st), COMP[comp], int(j), SLIP[slip]] = float(value)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)
    assert "variant nu0.30" in open(out).read()


def test_matrix_npz_labels_address_the_array(case, tmp_path):
    path, names, pos, fault, disp = case
    out = tmp_path / "G.npz"
    export_greens_functions(path, "matrix", out)
    with np.load(out) as z:
        G, rows, cols = z["G"], list(z["row_labels"]), list(z["col_labels"])
    assert G.shape == (3 * len(names), 2 * len(fault["area"]))
    for r, rl in enumerate(rows):
        st, comp = rl.split(":")
        for c, cl in enumerate(cols):
            j, slip = cl.split(":")
            assert G[r, c] == disp[names.index(st), COMP[comp], int(j), SLIP[slip]]
    # the documented order: station slowest then E, N, U; subfault slowest then strike, dip
    assert rows[:4] == [f"{names[0]}:east", f"{names[0]}:north", f"{names[0]}:up", f"{names[1]}:east"]
    assert cols[:3] == ["0:strike", "0:dip", "1:strike"]


def test_matrix_csv(case, tmp_path):
    path, names, pos, fault, disp = case
    out = tmp_path / "G.csv"
    export_greens_functions(path, "matrix", out)
    header, rows = _read_long_csv(out)
    assert header[0] == "row" and header[1:3] == ["0:strike", "0:dip"]
    G = np.array([[float(v) for v in r[1:]] for r in rows])
    i, c = names.index(rows[7][0].split(":")[0]), COMP[rows[7][0].split(":")[1]]
    np.testing.assert_allclose(G[7], disp[i, c].reshape(-1), rtol=1e-9)


def test_unknown_variant_lists_available(case, tmp_path):
    path = case[0]
    with pytest.raises(CrustgfError, match=r"unknown variant 'soft'.*nu0.20, nu0.30, stiff_scaled"):
        export_greens_functions(path, "npz", tmp_path / "x.npz", variant="soft")


def test_missing_solves_refused_unless_allowed(case, tmp_path):
    src = case[0]
    path = tmp_path / "partial.h5"
    path.write_bytes(src.read_bytes())
    with h5py.File(path, "a") as f:
        done = f["solve/done"][()]
        done[1, 0] = done[2, 1] = False
        f["solve/done"][...] = done
    out = tmp_path / "partial.npz"
    with pytest.raises(CrustgfError, match="2 of 24 solves"):
        export_greens_functions(path, "npz", out)
    assert not out.exists() and not list(tmp_path.glob(".partial.npz*"))
    export_greens_functions(path, "npz", out, allow_missing=True)
    with np.load(out) as z:
        d = z["greens_functions__displacement"]
    assert np.isnan(d[:, :, 1, 0]).all() and np.isnan(d[:, :, 2, 1]).all()
    assert np.isfinite(d[:, :, 1, 1]).all()


def test_cli_export_and_errors(case, tmp_path):
    path = case[0]
    runner = CliRunner()
    res = runner.invoke(main, ["export", str(path), "--format", "matrix", "-o", str(tmp_path / "G.npz")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "G.npz").exists()
    res = runner.invoke(main, ["export", str(path), "--format", "npz", "-o", str(tmp_path / "v.npz"),
                               "--variant", "nope"])
    assert res.exit_code == 1 and "Error:" in res.output and "available" in res.output
    res = runner.invoke(main, ["export", str(tmp_path / "missing.h5"), "--format", "csv", "-o",
                               str(tmp_path / "x.csv")])
    assert res.exit_code == 1 and "no such Green's-function file" in res.output


def test_reader_and_export_on_a_file_from_the_gf_writer(tmp_path):
    """crustgf.io.gffile writes the file (with variants and unfinished solves); gfread/export read it."""
    from crustgf.io.gffile import GFHeader, SolveState, Structure, write_gf_file
    from crustgf.mesh.model import LayerTable

    fault = planar_fault((0.0, 0.0, -2000.0), 45.0, 30.0, 20e3, 10e3, 2, 2)
    names = ["A", "B", "C"]
    pos = np.array([[5e3, 0.0, 0.0], [-5e3, 3e3, 0.0], [0.0, 20e3, 0.0]])
    disp = halfspace_gf(pos, fault)
    layers = LayerTable(name=["crust"], bottom=np.array([5e4]), vp=np.array([6000.0]), vs=np.array([3464.0]),
                        density=np.array([2700.0]), kind=["flat"])
    header = GFHeader(names, pos, None, fault["centroid"], fault["strike"], fault["dip"], fault["area"],
                      fault["vertices"], fault["cells"], fault["cell_subfault"], "[domain]\n", "local", "0" * 64,
                      "test", [Structure("reference", layers), Structure("soft", layers)])
    states = [SolveState.empty(3, 4), SolveState.empty(3, 4)]
    jobs = np.argwhere(np.ones((4, 2), bool))
    for st, factor in zip(states, (1.0, 2.0)):
        st.merge(jobs, factor * disp[:, :, jobs[:, 0], jobs[:, 1]], np.zeros(8), np.zeros(8, int), np.ones(8, bool))
    states[1].done[3, 1] = False
    path = tmp_path / "writer.h5"
    write_gf_file(path, header, states)

    gf = load_greens_functions(path)
    assert gf.station_names == names and gf.variants == ["soft"] and gf.layers["kind"] == ["flat"]
    np.testing.assert_array_equal(gf.displacement, disp)
    with pytest.raises(CrustgfError, match="1 of 8 solves of variant 'soft'"):
        export_greens_functions(path, "matrix", tmp_path / "G.npz", variant="soft")
    export_greens_functions(path, "matrix", tmp_path / "G.npz", variant="soft", allow_missing=True)
    with np.load(tmp_path / "G.npz") as z:
        G = z["G"]
    np.testing.assert_array_equal(G[:, :7], 2.0 * disp.reshape(9, 8)[:, :7])
    assert np.isnan(G[:, 7]).all()


def test_exports_get_the_permissions_of_an_ordinary_file(tmp_path):
    """Atomic writes go through a private temporary file; the result must still be readable by
    others as an ordinary open() would make it (umask), not 0600."""
    from crustgf.core.atomic import atomic_open

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with atomic_open(tmp_path / "atomic.txt") as fh:
        fh.write("x")
    assert (tmp_path / "atomic.txt").stat().st_mode == plain.stat().st_mode
