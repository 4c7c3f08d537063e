"""Direct solve of the SPD reduced stiffness with MKL PARDISO (pypardiso's ctypes wrapper).

mtype 2 (real symmetric positive definite) takes the upper triangle. The analysis (phase 11,
METIS ordering) reports the memory the factorisation will need, which `method="auto"` uses to
decide; the factor is computed once (phase 22) and every block of right-hand sides is a pair of
triangular solves (phase 33).
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from crustgf.core.errors import CrustgfError
from crustgf.solvers.residual import true_relative_residual

# above this many dofs auto never tries the direct solver (factor time grows ~n^2: ~4 min at 1M
# dofs on 2 cores, so ~35 min at 3M; still cheaper than AMG CG once there are hundreds of GFs)
DIRECT_MAX_DOF = 3_000_000
# the factorisation may use at most this fraction of MemAvailable. Measured at 1.07M TET10 dofs:
# PARDISO's estimate 13.7 GB, process peak 18.0 GB (the rest is the model, K and the operators),
# so 0.7 leaves ~30 % of the free memory for that and for the rest of the machine.
DIRECT_MEMORY_FRACTION = 0.7


# how many processes on this machine may factorise at once: each gets its share of the memory
# budget (`--workers N` sets it to N in its worker processes)
PROCESSES_ENV = "CRUSTGF_PROCESSES_PER_MACHINE"


def direct_memory_budget() -> float:
    """Bytes the factorisation of this process may use: its share of MemAvailable."""
    try:
        n = max(1, int(os.environ.get(PROCESSES_ENV, "1")))
    except ValueError:
        n = 1
    return DIRECT_MEMORY_FRACTION * available_memory_bytes() / n


def available_memory_bytes() -> int:
    """MemAvailable from /proc/meminfo (bytes); a large number where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 50


class PardisoSolver:
    """`PardisoSolver(K)` analyses K (upper triangle of a CSR SPD matrix); `.factorize()` before solving."""

    def __init__(self, K: sp.csr_matrix):
        from pypardiso import PyPardisoSolver

        self.K = K
        self.upper = sp.triu(K, format="csr")
        self.upper.sort_indices()
        self._ia = (self.upper.indptr + 1).astype(np.int32)
        self._ja = (self.upper.indices + 1).astype(np.int32)
        self._ps = PyPardisoSolver(mtype=2)
        self._factorized = False
        self._run(11, np.zeros((K.shape[0], 1)))
        ip = self._ps.iparm
        # KB: peak of the analysis, permanent memory, and the factorisation/solve memory
        self.memory_bytes = 1024 * max(int(ip[14]), int(ip[15]) + int(ip[16]))
        self.factor_nnz = int(ip[17])

    def _run(self, phase: int, b: np.ndarray) -> np.ndarray:
        """One PARDISO call on the stored upper triangle (arrays kept: no per-call index copies)."""
        import ctypes

        ps = self._ps
        b = np.asfortranarray(b, dtype=np.float64)
        x = np.zeros_like(b)
        err = ctypes.c_int32(0)
        i32 = ctypes.POINTER(ctypes.c_int32)
        f64 = ctypes.POINTER(ctypes.c_double)
        ps._mkl_pardiso(
            ps.pt.ctypes.data_as(ctypes.POINTER(ps._pt_type[0])),
            ctypes.byref(ctypes.c_int32(1)), ctypes.byref(ctypes.c_int32(1)),
            ctypes.byref(ctypes.c_int32(2)), ctypes.byref(ctypes.c_int32(phase)),
            ctypes.byref(ctypes.c_int32(self.upper.shape[0])),
            self.upper.data.ctypes.data_as(f64), self._ia.ctypes.data_as(i32), self._ja.ctypes.data_as(i32),
            ps.perm.ctypes.data_as(i32), ctypes.byref(ctypes.c_int32(b.shape[1])),
            ps.iparm.ctypes.data_as(i32), ctypes.byref(ctypes.c_int32(0)),
            b.ctypes.data_as(f64), x.ctypes.data_as(f64), ctypes.byref(err),
        )
        if err.value != 0:
            hint = " (matrix not positive definite: is the model constrained?)" if err.value == -4 else ""
            raise CrustgfError(f"PARDISO phase {phase} failed with error {err.value}{hint}")
        return np.ascontiguousarray(x)

    def factorize(self) -> "PardisoSolver":
        if not self._factorized:
            self._run(22, np.zeros((self.K.shape[0], 1)))
            self._factorized = True
        return self

    def solve(self, B):
        """X = K^-1 B for a block B (n, k); returns (X, true relative residual (k,), iterations (k,))."""
        self.factorize()
        B = np.asarray(B, dtype=np.float64).reshape(self.K.shape[0], -1)
        X = self._run(33, B)
        res = true_relative_residual(self.K, X, B)
        return X, res, np.ones(B.shape[1], dtype=np.int64)

    def release(self) -> None:
        """Free PARDISO's internal memory."""
        self._run(-1, np.zeros((self.K.shape[0], 1)))
        self._factorized = False


def try_direct(K):
    """An analysed PardisoSolver when K is small enough and its factor fits comfortably in RAM, else None."""
    if K.shape[0] > DIRECT_MAX_DOF:
        return None
    s = PardisoSolver(K)
    if s.memory_bytes > direct_memory_budget():
        s.release()
        return None
    return s


def fitting_direct(K) -> PardisoSolver:
    """An analysed PardisoSolver for an explicit method = "direct"; CrustgfError when its factor
    cannot fit in the memory available now (instead of failing or swapping hours later)."""
    s = PardisoSolver(K)
    free = available_memory_bytes()
    if s.memory_bytes > free:
        s.release()
        raise CrustgfError(f"solver.method = \"direct\": PARDISO needs {s.memory_bytes / 1e9:.1f} GB for this "
                           f"model, {free / 1e9:.1f} GB of memory are available; use method \"multigrid\" "
                           "(or \"auto\")")
    return s
