"""The solve's options and the checks that need no output yet: defaults < config [solver] <
command line, a usable GPU for --backend cuda, a reachable --scheduler, a sound model."""

from __future__ import annotations

from dataclasses import asdict

from crustgf.config.schema import BACKENDS, METHODS, SolverOptions
from crustgf.config.variants import solver_table_from_config_text
from crustgf.core.errors import CrustgfError

_CHOICES = {"backend": BACKENDS, "method": METHODS}


def check_model_values(model, path) -> None:
    """Finite node coordinates and finite, positive material values (a damaged or hand-made model)."""
    import numpy as np

    t = model.layers
    if not np.all(np.isfinite(model.nodes)):
        n = int((~np.isfinite(model.nodes)).any(axis=1).sum())
        raise CrustgfError(f"{path}: {n} mesh nodes have coordinates that are not finite numbers (NaN or "
                           "inf); rebuild the model (crustgf mesh CONFIG -o MODEL)")
    for name in ("vp", "vs", "density"):
        v = np.asarray(getattr(t, name), dtype=float)
        if not np.all(np.isfinite(v) & (v > 0)):
            raise CrustgfError(f"{path}: layer {name} values {v.tolist()} are not all finite and > 0; "
                               "rebuild the model (crustgf mesh CONFIG -o MODEL)")


def check_solve_options(config_text: str, cli_options: dict) -> dict:
    """resolve_options, then what can be checked before any output exists: a CUDA GPU for
    --backend cuda (when solving here), a reachable --scheduler."""
    opts = resolve_options(config_text, cli_options)
    if opts["scheduler"] is not None:
        from crustgf.greens.dispatch.dask import check_scheduler_address

        check_scheduler_address(opts["scheduler"])
    elif opts["backend"] == "cuda":
        from crustgf.solvers.backend import resolve_backend

        resolve_backend("cuda")  # CrustgfError naming the reason when no GPU is usable
    return opts


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
