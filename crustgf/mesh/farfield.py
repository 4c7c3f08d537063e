"""The far field: how big the clamped box must be, and what a given box costs in accuracy.

The sides and the bottom of the model are clamped (zero displacement). A subfault's static field
decays like 1/r^2, and the clamped boundary adds a correction that is about uniform near the
source and of the size of the true field at the boundary. So the relative error of the GF of a
subfault at a station at distance r, with the nearest clamped face at distance L from the
subfault, is about

    err ~ C (r / L)^2,

with C measured by bench/farfield.py against cutde (bench/results/farfield-20261203.txt). When
`[domain]` omits x, y or depth, crustgf picks L = r_max sqrt(C / TARGET) for the omitted ones (r_max
the largest subfault-station distance), so that no station's GF changes by more than TARGET = 1 %;
element sizes grow with distance outside a core around the fault and stations (mesh/sizing.py
add_core_field), so the large box costs few extra DOF. A given box is kept; when its estimate
exceeds TARGET, loading the config adds a one-line warning with the estimated error.
"""

from __future__ import annotations

import numpy as np

C_BOUNDARY = 2.5  # measured: see the module doc
TARGET = 0.01
CORE_MARGIN = 50e3  # m around the fault and stations, inside which mesh.size_max holds


def source_points(fault) -> np.ndarray:
    """(n, 3) points (m, z up) spread over the fault: rectangle subfault centres, or grid points."""
    from crustgf.config.schema import RectangleFault
    from crustgf.geometry.frames import rectangle_corners

    if isinstance(fault, RectangleFault):
        x, y, d = fault.top_center
        c = rectangle_corners((x, y, -d), fault.strike, fault.dip, fault.length, fault.width)
        ns, nd = fault.subfaults
        a = (np.arange(ns) + 0.5) / ns
        b = (np.arange(nd) + 0.5) / nd
        A, B = np.meshgrid(a, b)
        return c[0] + A.ravel()[:, None] * (c[1] - c[0]) + B.ravel()[:, None] * (c[3] - c[0])
    p = np.asarray(fault.points, dtype=float)
    keep = (p[:, 2] >= fault.depth_range[0]) & (p[:, 2] <= fault.depth_range[1])
    if fault.outline is not None:
        from crustgf.geometry.region import inside_polygon

        keep &= inside_polygon(p[:, 0], p[:, 1], np.asarray(fault.outline))
    p = p[keep] if keep.any() else p
    step = max(1, len(p) // 400)
    return np.column_stack([p[::step, :2], -p[::step, 2]])


def boundary_error(domain, src: np.ndarray, stations: np.ndarray) -> tuple[float, int]:
    """(largest estimated relative GF error, index of that station) for a clamped box."""
    L = np.minimum.reduce([src[:, 0] - domain.x[0], domain.x[1] - src[:, 0], src[:, 1] - domain.y[0],
                           domain.y[1] - src[:, 1], domain.depth + src[:, 2]])  # (n_src,)
    L = np.maximum(L, 1.0)
    r = np.linalg.norm(stations[:, None, :] - src[None, :, :], axis=2)  # (n_st, n_src)
    err = C_BOUNDARY * (r / L[None, :]) ** 2
    per_station = err.max(axis=1)
    i = int(np.argmax(per_station))
    return float(per_station[i]), i


def auto_domain(domain, auto: tuple[bool, bool, bool], src: np.ndarray, stations: np.ndarray):
    """The domain with its omitted x, y, depth sized for TARGET, and the far-field core set."""
    from dataclasses import replace

    r = np.linalg.norm(stations[:, None, :] - src[None, :, :], axis=2).max()
    L = float(r * np.sqrt(C_BOUNDARY / TARGET))
    pts = np.vstack([src, stations])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    x = (float(src[:, 0].min() - L), float(src[:, 0].max() + L)) if auto[0] else domain.x
    y = (float(src[:, 1].min() - L), float(src[:, 1].max() + L)) if auto[1] else domain.y
    depth = float(-src[:, 2].min() + L) if auto[2] else domain.depth
    core = (max(x[0], lo[0] - CORE_MARGIN), min(x[1], hi[0] + CORE_MARGIN),
            max(y[0], lo[1] - CORE_MARGIN), min(y[1], hi[1] + CORE_MARGIN),
            min(depth, -lo[2] + CORE_MARGIN))
    return replace(domain, x=x, y=y, depth=depth, core=core)


def km(v: float) -> str:
    return f"{v / 1e3:.0f} km"
