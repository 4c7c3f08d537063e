"""The trench of a fault extended up-dip past the free surface (reach_surface), built into the patches.

In the reference frame of the vertical warp (mesh/warp.py) the free surface is the plane z_ref = 0.
Cutting each patch of an extended fault with that plane in the CAD model (cad.cut_at_surface) leaves
the up-dip row as it comes: near a rough seafloor, where the fault meets the surface at 1-5 degrees,
the plane often passes within tens of metres of a patch edge, and the cut leaves a sliver piece a
few hundred metres wide along a patch edge that lies 0-100 m below the surface over 20 km. At
3 km elements the triangles of the sliver, of the edge under it and of the top face then overlap
(gmsh: "Invalid boundary mesh (overlapping facets)").

So here each dip line (a column of down-dip edges, which warp.keep_buried made cross the surface
once) gets a corner exactly where it crosses the surface: the column's corner nearest to the
crossing (along the line) moves there, and the corners up-dip of it merge into it. The along-strike
edges follow their moved ends; one whose two ends are both on the surface is put in it (the trench
segment between two dip lines). Where the nearest corner changes row between neighbouring columns
the patch between them loses its collapsed dip edge and becomes three-sided. Patches left with fewer
than three edges, or wholly above the surface, are dropped. No patch is then cut at the surface: the
trench is a chain of patch edges in z_ref = 0, continuous along the up-dip edge of the fault.

- A trench segment follows where the patches' Coons fillings cross z_ref = 0 along lines down their
  column (where that contour jumps, at grazing lobes, it keeps its own edge's line, SMOOTH).
- The edges running down from the trench are straight (in the reference frame): the Coons filling
  of a trench patch is then the ruled surface between the trench (z = 0) and its down-dip edge
  (z < 0), so it never rises above the surface between its edges.
- Near the surface (above SHALLOW) along-strike edges stay under the chord between their ends, so a
  knoll of the seafloor does not bring an edge up through it between buried corners.
- Patches off the trench whose CAD surface still comes within MARGIN of the surface (asked of
  OpenCASCADE: its B-spline fillings of wiggly edges can rise hundreds of metres above a bilinear
  blend) are lowered in a smooth bump (keep_under); cutting them would leave a hole in the fault.
These change the fault near the trench by up to a few hundred metres (under knolls ~0.5 km), in
the spirit of warp.keep_buried: the plate interface passes under the seafloor's relief.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crustgf.geometry.patches import FaultPatches
from crustgf.mesh.cad import is_trench_edge  # noqa: F401 (also used by tests through this module)

SHALLOW = 1000.0  # m: along-strike edges rising above this depth stay under the chord between their ends


MARGIN = 100.0  # m: a patch not at the trench keeps its CAD surface at least this far under the surface
SMOOTH = 2.0  # a trench curve whose sample spacing exceeds this many times the even spacing is not used


def _chains(ref: FaultPatches, nse: int) -> list[list[int]]:
    """The down-dip edges as columns: lists of edge ids, top to bottom (an edge starts where the one above ends)."""
    ne = len(ref.edge_ends)
    by_start = {int(ref.edge_ends[k][0]): k for k in range(nse, ne)}
    ends = {int(ref.edge_ends[k][1]) for k in range(nse, ne)}
    chains = []
    for c0 in sorted(set(by_start) - ends):
        chain, k = [], by_start[c0]
        while k is not None:
            chain.append(k)
            k = by_start.get(int(ref.edge_ends[k][1]))
        chains.append(chain)
    return chains


def _columns(ref: FaultPatches) -> dict[int, list[int]]:
    """{along-strike edge: the patches of the patch column it spans, top to bottom} (needs grid_index)."""
    if ref.grid_index is None:
        return {}
    by_col: dict[int, list[int]] = {}
    for p in np.argsort(ref.grid_index[:, 1], kind="stable"):
        by_col.setdefault(int(ref.grid_index[p, 0]), []).append(int(p))
    out = {}
    for col in by_col.values():
        rows = [int(ref.grid_index[p, 1]) for p in col]
        if rows != list(range(rows[0], rows[0] + len(rows))):
            continue  # a column with a gap: no single line down it
        for p in col:
            out[int(ref.patches[p][0])] = col
            out[int(ref.patches[p][2])] = col
    return out


def _arc(p: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])


def _resample(p: np.ndarray, s: np.ndarray, s0: float, s1: float, n: int) -> np.ndarray:
    """n points of the polyline p (arc positions s) from arc position s0 to s1."""
    t = np.linspace(s0, s1, n)
    return np.column_stack([np.interp(t, s, p[:, i]) for i in range(3)])


def _crossing(p: np.ndarray, s: np.ndarray):
    """Arc position and point of the first downward crossing of z = 0 along p; None if p stays above."""
    below = np.flatnonzero(p[:, 2] <= 0.0)
    if len(below) == 0:
        return None
    i = int(below[0])
    if i == 0:
        return 0.0, p[0].copy()
    t = p[i - 1, 2] / (p[i - 1, 2] - p[i, 2])
    x = p[i - 1] + t * (p[i] - p[i - 1])
    x[2] = 0.0
    return s[i - 1] + t * (s[i] - s[i - 1]), x


def trench_corners(ref: FaultPatches, shallow: float = SHALLOW) -> FaultPatches:
    """The reference patches with the surface crossing of every dip line as a corner (module doc);
    patches collapsed to < 3 edges or wholly above the surface are dropped (grid_index follows)."""
    from crustgf.mesh.warp import _n_strike_edges, drop_patches

    nse = _n_strike_edges(ref)
    corners = ref.corners.copy()
    pts = [e.copy() for e in ref.edge_points]
    merge = np.arange(len(corners))
    for chain in _chains(ref, nse):
        cs = [int(ref.edge_ends[chain[0]][0])] + [int(ref.edge_ends[k][1]) for k in chain]
        if corners[cs[0], 2] <= 0.0:
            continue  # the column starts at or below the surface
        p = np.vstack([pts[chain[0]]] + [pts[k][1:] for k in chain[1:]])
        s = _arc(p)
        hit = _crossing(p, s)
        if hit is None:
            continue  # wholly above: its patches are dropped
        sx, x = hit
        sc = np.concatenate([[0.0], np.cumsum([_arc(pts[k])[-1] for k in chain])])  # arc position of each corner
        j = 1 + int(np.argmin(np.abs(sc[1:] - sx)))
        corners[cs[j]] = x
        for m in range(j):
            merge[cs[m]] = cs[j]
            corners[cs[m]] = x
            pts[chain[m]] = np.repeat(x[None, :], len(pts[chain[m]]), axis=0)
        if j < len(chain):
            k = chain[j]
            new = _resample(p, s, sx, sc[j + 1], len(pts[k]))
            new[0], new[-1] = x, corners[cs[j + 1]]
            new[1:, 2] = np.minimum(new[1:, 2], 0.0)
            pts[k] = new
    ends = merge[ref.edge_ends]
    columns = _columns(ref)
    for k in range(nse):  # along-strike edges follow their ends
        a0, b0 = ref.edge_ends[k]
        a, b = ends[k]
        e = pts[k]
        t = _arc(e)
        t = t / t[-1] if t[-1] > 0 else np.linspace(0.0, 1.0, len(e))
        e += (1.0 - t)[:, None] * (corners[a] - ref.corners[a0]) + t[:, None] * (corners[b] - ref.corners[b0])
        if corners[a, 2] == 0.0 and corners[b, 2] == 0.0:  # a trench segment: where the fault meets z = 0
            curve = _trench_curve(ref, columns.get(k, []), k, len(e)) if k in columns else None
            if curve is not None:
                e[:] = curve
            e[:, 2] = 0.0
        elif e[:, 2].max() > -shallow:  # near the surface: never above the chord between its ends (knolls)
            _under_chord(e)
        e[0], e[-1] = corners[a], corners[b]
    out = dataclasses.replace(ref, corners=corners, edge_ends=ends, edge_points=pts)
    keep = np.array([_kept(out, loop) for loop in out.patches])
    out = drop_patches(out, keep)
    for k, (a, b) in enumerate(out.edge_ends):  # edges from the trench down: straight (module doc)
        if a != b and (out.corners[a, 2] == 0.0) != (out.corners[b, 2] == 0.0):
            e = out.edge_points[k]  # collinear points: a straight B-spline (Coons fillings need B-splines)
            e[:] = e[0] + np.linspace(0.0, 1.0, len(e))[:, None] * (e[-1] - e[0])
    return out


def _under_chord(e: np.ndarray) -> None:
    """Lower the polyline e in place to at most the straight line between its ends (z)."""
    t = _arc(e)
    if t[-1] > 0:
        t = t / t[-1]
        e[:, 2] = np.minimum(e[:, 2], (1.0 - t) * e[0, 2] + t * e[-1, 2])


def _kept(ref: FaultPatches, loop: np.ndarray) -> bool:
    """At least three edges of nonzero length, and some part below the surface."""
    live = [e for e in loop if ref.edge_ends[e][0] != ref.edge_ends[e][1]]
    return len(live) >= 3 and min(ref.edge_points[e][:, 2].min() for e in live) < 0.0


def _coons(ref: FaultPatches, p: int, n: int) -> np.ndarray:
    """(n, n, 3) points of patch p's bilinearly blended (Coons) surface through its edges, [u, v]: u
    along its first (up-dip, along-strike) edge from its start, v from that edge to the opposite one."""
    t = np.linspace(0.0, 1.0, n)
    u, v = t[:, None, None], t[None, :, None]
    loop = ref.patches[p]
    c = _corners_of(ref, p)

    def along(k, start):  # edge k as n points from the end nearest `start`
        e = ref.edge_points[loop[k]]
        e = e[::-1] if np.linalg.norm(e[0] - start) > np.linalg.norm(e[-1] - start) else e
        s = _arc(e)
        s = s / s[-1] if s[-1] > 0 else np.linspace(0.0, 1.0, len(e))
        return np.column_stack([np.interp(t, s, e[:, i]) for i in range(3)])

    a, r, b, lft = along(0, c[0]), along(1, c[1]), along(2, c[3]), along(3, c[0])
    return ((1 - v) * a[:, None] + v * b[:, None] + (1 - u) * lft[None] + u * r[None]
            - ((1 - u) * (1 - v) * c[0] + u * (1 - v) * c[1] + (1 - u) * v * c[3] + u * v * c[2]))


def _corners_of(ref: FaultPatches, p: int) -> np.ndarray:
    one = dataclasses.replace(ref, patches=ref.patches[p:p + 1])
    return one.patch_corners()[0]


def _trench_curve(ref: FaultPatches, column: list[int], k: int, n: int) -> np.ndarray | None:
    """n points where the original fault (the Coons fillings of the patches of one column, top to
    bottom) first crosses z = 0 along each of n lines down the column, from the start of strike edge
    k's span to its end; None if some line does not cross or the points jump (SMOOTH)."""
    a0 = ref.corners[ref.edge_ends[k][0]]
    rows = []
    for p in column:
        g = _coons(ref, p, n)
        if np.linalg.norm(g[0, 0] - ref.corners[ref.edge_ends[ref.patches[p][0]][0]]) > \
                np.linalg.norm(g[-1, 0] - ref.corners[ref.edge_ends[ref.patches[p][0]][0]]):
            g = g[::-1]
        rows.append(g if not rows else g[:, 1:])
    g = np.concatenate(rows, axis=1)  # (n, m, 3): lines down the column
    if np.linalg.norm(g[0, 0, :2] - a0[:2]) > np.linalg.norm(g[-1, 0, :2] - a0[:2]):
        g = g[::-1]  # from strike edge k's start side
    out = np.empty((n, 3))
    for i in range(n):
        hit = _crossing(g[i], _arc(g[i]))
        if hit is None:
            return None
        out[i] = hit[1]
    step = np.linalg.norm(np.diff(out[:, :2], axis=0), axis=1)
    if step.max() > SMOOTH * np.linalg.norm(out[-1, :2] - out[0, :2]) / (n - 1):
        return None  # a grazing stretch where the crossing jumps (lobes of the contour): keep the edge's own line
    return out


