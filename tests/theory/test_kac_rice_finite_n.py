"""Exact finite-N Kac-Rice counts for the isotropic spherical ensemble."""

from __future__ import annotations

import math

import numpy as np
import pspin.theory as th
import pytest
from scipy.special import gammaln


@pytest.mark.parametrize("N", [2, 3, 4, 5, 8, 11])
def test_p2_counts_are_exact(N):
    # p = 2: the critical points are the +-eigenvectors of the coupling matrix, so
    # exactly 2 of each index k = 0..N-1 and 2N in all.
    values, errors = th.expected_critical_points_by_index(N, 2)
    np.testing.assert_allclose(values, 2.0, rtol=0, atol=1e-9)
    assert np.all(errors < 1e-9)
    total = th.expected_critical_points(N, 2)
    assert total.value == pytest.approx(2.0 * N, abs=1e-8)
    assert th.expected_critical_points(N, 2, index=0).value == pytest.approx(2.0, abs=1e-10)
    assert th.expected_critical_points(N, 2, index=N).value == 0.0  # index > N-1 impossible


def test_published_monte_carlo_values_p3():
    # theory.md sec. T: MC over 2e4 GOE matrices with the ABC identity, E[#minima]
    # 6.1107772 (N=10) and 11.0117625 (N=20); MC standard error ~0.5%.
    m10 = th.expected_critical_points(10, 3, index=0)
    m20 = th.expected_critical_points(20, 3, index=0)
    assert m10.value == pytest.approx(6.1107772, rel=0.01)
    assert m20.value == pytest.approx(11.0117625, rel=0.01)
    # exact values (this implementation; error estimates far below 3 digits)
    assert m10.value == pytest.approx(6.0803872, abs=1e-6)
    assert m20.value == pytest.approx(11.0139819, abs=1e-6)
    assert m10.error < 1e-8 * m10.value and m20.error < 1e-8 * m20.value
    assert float(m10) == m10.value


