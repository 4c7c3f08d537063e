"""Pieces of the mesher checked by hand: rectangle patches, element quality, TET10 promotion."""

from __future__ import annotations

import numpy as np
import pytest
from mesh_cases import make_config

from crustgf.config.schema import RectangleFault
from crustgf.core.errors import CrustgfError
from crustgf.geometry.frames import normal_vector, rectangle_corners
from crustgf.geometry.rectangle import rectangle_patches
from crustgf.mesh.materials import assign_materials, layer_table
from crustgf.mesh.nodesets import buried_edge_nodes
from crustgf.mesh.quadratic import orient_tets, orient_triangles, promote
from crustgf.mesh.quality import check_elements, mean_ratio

REGULAR = np.array([[1, 1, 1], [-1, 1, -1], [1, -1, -1], [-1, -1, 1]], dtype=float)  # right-handed


@pytest.mark.parametrize("strike, dip, depth", [(30.0, 35.0, 5e3), (200.0, 90.0, 0.0), (0.0, 10.0, 2e3)])
def test_rectangle_patches_tile_the_fault(strike, dip, depth):
    f = RectangleFault(top_center=(1e3, -2e3, depth), strike=strike, dip=dip, length=30e3, width=12e3,
                       subfaults=(3, 2))
    p = rectangle_patches(f)
    assert p.n_patches == 6 and p.planar
    outer = rectangle_corners((1e3, -2e3, -depth), strike, dip, 30e3, 12e3)
    pc = p.patch_corners()
    # patch (i, j) is subfault j * 3 + i; its corners are bilinear points of the outer rectangle
    for k, (i, j) in enumerate(p.grid_index):
        assert k == j * 3 + i
        u0, u1, v0, v1 = i / 3, (i + 1) / 3, j / 2, (j + 1) / 2
        def at(u, v):
            top = outer[0] + u * (outer[1] - outer[0])
            return top + v * (outer[3] - outer[0])
        np.testing.assert_allclose(pc[k], [at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)], atol=1e-6)
    # interior edges are shared by exactly two patches, boundary edges by one: 2*(3+2) = 10 boundary
    uses = np.bincount(p.patches.ravel(), minlength=len(p.edge_ends))
    assert np.sum(uses == 1) == 10 and np.sum(uses == 2) == len(uses) - 10
    np.testing.assert_allclose(p.normal_at(np.zeros((5, 3))), np.tile(normal_vector(strike, dip), (5, 1)))
    if depth == 0.0:
        assert np.all(p.corners[:4, 2] == 0.0)


def test_mean_ratio_is_one_for_a_regular_tet_and_small_for_a_flat_one():
    cells = np.arange(4)[None]
    assert mean_ratio(REGULAR, cells)[0] == pytest.approx(1.0)
    flat = REGULAR.copy()
    face_centre = (REGULAR[0] + REGULAR[1] + REGULAR[2]) / 3
    flat[3] = face_centre + 1e-3 * (REGULAR[3] - face_centre)  # apex pushed nearly into face 012
    # by hand: volume x 1e-3 -> 12 (3V)^(2/3) = 1e-2 * 6 a^2; edges^2 sum ~ 3 a^2 + 3 a^2/3 = 4 a^2
    assert mean_ratio(flat, cells)[0] == pytest.approx(0.015, rel=1e-4)


def test_quality_check_rejects_inverted_and_degenerate_tets():
    cells = np.array([[0, 1, 2, 3]])
    check_elements(REGULAR, cells)  # a good one passes
    with pytest.raises(CrustgfError, match="1 degenerate or inverted tetrahedra \\(1 with volume <= 0\\)"):
        check_elements(REGULAR, cells[:, [0, 2, 1, 3]])
    flat = REGULAR.copy()
    flat[3] = (REGULAR[0] + REGULAR[1] + REGULAR[2]) / 3  # coplanar: zero volume
    with pytest.raises(CrustgfError, match="near \\("):
        check_elements(flat, cells)


