"""Run the gmsh stage in a child process, so that a crash inside gmsh/OpenCASCADE (a segfault on
degenerate geometry) becomes a user error instead of killing crustgf.

The child (forked, so nothing is re-imported) reports progress stages and the result through a
pipe; a child killed by a signal is reported as a CrustgfError naming the signal. Where fork is
unavailable the function runs in-process.
"""

from __future__ import annotations

import multiprocessing
import signal
import traceback

from ..errors import CrustgfError

CRASH_HINT = ("the fault patches may be degenerate or cross each other; try a smaller mesh.size_fault, "
              "a larger fault.subfault_size or a simpler fault.outline")


def _child(conn, fn, args) -> None:
    try:
        value = fn(*args, step=lambda name: conn.send(("step", name)))
        conn.send(("ok", value))
    except CrustgfError as exc:
        conn.send(("user", str(exc)))
    except BaseException as exc:  # a bug: hand the traceback to the parent
        conn.send(("bug", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def call_isolated(fn, *args, step=lambda name: None, what: str = "mesh"):
    """fn(*args, step=...) in a forked child; returns its result, re-raises its CrustgfError."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return fn(*args, step=step)
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    proc.start()
    send.close()
    try:
        while True:
            try:
                kind, value = recv.recv()
            except EOFError:  # the child died without a word
                proc.join()
                raise CrustgfError(f"{what}: gmsh crashed ({_how_it_ended(proc.exitcode)}); {CRASH_HINT}") from None
            if kind == "step":
                step(value)
            elif kind == "ok":
                return value
            elif kind == "user":
                raise CrustgfError(value)
            else:
                raise RuntimeError(f"{what}: error in the meshing process: {value}")
    finally:
        recv.close()
        if proc.is_alive():
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        proc.join()
