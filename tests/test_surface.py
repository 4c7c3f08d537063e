"""A free surface that is not sea level ([surface], SPEC 5) against exact half-space references.

- A flat seafloor h below sea level: the half-space with its surface at z = -h, i.e. cutde with
  every point shifted up by h.
- A tilted planar surface: a half-space whose surface is tilted is a rotated half-space; cutde in
  the frame rotated so that the surface normal is its z axis is exact. The FE slip directions are
  SPEC's strike/dip in the true frame (vertical = z), which are combinations of cutde's in-plane
  directions in the rotated frame (strike' = e_z' x n): the reference combines them accordingly.

Thresholds (issue 12): the whole fault (uniform slip on every subfault) within 3 %, each subfault
and component within 6 % (relative L2 over a station grid, stations within one element of a
surface trace left out). At size_fault = width / 10 in a box of 12 fault lengths (~120 k DOF,
~17 s each on 2 cores); width / 5 gives ~5-6 % (the discretisation error of test_okada's table,
not the surface's).
"""

import numpy as np
import pytest
from fe_rectangle import KM, rectangle_triangles
from test_okada import MU, NU, RHO

from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
from crustgf.geometry.frames import rectangle_corners
from crustgf.geometry.surface import Surface


def fe_gfs(surface, strike, dip, top, length, width, subfaults, size_fault, xy, domain=120.0, size_max=30.0):
    """FE GFs (n_st, 3, ns, 2) for stations on the surface at xy (m), and the model."""
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    z = surface.elevation(xy[:, 0], xy[:, 1])
    cfg = Config(
        name="surface", domain=Domain((-domain * KM, domain * KM), (-domain * KM, domain * KM), domain * KM, None),
        layers=[Layer("halfspace", domain * KM, vp, vs, RHO)],
        fault=RectangleFault((0.0, 0.0, top * KM), strike, dip, length * KM, width * KM, subfaults),
        stations=Stations([f"S{i}" for i in range(len(xy))], np.column_stack([xy, z]), None,
                          on_surface=np.ones(len(xy), bool)),
        mesh=MeshOptions(order=2, size_fault=size_fault * KM, size_max=size_max * KM), text="", surface=surface,
    )
    model = build_model(cfg, progress=False)
    ns = subfaults[0] * subfaults[1]
    jobs = np.array([[s, c] for s in range(ns) for c in range(2)])
    res = GreenSolver(model, method="auto").solve(jobs)
    assert res.converged.all()
    return res.displacement.reshape(len(xy), 3, ns, 2), model


def rotation_to(normal):
    """Rotation R with R @ normal = e_z (Rodrigues)."""
    n = normal / np.linalg.norm(normal)
    v, c = np.cross(n, [0, 0, 1.0]), n[2]
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def cutde_reference(corners, n_strike, n_dip, positions, R=None, origin=None):
    R = np.eye(3) if R is None else R
    origin = np.zeros(3) if origin is None else origin
    """(n_st, 3, ns, 2) half-space GFs for slip along the TRUE-frame strike and dip vectors; the
    half-space surface is the plane through `origin` with normal R.T @ e_z."""
    import cutde.halfspace as hs

    c0, c1, c3 = corners[0], corners[1], corners[3]
    n = np.cross(c3 - c0, c1 - c0)
    n /= np.linalg.norm(n)
    s_true = np.cross([0, 0, 1.0], n)
    s_true /= np.linalg.norm(s_true)
    d_true = np.cross(n, s_true)
    n_r = R @ n  # cutde's triangle frame in the rotated coordinates
    s_r = np.cross([0, 0, 1.0], n_r)
    s_r /= np.linalg.norm(s_r)
    d_r = np.cross(n_r, s_r)
    # true slip direction k (strike, dip) = a_k s_r + b_k d_r in the rotated frame
    coef = np.array([[(R @ t) @ s_r, (R @ t) @ d_r] for t in (s_true, d_true)])  # (2 true, 2 cutde)
    tris = rectangle_triangles(corners, n_strike, n_dip)
    tris_r = (np.array(tris) - origin) @ R.T
    pos_r = (np.asarray(positions, float) - origin) @ R.T
    pos_r[:, 2] = np.minimum(pos_r[:, 2], 0.0)  # on the surface up to roundoff
    m = hs.disp_matrix(pos_r, tris_r, NU)[:, :, :, :2]  # (n_st, 3 rotated, n_tri, 2 cutde)
    m = m.reshape(len(positions), 3, n_strike * n_dip, 2, 2).sum(axis=3)
    m = np.einsum("sirc,kc->sirk", m, coef)  # true slip components
    return np.einsum("ji,sjrk->sirk", R, m)  # displacement back in the true frame (R^T u)


