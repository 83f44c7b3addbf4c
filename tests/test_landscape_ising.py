"""Ising landscape: single-flip descent and exact enumeration of one-flip-stable states.

References are numpy on the model's dense tensors (``model.tensors()``) or brute force
over all 2^n configurations, never pspin's own kernels.
"""

from __future__ import annotations

import itertools

import numpy as np
import pspin
import pytest
from pspin.landscape._ising import (
    LocalMinima,
    enumerate_local_minima,
    enumeration_cost,
    minimize_ising,
)

MODELS = {"p2": 2, "p3": 3, "mixed": {2: 1.0, 3: 0.6}}


def dense_fields(tensors: dict[int, np.ndarray], s: np.ndarray) -> np.ndarray:
    """h = -dH/ds for H = -sum_p (1/p!) T_p s...s, states (b, n)."""
    h = np.zeros(s.shape)
    if 2 in tensors:
        h += s @ tensors[2]
    if 3 in tensors:
        h += 0.5 * np.einsum("ijk,bj,bk->bi", tensors[3], s, s)
    return h


def dense_energy(tensors: dict[int, np.ndarray], s: np.ndarray) -> np.ndarray:
    e = np.zeros(s.shape[0])
    if 2 in tensors:
        e -= 0.5 * np.einsum("ij,bi,bj->b", tensors[2], s, s)
    if 3 in tensors:
        e -= np.einsum("ijk,bi,bj,bk->b", tensors[3], s, s, s) / 6.0
    return e


def all_states(n: int) -> np.ndarray:
    return np.array(list(itertools.product((1.0, -1.0), repeat=n)))


def brute_force_minima(model: pspin.IsingPSpin) -> tuple[np.ndarray, np.ndarray]:
    """Stable states (rows sorted lexicographically) and their energies, by numpy."""
    t = model.tensors()
    s = all_states(model.n)
    stable = (s * dense_fields(t, s) >= 0).all(axis=1)
    states = s[stable].astype(np.int8)
    order = np.lexsort(states.T[::-1])
    return states[order], dense_energy(t, s[stable])[order]


# ---------------------------------------------------------------- descent
@pytest.mark.parametrize("method", ["greedy", "random"])
@pytest.mark.parametrize("name,n", [("p2", 60), ("p3", 30), ("mixed", 30)])
def test_descent_endpoints_are_one_flip_stable(name, n, method):
    model = pspin.IsingPSpin(n, MODELS[name], seed=11)
    res = minimize_ising(model, 24, method=method, seed=5)
    assert res.states.shape == (24, n) and res.method == method
    assert np.isin(res.states, (-1, 1)).all()
    assert res.converged.all() and (res.grad_norm == 0).all()
    # the model's own fields
    assert (res.states * model.local_fields(res.states) >= 0).all()
    # independent numpy fields and energies on the dense tensors
    t = model.tensors()
    s = res.states.astype(np.float64)
    assert (s * dense_fields(t, s) >= 0).all()
    np.testing.assert_allclose(res.energies, dense_energy(t, s), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.energy_per_spin, res.energies / n)
    assert (res.iterations > 0).all()


@pytest.mark.parametrize("method", ["greedy", "random"])
def test_energy_never_increases_along_the_trajectory(method):
    model = pspin.IsingPSpin(40, {2: 1.0, 3: 0.5}, seed=3)
    start = model.random_state(10, seed=8)
    res = minimize_ising(model, initial=start, method=method, record_every=1, seed=1)
    tr = res.trajectory
    assert tr is not None and tr.shape[0] == 10
    np.testing.assert_allclose(tr[:, 0], model.energy(start) / 40, rtol=1e-12)
    for row, final, its in zip(tr, res.energy_per_spin, res.iterations):
        values = row[~np.isnan(row)]
        assert np.isnan(row[len(values) :]).all()  # NaN only after the start stopped
        assert len(values) == its + 1
        assert (np.diff(values) <= 1e-12).all()
        assert values[-1] == pytest.approx(final, abs=1e-12)
    assert (res.energies <= model.energy(start) + 1e-12).all()


def test_greedy_descent_lowers_energy_fastest_first():
    # Greedy's first flip is the spin with the most negative dE = 2 s_i h_i.
    model = pspin.IsingPSpin(30, 2, seed=4)
    start = model.random_state(1, seed=2)
    res = minimize_ising(model, initial=start, record_every=1)
    de = 2 * start[0] * model.local_fields(start[0])
    assert res.trajectory[0, 1] * 30 == pytest.approx(model.energy(start[0]) + de.min(), abs=1e-12)


