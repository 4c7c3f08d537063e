"""Layer bottoms given as surfaces (`bottom = { file = ... }`, SPEC 5) against exact references.

- A tilted layered half-space is a rotated layered half-space: a planar free surface sloping 3 %
  with a soft layer whose bottom is the parallel plane 4 km (normal distance) under it, over a
  stiff half-space, equals EDGRN/EDCMP (a wavenumber-integration code no one here wrote, driver in
  edgrn_reference.py) in the frame rotated so that the surface normal is its z axis. The slope is
  chosen perpendicular to the fault's strike, so the rotation is about the strike direction and
  the fault stays an Okada rectangle (same strike, dip changed by the slope angle) in that frame.
- The meshed soft layer's volume equals the slab's analytic volume (the warp puts its bottom on the
  surface, so no element straddles it), and a layer that pinches out against the free surface has
  the wedge's analytic volume up to the one row of elements it is squeezed into (mesh/warp.py).
- Config errors: crossing layers (naming both and the place), a layer with no thickness anywhere,
  a surface for the last layer, depths in metres.
"""

import numpy as np
import pytest
from edgrn_reference import layered_greens_functions
from fe_rectangle import KM, relative_errors
from test_surface import rotation_to, station_xy

from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
from crustgf.geometry.frames import rectangle_corners
from crustgf.geometry.surface import Surface

SOFT = (3800.0, 2000.0, 2300.0)  # vp, vs, density: the soft layer of test_edgrn
STIFF = (6200.0, 3600.0, 2800.0)


def plane(a, gx, gy, z0):
    """An x/y grid Surface (z up, m) of the plane z = z0 + gx x + gy y over the axis a (m)."""
    A, B = np.meshgrid(a, a)
    return Surface(kind="xy", a=a, b=a, values=z0 + gx * A + gy * B)


def reference_depths(layers, surface):
    """The layers with their reference depths set as config loading sets them, over the grid nodes."""
    from crustgf.config.layer_surfaces import set_reference_depths

    a = next(layer.surface.a for layer in layers if layer.surface is not None)
    X, Y = (g.ravel() for g in np.meshgrid(a, a))
    depth = np.array([layer.bottom_depth(X, Y) for layer in layers[:-1]])
    set_reference_depths(layers, depth, -surface.elevation(X, Y))
    return layers


def tet_volumes(nodes, cells):
    p = nodes[cells[:, :4]]
    return np.abs(np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0])) / 6.0


def model_and_gfs(surface, layers, fault, xy, size_fault, domain=120.0, size_max=25.0, solve=True):
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model

    z = surface.elevation(xy[:, 0], xy[:, 1])
    cfg = Config(
        name="layer-surfaces",
        domain=Domain((-domain * KM, domain * KM), (-domain * KM, domain * KM), domain * KM, None),
        layers=layers, fault=fault,
        stations=Stations([f"S{i}" for i in range(len(xy))], np.column_stack([xy, z]), None,
                          on_surface=np.ones(len(xy), bool)),
        mesh=MeshOptions(order=2, size_fault=size_fault * KM, size_max=size_max * KM), text="", surface=surface)
    model = build_model(cfg, progress=False)
    if not solve:
        return model, None
    ns = fault.subfaults[0] * fault.subfaults[1]
    res = GreenSolver(model, method="auto").solve(np.array([[s, c] for s in range(ns) for c in range(2)]))
    assert res.converged.all()
    return model, res.displacement.reshape(len(xy), 3, ns, 2)


