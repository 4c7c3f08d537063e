"""Failures are visible: non-converged solves are reported, left out (done = false, NaN) and give
exit status 2; Ctrl-C saves what is done and exits cleanly; bad options are one-line errors."""

from __future__ import annotations

import signal

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from solve_model import N_STATIONS, N_SUBFAULTS, build_tiny_model
from test_resume import _run_until_journal

from crustgf.cli.main import main
from crustgf.greens.journal import journal_path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny_failures"))


def test_non_convergence_is_reported_left_out_and_retried(model, tmp_path):
    out = tmp_path / "gf.h5"
    r = CliRunner().invoke(main, ["--quiet", "solve", str(model), "-o", str(out), "--method", "amg-cg",
                                  "--max-iterations", "1"])
    assert r.exit_code == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("not converged: subfault")]
    assert len(lines) == 2 * N_SUBFAULTS * 2  # every solve of both structures: one CG step is not enough
    assert "residual" in lines[0] and "dip-slip" in r.stderr and "strike-slip" in r.stderr
    assert "variant soft_crust" in r.stderr
    with h5py.File(out, "r") as f:
        for g in ("", "variants/soft_crust/"):
            assert not f[g + "solve/done"][()].any()
            assert np.all(np.isnan(f[g + "greens_functions/displacement"][()]))
            assert np.all(f[g + "solve/residual"][()] > 1e-8)
            assert np.all(f[g + "solve/iterations"][()] >= 1)  # the cap was hit
    # a re-run with a method that converges retries exactly those solves
    r = CliRunner().invoke(main, ["--quiet", "solve", str(model), "-o", str(out), "--method", "direct"])
    assert r.exit_code == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["solve/done"][()].all()
        assert np.all(np.isfinite(f["greens_functions/displacement"][()]))
        assert f["greens_functions/displacement"].shape == (N_STATIONS, 3, N_SUBFAULTS, 2)


def test_ctrl_c_saves_and_exits_cleanly(model, tmp_path):
    out = tmp_path / "gf.h5"
    rc, err = _run_until_journal(model, out, 1, signal.SIGINT)
    assert rc == 130, err
    assert "interrupted" in err and "Traceback" not in err
    with h5py.File(out, "r") as f:
        assert f["solve/done"][()].sum() >= 1  # what was done is in the file itself
    assert not journal_path(out).exists()  # flushed: nothing left only in the journal


@pytest.mark.parametrize("args, key", [(["--batch", 0], "--batch"), (["--rtol", 2.0], "--rtol"),
                                       (["--workers", 0], "--workers"),
                                       (["--workers", 2, "--scheduler", "tcp://127.0.0.1:9"], "--workers")])
def test_bad_options_are_one_line_errors(model, tmp_path, args, key):
    out = tmp_path / "gf.h5"
    r = CliRunner().invoke(main, ["solve", str(model), "-o", str(out), *map(str, args)])
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: ") and key in r.stderr and r.stderr.strip().count("\n") == 0
    assert not out.exists() and not journal_path(out).exists()


def test_missing_model_is_a_one_line_error(tmp_path):
    r = CliRunner().invoke(main, ["solve", str(tmp_path / "nope.h5"), "-o", str(tmp_path / "gf.h5")])
    assert r.exit_code == 1 and "nope.h5" in r.stderr and r.stderr.strip().count("\n") == 0


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import io

    from crustgf.core.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    log = io.StringIO()  # not a terminal: no bar, but messages still get through
    monkeypatch.setattr("sys.stderr", log)
    with Progress(10, "solve", enabled=True) as p:
        p.update(3)
        p.write("a message")
    assert log.getvalue() == "a message\n"
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with Progress(10, "solve", enabled=True, initial=2) as p:
        p.update(3)
    assert "5/10" in term.getvalue() and "solve" in term.getvalue()
    quiet = Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    with Progress(10, "solve", enabled=False) as p:  # --quiet
        p.update(3)
    assert quiet.getvalue() == ""


def test_quiet_and_verbose_also_after_the_command_name(model, tmp_path):
    """SPEC writes `crustgf solve ... --quiet`: the flags work after the command name too."""
    out = tmp_path / "gf.h5"
    r = CliRunner().invoke(main, ["solve", str(model), "-o", str(out), "--quiet"])
    assert r.exit_code == 0 and r.stderr == "" and out.exists()
    r = CliRunner().invoke(main, ["solve", str(model), "-o", str(out)])  # not quiet: says it resumed
    assert r.exit_code == 0 and "resuming" in r.stderr
    r = CliRunner().invoke(main, ["solve", str(tmp_path / "nope.h5"), "-o", str(tmp_path / "x.h5"), "-v"])
    assert r.exit_code == 1 and "Traceback" in r.stderr and "Error: " in r.stderr
