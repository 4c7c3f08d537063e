"""The finite-element model: what `crustgf mesh` produces and `crustgf solve` consumes.

Everything is SI in the local frame (x east, y north, z up; the free surface is z = 0).
Node ordering of quadratic tetrahedra is VTK's: vertices 0-3, then the midside nodes of edges
(0,1), (1,2), (0,2), (0,3), (1,3), (2,3). Elements have straight edges (midside nodes at edge
midpoints), so every element's geometry is affine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crustgf.fem.material import lame_lambda, shear_modulus
from crustgf.fem.shapes import TET10_EDGES, TRI6_EDGES  # noqa: F401 (node order, re-exported)


@dataclass
class LayerTable:
    """Material table; row i is material id i. `kind` is 'flat', 'surface' (a bottom given as a
    surface; `bottom` is its reference depth, mesh/warp.py) or 'plate' (follows the interface)."""

    name: list[str]
    bottom: np.ndarray  # m: depth of a flat layer's bottom, thickness of a plate layer
    vp: np.ndarray  # m/s
    vs: np.ndarray  # m/s
    density: np.ndarray  # kg/m^3
    kind: list[str] = field(default_factory=list)

    @property
    def mu(self) -> np.ndarray:
        return shear_modulus(self.vs, self.density)

    @property
    def lam(self) -> np.ndarray:
        return lame_lambda(self.vp, self.vs, self.density)


@dataclass
class SubfaultTable:
    centroid: np.ndarray  # (ns, 3) m
    strike: np.ndarray  # (ns,) degrees clockwise from north
    dip: np.ndarray  # (ns,) degrees
    area: np.ndarray  # (ns,) m^2, sum of its fault triangles' areas
    # (ns, 4, 3) corners for plotting outlines (rectangle: exact; grid: patch corners), m
    corners: np.ndarray | None = None


@dataclass
class Model:
    nodes: np.ndarray  # (nn, 3) float64, m
    cells: np.ndarray  # (ne, 4) or (ne, 10) int64, VTK ordering
    cell_material: np.ndarray  # (ne,) int32, row of `layers`
    layers: LayerTable
    fault_cells: np.ndarray  # (nf, 3) or (nf, 6) int64 node ids of fault triangles (TRI6: + midsides)
    fault_cell_subfault: np.ndarray  # (nf,) int32
    # Each fault triangle's vertex order is such that (p1 - p0) x (p2 - p0) points into the
    # hanging wall (SPEC 4: the side the normal  n = dip_vector x strike_vector  points to).
    subfaults: SubfaultTable
    buried_edge_nodes: np.ndarray  # (nb,) int64: fault nodes on buried fault edges (slip ends there)
    free_surface_nodes: np.ndarray  # (nfs,) int64: nodes on z = 0
    fixed_nodes: np.ndarray  # (nfix,) int64: nodes on the sides and bottom (zero displacement)
    station_names: list[str]
    station_positions: np.ndarray  # (nst, 3) m
    station_lonlat: np.ndarray | None = None  # (nst, 2) degrees
    config_text: str = ""
    crustgf_version: str = ""
    frame: str = ""  # sentence describing the local frame and origin
    name: str = ""
    # Subfault outlines as drawn (for plots): the patch corner polygons, (ns, 4, 3) m. Optional.
    attrs: dict = field(default_factory=dict)

    @property
    def order(self) -> int:
        return 2 if self.cells.shape[1] == 10 else 1

    @property
    def n_dof(self) -> int:
        return 3 * len(self.nodes)

    @property
    def n_subfaults(self) -> int:
        return len(self.subfaults.area)
