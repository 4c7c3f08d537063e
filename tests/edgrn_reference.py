"""Layered half-space reference: EDGRN/EDCMP (Wang, Lorenzo-Martin & Roth 2003).

The Fortran programs ship as binaries in the `pygrnwang` wheel (`pygrnwang/exec/edgrn2.bin`,
`edcmp2.bin`); this module writes their input files and reads their output, nothing more.
EDGRN computes the point-source Green's functions of a layered half-space on a grid of
distances and source depths; EDCMP integrates them over rectangular dislocations.

EDCMP's frame is x north, y east, z down; a rectangle is given by its top-start corner (the end of
the top edge the strike points away from), length along strike, width down dip, strike, dip and
rake (Aki & Richards: rake 0 moves the hanging wall along strike, rake 90 up dip). So rake 0 and
90 are SPEC's strike-slip +1 and dip-slip +1. `test_edgrn.py` checks the reading of these
conventions on EDCMP's homogeneous (Okada) mode against cutde, before trusting the layered mode.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

from crustgf.geometry.frames import dip_vector, rectangle_corners, strike_vector


def _exec(name: str) -> Path:
    import pygrnwang

    return Path(pygrnwang.__file__).resolve().parent / "exec" / f"{name}.bin"


def _run(name: str, folder: Path, text: str) -> None:
    (folder / f"{name}.inp").write_text(text)
    r = subprocess.run([str(_exec(name))], input=f"{name}.inp\n", cwd=folder, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0 or "successful" not in r.stdout.lower():
        raise RuntimeError(f"{name} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def _model_lines(layers) -> list[str]:
    """EDGRN's layer table: (bottom_m, vp, vs, density) top to bottom, the last one the half-space.

    A discontinuity takes two lines at the same depth (above, below); the last line's values go
    on below it (the half-space)."""
    lines, top = [], 0.0
    for k, (bottom, vp, vs, rho) in enumerate(layers):
        lines.append((top, vp, vs, rho))
        if k < len(layers) - 1:
            lines.append((bottom, vp, vs, rho))
        top = bottom
    return [f"{i + 1} {z:.3f} {vp:.3f} {vs:.3f} {rho:.3f}" for i, (z, vp, vs, rho) in enumerate(lines)]


def edgrn_tables(folder: Path, layers, r_max: float, dr: float, z_range: tuple[float, float],
                 dz: float, srate: float = 12.0) -> Path:
    """Run EDGRN for surface observers (depth 0); distances 0..r_max, source depths z_range (m)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nr = math.ceil(r_max / dr) + 1
    nz = math.ceil((z_range[1] - z_range[0]) / dz) + 1
    if nr > 10000 or nz > 401:
        raise ValueError(f"EDGRN grid too large: {nr} distances (max 10000), {nz} depths (max 401)")
    model = _model_lines(layers)
    text = "\n".join([
        "# crustgf test: EDGRN input (observation depth; distances; source depths; srate; outputs; model)",
        "0.0",
        f"{nr} 0.0 {(nr - 1) * dr:.3f}",
        f"{nz} {z_range[0]:.3f} {z_range[0] + (nz - 1) * dz:.3f}",
        f"{srate}",
        "'./' 'edgrn.ss' 'edgrn.ds' 'edgrn.cl'",
        f"{len(model)}",
        *model,
    ]) + "\n"
    _run("edgrn2", folder, text)
    return folder


def edcmp_displacement(grn_folder: Path | None, sources, xy: np.ndarray, work: Path,
                       lam_mu: tuple[float, float] | None = None) -> np.ndarray:
    """Surface displacement (n, 3) east, north, up of rectangular sources at points xy (n, 2) m.

    sources: rows (slip, x_east, y_north, depth, length, width, strike, dip, rake) in m and degrees,
    position = the top-start corner. grn_folder: EDGRN's tables (layered); None with lam_mu:
    EDCMP's homogeneous (Okada 1992) mode."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    xy = np.asarray(xy, float)
    points = " ".join(f"({y:.4f},{x:.4f})" for x, y in xy)  # EDCMP: (north, east)
    rect = [f"{k + 1} {s:.6f} {y:.4f} {x:.4f} {d:.4f} {ln:.4f} {w:.4f} {st:.6f} {dp:.6f} {rk:.6f}"
            for k, (s, x, y, d, ln, w, st, dp, rk) in enumerate(sources)]
    if grn_folder is None:
        model = ["0", f"0.0 {lam_mu[0]:.6e} {lam_mu[1]:.6e}"]
    else:
        model = ["1", f"'{Path(grn_folder).resolve()}/' 'edgrn.ss' 'edgrn.ds' 'edgrn.cl'"]
    text = "\n".join([
        "# crustgf test: EDCMP input (observers; outputs; rectangles; earth model)",
        "0", f"{len(xy)}", points,
        "'./'", "1 0 0 0", "'out.disp' 'out.strain' 'out.stress' 'out.tilt'",
        f"{len(rect)}", *rect,
        *model,
    ]) + "\n"
    (work / "out.disp").unlink(missing_ok=True)
    _run("edcmp2", work, text)
    a = np.loadtxt(work / "out.disp", comments="#").reshape(-1, 5)
    back = np.column_stack([a[:, 1], a[:, 0]])
    if not np.allclose(back, xy, atol=0.01):
        raise RuntimeError("EDCMP returned its observers in another order")
    return np.column_stack([a[:, 3], a[:, 2], -a[:, 4]])  # east, north, up


def subfault_sources(top_center, strike, dip, length, width, n_strike, n_dip, rake):
    """EDCMP rows for a rectangle split n_strike x n_dip (subfault j = i_dip * n_strike + i_strike)
    with unit slip of the given rake. top_center is (x, y, z) m with z < 0 below the surface."""
    c0 = rectangle_corners(top_center, strike, dip, length, width)[0]
    s, d = strike_vector(strike), dip_vector(strike, dip)
    ls, ws = length / n_strike, width / n_dip
    rows = []
    for k in range(n_dip):
        for i in range(n_strike):
            p = c0 + i * ls * s + k * ws * d
            rows.append((1.0, p[0], p[1], -p[2], ls, ws, strike, dip, rake))
    return rows


def layered_greens_functions(layers, top_center, strike, dip, length, width, subfaults, xy, work,
                             dr=100.0, dz=100.0):
    """(n, 3, n_subfaults, 2) layered-half-space displacement per unit slip (strike, dip slip)."""
    work = Path(work)
    corners = rectangle_corners(top_center, strike, dip, length, width)
    z_top, z_bot = -corners[:, 2].max(), -corners[:, 2].min()
    far = np.max(np.linalg.norm(xy[:, None, :] - corners[None, :, :2], axis=2))
    # source depths straddle the fault with a half-step offset, so none falls on an interface
    grn = edgrn_tables(work / "edgrn", layers, far + 2 * dr, dr,
                       (max(0.5 * dz, z_top - 1.5 * dz), z_bot + 1.5 * dz), dz)
    ns = subfaults[0] * subfaults[1]
    out = np.zeros((len(xy), 3, ns, 2))
    for comp, rake in ((0, 0.0), (1, 90.0)):
        rows = subfault_sources(top_center, strike, dip, length, width, *subfaults, rake)
        for j, row in enumerate(rows):
            out[:, :, j, comp] = edcmp_displacement(grn, [row], xy, work / "edcmp")
    return out
