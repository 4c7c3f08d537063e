"""Plate-layer bottoms as meshed surfaces (SPEC section 5: "Plate layers' boundaries are meshed
surfaces, not a per-element choice").

Plate layer k holds the points whose distance below the plate interface lies in [T_{k-1}, T_k)
(geometry/plate.py: vertical distance times cos(dip) at the point's (x, y)). The surface
distance_below = T_k is, at each (x, y), the interface depth plus T_k sqrt(1 + |grad depth|^2):
this module builds copies of the fault's patches moved vertically down by exactly that at every
corner and edge point (same topology, planar patches stay planar on a planar interface). They go
into the CAD model like the fault pieces (cut by the flat interface planes, cut at the surface,
glued with the layer slabs) but as plain embedded surfaces: no split nodes, no subfaults, not in
the fault's triangles. So no element straddles a plate-layer bottom where the copies reach, and
the per-centroid rule of materials.assign_materials classifies those elements exactly.

Where the copies reach:
- a planar interface (rectangle fault) without a [surface]: the offset plane itself, over the
  whole domain (or its far-field core) less a margin at the sides, up to the free surface, as one
  polygon (`plane_apron`); a horizontal one on a flat interface plane is that plane already;
- a grid fault: the fault's footprint plus one more row of patches, one subfault size wide, down
  dip beyond the fault's buried bottom edge (the slab continues into the mantle;
  `extend_down_dip`); on that row the plate's top (the interface itself) is meshed too, sharing
  the fault's bottom edge;
- a rectangle fault under a [surface]: the fault's footprint.
Beyond those, elements still take their plate layer by centroid (a staircase of one element row):
up dip of the trench, along strike beyond the fault's ends, further down dip, and the plate's top
beyond the fault except on that row. Copies (or parts of them) outside the box are left out,
parts above the free surface are cut off in the CAD model. Under a [surface] the copies go
through the same inverse warp as the fault (mesh/warp.py).
"""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np

from crustgf.geometry.patches import FaultPatches
from crustgf.geometry.plate import PlaneInterface, interface_surface

DOWN_DIP_ROWS = 1.0  # the plate bottoms continue this many subfault sizes down dip beyond the fault


def bottom_distances(cfg) -> list[float]:
    """Cumulative thicknesses T_k (m) of the plate-layer bottoms that lie at a finite distance."""
    tops = np.cumsum([float(layer.bottom) for layer in cfg.plate_layers])
    return [float(t) for t in tops if math.isfinite(t)]


def offset_points(points: np.ndarray, surface, distance: float) -> np.ndarray:
    """Points (n, 3) moved vertically to `distance` (m) below the interface at their (x, y)."""
    from crustgf.geometry.plate import depth_at_distance

    p = np.array(points, dtype=float)
    p[:, 2] = -depth_at_distance(surface, p[:, 0], p[:, 1], distance)
    return p


def offset_patches(patches: FaultPatches, surface, distance: float) -> FaultPatches:
    """The patches copied onto the surface at `distance` below the interface (module doc)."""
    corners = offset_points(patches.corners, surface, distance)
    edges = [offset_points(e, surface, distance) for e in patches.edge_points]
    for e, (a, b) in zip(edges, patches.edge_ends):  # ends exactly on the shared corners
        e[0], e[-1] = corners[a], corners[b]
    planar = patches.planar and isinstance(surface, PlaneInterface)
    return dataclasses.replace(patches, corners=corners, edge_points=edges, planar=planar,
                               normal_at=None, depth_at=None)


def _clip(poly: np.ndarray, a: np.ndarray, b: float) -> np.ndarray:
    """The part of a convex polygon (k, 2) where a . p <= b (Sutherland-Hodgman, one half-plane)."""
    out = []
    for p, q in zip(poly, np.roll(poly, -1, axis=0)):
        fp, fq = a @ p - b, a @ q - b
        if fp <= 0.0:
            out.append(p)
        if fp * fq < 0.0:
            out.append(p + fp / (fp - fq) * (q - p))
    return np.array(out).reshape(-1, 2)


