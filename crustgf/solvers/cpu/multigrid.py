"""`method = "multigrid"` on the CPU: the GPU backend's block PCG with its TET10 -> TET4 ->
smoothed-aggregation V-cycle, run on Numba-parallel CPU kernels.

One algorithm, two machines: the driver (solvers/block_pcg.py) and the preconditioner
(solvers/multigrid.py) are written against an `ops` object; on the GPU that is DeviceOps (EBE
kernels), here CpuOps: the TET10 stiffness assembled once (crustgf.fem, in the solver's internal
RCM numbering, fixed rows and columns zeroed) and stored as 3x3 node blocks, applied to whole
blocks of right-hand sides by threaded Numba kernels (kernels.py). Assembled, not element by
element: per column an assembled product costs ~2 x 81 flops per dof, an on-the-fly TET10 EBE
product ~2.4x that (4 quadrature points x 10 nodes x 9 gradient terms, gathered and scattered),
and with k columns per matrix entry read the assembled product is not bound by reading the
matrix; the 3x3 blocks measured 1.35x faster than plain CSR here (bench/results/mg-20261203.txt).
The preconditioner works in float32 (a float32 copy of the block values); the outer CG in float64
(the flexible beta of block_pcg absorbs the preconditioner's rounding).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crustgf.core.errors import CrustgfError
from crustgf.solvers.block_pcg import BlockPCGSolver
from crustgf.solvers.cpu import kernels as kn
from crustgf.solvers.cuda.host_ops import HostOps
from crustgf.solvers.cuda.problem_data import MeshData, prepare


def internal_stiffness(data: MeshData, mu_e: np.ndarray, lam_e: np.ndarray) -> sp.csr_matrix:
    """The masked TET10 stiffness M K M in data's internal numbering (fixed rows/columns zero),
    assembled in parallel by crustgf.fem; int32 column indices where they fit."""
    from crustgf.fem.assembly import assemble_stiffness

    k = assemble_stiffness(data.coords, data.cells, mu_e, lam_e)
    kn.mask_csr(k.indptr, k.indices, k.data, data.mask)
    if k.nnz < 2**31:
        k.indices = k.indices.astype(np.int32)
    return k


class CpuOps(HostOps):
    """HostOps with the products, updates and dots in threaded Numba kernels (same semantics)."""

    def __init__(self, data: MeshData, matrix: sp.csr_matrix, low_precision: bool = True):
        self.data = data
        self.n_dof = data.n_dof
        bsr = sp.bsr_matrix(matrix, blocksize=(3, 3))
        bsr.sort_indices()
        self.k64 = bsr  # 3x3 node blocks (kernels.bsr3_spmm), float64
        self._blocks = (bsr.indptr, bsr.indices.astype(np.int32))
        self.low = np.float32 if low_precision else np.float64  # the preconditioner's precision
        self._low = bsr.data.astype(self.low)
        self.n_applies = self.n_applies_low = self.n_csr_nonzeros = 0

    # --- operator
    def apply(self, x, y):
        self.n_applies += 1
        kn.bsr3_spmm(*self._blocks, self.k64.data, x, y, 1.0, 0.0)

    def apply_low(self, x, y):
        self.n_applies_low += 1
        kn.bsr3_spmm(*self._blocks, self._low, x, y, 1.0, 0.0)

    def residual_low(self, r, x, t):
        """t = r - K x in float32 (fused: t holds r, the product is subtracted)."""
        self.n_applies_low += 1
        kn.axpby(r, r, 1.0, 0.0, t)
        kn.bsr3_spmm(*self._blocks, self._low, x, t, -1.0, 1.0)

    def empty(self, k, low=False, rows=None):
        return np.zeros((self.n_dof if rows is None else rows, k), dtype=self.low if low else np.float64)

    def inverse_blocks(self, kind, low):
        inv = self.data.inverse_blocks(kind)
        return inv.astype(self.low) if low else inv

    def vector(self, v):
        return np.asarray(v, dtype=self.low)

    # --- BLAS-1
    def dots(self, a, b):
        out = np.empty(a.shape[1])
        kn.column_dots(a, b, out)
        return out

    def update_xr(self, x, r, p, q, alpha):
        kn.update_xr(x, r, p, q, np.ascontiguousarray(alpha, dtype=np.float64))

    def update_p(self, p, z, beta):
        kn.update_p(p, z, np.ascontiguousarray(beta, dtype=np.float64))

    def subtract(self, b, y, r):
        kn.axpby(b, y, 1.0, -1.0, r)

    def copy_cast(self, src, dst):
        kn.axpby(src, src, 1.0, 0.0, dst)

    def add_to(self, a, y):
        kn.axpby(y, a, 1.0, 1.0, y)

    # --- nodal preconditioner pieces
    def block_jacobi(self, r, dinv, scale, z):
        kn.nodal_chebyshev(r, r, False, dinv, 0.0, scale, z, z, z, True)

    def chebyshev_first(self, r, dinv, scale, r_low, d, x):
        kn.nodal_chebyshev(r, r, False, dinv, 0.0, scale, d, x, r_low, True)

    def chebyshev_step(self, r, kx, dinv, c1, c2, d, x):
        kn.nodal_chebyshev(r, kx, True, dinv, c1, c2, d, x, d, False)

    # --- assembled (multigrid) levels, float32
    def matrix(self, a):
        a = sp.csr_matrix(a)
        a.sort_indices()
        return (a.indptr, a.indices.astype(np.int32), a.data.astype(self.low), a.shape)

    def spmm(self, a, x, y, beta=0.0):
        indptr, indices, values, _ = a
        self.n_csr_nonzeros += len(values)
        kn.spmm(indptr, indices, values, x, y, 1.0, beta)

    def point_chebyshev_first(self, r, dinv, scale, d, x):
        kn.point_chebyshev(r, r, False, dinv, 0.0, scale, d, x, True)

    def point_chebyshev_step(self, r, kx, dinv, c1, c2, d, x):
        kn.point_chebyshev(r, kx, True, dinv, c1, c2, d, x, False)


class CpuMultigrid(BlockPCGSolver):
    """`CpuMultigrid.from_problem(problem)`; `.solve(B) -> (X, true residual, iterations)` on
    free-dof blocks (the common solver interface), the same block PCG as the CUDA backend."""

    name = "multigrid"

    def __init__(self, nodes, cells, mu, lam, free_dofs, rtol=1e-8, max_iterations=5000,
                 preconditioner="multigrid", degree=None, recycle=0, low_precision=True):
        """recycle: keep up to this many earlier solutions for initial guesses (initial_guess.py;
        0: off). low_precision False: the preconditioner in float64 (for comparisons)."""
        from crustgf.solvers.choose import make_preconditioner

        cells = np.asarray(cells)
        if cells.ndim != 2 or cells.shape[1] != 10:
            raise CrustgfError("solver.method = \"multigrid\": needs quadratic tetrahedra (mesh.order = 2); "
                               f"this model has {cells.shape[-1]}-node cells (use method \"direct\" or \"amg-cg\")")
        self.rtol = float(rtol)
        self.max_iterations = int(max_iterations)
        self.n_free = len(free_dofs)
        self.data = prepare(nodes, cells, mu, lam, free_dofs, rcm=True, colour=False)
        order = self.data.ordering.element_order
        mu_e = np.broadcast_to(np.asarray(mu, dtype=np.float64), (len(cells),))[order]
        lam_e = np.broadcast_to(np.asarray(lam, dtype=np.float64), (len(cells),))[order]
        self.ops = CpuOps(self.data, internal_stiffness(self.data, mu_e, lam_e), low_precision)
        self.precond = make_preconditioner(self.ops, preconditioner, degree=degree)
        self.guess = None
        if recycle:
            from crustgf.solvers.initial_guess import GalerkinGuess

            self.guess = GalerkinGuess(self.ops, max_vectors=recycle)

