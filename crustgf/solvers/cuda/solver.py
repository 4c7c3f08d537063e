"""`CudaBlockPCG`: the CUDA backend's solver with the common interface `.solve(B) -> (X, residual, iterations)`.

B is (n_free, k) in the free-dof order of the problem (ElasticProblem.free_dofs); X likewise;
residual is the true relative residual ||b - K x|| / ||b|| per column in float64 (computed with
the float64 EBE operator), iterations the CG iterations per column. No matrix is assembled for
the GPU: the stiffness is applied element by element (ebe_kernels.py).
"""

from __future__ import annotations

from crustgf.solvers.block_pcg import BlockPCGSolver
from crustgf.solvers.choose import make_preconditioner
from crustgf.solvers.cuda.problem_data import prepare


class CudaBlockPCG(BlockPCGSolver):
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

