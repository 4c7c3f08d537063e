"""Slip models of rectangular source patches (e.g. SRCMOD's 1946 Nankai model) mapped onto subfaults.

A source patch is a planar rectangle given by its TOP-CENTRE (lon, lat, depth of the top edge),
strike, dip, rake, length along strike and width down dip, with a uniform slip (m). Its slip
vector is the hanging wall's motion (Aki & Richards): rake is measured in the fault plane from
the strike direction, rake 90 = thrust, so  b = slip * (cos(rake) * s - sin(rake) * d)  with s, d
the strike and (down-)dip vectors of crustgf.geometry.frames.

Mapping onto crustgf subfaults (`map_slip_model`): every subfault triangle is sampled with
refine^2 equal-area points; each point takes the slip vector of the source patch it lies in seen
in MAP VIEW (vertically above or below it; zero outside every patch), so a curved slab interface
picks up the slip of the planar source model over the same area of the map. A subfault's slip is
the area-weighted mean of its points' slip vectors, projected onto the subfault's own strike and
reverse-dip directions and rescaled to the mean vector's length (the normal part a curved subfault
cannot carry is turned into the plane, not lost), so the potency sum(|slip| * area) is kept
wherever the subfaults cover the source model (to the sampling resolution; more where the
subfaults are steeper than the source, since their area is larger per map area).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crustgf.core.errors import CrustgfError
from crustgf.data import data_file
from crustgf.geometry.frames import dip_vector, normal_vector, strike_vector
from crustgf.io.gfread import Subfaults

# the 1946 Nankai model of Baba et al. (2002), shipped with crustgf (provenance in the file)
NANKAI_1946 = data_file("slip_1946_nankai_baba2002.csv")


@dataclass
class SourcePatches:
    top_center: np.ndarray  # (n, 3) m, local frame (z up, negative below the surface)
    strike: np.ndarray  # (n,) degrees
    dip: np.ndarray  # (n,) degrees
    rake: np.ndarray  # (n,) degrees
    length: np.ndarray  # (n,) m along strike
    width: np.ndarray  # (n,) m down dip
    slip: np.ndarray  # (n,) m

    @property
    def area(self) -> np.ndarray:
        return self.length * self.width

    def slip_vectors(self) -> np.ndarray:
        """(n, 3) hanging-wall slip vectors in m: slip * (cos(rake) s - sin(rake) d)."""
        r = np.radians(self.rake)[:, None]
        s, d = strike_vector(self.strike), dip_vector(self.strike, self.dip)
        return self.slip[:, None] * (np.cos(r) * s - np.sin(r) * d)


def _comment_values(text: str) -> dict:
    """strike/dip/rake and patch size stated in the '#' lines (as the shipped 1946 file does)."""
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    out = {}
    for key in ("strike", "dip", "rake"):
        m = re.search(rf"\b{key}\s*[=:]?\s*(-?\d+(?:\.\d+)?)", comments, re.IGNORECASE)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"(\d+(?:\.\d+)?)\s*km\s*\(along strike\)\s*x\s*(\d+(?:\.\d+)?)\s*km\s*\(down dip\)", comments)
    if m:
        out["length_km"], out["width_km"] = float(m.group(1)), float(m.group(2))
    return out


def read_slip_model(path, origin, **fixed) -> SourcePatches:
    """Read a slip-model CSV: columns lat, lon, top_depth_km, slip_m (+ optional strike, dip, rake,
    length_km, width_km per patch). Values missing as columns come from `fixed` keywords or, failing
    that, from the file's comment lines. origin = (lon, lat) of the local frame."""
    from crustgf.core.tables import TableError, read_table
    from crustgf.geometry.projection import Projection

    path = Path(path)
    if origin is None:
        raise CrustgfError(f"{path}: a slip model in lon/lat needs the model's domain.origin, and the GF file has none")
    try:
        table = read_table(path)
        if not table.has("lat", "lon", "top_depth_km", "slip_m"):
            raise TableError("needs columns lat, lon, top_depth_km, slip_m")
        lat, lon = table.numbers("lat"), table.numbers("lon")
        values = {"top_depth_km": table.numbers("top_depth_km"), "slip_m": table.numbers("slip_m")}
        stated = _comment_values(path.read_text(encoding="utf-8-sig"))
        for key in ("strike", "dip", "rake", "length_km", "width_km"):
            if table.has(key):
                values[key] = table.numbers(key)
            elif fixed.get(key) is not None:
                values[key] = np.full(len(lat), float(fixed[key]))
            elif key in stated:
                values[key] = np.full(len(lat), stated[key])
            else:
                raise TableError(f"no '{key}' column, option or comment line")
    except TableError as exc:
        raise CrustgfError(f"{path}: {exc}") from None
    x, y = Projection(origin).to_xy(lon, lat)
    return SourcePatches(
        top_center=np.stack([x, y, -1e3 * values["top_depth_km"]], axis=1),
        strike=values["strike"], dip=values["dip"], rake=values["rake"],
        length=1e3 * values["length_km"], width=1e3 * values["width_km"], slip=values["slip_m"],
    )


