"""`crustgf export`: Green's functions to npz, csv, an inversion-ready matrix, CSI or AlTar (crustgf/formats/)."""

from __future__ import annotations

from pathlib import Path

from crustgf.io.formats import writer
from crustgf.io.gfread import load_greens_functions


def export_greens_functions(gf, fmt: str, output, variant: str | None = None,
                            allow_missing: bool = False) -> Path:
    """Write the Green's functions of the reference structure (or `variant`) of file `gf` as `fmt`.

    Refuses (CrustgfError) when some unit-slip solves are not done, unless allow_missing: then the
    missing values are exported as NaN and the provenance lines say how many are missing.
    """
    from crustgf.core.atomic import check_output_folder, command_scope

    write = writer(fmt)
    check_output_folder(output)
    with command_scope(inputs=[gf], outputs=[output]):
        return _export(gf, write, output, variant, allow_missing)


def _export(gf, write, output, variant, allow_missing) -> Path:
    data = load_greens_functions(gf, variant=variant)
    if not allow_missing:
        data.require_complete("export")
    # unfinished solves hold whatever the writer pre-filled; make them unmistakable
    data.displacement[:, :, ~data.done] = float("nan")
    write(data, output)
    return Path(output)
