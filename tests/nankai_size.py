"""A fault of Nankai size against cutde, with no domain given (issue 12, SPEC 5): FE Green's
functions and their errors. Used by test_farfield.py (slow tier) and bench/farfield_nankai_size.py
(the element-size table).

The fault: a 300 x 100 km thrust (strike 0, dip 15, top 5 km deep), 6 x 2 subfaults of 50 x 50 km,
in a homogeneous half-space; the domain is sized by crustgf (farfield.auto_domain). Stations on the
surface (z = 0):

- near the fault: a grid every 10 km over the fault's map outline and 40 km around it, the
  arrangement of the flat-seafloor checks (test_surface.py: a grid over and around the fault);
- rings of 8 stations 30, 150, 250 and 400 km beyond the fault's map outline.

Near the fault the errors are relative L2 over the grid (whole fault; each subfault and component),
as in test_surface.py: an L2 over stations that sample a GF where it is large measures the error
of the GF. The 30 km ring alone is no such sample: its 8 stations all lie outside the subfaults'
near fields, so one shallow subfault's L2 over them is ~0.05 (its peak, above its up-dip edge, is
~0.5) and is decided by one station up dip of it (x = -21 to -30 km), where its horizontal GF
changes sign and |u| is ~3 % of the peak: an absolute error of ~1 % of the peak reads as 20-36 %.
The surface elements there are 13-26 km (longest edge) whatever mesh.size_fault (3-6 km), so that
error does not converge either (bench/results/farfield-nankai-size-20261203b.txt). Far away the
errors are per station (each station's displacement vector is far from zero there: 1.4 % at most at
4-6 km).
"""

from __future__ import annotations

import numpy as np

KM = 1e3
LENGTH, WIDTH, DIP, TOP = 300 * KM, 100 * KM, 15.0, 5 * KM
SUBFAULTS = (6, 2)
RINGS_KM = (30.0, 150.0, 250.0, 400.0)  # beyond the fault's map outline
GRID_MARGIN, GRID_STEP = 40 * KM, 10 * KM


def fault_corners() -> np.ndarray:
    from crustgf.geometry.frames import rectangle_corners

    return rectangle_corners([0, 0, -TOP], 0.0, DIP, LENGTH, WIDTH)


def stations(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) positions and (n,) ring distance in km (0 for the near-fault grid)."""
    lo, hi = corners[:, :2].min(axis=0) - GRID_MARGIN, corners[:, :2].max(axis=0) + GRID_MARGIN
    nx, ny = (np.round((hi - lo) / GRID_STEP).astype(int) + 1)
    X, Y = np.meshgrid(np.linspace(lo[0], hi[0], nx), np.linspace(lo[1], hi[1], ny))
    pos = [np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])]
    ring = [np.zeros(X.size)]
    centre = corners[:, :2].mean(axis=0)
    half = 0.5 * (corners[:, :2].max(axis=0) - corners[:, :2].min(axis=0))  # map half-extents
    for r in RINGS_KM:
        for a in np.deg2rad(np.arange(0.0, 360.0, 45.0)):
            d = np.array([np.sin(a), np.cos(a)])
            reach = np.min(np.abs(half / np.where(np.abs(d) > 1e-12, d, 1e-12)))  # to the outline
            pos.append(np.array([[*(centre + (reach + r * KM) * d), 0.0]]))
            ring.append([r])
    return np.vstack(pos), np.concatenate(ring)


def fe_vs_cutde(size_fault_km: float, size_max_km: float = 60.0):
    """FE and cutde GFs (n_st, 3, 12, 2), ring distances (km, 0: grid), the model's DOF, the domain."""
    from test_okada import MU, NU, RHO, cutde_rectangles

    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model, farfield

    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    corners = fault_corners()
    pos, ring = stations(corners)
    fault = RectangleFault((0.0, 0.0, TOP), 0.0, DIP, LENGTH, WIDTH, SUBFAULTS)
    big = 1e9
    domain = Domain((-big, big), (-big, big), big, None, auto=(True, True, True))
    domain = farfield.auto_domain(domain, domain.auto, farfield.source_points(fault), pos)
    cfg = Config(name="nankai-size", domain=domain, layers=[Layer("hs", domain.depth, vp, vs, RHO)],
                 fault=fault, stations=Stations([f"S{i}" for i in range(len(pos))], pos, None),
                 mesh=MeshOptions(2, size_fault_km * KM, size_max_km * KM), text="")
    model = build_model(cfg, progress=False)
    ns = SUBFAULTS[0] * SUBFAULTS[1]
    jobs = np.array([[s, c] for s in range(ns) for c in range(2)])
    fe = GreenSolver(model, method="auto").solve(jobs).displacement.reshape(len(pos), 3, ns, 2)
    ref = cutde_rectangles(corners, *SUBFAULTS, pos)
    return fe, ref, ring, model.n_dof, domain


def relative_l2(fe, ref, axis):
    return np.linalg.norm(fe - ref, axis=axis) / np.linalg.norm(ref, axis=axis)


def errors(fe, ref, ring) -> dict:
    """Near the fault (grid): relative L2 of the whole fault and of each subfault and component.
    Far (rings >= 150 km): each station's relative error, whole fault and each subfault.
    30 km ring: each station's whole-fault error relative to its own GF and to the ring's largest GF;
    and each subfault's relative L2 over the ring (the metric of the first version of this check)."""
    grid, far, near = ring == 0, ring >= 150, ring == RINGS_KM[0]
    fw, rw = fe.sum(axis=2), ref.sum(axis=2)
    peak = np.linalg.norm(rw[near], axis=1).max(axis=0)  # (2,) per slip component
    return {
        "grid_whole": float(relative_l2(fw[grid], rw[grid], (0, 1)).max()),
        "grid_subfault": relative_l2(fe[grid], ref[grid], (0, 1)),  # (12, 2)
        "far_whole": relative_l2(fw[far], rw[far], 1).max(axis=1),  # (n_far,)
        "far_subfault": relative_l2(fe[far], ref[far], 1).max(axis=(1, 2)),
        "far_ring": ring[far],
        "ring30_whole_rel": relative_l2(fw[near], rw[near], 1).max(axis=1),
        "ring30_whole_abs": (np.linalg.norm(fw[near] - rw[near], axis=1) / peak).max(axis=1),
        "ring30_subfault": relative_l2(fe[near], ref[near], (0, 1)),
    }
