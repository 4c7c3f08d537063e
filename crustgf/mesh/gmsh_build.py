"""The gmsh part of meshing: CAD model (cad.py), size fields (sizing.py), linear tetrahedra;
returns plain arrays (LinearMesh)."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass

import gmsh
import numpy as np

from crustgf.config.schema import Config
from crustgf.core.errors import CrustgfError
from crustgf.geometry.patches import FaultPatches
from crustgf.mesh import sizing
from crustgf.mesh.cad import build_geometry
from crustgf.mesh.isolate import call_isolated
from crustgf.mesh.materials import flat_layer_index
from crustgf.mesh.patchcheck import check_edges_do_not_cross


@dataclass
class LinearMesh:
    nodes: np.ndarray  # (nn, 3) m
    tets: np.ndarray  # (ne, 4) int64, 0-based node ids
    tet_layer: np.ndarray  # (ne,) int32 flat layer of the gmsh volume holding each tet
    fault_tris: np.ndarray  # (nf, 3) int64, as gmsh gives them (not yet oriented)
    fault_tri_patch: np.ndarray  # (nf,) int32 patch (subfault) of each triangle


@contextmanager
def gmsh_session(verbose: bool = False, threads: int = 1):
    """Initialise gmsh for one model, quiet unless verbose; always finalise.

    One thread by default: with two, gmsh's meshes of the same config differed from run to run
    (5,845 to 5,961 nodes for crustgf/configs/two_layer.toml), with one they are identical, for ~15 % more
    meshing time (18 s instead of 16 s for nankai-coarse)."""
    gmsh.initialize(["-noenv"], readConfigFiles=False, interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
        gmsh.option.setNumber("General.Verbosity", 5 if verbose else 1)
        gmsh.option.setNumber("General.NumThreads", threads)
        gmsh.model.add("crustgf")
        yield
    finally:
        gmsh.finalize()


def volume_layers(cfg: Config, volumes: list[int]) -> dict[int, int]:
    """Flat layer of each gmsh volume, from its centre of mass."""
    z = np.array([gmsh.model.occ.getCenterOfMass(3, v)[2] for v in volumes])
    return dict(zip(volumes, flat_layer_index(cfg, -z).tolist()))


def set_sizes(cfg: Config, patches: FaultPatches, fault_surfaces: list[int]) -> None:
    """Size fields; with a far-field core (domain.core, set when crustgf sized the domain) sizes
    beyond the core grow past size_max with distance (sizing.add_core_field)."""
    m = cfg.mesh
    core = getattr(cfg.domain, "core", None)
    outer = m.size_max if core is None else sizing.far_size(cfg.domain, m.size_max)
    corners = patches.patch_corners()
    diameter = float(np.max(np.linalg.norm(corners[:, 2] - corners[:, 0], axis=-1)))
    fields = [sizing.add_fault_field(fault_surfaces, m.size_fault, outer,
                                     sizing.distance_sampling(diameter, m.size_fault))]
    st = sizing.add_station_field(cfg.stations.positions, cfg.domain,
                                  sizing.station_size(m.size_fault, m.size_max), outer)
    if st is not None:
        fields.append(st)
    tops = [0.0] + [layer.bottom for layer in cfg.layers[:-1]]
    layers = [(t, layer.bottom) for t, layer in zip(tops, cfg.layers)]
    fields += sizing.add_layer_fields(layers, cfg.domain, m.size_fault, m.size_max, outer=outer, core=core)
    if core is not None:
        fields.append(sizing.add_core_field(core, m.size_max, outer))
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


HINTS = {
    "geometry": "the fault patches may be degenerate or intersect each other or the layer interfaces "
                "tangentially; check fault.outline, fault.depth_range and fault.subfault_size",
    "surface mesh": "the fault surface may fold or be too curved for the element size; try a smaller "
                    "mesh.size_fault or a larger fault.subfault_size",
    "volume mesh": "the fault surface mesh may cross itself or a layer interface at a grazing angle; "
                   "try a smaller mesh.size_fault, a larger fault.subfault_size or a simpler fault.outline",
}


@contextmanager
def gmsh_errors(stage: str):
    """Turn an error raised by gmsh (a bare Exception) into a CrustgfError with a hint."""
    try:
        yield
    except Exception as exc:
        if type(exc) is not Exception:  # ours or a bug: not gmsh's
            raise
        raise CrustgfError(f"mesh: gmsh failed in the {stage} stage ({exc}); {HINTS.get(stage, '')}") from exc


def _mesh_linear_here(cfg: Config, patches: FaultPatches, verbose: bool, embedded=(),
                      step=lambda name: None) -> LinearMesh:
    with gmsh_session(verbose=verbose):
        step("geometry")
        with gmsh_errors("geometry"):
            patch_surfaces, volumes = build_geometry(cfg, patches, embedded)
            layers = volume_layers(cfg, volumes)
        set_sizes(cfg, patches, [s for ss in patch_surfaces for s in ss])
        # Delaunay honours the embedded fault; HXT (10) conforms too but was 5x slower on
        # nankai-coarse (16 s vs 2.9 s) with a lower median quality. gmsh's own optimiser only:
        # the Netgen optimiser (Mesh.OptimizeNetgen) crashes on these models.
        gmsh.option.setNumber("Mesh.Algorithm3D", 1)
        gmsh.option.setNumber("Mesh.Optimize", 1)
        step("surface mesh")
        with gmsh_errors("surface mesh"):
            gmsh.model.mesh.generate(2)
        step("volume mesh")
        with gmsh_errors("volume mesh"):
            gmsh.model.mesh.generate(3)
        return extract_mesh(layers, patch_surfaces)


def mesh_linear(cfg: Config, patches: FaultPatches, step=lambda name: None, verbose: bool = False,
                isolated: bool = True, embedded: list[FaultPatches] = ()) -> LinearMesh:
    """Build the CAD model, mesh it with linear tets and return the arrays. `embedded`: patch sets
    the mesh must follow without being fault (plate-layer bottoms, mesh/platesurfaces.py).

    `step(name)` is called before each stage (for progress display). With `isolated`, gmsh runs
    in a child process (isolate.py) so that a crash inside it becomes a CrustgfError.
    """
    check_edges_do_not_cross(patches)
    if not isolated:
        return _mesh_linear_here(cfg, patches, verbose, embedded, step=step)
    # the child needs the patch geometry only, not the callables (closures do not pickle)
    plain = [dataclasses.replace(p, normal_at=None, depth_at=None) for p in [patches, *embedded]]
    return call_isolated(_mesh_linear_here, cfg, plain[0], verbose, plain[1:], step=step)
