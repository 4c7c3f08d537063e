"""Maxwell viscoelasticity at the quadrature points: kernels and the exponential step update.

Material law (isotropic Maxwell, bulk response elastic): with the deviatoric strain e = eps - tr(eps)/3 I,

    sigma = kappa tr(eps) I + 2 mu (e - e_v),      d e_v / dt = (e - e_v) / tau,   tau = eta / mu

so the deviatoric stress relaxes with the time constant tau. Over a step dt, with e(t) linear in
the step (which makes the update second order and exact for a linear strain history),

    e_v(n+1) = a e_v(n) + b e(n) + c e(n+1),   x = dt/tau,  a = exp(-x),
    c = 1 - (1 - a)/x,   b = (1 - a)/x - a

(A-stable for any dt). Only the combination h(n) = a e_v(n) + b e(n) is stored, as h(n+1) =
a h(n) + (a c + b) e(n+1). The new stress is sigma = C_eff eps(n+1) - 2 mu h(n) with C_eff the
elastic law with mu_eff = mu (1 - c) and the bulk modulus kappa kept: a constant operator for a
constant dt (one factorisation), and the known part 2 mu h(n) enters the right-hand side as the
nodal force  f = int B^T (2 mu h) dV.

Tensors at a quadrature point are stored as 6 tensor (not engineering) components
xx, yy, zz, yz, xz, xy; the double contraction weighs the last three twice.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from crustgf.fem.elements import shape_gradients


def step_coefficients(dt: float, tau: np.ndarray):
    """(a, b, c) per element for a step dt (s) and relaxation times tau (s, inf = elastic)."""
    tau = np.asarray(tau, dtype=np.float64)
    x = np.where(np.isfinite(tau), dt / np.where(np.isfinite(tau), tau, 1.0), 0.0)
    a = np.exp(-x)
    one_minus_a = -np.expm1(-x)
    # (1 - a)/x with its limit 1 at x = 0; written so that small x keeps full precision
    q = np.where(x > 1e-8, one_minus_a / np.where(x > 0, x, 1.0), 1.0 - 0.5 * x)
    c = np.where(x > 1e-4, 1.0 - q, x / 2.0 - x * x / 6.0)
    b = one_minus_a - c
    return a, b, c


def effective_moduli(mu, lam, c):
    """mu_eff = mu (1 - c), lambda_eff with the bulk modulus kappa = lambda + 2/3 mu kept."""
    mu_eff = mu * (1.0 - c)
    return mu_eff, lam + 2.0 / 3.0 * (mu - mu_eff)


@nb.njit(cache=True)
def element_gradients(nodes, cells, e, qpts):
    """Shape-function gradients (nq, nn_el, 3) at the quadrature points of element e, and its volume."""
    nn_el = cells.shape[1]
    X = np.empty((nn_el, 3))
    for a in range(nn_el):
        for c in range(3):
            X[a, c] = nodes[cells[e, a], c]
    dN = np.empty((qpts.shape[0], nn_el, 3))
    vol = shape_gradients(X, qpts, dN)
    return dN, vol


@nb.njit(cache=True, parallel=True)
def deviatoric_strain(nodes, cells, elems, U, inc_ptr, inc_local, inc_split, D, qpts, out):
    """out (nv, nq, 6, k) = deviatoric strain at the quadrature points of elements `elems` (nv,).

    U (n_nodes, 3, k): continuous nodal displacement (zero on fixed nodes); D (n_split, 3, k): the
    fault jumps, added to the element's nodes on their hanging-wall side (split-node incidences
    of element elems[i]: inc_ptr[i]..inc_ptr[i+1])."""
    nn_el = cells.shape[1]
    nq = qpts.shape[0]
    k = U.shape[2]
    for i in nb.prange(elems.shape[0]):
        e = elems[i]
        dN, _ = element_gradients(nodes, cells, e, qpts)
        ue = np.empty((nn_el, 3, k))
        for a in range(nn_el):
            ue[a] = U[cells[e, a]]
        for p in range(inc_ptr[i], inc_ptr[i + 1]):
            ue[inc_local[p]] += D[inc_split[p]]
        g = np.empty((3, 3))
        for q in range(nq):
            for r in range(k):
                for ii in range(3):
                    for jj in range(3):
                        s = 0.0
                        for a in range(nn_el):
                            s += ue[a, ii, r] * dN[q, a, jj]
                        g[ii, jj] = s
                tr = (g[0, 0] + g[1, 1] + g[2, 2]) / 3.0
                out[i, q, 0, r] = g[0, 0] - tr
                out[i, q, 1, r] = g[1, 1] - tr
                out[i, q, 2, r] = g[2, 2] - tr
                out[i, q, 3, r] = 0.5 * (g[1, 2] + g[2, 1])
                out[i, q, 4, r] = 0.5 * (g[0, 2] + g[2, 0])
                out[i, q, 5, r] = 0.5 * (g[0, 1] + g[1, 0])


@nb.njit(cache=True, parallel=True)
def _element_forces(nodes, cells, elems, S, qpts, qw, Fe):
    """Fe (nv, nn_el, 3, k) = int dN_a/dx_j S_ij dV per element (S symmetric, 6 components)."""
    nn_el = cells.shape[1]
    nq = qpts.shape[0]
    k = S.shape[3]
    for i in nb.prange(elems.shape[0]):
        e = elems[i]
        dN, vol = element_gradients(nodes, cells, e, qpts)
        Fe[i] = 0.0
        for q in range(nq):
            w = qw[q] * vol
            for a in range(nn_el):
                gx, gy, gz = dN[q, a, 0] * w, dN[q, a, 1] * w, dN[q, a, 2] * w
                for r in range(k):
                    sxx, syy, szz = S[i, q, 0, r], S[i, q, 1, r], S[i, q, 2, r]
                    syz, sxz, sxy = S[i, q, 3, r], S[i, q, 4, r], S[i, q, 5, r]
                    Fe[i, a, 0, r] += gx * sxx + gy * sxy + gz * sxz
                    Fe[i, a, 1, r] += gx * sxy + gy * syy + gz * syz
                    Fe[i, a, 2, r] += gx * sxz + gy * syz + gz * szz


@nb.njit(cache=True)
def _scatter(cells, elems, Fe, F):
    for i in range(elems.shape[0]):
        e = elems[i]
        for a in range(cells.shape[1]):
            F[cells[e, a]] += Fe[i, a]


def stress_forces(nodes, cells, elems, S, qpts, qw, n_nodes) -> np.ndarray:
    """Nodal forces int B^T S dV (n_nodes, 3, k) of the stress S (nv, nq, 6, k) in elements elems."""
    k = S.shape[3]
    Fe = np.empty((len(elems), cells.shape[1], 3, k))
    _element_forces(nodes, cells, elems, S, qpts, qw, Fe)
    F = np.zeros((n_nodes, 3, k))
    _scatter(cells, elems, Fe, F)
    return F
