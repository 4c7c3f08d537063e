"""Comment lines ('# ...') that say where an exported table came from."""

from __future__ import annotations

import numpy as np

from crustgf.io.gfread import GreensFunctions

# root attributes every export carries along
PROVENANCE_ATTRS = ("crustgf_version", "model_sha256", "config", "frame", "slip_convention")


def solve_record(gf: GreensFunctions) -> dict:
    """residual and iterations of each solve, as arrays (n_subfaults, 2), when the file has them."""
    out = {}
    if gf.residual is not None:
        out["residual"] = gf.residual
    if gf.iterations is not None:
        out["iterations"] = np.asarray(gf.iterations)
    return out


def provenance_lines(gf: GreensFunctions, what: str) -> list[str]:
    lines = [
        f"# {what}",
        f"# source: {gf.path}",
        f"# structure: {('variant ' + gf.variant) if gf.variant else 'reference'}",
        f"# crustgf_version: {gf.attrs.get('crustgf_version', '?')}",
        f"# model_sha256: {gf.attrs.get('model_sha256', '?')}",
    ]
    for key in ("frame", "slip_convention"):
        if key in gf.attrs:
            lines.append(f"# {key}: {' '.join(str(gf.attrs[key]).split())}")
    if gf.n_missing:
        lines.append(f"# WARNING: {gf.n_missing} unit-slip solves are not done; their values are NaN")
    return lines
