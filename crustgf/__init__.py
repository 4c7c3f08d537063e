"""crustgf: crustal-deformation Green's functions on layered 3D finite-element models.

The Python interface (SPEC section 7):

    import crustgf
    gf = crustgf.open("GF.h5")                   # a read-only view of a Green's-function file
    cfg = crustgf.load_config("model.toml")      # the validated config (crustgf.ConfigError lists every problem)
"""

__version__ = "0.1.0"

from crustgf.api import GreensFunctionFile, Stations, open  # noqa: E402
from crustgf.config.load import load_config  # noqa: E402
from crustgf.core.errors import ConfigError, CrustgfError  # noqa: E402

__all__ = ["open", "load_config", "GreensFunctionFile", "Stations", "ConfigError", "CrustgfError",
           "__version__"]
