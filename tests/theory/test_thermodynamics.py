"""Paramagnet, 1RSB, T_d, T_s and the equilibrium complexity (theory.md sec. c)."""

from __future__ import annotations

import math

import numpy as np
import pspin.theory as th
import pytest

S_INF = 0.5 * (1.0 + math.log(2.0 * math.pi))


def test_published_transition_temperatures_p3():
    # [lit] T_d = sqrt(3/8) (Crisanti-Horner-Sommers 1993; Cugliandolo-Kurchan 1993)
    assert th.dynamical_temperature(3) == pytest.approx(math.sqrt(3.0 / 8.0), rel=1e-12)
    assert round(th.dynamical_temperature(3), 7) == 0.6123724
    # [lit] T_s = 0.586 (Crisanti-Sommers 1992)
    assert round(th.static_temperature(3), 3) == 0.586


@pytest.mark.parametrize(
    "p, Td, qd, Ts, qs, eTd, eTs",
    [  # theory.md sec. T, rows c (theory_numbers.py)
        (3, 0.6123724, 0.5, 0.5860540, 0.6450075, -0.8164966, -0.8531637),
        (4, 0.5443311, 2.0 / 3.0, 0.5030394, 0.8045218, -0.9185587, -0.9939580),
    ],
)
def test_transition_table(p, Td, qd, Ts, qs, eTd, eTs):
    assert th.dynamical_temperature(p) == pytest.approx(Td, abs=6e-8)
    assert th.dynamical_plateau(p) == pytest.approx(qd, abs=1e-12)
    assert th.static_temperature(p) == pytest.approx(Ts, abs=6e-8)
    assert th.static_overlap(p) == pytest.approx(qs, abs=6e-8)
    assert th.paramagnetic_energy(th.dynamical_temperature(p), p) == pytest.approx(eTd, abs=6e-8)
    assert th.paramagnetic_energy(th.static_temperature(p), p) == pytest.approx(eTs, abs=6e-8)
    exact = math.sqrt(p * (p - 2) ** (p - 2) / (2 * (p - 1) ** (p - 1)))
    assert th.dynamical_temperature(p) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("p", [3, 4, 5])
def test_equilibrium_complexity_endpoints(p):
    Td, Ts = th.dynamical_temperature(p), th.static_temperature(p)
    # Sigma_eq(T_d) equals the complexity of threshold minima (pure model)
    assert th.equilibrium_complexity(Td, p) == pytest.approx(
        th.complexity(th.threshold_energy(p), p, 0), abs=1e-9
    )
    assert abs(th.equilibrium_complexity(Ts, p)) < 1e-9
    T = np.linspace(Ts, Td, 7)
    sig = th.equilibrium_complexity(T, p)
    assert np.all(np.diff(sig) > 0)
    assert th.equilibrium_complexity(0.5 * Ts, p) == 0.0
    assert th.equilibrium_complexity(1.01 * Td, p) == -np.inf


def test_paramagnet_consistency():
    T = np.array([0.3, 0.7, 1.5])
    model = {3: 0.6, 5: 0.8}
    xi1 = 0.36 + 0.64
    f = th.paramagnetic_free_energy(T, model)
    np.testing.assert_allclose(f, -T * S_INF - xi1 / (4 * T))
    np.testing.assert_allclose(th.paramagnetic_energy(T, model), -xi1 / (2 * T))
    np.testing.assert_allclose(
        th.paramagnetic_entropy(T, model), (th.paramagnetic_energy(T, model) - f) / T
    )
    np.testing.assert_allclose(
        th.paramagnetic_free_energy(T, 3, sphere_entropy=False), -1 / (4 * T)
    )


def _beta_f(T, p):
    return th.one_rsb_solution(T, p).free_energy / T


@pytest.mark.parametrize("p", [3, 4])
@pytest.mark.parametrize("T", [0.05, 0.25, 0.45])
def test_one_rsb_energy_is_derivative_of_beta_f(p, T):
    # e = d(beta f)/d(beta), central differences in beta (error ~ h^2 ~ 1e-10)
    beta, h = 1.0 / T, 1e-5 / T
    fd = (_beta_f(1.0 / (beta + h), p) - _beta_f(1.0 / (beta - h), p)) / (2 * h)
    assert fd == pytest.approx(th.one_rsb_solution(T, p).energy, abs=1e-8)


@pytest.mark.parametrize("p", [3, 4])
def test_one_rsb_limits(p):
    Ts = th.static_temperature(p)
    # continuity with the paramagnet at T_s (m -> 1)
    below = th.one_rsb_solution(Ts * (1 - 1e-9), p)
    assert below.m == pytest.approx(1.0, abs=1e-6)
    assert below.q == pytest.approx(th.static_overlap(p), abs=1e-6)
    assert below.free_energy == pytest.approx(th.paramagnetic_free_energy(Ts, p), abs=1e-9)
    above = th.one_rsb_solution(1.2 * Ts, p)
    assert (above.q, above.m) == (0.0, 1.0)
    assert above.energy == pytest.approx(th.paramagnetic_energy(1.2 * Ts, p), rel=1e-15)
    # T -> 0: e -> e_gs linearly (1e-3 * O(1)), m ~ mu T
    low = th.one_rsb_solution(np.array([1e-3, 2e-3]), p)
    slope = (low.energy[1] - low.energy[0]) / 1e-3
    assert low.energy[0] - 1e-3 * slope == pytest.approx(th.ground_state_energy(p), abs=2e-6)
    assert th.ground_state_energy_1rsb(p) == pytest.approx(th.ground_state_energy(p), abs=1e-9)
    # the 1RSB free energy lies above the paramagnetic continuation below T_s
    T = 0.8 * Ts
    assert th.one_rsb_solution(T, p).free_energy > th.paramagnetic_free_energy(T, p)


def test_mixed_1rsb_transitions():
    model = {3: math.sqrt(0.5), 4: math.sqrt(0.5)}
    Td, Ts = th.dynamical_temperature(model), th.static_temperature(model)
    assert Ts < Td
    assert abs(th.equilibrium_complexity(Ts, model)) < 1e-9
    assert th.equilibrium_complexity(Td, model) > 0
    # a model with a continuous transition has no 1RSB plateau
    with pytest.raises(ValueError, match="continuous"):
        th.dynamical_temperature(2)
