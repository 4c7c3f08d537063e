"""Faults cut from depth grids and split into strike/dip patches (geometry/grid.py).

References: a planar dipping surface (exact rectangle, strike, dip, area), an analytic curved
surface (area by independent raster integration; coverage without overlap), the Slab2 Nankai
interface (strike and dip ranges known from the plate geometry).
"""

import numpy as np
import pytest
from test_slab import KM, curved_depth, curved_gradient, load_slab2, map_point, scattered_points

from crustgf.config.schema import GridFault
from crustgf.core.errors import CrustgfError
from crustgf.geometry.frames import strike_dip_from_normal
from crustgf.geometry.grid import grid_patches
from crustgf.geometry.projection import Projection
from crustgf.geometry.region import inside_polygon
from crustgf.geometry.slab import fit_surface

DIP = 20.0


def plane_depth(x, y):
    b = x * np.cos(np.radians(240.0)) - y * np.sin(np.radians(240.0))
    return 10 * KM + np.tan(np.radians(DIP)) * b


def strike_rectangle(a0, a1, b0, b1):
    return np.array([map_point(a, b) for a, b in [(a0, b0), (a1, b0), (a1, b1), (a0, b1)]])


def patch_rings(fp):
    """Closed boundary polyline (m, 3) of each patch, from its four edges in loop order."""
    rings = []
    for loop in fp.patches:
        top, end, bottom, start = (fp.edge_points[e] for e in loop)
        rings.append(np.vstack([top, end[1:], bottom[::-1][1:], start[::-1][1:-1]]))
    return rings


def surface_area(ring, depth_fn, m=6):
    """Area on the surface z = -depth(x, y) inside a map ring: fan from the ring's centre, each fan
    triangle split into m^2 map triangles lifted onto the surface."""
    c = ring[:, :2].mean(axis=0)
    total = 0.0
    u, v = np.meshgrid(np.arange(m + 1), np.arange(m + 1))
    keep = u + v <= m
    u, v = u[keep] / m, v[keep] / m
    index = -np.ones((m + 1, m + 1), dtype=int)
    index[(u * m).round().astype(int), (v * m).round().astype(int)] = np.arange(len(u))
    tris = [(index[i, j], index[i + 1, j], index[i, j + 1]) for i in range(m) for j in range(m - i)]
    tris += [(index[i + 1, j], index[i + 1, j + 1], index[i, j + 1]) for i in range(m) for j in range(m - i - 1)]
    tris = np.array(tris)
    for p, q in zip(ring[:, :2], np.roll(ring[:, :2], -1, axis=0)):
        xy = c + u[:, None] * (p - c) + v[:, None] * (q - c)
        pts = np.column_stack([xy, -depth_fn(xy[:, 0], xy[:, 1])])
        t = pts[tris]
        total += 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1).sum()
    return total


@pytest.fixture(scope="module")
def planar():
    pts = scattered_points(plane_depth, (-80 * KM, 80 * KM), (-10 * KM, 130 * KM), 4 * KM)
    return fit_surface(pts, margin=40 * KM), pts


@pytest.fixture(scope="module")
def curved_fault():
    pts = scattered_points(curved_depth, (-150 * KM, 150 * KM), (0.0, 150 * KM), 4 * KM)
    # a skewed outline: its ends are not down-dip lines
    outline = np.array([map_point(a, b) for a, b in
                        [(-110 * KM, -20 * KM), (90 * KM, -20 * KM), (125 * KM, 160 * KM), (-80 * KM, 160 * KM)]])
    fault = GridFault(pts, outline, (6 * KM, 30 * KM), 12 * KM, "synthetic")
    surf = fit_surface(pts, margin=40 * KM)
    return fault, surf, grid_patches(fault, surf)


