"""Run the gmsh stage in a fresh Python process, so that a crash inside gmsh/OpenCASCADE (a
segfault on degenerate geometry) becomes a user error instead of killing crustgf.

A fresh interpreter (`python -c ... PARENT_PID` running `_child`), not a fork: gmsh uses OpenMP,
and GNU OpenMP hangs in a forked child once the parent has used it. The call (function,
arguments) goes in as a pickle on the child's stdin; the child reports progress stages as lines
on its stdout, then the result as a marker line, an 8-byte length and a pickle (gmsh's own
terminal output is moved to stderr). No temporary files, so nothing is left behind by a kill.

The child never outlives crustgf: it asks the kernel to SIGKILL it when its parent dies
(prctl PR_SET_PDEATHSIG on Linux: a SIGKILLed crustgf takes gmsh with it), runs in its own
session (a Ctrl-C reaches crustgf, which then kills the child), and crustgf turns SIGTERM into
the same clean stop. A child killed by a signal is reported as a CrustgfError naming the signal.
Functions must be importable module-level ones.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path

from crustgf.core.errors import CrustgfError

CRASH_HINT = ("the fault patches may be degenerate or cross each other; try a smaller mesh.size_fault, "
              "a larger fault.subfault_size or a simpler fault.outline")
RESULT_MARK = b"\x00crustgf-result\n"
PR_SET_PDEATHSIG = 1


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


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


class _sigterm_stops:
    """SIGTERM during the call raises KeyboardInterrupt (so the child is killed), main thread only."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


def call_isolated(fn, *args, step=lambda name: None, what: str = "mesh"):
    """fn(*args, step=...) in a child Python; returns its result, re-raises its CrustgfError."""
    payload = pickle.dumps(list(sys.path)) + pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
    result = None
    with _sigterm_stops():
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(os.getpid())], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=_child_env(), start_new_session=True)
        try:
            try:
                proc.stdin.write(payload)  # the child reads all of it before it writes anything
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the child died at once: reported below
            for line in iter(proc.stdout.readline, b""):
                if line == RESULT_MARK:
                    size = int.from_bytes(proc.stdout.read(8), "little")
                    blob = proc.stdout.read(size)
                    if len(blob) == size:  # only a complete result counts
                        result = pickle.loads(blob)
                    break
                step(line.decode(errors="replace").rstrip("\n"))
            proc.stdout.read()
            proc.wait()
        except BaseException:  # e.g. KeyboardInterrupt or SIGTERM: never leave the child behind
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
    if result is None:
        raise CrustgfError(f"{what}: gmsh crashed ({_how_it_ended(proc.returncode)}); {CRASH_HINT}")
    kind, value = result
    if kind == "ok":
        return value
    if kind == "user":
        raise CrustgfError(value)
    raise RuntimeError(f"{what}: error in the meshing process:\n{value}")


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _child(parent_pid: str) -> None:
    _die_with_parent(int(parent_pid))
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # gmsh's terminal output and any prints go to stderr
    sys.path[:] = pickle.load(sys.stdin.buffer)
    fn, args = pickle.load(sys.stdin.buffer)

    def step(name: str) -> None:
        out.write(f"{name}\n".encode())
        out.flush()

    try:
        result = ("ok", fn(*args, step=step))
    except CrustgfError as exc:
        result = ("user", str(exc))
    except BaseException:  # a bug: hand the traceback to the parent
        import traceback

        result = ("bug", traceback.format_exc())
    blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(RESULT_MARK + len(blob).to_bytes(8, "little") + blob)
    out.close()


_CHILD = "import sys; from crustgf.mesh.isolate import _child; _child(sys.argv[1])"
