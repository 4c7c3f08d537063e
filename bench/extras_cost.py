"""Cost of the SPEC 6 extras: one GF set with and without fault tractions and sensitivity kernels.

Same model for every case (mesher, TET10, two flat layers, a 20 km x 10 km thrust in 4 x 2
subfaults, 16 right-hand sides), CPU direct solver. Cases: plain, traction, sensitivity of both
layers (mu and lambda: 4 more solves per job), both. Prints setup (assembly, factorisation, the
extras' operators) and solve seconds; `--out` writes the table and a PNG beside it.
Timings on a shared machine are noisy: compare the ratios.

    python bench/extras_cost.py [--size-fault 1.0] [--out bench/results/extras-cost-20261203.txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KM = 1e3
CASES = {"plain": {}, "traction": {"traction": True}, "sensitivity": {"sensitivity": "all"},
         "both": {"traction": True, "sensitivity": "all"}}


def make_model(size_fault):
    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.mesh import build_model

    x = np.linspace(-40, 40, 9) * KM
    X, Y = np.meshgrid(x, x)
    pos = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    cfg = Config(
        name="cost", domain=Domain((-100 * KM, 100 * KM), (-100 * KM, 100 * KM), 80 * KM, None),
        layers=[Layer("crust", 15 * KM, 6000.0, 3500.0, 2700.0), Layer("mantle", 80 * KM, 8000.0, 4500.0, 3300.0)],
        fault=RectangleFault((0.0, 0.0, 2 * KM), 20.0, 30.0, 20 * KM, 10 * KM, (4, 2)),
        stations=Stations([f"S{i}" for i in range(len(pos))], pos, None),
        mesh=MeshOptions(order=2, size_fault=size_fault * KM, size_max=30 * KM), text="")
    return build_model(cfg, progress=False)


def main(argv=None):
    from crustgf.greens.operator import GreenSolver

    ap = argparse.ArgumentParser()
    ap.add_argument("--size-fault", type=float, default=1.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    model = make_model(a.size_fault)
    jobs = np.array([(s, c) for s in range(model.n_subfaults) for c in (0, 1)])
    GreenSolver(model, method="direct", traction=True, sensitivity="all").solve(jobs[:2])  # compile
    lines = [f"# extras cost: {3 * len(model.nodes)} dofs, {len(model.cells)} TET10, {len(jobs)} GFs, direct solver",
             "# case  setup_s  solve_s  total_s  total/plain"]
    times = {}
    for name, kw in CASES.items():
        t0 = time.perf_counter()
        g = GreenSolver(model, method="direct", **kw)
        t1 = time.perf_counter()
        res = g.solve(jobs)
        t2 = time.perf_counter()
        assert res.converged.all()
        g.release()
        times[name] = (t1 - t0, t2 - t1)
        total = t2 - t0
        lines.append(f"{name:12s} {t1 - t0:7.2f}  {t2 - t1:7.2f}  {total:7.2f}  {total / sum(times['plain']):5.2f}")
        print(lines[-1], flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")
        figure(Path(a.out).with_suffix(".png"), times, lines[0][2:])


def figure(path, times, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(times)
    setup = [times[n][0] for n in names]
    solve = [times[n][1] for n in names]
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    ax.bar(names, setup, label="setup (assembly, factor, extra operators)")
    ax.bar(names, solve, bottom=setup, label="solves")
    ax.set_ylabel("seconds")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
