"""`method = "auto"` on the CPU: the method that computes the GFs asked fastest in total.

Cost model, time for m GFs on a model of n free dofs (N = n / 1e6), 2 cores:

    direct     T = F N^1.75 + m S N^1.2      factor once (F), then a pair of triangular solves
    multigrid  T = G N      + m I N^1.1      hierarchy + TET10 matrix once, ~30 V-cycle PCG
                                              iterations per GF (nearly mesh-independent)
    amg-cg     never chosen on TET10 (multigrid needs fewer iterations per GF at equal cost)

F, S, G, I are measured on this 2-core machine (bench/results/cpu-20261201-1M.txt,
cpu-20261121-300k.txt for PARDISO; mg-20261203.txt for multigrid; the exponents from the
300k -> 1M growth). Direct is taken only when it is predicted faster AND PARDISO's own analysis
says its factor fits in the memory budget (cpu_direct.direct_memory_budget: a share of
MemAvailable); otherwise multigrid, or amg-cg for a TET4 model (multigrid needs TET10).
"""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError

# seconds, per the module docstring
DIRECT_FACTOR_S = 210.0  # F: 237 s setup at 1.07M, 26 s at 0.30M (setup includes assembly)
DIRECT_SOLVE_S = 0.84  # S: 0.89 s per GF at 1.07M, 0.19 s at 0.30M (blocks of 64)
MULTIGRID_SETUP_S = 40.0  # G
MULTIGRID_PER_GF_S = 3.0  # I


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
    from crustgf.config.load import METHODS

    if method not in METHODS:
        raise CrustgfError(f"solver.method: must be one of {', '.join(METHODS)}, got {method!r}")
    tet10 = check_method(method, problem.cells)
    if method != "auto":
        return method, None
    n_free = len(problem.free_dofs)
    if tet10 and predicted_seconds("multigrid", n_free, n_solves) <= predicted_seconds("direct", n_free, n_solves):
        return "multigrid", None
    from crustgf.solvers.cpu.direct import try_direct

    direct = try_direct(problem.reduced_stiffness())
    if direct is not None:
        return "direct", direct
    return ("multigrid" if tet10 else "amg-cg"), None