def test_tilted_layered_halfspace_is_a_rotated_one(tmp_path):
    strike, dip, length, width, top, size_fault = 30.0, 45.0, 10.0, 5.0, 3.0, 0.5
    thick = 4.0 * KM  # soft layer, normal to the surface
    slope = 0.03 * np.array([np.cos(np.radians(strike)), -np.sin(np.radians(strike))])  # perpendicular to strike
    s0 = -1.0 * KM  # the surface at the origin
    a = np.linspace(-130, 130, 14) * KM
    surface = plane(a, *slope, s0)
    stretch = np.sqrt(1.0 + slope @ slope)  # vertical thickness of a slab of normal thickness 1
    bottom = plane(a, *slope, s0 - thick * stretch)
    layers = reference_depths([Layer("soft", 0.0, *SOFT, surface=bottom), Layer("stiff", 120 * KM, *STIFF)], surface)
    fault = RectangleFault((0.0, 0.0, top * KM), strike, dip, length * KM, width * KM, (2, 1))
    corners = rectangle_corners([0, 0, -top * KM], strike, dip, length * KM, width * KM)
    xy = station_xy(length, 15, corners, size_fault * KM)
    model, fe = model_and_gfs(surface, layers, fault, xy, size_fault)

    # the soft layer's meshed volume is the slab's: conforming, no staircase
    vol = tet_volumes(model.nodes, model.cells)
    soft = vol[model.cell_material == 0].sum()
    exact = thick * stretch * (240 * KM) ** 2
    print(f"soft layer volume {soft:.6e} m3, slab {exact:.6e} m3, relative {soft / exact - 1:.2e}")
    assert abs(soft / exact - 1.0) < 1e-6

    # EDGRN in the rotated frame: surface z' = 0, interface 4 km under it, the fault a rectangle
    origin = np.array([0.0, 0.0, s0])
    R = rotation_to(np.array([-slope[0], -slope[1], 1.0]))
    assert np.allclose(R @ [np.sin(np.radians(strike)), np.cos(np.radians(strike)), 0.0],
                       [np.sin(np.radians(strike)), np.cos(np.radians(strike)), 0.0])  # strike is the axis
    n = np.cross(corners[3] - corners[0], corners[1] - corners[0])
    n_r = R @ (n / np.linalg.norm(n))
    dip_r = np.degrees(np.arccos(n_r[2]))
    top_r = R @ (np.array([0.0, 0.0, -top * KM]) - origin)
    pos_r = (model.station_positions - origin) @ R.T
    assert np.abs(pos_r[:, 2]).max() < 1.0  # stations on the rotated surface z' = 0
    edgrn_layers = [(thick, *SOFT), (1e6, *STIFF)]
    ref_r = layered_greens_functions(edgrn_layers, top_r, strike, dip_r, length * KM, width * KM, (2, 1),
                                     pos_r[:, :2], tmp_path / "rotated")
    ref = np.einsum("ji,sjrk->sirk", R, ref_r)  # back to the true frame (strike and dip slip map to themselves)
    per, total = relative_errors(fe, ref)
    whole = np.linalg.norm(fe.sum(axis=2) - ref.sum(axis=2)) / np.linalg.norm(ref.sum(axis=2))
    # the tilt of the layering matters: the untilted layered half-space (surface and interface flat
    # through the origin's surface point) is clearly further from the FE answer
    flat = layered_greens_functions(edgrn_layers, (0.0, 0.0, -(top * KM + s0)), strike, dip, length * KM,
                                    width * KM, (2, 1), xy, tmp_path / "flat")
    per_flat, _ = relative_errors(fe, flat)
    print(f"tilted layering: per subfault {per.max():.4f}, whole {whole:.4f}; untilted {per_flat.max():.4f}; "
          f"{model.n_dof} DOF")
    assert per.max() <= 0.06, per
    assert whole <= 0.03, whole
    assert per_flat.max() > 2 * per.max()


