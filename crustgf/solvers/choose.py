"""`method = "auto"` on the CPU: the method that computes the GFs asked fastest in total.

Cost model, seconds for m GFs on a model of n free dofs (N = n / 1e6), 2 cores:

    direct     T = F N^1.75 + m S N^1.2    factor once, then a pair of triangular solves per GF
    multigrid  T = G N + m I N^1.1         TET10 matrix and V-cycle hierarchy once, then ~16-30
                                           block PCG iterations per GF (nearly mesh-independent)
    amg-cg     never chosen on TET10: the multigrid V-cycle needs fewer iterations for less work

F = 210, S = 0.84: PARDISO on the 2-core machine, 26 s + 0.19 s per GF at 0.30M dofs
(bench/results/cpu-20261121-300k.txt), 237 s + 0.89 s per GF at 1.07M (cpu-20261201-1M.txt);
the exponents are the growth between the two. G = 20, I = 2.2: multigrid on a quiet machine,
9 s + 0.57 s per GF at 0.30M (16 iterations), 10 s + 0.98 s at 0.59M (18), 33 s + 3.0 s at 1.07M
(18, load 2-4) (bench/results/mg-20261203.txt). So direct costs ~2.5x less per GF once factorised
and wins for many GFs when its factor fits; multigrid wins for few GFs on big models and whenever
the factor does not fit. Direct is taken only when predicted faster AND PARDISO's own analysis says its
factor fits the memory budget (cpu_direct.direct_memory_budget: a share of MemAvailable);
otherwise multigrid, or amg-cg for a TET4 model (multigrid needs TET10).
"""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.solvers import preconditioners as pc

# seconds per the module docstring's cost model
DIRECT_FACTOR_S = 210.0  # F
DIRECT_SOLVE_S = 0.84  # S
MULTIGRID_SETUP_S = 20.0  # G
MULTIGRID_PER_GF_S = 2.2  # I
# PARDISO's own estimate was 12.8 kB per dof at 1.07M TET10 dofs (13.7 GB) and grows faster than
# n: below half of that the analysis (METIS on the whole matrix: a minute and gigabytes at 1.6M
# dofs) is not even tried
DIRECT_BYTES_PER_DOF_AT_LEAST = 6.4e3


def predicted_seconds(method: str, n_free: int, n_solves: int) -> float:
    """The cost model's total time for n_solves GFs on n_free dofs."""
    n = n_free / 1e6
    if method == "direct":
        return DIRECT_FACTOR_S * n**1.75 + n_solves * DIRECT_SOLVE_S * n**1.2
    if method == "multigrid":
        return MULTIGRID_SETUP_S * n + n_solves * MULTIGRID_PER_GF_S * n**1.1
    raise ValueError(method)


def check_method(method: str, cells) -> bool:
    """CrustgfError when `method` cannot run on a model with these cells; returns whether TET10."""
    tet10 = np.asarray(cells).shape[1] == 10
    if method == "multigrid" and not tet10:
        raise CrustgfError('solver.method = "multigrid": needs quadratic tetrahedra (mesh.order = 2); '
                           'this model is linear (TET4): use "direct" or "amg-cg"')
    return tet10


def choose_cpu_method(problem, method: str, n_solves: int):
    """(method, analysed PardisoSolver or None) for an ElasticProblem; method "auto" resolved.

    Explicit methods pass through (multigrid on a TET4 model: CrustgfError)."""
    from crustgf.config.schema import METHODS

    if method not in METHODS:
        raise CrustgfError(f"solver.method: must be one of {', '.join(METHODS)}, got {method!r}")
    tet10 = check_method(method, problem.cells)
    if method != "auto":
        return method, None
    n_free = len(problem.free_dofs)
    if tet10 and predicted_seconds("multigrid", n_free, n_solves) <= predicted_seconds("direct", n_free, n_solves):
        return "multigrid", None
    from crustgf.solvers.cpu.direct import direct_memory_budget, try_direct

    fits = n_free * DIRECT_BYTES_PER_DOF_AT_LEAST <= direct_memory_budget()
    direct = try_direct(problem.reduced_stiffness()) if fits else None
    if direct is not None:
        return "direct", direct
    if tet10:
        problem.release_stiffness()  # multigrid assembles its own (renumbered) operator
        return "multigrid", None
    return "amg-cg", None


def make_cpu_solver(K, nodes_free=None, method="auto", rtol=1e-8, max_iterations=5000, verbose=False):
    """A CPU solver for the SPD reduced stiffness K: 'direct' (PARDISO), 'amg-cg' or 'auto'.

    nodes_free: (n_free/3, 3) coordinates of the free nodes (rigid-body modes for AMG)."""
    from crustgf.solvers.cpu.amg import AmgBlockCG
    from crustgf.solvers.cpu.direct import fitting_direct, try_direct

    if method == "auto":
        direct = try_direct(K)
        if direct is not None:
            return direct.factorize()
        method = "amg-cg"
    if method == "direct":
        return fitting_direct(K).factorize()
    if method in ("amg-cg", "amg"):
        return AmgBlockCG(K, nodes_free, rtol=rtol, max_iterations=max_iterations)
    from crustgf.core.errors import CrustgfError

    if method == "multigrid":  # it needs the mesh, not only K
        raise CrustgfError("solver.method = \"multigrid\" needs the mesh: use GreenSolver or "
                           "crustgf.solvers.cpu.multigrid.CpuMultigrid.from_problem")
    raise CrustgfError(f"solver.method: unknown CPU method {method!r} (auto, direct or amg-cg)")


DEFAULT_DEGREE = {"chebyshev": 4, "multigrid": 2}


def make_preconditioner(ops, name="multigrid", degree=None, ratio=30.0):
    """degree: of the Chebyshev polynomial ('chebyshev', default 4) or of the fine-level
    smoother ('multigrid', default 2); see bench/precond.py for the iteration counts behind them."""
    degree = DEFAULT_DEGREE.get(name, 1) if degree is None else degree
    if name == "multigrid":
        from crustgf.solvers.multigrid import PMultigrid

        return PMultigrid(ops, degree=degree, ratio=ratio)
    if name == "jacobi":
        return pc.Jacobi(ops, "point")
    if name == "block-jacobi":
        return pc.Jacobi(ops, "block")
    if name == "chebyshev":
        return pc.Chebyshev(ops, degree=degree, ratio=ratio)
    raise ValueError(f"unknown preconditioner {name!r} (jacobi, block-jacobi, chebyshev, multigrid)")
