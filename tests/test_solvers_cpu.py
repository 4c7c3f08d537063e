"""CPU solvers on a reduced stiffness: direct (PARDISO) and AMG block CG; true residuals."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from crustgf.core.errors import CrustgfError
from crustgf.fem.boxmesh import box_tet4, promote_tet10
from crustgf.fem.problem import ElasticProblem
from crustgf.solvers.choose import make_cpu_solver
from crustgf.solvers.cpu.amg import rigid_body_modes
from crustgf.solvers.cpu.direct import PardisoSolver, try_direct
from crustgf.solvers.residual import true_relative_residual


@pytest.fixture(scope="module")
def problem():
    nodes, cells = box_tet4(np.linspace(0, 6e3, 7), np.linspace(0, 6e3, 7), np.linspace(-5e3, 0, 6))
    nodes, cells, _, _ = promote_tet10(nodes, cells)
    x, y, z = nodes.T
    fixed = np.flatnonzero((x < 1) | (x > 6e3 - 1) | (y < 1) | (y > 6e3 - 1) | (z < -5e3 + 1))
    mu = np.where(nodes[cells].mean(axis=1)[:, 2] > -2e3, 2e10, 5e10)  # two layers
    pb = ElasticProblem(nodes, cells, mu, 1.2 * mu, fixed)
    K = pb.reduced_stiffness()
    coords = nodes[pb.free_dofs[::3] // 3]
    B = np.random.default_rng(0).standard_normal((K.shape[0], 5))
    B[:, 3] = 0.0  # a zero right-hand side must come back as zero
    return K, coords, B


def test_rigid_body_modes_are_rigid():
    x = np.random.default_rng(1).standard_normal((20, 3))
    R = rigid_body_modes(x).reshape(20, 3, 6)
    xs = (x - x.mean(axis=0)) / np.ptp(x)
    for k in range(3, 6):  # rotations: u = w x x', orthogonal to the centred position
        assert np.allclose(np.einsum("nc,nc->n", R[:, :, k], xs), 0)


@pytest.mark.parametrize("method", ["direct", "amg-cg"])
def test_solvers_match_reference_and_report_true_residual(problem, method):
    K, coords, B = problem
    solver = make_cpu_solver(K, coords, method=method, rtol=1e-9)
    X, res, its = solver.solve(B)
    ref = spla.splu(K.tocsc()).solve(B)
    assert np.allclose(res, true_relative_residual(K, X, B))
    assert (res <= 1e-9).all()
    assert np.abs(X[:, 3]).max() == 0.0
    assert np.linalg.norm(X - ref) <= 1e-7 * np.linalg.norm(ref)
    if method == "amg-cg":
        assert 1 < its.max() < 200 and its[3] == 0


def test_auto_picks_direct_for_small_models(problem):
    K, coords, _ = problem
    s = try_direct(K)
    assert isinstance(s, PardisoSolver) and 0 < s.memory_bytes < 2e9 and s.factor_nnz > K.nnz // 2
    assert isinstance(make_cpu_solver(K, coords, method="auto"), PardisoSolver)


def test_auto_shares_the_memory_budget_between_worker_processes(problem, monkeypatch):
    """A factor that fits one process's budget does not fit when N processes on the machine
    (local workers) may factorise at once: auto then takes AMG block CG instead."""
    from crustgf.solvers.cpu import direct as cpu_direct
    from crustgf.solvers.cpu.amg import AmgBlockCG

    K, coords, _ = problem
    need = PardisoSolver(K).memory_bytes
    free = 1.5 * need / cpu_direct.DIRECT_MEMORY_FRACTION  # budget: 1.5 x need for one process
    monkeypatch.setattr(cpu_direct, "available_memory_bytes", lambda: free)
    monkeypatch.delenv(cpu_direct.PROCESSES_ENV, raising=False)
    assert isinstance(make_cpu_solver(K, coords, method="auto"), PardisoSolver)
    monkeypatch.setenv(cpu_direct.PROCESSES_ENV, "2")  # budget 0.75 x need
    assert isinstance(make_cpu_solver(K, coords, method="auto"), AmgBlockCG)


def test_unknown_method_is_an_error(problem):
    K, coords, _ = problem
    with pytest.raises(CrustgfError, match="method"):
        make_cpu_solver(K, coords, method="magic")
