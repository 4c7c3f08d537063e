"""cutde reference for fault traction Green's functions (test_traction.py, bench/traction_refinement.py).

A planar rectangle split into n_strike x n_dip subfaults, each two triangles of uniform unit slip
(cutde.halfspace.strain_matrix, Nikkhoo & Walter 2015; cutde's (strike-slip, dip-slip) is SPEC's
with the triangle normal into the hanging wall, see test_okada.py). The stress of each source is
averaged over each receiver's disk with the same weight as crustgf.greens.traction (3-point rule on
the receiver's fault triangles, points a hair off the plane on both sides, averaged), so FE and
reference are the same functional of the field: only the discretisation differs."""

from __future__ import annotations

import numpy as np
from fe_rectangle import rectangle_triangles  # noqa: F401 (used below and by importers)

from crustgf.geometry.frames import slip_vectors
from crustgf.greens.traction import disk_weight, receiver_radius


def cutde_traction(model, corners, n_strike, n_dip, mu, nu, eps=1.0):
    """(ns, 3, ns, 2) reference traction GFs on the FE receiver points of `model`."""
    import cutde.halfspace as hs

    fc = np.asarray(model.fault_cells)[:, :3]
    sub = np.asarray(model.fault_cell_subfault, dtype=np.int64)
    cent = np.asarray(model.subfaults.centroid, float)
    radius = receiver_radius(model.nodes, fc, sub, cent)
    P = model.nodes[fc]
    area = 0.5 * np.linalg.norm(np.cross(P[:, 1] - P[:, 0], P[:, 2] - P[:, 0]), axis=1)
    bary = np.array([[2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]])
    qp = np.einsum("qk,tki->tqi", bary, P).reshape(-1, 3)
    qsub = np.repeat(sub, 3)
    w = np.repeat(area / 3, 3) * disk_weight(qp, cent[qsub], radius[qsub])
    normal = np.cross(P[:, 1] - P[:, 0], P[:, 2] - P[:, 0])
    normal = np.repeat(normal / np.linalg.norm(normal, axis=1, keepdims=True), 3, axis=0)
    frame = np.concatenate([slip_vectors(normal), normal[:, None, :]], axis=1)  # s, d, n
    use = np.flatnonzero(w > 0)
    pts = qp[use]
    w = w / np.bincount(qsub, w)[qsub]
    sub = qsub
    tris = rectangle_triangles(corners, n_strike, n_dip)
    lam = 2 * mu * nu / (1 - 2 * nu)
    sig = 0.0
    for side in (1.0, -1.0):
        obs = pts + side * eps * normal[use]
        e = hs.strain_matrix(obs, tris, nu)[:, :, :, :2]  # (m, 6, ntri, 2)
        e = e.reshape(len(use), 6, n_strike * n_dip, 2, 2).sum(axis=3)  # two triangles per subfault
        tr = e[:, 0] + e[:, 1] + e[:, 2]
        S = np.empty((len(use), 3, 3) + tr.shape[1:])
        for (i, j), k in {(0, 0): 0, (1, 1): 1, (2, 2): 2, (0, 1): 3, (0, 2): 4, (1, 2): 5}.items():
            S[:, i, j] = S[:, j, i] = 2 * mu * e[:, k]
        for i in range(3):
            S[:, i, i] += lam * tr
        sig = sig + 0.5 * S
    t = np.einsum("mcj,mjkab,mk->mcab", frame[use], sig, normal[use])  # (m, 3, ns, 2)
    out = np.zeros((model.n_subfaults, 3, model.n_subfaults, 2))
    np.add.at(out, sub[use], w[use, None, None, None] * t)
    return out
