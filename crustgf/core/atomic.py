"""Atomic file writes, and the one guard that keeps a command from writing over what it read.

Every output goes through `atomic_path` (or `atomic_open`/`save_npz` built on it): it is written
to a unique temporary file beside the target, fsynced and renamed over the target with
os.replace, so no half-written output remains. Before that, `check_target` refuses a target that
is one of the command's inputs (registered with `declare_inputs`) or another of its outputs
(registered with `declare_outputs`), compared both by resolved path and by identity (the same
file reached through another name: a symlink, a hard link, `./x` vs `x`). Commands declare their
inputs and outputs up front, so a clash is refused before anything is written; the check in the
writer itself catches any write a command forgot to declare.

An OSError while writing (disk full, read-only file system, no permission) becomes one
CrustgfError naming the target and what to do (`os_error_message`).
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

# --- the guard -------------------------------------------------------------------------------

# label (the path as given) -> path. Identities are looked up when compared, never kept: a file
# this command replaces (rename over it) frees its inode, which a later output may then reuse.
_inputs: dict[str, Path] = {}
_outputs: dict[str, Path] = {}


def _identity(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _key(path) -> tuple[Path, tuple | None]:
    path = Path(path).expanduser()
    return Path(os.path.realpath(path)), _identity(path)


def _same(a: tuple[Path, tuple | None], b: tuple[Path, tuple | None]) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


_depth = [0]


def reset_guard() -> None:
    """Forget every declared path."""
    _inputs.clear()
    _outputs.clear()


@contextmanager
def command_scope(inputs=(), outputs=(), option: str = "-o"):
    """The span of one command: the inputs and outputs declared in it (here or by the code it
    calls) are forgotten at its end; a command inside another (`run` calls `mesh`) shares them."""
    if _depth[0] == 0:
        reset_guard()
    _depth[0] += 1
    try:
        declare_inputs(*inputs)
        if outputs:
            declare_outputs(*outputs, option=option)
        yield
    finally:
        _depth[0] -= 1
        if _depth[0] == 0:
            reset_guard()


def guarded(fn):
    """Decorator: run a command's library entry point inside a command_scope."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with command_scope():
            return fn(*args, **kwargs)

    return wrapper


def declare_inputs(*paths) -> None:
    """Files (or folders) this command reads: no output may be written over them."""
    for p in paths:
        if p is not None:
            _inputs[str(p)] = Path(p)


def declare_outputs(*paths, option: str = "-o") -> None:
    """Files this command will write: each is checked against the inputs and the other outputs now,
    before anything is written; CrustgfError on a clash."""
    from crustgf.core.errors import CrustgfError

    seen: list[tuple[str, tuple]] = []
    for p in paths:
        key = _key(p)
        for label, other in _inputs.items():
            if _same(key, _key(other)):
                raise CrustgfError(f"{option} {p}: is the input {label}; it would be overwritten; "
                                   "write the output to another file")
        earlier = [(lb, _key(q)) for lb, q in _outputs.items() if lb != str(p)] + seen
        for label, other in earlier:
            if _same(key, other):
                raise CrustgfError(f"{option} {p}: is also the output {label} of this command; "
                                   "use another name")
        seen.append((str(p), key))
    for label, _ in seen:
        _outputs[label] = Path(label)


def check_target(path) -> None:
    """Refuse to write `path` when it is a declared input, or the same file as another output."""
    from crustgf.core.errors import CrustgfError

    key = _key(path)
    for label, other in _inputs.items():
        if _same(key, _key(other)):
            raise CrustgfError(f"{path}: is the input {label}; refusing to overwrite it")
    for label, other in _outputs.items():
        now = _key(other)
        if now[0] != key[0] and key[1] is not None and key[1] == now[1]:
            raise CrustgfError(f"{path}: is the same file as the output {label}; refusing to overwrite it")


def check_output_folder(path, option: str = "-o") -> None:
    """The folder of an output must exist and be writable (checked before any work starts)."""
    from crustgf.core.errors import CrustgfError

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CrustgfError(f"{option} {path}: folder {folder} does not exist")
    if path.is_dir():
        raise CrustgfError(f"{option} {path}: is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise CrustgfError(f"{option} {path}: folder {folder} is not writable; write the output elsewhere")


# --- OS errors -------------------------------------------------------------------------------

_HINTS = {
    errno.ENOSPC: "disk full (no space left on device); free some space or write to another disk",
    errno.EDQUOT: "disk quota exceeded; free some space or write to another disk",
    errno.EROFS: "read-only file system; write the output to a writable folder",
    errno.EACCES: "permission denied; write the output to a folder you can write to",
    errno.EPERM: "operation not permitted; write the output to a folder you can write to",
}


def os_error_message(path, exc: OSError) -> str:
    """One line naming `path`, what went wrong and what to do."""
    code = exc.errno
    if code is None:  # h5py puts the errno only in its text
        text = str(exc)
        for c, word in ((errno.ENOSPC, "No space left"), (errno.EROFS, "Read-only file system"),
                        (errno.EACCES, "Permission denied"), (errno.EDQUOT, "quota")):
            if word in text:
                code = c
                break
    hint = _HINTS.get(code)
    if hint is None:
        hint = f"{exc.strerror or exc}"
    return f"{path}: {hint}" if str(path) else hint


# --- writers ---------------------------------------------------------------------------------

def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path, fsync: bool = True):
    """Yield a unique temporary path beside `path`; when the block succeeds, fsync it and rename it
    over `path` (then fsync the folder); on any error it is removed and `path` is untouched."""
    from crustgf.core.errors import CrustgfError

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CrustgfError(f"{path}: folder {folder} does not exist")
    check_target(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise CrustgfError(os_error_message(path, exc)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the permissions open() would
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CrustgfError(os_error_message(path, exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(folder)


@contextmanager
def atomic_open(path, mode: str = "w", **kwargs):
    """Open a temporary file in the target's folder; on success it replaces `path`, on error it goes."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh


def save_npz(path, arrays: dict) -> None:
    """np.savez_compressed to exactly `path` (no '.npz' appended), atomically."""
    import numpy as np

    with atomic_open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
