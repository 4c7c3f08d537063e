"""Node sets of the model: buried fault-edge nodes, free-surface nodes, fixed (side/bottom) nodes.

Buried-edge nodes are where a subfault's slip must end (SPEC 4: slip falls to zero across one
element row at a buried fault edge): every fault node (vertex, and midside node for TRI6) on a
fault boundary edge that does not lie in the free surface z = 0. A vertex at z = 0 that ends a
buried side edge is itself buried (it belongs to that edge).
"""

from __future__ import annotations

import numpy as np

from crustgf.fem.shapes import TRI6_EDGES


def _tri_edges(tris: np.ndarray):
    """(vertex pairs (3 nf, 2), midside node per edge (3 nf,) or None) of all triangle edges."""
    pairs = tris[:, TRI6_EDGES].reshape(-1, 2)
    mids = tris[:, 3:6].reshape(-1) if tris.shape[1] == 6 else None
    return pairs, mids


def fault_boundary_edges(tris: np.ndarray, n_nodes: int) -> np.ndarray:
    """Mask over the 3 nf triangle edges (row-major: triangle, edge) used by one triangle only."""
    pairs, _ = _tri_edges(tris)
    keys = pairs.min(axis=1).astype(np.int64) * n_nodes + pairs.max(axis=1)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return counts[inverse] == 1


def buried_edge_nodes(nodes: np.ndarray, tris: np.ndarray, z_tol: float) -> np.ndarray:
    """Sorted ids of fault nodes on fault boundary edges not lying in the free surface."""
    pairs, mids = _tri_edges(tris)
    boundary = fault_boundary_edges(tris, len(nodes))
    on_surface = np.all(np.abs(nodes[pairs, 2]) <= z_tol, axis=1)
    buried = boundary & ~on_surface
    ids = [pairs[buried].ravel()]
    if mids is not None:
        ids.append(mids[buried])
    return np.unique(np.concatenate(ids)).astype(np.int64)


def free_surface_nodes(nodes: np.ndarray, z_tol: float) -> np.ndarray:
    return np.flatnonzero(np.abs(nodes[:, 2]) <= z_tol).astype(np.int64)


def fixed_nodes(nodes: np.ndarray, domain, tol: float) -> np.ndarray:
    """Nodes on the four sides and the bottom of the box (zero displacement there)."""
    x, y, z = nodes[:, 0], nodes[:, 1], nodes[:, 2]
    on = (
        (np.abs(x - domain.x[0]) <= tol) | (np.abs(x - domain.x[1]) <= tol)
        | (np.abs(y - domain.y[0]) <= tol) | (np.abs(y - domain.y[1]) <= tol)
        | (np.abs(z + domain.depth) <= tol)
    )
    return np.flatnonzero(on).astype(np.int64)
