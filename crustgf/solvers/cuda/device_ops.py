"""Numba-CUDA implementation of the block-vector operations used by block_pcg.py.

Holds the mesh data on the device in float64 (the outer CG iteration) and float32 (the
preconditioner), and launches the EBE kernels (ebe_kernels.py) and vector kernels
(vector_kernels.py). No assembled matrix exists on the device.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from crustgf.solvers.cuda import csr_kernels as ck
from crustgf.solvers.cuda import vector_kernels as vk
from crustgf.solvers.cuda.ebe_kernels import ebe_kernel, launch_ebe
from crustgf.solvers.cuda.problem_data import MeshData

ROWS_PER_DOT_THREAD = 256  # rows each thread sums in the column dot products
MAX_DOT_THREADS = 65536  # partial sums per dot (over all columns) copied back to the host


class DeviceOps:
    """Block vectors are device arrays (ndof, k), C order (k-interleaved), internal numbering."""

    def __init__(self, data: MeshData, scatter: str = "colour", max_registers: int | None = None):
        if scatter not in ("colour", "atomic"):
            raise ValueError(f"scatter must be 'colour' or 'atomic', got {scatter!r}")
        self.data = data
        self.n_dof = data.n_dof
        self.n_applies = 0
        self.n_applies_low = 0
        atomic = scatter == "atomic"
        self.offsets = data.colour_offsets if not atomic else np.array([0, len(data.cells)])
        self.cells = cuda.to_device(data.cells)
        self.f64 = tuple(cuda.to_device(a) for a in (data.grads, data.vlam, data.vmu, data.mask))
        self.f32 = tuple(cuda.to_device(a.astype(np.float32))
                         for a in (data.grads, data.vlam, data.vmu, data.mask))
        self.kernel64 = ebe_kernel("float64", atomic, max_registers)
        self.kernel32 = ebe_kernel("float32", atomic, max_registers)

    # --- data movement
    def from_host(self, a):
        return cuda.to_device(np.ascontiguousarray(a, dtype=np.float64))

    def to_host(self, a):
        return a.copy_to_host()

    def empty(self, k, low=False, rows=None):
        a = cuda.device_array((self.n_dof if rows is None else rows, k),
                              dtype=np.float32 if low else np.float64)
        self.zero(a)
        return a

    def zero(self, a):
        vk.zero[vk.grid(a.size)](a)

    def take(self, a, cols):
        cols = np.asarray(cols, dtype=np.int64)
        out = cuda.device_array((a.shape[0], len(cols)), dtype=a.dtype)
        if len(cols):
            vk.gather_columns[vk.grid(out.size)](a, cuda.to_device(cols), out)
        return out

    def inverse_blocks(self, kind, low):
        inv = self.data.inverse_blocks(kind)
        return cuda.to_device(inv.astype(np.float32) if low else inv)

    # --- operator (y = K x, masked)
    def apply(self, x, y):
        self.n_applies += 1
        self.zero(y)
        launch_ebe(self.kernel64, self.offsets, self.cells, *self.f64, x, y)

    def apply_low(self, x, y):
        self.n_applies_low += 1
        self.zero(y)
        launch_ebe(self.kernel32, self.offsets, self.cells, *self.f32, x, y)

    def residual_low(self, r, x, t):
        """t = r - K x in float32, fused: t starts as r and the EBE kernel subtracts K x."""
        self.n_applies_low += 1
        self.copy_cast(r, t)
        launch_ebe(self.kernel32, self.offsets, self.cells, *self.f32, x, t, scale=-1.0)

    # --- BLAS-1
    def _groups(self, k):
        return int(max(1, min(self.n_dof // ROWS_PER_DOT_THREAD, MAX_DOT_THREADS // k)))

    def dots(self, a, b):
        k = a.shape[1]
        groups = self._groups(k)
        partial = cuda.device_array((groups, k), dtype=np.float64)
        vk.partial_dots[vk.grid(groups * k)](a, b, partial)
        return partial.copy_to_host().sum(axis=0)

    def dots3(self, r, z, q):
        k = r.shape[1]
        groups = self._groups(k)
        partial = cuda.device_array((3, groups, k), dtype=np.float64)
        vk.partial_dots3[vk.grid(groups * k)](r, z, q, partial)
        s = partial.copy_to_host().sum(axis=1)
        return s[0], s[1], s[2]

    def update_xr(self, x, r, p, q, alpha):
        vk.update_xr[vk.grid(x.size)](x, r, p, q, cuda.to_device(np.asarray(alpha, np.float64)))

    def update_p(self, p, z, beta):
        vk.update_p[vk.grid(p.size)](p, z, cuda.to_device(np.asarray(beta, np.float64)))

    def subtract(self, b, y, r):
        vk.subtract[vk.grid(b.size)](b, y, r)

    # --- nodal preconditioner pieces
    def block_jacobi(self, r, dinv, scale, z):
        vk.block_jacobi[vk.grid(dinv.shape[0] * r.shape[1])](r, dinv, scale, z)

    def chebyshev_first(self, r, dinv, scale, r_low, d, x):
        vk.chebyshev_first[vk.grid(dinv.shape[0] * r.shape[1])](r, dinv, scale, r_low, d, x)

    def chebyshev_step(self, r, kx, dinv, c1, c2, d, x):
        vk.chebyshev_step[vk.grid(dinv.shape[0] * r.shape[1])](r, kx, dinv, c1, c2, d, x)

    def copy_cast(self, src, dst):
        vk.copy_cast[vk.grid(src.size)](src, dst)

    def add_to(self, a, y):
        vk.add_to[vk.grid(y.size)](a, y)

    # --- assembled (multigrid) levels, float32
    def matrix(self, a):
        """A scipy sparse matrix on the device: (indptr, indices, values float32, shape)."""
        a = a.tocsr()
        index = np.int32 if a.nnz < 2**31 else np.int64
        return (cuda.to_device(a.indptr.astype(index)), cuda.to_device(a.indices.astype(np.int32)),
                cuda.to_device(a.data.astype(np.float32)), a.shape)

    def vector(self, v):
        return cuda.to_device(np.asarray(v, dtype=np.float32))

    def spmm(self, a, x, y, beta=0.0):
        indptr, indices, values, _ = a
        ck.spmm[vk.grid(y.size)](indptr, indices, values, x, beta, y)

    def point_chebyshev_first(self, r, dinv, scale, d, x):
        ck.point_chebyshev_first[vk.grid(r.size)](r, dinv, scale, d, x)

    def point_chebyshev_step(self, r, kx, dinv, c1, c2, d, x):
        ck.point_chebyshev_step[vk.grid(r.size)](r, kx, dinv, c1, c2, d, x)
