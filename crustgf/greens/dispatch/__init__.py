"""Where solves run: in-process (default), local worker processes, or an existing Dask cluster.

Every dispatcher has `run(work) -> iterator of BatchResult` over (SolverSpec, Task) pairs,
yielding results in completion order, and `close()`. Only the client process writes files.
"""

from __future__ import annotations

from crustgf.greens.dispatch.inprocess import InProcessDispatcher
from crustgf.greens.dispatch.tasks import BatchResult, Task, make_tasks
from crustgf.greens.dispatch.worker import SolverSpec


def open_dispatcher(workers: int | None = None, scheduler: str | None = None):
    """The dispatcher for the `--workers` / `--scheduler` options (at most one of them)."""
    from crustgf.core.errors import CrustgfError

    if workers is not None and scheduler is not None:
        raise CrustgfError("--workers and --scheduler: give at most one of them")
    if scheduler is not None:
        from crustgf.greens.dispatch.dask import DaskDispatcher

        return DaskDispatcher.connect(scheduler)
    if workers is not None:
        from crustgf.greens.dispatch.local import start_local_workers

        return start_local_workers(workers)
    return InProcessDispatcher()


__all__ = ["BatchResult", "InProcessDispatcher", "SolverSpec", "Task", "make_tasks", "open_dispatcher"]
