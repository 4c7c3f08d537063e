"""Maxwell viscoelastic histories (SPEC 6) against the correspondence principle.

The time-stepped history of a layered box (a viscous layer under an elastic one, a vertical
strike-slip + dip-slip fault) is compared with Gaver-Stehfest inversions of elastic solves at real
s with mu(s) = mu s / (s + 1/tau) and the bulk modulus kept, on the same mesh (laplace_reference.py);
time 0 with a separate elastic solve (PARDISO on K)."""

from __future__ import annotations

import numpy as np
import pytest
from laplace_reference import stehfest_history

from crustgf.config.viscoelastic import YEAR, ViscoelasticOptions
from crustgf.fem.boxmesh import box_fault_model
from crustgf.fem.maxwell import step_coefficients
from crustgf.greens.operator import GreenSolver
from crustgf.greens.viscoelastic import ViscoelasticSolver, time_grid
from crustgf.mesh.model import LayerTable

KM = 1e3
JOBS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
STATIONS = np.array([[5e3, 0, 0], [15e3, 10e3, 0], [-20e3, 5e3, 0], [30e3, -20e3, 0], [-8e3, -12e3, 0]])


def layered_box(nx=9, zs_km=(-60, -40, -20, -10, -5, 0), crust_bottom_km=10.0):
    """A TET10 box: an elastic crust over a mantle (viscous in the tests), a vertical fault to 10 km."""
    xs = np.linspace(-60, 60, nx) * KM
    m = box_fault_model(xs, xs, np.array(zs_km) * KM, fault_y=(-15e3, 15e3), fault_z=(-10e3, 0),
                        subfaults=(2, 1), order=2, stations=STATIONS)
    cz = m.nodes[m.cells[:, :4]].mean(axis=1)[:, 2]
    m.cell_material = np.where(cz < -crust_bottom_km * KM, 1, 0).astype(np.int32)
    m.layers = LayerTable(name=["crust", "mantle"], bottom=np.array([crust_bottom_km * KM, -zs_km[0] * KM]),
                          vp=np.array([6000.0, 7500.0]), vs=np.array([3460.0, 4300.0]),
                          density=np.array([3000.0, 3300.0]), kind=["flat", "flat"])
    return m


@pytest.fixture(scope="module")
def box():
    m = layered_box()
    tau = YEAR  # viscosity chosen so that the mantle's tau = eta / mu is one year
    return m, {"mantle": m.layers.mu[1] * tau}, tau


def _norm(a):
    """L2 norm per time (axis 0) over stations, components and jobs."""
    return np.sqrt((np.asarray(a) ** 2).reshape(len(a), -1).sum(axis=1))


def _errors(history, reference, elastic):
    """Relative error of each time, and the error relative to the change since time 0."""
    return _norm(history - reference) / _norm(reference), _norm(history - reference) / _norm(reference - elastic)


def test_history_matches_the_correspondence_principle(box):
    """Times on the steps (dt = tau/4): within 1 % of Stehfest (N = 12) at 0.5 ... 4 tau, and within
    1 % of the relaxation itself (u(t) - u(0)); time 0 equals a separate elastic solve to 1e-6."""
    m, viscosity, tau = box
    times = np.array([0.0, 0.5, 1.0, 2.0, 4.0]) * tau
    solver = ViscoelasticSolver(m, ViscoelasticOptions(viscosity, times), method="direct", batch=3)
    assert solver.on_steps and solver.n_steps == 16
    r = solver.solve(JOBS)
    solver.release()
    elastic = GreenSolver(m, backend="cpu", method="direct").solve(JOBS).displacement
    assert np.abs(r.history[0] - elastic).max() <= 1e-6 * np.abs(elastic).max()
    np.testing.assert_array_equal(r.history[0], r.displacement)
    reference = stehfest_history(m, viscosity, times[1:], JOBS, n=12)
    err, err_of_change = _errors(r.history[1:], reference, elastic)
    assert np.all(err < 0.01), err
    assert np.all(err_of_change < 0.01), err_of_change
    change = _norm(reference - elastic) / np.linalg.norm(elastic)
    assert np.all(np.diff(change) > 0) and change[-1] > 0.05  # it really relaxes, more and more
    assert np.all(r.converged)


