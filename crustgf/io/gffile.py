"""The Green's-function file (SPEC section 3, plus structure variants per docs/CONTRACTS.md).

Layout (every dataset has a `units` attribute; "1" means dimensionless or an index):

    /greens_functions/displacement  (n_stations, 3, n_subfaults, 2) f8, m per m of slip;
                                    axis 1 = east, north, up; axis 3 = strike-slip, dip-slip
    /stations/name, /stations/position (m), /stations/lonlat (degrees, when the model has them)
    /subfaults/centroid (m), strike, dip (degrees), area (m^2)
    /subfaults/vertices (m), /subfaults/cells (triangles, 0-based rows of vertices, ordered so
        that (v1 - v0) x (v2 - v0) points into the hanging wall), /subfaults/cell_subfault
    /solve/done (n_subfaults, 2) bool, /solve/residual f8, /solve/iterations i8
    /model/layers/{name, bottom, vp, vs, density, mu, lambda, kind} (SI; a plate layer's
        `bottom` is its thickness)
    /variants/<name>/{greens_functions/displacement, solve/*, model/layers/*}  per variant
    /greens_functions/displacement_history (n_times, n_stations, 3, n_subfaults, 2) f8 m/m and
        /greens_functions/time (n_times,) s: the viscoelastic response to a unit step of slip at
        t = 0 (reference structure; only for a model with viscous layers, SPEC 6)
    /greens_functions/traction, /sensitivity/<layer>/{mu,lambda}  (SPEC 6, when solved with
        --traction / --sensitivity; also per variant): see crustgf/greens/extras.py
    root attrs: kind = "crustgf-greens-functions", crustgf_version, config (TOML text verbatim),
        model_sha256, frame, slip_convention, variants (names, in config order)

Solves that are not done (never run, or not converged to rtol) have done = false and NaN
displacement, so they cannot be mistaken for a Green's function; their residual/iterations hold
the last attempt's values (NaN / -1 when never attempted).

The file is only ever written whole, to a unique temporary file beside OUT, fsynced and renamed
over OUT (`write_gf_file`), so a reader (or a killed solve) only ever sees a complete file. Numeric
datasets carry Fletcher-32 checksums, string datasets a sha256 attribute (modelfile.checksummed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from crustgf.core.errors import RESOLVE_HINT, CrustgfError, damaged_file

KIND = "crustgf-greens-functions"
SLIP_CONVENTION = (
    "slip is the motion of the hanging wall relative to the footwall (Aki & Richards); "
    "component 0 strike-slip, +1 = left-lateral (hanging wall moves along strike); "
    "component 1 dip-slip, +1 = reverse (hanging wall moves up dip); unit slip = 1 m"
)
NOT_SOLVED_ITERATIONS = -1


@dataclass
class Structure:
    """One elastic structure solved on the mesh: the reference (the model's layers) or a variant."""

    name: str
    layers: object  # crustgf.mesh.model.LayerTable (SI)


@dataclass
class GFHeader:
    """Everything in the file except the solve results (fixed for a given model file)."""

    station_names: list[str]
    station_positions: np.ndarray
    station_lonlat: np.ndarray | None
    centroid: np.ndarray
    strike: np.ndarray
    dip: np.ndarray
    area: np.ndarray
    vertices: np.ndarray
    cells: np.ndarray
    cell_subfault: np.ndarray
    config_text: str
    frame: str
    model_sha256: str
    crustgf_version: str
    structures: list[Structure]
    solve_options: str = ""  # JSON: backend, method, rtol of the latest run (root attribute)
    extras: list = field(default_factory=list)  # crustgf.greens.extras.ExtraSpec of the extras solved with each job
    history_times: np.ndarray | None = None  # s; set for a viscoelastic model (reference structure)

    @property
    def n_stations(self) -> int:
        return len(self.station_names)

    @property
    def n_subfaults(self) -> int:
        return len(self.area)


def header_from_model(model, model_sha256: str, structures: list[Structure]) -> GFHeader:
    from crustgf import __version__

    vertices, cells = fault_triangulation(model.nodes, model.fault_cells)
    return GFHeader(
        station_names=list(model.station_names),
        station_positions=np.asarray(model.station_positions, dtype=np.float64),
        station_lonlat=None if model.station_lonlat is None else np.asarray(model.station_lonlat, dtype=np.float64),
        centroid=np.asarray(model.subfaults.centroid, dtype=np.float64),
        strike=np.asarray(model.subfaults.strike, dtype=np.float64),
        dip=np.asarray(model.subfaults.dip, dtype=np.float64),
        area=np.asarray(model.subfaults.area, dtype=np.float64),
        vertices=vertices,
        cells=cells,
        cell_subfault=np.asarray(model.fault_cell_subfault, dtype=np.int64),
        config_text=model.config_text,
        frame=model.frame,
        model_sha256=model_sha256,
        crustgf_version=__version__,
        structures=structures,
    )


def fault_triangulation(nodes: np.ndarray, fault_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner triangles of the fault cells (TRI6 midsides dropped) over their own vertex list."""
    corners = np.asarray(fault_cells)[:, :3]
    used, cells = np.unique(corners, return_inverse=True)
    return np.asarray(nodes, dtype=np.float64)[used], cells.reshape(-1, 3).astype(np.int64)


@dataclass
class SolveState:
    """Results of one structure's solves, with the done mask."""

    displacement: np.ndarray  # (n_stations, 3, n_subfaults, 2)
    done: np.ndarray  # (n_subfaults, 2) bool
    residual: np.ndarray  # (n_subfaults, 2) f8
    iterations: np.ndarray  # (n_subfaults, 2) i8
    # SPEC 6 extras, name -> (..., n_subfaults, 2), NaN where not done (greens/extras.py)
    extras: dict = field(default_factory=dict)
    history: np.ndarray | None = None  # (n_times, n_stations, 3, n_subfaults, 2), viscoelastic

    @classmethod
    def empty(cls, n_stations: int, n_subfaults: int, extras=(), n_times: int | None = None) -> "SolveState":
        return cls(
            displacement=np.full((n_stations, 3, n_subfaults, 2), np.nan),
            done=np.zeros((n_subfaults, 2), dtype=bool),
            residual=np.full((n_subfaults, 2), np.nan),
            iterations=np.full((n_subfaults, 2), NOT_SOLVED_ITERATIONS, dtype=np.int64),
            extras={s.name: np.full(tuple(s.shape) + (n_subfaults, 2), np.nan) for s in extras},
            history=None if n_times is None else np.full((n_times, n_stations, 3, n_subfaults, 2), np.nan),
        )

    def merge(self, jobs: np.ndarray, displacement: np.ndarray, residual: np.ndarray,
              iterations: np.ndarray, converged: np.ndarray, extras: dict | None = None,
              history: np.ndarray | None = None) -> None:
        """Take a batch's results. A converged solve always wins; a failed one never replaces a done one."""
        jobs = np.asarray(jobs, dtype=np.int64).reshape(-1, 2)
        converged = np.asarray(converged, dtype=bool)
        sf, comp = jobs[:, 0], jobs[:, 1]
        take = converged | ~self.done[sf, comp]
        sf, comp = sf[take], comp[take]
        ok = converged[take]
        self.residual[sf, comp] = np.asarray(residual)[take]
        self.iterations[sf, comp] = np.asarray(iterations)[take]
        self.done[sf, comp] = ok
        disp = np.asarray(displacement, dtype=np.float64)[:, :, take]
        disp[:, :, ~ok] = np.nan
        self.displacement[:, :, sf, comp] = disp
        for name, target in self.extras.items():  # an extra the batch did not compute: NaN
            value = (extras or {}).get(name)
            value = np.full(target.shape[:-2] + (len(take),), np.nan) if value is None else np.asarray(value, float)
            value = value[..., take].copy()
            value[..., ~ok] = np.nan
            target[..., sf, comp] = value
        if self.history is not None:
            if history is None:
                raise CrustgfError("viscoelastic model: a finished batch came back without its history")
            hist = np.asarray(history, dtype=np.float64)[..., take]
            hist[..., ~ok] = np.nan
            self.history[..., sf, comp] = hist

    def missing(self) -> np.ndarray:
        """(k, 2) (subfault, component) of the solves not done, subfault-major order."""
        return np.argwhere(~self.done).astype(np.int64)

    @property
    def n_done(self) -> int:
        return int(self.done.sum())


def write_gf_file(path: Path, header: GFHeader, states: list[SolveState], solver_attrs: dict | None = None) -> None:
    """Write the whole file atomically (core/atomic.py: temporary file, fsync, rename over OUT).

    solver_attrs: root attributes saying which solver ran (solver_backend, solver_method)."""
    from crustgf.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            _write_contents(f, header, states)
            for key, value in (solver_attrs or {}).items():
                f.attrs[key] = str(value)


def read_solve_states(path: Path, header: GFHeader) -> list[SolveState]:
    """Load an existing file's results for resuming; refuse a file from another model."""
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise CrustgfError(f"{path}: cannot open as HDF5 ({exc}); delete it or use another -o") from None
    with f, damaged_file(path, RESOLVE_HINT):
        kind = _attr_str(f, "kind")
        if kind != KIND:
            raise CrustgfError(f"{path}: not a crustgf Green's-function file (kind = {kind!r}); use another -o")
        sha = _attr_str(f, "model_sha256")
        if sha != header.model_sha256:
            raise CrustgfError(
                f"{path}: solved on a different model (model_sha256 {sha[:12]}..., this model "
                f"{header.model_sha256[:12]}...); delete it or use another -o")
        states = []
        for i, structure in enumerate(header.structures):
            prefix = "" if i == 0 else f"variants/{structure.name}/"
            state = SolveState.empty(header.n_stations, header.n_subfaults, n_times=_n_times(header, i))
            if state.history is not None and "solve/done" in f:
                _read_history(f, path, header, state)
            if prefix + "solve/done" in f:
                state.done[:] = f[prefix + "solve/done"][()]
                state.residual[:] = f[prefix + "solve/residual"][()]
                state.iterations[:] = f[prefix + "solve/iterations"][()]
                state.displacement[:] = f[prefix + "greens_functions/displacement"][()]
                state.displacement[:, :, ~state.done] = np.nan
                if state.history is not None:
                    state.history[..., ~state.done] = np.nan
            _read_extras(f, prefix, state, header.extras)
            states.append(state)
    return states


def read_solve_options(path: Path) -> dict:
    """The solve options (backend, method, rtol) recorded by the latest run, {} when none."""
    import json

    try:
        with h5py.File(path, "r") as f:
            return json.loads(_attr_str(f, "solve_options") or "{}")
    except (OSError, ValueError):
        return {}


def _read_extras(f: h5py.File, prefix: str, state: SolveState, requested) -> None:
    """Load the extras (SPEC 6) a file holds, requested or not (finished work is kept). A requested
    extra that the file lacks makes its done solves missing again: they are solved anew with it."""
    from crustgf.greens.extras import TRACTION, is_extra_name

    names = [TRACTION] if prefix + TRACTION in f else []
    if prefix + "sensitivity" in f:
        g = f[prefix + "sensitivity"]
        names += [f"sensitivity/{layer}/{p}" for layer in g for p in g[layer]]
    for name in names:
        if is_extra_name(name):
            value = np.asarray(f[prefix + name][()], dtype=np.float64)
            value[..., ~state.done] = np.nan
            state.extras[name] = value
    for spec in requested:
        if spec.name not in state.extras:
            state.extras[spec.name] = np.full(tuple(spec.shape) + state.done.shape, np.nan)
        value = state.extras[spec.name]
        lacking = state.done & np.isnan(value).any(axis=tuple(range(value.ndim - 2)))
        state.done[lacking] = False  # solved before without it (or carried over): solve again
        state.displacement[:, :, lacking] = np.nan


def _n_times(header: GFHeader, structure: int) -> int | None:
    """Number of history times of a structure (only the reference has a history)."""
    return None if header.history_times is None or structure != 0 else len(header.history_times)


def _read_history(f: h5py.File, path: Path, header: GFHeader, state: SolveState) -> None:
    if "greens_functions/displacement_history" not in f:
        if f["solve/done"][()].any():
            raise CrustgfError(f"{path}: has elastic Green's functions but no displacement_history; "
                               "delete it or use another -o")
        return
    times = f["greens_functions/time"][()]
    if len(times) != len(header.history_times) or not np.allclose(times, header.history_times, rtol=1e-12):
        raise CrustgfError(f"{path}: its history times differ from the model's [viscoelastic] times; "
                           "delete it or use another -o")
    state.history[:] = f["greens_functions/displacement_history"][()]


def _write_history(g: h5py.Group, header: GFHeader, state: SolveState) -> None:
    d = _dataset(g, "greens_functions/displacement_history", state.history, "m/m")
    d.attrs["axes"] = ("time, station, component (east, north, up), subfault, slip (strike-slip, dip-slip)")
    d.attrs["meaning"] = ("viscoelastic (Maxwell) response to a unit step of slip at t = 0, at "
                          "/greens_functions/time; time 0 is the elastic response")
    d.attrs["not_done"] = "NaN where /solve/done is false"
    t = _dataset(g, "greens_functions/time", np.asarray(header.history_times, dtype=np.float64), "s")
    t.attrs["meaning"] = "seconds after the slip (the config's [viscoelastic] times are in years of 365.25 days)"


def read_solver_attrs(path: Path) -> dict[str, str]:
    """The solver_backend / solver_method root attributes of a GF file ({} where absent)."""
    with h5py.File(path, "r") as f:
        return {k: _attr_str(f, k) for k in SOLVER_ATTRS if k in f.attrs}


SOLVER_ATTRS = ("solver_backend", "solver_method")


def _write_contents(f: h5py.File, header: GFHeader, states: list[SolveState]) -> None:
    f.attrs["kind"] = KIND
    f.attrs["crustgf_version"] = header.crustgf_version
    f.attrs["config"] = header.config_text
    f.attrs["model_sha256"] = header.model_sha256
    f.attrs["frame"] = header.frame
    f.attrs["slip_convention"] = SLIP_CONVENTION
    f.attrs["variants"] = np.array([s.name for s in header.structures[1:]], dtype=h5py.string_dtype())
    if header.solve_options:
        f.attrs["solve_options"] = header.solve_options

    _dataset(f, "stations/name", np.array(header.station_names, dtype=h5py.string_dtype()), "")
    _dataset(f, "stations/position", header.station_positions, "m")
    if header.station_lonlat is not None:
        _dataset(f, "stations/lonlat", header.station_lonlat, "degree")
    _dataset(f, "subfaults/centroid", header.centroid, "m")
    _dataset(f, "subfaults/strike", header.strike, "degree")
    _dataset(f, "subfaults/dip", header.dip, "degree")
    _dataset(f, "subfaults/area", header.area, "m^2")
    _dataset(f, "subfaults/vertices", header.vertices, "m")
    _dataset(f, "subfaults/cells", header.cells, "1")
    _dataset(f, "subfaults/cell_subfault", header.cell_subfault, "1")

    for i, (structure, state) in enumerate(zip(header.structures, states)):
        g = f if i == 0 else f.require_group(f"variants/{structure.name}")
        _write_results(g, state)
        if state.history is not None:
            _write_history(g, header, state)
        _write_layers(g.require_group("model/layers"), structure.layers)


def _write_results(g: h5py.Group, state: SolveState) -> None:
    d = _dataset(g, "greens_functions/displacement", state.displacement, "m/m")
    d.attrs["axes"] = "station, component (east, north, up), subfault, slip (strike-slip, dip-slip)"
    d.attrs["not_done"] = "NaN where /solve/done is false"
    _dataset(g, "solve/done", state.done, "1")
    r = _dataset(g, "solve/residual", state.residual, "1")
    r.attrs["meaning"] = "true relative residual ||b - K x|| / ||b|| of the last attempt; NaN if never solved"
    it = _dataset(g, "solve/iterations", state.iterations, "1")
    it.attrs["meaning"] = "iterations of the last attempt (0 for a direct solve); -1 if never solved"
    if state.extras:
        from crustgf.greens.extras import spec_for_name

        for name, value in state.extras.items():
            spec = spec_for_name(name, value.shape)
            d = _dataset(g, name, value, spec.units)
            d.attrs["axes"] = spec.axes
            d.attrs["meaning"] = spec.meaning
            d.attrs["not_done"] = "NaN where /solve/done is false"


def _write_layers(g: h5py.Group, layers) -> None:
    _dataset(g, "name", np.array(list(layers.name), dtype=h5py.string_dtype()), "")
    _dataset(g, "bottom", np.asarray(layers.bottom, dtype=np.float64), "m")
    _dataset(g, "vp", np.asarray(layers.vp, dtype=np.float64), "m/s")
    _dataset(g, "vs", np.asarray(layers.vs, dtype=np.float64), "m/s")
    _dataset(g, "density", np.asarray(layers.density, dtype=np.float64), "kg/m^3")
    _dataset(g, "mu", np.asarray(layers.mu, dtype=np.float64), "Pa")
    _dataset(g, "lambda", np.asarray(layers.lam, dtype=np.float64), "Pa")
    kind = list(layers.kind) if len(layers.kind) else ["flat"] * len(layers.name)
    _dataset(g, "kind", np.array(kind, dtype=h5py.string_dtype()), "")


def _dataset(g: h5py.Group, name: str, data, units: str):
    from crustgf.io.modelfile import checksummed, text_sha256  # corruption is found on read

    d = g.create_dataset(name, data=data, **checksummed(data))
    if np.asarray(data).dtype == object:  # strings: a sha256 attribute instead of Fletcher-32
        d.attrs["sha256"] = text_sha256(np.asarray(data).tolist())
    d.attrs["units"] = units
    return d


def _attr_str(f: h5py.File, name: str) -> str:
    value = f.attrs.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)
