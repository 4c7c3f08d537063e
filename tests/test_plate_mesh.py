"""Plate-layer bottoms are meshed surfaces (mesh/platesurfaces.py; SPEC section 5).

Geometry, against the analytic plate-layer geometry of geometry/plate.py (distance below the
interface along its normal): no tetrahedron straddles a plate-layer bottom, and the meshed plate
layers fill the analytic volume over the fault's footprint; the per-centroid assignment (the
surfaces left out) is measured on the same mesh settings to show what the surfaces fix.
Physics, against EDGRN/EDCMP (a layered half-space no one here wrote): a horizontal fault over a
stiff plate layer (test_plate_physics below).
"""

import dataclasses

import numpy as np
import pytest
from test_grid_fault import patch_rings
from test_slab import KM, curved_depth, map_point, scattered_points

from crustgf.config.schema import Config, Domain, GridFault, Layer, MeshOptions, RectangleFault, Stations
from crustgf.fem.locate import find_elements
from crustgf.geometry.plate import distance_below, interface_surface, plate_layer_of
from crustgf.geometry.region import inside_polygon
from crustgf.mesh import build, build_model
from crustgf.mesh.platesurfaces import offset_patches, plate_bottom_patches

VP, VS, RHO = 6000.0, 3464.0, 2700.0


def _config(fault, plate, half_km, depth_km, size_fault_km, size_max_km, order=1, stations=None):
    stations = np.zeros((1, 3)) if stations is None else stations
    return Config(name="plate", domain=Domain((-half_km * KM, half_km * KM), (-half_km * KM, half_km * KM),
                                              depth_km * KM, None),
                  layers=[Layer("host", depth_km * KM, VP, VS, RHO)], fault=fault,
                  stations=Stations([f"S{i}" for i in range(len(stations))], stations, None),
                  mesh=MeshOptions(order=order, size_fault=size_fault_km * KM, size_max=size_max_km * KM),
                  plate_layers=plate, text="")


def _per_centroid(monkeypatch):
    """Build models as before the plate-layer bottoms were meshed (elements take their plate layer
    by centroid only)."""
    monkeypatch.setattr(build, "plate_bottom_patches", lambda cfg, patches: [])


def _straddling(model, surface, distance, tol):
    """(n_tets,) whether a tetrahedron has vertices on both sides of the surface at `distance` below
    the interface, by more than tol (m) on each side."""
    d = distance_below(model.nodes, surface)[model.cells[:, :4]] - distance
    return (d.min(axis=1) < -tol) & (d.max(axis=1) > tol)


def test_offset_copies_lie_at_the_plate_layer_bottom():
    """Every corner and edge point of the copies is at exactly T below the curved interface, by
    geometry/plate.py's own measure, and the copies keep the fault's topology."""
    pts = scattered_points(curved_depth, (-100 * KM, 100 * KM), (-20 * KM, 120 * KM), 4 * KM)
    fault = GridFault(pts, None, (6 * KM, 20 * KM), 10 * KM, "synthetic")
    cfg = _config(fault, [Layer("oc", 7 * KM, VP, VS, RHO), Layer("om", np.inf, VP, VS, RHO)], 300, 150, 3, 30)
    surface = interface_surface(cfg)
    patches = build.fault_patches(cfg)
    copies = plate_bottom_patches(cfg, patches)
    assert len(copies) == 2  # the 7 km bottom (the last layer reaches the box bottom), the top beyond the fault
    top = copies[1]  # the interface continued down dip: it starts on the fault's bottom edge
    assert np.allclose(distance_below(top.corners, surface), 0.0, atol=1e-6)
    ns = patches.grid_index[:, 0].max() + 1
    fault_bottom = np.vstack([patches.edge_points[e] for e in patches.patches[-ns:, 2]])
    top_top = np.vstack([top.edge_points[e] for e in top.patches[:, 0]])
    assert top.n_patches == ns and np.allclose(np.sort(top_top, axis=0), np.sort(fault_bottom, axis=0), atol=1e-6)
    c = copies[0]
    n = patches.n_patches
    assert np.array_equal(c.patches[:n], patches.patches)  # the fault's own patches, same edges
    assert np.array_equal(c.edge_ends[:len(patches.edge_ends)], patches.edge_ends)
    assert c.n_patches == n + ns  # and one row continuing down dip
    for p in [c.corners, *c.edge_points]:
        assert np.allclose(distance_below(p, surface), 7 * KM, atol=1e-6)
    # the new row goes down dip: its far corners are deeper than the fault's bottom corners
    for top, _, bottom, _ in c.patches[n:]:
        assert c.edge_points[bottom][:, 2].mean() < c.edge_points[top][:, 2].mean() - 1 * KM
    assert np.allclose(offset_patches(patches, surface, 0.0).corners, patches.corners, atol=1e-6)


