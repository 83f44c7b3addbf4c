"""One vocabulary across the run functions (docs/conventions.md): names, dtypes, axes, seeds, deprecations."""

from __future__ import annotations

import ast
import io

import numpy as np
import pspin
import pytest
from pspin import _seed
from pspin.landscape import minimize_ising


def _runs():
    sph = pspin.SphericalPSpin(12, 3, seed=1, dtype="float32")
    ising = pspin.IsingPSpin(14, 2, seed=1, dtype="float32")
    return {
        "minimize_spherical": pspin.minimize(sph, 3, seed=2, record_every=2),
        "minimize_ising": pspin.minimize(ising, 3, seed=2, record_every=2),
        "critical_points": pspin.critical_points(sph, 2, seed=2),
        "anneal": pspin.anneal(ising, [1.0, 0.5, 0.2], n_starts=3, seed=2),
        "tempering": pspin.ParallelTempering(ising, [0.5, 1.0], seed=2).run(20),
        "enumerate": pspin.enumerate_local_minima(ising),
    }


@pytest.fixture(scope="module")
def runs():
    return _runs()


def test_seeds_are_strings_everywhere(runs):
    for name, result in runs.items():
        params = result.params
        keys = [k for k in ("seed", "model_seed") if f"{k}_entropy" in params]
        assert "model_seed" in keys or name == "tempering", name
        for key in keys:
            assert isinstance(params[f"{key}_entropy"], str), (name, key)
            assert isinstance(params[f"{key}_spawn_key"], str), (name, key)
            assert isinstance(ast.literal_eval(params[f"{key}_spawn_key"]), tuple)


def test_seed_record_round_trip():
    for seq in (np.random.SeedSequence(7), np.random.SeedSequence(7).spawn(3)[2], np.random.SeedSequence([1, 2**70])):
        back = _seed.from_record(_seed.record(seq))
        assert back.entropy == seq.entropy and back.spawn_key == seq.spawn_key
        assert np.array_equal(back.generate_state(4), seq.generate_state(4))


def test_run_seed_reproduces_the_run(runs):
    m = runs["minimize_spherical"]
    again = pspin.minimize(pspin.SphericalPSpin(12, 3, seed=1, dtype="float32"), 3,
                           seed=_seed.from_record(m.params), record_every=2)
    assert again == m


def test_outputs_are_float64(runs):
    for name, result in runs.items():
        for field in ("states", "energies", "grad_norm", "trajectory", "best_states", "best_energies", "final_states",
                      "hessian_eigenvalues", "overlaps"):
            value = getattr(result, field, None)
            if isinstance(value, np.ndarray) and not (name == "minimize_ising" and field == "grad_norm"):
                expected = np.int8 if name == "enumerate" and field == "states" else np.float64
                assert value.dtype == expected, (name, field, value.dtype)


def test_time_axis_last(runs):
    ann = runs["anneal"]
    assert ann.energies.shape == (3, 3)  # (runs, steps)
    np.testing.assert_array_equal(ann.energy_per_spin[:, -1] * ann.n, ann.energies[:, -1])
    pt = runs["tempering"]
    assert pt.energies.shape[-1] == pt.samples
    assert runs["minimize_spherical"].trajectory.shape[0] == 3


def test_energies_are_totals(runs):
    model = pspin.IsingPSpin(14, 2, seed=1, dtype="float32")
    ann = runs["anneal"]
    np.testing.assert_allclose(model.energy(ann.final_states), ann.energies[:, -1], rtol=1e-5)
    m = runs["minimize_ising"]
    np.testing.assert_allclose(m.energy_per_spin * m.n, m.energies)


def test_ising_stopping_measure_is_named(runs):
    m = runs["minimize_ising"]
    assert m.unstable_spins.dtype == np.int64
    np.testing.assert_array_equal(m.unstable_spins, m.grad_norm)
    assert np.array_equal(m.converged, m.unstable_spins == 0)
    assert runs["minimize_spherical"].unstable_spins is None


