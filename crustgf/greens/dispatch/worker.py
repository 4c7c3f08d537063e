"""What runs on a worker: solve one task with a solver kept per process between tasks.

A worker (the client process itself, a local worker process, or a Dask worker on another
machine) receives a `SolverSpec` and a `Task`. The first task of a spec loads the model from its
path and builds the GreenSolver (operator assembly, factorisation or AMG hierarchy: the expensive
part); later tasks of the same spec reuse it. The cache is keyed by (model path, model sha256,
structure, solver options), and a changed model file is never served by a stale solver. A process
keeps ONE solver: a task of another structure retires the old one, which is released as soon as
no task (thread) uses it (a PARDISO factor of a large model is gigabytes, and an ensemble has a
structure per variant). Tasks are submitted structure by structure, so each process builds each
structure's solver about once. The model path must be readable by every worker (a shared file
system on a cluster).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from crustgf.greens.dispatch.tasks import BatchResult, Task

# Test hook: when set to a path, the first worker task that manages to create that file kills
# its own process (os._exit), as a crashed node would. Only `run_task_in_worker` honours it.
KILL_ONCE_ENV = "CRUSTGF_TEST_KILL_WORKER_ONCE"


@dataclass(frozen=True)
class SolverSpec:
    """Everything a worker needs to build the solver of one structure (small; sent with tasks)."""

    model_path: str  # absolute
    model_sha256: str
    structure: int  # 0: reference layers, i >= 1: variant i - 1
    layers: object | None  # LayerTable for a variant, None for the model's own layers
    options: tuple  # sorted (key, value) pairs: backend, method, rtol, max_iterations, batch
    factory: str = "crustgf.greens.dispatch.worker:build_green_solver"  # "module:function"

    @property
    def key(self) -> tuple:
        return (self.model_path, self.model_sha256, self.structure, self.options, self.factory)


_solvers: dict[tuple, object] = {}
_in_use: dict[tuple, int] = {}  # tasks running with each solver (a Dask worker may run several threads)
_retired: set = set()  # solvers to release as soon as no task uses them
_models: dict[tuple, object] = {}
_lock = threading.Lock()


def run_task(spec: SolverSpec, task: Task) -> BatchResult:
    """Solve `task` with this process's solver for `spec`."""
    solver = _acquire(spec)
    try:
        return BatchResult.from_solver(task, solver.solve(np.asarray(task.jobs, dtype=np.int64)))
    finally:
        _done_with(spec.key)


def run_task_in_worker(spec: SolverSpec, task: Task) -> BatchResult:
    """`run_task` for worker processes (honours the kill-once test hook)."""
    _maybe_die_for_test()
    return run_task(spec, task)


def _acquire(spec: SolverSpec):
    """This process's solver for spec, counted as in use. Building a new one retires the others:
    each is released at once when idle, or when the last task using it (another thread) ends."""
    with _lock:
        key = spec.key
        solver = _solvers.get(key)
        if solver is None:
            for other in list(_solvers):
                _retire(other)
            solver = _import(spec.factory)(spec)
            _solvers[key] = solver
        _retired.discard(key)  # wanted again
        _in_use[key] = _in_use.get(key, 0) + 1
        return solver


def _done_with(key) -> None:
    with _lock:
        _in_use[key] -= 1
        if key in _retired and _in_use[key] == 0:
            _retire(key)


def _retire(key) -> None:
    """Release the solver of key now if no task uses it, else mark it for release (lock held)."""
    if _in_use.get(key, 0) > 0:
        _retired.add(key)
        return
    solver = _solvers.pop(key)
    _retired.discard(key)
    _in_use.pop(key, None)
    release = getattr(solver, "release", None)
    if release is not None:
        release()  # PARDISO's factor lives outside Python: dropping the object would not free it


def build_green_solver(spec: SolverSpec):
    """The real factory: GreenSolver on the (cached) model with the spec's layers and options."""
    from crustgf.greens.operator import GreenSolver

    opts = dict(spec.options)
    return GreenSolver(
        load_model(spec.model_path, spec.model_sha256),
        backend=opts["backend"],
        method=opts["method"],
        rtol=opts["rtol"],
        max_iterations=opts["max_iterations"],
        layers=spec.layers,
        batch=opts["batch"],
        traction=opts.get("traction", False),
        sensitivity=opts.get("sensitivity", ()),
        n_solves=opts.get("n_solves"),  # the GFs this run asks of the structure (auto's cost model)
    )


def load_model(path: str, sha256: str):
    """Read the model once per process; refuse a file that changed since the run started."""
    from crustgf.core.errors import CrustgfError
    from crustgf.io.modelfile import file_sha256, read_model

    key = (path, sha256)
    if key not in _models:
        actual = file_sha256(path)
        if actual != sha256:
            raise CrustgfError(f"{path}: model file changed during the solve (sha256 {actual[:12]}...)")
        _models[key] = read_model(path)
    return _models[key]


def remember_model(path: str, sha256: str, model) -> None:
    """Hand this process's workers a model already read (the client's, for in-process runs)."""
    _models[(path, sha256)] = model


def clear_cache() -> None:
    """Release every solver and forget the models (the end of an in-process run; tests)."""
    with _lock:
        for key in list(_solvers):
            _in_use[key] = 0
            _retire(key)
        _models.clear()


def _import(dotted: str):
    import importlib

    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def _maybe_die_for_test() -> None:
    flag = os.environ.get(KILL_ONCE_ENV)
    if not flag:
        return
    try:
        fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os._exit(17)
