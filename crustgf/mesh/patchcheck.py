"""Checks of a curved fault's patch edges before any CAD work: in map view (the fault is a depth
surface over x, y) no two edge polylines may cross. A crossing means the structured split folds
over; gmsh would then fail late (or crash) on intersecting fault surfaces."""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.geometry.patches import FaultPatches


def _proper_crossings(a: np.ndarray, b: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """(i, j) index pairs of map segments a[i], b[j] ((n, 2, 2), (m, 2, 2)) crossing in their interiors."""
    p, r = a[:, None, 0], a[:, None, 1] - a[:, None, 0]
    q, s = b[None, :, 0], b[None, :, 1] - b[None, :, 0]
    rxs = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / rxs
        u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / rxs
    return np.argwhere((t > eps) & (t < 1 - eps) & (u > eps) & (u < 1 - eps))


def check_edges_do_not_cross(patches: FaultPatches) -> None:
    """Raise CrustgfError naming the first pair of patch edges that cross in map view."""
    if patches.planar or patches.depth_at is None:
        return  # a planar fault's patches are a regular split: nothing can fold
    segs = [np.stack([e[:-1, :2], e[1:, :2]], axis=1) for e in patches.edge_points]
    lo = np.array([e[:, :2].min(axis=0) for e in patches.edge_points])
    hi = np.array([e[:, :2].max(axis=0) for e in patches.edge_points])
    for i in range(len(segs)):
        near = np.flatnonzero(np.all(lo[i + 1:] <= hi[i], axis=1) & np.all(hi[i + 1:] >= lo[i], axis=1)) + i + 1
        for j in near:
            hit = _proper_crossings(segs[i], segs[j])
            if len(hit):
                x, y = segs[i][hit[0][0], 0] / 1e3
                raise CrustgfError(
                    f"fault: subfault edges {i} and {j} cross near ({x:.1f}, {y:.1f}) km (x, y): the split "
                    "into subfaults folds over there; simplify fault.outline, change fault.depth_range "
                    "or use a larger fault.subfault_size")
