"""CSI export (Jolivet's Classic Slip Inversion): the per-component binary GF files CSI reads.

CSI's `Fault.setGFsFromFile(data, strikeslip=F_SS, dipslip=F_DS, vertical=True, dtype='d')` reads
each file with `np.fromfile(F, dtype='d')`, reshapes it to (n_rows, n_patches) and hands it to
`gps.setGFsInSource`, which takes rows [0, n) as east, [n, 2n) as north and [2n, 3n) as up, for the
n stations in the order of the gps object. So each file here is float64, C order, shape
(3 n_stations, n_subfaults): all east rows (stations in file order), then all north, then all up;
metres of displacement per metre of slip. Slip signs are SPEC section 4's (strike-slip + left-lateral,
dip-slip + reverse), which are Okada's and CSI's. Files, in OUT/:

    {model}_gps_SS.gf, {model}_gps_DS.gf   strike-slip and dip-slip GFs (CSI's naming: fault_data_SS.gf)
    gps_stations.txt                        the station order: name, lon, lat (or x, y in km)
    crustgf_export.txt                      provenance

In CSI, name the fault `{model}` and the gps object `gps` (or pass the file names explicitly),
with the stations in the same order and a fault of n_subfaults patches.
"""

from __future__ import annotations

import numpy as np

from crustgf.core.atomic import atomic_open
from crustgf.io.formats.folder import export_folder, write_info
from crustgf.io.gfread import GreensFunctions, model_name


def csi_matrix(gf: GreensFunctions, slip: int) -> np.ndarray:
    """(3 n_stations, n_subfaults): rows east block, north block, up block (CSI's gps layout)."""
    d = gf.displacement[:, :, :, slip]  # (ns, 3, nf)
    return np.ascontiguousarray(d.transpose(1, 0, 2).reshape(-1, d.shape[2]), dtype=np.float64)


def _model_name(gf: GreensFunctions) -> str:
    name = model_name(gf)
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in name)


def write_csi(gf: GreensFunctions, out) -> None:
    out = export_folder(out, "csi")
    stem = _model_name(gf)
    for slip, tag in ((0, "SS"), (1, "DS")):
        with atomic_open(out / f"{stem}_gps_{tag}.gf", "wb") as fh:
            csi_matrix(gf, slip).tofile(fh)
    with atomic_open(out / "gps_stations.txt", "w") as fh:
        if gf.station_lonlat is not None:
            fh.write("# name lon lat (degrees)\n")
            for name, (lon, lat) in zip(gf.station_names, gf.station_lonlat):
                fh.write(f"{name} {lon:.8f} {lat:.8f}\n")
        else:
            fh.write("# name x y (km, local frame)\n")
            for name, (x, y, _) in zip(gf.station_names, gf.station_positions):
                fh.write(f"{name} {x / 1e3:.6f} {y / 1e3:.6f}\n")
    write_info(out, gf, "crustgf Green's functions for CSI", [
        f"# files: {stem}_gps_SS.gf, {stem}_gps_DS.gf: float64, shape ({3 * gf.n_stations}, {gf.n_subfaults}),"
        " rows east x stations, north x stations, up x stations; columns subfaults (0-based)",
        f"# read: fault.setGFsFromFile(gps, strikeslip='{stem}_gps_SS.gf', dipslip='{stem}_gps_DS.gf',"
        " vertical=True, dtype='d')",
    ])
