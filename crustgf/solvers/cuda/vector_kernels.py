"""Numba-CUDA kernels for block vectors (ndof, k), k-interleaved: flat index f -> row f // k,
column f % k, visited in grid-stride loops (thread t does f = t, t + T, t + 2T, ...; consecutive
threads touch consecutive words, so accesses stay coalesced for any launch size).

Per-column scalars (alpha, beta) are device arrays of length k. Column dot products are computed
deterministically: each thread (g, c) sums rows g, g+G, g+2G, ... of column c into partial[g, c]
(consecutive threads read consecutive words), and the host adds the G partial sums in a fixed order.
The nodal kernels (block Jacobi, Chebyshev) use one thread per (node, column) and the inverse
3x3 diagonal block of the node, stored row-major as 9 numbers.
"""

from __future__ import annotations

from numba import config, cuda

THREADS = 256
# threads per launch at most (grid-stride beyond); few in the simulator, where each is a Python thread
MAX_THREADS = 64 if config.ENABLE_CUDASIM else 1 << 20


def grid(n_threads: int, threads: int = THREADS) -> tuple[int, int]:
    """(blocks, threads per block) covering n_threads; small launches get one small block
    (no idle threads: this matters in the CUDA simulator, where every thread is a Python thread)."""
    n_threads = min(n_threads, MAX_THREADS)
    per_block = max(1, min(threads, n_threads))
    return max(1, (n_threads + per_block - 1) // per_block), per_block


@cuda.jit
def zero(a):
    k = a.shape[1]
    for f in range(cuda.grid(1), a.shape[0] * k, cuda.gridsize(1)):
        a[f // k, f % k] = 0.0


@cuda.jit
def copy_cast(src, dst):
    """dst = src (any float types)."""
    k = src.shape[1]
    for f in range(cuda.grid(1), src.shape[0] * k, cuda.gridsize(1)):
        dst[f // k, f % k] = src[f // k, f % k]


@cuda.jit
def gather_columns(src, cols, dst):
    """dst[:, j] = src[:, cols[j]] (compaction of the active set)."""
    k = dst.shape[1]
    for f in range(cuda.grid(1), dst.shape[0] * k, cuda.gridsize(1)):
        r = f // k
        j = f % k
        dst[r, j] = src[r, cols[j]]


@cuda.jit
def partial_dots(a, b, partial):
    """partial[g, c] = sum over rows r = g (mod G) of a[r, c] * b[r, c]; G = partial.shape[0]."""
    k = a.shape[1]
    groups = partial.shape[0]
    for f in range(cuda.grid(1), groups * k, cuda.gridsize(1)):
        g = f // k
        c = f % k
        s = 0.0
        for r in range(g, a.shape[0], groups):
            s += a[r, c] * b[r, c]
        partial[g, c] = s


@cuda.jit
def partial_dots3(r, z, q, partial):
    """partial[0|1|2, g, c]: the partial sums of r.r, z.r and z.q (one pass over r, z, q)."""
    k = r.shape[1]
    groups = partial.shape[1]
    for f in range(cuda.grid(1), groups * k, cuda.gridsize(1)):
        g = f // k
        c = f % k
        rr = 0.0
        zr = 0.0
        zq = 0.0
        for i in range(g, r.shape[0], groups):
            ri = r[i, c]
            zi = z[i, c]
            rr += ri * ri
            zr += zi * ri
            zq += zi * q[i, c]
        partial[0, g, c] = rr
        partial[1, g, c] = zr
        partial[2, g, c] = zq


@cuda.jit
def update_xr(x, r, p, q, alpha):
    """x += alpha p; r -= alpha q (per column alpha)."""
    k = x.shape[1]
    for f in range(cuda.grid(1), x.shape[0] * k, cuda.gridsize(1)):
        i = f // k
        c = f % k
        a = alpha[c]
        x[i, c] += a * p[i, c]
        r[i, c] -= a * q[i, c]


@cuda.jit
def update_p(p, z, beta):
    """p = z + beta p (per column beta)."""
    k = p.shape[1]
    for f in range(cuda.grid(1), p.shape[0] * k, cuda.gridsize(1)):
        i = f // k
        c = f % k
        p[i, c] = z[i, c] + beta[c] * p[i, c]


@cuda.jit
def add_to(a, y):
    """y += a."""
    k = y.shape[1]
    for f in range(cuda.grid(1), y.shape[0] * k, cuda.gridsize(1)):
        y[f // k, f % k] += a[f // k, f % k]


@cuda.jit
def subtract(b, y, r):
    """r = b - y."""
    k = b.shape[1]
    for f in range(cuda.grid(1), b.shape[0] * k, cuda.gridsize(1)):
        i = f // k
        c = f % k
        r[i, c] = b[i, c] - y[i, c]


@cuda.jit
def block_jacobi(r, dinv, scale, z):
    """z_n = scale * Dinv_n r_n for each node n (3 dofs)."""
    k = r.shape[1]
    for f in range(cuda.grid(1), dinv.shape[0] * k, cuda.gridsize(1)):
        n = f // k
        c = f % k
        r0 = r[3 * n, c]
        r1 = r[3 * n + 1, c]
        r2 = r[3 * n + 2, c]
        for i in range(3):
            z[3 * n + i, c] = scale * (dinv[n, 3 * i] * r0 + dinv[n, 3 * i + 1] * r1
                                       + dinv[n, 3 * i + 2] * r2)


@cuda.jit
def chebyshev_first(r, dinv, scale, r_low, d, x):
    """Start of the Chebyshev iteration: r_low = r (cast), d = x = scale * Dinv r."""
    k = r.shape[1]
    for f in range(cuda.grid(1), dinv.shape[0] * k, cuda.gridsize(1)):
        n = f // k
        c = f % k
        r0 = r[3 * n, c]
        r1 = r[3 * n + 1, c]
        r2 = r[3 * n + 2, c]
        r_low[3 * n, c] = r0
        r_low[3 * n + 1, c] = r1
        r_low[3 * n + 2, c] = r2
        for i in range(3):
            v = scale * (dinv[n, 3 * i] * r0 + dinv[n, 3 * i + 1] * r1 + dinv[n, 3 * i + 2] * r2)
            d[3 * n + i, c] = v
            x[3 * n + i, c] = v


@cuda.jit
def chebyshev_step(r, kx, dinv, c1, c2, d, x):
    """d = c1 d + c2 Dinv (r - K x); x += d (per node)."""
    k = r.shape[1]
    for f in range(cuda.grid(1), dinv.shape[0] * k, cuda.gridsize(1)):
        n = f // k
        c = f % k
        e0 = r[3 * n, c] - kx[3 * n, c]
        e1 = r[3 * n + 1, c] - kx[3 * n + 1, c]
        e2 = r[3 * n + 2, c] - kx[3 * n + 2, c]
        for i in range(3):
            j = 3 * n + i
            v = c1 * d[j, c] + c2 * (dinv[n, 3 * i] * e0 + dinv[n, 3 * i + 1] * e1
                                     + dinv[n, 3 * i + 2] * e2)
            d[j, c] = v
            x[j, c] += v
