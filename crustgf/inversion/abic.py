"""Regularised least squares with the weight chosen by ABIC (Yabuki & Matsu'ura 1992).

Model: d = G m + e with e ~ N(0, sigma^2 E) (E diagonal, from the data's sigmas), and a smoothness
prior  D m ~ N(0, sigma^2 / alpha^2 I), i.e. prior precision alpha^2 B / sigma^2 with B = D^T D of
rank P. With whitened G, d (rows divided by the data sigmas) and H = G^T G + alpha^2 B:

    m*(alpha^2)  = H^-1 G^T d
    s(alpha^2)   = |d - G m*|^2 + alpha^2 m*^T B m*
    ABIC(alpha^2) = (N + P - M) log s - P log alpha^2 + log det H      (+ a constant)
    sigma^2_hat  = s / (N + P - M),    posterior covariance  C = sigma^2_hat H^-1

N data, M unknowns. ABIC is minimised over a log grid of alpha^2, then refined by a bounded
scalar search between the best grid point's neighbours. A minimum on the grid's edge is reported
(`at_edge`): with noise-free data ABIC falls without end as alpha^2 -> 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor

from crustgf.core.errors import CrustgfError


@dataclass
class AbicResult:
    m: np.ndarray  # (M,) best model
    covariance: np.ndarray  # (M, M) posterior covariance
    alpha2: float  # chosen weight
    sigma2: float  # estimated data-variance scale (1 when the sigmas are right)
    abic: float
    grid_alpha2: np.ndarray  # the log grid
    grid_abic: np.ndarray
    at_edge: bool  # minimum on the grid's edge: no interior minimum found


class _Pencil:
    """ABIC for any alpha^2 in O(M^2) after one generalised eigendecomposition.

    With C = A + a0 B (A = G^T G, a0 = the reference weight), solve A v = mu C v with V^T C V = I:
    then V^T A V = diag(mu), V^T (a0 B) V = diag(1 - mu), and for alpha^2 = t a0
        H = A + alpha^2 B,   V^T H V = diag(h),  h = mu + t (1 - mu),
        log det H = sum log h + log det C,   m = V (V^T G^T d / h),   H^-1 = V diag(1 / h) V^T.
    The misfit is computed explicitly from m (no cancellation for tiny misfits).
    """

    def __init__(self, G, d, B, rank, a0):
        from scipy.linalg import eigh

        self.G, self.d, self.B, self.rank, self.a0 = G, d, B, rank, a0
        A = G.T @ G
        C = A + a0 * B
        try:
            self.logdet_c = 2.0 * np.sum(np.log(np.diag(cho_factor(C, lower=True, check_finite=False)[0])))
            mu, self.V = eigh(A, C, check_finite=False)
        except np.linalg.LinAlgError:
            raise CrustgfError(
                "invert: the normal equations are singular "
                "(some slip pattern moves no observed station and is not smoothed)"
            ) from None
        self.mu = np.clip(mu, 0.0, 1.0)
        self.y = self.V.T @ (G.T @ d)

    def h(self, alpha2):
        return self.mu + (alpha2 / self.a0) * (1.0 - self.mu)

    def evaluate(self, alpha2):
        """(ABIC, m, s) at weight alpha2."""
        h = self.h(alpha2)
        m = self.V @ (self.y / h)
        s = float(np.sum((self.d - self.G @ m) ** 2)) + alpha2 * float(m @ self.B @ m)
        n_data, M = self.G.shape
        logdet = np.sum(np.log(h)) + self.logdet_c
        abic = (n_data + self.rank - M) * np.log(max(s, 1e-300)) - self.rank * np.log(alpha2) + logdet
        return abic, m, s

    def inverse_h(self, alpha2):
        return (self.V / self.h(alpha2)) @ self.V.T


def abic_inversion(G: np.ndarray, d: np.ndarray, B: np.ndarray, rank: int, n_grid: int = 41,
                   decades: tuple[float, float] = (-8.0, 4.0)) -> AbicResult:
    """Minimise ABIC over alpha^2 for whitened G (N, M), d (N,), smoothing B (M, M) of rank `rank`.

    The grid spans `decades` around alpha0^2 = trace(G^T G) / trace(B), which balances the two terms.
    """
    from scipy.optimize import minimize_scalar

    n_data, M = G.shape
    dof = n_data + rank - M
    if dof <= 0:
        raise CrustgfError(f"invert: {n_data} data are too few for {M} unknowns with this smoothing")
    scale = float(np.sum(G * G)) / max(float(np.trace(B)), 1e-300)  # trace(G^T G) / trace(B)
    pencil = _Pencil(G, d, B, rank, scale)
    logs = np.linspace(*decades, n_grid) + np.log10(scale)
    values = np.array([pencil.evaluate(10.0**x)[0] for x in logs])
    k = int(np.argmin(values))
    at_edge = k in (0, n_grid - 1)
    best = logs[k]
    if not at_edge:
        res = minimize_scalar(lambda x: pencil.evaluate(10.0**x)[0], bounds=(logs[k - 1], logs[k + 1]),
                              method="bounded", options={"xatol": 1e-3})
        if res.fun < values[k]:
            best = float(res.x)
    alpha2 = 10.0**best
    abic, m, s = pencil.evaluate(alpha2)
    cov = (s / dof) * pencil.inverse_h(alpha2)
    return AbicResult(m=m, covariance=cov, alpha2=alpha2, sigma2=s / dof, abic=abic,
                      grid_alpha2=10.0**logs, grid_abic=values, at_edge=at_edge)
