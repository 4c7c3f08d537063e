"""A smooth plate-interface surface depth(x, y) from scattered depth-grid points (e.g. Slab2).

Construction (`fit_surface`):

1. A regular x/y lattice of spacing h (default: half the data's median nearest-neighbour distance)
   covers the data's bounding box plus `margin` (default 200 km), and any requested `extent`
   (e.g. the model domain). Nodes lie on multiples of h, so surfaces fitted with different
   extents agree on shared nodes.
2. Nodes inside the data take the piecewise-linear interpolant of the data on its Delaunay
   triangles whose edges are at most 2.5 data spacings (longer ones bridge bays of the data).
3. Other nodes are extrapolated: from each of the k nearest data points p, the value
   d_p + max(0, g_p . (x - x_p)), with g_p the depth gradient of a least-squares plane through
   p's neighbours, blended by inverse squared distance. So the surface continues with its
   local slope where that makes it deeper (down dip, beyond the deepest contour) and holds its
   depth where the slope would make it shallower (seaward of the trough: the trough depth).
4. An interpolating bicubic spline through the lattice values (scipy RectBivariateSpline):
   C2 inside the lattice box. Outside the box the query point is clamped onto the box, so
   the depth is continued unchanged perpendicular to the box edge (C0 there).

Depth is in metres, positive down; z = -depth. The hanging wall is the side above the surface
(larger z), so the unit normal into the hanging wall is (d_x, d_y, 1) / sqrt(1 + |grad d|^2):
it points up, and its horizontal part points down dip (the direction of increasing depth),
as frames.strike_dip_from_normal expects.

`in_data(x, y)` tells where the surface rests on data rather than on extrapolation (a smoothed
footprint of the data points, see `_footprint_lattice`); faults are cut only from that part.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import RectBivariateSpline
from scipy.ndimage import gaussian_filter
from scipy.spatial import Delaunay, cKDTree

from crustgf.core.errors import CrustgfError

DEFAULT_MARGIN = 200e3  # m of lattice around the data, for plate layers across the model domain
_EXTRAPOLATION_NEIGHBOURS = 8
_GRADIENT_NEIGHBOURS = 12


@dataclass
class SlabSurface:
    """depth(x, y) of a smooth interface, with its gradient, hanging-wall normal and data footprint."""

    spline: RectBivariateSpline  # lattice depth (m), cubic
    footprint: RectBivariateSpline  # smoothed data indicator, 1 on data, 0 away from it
    box: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax of the lattice (m)
    spacing: float  # m, lattice spacing

    def _clamped(self, x, y):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        x, y = np.broadcast_arrays(x, y)
        xc = np.clip(x, self.box[0], self.box[1])
        yc = np.clip(y, self.box[2], self.box[3])
        return xc, yc, xc != x, yc != y

    def depth(self, x, y) -> np.ndarray:
        """Depth (m, positive down) at map points x, y (arrays of one shape)."""
        xc, yc, _, _ = self._clamped(x, y)
        return self.spline.ev(xc.ravel(), yc.ravel()).reshape(xc.shape)

    def gradient(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(d depth / dx, d depth / dy); zero across the clamped directions outside the box."""
        xc, yc, cx, cy = self._clamped(x, y)
        gx = self.spline.ev(xc.ravel(), yc.ravel(), dx=1).reshape(xc.shape)
        gy = self.spline.ev(xc.ravel(), yc.ravel(), dy=1).reshape(xc.shape)
        return np.where(cx, 0.0, gx), np.where(cy, 0.0, gy)

    def normal_at(self, points) -> np.ndarray:
        """Unit normals (n, 3) into the hanging wall (upward) at points (n, 2 or 3); z is ignored."""
        p = np.atleast_2d(np.asarray(points, dtype=float))
        gx, gy = self.gradient(p[:, 0], p[:, 1])
        n = np.stack([gx, gy, np.ones_like(gx)], axis=-1)
        return n / np.linalg.norm(n, axis=-1, keepdims=True)

    def data_indicator(self, x, y) -> np.ndarray:
        """Smoothed data footprint: > 0.5 where the surface rests on data."""
        xc, yc, _, _ = self._clamped(x, y)
        return self.footprint.ev(xc.ravel(), yc.ravel()).reshape(xc.shape)

    def in_data(self, x, y) -> np.ndarray:
        return self.data_indicator(x, y) > 0.5


