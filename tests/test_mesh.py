"""The mesher against geometry it must reproduce: conforming fault, layers, areas, edges, TET10."""

from __future__ import annotations

import numpy as np
import pytest
from mesh_cases import CASES, INTERFACE, KM, make_config

from crustgf.core.errors import CrustgfError
from crustgf.geometry.frames import dip_vector, normal_vector, strike_vector
from crustgf.mesh import build_model
from crustgf.mesh.model import TET10_EDGES, TRI6_EDGES


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    cfg = make_config(**CASES[request.param])
    return cfg, build_model(cfg, progress=False)


def _fault_coords(cfg, pts):
    """(along strike from the top centre, down dip from the top edge) of points, m."""
    f = cfg.fault
    top = np.array([f.top_center[0], f.top_center[1], -f.top_center[2]])
    return (pts - top) @ strike_vector(f.strike), (pts - top) @ dip_vector(f.strike, f.dip)


def _tet_faces(cells):
    faces = cells[:, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]]  # face k is opposite vertex k
    return np.sort(faces, axis=2).reshape(-1, 3)


def test_fault_is_conforming_with_one_tet_on_each_side(case):
    cfg, m = case
    tets = m.cells[:, :4]
    faces = _tet_faces(tets)
    n = len(m.nodes)
    face_keys = (faces[:, 0] * n + faces[:, 1]) * n + faces[:, 2]
    tri = np.sort(m.fault_cells[:, :3], axis=1)
    tri_keys = (tri[:, 0] * n + tri[:, 1]) * n + tri[:, 2]
    order = np.argsort(face_keys)
    lo = np.searchsorted(face_keys[order], tri_keys, side="left")
    hi = np.searchsorted(face_keys[order], tri_keys, side="right")
    assert np.all(hi - lo == 2), "every fault triangle must be a face of exactly two tets"
    p = m.nodes[m.fault_cells[:, :3]]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    sides = []
    for k in (0, 1):
        face = order[lo + k]
        tet, opposite = face // 4, face % 4
        apex = m.nodes[tets[tet, opposite]]
        sides.append(np.sign(np.einsum("ij,ij->i", apex - p[:, 0], normal)))
    assert np.all(sides[0] * sides[1] == -1), "the two tets must lie on opposite sides"


def test_no_tet_crosses_the_layer_interface_and_materials_follow_depth(case):
    cfg, m = case
    z = m.nodes[m.cells[:, :4], 2]
    tol = 1e-6 * KM
    above = np.all(z >= -INTERFACE - tol, axis=1)
    below = np.all(z <= -INTERFACE + tol, axis=1)
    assert np.all(above | below)
    assert np.array_equal(m.cell_material, np.where(above & ~below, 0, np.where(below & ~above, 1, -1)))
    assert m.layers.name == ["crust", "mantle"] and m.layers.kind == ["flat", "flat"]


def test_subfault_areas_centroids_strike_dip(case):
    cfg, m = case
    f = cfg.fault
    ns, nd = f.subfaults
    assert m.n_subfaults == ns * nd
    np.testing.assert_allclose(m.subfaults.area.sum(), f.length * f.width, rtol=5e-3)
    np.testing.assert_allclose(m.subfaults.area, f.length * f.width / (ns * nd), rtol=5e-3)
    a, b = _fault_coords(cfg, m.subfaults.centroid)
    i, j = np.arange(ns * nd) % ns, np.arange(ns * nd) // ns  # subfault j * ns + i
    np.testing.assert_allclose(a, -f.length / 2 + (i + 0.5) * f.length / ns, atol=1e-6 * KM)
    np.testing.assert_allclose(b, (j + 0.5) * f.width / nd, atol=1e-6 * KM)
    np.testing.assert_allclose(m.subfaults.strike, f.strike % 360.0, atol=1e-6)
    np.testing.assert_allclose(m.subfaults.dip, f.dip, atol=1e-6)
    # each triangle lies inside its subfault's patch
    c = m.nodes[m.fault_cells[:, :3]].mean(axis=1)
    a, b = _fault_coords(cfg, c)
    ti = np.floor((a + f.length / 2) / (f.length / ns)).astype(int)
    tj = np.floor(b / (f.width / nd)).astype(int)
    assert np.array_equal(tj * ns + ti, m.fault_cell_subfault)


