"""build_model: config -> Model (linear mesh from gmsh, orientation, TET10, node sets, tables)."""

from __future__ import annotations

import numpy as np

from crustgf import __version__
from crustgf.config.schema import Config, RectangleFault
from crustgf.core.errors import CrustgfError
from crustgf.geometry.patches import FaultPatches
from crustgf.mesh import nodesets, quadratic, quality
from crustgf.mesh.conformity import check_fault_embedded
from crustgf.mesh.materials import assign_materials, layer_table
from crustgf.mesh.model import Model
from crustgf.mesh.platesurfaces import mesh_linear_with_plate, plate_bottom_patches
from crustgf.mesh.progress import Steps
from crustgf.mesh.subfaults import subfault_table


def fault_patches(cfg: Config) -> FaultPatches:
    """The fault of the config as patches (rectangle here; grid faults from geometry.grid)."""
    if isinstance(cfg.fault, RectangleFault):
        from crustgf.geometry.rectangle import rectangle_patches

        return rectangle_patches(cfg.fault)
    from crustgf.geometry.grid import grid_patches  # owned by the grid-fault geometry

    return grid_patches(cfg.fault)


def frame_sentence(cfg: Config) -> str:
    s = "local Cartesian frame: x east, y north, z up, metres; free surface z = 0"
    if getattr(cfg, "surface", None) is not None:
        s = ("local Cartesian frame: x east, y north, z up, metres, z = 0 at sea level; "
             "free surface: the [surface] topography/bathymetry")
    if cfg.domain.origin is not None:
        lon, lat = cfg.domain.origin
        s += f"; transverse Mercator projection centred on lon {lon:g}, lat {lat:g} at (x, y) = (0, 0)"
    return s


def _check_options(cfg: Config) -> None:
    m = cfg.mesh
    if m.order not in (1, 2):
        raise CrustgfError(f"mesh.order: must be 1 or 2, got {m.order}")
    if not (0 < m.size_fault <= m.size_max):
        raise CrustgfError(f"mesh.size_fault: must be > 0 and <= mesh.size_max, got {m.size_fault / 1e3:g} km")


def _check_layers(cfg: Config, materials: np.ndarray, tet_layer: np.ndarray) -> None:
    """Flat-layer materials by element centroid must agree with the gmsh volume's layer."""
    if cfg.plate_layers:
        return  # plate layers override flat ids by design
    n_bad = int((materials != tet_layer).sum())
    if n_bad:
        raise CrustgfError(f"mesh: {n_bad} tetrahedra straddle a layer interface (interfaces not imprinted)")


def _warp(cfg: Config, patches: FaultPatches, tol: float):
    """(warp, reference patches) under a [surface] or layer-bottom surfaces; (None, patches) without."""
    if getattr(cfg, "surface", None) is None and all(layer.surface is None for layer in cfg.layers):
        return None, patches
    from crustgf.mesh.patchcheck import check_edges_do_not_cross
    from crustgf.mesh.warp import VerticalWarp, reference_patches

    check_edges_do_not_cross(patches)  # map view: the same in both frames (the reference patches skip it)
    w = VerticalWarp.for_config(cfg)
    ref = reference_patches(patches, w, snap=tol)
    if getattr(cfg.fault, "reach_surface", False) and patches.grid_index is not None:
        from crustgf.mesh.warp import keep_buried

        ref = keep_buried(ref, patches.grid_index[:, 1])
    return w, ref


def _drop_above(patches: FaultPatches, ref: FaultPatches, tol: float):
    """Both patch sets without the subfaults lying wholly above the free surface."""
    from crustgf.mesh.warp import below_surface, drop_patches

    keep = below_surface(ref, tol)
    if not keep.any():
        raise CrustgfError("fault: the whole fault lies above the free surface ([surface])")
    if keep.all():
        return patches, ref
    return drop_patches(patches, keep), drop_patches(ref, keep)