def test_orientation_fixes_tets_and_triangles():
    cells = np.array([[0, 2, 1, 3], [0, 1, 2, 3]])
    fixed = orient_tets(REGULAR, cells)
    assert np.array_equal(fixed, [[0, 1, 2, 3], [0, 1, 2, 3]])
    pts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0.0]])
    tris = np.array([[0, 1, 2], [0, 2, 1]])
    down = orient_triangles(pts, tris, np.array([[0, 0, -1.0]] * 2))
    assert np.array_equal(down, [[0, 2, 1], [0, 2, 1]])


def test_promotion_of_two_tets_sharing_a_face():
    nodes = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1.0]])
    tets = orient_tets(nodes, np.array([[0, 1, 2, 3], [1, 2, 3, 4]]))
    nodes10, tets10, tris6 = promote(nodes, tets, np.array([[1, 2, 3]]))
    assert len(nodes10) == 5 + 9  # 6 + 6 edges, 3 shared
    shared = set(tets10[0, 4:]) & set(tets10[1, 4:])
    assert len(shared) == 3 and set(tris6[0, 3:]) == shared
    with pytest.raises(CrustgfError, match="non-conforming"):
        promote(nodes, tets, np.array([[0, 4, 1]]))  # edge 0-4 is no tet edge


def test_buried_edge_nodes_of_a_hand_made_fault():
    # two triangles forming the unit square in the x-z plane, top edge at z = 0
    nodes = np.array([[0, 0, 0], [1, 0, 0], [1, 0, -1], [0, 0, -1.0]])
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    assert list(buried_edge_nodes(nodes, tris, 1e-9)) == [0, 1, 2, 3]  # corners end buried sides
    nodes[:, 2] -= 1.0  # fully buried
    assert list(buried_edge_nodes(nodes, tris, 1e-9)) == [0, 1, 2, 3]
    # with midside nodes: 4, 5, 6 on tri 0 edges (01, 12, 02); 6, 7, 8 on tri 1 (02, 23, 03)
    tris6 = np.array([[0, 1, 2, 4, 5, 6], [0, 2, 3, 6, 7, 8]])
    nodes6 = np.vstack([nodes, np.zeros((5, 3))])
    nodes6[:, 2] += 1.0  # back to reaching the surface
    assert list(buried_edge_nodes(nodes6, tris6, 1e-9)) == [0, 1, 2, 3, 5, 7, 8]  # not 4 (trace), 6 (inside)


def test_materials_by_depth_and_layer_table():
    cfg = make_config()
    t = layer_table(cfg)
    assert t.name == ["crust", "mantle"]
    np.testing.assert_allclose(t.mu, [2700 * 3500.0**2, 3300 * 4500.0**2])
    np.testing.assert_allclose(t.lam, [2700 * 6000.0**2 - 2 * t.mu[0], 3300 * 8000.0**2 - 2 * t.mu[1]])
    ids = assign_materials(cfg, np.array([[0, 0, -1e3], [0, 0, -11.9e3], [0, 0, -12.1e3], [0, 0, -39e3]]))
    assert list(ids) == [0, 0, 1, 1]


def test_fault_embedding_check_on_two_tets_sharing_a_face():
    from crustgf.mesh.conformity import check_fault_embedded, fault_sides

    nodes = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.3, 0.3, -1.0]])
    tets = orient_tets(nodes, np.array([[0, 1, 2, 3], [0, 1, 2, 4]]))  # apexes above and below z = 0
    tri = np.array([[0, 1, 2]])  # normal +z: apex 3 on the + side, apex 4 on the - side
    assert sorted(fault_sides(nodes, tets, tri)[0]) == [-1, 1]
    check_fault_embedded(nodes, tets, tri)
    with pytest.raises(CrustgfError, match="1 fault triangles do not have one tetrahedron on each side"):
        check_fault_embedded(nodes, tets[:1], tri)  # one side only
    nodes2 = nodes.copy()
    nodes2[4] = [0.3, 0.3, 1.0]  # both apexes on the same side: overlapping tets
    with pytest.raises(CrustgfError, match="near \\(0.000, 0.000, 0.000\\) km"):
        check_fault_embedded(nodes2, orient_tets(nodes2, tets), tri)
