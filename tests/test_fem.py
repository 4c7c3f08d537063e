"""FE elasticity: patch tests, rigid-body null space, symmetry, energy of uniform strain."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from crustgf.fem.assembly import assemble_stiffness
from crustgf.fem.boxmesh import box_tet4, promote_tet10
from crustgf.fem.elements import element_stiffness
from crustgf.fem.problem import ElasticProblem

MU, LAM = 3.0e10, 2.0e10


def distorted_box(order, seed=0):
    """A 3x3x2 Kuhn box with its interior vertices moved randomly (elements stay valid and affine)."""
    xs, ys, zs = np.linspace(0, 3e3, 4), np.linspace(0, 3e3, 4), np.linspace(-2e3, 0, 3)
    nodes, cells = box_tet4(xs, ys, zs)
    inner = ((nodes[:, 0] > 0) & (nodes[:, 0] < 3e3) & (nodes[:, 1] > 0) & (nodes[:, 1] < 3e3)
             & (nodes[:, 2] > -2e3) & (nodes[:, 2] < 0))
    nodes = nodes.copy()
    nodes[inner] += np.random.default_rng(seed).uniform(-150, 150, (inner.sum(), 3))
    if order == 2:
        nodes, cells, _, _ = promote_tet10(nodes, cells)
    return nodes, cells


def boundary_nodes(nodes):
    x, y, z = nodes.T
    return np.flatnonzero((x < 1) | (x > 3e3 - 1) | (y < 1) | (y > 3e3 - 1) | (z < -2e3 + 1) | (z > -1))


def rigid_modes(x):
    R = []
    for d in range(3):
        v = np.zeros_like(x)
        v[:, d] = 1
        R.append(v.ravel())
    for a, b in ((0, 1), (1, 2), (0, 2)):
        v = np.zeros_like(x)
        v[:, a], v[:, b] = -x[:, b], x[:, a]
        R.append(v.ravel())
    return np.array(R).T


@pytest.mark.parametrize("order", [1, 2])
def test_patch_test_affine_field_exact(order):
    """Boundary values of an affine field reproduce it exactly inside (any element shapes)."""
    nodes, cells = distorted_box(order)
    K = assemble_stiffness(nodes, cells, MU, LAM)
    A = np.array([[1.0, 0.3, -0.2], [0.1, -0.5, 0.4], [0.25, 0.2, 0.7]]) * 1e-4
    u_exact = (nodes @ A.T + np.array([0.1, -0.2, 0.3])).ravel()
    fixed = np.zeros(len(u_exact), bool)
    fixed[(3 * boundary_nodes(nodes)[:, None] + np.arange(3)).ravel()] = True
    free = ~fixed
    u = u_exact.copy()
    u[free] = spla.spsolve(K[free][:, free].tocsc(), -K[free][:, fixed] @ u_exact[fixed])
    assert np.abs(u - u_exact).max() < 1e-10 * np.abs(u_exact).max()


@pytest.mark.parametrize("order", [1, 2])
def test_rigid_modes_in_null_space_and_symmetry(order):
    nodes, cells = distorted_box(order, seed=1)
    K = assemble_stiffness(nodes, cells, MU, LAM)
    scale = abs(K).max() * np.abs(nodes).max()
    assert np.abs(K @ rigid_modes(nodes)).max() < 1e-12 * scale
    assert abs(K - K.T).max() <= 1e-14 * abs(K).max()


@pytest.mark.parametrize("nn_el", [4, 10])
def test_element_energy_of_uniform_strain(nn_el):
    """u^T K_e u = V (lam tr(e)^2 + 2 mu e:e) for a linear field (hand formula)."""
    X = np.array([[0.0, 0, 0], [2.0, 0.2, 0], [0.3, 1.5, 0.1], [0.2, 0.4, 1.2]]) * 1e3
    if nn_el == 10:
        from crustgf.mesh.model import TET10_EDGES
        X = np.vstack([X, 0.5 * (X[TET10_EDGES[:, 0]] + X[TET10_EDGES[:, 1]])])
    G = np.array([[2.0, 1.0, 0.0], [-1.0, 0.5, 3.0], [0.5, 0.0, -1.0]]) * 1e-5
    u = (X @ G.T).ravel()
    eps = 0.5 * (G + G.T)
    V = abs(np.linalg.det(X[1:4] - X[0])) / 6
    energy = V * (LAM * np.trace(eps) ** 2 + 2 * MU * np.sum(eps * eps))
    Ke = element_stiffness(X, MU, LAM)
    assert np.isclose(u @ Ke @ u, energy, rtol=1e-12)
    assert np.allclose(Ke, Ke.T, rtol=0, atol=1e-12 * abs(Ke).max())


@pytest.mark.parametrize("order", [1, 2])
def test_assembly_equals_scattered_element_matrices(order):
    nodes, cells = distorted_box(order, seed=2)
    mu = np.linspace(1e10, 4e10, len(cells))
    K = assemble_stiffness(nodes, cells, mu, 2 * mu)
    rows, cols, vals = [], [], []
    for e, c in enumerate(cells):
        Ke = element_stiffness(nodes[c], mu[e], 2 * mu[e])
        d = (3 * c[:, None] + np.arange(3)).ravel()
        rows.append(np.repeat(d, len(d)))
        cols.append(np.tile(d, len(d)))
        vals.append(Ke.ravel())
    K2 = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=K.shape).tocsr()
    assert abs(K - K2).max() <= 1e-13 * abs(K).max()


def test_problem_reduction_and_uniaxial_column():
    """A column fixed at the bottom, rollers on the sides, uniform traction on top: u_z = -t z'/M."""
    xs, ys, zs = np.linspace(0, 1e3, 3), np.linspace(0, 1e3, 3), np.linspace(-4e3, 0, 9)
    nodes, cells = box_tet4(xs, ys, zs)
    nodes, cells, _, _ = promote_tet10(nodes, cells)
    pb = ElasticProblem(nodes, cells, MU, LAM, np.flatnonzero(nodes[:, 2] < -4e3 + 1))
    # rollers: also remove the normal dofs on the sides (elimination like the fixed nodes)
    x, y, z = nodes.T
    side_x = np.flatnonzero((x < 1) | (x > 1e3 - 1))
    side_y = np.flatnonzero((y < 1) | (y > 1e3 - 1))
    free = np.setdiff1d(pb.free_dofs, np.concatenate([3 * side_x, 3 * side_y + 1]))
    K = pb.stiffness()
    assert pb.reduced_stiffness().shape == (len(pb.free_dofs),) * 2
    # consistent nodal loads of a uniform traction -t e_z on the top (TRI6 on flat faces): exact
    # via the energy: load = -t * int_top N_a; integrate with the quadratic surface shape functions
    from crustgf.fem.shapes import TRI_QUAD2_POINTS, TRI_QUAD2_WEIGHTS, simplex_shape
    t = 1e6
    f = np.zeros(3 * len(nodes))
    faces = cells[:, [[1, 2, 3, 5, 9, 8], [0, 2, 3, 6, 9, 7], [0, 1, 3, 4, 8, 7], [0, 1, 2, 4, 5, 6]]].reshape(-1, 6)
    top = faces[(nodes[faces[:, :3], 2] > -1).all(axis=1)]
    for fc in top:
        p = nodes[fc[:3]]
        area = 0.5 * np.linalg.norm(np.cross(p[1] - p[0], p[2] - p[0]))
        Nq = simplex_shape(TRI_QUAD2_POINTS, 6)  # (3 points, 6)
        f[3 * fc + 2] += -t * area * (TRI_QUAD2_WEIGHTS @ Nq)
    u = np.zeros_like(f)
    u[free] = spla.spsolve(K[free][:, free].tocsc(), f[free])
    M = LAM + 2 * MU  # constrained modulus: uniaxial strain
    expected = -t * (z + 4e3) / M
    assert np.abs(u[2::3] - expected).max() < 1e-9 * np.abs(expected).max()
    assert np.abs(u[0::3]).max() < 1e-9 * np.abs(expected).max()
