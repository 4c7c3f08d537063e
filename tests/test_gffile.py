"""The GF file (SPEC 3 + variants), its journal, and structure variants, without a solver."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from crustgf.config.variants import apply_variant, solver_table_from_config_text, variants_from_config_text
from crustgf.core.errors import CrustgfError
from crustgf.greens.dispatch.tasks import BatchResult
from crustgf.greens.journal import Journal, journal_path
from crustgf.io.gffile import (
    KIND,
    GFHeader,
    SolveState,
    Structure,
    fault_triangulation,
    read_solve_states,
    write_gf_file,
)
from crustgf.mesh.model import LayerTable

CONFIG = """
[model]
name = "t"
[solver]
batch = 3
rtol = 1e-6
[[variants]]
name = "soft"
changes = [{layer = "crust", vs_scale = 0.9, density = 2.5}]
[[variants]]
name = "stiff_mantle"
changes = [{layer = "mantle", vp = 8.0}]
"""


def _layers():
    return LayerTable(["crust", "mantle"], np.array([15e3, 100e3]), np.array([6000.0, 7800.0]),
                      np.array([3500.0, 4500.0]), np.array([2700.0, 3300.0]), ["flat", "flat"])


def _header(n_st=3, n_sf=2, sha="a" * 64, lonlat=True):
    layers = _layers()
    return GFHeader(
        station_names=[f"S{i}" for i in range(n_st)], station_positions=np.arange(3.0 * n_st).reshape(n_st, 3),
        station_lonlat=np.ones((n_st, 2)) if lonlat else None,
        centroid=np.zeros((n_sf, 3)), strike=np.full(n_sf, 30.0), dip=np.full(n_sf, 20.0),
        area=np.full(n_sf, 4e6), vertices=np.zeros((4, 3)), cells=np.array([[0, 1, 2], [1, 3, 2]]),
        cell_subfault=np.array([0, 1]), config_text=CONFIG, frame="x east, y north, z up",
        model_sha256=sha, crustgf_version="0.1.0",
        structures=[Structure("reference", layers),
                    Structure("soft", apply_variant(layers, variants_from_config_text(CONFIG)[0]))])


def test_variants_from_text_in_si_and_applied_per_layer():
    soft, stiff = variants_from_config_text(CONFIG)
    assert soft.name == "soft" and stiff.name == "stiff_mantle"
    t = apply_variant(_layers(), soft)
    np.testing.assert_allclose(t.vs, [3150.0, 4500.0])  # 0.9 * 3.5 km/s
    np.testing.assert_allclose(t.density, [2500.0, 3300.0])  # 2.5 g/cm3
    np.testing.assert_allclose(t.mu[0], 2500.0 * 3150.0**2)
    np.testing.assert_allclose(apply_variant(_layers(), stiff).vp, [6000.0, 8000.0])
    np.testing.assert_allclose(_layers().vs, [3500.0, 4500.0])  # the input is untouched
    assert solver_table_from_config_text(CONFIG) == {"batch": 3, "rtol": 1e-6}


def test_variant_errors_name_the_variant():
    bad = variants_from_config_text('[[variants]]\nname = "x"\nchanges = [{layer = "core", vs = 1.0}]')[0]
    with pytest.raises(CrustgfError, match="variants.x: unknown layer 'core'"):
        apply_variant(_layers(), bad)
    unphysical = variants_from_config_text('[[variants]]\nname = "y"\nchanges = [{layer = "crust", vs_scale = 2.0}]')[0]
    with pytest.raises(CrustgfError, match="variants.y: layer 'crust' Poisson"):
        apply_variant(_layers(), unphysical)


def test_fault_triangulation_drops_midsides_and_reindexes():
    nodes = np.arange(30.0).reshape(10, 3)
    tri6 = np.array([[7, 3, 9, 0, 1, 2], [3, 5, 9, 4, 6, 8]])
    verts, cells = fault_triangulation(nodes, tri6)
    np.testing.assert_array_equal(verts, nodes[[3, 5, 7, 9]])
    np.testing.assert_array_equal(verts[cells], nodes[tri6[:, :3]])  # same triangles, same order


def test_merge_keeps_done_results_and_nans_failures():
    s = SolveState.empty(2, 3)
    d = np.ones((2, 3, 2))
    s.merge([[0, 0], [1, 1]], d, [1e-10, 1e-10], [5, 5], [True, True])
    s.merge([[0, 0], [2, 0]], 7 * d, [1e-2, 1e-2], [1, 1], [False, False])  # failures
    assert s.done.tolist() == [[True, False], [False, True], [False, False]]
    assert np.all(s.displacement[:, :, 0, 0] == 1.0)  # a failure never overwrites a done solve
    assert s.residual[0, 0] == 1e-10 and s.residual[2, 0] == 1e-2 and s.iterations[2, 0] == 1
    assert np.all(np.isnan(s.displacement[:, :, 2, 0]))  # not converged -> NaN
    np.testing.assert_array_equal(s.missing(), [[0, 1], [1, 0], [2, 0], [2, 1]])
    s.merge([[2, 0]], 3 * d[:, :, :1], [1e-9], [9], [True])  # a later success replaces it
    assert s.done[2, 0] and np.all(s.displacement[:, :, 2, 0] == 3.0)


def test_file_layout_units_and_round_trip(tmp_path):
    h = _header()
    ref, soft = SolveState.empty(3, 2), SolveState.empty(3, 2)
    ref.merge([[0, 0], [1, 1]], np.arange(18.0).reshape(3, 3, 2), [1e-9, 2e-9], [3, 4], [True, True])
    soft.merge([[1, 0]], np.ones((3, 3, 1)), [0.5], [1], [False])
    out = tmp_path / "gf.h5"
    write_gf_file(out, h, [ref, soft])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gf.h5"]  # no temp file left
    with h5py.File(out, "r") as f:
        assert f.attrs["kind"] == KIND and f.attrs["model_sha256"] == "a" * 64
        assert f.attrs["config"] == CONFIG
        for a in ("crustgf_version", "frame", "slip_convention"):
            assert len(f.attrs[a]) > 0
        assert list(f.attrs["variants"]) == ["soft"]
        disp = f["greens_functions/displacement"]
        assert disp.shape == (3, 3, 2, 2) and disp.attrs["units"] == "m/m"
        np.testing.assert_array_equal(disp[:, :, 0, 0], np.arange(18.0).reshape(3, 3, 2)[:, :, 0])
        assert np.all(np.isnan(disp[:, :, 0, 1]))
        assert f["solve/done"][()].tolist() == [[True, False], [False, True]]
        assert f["solve/iterations"][1, 1] == 4 and f["solve/iterations"][0, 1] == -1
        assert [n.decode() for n in f["stations/name"][()]] == ["S0", "S1", "S2"]
        for name, units in [("stations/position", "m"), ("stations/lonlat", "degree"), ("subfaults/centroid", "m"),
                            ("subfaults/strike", "degree"), ("subfaults/dip", "degree"), ("subfaults/area", "m^2"),
                            ("subfaults/vertices", "m"), ("subfaults/cells", "1"), ("subfaults/cell_subfault", "1"),
                            ("solve/residual", "1"), ("model/layers/mu", "Pa"), ("model/layers/lambda", "Pa"),
                            ("model/layers/vs", "m/s"), ("model/layers/density", "kg/m^3")]:
            assert f[name].attrs["units"] == units, name
        np.testing.assert_allclose(f["model/layers/mu"][()], [2700 * 3500.0**2, 3300 * 4500.0**2])
        np.testing.assert_allclose(f["model/layers/lambda"][()], [2700 * 6000.0**2 - 2 * 2700 * 3500.0**2,
                                                                   3300 * 7800.0**2 - 2 * 3300 * 4500.0**2])
        np.testing.assert_allclose(f["variants/soft/model/layers/vs"][()], [3150.0, 4500.0])
        assert f["variants/soft/greens_functions/displacement"].shape == (3, 3, 2, 2)
        assert f["variants/soft/solve/residual"][1, 0] == 0.5
        assert not f["variants/soft/solve/done"][()].any()
    back = read_solve_states(out, h)
    np.testing.assert_array_equal(back[0].done, ref.done)
    np.testing.assert_array_equal(back[0].displacement, ref.displacement)  # NaN == NaN here
    np.testing.assert_array_equal(back[1].residual, soft.residual)


def test_no_lonlat_dataset_without_origin(tmp_path):
    h = _header(lonlat=False)
    write_gf_file(tmp_path / "g.h5", h, [SolveState.empty(3, 2)] * 2)
    with h5py.File(tmp_path / "g.h5", "r") as f:
        assert "stations/lonlat" not in f


def test_refuses_file_from_another_model(tmp_path):
    out = tmp_path / "gf.h5"
    write_gf_file(out, _header(sha="a" * 64), [SolveState.empty(3, 2)] * 2)
    with pytest.raises(CrustgfError, match="different model"):
        read_solve_states(out, _header(sha="b" * 64))
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    with pytest.raises(CrustgfError, match="cannot open as HDF5"):
        read_solve_states(tmp_path / "x.h5", _header())


def _batch(structure, jobs, value, converged=True):
    k = len(jobs)
    return BatchResult(structure, np.array(jobs), np.full((3, 3, k), value), np.full(k, 1e-9),
                       np.arange(k), np.full(k, converged))


def test_journal_entries_are_whole_ordered_and_model_bound(tmp_path):
    folder = journal_path(tmp_path / "gf.h5")
    assert folder.name == "gf.h5.journal"
    j = Journal(folder, "a" * 64)
    assert j.read() == []
    assert j.append(_batch(0, [[0, 0]], 1.0)) == 1
    assert j.append(_batch(1, [[1, 1], [0, 1]], 2.0)) == 2
    (folder / "000000003.npz.tmp").write_bytes(b"half a file")  # a write killed midway
    entries = Journal(folder, "a" * 64).read()
    assert [seq for seq, _ in entries] == [1, 2]
    assert entries[1][1].structure == 1 and entries[1][1].jobs.tolist() == [[1, 1], [0, 1]]
    assert np.all(entries[1][1].displacement == 2.0)
    assert Journal(folder, "a" * 64).append(_batch(0, [[1, 0]], 3.0)) == 3  # numbering goes on
    with pytest.raises(CrustgfError, match="different model"):
        Journal(folder, "b" * 64).read()
    j.prune(2)
    assert [seq for seq, _ in j.read()] == [3] and not list(folder.glob("*.tmp"))
    j.remove()
    assert not folder.exists()
