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
| `viscosity` on `[[layers]]` / `[[plate_layers]]`, `[viscoelastic]` times, steps_per_tau | Maxwell layers (Pa s, > 0) and the output times of the history (years, >= 0, strictly increasing); read and checked by viscoconfig.py (SPEC 6). |
| `[solver]` method, max_iterations | CPU method: "auto" (default: the fastest for the GFs asked, see solvers/choose.py), "direct" (PARDISO), "amg-cg" or "multigrid" (block PCG with the TET10 -> TET4 -> AMG V-cycle; TET10 only); iteration cap (default 5000). |
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

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crustgf.core.errors import ConfigError, CrustgfError
from crustgf.fem.material import lame_lambda, poisson_ratio, shear_modulus
from crustgf.geometry.frames import rectangle_corners
from crustgf.geometry.surface import Surface
from crustgf.geometry.projection import Projection
from crustgf.core.tables import read_depth_grid, read_station_file

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass
class Layer:
    """A flat layer from the surface downwards, or a plate layer following the plate interface."""

    name: str
    bottom: float  # m, depth of the layer's bottom (positive down); for plate layers: thickness (m)
    vp: float  # m/s
    vs: float  # m/s
    density: float  # kg/m^3

    @property
    def mu(self) -> float:
        return shear_modulus(self.vs, self.density)

    @property
    def lam(self) -> float:
        return lame_lambda(self.vp, self.vs, self.density)

    @property
    def poisson(self) -> float:
        return poisson_ratio(self.vp, self.vs)


@dataclass
class Domain:
    x: tuple[float, float]  # m
    y: tuple[float, float]  # m
    depth: float  # m, positive
    origin: tuple[float, float] | None  # lon, lat of (0, 0), degrees
    # far-field core (x0, x1, y0, y1, depth) m: set when crustgf sized the box (domain x, y or depth
    # omitted); outside it element sizes grow past mesh.size_max with distance (mesh/sizing.py)
    core: tuple[float, float, float, float, float] | None = None


@dataclass
class RectangleFault:
    top_center: tuple[float, float, float]  # x, y (m), depth of the top edge's midpoint (m, positive down)
    strike: float  # degrees clockwise from north
    dip: float  # degrees, dips to the right of strike
    length: float  # m along strike
    width: float  # m down dip
    subfaults: tuple[int, int]  # n along strike, n down dip
    type: str = "rectangle"


@dataclass
class GridFault:
    points: np.ndarray  # (n, 3): x, y (m, local frame), depth (m, positive down) of the interface
    outline: np.ndarray | None  # (k, 2) polygon in x, y (m), or None: the whole grid
    depth_range: tuple[float, float]  # m, positive down
    subfault_size: float  # m
    file: str  # resolved path of the source file, for provenance
    type: str = "grid"
    reach_surface: bool = False  # extend up-dip along the fault's own dip to the free surface


@dataclass
class Stations:
    names: list[str]
    positions: np.ndarray  # (n, 3) m, local frame; z = 0 on the free surface, negative below
    lonlat: np.ndarray | None  # (n, 2) degrees, when an origin is given
    # (n,) bool: stations given without z/depth, which sit on the free surface (z = its elevation)
    on_surface: np.ndarray | None = None


@dataclass
class MeshOptions:
    order: int = 2
    size_fault: float = 2000.0  # m
    size_max: float = 50000.0  # m


@dataclass
class SolverOptions:
    backend: str = "auto"  # auto | cpu | cuda
    rtol: float = 1e-8
    batch: int = 16
    method: str = "auto"  # cpu: one of METHODS
    max_iterations: int = 5000
    traction: bool = False  # SPEC 6: /greens_functions/traction
    sensitivity: object = None  # SPEC 6: layer names or "all" -> /sensitivity/<layer>/{mu,lambda}


@dataclass
class LayerChange:
    """One change of one layer in a variant: a value (SI) or a scale factor per property."""

    layer: str
    vp: float | None = None
    vs: float | None = None
    density: float | None = None
    vp_scale: float | None = None
    vs_scale: float | None = None
    density_scale: float | None = None


@dataclass
class Variant:
    name: str
    changes: list[LayerChange] = field(default_factory=list)


@dataclass
class Config:
    name: str
    domain: Domain
    layers: list[Layer]  # flat layers, top to bottom; the last bottom equals domain.depth
    fault: RectangleFault | GridFault
    stations: Stations
    mesh: MeshOptions = field(default_factory=MeshOptions)
    solver: SolverOptions = field(default_factory=SolverOptions)
    plate_layers: list[Layer] = field(default_factory=list)  # below the interface, `bottom` = thickness
    variants: list[Variant] = field(default_factory=list)
    text: str = ""  # the TOML text, verbatim
    path: Path | None = None  # the config file
    files: list[Path] = field(default_factory=list)  # the files it names (stations, fault grid), resolved
    surface: Surface | None = None  # [surface]: topography/bathymetry; None: flat at z = 0
    warnings: list[str] = field(default_factory=list)  # one line each, shown by `crustgf mesh`
    viscoelastic: object | None = None  # crustgf.config.viscoelastic.ViscoelasticOptions, None: elastic model


