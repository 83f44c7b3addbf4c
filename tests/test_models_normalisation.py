"""Normalisation of the generated couplings: disorder averages over many seeds.

Convention (design.md / theory.md section 0, copied here):
    H(s) = -sum_p c_p sum_{i1<...<ip} J_{i1..ip} s_i1...s_ip,  J iid N(0, p!/(2 n^(p-1))).
Exact finite-n consequences, for fixed states s, t (J Gaussian, blocks independent):

* distinct ensemble (spherical or Ising):
      E[H(s)H(t)] = sum_p c_p^2 p!/(2 n^(p-1)) e_p(s_1 t_1, ..., s_n t_n),
  e_p the elementary symmetric polynomial; for Ising and s = t this is
  p!/(2 n^(p-1)) C(n, p) = (n/2) (n-1)...(n-p+1)/n^(p-1)  (theory.md section F);
* isotropic ensemble (repeated indices with Var K_t = c_p^2 multinomial(t)/(2 n^(p-1))):
      E[H(s)H(t)] = n xi(q)/2 exactly, xi(q) = sum_p c_p^2 q^p, q = s.t/n.

H(s) and H(t) are jointly Gaussian, so the product of one sample has variance
E[H(s)^2] E[H(t)^2] + E[H(s)H(t)]^2 (= 2 sigma^4 for s = t): the sample mean over S seeds
is compared with the exact value within 4 of these known standard errors (fixed seeds, so
the outcome is deterministic; the chance of a false failure per check is ~6e-5).
"""

from __future__ import annotations

import math

import numpy as np
import pspin
import pytest

N_SEEDS = 3000
Z_MAX = 4.0


def elementary_symmetric(x: np.ndarray, p: int) -> float:
    """e_p(x_1..x_n) by the recursion e_k <- e_k + x_i e_{k-1}."""
    e = np.zeros(p + 1)
    e[0] = 1.0
    for xi in x:
        e[1:] = e[1:] + xi * e[:-1]
    return float(e[p])


def energies_over_seeds(make, states, seeds):
    """(S, b) energies of the fixed states under the models make(seed)."""
    return np.array([make(seed).energy(states) for seed in seeds])


def assert_covariances(energies, expected, what):
    """Sample E[H_a H_b] (disorder average) vs the exact matrix ``expected`` (b, b)."""
    s = energies.shape[0]
    sample = energies.T @ energies / s
    var = np.diag(expected)
    se = np.sqrt((np.outer(var, var) + expected**2) / s)
    z = (sample - expected) / se
    worst = np.unravel_index(np.argmax(np.abs(z)), z.shape)
    assert np.all(np.abs(z) < Z_MAX), (
        f"{what}: E[H H'] at {worst} = {sample[worst]:.5g}, exact {expected[worst]:.5g} "
        f"(z = {z[worst]:.2f}, standard error {se[worst]:.3g})"
    )
    mean = energies.mean(axis=0)
    zm = mean / np.sqrt(var / s)
    assert np.all(np.abs(zm) < Z_MAX), f"{what}: E[H] = {mean} is not 0 (z = {zm})"


def distinct_covariance(states, coefficients, n):
    b = len(states)
    out = np.zeros((b, b))
    for i in range(b):
        for j in range(b):
            out[i, j] = sum(
                c
                * c
                * math.factorial(p)
                / (2 * n ** (p - 1))
                * elementary_symmetric(states[i] * states[j], p)
                for p, c in coefficients.items()
            )
    return out


def isotropic_covariance(states, coefficients, n):
    q = states @ states.T / n
    return n * sum(c * c * q**p for p, c in coefficients.items()) / 2


def states_at_overlaps(rng, n, overlaps):
    """s and one t per q with |t|^2 = n and s.t/n = q exactly (to rounding)."""
    s = rng.standard_normal(n)
    s *= np.sqrt(n) / np.linalg.norm(s)
    out = [s]
    for q in overlaps:
        w = rng.standard_normal(n)
        w -= (w @ s) / n * s
        w *= np.sqrt(n) / np.linalg.norm(w)
        out.append(q * s + np.sqrt(1 - q * q) * w)
    states = np.array(out)
    np.testing.assert_allclose(states @ states[0] / n, [1.0, *overlaps], atol=1e-14)
    return states