def data_spacing(xy: np.ndarray) -> float:
    """Median distance from each data point to its nearest neighbour (m)."""
    dist, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(dist[:, 1]))


def local_gradients(xy: np.ndarray, depth: np.ndarray, k: int = _GRADIENT_NEIGHBOURS) -> np.ndarray:
    """(n, 2) depth gradient at each data point: least-squares plane through its k nearest points."""
    k = min(k, len(xy))
    _, idx = cKDTree(xy).query(xy, k=k)
    dx = xy[idx] - xy[:, None, :]  # (n, k, 2)
    dd = depth[idx] - depth[:, None]  # (n, k)
    # plane d = d_p + g . dx through the neighbours, solved by 3x3 normal equations with an offset
    a = np.concatenate([dx, np.ones(dx.shape[:2] + (1,))], axis=-1)  # (n, k, 3)
    ata = np.einsum("nki,nkj->nij", a, a)
    atb = np.einsum("nki,nk->ni", a, dd)
    return np.linalg.solve(ata, atb[..., None])[:, :2, 0]


def linear_within_data(xy: np.ndarray, depth: np.ndarray, at: np.ndarray, max_edge: float) -> np.ndarray:
    """Piecewise-linear interpolant on the data's Delaunay triangles whose edges are all at most
    max_edge long (triangles bridging gaps or bays of the data are not trusted); NaN elsewhere.

    The containing triangle is searched among those around the 3 nearest data points, with
    barycentric coordinates computed here (scipy's find_simplex builds LAPACK transforms that
    crawl when BLAS threads compete for a busy machine)."""
    simplices = Delaunay(xy).simplices
    corners = xy[simplices]  # (nt, 3, 2)
    short = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=-1).max(axis=1) <= max_edge
    incident = _incident_triangles(simplices, len(xy))
    _, nearest = cKDTree(xy).query(at, k=min(3, len(xy)))
    out = np.full(len(at), np.nan)
    for k in range(nearest.shape[1]):
        todo = np.flatnonzero(np.isnan(out))
        cand = incident[nearest[todo, k]]  # (m, deg) triangle ids, -1 padded
        c = corners[np.maximum(cand, 0)]  # (m, deg, 3, 2)
        e1, e2 = c[:, :, 1] - c[:, :, 0], c[:, :, 2] - c[:, :, 0]
        r = at[todo, None, :] - c[:, :, 0]
        det = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]
        b1 = (r[..., 0] * e2[..., 1] - r[..., 1] * e2[..., 0]) / det
        b2 = (e1[..., 0] * r[..., 1] - e1[..., 1] * r[..., 0]) / det
        tol = -1e-9
        hit = (cand >= 0) & short[np.maximum(cand, 0)] & (b1 >= tol) & (b2 >= tol) & (1 - b1 - b2 >= tol)
        found = hit.any(axis=1)
        j = np.argmax(hit, axis=1)[found]
        rows = np.flatnonzero(found)
        t = simplices[cand[rows, j]]
        w1, w2 = b1[rows, j], b2[rows, j]
        out[todo[found]] = (1 - w1 - w2) * depth[t[:, 0]] + w1 * depth[t[:, 1]] + w2 * depth[t[:, 2]]
    return out


def _incident_triangles(simplices: np.ndarray, n_vertices: int) -> np.ndarray:
    """(n_vertices, max degree) ids of the triangles around each vertex, padded with -1."""
    flat = simplices.ravel()
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=n_vertices)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(flat)) - np.repeat(first, counts)
    table = -np.ones((n_vertices, max(int(counts.max()), 1)), dtype=np.int64)
    table[flat[order], slot] = order // 3
    return table


