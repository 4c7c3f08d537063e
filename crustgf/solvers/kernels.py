"""Numba kernels shared by the CPU solvers: threaded CSR x dense-block products."""

from __future__ import annotations

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
