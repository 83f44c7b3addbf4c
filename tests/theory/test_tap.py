"""TAP free energy and complexity of the pure spherical p-spin (theory.md sec. g)."""

from __future__ import annotations

import math

import numpy as np
import pspin.theory as th
import pytest


@pytest.mark.parametrize("p", [3, 4])
def test_tap_minimum_is_paramagnet(p):
    # min_E [f_TAP - T Sigma_0] = -1/(4T) for T_s < T < T_d (theory.md g, check i)
    Ts, Td = th.static_temperature(p), th.dynamical_temperature(p)
    for T in np.linspace(Ts, Td, 6):
        E, phi = th.tap_equilibrium_state(T, p, sphere_entropy=False)
        assert phi == pytest.approx(-1.0 / (4.0 * T), abs=1e-10)
        assert th.ground_state_energy(p) - 1e-12 <= E <= th.threshold_energy(p) + 1e-12
        _, phi_abs = th.tap_equilibrium_state(T, p)
        assert phi_abs == pytest.approx(th.paramagnetic_free_energy(T, p), abs=1e-10)
    # the dominant states run from e_gs at T_s to e_th at T_d (check ii)
    assert th.tap_equilibrium_state(Ts, p)[0] == pytest.approx(th.ground_state_energy(p), abs=1e-6)
    assert th.tap_equilibrium_state(Td, p)[0] == pytest.approx(th.threshold_energy(p), abs=1e-6)


@pytest.mark.parametrize("p, T, value", [(3, 0.5926, -0.4218458), (4, 0.5237, -0.4773860)])
def test_tap_minimum_table(p, T, value):
    # theory.md sec. T rows g: min_E [f_TAP - T Sigma0] at T printed to 4 digits
    Ts, Td = th.static_temperature(p), th.dynamical_temperature(p)
    T_exact = Ts + (Td - Ts) * {3: 1, 4: 2}[p] / 4.0
    assert T_exact == pytest.approx(T, abs=6e-5)
    assert th.tap_equilibrium_state(T_exact, p, sphere_entropy=False)[1] == pytest.approx(
        value, abs=6e-8
    )


@pytest.mark.parametrize("p", [3, 4])
def test_harmonic_low_temperature_limit(p):
    # f_TAP -> E + (T/2)(<ln lambda> - ln(2 pi T)) with O(T^2) corrections (check iii)
    e = th.ground_state_energy(p)
    for T in (1e-3, 1e-4):
        harmonic = e + 0.5 * T * (th.mean_log_eigenvalue(e, p) - math.log(2 * math.pi * T))
        assert th.tap_free_energy(e, T, p) == pytest.approx(harmonic, abs=20 * T * T)
    # theory.md sec. T rows h (CC TAP normalisation, no sphere entropy)
    ref = {3: -1.1711105, 4: -1.2680264}[p]
    assert th.tap_free_energy(e, 1e-4, p, sphere_entropy=False) == pytest.approx(ref, abs=6e-8)


def test_tap_state_structure():
    p, T = 3, 0.4
    E = np.array([-1.25, -1.2, -1.17])
    q = th.tap_overlap(E, T, p)
    y = th.tap_stability_parameter(E, p)
    np.testing.assert_allclose(q**0.5 * (1 - q), T * y, rtol=1e-13)
    assert np.all(q >= 1.0 / 3.0)
    # df/dE at fixed T is q^(p/2) (f is stationary in q)
    h = 1e-6
    slope = (th.tap_free_energy(E + h, T, p) - th.tap_free_energy(E - h, T, p)) / (2 * h)
    np.testing.assert_allclose(slope, q**1.5, rtol=1e-8)
    # T_max: q reaches (p-2)/p there
    Tm = th.tap_max_temperature(-1.2, p)
    assert th.tap_overlap(-1.2, Tm, p) == pytest.approx(1.0 / 3.0, abs=1e-7)
    with pytest.raises(ValueError, match="T_max"):
        th.tap_overlap(-1.2, 1.01 * Tm, p)
    assert th.tap_max_temperature(th.threshold_energy(3), 3) == pytest.approx(2.0 / 3.0, rel=1e-12)
    # T_max decreases with E
    assert np.all(np.diff(th.tap_max_temperature(E, p)) < 0)


def test_tap_complexity_is_parametric():
    p, T = 3, 0.55
    E = np.array([-1.19, -1.17, -1.16])
    f = th.tap_free_energy(E, T, p)
    np.testing.assert_allclose(th.tap_complexity(f, T, p), th.complexity(E, p, 0), atol=1e-11)
    assert th.tap_complexity(f[-1] + 0.1, T, p) == -np.inf
    with pytest.raises(ValueError, match="threshold"):
        th.tap_free_energy(-1.0, 0.3, p)
    with pytest.raises(ValueError, match="pure"):
        th.tap_free_energy(-1.2, 0.3, {3: 0.8, 4: 0.6})
