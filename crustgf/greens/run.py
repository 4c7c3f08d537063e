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

import json
import signal
import sys
import time
from pathlib import Path

from crustgf.config.variants import apply_variant, variants_from_config_text
from crustgf.core.atomic import check_output_folder, declare_inputs, declare_outputs, guarded
from crustgf.core.errors import CrustgfError
from crustgf.core.progress import Progress
from crustgf.greens.dispatch import SolverSpec, make_tasks, open_dispatcher
from crustgf.greens.dispatch import worker as worker_state
from crustgf.greens.journal import Journal, journal_path
from crustgf.greens.options import check_model_values, check_solve_options
from crustgf.io.gffile import (
    SolveState,
    Structure,
    header_from_model,
    read_solve_options,
    read_solve_states,
    read_solver_attrs,
    write_gf_file,
)

FLUSH_SECONDS = 30.0
EXIT_NOT_CONVERGED = 2
EXIT_INTERRUPTED = 130
COMPONENT_NAMES = ("strike-slip", "dip-slip")


@guarded
def solve_greens_functions(model_path, out_path, options: dict, progress: bool = True) -> int:
    """Solve every missing (structure, subfault, component) of MODEL into OUT; return the exit status.

    Options, output folder and model values are all checked before anything is written."""
    from crustgf.io.modelfile import file_sha256, read_model

    model_path, out_path = Path(model_path).resolve(), Path(out_path)
    check_paths(model_path, out_path)
    model = read_model(model_path)
    check_model_values(model, model_path)
    opts = check_solve_options(model.config_text, options)
    if opts["backend"] != "cuda":  # before any output: a method that cannot run on this model
        from crustgf.solvers.choose import check_method

        check_method(opts["method"], model.cells)
    sha = file_sha256(model_path)
    structures = structures_of(model)
    header = header_from_model(model, sha, structures)
    header.solve_options = json.dumps({k: opts[k] for k in ("backend", "method", "rtol")})
    header.extras = _extra_specs(opts, model)
    worker_state.remember_model(str(model_path), sha, model)  # in-process runs reuse it
    specs = [SolverSpec(str(model_path), sha, i, None if i == 0 else s.layers, _options_key(opts))
             for i, s in enumerate(structures)]
    specs[0] = _viscoelastic_spec(model, header, specs[0], opts)
    try:
        return SolveRun(out_path, header, specs, opts, progress).execute()
    finally:
        worker_state.clear_cache()  # in-process solvers: free the operator once the file is written


def _viscoelastic_spec(model, header, spec: SolverSpec, opts: dict) -> SolverSpec:
    """A model with viscous layers: the reference structure gets its history (viscoelastic.py)."""
    from dataclasses import replace

    from crustgf.config.viscoelastic import viscoelastic_of_config_text

    options = viscoelastic_of_config_text(model.config_text)
    if options is None:
        return spec
    from crustgf.greens.viscoelastic import check_backend

    check_backend(opts["backend"])
    header.history_times = options.times
    return replace(spec, factory="crustgf.greens.viscoelastic:build_viscoelastic_solver")


def check_paths(model_path: Path, out_path: Path) -> None:
    if not model_path.is_file():
        raise CrustgfError(f"{model_path}: no such model file")
    declare_inputs(model_path, model_path.with_suffix(".xdmf"))
    check_output_folder(out_path)
    declare_outputs(out_path, journal_path(out_path))


def structures_of(model) -> list[Structure]:
    """The reference structure (the model's layers) and one per config variant, in config order."""
    structures = [Structure("reference", model.layers)]
    for variant in variants_from_config_text(model.config_text):
        structures.append(Structure(variant.name, apply_variant(model.layers, variant)))
    return structures


def _options_key(opts: dict) -> tuple:
    keys = ("backend", "method", "rtol", "max_iterations", "batch", "traction", "sensitivity")
    return tuple(sorted((k, opts[k]) for k in keys))


def _extra_specs(opts: dict, model) -> list:
    """SPEC 6 extras (traction, sensitivity kernels); checks the layer names (opts updated)."""
    from crustgf.greens.extras import extra_specs
    from crustgf.greens.sensitivity import resolve_layers

    opts["traction"] = bool(opts.get("traction"))
    opts["sensitivity"] = resolve_layers(opts.get("sensitivity"), model.layers.name)
    return extra_specs(opts["traction"], opts["sensitivity"], len(model.station_names), model.n_subfaults)


