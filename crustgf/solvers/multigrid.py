"""The 'multigrid' preconditioner of block_pcg.py: TET10 -> TET4 p-multigrid, then smoothed-
aggregation AMG, one symmetric V-cycle per CG iteration, all in float32.

Why: Chebyshev block Jacobi (preconditioner.py) needs CG iterations growing like 1/h (about 140
at 456k dofs on the Nankai model, more on bigger ones); a multigrid cycle keeps the count nearly
independent of the mesh size, which is what makes 10M-dof solves cheap.

Coarse level 1, the linear (TET4) space on the same tetrahedra: it is a subspace of the quadratic
one, with prolongation P (a vertex node copies its value, an edge node takes the mean of its two
vertices), so the Galerkin operator P^T K P is exactly the TET4 stiffness of the same elements,
assembled here by crustgf.fem (about 1/8 of the dofs and 1/10 of the nonzeros of the quadratic
matrix, which is never assembled). The TET4 matrix is coarsened further by
pyamg's smoothed aggregation with the six rigid-body modes (cpu_amg.AmgVCycle: levels, Chebyshev
bounds, coarsest level inverted densely). The cycle, with S Chebyshev smoothing (block Jacobi on
the TET10 level through the matrix-free float32 EBE product, point Jacobi on the CSR levels):

    x = S r;  x += P V(P^T (r - K x));  x += S (r - K x)

Pre- and post-smoothers are the same polynomial, so the cycle is symmetric positive definite; its
float32 rounding is absorbed by block_pcg's flexible beta. Cost per CG iteration on the TET10
level: 2 * degree float32 EBE products (about degree float64 ones) plus the CSR levels.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from crustgf.fem.assembly import assemble_stiffness
from crustgf.solvers.cpu.amg import AmgVCycle, rigid_body_modes
from crustgf.solvers.cuda.problem_data import MeshData
from crustgf.solvers.cuda.tet10 import EDGES
from crustgf.solvers.preconditioners import Chebyshev, chebyshev_coefficients


def p1_prolongation(data: MeshData) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """(P, vertices, coarse_free): P (n_dof, n_coarse) maps the free dofs of the TET4 vertex
    space (coarse_free: indices into 3 * len(vertices)) to the TET10 internal dofs (fixed rows 0);
    vertices: the internal node ids of the element vertices, coarse node c = vertices[c]."""
    cells = data.cells.astype(np.int64)
    vertices = np.unique(cells[:, :4])
    coarse = np.full(data.n_nodes, -1, dtype=np.int64)
    coarse[vertices] = np.arange(len(vertices))
    mid = cells[:, 4:].ravel()
    ends = cells[:, EDGES].reshape(-1, 2)  # (ne * 6, 2) vertex ids, same order as mid
    mid, first = np.unique(mid, return_index=True)
    ends = coarse[ends[first]]
    rows = np.concatenate([vertices, mid, mid])
    cols = np.concatenate([np.arange(len(vertices)), ends[:, 0], ends[:, 1]])
    vals = np.concatenate([np.ones(len(vertices)), np.full(2 * len(mid), 0.5)])
    nodal = sp.csr_matrix((vals, (rows, cols)), shape=(data.n_nodes, len(vertices)))
    p = sp.kron(nodal, sp.identity(3), format="csr")
    coarse_mask = data.mask.reshape(-1, 3)[vertices].ravel()
    coarse_free = np.flatnonzero(coarse_mask)
    return (sp.diags(data.mask) @ p[:, coarse_free]).tocsr(), vertices, coarse_free


def p1_stiffness(data: MeshData, vertices: np.ndarray) -> sp.csr_matrix:
    """The TET4 stiffness of the mesh's tetrahedra on the vertex dofs 3 c + i (float64), with
    crustgf.fem's assembly (per-element moduli recovered from V*mu, V*lambda and the gradients:
    det[g_1; g_2; g_3] = 1 / (6 V))."""
    coarse = np.full(data.n_nodes, -1, dtype=np.int64)
    coarse[vertices] = np.arange(len(vertices))
    volume = 1.0 / (6.0 * np.linalg.det(data.grads.reshape(-1, 4, 3)[:, 1:, :]))
    return assemble_stiffness(data.coords[vertices], coarse[data.cells[:, :4]],
                              data.vmu / volume, data.vlam / volume)


class _CsrLevel:
    """One assembled level on the ops side: A, P, R, diagonal inverse, Chebyshev smoother."""

    def __init__(self, ops, level, degree):
        self.ops = ops
        self.a = ops.matrix(level.A)
        self.p = None if level.P is None else ops.matrix(level.P)
        self.r = None if level.R is None else ops.matrix(level.R)
        self.dinv = ops.vector(level.dinv)
        self.first, self.steps = chebyshev_coefficients(level.lower, level.upper, degree)

    def smooth(self, b, d, x, kx):
        """x = p(D^-1 A) D^-1 b, the level's Chebyshev polynomial (degree - 1 products)."""
        self.ops.point_chebyshev_first(b, self.dinv, self.first, d, x)
        for c1, c2 in self.steps:
            self.ops.spmm(self.a, x, kx)
            self.ops.point_chebyshev_step(b, kx, self.dinv, c1, c2, d, x)


