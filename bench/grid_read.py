"""Reading a topography grid: time and peak memory of read_grid per format and resolution.

    PYTHONPATH=. python bench/grid_read.py [--out bench/results/grid-read-20261203.txt]

A synthetic elevation grid over the Nankai region of the shared ETOPO1 file (124-147 E, 24-42 N) at
0.1 deg (the shipped CSV's lattice), 1 arcmin (ETOPO1) and 15 arcsec (GEBCO 2023), written as CSV
(0.1 deg and 1' only: at 15" the text is ~1 GB), NetCDF-4 (float32, as GEBCO), NetCDF-3 and GeoTIFF
(float32). Each read runs in a fresh process, so the peak RSS is that read's (the interpreter and
numpy/xarray imports included). The machine is shared: timings are noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

W, E, S, N = 124.0, 147.0, 24.0, 42.0
RESOLUTIONS = {"0.1deg": 0.1, "1arcmin": 1 / 60, "15arcsec": 1 / 240}


def lattice(step):
    lon = W + step * np.arange(int(round((E - W) / step)) + 1)
    lat = S + step * np.arange(int(round((N - S) / step)) + 1)
    z = (-4000.0 * np.exp(-((lat[:, None] - 32.0) / 1.5) ** 2) + 1500.0 * np.sin(lon[None, :])).astype(np.float32)
    return lon, lat, z


def write(folder: Path, name: str, step: float) -> list[Path]:
    import tifffile
    import xarray as xr

    lon, lat, z = lattice(step)
    paths = []
    if step >= 1 / 60 - 1e-12:
        p = folder / f"{name}.csv"
        with open(p, "w") as f:
            f.write("lon,lat,elevation_m\n")
            for j, la in enumerate(lat):
                f.write("".join(f"{lo:.6f},{la:.6f},{v:.1f}\n" for lo, v in zip(lon, z[j])))
        paths.append(p)
    ds = xr.Dataset({"elevation": (("lat", "lon"), z, {"units": "m", "positive": "up"})},
                    coords={"lon": ("lon", lon, {"units": "degrees_east"}),
                            "lat": ("lat", lat, {"units": "degrees_north"})})
    ds.to_netcdf(folder / f"{name}.nc", engine="h5netcdf")
    ds.to_netcdf(folder / f"{name}-nc3.grd", engine="scipy")
    paths += [folder / f"{name}.nc", folder / f"{name}-nc3.grd"]
    keys = [1, 1, 0, 4, 1024, 0, 1, 2, 1025, 0, 1, 2, 2048, 0, 1, 4326, 2054, 0, 1, 9102]  # PixelIsPoint
    tags = [(33550, "d", 3, (step, step, 0.0), False), (33922, "d", 6, (0, 0, 0, W, N, 0), False),
            (34735, "H", len(keys), keys, False)]
    tifffile.imwrite(folder / f"{name}.tif", np.ascontiguousarray(z[::-1]), extratags=tags, photometric="minisblack")
    paths.append(folder / f"{name}.tif")
    return paths


READ = """
import json, resource, sys, time
t = time.perf_counter()
from crustgf.geometry.surface import read_grid
g = read_grid(sys.argv[1])
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": dt, "nodes": g.values.size, "rss_mb": rss}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    ap.add_argument("--keep", type=Path, help="write the grids here instead of a temporary folder")
    args = ap.parse_args()
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [f"# bench/grid_read.py, {now}; shared 2-core machine: noisy",
             f"{'grid':>10} {'format':>12} {'nodes':>10} {'file MB':>8} {'read s':>7} {'peak RSS MB':>11}"]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name, step in RESOLUTIONS.items():
            for path in write(folder, name, step):
                r = json.loads(subprocess.run([sys.executable, "-c", READ, str(path)], check=True,
                                              capture_output=True, text=True).stdout)
                fmt = {".csv": "CSV", ".nc": "NetCDF-4", ".grd": "NetCDF-3", ".tif": "GeoTIFF"}[path.suffix]
                line = (f"{name:>10} {fmt:>12} {r['nodes']:>10d} {path.stat().st_size / 1e6:>8.1f} {r['s']:>7.2f} "
                        f"{r['rss_mb']:>11.0f}")
                print(line, flush=True)
                lines.append(line)
                path.unlink()
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
