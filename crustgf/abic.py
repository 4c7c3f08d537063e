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
from scipy.linalg import cho_factor, cho_solve

from .errors import CrustgfError


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


def _evaluate(G, d, GtG, Gtd, B, rank, alpha2, want_cov=False):
    n_data, M = G.shape
    H = GtG + alpha2 * B
    try:
        cho = cho_factor(H, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise CrustgfError(
            f"invert: the normal equations are singular at alpha^2 = {alpha2:.3g} "
            "(some slip pattern moves no observed station and is not smoothed)"
        ) from None
    m = cho_solve(cho, Gtd, check_finite=False)
    misfit = float(np.sum((d - G @ m) ** 2))  # explicit: no cancellation for tiny misfits
    s = misfit + alpha2 * (m @ B @ m)
    dof = n_data + rank - M
    logdet = 2.0 * np.sum(np.log(np.diag(cho[0])))
    abic = dof * np.log(max(s, 1e-300)) - rank * np.log(alpha2) + logdet
    cov = (s / dof) * cho_solve(cho, np.eye(M), check_finite=False) if want_cov else None
    return abic, m, s, cov


def abic_inversion(G: np.ndarray, d: np.ndarray, B: np.ndarray, rank: int, n_grid: int = 41,
                   decades: tuple[float, float] = (-8.0, 4.0)) -> AbicResult:
    """Minimise ABIC over alpha^2 for whitened G (N, M), d (N,), smoothing B (M, M) of rank `rank`.

    The grid spans `decades` around alpha0^2 = trace(G^T G) / trace(B), which balances the two terms.
    """
    from scipy.optimize import minimize_scalar

    n_data, M = G.shape
    if n_data + rank - M <= 0:
        raise CrustgfError(f"invert: {n_data} data are too few for {M} unknowns with this smoothing")
    GtG, Gtd = G.T @ G, G.T @ d
    scale = np.trace(GtG) / max(np.trace(B), 1e-300)
    logs = np.linspace(*decades, n_grid) + np.log10(scale)
    values = np.array([_evaluate(G, d, GtG, Gtd, B, rank, 10.0**x)[0] for x in logs])
    k = int(np.argmin(values))
    at_edge = k in (0, n_grid - 1)
    best = logs[k]
    if not at_edge:
        res = minimize_scalar(lambda x: _evaluate(G, d, GtG, Gtd, B, rank, 10.0**x)[0],
                              bounds=(logs[k - 1], logs[k + 1]), method="bounded",
                              options={"xatol": 1e-3})
        if res.fun < values[k]:
            best = float(res.x)
    abic, m, s, cov = _evaluate(G, d, GtG, Gtd, B, rank, 10.0**best, want_cov=True)
    return AbicResult(m=m, covariance=cov, alpha2=10.0**best, sigma2=s / (n_data + rank - M), abic=abic,
                      grid_alpha2=10.0**logs, grid_abic=values, at_edge=at_edge)
