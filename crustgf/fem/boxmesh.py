"""Structured tetrahedral box meshes (tests and benchmarks that must not depend on gmsh), for the CPU
and the CUDA solvers alike.

Each hexahedron of a tensor grid is cut into 6 tetrahedra around its main diagonal (Kuhn's
subdivision); all hexahedra are cut alike, so the mesh is conforming and every grid plane is a
union of element faces (a fault can be placed on one).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from crustgf.fem.material import velocities
from crustgf.fem.shapes import TET10_EDGES, tet_volume


def box_tet4(xs, ys, zs):
    """TET4 mesh of the grid xs x ys x zs (sorted 1D coordinate arrays): (nodes (nn,3), cells (ne,4))."""
    xs, ys, zs = (np.asarray(a, dtype=float) for a in (xs, ys, zs))
    nx, ny, nz = len(xs), len(ys), len(zs)
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    nodes = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])
    i, j, k = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1), np.arange(nz - 1), indexing="ij")
    i, j, k = i.ravel(), j.ravel(), k.ravel()

    def nid(di, dj, dk):
        return ((i + di) * ny + (j + dj)) * nz + (k + dk)

    tets = []
    for perm in permutations(range(3)):
        corner = np.zeros(3, dtype=int)
        verts = [nid(*corner)]
        for axis in perm:
            corner[axis] = 1
            verts.append(nid(*corner))
        tets.append(np.column_stack(verts))
    cells = np.concatenate(tets).astype(np.int64)
    neg = tet_volume(nodes[cells]) < 0
    cells[neg] = cells[neg][:, [0, 2, 1, 3]]
    return nodes, cells


def promote_tet10(nodes, cells):
    """Add edge midpoints (VTK order) to a TET4 mesh: (nodes, cells (ne,10), edges (nedge,2) -> node id map).

    Returns (nodes10, cells10, edge_vertices (m,2) sorted pairs, edge_node (m,))."""
    pairs = np.sort(cells[:, TET10_EDGES], axis=2).reshape(-1, 2)
    uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
    mid_ids = len(nodes) + np.arange(len(uniq))
    nodes10 = np.vstack([nodes, 0.5 * (nodes[uniq[:, 0]] + nodes[uniq[:, 1]])])
    cells10 = np.hstack([cells, mid_ids[inv.reshape(-1)].reshape(len(cells), 6)])
    return nodes10, cells10, uniq, mid_ids


def box_tet10(nx, ny, nz, size=(1.0, 1.0, 1.0), origin=(0.0, 0.0)):
    """Nodes (nn, 3) and TET10 cells (ne, 10) (VTK order) of an nx x ny x nz box of Kuhn-cut cubes:
    x in [origin[0], origin[0] + size[0]], y likewise, z in [-size[2], 0] (z up)."""
    xs = origin[0] + np.linspace(0.0, size[0], nx + 1)
    ys = origin[1] + np.linspace(0.0, size[1], ny + 1)
    zs = np.linspace(-size[2], 0.0, nz + 1)
    nodes10, cells10, _, _ = promote_tet10(*box_tet4(xs, ys, zs))
    return nodes10, cells10


def distort(nodes, cells, amplitude=0.1, size=(1.0, 1.0, 1.0)):
    """A smooth interior distortion of the vertices; midside nodes are put back at edge midpoints.

    Keeps the box's faces planar (the displacement vanishes on them), so boundary sets are unchanged.
    """
    x = nodes.copy()
    lx, ly, lz = size
    x0 = nodes[:, 0].min()
    y0 = nodes[:, 1].min()
    s = (np.sin(np.pi * (nodes[:, 0] - x0) / lx) * np.sin(np.pi * (nodes[:, 1] - y0) / ly)
         * np.sin(np.pi * nodes[:, 2] / lz))
    x[:, 0] += amplitude * lx * s * 0.5
    x[:, 1] += amplitude * ly * s * 0.3
    x[:, 2] += amplitude * lz * s * 0.4
    for e, (i, j) in enumerate(TET10_EDGES):
        x[cells[:, 4 + e]] = 0.5 * (x[cells[:, i]] + x[cells[:, j]])
    return x


def fixed_box_nodes(nodes, atol=1e-9):
    """Nodes on the sides and bottom of the box (zero displacement there; the top z=0 is free)."""
    lo, hi = nodes.min(axis=0), nodes.max(axis=0)
    tol = atol * float(np.max(hi - lo))
    on = (np.abs(nodes[:, 0] - lo[0]) < tol) | (np.abs(nodes[:, 0] - hi[0]) < tol)
    on |= (np.abs(nodes[:, 1] - lo[1]) < tol) | (np.abs(nodes[:, 1] - hi[1]) < tol)
    on |= np.abs(nodes[:, 2] - lo[2]) < tol
    return np.flatnonzero(on)


def free_dofs_from_fixed_nodes(n_nodes, fixed_nodes):
    """Free dof ids (dof = 3*node + component) when every component of fixed_nodes is held."""
    free = np.ones(3 * n_nodes, bool)
    fixed = np.asarray(fixed_nodes, dtype=np.int64)
    for c in range(3):
        free[3 * fixed + c] = False
    return np.flatnonzero(free)


def midside_lookup(edge_vertices, edge_node, a, b):
    """Node ids of the midside nodes of edges (a, b) (arrays), using promote_tet10's edge table."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = edge_vertices[:, 0] * (edge_vertices.max() + 1) + edge_vertices[:, 1]
    order = np.argsort(key)
    q = lo * (edge_vertices.max() + 1) + hi
    pos = order[np.searchsorted(key[order], q)]
    if not np.array_equal(key[pos], q):
        raise ValueError("edge not in the mesh")
    return edge_node[pos]


