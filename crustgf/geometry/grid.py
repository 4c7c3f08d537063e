"""A fault cut from a depth grid (e.g. Slab2), split into subfaults that follow strike and dip.

`grid_patches(fault)` turns a config GridFault into FaultPatches:

1. Surface: slab.surface_from_points(fault.points), a C2 bicubic spline depth(x, y) (slab.py).
2. Cut region: outline polygon AND depth_range AND the data footprint, as one map-view boundary
   polygon (region.py).
3. Mean strike: the strike of the mean hanging-wall normal over the region.
4. Structured split (patchmap.py): the boundary is split at four corners into the top (up-dip)
   curve, the bottom curve and the two ends; a Coons map of those curves, re-spaced to 3D arc
   length down dip, parameterises the region by (s, tau) in [0, 1]^2. Columns are equal steps
   of s, n_strike = round(mean length of top and bottom curves / subfault_size); rows are equal
   steps of tau (equal down-dip arc length within each column), n_dip = round(mean length of
   the two ends / subfault_size). Every column has the same rows, so the patch grid is
   structured and neighbours share edges.
5. Each patch is four edges sampled as polylines of `edge_samples` points on the surface
   (z = -depth), for the mesher's B-spline curves and filling surfaces.

Numbering follows rectangle.py: s increases along strike (column i), tau down dip (row j);
corner (i, j) is j * (n_strike + 1) + i; the along-strike edges come first (row j = 0..n_dip,
i = 0..n_strike-1, pointing along strike), then the down-dip edges (column i = 0..n_strike,
j = 0..n_dip-1, pointing down dip); patch (i, j) is number j * n_strike + i, its loop is
top edge, far-end-side edge, bottom edge, start-side edge; grid_index[p] = (i, j).
"""

from __future__ import annotations

import numpy as np

from crustgf.config.schema import GridFault
from crustgf.core.errors import CrustgfError
from crustgf.geometry.frames import strike_dip_from_normal, strike_vector
from crustgf.geometry.patches import FaultPatches
from crustgf.geometry.patchmap import PatchMap, SurfaceCurve, split_boundary
from crustgf.geometry.region import check_outline, inside_polygon, region_boundary, region_function
from crustgf.geometry.slab import SlabSurface, surface_from_points

EDGE_SAMPLES = 16  # points per patch edge polyline, ends included


def mean_strike(surface: SlabSurface, poly: np.ndarray) -> float:
    """Strike (degrees) of the mean hanging-wall normal over the polygon's vertices and inside."""
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    g = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 40), np.linspace(lo[1], hi[1], 40)), -1).reshape(-1, 2)
    pts = np.vstack([poly, g[inside_polygon(g[:, 0], g[:, 1], poly)]])
    strike, _ = strike_dip_from_normal(surface.normal_at(pts).mean(axis=0))
    return float(strike)


def _check_fault(fault: GridFault) -> tuple[float, float]:
    d0, d1 = (float(v) for v in fault.depth_range)
    if not d1 > d0:
        raise CrustgfError(f"fault.depth_range: need min < max, got [{d0 / 1e3:g}, {d1 / 1e3:g}] km")
    if not fault.subfault_size > 0:
        raise CrustgfError(f"fault.subfault_size: must be > 0, got {fault.subfault_size / 1e3:g} km")
    return d0, d1


def _edge_params(n_strike: int, n_dip: int, k: int):
    """(s, tau) samples (ne, k) of every edge, in the numbering of the module doc."""
    u = np.linspace(0.0, 1.0, k)
    s_edges, tau_edges = [], []
    for j in range(n_dip + 1):  # along-strike edges
        for i in range(n_strike):
            s_edges.append((i + u) / n_strike)
            tau_edges.append(np.full(k, j / n_dip))
    for i in range(n_strike + 1):  # down-dip edges
        for j in range(n_dip):
            s_edges.append(np.full(k, i / n_strike))
            tau_edges.append((j + u) / n_dip)
    return np.array(s_edges), np.array(tau_edges)


