"""The model file (HDF5, layout in docs/CONTRACTS.md) and its Xdmf sidecar.

    /mesh/nodes (nn, 3) f8 m; /mesh/cells (ne, 4|10) i8 VTK order; /mesh/cell_material (ne,) i4
    /model/layers/{name, bottom, vp, vs, density, mu, lambda, kind} SI (plate layer: bottom = thickness)
    /fault/cells (nf, 3|6) i8, (p1-p0) x (p2-p0) into the hanging wall; /fault/cell_subfault i4;
    /fault/buried_edge_nodes i8
    /subfaults/{centroid m, strike deg, dip deg, area m^2, corners m}
    /boundary/free_surface_nodes, /boundary/fixed_nodes i8
    /stations/{name, position m, lonlat deg (when known)}
    /attrs: Model.attrs as HDF5 attributes
    root attrs: kind = "crustgf-model", crustgf_version, config (TOML text), frame, name

Every dataset has a `units` attribute ("1" for indices and dimensionless values). Files are
written to a temporary file in the same folder and renamed over the target, so readers never
see a half-written model; the Xdmf sidecar (path.with_suffix('.xdmf')) likewise.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np

from crustgf.core.errors import REBUILD_HINT, CrustgfError, damaged_file, open_hdf5
from crustgf.io.xdmf import model_xdmf
from crustgf.mesh.model import LayerTable, Model, SubfaultTable

KIND = "crustgf-model"
_STR = h5py.string_dtype()


def checksummed(data) -> dict:
    """create_dataset options: a Fletcher-32 checksum on every chunk (verified by HDF5 on each
    read, so silent corruption is an error), where the data can be chunked (not empty, not scalar)."""
    a = np.asarray(data)
    return {"fletcher32": True} if a.ndim >= 1 and a.size > 0 and a.dtype != object else {}


def text_sha256(values) -> str:
    """The checksum stored with a string dataset (HDF5 cannot checksum variable-length strings)."""
    return hashlib.sha256("\0".join(str(v) for v in values).encode()).hexdigest()


def verified_strings(d) -> list[str]:
    """A string dataset's values; ValueError when its stored sha256 attribute does not match."""
    values = [str(v) for v in d.asstr()[()]]
    stored = d.attrs.get("sha256")
    if stored is not None and (stored.decode() if isinstance(stored, bytes) else str(stored)) != text_sha256(values):
        raise ValueError(f"{d.name}: data does not match its sha256 checksum")
    return values


def _ds(g: h5py.Group, name: str, data, units: str) -> None:
    d = g.create_dataset(name, data=data, **checksummed(data))
    d.attrs["units"] = units


def _str_ds(g: h5py.Group, name: str, values) -> None:
    values = [str(v) for v in values]
    d = g.create_dataset(name, data=np.array(values, dtype=object), dtype=_STR)
    d.attrs["units"] = "1"
    d.attrs["sha256"] = text_sha256(values)


def _write_layers(g: h5py.Group, t: LayerTable) -> None:
    _str_ds(g, "name", t.name)
    _ds(g, "bottom", np.asarray(t.bottom, float), "m")
    _ds(g, "vp", np.asarray(t.vp, float), "m/s")
    _ds(g, "vs", np.asarray(t.vs, float), "m/s")
    _ds(g, "density", np.asarray(t.density, float), "kg/m^3")
    _ds(g, "mu", np.asarray(t.mu, float), "Pa")
    _ds(g, "lambda", np.asarray(t.lam, float), "Pa")
    _str_ds(g, "kind", t.kind or ["flat"] * len(t.name))