def test_a_layer_pinching_out_at_the_surface_has_the_wedge_volume():
    """A 'sediment' whose bottom rises 5 % to the west and meets the flat free surface at x = -40 km
    (absent west of it): the meshed sediment volume is the wedge's, to the staircase of its thin
    part (thinner than its reference slab, elements take their layer by centroid)."""
    a = np.linspace(-130, 130, 27) * KM
    bottom = plane(a, -0.05, 0.0, -2.0 * KM)  # depth 2 km + 5 % of x: 0 at x = -40 km, 8 km at x = 120 km
    layers = reference_depths([Layer("sediment", 0.0, 2500.0, 1200.0, 2200.0, surface=bottom),
                               Layer("crust", 120 * KM, 6000.0, 3464.0, 2700.0)], Surface(constant=0.0))
    fault = RectangleFault((40 * KM, 0.0, 12 * KM), 0.0, 45.0, 10 * KM, 5 * KM, (2, 1))
    xy = np.array([[0.0, 0.0], [60 * KM, 0.0]])
    model, _ = model_and_gfs(Surface(constant=0.0), layers, fault, xy, 2.0, size_max=20.0, solve=False)
    vol = tet_volumes(model.nodes, model.cells)
    centroid = model.nodes[model.cells[:, :4]].mean(axis=1)
    sed = model.cell_material == 0
    exact = 0.5 * (160 * KM) * (8 * KM) * (240 * KM)  # the wedge from x = -40 to 120 km, 240 km long
    print(f"sediment volume {vol[sed].sum():.4e} m3, wedge {exact:.4e} m3, relative {vol[sed].sum() / exact - 1:.2e}; "
          f"westmost sediment element at x = {centroid[sed, 0].min() / KM:.1f} km")
    assert abs(vol[sed].sum() / exact - 1.0) < 0.01
    assert centroid[sed, 0].min() > -40 * KM  # none where the layer is absent
    # where the sediment is at least as thick as its reference slab (its median thickness, 4.25 km:
    # x >= 45 km) the mesh follows its bottom: nodes lie on it
    on = np.abs(model.nodes[:, 2] + 2 * KM + 0.05 * model.nodes[:, 0]) < 1.0
    thick = model.nodes[:, 0] > 45 * KM
    assert (on & thick).sum() > 100


def _three_layers(sed_bottom):
    from test_config import base_config

    cfg = base_config()
    cfg["layers"].insert(0, {"name": "sed", "bottom": sed_bottom, "vp": 2.5, "vs": 1.2, "density": 2.2})
    return cfg


def _depth_csv(depth, x=range(-60, 61, 20), y=range(-60, 61, 20), header="x,y,depth_km"):
    rows = [f"{a},{b},{depth(a, b)!r}" for b in y for a in x]
    return "# a test layer bottom\n" + header + "\n" + "\n".join(rows) + "\n"


def test_a_surface_bottom_loads_with_its_mean_depth(tmp_path):
    from test_config import write_config

    from crustgf.config.load import load_config

    cfg = load_config(write_config(tmp_path, _three_layers({"file": "sed.csv"}),
                                   {"sed.csv": _depth_csv(lambda x, y: 2.0 + 0.02 * x)}))
    sed = cfg.layers[0]
    assert sed.surface is not None and sed.bottom == pytest.approx(2.0 * KM)  # the median thickness
    assert sed.bottom_depth(np.array([50 * KM]), np.array([0.0]))[0] == pytest.approx(3.0 * KM)


P = pytest.param
BAD = [
    P({"layers[0].bottom": {"file": "sed.csv"}},
      {"sed.csv": _depth_csv(lambda x, y: 12.0 if (x, y) == (40, -20) else 3.0)},
      "layers[0].bottom", 'layers "sed" and "upper" cross: at (x, y) = (40.000, -20.000) km the bottom of "sed" '
      'is 12.000 km deep, below that of "upper" (10.000 km)', id="crossing"),
    P({"layers[0].bottom": {"file": "sed.csv"}}, {"sed.csv": _depth_csv(lambda x, y: -1.0)},
      "layers[0].bottom", 'layer "sed" has zero thickness everywhere', id="nowhere"),
    P({"layers[2].bottom": {"file": "sed.csv"}}, {"sed.csv": _depth_csv(lambda x, y: 30.0)},
      "layers[2].bottom", "its bottom cannot be a surface", id="last-layer"),
    P({"layers[0].bottom": {"file": "sed.csv"}}, {"sed.csv": _depth_csv(lambda x, y: 3000.0)},
      "layers[0].bottom.file", "not metres", id="metres"),
    P({"layers[0].bottom": {"file": "sed.csv"}}, {"sed.csv": _depth_csv(lambda x, y: 3.0, header="x,y,depth")},
      "layers[0].bottom.file", "'depth_km' column", id="no-depth-column"),
    P({"layers[0].bottom": {"file": "sed.csv", "unit": "km"}}, {"sed.csv": _depth_csv(lambda x, y: 3.0)},
      "layers[0].bottom.unit", "unknown key", id="unknown-key"),
]


