"""FE Green's functions of a rectangular fault on a station grid, for the reference comparisons
(test_okada.py: homogeneous half-space against cutde; test_edgrn.py: layered against EDGRN/EDCMP)."""

from __future__ import annotations

import numpy as np

from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
from crustgf.geometry.frames import rectangle_corners

KM = 1e3


def surface_grid(half_size, n, corners=None, trace_gap=0.0):
    """(m, 3) points of an n x n grid on z = 0; with a surface trace (corners[0] -> corners[1] at
    z = 0) the points within trace_gap of it are left out (the FE jump is smeared over one element)."""
    x = np.linspace(-half_size, half_size, n)
    X, Y = np.meshgrid(x, x)
    pos = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    if corners is None or corners[0, 2] < 0:
        return pos
    a, b = corners[0, :2], corners[1, :2]
    t = np.clip((pos[:, :2] - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    keep = np.linalg.norm(pos[:, :2] - (a + t[:, None] * (b - a)), axis=1) > trace_gap
    return pos[keep]


def fe_rectangle_gfs(layers, strike, dip, top, length, width, subfaults, size_fault, positions,
                     domain=120.0, size_max=25.0, order=2):
    """FE GFs (n_st, 3, n_subfaults, 2) of a rectangle (km, degrees; top = depth of the top edge's
    midpoint at x = y = 0) in a box of half-width and depth `domain` km with flat `layers`
    [(name, bottom_m, vp, vs, density), ...]; the last layer's bottom is set to the box depth.
    Returns (gfs, solver result, model)."""
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    layers = [Layer(*row) for row in layers]
    layers[-1].bottom = domain * KM
    cfg = Config(
        name="reference", domain=Domain((-domain * KM, domain * KM), (-domain * KM, domain * KM), domain * KM, None),
        layers=layers,
        fault=RectangleFault((0.0, 0.0, top * KM), strike, dip, length * KM, width * KM, subfaults),
        stations=Stations([f"S{i}" for i in range(len(positions))], np.asarray(positions, float), None),
        mesh=MeshOptions(order=order, size_fault=size_fault * KM, size_max=size_max * KM), text="",
    )
    model = build_model(cfg, progress=False)
    ns = subfaults[0] * subfaults[1]
    jobs = np.array([[s, c] for s in range(ns) for c in range(2)])
    res = GreenSolver(model, method="auto").solve(jobs)
    return res.displacement.reshape(len(positions), 3, ns, 2), res, model


def relative_errors(fe, ref):
    """Relative L2 error over stations and components, per (subfault, component), and overall."""
    err = np.linalg.norm(fe - ref, axis=(0, 1)) / np.linalg.norm(ref, axis=(0, 1))
    return err, np.linalg.norm(fe - ref) / np.linalg.norm(ref)


def corners_of(strike, dip, top, length, width):
    return rectangle_corners([0, 0, -top * KM], strike, dip, length * KM, width * KM)


def rectangle_triangles(corners, n_strike, n_dip):
    """(2 n_strike n_dip, 3, 3) triangles of a rectangle split into patches (patch j = i_dip * n_strike +
    i_strike, two triangles each), every one oriented so its normal points into the hanging wall."""
    c0, c1, c3 = corners[0], corners[1], corners[3]
    n = np.cross(c3 - c0, c1 - c0)
    s_, d_ = np.linspace(0, 1, n_strike + 1), np.linspace(0, 1, n_dip + 1)
    tris = []
    for j in range(n_dip):
        for i in range(n_strike):
            P = lambda a, b: c0 + a * (c1 - c0) + b * (c3 - c0)  # noqa: E731
            p00, p10, p01, p11 = P(s_[i], d_[j]), P(s_[i + 1], d_[j]), P(s_[i], d_[j + 1]), P(s_[i + 1], d_[j + 1])
            for tri in ([p00, p01, p11], [p00, p11, p10]):
                tri = np.array(tri)
                if np.cross(tri[1] - tri[0], tri[2] - tri[0]) @ n < 0:
                    tri = tri[[0, 2, 1]]
                tris.append(tri)
    return np.array(tris)
