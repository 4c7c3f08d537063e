"""Collecting config problems and typed access to TOML tables: every problem reported, with its key path."""

from __future__ import annotations

import math
from pathlib import Path

from crustgf.core.errors import CrustgfError

# --- the problem collector and typed access to TOML tables ---------------------------------------


class _Checker:
    def __init__(self):
        self.problems: list[str] = []
        self.files: list[Path] = []  # every file the config names (inputs; hashed for staleness)

    def add(self, path: str, message: str) -> None:
        message = " ".join(message.split())  # one line, whatever a file or library said
        self.problems.append(f"{path}: {message}" if path else message)

    def require(self, ok: bool, path: str, message: str) -> bool:
        if not ok:
            self.add(path, message)
        return ok


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(v) -> str:
    """A value as the user wrote it (TOML-ish), for messages."""
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def _kind(v) -> str:
    for t, name in ((bool, "a boolean"), (str, "a string"), (int, "an integer"), (float, "a number"),
                    (dict, "a table"), (list, "an array")):
        if isinstance(v, t):
            return name
    return type(v).__name__


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Section:
    """One TOML table at a key path: typed getters that report problems and return None."""

    def __init__(self, ck: _Checker, data: dict, path: str, allowed: tuple[str, ...]):
        self.ck, self.data, self.path = ck, data, path
        for key in data:
            if key not in allowed:
                ck.add(_join(path, key), f"unknown key (allowed here: {', '.join(allowed)})")

    def at(self, key: str) -> str:
        return _join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, required: bool):
        if key not in self.data:
            if required:
                self.ck.add(self.at(key), "missing required key")
            return None
        return self.data[key]

    def number(self, key, required=True, default=None):
        v = self.raw(key, required)
        if v is None:
            return default
        if not _is_number(v):
            self.ck.add(self.at(key), f"must be a number, got {_kind(v)} {_show(v)}")
            return None
        if not math.isfinite(v):
            self.ck.add(self.at(key), f"must be a finite number, got {_show(v)}")
            return None
        return float(v)

    def integer(self, key, required=True, default=None):
        v = self.raw(key, required)
        if v is None:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            self.ck.add(self.at(key), f"must be an integer, got {_kind(v)} {_show(v)}")
            return None
        return v

    def string(self, key, required=True, default=None, choices=None):
        v = self.raw(key, required)
        if v is None:
            return default
        if not isinstance(v, str):
            self.ck.add(self.at(key), f"must be a string, got {_kind(v)} {_show(v)}")
            return None
        if choices is not None and v not in choices:
            self.ck.add(self.at(key), f"must be one of {', '.join(choices)}; got {_show(v)}")
            return None
        if choices is None and not v.strip():
            self.ck.add(self.at(key), "must not be empty")
            return None
        return v

    def numbers(self, key, n, required=True):
        """An array of exactly n numbers, as a tuple of floats."""
        v = self.raw(key, required)
        if v is None:
            return None
        if not (isinstance(v, list) and len(v) == n and all(_is_number(x) for x in v)):
            self.ck.add(self.at(key), f"must be an array of {n} numbers, got {_show(v)}")
            return None
        if not all(math.isfinite(x) for x in v):
            self.ck.add(self.at(key), f"must hold finite numbers, got {_show(v)}")
            return None
        return tuple(float(x) for x in v)

    def table(self, key, allowed, required=True):
        v = self.raw(key, required)
        if v is None:
            return None
        if not isinstance(v, dict):
            self.ck.add(self.at(key), f"must be a table, got {_kind(v)} {_show(v)}")
            return None
        return _Section(self.ck, v, self.at(key), allowed)

    def tables(self, key, allowed, required=True):
        """An array of tables ([[key]]), as sections layers[0], layers[1], ..."""
        v = self.raw(key, required)
        if v is None:
            return None
        if not (isinstance(v, list) and all(isinstance(x, dict) for x in v)):
            self.ck.add(self.at(key), f"must be an array of tables ([[{key}]]), got {_kind(v)}")
            return None
        if not v and required:
            self.ck.add(self.at(key), "must not be empty")
            return None
        return [_Section(self.ck, x, f"{self.at(key)}[{i}]", allowed) for i, x in enumerate(v)]


def _positive(ck, sec, key, value) -> bool:
    return value is not None and ck.require(value > 0, sec.at(key), f"must be > 0, got {_show(value)}")


def _increasing(ck, sec, key, pair) -> bool:
    return pair is not None and ck.require(pair[1] > pair[0], sec.at(key),
                                           f"must be increasing, got {list(pair)}")


def _resolve_file(ck, sec, key, base):
    """The resolved path of an existing file named by key, or None (reported)."""
    name = sec.string(key)
    if name is None:
        return None
    path = (base / Path(name).expanduser()).resolve()
    if not ck.require(path.is_file(), sec.at(key), f"file not found: {path}"):
        return None
    ck.files.append(path)
    return path


def _read_table_file(ck, sec, key, path, reader):
    try:
        return reader(path)
    except CrustgfError as exc:
        ck.add(sec.at(key), f"{path}: {exc}")
        return None


def _few(items, k=5) -> str:
    shown = ", ".join(str(i) for i in items[:k])
    return shown + (f" and {len(items) - k} more" if len(items) > k else "")