@pytest.mark.parametrize("edits, files, key, what", BAD)
def test_bad_layer_surfaces_fail_with_one_line(tmp_path, edits, files, key, what):
    from test_config_errors import check_case

    check_case(tmp_path, _three_layers(1.0), edits, files, key, what)


def test_hole_is_the_band_where_the_fault_is_near_the_plane():
    """mesh/holes.py: for a planar fault dipping 10 deg the band within delta of a horizontal plane is
    a strip 2 delta / tan(10 deg) wide across the fault: its polygon has that area (to the raster)."""
    from crustgf.geometry.rectangle import rectangle_patches
    from crustgf.geometry.region import polygon_area
    from crustgf.mesh.holes import band_loops

    fault = RectangleFault((0.0, 0.0, 2 * KM), 0.0, 10.0, 40 * KM, 30 * KM, (4, 3))
    patches = rectangle_patches(fault)
    delta, level = 500.0, -4 * KM  # the fault reaches 4 km depth 11.3 km down dip of its top
    loops = band_loops(patches, level, delta)
    assert len(loops) == 1
    strip = 2 * delta / np.tan(np.radians(10.0)) * 40 * KM
    area = abs(polygon_area(loops[0]))
    print(f"band area {area / 1e6:.1f} km2, strip {strip / 1e6:.1f} km2")
    assert abs(area / strip - 1.0) < 0.1
    x = loops[0][:, 0]  # the strip lies where the fault is 4 km deep: x = 2 km / tan(10 deg) east of the top
    assert abs(0.5 * (x.min() + x.max()) - 2 * KM / np.tan(np.radians(10.0))) < delta
    assert band_loops(patches, -20 * KM, delta) == []  # a plane under the whole fault: no hole


def test_a_fault_grazing_a_wavy_layer_bottom_meshes_and_keeps_the_layer_elsewhere():
    """A thrust dipping 4 deg lying on a sediment bottom that undulates +-400 m about the fault's plane
    (9 x 7 km waves): the two cross at grazing angles many times. Without the hole in the bottom's
    plane around the fault gmsh fails ("overlapping facets", measured); with it the model meshes,
    and beyond the fault the bottom is still meshed (nodes on the true surface)."""
    a = np.linspace(-130, 130, 261) * KM
    A, B = np.meshgrid(a, a)
    fault_depth = 3 * KM + (A + 20 * KM) * np.tan(np.radians(4.0))
    z = -(fault_depth + 400.0 * np.sin(2 * np.pi * A / 9e3) * np.sin(2 * np.pi * B / 7e3))
    bottom = Surface(kind="xy", a=a, b=a, values=np.minimum(z, -500.0))
    layers = reference_depths([Layer("sediment", 0.0, 2500.0, 1200.0, 2200.0, surface=bottom),
                               Layer("crust", 120 * KM, 6000.0, 3464.0, 2700.0)], Surface(constant=0.0))
    fault = RectangleFault((-20 * KM, 0.0, 3 * KM), 0.0, 4.0, 30 * KM, 40 * KM, (3, 2))
    model, _ = model_and_gfs(Surface(constant=0.0), layers, fault, np.array([[0.0, 40 * KM]]), 2.0,
                             size_max=20.0, solve=False)
    x, y, z = model.nodes.T
    on = np.abs(z - bottom.elevation(x, y)) < 1.0
    assert (on & (np.abs(y) > 60 * KM)).sum() > 50
    assert (model.cell_material == 0).any() and (model.cell_material == 1).any()


