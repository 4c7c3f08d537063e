"""A layer bottom given as a surface on the real Nankai geometry (issue 12): the coarse Nankai
model (crustgf/configs/nankai-coarse.toml: ETOPO1 surface, trench at the seafloor) with its
sediment layer given two ways:

- flat: `bottom = 3.0` (3 km below sea level, as shipped): above the seafloor wherever the sea is
  deeper than 3 km, so it pinches out there and the top zone's staircase leaves almost none of it;
- surface: `bottom = { file = "sediment.csv" }`, a made-up trough fill 2 km thick under the
  seafloor (ETOPO1 elevation - 2 km where below sea level) and absent on land (its bottom on
  the land surface): it pinches out along the coast.

The sediment grid is derived here from the shipped ETOPO1 grid (an illustration of the feature,
not a published sediment model: JIVSM's layer grids are not in the shipped data). Prints the
model sizes, each layer's element count and volume inside the fault-and-station core, and (with
--solve) the GF table of bench/nankai_surface_table.py between the two; writes the Kii
cross-sections as PNGs.

    PYTHONPATH=. python bench/nankai_sediment_surface.py --work /tmp/sed [--solve] [--out FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from crustgf.data import DATA_DIR, config_file

THICKNESS_KM = 2.0


def sediment_grid(path: Path) -> None:
    from crustgf.core.tables import read_table

    t = read_table(DATA_DIR / "nankai_topo_etopo1.csv")
    lon, lat, e = t.numbers("lon"), t.numbers("lat"), t.numbers("elevation_m")
    depth = np.where(e < 0.0, -e / 1e3 + THICKNESS_KM, -e / 1e3)  # under the seafloor; on land: at the surface
    rows = "\n".join(f"{a:.2f},{b:.2f},{d:.4f}" for a, b, d in zip(lon, lat, depth))
    path.write_text(f"# made-up trough fill: {THICKNESS_KM:g} km under the ETOPO1 seafloor, absent on land "
                    "(derived from crustgf/data/nankai_topo_etopo1.csv by bench/nankai_sediment_surface.py)\n"
                    f"lon,lat,depth_km\n{rows}\n")


def configs(work: Path) -> dict[str, Path]:
    text = config_file("nankai-coarse.toml").read_text()
    text = text.replace('"../data/', f'"{DATA_DIR}/')
    flat = work / "flat.toml"
    flat.write_text(text)
    surface = work / "surface.toml"
    sediment_grid(work / "sediment.csv")
    assert 'name = "sediment"\nbottom = 3.0' in text
    new = 'name = "sediment"\nbottom = { file = "sediment.csv" }'
    surface.write_text(text.replace('name = "sediment"\nbottom = 3.0', new))
    return {"flat": flat, "surface": surface}


def layer_report(model_path: Path) -> list[str]:
    from crustgf.io.modelfile import read_model

    m = read_model(model_path)
    p = m.nodes[m.cells[:, :4]]
    vol = np.abs(np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0])) / 6
    c = p.mean(axis=1)
    core = (np.abs(c[:, 0]) < 600e3) & (np.abs(c[:, 1]) < 600e3)
    out = [f"  {len(m.nodes):,} nodes, {len(m.cells):,} TET10, {m.n_dof:,} DOF, {m.n_subfaults} subfaults"]
    for i, name in enumerate(m.layers.name):
        k = m.cell_material == i
        out.append(f"  {name:16s} {int(k.sum()):7d} elements, {vol[k & core].sum() / 1e9:12.0f} km3 within 600 km")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/crustgf-sediment")
    ap.add_argument("--solve", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    lines = [f"# bench/nankai_sediment_surface.py, {time.strftime('%Y-%m-%d')}: nankai-coarse with its sediment "
             f"flat (3 km below sea level) or a surface ({THICKNESS_KM:g} km under the seafloor, absent on land)"]
    crustgf = [sys.executable, "-m", "crustgf"]
    for label, cfg in configs(work).items():
        t0 = time.perf_counter()
        if a.solve:
            subprocess.run(crustgf + ["run", str(cfg), "-o", str(work / f"{label}.gf.h5"), "-q"], check=True)
            model = work / f"{label}.gf.model.h5"
        else:
            model = work / f"{label}.model.h5"
            subprocess.run(crustgf + ["mesh", str(cfg), "-o", str(model), "-q", "--force"], check=True)
        lines.append(f"{label}: {'mesh + solve' if a.solve else 'mesh'} {time.perf_counter() - t0:.0f} s")
        lines += layer_report(model)
        from crustgf.cli.demo import KII_SECTION
        from crustgf.plot import figures

        png = Path("bench/results") / f"nankai-sediment-{label}-section-{time.strftime('%Y%m%d')}.png"
        figures.plot_section(model, KII_SECTION, png)
        lines.append(f"  section: {png}")
    if a.solve:
        table = subprocess.run([sys.executable, "bench/nankai_surface_table.py", str(work / "flat.gf.h5"),
                                str(work / "surface.gf.h5")], check=True, capture_output=True, text=True).stdout
        lines += ["", "GFs, before = flat sediment, after = sediment surface:", table]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
