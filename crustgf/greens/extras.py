"""More Green's functions from the same solves (SPEC 6): fault tractions and structure sensitivities.

The solve path knows these only as "extras": named per-job arrays that a GreenSolver computes next
to the station displacements, that travel in BatchResult.extras, the journal and SolveState.extras,
and that gffile writes at their name inside each structure's group. This module owns the names,
shapes, units and meanings, and builds the per-solver computations:

    greens_functions/traction      (n_subfaults, 3) per job   greens/traction.py
    sensitivity/<layer>/mu|lambda  (n_stations, 3) per job    sensitivity.py

Options: `[solver] traction = true` / `--traction`; `[solver] sensitivity = [...]` or "all" /
`--sensitivity`. A job counts as done only with all its extras (its derivative solves reached rtol:
the job's residual is the largest of its solves').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crustgf.greens.sensitivity import output_names, resolve_layers

TRACTION = "greens_functions/traction"


@dataclass(frozen=True)
class ExtraSpec:
    name: str  # dataset path inside a structure's group
    shape: tuple  # per job
    units: str
    axes: str
    meaning: str


def extra_specs(traction: bool, sensitivity, n_stations: int, n_subfaults: int) -> list[ExtraSpec]:
    out = []
    if traction:
        out.append(ExtraSpec(
            TRACTION, (n_subfaults, 3), "Pa/m",
            "receiver subfault, component (strike-slip, dip-slip (up-dip), normal), source subfault, "
            "slip (strike-slip, dip-slip)",
            "traction change on the receiver per unit slip of the source: mean over the receiver's "
            "inscribed disk (radius R) weighted by 1 - (r/R)^2, r from the receiver centroid, recovered "
            "from nodal forces (see crustgf.greens.traction); shear positive in the direction of +slip "
            "on the receiver, normal "
            "positive in tension"))
    for path, layer, p in output_names(sensitivity or ()):
        out.append(ExtraSpec(
            path, (n_stations, 3), "m/m/Pa",
            "station, component (east, north, up), subfault, slip (strike-slip, dip-slip)",
            f"derivative of the displacement Green's functions with respect to {p} of layer {layer} "
            f"({'lambda' if p == 'mu' else 'mu'} held), exact on the FE operator"))
    return out


def spec_for_name(name: str, shape) -> ExtraSpec:
    """Describe a dataset found in a file (one not requested by this run, carried over)."""
    shape = tuple(shape[:-2])
    if name == TRACTION:
        return extra_specs(True, (), 0, shape[0])[0]
    layer = name.split("/")[1]
    spec = extra_specs(False, (layer,), shape[0], 0)
    return next(s for s in spec if s.name == name)


def is_extra_name(name: str) -> bool:
    parts = name.split("/")
    return name == TRACTION or (len(parts) == 3 and parts[0] == "sensitivity" and parts[2] in ("mu", "lambda"))


class SolverExtras:
    """The extras one GreenSolver computes for each block of jobs."""

    def __init__(self, green_solver, inc, traction: bool = False, sensitivity=()):
        self.traction_ops = None
        self.kernels = None
        pb, model = green_solver.problem, green_solver.model
        if traction:
            from crustgf.greens.traction import traction_operators

            self.traction_ops = traction_operators(pb, model, green_solver.slip, inc, green_solver.jump_op)
        layers = resolve_layers(sensitivity, green_solver.layers.name)
        if layers:
            from crustgf.greens.sensitivity import SensitivityKernels

            self.kernels = SensitivityKernels(pb, model.cell_material, green_solver.layers.name, layers,
                                              inc, green_solver.slip.n_split)

    def __bool__(self) -> bool:
        return self.traction_ops is not None or self.kernels is not None

    def compute(self, green_solver, X, D):
        """(dict name -> (..., k), residual (k,), iterations (k,)) of the extra solves (zeros if none)."""
        k = X.shape[1]
        out = {}
        res = np.zeros(k)
        its = np.zeros(k, dtype=np.int64)
        if self.traction_ops is not None:
            Tx, Td = self.traction_ops
            out[TRACTION] = (Tx @ X + Td @ D).reshape(-1, 3, k)
        if self.kernels is not None:
            B = self.kernels.right_hand_sides(X, D)
            Y = np.empty_like(B)
            r, it = np.empty(B.shape[1]), np.empty(B.shape[1], dtype=np.int64)
            step = max(k, green_solver.batch)  # blocks no wider than the solver's own
            for s in range(0, B.shape[1], step):
                Y[:, s:s + step], r[s:s + step], it[s:s + step] = green_solver.solver.solve(B[:, s:s + step])
            n_st = green_solver.n_stations
            dU = (green_solver.station_interp @ Y).reshape(n_st, 3, -1, k)  # (.., param, k)
            for i, (path, _, _) in enumerate(self.kernels.outputs):
                out[path] = dU[:, :, i, :]
            # a zero right-hand side (a layer the job does not load) has residual 0 by definition
            res = np.asarray(r, dtype=float).reshape(-1, k).max(axis=0)
            its = np.asarray(it, dtype=np.int64).reshape(-1, k).sum(axis=0)
        return out, res, its