# --------------------------------------------------------------------------------------------
# Loading and checking
# --------------------------------------------------------------------------------------------

KM = 1000.0  # m
KM_S = 1000.0  # m/s per km/s
G_CM3 = 1000.0  # kg/m^3 per g/cm^3

# Solver backend and CPU method names: listed here only (the CLI, the solve and the solvers use these).
BACKENDS = ("auto", "cpu", "cuda")
METHODS = ("auto", "direct", "amg-cg", "multigrid")  # the one list of [solver] method names
FAULT_TYPES = ("rectangle", "grid")


def parse_stored_config(text: str, source: str | None = None) -> dict:
    """A config's TOML text as stored in a model or GF file (already validated when meshing).

    The one place that parses stored config text. Unreadable text gives {} when `source` is None,
    else a one-line CrustgfError naming `source`.
    """
    try:
        return tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as exc:
        if source is None:
            return {}
        raise CrustgfError(f"{source}: stored config is not valid TOML ({exc})") from None


def stored_origin(text: str) -> tuple[float, float] | None:
    """domain.origin (lon, lat) of a stored config text, or None."""
    origin = parse_stored_config(text).get("domain", {}).get("origin")
    return (float(origin[0]), float(origin[1])) if origin else None


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


def apply_variant(layers: list[Layer], variant: Variant) -> list[Layer]:
    """The layers with a variant's changes applied (new Layer objects; the input is untouched).

    A value replaces the property; a scale multiplies the reference value.
    """
    by_name = {c.layer: c for c in variant.changes}
    out = []
    for layer in layers:
        c = by_name.get(layer.name)
        new = Layer(layer.name, layer.bottom, layer.vp, layer.vs, layer.density)
        if c is not None:
            for prop in ("vp", "vs", "density"):
                value, scale = getattr(c, prop), getattr(c, prop + "_scale")
                if value is not None:
                    setattr(new, prop, value)
                elif scale is not None:
                    setattr(new, prop, scale * getattr(layer, prop))
        out.append(new)
    return out


# --- the problem collector and typed access to TOML tables ---------------------------------------


class _Checker:
    def __init__(self):
        self.problems: list[str] = []
        self.files: list[Path] = []  # every file the config names (inputs; hashed for staleness)

    def add(self, path: str, message: str) -> None:
        message = " ".join(message.split())  # one line, whatever a file or library said
        self.problems.append(f"{path}: {message}" if path else message)

    def require(self, ok: bool, path: str, message: str) -> bool:
        if not ok:
            self.add(path, message)
        return ok


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(v) -> str:
    """A value as the user wrote it (TOML-ish), for messages."""
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def _kind(v) -> str:
    for t, name in ((bool, "a boolean"), (str, "a string"), (int, "an integer"), (float, "a number"),
                    (dict, "a table"), (list, "an array")):
        if isinstance(v, t):
            return name
    return type(v).__name__


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Section:
    """One TOML table at a key path: typed getters that report problems and return None."""

    def __init__(self, ck: _Checker, data: dict, path: str, allowed: tuple[str, ...]):
        self.ck, self.data, self.path = ck, data, path
        for key in data:
            if key not in allowed:
                ck.add(_join(path, key), f"unknown key (allowed here: {', '.join(allowed)})")

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, required: bool):
        if key not in self.data:
            if required:
                self.ck.add(self.at(key), "missing required key")
            return None
        return self.data[key]

    def number(self, key, required=True, default=None):
        v = self.raw(key, required)
        if v is None:
            return default
        if not _is_number(v):
            self.ck.add(self.at(key), f"must be a number, got {_kind(v)} {_show(v)}")
            return None
        if not math.isfinite(v):
            self.ck.add(self.at(key), f"must be a finite number, got {_show(v)}")
            return None
        return float(v)

    def integer(self, key, required=True, default=None):
        v = self.raw(key, required)
        if v is None:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            self.ck.add(self.at(key), f"must be an integer, got {_kind(v)} {_show(v)}")
            return None
        return v

    def string(self, key, required=True, default=None, choices=None):
        v = self.raw(key, required)
        if v is None:
            return default
        if not isinstance(v, str):
            self.ck.add(self.at(key), f"must be a string, got {_kind(v)} {_show(v)}")
            return None
        if choices is not None and v not in choices:
            self.ck.add(self.at(key), f"must be one of {', '.join(choices)}; got {_show(v)}")
            return None
        if choices is None and not v.strip():
            self.ck.add(self.at(key), "must not be empty")
            return None
        return v

    def numbers(self, key, n, required=True):
        """An array of exactly n numbers, as a tuple of floats."""
        v = self.raw(key, required)
        if v is None:
            return None
        if not (isinstance(v, list) and len(v) == n and all(_is_number(x) for x in v)):
            self.ck.add(self.at(key), f"must be an array of {n} numbers, got {_show(v)}")
            return None
        if not all(math.isfinite(x) for x in v):
            self.ck.add(self.at(key), f"must hold finite numbers, got {_show(v)}")
            return None
        return tuple(float(x) for x in v)

    def table(self, key, allowed, required=True):
        v = self.raw(key, required)
        if v is None:
            return None
        if not isinstance(v, dict):
            self.ck.add(self.at(key), f"must be a table, got {_kind(v)} {_show(v)}")
            return None
        return _Section(self.ck, v, self.at(key), allowed)

    def tables(self, key, allowed, required=True):
        """An array of tables ([[key]]), as sections layers[0], layers[1], ..."""
        v = self.raw(key, required)
        if v is None:
            return None
        if not (isinstance(v, list) and all(isinstance(x, dict) for x in v)):
            self.ck.add(self.at(key), f"must be an array of tables ([[{key}]]), got {_kind(v)}")
            return None
        if not v and required:
            self.ck.add(self.at(key), "must not be empty")
            return None
        return [_Section(self.ck, x, f"{self.at(key)}[{i}]", allowed) for i, x in enumerate(v)]


