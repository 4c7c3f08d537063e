"""Point location and interpolation at stations."""

import numpy as np
import pytest

from crustgf.core.errors import CrustgfError
from crustgf.fem.boxmesh import box_tet4, promote_tet10
from crustgf.fem.stations import interpolation_matrix, locate_points


def mesh(order):
    nodes, cells = box_tet4(np.linspace(0, 3e3, 4), np.linspace(0, 2e3, 3), np.linspace(-2e3, 0, 3))
    if order == 2:
        nodes, cells, _, _ = promote_tet10(nodes, cells)
    return nodes, cells


# inside, on the free surface, on a grid node, on an element face/edge, on the box corner
POINTS = np.array([[1234.5, 876.5, -432.1], [2500.0, 1500.0, 0.0], [1000.0, 1000.0, -1000.0],
                   [1500.0, 500.0, -500.0], [3000.0, 2000.0, 0.0], [0.0, 0.0, -2000.0]])


@pytest.mark.parametrize("order", [1, 2])
def test_located_barycentrics_reproduce_points(order):
    nodes, cells = mesh(order)
    elem, bary = locate_points(nodes, cells, POINTS)
    assert (bary >= -1e-9).all() and np.allclose(bary.sum(axis=1), 1)
    assert np.allclose(np.einsum("nk,nkc->nc", bary, nodes[cells[elem, :4]]), POINTS, atol=1e-6)


@pytest.mark.parametrize("order,exact_degree", [(1, 1), (2, 2)])
def test_interpolation_is_exact_for_complete_polynomials(order, exact_degree):
    nodes, cells = mesh(order)
    x, y, z = (nodes / 1e3).T

    def field(x, y, z):
        lin = np.stack([1 + x - 2 * y + z, 0.5 * x + z, 3 - y], axis=1)
        quad = np.stack([x * y, z * z - x, y * z + x * x], axis=1)
        return lin + (quad if exact_degree == 2 else 0)

    u = field(x, y, z).ravel()
    elem, bary = locate_points(nodes, cells, POINTS)
    P = interpolation_matrix(cells, elem, bary, len(nodes))
    p = POINTS / 1e3
    assert np.allclose((P @ u).reshape(-1, 3), field(*p.T), atol=1e-10)


def test_station_outside_is_an_error():
    nodes, cells = mesh(1)
    with pytest.raises(CrustgfError, match="station FAR.*outside the mesh"):
        locate_points(nodes, cells, np.array([[100.0, 100.0, 0.0], [5e3, 0.0, 0.0]]), names=["IN", "FAR"])
    with pytest.raises(CrustgfError, match="outside"):
        locate_points(nodes, cells, np.array([[100.0, 100.0, 10.0]]))  # above the free surface
