"""Stations: point location in the mesh and the interpolation of displacements at them.

The displacement at station x in element e is  sum_a N_a(x) (u_c(a) + delta_e(a)):  the continuous
part plus the split-node jump of those of e's nodes for which e is on the hanging-wall side (a
station on the hanging wall of a surface-reaching fault sees the jump). Output is x, y, z, i.e.
east, north, up (SPEC 4).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from crustgf.core.errors import CrustgfError
from crustgf.fem.shapes import simplex_shape, tet_barycentric

# a point counts as inside an element when every barycentric coordinate is >= -TOL
BARY_TOL = 1e-9


def _best_candidates(verts, points, cand):
    """For points (n,3) and candidate elements cand (n,k): best element and its barycentrics."""
    L = tet_barycentric(verts[cand], np.broadcast_to(points[:, None, :], cand.shape + (3,)))
    best = np.argmax(L.min(axis=2), axis=1)
    rows = np.arange(len(points))
    return cand[rows, best], L[rows, best]


def locate_points(nodes, cells, points, names=None):
    """Element and barycentric coordinates (n,), (n, 4) of each point; points on faces, edges or
    the surface are found (the best element is the one maximising the smallest coordinate).

    Candidates are the elements with the nearest centroids (8, then 64, then 512), then every
    element whose centroid lies within the largest vertex-centroid distance of the mesh.
    Raises CrustgfError naming the first point outside the mesh."""
    nodes = np.asarray(nodes, dtype=float)
    points = np.atleast_2d(np.asarray(points, dtype=float))
    verts = nodes[cells[:, :4]]
    centroids = verts.mean(axis=1)
    tree = cKDTree(centroids)
    elem = np.full(len(points), -1, dtype=np.int64)
    bary = np.zeros((len(points), 4))
    todo = np.arange(len(points))
    for k in (8, 64, 512):
        if len(todo) == 0:
            break
        k = min(k, len(cells))
        _, cand = tree.query(points[todo], k=k)
        e, L = _best_candidates(verts, points[todo], np.asarray(cand).reshape(len(todo), k))
        ok = L.min(axis=1) >= -BARY_TOL
        elem[todo[ok]], bary[todo[ok]] = e[ok], L[ok]
        todo = todo[~ok]
    if len(todo):
        radius = np.max(np.linalg.norm(verts - centroids[:, None], axis=2))
        for i in todo:
            cand = np.asarray(tree.query_ball_point(points[i], radius * (1 + 1e-9)), dtype=np.int64)
            if len(cand):
                e, L = _best_candidates(verts, points[i : i + 1], cand[None, :])
                if L.min() >= -BARY_TOL:
                    elem[i], bary[i] = e[0], L[0]
    if (elem < 0).any():
        i = int(np.flatnonzero(elem < 0)[0])
        label = names[i] if names is not None else f"#{i}"
        x, y, z = points[i] / 1000.0
        raise CrustgfError(f"station {label} at ({x:.3f}, {y:.3f}, {z:.3f}) km is outside the mesh")
    return elem, bary


def interpolation_matrix(cells, elem, bary, n_nodes) -> sp.csr_matrix:
    """P (3 n_st, 3 n_nodes): row 3s+c interpolates component c at station s from nodal values."""
    N = simplex_shape(bary, cells.shape[1])  # (n_st, nn_el)
    n_st, nn_el = N.shape
    rows = (3 * np.arange(n_st)[:, None, None] + np.arange(3)[None, None, :]).repeat(nn_el, axis=1)
    cols = 3 * cells[elem][:, :, None] + np.arange(3)[None, None, :]
    vals = np.broadcast_to(N[:, :, None], rows.shape)
    return sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(3 * n_st, 3 * n_nodes))


def station_jump_matrix(cells, elem, bary, inc, n_split) -> sp.csr_matrix:
    """Q (3 n_st, 3 n_split): the hanging-wall jump seen at each station, from the split-node jumps d.

    inc: splitnode.HangingIncidences (sorted by element)."""
    N = simplex_shape(bary, cells.shape[1])
    lo = np.searchsorted(inc.elem, elem, side="left")
    hi = np.searchsorted(inc.elem, elem, side="right")
    rows, cols, vals = [], [], []
    for s in range(len(elem)):
        for p in range(lo[s], hi[s]):
            for c in range(3):
                rows.append(3 * s + c)
                cols.append(3 * inc.split[p] + c)
                vals.append(N[s, inc.local[p]])
    return sp.csr_matrix((vals, (rows, cols)), shape=(3 * len(elem), 3 * n_split))
