"""Preconditioners for block_pcg.py, written against the same `ops` objects.

- "jacobi": point Jacobi, z = diag(K)^-1 r (the baseline).
- "block-jacobi": z = D^-1 r with D the 3x3 nodal diagonal blocks of K (couples the three
  components of a node, which the elastic operator couples strongly).
- "chebyshev" (default): a degree-m Chebyshev polynomial in D^-1 K applied to r, in float32:
  z = p(D^-1 K) D^-1 r, the polynomial that makes  1 - lambda p(lambda)  smallest (Chebyshev) on
  [lmax / ratio, lmax], lmax the largest eigenvalue of D^-1 K estimated by a few Lanczos steps
  (from block-Jacobi CG coefficients) times a safety factor 1.1. For lambda in (0, 1.1 lmax] the
  residual polynomial lies in (-1, 1), so lambda p(lambda) > 0: the preconditioner is symmetric
  positive definite (up to float32 rounding, which the flexible beta in block_pcg absorbs).
  It cuts the CG iteration count (fewer float64 reductions and host round trips) at the price of
  m-1 float32 operator products per iteration; each float32 product moves about half the bytes.
"""

from __future__ import annotations

import numpy as np

from crustgf.solvers.block_pcg import block_pcg

SAFETY = 1.1


def chebyshev_coefficients(lower, upper, degree):
    """The Chebyshev iteration on [lower, upper] from x = 0, as the smoothers here use it:
    d = x = first * Dinv r, then for each (c1, c2) of steps: d = c1 d + c2 Dinv (r - A x), x += d
    (degree - 1 steps, one product with A each). Returns (first, steps)."""
    theta = 0.5 * (upper + lower)
    delta = 0.5 * (upper - lower)
    sigma = theta / delta
    rho = 1.0 / sigma
    steps = []
    for _ in range(degree - 1):
        rho_new = 1.0 / (2.0 * sigma - rho)
        steps.append((rho_new * rho, 2.0 * rho_new / delta))
        rho = rho_new
    return 1.0 / theta, steps


class Jacobi:
    """Point ('point') or 3x3 nodal block ('block') Jacobi in float64."""

    def __init__(self, ops, kind="block"):
        self.ops = ops
        self.dinv = ops.inverse_blocks(kind, low=False)
        self.degree = 1

    def apply(self, r, z):
        self.ops.block_jacobi(r, self.dinv, 1.0, z)


def estimate_lmax(ops, iterations=20, seed=0) -> float:
    """Largest eigenvalue of D^-1 K (D: nodal 3x3 blocks) from the Lanczos tridiagonal of CG."""
    rng = np.random.default_rng(seed)
    b_host = rng.standard_normal((ops.n_dof, 1)) * ops.data.mask[:, None]
    out = block_pcg(ops, Jacobi(ops, "block"), ops.from_host(b_host), 0.0, iterations,
                    record=True, flexible=False)
    alphas = np.array([a[0] for a in out.alphas])
    betas = np.array([b[0] for b in out.betas])
    m = len(alphas)
    if m == 0:
        return 1.0
    diag = 1.0 / alphas
    diag[1:] += betas[:-1] / alphas[:-1]
    off = np.sqrt(np.abs(betas[:-1])) / alphas[:-1]
    t = np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)
    return float(np.linalg.eigvalsh(t).max())


class Chebyshev:
    """Chebyshev-accelerated 3x3 block Jacobi in float32 (degree >= 1; degree 1 = block Jacobi)."""

    def __init__(self, ops, degree=4, ratio=30.0, lmax=None):
        self.ops = ops
        self.degree = int(degree)
        self.lmax = SAFETY * (estimate_lmax(ops) if lmax is None else lmax)
        self.lmin = self.lmax / ratio
        self.dinv = ops.inverse_blocks("block", low=True)
        self._work = None

    def _buffers(self, k):
        if self._work is None or self._work[0].shape[1] != k:
            self._work = tuple(self.ops.empty(k, low=True) for _ in range(4))
        return self._work

    def smooth(self, r, out=None):
        """p(D^-1 K) D^-1 r in float32 (r float64 or float32), accumulated in `out` (float32)
        when given, else in an internal buffer; returns it."""
        ops = self.ops
        r_low, d, x, kx = self._buffers(r.shape[1])
        x = x if out is None else out
        first, steps = chebyshev_coefficients(self.lmin, self.lmax, self.degree)
        ops.chebyshev_first(r, self.dinv, first, r_low, d, x)
        for c1, c2 in steps:
            ops.apply_low(x, kx)
            ops.chebyshev_step(r_low, kx, self.dinv, c1, c2, d, x)
        return x

    def apply(self, r, z):
        self.ops.copy_cast(self.smooth(r), z)
