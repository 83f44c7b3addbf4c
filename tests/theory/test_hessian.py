"""Riemannian Hessian semicircle at a critical point (theory.md sec. d, theory_numbers.py)."""

from __future__ import annotations

import math

import numpy as np
import pspin.theory as th
import pytest
from scipy.integrate import quad


@pytest.mark.parametrize("p, R", [(3, 3.4641016), (4, 4.8989795)])
def test_radius(p, R):
    c, radius = th.hessian_semicircle(-1.0, p)
    assert radius == pytest.approx(R, abs=6e-8)
    assert radius == pytest.approx(math.sqrt(2 * p * (p - 1)), rel=1e-15)
    assert c == pytest.approx(p, rel=1e-15)  # centre -p e


@pytest.mark.parametrize(
    "p, e, frac",
    [(3, -1.0, 0.028834), (3, -0.5, 0.233210), (4, -1.0, 0.045861), (4, -0.5, 0.247513)],
)
def test_index_fraction(p, e, frac):
    # theory.md sec. T, rows d
    assert th.index_fraction(e, p) == pytest.approx(frac, abs=6e-7)


def test_edges_and_gap():
    for p, gap in ((3, 0.050923), (4, 0.175459)):
        assert th.smallest_eigenvalue(th.ground_state_energy(p), p) == pytest.approx(gap, abs=6e-7)
        # minima are marginal at the threshold
        assert th.smallest_eigenvalue(th.threshold_energy(p), p) == pytest.approx(0.0, abs=1e-13)
        assert th.index_fraction(th.threshold_energy(p), p) == pytest.approx(0.0, abs=1e-13)
    # above 0 energy the majority of directions are unstable
    assert th.index_fraction(0.0, 3) == pytest.approx(0.5, abs=1e-15)
    assert th.index_fraction(1.0, 3) == pytest.approx(1 - th.index_fraction(-1.0, 3), abs=1e-14)


@pytest.mark.parametrize(
    "p, mean_log, mean_inv", [(3, 1.0755543, 0.4864789), (4, 1.4559441, 0.3126325)]
)
def test_log_and_inverse_moments(p, mean_log, mean_inv):
    e = th.ground_state_energy(p)
    c, R = th.hessian_semicircle(e, p)
    assert th.mean_log_eigenvalue(e, p) == pytest.approx(mean_log, abs=6e-8)
    assert th.mean_inverse_eigenvalue(e, p) == pytest.approx(mean_inv, abs=6e-8)
    # against direct quadrature of the density
    dens = lambda lam: th.hessian_density(lam, e, p)
    assert quad(lambda lam: np.log(lam) * dens(lam), c - R, c + R, limit=200)[0] == pytest.approx(
        th.mean_log_eigenvalue(e, p), abs=1e-9
    )
    assert quad(lambda lam: dens(lam) / lam, c - R, c + R, limit=200)[0] == pytest.approx(
        th.mean_inverse_eigenvalue(e, p), abs=1e-9
    )
    assert quad(dens, c - R, c + R)[0] == pytest.approx(1.0, abs=1e-10)
    # <1/lambda> is the TAP stability variable y(E)
    assert th.tap_stability_parameter(e, p) == pytest.approx(
        th.mean_inverse_eigenvalue(e, p), rel=1e-13
    )


def test_mean_inverse_needs_minima():
    with pytest.raises(ValueError, match="threshold"):
        th.mean_inverse_eigenvalue(-1.0, 3)


def test_mixed_centre_from_radial_multiplier():
    model = {3: 0.8, 4: 0.6}
    e = np.array([-1.3, -1.0, -0.4])
    c, R = th.hessian_semicircle(e, model)
    np.testing.assert_allclose(c, -np.asarray(th.radial_multiplier(e, model)))
    assert R == pytest.approx(math.sqrt(2 * (0.64 * 6 + 0.36 * 12)), rel=1e-15)
    # marginal at the mixed threshold too
    assert th.smallest_eigenvalue(th.threshold_energy(model), model) == pytest.approx(0.0, abs=1e-9)
