"""The viscoelastic keys of a config (SPEC section 6), read from the raw TOML data.

    [[layers]] / [[plate_layers]]  viscosity = 1e19     Pa s (Maxwell; absent: elastic)
    [viscoelastic] times = [0.0, 0.5, 1.0, 5.0]         years (365.25 days), >= 0, increasing
    [viscoelastic] steps_per_tau = 4                    optional: time steps per shortest tau

One reader for both places that need it: `load_config` (problems reported with the others, key
paths as in the file) and `crustgf solve` (from the config text stored in the model file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

YEAR = 365.25 * 86400.0  # s (Julian year)
DEFAULT_STEPS_PER_TAU = 4
VISCOELASTIC_KEYS = ("times", "steps_per_tau")


@dataclass
class ViscoelasticOptions:
    viscosity: dict  # layer name -> Pa s (only the viscous layers)
    times: np.ndarray  # (n_times,) s, increasing, >= 0
    steps_per_tau: int = DEFAULT_STEPS_PER_TAU


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def read_viscoelastic(data: dict) -> tuple[ViscoelasticOptions | None, list[str]]:
    """(options or None when the model is elastic, problems as `key.path: what is wrong`)."""
    problems: list[str] = []
    viscosity, given = {}, False
    for table in ("layers", "plate_layers"):
        entries = data.get(table, [])
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or "viscosity" not in entry:
                continue
            given = True
            v, where = entry["viscosity"], f"{table}[{i}].viscosity"
            if not _number(v):
                problems.append(f"{where}: must be a finite number (Pa s), got {v!r}")
            elif v <= 0:
                problems.append(f"{where}: must be > 0 (Pa s), got {v!r}")
            else:
                viscosity[str(entry.get("name", f"{table}[{i}]"))] = float(v)
    sec = data.get("viscoelastic")
    if sec is None:
        if viscosity and not problems:
            problems.append(f"viscoelastic.times: missing; layers {', '.join(viscosity)} have a viscosity, "
                            "so give the output times in years ([viscoelastic] times = [0.0, 1.0, ...])")
        return None, problems
    if not isinstance(sec, dict):
        return None, problems + ["viscoelastic: must be a table"]
    for key in sec:
        if key not in VISCOELASTIC_KEYS:
            problems.append(f"viscoelastic.{key}: unknown key (allowed here: {', '.join(VISCOELASTIC_KEYS)})")
    times = sec.get("times")
    if times is None:
        problems.append("viscoelastic.times: missing required key")
    elif not (isinstance(times, list) and times and all(_number(t) for t in times)):
        problems.append(f"viscoelastic.times: must be a non-empty array of numbers (years), got {times!r}")
        times = None
    elif any(t < 0 for t in times):
        problems.append(f"viscoelastic.times: must be >= 0 (years after the slip), got {times!r}")
        times = None
    elif any(b <= a for a, b in pairwise(times)):
        problems.append(f"viscoelastic.times: must be strictly increasing, got {times!r}")
        times = None
    steps = sec.get("steps_per_tau", DEFAULT_STEPS_PER_TAU)
    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1):
        problems.append(f"viscoelastic.steps_per_tau: must be an integer >= 1, got {steps!r}")
    if not given:
        problems.append("viscoelastic: a history is requested but no layer has a viscosity "
                        "(add viscosity = ... (Pa s) to a [[layers]] or [[plate_layers]] table)")
    if problems:
        return None, problems
    return ViscoelasticOptions(viscosity, np.asarray(times, dtype=np.float64) * YEAR, steps), []


def viscoelastic_of_config_text(text: str) -> ViscoelasticOptions | None:
    """The options of a stored config text (None: elastic); CrustgfError on a bad key."""
    from crustgf.core.errors import CrustgfError

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as exc:
        raise CrustgfError(f"model config: stored config is not valid TOML ({exc})") from None
    options, problems = read_viscoelastic(data)
    if problems:
        raise CrustgfError(f"model config: {problems[0]}")
    return options
