"""Inversion-ready matrix export.

G has one row per (station, component) and one column per (subfault, slip component):
    G[3 * i + c, 2 * j + s] = displacement[i, c, j, s]       (c: east, north, up; s: strike, dip)
Row labels are 'STATION:east|north|up', column labels 'SUBFAULT:strike|dip'.

- OUT ending in .csv: a dense CSV; the first column holds the row labels, the header the column
  labels; provenance lines start with '#'.
- OUT ending in .npz: G, row_labels, col_labels, station_names, station_positions,
  subfault_centroid, subfault_area, done, residual, iterations and the provenance (crustgf_version,
  model_sha256, config, frame, slip_convention), so the matrix can be used without the HDF5 file.
- any other suffix is an error (it would hide the file's format).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from crustgf.core.atomic import atomic_open, save_npz
from crustgf.core.errors import CrustgfError
from crustgf.io.formats.provenance import PROVENANCE_ATTRS, provenance_lines, solve_record
from crustgf.io.gfread import GreensFunctions, column_labels, row_labels


def write_matrix(gf: GreensFunctions, out) -> None:
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise CrustgfError(f"{out}: --format matrix writes .npz or .csv; name the output file so")
    G = gf.matrix()
    rows = row_labels(gf.station_names)
    cols = column_labels(gf.n_subfaults)
    if Path(out).suffix.lower() == ".csv":
        with atomic_open(out, "w", newline="") as fh:
            for line in provenance_lines(gf, "crustgf Green's-function matrix G (m per m of slip)"):
                fh.write(line + "\n")
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["row", *cols])
            for label, values in zip(rows, G):
                w.writerow([label, *(f"{v:.10g}" for v in values)])
        return
    save_npz(out, {
        "G": G,
        "row_labels": np.array(rows, dtype=str),
        "col_labels": np.array(cols, dtype=str),
        "station_names": np.array(gf.station_names, dtype=str),
        "station_positions": gf.station_positions,
        "subfault_centroid": gf.subfaults.centroid,
        "subfault_area": gf.subfaults.area,
        "done": gf.done,
        "variant": np.array(gf.variant or ""),
        **solve_record(gf),
        **{key: np.array(str(gf.attrs[key])) for key in PROVENANCE_ATTRS if key in gf.attrs},
    })
