"""The subfault table measured on the mesh: area, centroid, strike and dip of each subfault."""

from __future__ import annotations

import numpy as np

from crustgf.geometry.frames import strike_dip_from_normal
from crustgf.geometry.patches import FaultPatches
from crustgf.mesh.model import SubfaultTable


def subfault_table(nodes: np.ndarray, tris: np.ndarray, tri_subfault: np.ndarray,
                   patches: FaultPatches) -> SubfaultTable:
    """Area = sum of triangle areas; centroid area-weighted; strike/dip from the area-weighted
    mean hanging-wall normal (triangles must be oriented: (p1-p0) x (p2-p0) into the hanging wall).
    Corners are the patch corners."""
    ns = patches.n_patches
    p = nodes[tris[:, :3]]
    twice_area_normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])  # = 2 A n
    area = 0.5 * np.linalg.norm(twice_area_normal, axis=1)
    centre = p.mean(axis=1)
    total = np.bincount(tri_subfault, weights=area, minlength=ns)
    centroid = np.stack([np.bincount(tri_subfault, weights=area * centre[:, k], minlength=ns) for k in range(3)], 1)
    centroid /= np.where(total > 0, total, 1.0)[:, None]
    normal = np.stack([np.bincount(tri_subfault, weights=twice_area_normal[:, k], minlength=ns) for k in range(3)], 1)
    # a vertical fault's mean normal may get a roundoff n_z < 0, which would flip its strike by 180
    tiny = np.abs(normal[:, 2]) <= 1e-9 * np.linalg.norm(normal, axis=1)
    normal[tiny, 2] = 0.0
    strike, dip = strike_dip_from_normal(normal)
    return SubfaultTable(centroid=centroid, strike=np.asarray(strike), dip=np.asarray(dip),
                         area=total, corners=patches.patch_corners())
