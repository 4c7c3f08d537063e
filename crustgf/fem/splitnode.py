"""Split-node right-hand sides (Melosh & Raefsky 1981): unit slip without changing K.

The displacement is u = u_c + H delta, where delta is the nodal jump u(hanging) - u(foot) at the
split (fault) nodes and H delta puts it on the hanging-wall side only: element e carries delta_e,
the jump at those of its nodes j for which e lies on j's hanging-wall side. u_c is continuous,
zero on fixed nodes, and minimising the energy gives

    K u_c = - sum_e K_e delta_e        (free dofs only)

Which side an element lies on is decided per split node j, in j's star (the elements containing
j): two star elements are connected when they share a face that is not a fault triangle; each
fault triangle at j seeds its two elements (the one on the +normal side is hanging wall); a
flood fill (connected components) labels the rest. This handles elements touching the fault only
at an edge or vertex and faults reaching the surface. A component with both or no seeds is an
error (a split node whose star the fault does not cut in two: it should be a buried-edge node).

Everything is linear in the jumps d (3*n_split, k), so two sparse operators are built once:
    b = -M d        M (n_free, 3*n_split): column 3j+c sums K_e[:, 3*local(j)+c] over j's hanging elements
and the stations' share of the jump (stations.py) uses the same hanging incidences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from crustgf.core.errors import CrustgfError
from crustgf.fem.elements import element_stiffness_kernel, quadrature_for
from crustgf.fem.sparsity import node_elements

# local nodes of the face opposite vertex k: its 3 vertices, then (TET10) the midsides of its edges
TET_FACE_NODES = np.array(
    [[1, 2, 3, 5, 9, 8], [0, 2, 3, 6, 9, 7], [0, 1, 3, 4, 8, 7], [0, 1, 2, 4, 5, 6]], dtype=np.int64
)


@dataclass
class HangingIncidences:
    """(element, local node, split-node index) triples with the element on the node's hanging side,
    sorted by element."""

    elem: np.ndarray
    local: np.ndarray
    split: np.ndarray


def _match_rows(a, b):
    """For each row of a (n,3) the index of the equal row of b (m,3) (rows unique in b), else -1."""
    allr = np.vstack([b, a])
    order = np.lexsort(allr.T[::-1])
    s = allr[order]
    same = np.all(s[1:] == s[:-1], axis=1)
    out = np.full(len(a), -1, dtype=np.int64)
    hit = np.flatnonzero(same)
    first, second = order[hit], order[hit + 1]
    # a pair (b row, a row): b rows come first in a stable lexsort since they were stacked first
    ok = (first < len(b)) & (second >= len(b))
    out[second[ok] - len(b)] = first[ok]
    return out


def _interior_face_pairs(cells, elements):
    """Faces shared by two of `elements`: (e1, e2, local face of e1 (opposite vertex), sorted vertices)."""
    faces = cells[elements][:, TET_FACE_NODES[:, :3]]  # (m, 4, 3)
    faces = np.sort(faces, axis=2).reshape(-1, 3)
    owner = np.repeat(elements, 4)
    lface = np.tile(np.arange(4), len(elements))
    order = np.lexsort(faces.T[::-1])
    f = faces[order]
    same = np.flatnonzero(np.all(f[1:] == f[:-1], axis=1))
    i1, i2 = order[same], order[same + 1]
    return owner[i1], owner[i2], lface[i1], faces[i1]


def hanging_incidences(nodes, cells, fault_cells, split_nodes, n2e=None) -> HangingIncidences:
    """Label, for every split node, the elements of its star that lie on its hanging-wall side."""
    cells = np.asarray(cells, dtype=np.int64)
    split_nodes = np.asarray(split_nodes, dtype=np.int64)
    ne = len(cells)
    ptr, elem, local = n2e if n2e is not None else node_elements(cells, len(nodes))
    counts = ptr[split_nodes + 1] - ptr[split_nodes]
    inc_split = np.repeat(np.arange(len(split_nodes)), counts)
    take = (np.concatenate([np.arange(ptr[n], ptr[n + 1]) for n in split_nodes]) if len(split_nodes)
            else np.zeros(0, np.int64))
    inc_elem, inc_local = elem[take], local[take]
    inc_key = inc_split * ne + inc_elem  # sorted: split index, then element
    if not np.all(np.diff(inc_key) > 0):
        order = np.argsort(inc_key)
        inc_split, inc_elem, inc_local, inc_key = inc_split[order], inc_elem[order], inc_local[order], inc_key[order]
    split_index = np.full(len(nodes), -1, dtype=np.int64)
    split_index[split_nodes] = np.arange(len(split_nodes))

    star = np.unique(inc_elem)
    e1, e2, lf, fverts = _interior_face_pairs(cells, star)
    tri = np.sort(np.asarray(fault_cells, dtype=np.int64)[:, :3], axis=1)
    fault_of_pair = _match_rows(fverts, tri)
    n_face_nodes = 3 if cells.shape[1] == 4 else 6

    # graph edges between incidences (j, e1) - (j, e2) across non-fault faces
    nf_pairs = fault_of_pair < 0
    fnodes = cells[e1[nf_pairs][:, None], TET_FACE_NODES[lf[nf_pairs], :n_face_nodes]]
    j = split_index[fnodes]
    has = j >= 0
    a_key = j * ne + np.broadcast_to(e1[nf_pairs][:, None], j.shape)
    b_key = j * ne + np.broadcast_to(e2[nf_pairs][:, None], j.shape)
    a_id = np.searchsorted(inc_key, a_key[has])
    b_id = np.searchsorted(inc_key, b_key[has])
    n_inc = len(inc_key)
    graph = sp.csr_matrix((np.ones(len(a_id)), (a_id, b_id)), shape=(n_inc, n_inc))
    n_comp, comp = connected_components(graph, directed=False)

    # seeds: the two elements of every fault triangle; hanging = the one on the +normal side
    fc = np.asarray(fault_cells, dtype=np.int64)
    found = np.zeros(len(tri), dtype=bool)
    found[fault_of_pair[~nf_pairs]] = True
    needed = (split_index[fc] >= 0).any(axis=1)  # triangles with a split node lie in the stars
    if not found[needed].all():
        t = int(np.flatnonzero(needed & ~found)[0])
        raise CrustgfError(f"fault triangle {t} (nodes {fc[t, :3].tolist()}) is not an interior face of the mesh")
    fp = np.flatnonzero(~nf_pairs)
    t = fault_of_pair[fp]
    p0, p1, p2 = (nodes[fc[t, k]] for k in range(3))
    normal = np.cross(p1 - p0, p2 - p0)
    opposite = cells[e1[fp], lf[fp]]  # e1's vertex off the face
    e1_hanging = np.einsum("ij,ij->i", nodes[opposite] - p0, normal) > 0
    hang_e = np.where(e1_hanging, e1[fp], e2[fp])
    foot_e = np.where(e1_hanging, e2[fp], e1[fp])
    seed_j = split_index[fc[t, : fc.shape[1]]]  # (n, 3|6)
    vote = np.zeros((n_comp, 2), dtype=np.int64)
    for side, ee in ((0, hang_e), (1, foot_e)):
        keys = seed_j * ne + ee[:, None]
        keys = keys[seed_j >= 0]
        ids = np.searchsorted(inc_key, keys)
        np.add.at(vote[:, side], comp[ids], 1)
    bad = (vote[:, 0] > 0) == (vote[:, 1] > 0)
    if bad.any():
        c = int(np.flatnonzero(bad)[0])
        node = int(split_nodes[inc_split[np.flatnonzero(comp == c)[0]]])
        what = "touches both walls" if vote[c, 0] else "is not reached from the fault"
        raise CrustgfError(
            f"split node {node}: part of its element star {what}; the fault does not cut its "
            "neighbourhood in two (is it on a buried fault edge missing from buried_edge_nodes?)"
        )
    hanging = vote[comp, 0] > 0
    order = np.argsort(inc_elem[hanging], kind="stable")
    return HangingIncidences(
        elem=inc_elem[hanging][order], local=inc_local[hanging][order], split=inc_split[hanging][order]
    )


@nb.njit(cache=True)
def _jump_operator_coo(nodes, cells, mu, lam, inc_elem, inc_local, inc_split, qpts, qw, rows, cols, vals):
    nn_el = cells.shape[1]
    X = np.empty((nn_el, 3))
    Ke = np.empty((3 * nn_el, 3 * nn_el))
    last = -1
    f = 0
    for p in range(inc_elem.shape[0]):
        e = inc_elem[p]
        if e != last:  # incidences are sorted by element: one stiffness per element
            for k in range(nn_el):
                for c in range(3):
                    X[k, c] = nodes[cells[e, k], c]
            element_stiffness_kernel(X, mu[e], lam[e], qpts, qw, Ke)
            last = e
        la = inc_local[p]
        for b in range(nn_el):
            for i in range(3):
                for c in range(3):
                    rows[f] = 3 * cells[e, b] + i
                    cols[f] = 3 * inc_split[p] + c
                    vals[f] = Ke[3 * b + i, 3 * la + c]
                    f += 1


def jump_operator(nodes, cells, mu, lam, inc: HangingIncidences, n_split: int, free_dofs) -> sp.csr_matrix:
    """M (n_free, 3*n_split) with  sum_e K_e delta_e = M d  restricted to the free dofs; b = -M d."""
    nodes = np.ascontiguousarray(nodes, dtype=np.float64)
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    nn_el = cells.shape[1]
    m = len(inc.elem) * nn_el * 9
    rows, cols, vals = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m)
    qp, qw = quadrature_for(nn_el)
    mu = np.ascontiguousarray(np.broadcast_to(mu, (len(cells),)), dtype=np.float64)
    lam = np.ascontiguousarray(np.broadcast_to(lam, (len(cells),)), dtype=np.float64)
    _jump_operator_coo(nodes, cells, mu, lam, inc.elem, inc.local, inc.split, qp, qw, rows, cols, vals)
    M = sp.csr_matrix((vals, (rows, cols)), shape=(3 * len(nodes), 3 * n_split))
    return sp.csr_matrix(M[np.asarray(free_dofs)])
