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


def _nankai_size_fe_vs_cutde(size_fault_km=6.0):
    """A 300 x 100 km thrust (dip 15, top 5 km, 6 x 2 subfaults) with no domain given; stations on
    rings 30-400 km from the fault's outline. Relative error of each station's whole-fault GF
    (both slip components) and of each subfault's, against cutde."""
    from test_okada import MU, NU, RHO, cutde_rectangles

    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.geometry.frames import rectangle_corners
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    KM = 1e3
    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    length, width, dip, top = 300 * KM, 100 * KM, 15.0, 5 * KM
    corners = rectangle_corners([0, 0, -top], 0.0, dip, length, width)
    centre = corners[:, :2].mean(axis=0)
    rings = (30.0, 150.0, 250.0, 400.0)  # km beyond the fault's map outline (half-extents ~49 x 150 km)
    half = np.array([0.5 * width * np.cos(np.radians(dip)), 0.5 * length])
    pos, dist = [], []
    for r in rings:
        for a in np.deg2rad(np.arange(0.0, 360.0, 45.0)):
            d = np.array([np.sin(a), np.cos(a)])
            reach = np.min(np.abs(half / np.where(np.abs(d) > 1e-12, d, 1e-12)))  # to the outline
            pos.append([*(centre + (reach + r * KM) * d), 0.0])
            dist.append(r)
    pos, dist = np.array(pos), np.array(dist)
    fault = RectangleFault((0.0, 0.0, top), 0.0, dip, length, width, (6, 2))
    big = 1e9
    domain = Domain((-big, big), (-big, big), big, None, auto=(True, True, True))
    domain = farfield.auto_domain(domain, domain.auto, farfield.source_points(fault), pos)
    cfg = Config(name="nankai-size", domain=domain, layers=[Layer("hs", domain.depth, vp, vs, RHO)],
                 fault=fault, stations=Stations([f"S{i}" for i in range(len(pos))], pos, None),
                 mesh=MeshOptions(2, size_fault_km * KM, 60 * KM), text="")
    model = build_model(cfg, progress=False)
    jobs = np.array([[s, c] for s in range(12) for c in range(2)])
    fe = GreenSolver(model, method="auto").solve(jobs).displacement.reshape(len(pos), 3, 12, 2)
    ref = cutde_rectangles(corners, 6, 2, pos)
    fw, rw = fe.sum(axis=2), ref.sum(axis=2)  # whole fault: (n_stations, 3, 2)
    whole = (np.linalg.norm(fw - rw, axis=1) / np.linalg.norm(rw, axis=1)).max(axis=1)  # per station
    near = dist < 150
    whole_near = np.linalg.norm(fw[near] - rw[near]) / np.linalg.norm(rw[near])  # over the near stations
    per = np.linalg.norm(fe - ref, axis=(0, 1)) / np.linalg.norm(ref, axis=(0, 1))  # over all stations
    return dist, whole, whole_near, per, model.n_dof, domain


@pytest.mark.slow
def test_nankai_size_fault_with_no_domain_given():
    """SPEC 5's far-field promise at Nankai scale: with no domain given, stations 150-400 km from a
    300 km fault are within 5 % of the half-space (cutde), and near the fault the errors are those
    of the element size (relative L2 of the whole fault over the near stations <= 3 %). Each
    subfault's error is printed, not asserted: 10.6 % at 6 km elements on 50 km subfaults (12 GFs, no
    domain error in it: the whole fault's is 1.4 %), above the 6 % the flat-seafloor checks meet at
    width/10 (bench/results/farfield-nankai-size-20261203.txt)."""
    dist, whole, whole_near, per, ndof, domain = _nankai_size_fe_vs_cutde()
    for r in np.unique(dist):
        print(f"stations {r:5.0f} km from the fault: whole-fault GF error, worst station {whole[dist == r].max():.4f}")
    print(f"near stations, whole fault {whole_near:.4f}; worst subfault {per.max():.4f}; {ndof} DOF; box "
          f"half-width {(domain.x[1] - domain.x[0]) / 2e3:.0f} km, depth {domain.depth / 1e3:.0f} km")
    assert whole[dist >= 150].max() <= 0.05
    assert whole_near <= 0.03
