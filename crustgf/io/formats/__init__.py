"""Export formats of the Green's functions: one module per format, one registry.

`FORMATS` maps a format name to (module, writer function, what OUT is); `writer(name)` imports the
module on demand, so `crustgf export` only pays for the format it writes.
"""

from __future__ import annotations

from importlib import import_module

from crustgf.core.errors import CrustgfError

# name -> (module in this package, function, what -o names)
FORMATS = {
    "npz": ("npz", "write_npz", "file"),
    "csv": ("csv", "write_csv", "file"),
    "matrix": ("matrix", "write_matrix", "file (.npz or .csv)"),
    "csi": ("csi", "write_csi", "folder"),
    "altar": ("altar", "write_altar", "folder"),
}


def writer(name: str):
    """The writer function of format `name`: writer(gf: GreensFunctions, out) -> None."""
    if name not in FORMATS:
        raise CrustgfError(f"--format: unknown format {name!r} (choose from {', '.join(FORMATS)})")
    module, func, _ = FORMATS[name]
    return getattr(import_module(f"{__name__}.{module}"), func)
