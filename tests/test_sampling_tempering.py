"""Parallel tempering for Ising models: exact enumeration, identities, checkpoints, bad input.

References are independent of the sampler: exact Boltzmann averages over all 2^n
states computed here with numpy, and the Gaussian integration-by-parts identity.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pspin
import pytest
from pspin.analysis import binning_error
from pspin.sampling import ParallelTempering, geometric_temperatures


def exact_averages(model: pspin.IsingPSpin, temperatures: np.ndarray) -> dict[str, np.ndarray]:
    """<E>/n, C/n = Var(H)/(n T^2) and <q^2> of two independent replicas, by enumeration."""
    n = model.n
    states = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    energies = model.energy(states)
    out = {"e": [], "c": [], "q2": []}
    for t in temperatures:
        w = np.exp(-(energies - energies.min()) / t)
        w /= w.sum()
        mean = w @ energies
        out["e"].append(mean / n)
        out["c"].append((w @ energies**2 - mean**2) / (n * t * t))
        corr = (states * w[:, None]).T @ states  # <s_i s_j>
        out["q2"].append(np.sum(corr**2) / n**2)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize(("p", "update"), [(2, "metropolis"), (3, "heat_bath"), ({2: 0.6, 3: 0.8}, "metropolis"),
                                           (4, "metropolis"), ({2: 0.5, 4: 0.6, 5: 0.6}, "heat_bath")])
def test_averages_match_exact_enumeration(p, update):
    model = pspin.IsingPSpin(12, p, seed=3)
    temps = np.array([0.5, 0.8, 1.2, 2.0])
    pt = ParallelTempering(model, temps, replicas=2, seed=11, update=update)
    result = pt.run(30000, burn_in=2000, sample_every=1)
    exact = exact_averages(model, temps)
    # Energy: blocking error of the replica-averaged series.
    err_e = result.energy_error
    assert np.all(np.abs(result.mean_energy_per_spin - exact["e"]) < 4.5 * err_e + 1e-12), (
        result.mean_energy_per_spin, exact["e"], err_e)
    # <q^2>: blocking error of the per-sample q^2 series.
    q2 = binning_error((result.overlaps**2).mean(axis=1), axis=-1)
    assert np.all(np.abs(q2.mean - exact["q2"]) < 4.5 * np.asarray(q2.error)), (q2.mean, exact["q2"], q2.error)
    # Specific heat: error from the spread over 10 consecutive blocks of the run.
    blocks = np.array_split(result.energies, 10, axis=-1)
    c_blocks = np.array([b.var(axis=-1).mean(axis=1) / (model.n * temps**2) for b in blocks])
    err_c = c_blocks.std(axis=0, ddof=1) / np.sqrt(len(blocks))
    assert np.all(np.abs(result.specific_heat - exact["c"]) < 4.5 * err_c + 1e-3 * exact["c"]), (
        result.specific_heat, exact["c"], err_c)


def _exact_identity_sides(model: pspin.IsingPSpin, temps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U/n and -beta Var(J) (C(n,2) - <e_2(s o t)>)/n for SK by enumeration; <e_2> = sum_{i<j} <s_i s_j>^2."""
    n = model.n
    states = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    energies = model.energy(states)
    lhs, rhs = [], []
    for t in temps:
        w = np.exp(-(energies - energies.min()) / t)
        w /= w.sum()
        corr = (states * w[:, None]).T @ states
        e2 = (np.sum(corr**2) - n) / 2.0
        lhs.append(w @ energies / n)
        rhs.append(-(1.0 / t) * (1.0 / n) * (math.comb(n, 2) - e2) / n)
    return np.array(lhs), np.array(rhs)


def test_sk_gaussian_identity_rhs_matches_exact_for_one_sample():
    """The sampled right-hand side equals the exact one for the same couplings."""
    model = pspin.IsingPSpin(12, 2, seed=8)
    temps = np.array([0.5, 1.0, 2.0])
    res = ParallelTempering(model, temps, replicas=2, seed=4).run(40000, burn_in=2000)
    _, rhs_exact = _exact_identity_sides(model, temps)
    q2 = binning_error((res.overlaps**2).mean(axis=1), axis=-1)
    # rhs = -beta Var (C(n,2) - (n^2 <q^2> - n)/2)/n, so its error is beta Var n err(q^2)/2.
    err = (1.0 / temps) * (1.0 / model.n) * model.n * np.asarray(q2.error) / 2.0
    assert np.all(np.abs(res.gaussian_identity()["rhs"] - rhs_exact) < 4.5 * err), (
        res.gaussian_identity()["rhs"], rhs_exact, err)


