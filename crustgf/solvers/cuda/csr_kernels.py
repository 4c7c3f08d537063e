"""Numba-CUDA kernels for the assembled levels of the multigrid preconditioner (multigrid.py):
CSR matrix times a block of vectors and point-Jacobi Chebyshev steps.

Block vectors are (n, k), k-interleaved, visited in grid-stride loops over (row, column) pairs as
in vector_kernels.py: the threads of one row read the same matrix entries (cached) and
consecutive words of x and y. Sums are accumulated in float64 whatever the storage type.
"""

from __future__ import annotations

from numba import cuda


@cuda.jit
def spmm(indptr, indices, values, x, beta, y):
    """y = A x + beta y (beta = 0: y is only written, so it may hold garbage)."""
    k = y.shape[1]
    for f in range(cuda.grid(1), y.shape[0] * k, cuda.gridsize(1)):
        i = f // k
        c = f % k
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += values[p] * x[indices[p], c]
        if beta == 0.0:
            y[i, c] = s
        else:
            y[i, c] = s + beta * y[i, c]


@cuda.jit
def point_chebyshev_first(r, dinv, scale, d, x):
    """d = x = scale * Dinv r (Dinv diagonal, one number per row)."""
    k = r.shape[1]
    for f in range(cuda.grid(1), r.shape[0] * k, cuda.gridsize(1)):
        i = f // k
        c = f % k
        v = scale * dinv[i] * r[i, c]
        d[i, c] = v
        x[i, c] = v


@cuda.jit
def point_chebyshev_step(r, kx, dinv, c1, c2, d, x):
    """d = c1 d + c2 Dinv (r - K x); x += d."""
    k = r.shape[1]
    for f in range(cuda.grid(1), r.shape[0] * k, cuda.gridsize(1)):
        i = f // k
        c = f % k
        v = c1 * d[i, c] + c2 * dinv[i] * (r[i, c] - kx[i, c])
        d[i, c] = v
        x[i, c] += v
