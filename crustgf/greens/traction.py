"""Fault traction Green's functions: traction change on every receiver subfault per unit slip (SPEC 6).

Components, in the fault frame at each fault node (n: unit normal into the hanging wall, s: strike
vector, d: up-dip vector = -dip vector: the unit-slip directions of slipfield.py):

    strike-slip traction  s . sigma . n      (positive: drives +strike-slip, left-lateral)
    dip-slip traction     d . sigma . n      (positive: drives +dip-slip, reverse)
    normal traction       n . sigma . n      (positive: tension, unclamping)

With these signs a subfault's own unit slip lowers its own shear traction (negative diagonal).

Stress recovery: nodal forces (reactions), not element stresses. The hanging-wall elements of a
split node j exert on it the force f_j = sum_e (K_e u_e)_j (u_e: the element's displacement, jump
included). The hanging block is in equilibrium, so by the weak form f_j = -int N_j t dA with
t = sigma n on the fault, exactly for the FE solution (no stress differentiation, no one-sided
element values: this is the recovery that converges fastest for split-node faults). For a weight
w = sum_j w_j N_j on the fault, int w t dA = -sum_j w_j f_j, and the receiver value is that
divided by int w dA = sum_j w_j int N_j dA. In operator form (M the split-node operator of
splitnode.py, B = sum_e H_e^T K_e H_e the jump-jump part): f = M^T X + B D.

Receiver mean. The plain mean over a receiver's area is ill-posed for the self term: the stress
of uniform slip on a patch is singular like 1/r at the patch edge, so its area mean grows like
log(size / taper width) as the mesh (and the one-element slip taper at subfault edges) is refined.
The receiver value is therefore the mean over the receiver's inscribed disk (radius R = distance
from the subfault centroid to the nearest point of its outline) with weight w = 1 - (r / R)^2
(r: distance from the subfault centroid). It stays away from the edge singularity, so it converges
with refinement, and it averages over many nodes. It is a mean over the receiver's central part,
not the centroid value that collocation codes use: for smooth fields (distant sources) the two
agree to O(R^2), but a uniform-slip self term grows towards the patch edges, and there the disk
mean is larger (15 x 6 km fault in 3 subfaults, middle one: -7.69 MPa/m disk mean vs -5.58 at the
centroid, cutde; the whole-area mean diverges, -16.5 and growing at 0.35 km elements).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

from crustgf.fem.elements import element_stiffness_kernel, quadrature_for
from crustgf.fem.slipfield import node_normals
from crustgf.geometry.frames import slip_vectors

TRACTION_COMPONENTS = ("strike-slip", "dip-slip", "normal")


def receiver_radius(nodes, fault_cells, tri_subfault, centroid) -> np.ndarray:
    """(n_subfaults,) distance from each subfault centroid to the nearest point of its outline."""
    fc = np.asarray(fault_cells, dtype=np.int64)[:, :3]
    sub = np.asarray(tri_subfault, dtype=np.int64)
    edges = np.sort(fc[:, [[0, 1], [1, 2], [2, 0]]], axis=2).reshape(-1, 2)
    uniq, counts = np.unique(np.column_stack([np.repeat(sub, 3), edges]), axis=0, return_counts=True)
    outline = uniq[counts == 1]  # edges used by one triangle of the subfault
    a, b = nodes[outline[:, 1]], nodes[outline[:, 2]]
    q = np.asarray(centroid, float)[outline[:, 0]]
    t = np.clip(np.einsum("ij,ij->i", q - a, b - a) / np.einsum("ij,ij->i", b - a, b - a), 0, 1)
    radius = np.full(len(centroid), np.inf)
    np.minimum.at(radius, outline[:, 0], np.linalg.norm(q - (a + t[:, None] * (b - a)), axis=1))
    return radius


def disk_weight(points, centroid, radius) -> np.ndarray:
    """1 - (r / R)^2, clipped at 0: the receiver weight at points (m, 3) of one subfault."""
    r = np.linalg.norm(np.asarray(points) - centroid, axis=-1)
    return np.clip(1.0 - (r / radius) ** 2, 0.0, None)


def node_weights(model, slip):
    """W (n_subfaults, n_split) CSR: receiver mean = W @ (int N_j t dA over the split nodes)."""
    nodes = model.nodes
    fc = np.asarray(model.fault_cells, dtype=np.int64)
    sub = np.asarray(model.fault_cell_subfault, dtype=np.int64)
    cent = np.asarray(model.subfaults.centroid, float)
    radius = receiver_radius(nodes, fc, sub, cent)
    P = nodes[fc[:, :3]]
    area = 0.5 * np.linalg.norm(np.cross(P[:, 1] - P[:, 0], P[:, 2] - P[:, 0]), axis=1)
    # int N_j dA per triangle node: TRI3 area/3 at vertices; TRI6 0 at vertices, area/3 at midsides
    mass = np.zeros(fc.shape)
    if fc.shape[1] == 3:
        mass[:] = area[:, None] / 3.0
    else:
        mass[:, 3:] = area[:, None] / 3.0
    split_index = np.full(len(nodes), -1, dtype=np.int64)
    split_index[slip.nodes] = np.arange(slip.n_split)
    rows, cols, vals = [], [], []
    for s in range(model.n_subfaults):
        mine = sub == s
        ids = np.unique(fc[mine].ravel())
        m = np.zeros(len(ids))
        np.add.at(m, np.searchsorted(ids, fc[mine].ravel()), mass[mine].ravel())
        w = disk_weight(nodes[ids], cent[s], radius[s]) * (split_index[ids] >= 0)
        if not (w @ m > 0):  # no node inside the disk: the nodes of the triangle nearest the centroid
            t = np.flatnonzero(mine)[np.argmin(np.linalg.norm(P[mine].mean(axis=1) - cent[s], axis=1))]
            w = np.isin(ids, fc[t]) * (split_index[ids] >= 0) * 1.0
        keep = w > 0
        rows.append(np.full(keep.sum(), s))
        cols.append(split_index[ids[keep]])
        vals.append(w[keep] / (w @ m))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(model.n_subfaults, slip.n_split))


@nb.njit(cache=True)
def _jump_jump_coo(nodes, cells, mu, lam, inc_elem, inc_local, inc_split, qpts, qw, rows, cols, vals):
    """sum_e H_e^T K_e H_e as COO triplets (incidences sorted by element)."""
    nn_el = cells.shape[1]
    X = np.empty((nn_el, 3))
    Ke = np.empty((3 * nn_el, 3 * nn_el))
    f = 0
    p0 = 0
    n = inc_elem.shape[0]
    while p0 < n:
        e = inc_elem[p0]
        p1 = p0
        while p1 < n and inc_elem[p1] == e:
            p1 += 1
        for k in range(nn_el):
            for c in range(3):
                X[k, c] = nodes[cells[e, k], c]
        element_stiffness_kernel(X, mu[e], lam[e], qpts, qw, Ke)
        for p in range(p0, p1):
            for q in range(p0, p1):
                for i in range(3):
                    for j in range(3):
                        rows[f] = 3 * inc_split[p] + i
                        cols[f] = 3 * inc_split[q] + j
                        vals[f] = Ke[3 * inc_local[p] + i, 3 * inc_local[q] + j]
                        f += 1
        p0 = p1
    return f


def jump_jump_operator(problem, inc, n_split) -> sp.csr_matrix:
    counts = np.bincount(inc.elem)
    m = int(np.sum(counts.astype(np.int64) ** 2)) * 9
    rows, cols, vals = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m)
    qp, qw = quadrature_for(problem.cells.shape[1])
    mu = np.ascontiguousarray(problem.mu, dtype=np.float64)
    lam = np.ascontiguousarray(problem.lam, dtype=np.float64)
    f = _jump_jump_coo(problem.nodes, problem.cells, mu, lam, inc.elem, inc.local, inc.split, qp, qw, rows, cols, vals)
    return sp.csr_matrix((vals[:f], (rows[:f], cols[:f])), shape=(3 * n_split, 3 * n_split))


def traction_operators(problem, model, slip, inc, jump_op):
    """(Tx (3 ns, n_free), Td (3 ns, 3 n_split)) CSR: traction (row 3 A + component) = Tx X + Td D."""
    W = node_weights(model, slip)  # (ns, n_split)
    normal = node_normals(model.nodes, np.asarray(model.fault_cells, dtype=np.int64))[slip.nodes]
    frame = np.concatenate([slip_vectors(normal), normal[:, None, :]], axis=1)  # (n_split, 3: s d n, 3)
    # R (3 ns, 3 n_split): row 3A + c, column 3j + i = W[A, j] * frame[j, c, i]
    Wc = W.tocoo()
    r = (3 * Wc.row[:, None, None] + np.arange(3)[None, :, None]) + 0 * np.arange(3)[None, None, :]
    c = (3 * Wc.col[:, None, None] + np.arange(3)[None, None, :]) + 0 * np.arange(3)[None, :, None]
    v = Wc.data[:, None, None] * frame[Wc.col]
    R = sp.csr_matrix((v.ravel(), (r.ravel(), c.ravel())), shape=(3 * model.n_subfaults, 3 * slip.n_split))
    # int N_j t dA = -f_j,  f = M^T X + B D
    Tx = sp.csr_matrix(-(R @ sp.csr_matrix(jump_op.T)))
    Td = sp.csr_matrix(-(R @ jump_jump_operator(problem, inc, slip.n_split)))
    return Tx, Td