def test_sk_gaussian_identity_holds_on_disorder_average():
    """[U] = -beta Var(J) (C(n,2) - [<e_2(s o t)>]) after the disorder average (Gaussian integration by
    parts, theory.md §F): checked with exact enumeration over 400 samples at n = 8."""
    temps = np.array([0.4, 1.0, 2.5])
    diffs = []
    for sample in range(400):
        lhs, rhs = _exact_identity_sides(pspin.IsingPSpin(8, 2, seed=1000 + sample), temps)
        diffs.append(lhs - rhs)
    diffs = np.array(diffs)
    err = diffs.std(axis=0, ddof=1) / np.sqrt(len(diffs))
    assert np.all(np.abs(diffs.mean(axis=0)) < 4.0 * err), (diffs.mean(axis=0), err)


@pytest.mark.slow
def test_sk_gaussian_identity_from_tempering_disorder_average():
    """The same identity with both sides measured by parallel tempering (n = 24, 300 samples)."""
    temps = np.array([0.6, 1.0, 1.6])
    diffs = []
    for sample in range(300):
        model = pspin.IsingPSpin(24, 2, seed=100 + sample)
        ident = ParallelTempering(model, temps, replicas=2, seed=sample).run(4000, burn_in=1000).gaussian_identity()
        diffs.append(ident["lhs"] - ident["rhs"])
    diffs = np.array(diffs)
    err = diffs.std(axis=0, ddof=1) / np.sqrt(len(diffs))
    assert np.all(np.abs(diffs.mean(axis=0)) < 4.0 * err), (diffs.mean(axis=0), err)


def test_elementary_symmetric_from_overlap_matches_brute_force():
    from pspin.sampling.result import elementary_symmetric_of_products

    rng = np.random.default_rng(0)
    n = 9
    s, t = rng.choice([-1.0, 1.0], size=(2, n))
    x = s * t
    for p in (1, 2, 3, 4):
        brute = sum(np.prod(x[list(c)]) for c in itertools.combinations(range(n), p))
        assert elementary_symmetric_of_products(np.array(s @ t / n), n, p) == pytest.approx(brute)


def test_same_seed_same_run_and_different_seed_differs():
    model = pspin.IsingPSpin(20, 3, seed=1)
    temps = geometric_temperatures(0.5, 2.0, 5)
    a = ParallelTempering(model, temps, seed=7).run(500)
    b = ParallelTempering(model, temps, seed=7).run(500)
    c = ParallelTempering(model, temps, seed=8).run(500)
    assert np.array_equal(a.energies, b.energies) and np.array_equal(a.overlaps, b.overlaps)
    assert not np.array_equal(a.energies, c.energies)


_SCRIPT = """
import numpy as np, pspin, sys
from pspin.sampling import ParallelTempering
m = pspin.IsingPSpin(48, {p}, seed=2)
r = ParallelTempering(m, np.geomspace(0.5, 2.0, 8), replicas=2, seed=3).run(300)
np.save(sys.argv[1], np.concatenate([r.energies.ravel(), r.overlaps.ravel()]))
"""


def _outputs_on_1_and_2_threads(tmp_path, script: str) -> list[np.ndarray]:
    """Runs `script` (which saves one array to argv[1]) with OMP_NUM_THREADS=1 and 2."""
    outputs = []
    for threads in ("1", "2"):
        path = tmp_path / f"out{threads}.npy"
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        subprocess.run([sys.executable, "-c", script, str(path)], check=True, env=env)
        outputs.append(np.load(path))
    return outputs


@pytest.mark.parametrize("p", [2, 3])
def test_thread_count_does_not_change_trajectories(tmp_path, p):
    outputs = _outputs_on_1_and_2_threads(tmp_path, _SCRIPT.format(p=p))
    assert outputs[0].tobytes() == outputs[1].tobytes()


_ANNEAL_SCRIPT = """
import numpy as np, pspin, sys
m = pspin.IsingPSpin(40, {p}, seed=2)
r = pspin.anneal(m, np.geomspace(2.0, 0.3, 1100), n_starts=6, seed=3)
np.save(sys.argv[1], np.concatenate([r.best_energies, r.final_states.ravel(), r.energy_per_spin.T.ravel()]))
"""


