"""The free surface and the layer-bottom surfaces by a vertical warp of a flat-layered reference box.

gmsh meshes a reference box whose top is z = 0 and whose imprinted interfaces are planes
(as without a surface); every vertex is then moved vertically, column by column, piecewise
linearly between levels: the top z = 0 goes to the free surface s(x, y), each imprinted
interface at its reference depth r_k goes to its true depth (the layer's bottom surface, or its
flat depth), and an anchor level r_a and everything below it stay where they are.

    z = t_k(x, y) + (z_ref - R_k) (t_{k+1} - t_k) / (R_{k+1} - R_k)   for R_k >= z_ref >= R_{k+1}

(R: reference levels 0 > -r_1 > ... > -r_a; t: their true heights at (x, y)). Which interfaces
are imprinted: every layer bottom given as a surface (its reference depth from
config/layer_surfaces.py), and every flat bottom that never meets the free surface
(r (1 - MIN_SQUEEZE) >= the deepest point of the surface). Flat bottoms shallower than that
may meet the surface; they are not imprinted and elements take their layer by true centroid
depth (a staircase of one element row). The anchor is the first imprinted flat interface deep
enough under every warped level, else the bottom of the box.

Pinch-outs: the slab above a layer-bottom level keeps at least its reference thickness (the
layer's median thickness, config/layer_surfaces.py): where the layer is thinner or absent the
level is pushed down to that, parallel to the level above, and the layer's true bottom runs
inside the slab, so elements there take their layer by centroid (mesh/materials.py), exactly as
for a flat layer that meets the surface. Never thinning a slab is what keeps elements from
inverting under rough topography (a slab squeezed to a quarter, as the first version did,
inverted elements under 1 km of relief in a 2 km sediment). The slab above the anchor keeps at
least MIN_SQUEEZE of its thickness.

Everything that has a true position (fault patch corners and edge polylines) goes through the
inverse warp before meshing. When the warp is one affine map (a constant surface, only flat
interfaces) a planar fault stays planar; otherwise a rectangle's patches become curved patches
(B-spline fillings of their mapped edges). Fault parts that map above z_ref = 0 lie above the
surface and are cut off in the CAD model (cad.py). Midside nodes are placed after the warp, at
true edge midpoints, so elements stay straight-sided (the solvers assume affine elements).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.geometry.patches import FaultPatches

MIN_SQUEEZE = 0.25  # the slab above the anchor keeps at least this fraction of its reference thickness
EDGE_SAMPLES = 16  # points per straight patch edge when it becomes a curve


def _lowest_surface_depth(cfg) -> float:
    surface = getattr(cfg, "surface", None)
    return 0.0 if surface is None else max(0.0, -surface.bounds()[0])


def _surface_layers(cfg) -> list:
    return [layer for layer in cfg.layers[:-1] if layer.surface is not None]


def top_zone_depth(cfg) -> float:
    """r_a (m, positive): the anchor, the shallowest imprinted flat interface below every layer-bottom
    surface whose slab above can keep MIN_SQUEEZE of its thickness in every column, else the box
    bottom. The deepest the level above can go is bounded as heights() pushes it (_deepest)."""
    by_depth = {layer.bottom: layer for layer in cfg.layers[:-1]}
    levels = imprinted_depths(cfg)
    below_surfaces = max([0.0] + [layer.bottom for layer in _surface_layers(cfg)])
    for r in levels:
        if by_depth[r].surface is None and r > below_surfaces:
            above = [q for q in levels if q < r]
            deepest, last = _deepest(cfg, above, by_depth)
            if r - deepest >= MIN_SQUEEZE * (r - last):
                return float(r)
    return float(cfg.domain.depth)


def _deepest(cfg, levels: list[float], by_depth: dict) -> tuple[float, float]:
    """(bound on the true depth of the last of `levels` in any column, its reference depth): each level
    is at its own depth or pushed to the one above's plus its slab (keep as in heights())."""
    deepest, previous = _lowest_surface_depth(cfg), 0.0
    for r in levels:
        layer = by_depth[r]
        own = -float(layer.surface.bounds()[0]) if layer.surface is not None else r
        keep = 1.0 if layer.surface is not None else MIN_SQUEEZE
        deepest, previous = max(own, deepest + keep * (r - previous)), r
    return deepest, previous


def imprinted_depths(cfg) -> list[float]:
    """Reference depths (m) of the interfaces that are CAD planes: all flat ones without a surface or
    layer-bottom surface, else the layer-bottom surfaces and the flat ones that never meet the surface."""
    inside = [layer for layer in cfg.layers[:-1] if 0.0 < layer.bottom < cfg.domain.depth]
    if getattr(cfg, "surface", None) is None and not _surface_layers(cfg):
        return [layer.bottom for layer in inside]
    lowest = _lowest_surface_depth(cfg)
    return [layer.bottom for layer in inside
            if layer.surface is not None or layer.bottom * (1.0 - MIN_SQUEEZE) >= lowest]


