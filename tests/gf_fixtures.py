"""Green's-function files for tests, filled with an independent forward model.

The displacement is the homogeneous elastic half-space response of triangular dislocations
(cutde.halfspace.disp_matrix, Nikkhoo & Walter 2015). cutde's slip components are in each
triangle's own frame: normal n = (p1 - p0) x (p2 - p0), strike = e_z x n, dip = n x strike, and the
slip is the motion of the side n points to. With every triangle oriented so that n points into the
hanging wall (upwards), cutde's strike = SPEC strike vector and cutde's dip = up-dip = SPEC's
reverse direction, so cutde (strike-slip, dip-slip) = SPEC (strike-slip, dip-slip).
test_export.py checks this against the physical signs (hanging wall moves along strike / up dip).
"""

from __future__ import annotations

import h5py
import numpy as np

from crustgf.geometry.frames import dip_vector, strike_vector


def planar_fault(top_center, strike, dip, length, width, n_strike, n_dip):
    """A planar rectangle split n_strike x n_dip, each patch two triangles (normals into the hanging wall).

    top_center is (x, y, z) in m with z negative below the surface. Subfault j = i_dip * n_strike + i_strike.
    """
    s, d = strike_vector(strike), dip_vector(strike, dip)
    a = np.linspace(-0.5 * length, 0.5 * length, n_strike + 1)
    w = np.linspace(0.0, width, n_dip + 1)
    A, W = np.meshgrid(a, w)  # (n_dip + 1, n_strike + 1)
    verts = np.asarray(top_center, float) + A.reshape(-1, 1) * s + W.reshape(-1, 1) * d
    cells, owner = [], []
    vid = lambda i, k: k * (n_strike + 1) + i  # noqa: E731
    for k in range(n_dip):
        for i in range(n_strike):
            p00, p10, p01, p11 = vid(i, k), vid(i + 1, k), vid(i, k + 1), vid(i + 1, k + 1)
            for tri in ([p00, p01, p11], [p00, p11, p10]):
                cells.append(tri)
                owner.append(k * n_strike + i)
    cells = np.array(cells, dtype=np.int64)
    owner = np.array(owner, dtype=np.int64)
    tri = verts[cells]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    if np.any(normal[:, 2] <= 0):  # orient into the hanging wall (up)
        flip = normal[:, 2] <= 0
        cells[flip] = cells[flip][:, [0, 2, 1]]
    tri = verts[cells]
    tri_area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    nsf = n_strike * n_dip
    area = np.bincount(owner, tri_area, minlength=nsf)
    centroid = np.stack([np.bincount(owner, tri_area * tri.mean(axis=1)[:, c], minlength=nsf)
                         for c in range(3)], axis=1) / area[:, None]
    return dict(vertices=verts, cells=cells, cell_subfault=owner, centroid=centroid,
                strike=np.full(nsf, float(strike)), dip=np.full(nsf, float(dip)), area=area)


def station_grid(half_size, n):
    x = np.linspace(-half_size, half_size, n)
    X, Y = np.meshgrid(x, x)
    pos = np.stack([X.ravel(), Y.ravel(), np.zeros(X.size)], axis=1)
    names = [f"S{k:03d}" for k in range(len(pos))]
    return names, pos


def halfspace_gf(positions, fault, nu=0.25):
    """(n_stations, 3, n_subfaults, 2) displacement per unit slip from cutde."""
    import cutde.halfspace as hs

    tris = fault["vertices"][fault["cells"]]
    m = hs.disp_matrix(np.asarray(positions, float), tris, nu)  # (nobs, 3, ntri, 3)
    nsf = len(fault["area"])
    out = np.zeros((len(positions), 3, nsf, 2))
    for t, j in enumerate(fault["cell_subfault"]):
        out[:, :, j, :] += m[:, :, t, :2]
    return out


def layers_for(nu, mu=3.0e10, density=2700.0):
    lam = 2 * mu * nu / (1 - 2 * nu)
    vs = np.sqrt(mu / density)
    vp = np.sqrt((lam + 2 * mu) / density)
    return dict(name=np.array(["halfspace"], dtype=object), bottom=np.array([1e6]), vp=np.array([vp]),
                vs=np.array([vs]), density=np.array([density]), mu=np.array([mu]), **{"lambda": np.array([lam])})


CONFIG = """[model]
name = "test"
[domain]
x = [-300.0, 300.0]
y = [-300.0, 300.0]
depth = 300.0
origin = [135.0, 33.0]
"""


def _write_layers(group, layers):
    for key, value in layers.items():
        if value.dtype == object:
            group.create_dataset(key, data=value.astype(str).astype(object), dtype=h5py.string_dtype())
        else:
            group.create_dataset(key, data=value)


def write_gf_file(path, names, positions, fault, displacement, layers, variants=None, done=None,
                  config=CONFIG):
    """A GF file laid out as SPEC section 3 (+ /variants/<name>/... of docs/CONTRACTS.md)."""
    variants = variants or {}
    nsf = len(fault["area"])
    with h5py.File(path, "w") as f:
        f.attrs["kind"] = "crustgf-greens-functions"
        f.attrs["crustgf_version"] = "test"
        f.attrs["config"] = config
        f.attrs["model_sha256"] = "0" * 64
        f.attrs["frame"] = "x east, y north, z up (m); origin lon 135.0 lat 33.0"
        f.attrs["slip_convention"] = "hanging wall relative to footwall; +strike left-lateral, +dip reverse"
        f.attrs["variants"] = list(variants)
        f.create_dataset("greens_functions/displacement", data=displacement).attrs["units"] = "m/m"
        f.create_dataset("stations/name", data=np.array(names, dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("stations/position", data=positions).attrs["units"] = "m"
        for key in ("centroid", "strike", "dip", "area", "vertices", "cells", "cell_subfault"):
            f.create_dataset(f"subfaults/{key}", data=fault[key])
        f.create_dataset("solve/done", data=np.ones((nsf, 2), bool) if done is None else done)
        f.create_dataset("solve/residual", data=np.full((nsf, 2), 1e-10))
        f.create_dataset("solve/iterations", data=np.ones((nsf, 2), np.int64))
        _write_layers(f.create_group("model/layers"), layers)
        for name, (disp, lay) in variants.items():
            g = f.create_group(f"variants/{name}")
            g.create_dataset("greens_functions/displacement", data=disp)
            g.create_dataset("solve/done", data=np.ones((nsf, 2), bool))
            g.create_dataset("solve/residual", data=np.full((nsf, 2), 1e-10))
            g.create_dataset("solve/iterations", data=np.ones((nsf, 2), np.int64))
            _write_layers(g.create_group("model/layers"), lay)
    return path


def standard_case(tmp_path, n_strike=8, n_dip=5, stations_per_side=10, variants=True):
    """A 60 x 30 km thrust (strike 30, dip 20, top 3 km deep) with ~100 surface stations."""
    fault = planar_fault((0.0, 0.0, -3000.0), 30.0, 20.0, 60e3, 30e3, n_strike, n_dip)
    names, pos = station_grid(80e3, stations_per_side)
    disp = halfspace_gf(pos, fault, nu=0.25)
    var = {}
    if variants:
        for nu in (0.20, 0.30):
            var[f"nu{nu:.2f}"] = (halfspace_gf(pos, fault, nu=nu), layers_for(nu))
        var["stiff_scaled"] = (1.2 * disp, layers_for(0.25, mu=3.6e10))
    path = write_gf_file(tmp_path / "gf.h5", names, pos, fault, disp, layers_for(0.25), variants=var)
    return path, names, pos, fault, disp
