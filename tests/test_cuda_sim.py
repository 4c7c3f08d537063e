"""The CUDA backend (matrix-free TET10 EBE operator, block PCG) run in Numba's CUDA simulator
(tests/conftest.py turns it on where no GPU is visible). Tiny meshes: the simulator runs every
GPU thread as Python. References are independent: the CPU FE assembly (crustgf.fem), scipy
direct solves, dense generalized eigenvalues, graph properties.
"""

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse.linalg as spl

from crustgf.core.errors import CrustgfError
from crustgf.fem.assembly import assemble_stiffness
from crustgf.fem.boxmesh import box_tet10, distort, fixed_box_nodes, free_dofs_from_fixed_nodes
from crustgf.fem.elements import element_stiffness
from crustgf.fem.problem import ElasticProblem
from crustgf.solvers import backend
from crustgf.solvers.cuda.problem_data import prepare
from crustgf.solvers.cuda.reorder import make_ordering
from crustgf.solvers.cuda.tet10 import element_geometry, element_matrices


def layered_box(nx, ny, nz, amplitude=0.15, seed=0):
    """Distorted box, two materials (soft top, stiff bottom), node ids randomly shuffled."""
    size = (2.0e3, 1.5e3, 1.0e3)
    nodes, cells = box_tet10(nx, ny, nz, size)
    nodes = distort(nodes, cells, amplitude, size)
    perm = np.random.default_rng(seed).permutation(len(nodes))  # old -> new
    shuffled = np.empty_like(nodes)
    shuffled[perm] = nodes
    cells = perm[cells]
    zc = shuffled[cells[:, :4]].mean(axis=1)[:, 2]
    mu = np.where(zc > -0.5e3, 1.0e10, 4.0e10)
    lam = np.where(zc > -0.5e3, 1.5e10, 5.0e10)
    return shuffled, cells, mu, lam


def bottom_fixed(nodes):
    return np.flatnonzero(np.abs(nodes[:, 2] - nodes[:, 2].min()) < 1e-6)


def device_ops(nodes, cells, mu, lam, free, scatter="colour", rcm=True):
    from crustgf.solvers.cuda.device_ops import DeviceOps

    data = prepare(nodes, cells, mu, lam, free, rcm=rcm, colour=scatter == "colour")
    return data, DeviceOps(data, scatter=scatter)


def internal_dofs(data):
    """original dof id of each internal dof."""
    return data.ordering.dof_new_to_old()


def test_simulator_is_on_without_gpu():
    if not backend._gpu_visible():
        assert backend.simulator_enabled()


def test_element_tables_match_fem_element_stiffness():
    nodes, cells, mu, lam = layered_box(1, 1, 1)
    grads, vol = element_geometry(nodes, cells)
    ke = element_matrices(grads, vol, mu, lam)
    for e in range(len(cells)):
        ref = element_stiffness(nodes[cells[e]], mu[e], lam[e])
        assert np.abs(ke[e] - ref).max() <= 1e-12 * np.abs(ref).max()


@pytest.mark.parametrize("scatter,boxes,k", [
    ("colour", (1, 1, 2), 3), ("atomic", (1, 1, 2), 3),
    ("colour", (3, 2, 2), 16), ("atomic", (3, 2, 2), 2),  # atomics crawl in the simulator: small k
])
def test_ebe_product_equals_assembled_matrix(scatter, boxes, k):
    """The bigger cases launch more (element, column) pairs per group than a launch has threads
    (vector_kernels.MAX_THREADS; on a GPU that happens on big models): every pair must be done."""
    from crustgf.solvers.cuda import vector_kernels

    nodes, cells, mu, lam = layered_box(*boxes)
    free = np.arange(3 * len(nodes))  # no constraint: the full K
    data, ops = device_ops(nodes, cells, mu, lam, free, scatter=scatter)
    if boxes != (1, 1, 2) and backend.simulator_enabled():  # a GPU's launch cap is far higher
        assert np.diff(ops.offsets).max() * k > vector_kernels.MAX_THREADS
    K = assemble_stiffness(nodes, cells, mu, lam)
    X = np.random.default_rng(1).standard_normal((3 * len(nodes), k))
    old = internal_dofs(data)
    y = ops.empty(k)
    ops.apply(ops.from_host(X[old]), y)
    Y = np.empty_like(X)
    Y[old] = ops.to_host(y)
    ref = K @ X
    assert np.abs(Y - ref).max() <= 1e-12 * np.abs(ref).max()
    # the float32 operator (preconditioner) agrees to float32 accuracy
    y32 = ops.empty(k, low=True)
    ops.apply_low(ops.from_host(X[old]).copy_to_host().astype(np.float32), y32)
    Y32 = np.empty_like(X)
    Y32[old] = y32.copy_to_host()
    assert np.abs(Y32 - ref).max() <= 1e-5 * np.abs(ref).max()