@pytest.fixture(scope="module")
def dipping():
    """A 20 degree rectangle fault with two plate layers (4 and 5 km) below its plane."""
    fault = RectangleFault((0.0, 0.0, 3 * KM), 0.0, 20.0, 20 * KM, 12 * KM, (2, 1))
    plate = [Layer("upper", 4 * KM, VP, VS, RHO), Layer("lower", 5 * KM, 1.2 * VP, 1.2 * VS, RHO)]
    return _config(fault, plate, 60, 60, 2, 15)


def _footprint_volumes(cfg, model):
    """Meshed volume of each plate layer (by sampling) in the prism over x in [1, 10] km, y in
    [-9, 9] km (inside the fault's map footprint), its analytic value (area x thickness / cos dip)
    and the volume whose meshed material differs from the analytic one, all relative."""
    s = interface_surface(cfg)
    cos = 1.0 / np.sqrt(1.0 + s.slope @ s.slope)
    h, dz = 400.0, 100.0  # sample spacing in map view and of the distance below the interface (m)
    X, Y = np.meshgrid(np.arange(1 * KM, 10 * KM, h) + 123.0, np.arange(-9 * KM, 9 * KM, h) + 77.0)
    X, Y = X.ravel(), Y.ravel()
    w = np.arange(-1 * KM, 11 * KM, dz) + 13.0  # distance below the interface
    P = np.column_stack([np.repeat(X, len(w)), np.repeat(Y, len(w)),
                         (-s.depth(X, Y)[:, None] - w[None, :] / cos).ravel()])
    el, _ = find_elements(model.nodes, model.cells[:, :4], P)
    assert (el >= 0).all()
    meshed = model.cell_material[el] - len(cfg.layers)  # plate layer index, < 0: a flat layer
    exact = plate_layer_of(P, s, cfg.plate_layers)
    dv = h * h * dz / cos
    out = []
    for k, t in enumerate(layer.bottom for layer in cfg.plate_layers):
        analytic = len(X) * h * h * t / cos
        out.append(((meshed == k).sum() * dv / analytic - 1.0, ((meshed == k) != (exact == k)).sum() * dv / analytic))
    return np.array(out)


def test_no_element_straddles_a_planar_plate_bottom(dipping, monkeypatch):
    """Planar interface: the bottoms are the offset planes over the whole box (less a margin at its
    sides), so no element straddles them there, and over the footprint the meshed plate layers have
    the analytic volume to the sampling resolution, where the per-centroid staircase was off by
    several percent and misplaced 10-30 % of the volume."""
    s = interface_surface(dipping)
    model = build_model(dipping, progress=False)
    c = model.nodes[model.cells[:, :4]].mean(axis=1)
    inner = (np.abs(c[:, :2]) < 55 * KM).all(axis=1)  # 5 km: the apron's margin, plus an element
    for t in (4 * KM, 9 * KM):
        assert not (_straddling(model, s, t, 1.0) & inner).any()
    after = _footprint_volumes(dipping, model)
    _per_centroid(monkeypatch)
    old = build_model(dipping, progress=False)
    before = _footprint_volumes(dipping, old)
    print(f"planar plate layers (volume error, misplaced volume): meshed {np.round(after, 4).tolist()}, "
          f"per centroid {np.round(before, 4).tolist()}")
    assert np.abs(after).max() < 0.005
    assert before[:, 1].min() > 0.05 and before[:, 1].min() > 20 * after[:, 1].max()
    assert sum(_straddling(old, s, t, 1.0).sum() for t in (4 * KM, 9 * KM)) > 300