def box_fault_model(xs, ys, zs, fault_y, fault_z, subfaults=(1, 1), order=1, mu=3e10, lam=3e10,
                    fault_x=0.0, stations=None):
    """A crustgf Model on a structured box with a vertical fault on the grid plane x = fault_x.

    The fault spans fault_y = (y0, y1) along strike (north) and fault_z = (z0, z1) (z1 = 0: it
    reaches the surface); strike 0, dip 90, so the hanging wall is x > fault_x (n = +x). Subfaults
    (n_strike, n_dip) split it on grid lines (the ranges must be grid-aligned). Fixed nodes: sides
    and bottom; one homogeneous material. Stations: (n, 3) m, default none."""
    from crustgf.fem.shapes import TRI6_EDGES
    from crustgf.mesh.model import LayerTable, Model, SubfaultTable

    nodes, cells = box_tet4(xs, ys, zs)
    edge_v = edge_n = None
    if order == 2:
        nodes, cells, edge_v, edge_n = promote_tet10(nodes, cells)
    tol = 1e-9 * max(np.ptp(xs), np.ptp(ys), np.ptp(zs))
    faces = np.sort(cells[:, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]].reshape(-1, 3), axis=1)
    faces = np.unique(faces, axis=0)
    P = nodes[faces]
    on = (np.abs(P[:, :, 0] - fault_x) < tol).all(axis=1)
    on &= (P[:, :, 1] >= fault_y[0] - tol).all(axis=1) & (P[:, :, 1] <= fault_y[1] + tol).all(axis=1)
    on &= (P[:, :, 2] >= fault_z[0] - tol).all(axis=1) & (P[:, :, 2] <= fault_z[1] + tol).all(axis=1)
    tri = faces[on]
    nrm = np.cross(nodes[tri[:, 1]] - nodes[tri[:, 0]], nodes[tri[:, 2]] - nodes[tri[:, 0]])
    flip = nrm[:, 0] < 0
    tri[flip] = tri[flip][:, [0, 2, 1]]
    c = nodes[tri].mean(axis=1)
    ns, nd = subfaults
    i_s = np.clip(((c[:, 1] - fault_y[0]) / (fault_y[1] - fault_y[0]) * ns).astype(int), 0, ns - 1)
    i_d = np.clip(((fault_z[1] - c[:, 2]) / (fault_z[1] - fault_z[0]) * nd).astype(int), 0, nd - 1)
    tri_sub = (i_d * ns + i_s).astype(np.int32)  # along strike first, then down dip

    fn = np.unique(tri)
    y, z = nodes[fn, 1], nodes[fn, 2]
    boundary = (np.abs(y - fault_y[0]) < tol) | (np.abs(y - fault_y[1]) < tol) | (np.abs(z - fault_z[0]) < tol)
    if fault_z[1] < -tol:
        boundary |= np.abs(z - fault_z[1]) < tol
    buried = fn[boundary]
    fault_cells = tri
    if order == 2:
        mids = np.stack([midside_lookup(edge_v, edge_n, tri[:, a], tri[:, b]) for a, b in TRI6_EDGES], axis=1)
        fault_cells = np.hstack([tri, mids])
        on_b = np.isin(fault_cells[:, TRI6_EDGES], buried).all(axis=2)  # midside of a buried edge
        buried = np.unique(np.concatenate([buried, mids[on_b]]))

    x, yy, zz = nodes.T
    fixed = np.flatnonzero(
        (np.abs(x - xs[0]) < tol) | (np.abs(x - xs[-1]) < tol) | (np.abs(yy - ys[0]) < tol)
        | (np.abs(yy - ys[-1]) < tol) | (np.abs(zz - zs[0]) < tol)
    )
    rho = 3000.0
    vp, vs = velocities(mu, lam, rho)
    layers = LayerTable(name=["half"], bottom=np.array([-zs[0]]), vp=np.atleast_1d(vp), vs=np.atleast_1d(vs),
                        density=np.array([rho]), kind=["flat"])
    n_sub = ns * nd
    area = np.zeros(n_sub)
    np.add.at(area, tri_sub, 0.5 * np.linalg.norm(nrm, axis=1))
    cent = np.zeros((n_sub, 3))
    for s in range(n_sub):
        cent[s] = c[tri_sub == s].mean(axis=0)
    stations = np.zeros((0, 3)) if stations is None else np.asarray(stations, dtype=float)
    return Model(
        nodes=nodes, cells=cells, cell_material=np.zeros(len(cells), np.int32), layers=layers,
        fault_cells=fault_cells, fault_cell_subfault=tri_sub,
        subfaults=SubfaultTable(centroid=cent, strike=np.zeros(n_sub), dip=np.full(n_sub, 90.0), area=area),
        buried_edge_nodes=buried, free_surface_nodes=np.flatnonzero(np.abs(zz - zs[-1]) < tol), fixed_nodes=fixed,
        station_names=[f"S{i}" for i in range(len(stations))], station_positions=stations,
    )
