"""Mesh-size fields: fine on the fault, growing linearly with distance to size_max; a modest
refinement under the stations on the free surface.

size(x) = min(size_max, size_fault + GROWTH * distance to the fault), and at most STATION_FACTOR
* size_fault in a thin slab under the stations' bounding box, and at most LAYER_FACTOR * its
thickness inside a thin flat layer (each growing out of its region at the same rate).
All lengths in m.
"""

from __future__ import annotations

import math

import gmsh
import numpy as np

GROWTH = 0.4  # size increase per unit distance (0.3-0.5 keeps neighbouring elements similar)
STATION_FACTOR = 4.0  # element size under stations, in units of size_fault (capped at size_max)
LAYER_FACTOR = 8.0  # element size inside a flat layer, in units of its thickness (thin layers)


def distance_sampling(patch_diameter: float, size_fault: float) -> int:
    """Points per parametric direction to sample each fault surface for the Distance field."""
    return int(min(200, max(10, math.ceil(2.0 * patch_diameter / size_fault) + 2)))


def station_size(size_fault: float, size_max: float) -> float:
    return min(size_max, STATION_FACTOR * size_fault)


def add_fault_field(surfaces: list[int], size_fault: float, size_max: float, sampling: int) -> int:
    """Threshold field: size_fault on the fault surfaces, growing by GROWTH per metre to size_max."""
    f = gmsh.model.mesh.field
    dist = f.add("Distance")
    f.setNumbers(dist, "SurfacesList", surfaces)
    f.setNumber(dist, "Sampling", sampling)
    thr = f.add("Threshold")
    f.setNumber(thr, "InField", dist)
    f.setNumber(thr, "SizeMin", size_fault)
    f.setNumber(thr, "SizeMax", size_max)
    f.setNumber(thr, "DistMin", 0.0)
    f.setNumber(thr, "DistMax", max((size_max - size_fault) / GROWTH, 1e-9))
    return thr


def add_station_field(stations: np.ndarray, domain, size: float, size_max: float) -> int | None:
    """Box field of `size` over the stations' bounding box (clipped to the domain) near z = 0."""
    if len(stations) == 0 or size >= size_max:
        return None
    lo = np.maximum(stations[:, :2].min(axis=0), [domain.x[0], domain.y[0]])
    hi = np.minimum(stations[:, :2].max(axis=0), [domain.x[1], domain.y[1]])
    if np.any(hi < lo):
        return None
    f = gmsh.model.mesh.field
    box = f.add("Box")
    f.setNumber(box, "VIn", size)
    f.setNumber(box, "VOut", size_max)
    f.setNumber(box, "XMin", lo[0])
    f.setNumber(box, "XMax", hi[0])
    f.setNumber(box, "YMin", lo[1])
    f.setNumber(box, "YMax", hi[1])
    f.setNumber(box, "ZMin", -min(2.0 * size, domain.depth))
    f.setNumber(box, "ZMax", 0.0)
    f.setNumber(box, "Thickness", (size_max - size) / GROWTH)
    return box


def layer_size_cap(thickness: float, size_fault: float, size_max: float) -> float | None:
    """Largest element size inside a layer of this thickness, or None when size_max already fits.

    A tet of size h in a layer of thickness t << h is flat: mean ratio ~ (t / 0.8 h)^(2/3) at
    best, and gmsh makes far worse slivers (nankai-coarse: 200 km elements in its 3 km sediment,
    min quality 0.0007). h <= LAYER_FACTOR t keeps that bound near 0.3; a smaller factor costs
    many elements (3 t: 7.5x the tets of nankai-coarse, 8 t: 2.8x). Never below size_fault."""
    cap = max(LAYER_FACTOR * thickness, size_fault)
    return cap if cap < size_max else None


def add_layer_fields(layers: list[tuple[float, float]], domain, size_fault: float, size_max: float,
                     outer: float | None = None, core=None) -> list[int]:
    """Box fields capping the size in thin layers (top, bottom depths in m, positive down); the
    size grows out of each layer at GROWTH per metre, so neighbours stay graded. With a far-field
    `core` (x0, x1, y0, y1, depth) the caps apply inside the core's map area only."""
    f = gmsh.model.mesh.field
    outer = size_max if outer is None else outer
    (x0, x1), (y0, y1) = domain.x, domain.y
    if core is not None:
        x0, x1, y0, y1 = max(x0, core[0]), min(x1, core[1]), max(y0, core[2]), min(y1, core[3])
    fields = []
    for top, bottom in layers:
        cap = layer_size_cap(bottom - top, size_fault, size_max)
        if cap is None:
            continue
        box = f.add("Box")
        f.setNumber(box, "VIn", cap)
        f.setNumber(box, "VOut", outer)
        f.setNumber(box, "XMin", x0)
        f.setNumber(box, "XMax", x1)
        f.setNumber(box, "YMin", y0)
        f.setNumber(box, "YMax", y1)
        f.setNumber(box, "ZMin", -bottom)
        f.setNumber(box, "ZMax", -top)
        f.setNumber(box, "Thickness", (outer - cap) / GROWTH)
        fields.append(box)
    return fields


FAR_GROWTH = 0.5  # outside the far-field core, the size grows by this per metre of distance from it


def far_size(domain, size_max: float) -> float:
    """The largest element size of a far-field graded box: a quarter of its smallest extent."""
    extent = min(domain.x[1] - domain.x[0], domain.y[1] - domain.y[0], 2.0 * domain.depth)
    return max(size_max, 0.25 * extent)


def add_core_field(core, size_max: float, outer: float) -> int:
    """Box field: at most size_max inside the core (x0, x1, y0, y1, depth), growing by FAR_GROWTH per
    metre outside it up to `outer` (so a large box costs few elements: sizes grow with distance)."""
    f = gmsh.model.mesh.field
    box = f.add("Box")
    f.setNumber(box, "VIn", size_max)
    f.setNumber(box, "VOut", outer)
    f.setNumber(box, "XMin", core[0])
    f.setNumber(box, "XMax", core[1])
    f.setNumber(box, "YMin", core[2])
    f.setNumber(box, "YMax", core[3])
    f.setNumber(box, "ZMin", -core[4])
    f.setNumber(box, "ZMax", 1e9)
    f.setNumber(box, "Thickness", (outer - size_max) / FAR_GROWTH)
    return box


def set_background(fields: list[int]) -> None:
    """Use the smallest of `fields` everywhere; sizes come from the fields only."""
    f = gmsh.model.mesh.field
    fmin = f.add("Min")
    f.setNumbers(fmin, "FieldsList", fields)
    f.setAsBackgroundMesh(fmin)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