def _positive(ck, sec, key, value) -> bool:
    return value is not None and ck.require(value > 0, sec.at(key), f"must be > 0, got {_show(value)}")


def _increasing(ck, sec, key, pair) -> bool:
    return pair is not None and ck.require(pair[1] > pair[0], sec.at(key),
                                           f"must be increasing, got {list(pair)}")


# --- sections --------------------------------------------------------------------------------------

ROOT_KEYS = ("model", "domain", "layers", "plate_layers", "fault", "stations", "mesh", "solver",
             "variants", "surface", "viscoelastic")


def _read_config(ck: _Checker, data: dict, base: Path) -> Config | None:
    root = _Section(ck, data, "", ROOT_KEYS)
    model = root.table("model", ("name",))
    name = model.string("name") if model else None
    domain, proj = _read_domain(ck, root)
    layers = _read_flat_layers(ck, root, domain)
    fault = _read_fault(ck, root, domain, proj, base)
    plate = _read_plate_layers(ck, root)
    _check_unique_layer_names(ck, layers + plate)
    stations = _read_stations(ck, root, domain, proj, base)
    mesh = _read_mesh(ck, root)
    solver = _read_solver(ck, root)
    variants = _read_variants(ck, root, layers + plate)
    warnings: list[str] = []
    surface = None
    if root.has("surface"):
        from crustgf.config.surface import check_surface_geometry, read_surface

        surface = read_surface(ck, root, domain, proj, base, warnings)
        if surface is not None and not ck.problems:
            check_surface_geometry(ck, surface, domain, layers, fault, stations)
    if isinstance(fault, GridFault) and fault.reach_surface and not ck.problems:
        from crustgf.geometry.updip import extend_updip

        elevation = surface.elevation if surface is not None else (lambda x, y: np.zeros(np.shape(x)))
        fault.points = extend_updip(fault.points, elevation)
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


class _Origin:
    """Marks what we know about domain.origin: absent, given but invalid, or valid."""

    ABSENT, INVALID = "absent", "invalid"


def _read_domain(ck, root):
    """Domain with None for fields that failed their checks, and the Projection (or an _Origin mark)."""
    sec = root.table("domain", ("x", "y", "depth", "origin"))
    if sec is None:
        return Domain(None, None, None, None), _Origin.INVALID
    x, y = sec.numbers("x", 2), sec.numbers("y", 2)
    x = x if _increasing(ck, sec, "x", x) else None
    y = y if _increasing(ck, sec, "y", y) else None
    depth = sec.number("depth")
    depth = depth if _positive(ck, sec, "depth", depth) else None
    origin, proj = None, _Origin.ABSENT
    if sec.has("origin"):
        origin, proj = sec.numbers("origin", 2), _Origin.INVALID
        if origin is not None:
            lon, lat = origin
            ok = ck.require(-180.0 <= lon <= 360.0, sec.at("origin"),
                            f"longitude must be in [-180, 360] degrees, got {_show(lon)}")
            ok &= ck.require(-90.0 < lat < 90.0, sec.at("origin"),
                             f"latitude must be in (-90, 90) degrees, got {_show(lat)}")
            if ok:
                proj = Projection(origin)
            else:
                origin = None
    return Domain(_km_pair(x), _km_pair(y), None if depth is None else depth * KM, origin), proj


def _km_pair(p):
    return None if p is None else (p[0] * KM, p[1] * KM)


