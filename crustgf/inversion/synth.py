"""Forward synthetics: slip on the subfaults -> displacement at the stations, d = G m.

Slip input, either
- a slip CSV: columns subfault (0-based index into /subfaults) and strike_slip, dip_slip (m), or
  slip (m) and rake (degrees); subfaults not listed have no slip. Signs as SPEC 4: +strike_slip is
  left-lateral (hanging wall along strike), +dip_slip reverse; rake 90 = thrust;
- a slip model of rectangular patches in lon/lat (crustgf.inversion.slipmodels), mapped onto the subfaults.

The data CSV written here (and read by `crustgf invert`) has columns
    station, x, y, east, north, up, sigma
x, y in km (local frame, like station files); east, north, up, sigma in metres. `sigma` is one
standard deviation for each of the three components; a reader also accepts per-component
sigma_east, sigma_north, sigma_up, and empty cells for components that were not observed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.io.gfread import COMPONENTS, GreensFunctions, load_greens_functions


@dataclass
class StationData:
    names: list[str]
    values: np.ndarray  # (n, 3) m east, north, up; NaN where not observed
    sigma: np.ndarray  # (n, 3) m


def forward(displacement: np.ndarray, slip: np.ndarray) -> np.ndarray:
    """(n_stations, 3) displacement of slip (n_subfaults, 2) through GFs (n_stations, 3, n_subfaults, 2)."""
    return np.einsum("icjs,js->ic", displacement, slip)


def read_slip_csv(path, n_subfaults: int) -> np.ndarray:
    """(n_subfaults, 2) strike-slip and dip-slip in m from a slip CSV (see module doc)."""
    from crustgf.core.tables import TableError, read_table

    try:
        t = read_table(path)
        if not t.has("subfault"):
            raise TableError("needs a 'subfault' column")
        idx = t.numbers("subfault")
        if t.has("strike_slip", "dip_slip"):
            comp = np.stack([t.numbers("strike_slip"), t.numbers("dip_slip")], axis=1)
        elif t.has("slip", "rake"):
            r = np.radians(t.numbers("rake"))
            comp = t.numbers("slip")[:, None] * np.stack([np.cos(r), np.sin(r)], axis=1)
        else:
            raise TableError("needs columns strike_slip, dip_slip (m) or slip (m), rake (degrees)")
        bad = (idx != np.round(idx)) | (idx < 0) | (idx >= n_subfaults)
        if bad.any():
            k = int(np.argmax(bad))
            raise TableError(f"line {t.lines[k]}: subfault {t.text('subfault')[k]} is not one of 0..{n_subfaults - 1}")
        idx = idx.astype(int)
        if len(np.unique(idx)) != len(idx):
            raise TableError("a subfault is listed more than once")
    except TableError as exc:
        raise CrustgfError(f"{path}: {exc}") from None
    slip = np.zeros((n_subfaults, 2))
    slip[idx] = comp
    return slip


def slip_from_model(gf: GreensFunctions, path, refine: int = 6) -> np.ndarray:
    """A lon/lat slip model (e.g. crustgf/data/slip_1946_nankai_baba2002.csv) on the file's subfaults."""
    from crustgf.inversion.slipmodels import map_slip_model, read_slip_model
    from crustgf.io.gfread import origin_lonlat

    src = read_slip_model(path, origin_lonlat(gf))
    return map_slip_model(gf.subfaults, src, refine=refine)


def add_noise(values: np.ndarray, sigma: float, seed: int | None) -> np.ndarray:
    """values + independent Gaussian noise of standard deviation sigma (m) on every component."""
    if sigma <= 0:
        return values.copy()
    return values + np.random.default_rng(seed).normal(0.0, sigma, size=values.shape)


