"""User-facing errors: the CLI prints them as one line `Error: ...` and exits non-zero."""


class CrustgfError(Exception):
    """An error caused by the user's input (config, files, options), not a bug."""


class ConfigError(CrustgfError):
    """One or more problems in a config file; `problems` holds every message, each with its key path."""

    def __init__(self, path, problems):
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(f"{self.path}: " + "; ".join(self.problems))


REBUILD_HINT = "the file is damaged; rebuild it (crustgf mesh CONFIG -o MODEL)"
RESOLVE_HINT = "the file is damaged; move it away and solve again (crustgf solve MODEL -o GF)"


def damaged_file(path, hint: str):
    """Context manager: an error from HDF5 while reading `path` (damaged metadata, a checksum that
    does not match, a missing object) becomes one CrustgfError naming the file and `hint`."""
    from contextlib import contextmanager

    @contextmanager
    def guard():
        try:
            yield
        except CrustgfError:
            raise
        except (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError) as exc:
            text = " ".join(str(exc).split())
            if "checksum" in text or "data error" in text:
                what = "a stored checksum does not match its data"
            else:
                what = f"{type(exc).__name__}: {text[:160]}"
            raise CrustgfError(f"{path}: cannot read it ({what}); {hint}") from None

    return guard()


def open_hdf5(path, what: str = "file", hint: str = ""):
    """h5py.File(path, "r") with one-line errors: a missing file, or one that is not HDF5 or whose
    metadata is damaged (`hint` says how to rebuild it)."""
    from pathlib import Path

    import h5py

    if not Path(path).is_file():
        raise CrustgfError(f"{path}: no such {what}")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise CrustgfError(f"{path}: not an HDF5 file, or its metadata is damaged ({exc})"
                           + (f"; {hint}" if hint else "")) from None
