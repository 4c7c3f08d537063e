"""`ElasticProblem`: the stiffness of a model and its reduction to the free (unconstrained) dofs.

Boundary conditions (SPEC 4): zero displacement at `fixed_nodes` (sides and bottom), eliminated
from the system; the free surface is traction-free, the natural condition, so it needs nothing.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import scipy.sparse as sp

from crustgf.fem.assembly import assemble_stiffness
from crustgf.fem.sparsity import node_elements


class ElasticProblem:
    def __init__(self, nodes, cells, mu, lam, fixed_nodes):
        self.nodes = np.ascontiguousarray(nodes, dtype=np.float64)
        self.cells = np.ascontiguousarray(cells, dtype=np.int64)
        self.mu = np.broadcast_to(np.asarray(mu, dtype=np.float64), (len(self.cells),))
        self.lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), (len(self.cells),))
        self.fixed_nodes = np.unique(np.asarray(fixed_nodes, dtype=np.int64))

    @property
    def n_dof(self) -> int:
        return 3 * len(self.nodes)

    @cached_property
    def node_elements(self):
        """CSR node -> (element, local index), see sparsity.node_elements."""
        return node_elements(self.cells, len(self.nodes))

    @cached_property
    def free_dofs(self) -> np.ndarray:
        """Sorted dofs (3*node + component) that are not fixed."""
        fixed = np.zeros(self.n_dof, dtype=bool)
        fixed[(3 * self.fixed_nodes[:, None] + np.arange(3)).ravel()] = True
        return np.flatnonzero(~fixed)

    @cached_property
    def free_index(self) -> np.ndarray:
        """dof -> row of the reduced system, -1 for fixed dofs."""
        idx = np.full(self.n_dof, -1, dtype=np.int64)
        idx[self.free_dofs] = np.arange(len(self.free_dofs))
        return idx

    def stiffness(self) -> sp.csr_matrix:
        """The full (unconstrained) stiffness, 3nn x 3nn CSR; assembled once and cached."""
        if not hasattr(self, "_K"):
            self._K = assemble_stiffness(self.nodes, self.cells, self.mu, self.lam, self.node_elements)
        return self._K

    def reduced_stiffness(self) -> sp.csr_matrix:
        """K restricted to the free dofs (rows and columns), SPD when anything is fixed; cached."""
        if not hasattr(self, "_Kr"):
            free = self.free_dofs
            Kr = self.stiffness()[free][:, free].tocsr()
            Kr.sort_indices()
            self._Kr = Kr
        return self._Kr

    def release_full_stiffness(self) -> None:
        """Drop the cached full K (keep the reduced one) to save memory on big models."""
        self.__dict__.pop("_K", None)

    def release_stiffness(self) -> None:
        """Drop both cached matrices (a solver that assembles its own operator keeps neither)."""
        self.__dict__.pop("_K", None)
        self.__dict__.pop("_Kr", None)
