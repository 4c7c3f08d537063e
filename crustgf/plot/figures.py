"""PNG plots (matplotlib, Agg backend): a subfault's Green's function, the model layout, sections.

- `plot_greens_function(gf, subfault, component, out)`: map of the station displacements for
  unit slip (+1 m, SPEC 4 signs) on one subfault: horizontal vectors with a scale arrow, vertical
  as colour; subfault outlines, the chosen one highlighted.
- `plot_layout(model, out)`: subfaults coloured by centroid depth, their indices (small models),
  stations.
- `plot_section(model, spec, out)`: vertical cross-section of the materials sampled from the
  mesh's elements, with the fault (the meshed plate interface) and the top of the plate layers.

Maps use lon/lat axes when the file's config has a domain origin (the arrows keep their true
directions: the east component is divided by cos(lat0) because the axes are drawn with aspect
1/cos(lat0)), else local x/y in km. No coastlines (offline, no extra data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crustgf.config.stored import stored_origin
from crustgf.core.errors import CrustgfError
from crustgf.plot.frame import MapFrame
from crustgf.plot.section import SectionLine

COMPONENTS = {"strike": 0, "dip": 1}
FIGSIZE = (8.0, 7.0)  # inches; with DPI the PNG is 960 x 840 pixels
DPI = 120


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise CrustgfError("plots need matplotlib (pip install 'crustgf[plot]')") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, out: Path) -> Path:
    """Save atomically (temp file beside `out`, then os.replace) and close the figure."""
    from crustgf.core.atomic import atomic_open

    out = Path(out)
    try:
        with atomic_open(out, "wb") as fh:
            fig.savefig(fh, format="png", dpi=DPI)
    finally:
        _pyplot().close(fig)
    return out


def subfault_boundary_edges(cells: np.ndarray, cell_subfault: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges (m, 2) vertex ids on each subfault's outline, and their subfault (m,).

    An edge is on a subfault's outline when only one of that subfault's triangles uses it.
    """
    tri = np.asarray(cells)[:, :3]
    sub = np.repeat(np.asarray(cell_subfault), 3)
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]).reshape(3, -1, 2)
    e = np.transpose(e, (1, 0, 2)).reshape(-1, 2)
    keys = np.column_stack([sub, e.min(axis=1), e.max(axis=1)])
    uniq, count = np.unique(keys, axis=0, return_counts=True)
    once = uniq[count == 1]
    return once[:, 1:], once[:, 0]


def _segments(frame: MapFrame, vertices: np.ndarray, edges: np.ndarray) -> np.ndarray:
    a, b = frame.xy(vertices[:, 0], vertices[:, 1])
    pts = np.column_stack([a, b])
    return pts[edges]  # (m, 2, 2)


def _triangles(frame: MapFrame, vertices: np.ndarray, cells: np.ndarray) -> np.ndarray:
    a, b = frame.xy(vertices[:, 0], vertices[:, 1])
    return np.column_stack([a, b])[np.asarray(cells)[:, :3]]  # (n, 3, 2)


