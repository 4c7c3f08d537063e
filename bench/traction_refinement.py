"""Fault traction Green's functions vs cutde under mesh refinement (SPEC 6, issue 13).

A 15 km x 6 km fault (strike 30, dip 45, top 2 km) in 3 x 1 subfaults in a homogeneous
half-space (box of half-width and depth 60 km, fixed sides and bottom), TET10, fault element size
h. For each h: dofs, the relative Frobenius error of the whole (ns, 3, ns, 2) traction matrix, the
largest self-term error, and the error of the off-diagonal part alone. The FE receiver value and
the cutde reference are the same functional (tests/traction_reference.py).

    python bench/traction_refinement.py [--h 1.0,0.75,0.5,0.35] [--out bench/results/FILE.txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main(argv=None):
    from test_traction import fe_traction, traction_errors

    ap = argparse.ArgumentParser()
    ap.add_argument("--h", default="1.0,0.75,0.5,0.35", help="fault element sizes (km)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    lines = ["# traction GFs vs cutde, 15 x 6 km fault, strike 30 dip 45 top 2 km, 3 x 1 subfaults, TET10",
             "# h_km  dofs  frobenius  max_self  offdiag_frobenius  self_terms(MPa/m, FE/cutde)  seconds"]
    print("\n".join(lines), flush=True)
    for h in (float(x) for x in a.h.split(",")):
        t0 = time.perf_counter()
        fe, ref, model = fe_traction(30.0, 45.0, 2.0, 15.0, 6.0, (3, 1), h)
        frob, self_err = traction_errors(fe, ref)
        ns = fe.shape[0]
        mask = np.ones(fe.shape, bool)
        for s in range(ns):
            for c in (0, 1):
                mask[s, c, s, c] = False
        off = np.linalg.norm((fe - ref)[mask]) / np.linalg.norm(ref[mask])
        selfs = " ".join(f"{fe[s, c, s, c] / 1e6:.2f}/{ref[s, c, s, c] / 1e6:.2f}" for s in range(ns) for c in (0, 1))
        line = (f"{h:5.2f}  {3 * len(model.nodes):7d}  {frob:.4f}  {self_err.max():.4f}  {off:.4f}  {selfs}  "
                f"{time.perf_counter() - t0:.0f}")
        lines.append(line)
        print(line, flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
