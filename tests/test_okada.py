"""Homogeneous half-space reference: FE Green's functions against triangular dislocations (cutde).

cutde.halfspace.disp_matrix (Nikkhoo & Walter 2015) gives the displacement per unit slip of a
triangle in the triangle's own frame: normal n = (p1-p0) x (p2-p0), strike = e_z x n,
dip = n x strike, slip = motion of the +n side. With n pointing into the hanging wall (as in the
model's fault cells) that is SPEC's strike vector and SPEC's reverse (up-dip) direction, so cutde's
(strike-slip, dip-slip) = SPEC's; test_cutde_sign_convention checks it by hand. Each subfault
rectangle is two triangles with uniform unit slip. The FE slip tapers to zero across one element
row at buried edges (same potency), so the error falls with the element size.
"""

import numpy as np
import pytest
from fe_rectangle import KM, corners_of, fe_rectangle_gfs, rectangle_triangles, relative_errors, surface_grid

from crustgf.geometry.frames import normal_vector, rectangle_corners

MU, NU, RHO = 3.0e10, 0.25, 2700.0


def cutde_rectangles(corners, n_strike, n_dip, positions, nu=NU):
    """(n_st, 3, n_subfaults, 2) half-space displacement, subfault j = i_dip * n_strike + i_strike."""
    import cutde.halfspace as hs

    tris = rectangle_triangles(corners, n_strike, n_dip)  # oriented into the hanging wall
    m = hs.disp_matrix(np.asarray(positions, float), np.array(tris), nu)  # (n_st, 3, n_tri, 3)
    return m[:, :, :, :2].reshape(len(positions), 3, n_strike * n_dip, 2, 2).sum(axis=3)


def test_cutde_sign_convention():
    """Hand case: a vertical fault (strike 0: normal +x) reaching the surface. Left-lateral slip
    moves the east (hanging) side north; reverse slip lifts it. Near the trace the surface moves by
    about half the slip."""
    corners = rectangle_corners([0, 0, 0], 0.0, 90.0, 20 * KM, 10 * KM)
    assert np.allclose(normal_vector(0.0, 90.0), [1, 0, 0])
    u = cutde_rectangles(corners, 1, 1, [[100.0, 0, 0], [-100.0, 0, 0]])[:, :, 0, :]
    assert 0.4 < u[0, 1, 0] < 0.5 and -0.5 < u[1, 1, 0] < -0.4  # strike-slip: +north east of it
    assert 0.4 < u[0, 2, 1] < 0.5 and -0.5 < u[1, 2, 1] < -0.4  # reverse: east side up


def fe_vs_cutde(strike, dip, top, length, width, subfaults, size_fault, domain=120.0, size_max=25.0, order=2):
    """Relative L2 errors (per subfault and component, and overall) of the FE GFs at surface stations
    on a grid of +-3 fault lengths, leaving out stations within one element of a surface trace."""
    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    corners = corners_of(strike, dip, top, length, width)
    pos = surface_grid(3 * length * KM, 21, corners, trace_gap=size_fault * KM)
    fe, res, model = fe_rectangle_gfs([("halfspace", domain * KM, vp, vs, RHO)], strike, dip, top, length,
                                      width, subfaults, size_fault, pos, domain, size_max, order)
    ref = cutde_rectangles(corners, subfaults[0], subfaults[1], pos)
    err, total = relative_errors(fe, ref)
    return err, total, model.n_dof, res


@pytest.mark.parametrize("strike,dip,top", [(30.0, 45.0, 2.0), (120.0, 90.0, 0.0)])
def test_halfspace_coarse(strike, dip, top):
    """Coarse (size_fault = width / 4) version of the slow convergence table: within 12 %."""
    err, total, _, res = fe_vs_cutde(strike, dip, top, 10.0, 5.0, (2, 1), 1.25, domain=60.0, size_max=20.0)
    assert res.converged.all()
    assert err.max() < 0.12, err


CASES = [  # strike, dip, top depth (km), both components, 2 x 1 subfaults of a 10 km x 5 km fault
    (30.0, 45.0, 2.0),
    (120.0, 90.0, 0.0),  # vertical, reaching the surface
    (250.0, 20.0, 5.0),  # shallow, deeper
    (0.0, 60.0, 0.0),  # dipping, reaching the surface
]


@pytest.mark.slow
@pytest.mark.parametrize("strike,dip,top", CASES)
def test_halfspace_convergence(strike, dip, top):
    """The error falls under refinement and is <= 3 % at size_fault = width / 20; doubling the
    domain (120 -> 240 km half-width for a 10 km fault) changes the error little."""
    rows = []
    for n in (5, 10, 20):
        err, total, ndof, _ = fe_vs_cutde(strike, dip, top, 10.0, 5.0, (2, 1), 5.0 / n)
        rows.append((n, ndof, err.max(), total))
        print(f"strike {strike} dip {dip} top {top}: width/{n} ndof {ndof} max err {err.max():.4f} total {total:.4f}")
    errs = [r[2] for r in rows]
    assert errs[2] <= 0.03 and errs[2] < errs[1] < errs[0]
    err_big, _, ndof, _ = fe_vs_cutde(strike, dip, top, 10.0, 5.0, (2, 1), 0.5, domain=240.0, size_max=40.0)
    print(f"  domain 240 km, width/10: ndof {ndof} max err {err_big.max():.4f}")
    assert abs(err_big.max() - rows[1][2]) < 0.01
