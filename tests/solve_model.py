"""A tiny real model for the solve tests: 2 layers, a 2 x 2 rectangular fault, 4 stations, one
structure variant, meshed coarsely through the real config loader and mesher (about a second)."""

from __future__ import annotations

from pathlib import Path

CONFIG = """
[model]
name = "tiny"

[domain]
x = [-40.0, 40.0]
y = [-40.0, 40.0]
depth = 30.0

[[layers]]
name = "crust"
bottom = 10.0
vp = 6.0
vs = 3.5
density = 2.7

[[layers]]
name = "mantle"
bottom = 30.0
vp = 8.0
vs = 4.5
density = 3.3

[fault]
type = "rectangle"
top_center = [0.0, 0.0, 2.0]
strike = 20.0
dip = 40.0
length = 12.0
width = 8.0
subfaults = [2, 2]

[stations]
file = "tiny_stations.csv"

[mesh]
order = 2
size_fault = 4.0
size_max = 20.0

[solver]
method = "direct"
batch = 4

[[variants]]
name = "soft_crust"
changes = [{layer = "crust", vs_scale = 0.9}]
"""

STATIONS = "name,x,y\nA,10,5\nB,-15,0\nC,0,20\nD,5,-10\n"
N_SUBFAULTS, N_STATIONS, N_STRUCTURES = 4, 4, 2


def build_tiny_model(folder: Path) -> Path:
    from crustgf.greens.pipeline import mesh_command

    folder = Path(folder)
    (folder / "tiny.toml").write_text(CONFIG)
    (folder / "tiny_stations.csv").write_text(STATIONS)
    mesh_command(folder / "tiny.toml", folder / "tiny.h5", quiet=True)
    return folder / "tiny.h5"
