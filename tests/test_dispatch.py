"""Dispatch: in-process and local Dask workers give the same results; workers keep their solver;
a worker that dies mid-run has its task redone elsewhere. Uses the closed-form solver double
(tests/solver_double.py); the real-solver checks are in test_resume.py."""

from __future__ import annotations

import numpy as np
import pytest
from solver_double import expected, make_spec

from crustgf.core.errors import CrustgfError
from crustgf.greens.dispatch import InProcessDispatcher, make_tasks, open_dispatcher
from crustgf.greens.dispatch.worker import KILL_ONCE_ENV, clear_cache


def _all_jobs(n_subfaults):
    return np.array([(sf, c) for sf in range(n_subfaults) for c in range(2)])


def _check_results(results, n_subfaults):
    seen = {}
    for r in results:
        for k, (sf, comp) in enumerate(r.jobs):
            seen[(int(sf), int(comp))] = r.displacement[:, :, k]
    assert sorted(seen) == [(sf, c) for sf in range(n_subfaults) for c in range(2)]
    for (sf, comp), disp in seen.items():
        np.testing.assert_array_equal(disp, expected(sf, comp))


def test_make_tasks_batches_cover_every_job_once():
    jobs = _all_jobs(7)[::-1]
    tasks = make_tasks(1, jobs, batch=3)
    assert [t.size for t in tasks] == [3, 3, 3, 3, 2]
    assert all(t.structure == 1 for t in tasks)
    flat = np.concatenate([t.jobs for t in tasks])
    np.testing.assert_array_equal(flat, _all_jobs(7))  # subfault-major, each job once


def test_in_process_results_and_one_build_per_spec(tmp_path, monkeypatch):
    clear_cache()
    monkeypatch.setenv("CRUSTGF_TEST_BUILD_DIR", str(tmp_path))
    spec = make_spec()
    work = [(spec, t) for t in make_tasks(0, _all_jobs(5), 3)]
    with InProcessDispatcher() as d:
        results = list(d.run(work))
    _check_results(results, 5)
    assert len(list(tmp_path.iterdir())) == 1  # four tasks, one solver build
    clear_cache()


def test_a_process_keeps_one_solver_and_releases_the_previous_one(tmp_path, monkeypatch):
    """Structures come one after another: switching builds the new solver after releasing the old
    one (PARDISO memory), so an ensemble of variants never holds two factors at once."""
    from solver_double import FakeSolver

    from crustgf.greens.dispatch import worker
    from crustgf.mesh.model import LayerTable

    clear_cache()
    FakeSolver.released.clear()
    monkeypatch.setenv("CRUSTGF_TEST_BUILD_DIR", str(tmp_path))
    layers = LayerTable(["a"], np.array([1e4]), np.array([6000.0]), np.array([1700.0]), np.array([2700.0]))
    specs = [make_spec(), make_spec(structure=1, layers=layers)]
    work = [(spec, t) for s, spec in enumerate(specs) for t in make_tasks(s, _all_jobs(3), 2)]
    with InProcessDispatcher() as d:
        results = list(d.run(work))
    assert len(list(tmp_path.iterdir())) == 2  # one build per structure
    assert len(FakeSolver.released) == 1 and FakeSolver.released[0].vs0 == 3400.0  # the reference's
    assert len(worker._solvers) == 1
    _check_results([r for r in results if r.structure == 0], 3)
    clear_cache()
    assert len(FakeSolver.released) == 2 and not worker._solvers


def test_a_solver_in_use_by_another_thread_is_released_only_when_it_is_done(monkeypatch, tmp_path):
    """A Dask worker with several threads may still be solving the last batch of one structure
    while another thread starts the next: the old solver must not be freed under it."""
    from solver_double import FakeSolver

    from crustgf.greens.dispatch import worker
    from crustgf.mesh.model import LayerTable

    clear_cache()
    FakeSolver.released.clear()
    monkeypatch.setenv("CRUSTGF_TEST_BUILD_DIR", str(tmp_path))
    layers = LayerTable(["a"], np.array([1e4]), np.array([6000.0]), np.array([1700.0]), np.array([2700.0]))
    ref, variant = make_spec(), make_spec(structure=1, layers=layers)
    old = worker._acquire(ref)  # thread A is solving with the reference solver...
    new = worker._acquire(variant)  # ...when thread B needs the variant's
    assert old is not new and FakeSolver.released == []  # not freed under thread A
    worker._done_with(variant.key)
    worker._done_with(ref.key)  # thread A finishes: now it goes
    assert FakeSolver.released == [old] and list(worker._solvers) == [variant.key]
    clear_cache()
    assert FakeSolver.released == [old, new]


def test_workers_and_scheduler_are_exclusive():
    with pytest.raises(CrustgfError, match="--workers and --scheduler"):
        open_dispatcher(workers=2, scheduler="tcp://127.0.0.1:1")


def test_unreachable_scheduler_is_a_one_line_error():
    with pytest.raises(CrustgfError, match="--scheduler tcp://127.0.0.1:9: cannot connect"):
        from crustgf.greens.dispatch.dask import DaskDispatcher

        DaskDispatcher.connect("tcp://127.0.0.1:9", timeout=1.0)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """One local cluster for the tests below (startup costs seconds). Workers inherit os.environ
    at start, so the build-count folder and kill flag are set before."""
    folder = tmp_path_factory.mktemp("dispatch")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRUSTGF_TEST_BUILD_DIR", str(folder / "builds"))
    mp.setenv(KILL_ONCE_ENV, str(folder / "killed"))
    (folder / "builds").mkdir()
    dispatcher = open_dispatcher(workers=2)
    yield dispatcher, folder
    dispatcher.close()
    mp.undo()


def test_local_workers_survive_a_dying_worker_and_match(two_workers):
    """One worker os._exit()s on its first task (test hook); its task is rerun elsewhere and the
    results equal the closed form; each live worker process builds its solver once."""
    dispatcher, folder = two_workers
    spec = make_spec()
    work = [(spec, t) for t in make_tasks(0, _all_jobs(9), 2)]
    results = list(dispatcher.run(work))
    assert (folder / "killed").exists()  # a worker really died
    _check_results(results, 9)
    builds = list((folder / "builds").iterdir())
    pids = {p.name.split("-")[0] for p in builds}
    assert len(builds) == len(pids)  # never two builds in one process
    assert len(builds) <= 3  # two workers + the restarted one


def test_local_workers_variants_get_their_own_solver(two_workers):
    from crustgf.mesh.model import LayerTable

    dispatcher, _ = two_workers
    layers = LayerTable(["a"], np.array([1e4]), np.array([6000.0]), np.array([1700.0]), np.array([2700.0]))
    work = [(make_spec(structure=s, layers=None if s == 0 else layers), t)
            for s in (0, 1) for t in make_tasks(s, _all_jobs(3), 4)]
    by_structure = {0: [], 1: []}
    for r in dispatcher.run(work):
        by_structure[r.structure].append(r)
    for r in by_structure[1]:
        for k, (sf, comp) in enumerate(r.jobs):
            np.testing.assert_allclose(r.displacement[:, :, k], expected(sf, comp, vs0=1700.0), rtol=1e-15)
    _check_results(by_structure[0], 3)
