"""pspin.entropy.census / complexity: exact counts, agreement with enumeration and Kac-Rice, dedupe, I/O."""

from __future__ import annotations

import pickle

import numpy as np
import pspin
import pytest
from pspin import theory
from pspin.entropy import Census, ComplexityResult, census, chao1, complexity, extrapolate
from pspin.entropy._dedupe import classes_by_equality, classes_by_overlap


# ------------------------------------------------------------------ spherical p = 2: exact answer
def test_p2_has_two_critical_points_of_each_index_at_the_eigenvalues():
    """p = 2: H = -(1/2) s.T s, critical points are +-sqrt(n) v_k; the one on the k-th largest
    eigenvalue lambda_k has index k - 1 and energy per spin -lambda_k / 2 (2n points in all)."""
    n = 8
    m = pspin.SphericalPSpin(n, 2, seed=4)
    lam = np.sort(np.linalg.eigvalsh(m.tensors()[2]))[::-1]
    total = 0
    for k in range(n):
        c = census(m, 40, index=k, seed=k, method="newton")
        assert c.symmetry_factor == 2 and len(c) == 1 and c.count == 2
        assert c.index[0] == k
        np.testing.assert_allclose(c.energy_per_spin[0], -lam[k] / 2, rtol=0, atol=1e-12)
        total += c.count
    assert total == 2 * n


def test_p2_minima_by_descent_are_the_top_eigenvector():
    m = pspin.SphericalPSpin(30, 2, seed=5)
    c = census(m, 50, seed=1, hessian=True)
    lam = np.linalg.eigvalsh(m.tensors()[2])
    assert c.count == 2 and c.n_converged == 50 and c.hits.tolist() == [50]
    np.testing.assert_allclose(c.energy_per_spin, [-lam[-1] / 2], atol=1e-12)
    # tangent spectrum at the minimum: (lambda_max - lambda_j) for the other eigenvalues
    np.testing.assert_allclose(c.hessian_eigenvalues[0], np.sort(lam[-1] - lam[:-1]), atol=1e-10)
    assert c.exact is False and c.estimated_count == 2.0


# ------------------------------------------------------------------ spherical p = 3
def test_p3_minima_are_polished_distinct_minima_with_consistent_hits():
    m = pspin.SphericalPSpin(14, 3, seed=7, ensemble="isotropic")
    c = census(m, 300, seed=3, hessian=True)
    assert c.symmetry_factor == 1 and c.count == len(c) >= 2
    assert np.all(np.diff(c.energies) >= 0)
    assert np.all(c.index == 0) and np.all(c.hessian_eigenvalues > 0)
    assert np.all(np.linalg.norm(m.riemannian_gradient(c.states), axis=1) / np.sqrt(14) < 1e-12)
    q = np.abs(c.states @ c.states.T / 14 - np.eye(len(c)))
    assert q.max() < 1 - 1e-6  # distinct
    assert c.hits.sum() == c.n_converged == 300
    assert c.saturation[-1] == len(c) and np.all(np.diff(c.saturation) >= 0)
    assert sorted(c.first_hit.tolist()) == sorted(np.searchsorted(c.saturation, np.arange(1, len(c) + 1)).tolist())


def test_census_is_reproducible_from_its_seed():
    m = pspin.SphericalPSpin(16, 3, seed=9)
    a, b = census(m, 100, seed=12), census(m, 100, seed=12)
    assert a == b


def test_index_one_saddles_by_eigenvector_following():
    m = pspin.SphericalPSpin(10, 3, seed=2, ensemble="isotropic")
    c = census(m, 80, index=1, seed=1)
    assert c.method == "newton" and len(c) >= 1 and np.all(c.index == 1)


