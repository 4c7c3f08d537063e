"""Vertical cross-sections through a model: the section line and where the fault crosses it.

The material at each point of a section comes from the element holding it (crustgf.fem.locate,
the same locator as the stations'); points outside the model hold nothing and are drawn blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
