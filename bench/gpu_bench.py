"""GPU benchmark of the CUDA backend on synthetic structured TET10 box meshes.

Prints, in one run: the device, its measured device-to-device copy bandwidth, the matrix-free EBE
product throughput (GDOF/s per right-hand side column, and the fraction of the copy bandwidth
that the bytes the product must move represent), and block-PCG throughput (DOF * GF / s: dofs
times Green's functions (columns) solved to rtol per second) for blocks of 1, 8, 16, 32
right-hand sides with the multigrid preconditioner (the default), and Chebyshev block Jacobi at
one block size for comparison, at ~1M and ~10M dofs; then the largest box whose working set for
a 16-column block fits in 80 % of the free device memory (multigrid, k = 16 only), with the
device memory in use. Lines go to the results file as they are printed, and items are skipped
once --budget seconds have passed, so a run cut short still leaves its figures.

    python bench/gpu_bench.py                 # on a GPU; writes bench/results/gpu-<device>-<date>.txt
    python bench/gpu_bench.py --tiny          # end-to-end check in the CUDA simulator (no GPU)

On a lent H200 (device tool): the image has numba, numba-cuda, scipy and h5py but not pyamg (the
multigrid setup) and gmsh/pyproj (not needed here): carry a pyamg wheel as the device README says
(`.whl`, pip download --no-deps --only-binary=:all: --python-version 3.12 ... pyamg==5.2.1) and run
`pip install --target /tmp/site .whl/*.whl; PYTHONPATH=/tmp/site:. PYTHONUNBUFFERED=1
python3 bench/gpu_bench.py --out $OUT` (host set-up of the largest box takes minutes).

Byte model of one EBE product (the least it must move): element data (10 int32 node ids,
12 + 2 floats) once, X read once, Y zeroed, read and written once, and the mask.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path

if "--tiny" in sys.argv and not (os.path.exists("/dev/nvidia0")):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from numba import config, cuda  # noqa: E402

from crustgf.fem.boxmesh import box_tet10, fixed_box_nodes, free_dofs_from_fixed_nodes  # noqa: E402
from crustgf.solvers.block_pcg import solve  # noqa: E402
from crustgf.solvers.choose import make_preconditioner  # noqa: E402
from crustgf.solvers.cuda.device_ops import DeviceOps  # noqa: E402
from crustgf.solvers.cuda.problem_data import prepare  # noqa: E402
from crustgf.solvers.cuda.vector_kernels import copy_cast, grid  # noqa: E402

MU, LAM = 3.0e10, 3.0e10  # Pa (Poisson's ratio 0.25)


class Report:
    """Prints each line and appends it to `path` (when given) at once."""

    def __init__(self, path=None):
        self.path = path
        self.lines = []

    def __call__(self, text=""):
        print(text, flush=True)
        self.lines.append(text)
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(text + "\n")


class Budget:
    def __init__(self, seconds):
        self.end = time.perf_counter() + seconds

    def spent(self, report, what):
        if time.perf_counter() > self.end:
            report(f"{what}: skipped (time budget spent)")
            return True
        return False


def timed(fn, repeats):
    fn()
    cuda.synchronize()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    cuda.synchronize()
    return (time.perf_counter() - t) / repeats


def copy_bandwidth(n_words, repeats):
    a = cuda.to_device(np.ones((n_words, 1)))
    b = cuda.device_array_like(a)
    sec = timed(lambda: copy_cast[grid(n_words)](a, b), repeats)
    return 2 * 8 * n_words / sec


def cube_for_dofs(ndof):
    """Cubes per side so that 3 (2n+1)^3 ~ ndof."""
    return max(1, int(round(((ndof / 3.0) ** (1 / 3) - 1) / 2)))


def ebe_bytes(ne, ndof, k, word):
    return ne * (10 * 4 + 14 * word) + ndof * k * word * 4 + ndof * word


def bench_size(report, n, blocks, bandwidth, args, budget):
    nodes, cells = box_tet10(n, n, n, (1.0e5, 1.0e5, 1.0e5))
    free = free_dofs_from_fixed_nodes(len(nodes), fixed_box_nodes(nodes))
    t = time.perf_counter()
    data = prepare(nodes, cells, MU, LAM, free, rcm=len(nodes) * 3 <= args.rcm_max)
    setup = time.perf_counter() - t
    ndof, ne = data.n_dof, len(cells)
    report(f"\n== box {n}^3 cubes: {ne} TET10, {ndof} dofs ({len(free)} free), "
           f"{len(data.colour_offsets) - 1} colours, host setup {setup:.1f} s")
    rng = np.random.default_rng(0)
    caps = [int(c) for c in args.max_registers.split(",")]
    for scatter, cap in [("colour", c) for c in caps] + [("atomic", caps[0])]:
        ops = DeviceOps(data, scatter=scatter, max_registers=cap or None)
        label = f"{scatter}" + (f" regs<={cap}" if cap else "")
        for k in blocks:
            x = ops.from_host(rng.standard_normal((ndof, k)) * data.mask[:, None])
            y = ops.empty(k)
            sec = timed(lambda ops=ops, x=x, y=y: ops.apply(x, y), args.repeats)
            x32, y32 = ops.empty(k, low=True), ops.empty(k, low=True)
            sec32 = timed(lambda ops=ops, x32=x32, y32=y32: ops.apply_low(x32, y32), args.repeats)
            frac = ebe_bytes(ne, ndof, k, 8) / sec / bandwidth
            frac32 = ebe_bytes(ne, ndof, k, 4) / sec32 / bandwidth
            report(f"EBE {label:6s} k={k:2d}: f64 {sec * 1e3:8.2f} ms {ndof * k / sec / 1e9:7.3f} GDOF/s "
                   f"{100 * frac:5.1f}% bw | f32 {sec32 * 1e3:8.2f} ms {ndof * k / sec32 / 1e9:7.3f} GDOF/s "
                   f"{100 * frac32:5.1f}% bw")
            del x, y, x32, y32
    ops = DeviceOps(data, scatter=args.scatter)
    for i, name in enumerate(args.precond.split(",")):
        kind, _, degree = name.partition(":")
        if budget.spent(report, f"-- {name}"):
            continue
        t = time.perf_counter()
        precond = make_preconditioner(ops, kind, degree=int(degree) if degree else None)
        cuda.synchronize()
        levels = " / ".join(str(n) for n in getattr(precond, "sizes", []))
        report(f"-- {name}: setup {time.perf_counter() - t:.2f} s (host: Lanczos lmax"
               + (f", TET4 + AMG levels {levels} dofs)" if levels else ")"))
        for k in (blocks if i == 0 else [b for b in blocks if b == args.compare_block] or blocks[-1:]):
            if budget.spent(report, f"block PCG {name} k={k:2d}"):
                continue
            b = rng.standard_normal((ndof, k)) * data.mask[:, None]
            cuda.synchronize()
            t = time.perf_counter()
            x, res, its = solve(ops, precond, b, args.rtol, args.max_iterations)
            sec = time.perf_counter() - t
            free, total = cuda.current_context().get_memory_info()
            report(f"block PCG {name} k={k:2d}: {sec:8.2f} s, iterations {its.min()}-{its.max()}, "
                   f"max true residual {res.max():.1e}, {ndof * k / sec / 1e6:9.2f} MDOF*GF/s, "
                   f"{sec / its.max() * 1e3:7.2f} ms/iteration, device memory in use "
                   f"{(total - free) / 2**30:.1f} GiB")
        del precond


def largest_cube(k):
    """Largest box whose block-PCG working set for k columns fits in 80% of free memory."""
    free, _ = cuda.current_context().get_memory_info()
    # f64 x r p q z b + compaction copies, f32 Chebyshev and multigrid work, mesh data and levels
    per_dof = (9 * 8 + 8 * 4) * k + 120
    return cube_for_dofs(0.8 * free / per_dof)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny sizes (CUDA simulator check)")
    ap.add_argument("--sizes", default="1e6,1e7", help="target dof counts, comma separated")
    ap.add_argument("--no-largest", action="store_true", help="skip the largest size that fits")
    ap.add_argument("--blocks", default=None, help="block sizes (default 1,8,16,32; --tiny: 1,2)")
    ap.add_argument("--cubes", default=None, help="box sizes in cubes per side (overrides --sizes)")
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--max-iterations", type=int, default=5000)
    ap.add_argument("--precond", default="multigrid,chebyshev",
                    help="preconditioners (name[:degree]) for the block-PCG figures")
    ap.add_argument("--compare-block", type=int, default=16,
                    help="block size at which the other preconditioners are timed")
    ap.add_argument("--largest-block", type=int, default=16, help="block size of the largest box")
    ap.add_argument("--budget", type=float, default=540.0, help="seconds; later items are skipped")
    ap.add_argument("--scatter", default="colour", choices=["colour", "atomic"])
    ap.add_argument("--max-registers", default="0,96",
                    help="EBE register caps to time with the colour scatter (0: no cap)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--rcm-max", type=float, default=3e6, help="RCM only up to this many dofs")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args(argv)
    blocks = [int(b) for b in (args.blocks or ("1,2" if args.tiny else "1,8,16,32")).split(",")]
    sim = bool(config.ENABLE_CUDASIM)
    dev = cuda.get_current_device()
    name = getattr(dev, "name", "CUDA simulator")
    name = name.decode() if isinstance(name, bytes) else str(name)
    path = None
    if not sim:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
        path = Path(args.out) / f"gpu-{slug}-{dt.datetime.now():%Y%m%d-%H%M}.txt"
    report = Report(path)
    budget = Budget(args.budget)
    report(f"crustgf GPU benchmark {dt.datetime.now():%Y-%m-%d %H:%M}  device: {name}"
           + ("  (CUDA SIMULATOR: numbers meaningless)" if sim else ""))
    sizes = []  # (cubes, blocks)
    if args.cubes:
        sizes = [(int(c), blocks) for c in args.cubes.split(",")]
    if args.tiny:
        sizes, args.repeats = (sizes or [(1, blocks), (2, blocks)]), 1
        bandwidth = copy_bandwidth(1000, 1)
    else:
        sizes = sizes or [(cube_for_dofs(float(s)), blocks) for s in args.sizes.split(",")]
        if not args.no_largest:
            sizes.append((largest_cube(args.largest_block), [args.largest_block]))
        bandwidth = copy_bandwidth(1 << 27, args.repeats)
    report(f"device copy bandwidth (read + write): {bandwidth / 1e9:.1f} GB/s")
    for n, size_blocks in sizes:
        if not budget.spent(report, f"\n== box {n}^3 cubes"):
            bench_size(report, n, size_blocks, bandwidth, args, budget)
    if path is not None:
        print(f"wrote {path}")

if __name__ == "__main__":
    main()
