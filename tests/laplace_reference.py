"""The correspondence-principle reference for Maxwell viscoelastic histories.

The Laplace transform of the response to a step of slip (slip d/s) is the elastic response of the
same mesh with, in each viscous layer, mu(s) = mu s / (s + 1/tau) and the bulk modulus kappa kept
(lambda(s) = kappa - 2/3 mu(s)): u_hat(s) = u_elastic(mu(s)) / s. The Gaver-Stehfest formula
inverts it from real s only: u(t) ~ ln2/t sum_k V_k u_hat(k ln2 / t).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import scipy.sparse as sp


def stehfest_weights(n: int) -> np.ndarray:
    """V_1..V_n of the Gaver-Stehfest inversion (n even)."""
    if n % 2:
        raise ValueError("n must be even")
    h = n // 2
    v = np.zeros(n)
    for k in range(1, n + 1):
        s = 0.0
        for j in range((k + 1) // 2, min(k, h) + 1):
            s += (j**h * math.factorial(2 * j)) / (math.factorial(h - j) * math.factorial(j)
                                                  * math.factorial(j - 1) * math.factorial(k - j)
                                                  * math.factorial(2 * j - k))
        v[k - 1] = (-1) ** (k + h) * s
    return v


def layers_at_s(layers, viscosity: dict, s: float):
    """The layer table with the Laplace-domain moduli mu(s), lambda(s) of the viscous layers."""
    vp, vs = np.array(layers.vp, float), np.array(layers.vs, float)
    for i, name in enumerate(layers.name):
        if name in viscosity:
            rho, mu, lam = layers.density[i], layers.mu[i], layers.lam[i]
            kappa = lam + 2.0 / 3.0 * mu
            mu_s = mu * s / (s + mu / viscosity[name])
            vs[i] = math.sqrt(mu_s / rho)
            vp[i] = math.sqrt((kappa + 4.0 / 3.0 * mu_s) / rho)
    return replace(layers, vp=vp, vs=vs)


def stehfest_history(model, viscosity: dict, times, jobs, n: int = 12):
    """u(t) (n_times, n_stations, 3, k) by Gaver-Stehfest over direct elastic solves at real s.

    Per s only the stiffness, its factor and the split-node operator change; the slip field, the
    hanging-wall incidences and the station operators are built once."""
    from crustgf.fem.problem import ElasticProblem
    from crustgf.fem.slipfield import build_slip_field
    from crustgf.fem.splitnode import hanging_incidences, jump_operator
    from crustgf.fem.stations import (
        interpolation_matrix,
        locate_points,
        station_jump_matrix,
    )
    from crustgf.solvers.cpu.direct import PardisoSolver

    mat = np.asarray(model.cell_material, dtype=np.int64)
    slip = build_slip_field(model)
    base = ElasticProblem(model.nodes, model.cells, 1.0, 1.0, model.fixed_nodes)
    inc = hanging_incidences(base.nodes, base.cells, model.fault_cells, slip.nodes, base.node_elements)
    elem, bary = locate_points(base.nodes, base.cells, model.station_positions, model.station_names)
    P = interpolation_matrix(base.cells, elem, bary, len(base.nodes))[:, base.free_dofs].tocsr()
    Q = station_jump_matrix(base.cells, elem, bary, inc, slip.n_split)
    D = slip.jumps(np.asarray(jobs, dtype=np.int64).reshape(-1, 2))
    V = stehfest_weights(n)
    solver = None
    out = []
    for t in times:
        acc = 0.0
        for k in range(1, n + 1):
            s = k * math.log(2.0) / t
            layers = layers_at_s(model.layers, viscosity, s)
            mu, lam = layers.mu[mat], layers.lam[mat]
            pb = ElasticProblem(model.nodes, model.cells, mu, lam, model.fixed_nodes)
            K = pb.reduced_stiffness()
            if solver is None:  # the analysis (ordering) depends on the pattern only: done once
                solver = PardisoSolver(K)
            else:
                solver.K = K
                solver.upper.data[:] = sp.triu(K, format="csr").data
                solver._factorized = False
            M = jump_operator(pb.nodes, pb.cells, mu, lam, inc, slip.n_split, pb.free_dofs)
            U = solver.factorize().solve(-(M @ D))[0]
            acc = acc + V[k - 1] * (P @ U + Q @ D) / s
        out.append((math.log(2.0) / t * acc).reshape(len(model.station_positions), 3, -1))
    solver.release()
    return np.array(out)