@pytest.mark.parametrize("p", [2, "{2: 0.6, 3: 0.5, 4: 0.6}"])
def test_annealing_thread_count_does_not_change_runs(tmp_path, p):
    """Runs are grouped per thread (6 in one group on 1 thread, 3 + 3 on 2); past the
    field refresh at sweep 1024 every run must still be bit-identical."""
    outputs = _outputs_on_1_and_2_threads(tmp_path, _ANNEAL_SCRIPT.format(p=p))
    assert outputs[0].tobytes() == outputs[1].tobytes()


def test_checkpoint_resume_is_bit_identical(tmp_path):
    model = pspin.IsingPSpin(16, 3, seed=4)
    temps = geometric_temperatures(0.4, 1.5, 6)
    path = tmp_path / "run.h5"
    first = ParallelTempering(model, temps, seed=9, adaptive=True)
    first.run(1500, burn_in=400, sample_every=3, checkpoint=path)
    resumed = ParallelTempering(model, temps, seed=9, adaptive=True)
    r1 = resumed.run(3000, burn_in=400, sample_every=3, checkpoint=path)
    straight = ParallelTempering(model, temps, seed=9, adaptive=True)
    r2 = straight.run(3000, burn_in=400, sample_every=3)
    assert r1.energies.tobytes() == r2.energies.tobytes()
    assert r1.overlaps.tobytes() == r2.overlaps.tobytes()
    assert np.array_equal(r1.swap_attempts, r2.swap_attempts) and r1.round_trips == r2.round_trips
    assert resumed.states().tobytes() == straight.states().tobytes()
    assert np.array_equal(resumed.temperatures, straight.temperatures)


def test_checkpoint_of_another_run_is_refused_and_kept(tmp_path):
    model = pspin.IsingPSpin(16, 2, seed=4)
    temps = geometric_temperatures(0.5, 1.5, 4)
    path = tmp_path / "run.h5"
    ParallelTempering(model, temps, seed=1).run(200, checkpoint=path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="another run"):
        ParallelTempering(model, temps, seed=2).run(400, checkpoint=path)
    with pytest.raises(ValueError, match="another run"):
        ParallelTempering(pspin.IsingPSpin(16, 2, seed=5), temps, seed=1).run(400, checkpoint=path)
    with pytest.raises(ValueError, match="temperatures"):
        ParallelTempering(model, temps * 1.1, seed=1).run(400, checkpoint=path)
    assert path.read_bytes() == before


class _InterruptingEngine:
    """Stands in for the engine and raises KeyboardInterrupt at the n-th chunk, as Ctrl-C would."""

    def __init__(self, engine, at: int) -> None:
        self._engine, self._at, self._calls = engine, at, 0

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def run(self, n_sweeps, sample_every):
        self._calls += 1
        if self._calls == self._at:
            raise KeyboardInterrupt
        return self._engine.run(n_sweeps, sample_every)


def test_keyboard_interrupt_saves_checkpoint(tmp_path):
    model = pspin.IsingPSpin(16, 2, seed=4)
    temps = geometric_temperatures(0.5, 1.5, 4)
    path = tmp_path / "run.h5"
    pt = ParallelTempering(model, temps, seed=1)
    pt._engine = _InterruptingEngine(pt._engine, at=3)
    with pytest.raises(KeyboardInterrupt):
        pt.run(100000, checkpoint=path)
    assert path.exists() and pt.sweeps_done > 0
    again = ParallelTempering(model, temps, seed=1)
    resumed = again.run(pt.sweeps_done + 50, checkpoint=path)
    straight = ParallelTempering(model, temps, seed=1).run(pt.sweeps_done + 50)
    assert resumed.energies.tobytes() == straight.energies.tobytes()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"temperatures": [0.5, -1.0]}, ValueError, "positive"),
        ({"temperatures": [0.5, np.nan]}, ValueError, "positive"),
        ({"temperatures": []}, ValueError, "at least one"),
        ({"temperatures": [1.0, 1.0]}, ValueError, "distinct"),
        ({"replicas": 0}, ValueError, "replicas"),
        ({"update": "glauber"}, ValueError, "allowed"),
    ],
)
def test_bad_construction(kwargs, exc, match):
    args = {"temperatures": [0.5, 1.0], **kwargs}
    with pytest.raises(exc, match=match):
        ParallelTempering(pspin.IsingPSpin(8, 2, seed=0), args.pop("temperatures"), **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"sweeps": 0}, "sweeps"), ({"sweeps": 10, "sample_every": 0}, "sample_every"),
     ({"sweeps": 10, "burn_in": 10}, "burn_in"), ({"sweeps": 10, "burn_in": -1}, "burn_in")],
)
def test_bad_run_arguments(kwargs, match):
    pt = ParallelTempering(pspin.IsingPSpin(8, 2, seed=0), [0.5, 1.0], seed=0)
    with pytest.raises(ValueError, match=match):
        pt.run(**kwargs)


