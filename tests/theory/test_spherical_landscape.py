"""Annealed complexity, threshold, ground state and layers of spherical models.

Reference numbers: theory.md (pspin shared reference) sec. b and e, computed by
theory_numbers.py from the ABC13 closed forms; [lit] where a published value exists.
ABC units: u = sqrt(2) e (Auffinger-Ben Arous-Cerny, arXiv:1003.1129).
"""

from __future__ import annotations

import math

import numpy as np
import pspin.theory as th
import pytest

S2 = math.sqrt(2.0)


# --- independent closed forms (ABC13 Thm 2.5 / 2.8, ABC units) used as a cross-check ---
def _abc_einf(p):
    return 2.0 * math.sqrt((p - 1.0) / p)


def _abc_i1(u, p):
    E = _abc_einf(p)
    s = math.sqrt(u * u - E * E)
    return -u / E**2 * s - math.log(-u + s) + math.log(E)


def _abc_theta_k(u, p, k):
    if u <= -_abc_einf(p):
        return 0.5 * math.log(p - 1) - (p - 2) / (4 * (p - 1)) * u * u - (k + 1) * _abc_i1(u, p)
    return 0.5 * math.log(p - 1) - (p - 2) / p


def _abc_theta_all(u, p):
    base = 0.5 * math.log(p - 1) - (p - 2) / (4 * (p - 1)) * u * u
    if u <= -_abc_einf(p):
        return base - _abc_i1(u, p)
    return base if u <= 0 else 0.5 * math.log(p - 1)


def test_published_ground_state_p3():
    # [lit] ABC13: E_0(p=3) = 1.657 (ABC units); Subag 2017 shows it is the GS energy.
    assert round(-S2 * th.ground_state_energy(3), 3) == 1.657


@pytest.mark.parametrize(
    "p, E_inf, E_0, E_1, theta0_inf, theta_inf",
    [  # theory.md b.6 (theory_numbers.py), ABC units
        (3, 1.6329932, 1.6569984, 1.6528732, 0.0132403, 0.3465736),
        (4, 1.7320508, 1.7940850, 1.7833003, 0.0493061, 0.5493061),
        (5, 1.7888544, 1.8879888, 1.8705756, 0.0931472, 0.6931472),
    ],
)
def test_landscape_table(p, E_inf, E_0, E_1, theta0_inf, theta_inf):
    assert -S2 * th.threshold_energy(p) == pytest.approx(E_inf, abs=6e-8)
    assert -S2 * th.ground_state_energy(p) == pytest.approx(E_0, abs=6e-8)
    assert -S2 * th.layer_energy(p, 1) == pytest.approx(E_1, abs=6e-8)
    assert th.cumulative_complexity(10.0, p, 0) == pytest.approx(theta0_inf, abs=6e-8)
    assert th.cumulative_complexity(10.0, p) == pytest.approx(theta_inf, abs=6e-8)


def test_cc_energies():
    # theory.md b.6, CC table
    assert th.ground_state_energy(3) == pytest.approx(-1.1716748, abs=6e-8)
    assert th.threshold_energy(3) == pytest.approx(-1.1547005, abs=6e-8)
    assert th.threshold_energy(3) == pytest.approx(-math.sqrt(4.0 / 3.0), rel=1e-14)
    assert th.ground_state_energy(4) == pytest.approx(-1.2686097, abs=6e-8)
    assert th.ground_state_energy(5) == pytest.approx(-1.3350097, abs=6e-8)


@pytest.mark.parametrize("p", [3, 4, 5, 7])
def test_matches_abc_closed_forms(p):
    E = _abc_einf(p)
    us = np.concatenate([np.linspace(-2.5, -E - 1e-6, 13), np.linspace(-E, 2.0, 9)])
    for u in us:
        assert th.complexity(u / S2, p) == pytest.approx(
            _abc_theta_all(-abs(u), p)
            if u > 0 and u > E
            else (
                _abc_theta_all(u, p)
                if u <= 0
                else 0.5 * math.log(p - 1) - (p - 2) * u * u / (4 * (p - 1))
            ),
            abs=1e-12,
        )
        for k in (0, 1, 3):
            got = th.complexity(u / S2, p, k)
            if u <= -E:
                assert got == pytest.approx(_abc_theta_k(u, p, k), abs=1e-12)
            else:
                assert got == -np.inf
            assert th.cumulative_complexity(u / S2, p, k) == pytest.approx(
                _abc_theta_k(u, p, k), abs=1e-12
            )
        assert th.cumulative_complexity(u / S2, p) == pytest.approx(_abc_theta_all(u, p), abs=1e-12)


def test_theory_md_sample_values():
    # theory.md sec. T (theory_numbers.py), ABC units
    assert th.complexity(-1.70 / S2, 3, 0) == pytest.approx(-0.0304457, abs=6e-8)
    assert th.complexity(-1.66 / S2, 3, 0) == pytest.approx(-0.0018967, abs=6e-8)
    for u, v in ((-1.5, 0.0653236), (-1.0, 0.2215736), (-0.5, 0.3153236)):
        assert th.complexity(u / S2, 3) == pytest.approx(v, abs=6e-8)
    for u, v in ((-1.5, 0.1743061), (-1.0, 0.3826395), (-0.5, 0.5076395)):
        assert th.complexity(u / S2, 4) == pytest.approx(v, abs=6e-8)


