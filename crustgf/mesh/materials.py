"""Materials: the layer table and the material id of each element.

Material id i is row i of the LayerTable: first the flat layers of cfg.layers (top to bottom),
then the plate layers of cfg.plate_layers (kind 'plate', `bottom` = thickness below the plate
interface). `assign_materials` is the hook that decides an element's material from its centroid;
today it knows flat layers only, the plate-layer geometry extends it.
"""

from __future__ import annotations

import numpy as np

from crustgf.config.schema import Config
from crustgf.mesh.model import LayerTable


def layer_table(cfg: Config) -> LayerTable:
    """LayerTable of cfg.layers (kind 'flat', or 'surface' for a bottom given as a surface: `bottom` is
    then its reference depth) followed by cfg.plate_layers (kind 'plate'), SI units."""
    layers = list(cfg.layers) + list(cfg.plate_layers)
    kinds = ["flat" if layer.surface is None else "surface" for layer in cfg.layers] + ["plate"] * len(cfg.plate_layers)
    return LayerTable(
        name=[layer.name for layer in layers],
        bottom=np.array([layer.bottom for layer in layers], dtype=float),
        vp=np.array([layer.vp for layer in layers], dtype=float),
        vs=np.array([layer.vs for layer in layers], dtype=float),
        density=np.array([layer.density for layer in layers], dtype=float),
        kind=kinds,
    )


def flat_layer_index(cfg: Config, depth: np.ndarray) -> np.ndarray:
    """Index into cfg.layers of the flat layer holding each depth (m, positive down).

    A depth exactly on an interface belongs to the upper layer; depths below the last bottom
    go to the last layer.
    """
    bottoms = np.array([layer.bottom for layer in cfg.layers], dtype=float)
    idx = np.searchsorted(bottoms, np.asarray(depth, dtype=float), side="left")
    return np.minimum(idx, len(bottoms) - 1).astype(np.int32)


def layer_index(cfg: Config, points: np.ndarray) -> np.ndarray:
    """Index into cfg.layers of the layer holding each point (n, 3; z up, m): the number of layer
    bottoms above it at its (x, y) (flat bottoms or surfaces; on a bottom: the upper layer)."""
    p = np.asarray(points, dtype=float)
    if all(layer.surface is None for layer in cfg.layers):
        return flat_layer_index(cfg, -p[:, 2])
    depth = -p[:, 2]
    ids = np.zeros(len(p), np.int32)
    for layer in cfg.layers[:-1]:
        ids += layer.bottom_depth(p[:, 0], p[:, 1]) < depth
    return ids


def assign_materials(cfg: Config, centroids: np.ndarray) -> np.ndarray:
    """Material id (row of layer_table(cfg)) of each element from its centroid (n, 3), z up, m.

    Layers by their bottoms at the centroid's (x, y) (layer_index). Elements are meshed so that
    none crosses an imprinted interface, so the centroid decides unambiguously there; where a
    layer pinches out or meets the surface, its bottom runs through elements (mesh/warp.py).
    Plate layers (cfg.plate_layers) are assigned by the plate-interface geometry, which
    overrides the flat ids of the elements it claims.
    """
    centroids = np.asarray(centroids, dtype=float)
    ids = layer_index(cfg, centroids)
    if cfg.plate_layers:  # plate layer k is material len(cfg.layers) + k (geometry/plate.py)
        from crustgf.geometry.plate import interface_surface, plate_layer_of

        k = plate_layer_of(centroids, interface_surface(cfg), cfg.plate_layers)
        core = getattr(cfg.domain, "core", None)
        if core is not None:  # the far field's huge elements (a sized box) keep their flat layer: a plate
            x, y = centroids[:, 0], centroids[:, 1]  # layer decided by their centroid there is noise
            k[(x < core[0]) | (x > core[1]) | (y < core[2]) | (y > core[3])] = -1
        ids = np.where(k >= 0, len(cfg.layers) + k, ids).astype(np.int32)
    return ids
