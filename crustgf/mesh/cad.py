"""The CAD model (gmsh OCC): box, flat layer interfaces and the fault patches, made conforming.

Curved patches touch their neighbours tangentially along shared edges; one OCC fragment of
everything at once intersects every such pair (slow, and fragile on tangential contact). So the
model is assembled in three cheap steps, each with exact bookkeeping from fragment output maps:

1. the box is fragmented with the flat interface planes (layer slabs, plane-plane work only);
2. each patch is cut by the interface planes it crosses, on its own (one patch against one plane);
3. one final fragment of the slabs with all patch pieces in OCC's "glue" mode: the pieces
   meet only along coincident edges (shared or cut at the same plane) and the interfaces only
   along those cut edges, so the face/face intersection search is skipped.

Which surface is which subfault and which volume is which layer come from the output maps,
never from positions (a volume's layer is the flat layer holding its centre of mass, exact
because volumes are slabs between flat interfaces). Planar faults take the same path.
"""

from __future__ import annotations

from contextlib import contextmanager

import gmsh
import numpy as np

from crustgf.config.schema import Config
from crustgf.core.errors import CrustgfError
from crustgf.geometry.patches import FaultPatches

GLUE_SHIFT = 1  # gmsh Geometry.OCCBooleanGlue: arguments only share (parts of) sub-shapes


