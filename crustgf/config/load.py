"""The validated configuration, in SI units and the local frame (x east, y north, z up, metres).

The TOML file speaks km, degrees, km/s and g/cm^3 (SPEC section 2); `load_config` converts
everything here, so the rest of crustgf never sees a km. Depths are stored positive down, in metres.

`load_config(path)` checks every key (unknown keys are errors at every level) and reports all
problems of a file at once in one ConfigError, each as `key.path: what is wrong`; array items are
counted from 0 (`layers[0]` is the first [[layers]] table). Relative file paths are relative to
the config file's folder.

Extensions to SPEC section 2 (and details SPEC leaves open):

| key | meaning |
| --- | --- |
| `[[plate_layers]]` name, thickness, vp, vs, density | layers of the subducting plate BELOW the plate interface, following it, top to bottom; thickness in km; the last one may omit thickness (it then reaches the domain bottom; stored as `bottom = inf`). Only with `fault.type = "grid"`. `Layer.bottom` holds the thickness in m. |
| `[[variants]]` name, changes | structure variants solved beside the reference model. `changes = [{layer = "upper_crust", vp_scale = 1.1, vs_scale = 1.1}, ...]`: each change names a flat or plate layer and gives any of vp, vs (km/s), density (g/cm^3) as new values, or vp_scale, vs_scale, density_scale as factors on the reference values (not both for one property). Names are unique and contain no '/'; a layer is changed at most once per variant; the changed layer must keep Poisson's ratio in (0, 0.5). |
| `viscosity` on `[[layers]]` / `[[plate_layers]]`, `[viscoelastic]` times, steps_per_tau | Maxwell layers (Pa s, > 0) and the output times of the history (years, >= 0, strictly increasing); read and checked by crustgf/config/viscoelastic.py (SPEC 6). |
| `[solver]` method, max_iterations | CPU method: "auto" (default: the fastest for the GFs asked, see solvers/choose.py), "direct" (PARDISO), "amg-cg" or "multigrid" (block PCG with the TET10 -> TET4 -> AMG V-cycle; TET10 only); iteration cap (default 5000). |
| `[solver]` traction, sensitivity | SPEC 6: `traction = true` adds the fault traction GFs; `sensitivity = "all"` or `["upper_crust", ...]` the kernels dG/dmu, dG/dlambda of those layers (names checked at solve time). Defaults: false, none. |
| `[mesh]`, `[solver]` | optional; defaults: order 2, size_fault 2 km, size_max 50 km; backend "auto", rtol 1e-8, batch 16. |
| `domain.origin` | [lon, lat] in degrees; lon in [-180, 360], lat in (-90, 90). |
| `stations.file` | one file name, or an array of them (`["../data/nankai_stations.csv", "mine.csv"]`): stations of every file in order, then the grid's. |
| station file columns | name, and lon, lat (degrees) or x, y (km); optional z (km, up; 0 on the free surface) or depth (km, down). Other columns are ignored; '#' lines are comments. |
| `stations.grid` | `{x = [x0, x1], y = [y0, y1], spacing = s}` km: points x0, x0 + s, ... <= x1 (same in y) on z = 0, named G0001, G0002, ... row by row (y from y0 upwards, x fastest). Listed after the file's stations. |
| depth-grid file (`fault.file`) | columns lon, lat (degrees) or x, y (km), and depth_km (or depth; km, positive down). The outline is in the same horizontal units as the file (lon/lat, or x/y km). |
| `fault.outline`, `fault.depth_range` | outline optional (none: the whole grid); depth_range required, 0 <= top < bottom < domain.depth. |
| where things may be | the fault rectangle strictly inside the box (its top edge may touch z = 0); stations strictly inside in x, y, on or below the free surface and above the bottom. |
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crustgf.core.errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from crustgf.config.checker import _Checker, _Section
from crustgf.config.domain import _far_field, _read_domain
from crustgf.config.fault import _read_fault
from crustgf.config.layers import _check_unique_layer_names, _read_flat_layers, _read_plate_layers
from crustgf.config.options import _read_mesh, _read_solver
from crustgf.config.schema import ROOT_KEYS, Config, GridFault
from crustgf.config.stations import _read_stations
from crustgf.config.variant_reader import _read_variants


def load_config(path) -> Config:
    """Read, check and convert a config file (SPEC section 2 plus the extensions above).

    Every problem found is collected; if there is any, one ConfigError lists them all, each as
    `key.path: what is wrong` (array items are counted from 0: `layers[0]` is the first layer).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read the file: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"TOML syntax error: {exc}"]) from None
    checker = _Checker()
    cfg = _read_config(checker, data, path.resolve().parent)
    if checker.problems:
        raise ConfigError(path, checker.problems)
    cfg.text = text
    cfg.path = path.resolve()
    cfg.files = checker.files
    return cfg


def _read_config(ck: _Checker, data: dict, base: Path) -> Config | None:
    root = _Section(ck, data, "", ROOT_KEYS)
    model = root.table("model", ("name",))
    name = model.string("name") if model else None
    domain, proj = _read_domain(ck, root)
    warnings: list[str] = []
    layers = _read_flat_layers(ck, root, domain, proj, base, warnings)
    fault = _read_fault(ck, root, domain, proj, base)
    plate = _read_plate_layers(ck, root)
    _check_unique_layer_names(ck, layers + plate)
    stations = _read_stations(ck, root, domain, proj, base)
    mesh = _read_mesh(ck, root)
    solver = _read_solver(ck, root)
    variants = _read_variants(ck, root, layers + plate)
    surface = None
    if root.has("surface"):
        from crustgf.config.surface import check_surface_geometry, read_surface

        surface = read_surface(ck, root, domain, proj, base, warnings)
        if surface is not None and not ck.problems:
            check_surface_geometry(ck, surface, domain, layers, fault, stations)
    if not ck.problems and any(e.layer.surface is not None for e in layers):
        from crustgf.config.layer_surfaces import check_layer_surfaces

        check_layer_surfaces(ck, layers, domain, surface)
    if isinstance(fault, GridFault) and fault.reach_surface and not ck.problems:
        from crustgf.geometry.updip import extend_updip

        elevation = surface.elevation if surface is not None else (lambda x, y: np.zeros(np.shape(x)))
        fault.points = extend_updip(fault.points, elevation)
    if not ck.problems:
        domain = _far_field(domain, layers, fault, stations, warnings)
    viscoelastic = _read_viscoelastic(ck, data)
    if ck.problems:
        return None
    return Config(name=name, domain=domain, layers=[e.layer for e in layers], fault=fault,
                  stations=stations, mesh=mesh, solver=solver,
                  plate_layers=[e.layer for e in plate], variants=variants, surface=surface,
                  warnings=warnings, viscoelastic=viscoelastic)


def _read_viscoelastic(ck, data):
    """`viscosity` of layers and the [viscoelastic] table (crustgf.config.viscoelastic reads and checks them)."""
    from crustgf.config.viscoelastic import read_viscoelastic

    options, problems = read_viscoelastic(data)
    for problem in problems:
        ck.add("", problem)
    return options
