"""Synthetic structured TET10 box meshes, for benchmarks and tests of the solvers.

The box [x0, x0+lx] x [y0, y0+ly] x [-lz, 0] is cut into nx*ny*nz cubes and every cube into the
six Kuhn tetrahedra (all sharing the cube's main diagonal), which tile space conformingly. All
TET10 nodes (vertices and edge midpoints) then lie on the half-spacing lattice, and every point of
that lattice is a node: node id = (K * (2ny+1) + J) * (2nx+1) + I for lattice indices I, J, K.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from crustgf.solvers.cuda.tet10 import EDGES


def _kuhn_tets() -> np.ndarray:
    """(6, 4, 3) corner offsets (0/1) of the six Kuhn tetrahedra, positively oriented."""
    tets = []
    for perm in permutations(range(3)):
        v = [np.zeros(3, int)]
        for axis in perm:
            nxt = v[-1].copy()
            nxt[axis] = 1
            v.append(nxt)
        v = np.array(v)
        if np.linalg.det((v[1:] - v[0]).astype(float)) < 0:
            v[[1, 2]] = v[[2, 1]]
        tets.append(v)
    return np.array(tets)


def box_tet10(nx, ny, nz, size=(1.0, 1.0, 1.0), origin=(0.0, 0.0)):
    """Nodes (nn, 3) float64 and TET10 cells (ne, 10) int64 (VTK order) of a structured box.

    The box spans x in [origin[0], origin[0]+size[0]], y likewise, z in [-size[2], 0] (z up).
    """
    mx, my, mz = 2 * nx + 1, 2 * ny + 1, 2 * nz + 1
    I, J, K = np.meshgrid(np.arange(mx), np.arange(my), np.arange(mz), indexing="ij")
    lattice = np.stack([I, J, K], axis=-1).transpose(2, 1, 0, 3).reshape(-1, 3)  # id order: K, J, I
    nodes = np.empty((len(lattice), 3))
    nodes[:, 0] = origin[0] + lattice[:, 0] * (size[0] / (2 * nx))
    nodes[:, 1] = origin[1] + lattice[:, 1] * (size[1] / (2 * ny))
    nodes[:, 2] = -size[2] + lattice[:, 2] * (size[2] / (2 * nz))

    ci, cj, ck = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    corner = 2 * np.stack([ci.ravel(), cj.ravel(), ck.ravel()], axis=-1)  # (ncube, 3) doubled index
    kuhn = 2 * _kuhn_tets()  # (6, 4, 3) doubled offsets
    verts = corner[:, None, None, :] + kuhn[None]  # (ncube, 6, 4, 3)
    verts = verts.reshape(-1, 4, 3)
    mids = (verts[:, EDGES[:, 0]] + verts[:, EDGES[:, 1]]) // 2  # (ne, 6, 3)
    allp = np.concatenate([verts, mids], axis=1)  # (ne, 10, 3)
    cells = (allp[..., 2] * my + allp[..., 1]) * mx + allp[..., 0]
    return nodes, cells.astype(np.int64)


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
    for e, (i, j) in enumerate(EDGES):
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