def _write_contents(f: h5py.File, m: Model) -> None:
    f.attrs.update(kind=KIND, crustgf_version=m.crustgf_version, config=m.config_text,
                   frame=m.frame, name=m.name)
    g = f.create_group("mesh")
    _ds(g, "nodes", np.asarray(m.nodes, np.float64), "m")
    _ds(g, "cells", np.asarray(m.cells, np.int64), "1")
    _ds(g, "cell_material", np.asarray(m.cell_material, np.int32), "1")
    _write_layers(f.create_group("model/layers"), m.layers)
    g = f.create_group("fault")
    _ds(g, "cells", np.asarray(m.fault_cells, np.int64), "1")
    _ds(g, "cell_subfault", np.asarray(m.fault_cell_subfault, np.int32), "1")
    _ds(g, "buried_edge_nodes", np.asarray(m.buried_edge_nodes, np.int64), "1")
    g = f.create_group("subfaults")
    s = m.subfaults
    _ds(g, "centroid", np.asarray(s.centroid, float), "m")
    _ds(g, "strike", np.asarray(s.strike, float), "degrees")
    _ds(g, "dip", np.asarray(s.dip, float), "degrees")
    _ds(g, "area", np.asarray(s.area, float), "m^2")
    if s.corners is not None:
        _ds(g, "corners", np.asarray(s.corners, float), "m")
    g = f.create_group("boundary")
    _ds(g, "free_surface_nodes", np.asarray(m.free_surface_nodes, np.int64), "1")
    _ds(g, "fixed_nodes", np.asarray(m.fixed_nodes, np.int64), "1")
    g = f.create_group("stations")
    _str_ds(g, "name", m.station_names)
    _ds(g, "position", np.asarray(m.station_positions, float).reshape(-1, 3), "m")
    if m.station_lonlat is not None:
        _ds(g, "lonlat", np.asarray(m.station_lonlat, float).reshape(-1, 2), "degrees")
    f.create_group("attrs").attrs.update(m.attrs)


def _atomic_write(path: Path, write) -> None:
    """Call write(tmp_path) on a temporary file beside `path`, then rename it over `path`."""
    from crustgf.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        write(tmp)


def write_model(model: Model, path) -> None:
    """Write the model file atomically, then its Xdmf sidecar path.with_suffix('.xdmf')."""
    path = Path(path)
    if not path.parent.is_dir():
        raise CrustgfError(f"{path}: folder {path.parent} does not exist")

    def write_h5(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            _write_contents(f, model)

    _atomic_write(path, write_h5)
    text = model_xdmf(path.name, len(model.nodes), model.cells.shape, model.fault_cells.shape)
    _atomic_write(path.with_suffix(".xdmf"), lambda tmp: tmp.write_text(text))


def _open_model(path) -> h5py.File:
    f = open_hdf5(Path(path), "file", "rebuild it (crustgf mesh CONFIG -o MODEL)")
    with damaged_file(path, REBUILD_HINT):
        kind = f.attrs.get("kind")
    if kind != KIND:
        f.close()
        raise CrustgfError(f"{path}: not a crustgf model file (root attribute kind is not {KIND!r})")
    return f


def _strs(d) -> list[str]:
    return verified_strings(d)


def _read_layers(g: h5py.Group) -> LayerTable:
    return LayerTable(name=_strs(g["name"]), bottom=g["bottom"][()], vp=g["vp"][()], vs=g["vs"][()],
                      density=g["density"][()], kind=_strs(g["kind"]))


def read_model(path) -> Model:
    """Read a model file written by write_model; CrustgfError if it is not one."""
    with _open_model(path) as f, damaged_file(path, REBUILD_HINT):
        try:
            s = f["subfaults"]
            return Model(
                nodes=f["mesh/nodes"][()],
                cells=f["mesh/cells"][()],
                cell_material=f["mesh/cell_material"][()],
                layers=_read_layers(f["model/layers"]),
                fault_cells=f["fault/cells"][()],
                fault_cell_subfault=f["fault/cell_subfault"][()],
                subfaults=SubfaultTable(centroid=s["centroid"][()], strike=s["strike"][()], dip=s["dip"][()],
                                        area=s["area"][()], corners=s["corners"][()] if "corners" in s else None),
                buried_edge_nodes=f["fault/buried_edge_nodes"][()],
                free_surface_nodes=f["boundary/free_surface_nodes"][()],
                fixed_nodes=f["boundary/fixed_nodes"][()],
                station_names=_strs(f["stations/name"]),
                station_positions=f["stations/position"][()],
                station_lonlat=f["stations/lonlat"][()] if "stations/lonlat" in f else None,
                config_text=str(f.attrs.get("config", "")),
                crustgf_version=str(f.attrs.get("crustgf_version", "")),
                frame=str(f.attrs.get("frame", "")),
                name=str(f.attrs.get("name", "")),
                attrs=dict(f["attrs"].attrs) if "attrs" in f else {},
            )
        except KeyError as exc:
            raise CrustgfError(f"{path}: damaged crustgf model file (missing {exc})") from None


def read_config_text(path) -> str:
    """The TOML text the model was built from (verbatim)."""
    return read_model_attrs(path)[0]


def read_model_attrs(path) -> tuple[str, dict]:
    """(config text, /attrs attributes) of a model file, without reading the mesh."""
    with _open_model(path) as f, damaged_file(path, REBUILD_HINT):
        return str(f.attrs.get("config", "")), dict(f["attrs"].attrs) if "attrs" in f else {}


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
