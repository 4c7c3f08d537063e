"""`[domain]`: the box and the origin of the local frame (transverse Mercator around it)."""

from __future__ import annotations

import numpy as np

from crustgf.config.checker import _increasing, _positive, _show
from crustgf.config.schema import KM, Domain
from crustgf.geometry.projection import Projection

AUTO_PLACEHOLDER = 1e9  # m: stands for an omitted domain x, y (half-width) or depth until sized


def _far_field(domain, layers, fault, stations, warnings):
    """Size an omitted domain x, y, depth (the last layer then reaches the new bottom), or warn
    when a given box is too small for farfield.TARGET (crustgf/mesh/farfield.py)."""
    from crustgf.mesh import farfield

    src = farfield.source_points(fault)
    if any(domain.auto):
        domain = farfield.auto_domain(domain, domain.auto, src, stations.positions)
        last = layers[-1].layer
        if domain.auto[2]:
            domain.depth = max(domain.depth, last.bottom * (1 + 1e-9) if last.bottom < AUTO_PLACEHOLDER else 0.0)
            last.bottom = domain.depth
        return domain
    est, i = farfield.boundary_error(domain, src, stations.positions)
    if est > farfield.TARGET:
        warnings.append(f"domain: the clamped box may change Green's functions by ~{100 * est:.0f} % "
                        f"(estimated, at station {stations.names[i]}); omit domain.x, domain.y and "
                        f"domain.depth to let crustgf size it for {100 * farfield.TARGET:.0f} %")
    return domain


class _Origin:
    """Marks what we know about domain.origin: absent, given but invalid, or valid."""

    ABSENT, INVALID = "absent", "invalid"


def _read_domain(ck, root):
    """Domain with None for fields that failed their checks, and the Projection (or an _Origin mark)."""
    sec = root.table("domain", ("x", "y", "depth", "origin"))
    if sec is None:
        return Domain(None, None, None, None), _Origin.INVALID
    auto = tuple(not sec.has(k) for k in ("x", "y", "depth"))  # omitted: sized later (mesh/farfield.py)
    big = AUTO_PLACEHOLDER / KM
    x, y = sec.numbers("x", 2, required=False) or (-big, big), sec.numbers("y", 2, required=False) or (-big, big)
    x = x if not sec.has("x") or _increasing(ck, sec, "x", x) else None
    y = y if not sec.has("y") or _increasing(ck, sec, "y", y) else None
    depth = sec.number("depth", required=False, default=big)
    depth = depth if not sec.has("depth") or _positive(ck, sec, "depth", depth) else None
    origin, proj = None, _Origin.ABSENT
    if sec.has("origin"):
        origin, proj = sec.numbers("origin", 2), _Origin.INVALID
        if origin is not None:
            lon, lat = origin
            ok = ck.require(-180.0 <= lon <= 360.0, sec.at("origin"),
                            f"longitude must be in [-180, 360] degrees, got {_show(lon)}")
            ok &= ck.require(-90.0 < lat < 90.0, sec.at("origin"),
                             f"latitude must be in (-90, 90) degrees, got {_show(lat)}")
            if ok:
                proj = Projection(origin)
            else:
                origin = None
    return Domain(_km_pair(x), _km_pair(y), None if depth is None else depth * KM, origin, auto=auto), proj


def _km_pair(p):
    return None if p is None else (p[0] * KM, p[1] * KM)


def _projection_for(ck, path, proj, what):
    """The Projection for lon/lat input `what`, or None (reported when the origin is missing)."""
    if proj is _Origin.ABSENT:
        ck.add(path, f"{what} is in lon/lat, so domain.origin is required")
    return proj if isinstance(proj, Projection) else None


def _horizontal_to_xy(ck, path, kind, a, b, proj, what):
    """Local x, y in m from lon/lat (degrees, projected) or x/y (km); None when lon/lat lacks an origin."""
    if kind == "xy":
        return np.asarray(a) * KM, np.asarray(b) * KM
    p = _projection_for(ck, path, proj, what)
    if p is None:
        return None
    return p.to_xy(a, b)