def test_times_off_the_steps_are_interpolated(box):
    """Times that no step of dt <= tau/4 hits: cubic spline through the steps, same accuracy."""
    m, viscosity, tau = box
    times = np.array([0.3, 0.7, 1.5, 3.0]) * tau
    solver = ViscoelasticSolver(m, ViscoelasticOptions(viscosity, times), method="direct", batch=4)
    assert not solver.on_steps
    r = solver.solve(JOBS[:2])
    elastic = r.displacement
    reference = stehfest_history(m, viscosity, times[1:3], JOBS[:2], n=12)
    _, err_of_change = _errors(r.history[1:3], reference, elastic)
    assert np.all(err_of_change < 0.01), err_of_change


def test_step_coefficients_limits():
    """Elastic elements (tau = inf) and dt << tau: no relaxation; dt >> tau: fully relaxed."""
    a, b, c = step_coefficients(1.0, np.array([np.inf, 1e9, 1e-9]))
    np.testing.assert_allclose([a[0], b[0], c[0]], [1.0, 0.0, 0.0])
    np.testing.assert_allclose([b[1], c[1]], [0.5e-9, 0.5e-9], rtol=1e-6)
    np.testing.assert_allclose([a[2], b[2], c[2]], [0.0, 0.0, 1.0], atol=1e-8)


def test_time_grid_lands_on_the_requested_times():
    dt, n, on = time_grid(np.array([0.0, 0.5, 1.0, 5.0]), tau_min=1.0, steps_per_tau=4)
    assert on and n == 20 and dt == 0.25
    dt, n, on = time_grid(np.array([0.0, 0.3, 1.0]), tau_min=1.0, steps_per_tau=8)
    assert on and n == 10 and np.isclose(dt, 0.1)  # the first n >= 8 that hits 0.3
    dt, n, on = time_grid(np.array([0.0, 0.3, 1.0]), tau_min=1.0, steps_per_tau=4)
    assert not on and n == 4  # none of 4..8 steps hits 0.3: the spline serves it
    assert time_grid(np.array([0.0]), 1.0, 4) == (0.0, 0, True)


@pytest.mark.slow
def test_two_viscous_layers_on_a_finer_mesh_match_stehfest_16():
    """Slow tier: a finer box (17 x 17 x 10 grid, ~60k dofs) with a viscous lower crust
    (tau = 5 yr) over a viscous mantle (tau = 1 yr), Stehfest N = 16, out to 8 tau_min: within 1 %
    of the relaxation (u(t) - u(0)) at every time, with the default steps_per_tau."""
    m = layered_box(nx=17, zs_km=(-60, -45, -30, -20, -15, -10, -7.5, -5, -2.5, 0), crust_bottom_km=10.0)
    cz = m.nodes[m.cells[:, :4]].mean(axis=1)[:, 2]
    m.cell_material = np.select([cz > -10 * KM, cz > -20 * KM], [0, 1], 2).astype(np.int32)
    m.layers = LayerTable(name=["upper", "lower", "mantle"], bottom=np.array([10e3, 20e3, 60e3]),
                          vp=np.array([6000.0, 6600.0, 7500.0]), vs=np.array([3460.0, 3800.0, 4300.0]),
                          density=np.array([3000.0, 3100.0, 3300.0]), kind=["flat"] * 3)
    viscosity = {"lower": m.layers.mu[1] * 5 * YEAR, "mantle": m.layers.mu[2] * YEAR}
    times = np.array([0.0, 0.5, 2.0, 8.0]) * YEAR
    solver = ViscoelasticSolver(m, ViscoelasticOptions(viscosity, times), method="direct", batch=4)
    r = solver.solve(JOBS)
    solver.release()
    elastic = r.history[0]
    reference = stehfest_history(m, viscosity, times[1:], JOBS, n=16)
    err, err_of_change = _errors(r.history[1:], reference, elastic)
    assert np.all(err_of_change < 0.01), err_of_change
    assert np.all(err < 0.01), err