def _abc_identity_mc(N, p, k, B_cc, samples, seed):
    """ABC13 identity (theory.md b.7): 2 sqrt(2/p) (p-1)^(N/2) E[exp(-N(p-2) lam_k^2/(2p)) 1{...}]."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((samples, N, N))
    M = (a + np.swapaxes(a, 1, 2)) / (2.0 * math.sqrt(N))  # E M_ij^2 = (1 + delta_ij)/(2N)
    lam = np.linalg.eigvalsh(M)[:, k]
    w = np.exp(-N * (p - 2) / (2.0 * p) * lam**2)
    if B_cc is not None:
        s = math.sqrt(p / (2.0 * (p - 1)))
        lo, hi = (math.sqrt(2.0) * b for b in B_cc)  # energies to ABC units
        w = w * ((lam >= s * lo) & (lam <= s * hi))
    w = w * 2.0 * math.sqrt(2.0 / p) * (p - 1.0) ** (N / 2.0)
    return w.mean(), w.std() / math.sqrt(samples)


@pytest.mark.parametrize(
    "N, p, k, B",
    [
        (8, 3, 0, None),
        (8, 3, 1, None),
        (7, 4, 2, None),
        (8, 3, 0, (-1.2, -1.16)),
        (6, 5, 1, (-1.4, -1.0)),
    ],
)
def test_against_abc_identity_monte_carlo(N, p, k, B):
    # Independent route: the ABC finite-N identity sampled over GOE matrices.
    mc, se = _abc_identity_mc(N, p, k, B, samples=40000, seed=12345 + N + 10 * k)
    exact = th.expected_critical_points(N, p, index=k, energy_range=B).value
    assert abs(exact - mc) < 4.5 * se + 1e-12


def test_sum_over_indices_and_energy_windows():
    N, p = 9, 3
    values, _ = th.expected_critical_points_by_index(N, p)
    total = th.expected_critical_points(N, p).value
    assert values.sum() == pytest.approx(total, rel=1e-12)
    # energy windows add up
    cuts = [-np.inf, -1.0, -0.2, 0.4, np.inf]
    pieces = [th.expected_critical_points(N, p, 1, (a, b)).value for a, b in zip(cuts, cuts[1:])]
    assert sum(pieces) == pytest.approx(th.expected_critical_points(N, p, 1).value, rel=1e-9)
    # odd p: H -> -H maps index k at e to index N-1-k at -e
    lo = th.expected_critical_points(N, p, 0, (-np.inf, -1.0)).value
    hi = th.expected_critical_points(N, p, N - 1, (1.0, np.inf)).value
    assert lo == pytest.approx(hi, rel=1e-9)
    assert th.expected_critical_points(N, p, 0, (0.5, 0.5)).value == 0.0


def test_mixed_model_against_kac_rice_monte_carlo():
    # Direct Monte Carlo of the Kac-Rice integrand (u, r jointly Gaussian, GOE M):
    # checks the exact GOE averages and the Gaussian bookkeeping for a mixture.
    N, model, k = 6, {3: 0.8, 4: 0.6}, 0
    xi1, xi2, xi3 = 0.64 + 0.36, 0.64 * 3 + 0.36 * 4, 0.64 * 6 + 0.36 * 12
    nu, nu1, nu2 = xi1 / 2, xi2 / 2, xi3 / 2
    n = N - 1
    rng = np.random.default_rng(7)
    S = 200000
    cov = np.array([[nu, nu1], [nu1, nu1 + nu2]]) / N
    ur = rng.multivariate_normal([0.0, 0.0], cov, size=S)
    a = rng.standard_normal((S, n, n))
    M = (a + np.swapaxes(a, 1, 2)) * math.sqrt(nu2 / (2.0 * N))  # off-diagonal variance nu''/N
    lam = np.linalg.eigvalsh(M)
    r = ur[:, 1:2]
    det = np.prod(np.abs(lam - r), axis=1)
    B = (-1.3, -0.9)
    keep = ((lam < r).sum(axis=1) == k) & (ur[:, 0] >= B[0]) & (ur[:, 0] <= B[1])
    log_area = (
        math.log(2.0) + 0.5 * N * math.log(math.pi) + 0.5 * n * math.log(N) - gammaln(0.5 * N)
    )
    pref = math.exp(log_area - 0.5 * n * math.log(2 * math.pi * nu1))
    w = pref * det * keep
    mc, se = w.mean(), w.std() / math.sqrt(S)
    exact = th.expected_critical_points(N, model, k, B).value
    assert abs(exact - mc) < 4.5 * se


def test_large_n_trend_total():
    # ln E[# critical points] = N Sigma + a ln N + b + o(1): a three-size fit recovers
    # Sigma(all, e = 0) = (1/2) ln(p-1): 0.3394 from N = 10, 15, 20 (0.3450 from 20, 30, 40).
    Ns = np.array([10, 15, 20])
    logs = np.array([math.log(th.expected_critical_points(int(N), 3).value) for N in Ns])
    A = np.column_stack([Ns, np.log(Ns), np.ones(3)])
    sigma, _, _ = np.linalg.solve(A, logs)
    assert sigma == pytest.approx(0.5 * math.log(2.0), rel=0.03)


@pytest.mark.slow
def test_large_n_minima_slow():
    # (1/N) ln E[#minima] decreases towards Theta_0(+inf) = 0.0132 (slowly; theory.md b.7)
    Ns = (20, 30, 40)
    vals = [math.log(th.expected_critical_points(N, 3, 0).value) / N for N in Ns]
    assert vals[0] > vals[1] > vals[2] > th.cumulative_complexity(0.0, 3, 0)
    logs = [math.log(th.expected_critical_points(N, 3).value) for N in Ns]
    A = np.column_stack([Ns, np.log(Ns), np.ones(3)])
    assert np.linalg.solve(A, logs)[0] == pytest.approx(0.5 * math.log(2.0), rel=0.01)


@pytest.mark.slow
def test_p2_exact_at_largest_size_slow():
    # round-off of the Pfaffian/Fourier route stays ~1e-12 up to the size limit
    values, errors = th.expected_critical_points_by_index(40, 2)
    np.testing.assert_allclose(values, 2.0, rtol=0, atol=1e-9)
    assert np.all(errors < 1e-9)
