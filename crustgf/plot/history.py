"""PNG plots of viscoelastic Green's functions (SPEC 6: /greens_functions/displacement_history).

- `plot_history_series(gf, subfault, component, stations, out)`: east, north and up against time
  (years) at chosen stations for unit slip on one subfault; markers at the file's output times.
- `plot_history_maps(gf, subfault, component, times, out, change=False)`: one map per chosen time
  (years; must be output times of the file), side by side with the SAME axes, the same colour
  scale for the vertical (one colour bar) and the same arrow scale, so the panels compare
  directly; `change=True` shows u(t) - u(0), the viscous part alone.

Units: m per m of slip (the GF convention, SPEC 3-4); times in years of 365.25 days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crustgf.config.stored import stored_origin
from crustgf.config.viscoelastic import YEAR
from crustgf.core.errors import CrustgfError
from crustgf.plot.figures import COMPONENTS, DPI, _draw_subfaults, _fit_limits, _pyplot, nice_reference, save_png
from crustgf.plot.frame import MapFrame


def load_history(gf_path, subfault: int, component: str):
    """(gf, history (n_times, n_stations, 3) of the subfault/component, times in years)."""
    import h5py

    from crustgf.io.gfread import load_greens_functions

    if component not in COMPONENTS:
        raise CrustgfError(f"--component: must be one of {sorted(COMPONENTS)}, got {component!r}")
    gf = load_greens_functions(gf_path)
    if not 0 <= subfault < gf.subfaults.n:
        raise CrustgfError(f"--subfault: {gf_path} has subfaults 0..{gf.subfaults.n - 1}, got {subfault}")
    k = COMPONENTS[component]
    if not gf.done[subfault, k]:
        raise CrustgfError(f"{gf_path}: the {component}-slip solve of subfault {subfault} is not done")
    with h5py.File(gf_path, "r") as f:
        if "greens_functions/displacement_history" not in f:
            raise CrustgfError(f"{gf_path}: no viscoelastic history (/greens_functions/displacement_history); "
                               "the model has no layer with a viscosity")
        hist = f["greens_functions/displacement_history"][:, :, :, subfault, k]
        years = f["greens_functions/time"][()] / YEAR
    return gf, np.asarray(hist, dtype=float), years


def plot_history_series(gf_path, subfault: int, component: str, stations: list[str], out) -> Path:
    gf, hist, years = load_history(gf_path, subfault, component)
    names = list(gf.station_names)
    missing = [s for s in stations if s not in names]
    if missing or not stations:
        raise CrustgfError(f"--stations: {', '.join(missing) or 'none given'} not in {gf_path} "
                           f"(stations: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''})")
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(8.0, 8.0), sharex=True, constrained_layout=True)
    for name in stations:
        i = names.index(name)
        for c, ax in enumerate(axes):
            ax.plot(years, 1e3 * hist[:, i, c], marker="o", ms=3, lw=1.2, label=name)
    for ax, label in zip(axes, ("east", "north", "up")):
        ax.set_ylabel(f"{label} (mm per m of slip)")
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.axhline(0.0, color="0.5", lw=0.5)
    axes[-1].set_xlabel("time after the slip (years)")
    axes[0].legend(fontsize=8, ncol=min(4, len(stations)))
    d = -gf.subfaults.centroid[subfault, 2] / 1e3
    axes[0].set_title(f"{gf.attrs.get('name', '') or Path(gf_path).stem}: viscoelastic response to a step "
                      f"of {component}-slip +1 m on subfault {subfault} (depth {d:.1f} km)", fontsize=10)
    return save_png(fig, out)


def plot_history_maps(gf_path, subfault: int, component: str, times: list[float], out, change: bool = False) -> Path:
    gf, hist, years = load_history(gf_path, subfault, component)
    idx = []
    for t in times:
        j = int(np.argmin(np.abs(years - t)))
        if abs(years[j] - t) > 1e-6 * max(1.0, abs(t)):
            raise CrustgfError(f"--times: {t:g} yr is not an output time of {gf_path} "
                               f"(times: {', '.join(f'{y:g}' for y in years)} yr)")
        idx.append(j)
    if not idx:
        raise CrustgfError("--times: give at least one time (years)")
    u_all = hist[idx] - (hist[0] if change else 0.0)  # (n_panels, n_st, 3)
    frame = MapFrame(stored_origin(gf.attrs.get("config", "")))
    sf = gf.subfaults
    sx, sy = frame.xy(gf.station_positions[:, 0], gf.station_positions[:, 1])
    vmax = float(np.max(np.abs(u_all[:, :, 2]))) or 1.0
    horiz = np.hypot(u_all[:, :, 0], u_all[:, :, 1])
    plt = _pyplot()
    n = len(idx)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n + 1.2, 5.2), squeeze=False, constrained_layout=True,
                             sharex=True, sharey=True)
    axes = axes[0]
    scale = None
    for ax, j, u in zip(axes, idx, u_all):
        tri_xy, _ = _draw_subfaults(ax, frame, sf.vertices, sf.cells, sf.cell_subfault, highlight=subfault)
        if scale is None:  # the first panel fixes the common limits and arrow scale
            _fit_limits(ax, np.r_[sx, tri_xy[..., 0].ravel()], np.r_[sy, tri_xy[..., 1].ravel()])
            width = ax.get_xlim()[1] - ax.get_xlim()[0]
            scale = max(float(horiz.max()), 1e-30) / (0.12 * width)
        sc = ax.scatter(sx, sy, c=u[:, 2], cmap="RdBu_r", vmin=-vmax, vmax=vmax, s=22,
                        edgecolors="k", linewidths=0.3, zorder=3)
        q = ax.quiver(sx, sy, u[:, 0] * frame.east_stretch, u[:, 1], angles="xy", scale_units="xy",
                      scale=scale, width=0.004, color="k", zorder=4)
        ax.set_title(f"{'u(t) - u(0)' if change else 'u(t)'} at t = {years[j]:g} yr", fontsize=10)
        frame.decorate(ax)
    ref = nice_reference(float(horiz.max()))
    axes[-1].quiverkey(q, 0.75, 0.05, ref * frame.east_stretch, f"{ref:g} m per m (horizontal)",
                       labelpos="N", coordinates="axes")
    fig.colorbar(sc, ax=list(axes), shrink=0.8, label="up (m per m of slip)")
    fig.suptitle(f"{gf.attrs.get('name', '') or Path(gf_path).stem}: subfault {subfault}, {component}-slip "
                 f"+1 m (step at t = 0), same scales in every panel", fontsize=10)
    fig.set_dpi(DPI)
    return save_png(fig, out)


def history_plot_command(gf_path, out, subfault, component, stations: str | None, times: str | None,
                         change: bool) -> Path:
    """`crustgf plot GF.h5 --subfault N --stations A,B | --times 0,10,50 [--change]`."""
    if subfault is None:
        raise CrustgfError("plot: --stations and --times need --subfault N")
    if (stations is None) == (times is None):
        raise CrustgfError("plot: give --stations (time series) or --times (maps), not both")
    if stations is not None:
        names = [s.strip() for s in stations.split(",") if s.strip()]
        return plot_history_series(gf_path, subfault, component, names, out)
    try:
        values = [float(t) for t in times.split(",") if t.strip()]
    except ValueError:
        raise CrustgfError(f"--times: a comma-separated list of years, got {times!r}") from None
    return plot_history_maps(gf_path, subfault, component, values, out, change=change)
