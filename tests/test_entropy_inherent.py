"""Inherent structures quenched from tempering snapshots, and the configurational entropy.

Checks are independent of the quench code: gradients, Hessian spectra and one-flip
energy changes recomputed from the model, the ground state from many random descents,
and exact enumeration for the Ising entropy.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pspin
import pytest
from pspin._results import load
from pspin.entropy.configurational import ConfigurationalEntropy, configurational_entropy
from pspin.entropy.inherent import InherentStructures, inherent_structures
from pspin.entropy.thermodynamics import harmonic_entropy
from pspin.sampling import ParallelTempering
from scipy.special import logsumexp


@pytest.fixture(scope="module")
def spherical_run():
    model = pspin.SphericalPSpin(32, 3, seed=1)
    temps = np.geomspace(0.4, 2.0, 5)
    result = ParallelTempering(model, temps, replicas=2, seed=2).run(3000, burn_in=500, snapshot_every=50)
    return model, result, inherent_structures(result, keep_states=True)


@pytest.fixture(scope="module")
def ising_run():
    model = pspin.IsingPSpin(24, 2, seed=3)
    temps = np.geomspace(0.3, 2.0, 5)
    result = ParallelTempering(model, temps, replicas=2, seed=4).run(3000, burn_in=500, snapshot_every=25)
    return model, result, inherent_structures(result, keep_states=True)


def _check_ordering(inh: InherentStructures, result) -> None:
    # Each quench descends from its snapshot; so do the means, beyond their errors.
    assert np.all(inh.energies_per_spin <= inh.parent_energies_per_spin + 1e-12)
    assert np.all(inh.mean_energy <= result.mean_energy_per_spin + 4 * result.energy_error)
    # <e_IS>(T) does not increase as T falls (within errors).
    e, err = inh.mean_energy, inh.mean_energy_error
    assert np.all(e[:-1] <= e[1:] + 4 * np.hypot(err[:-1], err[1:])), (e, err)


def test_spherical_inherent_structures_are_minima(spherical_run):
    model, result, inh = spherical_run
    R, K, S, n = result.snapshots.shape
    assert inh.energies_per_spin.shape == (R, K * S) and inh.hessian_eigenvalues.shape == (R, K * S, n - 1)
    assert inh.converged.all()
    states = inh.states.reshape(-1, n)
    np.testing.assert_allclose(model.energy(states) / n, inh.energies_per_spin.ravel(), rtol=0, atol=1e-12)
    grad = np.linalg.norm(model.riemannian_gradient(states), axis=1) / np.sqrt(n)
    assert grad.max() < 1e-9, grad.max()
    lam = inh.hessian_eigenvalues.reshape(-1, n - 1)
    assert lam.min() > 0
    for i in (0, 137, states.shape[0] - 1):
        np.testing.assert_allclose(lam[i], model.hessian_spectrum(states[i]), rtol=0, atol=1e-9)
    # Vibrational entropy: the mean of the harmonic entropies of the basins.
    direct = harmonic_entropy(inh.hessian_eigenvalues, inh.temperatures[:, None]).mean(axis=1)
    np.testing.assert_allclose(inh.vibrational_entropy, direct, rtol=1e-12)
    _check_ordering(inh, result)
    # No minimum below the ground state found by 800 random descents.
    ground = pspin.minimize(model, 800, seed=5, gtol=1e-10).energy_per_spin.min()
    assert inh.energies_per_spin.min() >= ground - 1e-10


def test_ising_inherent_structures_are_one_flip_stable(ising_run):
    model, result, inh = ising_run
    n = model.n
    assert inh.hessian_eigenvalues is None and inh.log_det_per_spin is None and inh.converged.all()
    states = inh.states.reshape(-1, n).astype(np.float64)
    energies = model.energy(states)
    np.testing.assert_allclose(energies / n, inh.energies_per_spin.ravel(), rtol=0, atol=1e-12)
    for i in range(n):
        flipped = states.copy()
        flipped[:, i] *= -1
        assert np.all(model.energy(flipped) >= energies - 1e-12)
    _check_ordering(inh, result)
    # The exact ground state of SK at n = 24 is not needed: descents from 4000 starts.
    ground = pspin.minimize(model, 4000, seed=6).energy_per_spin.min()
    assert inh.energies_per_spin.min() >= ground - 1e-12
    with pytest.raises(ValueError, match="Hessian"):
        _ = inh.vibrational_entropy


def test_inherent_bad_input(spherical_run):
    model, result, _ = spherical_run
    plain = ParallelTempering(model, [0.5, 1.0], seed=1).run(20)
    with pytest.raises(ValueError, match="snapshot_every"):
        inherent_structures(plain)
    with pytest.raises(ValueError, match="not the model"):
        inherent_structures(result, pspin.SphericalPSpin(32, 3, seed=99))
    with pytest.raises(TypeError, match="PTResult"):
        inherent_structures(result.snapshots)
    with pytest.raises(ValueError, match="fit_points"):
        configurational_entropy(result, fit_points=1)


def test_inherent_round_trips(spherical_run, ising_run, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    for _, _, inh in (spherical_run, ising_run):
        assert load(inh.save(tmp_path / "is.h5")) == inh
        assert pickle.loads(pickle.dumps(inh)) == inh
        assert inh.plot() is not None
        dens, edges = inh.histogram(20)
        assert dens.shape == (inh.temperatures.size, 20)
        np.testing.assert_allclose((dens * np.diff(edges)).sum(axis=1), 1.0)


def test_configurational_entropy_spherical(spherical_run, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    model, result, inh = spherical_run
    ce = configurational_entropy(result, inh, reconstruction_options={"bins": 6, "min_count": 5})
    assert isinstance(ce, ConfigurationalEntropy)
    np.testing.assert_allclose(ce.configurational_entropy, ce.entropy - ce.vibrational_entropy)
    assert ce.static_temperature == pytest.approx(pspin.theory.static_temperature(3))
    assert ce.dynamical_temperature == pytest.approx(np.sqrt(3 / 8))
    theory = ce.theory_complexity
    assert np.all(theory[ce.temperatures > ce.dynamical_temperature] == -np.inf)
    assert ce.reconstruction is not None and ce.reconstruction.absolute
    assert load(ce.save(tmp_path / "ce.h5")) == ce
    assert pickle.loads(pickle.dumps(ce)) == ce
    assert ce.plot() is not None
    # the n -> inf complexity of minima at the reconstructed energies, for the overlay
    np.testing.assert_allclose(ce.theory_minima_complexity,
                               pspin.theory.complexity(ce.reconstruction.energies, 3, 0))
    assert ce.plot_reconstruction() is not None


def test_configurational_entropy_ising_total_entropy_matches_enumeration():
    """Ising: no s_vib, but s(T) by integration agrees with exact enumeration within errors."""
    model = pspin.IsingPSpin(12, 3, seed=8)
    temps = np.geomspace(0.4, 8.0, 12)
    result = ParallelTempering(model, temps, replicas=2, seed=9).run(12000, burn_in=1000, snapshot_every=20)
    ce = configurational_entropy(result)
    assert ce.configurational_entropy is None and ce.vibrational_entropy is None
    assert ce.inherent is not None and ce.kind == "ising"
    energies = model.energy(np.array(list(itertools.product((-1.0, 1.0), repeat=12))))
    log_z = np.array([logsumexp(-energies / t) for t in ce.temperatures])
    u = np.array([np.exp(-energies / t - lz) @ energies for t, lz in zip(ce.temperatures, log_z)])
    exact = (log_z + u / ce.temperatures) / 12
    ti = ce.thermodynamics
    assert np.all(np.abs(ce.entropy - exact) < 4.5 * ce.entropy_error + ti.integration_error + ti.tail_error), (
        ce.entropy - exact, ce.entropy_error)
