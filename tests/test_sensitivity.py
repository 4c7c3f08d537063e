"""Structure sensitivity kernels (SPEC 6): exact derivatives dG/dmu, dG/dlambda of every layer
against central differences of structure variants (+-1 %) on the same mesh, on the CPU and through
the CUDA backend's solver; and the solve path (file, resume, options, errors)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from crustgf.core.errors import CrustgfError


@dataclass
class Moduli:
    """A layer table given by its moduli (what GreenSolver reads: name, mu, lam)."""

    name: list
    mu: np.ndarray
    lam: np.ndarray


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from solve_model import build_tiny_model

    from crustgf.io.modelfile import read_model

    return read_model(build_tiny_model(tmp_path_factory.mktemp("sens")))


def jobs_of(model):
    return np.array([(s, c) for s in range(model.n_subfaults) for c in (0, 1)])


def test_kernels_match_central_differences(model):
    from crustgf.greens.operator import GreenSolver

    jobs = jobs_of(model)
    base = Moduli(list(model.layers.name), model.layers.mu.copy(), model.layers.lam.copy())
    res = GreenSolver(model, method="direct", layers=base, sensitivity="all").solve(jobs)
    assert res.converged.all()
    h = 0.01
    for i, layer in enumerate(base.name):
        for p, attr in (("mu", "mu"), ("lambda", "lam")):
            got = res.extras[f"sensitivity/{layer}/{p}"]
            side = []
            for sign in (1, -1):
                var = Moduli(base.name, base.mu.copy(), base.lam.copy())
                getattr(var, attr)[i] *= 1 + sign * h
                side.append(GreenSolver(model, method="direct", layers=var).solve(jobs).displacement)
            fd = (side[0] - side[1]) / (2 * h * getattr(base, attr)[i])
            err = np.linalg.norm(got - fd) / np.linalg.norm(fd)
            assert err < 0.005, (layer, p, err)
            # and the sign is physical: a stiffer medium moves less (the GF norm falls with mu)
    total_mu = sum(res.extras[f"sensitivity/{n}/mu"] * base.mu[i] for i, n in enumerate(base.name))
    total_lam = sum(res.extras[f"sensitivity/{n}/lambda"] * base.lam[i] for i, n in enumerate(base.name))
    # scaling every modulus by (1 + e) leaves the displacement of a dislocation unchanged (it is
    # homogeneous of degree 0 in the moduli): sum_p p dG/dp = 0 (Euler)
    assert np.linalg.norm(total_mu + total_lam) < 1e-6 * np.linalg.norm(total_mu)


def test_cuda_backend_kernels_equal_cpu(model, monkeypatch):
    """The CUDA backend's solver (its algorithm run on the host, as in test_cuda_sim) gives the same
    kernels: the right-hand sides are formed on the host and solved by the backend's solve(B)."""
    from crustgf.greens.operator import GreenSolver
    from crustgf.solvers import backend
    from crustgf.solvers.cuda import CudaBlockPCG

    def host_cuda_solver(problem, rtol=1e-8, max_iterations=5000, **kw):
        return CudaBlockPCG.from_problem(problem, rtol=rtol, max_iterations=max_iterations, device=False, **kw)

    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    backend.probe_gpu.cache_clear()
    monkeypatch.setattr(backend, "make_cuda_solver", host_cuda_solver)
    jobs = jobs_of(model)[:4]
    ref = GreenSolver(model, method="direct", sensitivity=["crust"], traction=True).solve(jobs)
    got = GreenSolver(model, backend="cuda", rtol=1e-10, batch=4, sensitivity=["crust"], traction=True).solve(jobs)
    backend.probe_gpu.cache_clear()
    assert got.converged.all()
    for name, value in ref.extras.items():
        assert np.abs(got.extras[name] - value).max() <= 1e-6 * np.abs(value).max(), name


def test_unknown_layer_is_an_error(model):
    from crustgf.greens.operator import GreenSolver

    with pytest.raises(CrustgfError, match="unknown layer 'nosuch'"):
        GreenSolver(model, method="direct", sensitivity=["nosuch"])


