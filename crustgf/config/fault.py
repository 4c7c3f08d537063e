"""`[fault]`: a rectangle or a depth grid (Slab2-like) cut by an outline."""

from __future__ import annotations

import numpy as np

from crustgf.config.checker import _few, _increasing, _is_number, _positive, _read_table_file, _resolve_file, _show
from crustgf.config.domain import _horizontal_to_xy
from crustgf.config.schema import FAULT_TYPES, KM, GridFault, RectangleFault
from crustgf.core.tables import read_depth_grid
from crustgf.geometry.frames import rectangle_corners

RECTANGLE_KEYS = ("type", "top_center", "strike", "dip", "length", "width", "subfaults")
GRID_KEYS = ("type", "file", "outline", "depth_range", "subfault_size", "reach_surface")


def _read_fault(ck, root, domain, proj, base):
    sec = root.table("fault", tuple(dict.fromkeys(RECTANGLE_KEYS + GRID_KEYS)))
    if sec is None:
        return None
    kind = sec.string("type", choices=FAULT_TYPES)
    if kind is None:
        return None
    own = RECTANGLE_KEYS if kind == "rectangle" else GRID_KEYS
    for key in sec.data:  # keys of the other form (keys of neither are reported as unknown)
        if key not in own and key in RECTANGLE_KEYS + GRID_KEYS:
            ck.add(sec.at(key), f'not a key of a fault of type = "{kind}"')
    if kind == "rectangle":
        return _read_rectangle(ck, sec, domain)
    return _read_grid_fault(ck, sec, domain, proj, base)


def _read_rectangle(ck, sec, domain):
    top = sec.numbers("top_center", 3)
    if top is not None and not ck.require(top[2] >= 0.0, sec.at("top_center"),
                                          f"top depth must be >= 0 (not above the free surface), "
                                          f"got {_show(top[2])}"):
        top = None
    strike = sec.number("strike")
    dip = sec.number("dip")
    if dip is not None and not ck.require(0.0 < dip <= 90.0, sec.at("dip"),
                                          f"must be in (0, 90] degrees, got {_show(dip)}"):
        dip = None
    length, width = sec.number("length"), sec.number("width")
    length = length if _positive(ck, sec, "length", length) else None
    width = width if _positive(ck, sec, "width", width) else None
    counts = _positive_integers(ck, sec, "subfaults", 2)
    parts = (top, strike, dip, length, width, counts)
    if any(p is None for p in parts):
        return None
    fault = RectangleFault((top[0] * KM, top[1] * KM, top[2] * KM), strike, dip, length * KM,
                           width * KM, counts)
    _check_rectangle_inside(ck, sec, fault, domain)
    return fault


def _positive_integers(ck, sec, key, n):
    v = sec.raw(key, True)
    if v is None:
        return None
    ok = isinstance(v, list) and len(v) == n and all(isinstance(k, int) and not isinstance(k, bool)
                                                     and k > 0 for k in v)
    if not ck.require(ok, sec.at(key), f"must be an array of {n} positive integers, got {_show(v)}"):
        return None
    return tuple(v)


def _check_rectangle_inside(ck, sec, fault, domain):
    """Every corner strictly inside the box (the top edge may touch the free surface z = 0)."""
    if domain.x is None or domain.y is None or domain.depth is None:
        return
    x, y, d = fault.top_center
    corners = rectangle_corners((x, y, -d), fault.strike, fault.dip, fault.length, fault.width)
    (x0, x1), (y0, y1) = domain.x, domain.y
    for cx, cy, cz in corners:
        inside = x0 < cx < x1 and y0 < cy < y1 and -domain.depth < cz <= 1e-9 * domain.depth
        if not inside:
            ck.add(sec.path, "the rectangle must lie strictly inside the domain; its corner at "
                   f"(x, y, depth) = ({cx / KM:.3f}, {cy / KM:.3f}, {-cz / KM:.3f}) km is outside")
            return


def _read_grid_fault(ck, sec, domain, proj, base):
    path = _resolve_file(ck, sec, "file", base)
    grid = _read_table_file(ck, sec, "file", path, read_depth_grid) if path else None
    points = None
    if grid is not None:
        xy = _horizontal_to_xy(ck, sec.at("file"), grid.horizontal, grid.a, grid.b, proj, "the depth grid")
        if xy is not None:
            points = np.column_stack([xy[0], xy[1], grid.depth_km * KM])
    outline = _read_outline(ck, sec, grid, proj, domain)
    depth_range = sec.numbers("depth_range", 2)
    if depth_range is not None:
        ok = ck.require(depth_range[0] >= 0.0, sec.at("depth_range"),
                        f"must be >= 0 (depths are positive down), got {list(depth_range)}")
        ok = ok and _increasing(ck, sec, "depth_range", depth_range)
        if ok and domain.depth is not None:
            ok = ck.require(depth_range[1] * KM < domain.depth, sec.at("depth_range"),
                            f"must end above domain.depth = {_show(domain.depth / KM)}, "
                            f"got {list(depth_range)}")
        depth_range = depth_range if ok else None
    size = sec.number("subfault_size")
    size = size if _positive(ck, sec, "subfault_size", size) else None
    reach = sec.raw("reach_surface", False)
    if reach is not None and not ck.require(isinstance(reach, bool), sec.at("reach_surface"),
                                            f"must be true or false, got {_show(reach)}"):
        return None
    if points is None or depth_range is None or size is None or outline is False:
        return None
    return GridFault(points, outline, (depth_range[0] * KM, depth_range[1] * KM), size * KM, str(path),
                     reach_surface=bool(reach))


def _read_outline(ck, sec, grid, proj, domain):
    """The outline polygon (k, 2) in m, None when absent, False when it has a problem."""
    v = sec.raw("outline", False)
    if v is None:
        return None
    ok = (isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 and all(_is_number(c) for c in p)
                                      for p in v))
    if not ck.require(ok, sec.at("outline"), "must be an array of [a, b] number pairs"):
        return False
    if not ck.require(len(v) >= 3, sec.at("outline"), f"needs at least 3 points, got {len(v)}"):
        return False
    if grid is None:
        return False  # the file's problem is reported; its columns decide the outline's units
    pts = np.asarray(v, dtype=float)
    xy = _horizontal_to_xy(ck, sec.at("outline"), grid.horizontal, pts[:, 0], pts[:, 1], proj, "the outline")
    if xy is None:
        return False
    outline = np.column_stack(xy)
    if domain.x is not None and domain.y is not None:
        (x0, x1), (y0, y1) = domain.x, domain.y
        out = [i for i, (x, y) in enumerate(outline) if not (x0 < x < x1 and y0 < y < y1)]
        if out:
            x, y = outline[out[0]] / KM
            ck.add(sec.at("outline"), f"must lie strictly inside the domain; point(s) {_few(out)} "
                   f"(counted from 0) are outside, e.g. (x, y) = ({x:.3f}, {y:.3f}) km")
            return False
    return outline