def test_no_element_straddles_a_curved_plate_bottom_over_the_footprint(monkeypatch):
    """Curved interface (grid fault): the bottom is the fault's patches moved down, plus a row
    continuing down dip; over their footprint no element straddles it by more than 10 m (the
    B-spline fillings and the flat triangles follow the exact offset surface to a few metres), where
    the per-centroid assignment had elements straddling it by hundreds of metres. Down dip of the
    fault the plate's top (the interface continued) is meshed as well."""
    pts = scattered_points(curved_depth, (-100 * KM, 100 * KM), (-20 * KM, 120 * KM), 4 * KM)
    outline = np.column_stack(map_point(np.array([-30, 30, 30, -30]) * KM, np.array([0, 0, 80, 80]) * KM))
    fault = GridFault(pts, outline, (6 * KM, 20 * KM), 10 * KM, "synthetic")
    cfg = _config(fault, [Layer("oc", 6 * KM, 1.1 * VP, 1.1 * VS, RHO)], 120, 100, 3, 30)
    s = interface_surface(cfg)
    rings = patch_rings(plate_bottom_patches(cfg, build.fault_patches(cfg))[0])  # with the down-dip row

    fault_row = build.fault_patches(cfg).grid_index[:, 0].max() + 1  # patches along strike

    def in_footprint(model, rings=rings):
        v = model.nodes[model.cells[:, :4]]
        inside = np.zeros(v.shape[:2], bool)
        for r in rings:
            inside |= inside_polygon(v[..., 0], v[..., 1], r[:, :2])
        return inside.all(axis=1)

    model = build_model(cfg, progress=False)
    foot = in_footprint(model)
    assert foot.sum() > 500
    assert not (_straddling(model, s, 6 * KM, 10.0) & foot).any()
    # beyond the fault's bottom edge the plate's top (the interface) is meshed too
    below = in_footprint(model, rings[-fault_row:])
    assert below.sum() > 100 and not (_straddling(model, s, 0.0, 10.0) & below).any()
    _per_centroid(monkeypatch)
    old = build_model(cfg, progress=False)
    n_old = int((_straddling(old, s, 6 * KM, 200.0) & in_footprint(old)).sum())
    print(f"curved plate bottom: straddling tets over the footprint: meshed 0 (10 m), per centroid {n_old} (200 m)")
    assert n_old > 50


def _horizontal_case(size_fault_km, work, monkeypatch):
    """A 10 x 10 km horizontal fault 4 km deep (2 subfaults); below it plate layers of 1.5 km of
    the host rock, then 3 km four times as stiff (mu and lambda x 4), then the host rock again: a
    layered half-space, so EDGRN/EDCMP is the reference. Horizontal faults (dip 0) and plate layers
    under a rectangle are refused by the config reader, not by the geometry: the Config is built
    directly, as in test_reference_tier. Returns the total relative error (all stations,
    components, subfaults) of the FE GFs with the meshed plate bottoms, with per-centroid plate
    layers, with the same layering as flat (imprinted) layers, and the error of ignoring the stiff
    layer; and the DOF of the meshed model."""
    from edgrn_reference import layered_greens_functions
    from fe_rectangle import relative_errors, surface_grid

    from crustgf.greens.operator import GreenSolver

    mu, rho = 3.0e10, 2700.0
    vs = np.sqrt(mu / rho)
    host, stiff = (vs * np.sqrt(3.0), vs, rho), (2 * vs * np.sqrt(3.0), 2 * vs, rho)
    depth, t1, t2 = 4 * KM, 1.5 * KM, 3 * KM
    pos = surface_grid(30 * KM, 15)
    fault = RectangleFault((0.0, 0.0, depth), 0.0, 0.0, 10 * KM, 10 * KM, (2, 1))
    cfg = _config(fault, [Layer("same", t1, *host), Layer("stiff", t2, *stiff)], 100, 100, size_fault_km, 20,
                  order=2, stations=pos)
    cfg.layers = [Layer("host", 100 * KM, *host)]
    edgrn = [(depth + t1, *host), (depth + t1 + t2, *stiff), (1e6, *host)]
    args = ((0, 0, -depth), 0.0, 0.0, 10 * KM, 10 * KM, (2, 1), pos[:, :2])
    ref = layered_greens_functions(edgrn, *args, work / "layered")
    uniform = layered_greens_functions([(depth + t1, *host), (1e6, *host)], *args, work / "uniform")
    jobs = np.array([[s, c] for s in range(2) for c in range(2)])

    def error(c):
        model = build_model(c, progress=False)
        res = GreenSolver(model, method="auto").solve(jobs)
        assert res.converged.all()
        return relative_errors(res.displacement.reshape(len(pos), 3, 2, 2), ref)[1], model.n_dof

    meshed, ndof = error(cfg)
    flat = dataclasses.replace(cfg, plate_layers=[], layers=[
        Layer("a", depth + t1, *host), Layer("b", depth + t1 + t2, *stiff), Layer("c", 100 * KM, *host)])
    imprinted, _ = error(flat)
    _per_centroid(monkeypatch)
    centroid, _ = error(cfg)
    return meshed, centroid, imprinted, relative_errors(uniform, ref)[1], ndof