def test_unwritable_checkpoint_path_fails_before_running(tmp_path):
    pt = ParallelTempering(pspin.IsingPSpin(8, 2, seed=0), [0.5, 1.0], seed=0)
    with pytest.raises(ValueError, match="does not exist"):
        pt.run(10, checkpoint=tmp_path / "missing" / "run.h5")
    assert pt.sweeps_done == 0


def test_annealing_reaches_ground_state_of_small_sk():
    """Slow annealing finds the exact ground state of a 14-spin SK sample (enumeration)."""
    model = pspin.IsingPSpin(14, 2, seed=21)
    states = np.array(list(itertools.product((-1.0, 1.0), repeat=14)))
    ground = model.energy(states).min()
    res = pspin.anneal(model, np.geomspace(2.0, 0.05, 60), sweeps_per_temperature=20, n_starts=4, seed=3)
    assert res.best_energies.min() == pytest.approx(ground, abs=1e-12)
    np.testing.assert_allclose(model.energy(res.best_states), res.best_energies, atol=1e-12)
    assert np.all(res.best_energies <= model.energy(res.final_states) + 1e-12)
    again = pspin.anneal(model, np.geomspace(2.0, 0.05, 60), sweeps_per_temperature=20, n_starts=4, seed=3)
    assert again.best_states.tobytes() == res.best_states.tobytes()