# ------------------------------------------------------------------ Ising
def test_ising_census_by_descent_agrees_with_enumeration():
    for s in range(4):
        m = pspin.IsingPSpin(14, 2, seed=100 + s)
        exact = census(m)
        assert exact.exact and exact.method == "enumerate" and exact.symmetry_factor == 2
        found = pspin.enumerate_local_minima(m)
        assert exact.count == found.count
        by_descent = census(m, 3000, seed=s, method="random")
        assert not by_descent.exact
        exact_set = {tuple(row) for row in exact.states}
        assert {tuple(row) for row in by_descent.states} <= exact_set
        assert by_descent.count <= exact.count
        # the ground state is found, at the enumeration's energy
        np.testing.assert_allclose(by_descent.energies[0], exact.energies[0], rtol=0, atol=1e-12)
        idx = [list(map(tuple, exact.states)).index(tuple(r)) for r in by_descent.states]
        np.testing.assert_allclose(by_descent.energies, exact.energies[idx], rtol=0, atol=1e-12)


def test_ising_with_odd_degree_has_no_symmetry_factor():
    m = pspin.IsingPSpin(12, 3, seed=1)
    c = census(m)
    assert c.symmetry_factor == 1 and c.count == pspin.enumerate_local_minima(m).count


def test_sk_complexity_against_the_exact_expectation():
    """Exact enumeration over 200 SK samples at n = 12: mean count vs E N_s(12) = 11.549367
    (theory.expected_one_flip_stable; s and -s counted), within 4 standard errors."""
    r = complexity(lambda seed: pspin.IsingPSpin(12, 2, seed=seed), samples=200, seed=3)
    assert np.all(r.exact)
    assert r.theory_expected_total == pytest.approx(11.549367, abs=1e-6)
    se = r.totals.std(ddof=1) / np.sqrt(r.samples)
    assert abs(r.totals.mean() - r.theory_expected_total) < 4 * se
    assert r.theory_complexity_total == pytest.approx(0.1992285, abs=1e-6)  # Tanaka-Edwards


# ------------------------------------------------------------------ Kac-Rice at finite n
@pytest.mark.parametrize("n, samples, starts", [(8, 80, 300), (12, 40, 400)])
def test_energy_resolved_counts_match_exact_finite_n_kac_rice(n, samples, starts):
    """Isotropic p = 3, where theory.expected_critical_points is the exact E[N] at this n.
    Reference values (same function): E[#minima] = 5.2354 (n = 8), 6.9616 (n = 12)."""
    edges = [-2.5, -1.4, -1.2, -1.05, -0.9]
    r = complexity(lambda seed: pspin.SphericalPSpin(n, 3, seed=seed, ensemble="isotropic"), starts,
                   samples=samples, seed=21, bins=edges)
    mean = r.counts.mean(axis=0)
    se = r.counts.std(axis=0, ddof=1) / np.sqrt(samples)
    # a bin nobody reached has se = 0: its Poisson error under the expectation is the floor
    err = np.maximum(se, np.sqrt(r.theory_expected / samples))
    z = (mean - r.theory_expected) / err
    assert np.all(np.abs(z) < 4), z
    total_se = r.totals.std(ddof=1) / np.sqrt(samples)
    assert abs(r.totals.mean() - r.theory_expected_total) < 4 * total_se
    np.testing.assert_allclose(r.theory_expected_cumulative[-1], r.cumulative.mean(0)[-1], atol=4 * total_se)


def test_annealed_and_quenched_errors():
    counts = np.array([[1, 4], [2, 4], [3, 0], [2, 4]])
    from pspin.entropy.complexity import _annealed, _quenched

    value, err = _annealed(counts, 10)
    np.testing.assert_allclose(value, np.log(counts.mean(0)) / 10)
    loo = np.log((counts.sum(0) - counts) / 3) / 10
    np.testing.assert_allclose(err, np.sqrt(3 / 4 * ((loo - loo.mean(0)) ** 2).sum(0)))
    q, qerr = _quenched(counts, 10)
    assert q[0] == pytest.approx(np.log(counts[:, 0]).mean() / 10)
    assert q[1] == -np.inf and np.isnan(qerr[1])  # a sample without points: no quenched value


