"""`crustgf info`: human-readable summaries of model files and Green's-function files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from crustgf.io.gffile import KIND as GF_KIND
from crustgf.mesh.model import Model
from crustgf.mesh.quality import quality_stats


def _km(x: float) -> str:
    return f"{x / 1e3:.3g} km"


def _layer_lines(model: Model) -> list[str]:
    counts = np.bincount(model.cell_material, minlength=len(model.layers.name))
    t = model.layers
    lines = []
    for i, name in enumerate(t.name):
        kind = t.kind[i] if i < len(t.kind) else "flat"
        what = {"plate": "thickness", "surface": "bottom ~"}.get(kind, "bottom")  # ~: reference depth
        lines.append(f"    {i}: {name:<16s} {kind:7s} {what:9s} {_km(t.bottom[i]):>9s}  vp {t.vp[i] / 1e3:.3f} "
                     f"vs {t.vs[i] / 1e3:.3f} km/s  rho {t.density[i] / 1e3:.3f} g/cm3  "
                     f"{int(counts[i])} elements")
    return lines


def model_summary(model: Model, path=None) -> str:
    """Multi-line summary of a model: sizes, layers, fault, stations, element quality and sizes."""
    q = quality_stats(model.nodes, model.cells, model.fault_cells)
    head = f"model {model.name!r}" + (f" ({path})" if path is not None else "")
    lo, hi = model.nodes.min(axis=0), model.nodes.max(axis=0)
    lines = [
        head,
        f"  domain      x {_km(lo[0])} .. {_km(hi[0])}, y {_km(lo[1])} .. {_km(hi[1])}, depth {_km(-lo[2])}",
        f"  nodes       {len(model.nodes)}   elements {len(model.cells)} (order {model.order}, "
        f"{'TET10' if model.order == 2 else 'TET4'})   DOF {model.n_dof}",
        f"  layers      {len(model.layers.name)}",
        *_layer_lines(model),
        f"  fault       {len(model.fault_cells)} triangles, {model.n_subfaults} subfaults, total area "
        f"{model.subfaults.area.sum() / 1e6:.4g} km2, {len(model.buried_edge_nodes)} buried-edge nodes",
        f"  stations    {len(model.station_names)}",
        f"  quality     min {q.quality_min:.3f}, median {q.quality_median:.3f} (mean ratio, 1 = regular)",
        f"  edge length fault {_km(q.fault_edge_min)} / {_km(q.fault_edge_median)} / {_km(q.fault_edge_max)}, "
        f"overall {_km(q.edge_min)} / {_km(q.edge_median)} / {_km(q.edge_max)} (min / median / max)",
    ]
    return "\n".join(lines)


def _gf_summary(path: Path) -> str:
    """Everything README promises about a GF file: sizes, provenance, solver, progress, residuals."""
    from crustgf.config.stored import parse_stored_config
    from crustgf.io.gfread import load_greens_functions

    gf = load_greens_functions(path)
    a = gf.attrs
    cfg = parse_stored_config(a.get("config", ""))
    sf = gf.subfaults
    lines = [
        f"Green's functions ({path})",
        f"  model       {cfg.get('model', {}).get('name', '?')!r}, crustgf {a.get('crustgf_version', '?')}, "
        f"model_sha256 {str(a.get('model_sha256', '?'))[:16]}...",
        f"  frame       {' '.join(str(a.get('frame', '?')).split())}",
        f"  stations    {gf.n_stations}" + (" (with lon/lat)" if gf.station_lonlat is not None else ""),
        f"  subfaults   {sf.n}, total area {sf.area.sum() / 1e6:.4g} km2, depth {-sf.centroid[:, 2].max() / 1e3:.3g}"
        f" .. {-sf.centroid[:, 2].min() / 1e3:.3g} km (centroids)",
        f"  displacement {gf.displacement.shape} (stations, east/north/up, subfaults, strike/dip slip), m per m",
    ]
    solver = [f"{k.removeprefix('solver_')} {a[k]}" for k in sorted(a) if k.startswith("solver_")]
    if solver:
        lines.append(f"  solver      {', '.join(solver)}")
    with h5py.File(path, "r") as f:
        extra = []
        if "greens_functions/traction" in f:
            extra.append(f"traction {f['greens_functions/traction'].shape} (receivers, strike/dip/normal, sources, "
                         "strike/dip slip), Pa per m")
        if "greens_functions/displacement_history" in f:
            years = f["greens_functions/time"][()] / (365.25 * 86400.0)
            extra.append(f"displacement_history {f['greens_functions/displacement_history'].shape} (times, ...): "
                         f"viscoelastic, at {', '.join(f'{y:g}' for y in years)} yr")
        if "sensitivity" in f:
            extra.append(f"sensitivity kernels (mu, lambda) of layers: {', '.join(f['sensitivity'].keys())}")
    for name in [None] + list(gf.variants):
        one = gf if name is None else load_greens_functions(path, variant=name)
        lines.append(f"  {name or 'reference'}: {int(one.done.sum())} of {one.done.size} solves done"
                     + _residual_text(one))
    lines.extend(f"  also        {e}" for e in extra)
    return "\n".join(lines)


def _residual_text(gf) -> str:
    if gf.residual is None or not gf.done.any():
        return ""
    r = gf.residual[gf.done]
    text = f"; residual max {np.nanmax(r):.2g}, median {np.nanmedian(r):.2g}"
    if gf.iterations is not None:
        it = np.asarray(gf.iterations)[gf.done]
        text += f"; iterations {int(it.min())}..{int(it.max())}"
    return text


def summarize(path) -> str:
    """Summary of a model file or a Green's-function file."""
    from crustgf.core.errors import RESOLVE_HINT, damaged_file, open_hdf5

    path = Path(path)
    with open_hdf5(path) as f, damaged_file(path, RESOLVE_HINT):
        is_gf = f.attrs.get("kind") == GF_KIND
    if is_gf:  # the reader reads every dataset it shows: a bad checksum is one line there
        return _gf_summary(path)
    from crustgf.io.modelfile import read_model  # raises CrustgfError when it is not a model file either

    return model_summary(read_model(path), path)
