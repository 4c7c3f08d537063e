"""The smooth interface surface from depth-grid points (geometry/slab.py) and plate layers (plate.py).

References: analytic surfaces sampled at scattered points, held-out Slab2 points, finite
differences, the rectangle geometry of frames.py, hand-placed points at known distances.
"""

from pathlib import Path

import numpy as np
import pytest

from crustgf.config.schema import Config, Domain, GridFault, Layer, RectangleFault, Stations
from crustgf.geometry.frames import rectangle_corners
from crustgf.geometry.plate import distance_below, interface_surface, plane_interface, plate_layer_of
from crustgf.geometry.projection import Projection
from crustgf.geometry.slab import fit_surface
from crustgf.mesh.materials import assign_materials

SLAB2 = Path(__file__).resolve().parents[1] / "crustgf" / "data" / "slab2_nankai.csv"
KM = 1e3
STRIKE = np.radians(240.0)
S_HAT = np.array([np.sin(STRIKE), np.cos(STRIKE)])  # along strike (SW)
R_HAT = np.array([np.cos(STRIKE), -np.sin(STRIKE)])  # down dip in map view (NW), right of strike


def curved_depth(x, y):
    """A trough-like analytic interface: depth grows and steepens down dip, undulates along strike."""
    a = x * S_HAT[0] + y * S_HAT[1]
    b = x * R_HAT[0] + y * R_HAT[1]
    return 4 * KM + 0.08 * b + 8e-7 * b**2 + 2 * KM * np.sin(a / (80 * KM))


def curved_gradient(x, y):
    a = x * S_HAT[0] + y * S_HAT[1]
    b = x * R_HAT[0] + y * R_HAT[1]
    d_db = 0.08 + 1.6e-6 * b
    d_da = 2 * KM / (80 * KM) * np.cos(a / (80 * KM))
    return d_db * R_HAT[0] + d_da * S_HAT[0], d_db * R_HAT[1] + d_da * S_HAT[1]


def scattered_points(depth_fn, a_range, b_range, spacing, seed=0):
    """Jittered grid points (n, 3) = x, y, depth over a strike-aligned rectangle (m)."""
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(np.arange(*a_range, spacing), np.arange(*b_range, spacing))
    a = a.ravel() + rng.uniform(-0.2, 0.2, a.size) * spacing
    b = b.ravel() + rng.uniform(-0.2, 0.2, b.size) * spacing
    x, y = a * S_HAT[0] + b * R_HAT[0], a * S_HAT[1] + b * R_HAT[1]
    return np.column_stack([x, y, depth_fn(x, y)])


def map_point(a, b):
    return a * S_HAT[0] + b * R_HAT[0], a * S_HAT[1] + b * R_HAT[1]


@pytest.fixture(scope="module")
def curved():
    pts = scattered_points(curved_depth, (-150 * KM, 150 * KM), (0.0, 150 * KM), 4 * KM)
    return pts, fit_surface(pts)


def load_slab2(origin=(135.5, 33.0)):
    d = np.loadtxt(SLAB2, delimiter=",", comments="#", skiprows=3)
    x, y = Projection(origin).to_xy(d[:, 0], d[:, 1])
    return d, np.column_stack([x, y, d[:, 2] * KM])


def test_curved_surface_reproduces_the_analytic_depth(curved):
    _, surf = curved
    rng = np.random.default_rng(1)
    x, y = map_point(rng.uniform(-140, 140, 2000) * KM, rng.uniform(5, 145, 2000) * KM)
    err = surf.depth(x, y) - curved_depth(x, y)
    assert np.max(np.abs(err)) < 30.0  # m, on depths of 4-40 km


def test_normals_point_up_and_follow_the_depth_gradient(curved):
    _, surf = curved
    rng = np.random.default_rng(2)
    x, y = map_point(rng.uniform(-140, 140, 500) * KM, rng.uniform(5, 145, 500) * KM)
    n = surf.normal_at(np.column_stack([x, y]))
    assert np.all(n[:, 2] > 0) and np.allclose(np.linalg.norm(n, axis=1), 1.0)
    # central finite differences of the fitted depth: n is parallel to (d_x, d_y, 1)
    h = 50.0
    fx = (surf.depth(x + h, y) - surf.depth(x - h, y)) / (2 * h)
    fy = (surf.depth(x, y + h) - surf.depth(x, y - h)) / (2 * h)
    assert np.allclose(n[:, 0] / n[:, 2], fx, atol=2e-4)
    assert np.allclose(n[:, 1] / n[:, 2], fy, atol=2e-4)
    # and the analytic gradient, to the accuracy of the fit (dips here are 4-18 degrees)
    gx, gy = curved_gradient(x, y)
    assert np.allclose(n[:, 0] / n[:, 2], gx, atol=5e-3)
    assert np.allclose(n[:, 1] / n[:, 2], gy, atol=5e-3)
    # horizontal part points down dip (NW here), as frames.strike_dip_from_normal expects
    assert np.all(n[:, :2] @ R_HAT > 0)


def test_surface_is_smooth_across_the_data_edge(curved):
    """C1: the down-dip slope has no jump, also at the data's edges (b = 0 and b = 150 km): its
    largest change over a step shrinks in proportion to the step."""
    _, surf = curved

    def largest_slope_change(step):
        b = np.arange(-20 * KM, 170 * KM, step)
        gx, gy = surf.gradient(*map_point(np.zeros_like(b), b))
        return np.max(np.abs(np.diff(gx * R_HAT[0] + gy * R_HAT[1])))

    coarse, fine = largest_slope_change(100.0), largest_slope_change(10.0)
    assert coarse < 0.02
    assert fine < 0.15 * coarse


