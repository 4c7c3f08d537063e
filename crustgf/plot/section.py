"""Vertical cross-sections through a model: which element (and material) holds each point.

Points are located in the tetrahedral mesh by testing the barycentric coordinates of the point in
the few elements whose centroids are nearest (a k-d tree over element centroids). Only the four
vertices of each element are used: elements are straight-sided (crustgf.mesh.model), so TET10 cells
occupy the same tetrahedra as their vertices. A point that no candidate contains (outside the
box, or inside a very stretched element) falls back to the element with the nearest centroid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass
class SectionLine:
    """A vertical plane through (x0, y0) -> (x1, y1) (m); s runs along it from 0 to length."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def length(self) -> float:
        return float(np.hypot(self.x1 - self.x0, self.y1 - self.y0))

    @property
    def direction(self) -> np.ndarray:
        return np.array([self.x1 - self.x0, self.y1 - self.y0]) / self.length

    def points(self, s: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """(len(depth), len(s), 3) points at along-section distance s (m) and depth (m, down)."""
        d = self.direction
        S, D = np.meshgrid(s, depth)
        return np.stack([self.x0 + S * d[0], self.y0 + S * d[1], -D], axis=-1)


def locate_points(nodes: np.ndarray, cells: np.ndarray, points: np.ndarray,
                  ks: tuple[int, ...] = (8, 32, 128, 512), tol: float = 1e-9) -> np.ndarray:
    """Element index holding each point (n, 3) -> (n,) int; nearest-centroid fallback.

    Candidates are the k elements with the nearest centroids; points not found among them try a
    larger k (small elements beside large ones can crowd out the one that holds the point).
    """
    tets = nodes[cells[:, :4]]  # (ne, 4, 3)
    tree = cKDTree(tets.mean(axis=1))
    found = tree.query(points, k=1)[1]
    pending = np.arange(len(points))
    done_k = 0
    for k in ks:
        k = min(k, len(cells))
        if pending.size == 0 or k <= done_k:
            break
        cand = tree.query(points[pending], k=k)[1].reshape(len(pending), k)
        hit = np.full(len(pending), -1)
        for j in range(done_k, k):
            todo = hit < 0
            if not todo.any():
                break
            e = cand[todo, j]
            inside = (barycentric(tets[e], points[pending[todo]]) >= -tol).all(axis=1)
            idx = np.nonzero(todo)[0][inside]
            hit[idx] = e[inside]
        ok = hit >= 0
        found[pending[ok]] = hit[ok]
        pending = pending[~ok]
        done_k = k
    return found


def barycentric(tets: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Barycentric coordinates (n, 4) of points p (n, 3) in tetrahedra (n, 4, 3)."""
    T = np.transpose(tets[:, 1:] - tets[:, :1], (0, 2, 1))  # columns: v1-v0, v2-v0, v3-v0
    rhs = (p - tets[:, 0])[..., None]
    lam123 = np.linalg.solve(T, rhs)[..., 0]
    return np.column_stack([1.0 - lam123.sum(axis=1), lam123])


def triangle_plane_crossings(tri: np.ndarray, line: SectionLine) -> np.ndarray:
    """Segments (m, 2, 2) in (s, depth) m where triangles (n, 3, 3) cross the section's plane.

    Only the parts with 0 <= s <= length are kept (a segment is kept when its midpoint is).
    """
    d = line.direction
    normal = np.array([-d[1], d[0]])
    rel = tri[..., :2] - np.array([line.x0, line.y0])
    dist = rel @ normal  # (n, 3) signed distance of each vertex from the plane
    # a vertex exactly on the plane counts as just on the + side: an edge lying in the plane is
    # then drawn once (by the neighbour on the - side) and no crossing is found twice
    dist = np.where(dist == 0.0, 1e-9 * (1.0 + np.abs(rel).max()), dist)
    segs = []
    for a, b in ((0, 1), (1, 2), (2, 0)):
        da, db = dist[:, a], dist[:, b]
        crosses = da * db < 0
        t = np.where(crosses, da / np.where(crosses, da - db, 1.0), np.nan)
        segs.append(tri[:, a] + t[:, None] * (tri[:, b] - tri[:, a]))
    pts = np.stack(segs, axis=1)  # (n, 3 edges, 3); NaN where an edge does not cross
    ok = np.isfinite(pts[..., 0])
    two = ok.sum(axis=1) >= 2
    out = []
    for p, m in zip(pts[two], ok[two]):
        q = p[m][:2]
        s = (q[:, :2] - np.array([line.x0, line.y0])) @ d
        out.append(np.column_stack([s, -q[:, 2]]))
    if not out:
        return np.zeros((0, 2, 2))
    out = np.array(out)
    mid = out[:, :, 0].mean(axis=1)
    return out[(mid >= 0) & (mid <= line.length)]
