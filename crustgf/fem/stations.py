"""Stations: point location in the mesh and the interpolation of displacements at them.

The displacement at station x in element e is  sum_a N_a(x) (u_c(a) + delta_e(a)):  the continuous
part plus the split-node jump of those of e's nodes for which e is on the hanging-wall side (a
station on the hanging wall of a surface-reaching fault sees the jump). Output is x, y, z, i.e.
east, north, up (SPEC 4).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crustgf.core.errors import CrustgfError
from crustgf.fem.locate import find_elements
from crustgf.fem.shapes import simplex_shape


def locate_points(nodes, cells, points, names=None):
    """Element and barycentric coordinates (n,), (n, 4) of each station (fem/locate.py).
    Raises CrustgfError naming the first point outside the mesh."""
    points = np.atleast_2d(np.asarray(points, dtype=float))
    elem, bary = find_elements(nodes, cells, points)
    if (elem < 0).any():
        i = int(np.flatnonzero(elem < 0)[0])
        label = names[i] if names is not None else f"#{i}"
        x, y, z = points[i] / 1000.0
        raise CrustgfError(f"station {label} at ({x:.3f}, {y:.3f}, {z:.3f}) km is outside the mesh")
    return elem, bary


def interpolation_matrix(cells, elem, bary, n_nodes) -> sp.csr_matrix:
    """P (3 n_st, 3 n_nodes): row 3s+c interpolates component c at station s from nodal values."""
    N = simplex_shape(bary, cells.shape[1])  # (n_st, nn_el)
    n_st, nn_el = N.shape
    rows = (3 * np.arange(n_st)[:, None, None] + np.arange(3)[None, None, :]).repeat(nn_el, axis=1)
    cols = 3 * cells[elem][:, :, None] + np.arange(3)[None, None, :]
    vals = np.broadcast_to(N[:, :, None], rows.shape)
    return sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(3 * n_st, 3 * n_nodes))


def station_jump_matrix(cells, elem, bary, inc, n_split) -> sp.csr_matrix:
    """Q (3 n_st, 3 n_split): the hanging-wall jump seen at each station, from the split-node jumps d.

    inc: splitnode.HangingIncidences (sorted by element)."""
    N = simplex_shape(bary, cells.shape[1])
    lo = np.searchsorted(inc.elem, elem, side="left")
    hi = np.searchsorted(inc.elem, elem, side="right")
    rows, cols, vals = [], [], []
    for s in range(len(elem)):
        for p in range(lo[s], hi[s]):
            for c in range(3):
                rows.append(3 * s + c)
                cols.append(3 * inc.split[p] + c)
                vals.append(N[s, inc.local[p]])
    return sp.csr_matrix((vals, (rows, cols)), shape=(3 * len(elem), 3 * n_split))