@pytest.mark.parametrize(("schedule", "kwargs", "match"), [
    ([], {}, "schedule"), ([1.0, 0.0], {}, "schedule"), ([1.0], {"sweeps_per_temperature": 0}, "sweeps_per_temperature"),
    ([1.0], {"n_starts": 0}, "n_starts"),
])
def test_annealing_bad_input(schedule, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pspin.anneal(pspin.IsingPSpin(8, 2, seed=0), schedule, **kwargs)


def test_spherical_checkpoint_resume_and_energy(tmp_path):
    """Spherical HMC through the public API: resume is bit-identical and states stay on
    the sphere (the energy checks against theory are in test_sampling_spherical_moves.py)."""
    model = pspin.SphericalPSpin(48, 3, seed=1, ensemble="isotropic")
    temps = np.array([1.0, 1.5, 2.5])
    path = tmp_path / "sph.h5"
    ParallelTempering(model, temps, seed=5).run(300, burn_in=50, checkpoint=path)
    resumed = ParallelTempering(model, temps, seed=5).run(600, burn_in=50, checkpoint=path)
    straight = ParallelTempering(model, temps, seed=5).run(600, burn_in=50)
    assert resumed.energies.tobytes() == straight.energies.tobytes()
    states = ParallelTempering(model, temps, seed=5)
    states.run(10)
    norms = np.einsum("rki,rki->rk", states.states(), states.states()) / model.n
    np.testing.assert_allclose(norms, 1.0, atol=1e-12)


def test_overlap_moments_match_exact_enumeration():
    """<q^3> of two independent replicas (the p = 3 order parameter) against enumeration:
    <q^3> = (1/n^3) sum_{ijk} <s_i s_j s_k>^2."""
    model = pspin.IsingPSpin(10, 3, seed=6)
    temps = np.array([0.5, 1.5])
    res = ParallelTempering(model, temps, seed=2).run(40000, burn_in=2000)
    n = model.n
    states = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    energies = model.energy(states)
    for r, t in enumerate(temps):
        w = np.exp(-(energies - energies.min()) / t)
        w /= w.sum()
        third = np.einsum("s,si,sj,sk->ijk", w, states, states, states)
        exact = np.sum(third**2) / n**3
        q3 = binning_error(res.overlaps[r, 0] ** 3)
        assert abs(res.overlap_moment(3)[r] - exact) < 4.5 * q3.error, (res.overlap_moment(3)[r], exact, q3.error)
    with pytest.raises(ValueError, match="k must be"):
        res.overlap_moment(0)


def test_spherical_isotropic_identity_on_disorder_average_and_move_acceptance():
    """Isotropic spherical p=3: [U]/n = -(beta/2)(1 - [<q^3>]) exactly after the disorder
    average (E[H(s)H(t)] = n q^3/2 at every n); 60 samples, both sides by tempering."""
    temps = np.array([0.9, 1.5])
    diffs, accept = [], []
    for sample in range(60):
        model = pspin.SphericalPSpin(16, 3, seed=500 + sample, ensemble="isotropic")
        res = ParallelTempering(model, temps, replicas=2, seed=sample).run(500, burn_in=100)
        ident = res.gaussian_identity()
        diffs.append(ident["lhs"] - ident["rhs"])
        accept.append(res.move_acceptance)
    diffs = np.array(diffs)
    err = diffs.std(axis=0, ddof=1) / np.sqrt(len(diffs))
    assert np.all(np.abs(diffs.mean(axis=0)) < 4.0 * err), (diffs.mean(axis=0), err)
    accept = np.array(accept)
    assert np.all((accept > 0.5) & (accept <= 1.0))
    with pytest.raises(ValueError, match="isotropic"):
        ParallelTempering(pspin.SphericalPSpin(8, 3, seed=0), temps, seed=0).run(20).gaussian_identity()


@pytest.mark.parametrize("model", [pspin.IsingPSpin(24, 3, seed=2), pspin.IsingPSpin(130, 2, seed=2),
                                   pspin.IsingPSpin(16, {2: 0.6, 4: 0.8}, seed=2),
                                   pspin.IsingPSpin(70, {2: 0.6, 3: 0.8}, seed=2, dtype="float32"),
                                   pspin.SphericalPSpin(24, 3, seed=2)])
def test_annealing_in_one_call_equals_sweep_by_sweep(model):
    """pspin.anneal runs the schedule in C++ with its runs in lockstep; the same counters
    driven sweep by sweep from Python (set_betas + run(1), each run alone) must give the
    same best states bit for bit: grouping runs changes no run's arithmetic. (n = 130 has
    a partial last block of sites and of columns.)"""
    schedule = np.geomspace(2.0, 0.1, 15)
    res = pspin.anneal(model, schedule, sweeps_per_temperature=3, n_starts=3, seed=8)
    engine = ParallelTempering(model, [schedule[0]], replicas=3, seed=8)._engine
    best_e = engine.energies().copy()
    best_s = engine.states().copy()
    for t in schedule:
        engine.set_betas([1.0 / t])
        for _ in range(3):
            energies, _ = engine.run(1, 1)
            better = energies[0, 0] < best_e
            best_s[better] = engine.states()[better]
            best_e[better] = energies[0, 0][better]
    assert res.best_energies.tobytes() == best_e.tobytes()
    # Results are float64 (docs/conventions.md); the engine keeps the model's dtype.
    assert res.best_states.tobytes() == best_s.astype(np.float64).tobytes()


@pytest.mark.parametrize(("n", "p"), [(11, 3), (11, 4), (11, 5), (11, {2: 0.6, 3: 0.5, 6: 0.6}),
                                      (150, 2), (150, {2: 0.7, 3: 0.7})])
def test_incremental_energies_stay_exact(n, p):
    """After many accepted flips since the last refresh (every 1024 sweeps), the tracked
    energies equal H(s) recomputed from the couplings: the cached fields are exact. n = 150
    has two full 64-site blocks, whose degree-2 updates are deferred, and a partial one."""
    model = pspin.IsingPSpin(n, p, seed=21)
    pt = ParallelTempering(model, [0.4, 1.0, 3.0], replicas=2, seed=5)
    pt.run(1024 + 600, sample_every=50)
    engine = pt._engine
    assert np.max(np.abs(engine.energies() - model.energy(engine.states()))) < 1e-11


def test_bad_restore_leaves_the_engine_unchanged():
    """A checkpoint whose labels are not a permutation is refused before anything is overwritten."""
    pt = ParallelTempering(pspin.IsingPSpin(12, 2, seed=1), [0.5, 1.0, 2.0], replicas=2, seed=4)
    pt.run(50, sample_every=10)
    engine = pt._engine
    states, energies, labels = engine.states().copy(), engine.energies().copy(), engine.temp_of_slot().copy()
    stats = engine.stats()
    with pytest.raises(ValueError, match="permutation"):
        engine.restore(np.zeros_like(states), list(engine.aux() * 0), [0, 0, 1, 2, 1, 0], 999,
                       list(stats["attempts"]), list(stats["accepts"]), list(stats["round_trips"]),
                       list(stats["phase"]))
    assert engine.states().tobytes() == states.tobytes()
    assert engine.energies().tobytes() == energies.tobytes()
    assert np.array_equal(engine.temp_of_slot(), labels) and engine.sweeps_done == 50


# ------------------------------------------------------------------ snapshots
def _sample_positions(result, sweeps: np.ndarray) -> np.ndarray:
    """Columns of the energy series recorded at the given sweep indices."""
    recorded = (result.burn_in // result.sample_every + 1 + np.arange(result.samples)) * result.sample_every
    pos = np.searchsorted(recorded, sweeps)
    assert np.array_equal(recorded[pos], sweeps)
    return pos


@pytest.mark.parametrize("model", [pspin.IsingPSpin(12, 2, seed=1), pspin.SphericalPSpin(24, 3, seed=2)])
def test_snapshots_energies_match_the_recorded_series(model):
    pt = ParallelTempering(model, [0.6, 1.0, 2.0], replicas=2, seed=3)
    res = pt.run(1000, burn_in=110, sample_every=5, snapshot_every=50)
    R, K, S = 3, 2, 1000 // 50 - 110 // 50
    assert res.snapshots.shape == (R, K, S, model.n)
    assert res.snapshots.dtype == (np.int8 if model.kind == "ising" else model.dtype)
    assert np.array_equal(res.snapshot_sweeps, np.arange(150, 1001, 50))
    energies = model.energy(res.snapshots.reshape(-1, model.n).astype(model.dtype)).reshape(R, K, S)
    np.testing.assert_allclose(energies, res.energies[:, :, _sample_positions(res, res.snapshot_sweeps)],
                               rtol=0, atol=1e-9 * model.n)
    # The last snapshot is the final state of the run.
    assert np.array_equal(res.snapshots[:, :, -1], pt.states().astype(res.snapshots.dtype))
    assert ParallelTempering(model, [0.6, 1.0], seed=3).run(100).snapshots is None


@pytest.mark.parametrize("model", [pspin.IsingPSpin(16, 3, seed=4), pspin.SphericalPSpin(20, 3, seed=5)])
def test_snapshots_survive_checkpoint_resume(tmp_path, model):
    temps = geometric_temperatures(0.5, 1.5, 4)
    path = tmp_path / "run.h5"
    kwargs = {"burn_in": 300, "sample_every": 2, "snapshot_every": 70}
    ParallelTempering(model, temps, seed=9, adaptive=True).run(777, checkpoint=path, **kwargs)
    resumed = ParallelTempering(model, temps, seed=9, adaptive=True).run(1500, checkpoint=path, **kwargs)
    straight = ParallelTempering(model, temps, seed=9, adaptive=True).run(1500, **kwargs)
    assert resumed.snapshots.tobytes() == straight.snapshots.tobytes()
    assert np.array_equal(resumed.snapshot_sweeps, straight.snapshot_sweeps)
    assert resumed.energies.tobytes() == straight.energies.tobytes()
    # In one process, split into calls, too.
    split = ParallelTempering(model, temps, seed=9, adaptive=True)
    split.run(701, **kwargs)
    assert split.run(1500, **kwargs).snapshots.tobytes() == straight.snapshots.tobytes()
    with pytest.raises(ValueError, match="snapshot_every"):
        ParallelTempering(model, temps, seed=9, adaptive=True).run(2000, checkpoint=path, **{**kwargs, "snapshot_every": 10})
    with pytest.raises(ValueError, match="snapshot_every"):
        split.run(2000, **{**kwargs, "snapshot_every": 0})


@pytest.mark.parametrize("bad", [-1, 1.5, "10"])
def test_bad_snapshot_every(bad):
    pt = ParallelTempering(pspin.IsingPSpin(8, 2, seed=0), [0.5, 1.0], seed=0)
    with pytest.raises((ValueError, TypeError), match="snapshot_every"):
        pt.run(10, snapshot_every=bad)
    assert pt.sweeps_done == 0
