"""Model file round trip, Xdmf sidecar, errors, and `crustgf info`."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import pytest
from mesh_cases import make_config

from crustgf.cli.info import model_summary, summarize
from crustgf.core.errors import CrustgfError
from crustgf.io.modelfile import file_sha256, read_config_text, read_model, write_model
from crustgf.mesh import build_model


@pytest.fixture(scope="module")
def model():
    cfg = make_config(size_fault=4.0, size_max=20.0)
    m = build_model(cfg, progress=False)
    m.station_lonlat = np.array([[135.0, 33.0], [135.1, 33.2]])
    m.attrs = {"note": "hello", "level": 3}
    return m


def test_round_trip_keeps_everything(model, tmp_path):
    path = tmp_path / "m.h5"
    write_model(model, path)
    back = read_model(path)
    for name in ["nodes", "cells", "cell_material", "fault_cells", "fault_cell_subfault", "buried_edge_nodes",
                 "free_surface_nodes", "fixed_nodes", "station_positions", "station_lonlat"]:
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name), err_msg=name)
    for name in ["centroid", "strike", "dip", "area", "corners"]:
        np.testing.assert_array_equal(getattr(back.subfaults, name), getattr(model.subfaults, name))
    for name in ["bottom", "vp", "vs", "density"]:
        np.testing.assert_array_equal(getattr(back.layers, name), getattr(model.layers, name))
    assert back.layers.name == model.layers.name and back.layers.kind == model.layers.kind
    assert back.station_names == model.station_names
    assert (back.config_text, back.name, back.frame) == (model.config_text, model.name, model.frame)
    assert back.attrs == {"note": "hello", "level": 3}
    assert read_config_text(path) == model.config_text
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    with h5py.File(path) as f:
        assert f.attrs["kind"] == "crustgf-model"
        assert f["mesh/nodes"].attrs["units"] == "m" and f["model/layers/mu"].attrs["units"] == "Pa"
        np.testing.assert_allclose(f["model/layers/mu"][()], model.layers.density * model.layers.vs**2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5", "m.xdmf"]  # no temporary files left


def test_xdmf_sidecar_references_the_datasets(model, tmp_path):
    path = tmp_path / "m.h5"
    write_model(model, path)
    root = ET.parse(tmp_path / "m.xdmf").getroot()
    grids = {g.get("Name"): g for g in root.iter("Grid")}
    vol, fault = grids["volume"].find("Topology"), grids["fault"].find("Topology")
    assert vol.get("TopologyType") == "Tetrahedron_10" and int(vol.get("NumberOfElements")) == len(model.cells)
    assert fault.get("TopologyType") == "Triangle_6"
    with h5py.File(path) as f:
        for item in root.iter("DataItem"):
            fname, dset = item.text.split(":")
            assert fname == "m.h5"
            assert f[dset].shape == tuple(int(n) for n in item.get("Dimensions").split())


def test_not_a_model_file_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    with pytest.raises(CrustgfError, match="not an HDF5 file"):
        read_model(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["kind"] = "something-else"
    with pytest.raises(CrustgfError, match="not a crustgf model file"):
        read_model(other)
    with pytest.raises(CrustgfError, match="no such file"):
        summarize(tmp_path / "missing.h5")


def test_failed_write_leaves_the_old_file(model, tmp_path):
    path = tmp_path / "m.h5"
    write_model(model, path)
    before = path.read_bytes()
    model.attrs = {"bad": object()}  # h5py cannot store this: the write fails midway
    try:
        with pytest.raises(TypeError):
            write_model(model, path)
    finally:
        model.attrs = {"note": "hello", "level": 3}
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5", "m.xdmf"]


def test_info_on_model_and_gf_files(model, tmp_path):
    path = tmp_path / "m.h5"
    write_model(model, path)
    text = summarize(path)
    assert f"nodes       {len(model.nodes)}" in text and f"DOF {3 * len(model.nodes)}" in text
    counts = np.bincount(model.cell_material)
    assert "crust" in text and f"{counts[0]} elements" in text and f"{counts[1]} elements" in text
    assert f"{model.n_subfaults} subfaults" in text and "stations    2" in text and "quality" in text
    assert text == model_summary(model, path)
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from gf_fixtures import layers_for, planar_fault, station_grid, write_gf_file

    fault = planar_fault((0.0, 0.0, -2000.0), 30.0, 20.0, 20e3, 10e3, 4, 2)
    names, pos = station_grid(30e3, 2)
    names, pos = names[:2], pos[:2]
    done = np.array([[True, True]] * 3 + [[False, False]] * 5)
    disp = np.zeros((2, 3, 8, 2))
    gf = write_gf_file(tmp_path / "gf.h5", names, pos, fault, disp, layers_for(0.25),
                       variants={"soft": (disp, layers_for(0.3))}, done=done)
    text = summarize(gf)
    assert "(2, 3, 8, 2)" in text and "reference: 6 of 16 solves done" in text and "soft: 16 of 16" in text
