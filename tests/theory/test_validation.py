"""Bad input raises clear errors before any work (design.md, Errors)."""

from __future__ import annotations

import math

import numpy as np
import pspin.theory as th
import pytest


@pytest.mark.parametrize("p", [1, 0, -3])
def test_p_too_small(p):
    with pytest.raises(ValueError, match=">= 2"):
        th.threshold_energy(p)


@pytest.mark.parametrize("p", [2.5, 3.0, "3", True, None, [3]])
def test_p_wrong_type(p):
    with pytest.raises(TypeError, match="p must be|integer"):
        th.complexity(-1.0, p)


@pytest.mark.parametrize(
    "p, exc, match",
    [
        ({}, ValueError, "empty"),
        ({3: 0.0}, ValueError, "all coefficients are zero"),
        ({1: 1.0, 3: 1.0}, ValueError, ">= 2"),
        ({3.5: 1.0}, TypeError, "integer"),
        ({3: math.nan}, ValueError, "finite"),
        ({3: "a"}, TypeError, "real number"),
        ({True: 1.0}, TypeError, "integer"),
    ],
)
def test_bad_mixtures(p, exc, match):
    with pytest.raises(exc, match=match):
        th.ground_state_energy(p)


def test_numpy_integer_degree_is_accepted():
    assert th.threshold_energy(np.int64(3)) == th.threshold_energy(3)
    assert th.threshold_energy({np.int32(3): np.float32(1.0)}) == th.threshold_energy(3)


@pytest.mark.parametrize("e", [math.nan, [0.1, math.inf], np.array([-1.0, np.nan])])
def test_non_finite_energies(e):
    with pytest.raises(ValueError, match="finite"):
        th.complexity(e, 3)
    with pytest.raises(ValueError, match="finite"):
        th.hessian_semicircle(e, 3)


@pytest.mark.parametrize("T", [0.0, -0.5, [0.5, 0.0], math.nan, math.inf])
def test_bad_temperatures(T):
    for func in (
        th.paramagnetic_free_energy,
        th.paramagnetic_energy,
        th.equilibrium_complexity,
        th.one_rsb_solution,
        th.ising_equilibrium_complexity,
    ):
        with pytest.raises(ValueError):
            func(T, 3)
    with pytest.raises(ValueError):
        th.tap_free_energy(-1.2, T, 3)


def test_bad_index_and_sizes():
    with pytest.raises(ValueError, match=">= 0"):
        th.complexity(-1.2, 3, index=-1)
    with pytest.raises(TypeError, match="index"):
        th.complexity(-1.2, 3, index=1.5)
    with pytest.raises(TypeError, match="index"):
        th.complexity(-1.2, 3, index=True)
    with pytest.raises(TypeError):
        th.layer_energy(3, None)
    with pytest.raises(ValueError, match=">= 2"):
        th.expected_critical_points(1, 3)
    with pytest.raises(TypeError, match="integer"):
        th.expected_critical_points(10.0, 3)
    with pytest.raises(ValueError, match="40"):
        th.expected_critical_points(500, 3)
    with pytest.raises(ValueError, match="e_lo <= e_hi"):
        th.expected_critical_points(5, 3, energy_range=(0.0, -1.0))
    with pytest.raises(TypeError, match="pair"):
        th.expected_critical_points(5, 3, energy_range=1.0)
    with pytest.raises(ValueError, match=">= 2"):
        th.expected_one_flip_stable(1)
    with pytest.raises(TypeError):
        th.expected_one_flip_stable(8.0)


def test_pure_only_functions_reject_mixtures():
    with pytest.raises(ValueError, match="pure"):
        th.tap_max_temperature(-1.2, {3: 0.6, 4: 0.8})
    with pytest.raises(ValueError, match="T_s"):
        th.tap_equilibrium_state(0.3, 3)
