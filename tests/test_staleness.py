"""Nothing stale is silently reused, and nothing is left behind: `run` notices every input file,
solves that no longer meet --rtol are done again, a damaged journal entry is recomputed, a
too-large mesh is refused before gmsh starts, a killed `mesh` leaves no gmsh process, and the
solve lock is taken over only from an owner that is really gone (and without a race)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from solve_model import CONFIG, STATIONS
from test_resume import ctrl_c_as_in_a_terminal

from crustgf.cli.main import main
from crustgf.greens.journal import journal_path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(r, *words):
    assert r.exit_code not in (0, None), r.output
    err = r.stderr.strip()
    assert "Traceback" not in r.stderr and len(err.splitlines()) == 1 and err.startswith("Error: "), r.stderr
    for w in words:
        assert w in err, err
    return err


def tiny_inputs(folder: Path, config: str = CONFIG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(config)
    (folder / "tiny_stations.csv").write_text(STATIONS)
    return folder / "tiny.toml"


def no_variant(config: str = CONFIG) -> str:
    return config.split("[[variants]]")[0]


# --- run: every input file is part of the model's identity ----------------------------------------

def test_run_notices_an_edited_station_file(tmp_path):
    cfg = tiny_inputs(tmp_path, no_variant())
    gf = tmp_path / "gf.h5"
    r = cli("--quiet", "run", cfg, "-o", gf)
    assert r.exit_code == 0, r.output
    model = tmp_path / "gf.model.h5"
    with h5py.File(model, "r") as f:
        recorded = json.loads(f["attrs"].attrs["input_files"])
    assert list(recorded) == [str((tmp_path / "tiny_stations.csv").resolve())]
    r = cli("run", cfg, "-o", gf)  # nothing changed: up to date
    assert r.exit_code == 0 and "up to date" in r.output

    with open(tmp_path / "tiny_stations.csv", "a") as fh:
        fh.write("E,-5,-5\n")
    before = {p: p.read_bytes() for p in (gf, model)}
    r = cli("run", cfg, "-o", gf)  # the GF file belongs to the old model: refused, both kept
    assert_one_line_error(r, "tiny_stations.csv", "out of date", str(gf))
    assert all(p.read_bytes() == b for p, b in before.items())

    gf.rename(tmp_path / "old_gf.h5")  # as the message says: move it away
    r = cli("--quiet", "run", cfg, "-o", gf)
    assert r.exit_code == 0, r.output
    with h5py.File(gf, "r") as f:
        assert [s.decode() for s in f["stations/name"][()]] == ["A", "B", "C", "D", "E"]
        assert f["solve/done"][()].all()

    with h5py.File(model, "a") as f:  # a model from before input files were recorded: not trusted
        del f["attrs"].attrs["input_files"]
    r = cli("run", cfg, "-o", gf)
    assert_one_line_error(r, "older crustgf", str(gf))


def test_run_with_an_edited_config_keeps_a_partly_solved_gf_file_with_its_model(tmp_path):
    cfg = tiny_inputs(tmp_path, no_variant())
    gf = tmp_path / "gf.h5"
    assert cli("--quiet", "run", cfg, "-o", gf).exit_code == 0
    model = tmp_path / "gf.model.h5"
    with h5py.File(gf, "a") as f:  # as a killed run leaves it: some solves not done
        f["solve/done"][0, :] = False
    before = {p: p.read_bytes() for p in (gf, model)}
    cfg.write_text(cfg.read_text().replace("strike = 20.0", "strike = 25.0"))
    r = cli("run", cfg, "-o", gf)
    assert_one_line_error(r, "tiny.toml changed")
    assert all(p.read_bytes() == b for p, b in before.items())


# --- rtol and method ------------------------------------------------------------------------------

def test_stricter_rtol_resolves_the_loose_solves(tmp_path):
    from solve_model import build_tiny_model

    model = build_tiny_model(tmp_path)
    gf = tmp_path / "gf.h5"
    r = cli("--quiet", "solve", model, "-o", gf, "--method", "amg-cg", "--rtol", "0.5")
    assert r.exit_code == 0, r.stderr
    with h5py.File(gf, "r") as f:
        loose = f["solve/residual"][()]
    assert loose.max() > 1e-6  # really loose
    r = cli("solve", model, "-o", gf, "--method", "direct", "--rtol", "1e-9")
    assert r.exit_code == 0, r.stderr
    assert "residuals above --rtol" in r.stderr and "already done" not in r.stderr
    with h5py.File(gf, "r") as f:
        for g in ("", "variants/soft_crust/"):
            assert f[g + "solve/done"][()].all()
            assert f[g + "solve/residual"][()].max() <= 1e-9
    # another method: the done solves are kept, and the message says how to redo them
    r = cli("solve", model, "-o", gf, "--method", "amg-cg")
    assert r.exit_code == 0 and "used --method direct" in r.stderr and "move" in r.stderr


# --- a damaged journal entry is recomputed ---------------------------------------------------------

def test_damaged_journal_entry_is_solved_again(tmp_path):
    from solve_model import build_tiny_model
    from test_resume import _run_until_journal

    model = build_tiny_model(tmp_path)
    ref = tmp_path / "ref.h5"
    assert cli("--quiet", "solve", model, "-o", ref).exit_code == 0
    out = tmp_path / "gf.h5"
    rc, _ = _run_until_journal(model, out, 2, signal.SIGKILL)
    assert rc == -signal.SIGKILL
    entries = sorted(journal_path(out).glob("*.npz"))
    assert entries
    data = bytearray(entries[0].read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64  # bit rot in the middle of the arrays
    entries[0].write_bytes(bytes(data))
    r = cli("solve", model, "-o", out)
    assert r.exit_code == 0, r.stderr
    assert "damaged" in r.stderr and "done again" in r.stderr and "Traceback" not in r.stderr
    with h5py.File(out, "r") as f, h5py.File(ref, "r") as g:
        for k in ("", "variants/soft_crust/"):
            assert f[k + "solve/done"][()].all()
            np.testing.assert_allclose(f[k + "greens_functions/displacement"][()],
                                       g[k + "greens_functions/displacement"][()], rtol=0, atol=1e-12)
    assert not journal_path(out).exists()


# --- mesh size ----------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new", [("subfaults = [2, 2]", "subfaults = [1000, 1000]"),
                                      ("size_fault = 4.0", "size_fault = 0.001")])
def test_huge_mesh_is_refused_with_its_estimate(tmp_path, old, new):
    cfg = tiny_inputs(tmp_path)
    cfg.write_text(cfg.read_text().replace(old, new))
    before = sorted(tmp_path.iterdir())
    t0 = time.monotonic()
    for cmd in ("mesh", "run"):
        r = cli(cmd, cfg, "-o", tmp_path / "m.h5")
        assert_one_line_error(r, "mesh too large", "about", "--force")
    assert time.monotonic() - t0 < 5  # refused from the config alone, no gmsh
    assert sorted(tmp_path.iterdir()) == before


def test_mesh_estimate_is_within_a_factor_of_gmsh(tmp_path):
    from crustgf.config.load import load_config
    from crustgf.io.modelfile import read_model
    from crustgf.mesh.estimate import estimate_mesh

    cfg_path = tiny_inputs(tmp_path)
    assert cli("--quiet", "mesh", cfg_path, "-o", tmp_path / "m.h5").exit_code == 0
    actual = len(read_model(tmp_path / "m.h5").cells)
    est = estimate_mesh(load_config(cfg_path))
    assert est.subfaults == 4
    assert actual / 4 < est.tets < actual * 4, (est.tets, actual)


def test_mesh_estimate_of_a_sized_box_counts_its_graded_far_field(tmp_path):
    """With domain x, y, depth omitted crustgf sizes a box hundreds of times the fault, graded:
    the estimate must count that far field as gmsh meshes it (sizes growing with distance), not
    at size_max, or the shipped Nankai demo would be refused."""
    from crustgf.config.load import load_config
    from crustgf.io.modelfile import read_model
    from crustgf.mesh.estimate import MAX_TETS, estimate_mesh

    config = no_variant().replace("x = [-40.0, 40.0]\ny = [-40.0, 40.0]\ndepth = 30.0\n", "")
    config = config.replace("bottom = 30.0\n", "", 1) if config.count("bottom = 30.0") else config
    cfg_path = tiny_inputs(tmp_path, config)
    cfg = load_config(cfg_path)
    core = cfg.domain.core
    assert core is not None and cfg.domain.x[1] - cfg.domain.x[0] > 5 * (core[1] - core[0])
    r = cli("--quiet", "mesh", cfg_path, "-o", tmp_path / "m.h5")
    assert r.exit_code == 0, r.output
    actual = len(read_model(tmp_path / "m.h5").cells)
    est = estimate_mesh(cfg)
    assert actual / 4 < est.tets < actual * 4, (est.tets, actual)
    for shipped in sorted((ROOT / "crustgf" / "configs").glob("*.toml")):  # every shipped config passes
        assert estimate_mesh(load_config(shipped)).tets < MAX_TETS, shipped.name


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_mesh_leaves_no_gmsh_process_and_no_temp_folder(tmp_path, sig):
    cfg = tiny_inputs(tmp_path)
    cfg.write_text(cfg.read_text().replace("size_fault = 4.0", "size_fault = 0.1"))  # gmsh busy for a while
    tmp = tmp_path / "tmp"  # the command's own temporary folder: anything it leaves shows here
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "crustgf.cli.main", "--quiet", "mesh", "--force", str(cfg), "-o",
                             str(tmp_path / "m.h5")], env=dict(ENV, TMPDIR=str(tmp)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=ctrl_c_as_in_a_terminal)
    child = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        kids = [k for k in _children(proc.pid) if "crustgf.mesh.isolate" in _cmdline(k)]
        if kids:  # (a short-lived helper child may come first: not the mesher)
            child = kids[0]
            break
        time.sleep(0.05)
    try:
        assert child is not None, "no meshing child process seen"
        time.sleep(1.5)  # into gmsh
        assert proc.poll() is None and _alive(child), "meshing finished before the kill"
    finally:
        proc.send_signal(sig)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child), "the gmsh child outlived crustgf"
    assert list(tmp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml", "tiny_stations.csv", "tmp"]


# --- locks ---------------------------------------------------------------------------------------

def _lock_content(**over):
    from crustgf.greens.lock import process_start_time

    me = {"pid": os.getpid(), "host": socket.gethostname(), "start_time": process_start_time(os.getpid()),
          "token": "t0", "since": "earlier"}
    me.update(over)
    return json.dumps(me)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_lock_is_created_whole_with_its_owner(tmp_path):
    from crustgf.greens.lock import OwnerLock, process_start_time

    lock = OwnerLock(tmp_path / "owner.lock", "-o x")
    with lock:
        content = json.loads((tmp_path / "owner.lock").read_text())
        assert content["pid"] == os.getpid() and content["host"] == socket.gethostname()
        assert content["start_time"] == process_start_time(os.getpid())
        assert [p.name for p in tmp_path.iterdir()] == ["owner.lock"]  # no temporary left
    assert not (tmp_path / "owner.lock").exists()


@pytest.mark.parametrize("owner, taken", [
    ({}, False),  # this very process, alive: refused
    ({"start_time": "1"}, True),  # our pid, but another start time: a reused pid, taken over
    ("dead", True),  # a pid that is not running: taken over
    ({"host": "elsewhere.example"}, False),  # another host: never judged from here
])
def test_lock_owner_is_checked(tmp_path, owner, taken):
    from crustgf.core.errors import CrustgfError
    from crustgf.greens.lock import OwnerLock

    path = tmp_path / "owner.lock"
    path.write_text(_lock_content(pid=_dead_pid()) if owner == "dead" else _lock_content(**owner))
    lock = OwnerLock(path, "-o gf.h5")
    if taken:
        with lock:
            assert json.loads(path.read_text())["token"] == lock.me["token"]
            assert lock.took_over is not None
        assert not path.exists()
    else:
        before = path.read_text()
        with pytest.raises(CrustgfError) as e:
            lock.acquire()
        assert "-o gf.h5" in str(e.value)
        if "host" in owner:
            assert "elsewhere.example" in str(e.value) and str(path) in str(e.value)
        assert path.read_text() == before


def test_lock_release_removes_only_its_own_lock(tmp_path):
    from crustgf.greens.lock import OwnerLock

    path = tmp_path / "owner.lock"
    lock = OwnerLock(path, "-o x").acquire()
    path.unlink()
    path.write_text(_lock_content(token="someone-else"))  # e.g. taken over by mistake elsewhere
    lock.release()
    assert json.loads(path.read_text())["token"] == "someone-else"


_TAKER = """
import sys, time
from crustgf.greens.lock import OwnerLock
from crustgf.core.errors import CrustgfError
try:
    with OwnerLock(sys.argv[1], "-o x"):
        print("got", flush=True)
        time.sleep(4.0)  # well past the other's takeover attempt, even on a loaded machine
