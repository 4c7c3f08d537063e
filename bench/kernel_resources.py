"""Registers and spills of the CUDA kernels, without a GPU: Numba compiles them to PTX with NVVM,
ptxas (for --arch, default sm_90 = H100/H200) reports registers per thread and spill bytes, with
and without register caps. Occupancy follows: 65536 registers per SM, so r registers per thread
leave room for floor(65536 / (32 r)) warps (of 64).

Needs NVVM, NVRTC and ptxas, e.g. from the pip wheels nvidia-cuda-nvcc-cu12 and
nvidia-cuda-nvrtc-cu12 unpacked into one folder (no install, no GPU):

    pip download --no-deps -d /tmp/w nvidia-cuda-nvcc-cu12 nvidia-cuda-nvrtc-cu12
    mkdir /tmp/tk && for w in /tmp/w/*.whl; do unzip -q -o $w -d /tmp/tk; done
    python bench/kernel_resources.py --toolkit /tmp/tk/nvidia
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _reexec_with_toolkit(toolkit: Path):
    """NVRTC is found through LD_LIBRARY_PATH, which only a new process reads."""
    nvcc, nvrtc = toolkit / "cuda_nvcc", toolkit / "cuda_nvrtc"
    env = dict(os.environ, CUDA_HOME=str(nvcc), NUMBA_CUDA_NVVM=str(nvcc / "nvvm/lib64/libnvvm.so"),
               NUMBA_ENABLE_CUDASIM="0", CRUSTGF_KERNEL_RESOURCES="1",
               LD_LIBRARY_PATH=f"{nvrtc / 'lib'}:{nvcc / 'nvvm/lib64'}:{os.environ.get('LD_LIBRARY_PATH', '')}")
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def kernels():
    """(name, python function, argument types) of the kernels that matter for speed."""
    from numba import float32, float64, int32, int64

    from crustgf.solvers.cuda import csr_kernels
    from crustgf.solvers.cuda.ebe_kernels import ebe_kernel

    out = []
    for dtype, ft in (("float64", float64), ("float32", float32)):
        for atomic in (False, True):
            sig = (int64, int64, int32[:, ::1], float64[:, ::1] if ft is float64 else float32[:, ::1],
                   ft[::1], ft[::1], ft[::1], ft, ft[:, ::1], ft[:, ::1])
            out.append((f"ebe {dtype} {'atomic' if atomic else 'colour'}",
                        ebe_kernel(dtype, atomic).py_func, sig))
    out.append(("csr spmm float32", csr_kernels.spmm.py_func,
                (int32[::1], int32[::1], float32[::1], float32[:, ::1], float64, float32[:, ::1])))
    return out


def ptxas_report(ptxas: Path, ptx: str, arch: str, cap: int | None) -> str:
    ptx = re.sub(r"^\.version 9\.\d+", ".version 8.8", ptx, flags=re.M)  # NVVM may be newer than ptxas
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "k.ptx"
        src.write_text(ptx)
        cmd = [str(ptxas), f"-arch={arch}", "-v", str(src), "-o", str(Path(tmp) / "k.cubin")]
        if cap:
            cmd[1:1] = ["-maxrregcount", str(cap)]
        text = subprocess.run(cmd, capture_output=True, text=True).stderr
    regs = re.search(r"Used (\d+) registers", text)
    spill = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", text)
    if not regs:
        return f"ptxas failed: {text.strip().splitlines()[-1] if text.strip() else '?'}"
    r = int(regs[1])
    warps = min(64, 65536 // (32 * r))
    return f"{r:3d} registers, spill stores/loads {spill[1]}/{spill[2]} B, <= {warps} warps/SM"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toolkit", required=True, help="folder holding cuda_nvcc/ and cuda_nvrtc/")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--caps", default="0,96,72", help="register caps (0: none)")
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args(argv)
    toolkit = Path(args.toolkit).resolve()
    if os.environ.get("CRUSTGF_KERNEL_RESOURCES") != "1":
        _reexec_with_toolkit(toolkit)
    sys.path.insert(0, str(ROOT))
    from numba import cuda

    ptxas = toolkit / "cuda_nvcc" / "bin" / "ptxas"
    lines = [f"crustgf kernel resources, {args.arch}, ptxas {ptxas}"]
    for name, fn, sig in kernels():
        ptx, _ = cuda.compile_ptx(fn, sig, cc=tuple(int(c) for c in args.arch[3:]))
        for cap in (int(c) for c in args.caps.split(",")):
            lines.append(f"{name:22s} cap {cap or '-':>4}: {ptxas_report(ptxas, ptx, args.arch, cap)}")
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
