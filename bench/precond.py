"""Preconditioners of the CUDA backend compared by iteration counts and operator work (on the CPU).

Runs the backend's own block PCG (block_pcg.py) with HostOps, the NumPy twin of the device
operations (same algorithm, same float32 preconditioner arithmetic, assembled CSR in place of the
EBE kernel), so the counts are those the GPU will see; the times printed are CPU times of that
twin, not GPU times. Per preconditioner: CG iterations (max over the columns), float64 and
float32 TET10 operator products, their float64-equivalent (a float32 product moves about half the
bytes), and the nonzeros of the assembled multigrid levels visited, per dof of the TET10 level.

    python bench/precond.py                         # box ladder (uniform, sides + bottom fixed)
    python bench/precond.py --model out/demo/nankai-coarse.model.h5   # + a crustgf model, real GF RHS
    python bench/precond.py --out bench/results/precond-<date>.txt

Right-hand sides: random (boxes); the model's own split-node Green's-function loads (--model).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crustgf.fem.boxmesh import box_tet10, fixed_box_nodes, free_dofs_from_fixed_nodes  # noqa: E402
from crustgf.solvers.block_pcg import block_pcg  # noqa: E402
from crustgf.solvers.choose import make_preconditioner  # noqa: E402
from crustgf.solvers.cuda.host_ops import HostOps  # noqa: E402
from crustgf.solvers.cuda.problem_data import prepare, to_internal  # noqa: E402

MU, LAM = 3.0e10, 3.0e10


def box_case(n, k, seed=0):
    nodes, cells = box_tet10(n, n, n, (1.0e5, 1.0e5, 1.0e5))
    free = free_dofs_from_fixed_nodes(len(nodes), fixed_box_nodes(nodes))
    data = prepare(nodes, cells, MU, LAM, free)
    b = np.random.default_rng(seed).standard_normal((len(free), k))
    return f"box {n}^3 cubes", data, to_internal(data, b)


def model_case(path, k):
    import crustgf.greens.operator as greens
    from crustgf.io.modelfile import read_model

    model = read_model(path)
    make = greens.make_cpu_solver
    greens.make_cpu_solver = lambda *a, **kw: None  # only the problem and the loads are needed
    try:
        gs = greens.GreenSolver(model, backend="cpu")
    finally:
        greens.make_cpu_solver = make
    pb = gs.problem
    subfaults = np.linspace(0, model.n_subfaults - 1, max(1, k // 2)).astype(int)
    jobs = np.array([(s, c) for s in subfaults for c in (0, 1)][:k])
    b, _ = gs.rhs(jobs)
    data = prepare(pb.nodes, pb.cells, pb.mu, pb.lam, pb.free_dofs)
    import h5py

    with h5py.File(path, "r") as f:
        name = f.attrs.get("name", Path(path).name)
    return f"model {name}", data, to_internal(data, b)


def run_case(report, label, data, b, names, rtol):
    ops = HostOps(data)
    report(f"\n== {label}: {data.n_dof} dofs, {len(data.cells)} TET10, {b.shape[1]} right-hand sides, rtol {rtol:g}")
    report(f"{'preconditioner':16s} {'setup s':>8s} {'its':>6s} {'f64 K':>6s} {'f32 K':>6s} "
           f"{'f64-eq':>7s} {'csr nz/dof':>10s} {'cpu s':>7s}  levels")
    for name in names:
        kind, _, deg = name.partition(":")
        t = time.perf_counter()
        pc = make_preconditioner(ops, kind, degree=int(deg or 1))
        setup = time.perf_counter() - t
        ops.n_applies = ops.n_applies_low = ops.n_csr_nonzeros = 0
        t = time.perf_counter()
        out = block_pcg(ops, pc, ops.from_host(b), rtol, 20000)
        sec = time.perf_counter() - t
        levels = " / ".join(str(s) for s in getattr(pc, "sizes", []))
        report(f"{name:16s} {setup:8.1f} {out.iterations.max():6d} {ops.n_applies:6d} {ops.n_applies_low:6d} "
               f"{ops.n_applies + 0.5 * ops.n_applies_low:7.0f} {ops.n_csr_nonzeros / data.n_dof:10.1f} {sec:7.1f}"
               f"  {levels}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boxes", default="4,8,16", help="cubes per side of the box ladder ('' for none)")
    ap.add_argument("--model", action="append", default=[], help="a crustgf model file (repeatable)")
    ap.add_argument("--precond",
                    default="jacobi,block-jacobi,chebyshev:4,chebyshev:8,multigrid:1,multigrid:2,multigrid:3")
    ap.add_argument("-k", type=int, default=4, help="right-hand sides")
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--out", help="also write the report to this file")
    args = ap.parse_args(argv)
    lines = []

    def report(text=""):
        print(text, flush=True)
        lines.append(text)

    names = args.precond.split(",")
    report("crustgf preconditioners: block PCG iteration counts and TET10 operator products (HostOps, CPU)")
    for n in [int(s) for s in args.boxes.split(",") if s]:
        run_case(report, *box_case(n, args.k), names, args.rtol)
    for path in args.model:
        run_case(report, *model_case(path, args.k), names, args.rtol)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
