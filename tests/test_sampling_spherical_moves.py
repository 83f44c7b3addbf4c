"""Spherical-model Monte Carlo moves (issue 5): geodesic HMC on the sphere.

Drives pspin._core.SphericalTemperingF64/F32 directly. Checks: states stay on the
sphere, tracked energies equal model.energy, the sampled distribution is exact
(single instances at small n against an independent importance-sampling reference,
also with a deliberately large step whose acceptance is low: only the Metropolis
correction keeps those averages right), the disorder-averaged high-temperature
energy e(T) = -1/(2T) of the isotropic ensemble and the exact identity
[<e>] = -(beta/2)(1 - [<q^p>]), determinism across thread counts, and bitwise
checkpoint resume.
"""

from __future__ import annotations

import numpy as np
import pspin
import pytest
from pspin import _core


def make_engine(model, temperatures, ladders=2, *, seed=(11, 12), leapfrog=8, step=0.2, init_seed=2):
    betas = [1.0 / t for t in temperatures]
    slots = len(betas) * ladders
    cls = _core.SphericalTemperingF64 if model.dtype == np.float64 else _core.SphericalTemperingF32
    init = model.random_state(slots, seed=init_seed).astype(model.dtype)
    return cls(model._couplings, init, betas, ladders, seed[0], seed[1], leapfrog, step)


def binned_mean(series: np.ndarray, n_bins: int = 40) -> tuple[float, float]:
    """Mean and error of a (samples, chains) series: bins along time, chains averaged per bin."""
    per_time = series.mean(axis=1)
    m = len(per_time) // n_bins
    bins = per_time[: m * n_bins].reshape(n_bins, m).mean(axis=1)
    return float(bins.mean()), float(bins.std(ddof=1) / np.sqrt(n_bins))


def quadrature_reference(model, betas, m_eta=64, m_xi=96) -> np.ndarray:
    """(len(betas), 2): <E>, <E^2> for n = 4 by quadrature over the sphere |s|^2 = 4 in
    Hopf coordinates s = 2 (cos a cos u, cos a sin u, sin a cos v, sin a sin v), uniform
    measure ~ sin(2a) da du dv: Gauss-Legendre in a, trapezoid (spectral) in u, v."""
    g, w = np.polynomial.legendre.leggauss(m_eta)
    eta = (g + 1) * np.pi / 4
    w_eta = w * np.sin(2 * eta)
    xi = np.arange(m_xi) * 2 * np.pi / m_xi
    A, U, V = np.meshgrid(eta, xi, xi, indexing="ij")
    x = 2.0 * np.stack([np.cos(A) * np.cos(U), np.cos(A) * np.sin(U), np.sin(A) * np.cos(V),
                        np.sin(A) * np.sin(V)], axis=-1).reshape(-1, 4)
    wt = np.broadcast_to(w_eta[:, None, None], A.shape).reshape(-1)
    e = model.energy(x)
    out = []
    for b in betas:
        p = wt * np.exp(-b * (e - e.min()))
        out.append(((p * e).sum() / p.sum(), (p * e * e).sum() / p.sum()))
    return np.array(out)


def test_states_on_sphere_and_energies_tracked():
    m = pspin.SphericalPSpin(48, 3, seed=1, ensemble="isotropic")
    eng = make_engine(m, [2.0, 1.0, 0.6], ladders=2)
    E, Q = eng.run(400, 50)
    assert E.shape == (8, 3, 2) and Q.shape == (8, 3, 1)
    s = eng.states()
    assert np.max(np.abs((s * s).sum(axis=1) / m.n - 1.0)) < 1e-12
    np.testing.assert_allclose(eng.energies(), m.energy(s), rtol=0, atol=1e-10)
    # the sampled energies are those of the configurations at each temperature
    t = eng.temp_of_slot()
    for r in range(3):
        np.testing.assert_array_equal(np.sort(E[-1, r]), np.sort(eng.energies()[t == r]))
    q = (s[0] @ s[3]) / m.n if t[0] == t[3] else None
    if q is not None:
        assert Q[-1, t[0], 0] == pytest.approx(q, abs=1e-12)
    acc = eng.acceptance()
    assert np.all(acc["attempts"] == 400 * 2)
    assert np.all(acc["accepts"] / acc["attempts"] > 0.5)


