"""Initial guesses from the GFs already solved: a Galerkin projection onto their span.

Neighbouring subfaults give similar far fields, so the solutions of earlier blocks may hold much
of a new one. With W a K-orthonormal basis (W^T K W = I) of earlier solutions, the guess

    x0 = W W^T b

is the best approximation of K^-1 b in span(W) in the energy norm (for x in span(W):
(x - x0)^T K (K^-1 b - x0) = 0). Works on host blocks in the solver's internal numbering and
needs only `ops.apply` (one operator product per stored solution, to K-orthonormalise it), so
the CPU and CUDA solvers share it. Keeps at most `max_vectors` basis vectors (the first ones).
Whether it pays is measured in bench/initial_guess.py (results: bench/results/).
"""

from __future__ import annotations

import numpy as np


class GalerkinGuess:
    def __init__(self, ops, max_vectors: int = 64, drop: float = 1e-8):
        self.ops = ops
        self.max_vectors = int(max_vectors)
        self.drop = drop  # relative K-norm below which a new direction is dropped (dependent)
        self.w = np.zeros((ops.n_dof, 0))

    @property
    def size(self) -> int:
        return self.w.shape[1]

    def guess(self, b: np.ndarray) -> np.ndarray | None:
        """x0 (n, k) for the host block b, or None while the basis is empty."""
        if self.size == 0:
            return None
        return self.w @ (self.w.T @ b)

    def _k(self, x: np.ndarray) -> np.ndarray:
        y = self.ops.empty(x.shape[1])
        self.ops.apply(self.ops.from_host(x), y)
        return self.ops.to_host(y)

    def add(self, x: np.ndarray) -> None:
        """K-orthonormalise the columns of x against the basis and each other; keep what is new."""
        room = self.max_vectors - self.size
        if room <= 0 or x.shape[1] == 0:
            return
        x = x[:, :room] if x.shape[1] > room else x
        kx = self._k(x)
        scale = np.sqrt(np.maximum(np.einsum("ij,ij->j", x, kx), 1e-300))
        v = x - self.w @ (self.w.T @ kx) if self.size else x.copy()
        kv = self._k(v) if self.size else kx
        gram = v.T @ kv
        vals, vecs = np.linalg.eigh(0.5 * (gram + gram.T))
        keep = vals > (self.drop * scale.max()) ** 2
        if not keep.any():
            return
        self.w = np.hstack([self.w, v @ (vecs[:, keep] / np.sqrt(vals[keep]))])
