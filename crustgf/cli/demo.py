"""The one-command demo: the coarse Nankai Trough model from config to plots (`make demo`).

    crustgf demo [--out DIR] [--config CONFIG] [--backend auto]

Steps (library calls, no subprocesses): mesh -> solve (every subfault, strike- and dip-slip) ->
export (npz, csv, inversion-ready matrix) -> plots (layout, a cross-section through the Kii
peninsula, GF maps of a shallow subfault off Kii). Each step prints its wall time; everything is
written in DIR. Re-running keeps an up-to-date model and resumes the solve (only missing
subfaults are solved).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from crustgf.data import config_file

DEFAULT_CONFIG = config_file("nankai-coarse.toml")
# A section normal to the trough (strike ~237 deg) through Cape Shionomisaki: trough -> Osaka Bay.
KII_SECTION = "136.25,32.35,134.95,34.35"
# GF maps for the subfault whose centroid is nearest to this point (lon, lat): off Kii, shallow.
MAP_TARGET = (136.2, 33.0)


class Steps:
    """Prints each step's name and wall time; keeps them for the summary."""

    def __init__(self):
        self.times: list[tuple[str, float]] = []

    def run(self, name: str, fn, *args, **kwargs):
        print(f"[demo] {name} ...", flush=True)
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        dt = time.perf_counter() - t0
        self.times.append((name, dt))
        print(f"[demo] {name}: {dt:.1f} s", flush=True)
        return result

    def summary(self) -> str:
        lines = [f"  {name:<28s} {dt:8.1f} s" for name, dt in self.times]
        lines.append(f"  {'total':<28s} {sum(dt for _, dt in self.times):8.1f} s")
        return "\n".join(lines)


def nearest_subfault(model_path: Path, lon: float, lat: float) -> int:
    """Index of the subfault whose centroid is nearest (horizontally) to lon, lat."""
    from crustgf.config.stored import stored_origin
    from crustgf.geometry.projection import Projection
    from crustgf.io.modelfile import read_model

    model = read_model(model_path)
    origin = stored_origin(model.config_text)
    if origin is None:
        return 0
    x, y = Projection(origin).to_xy(lon, lat)
    c = model.subfaults.centroid
    return int(np.argmin(np.hypot(c[:, 0] - x, c[:, 1] - y)))


def model_is_current(model_path: Path, config: Path) -> bool:
    """True when model_path exists and was built from exactly this config text (as `crustgf run`)."""
    from crustgf.config.load import load_config
    from crustgf.io.modelfile import read_config_text

    return model_path.exists() and read_config_text(model_path) == load_config(config).text


def run_demo(out: Path, config: Path = DEFAULT_CONFIG, solve_options: dict | None = None,
             quiet: bool = False) -> dict:
    """Run every step into `out`; return the paths written. Raises CrustgfError on failure."""
    from crustgf.core.errors import CrustgfError
    from crustgf.greens.pipeline import mesh_command, solve_command
    from crustgf.io.export import export_greens_functions
    from crustgf.plot import figures as plot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_path, gf_path = out / "nankai.model.h5", out / "nankai.gf.h5"
    paths = {"model": model_path, "gf": gf_path}
    steps = Steps()

    if model_is_current(model_path, Path(config)):
        print(f"[demo] mesh: {model_path} is up to date (same config text), kept", flush=True)
    else:
        steps.run("mesh", mesh_command, Path(config), model_path, quiet=quiet)
    status = steps.run("solve", solve_command, model_path, gf_path, dict(solve_options or {}), quiet=quiet)
    if status != 0:
        raise CrustgfError(f"solve finished with exit status {status}; run the demo again to resume")
    for fmt, name in (("npz", "nankai.gf.npz"), ("csv", "nankai.gf.csv"), ("matrix", "nankai.G.npz")):
        paths[fmt] = out / name
        steps.run(f"export {fmt}", export_greens_functions, gf_path, fmt, paths[fmt])

    from importlib.util import find_spec

    if find_spec("matplotlib") is None:  # an optional extra: the demo's numbers do not need it
        print("[demo] plots skipped: matplotlib is not installed (pip install 'crustgf[plot]')", flush=True)
    else:
        paths["layout"] = steps.run("plot layout", plot.plot_layout, model_path, out / "layout.png")
        paths["section"] = steps.run("plot section (Kii)", plot.plot_section, model_path, KII_SECTION,
                                     out / "section_kii.png")
        j = nearest_subfault(model_path, *MAP_TARGET)
        for comp in ("dip", "strike"):
            paths[f"gf_{comp}"] = steps.run(f"plot GF map ({comp})", plot.plot_greens_function, gf_path, j,
                                            comp, out / f"gf_subfault{j}_{comp}.png")
    print("[demo] timings:\n" + steps.summary(), flush=True)
    print(f"[demo] outputs in {out}:", *sorted(p.name for p in paths.values()), sep="\n  ", flush=True)
    return paths
