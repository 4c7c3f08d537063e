"""Does the prediction covariance Cp bring back the true slip from wrong-structure GFs? (issue 13)

GF file: `crustgf run crustgf/configs/nankai-coarse-cp.toml -o GF.h5` (coarse Nankai model; reference +
upper/lower crust velocities -+10 %; kernels of those two layers for every structure). Synthetic
data: the 1946 Nankai slip (Baba et al. 2002) through the REFERENCE GFs (1 mm sigmas, no noise, as
in `crustgf ensemble`; --noise-mm adds Gaussian noise). Each structure's GFs invert them
(crustgf.inversion.invert, ABIC):
  plain       Cd only
  cp_mu       Cd + Cp, Cp from mu dG/dmu (lambda held), relative std STD for each kernel layer
  cp_moduli   the same with mu and lambda scaled together (what a velocity change does)
Metrics as `crustgf ensemble` (crustgf.inversion.ensemble.slip_metrics). Writes OUT.csv and OUT.png.

    python bench/structure_cp.py GF.h5 --out bench/results/structure-cp-nankai-coarse-20261203 [--std 0.2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = ("structure", "method", "rel_l2_error", "rel_l2_resolved", "correlation", "potency_ratio",
           "moment_ratio", "alpha2")


def main(argv=None):
    import h5py

    from crustgf.inversion.ensemble import resolved_subfaults, shear_modulus_at, slip_metrics
    from crustgf.inversion.invert import invert_slip, invert_with_structure_uncertainty
    from crustgf.inversion.slipmodels import NANKAI_1946
    from crustgf.inversion.synth import StationData, add_noise, forward, slip_from_model
    from crustgf.io.gfread import load_greens_functions

    ap = argparse.ArgumentParser()
    ap.add_argument("gf")
    ap.add_argument("--out", required=True)
    ap.add_argument("--std", type=float, default=0.2, help="relative std of each kernel layer's modulus")
    ap.add_argument("--noise-mm", type=float, default=0.0, help="Gaussian noise on the data (sigmas = it, or 1 mm)")
    a = ap.parse_args(argv)
    ref = load_greens_functions(a.gf)
    with h5py.File(a.gf) as f:
        layers = list(f["sensitivity"].keys())
    spec = {layer: a.std for layer in layers}
    m_true = slip_from_model(ref, NANKAI_1946)
    values = add_noise(forward(ref.displacement, m_true), a.noise_mm * 1e-3, 0)
    data = StationData(list(ref.station_names), values, np.full(values.shape, (a.noise_mm or 1.0) * 1e-3))
    depth = -ref.subfaults.centroid[:, 2]
    mu_ref = shear_modulus_at(ref, depth)
    resolved = resolved_subfaults(ref.displacement)
    rows, slips = [], {}
    for variant in [None] + ref.variants:
        gf = ref if variant is None else load_greens_functions(a.gf, variant=variant)
        name = variant or "reference"
        mu_s = shear_modulus_at(gf, depth)
        runs = {"plain": invert_slip(gf, data, "synthetic data")}
        for scaling in ("mu", "moduli"):
            runs[f"cp_{scaling}"] = invert_with_structure_uncertainty(gf, data, spec, "synthetic data", scaling)[0]
        for method, res in runs.items():
            slips[(name, method)] = res.slip
            rows.append({"structure": name, "method": method, "alpha2": res.abic.alpha2,
                         **slip_metrics(res.slip, m_true, ref.subfaults.area, mu_s, mu_ref, resolved)})
            r = rows[-1]
            print(f"{name:22s} {method:10s} err {r['rel_l2_error']:.4f} resolved {r['rel_l2_resolved']:.4f} "
                  f"corr {r['correlation']:.4f} moment {r['moment_ratio']:.3f}", flush=True)
    out = Path(a.out)
    noise = f"noise {a.noise_mm} mm (seed 0)" if a.noise_mm else "1 mm sigmas, no noise"
    notes = [f"structure experiment with Cp: data from the reference structure of {a.gf} (1946 Nankai slip, {noise})",
             f"structure uncertainty: {spec} (relative std)",
             f"resolved subfaults: {int(resolved.sum())} of {len(resolved)}"]
    with open(out.with_suffix(".csv"), "w") as fh:
        fh.writelines(f"# {n}\n" for n in notes)
        fh.write(",".join(COLUMNS) + "\n")
        for r in rows:
            fh.write(",".join(str(r[c]) if isinstance(r[c], str) else f"{r[c]:.6g}" for c in COLUMNS) + "\n")
    figure(out.with_suffix(".png"), ref, m_true, rows, slips)


def figure(path, ref, m_true, rows, slips):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crustgf.plot.slipmap import draw_slip

    names = list(dict.fromkeys(r["structure"] for r in rows))
    methods = ["plain", "cp_mu", "cp_moduli"]
    worst = max((r for r in rows if r["method"] == "plain"), key=lambda r: r["rel_l2_resolved"])["structure"]
    fig = plt.figure(figsize=(13, 8), layout="constrained")
    grid = fig.add_gridspec(2, 4)
    for k, metric in enumerate(("rel_l2_error", "rel_l2_resolved")):
        ax = fig.add_subplot(grid[0, 2 * k:2 * k + 2])
        x = np.arange(len(names))
        for j, m in enumerate(methods):
            vals = [next(r[metric] for r in rows if r["structure"] == n and r["method"] == m) for n in names]
            ax.bar(x + (j - 1) * 0.27, vals, 0.27, label=m)
        ax.set_xticks(x, names, rotation=25, ha="right", fontsize=8)
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_title(("all subfaults" if k == 0 else "resolved subfaults") + ": slip error", fontsize=9)
        ax.legend(fontsize=8)
    vmax = float(np.linalg.norm(m_true, axis=1).max())
    panels = [("true slip", m_true)] + [(f"{worst}: {m}", slips[(worst, m)]) for m in methods]
    for k, (title, slip) in enumerate(panels):
        art = draw_slip(fig.add_subplot(grid[1, k]), ref.subfaults, slip, vmax=vmax, title=title)
    fig.colorbar(art, ax=fig.axes[2:], label="slip (m)", shrink=0.8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