def nice_reference(value: float) -> float:
    """1, 2 or 5 times a power of ten, not above `value` (for scale arrows)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    p = 10.0 ** np.floor(np.log10(value))
    return max(m * p for m in (1.0, 2.0, 5.0) if m * p <= value * (1 + 1e-12))


def _fit_limits(ax, xs: np.ndarray, ys: np.ndarray, pad: float = 0.06) -> None:
    x0, x1, y0, y1 = np.nanmin(xs), np.nanmax(xs), np.nanmin(ys), np.nanmax(ys)
    dx, dy = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    ax.set_xlim(x0 - pad * dx, x1 + pad * dx)
    ax.set_ylim(y0 - pad * dy, y1 + pad * dy)


def _draw_subfaults(ax, frame, vertices, cells, cell_subfault, highlight=None, face_values=None,
                    cmap="viridis", label_norm=None):
    """Outlines of every subfault; optional fill of one (highlight) or all (face_values per subfault)."""
    from matplotlib.collections import LineCollection, PolyCollection

    edges, edge_sub = subfault_boundary_edges(cells, cell_subfault)
    tri_xy = _triangles(frame, vertices, cells)
    mappable = None
    if face_values is not None:
        mappable = PolyCollection(tri_xy, array=np.asarray(face_values)[cell_subfault], cmap=cmap,
                                  norm=label_norm, edgecolors="face", linewidths=0.2)
        ax.add_collection(mappable)
    ax.add_collection(LineCollection(_segments(frame, vertices, edges), colors="0.35", linewidths=0.5))
    if highlight is not None:
        mine = cell_subfault == highlight
        ax.add_collection(PolyCollection(tri_xy[mine], facecolors="gold", edgecolors="none", alpha=0.55))
        ax.add_collection(LineCollection(_segments(frame, vertices, edges[edge_sub == highlight]),
                                         colors="darkorange", linewidths=1.8))
    return tri_xy, mappable


def plot_greens_function(gf_path, subfault: int, component: str, out, variant: str | None = None) -> Path:
    """Map of one subfault's Green's function (SPEC 3 file) for unit `component`-slip; PNG at `out`."""
    from crustgf.io.gfread import load_greens_functions

    if component not in COMPONENTS:
        raise CrustgfError(f"--component: must be one of {sorted(COMPONENTS)}, got {component!r}")
    gf = load_greens_functions(gf_path, variant=variant)
    sf = gf.subfaults
    if not 0 <= subfault < sf.n:
        raise CrustgfError(f"--subfault: {gf_path} has subfaults 0..{sf.n - 1}, got {subfault}")
    k = COMPONENTS[component]
    if not gf.done[subfault, k]:
        raise CrustgfError(f"{gf_path}: the {component}-slip solve of subfault {subfault} is not done")
    if sf.vertices is None or sf.cells is None or sf.cell_subfault is None:
        raise CrustgfError(f"{gf_path}: no /subfaults/vertices, cells, cell_subfault to draw")
    u = gf.displacement[:, :, subfault, k]  # (n_st, 3) E, N, U in m per m of slip
    frame = MapFrame(stored_origin(gf.attrs.get("config", "")))

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZE, constrained_layout=True)
    tri_xy, _ = _draw_subfaults(ax, frame, sf.vertices, sf.cells, sf.cell_subfault, highlight=subfault)
    sx, sy = frame.xy(gf.station_positions[:, 0], gf.station_positions[:, 1])
    _fit_limits(ax, np.r_[sx, tri_xy[..., 0].ravel()], np.r_[sy, tri_xy[..., 1].ravel()])

    vmax = float(np.max(np.abs(u[:, 2]))) or 1.0
    sc = ax.scatter(sx, sy, c=u[:, 2], cmap="RdBu_r", vmin=-vmax, vmax=vmax, s=28,
                    edgecolors="k", linewidths=0.4, zorder=3)
    fig.colorbar(sc, ax=ax, shrink=0.8, label="up (m per m of slip)")

    horiz = np.hypot(u[:, 0], u[:, 1])
    ref = nice_reference(float(horiz.max()))
    width = ax.get_xlim()[1] - ax.get_xlim()[0]
    scale = max(float(horiz.max()), 1e-30) / (0.12 * width)  # longest arrow: 12 % of the map width
    q = ax.quiver(sx, sy, u[:, 0] * frame.east_stretch, u[:, 1], angles="xy", scale_units="xy",
                  scale=scale, width=0.003, color="k", zorder=4)
    ax.quiverkey(q, 0.80, 0.05, ref * frame.east_stretch, f"{ref:g} m per m (horizontal)",
                 labelpos="N", coordinates="axes")
    c = sf.centroid[subfault]
    ax.set_title(f"{gf.attrs.get('name', '') or Path(gf_path).stem}: subfault {subfault}, "
                 f"{component}-slip +1 m{'' if variant is None else f' [{variant}]'}\n"
                 f"strike {sf.strike[subfault]:.0f}°, dip {sf.dip[subfault]:.0f}°, "
                 f"centroid depth {-c[2] / 1e3:.1f} km", fontsize=10)
    frame.decorate(ax)
    return save_png(fig, out)


def _read_model(model_path):
    from crustgf.io.modelfile import read_model

    return read_model(model_path)


def plot_layout(model_path, out) -> Path:
    """Subfaults coloured by centroid depth (km) and the stations; PNG at `out`."""
    model = _read_model(model_path)
    frame = MapFrame(stored_origin(model.config_text))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZE, constrained_layout=True)
    depth_km = -model.subfaults.centroid[:, 2] / 1e3
    tri_xy, mappable = _draw_subfaults(ax, frame, model.nodes, model.fault_cells, model.fault_cell_subfault,
                                       face_values=depth_km, cmap="viridis_r")
    fig.colorbar(mappable, ax=ax, shrink=0.8, label="subfault centroid depth (km)")
    if model.n_subfaults <= 150:
        cx, cy = frame.xy(model.subfaults.centroid[:, 0], model.subfaults.centroid[:, 1])
        for j, (a, b) in enumerate(zip(cx, cy)):
            ax.text(a, b, str(j), fontsize=6, ha="center", va="center", color="w", zorder=5)
    sx, sy = frame.xy(model.station_positions[:, 0], model.station_positions[:, 1])
    ax.scatter(sx, sy, marker="^", s=22, c="crimson", edgecolors="k", linewidths=0.3, zorder=4,
               label=f"{len(sx)} stations")
    _fit_limits(ax, np.r_[sx, tri_xy[..., 0].ravel()], np.r_[sy, tri_xy[..., 1].ravel()])
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{model.name or Path(model_path).stem}: {model.n_subfaults} subfaults, "
                 f"{len(model.cells)} elements (order {model.order})", fontsize=10)
    frame.decorate(ax)
    return save_png(fig, out)


def parse_section(spec: str, origin) -> tuple[SectionLine, bool]:
    """'lon1,lat1,lon2,lat2' (needs an origin) or 'xy:x1,y1,x2,y2' (km) -> (SectionLine, geographic)."""

    text = spec.strip()
    geographic = not text.lower().startswith("xy:")
    if not geographic:
        text = text[3:]
    try:
        v = [float(t) for t in text.split(",")]
    except ValueError:
        v = []
    if len(v) != 4:
        raise CrustgfError(f"--section: expected 'lon1,lat1,lon2,lat2' or 'xy:x1,y1,x2,y2' (km), got {spec!r}")
    if geographic and origin is None:
        geographic = False  # no origin: the numbers can only be x/y km
    if geographic:
        from crustgf.geometry.projection import Projection

        x, y = Projection(origin).to_xy([v[0], v[2]], [v[1], v[3]])
        line = SectionLine(float(x[0]), float(y[0]), float(x[1]), float(y[1]))
    else:
        line = SectionLine(v[0] * 1e3, v[1] * 1e3, v[2] * 1e3, v[3] * 1e3)
    if line.length <= 0:
        raise CrustgfError(f"--section: the two ends are the same point: {spec!r}")
    return line, geographic


def sample_section(model, line, depth_max: float, ns: int = 360, nz: int = 180, depth_min: float = 0.0):
    """Material id on an (nz, ns) grid of the section (s in m, depth in m) from the mesh's elements;
    -1 where the point is outside the model (never an invented material)."""
    from crustgf.fem.locate import find_elements

    s = np.linspace(0.0, line.length, ns)
    depth = np.linspace(depth_min, depth_max, nz)
    pts = line.points(s, depth).reshape(-1, 3)
    elem, _ = find_elements(model.nodes, model.cells, pts)
    mat = np.where(elem >= 0, np.asarray(model.cell_material)[np.maximum(elem, 0)], -1)
    return s, depth, mat.reshape(nz, ns)


def section_surface(model, line, s: np.ndarray) -> np.ndarray:
    """z (m) of the meshed free surface at along-section distances s (0 where the mesh top is flat)."""
    from crustgf.mesh.warp import surface_z_at, top_faces

    on_top = np.zeros(len(model.nodes), bool)
    on_top[np.asarray(model.free_surface_nodes)] = True
    faces = top_faces(np.asarray(model.cells)[:, :4], on_top)
    xy = line.points(s, np.zeros(1))[0, :, :2]
    z = surface_z_at(model.nodes, faces, xy) if len(faces) else np.zeros(len(s))
    return np.where(np.isfinite(z), z, 0.0)


def plate_top(material: np.ndarray, depth: np.ndarray, plate_ids: np.ndarray) -> np.ndarray:
    """Depth of the shallowest plate-material sample in each column (NaN where none)."""
    is_plate = np.isin(material, plate_ids)
    first = np.argmax(is_plate, axis=0)
    return np.where(is_plate.any(axis=0), depth[first], np.nan)


def plot_section(model_path, spec: str, out, depth_max_km: float = 100.0) -> Path:
    """Vertical cross-section of the materials along `spec` (see parse_section); PNG at `out`."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    from crustgf.plot.section import triangle_plane_crossings

    model = _read_model(model_path)
    origin = stored_origin(model.config_text)
    line, geographic = parse_section(spec, origin)
    depth_max = min(depth_max_km * 1e3, -float(model.nodes[:, 2].min()))
    s0 = np.linspace(0.0, line.length, 360)
    surf = section_surface(model, line, s0)  # z of the meshed free surface along the section
    depth_min = min(0.0, -float(np.nanmax(surf)))
    s, depth, mat = sample_section(model, line, depth_max, depth_min=depth_min)
    mat = np.ma.masked_where(-depth[:, None] > surf[None, :] + 1e-6, mat)  # above the surface: blank

    layers = model.layers
    nmat = len(layers.name)
    kinds = list(layers.kind) if len(layers.kind) == nmat else ["flat"] * nmat
    palette = ["#f2e3b3", "#d9b38c", "#b08060", "#8c6d8c", "#6fa8dc", "#2e5e8c", "#9fc5a0", "#c27ba0"]
    cmap = ListedColormap([palette[i % len(palette)] for i in range(nmat)])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10.0, 5.0), constrained_layout=True)
    ax.pcolormesh(s / 1e3, depth / 1e3, np.ma.masked_less(mat, 0), cmap=cmap,
                  norm=BoundaryNorm(np.arange(nmat + 1) - 0.5, nmat), shading="nearest")
    handles = [Patch(color=cmap(i), label=f"{layers.name[i]} (vp {layers.vp[i] / 1e3:.1f}, "
                     f"vs {layers.vs[i] / 1e3:.1f} km/s)") for i in np.unique(np.ma.compressed(mat)) if i >= 0]
    if (np.ma.filled(mat, 0) < 0).any():  # below the surface but outside the model's box
        handles.append(Patch(facecolor="white", edgecolor="0.5", label="outside the model"))

    plate_ids = np.array([i for i in range(nmat) if kinds[i] == "plate"], dtype=int)
    top = plate_top(mat, depth, plate_ids) if plate_ids.size else np.full(len(s), np.nan)
    if np.isfinite(top).any():
        (h,) = ax.plot(s / 1e3, top / 1e3, "k--", lw=1.0, label="top of plate layers (sampled)")
        handles.append(h)
    if np.nanmax(np.abs(surf)) > 0.0:
        (h,) = ax.plot(s0 / 1e3, -surf / 1e3, "k-", lw=1.2, label="free surface (topography, bathymetry)")
        handles.append(h)
        ax.axhline(0.0, color="0.6", lw=0.6, ls=":")
    tri = model.nodes[np.asarray(model.fault_cells)[:, :3]]
    segs = triangle_plane_crossings(tri, line)
    if len(segs):
        ax.add_collection(LineCollection(segs / 1e3, colors="red", linewidths=2.0))
        handles.append(plt.Line2D([], [], color="red", lw=2.0, label="fault (subfaults, from the mesh)"))
    ax.set_xlim(0, line.length / 1e3)
    ax.set_ylim(depth_max / 1e3, depth_min / 1e3)
    ve = max(1, int(round(line.length / depth_max / 4)))
    ax.set_aspect(ve)
    ax.set_xlabel("distance along section (km)")
    ax.set_ylabel("depth (km)")
    if geographic:
        a, b = MapFrame(origin).xy(np.array([line.x0, line.x1]), np.array([line.y0, line.y1]))
        ends = f"{a[0]:.2f}°E {b[0]:.2f}°N → {a[1]:.2f}°E {b[1]:.2f}°N"
    else:
        ends = f"({line.x0 / 1e3:.0f}, {line.y0 / 1e3:.0f}) → ({line.x1 / 1e3:.0f}, {line.y1 / 1e3:.0f}) km"
    ax.set_title(f"{model.name or Path(model_path).stem}: section {ends}, vertical exaggeration ×{ve}",
                 fontsize=10)
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    return save_png(fig, out)
