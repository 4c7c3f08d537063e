"""Layer bottoms given as surfaces (SPEC 5): `bottom = { file = "conrad.csv" }` in [[layers]].

The file is a grid of depths below sea level (columns lon, lat or x, y in km, and depth_km,
positive down; the formats of crustgf.geometry.surface.read_grid). Between nodes the bottom is
bilinear, outside the grid it keeps the nearest edge value, as for the free surface.

Layers may pinch out (zero thickness: a bottom on the one above, or above the free surface) but
not cross: every pair of bottoms (held at the free surface where above it) is compared on the
overlay of all layer grids inside the domain (_sample_xy), and a layer
whose bottom lies deeper than a lower layer's anywhere is an error naming both layers and the
place. A layer with zero thickness everywhere is an error too (it is not in the model at all).

The layer's `bottom` becomes the depth of its interface in the flat-layered reference box that
gmsh meshes (mesh/warp.py moves it onto the surface): the reference depth of the layer above plus
the layer's median thickness where it is present (set_reference_depths).
"""

from __future__ import annotations

import numpy as np

from crustgf.config.checker import _show
from crustgf.config.schema import KM
from crustgf.config.surface import _where, grid_file_surface
from crustgf.geometry.projection import Projection
from crustgf.geometry.surface import Surface

METRE_LIKE = 200.0  # km: no layer bottom is this deep; depths beyond it were written in metres
TOUCH = 1.0  # m: bottoms closer than this are touching (a pinch-out), not crossing


def read_bottom_surface(ck, sec, proj, base, warnings: list[str]) -> Surface | None:
    """The surface of `bottom = { file = ... }` as z (m, up), or None (problems reported)."""
    sub = sec.table("bottom", ("file",))
    if sub is None:
        return None
    surface, grid = grid_file_surface(ck, sub, proj, base, "depth_km", -KM, "the layer-bottom grid")
    if surface is None:
        return None
    deepest = float(np.max(grid.values))
    if not ck.require(deepest < METRE_LIKE, sub.at("file"),
                      f"{surface.file}: depth_km reaches {_show(deepest)}, deeper than any layer bottom: "
                      "the column is km below sea level, not metres"):
        return None
    return surface


def _sample_xy(grids: list[Surface], domain) -> np.ndarray:
    """(n, 2) local map points (m) where bottoms are compared: for the grids of one kind (x/y or
    lon/lat) every crossing of their axes (two bilinear grids differ bilinearly on the overlay
    of their lattices, so its extremes are there), plus cell centres across kinds; inside the
    domain box when it is given (elsewhere nothing is meshed)."""
    pts = []
    for kind in ("xy", "lonlat"):
        group = [g for g in grids if g.kind == kind]
        if not group:
            continue
        a = np.unique(np.concatenate([g.a for g in group]))
        b = np.unique(np.concatenate([g.b for g in group]))
        if len(group) < len(grids):  # other kinds too: their cells are not aligned with these
            a = np.unique(np.concatenate([a, 0.5 * (a[1:] + a[:-1])]))
            b = np.unique(np.concatenate([b, 0.5 * (b[1:] + b[:-1])]))
        A, B = (v.ravel() for v in np.meshgrid(a, b))
        pts.append(np.column_stack([A, B]) if kind == "xy" else
                   np.column_stack(Projection(group[0].origin).to_xy(A, B)))
    xy = np.vstack(pts)
    if domain.x is not None and not (domain.auto[0] or domain.auto[1]):
        inside = ((xy[:, 0] >= domain.x[0]) & (xy[:, 0] <= domain.x[1])
                  & (xy[:, 1] >= domain.y[0]) & (xy[:, 1] <= domain.y[1]))
        corners = np.array([[domain.x[i], domain.y[j]] for i in (0, 1) for j in (0, 1)])
        xy = np.vstack([xy[inside], corners])  # the corners: grids end inside and hold edge values
    return xy


def check_layer_surfaces(ck, entries, domain, surface=None) -> None:
    """Crossing and empty layers among [[layers]] with surface bottoms; sets their reference depth.
    `entries`: the _LayerEntry list of config/layers.py (all layers valid); `surface`: the free
    surface (None: sea level), the top of the first layer."""
    layers = [e.layer for e in entries]
    grids = [layer.surface for layer in layers if layer.surface is not None]
    if not grids:
        return
    xy = _sample_xy(grids, domain)
    lonlat = next((s for s in grids if s.kind == "lonlat"), None)
    sea_level = np.zeros(len(xy))
    surface_depth = sea_level if surface is None else -surface.elevation(xy[:, 0], xy[:, 1])
    # a bottom above the free surface is the layer's absence there: compared at the surface
    depth = np.array([np.maximum(layer.bottom_depth(xy[:, 0], xy[:, 1]), surface_depth) for layer in layers[:-1]])
    ok = True
    for i in range(len(depth)):
        for j in range(i + 1, len(depth)):
            cross = depth[i] - depth[j] > TOUCH
            if cross.any():
                k = int(np.argmax(depth[i] - depth[j]))
                ck.add(entries[i].path + ".bottom",
                       f"layers {_show(layers[i].name)} and {_show(layers[j].name)} cross: at "
                       f"{_where(lonlat, *xy[k])} the bottom of {_show(layers[i].name)} is {depth[i, k] / KM:.3f} km "
                       f"deep, below that of {_show(layers[j].name)} ({depth[j, k] / KM:.3f} km)")
                ok = False
    if not ok:
        return
    top = surface_depth
    for i, layer in enumerate(layers[:-1]):
        if (depth[i] - top <= TOUCH).all():
            ck.add(entries[i].path + ".bottom", f"layer {_show(layer.name)} has zero thickness everywhere "
                   "(its bottom is nowhere below the free surface or the bottom of the layer above)")
        top = np.maximum(top, depth[i])
    bottom = domain.depth if domain.depth is not None and not domain.auto[2] else None
    if bottom is not None and depth.max() >= bottom:
        i, k = np.unravel_index(int(np.argmax(depth)), depth.shape)
        ck.add(entries[i].path + ".bottom", f"reaches {depth[i, k] / KM:.3f} km at {_where(lonlat, *xy[k])}, "
               f"not above domain.depth = {_show(bottom / KM)} km")
    if not ck.problems:
        set_reference_depths(layers, depth, surface_depth)


def set_reference_depths(layers, depth: np.ndarray, surface_depth: np.ndarray) -> None:
    """Reference depth (Layer.bottom) of each surface bottom: the one above's plus the layer's median
    thickness where it is present (mesh/warp.py keeps each warped slab at least that thick, so the
    bottom is meshed where the layer is at least that thick), kept above the next flat bottom."""
    top_true, top_ref = surface_depth, 0.0
    for i, layer in enumerate(layers[:-1]):
        if layer.surface is not None:
            h = depth[i] - np.maximum(top_true, surface_depth)
            present = h[h > TOUCH]
            ref = top_ref + float(np.median(present))
            below = [lay.bottom for lay in layers[i + 1:-1] if lay.surface is None]
            if below and ref >= 0.75 * below[0] + 0.25 * top_ref:
                ref = 0.5 * (top_ref + below[0])
            layer.bottom = ref
        top_true, top_ref = np.maximum(top_true, depth[i]), layer.bottom
