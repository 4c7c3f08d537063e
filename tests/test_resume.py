"""`crustgf solve` on a tiny real model: local workers match in-process, a SIGKILLed run resumes
to the same Green's functions, a dying worker does not lose work, and a GF file from another
model is refused. Uses the real mesher and GreenSolver (direct method: deterministic)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from solve_model import N_STATIONS, N_SUBFAULTS, build_tiny_model

from crustgf.greens.dispatch.worker import KILL_ONCE_ENV
from crustgf.greens.journal import journal_path
from crustgf.greens.run import solve_greens_functions

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("", "variants/soft_crust/")


def read_gf(path):
    out = {}
    with h5py.File(path, "r") as f:
        for g in GROUPS:
            for name in ("greens_functions/displacement", "solve/done", "solve/residual", "solve/iterations"):
                out[g + name] = f[g + name][()]
    return out


def assert_same_gfs(a, b, atol):
    for g in GROUPS:
        np.testing.assert_array_equal(a[g + "solve/done"], b[g + "solve/done"])
        np.testing.assert_allclose(a[g + "greens_functions/displacement"], b[g + "greens_functions/displacement"],
                                   rtol=0, atol=atol)


def cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return [sys.executable, "-m", "crustgf.cli.main", *map(str, args)], env


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def reference(model):
    """An uninterrupted in-process run: the reference every other run must reproduce."""
    out = model.with_name("reference_gf.h5")
    assert solve_greens_functions(model, out, {}, progress=False) == 0
    gf = read_gf(out)
    for g in GROUPS:
        assert gf[g + "solve/done"].all()
        assert np.all(gf[g + "solve/residual"] <= 1e-8)
        assert gf[g + "greens_functions/displacement"].shape == (N_STATIONS, 3, N_SUBFAULTS, 2)
        assert np.all(np.isfinite(gf[g + "greens_functions/displacement"]))
    # the variant really is another structure (softer crust: different response)
    assert not np.allclose(gf[GROUPS[0] + "greens_functions/displacement"],
                           gf[GROUPS[1] + "greens_functions/displacement"], rtol=1e-3)
    assert not journal_path(out).exists()
    return gf


def test_two_local_workers_match_in_process_even_when_one_dies(model, reference, tmp_path, monkeypatch):
    """2 local worker processes give the in-process Green's functions (1e-10), although one of
    them exits hard on its first task (as a crashed node would; test hook): Dask reruns that task
    on the other worker and the run completes. (One cluster for both claims: startup costs ~10 s.)"""
    flag = tmp_path / "killed"
    monkeypatch.setenv(KILL_ONCE_ENV, str(flag))  # inherited by the worker processes
    out = tmp_path / "gf_workers.h5"
    assert solve_greens_functions(model, out, {"workers": 2, "batch": 3}, progress=False) == 0
    assert flag.exists()  # a worker really died
    scale = np.abs(reference["greens_functions/displacement"]).max()
    assert_same_gfs(read_gf(out), reference, atol=1e-10 * scale)


def ctrl_c_as_in_a_terminal():
    """In the child: SIGINT's default action, as in a terminal. A test run started in the background
    of a non-interactive shell inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so a Ctrl-C test would see the command finish instead."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_until_journal(model, out, n_entries, sig):
    """Start `crustgf solve` with one solve per batch; send `sig` once n_entries batches are journaled."""
    cmd, env = cli("--quiet", "solve", model, "-o", out, "--batch", 1)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_in_a_terminal)
    journal = journal_path(out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.is_dir() and len(list(journal.glob("*.npz"))) >= n_entries:
            proc.send_signal(sig)
            break
        time.sleep(0.002)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_sigkill_midway_then_resume_equals_uninterrupted(model, reference, tmp_path):
    out = tmp_path / "gf_killed.h5"
    rc, _ = _run_until_journal(model, out, 1, signal.SIGKILL)
    assert rc == -signal.SIGKILL, "the solve finished before it could be killed"
    with h5py.File(out, "r") as f:  # the killed run's file opens and is a GF file
        assert f.attrs["kind"] == "crustgf-greens-functions"
        assert f["solve/done"].shape == (N_SUBFAULTS, 2)
    journaled = len(list(journal_path(out).glob("*.npz")))
    assert journaled >= 1

    cmd, env = cli("solve", model, "-o", out, "--batch", 1)
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr  # it picked up the journaled batches instead of starting over
    resumed = int(done.stderr.split("resuming")[1].split(":")[1].split("of")[0])
    assert resumed >= journaled
    gf = read_gf(out)
    assert_same_gfs(gf, reference, atol=1e-12)
    for g in GROUPS:
        assert np.all(gf[g + "solve/residual"] <= 1e-8)
        assert np.all(gf[g + "solve/iterations"] >= 0)
    assert not journal_path(out).exists()


def test_refuses_to_resume_onto_another_models_file(model, reference, tmp_path):
    other = tmp_path / "other.h5"
    shutil.copy(model, other)
    with h5py.File(other, "a") as f:  # same mesh, another file content: another sha256
        f.attrs["name"] = "changed"
    out = tmp_path / "gf.h5"
    shutil.copy(model.with_name("reference_gf.h5"), out)
    before = out.read_bytes()
    cmd, env = cli("solve", other, "-o", out)
    r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("Error: ")
    assert "different model" in r.stderr
    assert out.read_bytes() == before
