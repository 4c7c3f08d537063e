"""CPU multigrid block PCG against PARDISO and AMG block CG on one model (`method` per process).

Models: the benchmark thrust of bench/run.py (two layers, 8 x 4 subfaults, 64 GFs) meshed at a
given size_fault (km), cached under --cache; or any crustgf model file (--model). Each method runs
in its own process (so the peak RSS is per method), solves the same jobs in batches and saves the
station displacements; the driver compares them with the first method's (relative max-norm
difference over all GFs) and prints setup, solve, time per GF, peak RSS and iterations.

    python bench/multigrid.py --size 0.58 --methods multigrid,direct,amg-cg --out bench/results/...
    python bench/multigrid.py --model out/nankai.model.h5 --gfs 64 --methods multigrid
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


def model_path(size_km: float, cache: Path) -> Path:
    """The benchmark model at size_fault = size_km, meshed once and kept in cache."""
    from crustgf.io.modelfile import write_model

    path = cache / f"bench-thrust-{size_km:g}km.model.h5"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "bench"))
        from run import make_model

        cache.mkdir(parents=True, exist_ok=True)
        write_model(make_model(size_km), path)
    return path


MEMORY_SHARE = 0.6  # of MemAvailable a PARDISO run here may take


def _pardiso_need(model) -> float:
    """Bytes PARDISO's analysis says the factorisation of this model needs."""
    from crustgf.fem.problem import ElasticProblem
    from crustgf.solvers.cpu.direct import PardisoSolver

    mat = np.asarray(model.cell_material, dtype=np.int64)
    pb = ElasticProblem(model.nodes, model.cells, model.layers.mu[mat], model.layers.lam[mat], model.fixed_nodes)
    s = PardisoSolver(pb.reduced_stiffness())
    need = s.memory_bytes
    s.release()
    return need


def run_one(path: str, method: str, n_gfs: int, batch: int, rtol: float, save: str) -> dict:
    from crustgf.greens.operator import GreenSolver
    from crustgf.io.modelfile import read_model
    from crustgf.solvers.cpu.direct import available_memory_bytes

    model = read_model(path)
    if method == "direct":  # the machine is shared: no factorisation that would crowd it out
        need, free = _pardiso_need(model), available_memory_bytes()
        if need > MEMORY_SHARE * free:
            return dict(method=method, skipped=f"PARDISO needs {need / 1e9:.1f} GB (its analysis), "
                                               f"{free / 1e9:.1f} GB available")
    jobs = np.array([[s, c] for s in range(model.n_subfaults) for c in range(2)])
    jobs = jobs[np.linspace(0, len(jobs) - 1, min(n_gfs, len(jobs))).astype(int)] if n_gfs < len(jobs) else jobs
    t0 = time.perf_counter()
    g = GreenSolver(model, backend="cpu", method=method, rtol=rtol, batch=batch, n_solves=len(jobs))
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = g.solve(jobs)
    solve = time.perf_counter() - t0
    np.save(save, res.displacement)
    n = len(jobs)
    return dict(method=g.method, solver=type(g.solver).__name__, n_dof=int(model.n_dof),
                n_free=len(g.problem.free_dofs), n_gf=n, setup_s=setup, solve_s=solve,
                per_gf_s=(setup + solve) / n, solve_per_gf_s=solve / n,
                max_residual=float(res.residual.max()), iterations=int(res.iterations.max()),
                mean_iterations=float(res.iterations.mean()),
                peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=float, help="size_fault (km) of the benchmark thrust model")
    ap.add_argument("--model", help="a crustgf model file instead")
    ap.add_argument("--methods", default="multigrid,direct,amg-cg")
    ap.add_argument("--gfs", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--cache", default="/tmp/crustgf-bench")
    ap.add_argument("--out", help="append the report lines to this file")
    ap.add_argument("--one", nargs=2, metavar=("PATH", "METHOD"), help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        r = run_one(a.one[0], a.one[1], a.gfs, a.batch, a.rtol, a.save)
        print("RESULT " + json.dumps(r), flush=True)
        return
    cache = Path(a.cache)
    path = Path(a.model) if a.model else model_path(a.size, cache)
    lines = [f"# {time.strftime('%Y-%m-%d %H:%M')} {path.name}, {os.cpu_count()} cores, {a.gfs} GFs, "
             f"batch {a.batch}, rtol {a.rtol:g} (machine shared with other work: times are noisy)"]
    print(lines[0], flush=True)
    ref = None
    for method in a.methods.split(","):
        save = cache / f"{path.stem}-{method}-{a.gfs}.npy"
        cmd = [sys.executable, __file__, "--one", str(path), method, "--gfs", str(a.gfs), "--batch",
               str(a.batch), "--rtol", str(a.rtol), "--save", str(save)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        found = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode or not found:
            lines.append(f"{method}: FAILED {p.stderr[-1500:]}")
            print(lines[-1], flush=True)
            continue
        r = json.loads(found[0][7:])
        if "skipped" in r:
            lines.append(f"{method:<10} skipped: {r['skipped']}")
            print(lines[-1], flush=True)
            continue
        u = np.load(save)
        if ref is None:
            ref, ref_name, diff = u, method, "reference"
        else:
            diff = f"vs {ref_name} {np.abs(u - ref).max() / np.abs(ref).max():.1e}"
        lines.append(f"{r['method']:<10} dofs {r['n_dof']:>8} setup {r['setup_s']:7.1f} s  "
                     f"solve {r['solve_s']:8.1f} s  "
                     f"per GF {r['per_gf_s']:6.2f} s (solve only {r['solve_per_gf_s']:6.2f} s)  "
                     f"peak {r['peak_rss_gb']:5.1f} GB  it max {r['iterations']} mean {r['mean_iterations']:.1f}  "
                     f"max res {r['max_residual']:.1e}  GFs {diff}")
        print(lines[-1], flush=True)
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