def test_fault_triangles_point_into_the_hanging_wall(case):
    cfg, m = case
    p = m.nodes[m.fault_cells[:, :3]]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    np.testing.assert_allclose(n, np.broadcast_to(normal_vector(cfg.fault.strike, cfg.fault.dip), n.shape), atol=1e-9)


def test_buried_edge_nodes_are_the_fault_outline_minus_the_surface_trace(case):
    cfg, m = case
    f = cfg.fault
    fault_nodes = np.unique(m.fault_cells)
    a, b = _fault_coords(cfg, m.nodes[fault_nodes])
    tol = 1e-6 * KM
    side = np.abs(np.abs(a) - f.length / 2) < tol
    top, bottom = np.abs(b) < tol, np.abs(b - f.width) < tol
    reaches_surface = f.top_center[2] == 0.0
    expected = side | bottom | (top & (not reaches_surface))
    assert np.array_equal(np.sort(m.buried_edge_nodes), fault_nodes[expected])
    if reaches_surface:  # the trace's end points end buried side edges: they are buried
        assert np.all(np.isin(fault_nodes[top & side], m.buried_edge_nodes))
        assert not np.any(np.isin(fault_nodes[top & ~side], m.buried_edge_nodes))


def test_quadratic_nodes_sit_at_edge_midpoints_and_volumes_fill_the_box(case):
    cfg, m = case
    x = m.nodes
    d = cfg.domain
    box = (d.x[1] - d.x[0]) * (d.y[1] - d.y[0]) * d.depth
    p = x[m.cells[:, :4]]
    vol = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0]) / 6
    assert np.all(vol > 0)
    np.testing.assert_allclose(vol.sum(), box, rtol=1e-10)
    if cfg.mesh.order == 1:
        assert m.cells.shape[1] == 4 and m.fault_cells.shape[1] == 3
        return
    mid = 0.5 * (x[m.cells[:, TET10_EDGES[:, 0]]] + x[m.cells[:, TET10_EDGES[:, 1]]])
    np.testing.assert_allclose(x[m.cells[:, 4:]], mid, atol=1e-9)
    mid = 0.5 * (x[m.fault_cells[:, TRI6_EDGES[:, 0]]] + x[m.fault_cells[:, TRI6_EDGES[:, 1]]])
    np.testing.assert_allclose(x[m.fault_cells[:, 3:]], mid, atol=1e-9)
    # one node per point: no duplicated midside nodes
    assert len(np.unique(np.round(x, 3), axis=0)) == len(x)
    assert len(np.unique(m.cells)) == len(x)


def test_boundary_node_sets(case):
    cfg, m = case
    x, d = m.nodes, cfg.domain
    tol = 1e-6
    assert np.array_equal(m.free_surface_nodes, np.flatnonzero(np.abs(x[:, 2]) < tol))
    on_box = ((np.abs(x[:, 0] - d.x[0]) < tol) | (np.abs(x[:, 0] - d.x[1]) < tol)
              | (np.abs(x[:, 1] - d.y[0]) < tol) | (np.abs(x[:, 1] - d.y[1]) < tol)
              | (np.abs(x[:, 2] + d.depth) < tol))
    assert np.array_equal(m.fixed_nodes, np.flatnonzero(on_box))
    assert not np.any(np.isin(m.fault_cells, m.fixed_nodes))
    assert m.station_names == ["A", "B"]
    np.testing.assert_array_equal(m.station_positions, cfg.stations.positions)


