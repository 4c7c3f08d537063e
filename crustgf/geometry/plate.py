"""Plate layers: layers below the plate interface that follow it (config `plate_layers`).

The interface is the fault's surface continued over the whole model: for a grid fault the
smooth depth-grid surface (slab.py, with its extrapolation: held at the trough depth seaward of
the trough, continued down dip beyond the data, held beyond its lattice); for a rectangular
fault the fault's plane, extended without bounds.

Distance below the interface is measured along the interface normal, in the local-plane
approximation: the vertical distance v = depth(point) - depth_interface(x, y) times the cosine
of the interface dip at (x, y), cos(dip) = 1 / sqrt(1 + |grad depth|^2). This is exact for a
plane and, for a curved interface, off by a fraction of order (thickness x curvature) only.
Plate layer k holds the points with distance in [T_{k-1}, T_k), T_k the cumulative thickness
(`Layer.bottom` of plate layers is the thickness). Points above the interface (distance <= 0)
and below the last plate layer get -1: the flat layers apply there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.config.schema import Config, GridFault, Layer, RectangleFault
from crustgf.core.errors import CrustgfError
from crustgf.geometry.frames import dip_vector
from crustgf.geometry.slab import surface_from_points


@dataclass
class PlaneInterface:
    """The plane of a rectangular fault as an unbounded depth(x, y) surface (m, positive down)."""

    origin: np.ndarray  # (x, y) of a point on the plane, m
    depth0: float  # its depth, m
    slope: np.ndarray  # (2,) depth gradient: tan(dip) times the map down-dip unit vector

    def depth(self, x, y) -> np.ndarray:
        dx, dy = np.asarray(x) - self.origin[0], np.asarray(y) - self.origin[1]
        return self.depth0 + dx * self.slope[0] + dy * self.slope[1]

    def gradient(self, x, y):
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        return np.full(shape, self.slope[0]), np.full(shape, self.slope[1])

    def normal_at(self, points) -> np.ndarray:
        """Hanging-wall (upward) unit normal, (n, 3)."""
        n = np.array([self.slope[0], self.slope[1], 1.0])
        n /= np.linalg.norm(n)
        return np.broadcast_to(n, (len(np.atleast_2d(points)), 3)).copy()


def plane_interface(fault: RectangleFault) -> PlaneInterface:
    if fault.dip >= 89.0:
        raise CrustgfError(f"plate_layers: need a dipping plate interface, but fault.dip is {fault.dip:g} degrees")
    d = dip_vector(fault.strike, fault.dip)
    down_dip_map = d[:2] / np.linalg.norm(d[:2])
    slope = np.tan(np.radians(fault.dip)) * down_dip_map
    return PlaneInterface(np.asarray(fault.top_center[:2], dtype=float), float(fault.top_center[2]), slope)


def interface_surface(cfg: Config):
    """The plate interface of a config: its fault's surface over the whole model (module doc)."""
    fault = cfg.fault
    if isinstance(fault, GridFault):
        return surface_from_points(fault.points)
    if isinstance(fault, RectangleFault):
        return plane_interface(fault)
    raise CrustgfError(f"plate_layers: no plate interface for fault type {getattr(fault, 'type', '?')!r}")


def distance_below(points, surface) -> np.ndarray:
    """Distance (m) of points (n, 3; z up) below the interface, along its normal; negative above."""
    p = np.atleast_2d(np.asarray(points, dtype=float))
    vertical = -p[:, 2] - surface.depth(p[:, 0], p[:, 1])
    gx, gy = surface.gradient(p[:, 0], p[:, 1])
    return vertical / np.sqrt(1.0 + gx**2 + gy**2)


def depth_at_distance(surface, x, y, distance: float) -> np.ndarray:
    """Depth (m, down) of the points at (x, y) lying `distance` (m) below the interface, in the
    measure of distance_below (its inverse): the interface depth plus distance sqrt(1 + |grad|^2)."""
    gx, gy = surface.gradient(x, y)
    return surface.depth(x, y) + distance * np.sqrt(1.0 + gx**2 + gy**2)


def plate_layer_of(points, surface, plate_layers: list[Layer]) -> np.ndarray:
    """Index into plate_layers of the plate layer holding each point (n, 3), -1 if none (module doc)."""
    dist = distance_below(points, surface)
    tops = np.cumsum([0.0] + [float(layer.bottom) for layer in plate_layers])
    k = np.searchsorted(tops, dist, side="right") - 1  # tops[k] <= dist < tops[k + 1]
    return np.where((dist > 0.0) & (k < len(plate_layers)), k, -1).astype(np.int32)
