"""Block conjugate gradients preconditioned by smoothed-aggregation AMG (pyamg hierarchy).

The hierarchy is built once from K (as 3x3 BSR, so aggregates are whole nodes) and the six
rigid-body modes of the free nodes (the near-null space of elasticity). The V-cycle is our own so
that it acts on a whole block of right-hand sides at once: Chebyshev smoothing (degree 2, Jacobi-
scaled, symmetric, so the V-cycle is an SPD preconditioner) built only from threaded sparse x
block products, and a dense Cholesky on the coarsest level. CG runs all columns together, each
with its own step lengths, and stops updating a column once its residual is below rtol.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from crustgf.solvers.cpu.kernels import csr_matmat
from crustgf.solvers.residual import true_relative_residual


def rigid_body_modes(coords: np.ndarray) -> np.ndarray:
    """(3n, 6) translations and rotations of nodes coords (n, 3), dof order 3*node + component.

    Coordinates are centred and scaled to unit size first (better conditioned aggregates)."""
    x = np.asarray(coords, dtype=float)
    x = (x - x.mean(axis=0)) / max(np.ptp(x), 1e-300)
    n = len(x)
    B = np.zeros((n, 3, 6))
    for c in range(3):
        B[:, c, c] = 1.0
    # rotations about z, x, y: (-y, x, 0), (0, -z, y), (z, 0, -x)
    B[:, 0, 3], B[:, 1, 3] = -x[:, 1], x[:, 0]
    B[:, 1, 4], B[:, 2, 4] = -x[:, 2], x[:, 1]
    B[:, 2, 5], B[:, 0, 5] = -x[:, 0], x[:, 2]
    return B.reshape(3 * n, 6)


class _Level:
    def __init__(self, A, P=None, R=None, degree=2):
        self.A = sp.csr_matrix(A)
        self.A.sort_indices()
        self.P = None if P is None else sp.csr_matrix(P)
        self.R = None if R is None else sp.csr_matrix(R)
        self.dinv = 1.0 / self.A.diagonal()
        self.degree = degree
        self._chebyshev_bounds()

    def _chebyshev_bounds(self):
        """Target the upper part of the spectrum of D^-1 A: [lmax/30, 1.1 lmax] (power iteration)."""
        rng = np.random.default_rng(0)
        v = rng.standard_normal(self.A.shape[0])
        lam = 1.0
        for _ in range(15):
            w = self.dinv * csr_matmat(self.A, v)
            lam = np.linalg.norm(w) / np.linalg.norm(v)
            v = w / np.linalg.norm(w)
        self.upper = 1.1 * lam
        self.lower = self.upper / 30.0

    def smooth(self, X, B):
        """Chebyshev iteration of the given degree on A X = B starting from X (returns the new X)."""
        theta = 0.5 * (self.upper + self.lower)
        delta = 0.5 * (self.upper - self.lower)
        sigma = theta / delta
        rho = 1.0 / sigma
        R = B - csr_matmat(self.A, X)
        D = (self.dinv[:, None] * R) / theta
        X = X + D
        for _ in range(self.degree - 1):
            rho_new = 1.0 / (2.0 * sigma - rho)
            R -= csr_matmat(self.A, D)
            D = rho_new * rho * D + (2.0 * rho_new / delta) * (self.dinv[:, None] * R)
            X = X + D
            rho = rho_new
        return X


class AmgVCycle:
    """Symmetric V-cycle on a block of vectors, from a pyamg smoothed-aggregation hierarchy."""

    def __init__(self, K, near_null, max_coarse=600, degree=2):
        import pyamg

        Kb = sp.bsr_matrix(K, blocksize=(3, 3))
        ml = pyamg.smoothed_aggregation_solver(
            Kb, B=near_null, symmetry="hermitian", strength="symmetric", max_coarse=max_coarse,
            keep=False,
        )
        self.levels = []
        for i, lev in enumerate(ml.levels):
            last = i == len(ml.levels) - 1
            self.levels.append(_Level(lev.A, None if last else lev.P, None if last else lev.R, degree))
        coarse = self.levels[-1].A.toarray()
        self.coarse_factor = sla.cho_factor(coarse)
        self.operator_complexity = ml.operator_complexity()
        self.n_levels = len(ml.levels)

    def apply(self, R):
        return self._cycle(0, R)

    def _cycle(self, i, B):
        lev = self.levels[i]
        if i == len(self.levels) - 1:
            return sla.cho_solve(self.coarse_factor, B)
        X = lev.smooth(np.zeros_like(B), B)
        Rc = csr_matmat(lev.R, B - csr_matmat(lev.A, X))
        X = X + csr_matmat(lev.P, self._cycle(i + 1, Rc))
        return lev.smooth(X, B)


def block_pcg(K, B, precond, rtol, max_iterations):
    """Preconditioned CG on every column of B at once; returns (X, iterations (k,)).

    rtol: scalar or per-column (k,) relative tolerance.

    Converged columns (recursive residual <= rtol ||b||) are frozen and dropped from the work."""
    n, k = B.shape
    tol = np.broadcast_to(np.asarray(rtol, dtype=float), (k,)) * np.linalg.norm(B, axis=0)
    X = np.zeros((n, k))
    bnorm = np.linalg.norm(B, axis=0)
    iters = np.zeros(k, dtype=np.int64)
    active = np.flatnonzero(bnorm > 0)
    R = B[:, active].copy()
    Z = precond(R)
    P = Z.copy()
    rz = np.einsum("ij,ij->j", R, Z)
    for it in range(1, max_iterations + 1):
        if len(active) == 0:
            break
        Q = csr_matmat(K, P)
        alpha = rz / np.einsum("ij,ij->j", P, Q)
        X[:, active] += alpha * P
        R -= alpha * Q
        iters[active] = it
        done = np.linalg.norm(R, axis=0) <= tol[active]
        if done.any():
            keep = ~done
            active, R, P, rz = active[keep], R[:, keep], P[:, keep], rz[keep]
            if len(active) == 0:
                break
        Z = precond(R)
        rz_new = np.einsum("ij,ij->j", R, Z)
        P = Z + (rz_new / rz) * P
        rz = rz_new
    return X, iters


class AmgBlockCG:
    """`AmgBlockCG(K, free_node_coords)`: SA-AMG preconditioner built once; `.solve(B)` block PCG."""

    def __init__(self, K, free_node_coords, rtol=1e-8, max_iterations=5000):
        if free_node_coords is None or 3 * len(free_node_coords) != K.shape[0]:
            raise ValueError("AMG needs the coordinates of the free nodes (3 dofs each)")
        self.K = sp.csr_matrix(K)
        self.rtol = rtol
        self.max_iterations = max_iterations
        self.vcycle = AmgVCycle(self.K, rigid_body_modes(free_node_coords))

    def solve(self, B):
        """X for K X = B (n, k); returns (X, true relative residual, iterations). One refinement
        pass runs CG again on the true residual of any column the recursion lost track of."""
        B = np.asarray(B, dtype=np.float64).reshape(self.K.shape[0], -1)
        X, iters = block_pcg(self.K, B, self.vcycle.apply, self.rtol, self.max_iterations)
        res = true_relative_residual(self.K, X, B)
        again = np.flatnonzero(res > self.rtol)
        if len(again):
            Rt = B[:, again] - csr_matmat(self.K, X[:, again])
            scale = np.linalg.norm(B[:, again], axis=0) / np.linalg.norm(Rt, axis=0)
            dX, it2 = block_pcg(self.K, Rt, self.vcycle.apply, 0.5 * self.rtol * scale, self.max_iterations)
            X[:, again] += dX
            iters[again] += it2
            res = true_relative_residual(self.K, X, B)
        return X, res, iters
