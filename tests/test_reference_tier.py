"""The reference tier of the default test run: one refined resolution of the half-space and layered
checks (the full convergence tables are `slow`), a curved fault against cutde on the fault's own
triangles, and plate layers.

Thresholds come from the convergence tables in README (bench/results/okada-convergence-20261121.txt,
layered-convergence-20261201.txt): at size_fault = width / 10 the largest per-subfault error was
1.2-2.8 % (half-space) and 1.3-2.6 % (layered).
"""

from __future__ import annotations

import numpy as np
from mesh_cases import cylinder_patches
from test_edgrn import CASES as LAYERED_CASES
from test_edgrn import fe_vs_edgrn
from test_okada import MU, NU, RHO, fe_vs_cutde

import crustgf.mesh.build as build
from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
from crustgf.greens.operator import GreenSolver
from crustgf.mesh import build_model
from crustgf.mesh.model import LayerTable

KM = 1e3
VS = np.sqrt(MU / RHO)
VP = VS * np.sqrt((2 - 2 * NU) / (1 - 2 * NU))


def test_halfspace_at_width_over_10():
    err, total, ndof, res = fe_vs_cutde(30.0, 45.0, 2.0, 10.0, 5.0, (2, 1), 0.5)
    print(f"half-space, width/10: {ndof} dof, max subfault error {err.max():.4f}, whole {total:.4f}")
    assert res.converged.all()
    assert err.max() < 0.035, err


def test_layered_at_width_over_10(tmp_path):
    err, total, ndof, homogeneous = fe_vs_edgrn(*LAYERED_CASES[0], 0.5, tmp_path)
    print(f"layered, width/10: {ndof} dof, max subfault error {err.max():.4f}; homogeneous off by {homogeneous}")
    assert err.max() < 0.035, err
    assert min(homogeneous) > 4 * err.max()


def _cutde_on_triangles(model, positions, nu=NU):
    """Half-space GFs of the model's own fault triangles (corner nodes), summed per subfault."""
    import cutde.halfspace as hs

    tris = model.nodes[model.fault_cells[:, :3]]  # oriented into the hanging wall, as cutde wants
    m = hs.disp_matrix(np.asarray(positions, float), tris, nu)  # (n_st, 3, n_tri, 3)
    out = np.zeros((len(positions), 3, model.n_subfaults, 2))
    for c in range(2):
        np.add.at(out[:, :, :, c].transpose(2, 0, 1), model.fault_cell_subfault, m[:, :, :, c].transpose(2, 0, 1))
    return out


def _homogeneous_config(half_km, depth_km, stations, size_fault_km, size_max_km, fault, plate_layers=()):
    return Config(
        name="reference", domain=Domain((-half_km * KM, half_km * KM), (-half_km * KM, half_km * KM), depth_km * KM,
                                        None),
        layers=[Layer("halfspace", depth_km * KM, VP, VS, RHO)], fault=fault,
        stations=Stations([f"S{i}" for i in range(len(stations))], stations, None),
        mesh=MeshOptions(order=2, size_fault=size_fault_km * KM, size_max=size_max_km * KM),
        plate_layers=list(plate_layers), text="")


def _surface_ring(radius_km, n=24, inner_km=None):
    """Stations on circles around the origin (z = 0), in m."""
    pts = []
    for r in ([inner_km] if inner_km else []) + [radius_km]:
        a = np.linspace(0, 2 * np.pi, n, endpoint=False)
        pts.append(np.column_stack([r * KM * np.cos(a), r * KM * np.sin(a), np.zeros(n)]))
    return np.vstack(pts)


