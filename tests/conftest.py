"""Shared pytest setup.

On a machine without an NVIDIA GPU the CUDA kernels are exercised in Numba's CUDA simulator:
NUMBA_ENABLE_CUDASIM must be set before anything imports numba.cuda, and conftest.py is imported
before any test module. An explicit NUMBA_ENABLE_CUDASIM (0 or 1) in the environment is respected.
"""

import os
import shutil

if "NUMBA_ENABLE_CUDASIM" not in os.environ and not (
    os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi")
):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
