"""The fault must be embedded in the volume mesh: every fault triangle is a face of exactly two
tetrahedra, one on each side (the split-node method needs both sides). Checked on every model, as
a guard against a CAD fragment that silently failed to imprint the fault."""

from __future__ import annotations

import numpy as np

from crustgf.core.errors import CrustgfError

_FACES = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])  # face k is opposite vertex k


def _keys(tri: np.ndarray, n: int) -> np.ndarray:
    t = np.sort(tri, axis=1).astype(np.int64)
    return (t[:, 0] * n + t[:, 1]) * n + t[:, 2]


def fault_sides(nodes: np.ndarray, tets: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """(nf, 2) signed side (+1/-1 along (p1-p0)x(p2-p0); 0: missing) of the two tets on each triangle."""
    n = len(nodes)
    faces = tets[:, _FACES].reshape(-1, 3)
    keys = _keys(faces, n)
    tri_keys = _keys(tris, n)
    wanted = np.isin(keys, tri_keys)  # only faces on the fault: small sort
    face_ids = np.flatnonzero(wanted)
    order = np.argsort(keys[face_ids], kind="stable")
    sorted_keys = keys[face_ids][order]
    lo = np.searchsorted(sorted_keys, tri_keys, side="left")
    hi = np.searchsorted(sorted_keys, tri_keys, side="right")
    sides = np.zeros((len(tris), 2))
    p = nodes[tris]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    for k in (0, 1):
        has = hi - lo > k
        face = face_ids[order[np.minimum(lo + k, len(order) - 1)]]
        apex = nodes[tets[face // 4, face % 4]]
        s = np.sign(np.einsum("ij,ij->i", apex - p[:, 0], normal))
        sides[:, k] = np.where(has, s, 0.0)
    sides[hi - lo > 2] = 0.0  # more than two tets on one triangle: broken
    return sides


def check_fault_embedded(nodes: np.ndarray, tets: np.ndarray, tris: np.ndarray) -> None:
    """Raise CrustgfError unless every fault triangle has one tet on each side."""
    sides = fault_sides(nodes, tets[:, :4], tris[:, :3])
    bad = sides[:, 0] * sides[:, 1] != -1
    if bad.any():
        c = nodes[tris[np.argmax(bad), :3]].mean(axis=0) / 1e3
        raise CrustgfError(
            f"mesh: {int(bad.sum())} fault triangles do not have one tetrahedron on each side, first near "
            f"({c[0]:.3f}, {c[1]:.3f}, {c[2]:.3f}) km: the fault is not embedded in the volume mesh; "
            "try a slightly different mesh.size_fault or check the fault geometry")