def test_ebe_product_masks_fixed_dofs():
    nodes, cells, mu, lam = layered_box(1, 1, 2)
    fixed = fixed_box_nodes(nodes)
    free = free_dofs_from_fixed_nodes(len(nodes), fixed)
    data, ops = device_ops(nodes, cells, mu, lam, free)
    Kr = assemble_stiffness(nodes, cells, mu, lam)[free][:, free]
    xr = np.random.default_rng(2).standard_normal((len(free), 2))
    x = np.zeros((3 * len(nodes), 2))
    x[data.free_internal] = xr
    y = ops.empty(2)
    ops.apply(ops.from_host(x), y)
    y = y.copy_to_host()
    assert np.all(y[data.mask == 0] == 0.0)
    ref = Kr @ xr
    assert np.abs(y[data.free_internal] - ref).max() <= 1e-12 * np.abs(ref).max()


def test_reordering_and_colouring():
    nodes, cells, mu, lam = layered_box(3, 3, 3)
    n = len(nodes)
    o = make_ordering(cells, n)
    assert np.array_equal(np.sort(o.node_new_to_old), np.arange(n))
    assert np.array_equal(o.node_old_to_new[o.node_new_to_old], np.arange(n))
    assert np.array_equal(np.sort(o.element_order), np.arange(len(cells)))
    new_cells = o.node_old_to_new[cells[o.element_order]]
    # no two elements of a colour share a node
    for c in range(len(o.colour_offsets) - 1):
        group = new_cells[o.colour_offsets[c]:o.colour_offsets[c + 1]].ravel()
        assert len(np.unique(group)) == len(group)
    # RCM shrinks the bandwidth of the shuffled numbering a lot
    def bandwidth(cl):
        return int((cl.max(axis=1) - cl.min(axis=1)).max())
    assert bandwidth(new_cells) < 0.4 * bandwidth(cells)
    # inside a colour, elements are sorted by their smallest node
    first = new_cells[o.colour_offsets[0]:o.colour_offsets[1]].min(axis=1)
    assert np.all(np.diff(first) >= 0)


def test_reordering_preserves_the_product():
    nodes, cells, mu, lam = layered_box(1, 1, 2, seed=3)
    free = np.arange(3 * len(nodes))
    X = np.random.default_rng(4).standard_normal((3 * len(nodes), 2))
    results = []
    for rcm, scatter in [(False, "atomic"), (True, "colour")]:
        data, ops = device_ops(nodes, cells, mu, lam, free, scatter=scatter, rcm=rcm)
        old = internal_dofs(data)
        y = ops.empty(2)
        ops.apply(ops.from_host(X[old]), y)
        Y = np.empty_like(X)
        Y[old] = y.copy_to_host()
        results.append(Y)
    assert np.abs(results[0] - results[1]).max() <= 1e-13 * np.abs(results[0]).max()


def host_solver(nodes, cells, mu, lam, free, **kw):
    from crustgf.solvers.cuda import CudaBlockPCG

    return CudaBlockPCG(nodes, cells, mu, lam, free, device=False, **kw)


def test_lanczos_lmax_matches_dense_eigenvalue():
    from crustgf.solvers.preconditioners import estimate_lmax

    nodes, cells, mu, lam = layered_box(2, 2, 2)
    free = free_dofs_from_fixed_nodes(len(nodes), fixed_box_nodes(nodes))
    s = host_solver(nodes, cells, mu, lam, free, preconditioner="block-jacobi")
    d = s.data
    K = s.ops.k64.toarray()[np.ix_(d.free_internal, d.free_internal)]
    D = np.zeros((d.n_dof, d.n_dof))
    for n in range(d.n_nodes):
        D[3 * n:3 * n + 3, 3 * n:3 * n + 3] = d.diag_blocks[n]
    D = D[np.ix_(d.free_internal, d.free_internal)]
    lmax = sla.eigh(K, D, eigvals_only=True)[-1]
    est = estimate_lmax(s.ops, iterations=20)
    assert 0.9 * lmax <= est <= lmax * (1 + 1e-9)


