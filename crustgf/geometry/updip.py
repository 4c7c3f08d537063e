"""`[fault] reach_surface = true`: a depth-grid fault extended up-dip to the free surface.

Slab2-like grids stop at the trench axis, often a little below the seafloor (and a config's outline
may stop short of it). The extension continues the grid up-dip from its up-dip edge, each edge
point along its own dip direction with its own slope (the least-squares plane through its
neighbours, slab.local_gradients), one data spacing per step, until the point lies `margin` above
the free surface. The new points join the grid, so the fitted surface, the cut region (its data
footprint) and the plate layers all follow the extension; the part above the free surface is cut
off when meshing, so the fault breaks the surface along their intersection (the trench); subfaults
wholly above it are dropped. The extension goes on to `margin` (1 km) above the surface: a fault
that ended right at it would run along it within the topography's roughness and cross it many times
at a grazing angle (gmsh then fails); 1 km above, it crosses it once along each dip line.

Up-dip edge points: data points with no data within 0.6 spacings one spacing up-dip of them, at
most MAX_GAP below the surface; each extends at most MAX_REACH, or not at all if it does not reach
the surface within it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from crustgf.geometry.slab import data_spacing, local_gradients

MAX_REACH = 120e3  # m: an edge point extends at most this far (map distance) ...
MAX_GAP = 10e3  # m: ... and only if it lies at most this far below the surface (a trench edge, not
# the side or deep edge of a clipped grid); points that do not reach the surface are not extended


def extend_updip(points: np.ndarray, elevation, margin: float = 1000.0, max_reach: float = MAX_REACH,
                 max_gap: float = MAX_GAP) -> np.ndarray:
    """points (n, 3) x, y (m), depth (m, down) plus the extension; elevation(x, y) in m (up)."""
    xy, depth = points[:, :2], points[:, 2]
    h = data_spacing(xy)
    g = local_gradients(xy, depth)
    slope = np.hypot(g[:, 0], g[:, 1])
    ok = slope > 1e-3
    up = np.zeros_like(g)
    up[ok] = -g[ok] / slope[ok, None]
    tree = cKDTree(xy)
    dist, _ = tree.query(xy + h * up)
    gap = depth + elevation(xy[:, 0], xy[:, 1])  # how far below the surface
    edge = np.flatnonzero(ok & (dist > 0.6 * h) & (gap <= max_gap))
    if len(edge) == 0:
        return points
    k = np.arange(1, int(np.ceil(max_reach / h)) + 1)
    qx = xy[edge, 0, None] + k * h * up[edge, 0, None]  # (ne, K)
    qy = xy[edge, 1, None] + k * h * up[edge, 1, None]
    qd = depth[edge, None] - k * h * slope[edge, None]
    above = qd < -elevation(qx, qy) - margin  # the step that reaches `margin` above the surface
    last = np.where(above.any(axis=1), np.argmax(above, axis=1), -1)
    keep = (k[None, :] <= last[:, None] + 1) & (last[:, None] >= 0)
    new = np.column_stack([qx[keep], qy[keep], qd[keep]])
    if len(new) == 0:
        return points
    far = tree.query(new[:, :2])[0] > 0.5 * h  # not on top of existing data
    new = new[far]
    accepted = []  # thin: rays from neighbouring edge points may converge
    if len(new):
        order = np.argsort(new[:, 2])[::-1]  # deepest first: closest to the data
        taken = np.zeros(len(new), bool)
        ntree = cKDTree(new[:, :2])
        for i in order:
            if taken[i]:
                continue
            accepted.append(i)
            taken[ntree.query_ball_point(new[i, :2], 0.5 * h)] = True
    return np.vstack([points, new[accepted]]) if accepted else points
