"""Read a Green's-function file (SPEC section 3, plus structure variants) into memory.

`load_greens_functions(path, variant=None)` returns a `GreensFunctions` holding the displacement
array of the reference structure (variant=None) or of one variant (`/variants/<name>/...`), with
the station and subfault tables shared by all of them. Units are the file's: metres, m^2, degrees,
displacement in metres per metre of slip.

The inversion-ready matrix (see `design_matrix`) has one row per (station, component) and one
column per (subfault, slip component), both in C order:

    G[3 * i + c, 2 * j + s] = displacement[i, c, j, s]
    c: 0 east, 1 north, 2 up;   s: 0 strike-slip (+ left-lateral), 1 dip-slip (+ reverse)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crustgf.core.errors import CrustgfError

COMPONENTS = ("east", "north", "up")
SLIP_COMPONENTS = ("strike", "dip")


@dataclass
class Subfaults:
    centroid: np.ndarray  # (ns, 3) m, local frame (z up, negative below the surface)
    strike: np.ndarray  # (ns,) degrees clockwise from north
    dip: np.ndarray  # (ns,) degrees, dipping to the right of strike
    area: np.ndarray  # (ns,) m^2
    vertices: np.ndarray | None = None  # (nv, 3) m: triangulated subfault surfaces
    cells: np.ndarray | None = None  # (nc, 3) int: triangles into `vertices`
    cell_subfault: np.ndarray | None = None  # (nc,) int: subfault of each triangle

    @property
    def n(self) -> int:
        return len(self.area)


@dataclass
class GreensFunctions:
    displacement: np.ndarray  # (n_stations, 3, n_subfaults, 2) m per m of slip
    station_names: list[str]
    station_positions: np.ndarray  # (n_stations, 3) m
    station_lonlat: np.ndarray | None
    subfaults: Subfaults
    done: np.ndarray  # (n_subfaults, 2) bool
    residual: np.ndarray | None = None  # (n_subfaults, 2) final relative residual of each solve
    iterations: np.ndarray | None = None  # (n_subfaults, 2) iterations of each solve (-1: never attempted)
    layers: dict = field(default_factory=dict)  # name -> array, from .../model/layers
    attrs: dict = field(default_factory=dict)  # root attributes (strings / scalars)
    variant: str | None = None  # None: the reference structure
    variants: list[str] = field(default_factory=list)  # every variant in the file
    path: str = ""
    # SPEC 6, when the file has them (None / {} otherwise)
    traction: np.ndarray | None = None  # (n_subfaults, 3, n_subfaults, 2) Pa per m
    sensitivity: dict = field(default_factory=dict)  # (layer, "mu" | "lambda") -> like displacement, m/m/Pa
    history: np.ndarray | None = None  # (n_times, n_stations, 3, n_subfaults, 2) m per m
    time: np.ndarray | None = None  # (n_times,) s

    @property
    def n_stations(self) -> int:
        return self.displacement.shape[0]

    @property
    def n_subfaults(self) -> int:
        return self.displacement.shape[2]

    @property
    def n_missing(self) -> int:
        return int((~self.done).sum())

    def matrix(self) -> np.ndarray:
        return design_matrix(self.displacement)

    def require_complete(self, what: str = "use") -> None:
        """Raise a one-line error when some unit-slip solves of this structure are not finished."""
        if self.n_missing:
            name = f"variant {self.variant!r}" if self.variant else "the reference structure"
            raise CrustgfError(
                f"{self.path}: {self.n_missing} of {self.done.size} solves of {name} are not done; "
                f"run `crustgf solve` again to finish them before you {what} it"
            )


def design_matrix(displacement: np.ndarray) -> np.ndarray:
    """(3 n_stations, 2 n_subfaults) matrix G; G[3i + c, 2j + s] = displacement[i, c, j, s]."""
    ns, nc, nf, nk = displacement.shape
    return np.ascontiguousarray(displacement).reshape(ns * nc, nf * nk)


def row_labels(station_names) -> list[str]:
    return [f"{name}:{comp}" for name in station_names for comp in COMPONENTS]


def column_labels(n_subfaults: int) -> list[str]:
    return [f"{j}:{slip}" for j in range(n_subfaults) for slip in SLIP_COMPONENTS]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _attr(value):
    """h5py attribute -> plain Python (str, list of str, number)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [_text(v) for v in value.tolist()]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _strings(dataset) -> list[str]:
    """Values of a string dataset, checked against its sha256 attribute when it has one."""
    values = [_text(v) for v in dataset[()].tolist()]
    stored = dataset.attrs.get("sha256")
    if stored is not None:
        from crustgf.io.modelfile import text_sha256

        if _text(stored) != text_sha256(values):
            raise ValueError(f"{dataset.name}: data does not match its sha256 checksum")
    return values


def _read_group_arrays(group) -> dict:
    out = {}
    for key, ds in group.items():
        if hasattr(ds, "shape"):
            data = ds[()]
            out[key] = _strings(ds) if data.dtype.kind in "SO" else np.asarray(data)
    return out


