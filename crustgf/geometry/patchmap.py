"""A structured (strike, dip) parameterisation of a curvilinear four-sided region on a surface.

The region's map-view boundary polygon is split at four corners into a top curve (up dip),
a bottom curve (down dip) and two ends; the map point of parameters (s, tau) in [0, 1]^2 is:

* s runs along strike (start end s = 0 to far end s = 1); t runs down dip (top t = 0);
* the Coons (transfinite) interpolation of the four boundary curves, each parameterised by
  its 3D arc length on the surface, gives the map point of (s, t);
* on every s-line the down-dip parameter is re-spaced to 3D arc length: tau is the fraction of
  the line's arc length on the surface from the top curve. So rows of equal tau steps have equal
  down-dip widths within each column, and the map is still one continuous function of (s, tau),
  which makes shared edges of neighbouring patches identical.

Corners: in map coordinates (a along the mean strike, b down dip), normalised to [0, 1] by the
region's extents, the top-start corner minimises a + b, the top-end corner maximises a - b,
the bottom-end corner maximises a + b and the bottom-start corner maximises b - a. Corners the
raster contour rounded off are moved back to the intersection of the two sides (sharpen_corner).
"""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError

_DIP_SAMPLES = 129  # samples of t per s-line for the arc-length re-spacing


class SurfaceCurve:
    """A map polyline lifted onto the surface, evaluated by fraction u of its 3D arc length."""

    def __init__(self, xy: np.ndarray, depth_at):
        self.xy = np.asarray(xy, dtype=float)
        z = -depth_at(self.xy[:, 0], self.xy[:, 1])
        seg = np.linalg.norm(np.diff(np.column_stack([self.xy, z]), axis=0), axis=1)
        self.cumulative = np.concatenate([[0.0], np.cumsum(seg)])
        self.length = float(self.cumulative[-1])

    def __call__(self, u) -> np.ndarray:
        s = np.asarray(u, dtype=float) * self.length
        return np.stack([np.interp(s, self.cumulative, self.xy[:, 0]),
                         np.interp(s, self.cumulative, self.xy[:, 1])], axis=-1)


def find_corners(poly: np.ndarray, strike_xy: np.ndarray) -> np.ndarray:
    """Indices (top-start, top-end, bottom-end, bottom-start) of the corners of polygon (k, 2)."""
    down_dip = np.array([strike_xy[1], -strike_xy[0]])  # 90 degrees clockwise of strike in map view
    a, b = poly @ strike_xy, poly @ down_dip
    u = (a - a.min()) / max(np.ptp(a), 1e-9)
    v = (b - b.min()) / max(np.ptp(b), 1e-9)
    return np.array([np.argmin(u + v), np.argmax(u - v), np.argmax(u + v), np.argmax(v - u)])


def _cyclic(poly: np.ndarray, i: int, j: int) -> np.ndarray:
    """poly[i..j] inclusive, going forward and wrapping around."""
    n = len(poly)
    return poly[np.arange(i, i + (j - i) % n + 1) % n]


