"""In-process dispatch (the default): tasks run one after another in the client process."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from crustgf.greens.dispatch.tasks import BatchResult, Task
from crustgf.greens.dispatch.worker import SolverSpec, run_task


class InProcessDispatcher:
    description = "in-process"

    def run(self, work: Iterable[tuple[SolverSpec, Task]]) -> Iterator[BatchResult]:
        for spec, task in work:
            yield run_task(spec, task)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