def write_data_csv(path, gf: GreensFunctions, values: np.ndarray, sigma: float, notes=()) -> None:
    from crustgf.core.atomic import atomic_open

    with atomic_open(path, "w", newline="") as fh:
        for note in notes:
            fh.write(f"# {note}\n")
        fh.write("# x, y in km (local frame); east, north, up, sigma in m\n")
        w = csv.writer(fh, lineterminator="\n")  # quotes a station name that holds a comma
        w.writerow(["station", "x", "y", "east", "north", "up", "sigma"])
        for name, p, v in zip(gf.station_names, gf.station_positions, values):
            w.writerow([name, f"{p[0] / 1e3:.6f}", f"{p[1] / 1e3:.6f}", f"{v[0]:.9e}", f"{v[1]:.9e}", f"{v[2]:.9e}",
                        f"{sigma:.6e}"])


def read_data_csv(path) -> StationData:
    """Observed displacements (see module doc); every observed component needs a sigma > 0."""
    from crustgf.core.tables import TableError, read_table

    try:
        t = read_table(path)
        if not t.has("station", *COMPONENTS):
            raise TableError("needs columns station, east, north, up (m) and sigma (m)")
        values = np.stack([t.numbers(c, blank_is_nan=True) for c in COMPONENTS], axis=1)
        if t.has("sigma_east", "sigma_north", "sigma_up"):
            sigma = np.stack([t.numbers(f"sigma_{c}", blank_is_nan=True) for c in COMPONENTS], axis=1)
        elif t.has("sigma"):
            sigma = np.repeat(t.numbers("sigma", blank_is_nan=True)[:, None], 3, axis=1)
        else:
            raise TableError("needs a 'sigma' column (m) or sigma_east, sigma_north, sigma_up")
        observed = np.isfinite(values)
        bad = observed & ~(sigma > 0)
        if bad.any():
            k = int(np.argmax(bad.any(axis=1)))
            raise TableError(f"line {t.lines[k]}: sigma must be > 0 for every observed component")
        names = t.text("station")
        if len(set(names)) != len(names):
            raise TableError("a station is listed more than once")
    except TableError as exc:
        raise CrustgfError(f"{path}: {exc}") from None
    return StationData(names=names, values=values, sigma=sigma)


def synth_command(gf_path, output, slip=None, slip_model=None, noise_sigma_mm: float = 0.0,
                  sigma_mm: float | None = None, seed: int | None = 0, variant: str | None = None,
                  allow_missing: bool = False) -> np.ndarray:
    """`crustgf synth`: write station displacements for a slip distribution; returns (n, 3) values.

    sigma written to the file: sigma_mm, else the noise level, else 1 mm (a nominal weight).
    """
    if (slip is None) == (slip_model is None):
        raise CrustgfError("synth: give exactly one of --slip (subfault CSV) and --slip-model (lon/lat patches)")
    if noise_sigma_mm < 0:
        raise CrustgfError(f"--noise-sigma-mm: must be >= 0, got {noise_sigma_mm}")
    from crustgf.core.atomic import check_output_folder, command_scope

    check_output_folder(output)
    with command_scope(inputs=[gf_path, slip, slip_model], outputs=[output]):
        return _synth(gf_path, output, slip, slip_model, noise_sigma_mm, sigma_mm, seed, variant, allow_missing)


def _synth(gf_path, output, slip, slip_model, noise_sigma_mm, sigma_mm, seed, variant, allow_missing):
    gf = load_greens_functions(gf_path, variant=variant)
    if not allow_missing:
        gf.require_complete("synthesize data with")
    m = read_slip_csv(slip, gf.n_subfaults) if slip is not None else slip_from_model(gf, slip_model)
    values = add_noise(forward(gf.displacement, m), noise_sigma_mm * 1e-3, seed)
    sigma = (sigma_mm if sigma_mm is not None else (noise_sigma_mm or 1.0)) * 1e-3
    if sigma <= 0:
        raise CrustgfError(f"--sigma-mm: must be > 0, got {sigma_mm}")
    notes = [
        f"crustgf synth from {gf_path} ({'variant ' + variant if variant else 'reference structure'})",
        f"slip: {slip if slip is not None else slip_model}",
        f"noise: {noise_sigma_mm} mm Gaussian, seed {seed}" if noise_sigma_mm > 0 else "noise: none",
    ]
    write_data_csv(Path(output), gf, values, sigma, notes)
    return values