def test_float32_engine_runs_on_sphere():
    m = pspin.SphericalPSpin(40, 3, seed=3, ensemble="isotropic", dtype="float32")
    eng = make_engine(m, [1.5, 1.0], ladders=2)
    eng.run(100, 100)
    s = eng.states()
    assert s.dtype == np.float32
    assert np.max(np.abs((s.astype(np.float64) ** 2).sum(axis=1) / m.n - 1.0)) < 1e-6
    np.testing.assert_allclose(eng.energies(), m.energy(s), rtol=1e-4, atol=1e-4)


def test_default_step_sizes_and_setter():
    m = pspin.SphericalPSpin(16, 3, seed=1, ensemble="isotropic")
    T = np.array([4.0, 1.0, 0.25])
    eng = make_engine(m, T, ladders=1, leapfrog=5, step=0.2)
    np.testing.assert_allclose(eng.step_sizes(), np.minimum(0.2 * np.sqrt(T), np.pi / 2 / 5))
    eng.set_step_sizes([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(eng.step_sizes(), [0.1, 0.2, 0.3])
    assert eng.leapfrog_steps == 5
    with pytest.raises(ValueError, match="one step size per temperature"):
        eng.set_step_sizes([0.1, 0.2])
    with pytest.raises(ValueError, match="positive"):
        eng.set_step_sizes([0.1, -0.2, 0.3])
    with pytest.raises(ValueError, match="positive"):
        eng.set_step_sizes([0.1, float("nan"), 0.3])


@pytest.mark.parametrize("kwargs, match", [
    ({"leapfrog": 0}, "leapfrog_steps"),
    ({"step": 0.0}, "step_size"),
    ({"step": float("inf")}, "step_size"),
])
def test_bad_parameters(kwargs, match):
    m = pspin.SphericalPSpin(8, 3, seed=1, ensemble="isotropic")
    with pytest.raises(ValueError, match=match):
        make_engine(m, [1.0], ladders=2, **kwargs)


def test_bad_initial_shape_and_temperatures():
    m = pspin.SphericalPSpin(8, 3, seed=1, ensemble="isotropic")
    with pytest.raises(ValueError, match="shape"):
        _core.SphericalTemperingF64(m._couplings, m.random_state(3, seed=1), [1.0], 2, 1, 2, 4, 0.2)
    with pytest.raises(ValueError, match="positive"):
        _core.SphericalTemperingF64(m._couplings, m.random_state(2, seed=1), [-1.0], 2, 1, 2, 4, 0.2)
    with pytest.raises(ValueError, match="non-zero"):
        _core.SphericalTemperingF64(m._couplings, np.zeros((2, 8)), [1.0], 2, 1, 2, 4, 0.2)


@pytest.mark.parametrize("p, ensemble", [(3, "isotropic"), (3, "distinct"), (2, "distinct")])
@pytest.mark.parametrize("large_step", [False, True])
def test_exact_distribution_small_n(p, ensemble, large_step):
    """One instance at n = 4: <E> and <E^2> at T = 0.25, 0.5, 1 equal numerical
    quadrature over the sphere (exact to ~1e-12). With a large step (eps = 0.6) the
    acceptance falls to 0.3-0.8 (well below at the lowest T): leapfrog energy errors are of
    order one, so a move without (or with a wrong) Metropolis correction would be biased
    far beyond the error bars; the averages must stay right. Error bars from 16
    independent ladders (PT swaps stay within a ladder)."""
    m = pspin.SphericalPSpin(4, p, seed=7, ensemble=ensemble)
    T = [0.25, 0.5, 1.0]
    K = 16
    eng = make_engine(m, T, ladders=K, leapfrog=4, step=0.15, seed=(5, 6))
    if large_step:
        eng.set_step_sizes([0.6] * 3)
    eng.run(300, 1)  # burn-in
    before = eng.acceptance()
    E, _ = eng.run(4000, 1)
    acc = eng.acceptance()
    rate = (acc["accepts"] - before["accepts"]) / (acc["attempts"] - before["attempts"])
    if large_step:
        assert rate[0] < 0.6 and rate[1] < 0.9 and np.all(rate > 0), rate
    else:
        assert np.all(rate > 0.95), rate
    ref = quadrature_reference(m, [1.0 / t for t in T])
    for moment, col in ((1, 0), (2, 1)):
        per_ladder = (E ** moment).mean(axis=0)  # (R, K)
        mean = per_ladder.mean(axis=1)
        err = per_ladder.std(axis=1, ddof=1) / np.sqrt(K)
        z = (mean - ref[:, col]) / err
        assert np.all(np.abs(z) < 4.0), (moment, mean, ref[:, col], err, z)


def test_high_temperature_energy_isotropic_disorder_average():
    """p = 3, isotropic, n = 32: disorder average over 10 instances of the mean energy
    per spin at T = 2, 1.5, 1 equals -1/(2T) (annealed = quenched up to O(beta^2/n^2)
    here), and equals -(beta/2)(1 - [<q^3>]) (Gaussian integration by parts, exact at
    any n). Error bars from the spread over independent instances; burn-in discarded."""
    n, T = 32, np.array([2.0, 1.5, 1.0])
    beta = 1.0 / T
    e_means, gaps = [], []
    for inst in range(10):
        m = pspin.SphericalPSpin(n, 3, seed=1000 + inst, ensemble="isotropic")
        eng = make_engine(m, T, ladders=2, leapfrog=6, step=0.25, seed=(31 + inst, 71 + inst), init_seed=inst)
        eng.run(100, 1)
        E, Q = eng.run(1200, 1)
        e = E.mean(axis=(0, 2)) / n
        q3 = (Q[:, :, 0] ** 3).mean(axis=0)
        e_means.append(e)
        gaps.append(e + 0.5 * beta * (1.0 - q3))
    e_means, gaps = np.array(e_means), np.array(gaps)
    S = len(e_means)
    e_avg, e_err = e_means.mean(axis=0), e_means.std(axis=0, ddof=1) / np.sqrt(S)
    g_avg, g_err = gaps.mean(axis=0), gaps.std(axis=0, ddof=1) / np.sqrt(S)
    assert np.all(e_err < 0.02), e_err
    assert np.all(np.abs(e_avg + 0.5 / T) < 4 * e_err), (e_avg, -0.5 / T, e_err)
    assert np.all(np.abs(g_avg) < 4 * g_err), (g_avg, g_err)


def test_same_seed_identical_and_seed_matters():
    m = pspin.SphericalPSpin(24, 3, seed=5, ensemble="isotropic")
    runs = []
    for seed in [(1, 2), (1, 2), (3, 2)]:
        eng = make_engine(m, [1.0, 0.7], ladders=2, seed=seed)
        E, Q = eng.run(60, 3)
        runs.append((E, Q, eng.states()))
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][2], runs[2][2])