def test_plate_physics(tmp_path, monkeypatch):
    """size_fault = 2 km (fault width / 5, about the stiff layer's thickness): the meshed plate
    bottoms give the error of the same layering as exactly imprinted flat layers (the FE
    discretisation error, ~7 %), well under what ignoring the stiff layer costs (13 %); the
    per-centroid staircase is a third worse."""
    meshed, centroid, imprinted, uniform, ndof = _horizontal_case(2.0, tmp_path, monkeypatch)
    print(f"horizontal fault over a stiff plate layer, size_fault 2 km ({ndof} DOF): error vs EDGRN "
          f"meshed {meshed:.4f}, per centroid {centroid:.4f}, flat layers {imprinted:.4f}, homogeneous {uniform:.4f}")
    assert meshed <= 1.1 * imprinted + 0.003
    assert centroid > 1.2 * meshed
    assert uniform > 1.6 * meshed


@pytest.mark.slow
def test_plate_physics_fine(tmp_path, monkeypatch):
    """size_fault = 1 km: within 3 % of EDGRN, as close as the imprinted flat layers."""
    meshed, centroid, imprinted, uniform, ndof = _horizontal_case(1.0, tmp_path, monkeypatch)
    print(f"horizontal fault over a stiff plate layer, size_fault 1 km ({ndof} DOF): error vs EDGRN "
          f"meshed {meshed:.4f}, per centroid {centroid:.4f}, flat layers {imprinted:.4f}, homogeneous {uniform:.4f}")
    assert meshed < 0.03 and meshed <= 1.15 * imprinted + 0.002


def test_a_horizontal_plate_bottom_on_a_flat_interface_is_that_interface():
    """A horizontal plate bottom within a margin of a flat interface is not added again (the mesh
    conforms to the interface plane already; two coincident planes would break the CAD model)."""
    fault = RectangleFault((0.0, 0.0, 4 * KM), 0.0, 0.0, 10 * KM, 10 * KM, (2, 1))
    cfg = _config(fault, [Layer("a", 2 * KM, VP, VS, RHO), Layer("b", 3 * KM, VP, VS, RHO)], 60, 60, 2, 15)
    cfg.layers = [Layer("upper", 9 * KM, VP, VS, RHO), Layer("lower", 60 * KM, VP, VS, RHO)]
    bottoms = plate_bottom_patches(cfg, build.fault_patches(cfg))
    assert len(bottoms) == 1 and np.allclose(bottoms[0].corners[:, 2], -6 * KM)