def _projection_for(ck, path, proj, what):
    """The Projection for lon/lat input `what`, or None (reported when the origin is missing)."""
    if proj is _Origin.ABSENT:
        ck.add(path, f"{what} is in lon/lat, so domain.origin is required")
    return proj if isinstance(proj, Projection) else None


MATERIAL_KEYS = ("vp", "vs", "density")


@dataclass
class _LayerEntry:
    """A [[layers]] or [[plate_layers]] table as read: its name (if a valid string), key path, and
    the Layer (None when any of its values has a problem)."""

    name: str | None
    path: str
    layer: Layer | None


# Above these, a value was almost surely given in SI units (m/s, kg/m^3) instead of km/s, g/cm^3.
UNIT_LIMITS = {"vp": (20.0, "km/s", "m/s"), "vs": (20.0, "km/s", "m/s"), "density": (10.0, "g/cm^3", "kg/m^3")}


def _plausible_units(ck, sec, key, value) -> bool:
    """No rock has velocities over 20 km/s or densities over 10 g/cm^3: suggest the unit slip."""
    limit, unit, si = UNIT_LIMITS[key]
    return value is None or ck.require(
        value <= limit, sec.at(key),
        f"{_show(value)} {unit} is over {limit:g} {unit}, more than any rock; {key} is in {unit}, "
        f"not {si}: did you mean {value / 1000.0:g}?")


def _read_material(ck, sec):
    """(vp, vs, density) in SI, or None; checks positivity, plausible units and Poisson's ratio."""
    vp, vs, rho = (sec.number(k) for k in MATERIAL_KEYS)
    ok = [_positive(ck, sec, k, v) and _plausible_units(ck, sec, k, v) for k, v in zip(MATERIAL_KEYS, (vp, vs, rho))]
    if ok[0] and ok[1]:
        nu = poisson_ratio(vp, vs)
        ok.append(ck.require(0.0 < nu < 0.5, sec.path,
                             f"Poisson's ratio must be strictly between 0 and 0.5 (needs vp > sqrt(2) vs), "
                             f"got {nu:.4g} from vp = {_show(vp)}, vs = {_show(vs)}"))
    return (vp * KM_S, vs * KM_S, rho * G_CM3) if all(ok) else None


def _read_flat_layers(ck, root, domain) -> list[_LayerEntry]:
    """Bottoms strictly increasing, the last at domain.depth."""
    secs = root.tables("layers", ("name", "bottom") + MATERIAL_KEYS + ("viscosity",))
    out = []
    if secs is None:
        return out
    previous = 0.0
    for sec in secs:
        name = sec.string("name")
        bottom = sec.number("bottom")
        if bottom is not None:
            if ck.require(bottom > previous, sec.at("bottom"),
                          f"must be > {_show(previous)} (the layer above's bottom, or the surface), "
                          f"got {_show(bottom)}"):
                previous = bottom
        mat = _read_material(ck, sec)
        ok = name is not None and bottom is not None and mat is not None
        out.append(_LayerEntry(name, sec.path, Layer(name, bottom * KM, *mat) if ok else None))
    last = secs[-1].data.get("bottom")  # checked above; here only its relation to the domain
    if _is_number(last) and domain.depth is not None and not math.isclose(last * KM, domain.depth,
                                                                           rel_tol=1e-12):
        ck.add(secs[-1].at("bottom"),
               f"the last layer must end at domain.depth = {_show(domain.depth / KM)}, got {_show(last)}")
    return out


def _read_plate_layers(ck, root) -> list[_LayerEntry]:
    """Plate layers below the plate interface; `bottom` holds the thickness (m), inf for the last
    one when it omits `thickness` (it reaches the domain bottom)."""
    secs = root.tables("plate_layers", ("name", "thickness") + MATERIAL_KEYS + ("viscosity",), required=False)
    if not secs:
        return []
    fault_table = root.data.get("fault")
    if isinstance(fault_table, dict) and fault_table.get("type") == "rectangle":
        ck.add("plate_layers", 'only allowed with fault.type = "grid" (they follow the plate interface)')
    out = []
    for i, sec in enumerate(secs):
        name = sec.string("name")
        last = i == len(secs) - 1
        thickness = sec.number("thickness", required=not last, default=math.inf)
        if thickness is not None and not _positive(ck, sec, "thickness", thickness):
            thickness = None
        mat = _read_material(ck, sec)
        ok = name is not None and thickness is not None and mat is not None
        out.append(_LayerEntry(name, sec.path, Layer(name, thickness * KM, *mat) if ok else None))
    return out


def _check_unique_layer_names(ck, entries):
    """Flat and plate layer names together: variants refer to layers by name."""
    seen = set()
    for e in entries:
        if e.name is not None:
            ck.require(e.name not in seen, _join(e.path, "name"), f"layer name {_show(e.name)} is used twice")
            seen.add(e.name)


RECTANGLE_KEYS = ("type", "top_center", "strike", "dip", "length", "width", "subfaults")
GRID_KEYS = ("type", "file", "outline", "depth_range", "subfault_size", "reach_surface")