def cad_tops(ref: FaultPatches, n: int = 25, step=lambda name: None) -> np.ndarray:
    """(np,) highest z of each patch's CAD surface (cad.add_fault_surfaces), sampled n x n over its
    parameters: the B-spline fillings can rise hundreds of metres above the bilinear blend of
    wiggly edges (different parametrisations of opposite edges), so this asks OpenCASCADE."""
    import gmsh

    from crustgf.mesh.cad import add_fault_surfaces
    from crustgf.mesh.gmsh_build import gmsh_session

    with gmsh_session():
        surfaces = add_fault_surfaces(ref)
        gmsh.model.occ.synchronize()
        tops = []
        for tag in surfaces:
            (u0, v0), (u1, v1) = gmsh.model.getParametrizationBounds(2, tag)
            u, v = np.meshgrid(np.linspace(u0, u1, n), np.linspace(v0, v1, n))
            xyz = gmsh.model.getValue(2, tag, np.column_stack([u.ravel(), v.ravel()]).ravel())
            tops.append(float(np.max(np.asarray(xyz)[2::3])))
    return np.array(tops)


def keep_under(ref: FaultPatches, margin: float = MARGIN, rounds: int = 5) -> FaultPatches:
    """Patches without a trench edge whose CAD surface comes within `margin` of the surface (z_ref = 0;
    a knoll over the plate interface, where the cut at the surface would leave a hole in the fault)
    get their edges lowered in a smooth bump (zero at the corners) until none does."""
    from crustgf.mesh.isolate import call_isolated

    plain = dataclasses.replace(ref, edge_points=[e.copy() for e in ref.edge_points], normal_at=None, depth_at=None)
    trench = np.array([any(is_trench_edge(ref.edge_points[e]) for e in loop) for loop in ref.patches])
    for _ in range(rounds):
        tops = call_isolated(cad_tops, plain, what="mesh")
        high = np.flatnonzero(~trench & (tops > -margin))
        if len(high) == 0:
            break
        for p in high:
            for k in ref.patches[p]:
                e = plain.edge_points[k]
                if not is_trench_edge(e) and ref.edge_ends[k][0] != ref.edge_ends[k][1]:
                    t = _arc(e)
                    e[:, 2] -= (tops[p] + 2.0 * margin) * np.sin(np.pi * t / t[-1])
    return dataclasses.replace(ref, edge_points=plain.edge_points)


def trench_patches(true: FaultPatches, ref: FaultPatches, warp) -> tuple[FaultPatches, FaultPatches]:
    """(true, reference) patches with the trench built in (trench_corners) and no other patch
    reaching the surface (keep_under); the true ones are the reference ones warped back, keeping
    the fault's normal_at and depth_at."""
    ref = keep_under(trench_corners(ref))
    out = dataclasses.replace(ref, corners=warp.forward(ref.corners),
                              edge_points=[warp.forward(e) for e in ref.edge_points],
                              planar=true.planar, normal_at=true.normal_at, depth_at=true.depth_at)
    return out, ref


