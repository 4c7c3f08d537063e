"""The one place that picks the solver backend: `resolve_backend(name) -> "cpu" | "cuda"`.

- "cpu": always the CPU solvers.
- "auto": "cuda" only when numba.cuda works on a real GPU: a tiny kernel launch succeeds and
  returns the right numbers (never the CUDA simulator), else "cpu".
- "cuda": "cuda" when a real GPU is usable, or when NUMBA_ENABLE_CUDASIM=1 is set (the kernels
  then run in Numba's CUDA simulator: for tests, very slow); otherwise CrustgfError.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache

from crustgf.config.schema import BACKENDS
from crustgf.core.errors import CrustgfError


def simulator_enabled() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _gpu_visible() -> bool:
    """Cheap check before importing numba.cuda: a device node or nvidia-smi exists."""
    return os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi") is not None


@lru_cache(maxsize=1)
def probe_gpu() -> tuple[bool, str]:
    """(usable, reason): whether a tiny kernel runs correctly on a real CUDA GPU."""
    if simulator_enabled():
        return False, "NUMBA_ENABLE_CUDASIM is set, so numba.cuda is the simulator"
    if not _gpu_visible():
        return False, "no NVIDIA device (/dev/nvidia0) and no nvidia-smi"
    try:
        import numpy as np
        from numba import cuda

        if not cuda.is_available():
            return False, "numba.cuda reports no CUDA driver or device"

        @cuda.jit
        def _add_one(a):
            i = cuda.grid(1)
            if i < a.size:
                a[i] += 1.0

        a = cuda.to_device(np.arange(64, dtype=np.float64))
        _add_one[1, 64](a)
        if not np.array_equal(a.copy_to_host(), np.arange(64) + 1.0):
            return False, "test kernel returned wrong values"
        name = cuda.get_current_device().name
        return True, name.decode() if isinstance(name, bytes) else str(name)
    except Exception as exc:  # any driver/toolkit failure means: not usable
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def resolve_backend(name: str) -> str:
    """'auto' | 'cpu' | 'cuda' -> 'cpu' | 'cuda' (see the module docstring)."""
    if name not in BACKENDS:
        raise CrustgfError(f"--backend: must be one of auto, cpu, cuda, got {name!r}")
    if name == "cpu":
        return "cpu"
    usable, reason = probe_gpu()
    if name == "auto":
        return "cuda" if usable else "cpu"
    if usable or simulator_enabled():
        return "cuda"
    raise CrustgfError(f"--backend cuda: no usable CUDA GPU ({reason})")


def make_cuda_solver(problem, rtol=1e-8, max_iterations=5000, **options):
    """The CUDA solver for an ElasticProblem (nodes, cells, mu, lam, free_dofs); `.solve(B)`."""
    from crustgf.solvers.cuda import CudaBlockPCG

    return CudaBlockPCG.from_problem(problem, rtol=rtol, max_iterations=max_iterations, **options)
