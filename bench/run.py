"""CPU Green's-function benchmark (`make bench`): the auto method vs the PyLith approach.

Two TET10 models from the mesher (a 40 km x 20 km thrust, 8 x 4 subfaults: 64 right-hand sides),
about 300k and 1M dofs. For each model, in separate processes (so peak memory is per method):
  auto    GreenSolver(method="auto"): PARDISO factor + block solves, or AMG block CG (large models)
  pylith  the PyLith approach: one AMG-preconditioned CG per right-hand side, the same hierarchy
          built once, same rtol; timed on a few right-hand sides and extrapolated to all 64.
Prints setup time, time per GF, dof*GF/s and peak RSS; `--out FILE` also writes them there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KM = 1e3
CASES = {"300k": 0.85, "1M": 0.42}  # size_fault (km) giving about 300k / 1M dofs


def make_model(size_fault_km: float):
    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.mesh import build_model

    x = np.linspace(-80, 80, 17) * KM
    X, Y = np.meshgrid(x, x)
    pos = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    cfg = Config(
        name="bench",
        domain=Domain((-200 * KM, 200 * KM), (-200 * KM, 200 * KM), 150 * KM, None),
        layers=[Layer("crust", 20 * KM, 6000.0, 3500.0, 2700.0), Layer("mantle", 150 * KM, 8000.0, 4500.0, 3300.0)],
        fault=RectangleFault((0.0, 0.0, 3 * KM), 20.0, 30.0, 40 * KM, 20 * KM, (8, 4)),
        stations=Stations([f"S{i}" for i in range(len(pos))], pos, None),
        mesh=MeshOptions(order=2, size_fault=size_fault_km * KM, size_max=40 * KM),
        text="",
    )
    return build_model(cfg, progress=False)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_one(case: str, method: str, n_pylith: int, batch: int) -> dict:
    from crustgf.greens.operator import GreenSolver
    from crustgf.solvers.cpu.amg import AmgBlockCG

    model = make_model(CASES[case])
    jobs = np.array([[s, c] for s in range(model.n_subfaults) for c in range(2)])
    t0 = time.perf_counter()
    g = GreenSolver(model, backend="cpu", method="auto" if method == "auto" else "amg-cg", rtol=1e-8, batch=batch)
    setup = time.perf_counter() - t0
    out = dict(case=case, method=method, n_dof=int(model.n_dof), n_free=int(len(g.problem.free_dofs)),
               n_gf=len(jobs), setup_s=setup, solver=type(g.solver).__name__)
    if method == "auto":
        t0 = time.perf_counter()
        res = g.solve(jobs)
        solve = time.perf_counter() - t0
        out.update(solve_s=solve, timed_gf=len(jobs), max_residual=float(res.residual.max()),
                   iterations=int(res.iterations.max()))
    else:  # PyLith approach: one CG per right-hand side with the same AMG preconditioner
        assert isinstance(g.solver, AmgBlockCG)
        sub = jobs[:: max(1, len(jobs) // n_pylith)][:n_pylith]
        t0 = time.perf_counter()
        its, resid = [], []
        for job in sub:
            B, D = g.rhs(job[None, :])
            X, r, it = g.solver.solve(B)
            _ = g.station_interp @ X + g.station_jump @ D
            its.append(int(it[0]))
            resid.append(float(r[0]))
        timed = time.perf_counter() - t0
        out.update(solve_s=timed * len(jobs) / len(sub), timed_gf=len(sub), max_residual=max(resid),
                   iterations=max(its), extrapolated=True)
    out["per_gf_s"] = (out["setup_s"] + out["solve_s"]) / len(jobs)
    out["dof_gf_per_s"] = out["n_dof"] * len(jobs) / (out["setup_s"] + out["solve_s"])
    out["peak_rss_gb"] = peak_rss_gb()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="300k,1M")
    ap.add_argument("--pylith-rhs", type=int, default=4, help="right-hand sides timed for the PyLith approach")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=None)
    ap.add_argument("--one", nargs=2, metavar=("CASE", "METHOD"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print("RESULT " + json.dumps(run_one(a.one[0], a.one[1], a.pylith_rhs, a.batch)), flush=True)
        return
    lines = [f"crustgf CPU benchmark {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
             "TET10, 64 GFs (32 subfaults x 2), rtol 1e-8, two-layer model"]
    results = {}
    for case in a.cases.split(","):
        for method in ("auto", "pylith"):
            cmd = [sys.executable, __file__, "--one", case, method, "--pylith-rhs", str(a.pylith_rhs),
                   "--batch", str(a.batch)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            found = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
            if p.returncode or not found:
                lines.append(f"{case} {method}: FAILED\n{p.stderr[-2000:]}")
                print(lines[-1], flush=True)
                continue
            r = json.loads(found[0][7:])
            results[(case, method)] = r
            note = f" (timed {r['timed_gf']} RHS, extrapolated)" if r.get("extrapolated") else ""
            lines.append(
                f"{case:>4} {method:<6} {r['solver']:<14} dofs {r['n_dof']:>8} setup {r['setup_s']:7.1f} s  "
                f"solve {r['solve_s']:8.1f} s{note}  per GF {r['per_gf_s']:6.2f} s  "
                f"dof*GF/s {r['dof_gf_per_s']:.3g}  peak {r['peak_rss_gb']:.1f} GB  "
                f"max it {r['iterations']}  max res {r['max_residual']:.1e}"
            )
            print(lines[-1], flush=True)
        if (case, "auto") in results and (case, "pylith") in results:
            s = results[(case, "pylith")]["per_gf_s"] / results[(case, "auto")]["per_gf_s"]
            lines.append(f"{case:>4} speed-up of auto over the PyLith approach: {s:.1f}x")
            print(lines[-1], flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
