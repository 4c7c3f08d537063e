"""The part of an interface surface that becomes the fault, as a map-view boundary polygon.

The cut region is where all of these hold: inside the outline polygon (if any), depth within
depth_range, and on the data (slab.SlabSurface.in_data: never on the extrapolated part, e.g.
seaward of the trough). Each condition is a signed function, positive inside and roughly in
metres of map distance; the region is where their minimum is positive, and its boundary is the
zero contour of that minimum on a fine raster (contourpy, linear interpolation between raster
nodes, so the boundary is accurate to a small fraction of the raster step).
"""

from __future__ import annotations

import contourpy
import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.geometry.slab import SlabSurface

_MAX_RASTER_NODES = 3_000_000


def polygon_area(poly: np.ndarray) -> float:
    """Signed area of a map polygon (k, 2) (positive counter-clockwise), shoelace formula."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def inside_polygon(x: np.ndarray, y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test for arrays x, y (any shape) against a polygon (k, 2)."""
    inside = np.zeros(np.shape(x), dtype=bool)
    for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0)):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_cross)
    return inside


def polygon_signed_distance(x: np.ndarray, y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance to the polygon's boundary, positive inside, negative outside (m)."""
    dist = np.full(np.shape(x), np.inf)
    for a, b in zip(poly, np.roll(poly, -1, axis=0)):
        ab = b - a
        t = np.clip(((x - a[0]) * ab[0] + (y - a[1]) * ab[1]) / max(float(ab @ ab), 1e-300), 0.0, 1.0)
        dist = np.minimum(dist, np.hypot(x - a[0] - t * ab[0], y - a[1] - t * ab[1]))
    return np.where(inside_polygon(x, y, poly), dist, -dist)


def region_function(surface: SlabSurface, outline, depth_range, x, y) -> np.ndarray:
    """Signed membership of map points in the cut region: > 0 inside (see module doc)."""
    depth = surface.depth(x, y)
    gx, gy = surface.gradient(x, y)
    slope = np.maximum(np.hypot(gx, gy), 0.05)  # depth offsets -> map distances
    f = np.minimum((depth - depth_range[0]) / slope, (depth_range[1] - depth) / slope)
    f = np.minimum(f, (surface.data_indicator(x, y) - 0.5) * 4.0 * surface.spacing)
    if outline is not None:
        f = np.minimum(f, polygon_signed_distance(x, y, outline))
    return f


def check_outline(outline) -> np.ndarray | None:
    if outline is None:
        return None
    poly = np.asarray(outline, dtype=float)
    if poly.ndim != 2 or poly.shape[1] != 2 or len(poly) < 3:
        raise CrustgfError(f"fault.outline: need a polygon of at least 3 points, got shape {poly.shape}")
    if np.allclose(poly[0], poly[-1]):
        poly = poly[:-1]
    if abs(polygon_area(poly)) <= 0.0:
        raise CrustgfError("fault.outline: the polygon has zero area")
    return poly


def region_boundary(surface: SlabSurface, outline, depth_range, step: float,
                    min_part_area: float) -> np.ndarray:
    """Counter-clockwise boundary polygon (k, 2) of the cut region, not closed (last != first).

    Raises CrustgfError when the region is empty or falls into several parts larger than
    min_part_area (m^2, map view); smaller specks and holes are ignored.
    """
    x0, x1, y0, y1 = surface.box
    if outline is not None:
        x0, y0 = np.maximum([x0, y0], outline.min(axis=0))
        x1, y1 = np.minimum([x1, y1], outline.max(axis=0))
    if x1 <= x0 or y1 <= y0:
        raise CrustgfError("fault.outline: the outline does not overlap the depth grid")
    step = max(step, np.sqrt((x1 - x0) * (y1 - y0) / _MAX_RASTER_NODES))
    gx = np.arange(x0 - step, x1 + 2 * step, step)
    gy = np.arange(y0 - step, y1 + 2 * step, step)
    X, Y = np.meshgrid(gx, gy)  # (ny, nx), as contourpy wants
    f = region_function(surface, outline, depth_range, X, Y)
    f[[0, -1], :] = -1.0  # the raster's rim is outside, so every contour closes
    f[:, [0, -1]] = -1.0
    loops = contourpy.contour_generator(x=gx, y=gy, z=f).lines(0.0)
    loops = [lp[:-1] if np.allclose(lp[0], lp[-1]) else lp for lp in loops if len(lp) >= 4]
    areas = np.array([polygon_area(lp) for lp in loops])
    if len(loops) == 0 or np.max(np.abs(areas)) <= min_part_area:
        raise CrustgfError(
            f"fault: the cut region (outline, depth_range {depth_range[0] / 1e3:g}-{depth_range[1] / 1e3:g} km, "
            f"data) is empty or smaller than one subfault")
    order = np.argsort(-np.abs(areas))
    big = [i for i in order if abs(areas[i]) > min_part_area]
    if len(big) > 1:
        raise CrustgfError(
            f"fault: the cut region (outline, depth_range, data) has {len(big)} separate parts or holes "
            f"larger than a subfault; adjust fault.outline or fault.depth_range")
    poly = loops[order[0]]
    return poly if areas[order[0]] > 0 else poly[::-1]