except CrustgfError as e:
    print("busy", e, flush=True)
"""


def test_stale_lock_takeover_has_no_race(tmp_path):
    """Two processes find the same stale lock and wait 1 s before taking it over (the window
    where the old code let both in): exactly one gets it."""
    from crustgf.greens.lock import TAKEOVER_DELAY_ENV

    path = tmp_path / "owner.lock"
    path.write_text(_lock_content(pid=_dead_pid()))
    env = dict(ENV, **{TAKEOVER_DELAY_ENV: "1.0"})
    procs = [subprocess.Popen([sys.executable, "-c", _TAKER, str(path)], env=env, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = sorted(p.communicate(timeout=60)[0].split()[0] for p in procs)
    assert outs == ["busy", "got"], outs
    assert not path.exists()


def test_solve_refuses_a_live_owner_and_takes_over_a_reused_pid(tmp_path):
    from solve_model import build_tiny_model

    model = build_tiny_model(tmp_path)
    out = tmp_path / "gf.h5"
    journal_path(out).mkdir()
    lock = journal_path(out) / "owner.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        from crustgf.greens.lock import process_start_time

        time.sleep(0.2)
        lock.write_text(_lock_content(pid=holder.pid, start_time=process_start_time(holder.pid)))
        r = cli("solve", model, "-o", out)
        assert_one_line_error(r, f"pid {holder.pid}", "another crustgf process")
        assert not out.exists() and lock.exists()
        lock.write_text(_lock_content(pid=holder.pid, start_time="12345"))  # the pid now runs something else
        r = cli("solve", model, "-o", out)
        assert r.exit_code == 0, r.stderr
        assert "took over the lock" in r.stderr
        assert not journal_path(out).exists()
    finally:
        holder.kill()
        holder.wait()
