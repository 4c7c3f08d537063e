"""The validated configuration, in SI units and the local frame (x east, y north, z up, metres).

The TOML file speaks km, degrees, km/s and g/cm^3 (SPEC section 2); `load_config` converts
everything here, so the rest of crustgf never sees a km. Depths are stored positive down, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


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
        return self.density * self.vs**2

    @property
    def lam(self) -> float:
        return self.density * self.vp**2 - 2.0 * self.mu

    @property
    def poisson(self) -> float:
        r = (self.vp / self.vs) ** 2
        return (r - 2.0) / (2.0 * (r - 1.0))


@dataclass
class Domain:
    x: tuple[float, float]  # m
    y: tuple[float, float]  # m
    depth: float  # m, positive
    origin: tuple[float, float] | None  # lon, lat of (0, 0), degrees


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


@dataclass
class Stations:
    names: list[str]
    positions: np.ndarray  # (n, 3) m, local frame; z = 0 on the free surface, negative below
    lonlat: np.ndarray | None  # (n, 2) degrees, when an origin is given


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
    method: str = "auto"  # cpu: auto | direct | amg-cg
    max_iterations: int = 5000


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
