"""The mesher on a hand-made curved fault (a cylinder crossing the layer interface): the fault is
conforming, every subfault keeps its own triangles, no tet crosses the interface, and the
subfault areas and the fault nodes match the exact cylinder."""

from __future__ import annotations

import numpy as np
import pytest
from mesh_cases import (
    CYL_R,
    CYL_TOP,
    INTERFACE,
    KM,
    cylinder_normal,
    cylinder_patch_bounds,
    cylinder_patches,
    make_config,
)

import crustgf.mesh.build as build
from crustgf.mesh import build_model


@pytest.fixture(scope="module")
def curved():
    cfg = make_config(size_fault=3.0, size_max=15.0, order=1)
    patches = cylinder_patches()
    mp = pytest.MonkeyPatch()
    mp.setattr(build, "fault_patches", lambda cfg: patches)
    try:
        model = build_model(cfg, progress=False)
    finally:
        mp.undo()
    return cfg, patches, model


def _tet_faces(cells):
    return np.sort(cells[:, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]], axis=2).reshape(-1, 3)


def test_every_fault_triangle_is_shared_by_two_tets_on_opposite_sides(curved):
    _, _, m = curved
    tets, n = m.cells[:, :4], len(m.nodes)
    faces = _tet_faces(tets)
    keys = (faces[:, 0] * n + faces[:, 1]) * n + faces[:, 2]
    tri = np.sort(m.fault_cells[:, :3], axis=1)
    tkeys = (tri[:, 0] * n + tri[:, 1]) * n + tri[:, 2]
    order = np.argsort(keys)
    lo = np.searchsorted(keys[order], tkeys, side="left")
    hi = np.searchsorted(keys[order], tkeys, side="right")
    assert np.all(hi - lo == 2)
    p = m.nodes[m.fault_cells[:, :3]]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    side = [np.sign(np.einsum("ij,ij->i", m.nodes[tets[order[lo + k] // 4, order[lo + k] % 4]] - p[:, 0], normal))
            for k in (0, 1)]
    assert np.all(side[0] * side[1] == -1)


def test_no_tet_crosses_the_interface_and_the_fault_is_cut_by_it(curved):
    _, _, m = curved
    z = m.nodes[m.cells[:, :4], 2]
    tol = 1e-6 * KM
    assert not np.any((z.max(axis=1) > -INTERFACE + tol) & (z.min(axis=1) < -INTERFACE - tol))
    fz = m.nodes[m.fault_cells[:, :3], 2]
    assert not np.any((fz.max(axis=1) > -INTERFACE + tol) & (fz.min(axis=1) < -INTERFACE - tol))
    on_interface = np.abs(m.nodes[np.unique(m.fault_cells), 2] + INTERFACE) < tol
    assert on_interface.sum() >= 3  # the fault's trace on the interface is a row of mesh nodes


def test_subfaults_keep_their_triangles_and_exact_areas(curved):
    _, patches, m = curved
    xs, ys = cylinder_patch_bounds()
    c = m.nodes[m.fault_cells[:, :3]].mean(axis=1)
    i = np.searchsorted(-xs, -c[:, 0]) - 1  # xs decrease
    j = np.searchsorted(ys, c[:, 1]) - 1
    assert np.array_equal(j * 3 + i, m.fault_cell_subfault)
    # exact area: patch length along x times the arc length R (asin(y1/R) - asin(y0/R))
    arc = CYL_R * np.diff(np.arcsin(ys / CYL_R))
    exact = np.outer(arc, -np.diff(xs)).ravel()
    np.testing.assert_allclose(m.subfaults.area, exact, rtol=5e-3)


def test_fault_nodes_lie_on_the_cylinder_and_triangles_face_the_hanging_wall(curved):
    _, _, m = curved
    x = m.nodes[np.unique(m.fault_cells)]
    radius = np.hypot(x[:, 1], x[:, 2] - (-CYL_TOP - CYL_R))  # axis at y = 0, z = -(top + R)
    np.testing.assert_allclose(radius, CYL_R, atol=1e-4 * CYL_R)
    p = m.nodes[m.fault_cells[:, :3]]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    assert np.all(np.einsum("ij,ij->i", n, cylinder_normal(p.mean(axis=1))) > 0.95)
