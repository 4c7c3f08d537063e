"""`GreenSolver`: station displacements per unit slip of (subfault, component) jobs.

Built once per model (and structure variant): the stiffness and its solver (factor or AMG
hierarchy), the subfaults' unit-slip jumps on the split nodes, the split-node operator M
(b = -M d) and the station operators P (continuous part) and Q (hanging-wall jump seen by a
station). For a block of jobs with nodal jumps D:

    K_free U = -M D,      displacement(stations) = P U + Q D     (east, north, up = x, y, z)

Backends: crustgf.solvers.backend.resolve_backend picks "cpu" (PARDISO, AMG block CG or the
multigrid block PCG, crustgf.solvers; solvers/choose.py picks the method for "auto") or "cuda"
(backend.make_cuda_solver(problem, rtol, max_iterations)). All give an object with
.solve(B) -> (X, residual, iterations) on free-dof blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.fem.problem import ElasticProblem
from crustgf.fem.slipfield import build_slip_field
from crustgf.fem.splitnode import hanging_incidences, jump_operator
from crustgf.fem.stations import interpolation_matrix, locate_points, station_jump_matrix
from crustgf.solvers.choose import make_cpu_solver
from crustgf.solvers.cpu.multigrid import CpuMultigrid


@dataclass
class GreenResult:
    displacement: np.ndarray  # (n_stations, 3, k) m per m of slip, (E, N, U)
    residual: np.ndarray  # (k,) true relative residual ||b - K x|| / ||b||
    iterations: np.ndarray  # (k,)
    converged: np.ndarray  # (k,) bool, residual <= rtol
    extras: dict = field(default_factory=dict)  # name -> (..., k): traction, sensitivities (greens/extras.py)
    backend: str = ""  # which solver ran: "cpu" | "cuda"
    method: str = ""  # "direct" | "amg-cg" | "multigrid"


def fault_and_stations(model, problem):
    """What every solver of a model shares: the unit-slip field, the hanging-wall incidences of the
    split fault nodes, and the station interpolation (continuous part and jump part)."""
    slip = build_slip_field(model)
    fixed_split = np.intersect1d(slip.nodes, problem.fixed_nodes)
    if len(fixed_split):
        raise CrustgfError(f"fault node {int(fixed_split[0])} with slip lies on the fixed model boundary; "
                           "enlarge the domain")
    pb = problem
    inc = hanging_incidences(pb.nodes, pb.cells, model.fault_cells, slip.nodes, pb.node_elements)
    elem, bary = locate_points(pb.nodes, pb.cells, model.station_positions, model.station_names)
    interp = interpolation_matrix(pb.cells, elem, bary, len(pb.nodes))[:, pb.free_dofs].tocsr()
    return slip, inc, interp, station_jump_matrix(pb.cells, elem, bary, inc, slip.n_split)


def checked_jobs(jobs, n_subfaults: int) -> np.ndarray:
    """jobs as (k, 2) int64 (subfault, component 0 strike / 1 dip); CrustgfError when out of range."""
    jobs = np.asarray(jobs, dtype=np.int64).reshape(-1, 2)
    if len(jobs) and (jobs[:, 0].min() < 0 or jobs[:, 0].max() >= n_subfaults or not np.isin(jobs[:, 1], (0, 1)).all()):
        raise CrustgfError("jobs: subfault index out of range or component not 0/1")
    return jobs


class StationSolver:
    """What solvers of station displacements share: their station operators and their solver's memory."""

    solver = None
    station_interp = None

    def release(self) -> None:
        """Free the solver's memory held outside Python (PARDISO's factor); the object is done."""
        release = getattr(self.solver, "release", None)
        if release is not None:
            release()
        self.solver = None

    @property
    def n_stations(self) -> int:
        return self.station_interp.shape[0] // 3


class GreenSolver(StationSolver):
    def __init__(self, model, backend="cpu", method="auto", rtol=1e-8, max_iterations=5000, layers=None, batch=16,
                 traction=False, sensitivity=(), n_solves=None):
        """n_solves: how many GFs this solver is expected to compute (auto's cost model amortises a
        factorisation over them); default all of the model's, 2 per subfault."""
        layers = model.layers if layers is None else layers
        self.layers = layers
        mat = np.asarray(model.cell_material, dtype=np.int64)
        self.model = model
        self.rtol = float(rtol)
        self.batch = max(1, int(batch))
        self.problem = ElasticProblem(model.nodes, model.cells, layers.mu[mat], layers.lam[mat], model.fixed_nodes)
        pb = self.problem
        self.slip, inc, self.station_interp, self.station_jump = fault_and_stations(model, pb)
        self.jump_op = jump_operator(pb.nodes, pb.cells, pb.mu, pb.lam, inc, self.slip.n_split, pb.free_dofs)
        from crustgf.solvers.backend import make_cuda_solver, resolve_backend

        self.backend = resolve_backend(backend)
        if self.backend == "cuda":
            self.solver = make_cuda_solver(pb, rtol=self.rtol, max_iterations=max_iterations)
            self.method = "multigrid"  # the CUDA solver's default preconditioner
        else:
            from crustgf.solvers.choose import choose_cpu_method

            n_solves = 2 * model.n_subfaults if n_solves is None else int(n_solves)
            self.method, direct = choose_cpu_method(pb, method, n_solves)
            if self.method == "multigrid":
                self.solver = CpuMultigrid.from_problem(pb, rtol=self.rtol, max_iterations=max_iterations)
            elif direct is not None:  # auto analysed PARDISO already
                self.solver = direct.factorize()
                pb.release_full_stiffness()
            else:
                K = pb.reduced_stiffness()
                free_nodes = pb.free_dofs[::3] // 3
                self.solver = make_cpu_solver(K, pb.nodes[free_nodes], self.method, self.rtol, max_iterations)
                pb.release_full_stiffness()
        from crustgf.greens.extras import SolverExtras

        self.extras = SolverExtras(self, inc, traction, sensitivity)

    def rhs(self, jobs):
        """(B, D): split-node right-hand sides (n_free, k) and nodal jumps (3 n_split, k) of jobs."""
        D = self.slip.jumps(jobs)
        return -(self.jump_op @ D), D

    def solve(self, jobs) -> GreenResult:
        """Displacements at the stations for jobs (k, 2) = (subfault, component 0 strike / 1 dip)."""
        jobs = checked_jobs(jobs, self.model.n_subfaults)
        k = len(jobs)
        disp = np.empty((self.n_stations, 3, k))
        res = np.empty(k)
        its = np.empty(k, dtype=np.int64)
        extras = {}
        for s in range(0, k, self.batch):
            sl = slice(s, min(k, s + self.batch))
            B, D = self.rhs(jobs[sl])
            X, res[sl], its[sl] = self.solver.solve(B)
            u = self.station_interp @ X + self.station_jump @ D
            disp[:, :, sl] = u.reshape(self.n_stations, 3, -1)
            if self.extras:
                more, r_x, its_x = self.extras.compute(self, X, D)
                res[sl] = np.maximum(res[sl], r_x)
                its[sl] += its_x
                for name, value in more.items():
                    extras.setdefault(name, np.empty(value.shape[:-1] + (k,)))[..., sl] = value
        return GreenResult(displacement=disp, residual=res, iterations=its, converged=res <= self.rtol,
                           extras=extras, backend=self.backend, method=self.method)
