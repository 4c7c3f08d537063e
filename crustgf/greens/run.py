"""`crustgf solve`: every missing unit-slip solve of a model, written to the Green's-function file.

Flow: read the model (and its sha256, config text); work out the solver options (defaults <
the config's [solver] table < command-line options) and the structures (the reference layers and
each [[variants]] entry); load what an earlier run left (the GF file and its journal, see
journal.py), write the merged file, then send the missing solves in batches of `batch` to the
dispatcher (in-process, --workers N local processes, or --scheduler ADDRESS). Each finished batch
goes to the journal at once (durable), then into memory; the GF file is rewritten atomically
every FLUSH_SECONDS and at the end, when the journal is removed.

So a run killed at any moment (SIGKILL, node failure) leaves a GF file that opens and a journal;
running the same command again solves only what is missing. Ctrl-C or SIGTERM saves what is
done and exits with status 130. Solves that do not reach rtol are reported on stderr, stay
done = false with NaN displacement (see gffile.py), and make the exit status 2 after the rest
has finished. A GF file or journal from another model file is refused.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

from crustgf.config.load import BACKENDS, METHODS, SolverOptions
from crustgf.greens.dispatch import SolverSpec, make_tasks, open_dispatcher
from crustgf.greens.dispatch import worker as worker_state
from crustgf.core.errors import CrustgfError
from crustgf.io.gffile import SolveState, Structure, header_from_model, read_solve_states, write_gf_file
from crustgf.greens.journal import Journal, journal_path
from crustgf.core.progress import Progress
from crustgf.config.variants import apply_variant, solver_table_from_config_text, variants_from_config_text

FLUSH_SECONDS = 30.0
EXIT_NOT_CONVERGED = 2
EXIT_INTERRUPTED = 130
COMPONENT_NAMES = ("strike-slip", "dip-slip")
_CHOICES = {"backend": BACKENDS, "method": METHODS}


def solve_greens_functions(model_path, out_path, options: dict, progress: bool = True) -> int:
    """Solve every missing (structure, subfault, component) of MODEL into OUT; return the exit status."""
    from crustgf.io.modelfile import file_sha256, read_model

    model_path, out_path = Path(model_path).resolve(), Path(out_path)
    check_paths(model_path, out_path)
    sha = file_sha256(model_path)
    model = read_model(model_path)
    opts = resolve_options(model.config_text, options)
    structures = structures_of(model)
    header = header_from_model(model, sha, structures)
    worker_state.remember_model(str(model_path), sha, model)  # in-process runs reuse it
    specs = [SolverSpec(str(model_path), sha, i, None if i == 0 else s.layers, _options_key(opts))
             for i, s in enumerate(structures)]
    try:
        return SolveRun(out_path, header, specs, opts, progress).execute()
    finally:
        worker_state.clear_cache()  # in-process solvers: free the operator once the file is written


def check_paths(model_path: Path, out_path: Path) -> None:
    if not model_path.is_file():
        raise CrustgfError(f"{model_path}: no such model file")
    if out_path.resolve() == model_path:
        raise CrustgfError(f"-o {out_path}: would overwrite the model file")
    if not out_path.resolve().parent.is_dir():
        raise CrustgfError(f"-o {out_path}: folder {out_path.parent} does not exist")


def resolve_options(config_text: str, cli_options: dict) -> dict:
    """Solver options: SolverOptions defaults < config [solver] < command line; plus workers/scheduler."""
    opts = asdict(SolverOptions())
    table = solver_table_from_config_text(config_text)
    opts.update({k: v for k, v in table.items() if k in opts})
    opts.update({k: v for k, v in cli_options.items() if k in opts and v is not None})
    opts["workers"] = cli_options.get("workers")
    opts["scheduler"] = cli_options.get("scheduler")
    for key, allowed in _CHOICES.items():
        if opts[key] not in allowed:
            raise CrustgfError(f"--{key}: must be one of {', '.join(allowed)}, got {opts[key]!r}")
    if not (isinstance(opts["batch"], int) and opts["batch"] >= 1):
        raise CrustgfError(f"--batch: must be an integer >= 1, got {opts['batch']!r}")
    if not 0.0 < float(opts["rtol"]) < 1.0:
        raise CrustgfError(f"--rtol: must be in (0, 1), got {opts['rtol']!r}")
    if not (isinstance(opts["max_iterations"], int) and opts["max_iterations"] >= 1):
        raise CrustgfError(f"--max-iterations: must be an integer >= 1, got {opts['max_iterations']!r}")
    if opts["workers"] is not None and opts["scheduler"] is not None:
        raise CrustgfError("--workers and --scheduler: give at most one of them")
    if opts["workers"] is not None and opts["workers"] < 1:
        raise CrustgfError(f"--workers: must be >= 1, got {opts['workers']}")
    opts["rtol"] = float(opts["rtol"])
    return opts


def structures_of(model) -> list[Structure]:
    """The reference structure (the model's layers) and one per config variant, in config order."""
    structures = [Structure("reference", model.layers)]
    for variant in variants_from_config_text(model.config_text):
        structures.append(Structure(variant.name, apply_variant(model.layers, variant)))
    return structures


def _options_key(opts: dict) -> tuple:
    keys = ("backend", "method", "rtol", "max_iterations", "batch")
    return tuple(sorted((k, opts[k]) for k in keys))


class SolveRun:
    """One invocation: resume, dispatch, journal, flush, report."""

    def __init__(self, out_path: Path, header, specs: list[SolverSpec], opts: dict, progress: bool):
        self.out_path = Path(out_path)
        self.header = header
        self.specs = specs
        self.opts = opts
        self.progress = progress
        self.journal = Journal(journal_path(self.out_path), header.model_sha256)
        self.states: list[SolveState] = []
        self.merged_seq = 0  # journal entries up to this one are in memory
        self.failed: list[str] = []

    @property
    def total(self) -> int:
        return 2 * self.header.n_subfaults * len(self.header.structures)

    def n_done(self) -> int:
        return sum(s.n_done for s in self.states)

    def execute(self) -> int:
        with _owner_lock(self.journal.folder, self.out_path), _sigterm_as_interrupt():
            self.resume()
            work = [(self.specs[i], task) for i, state in enumerate(self.states)
                    for task in make_tasks(i, state.missing(), self.opts["batch"])]
            if work:
                try:
                    self.dispatch(work)
                except KeyboardInterrupt:
                    self.catch_up()
                    self.flush()
                    self.say(f"interrupted: {self.n_done()} of {self.total} solves saved in "
                             f"{self.out_path}; run the same command again to resume", always=True)
                    return EXIT_INTERRUPTED
            self.flush()
            self.journal.remove()
        return self.finish()

    def resume(self) -> None:
        h = self.header
        if self.out_path.exists():
            self.states = read_solve_states(self.out_path, h)
        else:
            self.states = [SolveState.empty(h.n_stations, h.n_subfaults) for _ in h.structures]
        for seq, result in self.journal.read():
            self.merge(result, report=False)
            self.merged_seq = seq
        self.flush()
        done = self.n_done()
        if done:
            self.say(f"resuming {self.out_path}: {done} of {self.total} solves already done")

    def dispatch(self, work) -> None:
        n_jobs = sum(task.size for _, task in work)
        last_flush = time.monotonic()
        with open_dispatcher(self.opts["workers"], self.opts["scheduler"]) as dispatcher:
            self.say(f"solving {n_jobs} of {self.total} (subfault, component) solves in {len(work)} "
                     f"batches ({dispatcher.description})")
            with Progress(self.total, "solve", self.progress, initial=self.n_done()) as self.bar:
                try:
                    for result in dispatcher.run(work):
                        self.merged_seq = self.journal.append(result)
                        self.merge(result)
                        self.bar.update(len(result.jobs))
                        if time.monotonic() - last_flush > FLUSH_SECONDS:
                            self.flush()
                            last_flush = time.monotonic()
                except (KeyboardInterrupt, CrustgfError):
                    raise
                except Exception as exc:
                    self.flush()
                    raise CrustgfError(f"solve failed ({type(exc).__name__}: {exc}); "
                                       f"finished solves are saved in {self.out_path}") from exc
                finally:
                    self.bar = None

    def merge(self, result, report: bool = True) -> None:
        self.states[result.structure].merge(result.jobs, result.displacement, result.residual,
                                            result.iterations, result.converged)
        if not report:
            return
        for (sf, comp), res, its, ok in zip(result.jobs, result.residual, result.iterations, result.converged):
            if not ok:
                self.report_failure(result.structure, int(sf), int(comp), float(res), int(its))

    def report_failure(self, structure: int, sf: int, comp: int, residual: float, iterations: int) -> None:
        where = "" if structure == 0 else f" (variant {self.header.structures[structure].name})"
        line = (f"not converged: subfault {sf} {COMPONENT_NAMES[comp]}{where}: residual {residual:.3e} "
                f"> rtol {self.opts['rtol']:.1e} after {iterations} iterations; left out (done = false)")
        self.failed.append(line)
        self.say(line, always=True)

    def catch_up(self) -> None:
        """Re-merge the journal entries an interrupt may have cut off: one appended but not yet
        merged, or merged half way (done set, displacement not). Merging is idempotent."""
        for seq, result in self.journal.read():
            if seq >= self.merged_seq:
                self.merge(result, report=False)
                self.merged_seq = seq

    def flush(self) -> None:
        """Rewrite the GF file atomically from memory; then drop the journal entries it holds."""
        write_gf_file(self.out_path, self.header, self.states)
        self.journal.prune(self.merged_seq)

    def finish(self) -> int:
        missing = self.total - self.n_done()
        if missing:
            self.say(f"{missing} of {self.total} solves not done (not converged); their Green's functions "
                     f"are NaN with done = false in {self.out_path}. Re-run with a larger --max-iterations "
                     f"or --method direct to retry them.", always=True)
            return EXIT_NOT_CONVERGED
        self.say(f"wrote {self.out_path}: {self.total} solves done")
        return 0

    bar = None

    def say(self, message: str, always: bool = False) -> None:
        if not (always or self.progress):
            return
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, file=sys.stderr, flush=True)


class _owner_lock:
    """One solve per output at a time: OUT.journal/owner.pid; a dead owner's lock is taken over."""

    def __init__(self, folder: Path, out_path: Path):
        self.path = Path(folder) / "owner.pid"
        self.out_path = out_path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                owner = _read_pid(self.path)
                if owner is not None and owner != os.getpid() and _pid_alive(owner):
                    raise CrustgfError(f"-o {self.out_path}: another crustgf solve (pid {owner}) is writing it")
                self.path.unlink(missing_ok=True)
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return self
        raise CrustgfError(f"-o {self.out_path}: cannot take the lock {self.path}")

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()  # only when empty (the journal was removed or never used)
        except OSError:
            pass


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _sigterm_as_interrupt:
    """SIGTERM (batch schedulers, `kill`) is handled like Ctrl-C: save and exit cleanly."""

    def __enter__(self):
        self._old = None
        if _in_main_thread():
            self._old = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