@pytest.mark.slow
def test_plate_surfaces_leave_a_grid_faults_slip_alone(monkeypatch):
    """A planar grid fault (20 degrees) in a homogeneous half-space with a 5 km plate layer of the
    same rock: the meshed plate surfaces (the bottom, and the interface continued from the fault's
    buried bottom edge) are not fault, so the GFs are still the half-space's (cutde on the mesh's
    own fault triangles), as close as without those surfaces (the rest is the discretisation of this
    coarse model, largest for the top row's dip slip). (The rectangle fault's case is
    test_reference_tier.test_plate_layers.)"""
    from test_grid_fault import plane_depth, strike_rectangle
    from test_reference_tier import _cutde_on_triangles

    from crustgf.greens.operator import GreenSolver

    pts = scattered_points(plane_depth, (-80 * KM, 80 * KM), (-10 * KM, 130 * KM), 4 * KM)
    fault = GridFault(pts, strike_rectangle(-12 * KM, 12 * KM, -20 * KM, 200 * KM), (6 * KM, 14 * KM), 12 * KM,
                      "plane")
    x = np.linspace(-40e3, 40e3, 7)
    X, Y = np.meshgrid(x, x)
    stations = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    cfg = _config(fault, [Layer("slab", 5 * KM, VP, VS, RHO)], 150, 150, 1.5, 30, order=2, stations=stations)
    assert len(plate_bottom_patches(cfg, build.fault_patches(cfg))) == 2  # bottom, interface beyond
    nu = (VP**2 - 2 * VS**2) / (2 * (VP**2 - VS**2))

    def errors():
        model = build_model(cfg, progress=False)
        jobs = np.array([[s, c] for s in range(model.n_subfaults) for c in range(2)])
        fe = GreenSolver(model, method="auto").solve(jobs).displacement.reshape(len(stations), 3, -1, 2)
        ref = _cutde_on_triangles(model, stations, nu=nu)
        per = np.linalg.norm(fe - ref, axis=(0, 1)) / np.linalg.norm(ref, axis=(0, 1))
        return per, np.linalg.norm((fe - ref).sum(axis=2)) / np.linalg.norm(ref.sum(axis=2)), model.n_dof

    per, whole, ndof = errors()
    _per_centroid(monkeypatch)
    per0, whole0, ndof0 = errors()
    print(f"grid fault vs cutde: with plate surfaces ({ndof} DOF) per subfault max {per.max():.4f}, whole {whole:.4f}; "
          f"without ({ndof0} DOF) {per0.max():.4f}, {whole0:.4f}")
    assert whole < 0.04 and per.max() < 0.1, (whole, per)
    assert np.abs(per - per0).max() < 0.01 and whole < whole0 + 0.005


def test_a_plate_surface_gmsh_cannot_mesh_falls_back_to_the_centroid_rule(dipping, monkeypatch, capsys):
    """Should gmsh fail with the plate surfaces, the model is meshed without them (one warning line)
    rather than not at all: the plate layers then follow the per-centroid rule."""
    from crustgf.core.errors import CrustgfError
    from crustgf.mesh import gmsh_build

    real = gmsh_build.mesh_linear

    def failing(cfg, patches, embedded=(), **kwargs):
        if embedded:
            raise CrustgfError("mesh: gmsh failed in the volume mesh stage (PLC Error: two facets intersect)")
        return real(cfg, patches, **kwargs)

    monkeypatch.setattr(gmsh_build, "mesh_linear", failing)
    model = build_model(dipping, progress=False)
    err = capsys.readouterr().err
    assert err.count("Warning: plate_layers:") == 1 and "by centroid" in err  # (no patch crosses a flat plane)
    s = interface_surface(dipping)
    assert _straddling(model, s, 4 * KM, 1.0).sum() > 100  # the staircase is back
    assert np.count_nonzero(model.cell_material == 2) > 100


def test_the_partial_fallback_leaves_out_exactly_the_patches_that_cross_a_flat_interface():
    """The middle fallback of mesh_linear_with_plate: copies without the patches that cross a flat
    interface plane; every kept patch lies on one side of every plane, every dropped one crosses."""
    from crustgf.mesh.platesurfaces import _without_crossings

    pts = scattered_points(curved_depth, (-100 * KM, 100 * KM), (-20 * KM, 120 * KM), 4 * KM)
    fault = GridFault(pts, None, (6 * KM, 20 * KM), 10 * KM, "synthetic")
    cfg = _config(fault, [Layer("oc", 7 * KM, VP, VS, RHO)], 300, 150, 3, 30)
    cfg.layers = [Layer("crust", 20 * KM, VP, VS, RHO), Layer("mantle", 150 * KM, VP, VS, RHO)]
    full = plate_bottom_patches(cfg, build.fault_patches(cfg))
    kept = _without_crossings(cfg, full)

    def ranges(p):
        return [np.concatenate([p.edge_points[e][:, 2] for e in loop]) for loop in p.patches]

    n_full, n_kept = sum(p.n_patches for p in full), sum(p.n_patches for p in kept)
    n_cross = sum(int(z.min() < -20 * KM < z.max()) for p in full for z in ranges(p))
    assert 0 < n_cross < n_full and n_kept == n_full - n_cross
    assert all(not (z.min() < -20 * KM < z.max()) for p in kept for z in ranges(p))