def _line_fit(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre, unit direction) of the least-squares line through points (m, 2)."""
    c = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - c)
    return c, vt[0]


def sharpen_corner(arc1: np.ndarray, arc2: np.ndarray, reach: float):
    """Two polylines leaving one corner (arc[0]); the raster contour rounds a sharp corner off by
    about one raster step. Fit lines to each arc between reach/3 and reach from the corner, and
    if they meet at a clear angle close by, move the corner to their intersection (dropping the
    rounded vertices). Returns the two arcs, unchanged when the corner is not sharp."""
    p = arc1[0]
    parts = []
    for arc in (arc1, arc2):
        r = np.linalg.norm(arc - p, axis=1)
        first_out = np.argmax(r > reach) if np.any(r > reach) else len(arc)
        sel = (r >= reach / 3) & (np.arange(len(arc)) < first_out)
        if sel.sum() < 2:
            return arc1, arc2
        parts.append(_line_fit(arc[sel]))
    (c1, u1), (c2, u2) = parts
    cross = u1[0] * u2[1] - u1[1] * u2[0]
    if abs(cross) < np.sin(np.radians(20.0)):
        return arc1, arc2
    t = ((c2 - c1)[0] * u2[1] - (c2 - c1)[1] * u2[0]) / cross
    q = c1 + t * u1
    if np.linalg.norm(q - p) > reach / 2:
        return arc1, arc2
    out = []
    for arc in (arc1, arc2):  # drop the rounded run at the start
        first_far = np.argmax(np.linalg.norm(arc - p, axis=1) > reach / 4)
        out.append(np.vstack([q, arc[first_far:]]))
    return out[0], out[1]


def split_boundary(poly: np.ndarray, strike_xy: np.ndarray, reach: float | None = None):
    """Four map polylines: top (top-start -> top-end), bottom (bottom-start -> bottom-end),
    start end (top-start -> bottom-start), far end (top-end -> bottom-end).
    reach: if given, sharpen the four corners (sharpen_corner) over this distance."""
    c = find_corners(poly, strike_xy)
    n = len(poly)
    forward = (c - c[0]) % n
    if not (0 < forward[1] < forward[2] < forward[3]):
        poly = poly[::-1]
        c = n - 1 - c
        forward = (c - c[0]) % n
    if not (0 < forward[1] < forward[2] < forward[3]) or len(set(c.tolist())) < 4:
        raise CrustgfError("fault: cannot find four corners of the cut region; the outline and "
                           "depth_range should cut out a roughly four-sided piece of the surface")
    tl, tr, br, bl = c
    # the polygon now runs top-start -> top-end -> bottom-end -> bottom-start
    top, bottom = _cyclic(poly, tl, tr), _cyclic(poly, br, bl)[::-1]
    start, end = _cyclic(poly, bl, tl)[::-1], _cyclic(poly, tr, br)
    if reach:
        top, start = sharpen_corner(top, start, reach)
        top_r, end = sharpen_corner(top[::-1], end, reach)
        bottom, start_r = sharpen_corner(bottom, start[::-1], reach)
        bottom_r, end_r = sharpen_corner(bottom[::-1], end[::-1], reach)
        top, start, bottom, end = top_r[::-1], start_r[::-1], bottom_r[::-1], end_r[::-1]
    return top, bottom, start, end


class PatchMap:
    """(s, tau) in [0, 1]^2 -> map point (x, y) on the region; see module doc."""

    def __init__(self, top: SurfaceCurve, bottom: SurfaceCurve, start: SurfaceCurve, end: SurfaceCurve,
                 depth_at):
        self.top, self.bottom, self.start, self.end = top, bottom, start, end
        self.depth_at = depth_at
        self._t = np.linspace(0.0, 1.0, _DIP_SAMPLES)

    def coons(self, s, t) -> np.ndarray:
        """Transfinite interpolation of the four boundary curves at (s, t) (broadcast), (..., 2)."""
        s, t = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(t, dtype=float))
        S, T = s[..., None], t[..., None]
        tl, tr = self.top(0.0), self.top(1.0)
        bl, br = self.bottom(0.0), self.bottom(1.0)
        return ((1 - T) * self.top(s) + T * self.bottom(s) + (1 - S) * self.start(t) + S * self.end(t)
                - ((1 - S) * (1 - T) * tl + S * (1 - T) * tr + (1 - S) * T * bl + S * T * br))

    def _arc_tables(self, s_values: np.ndarray) -> np.ndarray:
        """Cumulative 3D arc length along each s-line at the t samples: (m, _DIP_SAMPLES)."""
        xy = self.coons(s_values[:, None], self._t[None, :])
        z = -self.depth_at(xy[..., 0], xy[..., 1])
        seg = np.linalg.norm(np.diff(np.concatenate([xy, z[..., None]], axis=-1), axis=1), axis=-1)
        return np.concatenate([np.zeros((len(s_values), 1)), np.cumsum(seg, axis=1)], axis=1)

    def __call__(self, s, tau) -> np.ndarray:
        """Map points (..., 2) of parameters s, tau (arrays of one shape)."""
        s, tau = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(tau, dtype=float))
        s_unique, inverse = np.unique(s.ravel(), return_inverse=True)
        tables = self._arc_tables(s_unique)
        t = np.empty(s.size)
        for k, (ss, tt) in enumerate(zip(inverse, tau.ravel())):
            table = tables[ss]
            t[k] = np.interp(tt * table[-1], table, self._t)
        return self.coons(s.ravel(), t).reshape(s.shape + (2,))

    def down_dip_length(self, s) -> np.ndarray:
        """3D arc length of the s-lines (m)."""
        return self._arc_tables(np.atleast_1d(np.asarray(s, dtype=float)))[:, -1]
