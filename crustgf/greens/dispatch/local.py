"""Local worker processes (`--workers N`): a Dask LocalCluster on 127.0.0.1.

N worker processes with one task thread each; each builds its own solver on the first task and
keeps it (so N workers hold N copies of the operator: memory grows with N). The machine's cores
are shared out: each worker's BLAS/OpenMP/Numba thread pools get cores // N threads; so is the
memory: `method = "auto"` lets each worker's factorisation use 1/N of the budget.
A worker that dies is restarted by its nanny and its task goes to a live worker.
"""

from __future__ import annotations

import logging
import os

from crustgf.core.errors import CrustgfError
from crustgf.greens.dispatch.dask import ALLOWED_FAILURES, DaskDispatcher
from crustgf.solvers.cpu.direct import PROCESSES_ENV


def start_local_workers(n_workers: int) -> DaskDispatcher:
    if n_workers < 1:
        raise CrustgfError(f"--workers: must be >= 1, got {n_workers}")
    import dask
    from distributed import Client, LocalCluster

    threads = str(max(1, (os.cpu_count() or 1) // n_workers))
    env = {name: threads for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "NUMBA_NUM_THREADS")}
    env[PROCESSES_ENV] = str(n_workers)  # each worker's direct solver gets 1/N of the memory budget
    # the scheduler lives in this process: the setting applies to it
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0",  # any free port: no clash
                               silence_logs=logging.ERROR, env=env)
    client = Client(cluster, set_as_default=False)
    return DaskDispatcher(client, f"{n_workers} local worker processes", cluster=cluster)