def _need(f, key: str, path: str):
    if key not in f:
        raise CrustgfError(f"{path}: not a complete Green's-function file (no /{key})")
    return f[key]


def list_variants(f) -> list[str]:
    names = _attr(f.attrs["variants"]) if "variants" in f.attrs else []
    if isinstance(names, str):
        names = [names] if names else []
    found = list(f["variants"].keys()) if "variants" in f else []
    return list(dict.fromkeys(list(names) + found))


def _read_subfaults(f, path: str) -> Subfaults:
    g = _need(f, "subfaults", path)
    opt = {k: np.asarray(g[k][()]) for k in ("vertices", "cells", "cell_subfault") if k in g}
    return Subfaults(
        centroid=np.asarray(_need(g, "centroid", path + ":/subfaults")[()], dtype=float),
        strike=np.asarray(_need(g, "strike", path + ":/subfaults")[()], dtype=float),
        dip=np.asarray(_need(g, "dip", path + ":/subfaults")[()], dtype=float),
        area=np.asarray(_need(g, "area", path + ":/subfaults")[()], dtype=float),
        **opt,
    )


def load_greens_functions(path, variant: str | None = None) -> GreensFunctions:
    """Read the reference structure's (variant=None) or one variant's Green's functions."""

    from crustgf.core.errors import RESOLVE_HINT, damaged_file, open_hdf5

    path = str(path)
    f = open_hdf5(path, "Green's-function file")
    with f, damaged_file(path, RESOLVE_HINT):
        variants = list_variants(f)
        if variant is None:
            base = f
        elif variant in variants and f"variants/{variant}" in f:
            base = f[f"variants/{variant}"]
        else:
            listed = ", ".join(variants) if variants else "none"
            raise CrustgfError(f"{path}: unknown variant {variant!r} (available: {listed})")
        where = path if variant is None else f"{path}:/variants/{variant}"
        disp = np.asarray(_need(base, "greens_functions/displacement", where)[()], dtype=float)
        done = np.asarray(base["solve/done"][()], dtype=bool) if "solve/done" in base else None
        stations = _need(f, "stations", path)
        gf = GreensFunctions(
            displacement=disp,
            station_names=_strings(_need(stations, "name", path + ":/stations")),
            station_positions=np.asarray(_need(stations, "position", path + ":/stations")[()], float),
            station_lonlat=np.asarray(stations["lonlat"][()], float) if "lonlat" in stations else None,
            subfaults=_read_subfaults(f, path),
            done=done if done is not None else np.ones(disp.shape[2:], dtype=bool),
            residual=np.asarray(base["solve/residual"][()], float) if "solve/residual" in base else None,
            iterations=np.asarray(base["solve/iterations"][()]) if "solve/iterations" in base else None,
            layers=_read_group_arrays(base["model/layers"]) if "model/layers" in base else {},
            attrs={k: _attr(v) for k, v in f.attrs.items()},
            variant=variant,
            variants=variants,
            path=path,
            **_read_more(base),
        )
    _check_shapes(gf)
    return gf


def _read_more(base) -> dict:
    """The SPEC 6 datasets of one structure: traction, sensitivity kernels, viscoelastic history."""
    out = {}
    if "greens_functions/traction" in base:
        out["traction"] = np.asarray(base["greens_functions/traction"][()], float)
    if "sensitivity" in base:
        g = base["sensitivity"]
        out["sensitivity"] = {(layer, p): np.asarray(g[layer][p][()], float) for layer in g for p in g[layer]}
    if "greens_functions/displacement_history" in base:
        out["history"] = np.asarray(base["greens_functions/displacement_history"][()], float)
        out["time"] = np.asarray(base["greens_functions/time"][()], float)
    return out


def _check_shapes(gf: GreensFunctions) -> None:
    d = gf.displacement
    if d.ndim != 4 or d.shape[1] != 3 or d.shape[3] != 2:
        raise CrustgfError(f"{gf.path}: displacement has shape {d.shape}, expected (n_stations, 3, n_subfaults, 2)")
    if d.shape[0] != len(gf.station_names) or d.shape[2] != gf.subfaults.n:
        raise CrustgfError(
            f"{gf.path}: displacement shape {d.shape} does not match "
            f"{len(gf.station_names)} stations and {gf.subfaults.n} subfaults"
        )
    if gf.done.shape != (d.shape[2], 2):
        raise CrustgfError(f"{gf.path}: /solve/done has shape {gf.done.shape}, expected ({d.shape[2]}, 2)")


def origin_lonlat(gf: GreensFunctions):
    """(lon, lat) of the local frame's origin from the config text in the file, or None."""
    from crustgf.config.stored import stored_origin

    return stored_origin(gf.attrs.get("config", ""))


def model_name(gf: GreensFunctions) -> str:
    """The config's [model] name ('model' when it has none)."""
    from crustgf.config.stored import parse_stored_config

    return str(parse_stored_config(gf.attrs.get("config", "")).get("model", {}).get("name") or "model")
