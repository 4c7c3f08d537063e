"""Small configs for the mesher tests (coarse: a few thousand elements each)."""

from __future__ import annotations

import numpy as np

from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations

KM = 1e3
INTERFACE = 12 * KM  # depth of the one layer interface
DOMAIN = Domain(x=(-50 * KM, 50 * KM), y=(-50 * KM, 50 * KM), depth=40 * KM, origin=None)


def make_config(strike=30.0, dip=35.0, top_depth=5.0, length=20.0, width=10.0, subfaults=(4, 2),
                order=2, size_fault=2.5, size_max=15.0, domain=DOMAIN) -> Config:
    """Two flat layers (interface at 12 km), one rectangular fault, two stations on the surface."""
    return Config(
        name="test",
        domain=domain,
        layers=[Layer("crust", INTERFACE, 6000.0, 3500.0, 2700.0),
                Layer("mantle", domain.depth, 8000.0, 4500.0, 3300.0)],
        fault=RectangleFault(top_center=(0.0, 0.0, top_depth * KM), strike=strike, dip=dip,
                             length=length * KM, width=width * KM, subfaults=subfaults),
        stations=Stations(names=["A", "B"], positions=np.array([[10 * KM, 5 * KM, 0.0], [-20 * KM, 0.0, 0.0]]),
                          lonlat=None),
        mesh=MeshOptions(order=order, size_fault=size_fault * KM, size_max=size_max * KM),
        text="[model]\nname = \"test\"\n",
    )


# (strike, dip, top depth km, order): buried, crossing the interface; vertical and reaching the
# surface; shallow-dipping reaching the surface, linear; steep buried with strike past 180
CASES = {
    "buried_30_35": dict(strike=30.0, dip=35.0, top_depth=5.0, order=2),
    "surface_120_90": dict(strike=120.0, dip=90.0, top_depth=0.0, order=2),
    "surface_0_20_linear": dict(strike=0.0, dip=20.0, top_depth=0.0, order=1),
    "buried_250_70": dict(strike=250.0, dip=70.0, top_depth=3.0, order=2),
}


# A curved fault made by hand: a cylinder with its axis along x, the fault depth growing down
# dip (+y) as d(y) = TOP + R - sqrt(R^2 - y^2) for y in [0, WIDTH]: horizontal at its buried top
# edge (4 km), 64 degrees dip at the bottom (20.9 km), crossing the 12 km interface in its second
# row. Along-strike edges are straight lines (constant y), down-dip edges circular arcs (constant
# x), so a patch is exactly the set x in [x_i+1, x_i], y in [y_j, y_j+1].
CYL_R, CYL_TOP, CYL_WIDTH, CYL_LENGTH = 30 * KM, 4 * KM, 27 * KM, 30 * KM


def cylinder_depth(x, y):
    return CYL_TOP + CYL_R - np.sqrt(CYL_R**2 - np.asarray(y) ** 2) + 0.0 * np.asarray(x)


def cylinder_normal(points):
    """Hanging-wall unit normal: up and towards +y (the fault dips to +y, the hanging wall is above)."""
    y = np.asarray(points)[:, 1]
    n = np.stack([np.zeros_like(y), y / np.sqrt(CYL_R**2 - y**2), np.ones_like(y)], axis=1)
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def cylinder_patch_bounds(n_strike=3, n_dip=2):
    """x edges (decreasing: strike is west, -x) and y edges (down dip) of the patch grid."""
    xs = CYL_LENGTH / 2 - np.arange(n_strike + 1) * CYL_LENGTH / n_strike
    ys = np.arange(n_dip + 1) * CYL_WIDTH / n_dip
    return xs, ys


def cylinder_patches(n_strike=3, n_dip=2, samples=12):
    """FaultPatches of the cylinder fault, numbered as rectangle.py (patch j * n_strike + i)."""
    from crustgf.geometry.patches import FaultPatches

    xs, ys = cylinder_patch_bounds(n_strike, n_dip)

    def lift(x, y):
        return np.stack([x, y, -cylinder_depth(x, y)], axis=-1)

    def cid(i, j):
        return j * (n_strike + 1) + i

    gx, gy = np.meshgrid(xs, ys)
    corners = lift(gx.ravel(), gy.ravel())
    u = np.linspace(0.0, 1.0, samples)
    ends, points = [], []
    for j in range(n_dip + 1):  # along-strike edges
        for i in range(n_strike):
            ends.append((cid(i, j), cid(i + 1, j)))
            points.append(lift(xs[i] + u * (xs[i + 1] - xs[i]), np.full(samples, ys[j])))
    for i in range(n_strike + 1):  # down-dip edges
        for j in range(n_dip):
            ends.append((cid(i, j), cid(i, j + 1)))
            points.append(lift(np.full(samples, xs[i]), ys[j] + u * (ys[j + 1] - ys[j])))
    n_se = n_strike * (n_dip + 1)
    loops = [[j * n_strike + i, n_se + (i + 1) * n_dip + j, (j + 1) * n_strike + i, n_se + i * n_dip + j]
             for j in range(n_dip) for i in range(n_strike)]
    return FaultPatches(corners=corners, edge_ends=np.array(ends), edge_points=points,
                        patches=np.array(loops), planar=False, normal_at=cylinder_normal,
                        depth_at=cylinder_depth,
                        grid_index=np.array([[i, j] for j in range(n_dip) for i in range(n_strike)]))