def test_crossing_between_the_nodes_of_two_grids_is_found(tmp_path):
    """Two bilinear bottoms on staggered lattices (nodes at 0, 10, 20 km and 5, 15 km) in order at every
    node of each grid, but crossing at (10, 5) km, a node of neither (6 km against 5 km there)."""
    from test_config import write_config

    from crustgf.config.load import load_config
    from crustgf.core.errors import ConfigError

    cfg = _three_layers({"file": "a.csv"})
    cfg["layers"][1]["bottom"] = {"file": "b.csv"}
    a = _depth_csv(lambda x, y: 9.0 if (x, y) == (10, 10) else 3.0, x=[0, 10, 20], y=[0, 10, 20])
    b = _depth_csv(lambda x, y: 5.0 if y == 5 else 13.5, x=[5, 15], y=[5, 15])
    with pytest.raises(ConfigError, match=r'layers "sed" and "upper" cross: at \(x, y\) = \(10.000, 5.000\) km'):
        load_config(write_config(tmp_path, cfg, {"a.csv": a, "b.csv": b}))


@pytest.mark.parametrize("dip", [80.0, 90.0])
def test_steep_faults_through_a_layer_bottom_mesh(dip):
    """A steep crossing is not grazing: no hole (the raster could miss the narrow band), the plane is
    imprinted and the fault cut by it, as for a flat interface; a vertical fault (a line in map view)
    too."""
    a = np.linspace(-130, 130, 27) * KM
    bottom = plane(a, 0.002, 0.0, -3 * KM)
    layers = reference_depths([Layer("sediment", 0.0, 2500.0, 1200.0, 2200.0, surface=bottom),
                               Layer("crust", 120 * KM, 6000.0, 3464.0, 2700.0)], Surface(constant=0.0))
    fault = RectangleFault((0.0, 0.0, 1 * KM), 0.0, dip, 10 * KM, 5 * KM, (2, 1))
    model, _ = model_and_gfs(Surface(constant=0.0), layers, fault, np.array([[20 * KM, 0.0]]), 2.0,
                             size_max=20.0, solve=False)
    x, y, z = model.nodes.T
    assert (np.abs(z - bottom.elevation(x, y)) < 1.0).sum() > 50  # the bottom is meshed


def test_the_anchor_lies_below_where_a_basin_pushes_the_levels():
    """A 1 km sediment with a 9 km basin over a Conrad surface at 15 km and a flat interface at 25 km:
    in the basin the Conrad level is pushed to 9 + 14 = 23 km, too close to 25 km for the slab above
    it, so the anchor is the next flat interface (the box bottom) and heights() never fails."""
    from crustgf.config.schema import Domain
    from crustgf.mesh.warp import VerticalWarp, top_zone_depth

    a = np.linspace(-60, 60, 13) * KM
    A, B = np.meshgrid(a, a)
    sed = Surface(kind="xy", a=a, b=a, values=np.where((np.abs(A) <= 10 * KM) & (np.abs(B) <= 10 * KM), -9 * KM, -KM))
    conrad = Surface(kind="xy", a=a, b=a, values=np.full(A.shape, -15 * KM))
    layers = [Layer("sed", 1 * KM, *SOFT, surface=sed), Layer("upper", 15 * KM, *STIFF, surface=conrad),
              Layer("lower", 25 * KM, *STIFF), Layer("mantle", 60 * KM, *STIFF)]

    class Cfg:
        pass

    cfg = Cfg()
    cfg.layers, cfg.surface = layers, None
    cfg.domain = Domain((-60 * KM, 60 * KM), (-60 * KM, 60 * KM), 60 * KM, None)
    assert top_zone_depth(cfg) == 60 * KM
    t = VerticalWarp.for_config(cfg).heights(np.array([0.0, 40 * KM]), np.array([0.0, 0.0]))
    assert np.allclose(t[1], [0.0, -1 * KM, -15 * KM, -25 * KM, -60 * KM])  # outside the basin: true depths
    assert np.allclose(t[0, :3], [0.0, -9 * KM, -23 * KM])  # in it: Conrad pushed (the slab keeps 14 km)
