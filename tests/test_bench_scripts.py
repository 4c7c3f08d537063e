"""The benchmark scripts run (a GPU session must not spend its minutes on a broken script) and
report what they claim: gpu_bench.py end to end in the CUDA simulator, precond.py on a small box."""

import re
import runpy
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _main(script):
    return runpy.run_path(str(BENCH / script), run_name="bench")["main"]


def test_gpu_bench_runs_in_the_simulator(capsys):
    _main("gpu_bench.py")(["--tiny", "--cubes", "2", "--blocks", "2"])
    out = capsys.readouterr().out
    assert "CUDA SIMULATOR" in out and "copy bandwidth" in out
    assert re.search(r"EBE colour k= 2: f64", out) and re.search(r"EBE atomic k= 2: f64", out)
    residuals = {m[0]: float(m[1]) for m in
                 re.findall(r"block PCG (\w+) k= 2: .*max true residual (\S+),", out)}
    assert set(residuals) == {"multigrid", "chebyshev"}
    assert all(r <= 1e-8 for r in residuals.values())


def test_precond_bench_counts_iterations(capsys):
    _main("precond.py")(["--boxes", "6", "--precond", "chebyshev:4,multigrid:2", "-k", "2"])
    out = capsys.readouterr().out
    its = {m[0]: int(m[1]) for m in re.findall(r"^(\S+)\s+\S+\s+(\d+)\s", out, flags=re.M)}
    assert set(its) == {"chebyshev:4", "multigrid:2"}
    assert its["multigrid:2"] < its["chebyshev:4"]