def _read_fault(ck, root, domain, proj, base):
    sec = root.table("fault", tuple(dict.fromkeys(RECTANGLE_KEYS + GRID_KEYS)))
    if sec is None:
        return None
    kind = sec.string("type", choices=FAULT_TYPES)
    if kind is None:
        return None
    own = RECTANGLE_KEYS if kind == "rectangle" else GRID_KEYS
    for key in sec.data:  # keys of the other form (keys of neither are reported as unknown)
        if key not in own and key in RECTANGLE_KEYS + GRID_KEYS:
            ck.add(sec.at(key), f'not a key of a fault of type = "{kind}"')
    if kind == "rectangle":
        return _read_rectangle(ck, sec, domain)
    return _read_grid_fault(ck, sec, domain, proj, base)


def _read_rectangle(ck, sec, domain):
    top = sec.numbers("top_center", 3)
    if top is not None and not ck.require(top[2] >= 0.0, sec.at("top_center"),
                                          f"top depth must be >= 0 (not above the free surface), "
                                          f"got {_show(top[2])}"):
        top = None
    strike = sec.number("strike")
    dip = sec.number("dip")
    if dip is not None and not ck.require(0.0 < dip <= 90.0, sec.at("dip"),
                                          f"must be in (0, 90] degrees, got {_show(dip)}"):
        dip = None
    length, width = sec.number("length"), sec.number("width")
    length = length if _positive(ck, sec, "length", length) else None
    width = width if _positive(ck, sec, "width", width) else None
    counts = _positive_integers(ck, sec, "subfaults", 2)
    parts = (top, strike, dip, length, width, counts)
    if any(p is None for p in parts):
        return None
    fault = RectangleFault((top[0] * KM, top[1] * KM, top[2] * KM), strike, dip, length * KM,
                           width * KM, counts)
    _check_rectangle_inside(ck, sec, fault, domain)
    return fault


def _positive_integers(ck, sec, key, n):
    v = sec.raw(key, True)
    if v is None:
        return None
    ok = isinstance(v, list) and len(v) == n and all(isinstance(k, int) and not isinstance(k, bool)
                                                     and k > 0 for k in v)
    if not ck.require(ok, sec.at(key), f"must be an array of {n} positive integers, got {_show(v)}"):
        return None
    return tuple(v)


def _check_rectangle_inside(ck, sec, fault, domain):
    """Every corner strictly inside the box (the top edge may touch the free surface z = 0)."""
    if domain.x is None or domain.y is None or domain.depth is None:
        return
    x, y, d = fault.top_center
    corners = rectangle_corners((x, y, -d), fault.strike, fault.dip, fault.length, fault.width)
    (x0, x1), (y0, y1) = domain.x, domain.y
    for cx, cy, cz in corners:
        inside = x0 < cx < x1 and y0 < cy < y1 and -domain.depth < cz <= 1e-9 * domain.depth
        if not inside:
            ck.add(sec.path, "the rectangle must lie strictly inside the domain; its corner at "
                   f"(x, y, depth) = ({cx / KM:.3f}, {cy / KM:.3f}, {-cz / KM:.3f}) km is outside")
            return


def _resolve_file(ck, sec, key, base):
    """The resolved path of an existing file named by key, or None (reported)."""
    name = sec.string(key)
    if name is None:
        return None
    path = (base / Path(name).expanduser()).resolve()
    if not ck.require(path.is_file(), sec.at(key), f"file not found: {path}"):
        return None
    ck.files.append(path)
    return path


def _read_table_file(ck, sec, key, path, reader):
    try:
        return reader(path)
    except CrustgfError as exc:
        ck.add(sec.at(key), f"{path}: {exc}")
        return None


def _horizontal_to_xy(ck, path, kind, a, b, proj, what):
    """Local x, y in m from lon/lat (degrees, projected) or x/y (km); None when lon/lat lacks an origin."""
    if kind == "xy":
        return np.asarray(a) * KM, np.asarray(b) * KM
    p = _projection_for(ck, path, proj, what)
    if p is None:
        return None
    return p.to_xy(a, b)


