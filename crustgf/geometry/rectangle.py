"""A planar rectangular fault split into n_strike x n_dip subfaults, as FaultPatches.

Corner (i, j) sits i subfault lengths along strike and j subfault widths down dip from the
top-start corner (frames.rectangle_corners order: top-start, top-end, bottom-end, bottom-start).
Patch (i, j) is subfault number  j * n_strike + i  (rows along strike, top row first), and
grid_index[p] = (i, j).
"""

from __future__ import annotations

import numpy as np

from crustgf.config.schema import RectangleFault
from crustgf.geometry.frames import dip_vector, normal_vector, strike_vector
from crustgf.geometry.patches import FaultPatches


def _corner_id(i: int, j: int, n_strike: int) -> int:
    return j * (n_strike + 1) + i


def rectangle_patches(fault: RectangleFault) -> FaultPatches:
    """Subfault patches of a rectangular fault; top_center's third value is a depth (positive down).

    Edges: first the along-strike edges (row j = 0..n_dip, i = 0..n_strike-1, pointing along
    strike), then the down-dip edges (column i = 0..n_strike, j = 0..n_dip-1, pointing down dip).
    Each patch loop is: top edge, end-side edge, bottom edge, start-side edge.
    """
    ns, nd = (int(n) for n in fault.subfaults)
    cx, cy, depth = (float(v) for v in fault.top_center)
    s = strike_vector(fault.strike)
    d = dip_vector(fault.strike, fault.dip)
    top_start = np.array([cx, cy, -depth]) - 0.5 * fault.length * s
    a = np.arange(ns + 1)[None, :, None] * (fault.length / ns)  # (1, ns+1, 1) along strike
    b = np.arange(nd + 1)[:, None, None] * (fault.width / nd)  # (nd+1, 1, 1) down dip
    corners = (top_start + a * s + b * d).reshape(-1, 3)
    if abs(depth) < 1e-9 * max(fault.length, fault.width):
        corners[: ns + 1, 2] = 0.0  # the top edge lies exactly in the free surface

    strike_edges = [(_corner_id(i, j, ns), _corner_id(i + 1, j, ns)) for j in range(nd + 1) for i in range(ns)]
    dip_edges = [(_corner_id(i, j, ns), _corner_id(i, j + 1, ns)) for i in range(ns + 1) for j in range(nd)]
    edge_ends = np.array(strike_edges + dip_edges, dtype=np.int64)
    n_strike_edges = len(strike_edges)

    def strike_edge(i, j):
        return j * ns + i

    def dip_edge(i, j):
        return n_strike_edges + i * nd + j

    patches, grid_index = [], []
    for j in range(nd):
        for i in range(ns):
            patches.append([strike_edge(i, j), dip_edge(i + 1, j), strike_edge(i, j + 1), dip_edge(i, j)])
            grid_index.append([i, j])
    n = normal_vector(fault.strike, fault.dip)

    def normal_at(points: np.ndarray) -> np.ndarray:
        # planar fault: the hanging-wall normal n = dip x strike everywhere
        return np.broadcast_to(n, np.shape(points)).copy()

    return FaultPatches(
        corners=corners,
        edge_ends=edge_ends,
        edge_points=[corners[e] for e in edge_ends],
        patches=np.array(patches, dtype=np.int64),
        planar=True,
        normal_at=normal_at,
        depth_at=None,
        grid_index=np.array(grid_index, dtype=np.int64),
    )