def test_chebyshev_needs_far_fewer_iterations_than_point_jacobi():
    nodes, cells, mu, lam = layered_box(4, 4, 4)
    free = free_dofs_from_fixed_nodes(len(nodes), fixed_box_nodes(nodes))
    B = np.random.default_rng(5).standard_normal((len(free), 2))
    its = {}
    Kr = assemble_stiffness(nodes, cells, mu, lam)[free][:, free]
    for name in ["jacobi", "chebyshev"]:
        s = host_solver(nodes, cells, mu, lam, free, preconditioner=name, rtol=1e-8)
        X, res, it = s.solve(B)
        assert np.all(res <= 1e-8)
        r = np.linalg.norm(B - Kr @ X, axis=0) / np.linalg.norm(B, axis=0)
        assert np.all(r <= 1e-8)
        its[name] = it.max()
    assert its["chebyshev"] < 0.4 * its["jacobi"]


def test_block_pcg_per_column_convergence():
    """Columns converge independently: a zero column costs nothing, an easy column stops early
    and is frozen, and each column equals its own single-column solve."""
    nodes, cells, mu, lam = layered_box(3, 3, 3)
    free = free_dofs_from_fixed_nodes(len(nodes), fixed_box_nodes(nodes))
    s = host_solver(nodes, cells, mu, lam, free, preconditioner="block-jacobi", rtol=1e-9)
    Kr = assemble_stiffness(nodes, cells, mu, lam)[free][:, free]
    rng = np.random.default_rng(6)
    hard = rng.standard_normal(len(free))
    # easy: the solution lives on one node, b = K x has a tiny support
    x_easy = np.zeros(len(free))
    x_easy[:3] = 1.0
    B = np.column_stack([hard, np.zeros(len(free)), Kr @ x_easy])
    X, res, its = s.solve(B)
    assert its[1] == 0 and np.all(X[:, 1] == 0) and res[1] == 0
    assert its[2] < its[0]
    assert np.all(res <= 1e-9)
    for c in (0, 2):
        Xc, _, itc = s.solve(B[:, [c]])
        assert itc[0] == its[c]
        assert np.abs(Xc[:, 0] - X[:, c]).max() <= 1e-10 * np.abs(X[:, c]).max()  # summation order only


@pytest.mark.parametrize("preconditioner", ["multigrid", "chebyshev"])
def test_cuda_solve_matches_direct_solve_in_simulator(preconditioner):
    """The whole device path: problem -> EBE + block PCG with a float32 preconditioner (the
    multigrid V-cycle or Chebyshev block Jacobi) -> same as spsolve."""
    from crustgf.solvers.cuda import CudaBlockPCG

    nodes, cells, mu, lam = layered_box(2, 1, 1)
    problem = ElasticProblem(nodes, cells, mu, lam, bottom_fixed(nodes))
    Kr = problem.reduced_stiffness()
    B = np.random.default_rng(7).standard_normal((len(problem.free_dofs), 2))
    B[:, 1] *= 1e-3  # a different scale: the stopping rule is relative per column
    solver = CudaBlockPCG.from_problem(problem, rtol=1e-10, preconditioner=preconditioner, degree=2)
    X, res, its = solver.solve(B)
    ref = spl.spsolve(Kr.tocsc(), B)
    assert np.all(res <= 1e-10)
    assert np.all(its > 0)
    for c in range(2):
        assert np.linalg.norm(X[:, c] - ref[:, c]) <= 1e-6 * np.linalg.norm(ref[:, c])
    # the reported residual is the true one
    true = np.linalg.norm(B - Kr @ X, axis=0) / np.linalg.norm(B, axis=0)
    assert np.allclose(res, true, rtol=1e-3, atol=1e-14)