def test_curved_fault_against_cutde_on_its_own_triangles(monkeypatch):
    """A cylindrical fault (flat at its 4 km top, 64 degrees at 21 km) in a homogeneous half-space:
    the FE GFs against cutde on the very triangles of the mesh's fault (so the geometry is the
    same and only the FE discretisation and the tapered buried edges differ)."""
    x = np.linspace(-45e3, 45e3, 7)
    X, Y = np.meshgrid(x, x + 12e3)
    stations = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    fault = RectangleFault((0.0, 0.0, 4 * KM), 270.0, 30.0, 30 * KM, 27 * KM, (3, 2))  # replaced below
    cfg = _homogeneous_config(160.0, 160.0, stations, 2.0, 35.0, fault)
    monkeypatch.setattr(build, "fault_patches", lambda cfg: cylinder_patches())
    model = build_model(cfg, progress=False)
    jobs = np.array([[s, c] for s in range(model.n_subfaults) for c in range(2)])
    res = GreenSolver(model, method="auto").solve(jobs)
    fe = res.displacement.reshape(len(stations), 3, model.n_subfaults, 2)
    ref = _cutde_on_triangles(model, stations)
    per = np.linalg.norm(fe - ref, axis=(0, 1)) / np.linalg.norm(ref, axis=(0, 1))
    whole = np.linalg.norm((fe - ref).sum(axis=2)) / np.linalg.norm(ref.sum(axis=2))
    print(f"curved fault: {model.n_dof} dof; per subfault {np.round(per, 4).tolist()}; whole fault {whole:.4f}")
    assert whole < 0.04 and per.max() < 0.08, (whole, per)


def test_plate_layers():
    """A dipping fault with a 6 km plate layer below it. (1) Given the half-space's own rock the
    plate layer changes nothing: the GFs are cutde's (to the discretisation and box error of this
    coarse model, ~5 %). (2) A plate layer four times as stiff (mu and lambda x 4) moves the GFs far
    more than that, and in the physical direction: a stiffer footwall lets the hanging wall move
    more (larger surface displacement above the hanging wall)."""
    from test_okada import cutde_rectangles

    from crustgf.geometry.frames import rectangle_corners

    strike, dip, top, length, width = 0.0, 30.0, 2.0, 20.0, 10.0
    x = np.linspace(-40e3, 40e3, 9)
    X, Y = np.meshgrid(x + 10e3, x)
    stations = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    fault = RectangleFault((0.0, 0.0, top * KM), strike, dip, length * KM, width * KM, (2, 1))
    plate = [Layer("slab", 6 * KM, VP, VS, RHO)]
    model = build_model(_homogeneous_config(150.0, 150.0, stations, 1.0, 30.0, fault, plate), progress=False)
    assert list(model.layers.kind) == ["flat", "plate"]
    assert np.count_nonzero(model.cell_material == 1) > 100
    jobs = np.array([[s, c] for s in range(2) for c in range(2)])
    same = GreenSolver(model, method="auto").solve(jobs).displacement.reshape(len(stations), 3, 2, 2)
    ref = cutde_rectangles(rectangle_corners([0, 0, -top * KM], strike, dip, length * KM, width * KM), 2, 1, stations)
    err = np.linalg.norm(same - ref, axis=(0, 1)) / np.linalg.norm(ref, axis=(0, 1))
    stiff_layers = LayerTable(name=["halfspace", "slab"], bottom=np.array([150e3, 6e3]), vp=np.array([VP, VP]),
                              vs=np.array([VS, VS]), density=np.array([RHO, 4 * RHO]), kind=["flat", "plate"])
    stiff = GreenSolver(model, method="auto", layers=stiff_layers).solve(jobs).displacement.reshape(same.shape)
    change = np.linalg.norm(stiff - same) / np.linalg.norm(same)
    print(f"plate layers: error vs cutde {np.round(err, 4).tolist()}, stiff plate changes GFs by {change:.3f}")
    assert err.max() < 0.065, err
    assert change > 3 * err.max()
    above = stations[:, 0] > 5e3  # east of the trace, over the hanging wall (fault dips east)
    assert np.abs(stiff[above]).sum() > np.abs(same[above]).sum()
