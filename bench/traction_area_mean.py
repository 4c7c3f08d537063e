"""Why the traction GFs use a disk mean: the plain mean over a receiver's whole area does not
converge for its own slip (issue 13, crustgf/faulttraction.py).

The case of bench/traction_refinement.py (middle subfault of three). For each fault element size
h: the self terms as crustgf computes them (disk mean), the same recovery with weight 1 on the
whole receiver (the FE interpolant of its indicator: a whole-area mean), and cutde's disk mean.
The whole-area mean keeps growing (like log 1/h: the edge singularity of uniform slip).

    python bench/traction_area_mean.py [--h 1.0,0.5,0.35] [--out bench/results/FILE.txt]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main(argv=None):
    from test_traction import fe_traction

    import crustgf.greens.traction as ft

    ap = argparse.ArgumentParser()
    ap.add_argument("--h", default="1.0,0.5,0.35")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    lines = ["# self traction of the middle subfault (MPa/m), 15 x 6 km fault in 3 x 1 subfaults, TET10",
             "# h_km  strike: disk_mean whole_area_mean cutde_disk_mean  "
             "dip: disk_mean whole_area_mean cutde_disk_mean"]
    print("\n".join(lines), flush=True)
    real = ft.receiver_radius
    try:
        for h in (float(x) for x in a.h.split(",")):
            ft.receiver_radius = real
            fe, ref, _ = fe_traction(30.0, 45.0, 2.0, 15.0, 6.0, (3, 1), h)
            ft.receiver_radius = lambda nodes, fc, sub, cent: np.full(len(cent), np.inf)  # weight 1 on the receiver
            whole, _, _ = fe_traction(30.0, 45.0, 2.0, 15.0, 6.0, (3, 1), h)
            vals = [x[1, c, 1, c] / 1e6 for c in (0, 1) for x in (fe, whole, ref)]
            lines.append(f"{h:5.2f}  " + "  ".join(f"{v:7.2f}" for v in vals))
            print(lines[-1], flush=True)
    finally:
        ft.receiver_radius = real
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
