"""Node and element orderings for memory locality on the GPU, and the element colouring.

- Nodes: reverse Cuthill-McKee on the node graph (two nodes are neighbours when they share an
  element), so that an element's nodes, and hence its dofs, sit close together in memory.
- Elements: grouped by colour (no two elements of one colour share a node, so one colour can
  scatter into the result without atomics and deterministically), and inside a colour sorted by
  their smallest node id, so that consecutive threads touch nearby nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

MAX_COLOURS = 256


def rcm_node_order(cells: np.ndarray, n_nodes: int) -> np.ndarray:
    """new -> old node permutation by reverse Cuthill-McKee on the node graph of `cells`."""
    npe = cells.shape[1]
    ia, ib = np.triu_indices(npe, k=1)
    rows = cells[:, ia].ravel().astype(np.int32)
    cols = cells[:, ib].ravel().astype(np.int32)
    data = np.ones(len(rows), dtype=np.int8)
    graph = sp.coo_matrix((data, (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()
    graph = (graph + graph.T).tocsr()
    return np.asarray(reverse_cuthill_mckee(graph, symmetric_mode=True), dtype=np.int64)


@numba.njit(cache=True)
def _greedy_colours(cells, n_nodes, max_colours):
    """First-fit colouring in the given element order; per node a bit set of colours used."""
    words = (max_colours + 63) // 64
    used = np.zeros((n_nodes, words), dtype=np.uint64)
    colour = np.empty(cells.shape[0], dtype=np.int32)
    for e in range(cells.shape[0]):
        chosen = -1
        for w in range(words):
            taken = np.uint64(0)
            for a in range(cells.shape[1]):
                taken |= used[cells[e, a], w]
            if taken != np.uint64(0xFFFFFFFFFFFFFFFF):
                for b in range(64):
                    if (taken >> np.uint64(b)) & np.uint64(1) == np.uint64(0):
                        chosen = w * 64 + b
                        break
                break
        if chosen < 0 or chosen >= max_colours:
            return colour, -1
        bit = np.uint64(1) << np.uint64(chosen % 64)
        for a in range(cells.shape[1]):
            used[cells[e, a], chosen // 64] |= bit
        colour[e] = chosen
    return colour, colour.max() + 1 if cells.shape[0] else 0


def colour_elements(cells: np.ndarray, n_nodes: int) -> np.ndarray:
    """Colour per element (int32) such that elements of one colour share no node."""
    colour, n = _greedy_colours(np.ascontiguousarray(cells), n_nodes, MAX_COLOURS)
    if n < 0:
        raise RuntimeError(f"element colouring needs more than {MAX_COLOURS} colours")
    return colour


@dataclass
class Ordering:
    """A renumbering of a mesh for the GPU operator.

    node_new_to_old[i] is the old id of new node i; node_old_to_new is its inverse.
    element_order[j] is the old id of new element j; colour_offsets[c]:colour_offsets[c+1] are the
    new elements of colour c (empty when colouring was not asked for: one group).
    """

    node_new_to_old: np.ndarray
    node_old_to_new: np.ndarray
    element_order: np.ndarray
    colour_offsets: np.ndarray

    def dof_new_to_old(self) -> np.ndarray:
        return (3 * self.node_new_to_old[:, None] + np.arange(3)).ravel()


def identity_ordering(n_nodes: int, n_cells: int) -> Ordering:
    ids = np.arange(n_nodes, dtype=np.int64)
    return Ordering(ids, ids, np.arange(n_cells, dtype=np.int64), np.array([0, n_cells]))


def make_ordering(cells: np.ndarray, n_nodes: int, rcm: bool = True, colour: bool = True) -> Ordering:
    """RCM nodes (optional), elements sorted by min new node id, grouped by colour (optional)."""
    new_to_old = rcm_node_order(cells, n_nodes) if rcm else np.arange(n_nodes, dtype=np.int64)
    old_to_new = np.empty_like(new_to_old)
    old_to_new[new_to_old] = np.arange(n_nodes)
    renum = old_to_new[cells]
    order = np.argsort(renum.min(axis=1), kind="stable")
    if colour:
        colours = colour_elements(renum[order], n_nodes)
        by_colour = np.argsort(colours, kind="stable")  # stable: keeps min-node order in a colour
        order = order[by_colour]
        counts = np.bincount(colours)
        offsets = np.concatenate([[0], np.cumsum(counts)])
    else:
        offsets = np.array([0, len(cells)])
    return Ordering(new_to_old, old_to_new, order, offsets.astype(np.int64))
