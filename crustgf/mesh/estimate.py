"""How big a config's mesh will be, before gmsh is asked to make it (seconds of numpy, no gmsh).

The sizes gmsh is given (sizing.py) are h(d) = min(size_max, s + GROWTH d) at distance d from
the fault, where s is size_fault or the subfault's side when that is smaller (every subfault is a
surface of its own, so its edges are meshed however small it is). A tetrahedral mesh of local
size h has about K / h^3 elements per unit volume; the volume at distance d..d+dd from a flat
surface of area A and perimeter P is (2 A + pi P d + 4 pi d^2) dd (Steiner's formula), clipped
at the domain's volume. Thin layers add their capped size over their volume. K was fitted to the
meshes of the shipped configs (`TETS_PER_H3`): nankai.toml 0.31 M estimated vs 0.38 M meshed,
nankai-coarse.toml 28 k vs 105 k (its plate layers refine further): within a factor ~4, enough to
tell a model that fits from one a thousand times too large. A box crustgf sized (domain x, y or
depth omitted) counts its far field apart: beyond the core, sizes grow with distance.

`check_mesh_size` refuses a config whose estimate is over MAX_TETS unless forced: such a mesh
runs for hours and needs more memory than the machine has, and the user meant something else
(a size in m instead of km, subfaults = [1000, 1000]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crustgf.config.schema import Config, RectangleFault
from crustgf.core.errors import CrustgfError
from crustgf.mesh.sizing import FAR_GROWTH, GROWTH, far_size, layer_size_cap

TETS_PER_H3 = 6.0  # tetrahedra per h^3 of volume for gmsh's Delaunay meshes of local size h
MAX_TETS = 3_000_000  # ~15 GB for gmsh and the TET10 model; nankai.toml has 0.38 M
MAX_SUBFAULTS = 20_000  # each is a CAD surface of its own and 2 right-hand sides


@dataclass
class MeshEstimate:
    tets: int
    subfaults: int
    fault_area: float  # m^2
    fault_size: float  # m, the element size on the fault actually used

    def describe(self) -> str:
        return (f"about {self.tets:,} tetrahedra and {self.subfaults:,} subfaults "
                f"(fault {self.fault_area / 1e6:,.0f} km2, elements {self.fault_size / 1e3:.3g} km on it)")


def _polygon_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _fault_geometry(cfg: Config) -> tuple[float, float, int]:
    """(area m^2, perimeter m, number of subfaults) from the config alone."""
    f = cfg.fault
    if isinstance(f, RectangleFault):
        return f.length * f.width, 2.0 * (f.length + f.width), int(f.subfaults[0]) * int(f.subfaults[1])
    pts = np.asarray(f.points, dtype=float)
    d0, d1 = f.depth_range
    inside = pts[(pts[:, 2] >= d0) & (pts[:, 2] <= d1)]
    if len(inside) < 3:
        inside = pts
    if f.outline is not None and len(f.outline) >= 3:
        horizontal = _polygon_area(np.asarray(f.outline, float))
    else:
        from scipy.spatial import ConvexHull, QhullError

        try:
            horizontal = float(ConvexHull(inside[:, :2]).volume)
        except (QhullError, ValueError):
            horizontal = 0.0
    try:  # mean slope of the interface over the part in depth_range: area = horizontal / cos(dip)
        design = np.c_[inside[:, :2], np.ones(len(inside))]
        gx, gy, _ = np.linalg.lstsq(design, inside[:, 2], rcond=None)[0]
        stretch = math.sqrt(1.0 + gx * gx + gy * gy)
    except np.linalg.LinAlgError:
        stretch = 1.0
    area = horizontal * stretch
    size = float(f.subfault_size)
    return area, 4.0 * math.sqrt(max(area, 0.0)), max(1, int(round(area / size**2)))


def _far_field_count(d, size_max: float) -> float:
    """Elements beyond the far-field core of a box crustgf sized (sizing.add_core_field): sizes grow
    from size_max by FAR_GROWTH per metre of distance from the core, up to far_size."""
    x0, x1, y0, y1, c = d.core
    a, b = x1 - x0, y1 - y0
    v_dom = (d.x[1] - d.x[0]) * (d.y[1] - d.y[0]) * d.depth
    reach = max(d.x[1] - x1, x0 - d.x[0], d.y[1] - y1, y0 - d.y[0], d.depth - c, 1.0)
    t = np.r_[0.0, np.geomspace(1e-3 * size_max, reach, 300)]
    v = np.minimum((a + 2 * t) * (b + 2 * t) * (c + t), v_dom)  # the core grown by t (not above the top)
    mid = 0.5 * (t[1:] + t[:-1])
    h = np.minimum(far_size(d, size_max), size_max + FAR_GROWTH * mid)
    return float(np.sum(np.diff(v) / h**3))


def estimate_mesh(cfg: Config) -> MeshEstimate:
    d, m = cfg.domain, cfg.mesh
    core = getattr(d, "core", None)
    if core is not None:  # a sized box: the part near the fault is the core; beyond it sizes grow
        area_dom = (core[1] - core[0]) * (core[3] - core[2])
        v_dom = area_dom * core[4]
    else:
        area_dom = (d.x[1] - d.x[0]) * (d.y[1] - d.y[0])
        v_dom = area_dom * d.depth
    area, perimeter, n_sub = _fault_geometry(cfg)
    s = min(m.size_fault, math.sqrt(area / n_sub)) if area > 0 else m.size_fault
    s = max(s, 1e-6)
    reach = max((m.size_max - s) / GROWTH, 0.0)
    # integrate dV / h^3 shell by shell, the shells' volume clipped at the domain's
    n = 400  # shells spaced geometrically: the fine ones near the fault hold most elements
    edges = np.r_[0.0, np.geomspace(min(1e-3 * s, reach) or 1e-9, max(reach, 1e-9), n)]
    mid = 0.5 * (edges[1:] + edges[:-1])
    shell = (2 * area + math.pi * perimeter * mid + 4 * math.pi * mid**2) * np.diff(edges)
    cum = np.minimum(np.cumsum(shell), v_dom)
    shell = np.diff(np.r_[0.0, cum])
    count = float(np.sum(shell / (s + GROWTH * mid) ** 3)) + (v_dom - cum[-1]) / m.size_max**3
    tops = [0.0] + [layer.bottom for layer in cfg.layers[:-1]]
    for top, layer in zip(tops, cfg.layers):
        cap = layer_size_cap(layer.bottom - top, m.size_fault, m.size_max)
        if cap is not None:
            count += area_dom * (layer.bottom - top) * (1.0 / cap**3 - 1.0 / m.size_max**3)
    if core is not None:
        count += _far_field_count(d, m.size_max)
    return MeshEstimate(int(TETS_PER_H3 * count), n_sub, area, s)


def check_mesh_size(cfg: Config, force: bool = False, max_tets: int = MAX_TETS) -> MeshEstimate:
    """The estimate; CrustgfError when it is over the limits and not forced."""
    est = estimate_mesh(cfg)
    if force:
        return est
    where = f"{cfg.path}: " if cfg.path is not None else ""
    if est.tets > max_tets or est.subfaults > MAX_SUBFAULTS:
        limit = (f"over the limit of {max_tets:,} tetrahedra" if est.tets > max_tets
                 else f"over the limit of {MAX_SUBFAULTS:,} subfaults")
        raise CrustgfError(
            f"{where}mesh too large: {est.describe()}, {limit}; lengths are in km: check mesh.size_fault, "
            "mesh.size_max and the fault's subfaults, or add --force to mesh it anyway")
    return est
