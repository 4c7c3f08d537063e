"""Block preconditioned conjugate gradients with per-column convergence (the CUDA driver).

Written once against an `ops` object (device_ops.DeviceOps on the GPU, host_ops.HostOps with
NumPy/SciPy), so that the very same algorithm runs on both. Every column is an independent CG
(no block Krylov coupling): per-column alpha, beta. The outer iteration is float64; the
preconditioner may work in float32 (preconditioner.py), which makes it slightly inexact, so beta
uses the Polak-Ribiere (flexible) form  beta = -alpha (z_new . q) / (z_old . r_old)  with
q = K p  (equal to  z_new . (r_new - r_old) / (z_old . r_old)), robust to such perturbations.

Converged columns are frozen: their solution is copied out and the active block is compacted to
the remaining columns, so they stop costing work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PCGOutcome:
    x: np.ndarray  # (ndof, k) host, internal numbering
    iterations: np.ndarray  # (k,) int
    recursive_residual: np.ndarray  # (k,) ||r|| / ||b|| from the recursion
    alphas: list = field(default_factory=list)  # per iteration (k,) arrays when recorded
    betas: list = field(default_factory=list)


def block_pcg(ops, precond, b, rtol, max_iterations, x0=None, record=False, flexible=True):
    """Solve K X = B column by column; b, x0 are ops arrays (ndof, k). Returns PCGOutcome.

    A column stops when its recursive residual ||r||/||b|| <= rtol or at max_iterations.
    With record=True (k = 1 use), alphas/betas are kept for a Lanczos eigenvalue estimate.
    """
    k = b.shape[1]
    bnorm = np.sqrt(ops.dots(b, b))
    x_out = np.zeros((ops.n_dof, k))
    iterations = np.zeros(k, dtype=np.int64)
    res = np.zeros(k)
    out = PCGOutcome(x_out, iterations, res)

    x = ops.empty(k) if x0 is None else x0
    r = ops.empty(k)
    q = ops.empty(k)
    ops.apply(x, q)
    ops.subtract(b, q, r)
    rnorm = np.sqrt(ops.dots(r, r))
    safe_b = np.where(bnorm > 0, bnorm, 1.0)
    active = np.arange(k)
    res[:] = np.where(bnorm > 0, rnorm / safe_b, 0.0)

    def freeze(done_mask):
        nonlocal x, r, active, zr
        nonlocal p
        done = np.flatnonzero(done_mask)
        if len(done):
            x_out[:, active[done]] = ops.to_host(ops.take(x, done))
        keep = np.flatnonzero(~done_mask)
        if len(keep) < len(active):
            x, r, p = ops.take(x, keep), ops.take(r, keep), ops.take(p, keep)
            zr = zr[keep]
        active = active[keep]

    z = ops.empty(k)
    precond.apply(r, z)
    p = ops.take(z, np.arange(k))
    zr = ops.dots(z, r)
    freeze(res[active] <= rtol)
    while len(active):
        n = len(active)
        if q.shape[1] != n:
            q, z = ops.empty(n), ops.empty(n)
        ops.apply(p, q)
        pq = ops.dots(p, q)
        broke = ~(pq > 0) | ~(zr != 0)  # exact convergence (p = 0 or z = 0): nothing left to do
        alpha = np.where(broke, 0.0, zr / np.where(broke, 1.0, pq))
        ops.update_xr(x, r, p, q, alpha)
        precond.apply(r, z)
        rr, zr_new, zq = ops.dots3(r, z, q)
        safe_zr = np.where(broke, 1.0, zr)
        beta = -alpha * zq / safe_zr if flexible else zr_new / safe_zr
        if record and not broke.any():
            out.alphas.append(alpha.copy())
            out.betas.append((zr_new / zr).copy())
        zr = zr_new
        iterations[active] += 1
        res[active] = np.sqrt(rr) / safe_b[active]
        ops.update_p(p, z, beta)
        freeze((res[active] <= rtol) | (iterations[active] >= max_iterations) | broke)
    return out


def true_residual(ops, b, x_host):
    """||b - K x|| / ||b|| per column in float64 (0 where b = 0)."""
    x = ops.from_host(x_host)
    y = ops.empty(x.shape[1])
    ops.apply(x, y)
    r = ops.empty(x.shape[1])
    ops.subtract(b, y, r)
    bnorm = np.sqrt(ops.dots(b, b))
    rnorm = np.sqrt(ops.dots(r, r))
    return np.where(bnorm > 0, rnorm / np.where(bnorm > 0, bnorm, 1.0), 0.0)


def solve(ops, precond, b_host, rtol, max_iterations, restarts=3, x0_host=None):
    """Block PCG to a *true* relative residual <= rtol, restarting columns whose recursive
    residual drifted from the true one; x0_host: an initial guess (initial_guess.py) or None.
    Returns (x_host, true_residual, iterations)."""
    k = b_host.shape[1]
    x = np.zeros_like(b_host) if x0_host is None else np.array(x0_host, dtype=np.float64)
    iterations = np.zeros(k, dtype=np.int64)
    todo = np.arange(k)
    residual = np.zeros(k)
    for attempt in range(restarts + 1):
        b = ops.from_host(b_host[:, todo])
        x0 = ops.from_host(x[:, todo]) if attempt or x0_host is not None else None
        budget = max(1, int(max_iterations - iterations[todo].max()))
        out = block_pcg(ops, precond, b, 0.5 * rtol, budget, x0=x0)
        x[:, todo] = out.x
        iterations[todo] += out.iterations
        residual[todo] = true_residual(ops, b, out.x)
        todo = todo[(residual[todo] > rtol) & (iterations[todo] < max_iterations)]
        if len(todo) == 0:
            break
    return x, residual, iterations


class BlockPCGSolver:
    """The common `.solve(B) -> (X, true residual, iterations)` face of the block PCG on any machine.

    A subclass sets `data` (cuda.problem_data.MeshData: the internal numbering), `ops`, `precond`,
    `rtol`, `max_iterations`, `n_free`, and may set `guess` (initial guesses, initial_guess.py).
    B and X are (n_free, k) in the problem's free-dof order (ElasticProblem.free_dofs)."""

    guess = None

    @classmethod
    def from_problem(cls, problem, **options):
        """From an ElasticProblem-like object (nodes, cells, mu, lam, free_dofs)."""
        return cls(problem.nodes, problem.cells, problem.mu, problem.lam, problem.free_dofs, **options)

    def solve(self, B):
        from crustgf.solvers.cuda.problem_data import from_internal, to_internal

        B = np.asarray(B, dtype=np.float64)
        squeeze = B.ndim == 1
        b = to_internal(self.data, B.reshape(self.n_free, -1))
        x0 = None if self.guess is None else self.guess.guess(b)
        x, residual, iterations = solve(self.ops, self.precond, b, self.rtol, self.max_iterations, x0_host=x0)
        if self.guess is not None:
            self.guess.add(x[:, residual <= self.rtol])
        X = from_internal(self.data, x)
        return (X[:, 0] if squeeze else X), residual, iterations