def test_fault_mesh_is_finer_than_far_field():
    cfg = make_config(size_fault=2.0, size_max=15.0)
    m = build_model(cfg, progress=False)
    f = m.fault_cells[:, :3]
    edges = np.linalg.norm(m.nodes[f[:, [1, 2, 0]]] - m.nodes[f], axis=-1)
    assert 0.5 * 2 * KM < np.median(edges) < 1.5 * 2 * KM
    p = m.nodes[m.cells[:, :4]]
    far = np.linalg.norm(p.mean(axis=1)[:, :2], axis=1) > 40 * KM  # near the sides, far from the fault
    far_edges = np.linalg.norm(p[far, 1] - p[far, 0], axis=1)
    assert np.median(far_edges) > 4 * np.median(edges)


@pytest.mark.parametrize("top_center, what", [
    ((45 * KM, 0.0, 5 * KM), "outside"),      # sticks out of the x side
    ((0.0, 0.0, -1 * KM), "above"),           # above the free surface
    ((0.0, 0.0, 35 * KM), "below"),           # through the bottom
])
def test_fault_outside_the_domain_is_a_user_error(top_center, what):
    cfg = make_config()
    cfg.fault.top_center = top_center
    with pytest.raises(CrustgfError, match="fault: point"):
        build_model(cfg, progress=False)


def test_bad_mesh_options_are_user_errors():
    cfg = make_config(size_fault=20.0, size_max=10.0)
    with pytest.raises(CrustgfError, match="mesh.size_fault"):
        build_model(cfg, progress=False)
    cfg = make_config(order=3)
    with pytest.raises(CrustgfError, match="mesh.order"):
        build_model(cfg, progress=False)


def test_thin_layer_caps_the_element_size_and_keeps_elements_from_going_flat():
    from crustgf.config.schema import Layer
    from crustgf.mesh.quality import mean_ratio
    from crustgf.mesh.sizing import LAYER_FACTOR, layer_size_cap

    thin = 1.0 * KM
    assert layer_size_cap(thin, 2 * KM, 30 * KM) == LAYER_FACTOR * thin  # by the rule
    assert layer_size_cap(thin, 10 * KM, 30 * KM) == 10 * KM  # never below size_fault
    assert layer_size_cap(20 * KM, 2 * KM, 30 * KM) is None  # size_max already fits
    cfg = make_config(size_fault=2.5, size_max=30.0, top_depth=5.0)
    cfg.layers.insert(0, Layer("sediment", thin, 3000.0, 1500.0, 2000.0))
    m = build_model(cfg, progress=False)
    p = m.nodes[m.cells[:, :4]]
    in_thin = np.all(p[:, :, 2] >= -thin - 1e-6, axis=1)
    far = np.linalg.norm(p.mean(axis=1)[:, :2], axis=1) > 30 * KM  # far from the fault: only the cap limits
    edges = np.linalg.norm(p[:, [1, 2, 3, 2, 3, 3]] - p[:, [0, 0, 0, 1, 1, 2]], axis=-1)
    assert np.median(edges[in_thin & far].max(axis=1)) < 1.5 * LAYER_FACTOR * thin
    q = mean_ratio(m.nodes, m.cells)
    assert np.median(q[in_thin & far]) > 0.3


def test_the_same_config_gives_the_same_mesh():
    """Reproducibility (the model hash, resumed solves and provenance rely on it): meshing
    crustgf/configs/two_layer.toml twice gives identical nodes and cells. gmsh with two threads did not."""
    from pathlib import Path

    from crustgf.config.load import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "crustgf" / "configs" / "two_layer.toml")
    a, b = (build_model(cfg, progress=False) for _ in range(2))
    assert a.nodes.shape == b.nodes.shape and np.array_equal(a.nodes, b.nodes)
    assert np.array_equal(a.cells, b.cells) and np.array_equal(a.cell_material, b.cell_material)