def test_extrapolation_holds_seaward_and_continues_down_dip(curved):
    _, surf = curved
    # seaward of the trough (b < 0): the trough depth is held
    for a in (-100 * KM, 0.0, 60 * KM):
        x0, y0 = map_point(a, 0.0)
        x1, y1 = map_point(a, -60 * KM)
        assert abs(surf.depth(x1, y1) - curved_depth(x0, y0)) < 300.0
    # beyond the deepest data (b > 150 km): the surface keeps deepening with about the edge slope
    x0, y0 = map_point(0.0, 150 * KM)
    x1, y1 = map_point(0.0, 190 * KM)
    edge_slope = 0.08 + 1.6e-6 * 150 * KM
    deeper = surf.depth(x1, y1) - curved_depth(x0, y0)
    assert deeper == pytest.approx(edge_slope * 40 * KM, rel=0.15)
    # footprint: on data inside, not on data outside
    assert surf.in_data(*map_point(0.0, 75 * KM)) and not surf.in_data(*map_point(0.0, -30 * KM))


def test_slab2_held_out_points_are_reproduced():
    """Fit every other Slab2 node (10 km spacing), predict the others in the Nankai source region."""
    d, pts = load_slab2()
    i, j = np.round(d[:, 0] / 0.05).astype(int), np.round(d[:, 1] / 0.05).astype(int)
    keep = (i % 2 == 0) & (j % 2 == 0)
    surf = fit_surface(pts[keep])
    test = ~keep & (d[:, 0] > 132.0) & (d[:, 0] < 138.5) & (d[:, 2] < 60.0)
    err = surf.depth(pts[test, 0], pts[test, 1]) - pts[test, 2]
    assert test.sum() > 1500
    assert np.sqrt(np.mean(err**2)) < 150.0
    assert np.percentile(np.abs(err), 95) < 300.0
    assert np.max(np.abs(err)) < 1000.0


def test_plane_interface_contains_the_rectangle():
    f = RectangleFault(top_center=(10 * KM, -5 * KM, 3 * KM), strike=250.0, dip=15.0,
                       length=80 * KM, width=40 * KM, subfaults=(2, 2))
    plane = plane_interface(f)
    c = rectangle_corners((10 * KM, -5 * KM, -3 * KM), 250.0, 15.0, 80 * KM, 40 * KM)
    assert np.allclose(plane.depth(c[:, 0], c[:, 1]), -c[:, 2], atol=1e-6)
    from crustgf.geometry.frames import normal_vector

    assert np.allclose(plane.normal_at(c), normal_vector(250.0, 15.0))


def test_plate_layers_by_normal_distance_below_a_plane():
    f = RectangleFault(top_center=(0.0, 0.0, 5 * KM), strike=0.0, dip=30.0,
                       length=50 * KM, width=20 * KM, subfaults=(1, 1))
    plane = plane_interface(f)
    layers = [Layer("oceanic_crust", 7 * KM, 6.5e3, 3.6e3, 2.9e3), Layer("slab_mantle", 30 * KM, 8e3, 4.6e3, 3.3e3)]
    n = plane.normal_at(np.zeros((1, 3)))[0]
    base = np.array([20 * KM, 3 * KM, -(5 * KM + np.tan(np.radians(30)) * 20 * KM)])  # on the plane
    offsets = np.array([5.0, -0.5, -3.0, -6.9, -7.1, -20.0, -36.9, -37.1]) * KM  # along +n (up)
    pts = base + offsets[:, None] * n
    assert np.allclose(distance_below(pts, plane), -offsets, atol=1e-6)
    assert plate_layer_of(pts, plane, layers).tolist() == [-1, 0, 0, 0, 1, 1, 1, -1]
    # a last plate layer without thickness (config: inf) reaches all the way down
    layers[1].bottom = np.inf
    assert plate_layer_of(pts, plane, layers).tolist() == [-1, 0, 0, 0, 1, 1, 1, 1]


def test_assign_materials_puts_plate_layers_after_the_flat_layers(curved):
    pts, _ = curved
    flat = [Layer("crust", 20 * KM, 6e3, 3.5e3, 2.7e3), Layer("mantle", 200 * KM, 8e3, 4.5e3, 3.3e3)]
    plate = [Layer("oceanic_crust", 7 * KM, 6.5e3, 3.6e3, 2.9e3)]
    cfg = Config(name="t", domain=Domain((-300 * KM, 300 * KM), (-300 * KM, 300 * KM), 200 * KM, None),
                 layers=flat, fault=GridFault(pts, None, (0.0, 30 * KM), 20 * KM, "synthetic"),
                 stations=Stations([], np.zeros((0, 3)), None), plate_layers=plate)
    x, y = map_point(np.array([0.0, 0.0, 0.0, 0.0]), np.array([50, 50, 140, 140]) * KM)
    d = curved_depth(x, y)
    # 2 km above, 3 km below (vertical) the interface at two places with depths ~9 and ~31 km
    z = -np.array([d[0] - 2 * KM, d[1] + 3 * KM, d[2] - 2 * KM, d[3] + 3 * KM])
    ids = assign_materials(cfg, np.column_stack([x, y, z]))
    assert ids.tolist() == [0, 2, 1, 2]
    assert interface_surface(cfg) is interface_surface(cfg)  # memoised: the mesher shares it
