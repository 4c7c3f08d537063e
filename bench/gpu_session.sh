#!/usr/bin/env bash
# The GPU checks of the CUDA backend, for a session whose task is lent a device (H100/H200).
#
#   bash bench/gpu_session.sh prepare     # here, once: the pyamg wheel into .whl/ (git-ignored)
#   device run:  carry [".whl"], timeout_s 590, command:
#                OUT=$OUT bash bench/gpu_session.sh device
#
# On the device: installs pyamg (the image has numba, numba-cuda, scipy, h5py, pytest; gmsh and
# pyproj are not needed), prints the GPU, runs the CUDA kernel tests on the real GPU (the tests
# that mesh with gmsh are left out), then bench/gpu_bench.py within BUDGET seconds (default 360).
# Everything is written under $OUT as it is produced; copy $OUT/gpu-*.txt to bench/results/.
set -uo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
prepare)
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d .whl "pyamg==5.4.1"
    ls -l .whl
    ;;
device)
    : "${OUT:?set OUT to the folder whose files come back}"
    command -v nvidia-smi >/dev/null || { echo "no GPU here (nvidia-smi missing)" >&2; exit 1; }
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
    timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_cuda_sim.py tests/test_multigrid.py \
        -m "not slow" -k "not greens_functions" 2>&1 | tee "$OUT/pytest-gpu.txt"
    python3 bench/gpu_bench.py --out "$OUT" --budget "${BUDGET:-360}" 2>&1 | tee "$OUT/gpu_bench.log"
    ;;
*)
    echo "usage: bash bench/gpu_session.sh prepare|device" >&2
    exit 2
    ;;
esac
