"""Before/after table of Nankai Green's functions: flat free surface at sea level in a given box vs
the ETOPO1 surface, trench at the seafloor and a box sized by crustgf (issue 12).

    PYTHONPATH=. python bench/nankai_surface_table.py BEFORE.gf.h5 AFTER.gf.h5 [--out FILE]

The subfaults differ between the two models (the fault now reaches the trench), so the table
compares, at a few DONET and land stations: (a) the dip-slip (reverse) GF of the subfault whose
centroid is nearest to a point off Kii (the demo's map target) and (b) uniform 1 m reverse slip on
the whole fault (the sum over subfaults). Also the station's z and the model sizes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

STATIONS = ["KMA01", "KMC09", "KME20", "MRA01", "MRE18", "MRG28", "L010", "L040", "L070", "L100"]
TARGET = (136.2, 33.0)


def nearest_subfault(gf, lon, lat):
    from crustgf.geometry.projection import Projection

    x, y = Projection(gf.attrs_origin).to_xy(lon, lat)
    c = gf.subfaults.centroid
    return int(np.argmin(np.hypot(c[:, 0] - x, c[:, 1] - y)))


def load(path):
    from crustgf.io.gfread import load_greens_functions, origin_lonlat

    gf = load_greens_functions(path)
    gf.attrs_origin = origin_lonlat(gf)
    return gf


def model_line(label, gf_path):
    from crustgf.io.modelfile import read_model

    p = str(gf_path)
    model_path = next((Path(p.replace(".gf.h5", s)) for s in (".gf.model.h5", ".model.h5")
                       if Path(p.replace(".gf.h5", s)).exists()), Path(p))
    if not model_path.exists():
        return f"{label}: model file not found"
    m = read_model(model_path)
    return (f"{label}: {len(m.nodes):,} nodes, {len(m.cells):,} TET10, {m.n_dof:,} DOF, {m.n_subfaults} subfaults, "
            f"box x {m.nodes[:, 0].min() / 1e3:.0f}..{m.nodes[:, 0].max() / 1e3:.0f} km, "
            f"depth {-m.nodes[:, 2].min() / 1e3:.0f} km")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    before, after = load(a.before), load(a.after)
    jb, ja = nearest_subfault(before, *TARGET), nearest_subfault(after, *TARGET)
    lines = [model_line("before", a.before), model_line("after ", a.after),
             f"subfault nearest {TARGET}: before #{jb} centroid depth "
             f"{-before.subfaults.centroid[jb, 2] / 1e3:.1f} km, "
             f"area {before.subfaults.area[jb] / 1e6:.0f} km2; after #{ja} depth "
             f"{-after.subfaults.centroid[ja, 2] / 1e3:.1f} km, area {after.subfaults.area[ja] / 1e6:.0f} km2",
             "",
             "station   z_before  z_after |  one subfault, dip slip: E N U (m/m) before -> after          | "
             "whole fault, 1 m reverse: E N U (m) before -> after"]
    for name in STATIONS:
        if name not in before.station_names or name not in after.station_names:
            continue
        ib, ia = before.station_names.index(name), after.station_names.index(name)
        ub, ua = before.displacement[ib, :, jb, 1], after.displacement[ia, :, ja, 1]
        wb, wa = before.displacement[ib, :, :, 1].sum(axis=1), after.displacement[ia, :, :, 1].sum(axis=1)
        f = lambda u: " ".join(f"{v:+.4f}" for v in u)  # noqa: E731
        lines.append(f"{name:7s} {before.station_positions[ib, 2] / 1e3:8.3f} "
                     f"{after.station_positions[ia, 2] / 1e3:8.3f} | "
                     f"{f(ub)} -> {f(ua)} | {f(wb)} -> {f(wa)}")
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
