"""The far field (SPEC 5): an omitted domain is sized so that the clamped boundary does not bias
the stations; a given box too small for that gets a one-line warning with the estimated error."""

from __future__ import annotations

import numpy as np
import pytest
from test_config import DELETE, base_config, edit, write_config

from crustgf.config.load import load_config
from crustgf.mesh import farfield


def test_omitted_domain_is_sized_for_one_percent(tmp_path):
    cfg = base_config()
    for k in ("domain.x", "domain.y", "domain.depth", "layers[1].bottom"):
        edit(cfg, k, DELETE)
    c = load_config(write_config(tmp_path, cfg))
    d = c.domain
    assert d.auto == (True, True, True) and d.core is not None
    src = farfield.source_points(c.fault)
    est, _ = farfield.boundary_error(d, src, c.stations.positions)
    assert est <= farfield.TARGET * (1 + 1e-9)
    assert c.layers[-1].bottom == d.depth and d.depth > 10 * 30e3
    assert not [w for w in c.warnings if w.startswith("domain:")]


def test_small_given_domain_warns(tmp_path):
    c = load_config(write_config(tmp_path, base_config()))  # +-50 km box, stations 20-30 km away
    w = [w for w in c.warnings if w.startswith("domain:")]
    assert len(w) == 1 and "%" in w[0] and "omit domain.x" in w[0]
    cfg = base_config()
    edit(cfg, "domain.depth", 200.0)
    edit(cfg, "layers[1].bottom", 200.0)
    edit(cfg, "domain.x", [-20000.0, 20000.0])
    edit(cfg, "domain.y", [-20000.0, 20000.0])
    edit(cfg, "domain.depth", 20000.0)
    edit(cfg, "layers[1].bottom", 20000.0)
    big = load_config(write_config(tmp_path / "big", cfg))
    assert not [w for w in big.warnings if w.startswith("domain:")]


def _fe_vs_cutde(domain_km=None):
    """One 10 x 5 km subfault; surface stations 8 and 40 km from it; relative error per station."""
    from test_okada import MU, NU, RHO, cutde_rectangles

    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.geometry.frames import rectangle_corners
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    KM = 1e3
    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    az = np.deg2rad([30.0, 120.0, 210.0, 300.0])
    pos = np.array([[r * np.sin(a), r * np.cos(a), 0.0] for r in (8.0, 40.0) for a in az]) * KM
    fault = RectangleFault((0.0, 0.0, 2 * KM), 30.0, 45.0, 10 * KM, 5 * KM, (1, 1))
    big = 1e9
    domain = Domain((-big, big), (-big, big), big, None, auto=(True, True, True))
    if domain_km is not None:
        L = domain_km * KM
        domain = Domain((-L, L), (-L, L), L, None)
    else:
        domain = farfield.auto_domain(domain, domain.auto, farfield.source_points(fault), pos)
    cfg = Config(name="far", domain=domain, layers=[Layer("hs", domain.depth, vp, vs, RHO)], fault=fault,
                 stations=Stations([f"S{i}" for i in range(len(pos))], pos, None),
                 mesh=MeshOptions(2, 1.0 * KM, 10 * KM), text="")
    model = build_model(cfg, progress=False)
    res = GreenSolver(model, method="auto").solve(np.array([[0, 0], [0, 1]]))
    fe = res.displacement.reshape(len(pos), 3, 2)
    ref = cutde_rectangles(rectangle_corners([0, 0, -2 * KM], 30.0, 45.0, 10 * KM, 5 * KM), 1, 1, pos)[:, :, 0, :]
    err = (np.linalg.norm(fe - ref, axis=1) / np.linalg.norm(ref, axis=1)).max(axis=1)
    return err[:4].max(), err[4:].max(), model.n_dof


def test_sized_domain_matches_the_halfspace_far_away():
    """Stations 40 km from a 10 km subfault: the sized box (~630 km) is within 5 % of cutde there,
    as near the fault; a box of 80 km (the stations at half its half-width) is far off."""
    near, far, ndof = _fe_vs_cutde()
    print(f"sized box: near {near:.4f}, far {far:.4f}, {ndof} DOF")
    assert near <= 0.05 and far <= 0.05
    _, far_small, ndof_small = _fe_vs_cutde(80.0)
    print(f"80 km box: far {far_small:.4f}, {ndof_small} DOF")
    assert far_small > 0.15


@pytest.mark.slow
def test_nankai_size_fault_with_no_domain_given():
    """Issue 12 at Nankai scale (tests/nankai_size.py): a 300 x 100 km thrust (6 x 2 subfaults of
    50 km, top 5 km deep), no domain given. Near the fault the thresholds of the flat-seafloor checks
    with their metric (relative L2 over a station grid over and around the fault): whole fault <= 3 %,
    each subfault and component <= 6 %; stations 150-400 km beyond the fault within 5 % of cutde.

    Element size: 4 km (subfault width / 12.5). The near-fault error is the discretisation error,
    largest for the shallow subfaults, whose up-dip edge lies ~1 element under the surface. Over the
    grid, at 8 / 6 / 5 / 4 / 3 km: worst shallow subfault 10.2 / 5.9 / 5.3 / 3.5 / 2.3 %, worst deep
    one 3.2 / 1.9 / 1.5 / 1.1 / 0.7 %, whole fault 5.6 / 3.1 / 2.8 / 1.5 / 1.1 %, so 6 km fails
    (whole fault) and 4 km passes with margin (bench/results/farfield-nankai-size-20261203b.txt).
    The first version of this check judged each subfault by its L2 over the ring stations: 10.6 % at
    6 km; over the 30 km ring 9.3 / 10.9 / 4.2 / 2.0 / 8.0 %, no convergence, because those stations
    lie outside every subfault's near field and one station near a sign change of the GF decides it
    (tests/nankai_size.py). It is printed, not asserted; so is the 30 km ring's worst whole-fault
    station (30 % at 6 km: |u| there is 5 % of the ring's largest, the error 1.5 % of that).
    """
    from nankai_size import errors, fe_vs_cutde

    fe, ref, ring, ndof, domain = fe_vs_cutde(4.0)
    e = errors(fe, ref, ring)
    for r in np.unique(e["far_ring"]):
        m = e["far_ring"] == r
        print(f"stations {r:3.0f} km from the fault: worst station, whole fault {e['far_whole'][m].max():.4f}, "
              f"one subfault {e['far_subfault'][m].max():.4f}")
    print("stations  30 km from the fault, whole fault, relative to the station's GF:",
          np.round(e["ring30_whole_rel"], 4), "to the ring's largest GF:", np.round(e["ring30_whole_abs"], 4))
    print(f"near-fault grid: whole fault {e['grid_whole']:.4f}, worst subfault {e['grid_subfault'].max():.4f}; "
          f"30 km ring, worst subfault L2 {e['ring30_subfault'].max():.4f} (not asserted); {ndof} DOF; box "
          f"half-width {(domain.x[1] - domain.x[0]) / 2e3:.0f} km, depth {domain.depth / 1e3:.0f} km")
    assert e["grid_whole"] <= 0.03
    assert e["grid_subfault"].max() <= 0.06, e["grid_subfault"]
    assert e["far_whole"].max() <= 0.05 and e["far_subfault"].max() <= 0.05
