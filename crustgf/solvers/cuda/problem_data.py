"""Host-side preparation of a TET10 elastic problem for the matrix-free operators.

Renumbers nodes and elements (reorder.py), computes per-element barycentric gradients and
V*lambda, V*mu, the Dirichlet mask and the inverse 3x3 nodal diagonal blocks. Everything is in the
*new* numbering; `to_internal` / `from_internal` map reduced free-dof blocks (the solver interface,
original dof numbering) to full internal vectors and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.solvers.cuda.reorder import Ordering, make_ordering
from crustgf.solvers.cuda.tet10 import element_geometry, nodal_diagonal_blocks


@dataclass
class MeshData:
    ordering: Ordering
    cells: np.ndarray  # (ne, 10) int32, new node ids, elements in new order
    grads: np.ndarray  # (ne, 12) float64: barycentric gradients g_0..g_3 (1/m)
    vlam: np.ndarray  # (ne,) volume * lambda
    vmu: np.ndarray  # (ne,) volume * mu
    mask: np.ndarray  # (ndof,) 1.0 free, 0.0 fixed (new numbering)
    diag_blocks: np.ndarray  # (nn, 3, 3) masked diagonal blocks (identity on fixed dofs)
    free_internal: np.ndarray  # internal (new) dof id of each free dof, in the caller's order
    coords: np.ndarray  # (nn, 3) node coordinates (m), new numbering (multigrid's rigid-body modes)

    @property
    def n_nodes(self) -> int:
        return len(self.ordering.node_new_to_old)

    @property
    def n_dof(self) -> int:
        return 3 * self.n_nodes

    @property
    def colour_offsets(self) -> np.ndarray:
        return self.ordering.colour_offsets

    def inverse_blocks(self, kind: str) -> np.ndarray:
        """(nn, 9) inverse of the nodal diagonal: 'block' (3x3) or 'point' (its diagonal only).

        Rows and columns of fixed dofs are zero, so a preconditioned vector stays zero there.
        """
        d = self.diag_blocks
        if kind == "point":
            d = d * np.eye(3)
        inv = np.linalg.inv(d)
        m = self.mask.reshape(-1, 3)
        inv = inv * m[:, :, None] * m[:, None, :]
        return np.ascontiguousarray(inv.reshape(-1, 9))


def prepare(nodes, cells, mu, lam, free_dofs, rcm=True, colour=True) -> MeshData:
    """Reorder and precompute; mu, lam per element (Pa), free_dofs in the original dof numbering."""
    nodes = np.asarray(nodes, dtype=np.float64)
    cells = np.asarray(cells, dtype=np.int64)
    if cells.ndim != 2 or cells.shape[1] != 10:
        raise CrustgfError(f"--backend cuda: needs quadratic tetrahedra (mesh.order = 2), "
                           f"got cells of shape {cells.shape}")
    nn = len(nodes)
    mu = np.broadcast_to(np.asarray(mu, dtype=np.float64), (len(cells),))
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), (len(cells),))
    ordering = make_ordering(cells, nn, rcm=rcm, colour=colour)
    new_cells = ordering.node_old_to_new[cells[ordering.element_order]]
    mu_e, lam_e = mu[ordering.element_order], lam[ordering.element_order]
    new_nodes = nodes[ordering.node_new_to_old]
    grads, vol = element_geometry(new_nodes, new_cells)

    free_dofs = np.asarray(free_dofs, dtype=np.int64)
    old_node, comp = np.divmod(free_dofs, 3)
    free_internal = 3 * ordering.node_old_to_new[old_node] + comp
    mask = np.zeros(3 * nn)
    mask[free_internal] = 1.0

    blocks = nodal_diagonal_blocks(new_cells, grads, vol, mu_e, lam_e, nn)
    m = mask.reshape(-1, 3)
    blocks = blocks * m[:, :, None] * m[:, None, :] + np.eye(3) * (1.0 - m)[:, :, None]
    return MeshData(ordering, new_cells.astype(np.int32), np.ascontiguousarray(grads.reshape(-1, 12)),
                    vol * lam_e, vol * mu_e, mask, blocks, free_internal, new_nodes)


def to_internal(data: MeshData, b_free: np.ndarray) -> np.ndarray:
    """(n_free, k) block in the caller's free-dof order -> (ndof, k) internal, zeros on fixed dofs."""
    out = np.zeros((data.n_dof, b_free.shape[1]))
    out[data.free_internal] = b_free
    return out


def from_internal(data: MeshData, x_full: np.ndarray) -> np.ndarray:
    """(ndof, k) internal -> (n_free, k) in the caller's free-dof order."""
    return np.ascontiguousarray(x_full[data.free_internal])