def test_trajectory_records_every_k_iterations():
    model = pspin.IsingPSpin(50, 2, seed=9)
    res = minimize_ising(model, 6, record_every=5, seed=2)
    for row, its in zip(res.trajectory, res.iterations):
        assert (~np.isnan(row)).sum() == -(-its // 5) + 1  # the stopped state fills its last record
    assert minimize_ising(model, 2, seed=2).trajectory is None


def test_descent_endpoints_are_among_the_enumerated_minima():
    model = pspin.IsingPSpin(14, {2: 1.0, 3: 0.8}, seed=21)
    known = {tuple(s) for s in enumerate_local_minima(model).states}
    for method in ("greedy", "random"):
        res = minimize_ising(model, 50, method=method, seed=3)
        assert {tuple(s) for s in res.states.astype(np.int8)} <= known


def test_a_stable_initial_state_stays_put():
    model = pspin.IsingPSpin(12, 2, seed=2)
    minimum = enumerate_local_minima(model).states[:1]
    for method in ("greedy", "random"):
        res = minimize_ising(model, initial=minimum, method=method)
        np.testing.assert_array_equal(res.states, minimum)
        assert res.converged.all()
    assert minimize_ising(model, initial=minimum).iterations[0] == 0
    assert minimize_ising(model, initial=minimum, method="random").iterations[0] == 1


def test_budget_exhausted_is_reported_not_converged():
    model = pspin.IsingPSpin(200, 2, seed=1)
    res = minimize_ising(model, 8, method="random", max_iter=1, seed=4)
    assert (~res.converged).any()
    assert (res.converged == (res.grad_norm == 0)).all()
    assert (res.iterations == 1).all()
    s = res.states
    unstable = (s * model.local_fields(s) < 0).sum(axis=1)
    np.testing.assert_array_equal(res.grad_norm, unstable)
    np.testing.assert_allclose(res.energies, model.energy(s), rtol=1e-12)


def test_same_seed_same_result_different_seed_differs():
    model = pspin.IsingPSpin(64, 2, seed=1)
    for method in ("greedy", "random"):
        a = minimize_ising(model, 12, method=method, seed=7)
        b = minimize_ising(model, 12, method=method, seed=7)
        c = minimize_ising(model, 12, method=method, seed=8)
        np.testing.assert_array_equal(a.states, b.states)
        np.testing.assert_array_equal(a.energies, b.energies)
        assert not np.array_equal(a.states, c.states)


def test_greedy_results_do_not_depend_on_the_batch():
    # Fresh fields are computed on SIMD lanes that do not interact: a start's endpoint
    # and energy are bit-identical whichever starts share its batch.
    model = pspin.IsingPSpin(40, {2: 1.0, 3: 0.5}, seed=5)
    start = model.random_state(21, seed=4)
    whole = minimize_ising(model, initial=start)
    parts = [minimize_ising(model, initial=start[a:b]) for a, b in ((0, 1), (1, 9), (9, 21))]
    np.testing.assert_array_equal(whole.states, np.concatenate([p.states for p in parts]))
    np.testing.assert_array_equal(whole.energies, np.concatenate([p.energies for p in parts]))


def test_random_orders_differ_from_greedy_from_the_same_starts():
    model = pspin.IsingPSpin(80, 2, seed=6)
    start = model.random_state(16, seed=3)
    g = minimize_ising(model, initial=start, method="greedy")
    r1 = minimize_ising(model, initial=start, method="random", seed=1)
    r2 = minimize_ising(model, initial=start, method="random", seed=2)
    assert not np.array_equal(g.states, r1.states)
    assert not np.array_equal(r1.states, r2.states)  # the sweep orders come from the seed


def test_float32_model():
    model = pspin.IsingPSpin(40, {2: 1.0, 3: 1.0}, seed=2, dtype="float32")
    res = minimize_ising(model, 8, seed=1)
    assert res.converged.all()
    assert (res.states * model.local_fields(res.states) >= 0).all()
    assert enumerate_local_minima(pspin.IsingPSpin(10, 3, seed=2, dtype="float32")).count > 0


def test_results_bit_identical_for_one_and_two_threads(run_python):
    code = """
        import hashlib, numpy as np, pspin
        from pspin.landscape._ising import minimize_ising, enumerate_local_minima
        h = hashlib.sha256()
        for p, n in ((2, 120), (3, 40), ({2: 1.0, 3: 0.5}, 40)):
            model = pspin.IsingPSpin(n, p, seed=3)
            for method in ("greedy", "random"):
                r = minimize_ising(model, 40, method=method, seed=9, record_every=3)
                for a in (r.states, r.energies, r.grad_norm, r.iterations, r.trajectory):
                    h.update(np.ascontiguousarray(a).tobytes())
        for p, n in ((2, 22), (3, 20)):
            m = enumerate_local_minima(pspin.IsingPSpin(n, p, seed=4))
            h.update(m.states.tobytes()); h.update(m.energies.tobytes())
        print(pspin.get_num_threads(), h.hexdigest())
    """
    # the last line: an editable install may print its rebuild first
    one = run_python(code, {"OMP_NUM_THREADS": "1"}).strip().splitlines()[-1].split()
    two = run_python(code, {"OMP_NUM_THREADS": "2"}).strip().splitlines()[-1].split()
    assert one[0] == "1" and two[0] == "2"
    assert one[1] == two[1]


# ---------------------------------------------------------------- enumeration
@pytest.mark.parametrize(
    "name,n", [("p2", 4), ("p2", 11), ("p2", 14), ("p3", 5), ("p3", 12), ("mixed", 13)]
)
def test_enumeration_equals_brute_force(name, n):
    model = pspin.IsingPSpin(n, MODELS[name], seed=100 + n)
    res = enumerate_local_minima(model)
    states, energies = brute_force_minima(model)
    assert isinstance(res, LocalMinima) and res.n == n
    assert res.count == len(res) == len(states) > 0
    assert res.states.dtype == np.int8 and res.states.shape == (res.count, n)
    order = np.lexsort(res.states.T[::-1])
    np.testing.assert_array_equal(res.states[order], states)
    np.testing.assert_allclose(res.energies[order], energies, rtol=1e-12, atol=1e-12)
    assert (np.diff(res.energies) >= 0).all()  # sorted by energy
    assert res.visited == 2 ** (n - 1 if name == "p2" else n)


def test_enumeration_lists_both_mirror_images_for_even_p():
    res = enumerate_local_minima(pspin.IsingPSpin(15, 2, seed=5))
    assert res.count % 2 == 0
    assert {tuple(s) for s in res.states} == {tuple(-s) for s in res.states}


def test_enumeration_tie_rule_counts_zero_energy_changes_as_stable():
    # Integer couplings make exact ties: with all couplings zero every state is stable.
    model = pspin.IsingPSpin.from_tensors({2: np.zeros((6, 6))})
    assert enumerate_local_minima(model).count == 2**6
    # A ferromagnet with one bond: the two aligned states are stable, the others not
    # (a lone spin with h = 0 is tied, and ties count as stable).
    w = np.zeros((3, 3))
    w[0, 1] = w[1, 0] = 1.0
    res = enumerate_local_minima(pspin.IsingPSpin.from_tensors({2: w}))
    assert {tuple(s) for s in res.states} == {(1, 1, 1), (1, 1, -1), (-1, -1, 1), (-1, -1, -1)}


def test_degenerate_couplings_with_too_many_stable_states_are_refused(monkeypatch):
    import pspin.landscape._ising as ising

    monkeypatch.setattr(ising, "_MAX_STATES", 100)
    model = pspin.IsingPSpin.from_tensors({3: np.zeros((10, 10, 10))})
    with pytest.raises(ValueError, match="more than 100 one-flip-stable states"):
        enumerate_local_minima(model)


# Exact finite-N expectation of the number of one-flip-stable SK states (s and -s both
# counted), E N_s(N) = 2^N int dw N(0,1/N)(w) Phi(w/sqrt(1-2/N))^N.
# Source: theory reference f.3 (derived there; brute-force check N=8: 5.228 +- 0.015,
# N=12: 11.58 +- 0.08); also pspin.theory.expected_one_flip_stable.
EXPECTED_SK_COUNT = {8: 5.2265044, 12: 11.549367, 16: 25.578078, 20: 56.691342}


@pytest.mark.parametrize(
    "n,samples", [(8, 4000), (12, 4000), (16, 2000), pytest.param(20, 300, marks=pytest.mark.slow)]
)
def test_sk_disorder_averaged_count_matches_exact_expectation(n, samples):
    counts = np.array(
        [
            enumerate_local_minima(pspin.IsingPSpin(n, 2, seed=1000 * n + k)).count
            for k in range(samples)
        ]
    )
    mean = counts.mean()
    error = counts.std(ddof=1) / np.sqrt(samples)
    # 4 standard errors: about 1% relative at n = 8..16, so a wrong tie rule, a lost
    # mirror image or a missed Gray-code state fails.
    assert abs(mean - EXPECTED_SK_COUNT[n]) < 4 * error, (mean, error)
    assert 4 * error < 0.1 * EXPECTED_SK_COUNT[n]


def test_enumeration_cost_estimate():
    visited, seconds = enumeration_cost(pspin.IsingPSpin(30, 2, seed=1), threads=2)
    assert visited == 2**29 and 0.5 < seconds < 30
    visited3, _ = enumeration_cost(pspin.IsingPSpin(30, 3, seed=1))
    assert visited3 == 2**30


def test_public_entry_points():
    model = pspin.IsingPSpin(12, 2, seed=3)
    assert pspin.enumerate_local_minima(model).count == enumerate_local_minima(model).count
    a = pspin.minimize(model, 5, method="random", seed=2)
    b = minimize_ising(model, 5, method="random", seed=2)
    np.testing.assert_array_equal(a.states, b.states)


# ---------------------------------------------------------------- bad input
def test_bad_input_descent():
    model = pspin.IsingPSpin(10, 2, seed=1)
    with pytest.raises(ValueError, match="n_starts"):
        minimize_ising(model, 0)
    with pytest.raises(TypeError, match="n_starts"):
        minimize_ising(model, 2.5)
    with pytest.raises(ValueError, match="give n_starts"):
        minimize_ising(model)
    with pytest.raises(ValueError, match=r"allowed: \('greedy', 'random'\)"):
        minimize_ising(model, 2, method="metropolis")
    with pytest.raises(ValueError, match="shape"):
        minimize_ising(model, initial=np.ones((2, 9)))
    with pytest.raises(ValueError, match=r"\+1 and -1"):
        minimize_ising(model, initial=np.full((2, 10), 0.5))
    with pytest.raises(ValueError, match="NaN"):
        minimize_ising(model, initial=np.full((2, 10), np.nan))
    with pytest.raises(ValueError, match="does not match"):
        minimize_ising(model, 3, initial=np.ones((2, 10)))
    with pytest.raises(ValueError, match="max_iter"):
        minimize_ising(model, 2, max_iter=0)
    with pytest.raises(ValueError, match="record_every"):
        minimize_ising(model, 2, record_every=-1)
    with pytest.raises(TypeError, match="IsingPSpin"):
        minimize_ising(pspin.SphericalPSpin(10, 3, seed=1), 2)
    with pytest.raises(ValueError, match=r"degrees \(2, 3\)"):
        minimize_ising(pspin.IsingPSpin(10, 4, seed=1), 2)


def test_dense_couplings_that_do_not_fit_are_refused_before_allocation(monkeypatch):
    import pspin._memory

    model = pspin.IsingPSpin(30, 3, seed=1)
    monkeypatch.setattr(pspin._memory, "available_memory", lambda: 100_000)
    with pytest.raises(
        MemoryError, match=r"dense couplings .* n\^2 \(n-1\)/2 entries .* needs 104,400 bytes"
    ):
        minimize_ising(model, 2)
    with pytest.raises(MemoryError, match="dense couplings"):
        enumerate_local_minima(pspin.IsingPSpin(30, 3, seed=1))


def test_bad_input_enumeration():
    with pytest.raises(
        ValueError, match=r"n = 36 spins visits 3.44e\+10 configurations, estimated about"
    ):
        enumerate_local_minima(pspin.IsingPSpin(36, 2, seed=1))
    with pytest.raises(ValueError, match="max_n = 20"):
        enumerate_local_minima(pspin.IsingPSpin(24, 3, seed=1), max_n=20)
    with pytest.raises(ValueError, match="hard limit is n = 62"):
        enumerate_local_minima(pspin.IsingPSpin(64, 2, seed=1), max_n=100)
    with pytest.raises(ValueError, match="max_n"):
        enumerate_local_minima(pspin.IsingPSpin(8, 2, seed=1), max_n=0)
    with pytest.raises(TypeError, match="IsingPSpin"):
        enumerate_local_minima(pspin.SphericalPSpin(8, 3, seed=1))
    with pytest.raises(ValueError, match=r"degrees \(2, 3\)"):
        enumerate_local_minima(pspin.IsingPSpin(8, {2: 1.0, 4: 1.0}, seed=1))