def test_elementary_symmetric_helper():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert elementary_symmetric(x, 2) == 1 * 2 + 1 * 3 + 1 * 4 + 2 * 3 + 2 * 4 + 3 * 4
    assert elementary_symmetric(np.ones(12), 3) == math.comb(12, 3)


@pytest.mark.parametrize("p", [2, 3, 4])
def test_ising_second_moment_exact_finite_n(p):
    n = 12
    rng = np.random.default_rng(p)
    states = rng.choice([-1.0, 1.0], size=(3, n))
    expected = distinct_covariance(states, {p: 1.0}, n)
    # the theory.md section F form of the diagonal
    closed = n / 2 * math.prod(range(n - p + 1, n)) / n ** (p - 1)
    np.testing.assert_allclose(np.diag(expected), closed, rtol=1e-14)
    # for p >= 3 the check can tell this finite-n value from the N -> infinity one, n/2
    if p >= 3:
        assert abs(closed - n / 2) > 2 * Z_MAX * np.sqrt(2 / N_SEEDS) * closed
    energies = energies_over_seeds(
        lambda seed: pspin.IsingPSpin(n, p, seed=seed), states, range(N_SEEDS)
    )
    assert_covariances(energies, expected, f"Ising p={p}")


@pytest.mark.parametrize(
    "spec", [3, {2: 0.8, 3: 0.6}, {2: 1.0, 4: 0.5}], ids=["p3", "mixed23", "mixed24"]
)
def test_spherical_distinct_covariance_exact_finite_n(spec):
    n = 14
    coefficients = {spec: 1.0} if isinstance(spec, int) else spec
    rng = np.random.default_rng(41)
    states = states_at_overlaps(rng, n, [0.6, -0.4])
    expected = distinct_covariance(states, coefficients, n)
    iso = isotropic_covariance(states, coefficients, n)
    # the check can tell the distinct ensemble from the isotropic one (n xi(1)/2)
    assert np.all(
        np.abs(np.diag(expected) - np.diag(iso)) > 1.5 * Z_MAX * np.sqrt(2 / N_SEEDS) * np.diag(iso)
    )
    energies = energies_over_seeds(
        lambda seed: pspin.SphericalPSpin(n, spec, seed=10_000 + seed), states, range(N_SEEDS)
    )
    assert_covariances(energies, expected, f"spherical distinct {spec}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "spec",
    [2, 3, 4, {2: 0.8, 3: 0.6}, {2: 0.5, 3: 1.0, 4: 0.7}],
    ids=["p2", "p3", "p4", "mixed23", "mixed234"],
)
def test_isotropic_covariance_is_n_xi_over_2(spec, dtype):
    n = 12
    coefficients = {spec: 1.0} if isinstance(spec, int) else spec
    rng = np.random.default_rng(43)
    states = states_at_overlaps(rng, n, [0.5, 0.0, -0.3, 0.9])
    expected = isotropic_covariance(states, coefficients, n)
    # the diagonal is n xi(1)/2 = n sum c_p^2 / 2 for every s
    np.testing.assert_allclose(
        np.diag(expected), n * sum(c * c for c in coefficients.values()) / 2, rtol=1e-13
    )
    make = lambda seed: pspin.SphericalPSpin(
        n, spec, seed=20_000 + seed, ensemble="isotropic", dtype=dtype
    )
    model = make(0)
    q = np.linspace(-1, 1, 9)
    np.testing.assert_allclose(
        model.xi(q), sum(c * c * q**p for p, c in coefficients.items()), rtol=1e-14, atol=0
    )
    assert model.xi(1.0) == pytest.approx(sum(c * c for c in coefficients.values()), rel=1e-14)
    energies = energies_over_seeds(make, states.astype(dtype), range(N_SEEDS))
    assert_covariances(energies, expected, f"isotropic {spec} {dtype}")


# --------------------------------------------------------------------------- coupling distribution
def _moments_check(z, what):
    """z should be iid N(0, 1): mean, variance and kurtosis within 4 standard errors."""
    m = z.size
    assert abs(z.mean()) < Z_MAX / np.sqrt(m), f"{what}: mean {z.mean():.4g}"
    var = z.var()
    assert abs(var - 1) < Z_MAX * np.sqrt(2 / m), (
        f"{what}: variance {var:.4g}, expected 1 (m = {m})"
    )
    kurt = np.mean((z - z.mean()) ** 4) / var**2
    assert abs(kurt - 3) < Z_MAX * np.sqrt(24 / m) + 0.05, (
        f"{what}: kurtosis {kurt:.4g}, expected 3"
    )
    lag = np.mean(z[1:] * z[:-1])
    assert abs(lag) < Z_MAX / np.sqrt(m), f"{what}: neighbouring couplings correlated ({lag:.4g})"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls", [pspin.SphericalPSpin, pspin.IsingPSpin])
