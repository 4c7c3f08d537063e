"""One writer per output: a lock file holding its owner (pid, host, process start time, a token).

- Created atomically: the content is written to a private file first and hard-linked to the lock
  name (os.link fails when the name exists), so the lock never exists empty or half-written;
  where hard links are not supported, O_CREAT | O_EXCL is used.
- A lock whose owner is gone is taken over: same host, and the pid is not running or is running
  a process started at another time (the pid was reused). A lock from another host is never
  judged from here: the message says which host holds it and how to remove it.
- Taking over and releasing happen under an flock on the lock's folder (released by the kernel
  if we die), after re-reading the lock: two processes that both found it stale cannot both take
  it, and nobody removes a lock that is not the one it examined, or not its own.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from crustgf.core.errors import CrustgfError

# test hook: seconds to sleep between finding a lock stale and taking it over (widens the race)
TAKEOVER_DELAY_ENV = "CRUSTGF_TEST_LOCK_TAKEOVER_DELAY"


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot, /proc/PID/stat field 22), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_alive(owner: dict) -> bool | None:
    """True/False for an owner on this host; None when it is on another host (cannot tell)."""
    if owner.get("host") != socket.gethostname():
        return None
    pid = owner.get("pid")
    if not isinstance(pid, int) or not _pid_running(pid):
        return False
    started = process_start_time(pid)
    return started is None or owner.get("start_time") in (None, started)


@contextmanager
def _folder_mutex(folder: Path):
    """flock on the folder: serialises takeovers and releases (best effort where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # releases the flock


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: treated as an unknown owner
    return data if isinstance(data, dict) else {}


class OwnerLock:
    """`with OwnerLock(path, what):` holds the lock file `path` for the block."""

    def __init__(self, path: Path, what: str):
        self.path = Path(path)
        self.what = what
        self.me = {"pid": os.getpid(), "host": socket.gethostname(),
                   "start_time": process_start_time(os.getpid()), "token": uuid.uuid4().hex,
                   "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        self.took_over: dict | None = None

    def _create(self) -> bool:
        """Create the lock with our content; False when it exists."""
        text = json.dumps(self.me)
        tmp = self.path.with_name(f".{self.path.name}.{self.me['token']}")
        tmp.write_text(text)
        try:
            os.link(tmp, self.path)
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links here: exclusive create, content written right after
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def _busy(self, owner: dict) -> CrustgfError:
        if owner.get("host") != socket.gethostname():
            return CrustgfError(
                f"{self.what}: locked by pid {owner.get('pid')} on host {owner.get('host')} since "
                f"{owner.get('since')}; if no crustgf runs there any more, delete {self.path}")
        return CrustgfError(f"{self.what}: another crustgf process (pid {owner.get('pid')}, since "
                            f"{owner.get('since')}) is writing it")

    def acquire(self) -> "OwnerLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if self._create():
                return self
            owner = _read(self.path)
            if owner is None:
                continue  # released meanwhile: try again
            alive = owner_alive(owner) if owner else False
            if alive is None or alive:
                raise self._busy(owner)
            delay = float(os.environ.get(TAKEOVER_DELAY_ENV, "0") or 0)
            if delay:
                time.sleep(delay)
            with _folder_mutex(self.path.parent):
                if _read(self.path) != owner:
                    continue  # someone else took it over (or released it) meanwhile: look again
                self.path.unlink(missing_ok=True)
                self.took_over = owner
                if self._create():
                    return self
        raise CrustgfError(f"{self.what}: cannot take the lock {self.path}; try again")

    def release(self) -> None:
        """Remove the lock only if it is still ours."""
        with _folder_mutex(self.path.parent):
            owner = _read(self.path)
            if owner is not None and owner.get("token") == self.me["token"]:
                self.path.unlink(missing_ok=True)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