def test_resolve_backend(monkeypatch):
    assert backend.resolve_backend("cpu") == "cpu"
    with pytest.raises(CrustgfError, match="--backend"):
        backend.resolve_backend("gpu")
    backend.probe_gpu.cache_clear()
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    assert backend.resolve_backend("auto") == "cpu"  # the simulator is never picked by auto
    assert backend.resolve_backend("cuda") == "cuda"  # but runs when asked for (tests)
    backend.probe_gpu.cache_clear()
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "0")
    monkeypatch.setattr(backend, "_gpu_visible", lambda: False)
    assert backend.resolve_backend("auto") == "cpu"
    with pytest.raises(CrustgfError, match="--backend cuda: no usable CUDA GPU"):
        backend.resolve_backend("cuda")
    backend.probe_gpu.cache_clear()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from solve_model import build_tiny_model

    from crustgf.io.modelfile import read_model

    return read_model(build_tiny_model(tmp_path_factory.mktemp("tiny_cuda")))


def greens_functions(model, backend_name):
    from crustgf.greens.operator import GreenSolver

    solver = GreenSolver(model, backend=backend_name, method="direct", rtol=1e-10, batch=8)
    jobs = np.array([(s, c) for s in range(model.n_subfaults) for c in (0, 1)])
    res = solver.solve(jobs)
    assert res.converged.all()
    return res.displacement


def test_cuda_backend_algorithm_gives_cpu_greens_functions(tiny_model, monkeypatch):
    """GreenSolver(backend='cuda') wiring and the CUDA algorithm (float32 Chebyshev block PCG,
    the EBE operator's tables) run on the host: same Green's functions as the direct CPU solve.
    (The kernels themselves are checked against the assembled matrix above; the simulator is too
    slow for this model.)"""
    from crustgf.solvers.cuda import CudaBlockPCG

    def host_cuda_solver(problem, rtol=1e-8, max_iterations=5000, **kw):
        return CudaBlockPCG.from_problem(problem, rtol=rtol, max_iterations=max_iterations,
                                         device=False, **kw)

    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")  # lets resolve_backend('cuda') through
    backend.probe_gpu.cache_clear()
    monkeypatch.setattr(backend, "make_cuda_solver", host_cuda_solver)
    ref = greens_functions(tiny_model, "cpu")
    got = greens_functions(tiny_model, "cuda")
    backend.probe_gpu.cache_clear()
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max()


def test_whole_cuda_solve_in_the_simulator_gives_cpu_greens_functions():
    """GreenSolver(backend='cuda') with every kernel running in the CUDA simulator, on a real
    (very small: 262 TET10) model from the mesher: the Green's functions of both slip components
    equal the CPU direct solve's to 1e-6 (about 40 s: the simulator runs each thread in Python)."""
    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    if not backend.simulator_enabled():
        pytest.skip("a real GPU is visible: test_cuda_backend_greens_functions_on_gpu covers it")
    km = 1e3
    pos = np.array([[3 * km, 2 * km, 0.0], [-3 * km, 1 * km, 0.0], [0.0, -4 * km, 0.0]])
    cfg = Config(
        name="sim", domain=Domain((-8 * km, 8 * km), (-8 * km, 8 * km), 7 * km, None),
        layers=[Layer("a", 5 * km, 6000.0, 3500.0, 2700.0), Layer("b", 7 * km, 7000.0, 4000.0, 3000.0)],
        fault=RectangleFault((0.0, 0.0, 1 * km), 20.0, 40.0, 4 * km, 3 * km, (2, 1)),
        stations=Stations(["A", "B", "C"], pos, None),
        mesh=MeshOptions(order=2, size_fault=3 * km, size_max=6 * km), text="")
    model = build_model(cfg, progress=False)
    jobs = np.array([[1, 0], [1, 1]])
    ref = GreenSolver(model, backend="cpu", method="direct").solve(jobs).displacement
    res = GreenSolver(model, backend="cuda", rtol=1e-10, batch=2).solve(jobs)
    assert res.converged.all() and (res.iterations > 5).all()
    assert np.abs(res.displacement - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.slow
@pytest.mark.skipif(backend.simulator_enabled() or not backend._gpu_visible(), reason="needs a GPU")
def test_cuda_backend_greens_functions_on_gpu(tiny_model):
    ref = greens_functions(tiny_model, "cpu")
    got = greens_functions(tiny_model, "cuda")
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max()
