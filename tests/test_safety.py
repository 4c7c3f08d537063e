"""Nothing the user gave is lost: no command writes over its inputs or its other outputs (by path
and by identity), and every failure of the environment or of a damaged file is one `Error:` line
naming the file, with a non-zero exit status, the inputs' bytes unchanged and no output left.

Uses the tiny real model of solve_model.py, solved once (a few seconds), and the CLI in-process.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from solve_model import build_tiny_model

from crustgf.cli.main import main
from crustgf.greens.journal import journal_path


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(r, *words):
    assert r.exit_code not in (0, None), r.output
    err = r.stderr.strip()
    assert "Traceback" not in r.stderr, r.stderr
    assert len(err.splitlines()) == 1 and err.startswith("Error: "), r.stderr
    for w in words:
        assert w in err, err
    return err


def snapshot(*paths):
    return {Path(p): Path(p).read_bytes() for p in paths}


def assert_unchanged(snap):
    for p, data in snap.items():
        assert p.read_bytes() == data, f"{p} changed"


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """(folder, config, stations, model, gf, slip csv, data csv): a solved tiny model and the inputs
    of synth and invert."""
    d = tmp_path_factory.mktemp("safety")
    model = build_tiny_model(d)
    gf = d / "gf.h5"
    r = cli("--quiet", "solve", model, "-o", gf)
    assert r.exit_code == 0, r.output
    slip = d / "slip.csv"
    slip.write_text("subfault,strike_slip,dip_slip\n0,0.0,1.0\n3,0.5,0.0\n")
    data = d / "data.csv"
    r = cli("synth", gf, "--slip", slip, "-o", data)
    assert r.exit_code == 0, r.output
    return d, d / "tiny.toml", d / "tiny_stations.csv", model, gf, slip, data


# --- no output over an input or another output ------------------------------------------------

OVERWRITES = {
    "mesh -o config": lambda s: ["mesh", s[1], "-o", s[1]],
    "mesh -o stations.csv": lambda s: ["mesh", s[1], "-o", s[2]],
    "mesh -o model.xdmf (its own sidecar)": lambda s: ["mesh", s[1], "-o", s[0] / "m.xdmf"],
    "solve -o model": lambda s: ["solve", s[3], "-o", s[3]],
    "solve -o model.xdmf": lambda s: ["solve", s[3], "-o", s[3].with_suffix(".xdmf")],
    "run -o stations.csv": lambda s: ["run", s[1], "-o", s[2]],
    "run -o config": lambda s: ["run", s[1], "-o", s[1]],
    "export -o gf": lambda s: ["export", s[4], "--format", "npz", "-o", s[4]],
    "plot -o gf": lambda s: ["plot", s[4], "--subfault", 0, "-o", s[4]],
    "plot --layout -o model": lambda s: ["plot", s[3], "--layout", "-o", s[3]],
    "synth -o gf": lambda s: ["synth", s[4], "--slip", s[5], "-o", s[4]],
    "synth -o slip.csv": lambda s: ["synth", s[4], "--slip", s[5], "-o", s[5]],
    "invert -o data.csv": lambda s: ["invert", s[4], s[6], "-o", s[6], "--no-plot"],
    "invert -o gf": lambda s: ["invert", s[4], s[6], "-o", s[4].with_suffix(".npz"), "--no-plot"],
    "ensemble --out gf": lambda s: ["ensemble", s[4], "--out", s[4]],
}


@pytest.mark.parametrize("case", list(OVERWRITES))
def test_no_command_writes_over_its_input(solved, case, tmp_path):
    d = solved[0]
    extra = d / "gf.npz"  # `invert -o gf.npz` writes gf.npz, gf.csv ...: make gf.npz an input by a hard link
    if "invert -o gf" in case:
        extra.unlink(missing_ok=True)
        os.link(solved[4], extra)
    snap = snapshot(*[p for p in solved[1:] if Path(p).is_file()], solved[3].with_suffix(".xdmf"))
    before = set(d.iterdir())
    r = cli(*OVERWRITES[case](solved))
    assert_one_line_error(r)
    assert_unchanged(snap)
    assert set(d.iterdir()) == before  # not even a temporary file or a journal
    extra.unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["symlink", "hardlink", "dotted path"])
def test_same_file_through_another_name_is_refused(solved, tmp_path, how):
    gf = solved[4]
    other = tmp_path / "alias.h5"
    if how == "symlink":
        other.symlink_to(gf)
    elif how == "hardlink":
        os.link(gf, other)
    else:
        other = gf.parent / "." / ".." / gf.parent.name / gf.name
    snap = snapshot(gf)
    r = cli("export", gf, "--format", "npz", "-o", other)
    assert_one_line_error(r, "input")
    assert_unchanged(snap)
    model = solved[3]
    link = tmp_path / "model_link.h5"
    os.link(model, link)
    snap = snapshot(model)
    r = cli("solve", model, "-o", link)
    assert_one_line_error(r, "input")
    assert_unchanged(snap)
    assert not journal_path(link).exists()


def test_two_outputs_of_one_command_are_never_the_same_file(solved, tmp_path):
    """invert writes R.npz, R.csv, R_abic.csv, R_residuals.csv: one hard-linked to another is refused."""
    base = tmp_path / "res"
    (tmp_path / "res.csv").write_text("mine\n")
    os.link(tmp_path / "res.csv", tmp_path / "res_abic.csv")
    r = cli("invert", solved[4], solved[6], "-o", base, "--no-plot")
    assert_one_line_error(r, "res")
    assert (tmp_path / "res.csv").read_text() == "mine\n"
    assert not (tmp_path / "res.npz").exists()


def test_the_writer_itself_refuses_an_undeclared_input(tmp_path):
    """The guard sits in the one atomic writer: even a write nobody declared cannot hit an input."""
    from crustgf.core.atomic import atomic_open, command_scope
    from crustgf.core.errors import CrustgfError

    src = tmp_path / "in.txt"
    src.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(src)
    with command_scope(inputs=[src]):
        with pytest.raises(CrustgfError, match="input"):
            with atomic_open(link, "w") as fh:
                fh.write("lost")
    assert src.read_text() == "keep" and sorted(tmp_path.iterdir()) == sorted([src, link])
    with atomic_open(tmp_path / "out.txt", "w") as fh:  # outside a command: an ordinary writer
        fh.write("ok")
    assert (tmp_path / "out.txt").read_text() == "ok"


# --- the environment fails: one line, naming the file, saying what to do ------------------------

@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "disk full"), (errno.EROFS, "read-only"),
                                         (errno.EACCES, "permission denied")])
@pytest.mark.parametrize("command", ["export", "solve"])
def test_write_failures_are_one_line(solved, tmp_path, monkeypatch, code, words, command):
    """The OS refuses the write at fsync (where a full disk or a file system remounted read-only
    shows up): one line naming the output and what to do; the old output is untouched, no temp."""
    out = tmp_path / ("gf.npz" if command == "export" else "gf.h5")
    out.write_bytes(b"previous")

    def refuse(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)
    if command == "export":
        r = cli("export", solved[4], "--format", "npz", "-o", out)
    else:
        out.unlink()
        r = cli("--quiet", "solve", solved[3], "-o", out)
    assert_one_line_error(r, str(out), words)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".journal")) == \
        ([out.name] if command == "export" else [])
    if command == "export":
        assert out.read_bytes() == b"previous"


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def small_disk(tmp_path):
    """A real 256 KiB tmpfs (root only), unmounted afterwards."""
    if not _can_mount():
        pytest.skip("needs root to mount a small file system")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_real_full_disk_and_read_only_file_system(solved, small_disk):
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as fh:  # fill the disk
        try:
            while fh.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    out = small_disk / "gf.csv"
    r = cli("export", solved[4], "--format", "csv", "-o", out)
    assert_one_line_error(r, "disk full", str(out))
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    filler.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    r = cli("export", solved[4], "--format", "csv", "-o", out)
    assert_one_line_error(r, str(out), "not writable")
    r = cli("--quiet", "solve", solved[3], "-o", small_disk / "gf.h5")
    assert_one_line_error(r, "not writable")


def _object_header(path, name):
    with h5py.File(path, "r") as f:
        return h5py.h5o.get_info(f[name].id).addr


def _first_chunk(path, name):
    with h5py.File(path, "r") as f:
        info = f[name].id.get_chunk_info(0)
        return info.byte_offset, info.size


def _poke(path, offset, data: bytes):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


@pytest.mark.parametrize("where", ["superblock", "object header", "data (checksum)"])
def test_damaged_model_file_is_one_line(solved, tmp_path, where):
    model = tmp_path / "model.h5"
    shutil.copy(solved[3], model)
    if where == "superblock":
        _poke(model, 0, b"\xff" * 8)
    elif where == "object header":
        _poke(model, _object_header(model, "mesh/nodes") + 8, b"\xa5" * 24)
    else:
        off, size = _first_chunk(model, "mesh/nodes")
        with open(model, "r+b") as fh:  # flip one bit in the middle of the node coordinates
            fh.seek(off + size // 2)
            b = fh.read(1)
            fh.seek(off + size // 2)
            fh.write(bytes([b[0] ^ 0x10]))
    snap = snapshot(model)
    out = tmp_path / "gf.h5"
    r = cli("--quiet", "solve", model, "-o", out)
    err = assert_one_line_error(r, str(model))
    assert "damaged" in err or "checksum" in err
    assert not out.exists() and not journal_path(out).exists()
    r = cli("info", model)
    assert_one_line_error(r, str(model))
    assert_unchanged(snap)


@pytest.mark.parametrize("where", ["object header", "data (checksum)"])
def test_damaged_gf_file_is_one_line(solved, tmp_path, where):
    gf = tmp_path / "gf.h5"
    shutil.copy(solved[4], gf)
    if where == "object header":
        _poke(gf, _object_header(gf, "greens_functions/displacement") + 8, b"\xa5" * 24)
    else:
        off, size = _first_chunk(gf, "greens_functions/displacement")
        _poke(gf, off + size // 2, b"\x7f\x13")
    snap = snapshot(gf)
    for args in (["export", gf, "--format", "npz", "-o", tmp_path / "x.npz"], ["info", gf],
                 ["--quiet", "solve", solved[3], "-o", gf]):
        r = cli(*args)
        assert_one_line_error(r, str(gf))
    assert_unchanged(snap)
    assert not (tmp_path / "x.npz").exists()


def test_checksums_are_stored(solved):
    with h5py.File(solved[3], "r") as f:
        assert f["mesh/nodes"].fletcher32 and f["mesh/cells"].fletcher32
    with h5py.File(solved[4], "r") as f:
        assert f["greens_functions/displacement"].fletcher32 and f["solve/done"].fletcher32


# --- options and output folders before any output ------------------------------------------------

def test_backend_cuda_without_a_gpu_leaves_no_output(solved, tmp_path, monkeypatch):
    import crustgf.solvers.backend as backend

    monkeypatch.setattr(backend, "simulator_enabled", lambda: False)
    monkeypatch.setattr(backend, "probe_gpu", lambda: (False, "no NVIDIA device"))
    out = tmp_path / "gf.h5"
    r = cli("solve", solved[3], "-o", out, "--backend", "cuda")
    assert_one_line_error(r, "--backend cuda", "no NVIDIA device")
    assert list(tmp_path.iterdir()) == []
    r = cli("run", solved[1], "-o", out, "--backend", "cuda")  # before meshing too
    assert_one_line_error(r, "--backend cuda")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("address, words", [("not a url", "not an address"),
                                            ("tcp://127.0.0.1:9", "cannot connect"),
                                            ("foo://x:1", "unknown protocol")])
def test_scheduler_unreachable_or_malformed_fails_at_once(solved, tmp_path, address, words):
    import time

    out = tmp_path / "gf.h5"
    t0 = time.monotonic()
    r = cli("solve", solved[3], "-o", out, "--scheduler", address)
    assert_one_line_error(r, "--scheduler", words)
    assert time.monotonic() - t0 < 10
    assert list(tmp_path.iterdir()) == []
    r = cli("run", solved[1], "-o", out, "--scheduler", address)
    assert_one_line_error(r, "--scheduler")
    assert list(tmp_path.iterdir()) == []  # no model either: checked before meshing


def test_scheduler_check_does_not_hang_in_a_subprocess(solved, tmp_path):
    """The real command, exiting: `not a url` used to print its error and then hang for 60 s."""
    import sys
    import time

    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "crustgf.cli.main", "solve", str(solved[3]), "-o",
                        str(tmp_path / "gf.h5"), "--scheduler", "not a url"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    assert p.returncode == 1 and p.stderr.startswith("Error: ") and p.stderr.count("\n") == 1
    assert time.monotonic() - t0 < 20


def test_model_with_a_nan_node_leaves_no_output(solved, tmp_path):
    model = tmp_path / "model.h5"
    shutil.copy(solved[3], model)
    with h5py.File(model, "a") as f:
        f["mesh/nodes"][3, 1] = np.nan
    out = tmp_path / "gf.h5"
    r = cli("solve", model, "-o", out)
    assert_one_line_error(r, str(model), "not finite")
    assert not out.exists() and not journal_path(out).exists()


@pytest.mark.parametrize("args, words", [(["--rtol", "2"], "--rtol"), (["--batch", "0"], "--batch"),
                                         (["--workers", "0"], "--workers")])
def test_run_checks_options_before_meshing(solved, tmp_path, args, words):
    out = tmp_path / "gf.h5"
    r = cli("run", solved[1], "-o", out, *args)
    assert_one_line_error(r, words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["mesh", "run", "export", "solve"])
def test_missing_output_folder_before_any_work(solved, tmp_path, command):
    out = tmp_path / "nope" / "x.h5"
    args = {"mesh": ["mesh", solved[1], "-o", out], "run": ["run", solved[1], "-o", out],
            "export": ["export", solved[4], "--format", "npz", "-o", out],
            "solve": ["solve", solved[3], "-o", out]}[command]
    r = cli(*args)
    assert_one_line_error(r, "does not exist")
    assert list(tmp_path.iterdir()) == []


# --- CSV quoting, units ---------------------------------------------------------------------------

def test_station_name_with_a_comma_survives_every_csv(tmp_path):
    """A station named `S,99` is one field in the export, synth, invert and matrix CSVs, and reads
    back as itself."""
    import csv

    from gf_fixtures import standard_case

    from crustgf.inversion.synth import read_data_csv
    from crustgf.io.gfread import load_greens_functions

    gf_path, names, *_ = standard_case(tmp_path, n_strike=3, n_dip=2, stations_per_side=3, variants=False)
    with h5py.File(gf_path, "a") as f:
        new = ['S,99 "x"' if i == 0 else n for i, n in enumerate(names)]
        del f["stations/name"]
        f.create_dataset("stations/name", data=np.array(new, dtype=object), dtype=h5py.string_dtype())
    r = cli("export", gf_path, "--format", "csv", "-o", tmp_path / "long.csv")
    assert r.exit_code == 0, r.output
    rows = [row for row in csv.reader(ln for ln in open(tmp_path / "long.csv") if not ln.startswith("#"))]
    assert all(len(row) == 5 for row in rows) and rows[1][0] == 'S,99 "x"'
    r = cli("export", gf_path, "--format", "matrix", "-o", tmp_path / "G.csv")
    assert r.exit_code == 0, r.output
    rows = [row for row in csv.reader(ln for ln in open(tmp_path / "G.csv") if not ln.startswith("#"))]
    assert len({len(row) for row in rows}) == 1 and rows[1][0].startswith('S,99 "x"')
    slip = tmp_path / "slip.csv"
    slip.write_text("subfault,strike_slip,dip_slip\n0,0,1\n")
    data = tmp_path / "d.csv"
    r = cli("synth", gf_path, "--slip", slip, "-o", data)
    assert r.exit_code == 0, r.output
    back = read_data_csv(data)
    assert back.names == load_greens_functions(gf_path).station_names
    r = cli("invert", gf_path, data, "-o", tmp_path / "res", "--no-plot")
    assert r.exit_code == 0, r.output
    rows = [row for row in csv.reader(ln for ln in open(tmp_path / "res_residuals.csv") if not ln.startswith("#"))]
    assert all(len(row) == 6 for row in rows) and rows[1][0] == 'S,99 "x"'


@pytest.mark.parametrize("key, value, words", [("vp", "6000.0", "m/s"), ("vs", "3500.0", "m/s"),
                                               ("density", "2700.0", "kg/m^3")])
def test_si_units_in_the_config_are_refused(solved, tmp_path, key, value, words):
    text = solved[1].read_text()
    old = {"vp": "vp = 6.0", "vs": "vs = 3.5", "density": "density = 2.7"}[key]
    cfg = tmp_path / "c.toml"
    cfg.write_text(text.replace(old, f"{key} = {value}", 1))
    shutil.copy(solved[2], tmp_path / solved[2].name)
    out = tmp_path / "out.h5"
    r = cli("mesh", cfg, "-o", out)
    err = assert_one_line_error(r, f"layers[0].{key}", words, "did you mean")
    assert str(float(value) / 1000.0).rstrip("0").rstrip(".") in err
    assert not out.exists()


def test_info_prints_velocities_in_km_per_s(solved):
    r = cli("info", solved[3])
    assert r.exit_code == 0
    assert "vp 6.000 vs 3.500 km/s  rho 2.700 g/cm3" in r.output and "e+0" not in r.output


def test_string_datasets_carry_a_verified_sha256(solved, tmp_path):
    """Station names cannot have a Fletcher-32 checksum (variable-length strings): a sha256
    attribute instead, checked on every read, so a renamed station in a damaged file is found."""
    for src, name in ((solved[3], "stations/name"), (solved[4], "stations/name")):
        path = tmp_path / src.name
        shutil.copy(src, path)
        with h5py.File(path, "a") as f:
            assert len(f[name].attrs["sha256"]) == 64
            sha = f[name].attrs["sha256"]
            names = [s.decode() for s in f[name][()]]
            del f[name]
            f.create_dataset(name, data=np.array(["Z"] + names[1:], dtype=object), dtype=h5py.string_dtype())
            f[name].attrs["sha256"] = sha  # as if the bytes of one name had changed on disk
        args = ["info", path] if src == solved[3] else ["export", path, "--format", "npz", "-o", tmp_path / "x.npz"]
        r = cli(*args)
        assert_one_line_error(r, str(path), "checksum")


def test_disk_full_mid_solve_is_one_line_and_resumes(solved, tmp_path, monkeypatch):
    """The journal cannot take the third batch (ENOSPC): one line naming the journal, exit 1; the
    finished batches are kept and the same command then completes the file."""
    import crustgf.greens.journal as journal

    real = journal.Journal.append
    calls = []

    def append(self, result):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, result)

    monkeypatch.setattr(journal.Journal, "append", append)
    out = tmp_path / "gf.h5"
    r = cli("--quiet", "solve", solved[3], "-o", out, "--batch", 1)
    assert_one_line_error(r, "disk full", "journal", "run the same command again")
    with h5py.File(out, "r") as f:
        assert f["solve/done"][()].sum() == 2
    monkeypatch.setattr(journal.Journal, "append", real)
    r = cli("solve", solved[3], "-o", out, "--batch", 1)
    assert r.exit_code == 0 and "resuming" in r.stderr
    with h5py.File(out, "r") as f, h5py.File(solved[4], "r") as g:
        np.testing.assert_allclose(f["greens_functions/displacement"][()], g["greens_functions/displacement"][()],
                                   rtol=0, atol=1e-12)


def test_si_units_in_a_variant_are_refused(solved, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(solved[1].read_text().replace("vs_scale = 0.9", "vs = 3200.0"))
    shutil.copy(solved[2], tmp_path / solved[2].name)
    r = cli("mesh", cfg, "-o", tmp_path / "out.h5")
    assert_one_line_error(r, "variants[0].changes[0].vs", "m/s", "did you mean 3.2?")
    assert not (tmp_path / "out.h5").exists()


def test_scheduler_check_accepts_a_listening_address():
    """The check lets a real address through, with or without tcp:// (a listening socket stands in
    for the scheduler: the check only opens a TCP connection)."""
    import socket

    from crustgf.greens.dispatch.dask import check_scheduler_address

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        check_scheduler_address(f"tcp://127.0.0.1:{port}")
        check_scheduler_address(f"127.0.0.1:{port}")
        check_scheduler_address(f"tcp://localhost:{port}")


def test_guard_compares_identities_as_they_are_now(tmp_path):
    """A command that replaces one of its outputs frees that inode, and a later output may get it:
    identities are looked up when compared, so this is not taken for a clash (it was, now and
    then, in `run`: the model's old sidecar inode came back as the GF file's)."""
    from crustgf.core.atomic import atomic_open, command_scope

    a, b = tmp_path / "a.xdmf", tmp_path / "b.h5"
    a.write_text("old sidecar")
    with command_scope(outputs=[a, b]):
        os.rename(a, b)  # b now has a's former inode; a is gone
        with atomic_open(b, "w") as fh:
            fh.write("gf")
    assert b.read_text() == "gf"
