"""Structure uncertainty in slip inversions: the prediction covariance Cp from sensitivity kernels.

A relative error e_l of layer l's shear modulus (lambda held: SPEC 6's kernels) changes the
prediction of slip m by  dd = sum_l e_l mu_l (dG/dmu_l) m  (first order; Duputel et al. 2014,
Ragon et al. 2018). With independent e_l ~ N(0, s_l^2) (s_l: `--structure-uncertainty l=s_l`):

    Cp = K C_mu K^T,   K[:, l] = mu_l (dG/dmu_l) m,   C_mu = diag(s_l^2)

so Cp has rank <= number of layers. Cp depends on m: the inversion starts from the slip of the
inversion without Cp and rebuilds Cp from each new estimate (ITERATIONS times; Ragon et al. 2019).
The data are inverted with Cd + Cp (whitened by its Cholesky factor), the smoothing weight again
chosen by ABIC; ABIC's variance scale then multiplies Cd + Cp together.

`scaling = "moduli"` uses mu_l dG/dmu_l + lambda_l dG/dlambda_l instead: both moduli scaled
together (Poisson's ratio held), like a change of both seismic velocities.
"""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError

ITERATIONS = 2
SCALINGS = ("mu", "moduli")


def parse_uncertainty(text: str) -> dict[str, float]:
    """'upper_crust=0.1,lower_crust=0.2' -> {layer: relative standard deviation of mu}."""
    out = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            std = float(value)
        except ValueError:
            std = None
        if not sep or not name or std is None or not np.isfinite(std):
            raise CrustgfError(f"--structure-uncertainty: expected LAYER=STD[,LAYER=STD...], got {item.strip()!r}")
        if std < 0:
            raise CrustgfError(f"--structure-uncertainty: {name}: the relative standard deviation must be >= 0, "
                               f"got {std:g}")
        out[name] = std
    if not out:
        raise CrustgfError("--structure-uncertainty: give at least one LAYER=STD")
    return out


def load_kernels(gf, uncertainty: dict, scaling: str = "mu") -> dict[str, np.ndarray]:
    """layer -> p dG/dp (n_stations, 3, n_subfaults, 2): the change of the GFs per unit relative
    change of the layer's mu (scaling "mu") or of both moduli ("moduli"), from gf's kernels."""
    if scaling not in SCALINGS:
        raise CrustgfError(f"--structure-scaling: must be one of {', '.join(SCALINGS)}, got {scaling!r}")
    names = list(gf.layers.get("name", []))
    prefix = "" if gf.variant is None else f"variants/{gf.variant}/"
    out = {}
    for layer in uncertainty:
        if layer not in names:
            raise CrustgfError(f"--structure-uncertainty: unknown layer {layer!r} in {gf.path} "
                               f"(layers: {', '.join(names)})")
        i = names.index(layer)
        k = 0.0
        for p in ("mu",) if scaling == "mu" else ("mu", "lambda"):
            key = f"{prefix}sensitivity/{layer}/{p}"
            if (layer, p) not in gf.sensitivity:
                raise CrustgfError(f"{gf.path}: no /{key}: solve with --sensitivity {layer} "
                                   "(or [solver] sensitivity) to use --structure-uncertainty")
            value = gf.sensitivity[(layer, p)]
            if not np.isfinite(value).all():
                raise CrustgfError(f"{gf.path}: /{key} is not complete; run `crustgf solve` again")
            k = k + float(np.asarray(gf.layers["mu" if p == "mu" else "lambda"])[i]) * value
        out[layer] = k
    return out


def prediction_covariance(kernels: dict, uncertainty: dict, slip: np.ndarray, rows, observed) -> np.ndarray:
    """Cp (n_obs, n_obs) over the observed components (data order) for slip (n_subfaults, 2)."""
    cols = []
    for layer, k in kernels.items():
        v = np.einsum("icjs,js->ic", k[rows], slip)[observed]
        cols.append(uncertainty[layer] * v)
    K = np.stack(cols, axis=1)
    return K @ K.T
