"""Neighbours of subfaults and the Laplacian smoothing operator used to regularise slip inversions.

Two subfaults are neighbours when their triangulations (/subfaults/vertices, cells, cell_subfault)
share a vertex (matched by position to 1 mm, so files that repeat vertices per subfault work too);
without a triangulation, when their centroids are closer than 1.5 times the median distance from a
centroid to its nearest neighbour.

The Laplacian is the graph approximation of the surface Laplacian:
    (L m)_i = sum_j w_ij (m_j - m_i),   w_ij = 1 / |c_i - c_j|^2
(for a regular grid of spacing h with edge neighbours this is the 5-point Laplacian). Uniform slip
is not penalised; the null space has one dimension per connected group of subfaults.

Edges (`edges="zero"`): the subfaults on the fault's outline get a ghost neighbour outside with
zero slip, (L m)_i -= m_i / h_i^2 (h_i: the distance to its nearest neighbour), the usual
"slip falls to zero at the edge of the source region" prior. It makes L nonsingular, so slip
on subfaults no station sees is pulled to zero instead of floating. `edges="free"` (default) has
no ghosts. The outline is the set of triangle edges used by one triangle only (needs the
triangulation); without one, no subfault is on it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from crustgf.io.gfread import Subfaults


def neighbour_pairs(subfaults: Subfaults) -> np.ndarray:
    """(k, 2) int pairs i < j of neighbouring subfaults."""
    if subfaults.vertices is not None and subfaults.cells is not None and subfaults.cell_subfault is not None:
        return _pairs_from_shared_vertices(subfaults)
    return _pairs_from_centroids(subfaults.centroid)


def _merged_cells(sf: Subfaults) -> np.ndarray:
    """Triangles (k, 3) with vertices merged by position (to 1 mm): shared corners, shared ids."""
    key = np.round(np.asarray(sf.vertices) / 1e-3).astype(np.int64)
    _, vid = np.unique(key, axis=0, return_inverse=True)
    return vid.reshape(-1)[np.asarray(sf.cells)[:, :3]]


def _pairs_from_shared_vertices(sf: Subfaults) -> np.ndarray:
    cells = _merged_cells(sf)
    owner = np.repeat(np.asarray(sf.cell_subfault), 3)
    vs = np.unique(np.stack([cells.reshape(-1), owner], axis=1), axis=0)  # (vertex, subfault) pairs
    pairs = set()
    order = np.argsort(vs[:, 0], kind="stable")
    vs = vs[order]
    starts = np.flatnonzero(np.r_[True, vs[1:, 0] != vs[:-1, 0]])
    for group in np.split(vs[:, 1], starts[1:]):
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                pairs.add((min(group[a], group[b]), max(group[a], group[b])))
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def _pairs_from_centroids(centroid: np.ndarray) -> np.ndarray:
    if len(centroid) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    tree = cKDTree(centroid)
    nearest = tree.query(centroid, k=2)[0][:, 1]
    pairs = tree.query_pairs(1.5 * np.median(nearest), output_type="ndarray")
    return np.sort(pairs, axis=1).astype(np.int64)


def laplacian(centroid: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """(n, n) dense graph Laplacian with weights 1 / distance^2 (1/m^2)."""
    n = len(centroid)
    L = np.zeros((n, n))
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        w = 1.0 / np.sum((centroid[i] - centroid[j]) ** 2, axis=1)
        np.add.at(L, (i, j), w)
        np.add.at(L, (j, i), w)
    L[np.diag_indices(n)] = -L.sum(axis=1)
    return L


def component_labels(n: int, pairs: np.ndarray) -> np.ndarray:
    """(n,) label of the connected group of subfaults each belongs to."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(pairs):
        adj = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    else:
        adj = coo_matrix((n, n))
    return connected_components(adj, directed=False)[1]


def n_components(n: int, pairs: np.ndarray, anchored: np.ndarray | None = None) -> int:
    """Connected groups of subfaults (the Laplacian's null-space dimension); with `anchored`
    (bool per subfault), only the groups none of whose members is anchored."""
    if n == 0:
        return 0
    labels = component_labels(n, pairs)
    return len(set(labels.tolist()) - (set() if anchored is None else set(labels[anchored].tolist())))


def outline_subfaults(sf: Subfaults) -> np.ndarray:
    """(n,) bool: subfaults owning a triangle edge that no other triangle shares (the outline)."""
    out = np.zeros(sf.n, bool)
    if sf.vertices is None or sf.cells is None or sf.cell_subfault is None:
        return out
    cells = _merged_cells(sf)
    edges = np.sort(np.concatenate([cells[:, [0, 1]], cells[:, [1, 2]], cells[:, [2, 0]]]), axis=1)
    owner = np.tile(np.asarray(sf.cell_subfault), 3)
    _, inverse, counts = np.unique(edges, axis=0, return_inverse=True, return_counts=True)
    out[owner[counts[inverse.reshape(-1)] == 1]] = True
    return out


EDGES = ("free", "zero")


def slip_smoothing(subfaults: Subfaults, edges: str = "free") -> tuple[np.ndarray, int]:
    """B = D^T D for D = L applied to each slip component, in column order (subfault, slip);
    returns B (2n, 2n) and its rank. edges: "free" or "zero" (module doc)."""
    if edges not in EDGES:
        from crustgf.core.errors import CrustgfError

        raise CrustgfError(f"--edges: must be one of {', '.join(EDGES)}, got {edges!r}")
    pairs = neighbour_pairs(subfaults)
    L = laplacian(subfaults.centroid, pairs)
    rank = 2 * (subfaults.n - n_components(subfaults.n, pairs))
    if edges == "zero":
        rim = outline_subfaults(subfaults)
        if rim.any():
            c = subfaults.centroid
            h2 = np.array([np.min(np.sum((np.delete(c, i, axis=0) - c[i]) ** 2, axis=1)) if subfaults.n > 1
                           else 1.0 for i in np.flatnonzero(rim)])
            L[np.flatnonzero(rim), np.flatnonzero(rim)] -= 1.0 / h2
            rank = 2 * (subfaults.n - n_components(subfaults.n, pairs, anchored=rim))
    D = np.kron(L, np.eye(2))  # D[2i + s, 2j + t] = L[i, j] delta_st
    return D.T @ D, rank
