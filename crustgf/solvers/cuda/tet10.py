"""Straight-sided quadratic tetrahedra (TET10) described by barycentric gradients (NumPy side).

An affine tetrahedron is fully described, for the stiffness, by the gradients g_p (p = 0..3) of
its barycentric coordinates L_p and its volume V. The quadratic shape functions are
    vertex p:      N_p  = L_p (2 L_p - 1)      grad N_p  = (4 L_p - 1) g_p
    edge (i, j):   N_ij = 4 L_i L_j            grad N_ij = 4 L_j g_i + 4 L_i g_j
(VTK ordering: vertices 0-3, then edges (0,1), (1,2), (0,2), (0,3), (1,3), (2,3)), so every shape
gradient is  grad N_a(x) = sum_p A[a, p](L(x)) g_p  with A linear in L. Strain times stress is then
quadratic and the 4-point degree-2 rule below integrates the stiffness exactly.

The stiffness of one element (isotropic, Lame lambda and mu):
    K[a i, b j] = int  lam dN_a/dx_i dN_b/dx_j + mu dN_a/dx_j dN_b/dx_i + mu delta_ij grad N_a . grad N_b
with global dof = 3 * node + component (x, y, z).
"""

from __future__ import annotations

import numpy as np

from crustgf.fem.shapes import TET10_EDGES as EDGES  # noqa: E402 (the one table, VTK order)

# Degree-2 rule on the tetrahedron: 4 points, weights V/4; point q has L_q = QA, other L = QB.
QA = 0.5854101966249685
QB = 0.1381966011250105


def shape_gradient_table() -> np.ndarray:
    """A[q, a, p]: coefficient of barycentric gradient g_p in grad N_a at quadrature point q."""
    table = np.zeros((4, 10, 4))
    for q in range(4):
        lam = np.full(4, QB)
        lam[q] = QA
        for p in range(4):
            table[q, p, p] = 4.0 * lam[p] - 1.0
        for e, (i, j) in enumerate(EDGES):
            table[q, 4 + e, i] += 4.0 * lam[j]
            table[q, 4 + e, j] += 4.0 * lam[i]
    return table


A_TABLE = shape_gradient_table()


def element_geometry(nodes: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric gradients (ne, 4, 3) [1/m] and volumes (ne,) [m^3] of straight-sided tetrahedra.

    Uses the four vertices (cells[:, :4]); raises ValueError for degenerate or inverted elements
    (the mesh must have positive orientation: det[x1-x0, x2-x0, x3-x0] > 0).
    """
    x = nodes[cells[:, :4]]  # (ne, 4, 3)
    jac = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=1)  # rows: edges
    det = np.linalg.det(jac)
    if np.any(det <= 0.0):
        bad = int(np.argmin(det))
        raise ValueError(f"element {bad} is inverted or degenerate (det = {det[bad]:.3e})")
    inv = np.linalg.inv(jac)  # columns of inv are grad L1, grad L2, grad L3
    grads = np.empty((len(cells), 4, 3))
    grads[:, 1:, :] = np.transpose(inv, (0, 2, 1))
    grads[:, 0, :] = -grads[:, 1:, :].sum(axis=1)
    return grads, det / 6.0


def _shape_gradients(grads: np.ndarray) -> np.ndarray:
    """grad N_a at each quadrature point: (ne, 4 q, 10 a, 3)."""
    return np.einsum("qap,epj->eqaj", A_TABLE, grads)


def element_matrices(grads, volume, mu, lam) -> np.ndarray:
    """Element stiffness matrices (ne, 30, 30) in local dof order 3*a + i (float64)."""
    dn = _shape_gradients(grads)
    w = volume / 4.0
    term_lam = np.einsum("eqai,eqbj->eaibj", dn, dn * (w * lam)[:, None, None, None])
    term_mu = np.einsum("eqaj,eqbi->eaibj", dn, dn * (w * mu)[:, None, None, None])
    lap = np.einsum("eqak,eqbk->eab", dn, dn * (w * mu)[:, None, None, None])
    k = term_lam + term_mu + lap[:, :, None, :, None] * np.eye(3)[None, None, :, None, :]
    return k.reshape(-1, 30, 30)


def nodal_diagonal_blocks(cells, grads, volume, mu, lam, n_nodes, chunk=50_000) -> np.ndarray:
    """The 3x3 diagonal blocks K[3n:3n+3, 3n:3n+3] of the assembled stiffness, (n_nodes, 3, 3)."""
    blocks = np.zeros((n_nodes, 3, 3))
    for s in range(0, len(cells), chunk):
        sl = slice(s, s + chunk)
        dn = _shape_gradients(grads[sl])  # (e, q, a, 3)
        w = (volume[sl] / 4.0)[:, None, None]
        outer = np.einsum("eqai,eqaj->eqaij", dn, dn)
        lap = np.einsum("eqak,eqak->eqa", dn, dn)
        mu_e, lam_e = mu[sl][:, None, None], lam[sl][:, None, None]
        blk = ((w * (lam_e + mu_e))[..., None, None] * outer).sum(axis=1)
        blk += ((w * mu_e * lap).sum(axis=1))[..., None, None] * np.eye(3)
        idx = cells[sl].ravel()
        flat = blk.reshape(-1, 9)
        for c in range(9):
            blocks.reshape(-1, 9)[:, c] += np.bincount(idx, weights=flat[:, c], minlength=n_nodes)
    return blocks