@pytest.mark.parametrize("p", [3, 4, 5])
def test_internal_identities(p):
    e_th, e_gs = th.threshold_energy(p), th.ground_state_energy(p)
    # zero of the minima complexity, and continuity at the threshold
    assert abs(th.complexity(e_gs, p, 0)) < 1e-12
    below = th.complexity(e_th * (1 + 1e-10), p, 0)
    at = th.complexity(e_th, p, 0)
    assert at == pytest.approx(0.5 * math.log(p - 1) - (p - 2) / p, abs=1e-12)
    assert abs(below - at) < 1e-8
    assert th.complexity(e_th, p) == pytest.approx(at, abs=1e-12)  # minima dominate there
    assert th.complexity(e_th * (1 - 1e-9), p, 0) == -np.inf
    # layers: e_0 < e_1 < e_2 < ... < e_th
    layers = [th.layer_energy(p, k) for k in range(5)]
    assert layers[0] == e_gs
    assert all(a < b for a, b in zip(layers, layers[1:]))
    assert layers[-1] < e_th
    # the 1RSB T -> 0 limit is an independent route to the same energy
    assert th.ground_state_energy_1rsb(p) == pytest.approx(e_gs, abs=1e-9)
    # H -> -H symmetry of the all-index density
    e = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(th.complexity(e, p), th.complexity(-e, p), atol=1e-13)


def test_p2_degenerate():
    # spherical SK: e_gs = e_th = -1, no exponential number of critical points
    assert th.threshold_energy(2) == pytest.approx(-1.0, abs=1e-15)
    assert th.ground_state_energy(2) == pytest.approx(-1.0, abs=1e-15)
    assert th.complexity(0.3, 2) == pytest.approx(0.0, abs=1e-15)


def test_vectorised_and_scalar_types():
    e = np.array([[-1.2, -1.0], [-0.5, 0.0]])
    out = th.complexity(e, 3)
    assert out.shape == (2, 2)
    assert isinstance(th.complexity(-1.0, 3), float)
    np.testing.assert_allclose(out.ravel(), [th.complexity(x, 3) for x in e.ravel()])
    assert th.complexity(e, {3: 0.8, 4: 0.6}, 0).shape == (2, 2)


# --- mixed models (theory.md e.2; numbers from theory_numbers.py, [derived]) ---
@pytest.mark.parametrize(
    "c2, E_inf, naive, zero, at_inf",
    [
        ({2: 0.5, 3: 0.5}, 1.5500000, 1.6000000, 1.5570944, 0.0025018),
        ({3: 0.5, 4: 0.5}, 1.6904762, 1.7142857, 1.7330696, 0.0294870),
        ({3: 0.9, 4: 0.1}, 1.6461486, 1.657449, 1.6737507, 0.0161130),  # naive printed to 6 digits
    ],
)
def test_mixed_table(c2, E_inf, naive, zero, at_inf):
    model = {d: math.sqrt(v) for d, v in c2.items()}
    e_th = th.threshold_energy(model)
    assert -S2 * e_th == pytest.approx(E_inf, abs=6e-8)
    _nu, nu1, nu2 = (
        sum(c2.values()),
        sum(p * v for p, v in c2.items()),
        sum(p * (p - 1) * v for p, v in c2.items()),
    )
    assert 2 * math.sqrt(nu2) / nu1 == pytest.approx(naive, abs=6e-7)
    assert abs(E_inf - naive) > 1e-2  # the correct threshold is not the naive one
    assert -S2 * th.ground_state_energy(model) == pytest.approx(zero, abs=6e-8)
    assert th.complexity(e_th, model, 0) == pytest.approx(at_inf, abs=6e-8)
    # at the threshold the unconstrained radial multiplier sits at the spectral edge
    R = th.kac_rice_parameters(model)["R"]
    assert th.radial_multiplier(e_th, model) == pytest.approx(-R, rel=1e-9)
    assert th.complexity(e_th, model) == pytest.approx(th.complexity(e_th, model, 0), abs=1e-12)
    # below threshold minima dominate; above, fixed-index points are rarer than all points
    assert th.complexity(e_th - 0.01, model) == pytest.approx(
        th.complexity(e_th - 0.01, model, 0), abs=1e-12
    )
    assert th.complexity(e_th + 0.01, model, 0) < th.complexity(e_th + 0.01, model)


def test_mixed_reduces_to_pure():
    # a vanishing second component approaches the pure closed form continuously
    e = np.linspace(-1.3, -0.2, 12)
    almost = {3: 1.0, 4: 1e-4}
    np.testing.assert_allclose(th.complexity(e, almost), th.complexity(e, 3), atol=2e-6)
    assert th.threshold_energy(almost) == pytest.approx(th.threshold_energy(3), abs=1e-6)
    assert th.ground_state_energy(almost) == pytest.approx(th.ground_state_energy(3), abs=1e-6)


def test_scaled_single_degree():
    # {p: c} is the pure model with energies scaled by c, complexities unchanged
    c = 1.7
    assert th.threshold_energy({3: c}) == pytest.approx(c * th.threshold_energy(3), rel=1e-13)
    assert th.ground_state_energy({3: c}) == pytest.approx(c * th.ground_state_energy(3), rel=1e-12)
    assert th.complexity(-1.1 * c, {3: c}, 0) == pytest.approx(th.complexity(-1.1, 3, 0), abs=1e-12)


def test_cumulative_is_running_max():
    for model in (3, {3: 0.8, 4: 0.6}):
        for k in (None, 0, 2):
            e_star, peak = th.complexity_peak(model, k)
            # the grid must contain the peak, where the running max stops growing
            e = np.sort(np.append(np.linspace(-1.5, 0.5, 401), e_star))
            dens = np.asarray(th.complexity(e, model, k))
            cum = np.asarray(th.cumulative_complexity(e, model, k))
            np.testing.assert_allclose(cum, np.maximum.accumulate(dens), atol=1e-12)
            assert cum[-1] == pytest.approx(peak, abs=1e-12)
