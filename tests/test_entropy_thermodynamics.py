"""Thermodynamic integration, the sphere's entropy and the harmonic basin entropy.

References are independent of the code under test: exact Boltzmann sums over all 2^n
Ising states (numpy log-sum-exp), the closed-form annealed paramagnet of the isotropic
spherical ensemble, the area of the sphere from elementary geometry, and a direct
quadrature of a Gaussian integral.
"""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pspin
import pytest
from pspin._results import load
from pspin.entropy.thermodynamics import (
    ThermodynamicIntegration,
    harmonic_entropy,
    high_temperature_moments,
    sphere_entropy,
    thermodynamic_integration,
)
from pspin.sampling import ParallelTempering, geometric_temperatures
from scipy.special import logsumexp


def exact_ising(model: pspin.IsingPSpin, temperatures: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u(T), s(T) and f(T) per spin by enumeration of all 2^n states."""
    n = model.n
    energies = model.energy(np.array(list(itertools.product((-1.0, 1.0), repeat=n))))
    u, s, f = [], [], []
    for t in temperatures:
        log_z = logsumexp(-energies / t)
        mean = np.exp(-energies / t - log_z) @ energies
        u.append(mean / n)
        s.append((log_z + mean / t) / n)
        f.append(-t * log_z / n)
    return np.array(u), np.array(s), np.array(f)


# ------------------------------------------------------------------ sphere entropy
def test_sphere_entropy_small_n_and_limit():
    assert sphere_entropy(1) == pytest.approx(math.log(2.0), rel=1e-14)  # two points
    assert sphere_entropy(2) == pytest.approx(math.log(2 * math.pi * math.sqrt(2)) / 2, rel=1e-14)  # circle, r = sqrt 2
    assert sphere_entropy(3) == pytest.approx(math.log(4 * math.pi * 3) / 3, rel=1e-14)  # 4 pi r^2, r^2 = 3
    assert sphere_entropy(4) == pytest.approx(math.log(2 * math.pi**2 * 4**1.5) / 4, rel=1e-14)  # 2 pi^2 r^3
    # Stirling: n (s(n) - s_inf) -> -ln(pi)/2, the next term -1/(6n).
    for n in (100, 10_000):
        assert n * (sphere_entropy(n) - pspin.theory.SPHERE_ENTROPY) == pytest.approx(-math.log(math.pi) / 2, abs=1.0 / n)
    with pytest.raises(ValueError):
        sphere_entropy(0)


# ------------------------------------------------------------------ thermodynamic integration
def test_ti_ising_exact_enumeration_within_stated_errors():
    model = pspin.IsingPSpin(12, 2, seed=5)
    mean, variance, variance_error = high_temperature_moments(model)
    energies = model.energy(np.array(list(itertools.product((-1.0, 1.0), repeat=12))))
    assert mean == 0.0 and variance_error == 0.0
    assert variance == pytest.approx(energies.var() / 12, rel=1e-12)
    worst = []
    for points in (15, 30, 60):
        temps = np.geomspace(0.2, 10.0, points)
        u, s, f = exact_ising(model, temps)
        ti = thermodynamic_integration(temps, u, model=model)
        assert ti.s_infinity == math.log(2.0)
        bound = ti.integration_error + ti.tail_error + 1e-12
        assert np.all(np.abs(ti.entropy - s) <= bound), (np.abs(ti.entropy - s), bound)
        np.testing.assert_allclose(ti.free_energy, f, rtol=0, atol=10 * bound.max())
        assert np.all(ti.entropy_error == 0)
        worst.append(np.abs(ti.entropy - s).max())
    # The spline converges: the error falls by well over 4x per halving of the spacing
    # until the O(beta_0^4) tail (~1e-6 here) is reached.
    assert worst[1] < worst[0] / 16 and worst[2] < 2e-6, worst


def test_ti_from_tempering_matches_exact_within_propagated_errors():
    model = pspin.IsingPSpin(12, 2, seed=7)
    temps = geometric_temperatures(0.3, 8.0, 14)
    res = ParallelTempering(model, temps, replicas=2, seed=3).run(20000, burn_in=2000)
    ti = thermodynamic_integration(res.temperatures, res.mean_energy_per_spin, errors=res.energy_error, model=model)
    _, s, f = exact_ising(model, res.temperatures)
    bound = 4.5 * ti.entropy_error + ti.integration_error + ti.tail_error
    assert np.all(np.abs(ti.entropy - s) < bound), (ti.entropy - s, bound)
    assert np.all(np.abs(ti.free_energy - f) < 4.5 * ti.free_energy_error + res.temperatures * (bound - 4.5 * ti.entropy_error))
    # Errors: the exact propagation of independent errors through the linear functional.
    assert np.allclose(np.sqrt(np.diag(ti.entropy_covariance)), ti.entropy_error)
    assert np.all(ti.entropy_error > 0)


def test_ti_isotropic_spherical_paramagnet_closed_form():
    """Isotropic ensemble: E[Z] = |S| exp(beta^2 n xi(1)/4) exactly, so the annealed
    u = -beta xi(1)/2 and s = sphere_entropy(n) - xi(1)/(4 T^2)."""
    n, xi1 = 64, 1.0
    temps = np.geomspace(0.7, 6.0, 9)
    u = -xi1 / (2 * temps)
    ti = thermodynamic_integration(temps, u, variance=xi1 / 2, s_infinity=sphere_entropy(n))
    np.testing.assert_allclose(ti.entropy, sphere_entropy(n) - xi1 / (4 * temps**2), rtol=0, atol=1e-13)
    np.testing.assert_allclose(ti.free_energy, u - temps * ti.entropy, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ti.free_energy, -temps * sphere_entropy(n) - xi1 / (4 * temps), rtol=0, atol=1e-13)
    assert ti.tail_error < 1e-15


def test_high_temperature_moments_spherical():
    """Distinct ensemble: exact sphere moments; isotropic: Monte Carlo around xi(1)/2."""
    model = pspin.SphericalPSpin(10, 3, seed=2)
    states = model.random_state(200_000, seed=1)
    h = model.energy(states)
    m, v, dv = high_temperature_moments(model)
    assert m == 0.0 and dv == 0.0
    err = math.sqrt((np.mean((h - h.mean()) ** 4) - h.var() ** 2) / h.size) / 10
    assert abs(h.var() / 10 - v) < 4.5 * err, (h.var() / 10, v, err)
    iso = pspin.SphericalPSpin(10, 3, seed=2, ensemble="isotropic")
    m, v, dv = high_temperature_moments(iso, samples=4096, seed=3)
    assert dv > 0 and abs(m) < 1.0 and 0.0 < v < 5.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperatures": [1.0, 2.0], "energies_per_spin": [1.0]}, "as many"),
        ({"temperatures": [1.0, -2.0]}, "positive"),
        ({"temperatures": [1.0, 1.0]}, "distinct"),
        ({"errors": [0.1, -0.1]}, "errors"),
        ({"variance": None}, "variance"),
        ({"variance": 0.5, "model": pspin.IsingPSpin(4, 2, seed=0)}, "either"),
        ({"energies_per_spin": [np.nan, 1.0]}, "finite"),
    ],
)
def test_ti_bad_input(kwargs, match):
    args = {"temperatures": [1.0, 2.0], "energies_per_spin": [-0.5, -0.25], "variance": 0.5, "s_infinity": 0.7, **kwargs}
    with pytest.raises(ValueError, match=match):
        thermodynamic_integration(args.pop("temperatures"), args.pop("energies_per_spin"), **args)


def test_ti_result_round_trips(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    model = pspin.IsingPSpin(8, 2, seed=1)
    temps = np.geomspace(0.5, 5.0, 6)
    u, _, _ = exact_ising(model, temps)
    ti = thermodynamic_integration(temps, u, errors=np.full(6, 1e-3), model=model)
    assert isinstance(ti, ThermodynamicIntegration)
    assert load(ti.save(tmp_path / "ti.h5")) == ti
    assert pickle.loads(pickle.dumps(ti)) == ti
    assert ti.plot() is not None


# ------------------------------------------------------------------ harmonic entropy
def test_harmonic_entropy_equals_gaussian_quadrature():
    """n = 3 (two tangent modes): s n = ln Z + beta U for Z = int d^2x exp(-beta x.Ax/2),
    computed by direct quadrature of a non-diagonal positive-definite A."""
    A = np.array([[1.3, 0.4], [0.4, 0.6]])
    T = 0.7
    x = np.linspace(-8.0, 8.0, 1601)
    dx = x[1] - x[0]
    X, Y = np.meshgrid(x, x, indexing="ij")
    q = 0.5 * (A[0, 0] * X**2 + 2 * A[0, 1] * X * Y + A[1, 1] * Y**2)
    w = np.exp(-q / T)
    z = w.sum() * dx * dx
    entropy = math.log(z) + (w * q).sum() * dx * dx / z / T
    s = harmonic_entropy(np.linalg.eigvalsh(A), T)
    assert 3 * s == pytest.approx(entropy, abs=1e-9)
    # Vectorised: (R, M, n-1) eigenvalues against (R, 1) temperatures.
    lam = np.abs(np.random.default_rng(0).normal(size=(2, 5, 7))) + 0.1
    temps = np.array([[0.5], [1.0]])
    out = harmonic_entropy(lam, temps)
    assert out.shape == (2, 5)
    assert out[1, 3] == pytest.approx(sum(0.5 * math.log(2 * math.pi / v) + 0.5 for v in lam[1, 3]) / 8)


@pytest.mark.parametrize(("lam", "T", "match"), [([1.0, 0.0], 1.0, "non-positive"), ([1.0, -2.0], 1.0, "non-positive"),
                                                 ([1.0, 2.0], 0.0, "positive"), ([], 1.0, "n - 1")])
def test_harmonic_entropy_bad_input(lam, T, match):
    with pytest.raises(ValueError, match=match):
        harmonic_entropy(lam, T)


# ------------------------------------------------------------------ SKT reconstruction
def _synthetic_minima(seed: int, volumes: bool) -> dict:
    """A REM-like landscape with known Sigma(e) = S0 - (e - e0)^2/(2 w^2) at n = 50.

    Minima are drawn from P(e, ln V | T) proportional to exp(n Sigma(e) - beta n e) V
    times the volume's own spread: ln V = mu(e, T) + tau xi over the minima at e, so the
    sampled (volume-biased) ln V is N(mu + tau^2, tau^2) and the e-marginal is
    exp(n Sigma - beta n e + mu + tau^2/2), sampled on a fine grid. ln Z by quadrature.
    """
    n, s0, e0, w = 50, 0.2, -1.0, 0.15
    kappa, tau = (0.3, 0.5) if volumes else (0.0, 0.0)
    temps = np.array([0.5, 0.6, 0.75, 0.9, 1.1])
    grid = np.linspace(-3.0, 1.0, 400_001)
    rng = np.random.default_rng(seed)
    energies, log_v, log_z = [], [], []
    for t in temps:
        mu = kappa * n * (grid - e0) + (0.5 * (n - 1) * np.log(t) if volumes else 0.0)
        log_w = n * (s0 - (grid - e0) ** 2 / (2 * w * w)) - n * grid / t + mu + tau**2 / 2
        log_z.append(logsumexp(log_w) + np.log(grid[1] - grid[0]))
        e = rng.choice(grid, size=20_000, p=np.exp(log_w - logsumexp(log_w)))
        energies.append(e)
        log_v.append(kappa * n * (e - e0) + 0.5 * (n - 1) * np.log(t) + tau**2 + tau * rng.standard_normal(e.size))
    return {"temps": temps, "n": n, "energies": energies, "log_v": log_v if volumes else None,
            "log_z": np.array(log_z), "sigma": lambda e: s0 - (e - e0) ** 2 / (2 * w * w)}


@pytest.mark.parametrize("volumes", [False, True])
def test_skt_reconstruction_recovers_known_complexity(volumes):
    from pspin.entropy.reconstruction import reconstruct_complexity

    case = _synthetic_minima(seed=1, volumes=volumes)
    rec = reconstruct_complexity(case["temps"], case["energies"], case["n"], log_volume=case["log_v"], ln_z=case["log_z"])
    assert rec.absolute and rec.energies.size >= 25
    z = (rec.complexity - case["sigma"](rec.energies)) / rec.complexity_error
    assert np.all(np.abs(z) < 4.0), z
    # chi^2 of the known curve (bins correlated through the join: a loose 4-sigma band).
    assert np.mean(z**2) < 1.0 + 4.0 * np.sqrt(2.0 / z.size), np.mean(z**2)
    # The pieces of different temperatures agree with one another and with ln Z(T).
    assert rec.chi2 < rec.dof + 4.0 * np.sqrt(2.0 * rec.dof), (rec.chi2, rec.dof)
    assert rec.offset_chi2 < rec.offset_dof + 4.0 * np.sqrt(2.0 * rec.offset_dof)
    # Without ln Z: the same curve up to one constant.
    rel = reconstruct_complexity(case["temps"], case["energies"], case["n"], log_volume=case["log_v"])
    assert not rel.absolute and rel.complexity.max() == 0.0
    diff = rel.complexity - case["sigma"](rel.energies)
    weights = 1.0 / rel.complexity_error**2
    constant = np.sum(weights * diff) / np.sum(weights)
    assert np.mean((diff - constant) ** 2 * weights) < 1.0 + 4.0 * np.sqrt(2.0 / diff.size)


def test_skt_volume_bias_is_removed_by_the_harmonic_mean():
    """Using the mean of ln V over the sampled minima (instead of the harmonic mean) would
    shift n Sigma by tau^2/2 = 0.125 for tau = 0.5: the reconstruction must not."""
    from pspin.entropy.reconstruction import reconstruct_complexity

    case = _synthetic_minima(seed=2, volumes=True)
    rec = reconstruct_complexity(case["temps"], case["energies"], case["n"], log_volume=case["log_v"], ln_z=case["log_z"])
    err = np.sqrt(1.0 / np.sum(rec.complexity_error**-2))
    bias = np.sum((rec.complexity - case["sigma"](rec.energies)) / rec.complexity_error**2) * err**2
    assert abs(bias) < 4.0 * err + 1e-12 and 0.125 / 50 > 8 * err, (bias, err)


def test_skt_bad_input_and_round_trip(tmp_path):
    import matplotlib
    from pspin.entropy.reconstruction import ComplexityReconstruction, reconstruct_complexity

    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    far = [rng.normal(-1.0, 0.01, 2000), rng.normal(-0.5, 0.01, 2000)]
    with pytest.raises(ValueError, match="overlap"):
        reconstruct_complexity([0.5, 1.0], far, 50)
    with pytest.raises(ValueError, match="one set per temperature"):
        reconstruct_complexity([0.5, 1.0], far[:1], 50)
    with pytest.raises(ValueError, match="one value per minimum"):
        reconstruct_complexity([0.5, 1.0], far, 50, log_volume=[np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match="ln_z"):
        reconstruct_complexity([0.5, 1.0], far, 50, ln_z=[1.0])
    case = _synthetic_minima(seed=3, volumes=False)
    rec = reconstruct_complexity(case["temps"], case["energies"], case["n"], ln_z=case["log_z"])
    assert isinstance(rec, ComplexityReconstruction)
    assert load(rec.save(tmp_path / "skt.h5")) == rec
    assert pickle.loads(pickle.dumps(rec)) == rec
    assert rec.plot() is not None
