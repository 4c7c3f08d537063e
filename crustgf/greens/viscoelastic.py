"""Viscoelastic (Maxwell) Green's functions in time: `ViscoelasticSolver`, many right-hand sides at once.

The response to a unit step of slip at t = 0 (SPEC section 6). Layers with a `viscosity` relax
their deviatoric stress with tau = viscosity / mu (the law and the step update: fem/maxwell.py).

- Time grid: a constant step dt = t_end / n with n >= t_end / (min tau / steps_per_tau), the
  smallest such n (up to twice the minimum) that puts every requested time on a step; otherwise
  the minimum n, and the station values at the requested times come from a cubic spline through
  all steps (error O(dt^4), far below the O(dt^2) of the step itself).
- One operator for the whole history: the constant dt makes the effective stiffness K_eff
  (mu_eff = mu (1 - c), bulk modulus kept) constant, so it is factorised once (or gets one AMG
  hierarchy). Each step of a block of k right-hand sides is one block solve with K_eff.
- Time 0 is the elastic solution K u = b: preconditioned CG with K_eff's solver as the
  preconditioner (K_eff^-1 K has its spectrum in [1, 1/(1 - c_max)], c_max ~ dt/(2 tau), so a few
  iterations reach 1e-10): no second factorisation. It is also the file's elastic GF.
- Memory: the viscous state is h (n_viscous_elements, n_quadrature_points, 6, k) for the k
  right-hand sides of one block (`batch`), plus the strain of the same size while stepping.

Split-node slip (splitnode.py): the total displacement is u = u_c + H d; the strain of an element
uses its nodal u_c plus the jump on the nodes whose hanging wall it lies on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crustgf.config.viscoelastic import ViscoelasticOptions, viscoelastic_of_config_text
from crustgf.core.errors import CrustgfError
from crustgf.fem.elements import quadrature_for
from crustgf.fem.maxwell import (
    deviatoric_strain,
    effective_moduli,
    step_coefficients,
    stress_forces,
)
from crustgf.fem.problem import ElasticProblem
from crustgf.fem.splitnode import jump_operator
from crustgf.greens.operator import GreenResult, StationSolver, checked_jobs, fault_and_stations
from crustgf.solvers.choose import make_cpu_solver
from crustgf.solvers.cpu.kernels import csr_matmat
from crustgf.solvers.residual import true_relative_residual

ELASTIC_CG_MAX_ITERATIONS = 200
# the double contraction of symmetric tensors stored as xx, yy, zz, yz, xz, xy
_CONTRACTION = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])


@dataclass
class HistoryResult(GreenResult):
    history: np.ndarray = None  # (n_times, n_stations, 3, k) m per m of slip


def time_grid(times: np.ndarray, tau_min: float, steps_per_tau: int) -> tuple[float, int, bool]:
    """(dt, n_steps, on_steps): a constant step covering [0, times[-1]] (see the module docstring)."""
    t_end = float(times[-1])
    if t_end <= 0.0:
        return 0.0, 0, True
    n_min = max(1, math.ceil(t_end / (tau_min / steps_per_tau) - 1e-9))
    for n in range(n_min, 2 * n_min + 1):
        r = times / (t_end / n)
        if np.all(np.abs(r - np.round(r)) < 1e-6):
            return t_end / n, n, True
    return t_end / n_min, n_min, False


class ViscoelasticSolver(StationSolver):
    """Station displacement histories per unit step slip of (subfault, component) jobs."""

    def __init__(self, model, options: ViscoelasticOptions, method="auto", rtol=1e-8, max_iterations=5000,
                 batch=16, layers=None):
        layers = model.layers if layers is None else layers
        mat = np.asarray(model.cell_material, dtype=np.int64)
        names = list(layers.name)
        unknown = [n for n in options.viscosity if n not in names]
        if unknown:
            raise CrustgfError(f"viscosity: no layer named {unknown[0]!r} (layers: {', '.join(names)})")
        eta = np.array([options.viscosity.get(n, np.inf) for n in names])
        tau_layer = eta / layers.mu
        tau = tau_layer[mat]
        self.viscous = np.flatnonzero(np.isfinite(tau))
        if len(self.viscous) == 0:
            raise CrustgfError("viscoelastic: no element of the mesh lies in a layer with a viscosity "
                               f"({', '.join(options.viscosity)})")
        self.model = model
        self.rtol = float(rtol)
        self.batch = max(1, int(batch))
        self.times = np.asarray(options.times, dtype=np.float64)
        self.tau_min = float(tau[self.viscous].min())
        self.dt, self.n_steps, self.on_steps = time_grid(self.times, self.tau_min, options.steps_per_tau)

        mu, lam = layers.mu[mat], layers.lam[mat]
        a, b, c = step_coefficients(self.dt, tau[self.viscous])
        c_all = np.zeros(len(mat))
        c_all[self.viscous] = c
        mu_eff, lam_eff = effective_moduli(mu, lam, c_all)
        self.a, self.g, self.b0 = a, a * c + b, b  # h <- a h + g e;  h(0) = b e(0)
        self.two_mu = 2.0 * mu[self.viscous]

        elastic = ElasticProblem(model.nodes, model.cells, mu, lam, model.fixed_nodes)
        pb = ElasticProblem(model.nodes, model.cells, mu_eff, lam_eff, model.fixed_nodes)
        self.problem = pb
        self.slip, inc, self.station_interp, self.station_jump = fault_and_stations(model, pb)
        self.jump_elastic = jump_operator(pb.nodes, pb.cells, mu, lam, inc, self.slip.n_split, pb.free_dofs)
        self.jump_eff = jump_operator(pb.nodes, pb.cells, mu_eff, lam_eff, inc, self.slip.n_split, pb.free_dofs)
        self._viscous_incidences(inc)
        self.qpts, self.qw = quadrature_for(pb.cells.shape[1])

        self.K = elastic.reduced_stiffness()
        elastic.release_full_stiffness()
        free_nodes = pb.free_dofs[::3] // 3
        self.solver = make_cpu_solver(pb.reduced_stiffness(), pb.nodes[free_nodes], method, self.rtol, max_iterations)
        pb.release_full_stiffness()

    def _viscous_incidences(self, inc) -> None:
        """The split-node incidences of the viscous elements, as a CSR over self.viscous."""
        pos = np.searchsorted(self.viscous, inc.elem)
        hit = (pos < len(self.viscous)) & (self.viscous[np.minimum(pos, len(self.viscous) - 1)] == inc.elem)
        order = np.argsort(pos[hit], kind="stable")
        owner = pos[hit][order]
        self.inc_local = np.ascontiguousarray(inc.local[hit][order])
        self.inc_split = np.ascontiguousarray(inc.split[hit][order])
        self.inc_ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(self.viscous)))])

    @property
    def state_bytes_per_rhs(self) -> int:
        """Bytes of viscous state (h and the strain) per right-hand side of a block."""
        return 2 * 8 * len(self.viscous) * len(self.qw) * 6

    def solve(self, jobs) -> HistoryResult:
        """Elastic displacement (time 0) and the history at self.times for jobs (k, 2)."""
        jobs = checked_jobs(jobs, self.model.n_subfaults)
        k = len(jobs)
        hist = np.empty((len(self.times), self.n_stations, 3, k))
        disp = np.empty((self.n_stations, 3, k))
        res, its = np.empty(k), np.empty(k, dtype=np.int64)
        for s in range(0, k, self.batch):
            sl = slice(s, min(k, s + self.batch))
            disp[:, :, sl], hist[:, :, :, sl], res[sl], its[sl] = self._block(jobs[sl])
        return HistoryResult(displacement=disp, residual=res, iterations=its, converged=res <= self.rtol,
                             history=hist)

    def _stations(self, U, D):
        return (self.station_interp @ U + self.station_jump @ D).reshape(self.n_stations, 3, -1)

    def _block(self, jobs):
        D = self.slip.jumps(jobs)
        k = D.shape[1]
        U, res, its = self.elastic_solve(-(self.jump_elastic @ D))
        steps = [self._stations(U, D)]
        if self.n_steps:
            D3 = np.ascontiguousarray(D.reshape(-1, 3, k))
            E = self._strain(U, D3)
            h = self.b0[:, None, None, None] * E
            B_jump = -(self.jump_eff @ D)
            for _ in range(self.n_steps):
                F = stress_forces(self.problem.nodes, self.problem.cells, self.viscous,
                                  self.two_mu[:, None, None, None] * h, self.qpts, self.qw, len(self.problem.nodes))
                U, r, it = self.solver.solve(B_jump + F.reshape(-1, k)[self.problem.free_dofs])
                res, its = np.maximum(res, r), its + it
                steps.append(self._stations(U, D))
                self._strain(U, D3, out=E)
                h *= self.a[:, None, None, None]
                h += self.g[:, None, None, None] * E
        return steps[0], self._at_times(np.stack(steps)), res, its

    def _strain(self, U, D3, out=None):
        k = U.shape[1]
        full = np.zeros((3 * len(self.problem.nodes), k))
        full[self.problem.free_dofs] = U
        if out is None:
            out = np.empty((len(self.viscous), len(self.qw), 6, k))
        deviatoric_strain(self.problem.nodes, self.problem.cells, self.viscous, full.reshape(-1, 3, k),
                          self.inc_ptr, self.inc_local, self.inc_split, D3, self.qpts, out)
        return out

    def _at_times(self, steps: np.ndarray) -> np.ndarray:
        """The step values (n_steps + 1, ...) at self.times (on the steps, or by a cubic spline)."""
        if self.n_steps == 0:
            return np.broadcast_to(steps[0], (len(self.times),) + steps.shape[1:]).copy()
        t = self.dt * np.arange(self.n_steps + 1)
        if self.on_steps:
            return steps[np.round(self.times / self.dt).astype(int)]
        from scipy.interpolate import CubicSpline

        kind = "not-a-knot" if len(t) >= 4 else "natural"
        return CubicSpline(t, steps, axis=0, bc_type=kind)(self.times)

    def elastic_solve(self, B):
        """K X = B by CG preconditioned with K_eff's solver; (X, true relative residual, iterations)."""
        tol = min(self.rtol, 1e-10)
        nb = np.linalg.norm(B, axis=0)
        nb[nb == 0] = 1.0
        X = self.solver.solve(B)[0]
        R = B - csr_matmat(self.K, X)
        Z = self.solver.solve(R)[0]
        P = Z.copy()
        rz = np.einsum("ij,ij->j", R, Z)
        its = 1
        while its < ELASTIC_CG_MAX_ITERATIONS and np.any(np.linalg.norm(R, axis=0) / nb > tol):
            KP = csr_matmat(self.K, P)
            pkp = np.einsum("ij,ij->j", P, KP)
            alpha = np.divide(rz, pkp, out=np.zeros_like(rz), where=pkp != 0)
            X += alpha * P
            R -= alpha * KP
            Z = self.solver.solve(R)[0]
            rz_new = np.einsum("ij,ij->j", R, Z)
            beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz != 0)
            P = Z + beta * P
            rz = rz_new
            its += 1
        return X, true_relative_residual(self.K, X, B), np.full(B.shape[1], its, dtype=np.int64)


def viscoelastic_options(model) -> ViscoelasticOptions | None:
    """The model's viscoelastic options (from its stored config text); None for an elastic model."""
    return viscoelastic_of_config_text(model.config_text)


def build_viscoelastic_solver(spec):
    """Worker factory (dispatch.worker.SolverSpec.factory) for the reference structure with viscosities."""
    from crustgf.greens.dispatch.worker import load_model

    opts = dict(spec.options)
    check_backend(opts["backend"])
    model = load_model(spec.model_path, spec.model_sha256)
    return ViscoelasticSolver(model, viscoelastic_options(model), method=opts["method"], rtol=opts["rtol"],
                              max_iterations=opts["max_iterations"], batch=opts["batch"], layers=spec.layers)


def check_backend(backend: str) -> None:
    """Histories run on the CPU solvers; --backend cuda is refused before any work."""
    if backend == "cuda":
        raise CrustgfError("--backend cuda: viscoelastic histories ([viscoelastic] times) are solved on "
                           "the CPU only; use --backend cpu or auto")
