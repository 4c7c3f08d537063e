"""crustgf: crustal-deformation Green's functions on layered 3D finite-element models.

The Python interface (SPEC section 7):

    import crustgf
    gf = crustgf.open("GF.h5")                   # a read-only view of a Green's-function file
    cfg = crustgf.load_config("model.toml")      # the validated config (crustgf.ConfigError lists every problem)

The names are loaded on first use, so `import crustgf` (and the command line) stays fast and a
subpackage such as crustgf.solvers.cuda imports without the meshing and projection libraries.
"""

from importlib import import_module

__version__ = "0.1.0"

_API = {
    "open": "crustgf.api",
    "GreensFunctionFile": "crustgf.api",
    "Stations": "crustgf.api",
    "load_config": "crustgf.config.load",
    "ConfigError": "crustgf.core.errors",
    "CrustgfError": "crustgf.core.errors",
}
__all__ = [*_API, "__version__"]


def __getattr__(name):
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'crustgf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
