"""The material law, in one place: isotropic linear elasticity from seismic velocities (SPEC 4).

    mu = rho vs^2,   lambda = rho vp^2 - 2 mu,   nu = (r - 2) / (2 (r - 1)) with r = (vp / vs)^2

SI units (m/s, kg/m^3, Pa). Works on floats and numpy arrays alike. A material is physical
(positive-definite, 0 < nu < 0.5) exactly when vs > 0, rho > 0 and r > 2.
"""

from __future__ import annotations

import numpy as np


def shear_modulus(vs, density):
    """mu (Pa)."""
    return density * vs**2


def lame_lambda(vp, vs, density):
    """lambda (Pa)."""
    return density * vp**2 - 2.0 * shear_modulus(vs, density)


def poisson_ratio(vp, vs):
    """nu; inf where vp == vs (r = 1)."""
    r = (np.asarray(vp, dtype=float) / vs) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = np.where(r == 1.0, np.inf, (r - 2.0) / (2.0 * (r - 1.0)))
    return float(nu) if nu.ndim == 0 else nu


def velocities(mu, lam, density):
    """(vp, vs) in m/s of the Lame moduli mu, lambda (Pa) and density (kg/m^3)."""
    return np.sqrt((lam + 2.0 * mu) / density), np.sqrt(mu / density)