def triangle_samples(vertices: np.ndarray, cells: np.ndarray, refine: int):
    """Centroids and areas of the refine^2 congruent sub-triangles of every triangle.

    Returns points (nc * refine^2, 3), weights (same count,) m^2, cell index of each point.
    """
    # barycentric centroids of the sub-triangles of a regular refine x refine split
    bary = []
    for i in range(refine):
        for j in range(refine - i):
            bary.append([(i + 1 / 3), (j + 1 / 3), refine - i - j - 2 / 3])  # upward triangle
            if i + j < refine - 1:
                bary.append([(i + 2 / 3), (j + 2 / 3), refine - i - j - 4 / 3])  # downward triangle
    bary = np.array(bary) / refine  # (refine^2, 3), rows sum to 1
    tri = vertices[cells]  # (nc, 3, 3)
    points = np.einsum("kv,cvx->ckx", bary, tri).reshape(-1, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    weights = np.repeat(area / len(bary), len(bary))
    owner = np.repeat(np.arange(len(cells)), len(bary))
    return points, weights, owner


def patch_containing(points: np.ndarray, src: SourcePatches) -> np.ndarray:
    """Index of the source patch each point lies in, seen in map view; -1 outside all of them."""
    phi = np.radians(src.strike)
    cosd = np.cos(np.radians(src.dip))
    rel = points[:, None, :2] - src.top_center[None, :, :2]  # (np, nsrc, 2)
    a = rel[..., 0] * np.sin(phi) + rel[..., 1] * np.cos(phi)  # along strike, m
    # horizontal down-dip direction (cos phi, -sin phi); map distance / cos(dip) = distance in the plane
    w = (rel[..., 0] * np.cos(phi) - rel[..., 1] * np.sin(phi)) / cosd
    inside = (np.abs(a) <= 0.5 * src.length) & (w >= 0) & (w <= src.width)
    return np.where(inside.any(axis=1), inside.argmax(axis=1), -1)


def map_slip_model(subfaults: Subfaults, src: SourcePatches, refine: int = 6) -> np.ndarray:
    """(n_subfaults, 2) strike-slip and dip-slip (m) of the source model on each subfault (see module doc)."""
    if subfaults.vertices is not None and subfaults.cells is not None and subfaults.cell_subfault is not None:
        points, weights, cell = triangle_samples(subfaults.vertices, subfaults.cells, refine)
        owner = np.asarray(subfaults.cell_subfault)[cell]
    else:  # no triangulation in the file: one sample per subfault, at its centroid
        points, weights, owner = subfaults.centroid, subfaults.area, np.arange(subfaults.n)
    k = patch_containing(points, src)
    check_orientation(subfaults, src, k, owner, weights)
    vec = np.where((k >= 0)[:, None], src.slip_vectors()[np.maximum(k, 0)], 0.0)
    total = np.zeros((subfaults.n, 3))
    np.add.at(total, owner, weights[:, None] * vec)
    wsum = np.bincount(owner, weights, minlength=subfaults.n)
    mean = total / np.where(wsum > 0, wsum, 1.0)[:, None]
    s = strike_vector(subfaults.strike)
    reverse = -dip_vector(subfaults.strike, subfaults.dip)  # +dip-slip direction (SPEC 4)
    comp = np.stack([np.sum(mean * s, axis=1), np.sum(mean * reverse, axis=1)], axis=1)
    in_plane = np.linalg.norm(comp, axis=1)
    scale = np.where(in_plane > 0, np.linalg.norm(mean, axis=1) / np.where(in_plane > 0, in_plane, 1.0), 0.0)
    return comp * scale[:, None]


# a source patch and the subfault under it must be roughly the same plane, facing the same way
MAX_PLANE_ANGLE = 45.0  # degrees, potency-weighted mean


def check_orientation(subfaults: Subfaults, src: SourcePatches, k: np.ndarray, owner: np.ndarray,
                      weights: np.ndarray) -> None:
    """CrustgfError when the slip model's planes do not fit the fault's (another fault, a flipped dip
    direction, a wrong origin): its slip would map onto the subfaults with a meaningless rake."""
    hit = k >= 0
    if not hit.any():
        raise CrustgfError("slip model: none of its patches lies over the fault (in map view); "
                           "check the file's lon/lat and the model's origin")
    n_src = normal_vector(src.strike, src.dip)[k[hit]]
    n_sub = normal_vector(subfaults.strike, subfaults.dip)[owner[hit]]
    w = weights[hit] * src.slip[k[hit]]
    cos = np.clip(np.sum(n_src * n_sub, axis=1), -1.0, 1.0)
    angle = float(np.degrees(np.arccos(np.sum(w * cos) / max(np.sum(w), 1e-300))))
    if angle > MAX_PLANE_ANGLE:
        raise CrustgfError(
            f"slip model: its patches are {angle:.0f} degrees from the fault's plane where they overlap "
            f"(at most {MAX_PLANE_ANGLE:g} allowed): it does not describe this fault "
            "(strike/dip of another fault, or dipping the other way)")


def rake_slip(strike_slip, dip_slip):
    """Slip magnitude (m) and rake (degrees, Aki & Richards; 90 = thrust) from the two components."""
    return np.hypot(strike_slip, dip_slip), np.degrees(np.arctan2(dip_slip, strike_slip))
