"""A deterministic stand-in for GreenSolver (same interface) for testing the solve plumbing.

Its "Green's function" is a closed-form function of (station, component, subfault, slip
component, layers) so any mix-up of job ids, batch order or structures shows as a wrong value:

    u[i, c, sf, comp] = (i + 1) * (c + 2) * (sf + 1) * (1 + 10 * comp) * vs[0] / 1000

"iterations" of solve (sf, comp) are sf + 1, and a solve converges when that is <= the spec's
max_iterations, so a small max_iterations makes the high subfaults fail, reproducibly.
Builds are counted by touching a file in $CRUSTGF_TEST_BUILD_DIR (one per build, named by pid).
"""

from __future__ import annotations

import os
import types
import uuid

import numpy as np

N_STATIONS = 4


def expected(sf, comp, vs0=3400.0, n_stations=N_STATIONS):
    i = np.arange(n_stations)[:, None]
    c = np.arange(3)[None, :]
    return (i + 1) * (c + 2) * (sf + 1) * (1 + 10 * comp) * vs0 / 1000.0


class FakeSolver:
    def __init__(self, spec):
        opts = dict(spec.options)
        self.max_iterations = opts["max_iterations"]
        self.vs0 = 3400.0 if spec.layers is None else float(spec.layers.vs[0])
        folder = os.environ.get("CRUSTGF_TEST_BUILD_DIR")
        if folder:
            open(os.path.join(folder, f"{os.getpid()}-{uuid.uuid4().hex}"), "w").close()

    released: list = []  # FakeSolvers whose release() was called, in order

    def release(self):
        FakeSolver.released.append(self)

    def solve(self, jobs):
        jobs = np.asarray(jobs).reshape(-1, 2)
        disp = np.stack([expected(sf, comp, self.vs0) for sf, comp in jobs], axis=-1)
        iterations = jobs[:, 0] + 1
        converged = iterations <= self.max_iterations
        return types.SimpleNamespace(displacement=disp, residual=np.where(converged, 1e-12, 1e-3),
                                     iterations=iterations, converged=converged)


def make_spec(structure=0, layers=None, max_iterations=100, batch=4):
    from crustgf.greens.dispatch import SolverSpec

    options = tuple(sorted({"backend": "cpu", "method": "auto", "rtol": 1e-8,
                            "max_iterations": max_iterations, "batch": batch}.items()))
    return SolverSpec("/nonexistent/model.h5", "0" * 64, structure, layers, options,
                      factory="solver_double:FakeSolver")
