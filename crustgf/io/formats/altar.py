"""AlTar export: the HDF5 inputs of AlTar 2's static slip inversion (`altar.models.seismic` static
and staticcp).

AlTar loads an .h5 input by opening it with h5py and taking its first dataset
(`list(h5file.keys())[0]`), as a matrix of shape (observations, parameters); the parameters follow
the model's `psets_list`, here [strikeslip, dipslip], each `patches` long. The Cp variant
(staticcp) reads `kmu_file`, an .h5 whose datasets (in h5py's key order, which is alphabetical)
are the sensitivity kernels dG/dmu_i in the same layout, and `cmu_file`, their covariance
(nCmu x nCmu), in the same order. Files, in OUT/:

    static.gf.h5       dataset 'static.gf' (3 n_stations, 2 n_subfaults) float64:
                       rows station x (east, north, up) in file order; columns all strike-slip
                       patches, then all dip-slip patches (m per m of slip)
    static.kernel.h5   only when the GF file has sensitivity kernels (/sensitivity/<layer>/<mu|lambda>):
                       datasets 'k01_<layer>_<mu|lambda>', ... (m per m per Pa), same layout
    static.kernel.txt  the kernels' order (the row/column order of AlTar's Cmu)
    crustgf_export.txt provenance and the numbers for AlTar's config (observations, patches)
"""

from __future__ import annotations

import h5py
import numpy as np

from crustgf.core.atomic import atomic_open
from crustgf.io.formats.folder import export_folder, write_info
from crustgf.io.gfread import GreensFunctions


def altar_matrix(displacement: np.ndarray) -> np.ndarray:
    """(3 n_stations, 2 n_subfaults): rows station x ENU, columns [strike-slip..., dip-slip...]."""
    ns, nc, nf, nk = displacement.shape
    d = np.ascontiguousarray(displacement.transpose(0, 1, 3, 2))  # (ns, 3, slip, nf)
    return d.reshape(ns * nc, nk * nf).astype(np.float64)


def sensitivity_kernels(gf: GreensFunctions) -> list[tuple[str, np.ndarray]]:
    """[(name, displacement-shaped kernel)], layers in model order, mu before lambda."""
    names = list(gf.layers.get("name", []))
    layers = sorted({lay for lay, _ in gf.sensitivity}, key=lambda n: (names.index(n) if n in names else len(names), n))
    return [(f"{layer}_{p}", gf.sensitivity[(layer, p)]) for layer in layers for p in ("mu", "lambda")
            if (layer, p) in gf.sensitivity]


def _write_h5(path, datasets: dict) -> None:
    with atomic_open(path, "w+b") as fh, h5py.File(fh, "w") as f:
        for name, data in datasets.items():
            f.create_dataset(name, data=data)


def write_altar(gf: GreensFunctions, out) -> None:
    out = export_folder(out, "altar")
    _write_h5(out / "static.gf.h5", {"static.gf": altar_matrix(gf.displacement)})
    kernels = sensitivity_kernels(gf)
    lines = [f"# observations = {3 * gf.n_stations} (station x east, north, up, stations in file order)",
             f"# patches = {gf.n_subfaults}; psets_list = [strikeslip, dipslip]"]
    if kernels:
        names = [f"k{i + 1:02d}_{name}" for i, (name, _) in enumerate(kernels)]
        _write_h5(out / "static.kernel.h5", {n: altar_matrix(k) for n, (_, k) in zip(names, kernels)})
        with atomic_open(out / "static.kernel.txt", "w") as fh:
            fh.write("# AlTar Cmu order (m per m per Pa): index, dataset\n")
            fh.write("".join(f"{i + 1} {n}\n" for i, n in enumerate(names)))
        lines.append(f"# nCmu = {len(names)}; kmu_file = static.kernel.h5 (order in static.kernel.txt)")
    write_info(out, gf, "crustgf Green's functions for AlTar (static)", lines)
