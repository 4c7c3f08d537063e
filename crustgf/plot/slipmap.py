"""Map-view slip plots (matplotlib): subfault polygons coloured by slip, arrows for the slip direction.

The arrow of a subfault is the map-view projection of its slip vector (hanging wall relative to
footwall): strike_slip * s + dip_slip * (-d) with s, d from crustgf.geometry.frames. For a thrust
(rake 90) it points up dip, e.g. towards the trench for a subduction interface.
"""

from __future__ import annotations

import numpy as np

from crustgf.geometry.frames import dip_vector, strike_vector
from crustgf.io.gfread import GreensFunctions, Subfaults, origin_lonlat
from crustgf.plot.frame import MapFrame


def slip_arrows(subfaults: Subfaults, slip: np.ndarray) -> np.ndarray:
    """(n, 2) east, north components (m) of each subfault's slip vector in map view."""
    s = strike_vector(subfaults.strike)
    d = dip_vector(subfaults.strike, subfaults.dip)
    return (slip[:, :1] * s - slip[:, 1:] * d)[:, :2]


def draw_slip(ax, subfaults: Subfaults, slip: np.ndarray, vmax: float | None = None, title: str = "",
              frame: MapFrame | None = None):
    """Draw one slip map on `ax` in `frame`'s coordinates (lon/lat or km, as the GF maps);
    returns the mappable for a colour bar."""
    from matplotlib.collections import PolyCollection

    frame = frame or MapFrame(None)

    mag = np.hypot(slip[:, 0], slip[:, 1])
    vmax = vmax if vmax else (float(mag.max()) or 1.0)
    if subfaults.vertices is not None and subfaults.cells is not None:
        v = np.asarray(subfaults.vertices)
        px, py = frame.xy(v[:, 0], v[:, 1])
        polys = np.stack([px, py], axis=1)[np.asarray(subfaults.cells)[:, :3]]
        art = PolyCollection(polys, array=mag[np.asarray(subfaults.cell_subfault)], cmap="viridis",
                             edgecolors="face", linewidths=0.2)
        art.set_clim(0.0, vmax)
        ax.add_collection(art)
    else:
        art = ax.scatter(*frame.xy(subfaults.centroid[:, 0], subfaults.centroid[:, 1]), c=mag, cmap="viridis",
                         vmin=0, vmax=vmax, s=40)
    arrows = slip_arrows(subfaults, slip)
    cx, cy = frame.xy(subfaults.centroid[:, 0], subfaults.centroid[:, 1])
    # the largest slip draws an arrow 0.8 of a typical subfault's size long, in map units
    size = float(np.sqrt(np.median(subfaults.area)))
    sx, sy = frame.xy(np.array([0.0, size]), np.array([0.0, 0.0]))
    size_map = abs(float(sx[1] - sx[0])) * frame.east_stretch
    ax.quiver(cx, cy, arrows[:, 0] * frame.east_stretch, arrows[:, 1], color="white", angles="xy",
              scale_units="xy", scale=vmax / (0.8 * size_map) * frame.east_stretch, width=0.004, pivot="middle")
    ax.autoscale_view()
    frame.decorate(ax)
    ax.set_title(title, fontsize=9)
    return art


def save_slip_map(path, gf: GreensFunctions, slip: np.ndarray, title: str = "", stations=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crustgf.core.atomic import atomic_open

    frame = MapFrame(origin_lonlat(gf))
    fig, ax = plt.subplots(figsize=(7, 6))
    art = draw_slip(ax, gf.subfaults, slip, title=title, frame=frame)
    if stations is not None:
        ax.plot(*frame.xy(stations[:, 0], stations[:, 1]), "k^", ms=3, label="stations")
    fig.colorbar(art, ax=ax, label="slip (m)")
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)
