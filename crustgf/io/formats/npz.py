"""NumPy .npz export: every array of the file under its SPEC path with '/' replaced by '__'.

Keys: greens_functions__displacement (n_stations, 3, n_subfaults, 2), stations__name,
stations__position, [stations__lonlat], subfaults__centroid|strike|dip|area|vertices|cells|
cell_subfault, solve__done, solve__residual, solve__iterations, [greens_functions__traction,
sensitivity__<layer>__<mu|lambda>, greens_functions__displacement_history, greens_functions__time],
model__layers__<column>, attrs__<root attribute> (as strings), and
`variant` (the exported structure's name, '' for the reference). Units as in the file (SI, degrees).
"""

from __future__ import annotations

import json

import numpy as np

from crustgf.core.atomic import save_npz
from crustgf.io.formats.provenance import solve_record
from crustgf.io.gfread import GreensFunctions


def _attr_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def npz_arrays(gf: GreensFunctions) -> dict:
    sf = gf.subfaults
    arrays = {
        "greens_functions__displacement": gf.displacement,
        "stations__name": np.array(gf.station_names, dtype=str),
        "stations__position": gf.station_positions,
        "subfaults__centroid": sf.centroid,
        "subfaults__strike": sf.strike,
        "subfaults__dip": sf.dip,
        "subfaults__area": sf.area,
        "solve__done": gf.done,
        **{f"solve__{k}": v for k, v in solve_record(gf).items()},
        "variant": np.array(gf.variant or ""),
    }
    if gf.station_lonlat is not None:
        arrays["stations__lonlat"] = gf.station_lonlat
    for key in ("vertices", "cells", "cell_subfault"):
        if getattr(sf, key) is not None:
            arrays[f"subfaults__{key}"] = getattr(sf, key)
    if gf.traction is not None:
        arrays["greens_functions__traction"] = gf.traction
    for (layer, p), value in gf.sensitivity.items():
        arrays[f"sensitivity__{layer}__{p}"] = value
    if gf.history is not None:
        arrays["greens_functions__displacement_history"] = gf.history
        arrays["greens_functions__time"] = gf.time
    for key, value in gf.layers.items():
        arrays[f"model__layers__{key}"] = np.asarray(value, dtype=str if isinstance(value, list) else None)
    for key, value in gf.attrs.items():
        arrays[f"attrs__{key}"] = np.array(_attr_text(value))
    return arrays


def write_npz(gf: GreensFunctions, out) -> None:
    save_npz(out, npz_arrays(gf))
