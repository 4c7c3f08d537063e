"""Shape functions and quadrature on affine simplices, in barycentric coordinates.

Node orderings are VTK's (the one table: TET10_EDGES, TRI6_EDGES below): TET4 vertices 0-3; TET10
adds the midside nodes of
edges (0,1), (1,2), (0,2), (0,3), (1,3), (2,3). TRI3 vertices 0-2; TRI6 adds edges (0,1), (1,2), (0,2).
A point is given by its barycentric coordinates L (L_0 = 1 - L_1 - L_2 - L_3 for a tetrahedron).

    TET4/TRI3:  N_i = L_i
    TET10/TRI6: N_i = L_i (2 L_i - 1) at vertices,  N_(edge a,b) = 4 L_a L_b at midside nodes
"""

from __future__ import annotations

import numpy as np

# local vertex pairs of the six TET10 edges, in VTK order (midside node 4 + i sits on TET10_EDGES[i])
TET10_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]], dtype=np.int64)
# local vertex pairs of the three TRI6 edges (midside node 3 + i sits on TRI6_EDGES[i])
TRI6_EDGES = np.array([[0, 1], [1, 2], [0, 2]], dtype=np.int64)

# 4-point degree-2 rule on the tetrahedron (exact for the TET10 stiffness of an affine element):
# barycentric points (permutations of a, b, b, b), weights as fractions of the volume.
_A, _B = 0.5854101966249685, 0.1381966011250105
TET_QUAD2_POINTS = np.array(
    [[_A, _B, _B, _B], [_B, _A, _B, _B], [_B, _B, _A, _B], [_B, _B, _B, _A]], dtype=np.float64
)
TET_QUAD2_WEIGHTS = np.full(4, 0.25)
TET_QUAD1_POINTS = np.array([[0.25, 0.25, 0.25, 0.25]])
TET_QUAD1_WEIGHTS = np.array([1.0])

# 3-point degree-2 rule on the triangle (barycentric points, weights as fractions of the area)
TRI_QUAD2_POINTS = np.array([[2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]])
TRI_QUAD2_WEIGHTS = np.full(3, 1.0 / 3.0)


def simplex_shape(bary: np.ndarray, n_nodes: int) -> np.ndarray:
    """Shape function values at barycentric points bary (..., 3 or 4) -> (..., n_nodes).

    n_nodes: 4 (TET4), 10 (TET10), 3 (TRI3) or 6 (TRI6)."""
    L = np.asarray(bary, dtype=float)
    nv = L.shape[-1]
    if n_nodes == nv:
        return L.copy()
    edges = TET10_EDGES if nv == 4 else TRI6_EDGES
    if n_nodes != nv + len(edges):
        raise ValueError(f"no quadratic simplex with {n_nodes} nodes and {nv} vertices")
    vert = L * (2.0 * L - 1.0)
    mid = 4.0 * L[..., edges[:, 0]] * L[..., edges[:, 1]]
    return np.concatenate([vert, mid], axis=-1)


def tet_barycentric(vertices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Barycentric coordinates of points (..., 3) in tetrahedra with vertices (..., 4, 3) -> (..., 4)."""
    v = np.asarray(vertices, dtype=float)
    p = np.asarray(points, dtype=float)
    J = np.stack([v[..., 1, :] - v[..., 0, :], v[..., 2, :] - v[..., 0, :], v[..., 3, :] - v[..., 0, :]], axis=-1)
    l123 = np.linalg.solve(J, (p - v[..., 0, :])[..., None])[..., 0]
    return np.concatenate([1.0 - l123.sum(axis=-1, keepdims=True), l123], axis=-1)


def tet_volume(vertices: np.ndarray) -> np.ndarray:
    """Signed volume of tetrahedra (..., 4, 3) (positive for VTK's right-handed vertex order)."""
    v = np.asarray(vertices, dtype=float)
    a, b, c = v[..., 1, :] - v[..., 0, :], v[..., 2, :] - v[..., 0, :], v[..., 3, :] - v[..., 0, :]
    return np.einsum("...i,...i->...", np.cross(a, b), c) / 6.0


def triangle_area_normal(vertices: np.ndarray) -> np.ndarray:
    """(p1 - p0) x (p2 - p0) / 2 for triangles (..., 3, 3): area times the unit normal."""
    v = np.asarray(vertices, dtype=float)
    return 0.5 * np.cross(v[..., 1, :] - v[..., 0, :], v[..., 2, :] - v[..., 0, :])
