"""Element orientation and promotion of linear meshes to straight-sided TET10 / TRI6.

One midside node per unique mesh edge, at the edge midpoint; ordering as in crustgf.mesh.model
(VTK: midside node 4 + i of a tet sits on TET10_EDGES[i], node 3 + i of a triangle on
TRI6_EDGES[i]). Tets and triangles share midside nodes where they share edges.
"""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.fem.shapes import TET10_EDGES, TRI6_EDGES


def signed_volumes(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Signed volume of each tet, det[p1-p0, p2-p0, p3-p0] / 6 (positive: right-handed)."""
    p = nodes[tets[:, :4]]
    return np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0]) / 6.0


def orient_tets(nodes: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """Linear tets with vertices 1 and 2 swapped where needed so that every volume is > 0."""
    tets = tets.copy()
    neg = signed_volumes(nodes, tets) < 0
    tets[neg, 1], tets[neg, 2] = tets[neg, 2], tets[neg, 1].copy()
    return tets


def orient_triangles(nodes: np.ndarray, tris: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Linear triangles reordered so that (p1-p0) x (p2-p0) has a positive component along `normals`."""
    tris = tris.copy()
    p = nodes[tris]
    flip = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), normals) < 0
    tris[flip, 1], tris[flip, 2] = tris[flip, 2], tris[flip, 1].copy()
    return tris


def _edge_keys(a: np.ndarray, b: np.ndarray, n_nodes: int) -> np.ndarray:
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo.astype(np.int64) * n_nodes + hi


def promote(nodes: np.ndarray, tets: np.ndarray, tris: np.ndarray):
    """(nodes10, tets10, tris6): linear mesh + one midpoint node per unique tet edge.

    Vertex node ids are unchanged; midside nodes are appended after them. Every triangle edge
    must be an edge of some tet (the triangles are faces of the volume mesh).
    """
    nn = len(nodes)
    tet_keys = _edge_keys(tets[:, TET10_EDGES[:, 0]], tets[:, TET10_EDGES[:, 1]], nn)  # (ne, 6)
    unique, inverse = np.unique(tet_keys.ravel(), return_inverse=True)
    a, b = unique // nn, unique % nn
    nodes10 = np.vstack([nodes, 0.5 * (nodes[a] + nodes[b])])
    tets10 = np.hstack([tets, nn + inverse.reshape(-1, 6)])
    tri_keys = _edge_keys(tris[:, TRI6_EDGES[:, 0]], tris[:, TRI6_EDGES[:, 1]], nn)
    where = np.searchsorted(unique, tri_keys)
    if np.any(where >= len(unique)) or np.any(unique[np.minimum(where, len(unique) - 1)] != tri_keys):
        raise CrustgfError("mesh: a fault triangle edge is not an edge of the volume mesh (non-conforming fault)")
    tris6 = np.hstack([tris, nn + where])
    return nodes10, tets10, tris6
