"""Data and example configs shipped inside the package, so an installed crustgf runs anywhere.

`DATA_DIR` holds the tables (each with its provenance lines): Slab2 (slab2_nankai.csv), JIVSM
properties, DONET and the land GNSS grid, the 1946 Nankai slip model. `CONFIG_DIR` holds the
example configs (two_layer, nankai, nankai-coarse, ...); they name the tables as ../data/NAME.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_DIR / "data"
CONFIG_DIR = PACKAGE_DIR / "configs"


def data_file(name: str) -> Path:
    """A shipped data table, e.g. data_file("slip_1946_nankai_baba2002.csv")."""
    return DATA_DIR / name


def config_file(name: str) -> Path:
    """A shipped example config, e.g. config_file("nankai-coarse.toml")."""
    return CONFIG_DIR / name
