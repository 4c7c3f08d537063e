"""`crustgf export`: Green's functions to npz, csv or an inversion-ready matrix (crustgf/formats/)."""

from __future__ import annotations

from pathlib import Path

from .errors import CrustgfError
from .gfread import load_greens_functions

FORMATS = ("npz", "csv", "matrix")


def _writer(fmt: str):
    if fmt == "npz":
        from .formats.npz import write_npz as write
    elif fmt == "csv":
        from .formats.csv import write_csv as write
    elif fmt == "matrix":
        from .formats.matrix import write_matrix as write
    else:
        raise CrustgfError(f"--format: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return write


def export_greens_functions(gf, fmt: str, output, variant: str | None = None,
                            allow_missing: bool = False) -> Path:
    """Write the Green's functions of the reference structure (or `variant`) of file `gf` as `fmt`.

    Refuses (CrustgfError) when some unit-slip solves are not done, unless allow_missing: then the
    missing values are exported as NaN and the provenance lines say how many are missing.
    """
    write = _writer(fmt)
    data = load_greens_functions(gf, variant=variant)
    if not allow_missing:
        data.require_complete("export")
    # unfinished solves hold whatever the writer pre-filled; make them unmistakable
    data.displacement[:, :, ~data.done] = float("nan")
    write(data, output)
    return Path(output)
