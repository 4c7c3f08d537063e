"""A fault of Nankai size with no domain given, against cutde, for several element sizes.

    PYTHONPATH=. python bench/farfield_nankai_size.py [--sizes 8,6,5,4,3] [--out FILE]

The model and stations are tests/nankai_size.py's (300 x 100 km thrust, 6 x 2 subfaults of 50 km,
top 5 km, dip 15; a station grid over the fault and 40 km around it; rings 30-400 km beyond it).
Per element size (mesh.size_fault): DOF, times, the near-fault errors (relative L2 over the grid:
whole fault, worst subfault of the shallow and of the deep row), the far errors (worst station,
whole fault and one subfault), and, for comparison, the worst subfault's relative L2 over the
30 km ring only and the ring's worst whole-fault station, relative to its own GF and to the ring's
largest GF. Meshing and solving run on one thread each (set NUMBA_NUM_THREADS etc. as you like).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

HEADER = ("size_km     ndof  time_s  grid_whole  grid_sub_shallow  grid_sub_deep  far_whole  far_sub"
          "  ring30_sub  ring30_whole_rel  ring30_whole_abs")


def row(size_km: float) -> str:
    from nankai_size import errors, fe_vs_cutde

    t0 = time.perf_counter()
    fe, ref, ring, ndof, _ = fe_vs_cutde(size_km)
    dt = time.perf_counter() - t0
    e = errors(fe, ref, ring)
    sub = e["grid_subfault"].reshape(2, -1, 2)  # (dip row: 0 shallow, 1 deep; along strike; component)
    return (f"{size_km:7.1f} {ndof:8d} {dt:7.1f} {e['grid_whole']:11.4f} {sub[0].max():17.4f} {sub[1].max():14.4f}"
            f" {e['far_whole'].max():10.4f} {e['far_subfault'].max():8.4f} {e['ring30_subfault'].max():11.4f}"
            f" {e['ring30_whole_rel'].max():17.4f} {e['ring30_whole_abs'].max():17.4f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8,6,5,4,3", help="mesh.size_fault values, km")
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    lines = [HEADER]
    print(HEADER, flush=True)
    for s in (float(v) for v in args.sizes.split(",")):
        lines.append(row(s))
        print(lines[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
