"""The true relative residual every solver reports (recomputed in float64 after the solve)."""

from __future__ import annotations

import numpy as np

from crustgf.solvers.cpu.kernels import csr_matmat


def true_relative_residual(K, X, B) -> np.ndarray:
    """||b - K x||_2 / ||b||_2 per column, in float64 (0 where b = 0 and x = 0)."""
    X = np.asarray(X, dtype=np.float64).reshape(len(B), -1)
    B = np.asarray(B, dtype=np.float64).reshape(len(X), -1)
    R = B - csr_matmat(K, X)
    nb = np.linalg.norm(B, axis=0)
    nr = np.linalg.norm(R, axis=0)
    return np.divide(nr, nb, out=nr.copy(), where=nb > 0)