def _read_grid_fault(ck, sec, domain, proj, base):
    path = _resolve_file(ck, sec, "file", base)
    grid = _read_table_file(ck, sec, "file", path, read_depth_grid) if path else None
    points = None
    if grid is not None:
        xy = _horizontal_to_xy(ck, sec.at("file"), grid.horizontal, grid.a, grid.b, proj, "the depth grid")
        if xy is not None:
            points = np.column_stack([xy[0], xy[1], grid.depth_km * KM])
    outline = _read_outline(ck, sec, grid, proj, domain)
    depth_range = sec.numbers("depth_range", 2)
    if depth_range is not None:
        ok = ck.require(depth_range[0] >= 0.0, sec.at("depth_range"),
                        f"must be >= 0 (depths are positive down), got {list(depth_range)}")
        ok = ok and _increasing(ck, sec, "depth_range", depth_range)
        if ok and domain.depth is not None:
            ok = ck.require(depth_range[1] * KM < domain.depth, sec.at("depth_range"),
                            f"must end above domain.depth = {_show(domain.depth / KM)}, "
                            f"got {list(depth_range)}")
        depth_range = depth_range if ok else None
    size = sec.number("subfault_size")
    size = size if _positive(ck, sec, "subfault_size", size) else None
    reach = sec.raw("reach_surface", False)
    if reach is not None and not ck.require(isinstance(reach, bool), sec.at("reach_surface"),
                                            f"must be true or false, got {_show(reach)}"):
        return None
    if points is None or depth_range is None or size is None or outline is False:
        return None
    return GridFault(points, outline, (depth_range[0] * KM, depth_range[1] * KM), size * KM, str(path),
                     reach_surface=bool(reach))


def _read_outline(ck, sec, grid, proj, domain):
    """The outline polygon (k, 2) in m, None when absent, False when it has a problem."""
    v = sec.raw("outline", False)
    if v is None:
        return None
    ok = (isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 and all(_is_number(c) for c in p)
                                      for p in v))
    if not ck.require(ok, sec.at("outline"), "must be an array of [a, b] number pairs"):
        return False
    if not ck.require(len(v) >= 3, sec.at("outline"), f"needs at least 3 points, got {len(v)}"):
        return False
    if grid is None:
        return False  # the file's problem is reported; its columns decide the outline's units
    pts = np.asarray(v, dtype=float)
    xy = _horizontal_to_xy(ck, sec.at("outline"), grid.horizontal, pts[:, 0], pts[:, 1], proj, "the outline")
    if xy is None:
        return False
    outline = np.column_stack(xy)
    if domain.x is not None and domain.y is not None:
        (x0, x1), (y0, y1) = domain.x, domain.y
        out = [i for i, (x, y) in enumerate(outline) if not (x0 < x < x1 and y0 < y < y1)]
        if out:
            x, y = outline[out[0]] / KM
            ck.add(sec.at("outline"), f"must lie strictly inside the domain; point(s) {_few(out)} "
                   f"(counted from 0) are outside, e.g. (x, y) = ({x:.3f}, {y:.3f}) km")
            return False
    return outline


def _read_stations(ck, root, domain, proj, base):
    """File stations first (in file order), then grid stations."""
    sec = root.table("stations", ("file", "grid"))
    if sec is None:
        return None
    if not ck.require(sec.has("file") or sec.has("grid"), sec.path, "give a file or a grid (or both)"):
        return None
    parts = []  # (names, positions (n, 3) m, lon/lat as written or None)
    if sec.has("file"):
        files = _station_file_keys(ck, sec)
        if files is None:
            return None
        parts += [_stations_from_file(ck, fsec, base, proj, key) for fsec, key in files]
    if sec.has("grid"):
        parts.append(_stations_from_grid(ck, sec))
    if None in parts:
        return None
    names = [n for part in parts for n in part[0]]
    if not ck.require(len(names) > 0, sec.path, "no stations (the file or grid is empty)"):
        return None
    positions = np.vstack([part[1] for part in parts])
    on_surface = np.concatenate([np.full(len(part[0]), part[3] if len(part) > 3 else True) for part in parts])
    ok = _check_station_names(ck, sec, names)
    ok &= _check_stations_inside(ck, sec, names, positions, domain, above_zero=not root.has("surface"))
    if not ok:
        return None
    lonlat = None
    if isinstance(proj, Projection):
        lonlat = np.vstack([ll if ll is not None else np.column_stack(proj.to_lonlat(p[:, 0], p[:, 1]))
                            for _, p, ll, *_ in parts])
    return Stations(names, positions, lonlat, on_surface=on_surface)


def _station_file_keys(ck, sec):
    """[(section, key)] for `file = "a.csv"` or `file = ["a.csv", "b.csv"]` (keys file[0], file[1], ...)."""
    v = sec.data["file"]
    if not isinstance(v, list):
        return [(sec, "file")]
    if not ck.require(len(v) > 0, sec.at("file"), "must be a file name or a non-empty array of them"):
        return None
    keys = [f"file[{i}]" for i in range(len(v))]
    return [(_Section(ck, {k: item}, sec.path, (k,)), k) for k, item in zip(keys, v)]


def _stations_from_file(ck, sec, base, proj, key="file"):
    path = _resolve_file(ck, sec, key, base)
    st = _read_table_file(ck, sec, key, path, read_station_file) if path else None
    if st is None:
        return None
    xy = _horizontal_to_xy(ck, sec.at(key), st.horizontal, st.a, st.b, proj, "the station file")
    if xy is None:
        return None
    lonlat = np.column_stack([st.a, st.b]) if st.horizontal == "lonlat" else None
    return st.names, np.column_stack([xy[0], xy[1], st.z_km * KM]), lonlat, not st.has_z