class PMultigrid:
    """p-multigrid V-cycle preconditioner: `apply(r, z)` with r, z float64 ops blocks."""

    def __init__(self, ops, degree=2, coarse_degree=2, ratio=30.0, max_coarse=600):
        node_mask = ops.data.mask.reshape(-1, 3)
        if np.any(node_mask.min(axis=1) != node_mask.max(axis=1)):
            raise ValueError("multigrid needs whole nodes fixed (all three components)")
        self.ops = ops
        self.fine = Chebyshev(ops, degree=degree, ratio=ratio)
        p, vertices, coarse_free = p1_prolongation(ops.data)
        self.p = self.r = None  # no free vertex (a tiny model): smoothing only
        self.levels, self.sizes, self.n_levels = [], [], 1
        if len(coarse_free):
            self._build_coarse(p, vertices, coarse_free, coarse_degree, max_coarse)
        self._work = None

    def _build_coarse(self, p, vertices, coarse_free, coarse_degree, max_coarse):
        ops, data = self.ops, self.ops.data
        kc = p1_stiffness(data, vertices)[coarse_free][:, coarse_free]
        modes = rigid_body_modes(data.coords[vertices])[coarse_free]
        amg = AmgVCycle(kc, modes, max_coarse=max_coarse, degree=coarse_degree)
        self.n_levels = amg.n_levels + 1
        self.p, self.r = ops.matrix(p), ops.matrix(p.T.tocsr())
        self.levels = [_CsrLevel(ops, lev, coarse_degree) for lev in amg.levels[:-1]]
        coarsest = amg.levels[-1].A
        inverse = sla.cho_solve(amg.coarse_factor, np.eye(coarsest.shape[0]))
        self.coarsest = ops.matrix(sp.csr_matrix(inverse))
        self.sizes = [lev.A.shape[0] for lev in amg.levels]

    def _buffers(self, k):
        if self._work is None or self._work[0][0].shape[1] != k:
            ops = self.ops
            fine = tuple(ops.empty(k, low=True) for _ in range(3))  # r32, x, t
            levels = [tuple(ops.empty(k, low=True, rows=n) for _ in range(6)) for n in self.sizes]
            self._work = (fine, levels)
        return self._work

    def apply(self, r, z):
        ops = self.ops
        (r32, x, t), levels = self._buffers(r.shape[1])
        ops.copy_cast(r, r32)
        self.fine.smooth(r32, out=x)
        if self.p is not None:
            ops.residual_low(r32, x, t)
            ops.spmm(self.r, t, levels[0][0])
            self._cycle(0, levels)
            ops.spmm(self.p, levels[0][1], x, beta=1.0)
        ops.residual_low(r32, x, t)
        ops.add_to(self.fine.smooth(t), x)
        ops.copy_cast(x, z)

    def _cycle(self, i, levels):
        """e_i = V_i(b_i) on the assembled levels (buffers: b, e, t, d, xs, kx per level)."""
        ops = self.ops
        b, e, t, d, xs, kx = levels[i]
        if i == len(self.levels):
            ops.spmm(self.coarsest, b, e)
            return
        lev = self.levels[i]
        lev.smooth(b, d, e, kx)
        ops.spmm(lev.a, e, t)
        ops.subtract(b, t, t)
        ops.spmm(lev.r, t, levels[i + 1][0])
        self._cycle(i + 1, levels)
        ops.spmm(lev.p, levels[i + 1][1], e, beta=1.0)
        ops.spmm(lev.a, e, t)
        ops.subtract(b, t, t)
        lev.smooth(t, d, xs, kx)
        ops.add_to(xs, e)
