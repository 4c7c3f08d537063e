"""A fault as a set of four-sided patches (the subfaults): what the mesher needs from a geometry.

Both fault forms produce this: a planar rectangle split n_strike x n_dip, and a smooth surface
from a depth grid split into patches that follow its strike and dip. Neighbouring patches share
edges (same edge id), so the mesher can build each edge once and the mesh follows the patch
boundaries exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class FaultPatches:
    corners: np.ndarray  # (nc, 3) m, local frame, z up (negative below the surface)
    edge_ends: np.ndarray  # (ne, 2) int: corner ids at the start and end of each edge
    edge_points: list[np.ndarray]  # ne arrays (k >= 2, 3): the edge as a polyline, start to end, on the surface
    patches: np.ndarray  # (np, 4) int edge ids going around each patch (a closed loop)
    planar: bool  # True: every patch is planar (edges are straight lines)
    # hanging-wall unit normal at points (n, 3) -> (n, 3); used to orient fault triangles
    normal_at: Callable[[np.ndarray], np.ndarray]
    # for curved faults: depth (m, positive down) of the surface at (x, y) arrays; None if planar
    depth_at: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # patch index (i_strike, i_dip) for each patch, for neighbours and plots (np, 2) int
    grid_index: np.ndarray | None = None

    @property
    def n_patches(self) -> int:
        return len(self.patches)

    def patch_corners(self) -> np.ndarray:
        """(np, 4, 3) corner coordinates of each patch, in loop order."""
        out = np.empty((self.n_patches, 4, 3))
        for i, loop in enumerate(self.patches):
            # the corner where edge k starts, following the loop's direction
            for k in range(4):
                e, nxt = loop[k], loop[(k + 1) % 4]
                a, b = self.edge_ends[e]
                start = b if a in self.edge_ends[nxt] and b not in self.edge_ends[nxt] else a
                out[i, k] = self.corners[start]
        return out
