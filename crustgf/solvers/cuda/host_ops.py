"""NumPy/SciPy implementation of the block-vector operations used by block_pcg.py.

The same algorithm as on the GPU (same masking, same preconditioners, float32 preconditioner
arithmetic) but with an assembled CSR stiffness: used to compare preconditioners by iteration
counts on problems too big for the CUDA simulator, and as the reference for the device path.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crustgf.solvers.cuda.problem_data import MeshData
from crustgf.solvers.cuda.tet10 import element_matrices


def assemble_internal(data: MeshData) -> sp.csr_matrix:
    """The masked stiffness M K M in the internal numbering (fixed rows/columns zero), float64."""
    ne = len(data.cells)
    grads = data.grads.reshape(-1, 4, 3)
    rows, cols, vals = [], [], []
    dof = (3 * data.cells[:, :, None].astype(np.int64) + np.arange(3)).reshape(ne, 30)
    for s in range(0, ne, 20_000):
        sl = slice(s, s + 20_000)
        # element_matrices wants volume, mu, lam; pass V*mu as mu with unit volume
        ke = element_matrices(grads[sl], np.ones(len(dof[sl])), data.vmu[sl], data.vlam[sl])
        rows.append(np.repeat(dof[sl], 30, axis=1).ravel())
        cols.append(np.tile(dof[sl], (1, 30)).ravel())
        vals.append(ke.ravel())
    n = data.n_dof
    k = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n)).tocsr()
    m = sp.diags(data.mask)
    return (m @ k @ m).tocsr()


class HostOps:
    """Block vectors are NumPy arrays (ndof, k) in the internal numbering."""

    def __init__(self, data: MeshData, matrix: sp.csr_matrix | None = None):
        self.data = data
        self.k64 = matrix if matrix is not None else assemble_internal(data)
        self.k32 = self.k64.astype(np.float32)
        self.n_dof = data.n_dof
        self.n_applies = 0  # float64 operator applications
        self.n_applies_low = 0  # float32 (preconditioner) applications
        self.n_csr_nonzeros = 0  # nonzeros visited by assembled-level (multigrid) products

    # --- data movement
    def from_host(self, a):
        return np.array(a, dtype=np.float64)

    def to_host(self, a):
        return np.asarray(a, dtype=np.float64)

    def empty(self, k, low=False, rows=None):
        return np.zeros((self.n_dof if rows is None else rows, k), dtype=np.float32 if low else np.float64)

    def take(self, a, cols):
        return np.ascontiguousarray(a[:, cols])

    def inverse_blocks(self, kind, low):
        inv = self.data.inverse_blocks(kind)
        return inv.astype(np.float32) if low else inv

    # --- operator
    def apply(self, x, y):
        self.n_applies += 1
        y[...] = self.k64 @ x

    def apply_low(self, x, y):
        self.n_applies_low += 1
        y[...] = self.k32 @ x

    def residual_low(self, r, x, t):
        self.n_applies_low += 1
        t[...] = r - self.k32 @ x

    # --- BLAS-1
    def dots(self, a, b):
        return np.einsum("ij,ij->j", a, b)

    def dots3(self, r, z, q):
        return self.dots(r, r), self.dots(z, r), self.dots(z, q)

    def update_xr(self, x, r, p, q, alpha):
        x += alpha * p
        r -= alpha * q

    def update_p(self, p, z, beta):
        p *= beta
        p += z

    def subtract(self, b, y, r):
        np.subtract(b, y, out=r)

    # --- nodal preconditioner pieces
    @staticmethod
    def _blocks(dinv, v):
        n = dinv.shape[0]
        return np.einsum("nij,njk->nik", dinv.reshape(n, 3, 3), v.reshape(n, 3, -1)).reshape(v.shape)

    def block_jacobi(self, r, dinv, scale, z):
        z[...] = scale * self._blocks(dinv, r.astype(dinv.dtype))

    def chebyshev_first(self, r, dinv, scale, r_low, d, x):
        r_low[...] = r
        d[...] = scale * self._blocks(dinv, r_low)
        x[...] = d

    def chebyshev_step(self, r, kx, dinv, c1, c2, d, x):
        d *= c1
        d += c2 * self._blocks(dinv, r - kx)
        x += d

    def copy_cast(self, src, dst):
        dst[...] = src

    def add_to(self, a, y):
        y += a

    # --- assembled (multigrid) levels, float32
    def matrix(self, a):
        return sp.csr_matrix(a, dtype=np.float32)

    def vector(self, v):
        return np.asarray(v, dtype=np.float32)

    def spmm(self, a, x, y, beta=0.0):
        self.n_csr_nonzeros += a.nnz
        if beta == 0.0:
            y[...] = a @ x
        else:
            y *= beta
            y += a @ x

    def point_chebyshev_first(self, r, dinv, scale, d, x):
        d[...] = scale * dinv[:, None] * r
        x[...] = d

    def point_chebyshev_step(self, r, kx, dinv, c1, c2, d, x):
        d *= c1
        d += c2 * dinv[:, None] * (r - kx)
        x += d
