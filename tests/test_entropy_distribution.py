"""pspin.entropy.minima_distribution: routes, index against energy, overlaps, basins."""

from __future__ import annotations

import numpy as np
import pspin
import pytest
from pspin import theory
from pspin.entropy import MinimaDistribution, census, minima_distribution


def test_routes_land_on_minima_above_the_ground_state():
    m = pspin.SphericalPSpin(40, 3, seed=2)
    c = census(m, 120, seed=1)
    d = minima_distribution(m, 120, routes=("lbfgs", "gd", "anneal"), seed=5, census_result=c,
                            anneal_schedule=np.geomspace(1.5, 0.05, 60))
    assert set(d.routes) == {"lbfgs", "gd", "anneal"}
    # the L-BFGS route is the census, each start counted once
    assert d.routes["lbfgs"].size == c.hits.sum() == 120
    np.testing.assert_allclose(np.sort(d.routes["lbfgs"]), np.sort(np.repeat(c.energy_per_spin, c.hits)))
    lowest = c.energy_per_spin.min()
    for name, e in d.routes.items():
        assert e.size > 0.9 * 120, name
        # every endpoint is at or above the lowest minimum found, to the descent's accuracy
        assert np.all(e >= lowest - 1e-6), name
    assert d.ground_state_energy == pytest.approx(theory.ground_state_energy(3))
    assert d.threshold_energy == pytest.approx(theory.threshold_energy(3))
    k = len(c)
    assert d.overlaps.shape == (k * (k - 1) // 2,)
    assert np.all(np.abs(d.overlaps) < 1 - 1e-6)  # distinct minima
    np.testing.assert_array_equal(d.basin_sizes, c.hits)


def test_index_against_energy_follows_the_semicircle_ordering():
    """Plain Newton from random starts finds critical points of many indices; higher-index
    points lie higher in energy on average (the index fraction grows with e, theory.index_fraction)."""
    m = pspin.SphericalPSpin(16, 3, seed=3, ensemble="isotropic")
    d = minima_distribution(m, 40, routes=("lbfgs",), seed=1, index_starts=200)
    assert d.critical_energies.size >= 20
    assert np.all((d.critical_index >= 0) & (d.critical_index <= 15))
    corr = np.corrcoef(d.critical_energies, d.critical_index)[0, 1]
    assert corr > 0.8
    # minima from the census are the lowest-index points
    assert np.all(d.critical_energies[d.critical_index == 0] < 0)


def test_ising_distribution_and_landmarks():
    m = pspin.IsingPSpin(64, 2, seed=1)
    d = minima_distribution(m, 200, routes=("lbfgs", "anneal"), seed=2, anneal_schedule=np.geomspace(2, 0.1, 50))
    assert d.ground_state_energy == pytest.approx(-0.763166, abs=1e-6)  # SK ground state (Parisi)
    assert d.threshold_energy == pytest.approx(-0.5060545, abs=1e-6)  # typical one-flip-stable (TE)
    # annealing then descent reaches lower states than descent from random starts
    assert d.routes["anneal"].mean() < d.routes["lbfgs"].mean()


def test_save_load_and_plots(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    m = pspin.SphericalPSpin(12, 3, seed=1)
    d = minima_distribution(m, 30, seed=1, index_starts=20, routes=("lbfgs", "gd"))
    d.save(tmp_path / "d.h5")
    back = pspin.load(tmp_path / "d.h5")
    assert isinstance(back, MinimaDistribution) and back == d and list(back.routes) == list(d.routes)
    d.plot()
    d.plot_index(p=3)
    d.plot_overlaps()
    d.plot_basins()


def test_bad_input():
    sph = pspin.SphericalPSpin(10, 3, seed=1)
    ising = pspin.IsingPSpin(10, 2, seed=1)
    with pytest.raises(ValueError, match="allowed"):
        minima_distribution(sph, 10, routes=("newton",))
    with pytest.raises(ValueError, match="spherical"):
        minima_distribution(ising, 10, routes=("gd",))
    with pytest.raises(ValueError, match="n = 12"):
        minima_distribution(sph, 10, census_result=census(pspin.SphericalPSpin(12, 3, seed=1), 5, seed=1))
    with pytest.raises(ValueError, match="n_starts"):
        minima_distribution(sph, 0)
