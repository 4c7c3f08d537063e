"""How big must the clamped box be? Far-field error of the FE Green's functions against cutde.

    PYTHONPATH=. python bench/farfield.py [--out bench/results/farfield-20261203.txt]

One 20 km x 10 km subfault (top 5 km deep, dip 30 deg) in a homogeneous half-space; stations on
the surface at distances r = 25 ... 200 km from its centre (4 azimuths each); clamped boxes of
half-width = depth = L. Inside a core (the stations' box plus 30 km) the mesh is as usual
(size_fault 2.5 km, size_max 40 km); beyond it element sizes grow with distance (mesh/sizing.py
add_core_field), so large boxes cost few extra DOF. For each L the relative error of each
station's displacement vector (both slip components) against cutde is printed with r / L, to fit
err ~ C (r / L)^2 (a point source's clamped-boundary correction is ~ uniform near the source,
~ u(L) ~ 1/L^2, against u(r) ~ 1/r^2). The smallest r shows the discretisation floor.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

KM = 1e3


def run(L_km, radii, size_fault=2.5, size_max=40.0):
    from test_okada import MU, NU, RHO, cutde_rectangles

    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.geometry.frames import rectangle_corners
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    vs = np.sqrt(MU / RHO)
    vp = vs * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))
    az = np.deg2rad([20.0, 110.0, 200.0, 290.0])
    pos = np.array([[r * np.sin(a), r * np.cos(a), 0.0] for r in radii for a in az]) * KM
    rr = np.repeat(radii, len(az))
    keep = rr <= 0.8 * L_km
    pos, rr = pos[keep], rr[keep]
    half = float(np.abs(pos[:, :2]).max()) / KM + 30.0
    L = L_km * KM
    domain = Domain((-L, L), (-L, L), L, None, core=(-half * KM, half * KM, -half * KM, half * KM, min(L, half * KM)))
    fault = RectangleFault((0.0, 0.0, 5 * KM), 40.0, 30.0, 20 * KM, 10 * KM, (1, 1))
    cfg = Config(name="far", domain=domain, layers=[Layer("hs", L, vp, vs, RHO)], fault=fault,
                 stations=Stations([f"S{i}" for i in range(len(pos))], pos, None),
                 mesh=MeshOptions(2, size_fault * KM, size_max * KM), text="")
    t0 = time.perf_counter()
    model = build_model(cfg, progress=False)
    res = GreenSolver(model, method="auto").solve(np.array([[0, 0], [0, 1]]))
    dt = time.perf_counter() - t0
    fe = res.displacement.reshape(len(pos), 3, 2)
    corners = rectangle_corners([0, 0, -5 * KM], 40.0, 30.0, 20 * KM, 10 * KM)
    ref = cutde_rectangles(corners, 1, 1, pos)[:, :, 0, :]
    err = np.linalg.norm(fe - ref, axis=1) / np.linalg.norm(ref, axis=1)  # (n_st, 2)
    return rr, err.max(axis=1), model.n_dof, dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--boxes", default="250,500,1000,2000")
    a = ap.parse_args()
    radii = np.array([25.0, 50.0, 100.0, 200.0])
    lines = ["# far-field error of a clamped box of half-width = depth = L (one 20 x 10 km subfault, cutde reference)",
             "# L_km  ndof  time_s  r_km  r/L  max_rel_err_over_4_azimuths_and_2_components  C=err/(r/L)^2"]
    for L in (float(v) for v in a.boxes.split(",")):
        rr, err, ndof, dt = run(L, radii)
        for r in np.unique(rr):
            e = err[rr == r].max()
            lines.append(f"{L:7.0f} {ndof:8d} {dt:7.1f} {r:6.0f} {r / L:6.3f} {e:9.4f} {e / (r / L) ** 2:8.2f}")
            print(lines[-1], flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