def plane_apron(cfg, plane: PlaneInterface, distance: float, margin: float) -> FaultPatches | None:
    """The plane at `distance` below a planar interface, within the box (or its far-field core)
    less `margin` on every side and between depths margin and domain.depth - margin: one planar
    polygon patch; None when nothing of it is inside."""
    d = cfg.domain
    x0, x1, y0, y1 = (*d.x, *d.y) if getattr(d, "core", None) is None else d.core[:4]
    poly = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float) + margin * np.array(
        [[1, 1], [-1, 1], [-1, -1], [1, -1]])
    # depth(x, y) = c + s . (x, y), linear in map view: clip to margin <= depth <= depth - margin
    s = np.asarray(plane.slope, float)
    c = plane.depth0 - s @ plane.origin + distance * math.sqrt(1.0 + s @ s)
    poly = _clip(_clip(poly, -s, c), s, d.depth - margin - c)
    if len(poly) < 3 or np.ptp(poly, axis=0).min() < margin:
        return None
    n = len(poly)
    corners = np.column_stack([poly, -(c + poly @ s)])
    ends = np.array([(k, (k + 1) % n) for k in range(n)], dtype=np.int64)
    return FaultPatches(corners=corners, edge_ends=ends, edge_points=[corners[[a, b]] for a, b in ends],
                        patches=np.arange(n, dtype=np.int64)[None, :], planar=True, normal_at=None)


def _down_dip_line(surface, start: np.ndarray, length: float, k: int) -> np.ndarray:
    """(k + 1, 2) map points of the path of steepest descent of the interface from `start`, `length`
    long along the interface (m): the slab continued down dip."""
    p = np.empty((k + 1, 2))
    p[0] = start
    for i in range(k):
        gx, gy = surface.gradient(p[i, :1], p[i, 1:])
        g = np.array([gx[0], gy[0]])
        slope = float(np.hypot(*g))
        step = length / k / np.sqrt(1.0 + slope**2)  # map step for an interface step of length / k
        p[i + 1] = p[i] + step * (g / slope if slope > 0.0 else np.zeros(2))
    return p


def extend_down_dip(patches: FaultPatches, surface, length: float, k: int = 16) -> FaultPatches:
    """A grid fault's patches plus one row below its bottom row, `length` (m) down dip along the
    interface (steepest descent from each bottom corner), sharing the bottom edges: the plate
    below the fault's footprint continues into the mantle. z of the new points is left at the
    interface; offset_patches sets it. Patches without a grid index are returned as they are."""
    if patches.grid_index is None or len(patches.patches) == 0:
        return patches
    bottom = patches.patches[patches.grid_index[:, 1] == patches.grid_index[:, 1].max()]
    order = np.argsort(patches.grid_index[patches.grid_index[:, 1] == patches.grid_index[:, 1].max(), 0])
    strike_edges = bottom[order, 2]  # loop: top, end, bottom, start (geometry/grid.py)
    chain = [int(patches.edge_ends[strike_edges[0], 0])] + [int(patches.edge_ends[e, 1]) for e in strike_edges]
    corners, edges, ends = list(patches.corners), list(patches.edge_points), list(map(tuple, patches.edge_ends))
    new_corner, dip_edge = {}, {}
    for c in chain:
        line = _down_dip_line(surface, patches.corners[c, :2], length, k)
        pts = np.column_stack([line, -surface.depth(line[:, 0], line[:, 1])])
        new_corner[c] = len(corners)
        corners.append(pts[-1])
        dip_edge[c] = len(edges)
        edges.append(pts)
        ends.append((c, new_corner[c]))
    loops = []
    for e, a, b in zip(strike_edges, chain[:-1], chain[1:]):
        t = np.linspace(0.0, 1.0, k + 1)[:, None]
        xy = corners[new_corner[a]][:2] + t * (corners[new_corner[b]][:2] - corners[new_corner[a]][:2])
        edges.append(np.column_stack([xy, -surface.depth(xy[:, 0], xy[:, 1])]))
        ends.append((new_corner[a], new_corner[b]))
        loops.append([e, dip_edge[b], len(edges) - 1, dip_edge[a]])
    n = patches.grid_index[:, 1].max() + 1
    grid = np.vstack([patches.grid_index, [[i, n] for i in range(len(loops))]])
    return dataclasses.replace(patches, corners=np.array(corners), edge_ends=np.array(ends, dtype=np.int64),
                               edge_points=edges, patches=np.vstack([patches.patches, loops]).astype(np.int64),
                               planar=False, grid_index=grid)


