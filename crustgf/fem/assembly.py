"""Assembly of the global stiffness straight into a CSR whose pattern comes from node adjacency.

Rows are assembled in parallel per node (race-free): node a's rows gather, from every element
around a, the (a, b) blocks of that element's stiffness. Each element's gradients are recomputed
for each of its nodes, which is cheap next to the blocks themselves and needs no element storage.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

from crustgf.fem.elements import add_block, quadrature_for, shape_gradients
from crustgf.fem.sparsity import dof_pattern, node_adjacency, node_elements


@nb.njit(cache=True, parallel=True)
def _assemble(nodes, cells, mu, lam, ptr, elem, local, aptr, adj, qpts, qw, data):
    nn_el = cells.shape[1]
    nq = qpts.shape[0]
    n_nodes = aptr.shape[0] - 1
    for a in nb.prange(n_nodes):
        X = np.empty((nn_el, 3))
        dN = np.empty((nq, nn_el, 3))
        blk = np.empty((3, 3))
        deg = aptr[a + 1] - aptr[a]
        row0 = 9 * aptr[a]
        nbrs = adj[aptr[a] : aptr[a + 1]]
        for p in range(ptr[a], ptr[a + 1]):
            e = elem[p]
            la = local[p]
            for k in range(nn_el):
                for c in range(3):
                    X[k, c] = nodes[cells[e, k], c]
            vol = shape_gradients(X, qpts, dN)
            wq = qw * vol
            for lb in range(nn_el):
                k = np.searchsorted(nbrs, cells[e, lb])
                blk[:] = 0.0
                add_block(dN, wq, la, lb, mu[e], lam[e], blk)
                for i in range(3):
                    base = row0 + 3 * i * deg + 3 * k
                    for j in range(3):
                        data[base + j] += blk[i, j]


def assemble_stiffness(nodes, cells, mu, lam, n2e=None) -> sp.csr_matrix:
    """Global stiffness (3nn x 3nn CSR, dof = 3*node + component) of affine TET4/TET10 elements.

    mu, lam: per-element Lame parameters (Pa), arrays (ne,) or scalars."""
    nodes = np.ascontiguousarray(nodes, dtype=np.float64)
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    ne = len(cells)
    mu = np.ascontiguousarray(np.broadcast_to(np.asarray(mu, dtype=np.float64), (ne,)))
    lam = np.ascontiguousarray(np.broadcast_to(np.asarray(lam, dtype=np.float64), (ne,)))
    n2e = n2e if n2e is not None else node_elements(cells, len(nodes))
    aptr, adj = node_adjacency(cells, len(nodes), n2e)
    indptr, indices = dof_pattern(aptr, adj)
    data = np.zeros(len(indices))
    qp, qw = quadrature_for(cells.shape[1])
    _assemble(nodes, cells, mu, lam, n2e[0], n2e[1], n2e[2], aptr, adj, qp, qw, data)
    n = 3 * len(nodes)
    K = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    K.has_sorted_indices = True
    return K
