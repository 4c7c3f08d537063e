"""`crustgf invert --structure-uncertainty`: the prediction covariance Cp = K C_mu K^T from the
sensitivity kernels (structure_cov.py), its whitening, and its one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from crustgf.core.errors import CrustgfError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gf_files(tmp_path_factory):
    from solve_model import build_tiny_model

    from crustgf.greens.run import solve_greens_functions

    d = tmp_path_factory.mktemp("cp")
    model = build_tiny_model(d)
    with_k, without = d / "with.h5", d / "without.h5"
    assert solve_greens_functions(model, with_k, {"sensitivity": "crust"}, progress=False) == 0
    shutil.copy(with_k, without)
    with h5py.File(without, "a") as f:  # the same file as one solved without --sensitivity
        del f["sensitivity"], f["variants/soft_crust/sensitivity"]
    return with_k, without


def synthetic(gf, variant_gf, tmp_path):
    from crustgf.inversion.synth import StationData

    rng = np.random.default_rng(1)
    n = gf.n_subfaults
    m_true = np.column_stack([0.2 * rng.standard_normal(n), 1.0 + 0.2 * rng.standard_normal(n)])
    values = np.einsum("icjs,js->ic", variant_gf.displacement, m_true)
    return m_true, StationData(list(gf.station_names), values, np.full(values.shape, 1e-3))


def test_parse_and_errors(gf_files):
    from crustgf.inversion.structure_cov import load_kernels, parse_uncertainty
    from crustgf.io.gfread import load_greens_functions

    assert parse_uncertainty("crust=0.1, mantle=0.05") == {"crust": 0.1, "mantle": 0.05}
    for bad, msg in (("crust=-0.1", "must be >= 0"), ("crust", "expected LAYER=STD"), ("crust=x", "expected"),
                     ("", "at least one")):
        with pytest.raises(CrustgfError, match=msg):
            parse_uncertainty(bad)
    with_k, without = gf_files
    gf = load_greens_functions(with_k)
    with pytest.raises(CrustgfError, match="unknown layer 'mantel'"):
        load_kernels(gf, {"mantel": 0.1})
    with pytest.raises(CrustgfError, match="no /sensitivity/mantle/mu: solve with --sensitivity mantle"):
        load_kernels(gf, {"mantle": 0.1})
    with pytest.raises(CrustgfError, match="no /variants/soft_crust/sensitivity/crust/mu"):
        load_kernels(load_greens_functions(without, variant="soft_crust"), {"crust": 0.1}, "moduli")


def test_cp_whitening_and_first_order_structure_error(gf_files, tmp_path):
    """(1) Cp = c I only rescales every datum alike: the same slip as without Cp. (2) Cp is built
    from mu dG/dmu m (one direction per layer), and the kernels predict to first order the
    prediction error of the true slip when the data come from the soft-crust variant (mu -19 %,
    lambda changed too) and the reference GFs are used."""
    from crustgf.inversion.invert import invert_slip, invert_with_structure_uncertainty, station_rows
    from crustgf.inversion.structure_cov import load_kernels, prediction_covariance
    from crustgf.io.gfread import load_greens_functions

    with_k, _ = gf_files
    ref = load_greens_functions(with_k)
    soft = load_greens_functions(with_k, variant="soft_crust")
    m_true, data = synthetic(ref, soft, tmp_path)
    plain = invert_slip(ref, data)
    scaled = invert_slip(ref, data, prediction_covariance=4e-6 * np.eye(data.values.size))
    np.testing.assert_allclose(scaled.slip, plain.slip, rtol=1e-6, atol=1e-9)

    kernels = load_kernels(ref, {"crust": 1.0})
    rows, obs = station_rows(ref, data), np.isfinite(data.values)
    Cp = prediction_covariance(kernels, {"crust": 1.0}, m_true, rows, obs)
    k_dir = np.einsum("icjs,js->ic", kernels["crust"], m_true).ravel()
    assert np.allclose(Cp, np.outer(k_dir, k_dir))
    # the variant (crust vs x 0.9) changes mu by -19 % and lambda by +x %: first order prediction
    import h5py

    with h5py.File(with_k) as f:
        dmu, dlam = (f[f"sensitivity/crust/{p}"][()] for p in ("mu", "lambda"))
    d_mu = soft.layers["mu"][0] - ref.layers["mu"][0]
    d_lam = soft.layers["lambda"][0] - ref.layers["lambda"][0]
    predicted = np.einsum("icjs,js->ic", d_mu * dmu + d_lam * dlam, m_true).ravel()
    residual = data.values.ravel() - np.einsum("icjs,js->ic", ref.displacement, m_true).ravel()
    assert np.linalg.norm(predicted - residual) < 0.25 * np.linalg.norm(residual)
    assert np.allclose(k_dir, ref.layers["mu"][0] * np.einsum("icjs,js->ic", dmu, m_true).ravel())
    with_cp, _ = invert_with_structure_uncertainty(ref, data, {"crust": 0.2})
    assert np.isfinite(with_cp.slip).all()


def test_cli_errors(gf_files, tmp_path):
    with_k, without = gf_files
    from crustgf.io.gfread import load_greens_functions

    gf = load_greens_functions(with_k)
    data = tmp_path / "data.csv"
    lines = ["station,east,north,up,sigma"] + [f"{n},0.01,0.02,0.03,0.001" for n in gf.station_names]
    data.write_text("\n".join(lines) + "\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    for gfp, spec, msg in ((with_k, "nosuch=0.1", "unknown layer 'nosuch'"),
                           (with_k, "crust=-1", "must be >= 0"),
                           (without, "crust=0.1", "no /sensitivity/crust/mu")):
        out = tmp_path / "res"
        p = subprocess.run([sys.executable, "-m", "crustgf.cli.main", "invert", str(gfp), str(data), "-o", str(out),
                            "--structure-uncertainty", spec, "--no-plot"], capture_output=True, text=True, env=env,
                           check=False)
        errs = p.stderr.strip().splitlines()
        assert p.returncode == 1 and len(errs) == 1 and errs[0].startswith("Error: ") and msg in errs[0], p.stderr
        assert not list(tmp_path.glob("res*"))
    p = subprocess.run([sys.executable, "-m", "crustgf.cli.main", "invert", str(with_k), str(data), "-o",
                        str(tmp_path / "ok"), "--structure-uncertainty", "crust=0.1", "--no-plot"],
                       capture_output=True, text=True, env=env, check=False)
    assert p.returncode == 0, p.stderr
    assert "Cd + Cp" in (tmp_path / "ok.csv").read_text()