def test_solve_with_extras_resumes_and_keeps_them(model, tmp_path, monkeypatch):
    """`crustgf solve` with traction and kernels: an interrupted run (Ctrl-C after its first batch)
    resumes to the same file as an uninterrupted one; a file solved without the extras is solved
    again with them when they are asked for."""
    import h5py
    from solve_model import build_tiny_model

    from crustgf.greens.dispatch import inprocess
    from crustgf.greens.journal import journal_path
    from crustgf.greens.run import solve_greens_functions
    from crustgf.io.modelfile import read_model  # noqa: F401  (model fixture is a Model)

    path = build_tiny_model(tmp_path)
    opts = {"traction": True, "sensitivity": "crust", "batch": 2}
    names = ["greens_functions/displacement", "greens_functions/traction", "sensitivity/crust/mu",
             "sensitivity/crust/lambda", "variants/soft_crust/sensitivity/crust/mu"]

    full = tmp_path / "full.h5"
    assert solve_greens_functions(path, full, opts, progress=False) == 0
    with h5py.File(full) as f:
        ref = {n: f[n][()] for n in names}
        assert "sensitivity/mantle" not in f
        assert f["greens_functions/traction"].attrs["units"] == "Pa/m"
    assert np.isfinite(ref["sensitivity/crust/mu"]).all()
    from crustgf.cli.info import summarize

    summary = summarize(full)
    assert "traction (4, 3, 4, 2)" in summary and "kernels (mu, lambda) of layers: crust" in summary

    real_run = inprocess.InProcessDispatcher.run

    def run_then_interrupt(self, work):
        for k, result in enumerate(real_run(self, work)):
            if k == 1:
                raise KeyboardInterrupt
            yield result

    out = tmp_path / "resumed.h5"
    monkeypatch.setattr(inprocess.InProcessDispatcher, "run", run_then_interrupt)
    assert solve_greens_functions(path, out, opts, progress=False) == 130
    assert journal_path(out).exists() or out.exists()
    monkeypatch.setattr(inprocess.InProcessDispatcher, "run", real_run)
    assert solve_greens_functions(path, out, opts, progress=False) == 0
    with h5py.File(out) as f:
        for n in names:
            np.testing.assert_allclose(f[n][()], ref[n], rtol=1e-9, atol=1e-12 * np.abs(ref[n]).max())

    plain = tmp_path / "plain.h5"
    assert solve_greens_functions(path, plain, {}, progress=False) == 0
    assert solve_greens_functions(path, plain, opts, progress=False) == 0  # re-solved with extras
    with h5py.File(plain) as f:
        np.testing.assert_allclose(f["greens_functions/traction"][()], ref["greens_functions/traction"],
                                   rtol=1e-9, atol=1e-12 * np.abs(ref["greens_functions/traction"]).max())
    assert solve_greens_functions(path, plain, {}, progress=False) == 0  # nothing to do: extras kept
    with h5py.File(plain) as f:
        assert "greens_functions/traction" in f and np.isfinite(f["sensitivity/crust/mu"][()]).all()


def test_cli_rejects_an_unknown_layer(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from solve_model import build_tiny_model

    root = Path(__file__).resolve().parents[1]
    path = build_tiny_model(tmp_path)
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "gf.h5"
    p = subprocess.run([sys.executable, "-m", "crustgf.cli.main", "solve", str(path), "-o", str(out), "--sensitivity",
                        "crust,nosuch", "--quiet"], capture_output=True, text=True, env=env, check=False)
    assert p.returncode == 1 and not out.exists()
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: solver.sensitivity: unknown layer 'nosuch'"), p.stderr


@pytest.mark.slow
def test_whole_cuda_solve_in_the_simulator_gives_cpu_extras():
    """Traction and kernels with every CUDA kernel in Numba's simulator (NUMBA_ENABLE_CUDASIM=1):
    the model of test_cuda_sim's whole-solve test, one job, kernels of one layer (3 block solves)."""
    from crustgf.config.schema import Config, Domain, Layer, MeshOptions, RectangleFault, Stations
    from crustgf.greens.operator import GreenSolver
    from crustgf.mesh import build_model
    from crustgf.solvers import backend

    if not backend.simulator_enabled():
        pytest.skip("set NUMBA_ENABLE_CUDASIM=1 (without a GPU) to run the kernels in the simulator")
    km = 1e3
    pos = np.array([[3 * km, 2 * km, 0.0], [-3 * km, 1 * km, 0.0], [0.0, -4 * km, 0.0]])
    cfg = Config(
        name="sim", domain=Domain((-8 * km, 8 * km), (-8 * km, 8 * km), 7 * km, None),
        layers=[Layer("a", 5 * km, 6000.0, 3500.0, 2700.0), Layer("b", 7 * km, 7000.0, 4000.0, 3000.0)],
        fault=RectangleFault((0.0, 0.0, 1 * km), 20.0, 40.0, 4 * km, 3 * km, (2, 1)),
        stations=Stations(["A", "B", "C"], pos, None),
        mesh=MeshOptions(order=2, size_fault=3 * km, size_max=6 * km), text="")
    model = build_model(cfg, progress=False)
    jobs = np.array([[1, 1]])
    kw = {"traction": True, "sensitivity": ["a"]}
    ref = GreenSolver(model, backend="cpu", method="direct", **kw).solve(jobs)
    res = GreenSolver(model, backend="cuda", rtol=1e-10, batch=2, **kw).solve(jobs)
    assert res.converged.all()
    for name, value in ref.extras.items():
        assert np.abs(res.extras[name] - value).max() <= 1e-6 * np.abs(value).max(), name


def test_config_solver_keys(tmp_path):
    from test_config import base_config, edit, write_config

    from crustgf.config.load import load_config

    cfg = base_config()
    edit(cfg, "solver.traction", True)
    edit(cfg, "solver.sensitivity", ["upper"])
    solver = load_config(write_config(tmp_path, cfg)).solver
    assert solver.traction is True and solver.sensitivity == ["upper"]


@pytest.mark.slow
def test_cuda_extras_on_gpu(model):
    """On a real GPU: traction and kernels of the CUDA backend equal the CPU direct solve's."""
    from crustgf.greens.operator import GreenSolver
    from crustgf.solvers import backend

    if backend.simulator_enabled() or not backend.probe_gpu()[0]:
        pytest.skip("needs a usable CUDA GPU")
    jobs = jobs_of(model)
    kw = {"traction": True, "sensitivity": "all"}
    ref = GreenSolver(model, method="direct", **kw).solve(jobs)
    got = GreenSolver(model, backend="cuda", rtol=1e-10, batch=8, **kw).solve(jobs)
    assert got.converged.all()
    for name, value in ref.extras.items():
        assert np.abs(got.extras[name] - value).max() <= 1e-6 * np.abs(value).max(), name