def _stations_on_mesh(cfg: Config, nodes: np.ndarray, tets: np.ndarray, ref_z: np.ndarray, tol: float) -> np.ndarray:
    """Station positions; those on the surface (no z given) get the meshed surface's z below them."""
    pos = np.asarray(cfg.stations.positions, dtype=float).copy()
    on = getattr(cfg.stations, "on_surface", None)
    if getattr(cfg, "surface", None) is None or on is None or not np.any(on):
        return pos
    from crustgf.mesh.warp import surface_z_at, top_faces

    faces = top_faces(tets, np.abs(ref_z) <= tol)
    z = surface_z_at(nodes, faces, pos[on, :2])
    if np.isnan(z).any():
        name = np.asarray(cfg.stations.names)[on][np.isnan(z)][0]
        raise CrustgfError(f"stations: station {name} is not above the meshed surface (outside the domain?)")
    pos[on, 2] = z
    return pos


def build_model(cfg: Config, progress: bool = True, verbose: bool = False) -> Model:
    """Mesh the config's domain, layers and fault; return the Model (SI, local frame).

    Under a [surface] gmsh meshes a flat-topped reference box and the vertices are warped onto the
    surface (warp.py); node sets come from the reference positions, everything else from the true ones."""
    _check_options(cfg)
    patches = fault_patches(cfg)
    plate = plate_bottom_patches(cfg, patches)  # meshed plate-layer bottoms (true frame)
    d = cfg.domain
    tol = 1e-9 * max(d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
    warp, ref_patches = _warp(cfg, patches, tol)
    if warp is not None:
        from crustgf.mesh.warp import corners_at_surface, reference_patches

        if getattr(cfg.fault, "reach_surface", False) and patches.grid_index is not None:
            from crustgf.mesh.trench import trench_patches  # the trench as patch edges in the surface

            patches, ref_patches = trench_patches(patches, ref_patches, warp)
        patches, ref_patches = _drop_above(patches, ref_patches, tol)
        patches = corners_at_surface(patches, ref_patches, warp)
        plate = [reference_patches(p, warp, snap=tol) for p in plate]
    with Steps(progress) as step:
        lin = mesh_linear_with_plate(cfg, ref_patches, plate, step=step, verbose=verbose)
        step("elements")
        ref = lin.nodes
        true = ref if warp is None else warp.forward(ref)
        tets = quadratic.orient_tets(ref, lin.tets)
        try:
            quality.check_elements(true, tets)
        except CrustgfError as exc:
            if warp is None:
                raise
            quality.check_elements(ref, tets)  # raises when gmsh's own mesh is bad: not the warp's doing
            raise CrustgfError(f"{exc}; the reference mesh is fine, so the vertical warp folded them: a thin "
                               "layer under steep relief ([surface], layer-bottom surfaces): a smaller "
                               "mesh.size_max or size_fault, or a smoother surface, helps") from None
        check_fault_embedded(true, tets, lin.fault_tris)
        centroids = true[tets].mean(axis=1)
        materials = assign_materials(cfg, centroids)
        if warp is None and getattr(cfg.domain, "core", None) is None:
            _check_layers(cfg, materials, lin.tet_layer)
        tri_normals = patches.normal_at(true[lin.fault_tris].mean(axis=1))
        tris = quadratic.orient_triangles(true, lin.fault_tris, tri_normals)
        station_positions = _stations_on_mesh(cfg, true, tets, ref[:, 2], tol)
        nodes, ref_nodes, cells = true, ref, tets
        if cfg.mesh.order == 2:
            nodes, cells, tris_q = quadratic.promote(true, tets, tris)
            ref_nodes = quadratic.promote(ref, tets, tris)[0] if warp is not None else nodes
            tris = tris_q
        step("node sets")
        model = Model(
            nodes=nodes,
            cells=cells.astype(np.int64),
            cell_material=materials.astype(np.int32),
            layers=layer_table(cfg),
            fault_cells=tris.astype(np.int64),
            fault_cell_subfault=lin.fault_tri_patch.astype(np.int32),
            subfaults=subfault_table(nodes, tris, lin.fault_tri_patch, patches),
            buried_edge_nodes=nodesets.buried_edge_nodes(ref_nodes, tris, tol),
            free_surface_nodes=nodesets.free_surface_nodes(ref_nodes, tol),
            fixed_nodes=nodesets.fixed_nodes(ref_nodes, d, tol),
            station_names=list(cfg.stations.names),
            station_positions=station_positions,
            station_lonlat=None if cfg.stations.lonlat is None else np.asarray(cfg.stations.lonlat, float),
            config_text=cfg.text,
            crustgf_version=__version__,
            frame=frame_sentence(cfg),
            name=cfg.name,
        )
    return model
