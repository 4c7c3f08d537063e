"""`CudaBlockPCG`: the CUDA backend's solver with the common interface `.solve(B) -> (X, residual, iterations)`.

B is (n_free, k) in the free-dof order of the problem (ElasticProblem.free_dofs); X likewise;
residual is the true relative residual ||b - K x|| / ||b|| per column in float64 (computed with
the float64 EBE operator), iterations the CG iterations per column. No matrix is assembled for
the GPU: the stiffness is applied element by element (ebe_kernels.py).
"""

from __future__ import annotations

import numpy as np

from crustgf.solvers.block_pcg import solve
from crustgf.solvers.choose import make_preconditioner
from crustgf.solvers.cuda.problem_data import from_internal, prepare, to_internal


class CudaBlockPCG:
    """Matrix-free TET10 block PCG. device=False runs the same algorithm with NumPy/SciPy (HostOps).

    preconditioner: 'multigrid' (default; TET10 -> TET4 -> smoothed-aggregation V-cycle in
    float32, multigrid.py), 'chebyshev' (float32 Chebyshev(degree) x 3x3 block Jacobi),
    'block-jacobi' or 'jacobi'; degree None = the preconditioner's default.
    scatter: 'colour' (deterministic) or 'atomic'.
    """

    def __init__(self, nodes, cells, mu, lam, free_dofs, rtol=1e-8, max_iterations=5000,
                 preconditioner="multigrid", degree=None, ratio=30.0, scatter="colour", rcm=True,
                 device=True):
        self.rtol = float(rtol)
        self.max_iterations = int(max_iterations)
        self.n_free = len(free_dofs)
        self.data = prepare(nodes, cells, mu, lam, free_dofs, rcm=rcm, colour=scatter == "colour")
        if device:
            from crustgf.solvers.cuda.device_ops import DeviceOps

            self.ops = DeviceOps(self.data, scatter=scatter)
        else:
            from crustgf.solvers.cuda.host_ops import HostOps

            self.ops = HostOps(self.data)
        self.precond = make_preconditioner(self.ops, preconditioner, degree=degree, ratio=ratio)

    @classmethod
    def from_problem(cls, problem, **options):
        """From an ElasticProblem-like object (nodes, cells, mu, lam, free_dofs)."""
        return cls(problem.nodes, problem.cells, problem.mu, problem.lam, problem.free_dofs, **options)

    def solve(self, B):
        B = np.asarray(B, dtype=np.float64)
        squeeze = B.ndim == 1
        B = B.reshape(self.n_free, -1)
        x, residual, iterations = solve(self.ops, self.precond, to_internal(self.data, B),
                                        self.rtol, self.max_iterations)
        X = from_internal(self.data, x)
        return (X[:, 0] if squeeze else X), residual, iterations