def _lattice_axes(xy: np.ndarray, h: float, margin: float, extent) -> tuple[np.ndarray, np.ndarray]:
    lo = xy.min(axis=0) - margin
    hi = xy.max(axis=0) + margin
    if extent is not None:
        lo = np.minimum(lo, [extent[0], extent[2]])
        hi = np.maximum(hi, [extent[1], extent[3]])
    i0, i1 = np.floor(lo / h).astype(int), np.ceil(hi / h).astype(int)
    return np.arange(i0[0], i1[0] + 1) * h, np.arange(i0[1], i1[1] + 1) * h


def extrapolate(nodes: np.ndarray, xy: np.ndarray, depth: np.ndarray, grad: np.ndarray,
                k: int = _EXTRAPOLATION_NEIGHBOURS) -> np.ndarray:
    """Depth at nodes beyond the data: slope continuation where it deepens, else hold (see module doc)."""
    k = min(k, len(xy))
    dist, idx = cKDTree(xy).query(nodes, k=k)
    offset = nodes[:, None, :] - xy[idx]  # (m, k, 2)
    deeper = np.maximum(0.0, np.einsum("mki,mki->mk", grad[idx], offset))
    w = 1.0 / np.maximum(dist, 1e-9) ** 2
    return np.sum(w * (depth[idx] + deeper), axis=1) / np.sum(w, axis=1)


def _footprint_lattice(near: np.ndarray, h_lattice: float, h_data: float) -> np.ndarray:
    """Smoothed indicator of lattice nodes near data; its 0.5 level follows the data's edge."""
    sigma = max(1.0, h_data / h_lattice)
    return gaussian_filter(near.astype(float), sigma=sigma, mode="nearest")


def fit_surface(points: np.ndarray, spacing: float | None = None, margin: float = DEFAULT_MARGIN,
                extent: tuple[float, float, float, float] | None = None) -> SlabSurface:
    """Smooth surface through points (n, 3) = x, y (m), depth (m, positive down); see module doc.

    extent: (xmin, xmax, ymin, ymax) the lattice must also cover (e.g. the model domain).
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 10:
        raise CrustgfError(f"fault.file: need at least 10 depth points (x, y, depth), got shape {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise CrustgfError("fault.file: depth points contain NaN or infinite values")
    xy, depth = pts[:, :2], pts[:, 2]
    h_data = data_spacing(xy)
    if h_data <= 0:
        raise CrustgfError("fault.file: depth points contain duplicate positions")
    h = float(spacing) if spacing else 0.5 * h_data
    gx, gy = _lattice_axes(xy, h, margin, extent)
    nodes = np.stack(np.meshgrid(gx, gy, indexing="ij"), axis=-1).reshape(-1, 2)

    dist, _ = cKDTree(xy).query(nodes)
    # a point in a triangle with edges <= L is within L / sqrt(3) of a vertex: skip the rest
    values = np.full(len(nodes), np.nan)
    near = dist <= 1.5 * h_data
    values[near] = linear_within_data(xy, depth, nodes[near], max_edge=2.5 * h_data)
    far = ~np.isfinite(values)
    values[far] = extrapolate(nodes[far], xy, depth, local_gradients(xy, depth))

    shape = (len(gx), len(gy))
    spline = RectBivariateSpline(gx, gy, values.reshape(shape), kx=3, ky=3, s=0)
    near_data = (dist <= 0.75 * h_data).reshape(shape)
    footprint = RectBivariateSpline(gx, gy, _footprint_lattice(near_data, h, h_data), kx=1, ky=1, s=0)
    return SlabSurface(spline, footprint, (gx[0], gx[-1], gy[0], gy[-1]), h)


_CACHE: dict[tuple, SlabSurface] = {}


def surface_from_points(points: np.ndarray, extent=None) -> SlabSurface:
    """fit_surface with default options, memoised on the points' bytes (the mesher and the
    plate-layer assignment ask for the same surface)."""
    pts = np.ascontiguousarray(points, dtype=float)
    key = (hashlib.sha1(pts.tobytes()).hexdigest(), pts.shape, None if extent is None else tuple(extent))
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = fit_surface(pts, extent=extent)
    return _CACHE[key]