def _inside_box(cfg, patches: FaultPatches) -> FaultPatches | None:
    """The patches lying wholly inside the box (sides and bottom; the top is cut in the CAD
    model), renumbered; None if none."""
    from crustgf.mesh.warp import drop_patches

    d = cfg.domain
    tol = 1e-6 * max(d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
    inside = []
    for e in patches.edge_points:
        ok = ((e[:, 0] > d.x[0] + tol) & (e[:, 0] < d.x[1] - tol) & (e[:, 1] > d.y[0] + tol)
              & (e[:, 1] < d.y[1] - tol) & (e[:, 2] > -d.depth + tol))
        inside.append(bool(ok.all()))
    inside = np.array(inside)
    keep = np.array([inside[loop].all() for loop in patches.patches])
    if not keep.any():
        return None
    return patches if keep.all() else drop_patches(patches, keep)


def plate_bottom_patches(cfg, patches: FaultPatches) -> list[FaultPatches]:
    """The plate-layer bottoms of a config as patch sets, in the true frame (module doc)."""
    if not getattr(cfg, "plate_layers", None):
        return []
    surface = interface_surface(cfg)
    apron = isinstance(surface, PlaneInterface) and getattr(cfg, "surface", None) is None
    margin = max(cfg.mesh.size_fault, 0.01 * max(cfg.domain.x[1] - cfg.domain.x[0], cfg.domain.depth))
    extended = patches if apron else _extended(cfg, patches, surface)
    out = []
    for t in bottom_distances(cfg):
        if apron and _on_flat_interface(cfg, surface, t, margin):
            continue  # the interface plane is that bottom already (the mesh conforms to it)
        p = plane_apron(cfg, surface, t, margin) if apron else _inside_box(cfg, offset_patches(extended, surface, t))
        if p is not None:
            out.append(p)
    if extended is not patches:  # the plate's top (the interface) continues down dip beyond the fault too
        from crustgf.mesh.warp import drop_patches

        beyond = np.arange(extended.n_patches) >= patches.n_patches
        top = _inside_box(cfg, offset_patches(drop_patches(extended, beyond), surface, 0.0))
        if top is not None:
            out.append(top)
    return out


def _on_flat_interface(cfg, plane: PlaneInterface, distance: float, margin: float) -> bool:
    """Whether the bottom at `distance` below a horizontal interface lies within `margin` of a flat
    interface plane (two coincident CAD planes would break the glue fragment)."""
    from crustgf.mesh.cad import interface_depths

    if np.any(np.asarray(plane.slope) != 0.0):
        return False
    return any(abs(plane.depth0 + distance - z) < margin for z in interface_depths(cfg))


def _extended(cfg, patches: FaultPatches, surface) -> FaultPatches:
    """The fault's patches with a row DOWN_DIP_ROWS subfault sizes wide below them (extend_down_dip);
    the patches alone if that row's edges would cross in map view."""
    from crustgf.core.errors import CrustgfError
    from crustgf.mesh.patchcheck import check_edges_do_not_cross

    size = getattr(cfg.fault, "subfault_size", None)
    if size is None:
        return patches
    ext = extend_down_dip(patches, surface, DOWN_DIP_ROWS * float(size))
    try:
        check_edges_do_not_cross(ext)
    except CrustgfError:
        return patches
    return ext


def _without_crossings(cfg, plate: list[FaultPatches]) -> list[FaultPatches]:
    """The plate surfaces without the patches that cross a flat interface plane (reference frame)."""
    from crustgf.mesh.cad import interface_depths
    from crustgf.mesh.warp import drop_patches

    depths = np.array(interface_depths(cfg))
    out = []
    for p in plate:
        z = [np.concatenate([p.edge_points[e][:, 2] for e in loop]) for loop in p.patches]
        keep = np.array([not ((zz.min() < -depths) & (-depths < zz.max())).any() for zz in z])
        if keep.any():
            out.append(p if keep.all() else drop_patches(p, keep))
    return out


def mesh_linear_with_plate(cfg, patches: FaultPatches, plate: list[FaultPatches], **kwargs):
    """gmsh_build.mesh_linear with the plate surfaces embedded. Should gmsh fail with them (seen
    where they cross a flat interface plane at the shallow dips of a subduction zone: "facets
    intersect"), the model is meshed again without the patches that cross a flat interface, and
    if that fails too, without plate surfaces at all; each fallback with a warning line. Where a
    surface is left out, elements take their plate layer by centroid, as before."""
    from crustgf.core.errors import CrustgfError
    from crustgf.mesh.gmsh_build import mesh_linear

    tries = [(plate, "")] if plate else []
    partial = _without_crossings(cfg, plate) if plate else []
    if partial and sum(p.n_patches for p in partial) < sum(p.n_patches for p in plate):
        tries.append((partial, "the plate-surface patches that cross a flat interface"))
    tries.append(([], "the plate-layer surfaces"))
    for k, (embedded, _) in enumerate(tries):
        try:
            return mesh_linear(cfg, patches, embedded=embedded, **kwargs)
        except CrustgfError as exc:
            if "gmsh failed" not in str(exc) or k == len(tries) - 1:
                raise
            print(f"Warning: plate_layers: gmsh could not mesh with the plate-layer surfaces ({exc}); meshing "
                  f"again without {tries[k + 1][1]} (elements there take their plate layer by centroid)",
                  file=sys.stderr)