def check_fault_in_domain(cfg: Config, patches: FaultPatches) -> None:
    """The fault must lie strictly inside the box, except that it may touch the free surface."""
    d = cfg.domain
    pts = np.vstack([patches.corners] + list(patches.edge_points))
    tol = 1e-6 * max(d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
    above = pts[:, 2] > tol
    if getattr(cfg, "surface", None) is not None:
        above[:] = False  # under a [surface] the parts above it are cut off (build_geometry)
    bad = (
        (pts[:, 0] <= d.x[0] + tol) | (pts[:, 0] >= d.x[1] - tol)
        | (pts[:, 1] <= d.y[0] + tol) | (pts[:, 1] >= d.y[1] - tol)
        | above | (pts[:, 2] <= -d.depth + tol)
    )
    if bad.any():
        p = pts[np.argmax(bad)] / 1e3
        raise CrustgfError(
            f"fault: point ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) km (x, y, z) lies on or outside the "
            f"domain box; the fault must be inside it (it may touch only the free surface z = 0)"
        )


def interface_depths(cfg: Config) -> list[float]:
    """Depths (m, positive down) of the flat interfaces imprinted as planes (all strictly inside the
    domain; under a [surface] only those at and below the warp's top zone, mesh/warp.py)."""
    from crustgf.mesh.warp import imprinted_depths

    return imprinted_depths(cfg)


def is_trench_edge(e: np.ndarray) -> bool:
    """A patch edge lying in the reference surface z_ref = 0 (a trench segment, mesh/trench.py)."""
    return bool(np.all(e[:, 2] == 0.0))


def cut_at_surface(pieces: list[int]) -> list[int]:
    """The pieces of a patch at or below the reference top z = 0 (the rest is above the surface)."""
    occ = gmsh.model.occ
    keep, drop = [], []
    for p in pieces:
        (keep if occ.getCenterOfMass(2, p)[2] <= 0.0 else drop).append(p)
    if drop:
        occ.remove([(2, p) for p in drop], recursive=True)
    return keep


def _ends_at_trench(patches: FaultPatches, loop) -> bool:
    """The patch lies under the reference surface z = 0 and one of its edges lies in it (the trench
    built into the patches, mesh/trench.py): nothing to cut there."""
    edges = [patches.edge_points[e] for e in loop]
    return max(e[:, 2].max() for e in edges) <= 0.0 and any(is_trench_edge(e) for e in edges)


def _cut_holes(plane: int, loops: list[np.ndarray], z: float) -> list[int]:
    """The pieces of a plane surface at height z left after cutting out the map polygons `loops`."""
    occ = gmsh.model.occ
    tools = []
    for loop in loops:
        pts = [occ.addPoint(x, y, z) for x, y in loop]
        lines = [occ.addLine(a, b) for a, b in zip(pts, pts[1:] + pts[:1])]
        tools.append((2, occ.addPlaneSurface([occ.addCurveLoop(lines)])))
    out, _ = occ.cut([(2, plane)], tools)
    return [t for dim, t in out if dim == 2]


def add_layer_slabs(cfg: Config, holes: dict | None = None) -> list[int]:
    """The box split by the flat interfaces (step 1); returns the volume tags. `holes`: map
    polygons to cut out of the plane at each reference depth (mesh/holes.py)."""
    occ = gmsh.model.occ
    d = cfg.domain
    box = occ.addBox(d.x[0], d.y[0], -d.depth, d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
    x0, x1, y0, y1 = d.x[0], d.x[1], d.y[0], d.y[1]
    core = getattr(d, "core", None)
    if core is not None:  # a sized far-field box: interfaces end at the core's edge (embedded planes;
        x0, x1, y0, y1 = core[:4]  # beyond it, huge elements take their layer by centroid)
    planes = []
    for z in interface_depths(cfg):
        plane = occ.addRectangle(x0, y0, -z, x1 - x0, y1 - y0)
        planes += _cut_holes(plane, holes[z], -z) if holes and holes.get(z) else [plane]
    if not planes:
        return [box]
    _, out_map = occ.fragment([(3, box)], [(2, t) for t in planes])
    return [t for dim, t in out_map[0] if dim == 3]


def add_fault_surfaces(patches: FaultPatches) -> list[int]:
    """One OCC surface per patch, sharing corner points and edge curves; returns surface tags.

    Curved patches are Coons B-spline fillings of their four spline edges: they contain the
    edges exactly (so neighbours meet without gaps) and follow the fault surface in between as
    closely as the edges imply (patches are small against the fault's radius of curvature)."""
    occ = gmsh.model.occ
    corner_tags = [occ.addPoint(*p) for p in patches.corners]
    curve_tags = []
    for (a, b), pts in zip(patches.edge_ends, patches.edge_points):
        if a == b:  # collapsed (a three-sided patch at the trench, mesh/trench.py)
            curve_tags.append(None)
        elif len(pts) <= 2:
            curve_tags.append(occ.addLine(corner_tags[a], corner_tags[b]))
        else:  # curved edge: a spline through the polyline, ends on the shared corners
            inner = [occ.addPoint(*p) for p in pts[1:-1]]
            curve_tags.append(occ.addSpline([corner_tags[a], *inner, corner_tags[b]]))
    surfaces = []
    for loop in patches.patches:
        wire = occ.addCurveLoop([curve_tags[e] for e in loop if curve_tags[e] is not None])
        if patches.planar:
            surfaces.append(occ.addPlaneSurface([wire]))
        else:
            surfaces.append(occ.addBSplineFilling(wire, type="Coons"))
    return surfaces


def cut_by_planes(surface: int, depths: list[float], margin: float) -> list[int]:
    """Pieces of one fault surface cut by the horizontal planes z = -depth it crosses (step 2)."""
    occ = gmsh.model.occ
    x0, y0, z0, x1, y1, z1 = occ.getBoundingBox(2, surface)
    crossing = [z for z in depths if z0 < -z < z1]
    if not crossing:
        return [surface]
    tools = [occ.addRectangle(x0 - margin, y0 - margin, -z, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin)
             for z in crossing]
    _, out_map = occ.fragment([(2, surface)], [(2, t) for t in tools])
    pieces = [t for dim, t in out_map[0] if dim == 2]
    # the plane pieces are construction aids: drop them, keeping curves the patch pieces use
    leftovers = {(dim, t) for m in out_map[1:] for dim, t in m if dim == 2} - {(2, p) for p in pieces}
    occ.remove(sorted(leftovers), recursive=True)
    return pieces


def fault_holes(cfg: Config, patches: FaultPatches) -> dict[float, list[np.ndarray]]:
    """{reference depth: hole polygons} for the planes of layer bottoms given as surfaces (the
    fault is within half an element of them there, mesh/holes.py); flat interfaces get none."""
    from crustgf.mesh.holes import band_loops, covers_crossings

    surfaces = {layer.bottom for layer in cfg.layers[:-1] if layer.surface is not None}
    delta = 0.5 * cfg.mesh.size_fault
    holes = {z: band_loops(patches, -z, delta) for z in interface_depths(cfg) if z in surfaces}
    # a steep crossing is narrower than the raster and may fall outside: then no hole, the plane is
    # imprinted and the fault cut by it, as for a flat interface (fine at a steep angle)
    return {z: loops for z, loops in holes.items() if loops and covers_crossings(patches, -z, loops)}


@contextmanager
def _option(name: str, value: float):
    old = gmsh.option.getNumber(name)
    gmsh.option.setNumber(name, value)
    try:
        yield
    finally:
        gmsh.option.setNumber(name, old)


def build_geometry(cfg: Config, patches: FaultPatches,
                   embedded: list[FaultPatches] = ()) -> tuple[list[list[int]], list[int]]:
    """Conforming CAD model; returns (surface tags of each patch, volume tags). `embedded`: more
    patch sets (plate-layer bottoms, mesh/platesurfaces.py) made conforming like the fault (steps
    2 and 3) but not fault surfaces: the mesh only follows them."""
    check_fault_in_domain(cfg, patches)
    occ = gmsh.model.occ
    holes = fault_holes(cfg, patches)
    slabs = add_layer_slabs(cfg, holes)
    depths = [z for z in interface_depths(cfg) if not holes.get(z)]  # the fault meets no holed plane
    margin = 1e-3 * max(cfg.domain.x[1] - cfg.domain.x[0], cfg.domain.y[1] - cfg.domain.y[0])
    surface = getattr(cfg, "surface", None) is not None
    cuts = depths + [0.0] if surface else depths
    cut0 = [surface and not _ends_at_trench(patches, loop) for loop in patches.patches]
    pieces = [cut_by_planes(s, cuts if c else depths, margin)
              for s, c in zip(add_fault_surfaces(patches), cut0)]
    if surface:
        pieces = [cut_at_surface(ps) for ps in pieces]
        gone = [p for p, ps in enumerate(pieces) if not ps]
        if gone:
            raise CrustgfError(f"fault: subfault {gone[0]} lies entirely above the free surface ([surface]); "
                               "move the fault down or shorten it up-dip")
    flat = [(2, t) for ps in pieces for t in ps]
    every = interface_depths(cfg) + [0.0] if surface else interface_depths(cfg)  # holed planes too: the
    extra = [t for p in embedded for s in add_fault_surfaces(p) for t in cut_by_planes(s, every, margin)]  # holes
    # are around the fault, not around these
    extra = cut_at_surface(extra) if surface else extra
    with _option("Geometry.OCCBooleanGlue", GLUE_SHIFT):
        _, out_map = occ.fragment([(3, v) for v in slabs], flat + [(2, t) for t in extra])
    occ.synchronize()
    volumes = sorted({t for m in out_map[: len(slabs)] for dim, t in m if dim == 3})
    owner = [p for p, ps in enumerate(pieces) for _ in ps]  # patch of each piece, in `flat` order
    patch_surfaces: list[list[int]] = [[] for _ in pieces]
    for p, m in zip(owner, out_map[len(slabs):len(slabs) + len(flat)]):
        patch_surfaces[p].extend(t for dim, t in m if dim == 2)
    empty = [p for p, s in enumerate(patch_surfaces) if not s]
    if empty:
        raise CrustgfError(f"fault: subfault {empty[0]} vanished in the CAD fragment (degenerate patch?)")
    return [sorted(set(s)) for s in patch_surfaces], volumes
