"""Exports for other inversion codes, read back the way those codes read them.

- CSI (Fault.setGFsFromFile -> gps.setGFsInSource): np.fromfile(F, dtype='d').reshape(-1, n_patches),
  rows east block, north block, up block.
- AlTar 2 static / staticcp: the first dataset of an .h5 (h5py key order) as (observations,
  parameters), parameters = [strikeslip x patches, dipslip x patches]; kernels one dataset each.
The read-back matrices are applied to a slip vector and compared with cutde's forward model of the
same slip, computed independently triangle by triangle.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from gf_fixtures import halfspace_gf, standard_case

from crustgf.cli.main import main
from crustgf.io.export import export_greens_functions


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return standard_case(tmp_path_factory.mktemp("gf"), n_strike=4, n_dip=3, stations_per_side=4, variants=False)


def _forward_cutde(positions, fault, ss, ds, nu=0.25):
    """(n_stations, 3) displacement of per-subfault slip (ss, ds), triangle by triangle with cutde."""
    import cutde.halfspace as hs

    tris = fault["vertices"][fault["cells"]]
    owner = fault["cell_subfault"]
    slip = np.stack([ss[owner], ds[owner], np.zeros(len(owner))], axis=1)
    m = hs.disp_matrix(np.asarray(positions, float), tris, nu)  # (nobs, 3, ntri, 3)
    return np.einsum("octk,tk->oc", m, slip)


def test_csi_files_read_as_csi_reads_them(case, tmp_path):
    path, names, pos, fault, disp = case
    out = tmp_path / "csi"
    export_greens_functions(path, "csi", out)
    n_patches, nd = len(fault["area"]), len(names)
    G = {}
    for tag in ("SS", "DS"):
        raw = np.fromfile(out / f"test_gps_{tag}.gf", dtype="d")  # CSI: dtype='d', then reshape
        G[tag] = raw.reshape((int(raw.shape[0] / n_patches), n_patches))
        assert G[tag].shape == (3 * nd, n_patches)
    rng = np.random.default_rng(1)
    ss, ds = rng.normal(size=n_patches), rng.normal(size=n_patches)
    pred = G["SS"] @ ss + G["DS"] @ ds  # gps.setGFsInSource: rows [0,nd) east, [nd,2nd) north, [2nd,3nd) up
    ref = _forward_cutde(pos, fault, ss, ds)
    np.testing.assert_allclose(pred.reshape(3, nd).T, ref, rtol=1e-9, atol=1e-12)
    listed = [line.split()[0] for line in (out / "gps_stations.txt").read_text().splitlines()
              if not line.startswith("#")]
    assert listed == names


def test_altar_files_read_as_altar_reads_them(case, tmp_path):
    path, names, pos, fault, disp = case
    # add sensitivity kernels as SPEC 6 lays them out: a homogeneous half-space's displacement depends
    # on nu only, so dG/dmu (lambda held) = dG/dnu * dnu/dmu with nu = lambda / (2 (lambda + mu))
    mu, lam, h = 3e10, 3e10, 1e-4
    dnu_dmu = -lam / (2 * (lam + mu) ** 2)
    dG_dnu = (halfspace_gf(pos, fault, 0.25 + h) - halfspace_gf(pos, fault, 0.25 - h)) / (2 * h)
    dnu_dlam = mu / (2 * (lam + mu) ** 2)
    gf_path = tmp_path / "gf.h5"
    gf_path.write_bytes(path.read_bytes())
    with h5py.File(gf_path, "a") as f:
        f["sensitivity/halfspace/mu"] = dG_dnu * dnu_dmu
        f["sensitivity/halfspace/lambda"] = dG_dnu * dnu_dlam
    out = tmp_path / "altar"
    result = CliRunner().invoke(main, ["export", str(gf_path), "--format", "altar", "-o", str(out)])
    assert result.exit_code == 0, result.output

    def altar_load(fn, dataset=None):  # cudaBayesian.loadFile for '.h5'
        with h5py.File(fn, "r") as h5:
            dataset = dataset or list(h5.keys())[0]
            return np.asarray(h5.get(dataset), dtype="float64")

    n_patches, nobs = len(fault["area"]), 3 * len(names)
    green = altar_load(out / "static.gf.h5").reshape(nobs, 2 * n_patches)
    rng = np.random.default_rng(2)
    theta = rng.normal(size=2 * n_patches)  # psets_list = [strikeslip, dipslip]
    ref = _forward_cutde(pos, fault, theta[:n_patches], theta[n_patches:])
    np.testing.assert_allclose(green @ theta, ref.reshape(-1), rtol=1e-9, atol=1e-12)
    with h5py.File(out / "static.kernel.h5", "r") as h5:  # staticcp: kernels in h5py key order
        keys = list(h5.keys())
        kernels = [np.asarray(h5.get(k), dtype="float64").reshape(nobs, 2 * n_patches) for k in keys]
    order = [line.split()[1] for line in (out / "static.kernel.txt").read_text().splitlines()
             if not line.startswith("#")]
    assert keys == order == ["k01_halfspace_mu", "k02_halfspace_lambda"]
    # Kmu theta: the change of the prediction per Pa of mu, against cutde at shifted nu
    dnu = 1e-3
    shifted = (_forward_cutde(pos, fault, theta[:n_patches], theta[n_patches:], nu=0.25 + dnu)
               - _forward_cutde(pos, fault, theta[:n_patches], theta[n_patches:], nu=0.25 - dnu)) / (2 * dnu)
    np.testing.assert_allclose(kernels[0] @ theta, (shifted * dnu_dmu).reshape(-1), rtol=1e-4,
                               atol=1e-6 * np.abs(shifted * dnu_dmu).max())


def test_export_errors_are_one_line(case, tmp_path):
    path = case[0]
    runner = CliRunner()
    res = runner.invoke(main, ["export", str(path), "--format", "matrix", "-o", str(tmp_path / "G.txt")])
    assert res.exit_code == 1 and res.output.startswith("Error:") and ".npz or .csv" in res.output
    assert not (tmp_path / "G.txt").exists()
    plain = tmp_path / "plain"
    plain.write_text("x")
    res = runner.invoke(main, ["export", str(path), "--format", "csi", "-o", str(plain)])
    assert res.exit_code == 1 and "writes a folder" in res.output and plain.read_text() == "x"


def test_matrix_npz_keeps_provenance_and_solve_record(case, tmp_path):
    path = case[0]
    export_greens_functions(path, "matrix", tmp_path / "G.npz")
    z = np.load(tmp_path / "G.npz")
    assert str(z["crustgf_version"]) == "test" and str(z["model_sha256"]) == "0" * 64
    assert z["residual"].shape == z["iterations"].shape == z["done"].shape
