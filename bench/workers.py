"""Speed-up of local worker processes (`crustgf solve --workers N`) on the CPU benchmark model.

Writes the ~300k-dof model of bench/run.py (TET10, 32 subfaults: 64 GFs) to a model file, then
solves it with `solve_greens_functions` in-process (the default), with 1 local worker and with 2,
each from scratch into a fresh output (operator build and factorisation included: that is what a
user waits for), and checks that all runs give the same Green's functions.

    python bench/workers.py [--case 300k] [--workers 1,2] [--batch 16] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    from run import CASES, make_model

    from crustgf.greens.run import solve_greens_functions
    from crustgf.io.modelfile import write_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="300k", choices=sorted(CASES))
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crustgf-bench-workers-"))
    model = make_model(CASES[a.case])
    model_path = folder / "model.h5"
    write_model(model, model_path)
    lines = [f"crustgf worker benchmark {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
             f"{a.case} model: {model.n_dof} dofs, {2 * model.n_subfaults} GFs, batch {a.batch}, rtol 1e-8"]
    print(lines[0], flush=True)
    runs = [("in-process", None)] + [(f"{n} worker(s)", int(n)) for n in a.workers.split(",")]
    times, ref = {}, None
    for label, n in runs:
        out = folder / f"gf-{n}.h5"
        options = {"batch": a.batch, "backend": "cpu"} | ({} if n is None else {"workers": n})
        t0 = time.perf_counter()
        status = solve_greens_functions(model_path, out, options, progress=False)
        times[label] = time.perf_counter() - t0
        with h5py.File(out) as f:
            g = f["greens_functions/displacement"][...]
        ref = g if ref is None else ref
        diff = np.nanmax(np.abs(g - ref)) / np.nanmax(np.abs(ref))
        lines.append(f"{label:<12} wall {times[label]:7.1f} s  status {status}  max rel diff to in-process {diff:.1e}")
        print(lines[-1], flush=True)
    base = times.get("1 worker(s)")
    for label, t in times.items():
        if base and label.endswith("worker(s)") and label != "1 worker(s)":
            lines.append(f"speed-up {label} over 1 worker: {base / t:.2f}x")
            print(lines[-1], flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
