"""Point location in a tetrahedral mesh: the one locator, used for stations and for sections."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from crustgf.fem.shapes import tet_barycentric

# a point counts as inside an element when every barycentric coordinate is >= -TOL
BARY_TOL = 1e-9


def _best_candidates(verts, points, cand):
    """For points (n,3) and candidate elements cand (n,k): best element and its barycentrics."""
    L = tet_barycentric(verts[cand], np.broadcast_to(points[:, None, :], cand.shape + (3,)))
    best = np.argmax(L.min(axis=2), axis=1)
    rows = np.arange(len(points))
    return cand[rows, best], L[rows, best]


def find_elements(nodes, cells, points):
    """Element and barycentric coordinates (n,), (n, 4) of each point; -1 (and zeros) for a point
    outside the mesh. Points on faces, edges or the surface are found (the best element is the one
    maximising the smallest coordinate).

    Candidates are the elements with the nearest centroids (8, then 64, then 512), then every
    element whose centroid lies within the largest vertex-centroid distance of the mesh."""
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
    return elem, bary
