"""The Python interface (SPEC 7): crustgf.open / load_config, and README's example run as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from gf_fixtures import halfspace_gf, standard_case

import crustgf

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return standard_case(tmp_path_factory.mktemp("gf"), n_strike=4, n_dip=3, stations_per_side=5)


def test_open_gives_spec_arrays(case):
    path, names, pos, fault, disp = case
    gf = crustgf.open(path)
    assert list(gf.stations.name) == names and gf.name is None
    np.testing.assert_array_equal(gf.displacement, disp)
    np.testing.assert_array_equal(gf.stations.position, pos)
    np.testing.assert_allclose(gf.subfaults.area, fault["area"])
    G = gf.matrix()
    i, c, j, s = 7, 2, 5, 1
    assert G[3 * i + c, 2 * j + s] == disp[i, c, j, s]
    soft = gf.variant("nu0.30")
    assert soft.name == "nu0.30" and soft.variants == gf.variants
    np.testing.assert_allclose(soft.displacement, halfspace_gf(pos, fault, nu=0.30))
    with pytest.raises(crustgf.CrustgfError, match="unknown variant"):
        gf.variant("nope")


def test_to_xarray_labels(case):
    path, names, pos, fault, disp = case
    da = crustgf.open(path).to_xarray()
    assert da.dims == ("station", "component", "subfault", "slip")
    assert float(da.sel(station=names[3], component="north", subfault=2, slip="strike")) == disp[3, 1, 2, 0]
    np.testing.assert_allclose(da["subfault_z"].values, fault["centroid"][:, 2])
    assert da.attrs["units"] == "m/m"


def test_load_config_lists_every_problem(tmp_path):
    cfg = crustgf.load_config(ROOT / "crustgf" / "configs" / "two_layer.toml")
    assert cfg.layers[0].mu > 0
    bad = (ROOT / "crustgf" / "configs" / "two_layer.toml").read_text()
    bad = bad.replace("vs = 3.4", "vs = -3.4", 1)
    bad = bad.replace("dip = 30.0", "dip = 95.0", 1)
    (tmp_path / "bad.toml").write_text(bad)
    (tmp_path / "two_layer_stations.csv").write_text(
        (ROOT / "crustgf" / "configs" / "two_layer_stations.csv").read_text())
    with pytest.raises(crustgf.ConfigError) as err:
        crustgf.load_config(tmp_path / "bad.toml")
    assert len(err.value.problems) >= 2


def test_readme_example_runs(case, capsys, monkeypatch):
    """The README's Python block, as written, on a half-space GF file: its whole-fault uplift is cutde's."""
    path, names, pos, fault, disp = case
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Python interface.*?```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(ROOT)
    code = block.replace('"out/two_layer.h5"', repr(str(path)))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    whole = halfspace_gf(pos, fault).sum(axis=2)[:, 2, 1]  # uniform thrust, up component, by cutde
    np.testing.assert_allclose(scope["up"], whole, rtol=1e-12)
    out = capsys.readouterr().out
    assert "largest uplift" in out and names[int(np.argmax(whole))] in out


def test_spec6_datasets_through_the_reader(case, tmp_path):
    """Traction, kernels and a history written as SPEC 6 lays them out come back through
    crustgf.open (and the npz export) unchanged; asking for a kernel the file lacks is an error."""
    import h5py

    from crustgf.io.export import export_greens_functions

    path, names, pos, fault, disp = case
    nsf = len(fault["area"])
    rng = np.random.default_rng(3)
    traction = rng.normal(size=(nsf, 3, nsf, 2))
    kernel = rng.normal(size=disp.shape)
    history = np.stack([disp, 1.5 * disp])
    copy = tmp_path / "gf.h5"
    copy.write_bytes(path.read_bytes())
    with h5py.File(copy, "a") as f:
        f["greens_functions/traction"] = traction
        f["sensitivity/halfspace/mu"] = kernel
        f["greens_functions/displacement_history"] = history
        f["greens_functions/time"] = np.array([0.0, 3.15e7])
    gf = crustgf.open(copy)
    np.testing.assert_array_equal(gf.traction, traction)
    np.testing.assert_array_equal(gf.sensitivity("halfspace", "mu"), kernel)
    np.testing.assert_array_equal(gf.history[1], 1.5 * disp)
    assert gf.time[1] == 3.15e7
    with pytest.raises(crustgf.CrustgfError, match="no sensitivity kernel lambda"):
        gf.sensitivity("halfspace", "lambda")
    export_greens_functions(copy, "npz", tmp_path / "all.npz")
    z = np.load(tmp_path / "all.npz")
    np.testing.assert_array_equal(z["sensitivity__halfspace__mu"], kernel)
    np.testing.assert_array_equal(z["greens_functions__traction"], traction)
