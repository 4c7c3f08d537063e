"""The free surface by a vertical warp of a flat-topped reference box.

gmsh meshes a reference box whose top is z = 0 (as without a surface); every vertex is then
moved vertically so that the top follows the surface s(x, y) (m, up):

    z = w(x, y, z_ref) = z_ref + s(x, y) (1 + z_ref / r1)   for z_ref >= -r1,   z = z_ref below,

a linear stretch of the top zone [-r1, 0] of each column onto [-r1, s(x, y)]. r1 (`top_zone_depth`)
is the first flat interface deep enough below the lowest point of the surface (r1 >= lowest
depth / (1 - MIN_SQUEEZE)), or the bottom of the box: interfaces at and below r1 are planes in
both frames (the warp is the identity there), so they are imprinted as before; interfaces above r1
may meet the surface (a layer shallower than the seafloor pinches out), so they are not imprinted
and elements take the layer of their true centroid depth (a staircase of one element row; a
per-element choice, as for plate layers). w is monotone in z_ref (1 + s / r1 > 0), so elements
keep their orientation; their quality is checked after the warp.

Everything that has a true position (fault patch corners and edge polylines) goes through the
inverse warp before meshing. With a constant surface w is affine in z, so a planar fault stays
planar; otherwise a rectangle's patches become curved patches (B-spline fillings of their mapped
edges, exact to second order in the warp). Fault parts that map above z_ref = 0 lie above the
surface and are cut off in the CAD model (cad.py). Midside nodes are placed after the warp, at
true edge midpoints, so elements stay straight-sided (the solvers assume affine elements).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crustgf.geometry.patches import FaultPatches

MIN_SQUEEZE = 0.25  # the top zone keeps at least this fraction of its thickness under the deepest sea
EDGE_SAMPLES = 16  # points per straight patch edge when it becomes a curve


def top_zone_depth(cfg) -> float:
    """r1 (m, positive): depth of the shallowest flat interface that is imprinted under a surface."""
    lowest = max(0.0, -cfg.surface.bounds()[0])
    for layer in cfg.layers[:-1]:
        if layer.bottom * (1.0 - MIN_SQUEEZE) >= lowest:
            return float(layer.bottom)
    return float(cfg.domain.depth)


def imprinted_depths(cfg) -> list[float]:
    """Depths (m) of the flat interfaces that are CAD planes: all without a surface, else >= r1."""
    depths = [layer.bottom for layer in cfg.layers[:-1] if 0.0 < layer.bottom < cfg.domain.depth]
    if getattr(cfg, "surface", None) is None:
        return depths
    r1 = top_zone_depth(cfg)
    return [d for d in depths if d >= r1]


class VerticalWarp:
    def __init__(self, surface, r1: float):
        self.surface, self.r1 = surface, float(r1)

    def forward(self, p: np.ndarray) -> np.ndarray:
        """True positions of reference points (n, 3)."""
        p = np.array(p, dtype=float)
        s = self.surface.elevation(p[:, 0], p[:, 1])
        top = p[:, 2] >= -self.r1
        p[top, 2] += s[top] * (1.0 + p[top, 2] / self.r1)
        return p

    def inverse(self, p: np.ndarray, snap: float = 0.0) -> np.ndarray:
        """Reference positions of true points (n, 3); |z_ref| <= snap becomes exactly 0."""
        p = np.array(p, dtype=float)
        s = self.surface.elevation(p[:, 0], p[:, 1])
        top = p[:, 2] >= -self.r1
        p[top, 2] = (p[top, 2] - s[top]) / (1.0 + s[top] / self.r1)
        p[np.abs(p[:, 2]) <= snap, 2] = 0.0
        return p


def _densify(pts: np.ndarray, k: int) -> np.ndarray:
    if len(pts) > 2:
        return pts
    t = np.linspace(0.0, 1.0, k)[:, None]
    return pts[0] + t * (pts[-1] - pts[0])


def reference_patches(patches: FaultPatches, warp: VerticalWarp, snap: float) -> FaultPatches:
    """The fault patches in the reference frame (for the CAD model); callables dropped."""
    affine = warp.surface.is_flat()
    edges = patches.edge_points if affine else [_densify(e, EDGE_SAMPLES) for e in patches.edge_points]
    corners = warp.inverse(patches.corners, snap)
    mapped = [warp.inverse(e, snap) for e in edges]
    for e, (a, b) in zip(mapped, patches.edge_ends):  # ends exactly on the shared corners
        e[0], e[-1] = corners[a], corners[b]
    return dataclasses.replace(patches, corners=corners, edge_points=mapped, planar=patches.planar and affine,
                               normal_at=None, depth_at=None)


BURY = 1000.0  # m: a fault that has gone below the surface stays at least this deep further down dip


SNAP = 300.0  # m: an along-strike patch edge within this of the surface everywhere is put in it


def keep_buried(ref: FaultPatches, rows: np.ndarray, bury: float = BURY, snap: float = SNAP) -> FaultPatches:
    """Tidy where an extended grid fault (reach_surface) meets a rough seafloor, in the reference
    frame (surface z_ref = 0), so that gmsh never sees grazing multiple crossings:

    - an along-strike edge lying within `snap` of the surface all along is put in it (z_ref = 0);
    - each down-dip edge polyline never rises again (running minimum) until it is `bury` deep,
      so it crosses the surface once;
    - once it is `bury` under the surface it stays at least that deep (seamounts, knolls: the
      plate interface passes under them).
    Corners follow their edges. `rows`: the patch row (grid_index j) of each patch (unused)."""
    ne, nse = len(ref.edge_points), _n_strike_edges(ref)
    pts = [e.copy() for e in ref.edge_points]
    corners = ref.corners.copy()
    for k in range(nse):
        z = pts[k][:, 2]
        if np.abs(z).max() <= snap:
            pts[k][:, 2] = 0.0
            corners[ref.edge_ends[k], 2] = 0.0
    # down-dip edges in order down each column: an edge starts where the one above it ends
    by_start = {int(ref.edge_ends[k][0]): k for k in range(nse, ne)}
    starts = set(by_start) - {int(ref.edge_ends[k][1]) for k in range(nse, ne)}
    for c0 in starts:
        k = by_start.get(c0)
        while k is not None:
            a, b = ref.edge_ends[k]
            e = pts[k]
            e[0] = corners[a]
            deep = np.flatnonzero(e[:, 2] < -bury)
            i = int(deep[0]) if len(deep) else len(e)
            e[:i, 2] = np.minimum.accumulate(e[:i, 2])  # the shallow band only (not forearc basins)
            e[i:, 2] = np.minimum(e[i:, 2], -bury)
            corners[b, 2] = min(corners[b, 2], e[-1, 2])
            e[-1] = corners[b]
            k = by_start.get(int(b))
    for k in range(nse):  # along-strike edges between corners that are now deep stay deep
        a, b = ref.edge_ends[k]
        if corners[a, 2] <= -bury and corners[b, 2] <= -bury:
            pts[k][:, 2] = np.minimum(pts[k][:, 2], -bury)
        pts[k][0], pts[k][-1] = corners[a], corners[b]
    for k in range(nse, ne):
        a, b = ref.edge_ends[k]
        pts[k][0], pts[k][-1] = corners[a], corners[b]
    return dataclasses.replace(ref, corners=corners, edge_points=pts)


def _n_strike_edges(ref: FaultPatches) -> int:
    """Number of along-strike edges: the first and third edge of every patch loop are along strike."""
    return int(max(ref.patches[:, 0].max(), ref.patches[:, 2].max()) + 1)


def corners_at_surface(true: FaultPatches, ref: FaultPatches, warp: VerticalWarp) -> FaultPatches:
    """True patches whose corners above the surface are moved down their dip edge to where it meets
    the surface, so subfault outlines (plots, the subfault table's corners) show the meshed part."""
    corners = true.corners.copy()
    for k in range(_n_strike_edges(ref), len(ref.edge_points)):
        a, _ = ref.edge_ends[k]
        e = ref.edge_points[k]
        if ref.corners[a, 2] <= 0.0 or e[:, 2].min() > 0.0:
            continue
        i = int(np.argmax(e[:, 2] <= 0.0))
        t = e[i - 1, 2] / (e[i - 1, 2] - e[i, 2])
        p = e[i - 1] + t * (e[i] - e[i - 1])
        p[2] = 0.0
        corners[a] = warp.forward(p[None, :])[0]
    return dataclasses.replace(true, corners=corners)


def drop_patches(patches: FaultPatches, keep: np.ndarray) -> FaultPatches:
    """The patches with keep[p], their edges and corners renumbered (unused ones removed)."""
    loops = patches.patches[keep]
    used_edges = np.unique(loops)
    edge_map = np.full(len(patches.edge_ends), -1, np.int64)
    edge_map[used_edges] = np.arange(len(used_edges))
    ends = patches.edge_ends[used_edges]
    used_corners = np.unique(ends)
    corner_map = np.full(len(patches.corners), -1, np.int64)
    corner_map[used_corners] = np.arange(len(used_corners))
    return dataclasses.replace(
        patches, corners=patches.corners[used_corners], edge_ends=corner_map[ends],
        edge_points=[patches.edge_points[e] for e in used_edges], patches=edge_map[loops],
        grid_index=None if patches.grid_index is None else patches.grid_index[keep])


def below_surface(ref: FaultPatches, tol: float) -> np.ndarray:
    """(np,) whether some of each patch's edge polylines lies below the reference top z = 0; a
    patch wholly above the surface (e.g. the top row of a fault extended beyond it) is dropped."""
    low = np.array([e[:, 2].min() < -tol for e in ref.edge_points])
    return np.array([low[loop].any() for loop in ref.patches])


def top_faces(tets: np.ndarray, on_top: np.ndarray) -> np.ndarray:
    """(k, 3) vertex ids of the tet faces lying in the top surface (all three vertices on it)."""
    faces = tets[:, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]].reshape(-1, 3)
    faces = faces[on_top[faces].all(axis=1)]
    return np.unique(np.sort(faces, axis=1), axis=0)


def surface_z_at(nodes: np.ndarray, faces: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """z of the meshed top surface (linear on each face) below points xy (n, 2); NaN if none."""
    from scipy.spatial import cKDTree

    p = nodes[faces]  # (k, 3, 3)
    tree = cKDTree(p[:, :, :2].mean(axis=1))
    out = np.full(len(xy), np.nan)
    k = min(16, len(faces))
    _, cand = tree.query(xy, k=k)
    cand = np.asarray(cand).reshape(len(xy), k)
    for i, (q, cs) in enumerate(zip(xy, cand)):
        for c in cs:
            a, b, d = p[c, 0, :2], p[c, 1, :2], p[c, 2, :2]
            m = np.column_stack([b - a, d - a])
            l1, l2 = np.linalg.solve(m, q - a)
            if min(l1, l2, 1.0 - l1 - l2) >= -1e-9:
                out[i] = (1 - l1 - l2) * p[c, 0, 2] + l1 * p[c, 1, 2] + l2 * p[c, 2, 2]
                break
    return out