def _stations_from_grid(ck, sec):
    """A regular grid on z = 0, named G0001, G0002, ... row by row: y from its start, x fastest."""
    grid = sec.table("grid", ("x", "y", "spacing"))
    if grid is None:
        return None
    x, y, spacing = grid.numbers("x", 2), grid.numbers("y", 2), grid.number("spacing")
    ok = all([_positive(ck, grid, "spacing", spacing)] +
             [p is not None and ck.require(p[1] >= p[0], grid.at(k), f"must be increasing, got {list(p)}")
              for k, p in (("x", x), ("y", y))])
    if not ok:
        return None
    xs, ys = _grid_line(x, spacing), _grid_line(y, spacing)
    if not ck.require(len(xs) * len(ys) <= 1_000_000, grid.path,
                      f"{len(xs) * len(ys)} stations; more than 1000000 is surely a mistake"):
        return None
    gx, gy = np.meshgrid(xs, ys)  # rows follow y, columns x: row-major = x fastest
    n = gx.size
    width = max(4, len(str(n)))
    names = [f"G{i + 1:0{width}d}" for i in range(n)]
    return names, np.column_stack([gx.ravel() * KM, gy.ravel() * KM, np.zeros(n)]), None


def _grid_line(r, spacing):
    """Points from r[0] by spacing up to r[1] inclusive (with a tolerance for rounding)."""
    n = int(math.floor((r[1] - r[0]) / spacing + 1e-9)) + 1
    return r[0] + spacing * np.arange(n)


def _check_station_names(ck, sec, names) -> bool:
    seen, repeated = set(), []
    for n in names:
        if n in seen and n not in repeated:
            repeated.append(n)
        seen.add(n)
    return ck.require(not repeated, sec.path, f"station names must be unique; repeated: {_few(repeated)}")


def _few(items, k=5) -> str:
    shown = ", ".join(str(i) for i in items[:k])
    return shown + (f" and {len(items) - k} more" if len(items) > k else "")


def _check_stations_inside(ck, sec, names, positions, domain, above_zero=True) -> bool:
    """x, y strictly inside the domain; 0 >= z > -depth (on or below the free surface; under a
    [surface] the z check is crustgf.config.surface's)."""
    if domain.x is None or domain.y is None or domain.depth is None:
        return False
    (x0, x1), (y0, y1) = domain.x, domain.y
    x, y, z = positions.T
    outside = ~((x0 < x) & (x < x1) & (y0 < y) & (y < y1) & (z > -domain.depth))
    above = (z > 0.0) & above_zero
    ok = ck.require(not outside.any(), sec.path,
                    f"{outside.sum()} station(s) outside the domain: "
                    + _few([f"{names[i]} ({x[i] / KM:.3f}, {y[i] / KM:.3f}, {z[i] / KM:.3f}) km"
                            for i in np.flatnonzero(outside)], 3))
    ok &= ck.require(not above.any(), sec.path,
                     f"{above.sum()} station(s) above the free surface (z > 0): "
                     + _few([names[i] for i in np.flatnonzero(above)]))
    return ok


def _read_mesh(ck, root):
    sec = root.table("mesh", ("order", "size_fault", "size_max"), required=False)
    d = MeshOptions()
    if sec is None:
        return d
    order = sec.integer("order", required=False, default=d.order)
    if order is not None:
        ck.require(order in (1, 2), sec.at("order"), f"must be 1 or 2, got {order}")
    size_fault = sec.number("size_fault", required=False, default=d.size_fault / KM)
    size_max = sec.number("size_max", required=False, default=d.size_max / KM)
    if _positive(ck, sec, "size_fault", size_fault) and size_max is not None:
        ck.require(size_max >= size_fault, sec.at("size_max"),
                   f"must be >= size_fault = {_show(size_fault)}, got {_show(size_max)}")
    if None in (order, size_fault, size_max):
        return d
    return MeshOptions(order, size_fault * KM, size_max * KM)


def _read_solver(ck, root):
    sec = root.table("solver", ("backend", "rtol", "batch", "method", "max_iterations", "traction",
                                "sensitivity"), required=False)
    d = SolverOptions()
    if sec is None:
        return d
    backend = sec.string("backend", required=False, default=d.backend, choices=BACKENDS)
    method = sec.string("method", required=False, default=d.method, choices=METHODS)
    rtol = sec.number("rtol", required=False, default=d.rtol)
    if rtol is not None:
        ck.require(0.0 < rtol < 1.0, sec.at("rtol"), f"must be in (0, 1), got {_show(rtol)}")
    batch = sec.integer("batch", required=False, default=d.batch)
    if batch is not None:
        ck.require(batch >= 1, sec.at("batch"), f"must be >= 1, got {batch}")
    max_it = sec.integer("max_iterations", required=False, default=d.max_iterations)
    if max_it is not None:
        ck.require(max_it >= 1, sec.at("max_iterations"), f"must be >= 1, got {max_it}")
    traction, sensitivity = _read_extras_options(ck, sec)
    if None in (backend, method, rtol, batch, max_it):
        return d
    return SolverOptions(backend, rtol, batch, method, max_it, traction, sensitivity)


