"""Layered half-space reference: FE Green's functions against EDGRN/EDCMP (Wang et al. 2003), a
wavenumber-integration code no one here wrote (binaries from the pygrnwang wheel; driver in
edgrn_reference.py).

The model is a soft 4 km upper layer over a stiffer half-space (shear moduli 0.92e10 and 3.6e10 Pa,
Poisson's ratios 0.31 and 0.25);
the faults cross the interface or lie below it. Before trusting the layered mode, the driver's
reading of EDCMP's frame, reference corner and rake is checked against cutde on EDCMP's homogeneous
(Okada) mode, and EDGRN's layered machinery on a "layered" model whose layers are all the same.
"""

import numpy as np
import pytest
from edgrn_reference import edcmp_displacement, layered_greens_functions, subfault_sources
from fe_rectangle import KM, corners_of, fe_rectangle_gfs, relative_errors, surface_grid
from test_okada import cutde_rectangles

MU, NU, RHO = 3.0e10, 0.25, 2700.0
VS = np.sqrt(MU / RHO)
VP = VS * np.sqrt(3.0)
# (name, bottom m, vp, vs, density): the last layer's bottom is the FE box depth
LAYERS = [("soft", 4.0 * KM, 3800.0, 2000.0, 2300.0), ("stiff", 1e6, 6200.0, 3600.0, 2800.0)]


def _edgrn_layers():
    return [(bottom, vp, vs, rho) for _, bottom, vp, vs, rho in LAYERS]


def test_edcmp_conventions_match_cutde(tmp_path):
    """EDCMP's homogeneous mode (Okada) read through the driver equals cutde to 1e-6 for both slip
    components of a split fault: frame, top-start corner, rake, and SPEC's signs agree. EDGRN's
    layered tables for a uniform model equal it to 1 %."""
    strike, dip, top = 30.0, 45.0, 2.0
    corners = corners_of(strike, dip, top, 10.0, 5.0)
    pos = surface_grid(30 * KM, 9)
    ref = cutde_rectangles(corners, 2, 1, pos, nu=NU)
    lam = RHO * VP**2 - 2 * MU
    for comp, rake in ((0, 0.0), (1, 90.0)):
        rows = subfault_sources((0, 0, -top * KM), strike, dip, 10 * KM, 5 * KM, 2, 1, rake)
        for j, row in enumerate(rows):
            u = edcmp_displacement(None, [row], pos[:, :2], tmp_path / "hs", lam_mu=(lam, MU))
            assert np.linalg.norm(u - ref[:, :, j, comp]) <= 1e-6 * np.linalg.norm(ref[:, :, j, comp])
    uniform = [(4.0 * KM, VP, VS, RHO), (1e6, VP, VS, RHO)]
    g = layered_greens_functions(uniform, (0, 0, -top * KM), strike, dip, 10 * KM, 5 * KM, (2, 1),
                                 pos[:, :2], tmp_path / "uniform")
    err, _ = relative_errors(g, ref)
    assert err.max() < 0.01, err


def fe_vs_edgrn(strike, dip, top, size_fault, work, domain=120.0, size_max=25.0):
    """Per-(subfault, component) and overall relative L2 errors of the layered FE GFs against
    EDGRN/EDCMP on a grid of +-3 fault lengths; also the error a homogeneous model of the upper or
    lower layer would make (how much the layering matters)."""
    length, width, subfaults = 10.0, 5.0, (2, 1)
    pos = surface_grid(3 * length * KM, 21)
    fe, res, model = fe_rectangle_gfs(LAYERS, strike, dip, top, length, width, subfaults, size_fault, pos,
                                      domain, size_max)
    assert res.converged.all()
    ref = layered_greens_functions(_edgrn_layers(), (0, 0, -top * KM), strike, dip, length * KM, width * KM,
                                   subfaults, pos[:, :2], work)
    err, total = relative_errors(fe, ref)
    homogeneous = []
    for _, _, vp, vs, _rho in LAYERS:
        nu = (vp**2 - 2 * vs**2) / (2 * (vp**2 - vs**2))
        hs = cutde_rectangles(corners_of(strike, dip, top, length, width), *subfaults, pos, nu=nu)
        homogeneous.append(relative_errors(hs, ref)[1])
    return err, total, model.n_dof, homogeneous


CASES = [  # strike, dip, top depth (km): a 10 x 5 km fault in 2 x 1 subfaults
    (30.0, 45.0, 2.0),  # crosses the interface at 4 km
    (250.0, 20.0, 5.0),  # shallow dip, entirely in the stiff half-space under the soft layer
]


def test_layered_coarse(tmp_path):
    """Coarse (size_fault = width / 5): within 7 %, and well under the 15 % that a homogeneous
    half-space of either layer's rock is off by (the layering matters at this level: the test
    can tell a layered answer from a homogeneous one)."""
    err, total, _, homogeneous = fe_vs_edgrn(*CASES[0], 1.0, tmp_path)
    assert err.max() < 0.07, err
    assert min(homogeneous) > 2.5 * err.max(), (homogeneous, err)


@pytest.mark.slow
@pytest.mark.parametrize("strike,dip,top", CASES)
def test_layered_convergence(strike, dip, top, tmp_path):
    """The error falls under refinement and is <= 3 % at size_fault = width / 20."""
    rows = []
    for n in (5, 10, 20):
        err, total, ndof, homogeneous = fe_vs_edgrn(strike, dip, top, 5.0 / n, tmp_path / f"n{n}")
        rows.append(err.max())
        print(f"layered strike {strike} dip {dip} top {top}: width/{n} ndof {ndof} max err {err.max():.4f} "
              f"total {total:.4f} (homogeneous soft/stiff: {homogeneous[0]:.3f}/{homogeneous[1]:.3f})")
    assert rows[2] <= 0.03 and rows[2] < rows[1] < rows[0]