def test_distinct_couplings_are_gaussian_with_convention_variance(cls, dtype):
    """One large sample: J_{i<j<k} ~ N(0, p!/(2 n^(p-1))) c_p, iid."""
    n = 60
    spec = {2: 0.5, 3: 1.5}
    model = cls(n, spec, seed=77, dtype=dtype)
    blocks = {}
    for p, c in spec.items():
        k = model.packed_couplings(p).astype(np.float64)
        assert k.size == math.comb(n, p)
        blocks[p] = k / (c * np.sqrt(math.factorial(p) / (2 * n ** (p - 1))))
        _moments_check(blocks[p], f"{cls.__name__} degree {p}")
    # blocks of different degrees are independent streams
    m = min(b.size for b in blocks.values())
    corr = np.mean(blocks[2][:m] * blocks[3][:m])
    assert abs(corr) < Z_MAX / np.sqrt(m)


def test_isotropic_couplings_variance_by_multiplicity_class():
    """Var K_t = c_p^2 multinomial(t) / (2 n^(p-1)), multinomial(t) = p!/prod m_i!."""
    n, p, c = 40, 3, 1.7
    model = pspin.SphericalPSpin(n, {p: c}, seed=3, ensemble="isotropic")
    idx = np.array([(i, j, k) for i in range(n) for j in range(i, n) for k in range(j, n)])
    k = model.packed_couplings(p).astype(np.float64)
    assert k.size == len(idx) == math.comb(n + p - 1, p)
    distinct_count = (idx[:, 0] != idx[:, 1]).astype(int) + (idx[:, 1] != idx[:, 2]).astype(int)
    multinomial = np.select(
        [distinct_count == 2, distinct_count == 1], [6.0, 3.0], 1.0
    )  # ijk, iij, iii
    z = k / (c * np.sqrt(multinomial / (2 * n ** (p - 1))))
    _moments_check(z, "all tuples")
    for cls_count in (2, 1, 0):
        sel = z[distinct_count == cls_count]
        var = sel.var()
        assert abs(var - 1) < Z_MAX * np.sqrt(2 / sel.size) + 1e-12, (
            f"class {cls_count}: variance {var:.4g}"
        )


def test_different_seeds_are_uncorrelated():
    a = pspin.SphericalPSpin(40, 3, seed=1).packed_couplings(3)
    b = pspin.SphericalPSpin(40, 3, seed=2).packed_couplings(3)
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < Z_MAX / np.sqrt(a.size)


# --------------------------------------------------------------------------- random states
def test_random_states_uniform_on_sphere():
    """E[s s^T] = I for s uniform on |s|^2 = n; |s|^2 = n for each draw."""
    n, m = 6, 20000
    model = pspin.SphericalPSpin(n, 2, seed=0)
    s = model.random_state(m, seed=4)
    assert s.shape == (m, n) and s.dtype == np.float64
    np.testing.assert_allclose(np.einsum("bi,bi->b", s, s), n, rtol=1e-13)
    second = s.T @ s / m
    # Var(s_i s_j) = E[s_i^2 s_j^2] = n/(n+2) (i != j), E[s_i^4] - 1 = 3n/(n+2) - 1 (i == j)
    se_off = np.sqrt(n / (n + 2) / m)
    se_diag = np.sqrt((3 * n / (n + 2) - 1) / m)
    off = second - np.diag(np.diag(second))
    assert np.abs(off).max() < Z_MAX * se_off
    assert np.abs(np.diag(second) - 1).max() < Z_MAX * se_diag
    assert np.abs(s.mean(axis=0)).max() < Z_MAX / np.sqrt(m)


def test_random_ising_states_balanced():
    n, m = 8, 20000
    model = pspin.IsingPSpin(n, 2, seed=0)
    s = model.random_state(m, seed=4)
    assert set(np.unique(s)) == {-1.0, 1.0}
    assert np.abs(s.mean(axis=0)).max() < Z_MAX / np.sqrt(m)
    corr = s.T @ s / m - np.eye(n)
    assert np.abs(corr).max() < Z_MAX / np.sqrt(m)
