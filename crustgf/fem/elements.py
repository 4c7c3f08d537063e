"""Element stiffness of isotropic linear elasticity on affine TET4/TET10 elements (Numba kernels).

With u = sum_a N_a u_a, the strain energy  1/2 int lam (div u)^2 + 2 mu eps:eps  gives the block

    K[3a+i, 3b+j] = int  lam dN_a/dx_i dN_b/dx_j + mu dN_a/dx_j dN_b/dx_i + mu delta_ij grad N_a . grad N_b

(dof order within an element: 3*local_node + component). Elements are affine, so one Jacobian per
element; the TET10 gradients are linear, the integrand quadratic, and the 4-point degree-2 rule is
exact. TET4 needs one point.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from crustgf.fem.shapes import TET10_EDGES as _EDGES  # noqa: E402 (the one table)
from crustgf.fem.shapes import TET_QUAD1_POINTS, TET_QUAD1_WEIGHTS, TET_QUAD2_POINTS, TET_QUAD2_WEIGHTS


@nb.njit(cache=True, inline="always")
def bary_gradients(X, gl):
    """Gradients of the barycentric coordinates of tetrahedron X (>=4, 3) into gl (4, 3); returns volume."""
    a0, a1, a2 = X[1, 0] - X[0, 0], X[1, 1] - X[0, 1], X[1, 2] - X[0, 2]
    b0, b1, b2 = X[2, 0] - X[0, 0], X[2, 1] - X[0, 1], X[2, 2] - X[0, 2]
    c0, c1, c2 = X[3, 0] - X[0, 0], X[3, 1] - X[0, 1], X[3, 2] - X[0, 2]
    # rows of J^-1 (J = [a b c] as columns) are (b x c, c x a, a x b) / det
    det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0)
    inv = 1.0 / det
    gl[1, 0] = (b1 * c2 - b2 * c1) * inv
    gl[1, 1] = (b2 * c0 - b0 * c2) * inv
    gl[1, 2] = (b0 * c1 - b1 * c0) * inv
    gl[2, 0] = (c1 * a2 - c2 * a1) * inv
    gl[2, 1] = (c2 * a0 - c0 * a2) * inv
    gl[2, 2] = (c0 * a1 - c1 * a0) * inv
    gl[3, 0] = (a1 * b2 - a2 * b1) * inv
    gl[3, 1] = (a2 * b0 - a0 * b2) * inv
    gl[3, 2] = (a0 * b1 - a1 * b0) * inv
    for k in range(3):
        gl[0, k] = -(gl[1, k] + gl[2, k] + gl[3, k])
    return abs(det) / 6.0


@nb.njit(cache=True)
def shape_gradients(X, qpts, dN):
    """Shape-function gradients at the quadrature points: dN (nq, nn, 3) for TET4 (nn=4) / TET10 (nn=10).

    Returns the element volume. TET10: grad N_i = (4 L_i - 1) grad L_i at vertices,
    grad N_(a,b) = 4 (L_a grad L_b + L_b grad L_a) at midside nodes."""
    gl = np.empty((4, 3))
    vol = bary_gradients(X, gl)
    nq, nn = dN.shape[0], dN.shape[1]
    for q in range(nq):
        if nn == 4:
            for i in range(4):
                for k in range(3):
                    dN[q, i, k] = gl[i, k]
        else:
            for i in range(4):
                f = 4.0 * qpts[q, i] - 1.0
                for k in range(3):
                    dN[q, i, k] = f * gl[i, k]
            for m in range(6):
                a, b = _EDGES[m, 0], _EDGES[m, 1]
                for k in range(3):
                    dN[q, 4 + m, k] = 4.0 * (qpts[q, a] * gl[b, k] + qpts[q, b] * gl[a, k])
    return vol


@nb.njit(cache=True, inline="always")
def add_block(dN, wq, la, lb, mu, lam, blk):
    """blk (3, 3) += the (la, lb) block of the element stiffness, summed over quadrature points."""
    for q in range(dN.shape[0]):
        w = wq[q]
        ga0, ga1, ga2 = dN[q, la, 0], dN[q, la, 1], dN[q, la, 2]
        gb0, gb1, gb2 = dN[q, lb, 0], dN[q, lb, 1], dN[q, lb, 2]
        dot = mu * (ga0 * gb0 + ga1 * gb1 + ga2 * gb2)
        ga = (ga0, ga1, ga2)
        gb = (gb0, gb1, gb2)
        for i in range(3):
            for j in range(3):
                v = lam * ga[i] * gb[j] + mu * ga[j] * gb[i]
                if i == j:
                    v += dot
                blk[i, j] += w * v


@nb.njit(cache=True)
def element_stiffness_kernel(X, mu, lam, qpts, qw, Ke):
    """Fill Ke (3nn, 3nn) with the stiffness of the affine element with node coordinates X (nn, 3)."""
    nn = X.shape[0]
    dN = np.empty((qpts.shape[0], nn, 3))
    vol = shape_gradients(X, qpts, dN)
    wq = qw * vol
    blk = np.empty((3, 3))
    for a in range(nn):
        for b in range(nn):
            blk[:] = 0.0
            add_block(dN, wq, a, b, mu, lam, blk)
            for i in range(3):
                for j in range(3):
                    Ke[3 * a + i, 3 * b + j] = blk[i, j]


def quadrature_for(n_nodes: int):
    """(points, weights) of the rule that integrates the stiffness of a TET4/TET10 exactly."""
    if n_nodes == 4:
        return TET_QUAD1_POINTS, TET_QUAD1_WEIGHTS
    if n_nodes == 10:
        return TET_QUAD2_POINTS, TET_QUAD2_WEIGHTS
    raise ValueError(f"unsupported element with {n_nodes} nodes (TET4 or TET10 expected)")


def element_stiffness(coords, mu: float, lam: float) -> np.ndarray:
    """Stiffness (3nn, 3nn) of one affine TET4/TET10 element; dof order 3*local_node + component."""
    X = np.ascontiguousarray(coords, dtype=np.float64)
    qp, qw = quadrature_for(X.shape[0])
    Ke = np.empty((3 * X.shape[0], 3 * X.shape[0]))
    element_stiffness_kernel(X, float(mu), float(lam), qp, qw, Ke)
    return Ke