def _check_unfolded(edge_xy: np.ndarray, patches: np.ndarray) -> None:
    """Every patch must have the same map-view orientation (a fold means the map is not one-to-one)."""
    areas = []
    for loop in patches:
        top, end, bottom, start = (edge_xy[e] for e in loop)
        ring = np.vstack([top, end, bottom[::-1], start[::-1]])
        x, y = ring[:, 0], ring[:, 1]
        areas.append(0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    areas = np.array(areas)
    if not (np.all(areas < 0) or np.all(areas > 0)):
        raise CrustgfError("fault: the cut region is too irregular for a structured split into subfaults "
                           "(a patch folds over); simplify fault.outline or use a larger subfault_size")


def grid_patches(fault: GridFault, surface: SlabSurface | None = None,
                 edge_samples: int = EDGE_SAMPLES) -> FaultPatches:
    """Subfault patches of a fault cut from a depth grid; see the module doc."""
    d0, d1 = _check_fault(fault)
    size = float(fault.subfault_size)
    surface = surface if surface is not None else surface_from_points(fault.points)
    outline = check_outline(fault.outline)
    step = min(1000.0, size / 10.0, surface.spacing)
    poly = region_boundary(surface, outline, (d0, d1), step, min_part_area=0.25 * size**2)
    strike = mean_strike(surface, poly)
    sides = split_boundary(poly, strike_vector(strike)[:2], reach=4 * step)
    top, bottom, start, end = (SurfaceCurve(c, surface.depth) for c in sides)
    pmap = PatchMap(top, bottom, start, end, surface.depth)
    n_strike = max(1, int(round(0.5 * (top.length + bottom.length) / size)))
    n_dip = max(1, int(round(0.5 * (start.length + end.length) / size)))

    s_edges, tau_edges = _edge_params(n_strike, n_dip, edge_samples)
    edge_xy = pmap(s_edges, tau_edges)  # (ne, k, 2)
    jj, ii = np.meshgrid(np.arange(n_dip + 1), np.arange(n_strike + 1), indexing="ij")
    corner_xy = pmap(ii.ravel() / n_strike, jj.ravel() / n_dip)  # corner id j * (ns + 1) + i

    def corner(i, j):
        return j * (n_strike + 1) + i

    ends = [(corner(i, j), corner(i + 1, j)) for j in range(n_dip + 1) for i in range(n_strike)]
    ends += [(corner(i, j), corner(i, j + 1)) for i in range(n_strike + 1) for j in range(n_dip)]
    edge_ends = np.array(ends, dtype=np.int64)
    edge_xy[:, 0] = corner_xy[edge_ends[:, 0]]  # ends exactly on the shared corners
    edge_xy[:, -1] = corner_xy[edge_ends[:, 1]]

    n_se = n_strike * (n_dip + 1)
    patches, grid_index = [], []
    for j in range(n_dip):
        for i in range(n_strike):
            patches.append([j * n_strike + i, n_se + (i + 1) * n_dip + j, (j + 1) * n_strike + i, n_se + i * n_dip + j])
            grid_index.append([i, j])
    patches = np.array(patches, dtype=np.int64)
    _check_unfolded(edge_xy, patches)

    def lift(xy):
        return np.concatenate([xy, -surface.depth(xy[..., 0], xy[..., 1])[..., None]], axis=-1)

    corners = lift(corner_xy)
    edge_points = list(lift(edge_xy))
    return FaultPatches(
        corners=corners,
        edge_ends=edge_ends,
        edge_points=edge_points,
        patches=patches,
        planar=False,
        normal_at=surface.normal_at,
        depth_at=surface.depth,
        grid_index=np.array(grid_index, dtype=np.int64),
    )


def in_cut_region(fault: GridFault, surface: SlabSurface, x, y) -> np.ndarray:
    """Whether map points lie in the fault's cut region (the definition grid_patches tiles)."""
    d0, d1 = _check_fault(fault)
    return region_function(surface, check_outline(fault.outline), (d0, d1), np.asarray(x), np.asarray(y)) > 0
