"""Structure variants share one mesh and differ only in material (the tiny two-layer model of
solve_model.py with its variant "soft_crust": crust vs x 0.9)."""

from __future__ import annotations

import h5py
import numpy as np
from solve_model import build_tiny_model

from crustgf.greens.operator import GreenSolver
from crustgf.greens.run import solve_greens_functions, structures_of
from crustgf.io.modelfile import file_sha256, read_model


def test_variants_share_one_mesh_and_differ_only_in_material(tmp_path):
    model_path = build_tiny_model(tmp_path)
    model = read_model(model_path)
    ref, soft = structures_of(model)
    assert soft.name == "soft_crust"
    crust = list(model.layers.name).index("crust")
    # the layer tables differ in the crust's vs (and the moduli that follow from it), nothing else
    np.testing.assert_allclose(soft.layers.vs, ref.layers.vs * np.where(np.arange(2) == crust, 0.9, 1.0))
    np.testing.assert_array_equal(soft.layers.vp, ref.layers.vp)
    np.testing.assert_array_equal(soft.layers.density, ref.layers.density)
    np.testing.assert_array_equal(soft.layers.bottom, ref.layers.bottom)

    # the operators are built on the very same nodes and cells; per-cell moduli differ exactly on
    # the crust's cells (mu x 0.81), and so do the Green's functions
    solvers = [GreenSolver(model, method="direct", layers=s.layers) for s in (ref, soft)]
    a, b = (s.problem for s in solvers)
    assert a.nodes is b.nodes and a.cells is b.cells
    in_crust = model.cell_material == crust
    assert 0 < in_crust.sum() < len(in_crust)
    np.testing.assert_allclose(b.mu[in_crust], 0.81 * a.mu[in_crust], rtol=1e-12)
    np.testing.assert_array_equal(b.mu[~in_crust], a.mu[~in_crust])
    np.testing.assert_array_equal(b.lam[~in_crust], a.lam[~in_crust])
    assert not np.allclose(b.lam[in_crust], a.lam[in_crust])

    # one solve writes every structure into one file, against one model (one sha256)
    gf = tmp_path / "gf.h5"
    assert solve_greens_functions(model_path, gf, {}, progress=False) == 0
    with h5py.File(gf, "r") as f:
        assert f.attrs["model_sha256"] == file_sha256(model_path)
        assert list(f.attrs["variants"]) == ["soft_crust"]
        g_ref = f["greens_functions/displacement"][()]
        g_soft = f["variants/soft_crust/greens_functions/displacement"][()]
        np.testing.assert_allclose(f["variants/soft_crust/model/layers/vs"][()], soft.layers.vs)
    jobs = np.array([[0, 0], [3, 1]])
    for g, s in ((g_ref, solvers[0]), (g_soft, solvers[1])):
        np.testing.assert_allclose(g[:, :, jobs[:, 0], jobs[:, 1]], s.solve(jobs).displacement, rtol=1e-9, atol=1e-14)
    rel = np.linalg.norm(g_soft - g_ref) / np.linalg.norm(g_ref)
    assert 1e-3 < rel < 0.2  # a softer crust changes the response, modestly
