"""Forward synthetics, ABIC slip inversion, slip-model mapping and the variant ensemble,
on Green's functions from an independent half-space model (cutde, see gf_fixtures.py)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from click.testing import CliRunner
from gf_fixtures import planar_fault, standard_case

from crustgf.cli.main import main
from crustgf.core.errors import CrustgfError
from crustgf.inversion.ensemble import run_ensemble
from crustgf.inversion.invert import invert_slip
from crustgf.inversion.slipmodels import NANKAI_1946, SourcePatches, map_slip_model, read_slip_model
from crustgf.inversion.synth import StationData, forward, read_data_csv
from crustgf.io.gfread import Subfaults, load_greens_functions


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return standard_case(tmp_path_factory.mktemp("gf"))


def smooth_slip(fault, sign=1.0):
    """A Gaussian bump of oblique slip (thrust + left-lateral), 2 m peak, on the fault's middle."""
    c = fault["centroid"]
    bump = np.exp(-np.sum((c - c.mean(axis=0)) ** 2, axis=1) / (2 * 15e3**2))
    return sign * np.stack([0.6 * bump, 2.0 * bump], axis=1)


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_forward_is_the_matrix_product_and_superposes(case):
    path, names, pos, fault, disp = case
    gf = load_greens_functions(path)
    rng = np.random.default_rng(3)
    m1, m2 = rng.normal(size=(2, gf.n_subfaults, 2))
    np.testing.assert_allclose(forward(disp, m1).ravel(), gf.matrix() @ m1.ravel(), rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(forward(disp, 2 * m1 - 3 * m2), 2 * forward(disp, m1) - 3 * forward(disp, m2),
                               rtol=1e-10, atol=1e-15)


def test_uniform_slip_equals_the_whole_fault_response(case):
    """Superposing every subfault = one dislocation on the whole fault (cutde, slip per triangle)."""
    import cutde.halfspace as hs

    path, names, pos, fault, disp = case
    tris = fault["vertices"][fault["cells"]]
    slip = np.tile([0.3, -1.1, 0.0], (len(tris), 1))
    whole = hs.disp_free(pos, tris, slip, 0.25)  # (n_stations, 3), summed over triangles
    m = np.tile([0.3, -1.1], (len(fault["area"]), 1))
    np.testing.assert_allclose(forward(disp, m), whole, rtol=1e-9, atol=1e-12)


def _write_slip_csv(path, m, rake_form=False):
    with open(path, "w") as fh:
        if rake_form:
            fh.write("# slip and rake\nsubfault,slip,rake\n")
            for j, (ss, ds) in enumerate(m):
                fh.write(f"{j},{float(np.hypot(ss, ds))!r},{float(np.degrees(np.arctan2(ds, ss)))!r}\n")
        else:
            fh.write("subfault,strike_slip,dip_slip\n")
            for j, (ss, ds) in enumerate(m):
                fh.write(f"{j},{float(ss)!r},{float(ds)!r}\n")


def test_synth_cli_writes_g_times_m_and_noise(case, tmp_path):
    path, names, pos, fault, disp = case
    m = smooth_slip(fault)
    _write_slip_csv(tmp_path / "slip.csv", m)
    _write_slip_csv(tmp_path / "slip_rake.csv", m, rake_form=True)
    runner = CliRunner()
    for src, out in (("slip.csv", "d.csv"), ("slip_rake.csv", "d2.csv")):
        res = runner.invoke(main, ["synth", str(path), "--slip", str(tmp_path / src), "-o", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
        data = read_data_csv(tmp_path / out)
        assert data.names == names
        np.testing.assert_allclose(data.values, forward(disp, m), rtol=1e-8, atol=1e-14)
        assert np.all(data.sigma == 1e-3)  # nominal 1 mm without noise
    res = runner.invoke(main, ["synth", str(path), "--slip", str(tmp_path / "slip.csv"), "-o",
                               str(tmp_path / "n.csv"), "--noise-sigma-mm", "2", "--seed", "7"])
    assert res.exit_code == 0, res.output
    noise = read_data_csv(tmp_path / "n.csv").values - forward(disp, m)
    assert np.std(noise) == pytest.approx(2e-3, rel=0.15) and abs(np.mean(noise)) < 3e-4
    with open(tmp_path / "n.csv") as fh:
        header = next(r for r in csv.reader(fh) if not r[0].startswith("#"))
    assert header == ["station", "x", "y", "east", "north", "up", "sigma"]


def test_noise_free_inversion_recovers_smooth_slip(case):
    path, names, pos, fault, disp = case
    gf = load_greens_functions(path)
    m = smooth_slip(fault)
    data = StationData(names, forward(disp, m), np.full((len(names), 3), 1e-3))
    r = invert_slip(gf, data)
    assert rel_err(r.slip, m) < 0.05
    np.testing.assert_allclose(r.predicted, data.values, atol=1e-4)


def test_negative_slip_is_recovered_negative(case):
    """Normal and right-lateral slip (both components negative) must come back negative."""
    path, names, pos, fault, disp = case
    gf = load_greens_functions(path)
    m = smooth_slip(fault, sign=-1.0)
    rng = np.random.default_rng(5)
    data = StationData(names, forward(disp, m) + rng.normal(0, 1e-3, (len(names), 3)),
                       np.full((len(names), 3), 1e-3))
    r = invert_slip(gf, data)
    assert rel_err(r.slip, m) < 0.15
    big = np.abs(m) > 0.5 * np.abs(m).max(axis=0)
    assert np.all(r.slip[big] < 0)


def test_abic_has_an_interior_minimum_for_noisy_data(case):
    path, names, pos, fault, disp = case
    gf = load_greens_functions(path)
    m = smooth_slip(fault)
    rng = np.random.default_rng(11)
    sigma = 3e-3
    data = StationData(names, forward(disp, m) + rng.normal(0, sigma, (len(names), 3)),
                       np.full((len(names), 3), sigma))
    r = invert_slip(gf, data)
    a = r.abic
    assert not a.at_edge
    k = int(np.argmin(a.grid_abic))
    assert 0 < k < len(a.grid_abic) - 1
    assert a.grid_abic[0] > a.abic + 5 and a.grid_abic[-1] > a.abic + 5  # a true, clear minimum
    assert a.grid_alpha2[k - 1] <= a.alpha2 <= a.grid_alpha2[k + 1]
    assert a.abic <= a.grid_abic[k] + 1e-9  # the refinement does not get worse
    assert 0.6 < a.sigma2 < 1.4  # ABIC's variance scale finds the true noise level
    # the regularised model beats both extremes of the grid
    assert rel_err(r.slip, m) < 0.2
    # posterior standard deviations are of the order the data allow (positive, finite, < the slip)
    assert np.all(r.slip_std > 0) and np.all(r.slip_std < np.abs(m).max())


def _columns(path):
    with open(path) as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    return {name: [r[k] for r in rows[1:]] for k, name in enumerate(rows[0])}


def test_invert_cli_outputs(case, tmp_path):
    path, names, pos, fault, disp = case
    m = smooth_slip(fault)
    _write_slip_csv(tmp_path / "slip.csv", m)
    runner = CliRunner()
    res = runner.invoke(main, ["synth", str(path), "--slip", str(tmp_path / "slip.csv"), "-o",
                               str(tmp_path / "d.csv"), "--noise-sigma-mm", "1", "--variant", "nu0.30"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["invert", str(path), str(tmp_path / "d.csv"), "-o", str(tmp_path / "res.npz"),
                               "--variant", "nu0.30"])
    assert res.exit_code == 0, res.output
    for name in ("res.npz", "res.csv", "res_abic.csv", "res_residuals.csv", "res.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    with np.load(tmp_path / "res.npz") as z:
        slip, pred, obs = z["slip"], z["predicted"], z["observed"]
        assert slip.shape == m.shape and rel_err(slip, m) < 0.15
    table = _columns(tmp_path / "res.csv")
    np.testing.assert_allclose(np.array(table["dip_slip"], float), slip[:, 1], rtol=1e-5, atol=1e-9)
    resid = _columns(tmp_path / "res_residuals.csv")
    assert len(resid["residual"]) == 3 * len(names)
    np.testing.assert_allclose(np.array(resid["residual"], float), (obs - pred).ravel(), atol=1e-11)


def test_cli_errors_are_one_line(case, tmp_path):
    path = case[0]
    runner = CliRunner()
    res = runner.invoke(main, ["synth", str(path), "-o", str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "exactly one of --slip" in res.output
    (tmp_path / "bad.csv").write_text("subfault,strike_slip,dip_slip\n999,1,1\n")
    res = runner.invoke(main, ["synth", str(path), "--slip", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "subfault 999 is not one of 0..39" in res.output
    assert not (tmp_path / "d.csv").exists()
    (tmp_path / "data.csv").write_text("station,east,north,up,sigma\nNOPE,0.1,0.1,0.1,0.001\n")
    res = runner.invoke(main, ["invert", str(path), str(tmp_path / "data.csv"), "-o", str(tmp_path / "r")])
    assert res.exit_code == 1 and "not in" in res.output and "NOPE" in res.output


def test_slip_model_partial_overlap_is_area_weighted():
    """A source patch covering subfault 0 fully and half of subfault 1 (hand-computed 1 and 1/2)."""
    fault = planar_fault((0.0, 0.0, -2000.0), 40.0, 25.0, 40e3, 10e3, 4, 1)
    sf = Subfaults(**{k: fault[k] for k in ("centroid", "strike", "dip", "area", "vertices", "cells",
                                            "cell_subfault")})
    s = np.array([np.sin(np.radians(40)), np.cos(np.radians(40)), 0.0])
    src = SourcePatches(top_center=np.array([(0.0, 0.0, -2000.0) - 12.5e3 * s]), strike=np.array([40.0]),
                        dip=np.array([25.0]), rake=np.array([90.0]), length=np.array([15e3]),
                        width=np.array([10e3]), slip=np.array([2.0]))
    m = map_slip_model(sf, src, refine=8)
    np.testing.assert_allclose(m[:, 0], 0.0, atol=1e-12)  # rake 90: pure thrust
    np.testing.assert_allclose(m[:, 1], [2.0, 1.0, 0.0, 0.0], atol=0.05)


def test_1946_model_potency_is_preserved():
    """A fault on the source plane (strike 250, dip 12) that covers the 1946 model keeps its potency."""
    src = read_slip_model(NANKAI_1946, (135.0, 33.0))
    assert len(src.slip) == 32 and np.all(src.rake == 120.0) and np.all(src.length == 45e3)
    top = 0.5 * (src.top_center[3] + src.top_center[4])  # top-centre of the whole 8 x 4 model
    from crustgf.geometry.frames import dip_vector

    start = top - (0.8e3 / np.sin(np.radians(12.0))) * dip_vector(250.0, 12.0)  # 0.8 km further up dip
    fault = planar_fault(start, 250.0, 12.0, 420e3, 200e3, 21, 10)
    sf = Subfaults(**{k: fault[k] for k in ("centroid", "strike", "dip", "area", "vertices", "cells",
                                            "cell_subfault")})
    m = map_slip_model(sf, src)
    potency = np.sum(np.linalg.norm(m, axis=1) * sf.area)
    assert potency == pytest.approx(np.sum(src.slip * src.area), rel=0.03)
    moving = np.linalg.norm(m, axis=1) > 0.1
    np.testing.assert_allclose(np.degrees(np.arctan2(m[moving, 1], m[moving, 0])), 120.0, atol=1e-6)


def test_ensemble_on_scaled_and_poisson_variants(case, tmp_path):
    path = case[0]
    rows = run_ensemble(path, tmp_path / "ens", echo=lambda s: None)
    by = {r["structure"]: r for r in rows}
    assert list(by) == ["reference", "nu0.20", "nu0.30", "stiff_scaled"]
    assert by["reference"]["rel_l2_error"] < 0.05 and by["reference"]["sign_flips"] == 0
    # G x 1.2 recovers m / 1.2 exactly (ABIC is scale invariant): potency 1/1.2, moment (1.2 mu) / 1.2 = 1
    assert by["stiff_scaled"]["potency_ratio"] == pytest.approx(1 / 1.2, rel=2e-3)
    assert by["stiff_scaled"]["moment_ratio"] == pytest.approx(1.0, rel=2e-3)
    for name in ("nu0.20", "nu0.30"):
        assert by[name]["rel_l2_error"] > by["reference"]["rel_l2_error"]
    for name in ("ensemble.csv", "ensemble_slip.npz", "ensemble.png"):
        assert (tmp_path / "ens" / name).stat().st_size > 0


def test_abic_equals_the_profiled_marginal_likelihood():
    """With a full-rank prior (P = M) ABIC is -2 log of the Gaussian marginal likelihood of d,
    d ~ N(0, sigma^2 K), K = I + G (alpha^2 B)^-1 G^T, with sigma^2 profiled out:
    N log(d^T K^-1 d) + log det K  (+ const), which differs from ABIC by log det B only."""
    from crustgf.inversion.abic import _Pencil

    rng = np.random.default_rng(2)
    N, M = 30, 8
    G = rng.normal(size=(N, M))
    d = rng.normal(size=N)
    R = rng.normal(size=(M, M))
    B = R.T @ R + 0.5 * np.eye(M)
    pencil = _Pencil(G, d, B, M, a0=1.0)

    def direct(alpha2):
        K = np.eye(N) + G @ np.linalg.solve(alpha2 * B, G.T)
        return N * np.log(d @ np.linalg.solve(K, d)) + np.linalg.slogdet(K)[1] + np.linalg.slogdet(B)[1]

    for alpha2 in (0.01, 0.3, 7.0):
        assert pencil.evaluate(alpha2)[0] == pytest.approx(direct(alpha2), abs=1e-8)
    # and the model is the regularised least-squares solution
    m = pencil.evaluate(0.3)[1]
    np.testing.assert_allclose(m, np.linalg.solve(G.T @ G + 0.3 * B, G.T @ d), rtol=1e-9)


def test_resolved_error_leaves_out_the_subfaults_no_station_sees():
    from crustgf.inversion.ensemble import resolved_subfaults, slip_metrics

    disp = np.ones((5, 3, 4, 2))
    disp[:, :, 3, :] = 1e-3  # subfault 3: far from every station
    resolved = resolved_subfaults(disp)
    np.testing.assert_array_equal(resolved, [True, True, True, False])
    m_true = np.array([[0.0, 1.0]] * 4)
    m = m_true.copy()
    m[3] = [0.0, 9.0]  # wrong only where nothing is observed
    r = slip_metrics(m, m_true, np.ones(4), np.ones(4), np.ones(4), resolved)
    assert r["rel_l2_resolved"] == 0.0 and r["rel_l2_error"] == pytest.approx(4.0)


def test_zero_edges_penalise_slip_on_the_outline_only():
    """edges="zero": the outline subfaults (from the triangulation) get a zero-slip ghost, so B is
    full rank and uniform slip costs something; with free edges uniform slip is free."""
    from crustgf.inversion.smoothing import outline_subfaults, slip_smoothing

    f = planar_fault((0.0, 0.0, -3000.0), 30.0, 20.0, 60e3, 30e3, 8, 5)
    sf = Subfaults(f["centroid"], f["strike"], f["dip"], f["area"], f["vertices"], f["cells"], f["cell_subfault"])
    rim = outline_subfaults(sf).reshape(5, 8)  # subfault j = i_dip * 8 + i_strike
    expected = np.zeros((5, 8), bool)
    expected[[0, -1], :] = True
    expected[:, [0, -1]] = True
    np.testing.assert_array_equal(rim, expected)
    uniform = np.ones(2 * sf.n)
    B_free, rank_free = slip_smoothing(sf, "free")
    B_zero, rank_zero = slip_smoothing(sf, "zero")
    assert rank_free == 2 * sf.n - 2 and rank_zero == 2 * sf.n
    assert abs(uniform @ B_free @ uniform) < 1e-12 * np.abs(B_free).max()
    assert uniform @ B_zero @ uniform > 0 and np.linalg.eigvalsh(B_zero).min() > 0
    bump = smooth_slip(f).ravel()
    assert bump @ B_zero @ bump > bump @ B_free @ bump  # the bump reaches the outline a little


def test_inversion_with_zero_edges_recovers_slip_that_vanishes_at_the_edges(case):
    path, names, pos, fault, disp = case
    gf = load_greens_functions(path)
    m = smooth_slip(fault)  # a Gaussian bump: nearly zero on the outline
    data = StationData(names, forward(disp, m), np.full((len(names), 3), 1e-3))
    assert rel_err(invert_slip(gf, data, edges="zero").slip, m) < 0.05


def test_slip_model_of_another_plane_is_refused():
    """A source patch over the fault but dipping the other way (strike + 180) would map with a
    meaningless rake; one patch elsewhere entirely covers nothing. Both are one-line errors."""
    fault = planar_fault((0.0, 0.0, -2000.0), 40.0, 25.0, 40e3, 10e3, 4, 1)
    sf = Subfaults(**{k: fault[k] for k in ("centroid", "strike", "dip", "area", "vertices", "cells",
                                            "cell_subfault")})
    s = np.array([np.sin(np.radians(40)), np.cos(np.radians(40)), 0.0])

    def patch(strike, centre):
        return SourcePatches(top_center=np.array([centre]), strike=np.array([strike]), dip=np.array([25.0]),
                             rake=np.array([90.0]), length=np.array([40e3]), width=np.array([10e3]),
                             slip=np.array([2.0]))

    far_side = np.array([0.0, 0.0, -2000.0]) + 10e3 * np.cos(np.radians(25)) * np.array([s[1], -s[0], 0.0])
    ok = map_slip_model(sf, patch(40.0, (0.0, 0.0, -2000.0)), refine=4)
    np.testing.assert_allclose(ok[:, 1], 2.0, atol=0.05)
    with pytest.raises(CrustgfError, match="degrees from the fault's plane"):
        map_slip_model(sf, patch(220.0, far_side), refine=4)
    with pytest.raises(CrustgfError, match="none of its patches"):
        map_slip_model(sf, patch(40.0, (500e3, 0.0, -2000.0)), refine=4)