def _read_extras_options(ck, sec):
    """[solver] traction (bool) and sensitivity ("all" or a list of layer names; checked at solve)."""
    traction = sec.data.get("traction", False)
    ck.require(isinstance(traction, bool), sec.at("traction"), f"must be true or false, got {traction!r}")
    sens = sec.data.get("sensitivity")
    ok = sens is None or sens == "all" or (isinstance(sens, list) and all(isinstance(v, str) for v in sens))
    ck.require(ok, sec.at("sensitivity"), f'must be "all" or a list of layer names, got {sens!r}')
    return bool(traction), (sens if ok else None)


CHANGE_KEYS = ("layer", "vp", "vs", "density", "vp_scale", "vs_scale", "density_scale")


def read_stored_variants(text: str, source: str = "model config") -> list[Variant]:
    """The `[[variants]]` of a stored config text (validated when meshing) in SI, by the same
    reader as load_config's; layer names are checked where the variants are applied."""
    ck = _Checker()
    root = _Section(ck, parse_stored_config(text, source), "", ROOT_KEYS)
    variants = _read_variants(ck, root, None)
    if ck.problems:
        raise CrustgfError(f"{source}: " + "; ".join(ck.problems))
    return variants


def _read_variants(ck, root, entries: list[_LayerEntry] | None) -> list[Variant]:
    """entries: the config's layers (names checked, changed layers checked for physics); None for
    a stored config, whose layers are the model's."""
    secs = root.tables("variants", ("name", "changes"), required=False)
    names = None if entries is None else list(dict.fromkeys(e.name for e in entries if e.name is not None))
    out, seen = [], set()
    for sec in secs or []:
        name = sec.string("name")
        if name is not None:
            ok = ck.require("/" not in name, sec.at("name"), f"must not contain '/', got {_show(name)}")
            ok &= ck.require(name not in seen, sec.at("name"), f"variant name {_show(name)} is used twice")
            seen.add(name)
            name = name if ok else None
        changes = sec.tables("changes", CHANGE_KEYS)
        read = [_read_change(ck, c, names) for c in changes or []]
        if name is None or changes is None or None in read:
            continue
        variant = Variant(name, read)
        if entries is None or _check_variant(ck, sec, variant, entries):
            out.append(variant)
    return out


def _read_change(ck, sec, layer_names):
    """A LayerChange in SI (values) or factors (scales), or None when it has a problem."""
    layer = sec.string("layer")
    if layer is not None and layer_names is not None and not ck.require(
            layer in layer_names, sec.at("layer"),
            f"no layer named {_show(layer)} (layers: {', '.join(layer_names)})"):
        layer = None
    values, ok = {}, True
    for prop, unit in (("vp", KM_S), ("vs", KM_S), ("density", G_CM3)):
        scale = prop + "_scale"
        if sec.has(prop) and sec.has(scale):
            ck.add(sec.path, f"give {prop} or {scale}, not both")
            ok = False
            continue
        for key, factor in ((prop, unit), (scale, 1.0)):
            if sec.has(key):
                v = sec.number(key)
                if _positive(ck, sec, key, v) and (key == scale or _plausible_units(ck, sec, key, v)):
                    values[key] = v * factor
                else:
                    ok = False
    if not any(sec.has(k) for k in CHANGE_KEYS[1:]):
        ck.add(sec.path, "changes nothing: give vp, vs, density or a *_scale")
        ok = False
    return LayerChange(layer, **values) if ok and layer is not None else None


def _check_variant(ck, sec, variant, entries) -> bool:
    """Each layer changed at most once, and every changed layer still physical."""
    ok, changed = True, {}
    for i, c in enumerate(variant.changes):
        ok &= ck.require(c.layer not in changed, f"{sec.path}.changes[{i}]",
                         f"layer {_show(c.layer)} is changed twice")
        changed.setdefault(c.layer, i)
    layers = [e.layer for e in entries]
    if not ok or None in layers:  # a bad reference layer is reported already
        return ok
    for new in apply_variant(layers, variant):
        if new.name in changed:
            nu = poisson_ratio(new.vp, new.vs)
            ok &= ck.require(0.0 < nu < 0.5, f"{sec.path}.changes[{changed[new.name]}]",
                             f"layer {_show(new.name)} would have Poisson's ratio {nu:.4g} "
                             f"(vp = {new.vp / KM_S:.4g}, vs = {new.vs / KM_S:.4g} km/s); "
                             "it must be strictly between 0 and 0.5")
    return ok
