"""CPU multigrid variants on one model's real GF right-hand sides: initial guesses from earlier
solutions (Galerkin projection, crustgf/solvers/initial_guess.py) on/off, and the preconditioner
in float32 (default) or float64. Prints CG iterations (mean, max), solve time and time per GF.

    python bench/initial_guess.py MODEL.h5 [--gfs 64] [--batch 16] [--out FILE]

The jobs are solved in subfault order in blocks of --batch, as `crustgf solve` sends them, so the
guess of block i comes from blocks 0..i-1 (the first block has none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {  # name: CpuMultigrid options
    "float32": {},
    "float32+guess": {"recycle": 64},
    "float64": {"low_precision": False},
}


def main(argv=None):
    from crustgf.greens import operator as greens
    from crustgf.io.modelfile import read_model
    from crustgf.solvers.cpu.multigrid import CpuMultigrid

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--gfs", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    model = read_model(a.model)
    g = greens.GreenSolver(model, backend="cpu", method="multigrid", batch=a.batch)
    jobs = np.array([[s, c] for s in range(model.n_subfaults) for c in range(2)])[: a.gfs]
    lines = [f"# {time.strftime('%Y-%m-%d %H:%M')} {Path(a.model).name}: {model.n_dof} dofs, {len(jobs)} GFs in "
             f"blocks of {a.batch}, rtol 1e-8, {os.cpu_count()} cores (shared machine: times are noisy)"]
    print(lines[0], flush=True)
    ref = None
    for name in a.variants.split(","):
        g.solver = None
        t0 = time.perf_counter()
        g.solver = CpuMultigrid.from_problem(g.problem, rtol=1e-8, **VARIANTS[name])
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = g.solve(jobs)
        sec = time.perf_counter() - t0
        its = res.iterations.reshape(-1, a.batch) if len(jobs) % a.batch == 0 else res.iterations[None]
        u = res.displacement
        diff = "" if ref is None else f"  GFs vs float32 {np.abs(u - ref).max() / np.abs(ref).max():.1e}"
        ref = u if ref is None else ref
        lines.append(f"{name:<14} setup {setup:6.1f} s  solve {sec:7.1f} s  per GF {sec / len(jobs):6.2f} s  "
                     f"iterations mean {res.iterations.mean():5.1f} max {res.iterations.max():3d}  "
                     f"per block {' '.join(str(int(b.max())) for b in its)}  max res {res.residual.max():.1e}{diff}")
        print(lines[-1], flush=True)
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