def station_xy(length, n, corners, trace_gap, surface=None):
    x = np.linspace(-3 * length * KM, 3 * length * KM, n)
    X, Y = np.meshgrid(x, x)
    xy = np.column_stack([X.ravel(), Y.ravel()])
    if surface is not None:  # leave out stations near a surface trace (the FE jump is smeared)
        a, b = corners[0, :2], corners[1, :2]
        t = np.clip((xy - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
        near = np.linalg.norm(xy - (a + t[:, None] * (b - a)), axis=1) <= trace_gap
        top_at_surface = corners[0, 2] >= surface.elevation(*corners[0, :2]) - 1.0
        xy = xy[~near] if top_at_surface else xy
    return xy


def errors(fe, ref):
    per = np.linalg.norm(fe - ref, axis=(0, 1)) / np.linalg.norm(ref, axis=(0, 1))
    whole_fe, whole_ref = fe.sum(axis=2), ref.sum(axis=2)
    whole = np.linalg.norm(whole_fe - whole_ref, axis=(0, 1)) / np.linalg.norm(whole_ref, axis=(0, 1))
    return per, whole


@pytest.mark.parametrize("top_below_seafloor", [2.0, pytest.param(0.0, marks=pytest.mark.slow)])
def test_flat_seafloor_is_a_shifted_halfspace(top_below_seafloor):
    """Seafloor 3 km below sea level; fault top 2 km below it (buried) or at it (breaks it)."""
    h, strike, dip, length, width, size_fault = 3.0, 30.0, 45.0, 10.0, 5.0, 0.5
    surface = Surface(constant=-h * KM)
    top = h + top_below_seafloor  # depth below sea level
    corners = rectangle_corners([0, 0, -top * KM], strike, dip, length * KM, width * KM)
    xy = station_xy(length, 15, corners, size_fault * KM, surface)
    fe, model = fe_gfs(surface, strike, dip, top, length, width, (2, 1), size_fault, xy)
    pos = np.column_stack([xy, np.full(len(xy), -h * KM)])
    assert np.allclose(model.station_positions, pos)
    ref = cutde_reference(corners, 2, 1, pos, origin=np.array([0, 0, -h * KM]))
    per, whole = errors(fe, ref)
    print(f"flat seafloor, top {top_below_seafloor} km below it: per subfault {per.max():.4f}, whole {whole.max():.4f}")
    assert per.max() <= 0.06, per
    assert whole.max() <= 0.03, whole


def test_tilted_surface_is_a_rotated_halfspace():
    """A planar surface sloping 3 % down to the east-south-east (1 km below sea level at the origin),
    given as an x/y grid (bilinear: exact for a plane); fault top 2 km below it."""
    gx, gy, s0 = -0.03, 0.01, -1.0 * KM
    a = np.linspace(-130, 130, 14) * KM  # covers the 120 km box: outside, the edge value is held
    A, B = np.meshgrid(a, a)
    surface = Surface(kind="xy", a=a, b=a, values=s0 + gx * A + gy * B)
    strike, dip, length, width, size_fault = 30.0, 45.0, 10.0, 5.0, 0.5
    top = 3.0  # depth below sea level of the top edge's midpoint, 2 km below the surface at the origin
    corners = rectangle_corners([0, 0, -top * KM], strike, dip, length * KM, width * KM)
    xy = station_xy(length, 15, corners, size_fault * KM)
    fe, model = fe_gfs(surface, strike, dip, top, length, width, (2, 1), size_fault, xy)
    pos = model.station_positions
    assert np.allclose(pos[:, 2], s0 + gx * xy[:, 0] + gy * xy[:, 1], atol=1e-6 * KM)
    R = rotation_to(np.array([-gx, -gy, 1.0]))
    ref = cutde_reference(corners, 2, 1, pos, R=R, origin=np.array([0, 0, s0]))
    per, whole = errors(fe, ref)
    # the tilt matters: the flat half-space (surface at the origin's depth) is clearly worse
    flat = cutde_reference(corners, 2, 1, np.column_stack([xy, np.full(len(xy), s0)]), origin=np.array([0, 0, s0]))
    per_flat, _ = errors(fe, flat)
    print(f"tilted surface: per subfault {per.max():.4f}, whole {whole.max():.4f}; flat reference {per_flat.max():.4f}")
    assert per.max() <= 0.06, per
    assert whole.max() <= 0.03, whole
    assert per_flat.max() > 2 * per.max()
