"""Unit-slip fields of the subfaults: the jump u(hanging) - u(foot) at every fault node (SPEC 4).

Amplitude. The slip of subfault A at fault vertex i is a lumped partition of unity

    lambda_A(i) = int_A phi_i / int_fault phi_i        (phi_i: the P1 hat of vertex i on the fault)

so sum_A lambda_A = 1 (the subfaults add up to uniform unit slip on the whole fault) and the
integrated slip (potency per unit slip) of A, sum_i lambda_A(i) int_fault phi_i, equals its area.
The slip is interpolated linearly between vertices, so it falls to zero across one element row.

Buried edges: their vertices are not split, lambda = 0 there. The potency this removes from A,
sum over buried i of int_A phi_i, is put back on A's vertices that share a triangle of A with a
buried vertex, scaling them all by one factor f_A = 1 + lost_A / sum_{j near} int_A phi_j (on a
uniform 1D grid: the classic 1.5 on the first row). A's potency stays exactly its area, and the
whole-fault field is still the sum of the subfault fields (superposition is exact by construction).

Quadratic meshes: a midside fault node takes the mean of its edge's two vertex values, so the
jump stays the piecewise-linear field above and its integrals are the P1 ones.

Direction (frames.py): per fault node, the area-weighted mean of the hanging-wall normals of its
fault triangles (each (p1-p0)x(p2-p0) points into the hanging wall) gives a local frame; unit
strike-slip is +strike vector (left-lateral), unit dip-slip is -dip vector (reverse, hanging wall up).
On a planar fault every node gets the subfault's own frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from crustgf.core.errors import CrustgfError
from crustgf.fem.shapes import triangle_area_normal
from crustgf.geometry.frames import slip_vectors
from crustgf.mesh.model import TRI6_EDGES


@dataclass
class SlipField:
    """Unit-slip jumps of every subfault on the split nodes (fault nodes with nonzero slip)."""

    nodes: np.ndarray  # (n_split,) global node ids, sorted
    weights: sp.csr_matrix  # (n_split, n_subfaults) slip amplitude lambda_A at each node
    directions: np.ndarray  # (n_split, 2, 3) unit jump vectors: [strike-slip, dip-slip]

    @property
    def n_split(self) -> int:
        return len(self.nodes)

    def jumps(self, jobs) -> np.ndarray:
        """Nodal jumps (3*n_split, k) of jobs (k, 2) = (subfault, component 0 strike / 1 dip);
        row 3*j + c is component c (x, y, z) at split node j."""
        jobs = np.asarray(jobs, dtype=np.int64).reshape(-1, 2)
        amp = self.weights[:, jobs[:, 0]].toarray()  # (n_split, k)
        dirs = self.directions[:, jobs[:, 1], :]  # (n_split, k, 3)
        return (amp[:, :, None] * dirs).transpose(0, 2, 1).reshape(3 * self.n_split, len(jobs))


def vertex_slip_weights(nodes, tri, tri_subfault, n_subfaults, buried_nodes) -> sp.csr_matrix:
    """lambda_A at the fault vertices: (n_nodes, n_subfaults) CSR (rows of non-fault nodes empty).

    tri: (nf, 3) vertex ids of the fault triangles; see the module docstring for the definition."""
    n_nodes = len(nodes)
    area = np.linalg.norm(triangle_area_normal(nodes[tri]), axis=1)
    sub = np.repeat(np.asarray(tri_subfault, dtype=np.int64), 3)
    # W[i, A] = int_A phi_i = sum of A's triangles around i of area/3
    W = sp.csr_matrix((np.repeat(area / 3.0, 3), (tri.ravel(), sub)), shape=(n_nodes, n_subfaults))
    W.sum_duplicates()
    w_total = np.asarray(W.sum(axis=1)).ravel()
    buried = np.zeros(n_nodes, dtype=bool)
    buried[np.asarray(buried_nodes, dtype=np.int64)] = True

    lost = np.asarray(W[buried].sum(axis=0)).ravel()  # (ns,) potency each subfault loses
    # vertices near the buried edge, per subfault: non-buried corners of A's triangles touching it
    touches = buried[tri].any(axis=1)
    near_rows = tri[touches].ravel()
    near_cols = np.repeat(np.asarray(tri_subfault, dtype=np.int64)[touches], 3)
    keep = ~buried[near_rows]
    near = sp.csr_matrix(
        (np.ones(keep.sum()), (near_rows[keep], near_cols[keep])), shape=(n_nodes, n_subfaults)
    )
    near.data[:] = 1.0  # duplicates summed: back to an indicator
    near_potency = np.asarray(W.multiply(near).sum(axis=0)).ravel()
    bad = (lost > 0) & (near_potency <= 0)
    if bad.any():
        raise CrustgfError(
            f"subfault {int(np.flatnonzero(bad)[0])}: every vertex lies on a buried fault edge; "
            "refine the fault mesh (mesh.size_fault) or use fewer subfaults"
        )
    factor = 1.0 + np.divide(lost, near_potency, out=np.zeros_like(lost), where=near_potency > 0)

    inv_total = np.divide(1.0, w_total, out=np.zeros_like(w_total), where=w_total > 0)
    inv_total[buried] = 0.0
    lam = sp.diags(inv_total) @ W  # lumped partition of unity, zero on buried vertices
    lam = lam + near.multiply(lam) @ sp.diags(factor - 1.0)  # scale the near-edge vertices
    lam = sp.csr_matrix(lam)
    lam.eliminate_zeros()
    return lam


def midside_weights(lam_vertex: sp.csr_matrix, fault_cells) -> sp.csr_matrix:
    """Add the rows of TRI6 midside nodes: the mean of their edge's vertex rows."""
    if fault_cells.shape[1] == 3:
        return lam_vertex
    mids = fault_cells[:, 3:].ravel()
    a = fault_cells[:, TRI6_EDGES[:, 0]].ravel()
    b = fault_cells[:, TRI6_EDGES[:, 1]].ravel()
    mids, first = np.unique(mids, return_index=True)
    n = lam_vertex.shape[0]
    avg = sp.csr_matrix(
        (np.full(2 * len(mids), 0.5), (np.concatenate([mids, mids]), np.concatenate([a[first], b[first]]))),
        shape=(n, n),
    )
    return sp.csr_matrix(lam_vertex + avg @ lam_vertex)


def node_normals(nodes, fault_cells) -> np.ndarray:
    """Area-weighted mean hanging-wall unit normal at every node of the fault cells, (n_nodes, 3)
    (zero rows for nodes off the fault)."""
    an = triangle_area_normal(nodes[fault_cells[:, :3]])  # area * unit normal
    acc = np.zeros((len(nodes), 3))
    for k in range(fault_cells.shape[1]):
        np.add.at(acc, fault_cells[:, k], an)
    norm = np.linalg.norm(acc, axis=1, keepdims=True)
    return np.divide(acc, norm, out=np.zeros_like(acc), where=norm > 0)


def build_slip_field(model) -> SlipField:
    """The unit-slip field of every subfault of a Model (see the module docstring)."""
    fc = np.asarray(model.fault_cells, dtype=np.int64)
    lam = vertex_slip_weights(
        model.nodes, fc[:, :3], model.fault_cell_subfault, model.n_subfaults, model.buried_edge_nodes
    )
    lam = midside_weights(lam, fc)
    split = np.flatnonzero(np.diff(lam.indptr) > 0)
    normals = node_normals(model.nodes, fc)[split]
    return SlipField(nodes=split, weights=sp.csr_matrix(lam[split]), directions=slip_vectors(normals))
