"""Dispatch to Dask workers: an existing scheduler (`--scheduler ADDRESS`) or a local cluster.

Each task (a batch of job ids) is submitted as one Dask task running
`worker.run_task_in_worker(spec, task)`; results stream back to the client, which alone writes
the output. Robustness comes from Dask: a task whose worker dies is rescheduled on another
worker, up to the scheduler's `distributed.scheduler.allowed-failures` deaths (crustgf raises it
to ALLOWED_FAILURES for the local clusters it starts; for your own scheduler set it in its dask
config); a task that raises is retried `retries` times before the error reaches the client.

Cluster set-ups (start the cluster, then pass its scheduler address to `crustgf solve`):

SLURM / PBS with dask-jobqueue (workers are batch jobs; the model file must be on a file system
every node can read, and crustgf must be importable in the workers' Python)::

    from dask_jobqueue import SLURMCluster          # or PBSCluster
    cluster = SLURMCluster(cores=8, processes=1, memory="64GB", walltime="04:00:00",
                           job_extra_directives=["--exclusive"])
    cluster.scale(jobs=10)                          # 10 nodes, one worker each
    print(cluster.scheduler_address)                # tcp://10.0.0.1:8786
    # keep this Python session alive, and in a shell:
    #   crustgf solve model.h5 -o gf.h5 --scheduler tcp://10.0.0.1:8786 --batch 32

One worker per GPU with dask-cuda (each worker sees one device, via CUDA_VISIBLE_DEVICES)::

    from dask_cuda import LocalCUDACluster
    cluster = LocalCUDACluster()                    # one worker process per visible GPU
    print(cluster.scheduler_address)
    #   crustgf solve model.h5 -o gf.h5 --scheduler <address> --backend cuda --batch 64

Workers build one GreenSolver per structure and keep it (see worker.py), so give each worker
enough memory for the model and its solver, and prefer few workers with several threads each
(processes=1) for the CPU direct solver, which is itself multithreaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from crustgf.core.errors import CrustgfError
from crustgf.greens.dispatch.tasks import BatchResult, Task
from crustgf.greens.dispatch.worker import SolverSpec, run_task_in_worker

CONNECT_PROBE_SECONDS = 5.0  # a scheduler that does not accept a TCP connection in this time is unreachable
ALLOWED_FAILURES = 5  # worker deaths a task may see before Dask gives up on it
TASK_RETRIES = 1  # re-runs of a task that raised


def check_scheduler_address(address: str, timeout: float = CONNECT_PROBE_SECONDS) -> None:
    """CrustgfError (one line, at once) unless `address` is [tcp|tls]://HOST:PORT and accepts a
    TCP connection: distributed's Client would wait 2 x its timeout before failing."""
    import socket

    hint = "give the scheduler's address as tcp://HOST:PORT (printed by the scheduler when it starts)"
    scheme, sep, rest = address.strip().partition("://")
    if not sep:
        scheme, rest = "tcp", address.strip()
    if scheme not in ("tcp", "tls", "ws", "wss"):
        if scheme in ("ucx", "inproc"):
            return  # not a TCP transport: nothing to probe here
        raise CrustgfError(f"--scheduler {address}: unknown protocol {scheme!r}; {hint}")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in rest) or "/" in rest:
        raise CrustgfError(f"--scheduler {address}: not an address; {hint}")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise CrustgfError(f"--scheduler {address}: cannot connect ({reason}); is the scheduler running "
                           f"and reachable from here? Check the address and port") from None


class DaskDispatcher:
    """Send tasks to the workers of a distributed.Client; yield results as they complete."""

    def __init__(self, client, description: str, owns_client: bool = True, cluster=None):
        self.client = client
        self.cluster = cluster
        self.description = description
        self._owns_client = owns_client
        self._futures: list = []

    @classmethod
    def connect(cls, address: str, timeout: float = 30.0) -> "DaskDispatcher":
        check_scheduler_address(address)  # a bad address would hang in Client() for 2 x timeout
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - distributed is a declared extra
            raise CrustgfError("--scheduler needs the 'distributed' package (pip install crustgf[dask])") from exc
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CrustgfError(f"--scheduler {address}: cannot connect ({exc})") from None
        return cls(client, f"Dask scheduler {address}")

    def run(self, work: Iterable[tuple[SolverSpec, Task]]) -> Iterator[BatchResult]:
        import uuid

        from distributed import as_completed

        # keys unique to this run: a scheduler may still hold an earlier run's results under
        # its keys, and a reused key would hand back that stale result
        run_id = uuid.uuid4().hex[:12]
        self._futures = [
            self.client.submit(run_task_in_worker, spec, task, pure=False, retries=TASK_RETRIES,
                               key=f"crustgf-{run_id}-s{task.structure}-{i}")
            for i, (spec, task) in enumerate(work)
        ]
        try:
            for future in as_completed(self._futures, loop=self.client.loop):
                result = future.result()
                future.release()
                yield result
        finally:
            self._cancel_pending()

    def _cancel_pending(self) -> None:
        pending = [f for f in self._futures if not f.done()]
        if pending:
            try:
                self.client.cancel(pending)
            except Exception:  # the client may already be gone (interrupt, lost scheduler)
                pass
        self._futures = []

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
