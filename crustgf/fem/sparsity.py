"""Node-to-element maps and the node adjacency graph, built without a COO of every element pair.

The stiffness pattern is the node adjacency expanded to 3x3 blocks: for memory, only one integer
per (node, neighbour) pair is ever stored, never ne * (3 nn_el)^2 triplets.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _node_elements(cells, n_nodes):
    ne, nn_el = cells.shape
    count = np.zeros(n_nodes + 1, dtype=np.int64)
    for e in range(ne):
        for a in range(nn_el):
            count[cells[e, a] + 1] += 1
    ptr = np.cumsum(count)
    fill = ptr[:-1].copy()
    elem = np.empty(ptr[-1], dtype=np.int64)
    local = np.empty(ptr[-1], dtype=np.int64)
    for e in range(ne):
        for a in range(nn_el):
            n = cells[e, a]
            elem[fill[n]] = e
            local[fill[n]] = a
            fill[n] += 1
    return ptr, elem, local


def node_elements(cells: np.ndarray, n_nodes: int):
    """CSR map node -> (element, local index): (ptr (nn+1,), elem, local)."""
    return _node_elements(np.ascontiguousarray(cells, dtype=np.int64), int(n_nodes))


@nb.njit(cache=True)
def _adjacency(cells, ptr, elem, n_nodes):
    mark = np.full(n_nodes, -1, dtype=np.int64)
    deg = np.zeros(n_nodes + 1, dtype=np.int64)
    nn_el = cells.shape[1]
    for a in range(n_nodes):
        for p in range(ptr[a], ptr[a + 1]):
            e = elem[p]
            for k in range(nn_el):
                b = cells[e, k]
                if mark[b] != a:
                    mark[b] = a
                    deg[a + 1] += 1
    aptr = np.cumsum(deg)
    adj = np.empty(aptr[-1], dtype=np.int64)
    mark[:] = -1
    for a in range(n_nodes):
        f = aptr[a]
        for p in range(ptr[a], ptr[a + 1]):
            e = elem[p]
            for k in range(nn_el):
                b = cells[e, k]
                if mark[b] != a:
                    mark[b] = a
                    adj[f] = b
                    f += 1
        adj[aptr[a] : aptr[a + 1]] = np.sort(adj[aptr[a] : aptr[a + 1]])
    return aptr, adj


def node_adjacency(cells: np.ndarray, n_nodes: int, n2e=None):
    """Sorted node adjacency (each node is its own neighbour): CSR (aptr (nn+1,), adj)."""
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    ptr, elem, _ = n2e if n2e is not None else node_elements(cells, n_nodes)
    return _adjacency(cells, ptr, elem, int(n_nodes))


@nb.njit(cache=True)
def _dof_pattern(aptr, adj, indptr, indices):
    """Expand the node adjacency to the dof CSR pattern: row 3a+i holds columns 3b+j, b sorted."""
    nn = aptr.shape[0] - 1
    indptr[0] = 0
    for a in range(nn):
        deg = aptr[a + 1] - aptr[a]
        for i in range(3):
            r = 3 * a + i
            start = 9 * aptr[a] + 3 * i * deg
            indptr[r + 1] = start + 3 * deg
            for k in range(deg):
                for j in range(3):
                    indices[start + 3 * k + j] = 3 * adj[aptr[a] + k] + j


def dof_pattern(aptr: np.ndarray, adj: np.ndarray):
    """CSR (indptr, indices) of the 3-dof-per-node stiffness pattern (dof = 3*node + component)."""
    nn = len(aptr) - 1
    nnz = 9 * int(aptr[-1])
    index_type = np.int32 if nnz < 2**31 else np.int64
    indptr = np.empty(3 * nn + 1, dtype=index_type)
    indices = np.empty(nnz, dtype=index_type)
    _dof_pattern(aptr, adj, indptr, indices)
    return indptr, indices
