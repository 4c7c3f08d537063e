"""`method = "multigrid"` on the CPU (solvers/cpu/multigrid.py): the CUDA backend's block PCG and
V-cycle on threaded Numba kernels. Checked against independent references: a sparse direct solve
(SuperLU) of the stiffness assembled by crustgf.fem, PARDISO Green's functions of a real meshed
model, the kernels against SciPy's products, iteration counts under refinement; bad input gives
one `Error:` line; `auto`'s cost model and the GF file's record of which method ran.
"""

import h5py
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from click.testing import CliRunner
from solve_model import build_tiny_model

from crustgf.cli.main import main
from crustgf.core.errors import CrustgfError
from crustgf.fem.boxmesh import box_tet10, fixed_box_nodes, free_dofs_from_fixed_nodes
from crustgf.fem.problem import ElasticProblem
from crustgf.solvers.choose import choose_cpu_method, predicted_seconds
from crustgf.solvers.cpu import kernels as kn
from crustgf.solvers.cpu.multigrid import CpuMultigrid


def _box(n, layered=True):
    nodes, cells = box_tet10(n, n, n, (1.0e4, 1.0e4, 1.0e4))
    fixed = fixed_box_nodes(nodes)
    z = nodes[cells[:, :4]].mean(axis=1)[:, 2]
    mu = np.where(z > -4e3, 2e10, 5e10) if layered else np.full(len(cells), 3e10)
    return nodes, cells, mu, 1.3 * mu, fixed


def test_block_kernels_match_scipy():
    rng = np.random.default_rng(0)
    a = sp.random(60, 60, density=0.2, random_state=1, format="csr") + sp.eye(60)
    x = rng.standard_normal((60, 7))
    y = rng.standard_normal((60, 7))
    out = y.copy()
    kn.spmm(a.indptr, a.indices, a.data, x, out, -1.0, 0.5)
    assert np.allclose(out, 0.5 * y - a @ x)
    b = sp.bsr_matrix(a[:57, :57], blocksize=(3, 3))
    out = np.empty((57, 7))
    kn.bsr3_spmm(b.indptr, b.indices.astype(np.int32), b.data, x[:57], out, 1.0, 0.0)
    assert np.allclose(out, a[:57, :57] @ x[:57])
    d = np.empty(7)
    kn.column_dots(x, y, d)
    assert np.allclose(d, (x * y).sum(axis=0))


def test_multigrid_matches_a_direct_solve_and_reports_true_residuals():
    nodes, cells, mu, lam, fixed = _box(6)
    pb = ElasticProblem(nodes, cells, mu, lam, fixed)
    K = pb.reduced_stiffness()
    B = np.random.default_rng(2).standard_normal((K.shape[0], 5))
    B[:, 2] = 0.0
    s = CpuMultigrid.from_problem(pb, rtol=1e-10)
    X, res, its = s.solve(B)
    ref = spl.splu(K.tocsc()).solve(B)
    true = np.linalg.norm(B - K @ X, axis=0) / np.maximum(np.linalg.norm(B, axis=0), 1e-300)
    assert np.allclose(res, true, rtol=1e-3, atol=1e-14) and (res <= 1e-10).all()
    assert np.abs(X[:, 2]).max() == 0.0 and its[2] == 0
    assert np.linalg.norm(X - ref) <= 1e-8 * np.linalg.norm(ref)
    assert 3 < its.max() < 40


def test_multigrid_iterations_barely_grow_under_refinement():
    """Halving h (8x the dofs): the V-cycle keeps the CG iteration count nearly constant."""
    its = []
    for n in (4, 8):
        nodes, cells, mu, lam, fixed = _box(n)
        free = free_dofs_from_fixed_nodes(len(nodes), fixed)
        s = CpuMultigrid(nodes, cells, mu, lam, free, rtol=1e-8)
        _, res, it = s.solve(np.random.default_rng(3).standard_normal((len(free), 4)))
        assert (res <= 1e-8).all()
        its.append(it.max())
    assert its[1] <= 1.3 * its[0] + 2, its


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("mg"))