class VerticalWarp:
    """The column warp of the module doc. `top`: the free surface (None: flat at sea level);
    `levels`: (reference depth r, Layer or None) of each warped interface, top to bottom (a Layer
    with a surface moves it onto the surface; None: a flat interface, identity); `anchor`: r_a."""

    def __init__(self, top, levels: list, anchor: float):
        self.top, self.anchor = top, float(anchor)
        self.levels = [(float(r), layer) for r, layer in levels if r < anchor]
        self.R = np.array([0.0] + [-r for r, _ in self.levels] + [-self.anchor])

    @classmethod
    def for_config(cls, cfg) -> VerticalWarp:
        anchor = top_zone_depth(cfg)
        by_depth = {layer.bottom: layer for layer in cfg.layers[:-1]}
        levels = [(r, by_depth[r] if by_depth[r].surface is not None else None) for r in imprinted_depths(cfg)]
        return cls(getattr(cfg, "surface", None), levels, anchor)

    def is_affine(self) -> bool:
        """One affine map of z (a planar fault stays planar): a flat top and no level between it and the anchor."""
        return (self.top is None or self.top.is_flat()) and not self.levels

    def heights(self, x, y) -> np.ndarray:
        """(n, L) true heights (m, up) of the reference levels R under map points, pinch-outs squeezed."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        t = np.empty((len(x), len(self.R)))
        t[:, 0] = 0.0 if self.top is None else self.top.elevation(x, y)
        for k, (r, layer) in enumerate(self.levels, start=1):
            t[:, k] = -r if layer is None else -layer.bottom_depth(x, y)
        t[:, -1] = self.R[-1]
        dR = -np.diff(self.R)
        for k, (_, layer) in enumerate(self.levels, start=1):  # top to bottom
            keep = 1.0 if layer is not None else MIN_SQUEEZE  # a layer bottom: the whole slab (doc)
            t[:, k] = np.minimum(t[:, k], t[:, k - 1] - keep * dR[k - 1])
        short = t[:, -2] - t[:, -1] < MIN_SQUEEZE * dR[-1] * (1.0 - 1e-9)
        if short.any():
            i = int(np.argmax(short))
            raise CrustgfError(f"mesh: the surfaces reach too deep for the warp at (x, y) = ({x[i] / 1e3:.1f}, "
                               f"{y[i] / 1e3:.1f}) km (anchor {self.anchor / 1e3:g} km); deepen the box")
        return t

    def forward(self, p: np.ndarray) -> np.ndarray:
        """True positions of reference points (n, 3)."""
        p = np.array(p, dtype=float)
        warped = p[:, 2] >= self.R[-1]
        if warped.any():
            q = p[warped]
            t = self.heights(q[:, 0], q[:, 1])
            k = np.clip(np.searchsorted(-self.R, -q[:, 2], side="right") - 1, 0, len(self.R) - 2)
            rows = np.arange(len(q))
            f = (q[:, 2] - self.R[k]) / (self.R[k + 1] - self.R[k])
            p[warped, 2] = t[rows, k] + f * (t[rows, k + 1] - t[rows, k])
        return p

    def inverse(self, p: np.ndarray, snap: float = 0.0) -> np.ndarray:
        """Reference positions of true points (n, 3); |z_ref| <= snap becomes exactly 0. Points above
        the surface continue the top slab's map (z_ref > 0)."""
        p = np.array(p, dtype=float)
        warped = p[:, 2] >= self.R[-1]
        if warped.any():
            q = p[warped]
            t = self.heights(q[:, 0], q[:, 1])
            rows = np.arange(len(q))
            k = np.clip((t[:, 1:-1] >= q[:, 2:3]).sum(axis=1), 0, len(self.R) - 2)  # slab below t_k
            f = (q[:, 2] - t[rows, k]) / (t[rows, k + 1] - t[rows, k])
            p[warped, 2] = self.R[k] + f * (self.R[k + 1] - self.R[k])
        p[np.abs(p[:, 2]) <= snap, 2] = 0.0
        return p


def _densify(pts: np.ndarray, k: int) -> np.ndarray:
    if len(pts) > 2:
        return pts
    t = np.linspace(0.0, 1.0, k)[:, None]
    return pts[0] + t * (pts[-1] - pts[0])


def reference_patches(patches: FaultPatches, warp: VerticalWarp, snap: float) -> FaultPatches:
    """The fault patches in the reference frame (for the CAD model); callables dropped."""
    affine = warp.is_affine()
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
