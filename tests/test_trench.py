"""reach_surface under a rough seafloor (mesh/trench.py): a shallow-dipping grid fault extended up-dip
meets a wavy seafloor at a grazing angle. The meshed fault must reach the seafloor along one
continuous trench line across the whole fault, never rise above the seafloor, and keep every
subfault a real patch (no sliver left by cutting a patch just above one of its edges)."""

from __future__ import annotations

import numpy as np
from test_config import grid_config, write_config
from test_surface_config import grid_csv

from crustgf.config.load import load_config
from crustgf.mesh import build_model

SUBFAULT = 6.0  # km


def plane_csv() -> str:
    """A plane dipping east at 5.7 deg, depth = 3 + 0.1 x (km), on a 5 km grid; its up-dip edge
    (x = -5 km, 2.5 km deep) lies 0.1-0.9 km under the seafloor."""
    rows = ["# shallow plane for tests", "x,y,depth_km"]
    rows += [f"{float(x)},{float(y)},{3.0 + 0.1 * x}" for y in range(-30, 31, 5) for x in range(-5, 41, 5)]
    return "\n".join(rows) + "\n"


def seafloor(x, y):
    """Elevation (m) at x, y (km): 2 km deep with 250 m swells along strike and 150 m across."""
    return -2000.0 - 250.0 * np.sin(2 * np.pi * y / 15.0) - 150.0 * np.cos(2 * np.pi * x / 20.0)


def rough_trench_model(tmp_path):
    cfg = grid_config()
    cfg["surface"] = {"file": "topo.csv"}
    cfg["fault"].update({"outline": [[-40.0, -20.0], [15.0, -20.0], [15.0, 20.0], [-40.0, 20.0]],
                         "depth_range": [0.0, 20.0], "subfault_size": SUBFAULT, "reach_surface": True})
    del cfg["plate_layers"]
    topo = grid_csv(x=range(-60, 61, 5), y=range(-60, 61, 5), elevation=lambda x, y: float(seafloor(x, y)))
    c = load_config(write_config(tmp_path, cfg, {"plane.csv": plane_csv(), "topo.csv": topo}))
    return c, build_model(c, progress=False)


def test_a_rough_seafloor_trench_is_continuous_and_no_subfault_is_a_sliver(tmp_path):
    c, m = rough_trench_model(tmp_path)
    tris = m.fault_cells[:, :3]
    f = np.unique(tris)
    # the fault never rises above the seafloor (the warp keeps z_ref <= 0 at z <= s(x, y))
    s = c.surface.elevation(m.nodes[f, 0], m.nodes[f, 1])
    assert (m.nodes[f, 2] <= s + 1e-6).all()
    # the trench: fault boundary edges with both nodes on the free surface form one chain across the fault
    edges = np.sort(np.vstack([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]), axis=1)
    edges, count = np.unique(edges, axis=0, return_counts=True)
    top = np.isin(edges, m.free_surface_nodes).all(axis=1) & (count == 1)
    trench = edges[top]
    nodes = np.unique(trench)
    assert np.allclose(m.nodes[nodes, 2], c.surface.elevation(m.nodes[nodes, 0], m.nodes[nodes, 1]), atol=1.0)
    degree = np.bincount(trench.ravel(), minlength=len(m.nodes))[nodes]
    assert (degree == 2).sum() == len(nodes) - 2 and (degree == 1).sum() == 2  # one open chain
    y = m.nodes[nodes, 1] / 1e3
    assert y.min() < -19.0 and y.max() > 19.0  # from one end of the fault to the other
    # and it is where the extended plane meets the seafloor: depth 3 + 0.1 x = -s(x, y)
    # (to within the curved patches' fit of the fault between their edges in the warped frame: under
    # 250 m swells 15 km long they miss the plane by up to ~0.17 km of depth near the trench, ~1.7 km
    # along its 5.7 deg dip; 35 m rms over the whole fault)
    x = m.nodes[nodes, 0] / 1e3
    miss = np.abs(3.0 + 0.1 * x + c.surface.elevation(x * 1e3, y * 1e3) / 1e3)
    assert miss.max() < 0.2 and miss.mean() < 0.06
    # every subfault is a patch, not a sliver: at least a tenth of a nominal one (the trench row keeps
    # at least half its dip length; where it changes row the patch between is three-sided)
    assert m.subfaults.area.min() > SUBFAULT ** 2 * 1e6 / 10.0
