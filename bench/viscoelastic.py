"""Viscoelastic Green's functions on the coarse Nankai model: how they evolve, and what a history costs.

    python bench/viscoelastic.py [--model MODEL.h5] [--subfaults 8] [--batch 16] [--date 20261203]

The model comes from crustgf/configs/nankai-coarse-viscous.toml (meshed here unless --model is given):
nankai-coarse with viscosity 1e19 Pa s in the mantle wedge and the oceanic mantle. The N subfaults
nearest the DONET stations' mean position are solved (both slip components), first elastically
(GreenSolver, PARDISO: the elastic GF set) and then as a history (ViscoelasticSolver: one factor of
the effective stiffness, time 0 by CG on it, constant steps to 50 years). Writes to bench/results/:
  viscoelastic-nankai-coarse-DATE.txt   costs (setup, per batch, extrapolated to all subfaults),
                                        and |u(t)| / |u(0)| at DONET and land stations
  viscoelastic-nankai-coarse-DATE.csv   station, subfault, component, time (yr), east, north, up
                                        (m per m) for every solved subfault
and the GF file (history of the solved subfaults, the rest not done) to --gf (default /tmp), for
`crustgf plot --stations/--times`.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIG = ROOT / "crustgf" / "configs" / "nankai-coarse-viscous.toml"


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--subfaults", type=int, default=8)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps-per-tau", type=int, default=None, help="override [viscoelastic] steps_per_tau")
    p.add_argument("--date", default=time.strftime("%Y%m%d"))
    p.add_argument("--gf", type=Path, default=Path("/tmp/viscoelastic-nankai-coarse-gf.h5"))
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    a = p.parse_args(argv)

    from crustgf.config.viscoelastic import YEAR
    from crustgf.greens.operator import GreenSolver
    from crustgf.greens.viscoelastic import ViscoelasticSolver, viscoelastic_options
    from crustgf.io.gffile import SolveState, Structure, header_from_model, write_gf_file
    from crustgf.io.modelfile import file_sha256, read_model

    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    model_path = a.model
    if model_path is None:
        model_path = a.gf.with_name("nankai-coarse-viscous.model.h5")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "crustgf.cli.main", "mesh", str(CONFIG), "-o", str(model_path),
                        "--quiet"],
                       check=True, cwd=ROOT)
        say(f"mesh: {time.perf_counter() - t:.1f} s")
    model = read_model(model_path)
    options = viscoelastic_options(model)
    if a.steps_per_tau is not None:
        options.steps_per_tau = a.steps_per_tau
    names = np.array(model.station_names)
    donet = np.array([n.startswith(("KM", "MR")) for n in names])
    centre = model.station_positions[donet if donet.any() else slice(None), :2].mean(axis=0)
    dist = np.linalg.norm(model.subfaults.centroid[:, :2] - centre, axis=1)
    chosen = np.sort(np.argsort(dist)[: a.subfaults])
    jobs = np.array([[s, c] for s in chosen for c in (0, 1)], dtype=np.int64)
    mat = np.asarray(model.cell_material)
    say(f"model {model_path.name}: {3 * len(model.nodes)} dofs, {len(model.cells)} TET10, "
        f"{model.n_subfaults} subfaults, {len(names)} stations ({donet.sum()} DONET, {(~donet).sum()} land)")
    for name, eta in options.viscosity.items():
        row = list(model.layers.name).index(name)
        say(f"  {name}: viscosity {eta:.3g} Pa s, tau = {eta / model.layers.mu[row] / YEAR:.2f} yr, "
            f"{int((mat == row).sum())} elements")
    say(f"solved here: subfaults {chosen.tolist()} (the {a.subfaults} nearest the DONET centre), both "
        f"components: {len(jobs)} right-hand sides, batch {a.batch}")
    say("timings on a shared 2-core machine (others running): noisy")
    say()

    t = time.perf_counter()
    el = GreenSolver(model, backend="cpu", method="direct", batch=a.batch)
    t_el_setup = time.perf_counter() - t
    t = time.perf_counter()
    r_el = el.solve(jobs)
    t_el_solve = time.perf_counter() - t
    el.release()
    rss_el = peak_rss_gb()
    say(f"elastic GFs (GreenSolver, PARDISO): setup {t_el_setup:.1f} s, solve {t_el_solve:.1f} s for "
        f"{len(jobs)} GFs, peak RSS {rss_el:.2f} GB")

    t = time.perf_counter()
    vs = ViscoelasticSolver(model, options, method="direct", batch=a.batch)
    t_vs_setup = time.perf_counter() - t
    t = time.perf_counter()
    r = vs.solve(jobs)
    t_vs_solve = time.perf_counter() - t
    vs.release()
    rss_vs = peak_rss_gb()
    cg = r.iterations - vs.n_steps
    say(f"history (ViscoelasticSolver): {len(options.times)} output times to {options.times[-1] / YEAR:g} yr, "
        f"dt = {vs.dt / YEAR:.3g} yr ({vs.n_steps} steps, tau_min / dt = {vs.tau_min / vs.dt:.2f}, "
        f"on steps: {vs.on_steps}), {len(vs.viscous)} viscous elements, state "
        f"{vs.state_bytes_per_rhs * a.batch / 1e6:.0f} MB per batch")
    say(f"  setup {t_vs_setup:.1f} s, solve {t_vs_solve:.1f} s for {len(jobs)} histories, time-0 CG "
        f"{int(cg.min())}-{int(cg.max())} iterations, peak RSS {max(rss_vs, rss_el):.2f} GB (process)")
    diff = np.abs(r.displacement - r_el.displacement).max() / np.abs(r_el.displacement).max()
    say(f"  time 0 vs the elastic GFs: max difference {diff:.2e} of the largest")
    n_batches = -(-len(jobs) // a.batch)
    n_all = -(-2 * model.n_subfaults // a.batch)
    per_el, per_vs = t_el_solve / n_batches, t_vs_solve / n_batches
    say(f"  per batch of {a.batch}: elastic {per_el:.1f} s, history {per_vs:.1f} s "
        f"({per_vs / max(per_el, 1e-9):.0f} x)")
    say(f"  extrapolated to all {2 * model.n_subfaults} GFs ({n_all} batches): elastic set "
        f"{t_el_setup + n_all * per_el:.0f} s, history set {t_vs_setup + n_all * per_vs:.0f} s "
        f"({(t_vs_setup + n_all * per_vs) / (t_el_setup + n_all * per_el):.1f} x)")
    say()

    # how the GFs evolve: |u(t)| / |u(0)| (3D) per station, medians over DONET and land
    h = r.history  # (n_times, n_st, 3, k)
    amp = np.linalg.norm(h, axis=2)  # (n_times, n_st, k)
    ratio = amp / amp[0]
    years = options.times / YEAR
    say("|u(t)| / |u(0)| (3D displacement), median over stations and over the solved GFs "
        "[10th - 90th percentile]")
    say(f"{'t (yr)':>7} {'DONET':>22} {'land':>22}")
    for i, y in enumerate(years):
        cells = []
        for mask in (donet, ~donet):
            v = ratio[i, mask].ravel() if mask.any() else np.full(1, np.nan)
            cells.append(f"{np.median(v):6.3f} [{np.percentile(v, 10):5.2f}-{np.percentile(v, 90):5.2f}]")
        say(f"{y:7.1f} {cells[0]:>22} {cells[1]:>22}")
    say()
    sf = int(chosen[np.argmin(dist[chosen])])
    show = [n for n in ("KMA01", "KMC09", "KME20", "MRA01", "MRF22") if n in names]
    land = np.flatnonzero(~donet)
    dist = np.linalg.norm(model.station_positions[land, :2] - model.subfaults.centroid[sf, :2], axis=1)
    near = land[np.argsort(dist)]
    show += [names[i] for i in (near[0], near[len(near) // 4], near[len(near) // 2], near[-1])]
    say(f"dip-slip (+1 m, reverse) on subfault {sf} (depth {-model.subfaults.centroid[sf, 2] / 1e3:.1f} km): "
        "east, north, up in mm per m of slip")
    col = list(map(tuple, jobs)).index((sf, 1))
    cols = [int(np.argmin(np.abs(years - y))) for y in (0.0, 3.0, 10.0, 20.0, 50.0)]
    cols = sorted(set(cols))
    say(f"{'station':>8} " + " ".join(f"{f'{years[j]:g} yr':>20}" for j in cols))
    for n in show:
        i = list(names).index(n)
        say(f"{n:>8} " + " ".join("{:6.1f} {:6.1f} {:6.1f}".format(*(1e3 * h[j, i, :, col])) for j in cols))
    say()
    say(f"peak RSS of the process {max(rss_vs, rss_el):.2f} GB")

    a.results.mkdir(parents=True, exist_ok=True)
    stem = a.results / f"viscoelastic-nankai-coarse-{a.date}"
    stem.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    with open(stem.with_suffix(".csv"), "w") as fh:
        fh.write("station,subfault,component,time_yr,east,north,up\n")
        for c, (s, comp) in enumerate(jobs):
            for j, y in enumerate(years):
                for i, n in enumerate(names):
                    e, nn, u = h[j, i, :, c]
                    fh.write(f"{n},{s},{'strike' if comp == 0 else 'dip'},{y:g},{e:.4e},{nn:.4e},{u:.4e}\n")

    header = header_from_model(model, file_sha256(model_path), [Structure("reference", model.layers)])
    header.history_times = options.times
    state = SolveState.empty(len(names), model.n_subfaults, len(options.times))
    state.merge(jobs, r.displacement, r.residual, r.iterations, r.converged, r.history)
    write_gf_file(a.gf, header, [state])
    print(f"wrote {stem}.txt, {stem}.csv, {a.gf} (subfault {sf} for plots)")


if __name__ == "__main__":
    main()
