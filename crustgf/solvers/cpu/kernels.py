"""Numba kernels shared by the CPU solvers: threaded CSR x dense-block products."""

from __future__ import annotations

import os

# Threads that wait at the end of a parallel loop sleep instead of spinning (libgomp reads this
# when Numba first starts its OpenMP pool). Spinning steals the cores from the thread still
# working when the machine is shared: on 2 busy cores a multigrid solve took 14 s with spinning,
# 6.7 s passive, 6.9 s on one thread (92k dofs, 16 right-hand sides, load average ~8).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True)
def _csr_matmat(indptr, indices, data, X, Y):
    k = X.shape[1]
    for r in nb.prange(indptr.shape[0] - 1):
        acc = np.zeros(k)
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            c = indices[p]
            for j in range(k):
                acc[j] += v * X[c, j]
        for j in range(k):
            Y[r, j] = acc[j]


def csr_matmat(A, X):
    """A @ X for CSR A and a dense block X (n, k), threaded over rows (float64)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    squeeze = X.ndim == 1
    X2 = X.reshape(len(X), -1)
    Y = np.empty((A.shape[0], X2.shape[1]))
    _csr_matmat(A.indptr, A.indices, A.data, X2, Y)
    return Y[:, 0] if squeeze else Y


# --- block-vector kernels of the CPU multigrid solver (crustgf.solvers.cpu.multigrid.CpuOps). Block vectors are
# C-order (n, k): a row's k columns are contiguous, so the inner loops over columns vectorise and
# a matrix entry is read once for all k right-hand sides. Rows are cut into CHUNKS chunks
# (prange over chunks), so per-chunk scratch is allocated once, not per row.

CHUNKS = 64  # row chunks per parallel loop (load balance on few cores, scratch allocated per chunk)


@nb.njit(cache=True, parallel=True)
def spmm(indptr, indices, data, x, y, alpha, beta):
    """y = alpha A x + beta y (beta 0: y only written); accumulates in y's precision."""
    n = y.shape[0]
    k = y.shape[1]
    step = (n + CHUNKS - 1) // CHUNKS
    for ch in nb.prange(CHUNKS):
        acc = np.empty(k, dtype=y.dtype)
        for r in range(ch * step, min(n, (ch + 1) * step)):
            acc[:] = 0.0
            for p in range(indptr[r], indptr[r + 1]):
                v = data[p]
                c = indices[p]
                for j in range(k):
                    acc[j] += v * x[c, j]
            if beta == 0.0:
                for j in range(k):
                    y[r, j] = alpha * acc[j]
            else:
                for j in range(k):
                    y[r, j] = alpha * acc[j] + beta * y[r, j]


@nb.njit(cache=True, parallel=True)
def bsr3_spmm(indptr, indices, data, x, y, alpha, beta):
    """y = alpha A x + beta y for A in 3x3 block rows (BSR: data (nnzb, 3, 3)); the elastic
    stiffness's node-node blocks. Each block's three x rows are loaded once for its three output
    rows (~1.35x faster than the CSR kernel on the TET10 stiffness, one index per 9 entries)."""
    nbr = indptr.shape[0] - 1
    k = y.shape[1]
    step = (nbr + CHUNKS - 1) // CHUNKS
    for ch in nb.prange(CHUNKS):
        a0 = np.empty(k, dtype=y.dtype)
        a1 = np.empty(k, dtype=y.dtype)
        a2 = np.empty(k, dtype=y.dtype)
        for br in range(ch * step, min(nbr, (ch + 1) * step)):
            a0[:] = 0.0
            a1[:] = 0.0
            a2[:] = 0.0
            for p in range(indptr[br], indptr[br + 1]):
                c = 3 * indices[p]
                b = data[p]
                for j in range(k):
                    x0 = x[c, j]
                    x1 = x[c + 1, j]
                    x2 = x[c + 2, j]
                    a0[j] += b[0, 0] * x0 + b[0, 1] * x1 + b[0, 2] * x2
                    a1[j] += b[1, 0] * x0 + b[1, 1] * x1 + b[1, 2] * x2
                    a2[j] += b[2, 0] * x0 + b[2, 1] * x1 + b[2, 2] * x2
            r = 3 * br
            if beta == 0.0:
                for j in range(k):
                    y[r, j] = alpha * a0[j]
                    y[r + 1, j] = alpha * a1[j]
                    y[r + 2, j] = alpha * a2[j]
            else:
                for j in range(k):
                    y[r, j] = alpha * a0[j] + beta * y[r, j]
                    y[r + 1, j] = alpha * a1[j] + beta * y[r + 1, j]
                    y[r + 2, j] = alpha * a2[j] + beta * y[r + 2, j]


