"""Strike/dip frames and the sign conventions of SPEC section 4, in one place.

Local frame: x east, y north, z up. Strike phi is clockwise from north; the fault dips by delta
to the right of the strike direction.

    strike vector  s = (sin phi, cos phi, 0)
    dip vector     d = cos delta * (cos phi, -sin phi, 0) + (0, 0, -sin delta)   (points down dip)
    normal         n = d x s   (unit; points into the hanging wall, the block above the fault)

Slip is the hanging wall's motion relative to the footwall, u(hanging) - u(foot):
strike-slip +1 (left-lateral) is +s; dip-slip +1 (reverse, hanging wall up dip) is -d.
"""

from __future__ import annotations

import numpy as np

STRIKE_SLIP, DIP_SLIP = 0, 1


def strike_vector(strike_deg):
    p = np.radians(strike_deg)
    return np.stack([np.sin(p), np.cos(p), np.zeros_like(p)], axis=-1)


def dip_vector(strike_deg, dip_deg):
    p, d = np.radians(strike_deg), np.radians(dip_deg)
    return np.stack([np.cos(d) * np.cos(p), -np.cos(d) * np.sin(p), -np.sin(d) * np.ones_like(p)], axis=-1)


def normal_vector(strike_deg, dip_deg):
    """Unit normal pointing into the hanging wall."""
    return np.cross(dip_vector(strike_deg, dip_deg), strike_vector(strike_deg))


def strike_dip_from_normal(n):
    """Strike and dip (degrees) of planes whose hanging-wall normal is n (..., 3), n_z >= 0 expected.

    For a vertical plane (n_z = 0) the strike is chosen so that n points to the right of it.
    """
    n = np.asarray(n, dtype=float)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    dip = np.degrees(np.arccos(np.clip(np.abs(n[..., 2]), 0.0, 1.0)))
    sign = np.where(n[..., 2] < 0, -1.0, 1.0)  # a downward normal: flip to the upper side
    nx, ny = sign * n[..., 0], sign * n[..., 1]
    # the horizontal part of n points down dip (to the right of strike): strike = azimuth(n_h) - 90
    strike = (np.degrees(np.arctan2(nx, ny)) - 90.0) % 360.0
    return strike, dip


def local_frames(normals):
    """Per-point (strike vector, dip vector) from hanging-wall unit normals (..., 3).

    Strike is horizontal with n = d x s; for a horizontal fault (n = +z) strike is taken as north.
    """
    n = np.asarray(normals, dtype=float)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    s = np.cross([0.0, 0.0, 1.0], n)  # horizontal; for n = (sin dip, 0, cos dip) it is north
    norm = np.linalg.norm(s, axis=-1, keepdims=True)
    flat = norm[..., 0] < 1e-12
    s = np.where(flat[..., None], np.array([0.0, 1.0, 0.0]), s / np.where(norm > 0, norm, 1.0))
    d = np.cross(s, n)
    return s, d


def slip_vectors(normals):
    """Unit jump vectors u(hanging) - u(foot) for strike-slip and dip-slip: (..., 2, 3)."""
    s, d = local_frames(normals)
    return np.stack([s, -d], axis=-2)


def rectangle_corners(top_center_xyz, strike_deg, dip_deg, length, width):
    """Corners of a planar rectangular fault (4, 3) in m, in the order
    top-start, top-end, bottom-end, bottom-start (start/end along strike).
    top_center_xyz has z (negative below the surface)."""
    c = np.asarray(top_center_xyz, dtype=float)
    s = strike_vector(strike_deg)
    d = dip_vector(strike_deg, dip_deg)
    t0, t1 = c - 0.5 * length * s, c + 0.5 * length * s
    return np.array([t0, t1, t1 + width * d, t0 + width * d])