def test_multigrid_gfs_agree_with_pardiso(tiny, tmp_path):
    """The whole `crustgf solve` with --method multigrid gives PARDISO's GFs to 1e-6 (rtol 1e-10),
    and the file and `crustgf info` say which method ran."""
    out = {}
    for method in ("direct", "multigrid"):
        path = tmp_path / f"{method}.h5"
        r = CliRunner().invoke(main, ["--quiet", "solve", str(tiny), "-o", str(path), "--backend", "cpu",
                                      "--method", method, "--rtol", "1e-10"])
        assert r.exit_code == 0, r.output
        with h5py.File(path, "r") as f:
            out[method] = f["greens_functions/displacement"][()]
            assert f.attrs["solver_method"] == method and f.attrs["solver_backend"] == "cpu"
        info = CliRunner().invoke(main, ["info", str(path)])
        assert f"method {method}" in info.output
    ref = out["direct"]
    assert np.abs(out["multigrid"] - ref).max() <= 1e-6 * np.abs(ref).max()


def test_multigrid_on_a_tet4_model_is_one_error_line(tmp_path):
    from solve_model import CONFIG, STATIONS

    from crustgf.greens.pipeline import mesh_command

    (tmp_path / "tiny.toml").write_text(CONFIG.replace("order = 2", "order = 1"))
    (tmp_path / "tiny_stations.csv").write_text(STATIONS)
    mesh_command(tmp_path / "tiny.toml", tmp_path / "t4.h5", quiet=True)
    out = tmp_path / "gf.h5"
    r = CliRunner().invoke(main, ["solve", str(tmp_path / "t4.h5"), "-o", str(out), "--backend", "cpu",
                                  "--method", "multigrid"])
    assert r.exit_code != 0
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "multigrid" in lines[0] and "TET4" in lines[0]
    assert not out.exists()


def test_auto_amortises_the_factorisation_over_the_gfs_asked():
    """The cost model: direct wins for many GFs on a small model, multigrid for few GFs on a big
    one (factor time grows faster than n); an unknown or impossible method is an error."""
    assert predicted_seconds("direct", 50_000, 840) < predicted_seconds("multigrid", 50_000, 840)
    assert predicted_seconds("multigrid", 3_000_000, 64) < predicted_seconds("direct", 3_000_000, 64)
    nodes, cells, mu, lam, fixed = _box(3)
    pb = ElasticProblem(nodes, cells, mu, lam, fixed)
    assert choose_cpu_method(pb, "auto", 100)[0] == "direct"
    with pytest.raises(CrustgfError, match="method"):
        choose_cpu_method(pb, "magic", 10)
    pb4 = ElasticProblem(nodes, cells[:, :4], mu, lam, fixed)
    with pytest.raises(CrustgfError, match="TET4"):
        choose_cpu_method(pb4, "multigrid", 10)


def test_direct_that_cannot_fit_is_an_error(monkeypatch):
    from crustgf.solvers.choose import make_cpu_solver
    from crustgf.solvers.cpu import direct as cpu_direct

    nodes, cells, mu, lam, fixed = _box(3)
    K = ElasticProblem(nodes, cells, mu, lam, fixed).reduced_stiffness()
    monkeypatch.setattr(cpu_direct, "available_memory_bytes", lambda: 1000)
    with pytest.raises(CrustgfError, match="PARDISO needs .*multigrid"):
        make_cpu_solver(K, None, method="direct")


@pytest.mark.slow
def test_cpu_multigrid_on_the_coarse_nankai_model_matches_pardiso(tmp_path):
    """crustgf/configs/nankai-coarse.toml (456k dofs, graded mesh, six materials, real GF loads): the CPU
    multigrid's station GFs equal PARDISO's to 1e-6 within a bounded iteration count."""
    from pathlib import Path

    from crustgf.greens.operator import GreenSolver
    from crustgf.greens.pipeline import mesh_command
    from crustgf.io.modelfile import read_model

    config = Path(__file__).resolve().parents[1] / "crustgf" / "configs" / "nankai-coarse.toml"
    mesh_command(config, tmp_path / "model.h5", quiet=True)
    model = read_model(tmp_path / "model.h5")
    jobs = np.array([(s, c) for s in (5, model.n_subfaults // 2, model.n_subfaults - 10) for c in (0, 1)])
    ref = GreenSolver(model, backend="cpu", method="direct").solve(jobs).displacement
    got = GreenSolver(model, backend="cpu", method="multigrid").solve(jobs)
    assert got.converged.all() and got.iterations.max() < 80 and got.method == "multigrid"
    err = np.linalg.norm((got.displacement - ref).reshape(-1, len(jobs)), axis=0)
    assert np.all(err <= 1e-6 * np.linalg.norm(ref.reshape(-1, len(jobs)), axis=0))