THREAD_CODE = """
import numpy as np, pspin, hashlib
from pspin import _core
m = pspin.SphericalPSpin(128, 3, seed=9, ensemble="isotropic")
T = np.geomspace(0.6, 2.0, 8)
eng = _core.SphericalTemperingF64(m._couplings, m.random_state(32, seed=4), list(1 / T), 4, 5, 6, 4, 0.2)
E, Q = eng.run(12, 1)
h = hashlib.sha256()
for a in (E, Q, eng.states(), eng.aux(), eng.temp_of_slot()):
    h.update(np.ascontiguousarray(a).tobytes())
eng = _core.SphericalPairTemperingF64(m._couplings, m.random_state(32, seed=4), list(1 / T), 4, 5, 6, 1.0)
E, Q = eng.run(3, 1)
for a in (E, Q, eng.states(), eng.aux(), eng.temp_of_slot()):
    h.update(np.ascontiguousarray(a).tobytes())
print("digest", h.hexdigest())
"""


def test_bit_identical_across_thread_counts(run_python):
    def digest(threads):  # the editable install may print rebuild notes first
        out = run_python(THREAD_CODE, {"OMP_NUM_THREADS": threads})
        return [line.split()[1] for line in out.splitlines() if line.startswith("digest ")][-1]

    one, two = digest("1"), digest("2")
    assert one == two and len(one) == 64


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_checkpoint_resume_bitwise(dtype):
    m = pspin.SphericalPSpin(30, 3, seed=2, ensemble="isotropic", dtype=dtype)
    T = [1.5, 1.0, 0.7]
    N = 40
    full = make_engine(m, T, ladders=2)
    full.set_step_sizes([0.2, 0.15, 0.1])
    E_full, Q_full = full.run(2 * N, 2)

    first = make_engine(m, T, ladders=2)
    first.set_step_sizes([0.2, 0.15, 0.1])
    E1, Q1 = first.run(N, 2)
    st = first.stats()
    saved = dict(states=first.states(), aux=first.aux(), labels=first.temp_of_slot(),
                 sweeps=first.sweeps_done, **{k: st[k] for k in ("attempts", "accepts", "round_trips", "phase")})

    resumed = make_engine(m, T, ladders=2, init_seed=99)  # different start, overwritten by restore
    resumed.restore(saved["states"], saved["aux"], saved["labels"], saved["sweeps"], saved["attempts"],
                    saved["accepts"], saved["round_trips"], saved["phase"])
    np.testing.assert_array_equal(resumed.step_sizes(), [0.2, 0.15, 0.1])
    E2, Q2 = resumed.run(N, 2)
    np.testing.assert_array_equal(np.concatenate([E1, E2]), E_full)
    np.testing.assert_array_equal(np.concatenate([Q1, Q2]), Q_full)
    np.testing.assert_array_equal(resumed.states(), full.states())
    np.testing.assert_array_equal(resumed.aux(), full.aux())
    for k in ("attempts", "accepts", "accept_prob_sum"):
        np.testing.assert_array_equal(resumed.acceptance()[k], full.acceptance()[k])


