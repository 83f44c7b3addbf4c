"""Ising models: SK, Tanaka-Edwards one-flip-stable states, Ising p-spin 1RSB, REM."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pspin.theory as th
import pytest


def test_sk_reference_values():
    assert th.SK_CRITICAL_TEMPERATURE == 1.0  # Sherrington-Kirkpatrick 1975
    # [lit] Parisi full-RSB ground state: -0.76317 (Crisanti-Rizzo 2002), -0.763166
    # (Oppermann-Schmidt-Sherrington 2007; Schmidt-Oppermann 2008)
    assert th.sk_ground_state_energy() == pytest.approx(-0.76317, abs=5e-6)
    # [lit] replica-symmetric -sqrt(2/pi) = -0.7979 (SK 1975); theory.md f.1: -0.7978846
    assert round(th.sk_replica_symmetric_ground_state_energy(), 4) == -0.7979
    assert th.sk_replica_symmetric_ground_state_energy() == pytest.approx(-0.7978846, abs=6e-8)
    # theory.md f.1: 1RSB with q0 = 0 at T = 0 (a bound, not Parisi's value)
    assert th.ising_ground_state_energy_1rsb(2) == pytest.approx(-0.7688280, abs=6e-8)


def test_tanaka_edwards():
    # [lit] Tanaka-Edwards 1980 / Bray-Moore 1980: 0.1992
    assert round(th.one_flip_stable_complexity(), 4) == 0.1992
    assert th.one_flip_stable_complexity() == pytest.approx(0.1992285, abs=6e-8)  # theory.md f.3
    assert th.one_flip_stable_typical_energy() == pytest.approx(-0.5060545, abs=6e-8)


@pytest.mark.parametrize(
    "n, value",
    # theory.md f.3 / sec. T (theory_numbers.py, adaptive quadrature)
    [(4, 2.3958024), (8, 5.2265044), (12, 11.549367), (16, 25.578078), (20, 56.691342)],
)
def test_expected_one_flip_stable_values(n, value):
    assert th.expected_one_flip_stable(n) == pytest.approx(value, rel=2e-8)


def test_expected_one_flip_stable_limits():
    assert th.expected_one_flip_stable(2) == 2.0
    # (1/n) ln E N_s approaches the Tanaka-Edwards value from above
    rates = [math.log(th.expected_one_flip_stable(n)) / n for n in (50, 200, 800)]
    assert rates[0] > rates[1] > rates[2] > th.one_flip_stable_complexity()
    assert rates[2] == pytest.approx(th.one_flip_stable_complexity(), abs=3e-3)


def test_one_flip_stable_by_enumeration():
    # Exhaustive enumeration of all 2^n states over seeded SK samples (theory.md F:
    # the identity was also checked this way for n = 8, 12).
    n, samples = 7, 4000
    rng = np.random.default_rng(2024)
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))  # (2^n, n)
    J = rng.standard_normal((samples, n, n)) / math.sqrt(n)
    J = np.triu(J, 1)
    J = J + np.swapaxes(J, 1, 2)
    fields = np.einsum("bij,sj->bsi", J, states)
    stable = np.all(states[None] * fields >= 0.0, axis=2).sum(axis=1)
    mean, se = stable.mean(), stable.std() / math.sqrt(samples)
    assert abs(mean - th.expected_one_flip_stable(n)) < 4.5 * se


def test_ising_p3_1rsb():
    # [lit] Montanari-Ricci-Tersenghi 2003 / Gardner 1985: T_d = 0.682, T_s = 0.651
    Td, Ts = th.ising_dynamical_temperature(3), th.ising_static_temperature(3)
    assert round(Td, 3) == 0.682
    assert round(Ts, 3) == 0.651
    # theory.md f.4 (theory_numbers.py; its T_d bisection is good to ~1e-7)
    assert Td == pytest.approx(0.6815981, abs=2e-7)
    assert Ts == pytest.approx(0.6513852, abs=6e-8)
    assert abs(th.ising_equilibrium_complexity(Ts, 3)) < 1e-9
    sig = th.ising_equilibrium_complexity(np.linspace(Ts, Td, 5), 3)
    assert np.all(np.diff(sig) > 0)
    assert th.ising_equilibrium_complexity(1.01 * Td, 3) == -np.inf
    assert th.ising_equilibrium_complexity(0.9 * Ts, 3) == 0.0
    with pytest.raises(ValueError, match="continuous"):
        th.ising_dynamical_temperature(2)


@pytest.mark.parametrize(
    "p, e", [(3, -0.8135350), (4, -0.8254705), (5, -0.8296293), (10, -0.8324950)]
)
def test_ising_1rsb_ground_states(p, e):
    # theory.md f.4 (T = 0, q0 = 0; not cross-checked against literature)
    assert th.ising_ground_state_energy_1rsb(p) == pytest.approx(e, abs=6e-8)


def test_rem_limit():
    # Derrida's REM in this normalisation (E[H^2] = N/2)
    assert th.rem_critical_temperature() == pytest.approx(0.6005612, abs=6e-8)
    assert th.rem_ground_state_energy() == pytest.approx(-0.8325546, abs=6e-8)
    assert th.ising_ground_state_energy_1rsb(1000) == pytest.approx(
        th.rem_ground_state_energy(), abs=1e-6
    )
    assert th.rem_entropy(th.rem_ground_state_energy()) == pytest.approx(0.0, abs=1e-15)
    assert th.rem_entropy(-1.0) == -np.inf
    # T_c: the paramagnetic entropy ln 2 - 1/(4T^2) vanishes there
    Tc = th.rem_critical_temperature()
    assert math.log(2.0) - 1.0 / (4 * Tc * Tc) == pytest.approx(0.0, abs=1e-15)
    assert th.ising_paramagnetic_free_energy(2.0, 3) == pytest.approx(
        -2 * math.log(2) - 1 / 8.0, rel=1e-15
    )
