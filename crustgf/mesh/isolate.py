"""Run the gmsh stage in a fresh Python process, so that a crash inside gmsh/OpenCASCADE (a
segfault on degenerate geometry) becomes a user error instead of killing crustgf.

A fresh interpreter (`python -c ... IN OUT` running `_child`), not a fork: gmsh uses OpenMP, and
GNU OpenMP hangs in a forked child once the parent has used it. The call (function, arguments)
goes in as a pickle file, the result comes back as one; the child reports progress stages as
lines on its stdout (gmsh's own terminal output is moved to stderr). A child killed by a signal
is reported as a CrustgfError naming the signal. Functions must be importable module-level ones.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from crustgf.core.errors import CrustgfError

CRASH_HINT = ("the fault patches may be degenerate or cross each other; try a smaller mesh.size_fault, "
              "a larger fault.subfault_size or a simpler fault.outline")


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _child_env() -> dict:
    """The environment, with the directory holding the crustgf package first on PYTHONPATH."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def call_isolated(fn, *args, step=lambda name: None, what: str = "mesh"):
    """fn(*args, step=...) in a child Python; returns its result, re-raises its CrustgfError."""
    with tempfile.TemporaryDirectory(prefix="crustgf-mesh-") as tmp:
        inp, out = Path(tmp) / "call.pkl", Path(tmp) / "result.pkl"
        with open(inp, "wb") as f:
            pickle.dump(list(sys.path), f)  # first, so that the child can import fn's module
            pickle.dump((fn, args), f, protocol=pickle.HIGHEST_PROTOCOL)
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(inp), str(out)],
                                stdout=subprocess.PIPE, text=True, env=_child_env())
        try:
            for line in proc.stdout:
                step(line.rstrip("\n"))
            proc.wait()
        except BaseException:  # e.g. KeyboardInterrupt: never leave the child behind
            proc.kill()
            proc.wait()
            raise
        if not out.exists():
            raise CrustgfError(f"{what}: gmsh crashed ({_how_it_ended(proc.returncode)}); {CRASH_HINT}")
        with open(out, "rb") as f:
            kind, value = pickle.load(f)
    if kind == "ok":
        return value
    if kind == "user":
        raise CrustgfError(value)
    raise RuntimeError(f"{what}: error in the meshing process:\n{value}")


def _child(inp: str, out: str) -> None:
    progress = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # gmsh's terminal output and any prints go to stderr
    with open(inp, "rb") as f:
        sys.path[:] = pickle.load(f)
        fn, args = pickle.load(f)

    def step(name: str) -> None:
        progress.write(f"{name}\n")

    try:
        result = ("ok", fn(*args, step=step))
    except CrustgfError as exc:
        result = ("user", str(exc))
    except BaseException:  # a bug: hand the traceback to the parent
        import traceback

        result = ("bug", traceback.format_exc())
    tmp = out + ".part"
    with open(tmp, "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, out)  # only a complete result counts


_CHILD = "import sys; from crustgf.mesh.isolate import _child; _child(sys.argv[1], sys.argv[2])"