def test_restore_rejects_wrong_aux():
    m = pspin.SphericalPSpin(12, 3, seed=2, ensemble="isotropic")
    eng = make_engine(m, [1.0], ladders=2)
    st = eng.stats()
    with pytest.raises(ValueError, match="wrong size"):
        eng.restore(eng.states(), eng.aux()[:-1], eng.temp_of_slot(), 0, st["attempts"], st["accepts"],
                    st["round_trips"], st["phase"])


# ---- pair rotations with cached fields (the measured alternative; see the header of
# ---- cpp/include/pspin/sampling/sphere_sampler.hpp for why HMC is the default move)

def make_pair_engine(model, temperatures, ladders=2, *, seed=(11, 12), angle=1.0, init_seed=2):
    betas = [1.0 / t for t in temperatures]
    cls = _core.SphericalPairTemperingF64 if model.dtype == np.float64 else _core.SphericalPairTemperingF32
    init = model.random_state(len(betas) * ladders, seed=init_seed).astype(model.dtype)
    return cls(model._couplings, init, betas, ladders, seed[0], seed[1], angle)


@pytest.mark.parametrize("p, ensemble", [(3, "isotropic"), ({2: 0.7, 3: 1.0}, "isotropic"), (2, "distinct")])
def test_pair_rotations_track_energy_and_stay_on_sphere(p, ensemble):
    m = pspin.SphericalPSpin(20, p, seed=4, ensemble=ensemble)
    eng = make_pair_engine(m, [1.5, 0.7], ladders=2)
    eng.run(70, 10)  # crosses one refresh (every 64 sweeps)
    s = eng.states()
    assert np.max(np.abs((s * s).sum(axis=1) / m.n - 1.0)) < 1e-12
    np.testing.assert_allclose(eng.energies(), m.energy(s), rtol=0, atol=1e-10)
    acc = eng.acceptance()
    assert np.all(acc["attempts"] == 70 * 2 * 10) and np.all(acc["accepts"] > 0)


@pytest.mark.parametrize("p, ensemble", [(3, "isotropic"), ({2: 0.7, 3: 1.0}, "isotropic")])
def test_pair_rotations_exact_distribution_small_n(p, ensemble):
    m = pspin.SphericalPSpin(4, p, seed=7, ensemble=ensemble)
    T = [0.25, 0.5, 1.0]
    K = 16
    eng = make_pair_engine(m, T, ladders=K, angle=1.5, seed=(5, 6))
    eng.run(300, 1)
    E, _ = eng.run(4000, 1)
    ref = quadrature_reference(m, [1.0 / t for t in T])
    for moment, col in ((1, 0), (2, 1)):
        per_ladder = (E ** moment).mean(axis=0)
        mean, err = per_ladder.mean(axis=1), per_ladder.std(axis=1, ddof=1) / np.sqrt(K)
        z = (mean - ref[:, col]) / err
        assert np.all(np.abs(z) < 4.0), (moment, mean, ref[:, col], err, z)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pair_rotations_resume_bitwise(dtype):
    m = pspin.SphericalPSpin(16, 3, seed=2, ensemble="isotropic", dtype=dtype)
    T, N = [1.5, 0.7], 40  # 2N crosses a refresh
    full = make_pair_engine(m, T)
    E_full, _ = full.run(2 * N, 1)
    first = make_pair_engine(m, T)
    E1, _ = first.run(N, 1)
    st = first.stats()
    resumed = make_pair_engine(m, T, init_seed=5)
    resumed.restore(first.states(), first.aux(), first.temp_of_slot(), first.sweeps_done, st["attempts"],
                    st["accepts"], st["round_trips"], st["phase"])
    E2, _ = resumed.run(N, 1)
    np.testing.assert_array_equal(np.concatenate([E1, E2]), E_full)
    np.testing.assert_array_equal(resumed.states(), full.states())
    np.testing.assert_array_equal(resumed.aux(), full.aux())