def test_extrapolation_recovers_a_known_limit():
    rs = []
    base = complexity(lambda seed: pspin.IsingPSpin(8, 2, seed=seed), samples=5, seed=1)
    for n in (10, 20, 40):
        rs.append(ComplexityResult(**{**{f: getattr(base, f) for f in base.__dataclass_fields__},
                                      "n": n, "annealed_total": 0.2 - 0.3 / n, "annealed_total_error": 1e-4}))
    x = extrapolate(rs, form="1/n")
    assert x.limit == pytest.approx(0.2, abs=1e-12) and x.slope == pytest.approx(-0.3, abs=1e-10)
    assert x.chi2 == pytest.approx(0.0, abs=1e-12)
    assert x.theory == pytest.approx(theory.one_flip_stable_complexity())
    assert x.form == "Sigma_n = Sigma_inf + a/n"
    y = extrapolate(rs)  # n^-2/3 does not fit a 1/n law exactly
    assert y.chi2 > 1 and y.form == "Sigma_n = Sigma_inf + a n^(-2/3)"
    with pytest.raises(ValueError, match="form"):
        extrapolate(rs, form="log")


# ------------------------------------------------------------------ dedupe and Chao1
def test_dedupe_by_overlap_equals_brute_force():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(300, 20))
    picks = rng.integers(0, 300, size=3000)
    states = base[picks] * rng.choice([-1.0, 1.0], size=(3000, 1)) * (1 + 1e-12 * rng.normal(size=(3000, 1)))
    energies = np.round(np.abs(base[picks, 0]), 3)  # many exact energy ties across different states
    labels, first = classes_by_overlap(states, energies, flip_symmetric=True, q_tol=1e-8, e_tol=1e-9)
    _, truth = np.unique(picks, return_inverse=True)
    # same partition as the truth, numbered by first occurrence
    assert len(first) == len(np.unique(picks))
    pairs = {(a, b) for a, b in zip(labels.tolist(), truth.tolist())}
    assert len(pairs) == len(first)
    assert np.all(labels[first] == np.arange(len(first))) and np.all(np.diff(first) > 0)
    # without the flip symmetry s and -s are different states
    labels2, first2 = classes_by_overlap(states, energies, flip_symmetric=False, q_tol=1e-8, e_tol=1e-9)
    assert len(first2) > len(first)


def test_dedupe_of_ising_rows():
    rows = np.array([[1, -1, 1], [-1, 1, -1], [1, 1, 1], [1, -1, 1]], dtype=np.int8)
    labels, first = classes_by_equality(rows, flip_symmetric=True)
    assert labels.tolist() == [0, 0, 1, 0] and first.tolist() == [0, 2]
    labels, first = classes_by_equality(rows, flip_symmetric=False)
    assert labels.tolist() == [0, 1, 2, 0]


def test_chao1_values():
    # f1 = 2, f2 = 1, S = 4, m = 1+1+2+5 = 9: S + (8/9) 4/2
    est, err = chao1([1, 1, 2, 5])
    assert est == pytest.approx(4 + 8 / 9 * 2)
    a, r = 8 / 9, 2.0
    assert err == pytest.approx(np.sqrt(1 * (a / 2 * r**2 + a * a * r**3 + a * a / 4 * r**4)))
    assert chao1([3, 4, 5])[0] == 3.0  # no singletons: nothing missed
    est, _ = chao1([1, 1, 1, 3])  # no doubletons: bias-corrected form
    assert est == pytest.approx(4 + (5 / 6) * 3 * 2 / 2)
    with pytest.raises(ValueError):
        chao1([0, 1])