def test_planar_grid_fault_is_the_exact_rectangle(planar):
    surf, pts = planar
    outline = strike_rectangle(-50 * KM, 50 * KM, -20 * KM, 200 * KM)
    fault = GridFault(pts, outline, (15 * KM, 45 * KM), 10 * KM, "plane")
    fp = grid_patches(fault, surf)
    width = 30 * KM / np.sin(np.radians(DIP))  # down dip, between the 15 and 45 km contours
    assert fp.grid_index.max(axis=0).tolist() == [10 - 1, round(width / (10 * KM)) - 1]
    strike, dip = strike_dip_from_normal(fp.normal_at(fp.corners))
    assert np.allclose(strike, 240.0, atol=0.2) and np.allclose(dip, DIP, atol=0.2)
    areas = np.array([surface_area(r, plane_depth) for r in patch_rings(fp)])
    assert areas.sum() == pytest.approx(100 * KM * width, rel=5e-3)
    # equal patches: columns equal along strike, rows equal down dip
    assert np.allclose(areas, areas.mean(), rtol=0.02)
    # the top-start corner: a = -50 km (strike start), on the 15 km contour
    b_top = (15 * KM - 10 * KM) / np.tan(np.radians(DIP))
    assert np.allclose(fp.corners[0, :2], map_point(-50 * KM, b_top), atol=600.0)
    assert fp.corners[0, 2] == pytest.approx(-15 * KM, abs=50.0)


def test_patches_tile_the_cut_curved_surface(curved_fault):
    fault, surf, fp = curved_fault
    rings = patch_rings(fp)
    patch_area = sum(surface_area(r, curved_depth) for r in rings)
    # independent: integrate the area element sqrt(1 + |grad d|^2) over the analytic cut region
    step = 250.0
    lo, hi = fault.outline.min(axis=0), fault.outline.max(axis=0)
    X, Y = np.meshgrid(np.arange(lo[0], hi[0], step) + step / 2, np.arange(lo[1], hi[1], step) + step / 2)
    d = curved_depth(X, Y)
    region = inside_polygon(X, Y, fault.outline) & (d > 6 * KM) & (d < 30 * KM)
    gx, gy = curved_gradient(X, Y)
    region_area = np.sum(np.sqrt(1 + gx**2 + gy**2)[region]) * step**2
    assert patch_area == pytest.approx(region_area, rel=5e-3)
    # every raster point of the region lies in exactly one patch (up to a sliver along edges)
    count = np.zeros(X.shape, dtype=int)
    for r in rings:
        lo_r, hi_r = r[:, :2].min(axis=0), r[:, :2].max(axis=0)
        box = (X >= lo_r[0]) & (X <= hi_r[0]) & (Y >= lo_r[1]) & (Y <= hi_r[1])
        count[box] += inside_polygon(X[box], Y[box], r[:, :2])
    assert np.all(count <= 1)
    assert np.mean(count[region] == 1) > 0.995


def test_shared_edges_are_identical_and_on_the_surface(curved_fault):
    _, surf, fp = curved_fault
    ns, nd = fp.grid_index.max(axis=0) + 1
    loops = {tuple(g): loop for g, loop in zip(fp.grid_index.tolist(), fp.patches)}
    for (i, j), loop in loops.items():
        if i + 1 < ns:  # far-end edge of (i, j) is the start edge of (i + 1, j)
            assert loop[1] == loops[(i + 1, j)][3]
        if j + 1 < nd:  # bottom edge of (i, j) is the top edge of (i, j + 1)
            assert loop[2] == loops[(i, j + 1)][0]
    # each edge id is used by one or two patches; twice exactly for interior edges
    uses = np.bincount(fp.patches.ravel(), minlength=len(fp.edge_ends))
    assert set(uses.tolist()) <= {1, 2} and np.sum(uses == 1) == 2 * (ns + nd)
    # polylines start and end on their corners and lie on the surface
    for (a, b), pts in zip(fp.edge_ends, fp.edge_points):
        assert 10 <= len(pts) <= 20
        assert np.array_equal(pts[0], fp.corners[a]) and np.array_equal(pts[-1], fp.corners[b])
        assert np.allclose(-pts[:, 2], curved_depth(pts[:, 0], pts[:, 1]), atol=30.0)
    # patch_corners follows each loop around its four corners
    pc = fp.patch_corners()
    assert np.allclose(pc[:, 0], fp.corners[[fp.edge_ends[loop[0], 0] for loop in fp.patches]])


