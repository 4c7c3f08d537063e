"""Linear solvers for the reduced (free-dof) stiffness system K X = B with many right-hand sides.

Every solver object has the same tiny interface (the CUDA backend plugs in through backend.py):

    solver.solve(B) -> (X, residual, iterations)

B (n_free, k) float64; X the solution; residual (k,) the TRUE relative residual
||b - K x||_2 / ||b||_2, recomputed in float64 after the solve; iterations (k,) int (1 for direct).
"""

from __future__ import annotations

import numpy as np

from crustgf.solvers.kernels import csr_matmat


def true_relative_residual(K, X, B) -> np.ndarray:
    """||b - K x||_2 / ||b||_2 per column, in float64 (0 where b = 0 and x = 0)."""
    X = np.asarray(X, dtype=np.float64).reshape(len(B), -1)
    B = np.asarray(B, dtype=np.float64).reshape(len(X), -1)
    R = B - csr_matmat(K, X)
    nb = np.linalg.norm(B, axis=0)
    nr = np.linalg.norm(R, axis=0)
    return np.divide(nr, nb, out=nr.copy(), where=nb > 0)


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
                           "cpu_multigrid.CpuMultigrid.from_problem")
    raise CrustgfError(f"solver.method: unknown CPU method {method!r} (auto, direct or amg-cg)")