def _with_n_solves(spec: SolverSpec, n: int) -> SolverSpec:
    """spec with the number of GFs asked of its structure in this run (method = "auto" amortises a
    factorisation over them, solvers/choose.py)."""
    from dataclasses import replace

    return replace(spec, options=tuple(sorted(dict(spec.options, n_solves=n).items())))


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
        self.solver_attrs: dict[str, str] = {}  # which backend/method ran: root attrs of the GF file

    @property
    def total(self) -> int:
        return 2 * self.header.n_subfaults * len(self.header.structures)

    def n_done(self) -> int:
        return sum(s.n_done for s in self.states)

    def execute(self) -> int:
        with _owner_lock(self.journal.folder, self.out_path), _sigterm_as_interrupt():
            self.resume()
            work = [(_with_n_solves(self.specs[i], len(state.missing())), task)
                    for i, state in enumerate(self.states)
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
            self.solver_attrs = read_solver_attrs(self.out_path)
        else:
            self.states = [SolveState.empty(h.n_stations, h.n_subfaults, h.extras,
                                            None if i or h.history_times is None else len(h.history_times))
                           for i in range(len(h.structures))]
        for seq, result in self.journal.read():
            self.merge(result, report=False)
            self.merged_seq = seq
        for path, why in self.journal.damaged:
            self.say(f"journal entry {path} is damaged ({why}); removed, its solves are done again",
                     always=True)
        self.forget_stale()
        self.flush()
        done = self.n_done()
        if done:
            self.say(f"resuming {self.out_path}: {done} of {self.total} solves already done")

    def forget_stale(self) -> None:
        """Done solves whose residual is above this run's rtol are solved again; done solves of
        another method are kept, and the message says how to redo them."""
        import numpy as np

        rtol = self.opts["rtol"]
        n_loose = 0
        for state in self.states:
            loose = state.done & ~(state.residual <= rtol)
            n_loose += int(loose.sum())
            state.done[loose] = False
            state.displacement[:, :, loose] = np.nan
        if n_loose:
            self.say(f"{n_loose} solves in {self.out_path} have residuals above --rtol {rtol:.1e}; "
                     "solving them again", always=True)
        before = read_solve_options(self.out_path) if self.out_path.exists() else {}
        method = before.get("method")
        if method is not None and method != self.opts["method"] and self.n_done():
            self.say(f"note: the {self.n_done()} solves already done in {self.out_path} used --method "
                     f"{method}; only the missing ones use {self.opts['method']}. To redo all with "
                     f"{self.opts['method']}, move {self.out_path} away and run again", always=True)

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
                    from crustgf.core.atomic import os_error_message

                    saved = self.try_flush()
                    what = (os_error_message(self.journal.folder, exc) if isinstance(exc, OSError)
                            else f"solve failed ({type(exc).__name__}: {exc})")
                    raise CrustgfError(f"{what}; finished solves are saved in {saved}; run the same "
                                       "command again to resume") from exc
                finally:
                    self.bar = None

    def merge(self, result, report: bool = True) -> None:
        self.states[result.structure].merge(result.jobs, result.displacement, result.residual,
                                            result.iterations, result.converged, result.extras, result.history)
        for key, value in (("solver_backend", result.backend), ("solver_method", result.method)):
            seen = [v for v in self.solver_attrs.get(key, "").split(", ") if v]
            if value and value not in seen:  # a resumed run may have used another method
                self.solver_attrs[key] = ", ".join(seen + [value])
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

    def try_flush(self) -> Path:
        """Flush if the disk lets us; where the finished solves are now (the file or the journal)."""
        try:
            self.flush()
        except CrustgfError:
            return self.journal.folder
        return self.out_path

    def flush(self) -> None:
        """Rewrite the GF file atomically from memory; then drop the journal entries it holds."""
        write_gf_file(self.out_path, self.header, self.states, self.solver_attrs)
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
    """One solve per output at a time: OUT.journal/owner.lock (crustgf/greens/lock.py); the journal folder
    goes when the lock does, if it is empty."""

    def __init__(self, folder: Path, out_path: Path):
        from crustgf.greens.lock import OwnerLock

        self.lock = OwnerLock(Path(folder) / "owner.lock", f"-o {out_path}")

    def __enter__(self):
        self.lock.acquire()
        if self.lock.took_over is not None:
            o = self.lock.took_over
            print(f"note: took over the lock of pid {o.get('pid')} (since {o.get('since')}), which is no "
                  "longer running", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc) -> None:
        self.lock.release()
        try:
            self.lock.path.parent.rmdir()  # only when empty (the journal was removed or never used)
        except OSError:
            pass


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