def test_rows_have_equal_down_dip_length_within_a_column(curved_fault):
    _, _, fp = curved_fault
    ns, nd = fp.grid_index.max(axis=0) + 1
    n_se = ns * (nd + 1)
    for i in range(ns + 1):  # down-dip edges of column line i
        pts = [fp.edge_points[n_se + i * nd + j] for j in range(nd)]
        lengths = np.array([np.linalg.norm(np.diff(p, axis=0), axis=1).sum() for p in pts])
        assert np.ptp(lengths) < 0.02 * lengths.mean()
        assert 0.6 * 12 * KM < lengths.mean() < 1.5 * 12 * KM


def test_patch_count_follows_subfault_size(curved_fault):
    fault, surf, fp = curved_fault
    ns, nd = fp.grid_index.max(axis=0) + 1
    fault2 = GridFault(fault.points, fault.outline, fault.depth_range, 24 * KM, "synthetic")
    ns2, nd2 = grid_patches(fault2, surf).grid_index.max(axis=0) + 1
    assert abs(ns / ns2 - 2) < 0.25 and abs(nd / nd2 - 2) < 0.5
    assert fp.n_patches == ns * nd


def test_nankai_patches_strike_southwest_and_dip_northwest():
    d, pts = load_slab2()
    i, j = np.round(d[:, 0] / 0.05).astype(int), np.round(d[:, 1] / 0.05).astype(int)
    coarse = pts[(i % 2 == 0) & (j % 2 == 0)]  # 0.1 degree grid: fast, still ~10 km resolution
    lonlat = np.array([[132.9, 31.2], [131.7, 32.9], [137.8, 35.7], [138.6, 35.2], [138.6, 33.6]])
    outline = np.column_stack(Projection((135.5, 33.0)).to_xy(lonlat[:, 0], lonlat[:, 1]))
    fault = GridFault(coarse, outline, (0.0, 40 * KM), 20 * KM, "slab2")
    fp = grid_patches(fault, fit_surface(coarse, margin=50 * KM))
    assert 250 < fp.n_patches < 400  # 320 with the full grid: 32 along strike x 10 down dip
    centres = fp.patch_corners().mean(axis=1)
    strike, dip = strike_dip_from_normal(fp.normal_at(centres))
    mean_strike, _ = strike_dip_from_normal(fp.normal_at(centres).mean(axis=0))
    assert 230.0 < mean_strike < 255.0  # SW along the trough, the plate dipping NW (to the right)
    assert np.mean((strike > 195.0) & (strike < 280.0)) > 0.9  # Tokai and Hyuganada bend to ~205
    assert 5.0 < np.median(dip) < 15.0 and np.percentile(dip, 95) < 30.0
    assert np.all(-centres[:, 2] < 41 * KM) and np.all(-centres[:, 2] > 3 * KM)


def test_bad_inputs_raise_user_errors(planar):
    surf, pts = planar
    far = strike_rectangle(400 * KM, 500 * KM, 400 * KM, 500 * KM)
    with pytest.raises(CrustgfError, match="outline"):
        grid_patches(GridFault(pts, far, (15 * KM, 45 * KM), 10 * KM, "plane"), surf)
    with pytest.raises(CrustgfError, match="depth_range"):
        grid_patches(GridFault(pts, None, (45 * KM, 15 * KM), 10 * KM, "plane"), surf)
    with pytest.raises(CrustgfError, match="empty"):
        grid_patches(GridFault(pts, None, (200 * KM, 250 * KM), 10 * KM, "plane"), surf)


def test_example_config_gives_patches_inside_its_domain_and_depth_range():
    from pathlib import Path

    from crustgf.config.load import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "crustgf" / "configs" / "nankai_grid_example.toml")
    fp = grid_patches(cfg.fault)
    assert 30 <= fp.n_patches <= 80  # ~200 x 150 km of interface in 20 km subfaults
    pts = np.vstack(fp.edge_points)
    assert np.all((pts[:, 0] > cfg.domain.x[0]) & (pts[:, 0] < cfg.domain.x[1]))
    assert np.all((pts[:, 1] > cfg.domain.y[0]) & (pts[:, 1] < cfg.domain.y[1]))
    assert np.all((-pts[:, 2] > 3 * KM) & (-pts[:, 2] < 30 * KM + 50.0))