# ------------------------------------------------------------------ results leave the process
def test_census_and_complexity_save_load_pickle(tmp_path):
    m = pspin.SphericalPSpin(10, 3, seed=1)
    c = census(m, 50, seed=2, hessian=True)
    c.save(tmp_path / "c.h5")
    back = pspin.load(tmp_path / "c.h5")
    assert isinstance(back, Census) and back == c and back.params == c.params
    assert pickle.loads(pickle.dumps(c)) == c
    assert "Census(" in repr(c) and len(repr(c)) < 600
    r = complexity([pspin.IsingPSpin(10, 2, seed=s) for s in range(5)])
    r.save(tmp_path / "r.h5")
    assert pspin.load(tmp_path / "r.h5") == r
    pd = pytest.importorskip("pandas")
    table = r.to_dataframe()
    assert isinstance(table, pd.DataFrame) and len(table) == r.counts.shape[1]
    assert list(c.to_dataframe().columns) == ["energy_per_spin", "index", "hits", "first_hit"]


def test_plots(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    m = pspin.SphericalPSpin(10, 3, seed=1, ensemble="isotropic")
    census(m, 50, seed=2).plot()
    complexity([pspin.SphericalPSpin(8, 3, seed=s, ensemble="isotropic") for s in range(3)], 50, seed=1, bins=4).plot()


# ------------------------------------------------------------------ bad input
def test_bad_input():
    sph = pspin.SphericalPSpin(8, 3, seed=1)
    ising = pspin.IsingPSpin(8, 2, seed=1)
    with pytest.raises(ValueError, match="index 0"):
        census(ising, index=1)
    with pytest.raises(ValueError, match="method='newton'"):
        census(sph, 10, index=1, method="lbfgs")
    with pytest.raises(ValueError, match="n - 1"):
        census(sph, 10, index=8)
    with pytest.raises(ValueError, match="allowed"):
        census(sph, 10, method="magic")
    with pytest.raises(TypeError):
        census("model", 10)
    with pytest.raises(ValueError, match="takes no starts"):
        census(ising, 10, method="enumerate")
    with pytest.raises(ValueError, match="different ensembles"):
        complexity([pspin.SphericalPSpin(8, 3, seed=1), pspin.SphericalPSpin(9, 3, seed=1)], 10)
    with pytest.raises(ValueError, match="different ensembles"):
        complexity([pspin.SphericalPSpin(8, 3, seed=1), pspin.SphericalPSpin(8, 3, seed=2, ensemble="isotropic")], 10)
    with pytest.raises(ValueError, match="samples"):
        complexity(lambda seed: pspin.SphericalPSpin(8, 3, seed=seed), 10)
    with pytest.raises(ValueError, match="n_starts"):
        complexity([sph, pspin.SphericalPSpin(8, 3, seed=2)])
    with pytest.raises(ValueError, match="no critical point"):
        complexity([sph, pspin.SphericalPSpin(8, 3, seed=2)], 5, max_iter=1)
    with pytest.raises(ValueError, match="lies in the bins"):
        complexity([ising, pspin.IsingPSpin(8, 2, seed=2)], bins=[5.0, 6.0])
    with pytest.raises(TypeError, match="several disorder samples"):
        complexity(sph, 10)
    with pytest.raises(ValueError, match="two or more"):
        extrapolate([complexity([ising, pspin.IsingPSpin(8, 2, seed=2)])] * 2)


def test_censuses_with_a_theory_model_get_the_theory_columns():
    models = [pspin.SphericalPSpin(8, 3, seed=s, ensemble="isotropic") for s in range(3)]
    censuses = [census(m, 60, seed=s) for s, m in enumerate(models)]
    bare = complexity(censuses, bins=4)
    assert np.all(np.isnan(bare.theory_expected))
    with_theory = complexity(censuses, bins=4, theory_model=pspin.SphericalPSpin(5, 3, seed=0, ensemble="isotropic"))
    expected = [float(theory.expected_critical_points(8, 3, 0, energy_range=(lo, hi)))
                for lo, hi in zip(bare.bin_edges[:-1], bare.bin_edges[1:])]
    np.testing.assert_allclose(with_theory.theory_expected, expected, rtol=1e-12)
    assert with_theory.theory_complexity_total == pytest.approx(theory.complexity_peak(3, 0)[1])
    np.testing.assert_array_equal(with_theory.counts, bare.counts)
    with pytest.raises(TypeError, match="theory_model"):
        complexity(censuses, theory_model="p=3")
