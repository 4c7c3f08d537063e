"""`crustgf solve` on a model with a viscous layer: the history in the GF file, its time 0 equal to
the elastic GFs of the same model without viscosity, resuming per batch, and the bad inputs
(one `Error:` line each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from solve_model import CONFIG, N_STATIONS, N_SUBFAULTS, STATIONS

from crustgf.config.viscoelastic import YEAR
from crustgf.greens.run import solve_greens_functions

ROOT = Path(__file__).resolve().parents[1]
TIMES = [0.0, 1.0, 4.0]
# mantle: mu = 3300 * 4500^2 = 6.68e10 Pa; 2e18 Pa s gives tau ~ 0.95 yr
VISCOUS = CONFIG.replace('vs = 4.5\ndensity = 3.3\n', 'vs = 4.5\ndensity = 3.3\nviscosity = 2e18\n') + \
    f"\n[viscoelastic]\ntimes = {TIMES}\n"


def _mesh(folder: Path, text: str) -> Path:
    from crustgf.greens.pipeline import mesh_command

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(text)
    (folder / "tiny_stations.csv").write_text(STATIONS)
    mesh_command(folder / "tiny.toml", folder / "tiny.h5", quiet=True)
    return folder / "tiny.h5"


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "crustgf.cli.main", *map(str, args)], env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visco")
    model = _mesh(folder / "v", VISCOUS)
    out = folder / "gf.h5"
    assert solve_greens_functions(model, out, {}, progress=False) == 0
    return model, out


def test_history_in_the_gf_file(solved, tmp_path):
    _, out = solved
    with h5py.File(out, "r") as f:
        hist = f["greens_functions/displacement_history"][()]
        time = f["greens_functions/time"][()]
        elastic = f["greens_functions/displacement"][()]
        assert f["greens_functions/time"].attrs["units"] == "s"
        assert "displacement_history" not in f["variants/soft_crust/greens_functions"]
    assert hist.shape == (len(TIMES), N_STATIONS, 3, N_SUBFAULTS, 2)
    np.testing.assert_allclose(time, np.array(TIMES) * YEAR)
    np.testing.assert_array_equal(hist[0], elastic)
    assert np.all(np.isfinite(hist))
    from crustgf.cli.info import summarize

    assert "displacement_history (3, 4, 3, 4, 2)" in summarize(out) and "at 0, 1, 4 yr" in summarize(out)
    change = np.abs(hist[-1] - hist[0]).max() / np.abs(hist[0]).max()
    assert change > 0.05  # the mantle relaxes
    # time 0 = the elastic GFs of the same mesh without viscosity (PARDISO on K), to 1e-6
    plain = _mesh(tmp_path / "e", CONFIG)
    ref = tmp_path / "elastic.h5"
    assert solve_greens_functions(plain, ref, {}, progress=False) == 0
    with h5py.File(ref, "r") as f:
        e = f["greens_functions/displacement"][()]
        assert "greens_functions/displacement_history" not in f
    assert np.abs(hist[0] - e).max() <= 1e-6 * np.abs(e).max()


def test_resume_solves_only_the_missing_batches(solved, tmp_path):
    """Drop some subfaults from a finished file (done = false): the re-run fills in exactly the
    same history for them and reports the rest as already done."""
    model, out = solved
    partial = tmp_path / "partial.h5"
    partial.write_bytes(out.read_bytes())
    with h5py.File(partial, "r+") as f:
        f["solve/done"][2:, :] = False
        f["greens_functions/displacement_history"][:, :, :, 2:, :] = np.nan
    assert solve_greens_functions(model, partial, {}, progress=False) == 0
    with h5py.File(out, "r") as a, h5py.File(partial, "r") as b:
        np.testing.assert_allclose(b["greens_functions/displacement_history"][()],
                                   a["greens_functions/displacement_history"][()], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("viscosity = 2e18", "viscosity = 0.0"), "layers[1].viscosity: must be > 0"),
    (lambda t: t.replace("viscosity = 2e18", "viscosity = -1e19"), "layers[1].viscosity: must be > 0"),
    (lambda t: t.replace(f"times = {TIMES}", "times = [0.0, 5.0, 1.0]"),
     "viscoelastic.times: must be strictly increasing"),
    (lambda t: t.replace(f"times = {TIMES}", "times = [-1.0, 5.0]"), "viscoelastic.times: must be >= 0"),
    (lambda t: t.replace("viscosity = 2e18\n", ""),
     "viscoelastic: a history is requested but no layer has a viscosity"),
    (lambda t: t.replace(f"[viscoelastic]\ntimes = {TIMES}", ""), "viscoelastic.times: missing"),
])
def test_bad_input_is_one_error_line(tmp_path, edit, message):
    (tmp_path / "tiny_stations.csv").write_text(STATIONS)
    (tmp_path / "bad.toml").write_text(edit(VISCOUS))
    r = _cli("mesh", tmp_path / "bad.toml", "-o", tmp_path / "m.h5")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], r.stderr
    assert not (tmp_path / "m.h5").exists()


def test_cuda_backend_is_refused_before_any_output(solved, tmp_path):
    model, _ = solved
    out = tmp_path / "gf.h5"
    r = _cli("solve", model, "-o", out, "--backend", "cuda")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: --backend cuda: viscoelastic histories") and len(r.stderr.splitlines()) == 1
    assert not out.exists()


def test_history_plots(solved, tmp_path):
    """Time series at stations and maps at output times; a time that is not an output is an error."""
    from crustgf.core.errors import CrustgfError
    from crustgf.plot.history import plot_history_maps, plot_history_series

    _, out = solved
    series = plot_history_series(out, 0, "dip", ["A", "C"], tmp_path / "series.png")
    maps = plot_history_maps(out, 0, "strike", [0.0, 4.0], tmp_path / "maps.png", change=True)
    for png in (series, maps):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(CrustgfError, match="not an output time"):
        plot_history_maps(out, 0, "dip", [2.5], tmp_path / "bad.png")
    with pytest.raises(CrustgfError, match="not in"):
        plot_history_series(out, 0, "dip", ["NOPE"], tmp_path / "bad.png")
