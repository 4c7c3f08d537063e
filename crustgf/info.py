"""`crustgf info`: human-readable summaries of model files and Green's-function files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from .errors import CrustgfError
from .mesh.quality import quality_stats
from .model import Model

GF_KIND = "crustgf-greens-functions"


def _km(x: float) -> str:
    return f"{x / 1e3:.3g} km"


def _layer_lines(model: Model) -> list[str]:
    counts = np.bincount(model.cell_material, minlength=len(model.layers.name))
    t = model.layers
    lines = []
    for i, name in enumerate(t.name):
        kind = t.kind[i] if i < len(t.kind) else "flat"
        what = "thickness" if kind == "plate" else "bottom"
        lines.append(f"    {i}: {name:<16s} {kind:5s} {what} {_km(t.bottom[i]):>9s}  vp {t.vp[i] / 1e3:.3g} "
                     f"vs {t.vs[i] / 1e3:.3g} km/s  rho {t.density[i] / 1e3:.3g} g/cm3  "
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


def _gf_summary(f: h5py.File, path: Path) -> str:
    lines = [f"Green's functions ({path})"]
    if "greens_functions/displacement" in f:
        shape = f["greens_functions/displacement"].shape
        lines.append(f"  displacement {shape} (stations, E/N/U, subfaults, strike/dip slip)")
    variants = [str(v) for v in np.atleast_1d(f.attrs.get("variants", []))]
    for name, root in [("reference", "")] + [(v, f"variants/{v}/") for v in variants]:
        if root + "solve/done" in f:
            done = f[root + "solve/done"][()]
            lines.append(f"  {name}: {int(done.sum())} of {done.size} solves done")
    lines.append(f"  model_sha256 {f.attrs.get('model_sha256', '?')}")
    return "\n".join(lines)


def summarize(path) -> str:
    """Summary of a model file or a Green's-function file."""
    path = Path(path)
    if not path.exists():
        raise CrustgfError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as f:
            kind = f.attrs.get("kind")
            if kind == GF_KIND:
                return _gf_summary(f, path)
    except OSError as exc:
        raise CrustgfError(f"{path}: not an HDF5 file ({exc})") from None
    from .modelfile import read_model  # raises CrustgfError when it is not a model file either

    return model_summary(read_model(path), path)
