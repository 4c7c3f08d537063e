"""Holes in a layer-bottom surface's reference plane where the fault runs close to it.

A plate interface meets the bottom of a layer that follows the seafloor (trough fill, an
accretionary wedge) at a grazing angle, often several times over a rough surface; gmsh cannot
mesh such an intersection ("overlapping facets"). So each layer-bottom surface's plane in the
reference box (mesh/warp.py) is cut open where the fault lies within `delta` of it, in the
reference frame: the fault never meets that plane, and inside the hole the elements take
their layer by centroid (a staircase at the fault's element size, as for a flat layer that
meets the free surface). Away from the fault the interface stays meshed.

The band is found on a map raster over the fault: the fault's reference z there is the linear
interpolation of its patch corners and edge polylines (inside the patches' corner quads only),
and the band's outline is the zero contour of |z_fault - z_level| - delta (contourpy).
"""

from __future__ import annotations

import contourpy
import numpy as np

from crustgf.geometry.patches import FaultPatches
from crustgf.geometry.region import inside_polygon, polygon_area

MAX_NODES = 400_000  # raster nodes at most (the step grows beyond)


def _footprint(patches: FaultPatches, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Raster nodes inside some patch's corner quadrilateral (map view)."""
    quads = patches.patch_corners()[:, :, :2]  # (np, 4, 2)
    inside = np.zeros(X.shape, bool)
    for q in quads:
        lo, hi = q.min(axis=0), q.max(axis=0)
        box = (X >= lo[0]) & (X <= hi[0]) & (Y >= lo[1]) & (Y <= hi[1])
        if box.any():
            inside[box] |= inside_polygon(X[box], Y[box], q)
    return inside


def band_loops(patches: FaultPatches, level_z: float, delta: float) -> list[np.ndarray]:
    """Map polygons (k, 2) around where the reference fault is within delta of the plane z = level_z."""
    from scipy.interpolate import LinearNDInterpolator
    from scipy.ndimage import binary_dilation, distance_transform_edt
    from scipy.spatial import QhullError

    pts = np.vstack([patches.corners] + list(patches.edge_points))
    if (pts[:, 2] - level_z).min() > delta or (pts[:, 2] - level_z).max() < -delta:
        return []
    lo, hi = pts[:, :2].min(axis=0) - 2 * delta, pts[:, :2].max(axis=0) + 2 * delta
    step = max(0.5 * delta, np.sqrt(np.prod(hi - lo) / MAX_NODES))
    gx, gy = np.arange(lo[0], hi[0] + step, step), np.arange(lo[1], hi[1] + step, step)
    X, Y = np.meshgrid(gx, gy)
    _, keep = np.unique(np.round(pts[:, :2], 3), axis=0, return_index=True)
    try:
        z = LinearNDInterpolator(pts[keep, :2], pts[keep, 2])(X, Y)
    except QhullError:  # a vertical fault: a line in map view, never grazing a horizontal plane
        return []
    nan = np.isnan(z)
    if nan.all():
        return []
    if nan.any():  # beyond the hull of the samples (the rim of the footprint): the nearest raster value
        i, j = distance_transform_edt(nan, return_distances=False, return_indices=True)
        z = z[i, j]
    f = np.abs(z - level_z) - delta
    # the footprint grown by two raster steps, so a fault edge near the plane lies inside the hole
    near = binary_dilation(_footprint(patches, X, Y), iterations=2)
    f[~near] = delta
    f[[0, -1], :] = delta  # the raster's rim is outside, so every contour closes
    f[:, [0, -1]] = delta
    if (f >= 0).all():
        return []
    loops = contourpy.contour_generator(x=gx, y=gy, z=f).lines(0.0)
    loops = [lp[:-1] if np.allclose(lp[0], lp[-1]) else lp for lp in loops if len(lp) >= 4]
    loops = [_thin(lp, 2.0 * step) for lp in loops]
    return [lp for lp in loops if len(lp) >= 3 and abs(polygon_area(lp)) > 4 * step * step]


def _thin(loop: np.ndarray, spacing: float) -> np.ndarray:
    """The loop's vertices at least `spacing` apart (contour points can nearly coincide, and gmsh
    would then put tiny elements there)."""
    kept = [loop[0]]
    for p in loop[1:]:
        if np.hypot(*(p - kept[-1])) >= spacing:
            kept.append(p)
    if len(kept) > 1 and np.hypot(*(kept[-1] - kept[0])) < spacing:
        kept.pop()
    return np.array(kept)


def covers_crossings(patches: FaultPatches, level_z: float, loops: list[np.ndarray]) -> bool:
    """Whether every point where a fault edge polyline crosses z = level_z lies inside a hole."""
    pts = []
    for e in patches.edge_points:
        d = e[:, 2] - level_z
        k = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
        t = d[k] / np.where(d[k] - d[k + 1] == 0.0, 1.0, d[k] - d[k + 1])
        pts.append(e[k, :2] + t[:, None] * (e[k + 1, :2] - e[k, :2]))
    pts = np.vstack(pts) if pts else np.empty((0, 2))
    inside = np.zeros(len(pts), bool)
    for loop in loops:
        inside |= inside_polygon(pts[:, 0], pts[:, 1], loop)
    return bool(inside.all())
