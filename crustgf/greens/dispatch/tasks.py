"""Units of work: a task is a batch of solves of one structure; a result is what came back.

A job is one unit-slip solve, identified by (subfault, component) within a structure
(structure 0 is the reference model, structure i >= 1 is the config's variant i - 1); component 0
is strike-slip, 1 is dip-slip (SPEC 4). Tasks carry job ids only, never mesh arrays: a worker
loads the model from its path and keeps its solver between tasks (see worker.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Task:
    structure: int  # 0: reference, i >= 1: variant i - 1
    jobs: np.ndarray  # (k, 2) int64: (subfault, component)

    @property
    def size(self) -> int:
        return len(self.jobs)


@dataclass
class BatchResult:
    """The solver's answer for one task (GreenSolver.solve's result plus the task's identity)."""

    structure: int
    jobs: np.ndarray  # (k, 2) int64
    displacement: np.ndarray  # (n_stations, 3, k) float64, m per m of slip (E, N, U)
    residual: np.ndarray  # (k,) float64, true relative residual ||b - K x|| / ||b||
    iterations: np.ndarray  # (k,) int64
    converged: np.ndarray  # (k,) bool
    extras: dict = field(default_factory=dict)  # name -> (..., k) float64 (greens/extras.py)
    history: np.ndarray | None = None  # (n_times, n_stations, 3, k): viscoelastic history, if any
    backend: str = ""  # which solver ran ("cpu" | "cuda"), "" if unknown
    method: str = ""  # "direct" | "amg-cg" | "multigrid", "" if unknown

    @classmethod
    def from_solver(cls, task: Task, res) -> "BatchResult":
        return cls(
            structure=task.structure,
            jobs=np.asarray(task.jobs, dtype=np.int64),
            displacement=np.asarray(res.displacement, dtype=np.float64),
            residual=np.asarray(res.residual, dtype=np.float64),
            iterations=np.asarray(res.iterations, dtype=np.int64),
            converged=np.asarray(res.converged, dtype=bool),
            extras={k: np.asarray(v, dtype=np.float64) for k, v in getattr(res, "extras", {}).items()},
            history=None if getattr(res, "history", None) is None else np.asarray(res.history, dtype=np.float64),
            backend=str(getattr(res, "backend", "")),
            method=str(getattr(res, "method", "")),
        )


def make_tasks(structure: int, missing: np.ndarray, batch: int) -> list[Task]:
    """Split the (k, 2) missing jobs of one structure into tasks of at most `batch` solves.

    Both components of a subfault go in the same task when they fit, so a batch's right-hand
    sides share their support (cheaper for block solvers)."""
    missing = np.asarray(missing, dtype=np.int64).reshape(-1, 2)
    order = np.lexsort((missing[:, 1], missing[:, 0]))
    missing = missing[order]
    return [Task(structure, missing[i:i + batch]) for i in range(0, len(missing), batch)]
