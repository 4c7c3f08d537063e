"""The gmsh part of meshing: CAD model (box, flat layer interfaces, fault patches), fragment,
size fields, linear tetrahedra; returns plain arrays (LinearMesh).

Which surface is which subfault and which volume is which layer come from the output map of
`gmsh.model.occ.fragment`, never from positions (a volume's layer is the flat layer holding its
centre of mass, which is exact because volumes are slabs between flat interfaces).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import gmsh
import numpy as np

from ..config import Config
from ..errors import CrustgfError
from ..geometry.patches import FaultPatches
from . import sizing
from .materials import flat_layer_index


@dataclass
class LinearMesh:
    nodes: np.ndarray  # (nn, 3) m
    tets: np.ndarray  # (ne, 4) int64, 0-based node ids
    tet_layer: np.ndarray  # (ne,) int32 flat layer of the gmsh volume holding each tet
    fault_tris: np.ndarray  # (nf, 3) int64, as gmsh gives them (not yet oriented)
    fault_tri_patch: np.ndarray  # (nf,) int32 patch (subfault) of each triangle


@contextmanager
def gmsh_session(verbose: bool = False, threads: int = 2):
    """Initialise gmsh for one model, quiet unless verbose; always finalise."""
    gmsh.initialize(["-noenv"], readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
        gmsh.option.setNumber("General.Verbosity", 5 if verbose else 1)
        gmsh.option.setNumber("General.NumThreads", threads)
        gmsh.model.add("crustgf")
        yield
    finally:
        gmsh.finalize()


def check_fault_in_domain(cfg: Config, patches: FaultPatches) -> None:
    """The fault must lie strictly inside the box, except that it may touch the free surface."""
    d = cfg.domain
    pts = np.vstack([patches.corners] + list(patches.edge_points))
    tol = 1e-6 * max(d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
    bad = (
        (pts[:, 0] <= d.x[0] + tol) | (pts[:, 0] >= d.x[1] - tol)
        | (pts[:, 1] <= d.y[0] + tol) | (pts[:, 1] >= d.y[1] - tol)
        | (pts[:, 2] > tol) | (pts[:, 2] <= -d.depth + tol)
    )
    if bad.any():
        p = pts[np.argmax(bad)] / 1e3
        raise CrustgfError(
            f"fault: point ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) km (x, y, z) lies on or outside the "
            f"domain box; the fault must be inside it (it may touch only the free surface z = 0)"
        )


def _add_fault_surfaces(patches: FaultPatches) -> list[int]:
    """One OCC surface per patch, sharing corner points and edge curves; returns surface tags."""
    occ = gmsh.model.occ
    corner_tags = [occ.addPoint(*p) for p in patches.corners]
    curve_tags = []
    for (a, b), pts in zip(patches.edge_ends, patches.edge_points):
        if len(pts) <= 2:
            curve_tags.append(occ.addLine(corner_tags[a], corner_tags[b]))
        else:  # curved edge: a spline through the polyline, ends on the shared corners
            inner = [occ.addPoint(*p) for p in pts[1:-1]]
            curve_tags.append(occ.addSpline([corner_tags[a], *inner, corner_tags[b]]))
    surfaces = []
    for p, loop in enumerate(patches.patches):
        wire = occ.addCurveLoop([curve_tags[e] for e in loop])
        if patches.planar:
            surfaces.append(occ.addPlaneSurface([wire]))
        else:
            surfaces.append(occ.addSurfaceFilling(wire, pointTags=_filling_points(patches, p)))
    return surfaces


def _filling_points(patches: FaultPatches, p: int) -> list[int]:
    """Interior points that a curved patch must pass through (its centre on the fault surface)."""
    if patches.depth_at is None:
        return []
    c = patches.patch_corners()[p].mean(axis=0)
    z = -float(np.asarray(patches.depth_at(np.array([c[0]]), np.array([c[1]])))[0])
    return [gmsh.model.occ.addPoint(c[0], c[1], z)]


def _add_box_and_interfaces(cfg: Config) -> tuple[int, list[int]]:
    occ = gmsh.model.occ
    d = cfg.domain
    box = occ.addBox(d.x[0], d.y[0], -d.depth, d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
    ifaces = [
        occ.addRectangle(d.x[0], d.y[0], -l.bottom, d.x[1] - d.x[0], d.y[1] - d.y[0])
        for l in cfg.layers[:-1]
        if 0.0 < l.bottom < d.depth
    ]
    return box, ifaces


def build_geometry(cfg: Config, patches: FaultPatches) -> tuple[list[list[int]], list[int]]:
    """Fragment box, interfaces and fault; return (surfaces of each patch, volume tags)."""
    check_fault_in_domain(cfg, patches)
    occ = gmsh.model.occ
    box, ifaces = _add_box_and_interfaces(cfg)
    fault = _add_fault_surfaces(patches)
    tools = [(2, t) for t in ifaces + fault]
    _, out_map = occ.fragment([(3, box)], tools)
    occ.synchronize()
    volumes = [t for dim, t in out_map[0] if dim == 3]
    patch_surfaces = [[t for dim, t in out_map[1 + len(ifaces) + p] if dim == 2] for p in range(len(fault))]
    empty = [p for p, s in enumerate(patch_surfaces) if not s]
    if empty:
        raise CrustgfError(f"fault: subfault {empty[0]} vanished in the CAD fragment (degenerate patch?)")
    return patch_surfaces, volumes


def volume_layers(cfg: Config, volumes: list[int]) -> dict[int, int]:
    """Flat layer of each gmsh volume, from its centre of mass."""
    z = np.array([gmsh.model.occ.getCenterOfMass(3, v)[2] for v in volumes])
    return dict(zip(volumes, flat_layer_index(cfg, -z).tolist()))


def set_sizes(cfg: Config, patches: FaultPatches, fault_surfaces: list[int]) -> None:
    m = cfg.mesh
    corners = patches.patch_corners()
    diameter = float(np.max(np.linalg.norm(corners[:, 2] - corners[:, 0], axis=-1)))
    fields = [sizing.add_fault_field(fault_surfaces, m.size_fault, m.size_max,
                                     sizing.distance_sampling(diameter, m.size_fault))]
    st = sizing.add_station_field(cfg.stations.positions, cfg.domain,
                                  sizing.station_size(m.size_fault, m.size_max), m.size_max)
    if st is not None:
        fields.append(st)
    sizing.set_background(fields)


def _elements(dim: int, tag: int, etype: int, nverts: int) -> np.ndarray:
    types, _, node_tags = gmsh.model.mesh.getElements(dim, tag)
    blocks = [nt.reshape(-1, nverts) for t, nt in zip(types, node_tags) if t == etype]
    return np.vstack(blocks).astype(np.int64) if blocks else np.empty((0, nverts), np.int64)


def extract_mesh(volume_layer: dict[int, int], patch_surfaces: list[list[int]]) -> LinearMesh:
    """Arrays of the generated linear mesh, nodes renumbered 0.. over the nodes tets use."""
    tag, xyz, _ = gmsh.model.mesh.getNodes()
    coords = np.asarray(xyz).reshape(-1, 3)
    tets, layer = [], []
    for v, lay in volume_layer.items():
        t = _elements(3, v, 4, 4)
        tets.append(t)
        layer.append(np.full(len(t), lay, np.int32))
    tris, tri_patch = [], []
    for p, surfs in enumerate(patch_surfaces):
        for s in surfs:
            t = _elements(2, s, 2, 3)
            tris.append(t)
            tri_patch.append(np.full(len(t), p, np.int32))
    tets_t, tris_t = np.vstack(tets), np.vstack(tris)
    used = np.unique(tets_t)
    lookup = np.full(int(max(tag.max(), used.max())) + 1, -1, np.int64)
    lookup[used] = np.arange(len(used))
    pos = np.full(len(lookup), -1, np.int64)
    pos[tag.astype(np.int64)] = np.arange(len(tag))
    fault_ids = lookup[tris_t]
    if (fault_ids < 0).any():
        raise CrustgfError("mesh: the fault is not embedded in the volume mesh (gmsh fragment failed)")
    return LinearMesh(
        nodes=coords[pos[used]],
        tets=lookup[tets_t],
        tet_layer=np.concatenate(layer),
        fault_tris=fault_ids,
        fault_tri_patch=np.concatenate(tri_patch),
    )


def mesh_linear(cfg: Config, patches: FaultPatches, step=lambda name: None, verbose: bool = False) -> LinearMesh:
    """Build the CAD model, mesh it with linear tets and return the arrays.

    `step(name)` is called before each stage (for progress display).
    """
    with gmsh_session(verbose=verbose):
        step("geometry")
        patch_surfaces, volumes = build_geometry(cfg, patches)
        layers = volume_layers(cfg, volumes)
        set_sizes(cfg, patches, [s for ss in patch_surfaces for s in ss])
        gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay: honours the embedded fault
        gmsh.option.setNumber("Mesh.Optimize", 1)
        step("surface mesh")
        gmsh.model.mesh.generate(2)
        step("volume mesh")
        gmsh.model.mesh.generate(3)
        return extract_mesh(layers, patch_surfaces)