@nb.njit(cache=True, parallel=True)
def column_dots(a, b, out):
    """out[j] = sum_i a[i, j] b[i, j] in float64 (fixed chunk order: deterministic)."""
    n, k = a.shape
    step = (n + CHUNKS - 1) // CHUNKS
    part = np.zeros((CHUNKS, k))
    for ch in nb.prange(CHUNKS):
        for i in range(ch * step, min(n, (ch + 1) * step)):
            for j in range(k):
                part[ch, j] += a[i, j] * b[i, j]
    for j in range(k):
        out[j] = 0.0
    for ch in range(CHUNKS):
        for j in range(k):
            out[j] += part[ch, j]


@nb.njit(cache=True, parallel=True)
def update_xr(x, r, p, q, alpha):
    """x += alpha p; r -= alpha q (alpha per column)."""
    k = x.shape[1]
    for i in nb.prange(x.shape[0]):
        for j in range(k):
            x[i, j] += alpha[j] * p[i, j]
            r[i, j] -= alpha[j] * q[i, j]


@nb.njit(cache=True, parallel=True)
def update_p(p, z, beta):
    """p = z + beta p (beta per column)."""
    k = p.shape[1]
    for i in nb.prange(p.shape[0]):
        for j in range(k):
            p[i, j] = z[i, j] + beta[j] * p[i, j]


@nb.njit(cache=True, parallel=True)
def axpby(a, b, ca, cb, out):
    """out = ca a + cb b elementwise (any float types; out may alias a or b)."""
    k = out.shape[1]
    for i in nb.prange(out.shape[0]):
        for j in range(k):
            out[i, j] = ca * a[i, j] + cb * b[i, j]


@nb.njit(cache=True, parallel=True)
def nodal_chebyshev(r, kx, use_kx, dinv, c1, c2, d, x, r_low, first):
    """Block-Jacobi Chebyshev on 3x3 nodal blocks (dinv (nn, 9), row-major):
    first: d = x = c2 Dinv r and r_low = r (cast);  else: d = c1 d + c2 Dinv (r - kx); x += d.
    use_kx False: the residual is r itself (block Jacobi: z = c2 Dinv r into d and x)."""
    k = r.shape[1]
    for nd in nb.prange(dinv.shape[0]):
        for j in range(k):
            v0 = r[3 * nd, j]
            v1 = r[3 * nd + 1, j]
            v2 = r[3 * nd + 2, j]
            if first:
                r_low[3 * nd, j] = v0
                r_low[3 * nd + 1, j] = v1
                r_low[3 * nd + 2, j] = v2
            if use_kx:
                v0 -= kx[3 * nd, j]
                v1 -= kx[3 * nd + 1, j]
                v2 -= kx[3 * nd + 2, j]
            for c in range(3):
                w = c2 * (dinv[nd, 3 * c] * v0 + dinv[nd, 3 * c + 1] * v1 + dinv[nd, 3 * c + 2] * v2)
                if first:
                    d[3 * nd + c, j] = w
                    x[3 * nd + c, j] = w
                else:
                    w += c1 * d[3 * nd + c, j]
                    d[3 * nd + c, j] = w
                    x[3 * nd + c, j] += w


@nb.njit(cache=True, parallel=True)
def point_chebyshev(r, kx, use_kx, dinv, c1, c2, d, x, first):
    """Point-Jacobi Chebyshev: first: d = x = c2 Dinv r; else d = c1 d + c2 Dinv (r - kx); x += d."""
    k = r.shape[1]
    for i in nb.prange(r.shape[0]):
        for j in range(k):
            v = r[i, j] - kx[i, j] if use_kx else r[i, j]
            w = c2 * dinv[i] * v
            if first:
                d[i, j] = w
                x[i, j] = w
            else:
                w += c1 * d[i, j]
                d[i, j] = w
                x[i, j] += w


@nb.njit(cache=True, parallel=True)
def mask_csr(indptr, indices, data, mask):
    """data[p] *= mask[row] * mask[col]: zero the rows and columns of fixed dofs in place."""
    for r in nb.prange(indptr.shape[0] - 1):
        for p in range(indptr[r], indptr[r + 1]):
            data[p] *= mask[r] * mask[indices[p]]
