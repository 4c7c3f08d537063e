"""Exports that are a folder of files (CSI, AlTar): the folder, and one provenance text inside it."""

from __future__ import annotations

from pathlib import Path

from crustgf.core.atomic import atomic_open
from crustgf.core.errors import CrustgfError
from crustgf.io.formats.provenance import provenance_lines
from crustgf.io.gfread import GreensFunctions


def export_folder(out, fmt: str) -> Path:
    """OUT as a folder: created when missing (its parent must exist); a plain file there is an error."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CrustgfError(f"{out}: --format {fmt} writes a folder, and this is a file; give a folder name")
    if not out.parent.is_dir():
        raise CrustgfError(f"{out}: folder {out.parent} does not exist")
    out.mkdir(exist_ok=True)
    return out


def write_info(out: Path, gf: GreensFunctions, what: str, lines: list[str]) -> None:
    """OUT/crustgf_export.txt: where the files came from and how they are laid out."""
    with atomic_open(out / "crustgf_export.txt", "w") as fh:
        fh.write("\n".join(provenance_lines(gf, what) + lines) + "\n")
