"""Unit-slip fields and split-node right-hand sides: rigid blocks, potency, partition of unity,
superposition of subfaults, hanging-wall labelling."""

import numpy as np
import pytest

from crustgf.core.errors import CrustgfError
from crustgf.fem.boxmesh import box_fault_model
from crustgf.fem.slipfield import build_slip_field
from crustgf.fem.splitnode import hanging_incidences
from crustgf.greens.operator import GreenSolver

XS = np.linspace(-4e3, 4e3, 9)
YS = np.linspace(-4e3, 4e3, 9)
ZS = np.linspace(-4e3, 0, 5)


def p1_potency(model, field):
    """Integral over the fault of the piecewise-linear slip amplitude of each subfault (hand P1 rule)."""
    tri = model.fault_cells[:, :3]
    p = model.nodes[tri]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    full = np.zeros((len(model.nodes), model.n_subfaults))
    full[field.nodes] = field.weights.toarray()
    return (area[:, None] * full[tri].mean(axis=1)).sum(axis=0)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("method", ["direct", "amg-cg"])
def test_free_block_moves_rigidly(order, method):
    """A vertical fault cutting the whole box; only the far footwall face is fixed, so the hanging
    wall (x > 0) translates by the unit slip and the footwall stays put: u = slip or 0 exactly."""
    st = np.array([[1500.0, 500, 0], [3900, -3900, -2000], [-1500, 700, 0], [-3000, 3000, -3900], [10, 0, -1000]])
    m = box_fault_model(XS, YS, ZS, (YS[0], YS[-1]), (ZS[0], 0.0), order=order, stations=st)
    m.buried_edge_nodes = np.zeros(0, np.int64)
    m.fixed_nodes = np.flatnonzero(m.nodes[:, 0] < XS[0] + 1)
    g = GreenSolver(m, method=method, rtol=1e-10)
    r = g.solve([[0, 0], [0, 1]])
    hanging = st[:, 0] > 0
    # strike 0, dip 90: strike-slip = +y (north), dip-slip (reverse) = +z on the hanging wall
    expected = np.zeros((len(st), 3, 2))
    expected[hanging, 1, 0] = 1.0
    expected[hanging, 2, 1] = 1.0
    assert np.abs(r.displacement - expected).max() < 1e-7
    assert r.converged.all()


@pytest.mark.parametrize("order", [1, 2])
def test_unit_slip_potency_partition_and_taper(order):
    m = box_fault_model(XS, YS, ZS, (-3e3, 3e3), (-3e3, 0.0), subfaults=(3, 3), order=order)
    f = build_slip_field(m)
    # potency of every subfault equals its area, buried edges included
    assert np.allclose(p1_potency(m, f), m.subfaults.area, rtol=1e-12)
    total = np.asarray(f.weights.sum(axis=1)).ravel()
    y, z = m.nodes[f.nodes, 1], m.nodes[f.nodes, 2]
    interior = (np.abs(y) < 1.5e3 - 1) & (z > -1.5e3 + 1)  # clear of the rows next to buried edges
    assert np.allclose(total[interior], 1.0)
    assert not np.isin(f.nodes, m.buried_edge_nodes).any()
    # directions: strike 0 dip 90 fault -> strike-slip +y, dip-slip +z (reverse = -dip vector)
    assert np.allclose(f.directions[:, 0], [0, 1, 0]) and np.allclose(f.directions[:, 1], [0, 0, 1])


def test_first_row_factor_is_one_and_a_half():
    """1D analogue: a fault buried only at its bottom edge, long along strike (laterals far away):
    the first row above the buried edge carries 1.5 (uniform spacing)."""
    ys = np.linspace(-8e3, 8e3, 17)
    m = box_fault_model(XS, ys, ZS, (-7e3, 7e3), (-3e3, 0.0), order=1)
    y, z = m.nodes[:, 1], m.nodes[:, 2]
    on = np.isin(np.arange(len(y)), m.buried_edge_nodes)
    m.buried_edge_nodes = np.flatnonzero(on & (np.abs(z + 3e3) < 1))  # only the bottom edge
    f = build_slip_field(m)
    w = np.asarray(f.weights.sum(axis=1)).ravel()
    row1 = (np.abs(m.nodes[f.nodes, 2] + 2e3) < 1) & (np.abs(m.nodes[f.nodes, 1]) < 6e3 - 1)
    assert np.allclose(w[row1], 1.5, rtol=0.02)


@pytest.mark.parametrize("order", [1, 2])
def test_superposition_of_subfaults(order):
    """Sum of every subfault's GF equals one solve with the summed jumps (whole-fault slip)."""
    st = np.array([[2000.0, 500, 0], [-1500, -1000, 0], [500, 3000, 0], [-2500, 2500, -1000]])
    m = box_fault_model(XS, YS, ZS, (-3e3, 3e3), (-3e3, 0.0), subfaults=(3, 2), order=order, stations=st)
    g = GreenSolver(m, method="amg-cg", rtol=1e-10, batch=4)
    for comp in (0, 1):
        jobs = np.array([[s, comp] for s in range(m.n_subfaults)])
        parts = g.solve(jobs).displacement.sum(axis=2)
        D = g.slip.jumps(jobs).sum(axis=1, keepdims=True)
        X, res, _ = g.solver.solve(-(g.jump_op @ D))
        whole = (g.station_interp @ X + g.station_jump @ D).reshape(-1, 3)
        assert res[0] < 1e-9
        assert np.linalg.norm(parts - whole) <= 1e-6 * np.linalg.norm(whole)


def test_hanging_side_labels_follow_the_normal():
    """Every hanging incidence is on the +x side for a fault with normal +x (element centroids)."""
    m = box_fault_model(XS, YS, ZS, (-3e3, 3e3), (-3e3, 0.0), order=2)
    f = build_slip_field(m)
    inc = hanging_incidences(m.nodes, m.cells, m.fault_cells, f.nodes)
    cx = m.nodes[m.cells[inc.elem]].mean(axis=1)[:, 0]
    assert (cx > 0).all()
    # and every element on the +x side touching a split node is listed for it
    node = f.nodes[len(f.nodes) // 2]
    star = np.flatnonzero((m.cells == node).any(axis=1))
    plus = star[m.nodes[m.cells[star]].mean(axis=1)[:, 0] > 0]
    listed = inc.elem[f.nodes[inc.split] == node]
    assert set(plus) == set(listed)


def test_unsplittable_node_is_an_error():
    """A node on a buried edge left out of buried_edge_nodes: its star is not cut in two."""
    m = box_fault_model(XS, YS, ZS, (-3e3, 3e3), (-3e3, 0.0), order=1)
    corner = np.flatnonzero((np.abs(m.nodes[:, 0]) < 1) & (np.abs(m.nodes[:, 1] - 3e3) < 1)
                            & (np.abs(m.nodes[:, 2] + 1e3) < 1))
    m.buried_edge_nodes = np.setdiff1d(m.buried_edge_nodes, corner)
    with pytest.raises(CrustgfError, match="split node"):
        GreenSolver(m, method="direct")
