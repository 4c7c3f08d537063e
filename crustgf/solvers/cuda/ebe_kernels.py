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
point q the displacement gradient is H_q = sum_a u_a grad N_a(q)^T, the stress is
S_q = lambda tr(H_q) I + mu (H_q + H_q^T), and node a receives (V/4) sum_q S_q grad N_a(q).
Both sums stream over the nodes: a thread keeps the four H_q (36 numbers) and the gradients g_p
(12), never the element's 30 displacements or 30 results, which keeps registers, hence occupancy,
in check (bench/kernel_resources.py).

Scatter: two variants.
- "colour" (default): elements are grouped in colours that share no node (reorder.py); one launch
  per colour does a plain read-modify-write. Deterministic (bitwise reproducible) and no atomics.
- "atomic": one launch over all elements with atomic adds (float64 atomics need sm_60+);
  fewer launches, but the summation order, hence the last bits, vary from run to run.
Dirichlet dofs are handled by masking: the result is multiplied by mask[dof] (1 free, 0 fixed).
"""

from __future__ import annotations

import numpy as np
from numba import config, cuda, float32, float64

from crustgf.solvers.cuda.tet10 import QA, QB
from crustgf.solvers.cuda.vector_kernels import grid

EDGE_I = np.array([0, 1, 0, 0, 1, 2], dtype=np.int32)
EDGE_J = np.array([1, 2, 2, 3, 3, 3], dtype=np.int32)
THREADS = 128

_KERNELS: dict = {}


QA4 = 4.0 * QA
QB4 = 4.0 * QB


@cuda.jit(device=True, inline=True)
def _shape_gradient(a, q, g):
    """grad N_a at quadrature point q (L_q = QA, the others QB) from the barycentric gradients g:
    vertex a: (4 L_a - 1) g_a; edge (i, j): 4 L_j g_i + 4 L_i g_j."""
    if a < 4:
        f = (QA4 if a == q else QB4) - 1.0
        return f * g[a, 0], f * g[a, 1], f * g[a, 2]
    i = EDGE_I[a - 4]
    j = EDGE_J[a - 4]
    fi = QA4 if j == q else QB4
    fj = QA4 if i == q else QB4
    return (fi * g[i, 0] + fj * g[j, 0], fi * g[i, 1] + fj * g[j, 1], fi * g[i, 2] + fj * g[j, 2])


def _make_kernel(dtype, atomic: bool, max_registers: int | None = None):
    options = {"fastmath": False}
    if max_registers and not config.ENABLE_CUDASIM:  # the simulator has no such option
        options["max_registers"] = int(max_registers)

    @cuda.jit(**options)
    def ebe_apply(start, count, cells, grads, vlam, vmu, mask, scale, X, Y):
        k = X.shape[1]
        g = cuda.local.array((4, 3), dtype)
        h = cuda.local.array((4, 9), dtype)  # H at each quadrature point, then the stress
        # grid-stride: every (element, column) pair is visited whatever the launch size
        for t in range(cuda.grid(1), count * k, cuda.gridsize(1)):
            el = t // k
            c = t - el * k
            e = start + el
            for p in range(4):
                for j in range(3):
                    g[p, j] = grads[e, 3 * p + j]
            for q in range(4):
                for m in range(9):
                    h[q, m] = 0.0
            # gather, streaming over the nodes: H_q += u_a grad N_a(q)^T (u_a is not kept)
            for a in range(10):
                n = cells[e, a]
                u0 = X[3 * n, c]
                u1 = X[3 * n + 1, c]
                u2 = X[3 * n + 2, c]
                for q in range(4):
                    d0, d1, d2 = _shape_gradient(a, q, g)
                    h[q, 0] += u0 * d0
                    h[q, 1] += u0 * d1
                    h[q, 2] += u0 * d2
                    h[q, 3] += u1 * d0
                    h[q, 4] += u1 * d1
                    h[q, 5] += u1 * d2
                    h[q, 6] += u2 * d0
                    h[q, 7] += u2 * d1
                    h[q, 8] += u2 * d2
            # stress times the weight: S = (V/4) (lambda tr(H) I + mu (H + H^T)), 6 numbers
            wl = 0.25 * vlam[e]
            wm = 0.25 * vmu[e]
            for q in range(4):
                tr = wl * (h[q, 0] + h[q, 4] + h[q, 8])
                s01 = wm * (h[q, 1] + h[q, 3])
                s02 = wm * (h[q, 2] + h[q, 6])
                s12 = wm * (h[q, 5] + h[q, 7])
                h[q, 0] = tr + 2.0 * wm * h[q, 0]
                h[q, 4] = tr + 2.0 * wm * h[q, 4]
                h[q, 8] = tr + 2.0 * wm * h[q, 8]
                h[q, 1] = s01
                h[q, 2] = s02
                h[q, 5] = s12
            # scatter, node by node: y_a = sum_q S_q grad N_a(q)
            for a in range(10):
                y0 = 0.0
                y1 = 0.0
                y2 = 0.0
                for q in range(4):
                    d0, d1, d2 = _shape_gradient(a, q, g)
                    y0 += h[q, 0] * d0 + h[q, 1] * d1 + h[q, 2] * d2
                    y1 += h[q, 1] * d0 + h[q, 4] * d1 + h[q, 5] * d2
                    y2 += h[q, 2] * d0 + h[q, 5] * d1 + h[q, 8] * d2
                n = cells[e, a]
                if atomic:
                    cuda.atomic.add(Y, (3 * n, c), scale * mask[3 * n] * y0)
                    cuda.atomic.add(Y, (3 * n + 1, c), scale * mask[3 * n + 1] * y1)
                    cuda.atomic.add(Y, (3 * n + 2, c), scale * mask[3 * n + 2] * y2)
                else:
                    Y[3 * n, c] += scale * mask[3 * n] * y0
                    Y[3 * n + 1, c] += scale * mask[3 * n + 1] * y1
                    Y[3 * n + 2, c] += scale * mask[3 * n + 2] * y2

    return ebe_apply


def ebe_kernel(dtype_name: str, atomic: bool, max_registers: int | None = None):
    """The compiled-on-first-use EBE kernel for 'float64' or 'float32' data.

    max_registers caps the registers per thread (None: the compiler's choice). ptxas for sm_90
    gives the kernels 119 (float64) and 92 (float32) registers and no spills (at most 17 and 22
    resident warps per SM); a cap raises occupancy at the price of spills
    (bench/kernel_resources.py); which wins is for bench/gpu_bench.py to measure."""
    key = (dtype_name, atomic, max_registers)
    if key not in _KERNELS:
        _KERNELS[key] = _make_kernel(float64 if dtype_name == "float64" else float32, atomic, max_registers)
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