def test_gtol_is_rejected_for_ising():
    with pytest.raises(ValueError, match="gtol"):
        pspin.minimize(pspin.IsingPSpin(10, 2, seed=1), 2, gtol=1e-6)


def test_initial_accepted_by_every_run_function():
    sph = pspin.SphericalPSpin(10, 3, seed=1)
    ising = pspin.IsingPSpin(10, 2, seed=1)
    s0, x0 = sph.random_state(2, seed=3), ising.random_state(2, seed=3)
    assert len(pspin.minimize(sph, initial=s0)) == 2
    assert len(pspin.minimize(ising, initial=x0)) == 2
    assert len(pspin.critical_points(sph, initial=s0)) == 2
    ann = pspin.anneal(ising, [0.5], initial=x0, seed=1)
    assert ann.best_states.shape == (2, 10)
    cold = pspin.anneal(ising, [1e-3] * 5, initial=x0, seed=1)
    # At T -> 0 the runs only go down from the given states.
    assert np.all(cold.best_energies <= ising.energy(x0) + 1e-12)
    spherical = pspin.anneal(sph, [0.1], initial=3.0 * s0, seed=1)
    np.testing.assert_allclose(np.linalg.norm(spherical.final_states, axis=1), np.sqrt(10), rtol=1e-10)
    with pytest.raises(ValueError, match="n_starts"):
        pspin.anneal(ising, [0.5], initial=x0, n_starts=3)


def test_anneal_from_its_own_initial_states_matches_random_start():
    model = pspin.IsingPSpin(24, 2, seed=4)
    schedule = np.geomspace(2.0, 0.1, 30)
    drawn = pspin.anneal(model, schedule, n_starts=3, seed=5)
    init = pspin.ParallelTempering(model, [schedule[0]], replicas=3, seed=5).states()[0]
    given = pspin.anneal(model, schedule, initial=init, seed=5)
    np.testing.assert_array_equal(given.best_states, drawn.best_states)


# ---------------------------------------------------------------- deprecations
def test_anneal_runs_is_deprecated_and_works():
    model = pspin.IsingPSpin(12, 2, seed=1)
    new = pspin.anneal(model, [1.0, 0.5], n_starts=2, seed=3)
    with pytest.warns(DeprecationWarning, match="runs="):
        old = pspin.anneal(model, [1.0, 0.5], runs=2, seed=3)
    assert old == new
    with pytest.raises(TypeError, match="n_starts"):
        pspin.anneal(model, [1.0], runs=2, n_starts=2)


def test_energy_trace_is_deprecated_and_keeps_its_old_layout():
    result = pspin.anneal(pspin.IsingPSpin(12, 2, seed=1), [1.0, 0.7, 0.5], n_starts=2, seed=3)
    with pytest.warns(DeprecationWarning, match="energy_trace"):
        trace = result.energy_trace
    assert trace.shape == (3, 2)  # (steps, runs), per spin, as before
    np.testing.assert_array_equal(trace, (result.energies / 12).T)


def test_max_sweeps_is_deprecated_and_works():
    model = pspin.IsingPSpin(12, 2, seed=1)
    new = minimize_ising(model, 3, max_iter=2, seed=4)
    with pytest.warns(DeprecationWarning, match="max_sweeps"):
        old = minimize_ising(model, 3, max_sweeps=2, seed=4)
    assert old == new
    with pytest.warns(DeprecationWarning, match="max_sweeps"):
        via_minimize = pspin.minimize(model, 3, max_sweeps=2, seed=4)
    assert via_minimize == new


# ---------------------------------------------------------------- progress
def test_minimize_progress_counts_starts(monkeypatch):
    tqdm_auto = pytest.importorskip("tqdm.auto")
    seen = {}
    real = tqdm_auto.tqdm

    def spy(*args, **kwargs):
        bar = real(*args, file=io.StringIO(), **kwargs)
        seen["bar"] = bar
        return bar

    monkeypatch.setattr(tqdm_auto, "tqdm", spy)
    pspin.minimize(pspin.SphericalPSpin(16, 3, seed=1), 5, seed=2, progress=True)
    bar = seen["bar"]
    assert bar.total == 5 and bar.n == 5
