"""The validated configuration's types (SI units, local frame) and the option names listed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crustgf.fem.material import lame_lambda, poisson_ratio, shear_modulus
from crustgf.geometry.surface import Surface


@dataclass
class Layer:
    """A flat layer from the surface downwards, or a plate layer following the plate interface."""

    name: str
    bottom: float  # m, depth of the layer's bottom (positive down); for plate layers: thickness (m);
    #                for a bottom given as a surface: its depth in the reference box (config/layer_surfaces.py)
    vp: float  # m/s
    vs: float  # m/s
    density: float  # kg/m^3
    surface: Surface | None = None  # a bottom given as a surface: z (m, up) of the bottom at (x, y)

    def bottom_depth(self, x, y) -> np.ndarray:
        """Depth (m, positive down, below sea level) of this layer's bottom under map points (m)."""
        if self.surface is None:
            return np.full(np.broadcast_shapes(np.shape(x), np.shape(y)), float(self.bottom))
        return -self.surface.elevation(x, y)

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
    auto: tuple[bool, bool, bool] = (False, False, False)  # x, y, depth omitted: sized by crustgf


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


def apply_variant(layers: list[Layer], variant: Variant) -> list[Layer]:
    """The layers with a variant's changes applied (new Layer objects; the input is untouched).

    A value replaces the property; a scale multiplies the reference value.
    """
    by_name = {c.layer: c for c in variant.changes}
    out = []
    for layer in layers:
        c = by_name.get(layer.name)
        new = Layer(layer.name, layer.bottom, layer.vp, layer.vs, layer.density, layer.surface)
        if c is not None:
            for prop in ("vp", "vs", "density"):
                value, scale = getattr(c, prop), getattr(c, prop + "_scale")
                if value is not None:
                    setattr(new, prop, value)
                elif scale is not None:
                    setattr(new, prop, scale * getattr(layer, prop))
        out.append(new)
    return out


# --- sections --------------------------------------------------------------------------------------

ROOT_KEYS = ("model", "domain", "layers", "plate_layers", "fault", "stations", "mesh", "solver",
             "variants", "surface", "viscoelastic")
