"""Numba-CUDA kernels of the matrix-free element-by-element TET10 stiffness product
Y += scale * K X (scale 1: the product into a zeroed Y; scale -1 into Y = R: the residual R - K X
in one pass, fused).

Layout (chosen for coalescing): a block of k right-hand sides is stored k-interleaved, X[dof, c]
C-ordered with shape (ndof, k), dof = 3 * node + component. One thread handles one (element,
column) pair: thread t -> element t // k, column t % k (grid-stride: a launch smaller than
count * k threads, as launch sizes are capped, still visits every pair). Threads of one element sit in
the same warp, their element data (10 node ids, 12 barycentric gradients, V*lambda, V*mu) is one
broadcast read per warp (read once per block of right-hand sides), and their X/Y accesses for a
dof are k consecutive words.

Element math (see tet10.py): with barycentric gradients g_p and the exact 4-point rule, at each
point the displacement gradient is H = sum_p v_p g_p^T with v_p = sum_a A[a, p] u_a, the stress is
S = lambda tr(H) I + mu (H + H^T), and node a receives (V/4) sum_p A[a, p] S g_p.

Scatter: two variants.
- "colour" (default): elements are grouped in colours that share no node (reorder.py); one launch
  per colour does a plain read-modify-write. Deterministic (bitwise reproducible) and no atomics.
- "atomic": one launch over all elements with atomic adds (float64 atomics need sm_60+);
  fewer launches, but the summation order, hence the last bits, vary from run to run.
Dirichlet dofs are handled by masking: the result is multiplied by mask[dof] (1 free, 0 fixed).
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float32, float64

from .tet10 import QA, QB
from .vector_kernels import grid

EDGE_I = np.array([0, 1, 0, 0, 1, 2], dtype=np.int32)
EDGE_J = np.array([1, 2, 2, 3, 3, 3], dtype=np.int32)
THREADS = 128

_KERNELS: dict = {}


def _make_kernel(dtype, atomic: bool):
    qa4 = 4.0 * QA
    qb4 = 4.0 * QB

    @cuda.jit(fastmath=False)
    def ebe_apply(start, count, cells, grads, vlam, vmu, mask, scale, X, Y):
        k = X.shape[1]
        u = cuda.local.array((10, 3), dtype)
        y = cuda.local.array((10, 3), dtype)
        g = cuda.local.array((4, 3), dtype)
        v = cuda.local.array((4, 3), dtype)
        s = cuda.local.array((4, 3), dtype)
        # grid-stride: every (element, column) pair is visited whatever the launch size
        for t in range(cuda.grid(1), count * k, cuda.gridsize(1)):
            el = t // k
            c = t - el * k
            e = start + el
            for a in range(10):
                n = cells[e, a]
                for i in range(3):
                    u[a, i] = X[3 * n + i, c]
                    y[a, i] = 0.0
            for p in range(4):
                for j in range(3):
                    g[p, j] = grads[e, 3 * p + j]
            wl = 0.25 * vlam[e]
            wm = 0.25 * vmu[e]
            for q in range(4):
                # v_p = sum_a A[a, p] u_a at point q (4 L_p - 1 on vertices, 4 L_other on edges)
                for p in range(4):
                    lp4 = qa4 if p == q else qb4
                    for i in range(3):
                        v[p, i] = (lp4 - 1.0) * u[p, i]
                for ed in range(6):
                    ii = EDGE_I[ed]
                    jj = EDGE_J[ed]
                    li4 = qa4 if ii == q else qb4
                    lj4 = qa4 if jj == q else qb4
                    for i in range(3):
                        v[ii, i] += lj4 * u[4 + ed, i]
                        v[jj, i] += li4 * u[4 + ed, i]
                # H[i, j] = sum_p v[p, i] g[p, j]; stress S = wl tr(H) I + wm (H + H^T)
                h00 = h01 = h02 = h10 = h11 = h12 = h20 = h21 = h22 = 0.0
                for p in range(4):
                    h00 += v[p, 0] * g[p, 0]
                    h01 += v[p, 0] * g[p, 1]
                    h02 += v[p, 0] * g[p, 2]
                    h10 += v[p, 1] * g[p, 0]
                    h11 += v[p, 1] * g[p, 1]
                    h12 += v[p, 1] * g[p, 2]
                    h20 += v[p, 2] * g[p, 0]
                    h21 += v[p, 2] * g[p, 1]
                    h22 += v[p, 2] * g[p, 2]
                tr = wl * (h00 + h11 + h22)
                s00 = tr + 2.0 * wm * h00
                s11 = tr + 2.0 * wm * h11
                s22 = tr + 2.0 * wm * h22
                s01 = wm * (h01 + h10)
                s02 = wm * (h02 + h20)
                s12 = wm * (h12 + h21)
                for p in range(4):
                    s[p, 0] = s00 * g[p, 0] + s01 * g[p, 1] + s02 * g[p, 2]
                    s[p, 1] = s01 * g[p, 0] + s11 * g[p, 1] + s12 * g[p, 2]
                    s[p, 2] = s02 * g[p, 0] + s12 * g[p, 1] + s22 * g[p, 2]
                # y_a += sum_p A[a, p] s_p (the transpose of the gather above)
                for p in range(4):
                    lp4 = qa4 if p == q else qb4
                    for i in range(3):
                        y[p, i] += (lp4 - 1.0) * s[p, i]
                for ed in range(6):
                    ii = EDGE_I[ed]
                    jj = EDGE_J[ed]
                    li4 = qa4 if ii == q else qb4
                    lj4 = qa4 if jj == q else qb4
                    for i in range(3):
                        y[4 + ed, i] += lj4 * s[ii, i] + li4 * s[jj, i]
            for a in range(10):
                n = cells[e, a]
                for i in range(3):
                    d = 3 * n + i
                    if atomic:
                        cuda.atomic.add(Y, (d, c), scale * mask[d] * y[a, i])
                    else:
                        Y[d, c] += scale * mask[d] * y[a, i]

    return ebe_apply


def ebe_kernel(dtype_name: str, atomic: bool):
    """The compiled-on-first-use EBE kernel for 'float64' or 'float32' data."""
    key = (dtype_name, atomic)
    if key not in _KERNELS:
        _KERNELS[key] = _make_kernel(float64 if dtype_name == "float64" else float32, atomic)
    return _KERNELS[key]


def launch_ebe(kernel, offsets, cells, grads, vlam, vmu, mask, X, Y, scale=1.0, stream=0):
    """Y += scale * mask * (K X) over element groups offsets[g]:offsets[g+1] (one launch per group).

    Y must be zeroed by the caller when Y = K X is wanted.
    """
    k = X.shape[1]
    scale = Y.dtype.type(scale)  # float32 kernels stay in float32 arithmetic
    for g in range(len(offsets) - 1):
        start, count = int(offsets[g]), int(offsets[g + 1] - offsets[g])
        if count == 0:
            continue
        blocks, threads = grid(count * k, THREADS)
        kernel[blocks, threads, stream](start, count, cells, grads, vlam, vmu, mask, scale, X, Y)
