"""Fault traction Green's functions (SPEC 6) against cutde in a homogeneous half-space.

The FE receiver value and the cutde reference are the same functional of the stress field (the
disk-weighted mean of crustgf.greens.traction, see traction_reference.py); the FE source is the
tapered split-node slip, cutde's uniform slip on each subfault rectangle. The refinement table
(bench/traction_refinement.py) shows the error falling with the element size."""

from __future__ import annotations

import numpy as np
from fe_rectangle import KM, corners_of
from traction_reference import cutde_traction

MU, NU, RHO = 3.0e10, 0.25, 2700.0


def fe_traction(strike, dip, top, length, width, subfaults, size_fault, domain=60.0, size_max=20.0):
    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    cfg = Config(
        name="traction", domain=Domain((-domain * KM, domain * KM), (-domain * KM, domain * KM), domain * KM, None),
        layers=[Layer("half", domain * KM, vp, vs, RHO)],
        fault=RectangleFault((0.0, 0.0, top * KM), strike, dip, length * KM, width * KM, subfaults),
        stations=Stations(["A"], np.array([[30 * KM, 0.0, 0.0]]), None),
        mesh=MeshOptions(order=2, size_fault=size_fault * KM, size_max=size_max * KM), text="")
    model = build_model(cfg, progress=False)
    ns = model.n_subfaults
    jobs = np.array([(s, c) for s in range(ns) for c in (0, 1)])
    res = GreenSolver(model, method="direct", traction=True).solve(jobs)
    assert res.converged.all()
    fe = res.extras["greens_functions/traction"].reshape(ns, 3, ns, 2)
    ref = cutde_traction(model, corners_of(strike, dip, top, length, width), subfaults[0], subfaults[1], MU, NU)
    return fe, ref, model


def traction_errors(fe, ref):
    """(relative Frobenius error of the whole matrix, relative error of each self term (ns, 2))."""
    ns = fe.shape[0]
    self_fe = np.array([[fe[s, c, s, c] for c in (0, 1)] for s in range(ns)])
    self_ref = np.array([[ref[s, c, s, c] for c in (0, 1)] for s in range(ns)])
    return np.linalg.norm(fe - ref) / np.linalg.norm(ref), np.abs(self_fe / self_ref - 1)


def test_traction_matches_cutde_halfspace():
    """A 15 km x 6 km fault (strike 30, dip 45, top 2 km) in 3 x 1 subfaults, fault elements 0.5 km:
    whole matrix within 10 % (relative Frobenius), each self term within 20 %."""
    fe, ref, _ = fe_traction(30.0, 45.0, 2.0, 15.0, 6.0, (3, 1), 0.5)
    frob, self_err = traction_errors(fe, ref)
    assert frob < 0.10, frob
    assert self_err.max() < 0.20, self_err
    # SPEC 6 signs: own slip lowers own shear traction; cutde agrees on every sign that matters
    ns = fe.shape[0]
    assert all(fe[s, c, s, c] < 0 for s in range(ns) for c in (0, 1))
    big = np.abs(ref) > 0.05 * np.abs(ref).max()
    assert np.all(np.sign(fe[big]) == np.sign(ref[big]))


def test_traction_signs_by_hand():
    """Vertical fault, two subfaults along strike: slip on one subfault lowers its own shear
    traction in its slip direction and raises it on the neighbour beyond its edge (stress
    concentration), for strike-slip (mode II across the shared edge) and dip-slip (mode III)."""
    fe, ref, _ = fe_traction(0.0, 90.0, 1.0, 12.0, 6.0, (2, 1), 1.0, domain=40.0)
    assert fe[0, 0, 0, 0] < 0 and fe[1, 0, 1, 0] < 0  # own slip unloads
    assert fe[1, 0, 0, 0] > 0 and fe[0, 0, 1, 0] > 0  # the neighbour along strike is loaded
    assert fe[1, 1, 0, 1] > 0  # same for dip-slip (mode III across the shared edge)
    assert np.sign(fe[1, 0, 0, 0]) == np.sign(ref[1, 0, 0, 0])
