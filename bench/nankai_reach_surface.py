"""Mesh a reach_surface config (default crustgf/configs/nankai.toml) and print its size, quality, time
and the trench checks: the fault boundary edges lying in the free surface form one open chain (the
trench) from one end of the fault to the other, no other surface loop (a hole cut at a knoll), no
fault node above the surface grid. Output: bench/results/nankai-reach-surface-<date>.txt.

    PYTHONPATH=$PWD python bench/nankai_reach_surface.py [config] > bench/results/...
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from crustgf.config.load import load_config
from crustgf.mesh import build_model
from crustgf.mesh.quality import mean_ratio

ROOT = Path(__file__).resolve().parents[1]


def trench_chains(m):
    """(edges in the surface on the fault's boundary, number of components, number of chain ends)."""
    tris = m.fault_cells[:, :3]
    edges = np.sort(np.vstack([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]), axis=1)
    edges, count = np.unique(edges, axis=0, return_counts=True)
    top = edges[np.isin(edges, m.free_surface_nodes).all(axis=1) & (count == 1)]
    nodes = np.unique(top)
    graph = sp.coo_matrix((np.ones(len(top)), (top[:, 0], top[:, 1])), shape=(len(m.nodes),) * 2)
    _, label = connected_components(graph, directed=False)
    degree = np.bincount(top.ravel(), minlength=len(m.nodes))[nodes]
    return top, len(np.unique(label[nodes])), int((degree == 1).sum())


def main(path: str) -> None:
    cfg = load_config(path)
    t0 = time.perf_counter()
    m = build_model(cfg, progress=False)
    wall = time.perf_counter() - t0
    rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    q = mean_ratio(m.nodes, m.cells[:, :4])
    f = np.unique(m.fault_cells[:, :3])
    above = m.nodes[f, 2] - cfg.surface.elevation(m.nodes[f, 0], m.nodes[f, 1])
    top, parts, ends = trench_chains(m)
    length = np.linalg.norm(m.nodes[top[:, 0]] - m.nodes[top[:, 1]], axis=1)
    area = m.subfaults.area / 1e6
    print(f"# bench/nankai_reach_surface.py {Path(path).name}, {time.strftime('%Y-%m-%d')}, 2-core machine shared "
          "with other jobs (times noisy)")
    print(f"reach_surface       {cfg.fault.reach_surface}  size_fault {cfg.mesh.size_fault / 1e3:g} km  "
          f"subfault_size {cfg.fault.subfault_size / 1e3:g} km  order {cfg.mesh.order}")
    print(f"nodes               {len(m.nodes):,}")
    print(f"TET{10 if cfg.mesh.order == 2 else 4} elements     {len(m.cells):,}")
    print(f"DOF                 {3 * len(m.nodes):,}")
    print(f"fault triangles     {len(m.fault_cells):,}")
    print(f"subfaults           {len(area)} (area km2 min / median / max {area.min():.0f} / {np.median(area):.0f} / "
          f"{area.max():.0f})")
    print(f"quality (mean ratio) min {q.min():.3f}  median {np.median(q):.3f}  elements < 0.05: {(q < 0.05).sum()}")
    print(f"build_model         {wall:.0f} s wall, peak RSS {rss / 1e6:.2f} GB (gmsh runs in a child process)")
    print(f"trench              {len(top)} edges in {parts} component(s), {ends} chain ends, "
          f"{length.sum() / 1e3:.0f} km long, edges {length.min() / 1e3:.2f} - {length.max() / 1e3:.2f} km")
    print(f"fault above surface max {above.max():.3f} m over {len(f):,} fault nodes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "crustgf" / "configs" / "nankai.toml"))
