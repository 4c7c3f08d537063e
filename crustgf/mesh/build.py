"""build_model: config -> Model (linear mesh from gmsh, orientation, TET10, node sets, tables)."""

from __future__ import annotations

import numpy as np

from crustgf import __version__
from crustgf.config.load import Config, RectangleFault
from crustgf.core.errors import CrustgfError
from crustgf.geometry.patches import FaultPatches
from crustgf.mesh.model import Model
from crustgf.mesh import nodesets, quadratic, quality
from crustgf.mesh.conformity import check_fault_embedded
from crustgf.mesh.gmsh_build import mesh_linear
from crustgf.mesh.materials import assign_materials, layer_table
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


def build_model(cfg: Config, progress: bool = True, verbose: bool = False) -> Model:
    """Mesh the config's domain, layers and fault; return the Model (SI, local frame)."""
    _check_options(cfg)
    patches = fault_patches(cfg)
    with Steps(progress) as step:
        lin = mesh_linear(cfg, patches, step=step, verbose=verbose)
        step("elements")
        tets = quadratic.orient_tets(lin.nodes, lin.tets)
        quality.check_elements(lin.nodes, tets)
        check_fault_embedded(lin.nodes, tets, lin.fault_tris)
        centroids = lin.nodes[tets].mean(axis=1)
        materials = assign_materials(cfg, centroids)
        _check_layers(cfg, materials, lin.tet_layer)
        tri_normals = patches.normal_at(lin.nodes[lin.fault_tris].mean(axis=1))
        tris = quadratic.orient_triangles(lin.nodes, lin.fault_tris, tri_normals)
        nodes, cells = lin.nodes, tets
        if cfg.mesh.order == 2:
            nodes, cells, tris = quadratic.promote(lin.nodes, tets, tris)
        step("node sets")
        d = cfg.domain
        tol = 1e-9 * max(d.x[1] - d.x[0], d.y[1] - d.y[0], d.depth)
        model = Model(
            nodes=nodes,
            cells=cells.astype(np.int64),
            cell_material=materials.astype(np.int32),
            layers=layer_table(cfg),
            fault_cells=tris.astype(np.int64),
            fault_cell_subfault=lin.fault_tri_patch.astype(np.int32),
            subfaults=subfault_table(nodes, tris, lin.fault_tri_patch, patches),
            buried_edge_nodes=nodesets.buried_edge_nodes(nodes, tris, tol),
            free_surface_nodes=nodesets.free_surface_nodes(nodes, tol),
            fixed_nodes=nodesets.fixed_nodes(nodes, d, tol),
            station_names=list(cfg.stations.names),
            station_positions=np.asarray(cfg.stations.positions, dtype=float),
            station_lonlat=None if cfg.stations.lonlat is None else np.asarray(cfg.stations.lonlat, float),
            config_text=cfg.text,
            crustgf_version=__version__,
            frame=frame_sentence(cfg),
            name=cfg.name,
        )
    return model
