"""Element quality and size statistics; rejection of degenerate or inverted tetrahedra.

Quality is the mean ratio  q = 12 (3 V)^(2/3) / sum of the six squared edge lengths:
1 for a regular tetrahedron, -> 0 for a flat one (negative volume gives q < 0). Only the four
vertices are used (elements are straight-sided).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.fem.shapes import TET10_EDGES

DEGENERATE_RATIO = 1e-12  # volume <= this * (longest edge)^3 counts as degenerate


def _edge_lengths(nodes: np.ndarray, cells: np.ndarray) -> np.ndarray:
    p = nodes[cells[:, :4]]
    return np.linalg.norm(p[:, TET10_EDGES[:, 1]] - p[:, TET10_EDGES[:, 0]], axis=-1)  # (ne, 6)


def _volumes(nodes: np.ndarray, cells: np.ndarray) -> np.ndarray:
    p = nodes[cells[:, :4]]
    return np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0]) / 6.0


def mean_ratio(nodes: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Mean-ratio quality per tetrahedron (1 = regular, signed by orientation)."""
    vol = _volumes(nodes, cells)
    l2 = (_edge_lengths(nodes, cells) ** 2).sum(axis=1)
    return 12.0 * np.sign(vol) * np.cbrt(3.0 * np.abs(vol)) ** 2 / l2


def check_elements(nodes: np.ndarray, cells: np.ndarray) -> None:
    """Raise CrustgfError if any tet is inverted (det <= 0) or degenerate (tiny volume)."""
    vol = _volumes(nodes, cells)
    lmax = _edge_lengths(nodes, cells).max(axis=1)
    bad = (vol <= 0) | (vol <= DEGENERATE_RATIO * lmax**3)
    if bad.any():
        first = int(np.argmax(bad))
        c = nodes[cells[first, :4]].mean(axis=0) / 1e3
        n_inv = int((vol <= 0).sum())
        raise CrustgfError(
            f"mesh: {int(bad.sum())} degenerate or inverted tetrahedra ({n_inv} with volume <= 0), "
            f"first is element {first} near ({c[0]:.3f}, {c[1]:.3f}, {c[2]:.3f}) km; "
            "try a different size_fault/size_max or check the fault geometry"
        )


@dataclass
class QualityStats:
    quality_min: float
    quality_median: float
    edge_min: float  # m, over all unique vertex-to-vertex edges
    edge_median: float
    edge_max: float
    fault_edge_min: float  # m, over fault triangle edges
    fault_edge_median: float
    fault_edge_max: float


def _unique_edge_lengths(nodes: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    n = len(nodes)
    keys = np.unique(pairs.min(axis=1).astype(np.int64) * n + pairs.max(axis=1))
    pairs = np.stack([keys // n, keys % n], axis=1)
    return np.linalg.norm(nodes[pairs[:, 1]] - nodes[pairs[:, 0]], axis=1)


def quality_stats(nodes: np.ndarray, cells: np.ndarray, fault_cells: np.ndarray) -> QualityStats:
    q = mean_ratio(nodes, cells)
    tet_pairs = cells[:, TET10_EDGES].reshape(-1, 2)
    el = _unique_edge_lengths(nodes, tet_pairs)
    f = fault_cells[:, :3]
    fl = _unique_edge_lengths(nodes, np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [0, 2]]])) if len(f) else np.zeros(1)
    return QualityStats(
        float(q.min()), float(np.median(q)),
        float(el.min()), float(np.median(el)), float(el.max()),
        float(fl.min()), float(np.median(fl)), float(fl.max()),
    )
