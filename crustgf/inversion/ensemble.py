"""Structure-variant ensemble: how much does a wrong crustal structure bias a slip inversion?

    python -m crustgf.inversion.ensemble GF.h5 --out DIR [--slip-model CSV] [--noise-sigma-mm S] [--seed N]
    (the same as `crustgf ensemble ...`)

1. The slip model (default: the 1946 Nankai model of Baba et al. 2002, data/) is mapped onto the
   file's subfaults (crustgf.inversion.slipmodels) -> the true slip m_true.
2. Synthetic data d = G_ref m_true (+ Gaussian noise) from the REFERENCE structure's GFs.
3. d is inverted (crustgf.inversion.invert, ABIC) with the GFs of the reference and of every variant.
4. Per structure: relative L2 error |m - m_true| / |m_true|, correlation of m with m_true (all
   components), sign flips (subfaults with |m_true| > 10 % of its maximum whose recovered slip
   points against the true one: m_j . m_true_j < 0), potency ratio sum(A |m|) / sum(A |m_true|),
   and moment ratio sum(mu_s A |m|) / sum(mu_ref A |m_true|) with mu_s the shear modulus of the
   structure used at the subfault centroid's depth (flat layers of .../model/layers); and the
   relative L2 error over the RESOLVED subfaults alone (those the stations see: GF norm at least
   RESOLVED_FRACTION of the largest). Subfaults far from every station (Hyuga-nada, off Tokai)
   cost almost no misfit whatever their slip, so a structure error that the data cannot fit
   elsewhere ends up there; the resolved error says how the well-observed slip suffers.

Writes DIR/ensemble.csv (and prints it), DIR/ensemble_slip.npz (m_true and every recovered slip),
DIR/ensemble.png (bar chart of the error per structure + slip maps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crustgf.core.atomic import save_npz
from crustgf.core.errors import CrustgfError
from crustgf.inversion.invert import invert_slip
from crustgf.inversion.slipmodels import NANKAI_1946
from crustgf.inversion.synth import StationData, add_noise, forward, slip_from_model
from crustgf.io.gfread import GreensFunctions, load_greens_functions

COLUMNS = ("structure", "rel_l2_error", "rel_l2_resolved", "correlation", "sign_flips", "potency_ratio",
           "moment_ratio", "alpha2")
# a subfault counts as resolved when the stations see it: the norm of its Green's functions (all
# stations, components, both slip components) is at least this fraction of the largest
RESOLVED_FRACTION = 0.1


def shear_modulus_at(gf: GreensFunctions, depth: np.ndarray) -> np.ndarray:
    """mu (Pa) of the flat layer containing each depth (m, positive down); NaN without a layer table."""
    lay = gf.layers
    if "bottom" not in lay:
        return np.full(len(depth), np.nan)
    mu = np.asarray(lay["mu"], float) if "mu" in lay else np.asarray(lay["density"]) * np.asarray(lay["vs"]) ** 2
    bottom = np.asarray(lay["bottom"], float)
    flat = np.array([k != "plate" for k in lay.get("kind", ["flat"] * len(bottom))])
    bottom, mu = bottom[flat], mu[flat]
    order = np.argsort(bottom)
    k = np.minimum(np.searchsorted(bottom[order], depth), len(order) - 1)
    return mu[order][k]


def resolved_subfaults(displacement: np.ndarray) -> np.ndarray:
    """(n_subfaults,) bool: GF norm over stations, components and slip components >= RESOLVED_FRACTION of the max."""
    norm = np.sqrt(np.sum(displacement**2, axis=(0, 1, 3)))
    return norm >= RESOLVED_FRACTION * norm.max()


def slip_metrics(m: np.ndarray, m_true: np.ndarray, area: np.ndarray, mu: np.ndarray, mu_ref: np.ndarray,
                 resolved: np.ndarray | None = None) -> dict:
    """The comparison numbers of the module doc for slip arrays (n_subfaults, 2)."""
    mag, mag_true = np.linalg.norm(m, axis=1), np.linalg.norm(m_true, axis=1)
    big = mag_true > 0.1 * mag_true.max()
    r = np.ones(len(m), bool) if resolved is None else resolved
    return {
        "rel_l2_error": float(np.linalg.norm(m - m_true) / np.linalg.norm(m_true)),
        "rel_l2_resolved": float(np.linalg.norm(m[r] - m_true[r]) / np.linalg.norm(m_true[r])),
        "correlation": float(np.corrcoef(m.ravel(), m_true.ravel())[0, 1]),
        "sign_flips": int(np.sum(big & (np.sum(m * m_true, axis=1) < 0))),
        "potency_ratio": float(np.sum(area * mag) / np.sum(area * mag_true)),
        "moment_ratio": float(np.sum(mu * area * mag) / np.sum(mu_ref * area * mag_true)),
    }


def format_table(rows: list[dict]) -> str:
    lines = ["  ".join(f"{c:>14}" for c in COLUMNS)]
    for r in rows:
        lines.append("  ".join(
            f"{r[c]:>14}" if isinstance(r[c], (str, int)) else f"{r[c]:>14.4g}" for c in COLUMNS))
    return "\n".join(lines)


def _write_csv(path: Path, rows: list[dict], notes: list[str]) -> None:
    import csv

    from crustgf.core.atomic import atomic_open

    with atomic_open(path, "w", newline="") as fh:
        fh.writelines(f"# {n}\n" for n in notes)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([str(r[c]) if isinstance(r[c], (str, int)) else f"{r[c]:.6g}" for c in COLUMNS])


def _figure(path: Path, ref: GreensFunctions, m_true: np.ndarray, rows: list[dict], slips: dict) -> None:
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crustgf.core.atomic import atomic_open
    from crustgf.io.gfread import origin_lonlat
    from crustgf.plot.frame import MapFrame
    from crustgf.plot.slipmap import draw_slip

    frame = MapFrame(origin_lonlat(ref))
    names = [r["structure"] for r in rows]
    n_maps = 1 + len(names)
    ncols = min(n_maps, 3)
    nrows = 1 + int(np.ceil(n_maps / ncols))
    fig = plt.figure(figsize=(4.2 * ncols, 3.6 * nrows), layout="constrained")
    grid = fig.add_gridspec(nrows, ncols)
    ax = fig.add_subplot(grid[0, :])
    x = np.arange(len(names))
    ax.bar(x - 0.2, [r["rel_l2_error"] for r in rows], 0.4, color="tab:blue", label="all subfaults")
    ax.bar(x + 0.2, [r["rel_l2_resolved"] for r in rows], 0.4, color="tab:orange",
           label=f"resolved subfaults (GF norm >= {RESOLVED_FRACTION:g} x max)")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.legend(fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("relative L2 slip error")
    ax.set_title("slip error per structure (data from the reference structure)", fontsize=9)
    vmax = float(np.linalg.norm(m_true, axis=1).max()) or 1.0
    for k, (name, slip) in enumerate([("true slip", m_true)] + [(n, slips[n]) for n in names]):
        axk = fig.add_subplot(grid[1 + k // ncols, k % ncols])
        art = draw_slip(axk, ref.subfaults, slip, vmax=vmax, title=name, frame=frame)
    fig.colorbar(art, ax=fig.axes[1:], label="slip (m)", shrink=0.8)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)


def run_ensemble(gf_path, out, slip_model=None, noise_sigma_mm: float = 0.0, seed: int | None = 0,
                 echo=print, edges: str = "free") -> list[dict]:
    """Run the ensemble (module doc); returns one dict per structure (COLUMNS)."""
    from crustgf.core.atomic import command_scope

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CrustgfError(f"--out {out}: is a file, not a folder; give a folder for the ensemble's files")
    if not out.parent.is_dir():
        raise CrustgfError(f"--out {out}: folder {out.parent} does not exist")
    outputs = [out / name for name in ("ensemble.csv", "ensemble_slip.npz", "ensemble.png")]
    with command_scope(inputs=[gf_path, slip_model or NANKAI_1946], outputs=outputs, option="--out"):
        return _ensemble(gf_path, out, slip_model, noise_sigma_mm, seed, echo, edges)


def _ensemble(gf_path, out, slip_model, noise_sigma_mm, seed, echo, edges) -> list[dict]:
    ref = load_greens_functions(gf_path)
    ref.require_complete("run an ensemble on")
    slip_model = Path(slip_model) if slip_model else NANKAI_1946
    m_true = slip_from_model(ref, slip_model)
    if not np.any(m_true):
        raise CrustgfError(f"{slip_model}: the slip model does not overlap the subfaults of {gf_path}")
    values = add_noise(forward(ref.displacement, m_true), noise_sigma_mm * 1e-3, seed)
    sigma = (noise_sigma_mm or 1.0) * 1e-3
    data = StationData(list(ref.station_names), values, np.full(values.shape, sigma))
    depth = -ref.subfaults.centroid[:, 2]
    mu_ref = shear_modulus_at(ref, depth)
    resolved = resolved_subfaults(ref.displacement)
    rows, slips = [], {}
    for variant in [None] + ref.variants:
        gf = ref if variant is None else load_greens_functions(gf_path, variant=variant)
        gf.require_complete("run an ensemble on")
        name = variant or "reference"
        res = invert_slip(gf, data, data_path="synthetic data", edges=edges)
        slips[name] = res.slip
        metrics = slip_metrics(res.slip, m_true, ref.subfaults.area, shear_modulus_at(gf, depth), mu_ref, resolved)
        rows.append({"structure": name, **metrics, "alpha2": res.abic.alpha2})
    out.mkdir(parents=True, exist_ok=True)
    notes = [f"crustgf ensemble: data from the reference structure of {gf_path}",
             f"slip model: {slip_model}",
             f"noise: {noise_sigma_mm} mm (seed {seed})" if noise_sigma_mm > 0 else "noise: none (1 mm weights)",
             f"smoothing: Laplacian, edges {edges}",
             f"resolved subfaults (rel_l2_resolved): {int(resolved.sum())} of {len(resolved)}, GF norm >= "
             f"{RESOLVED_FRACTION:g} x the largest"]
    _write_csv(out / "ensemble.csv", rows, notes)
    save_npz(out / "ensemble_slip.npz", {"true": m_true, **{f"slip__{k}": v for k, v in slips.items()}})
    _figure(out / "ensemble.png", ref, m_true, rows, slips)
    echo(format_table(rows))
    return rows
