"""Spherical landscape (issue 4): minimize, critical_points, unique_states, spectra.

Every check here uses an independent reference, not the code under test:
- numpy ``einsum`` on the dense couplings ``model.tensors()`` for energies, gradients and
  Hessians (H = -(1/p!) T[s, ..., s], so grad H = -(1/(p-1)!) T[., s, ..., s]);
- an explicit orthonormal tangent basis (``scipy.linalg.null_space`` of s^T) for the
  Riemannian Hessian P (hess H) P - (s . grad H / n) P on the n - 1 tangent directions;
- the exact solution of p = 2 (spherical SK, a quadratic form on the sphere): its critical
  points are +-sqrt(n) v_j for the eigenvectors v_j of the coupling matrix J; the energy per
  spin is -lambda_j / 2 and the tangent Hessian has eigenvalues lambda_j - lambda_i (i != j),
  so the eigenvector of the k-th largest eigenvalue has index k (numpy.linalg.eigh).

Conventions (design.md): H = -sum_{i<j<k} J s_i s_j s_k, |s|^2 = n, energies total,
"per spin" = H / n, gradient norms reported as |grad_sph H| / sqrt(n).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pspin
import pytest
from pspin.landscape import smallest_hessian_eigenvalues
from scipy.linalg import null_space

# ---------------------------------------------------------------------------------------------
# Independent references (numpy only)
# ---------------------------------------------------------------------------------------------


def _contract(tensor: np.ndarray, s: np.ndarray, times: int) -> np.ndarray:
    """T contracted ``times`` times with s on its trailing axes."""
    out = tensor
    for _ in range(times):
        out = out @ s
    return out


def ref_energy(tensor: np.ndarray, s: np.ndarray) -> float:
    p = tensor.ndim
    return -float(_contract(tensor, s, p)) / math.factorial(p)


def ref_gradient(tensor: np.ndarray, s: np.ndarray) -> np.ndarray:
    p = tensor.ndim
    return -_contract(tensor, s, p - 1) / math.factorial(p - 1)


def ref_hessian(tensor: np.ndarray, s: np.ndarray) -> np.ndarray:
    p = tensor.ndim
    return -_contract(tensor, s, p - 2) / math.factorial(p - 2)


def ref_riemannian_gradient(tensor: np.ndarray, s: np.ndarray) -> np.ndarray:
    g = ref_gradient(tensor, s)
    return g - s * (s @ g) / (s @ s)


def ref_tangent_spectrum(tensor: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The n - 1 eigenvalues of the Riemannian Hessian on the tangent space, ascending."""
    g = ref_gradient(tensor, s)
    q = null_space(s[None, :])  # (n, n-1), orthonormal, orthogonal to s
    h = q.T @ ref_hessian(tensor, s) @ q - (s @ g) / (s @ s) * np.eye(q.shape[1])
    return np.linalg.eigvalsh(0.5 * (h + h.T))


def ref_grad_norm_per_spin(tensor: np.ndarray, s: np.ndarray) -> float:
    return float(np.linalg.norm(ref_riemannian_gradient(tensor, s)) / math.sqrt(s.size))


def einsum_p3(tensor: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy, gradient, Hessian of H = -(1/6) T_ijk s_i s_j s_k, written out with einsum."""
    e = -np.einsum("ijk,i,j,k->", tensor, s, s, s) / 6.0
    g = -np.einsum("ijk,j,k->i", tensor, s, s) / 2.0
    h = -np.einsum("ijk,k->ij", tensor, s)
    return float(e), g, h


N_SMALL = 12
P = 3


@pytest.fixture(scope="module")
def model() -> pspin.SphericalPSpin:
    return pspin.SphericalPSpin(N_SMALL, P, seed=20240601)


@pytest.fixture(scope="module")
def tensor(model) -> np.ndarray:
    return model.tensors()[P]


@pytest.fixture(scope="module")
def lbfgs_minima(model) -> pspin.Minima:
    return pspin.minimize(model, 24, method="lbfgs", gtol=1e-9, seed=11)


@pytest.fixture(scope="module")
def gd_minima(model) -> pspin.Minima:
    return pspin.minimize(model, 12, method="gd", gtol=1e-7, seed=12, record_every=1)


# ---------------------------------------------------------------------------------------------
# Minima: gradient small, tangent Hessian positive, checked three ways
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["lbfgs", "gd"])
def test_minima_are_minima(which, model, tensor, lbfgs_minima, gd_minima):
    res = lbfgs_minima if which == "lbfgs" else gd_minima
    gtol = res.params["gtol"]
    n = model.n
    assert res.converged.all(), res.grad_norm
    assert res.states.shape == (len(res.energies), n)
    for s, energy, gn in zip(res.states, res.energies, res.grad_norm):
        assert s @ s == pytest.approx(n, rel=1e-12)
        # energy: model, einsum, explicit contraction
        e_ein, g_ein, h_ein = einsum_p3(tensor, s)
        assert energy == pytest.approx(e_ein, rel=1e-11, abs=1e-11)
        assert energy == pytest.approx(ref_energy(tensor, s), rel=1e-11, abs=1e-11)
        # the reported gradient norm is the true one, and below gtol
        ref_gn = ref_grad_norm_per_spin(tensor, s)
        assert gn == pytest.approx(ref_gn, rel=1e-6, abs=1e-13)
        assert ref_gn < gtol
        # the model's own Riemannian gradient agrees with einsum
        rg_ein = g_ein - s * (s @ g_ein) / n
        np.testing.assert_allclose(model.riemannian_gradient(s), rg_ein, atol=1e-11)
        assert np.linalg.norm(model.riemannian_gradient(s)) / math.sqrt(n) < gtol
        # tangent Hessian: model spectrum == einsum spectrum, and positive definite
        q = null_space(s[None, :])
        h_tan = q.T @ h_ein @ q - (s @ g_ein) / n * np.eye(n - 1)
        lam_ein = np.linalg.eigvalsh(0.5 * (h_tan + h_tan.T))
        lam_model = model.hessian_spectrum(s)
        assert lam_model.shape == (n - 1,)
        np.testing.assert_allclose(lam_model, lam_ein, atol=1e-9)
        assert lam_ein[0] > 1e-6, f"not a minimum: smallest tangent eigenvalue {lam_ein[0]}"


def test_minima_result_consistency(model, lbfgs_minima):
    res = lbfgs_minima
    np.testing.assert_allclose(model.energy(res.states), res.energies, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(res.energy_per_spin, res.energies / model.n, rtol=1e-15)
    assert res.iterations.dtype.kind == "i"
    assert (res.iterations >= 1).all()


def test_gd_trajectory_non_increasing(model, gd_minima):
    traj = gd_minima.trajectory
    assert traj is not None
    assert traj.shape[0] == len(gd_minima.energies)
    for row, e_end, iters in zip(traj, gd_minima.energy_per_spin, gd_minima.iterations):
        vals = row[~np.isnan(row)]
        # record_every=1: the start plus one entry per iteration, NaN padding only at the end
        assert len(vals) == iters + 1
        assert np.isnan(row[len(vals) :]).all()
        assert np.all(np.diff(vals) <= 1e-12), np.diff(vals).max()
        assert vals[-1] == pytest.approx(e_end, abs=1e-12)
        assert vals[0] > vals[-1]


def test_gd_trajectory_starts_at_initial_energy(model):
    s0 = model.random_state(3, seed=4)
    res = pspin.minimize(model, initial=s0, method="gd", record_every=2, max_iter=40)
    np.testing.assert_allclose(res.trajectory[:, 0], model.energy(s0) / model.n, rtol=1e-12)
    finite = np.isfinite(res.trajectory)
    assert np.all(
        np.diff(np.where(finite, res.trajectory, -np.inf), axis=1)[finite[:, 1:]] <= 1e-12
    )


def test_lbfgs_trajectory_non_increasing(model):
    """L-BFGS with an Armijo line search must also descend monotonically."""
    res = pspin.minimize(model, 8, method="lbfgs", seed=5, record_every=1)
    for row in res.trajectory:
        vals = row[~np.isnan(row)]
        assert np.all(np.diff(vals) <= 1e-12)


def test_lbfgs_and_gd_same_minimum_from_perturbed_minimum(model, tensor, lbfgs_minima):
    rng = np.random.default_rng(3)
    base = lbfgs_minima.states[:6]
    starts = base + 0.03 * rng.standard_normal(base.shape)
    a = pspin.minimize(model, initial=starts, method="lbfgs", gtol=1e-10)
    b = pspin.minimize(model, initial=starts, method="gd", gtol=1e-10)
    assert a.converged.all() and b.converged.all()
    q_ab = np.sum(a.states * b.states, axis=1) / model.n
    np.testing.assert_allclose(q_ab, 1.0, atol=1e-9)
    np.testing.assert_allclose(a.energies, b.energies, rtol=1e-12, atol=1e-12)
    # and both fall back into the minimum that was perturbed
    q_base = np.sum(a.states * base, axis=1) / model.n
    np.testing.assert_allclose(q_base, 1.0, atol=1e-8)


def test_minimum_is_fixed_point(model, lbfgs_minima):
    """Starting exactly at a converged minimum: nothing moves, converged at once."""
    s = lbfgs_minima.states[:3]
    for method in ("lbfgs", "gd"):
        res = pspin.minimize(model, initial=s, method=method, gtol=1e-6)
        assert res.converged.all()
        np.testing.assert_allclose(res.states, s, atol=1e-8)


def test_minimize_energies_not_above_start(model):
    s0 = model.random_state(16, seed=8)
    for method in ("lbfgs", "gd"):
        res = pspin.minimize(model, initial=s0, method=method)
        assert np.all(res.energies <= model.energy(s0) + 1e-12)


def test_minima_above_lowest_critical_point(model, lbfgs_minima):
    """No minimum lies below the ground state found by an exhaustive critical-point search."""
    cp = pspin.critical_points(model, 60, index=0, seed=2)
    gs = cp.energies[cp.converged].min()
    assert lbfgs_minima.energies.min() >= gs - 1e-10


# ---------------------------------------------------------------------------------------------
# Critical points of index k
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ensemble", ["distinct", "isotropic"])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_critical_points_index_k(ensemble, k):
    n = 10
    m = pspin.SphericalPSpin(n, 3, seed=77, ensemble=ensemble)
    t = m.tensors()[3]
    cp = pspin.critical_points(m, 12, index=k, seed=5)
    assert cp.states.shape == (12, n)
    assert cp.hessian_eigenvalues.shape == (12, n - 1)
    assert cp.converged.mean() >= 0.75, cp.converged
    good = cp.select(cp.converged)
    assert (good.grad_norm < 1e-12).all()
    assert (good.index == k).all(), good.index
    for s, energy, gn, lam in zip(
        good.states, good.energies, good.grad_norm, good.hessian_eigenvalues
    ):
        assert s @ s == pytest.approx(n, rel=1e-13)
        assert ref_grad_norm_per_spin(t, s) < 1e-12
        assert gn == pytest.approx(ref_grad_norm_per_spin(t, s), rel=0.5, abs=1e-14)
        e_ein, _, _ = einsum_p3(t, s)
        assert energy == pytest.approx(e_ein, rel=1e-12, abs=1e-12)
        lam_ref = ref_tangent_spectrum(t, s)
        np.testing.assert_allclose(lam, lam_ref, atol=1e-9)
        assert np.sum(lam_ref < 0) == k
        # non-degenerate: the index is well defined
        assert np.abs(lam_ref).min() > 1e-6


def test_critical_points_any_index_consistent(model, tensor):
    cp = pspin.critical_points(model, 16, seed=9)
    good = cp.select(cp.converged)
    assert len(good) >= 8
    for s, k, lam in zip(good.states, good.index, good.hessian_eigenvalues):
        lam_ref = ref_tangent_spectrum(tensor, s)
        assert np.sum(lam_ref < 0) == k
        np.testing.assert_allclose(lam, lam_ref, atol=1e-9)
        assert ref_grad_norm_per_spin(tensor, s) < 1e-12


def test_critical_points_minima_match_minimize(model, lbfgs_minima):
    """Every L-BFGS minimum, polished by Newton, is an index-0 critical point at the same place."""
    cp = pspin.critical_points(model, initial=lbfgs_minima.states, index=0)
    assert cp.converged.all() and (cp.index == 0).all()
    q = np.sum(cp.states * lbfgs_minima.states, axis=1) / model.n
    np.testing.assert_allclose(q, 1.0, atol=1e-8)
    np.testing.assert_allclose(cp.energies, lbfgs_minima.energies, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# p = 2: exact solution from numpy.linalg.eigh
# ---------------------------------------------------------------------------------------------

N_P2 = 10


@pytest.fixture(scope="module")
def p2():
    m = pspin.SphericalPSpin(N_P2, 2, seed=31)
    j = m.tensors()[2]
    assert np.allclose(j, j.T) and np.allclose(np.diag(j), 0.0)
    lam, vec = np.linalg.eigh(j)
    return m, j, lam[::-1], vec[:, ::-1]  # descending: column k has index k


def _match_eigenvector(s: np.ndarray, vec: np.ndarray) -> tuple[int, float]:
    q = vec.T @ s / np.sqrt(s.size)
    j = int(np.argmax(np.abs(q)))
    return j, float(abs(q[j]))


@pytest.mark.parametrize("k", [0, 1, 3, N_P2 - 1])
def test_p2_critical_points_are_eigenvectors(p2, k):
    m, _j, lam, vec = p2
    n = N_P2
    cp = pspin.critical_points(m, 6, index=k, seed=k)
    assert cp.converged.mean() >= 0.5
    good = cp.select(cp.converged)
    assert (good.index == k).all()
    expected_spectrum = np.sort(lam[k] - np.delete(lam, k))
    for s, energy, eigs in zip(good.states, good.energies, good.hessian_eigenvalues):
        which, overlap = _match_eigenvector(s, vec)
        assert which == k
        assert overlap == pytest.approx(1.0, abs=1e-12)
        assert energy / n == pytest.approx(-lam[k] / 2, rel=1e-12, abs=1e-13)
        np.testing.assert_allclose(eigs, expected_spectrum, atol=1e-10)


def test_p2_all_critical_points_found(p2):
    """Newton from many starts finds only +-eigenvectors, and with enough starts all 2n of them."""
    m, _j, _lam, vec = p2
    cp = pspin.critical_points(m, 200, seed=1)
    good = cp.select(cp.converged)
    labels = set()
    for s, k in zip(good.states, good.index):
        which, overlap = _match_eigenvector(s, vec)
        assert overlap == pytest.approx(1.0, abs=1e-12)
        assert k == which
        labels.add((which, int(np.sign(vec[:, which] @ s))))
    distinct = pspin.unique_states(good.states)
    assert len(distinct) == len(labels)
    assert len(pspin.unique_states(good.states, flip_symmetric=True)) == len({w for w, _ in labels})
    assert len(labels) <= 2 * N_P2
    assert len(labels) >= N_P2  # each of the n eigen-directions found at least once (p ~ 1)


@pytest.mark.parametrize("method", ["lbfgs", "gd"])
def test_p2_minimize_finds_top_eigenvector(p2, method):
    m, _j, lam, vec = p2
    n = N_P2
    res = pspin.minimize(m, 6, method=method, gtol=1e-9, seed=3)
    assert res.converged.all()
    for s, energy in zip(res.states, res.energies):
        which, overlap = _match_eigenvector(s, vec)
        assert which == 0
        assert overlap == pytest.approx(1.0, abs=1e-8)
        assert energy / n == pytest.approx(-lam[0] / 2, rel=1e-10)
        assert m.hessian_spectrum(s) == pytest.approx(np.sort(lam[0] - lam[1:]), abs=1e-6)
    # the minimum and its mirror image: two states, one up to s -> -s
    both = np.vstack([res.states, -res.states])
    assert len(pspin.unique_states(both, tol=1e-6)) == 2
    assert len(pspin.unique_states(both, flip_symmetric=True, tol=1e-6)) == 1


# ---------------------------------------------------------------------------------------------
# unique_states on constructed inputs
# ---------------------------------------------------------------------------------------------


def _rotate_towards(a: np.ndarray, b: np.ndarray, one_minus_q: float) -> np.ndarray:
    """A state with |x| = |a| and overlap x.a / |a|^2 = 1 - one_minus_q, in the (a, b) plane."""
    ua = a / np.linalg.norm(a)
    ub = b - ua * (ua @ b)
    ub /= np.linalg.norm(ub)
    theta = math.acos(1.0 - one_minus_q)
    return np.linalg.norm(a) * (math.cos(theta) * ua + math.sin(theta) * ub)


def test_unique_states_constructed():
    rng = np.random.default_rng(0)
    n = 50
    x = rng.standard_normal((3, n))
    a, b, c = x * np.sqrt(n) / np.linalg.norm(x, axis=1, keepdims=True)
    near_in = _rotate_towards(a, b, 1e-8)  # within tol=1e-6: the same state as a
    near_out = _rotate_towards(a, b, 1e-4)  # outside tol: a different state
    states = np.vstack([a, b, a, near_in, near_out, -a, c, b.copy()])
    out, rows = pspin.unique_states(states, tol=1e-6, return_index=True)
    np.testing.assert_array_equal(rows, [0, 1, 4, 5, 6])
    np.testing.assert_array_equal(out, states[rows])
    # flip symmetry: -a joins a
    _, rows_f = pspin.unique_states(states, tol=1e-6, flip_symmetric=True, return_index=True)
    np.testing.assert_array_equal(rows_f, [0, 1, 4, 6])
    # a looser tolerance merges near_out into a as well
    _, rows_loose = pspin.unique_states(states, tol=1e-3, return_index=True)
    np.testing.assert_array_equal(rows_loose, [0, 1, 5, 6])
    # the tolerance is on 1 - q with normalised states: scaling a row changes nothing
    scaled = states * rng.uniform(0.5, 2.0, size=(len(states), 1))
    _, rows_scaled = pspin.unique_states(scaled, tol=1e-6, return_index=True)
    np.testing.assert_array_equal(rows_scaled, [0, 1, 4, 5, 6])
    # no index by default
    assert isinstance(pspin.unique_states(states), np.ndarray)
    assert pspin.unique_states(a[None, :]).shape == (1, n)


def test_unique_states_symmetry_from_model(p2, model):
    """H(-s) = H(s) for p = 2 (even): s and -s are one state; for p = 3 they are two."""
    m2 = p2[0]
    s2 = m2.random_state(2, seed=1)
    both2 = np.vstack([s2, -s2])
    assert len(pspin.unique_states(both2, m2)) == 2
    assert len(pspin.unique_states(both2, m2, flip_symmetric=False)) == 4
    s3 = model.random_state(2, seed=1)
    assert len(pspin.unique_states(np.vstack([s3, -s3]), model)) == 4


def test_unique_states_bad_input():
    with pytest.raises(ValueError):
        pspin.unique_states(np.ones((3, 4)), tol=0.0)
    with pytest.raises(ValueError):
        pspin.unique_states(np.ones((3, 4)), tol=1.5)
    with pytest.raises(ValueError):
        pspin.unique_states(np.zeros((2, 4)))


# ---------------------------------------------------------------------------------------------
# Iterative smallest eigenvalues vs dense spectrum
# ---------------------------------------------------------------------------------------------


def test_smallest_hessian_eigenvalues_match_dense():
    m = pspin.SphericalPSpin(60, 3, seed=4)
    res = pspin.minimize(m, 1, seed=1)
    s = res.states[0]
    dense = m.hessian_spectrum(s)
    np.testing.assert_allclose(smallest_hessian_eigenvalues(m, s, k=3), dense[:3], atol=1e-8)
    # also at a random (non-critical) point, where there are negative eigenvalues
    s0 = m.random_state(seed=2)
    np.testing.assert_allclose(
        smallest_hessian_eigenvalues(m, s0, k=2), m.hessian_spectrum(s0)[:2], atol=1e-8
    )
    assert m.hessian_spectrum(s0)[0] < 0


# ---------------------------------------------------------------------------------------------
# Reproducibility: seeds and thread counts
# ---------------------------------------------------------------------------------------------


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_same_seed_bit_identical():
    m = pspin.SphericalPSpin(30, 3, seed=5)
    for method in ("lbfgs", "gd"):
        r1 = pspin.minimize(m, 6, method=method, seed=123, gtol=1e-5, record_every=7)
        r2 = pspin.minimize(m, 6, method=method, seed=123, gtol=1e-5, record_every=7)
        assert _digest(r1.states, r1.energies, r1.grad_norm, r1.iterations) == _digest(
            r2.states, r2.energies, r2.grad_norm, r2.iterations
        )
        np.testing.assert_array_equal(r1.trajectory, r2.trajectory)
        r3 = pspin.minimize(m, 6, method=method, seed=124, gtol=1e-5)
        assert not np.array_equal(r1.states, r3.states)
    c1 = pspin.critical_points(m, 3, index=1, seed=9)
    c2 = pspin.critical_points(m, 3, index=1, seed=9)
    assert _digest(c1.states, c1.energies) == _digest(c2.states, c2.energies)


THREAD_CODE = """
import hashlib, numpy as np, pspin
m = pspin.SphericalPSpin(48, 3, seed=2024)
h = hashlib.sha256()
for method in ("lbfgs", "gd"):
    r = pspin.minimize(m, 10, method=method, seed=7, gtol=1e-5, record_every=5)
    for a in (r.states, r.energies, r.grad_norm, r.iterations, r.converged, r.trajectory):
        h.update(np.ascontiguousarray(a).tobytes())
c = pspin.critical_points(m, 2, index=1, seed=3)
for a in (c.states, c.energies, c.index):
    h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""


def test_thread_count_bit_identical(run_python):
    # last line: an editable install may print its rebuild log first
    one = run_python(THREAD_CODE, {"OMP_NUM_THREADS": "1"}).strip().splitlines()[-1]
    two = run_python(THREAD_CODE, {"OMP_NUM_THREADS": "2"}).strip().splitlines()[-1]
    assert len(one) == 64
    assert one == two


# ---------------------------------------------------------------------------------------------
# Non-convergence is reported, never a silently wrong "minimum"
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["lbfgs", "gd"])
def test_max_iter_too_small_reports_not_converged(model, tensor, method):
    res = pspin.minimize(model, 8, method=method, seed=3, max_iter=2, gtol=1e-8)
    assert not res.converged.any()
    assert (res.iterations <= 2).all()
    for s, gn, energy in zip(res.states, res.grad_norm, res.energies):
        ref = ref_grad_norm_per_spin(tensor, s)
        assert ref > 1e-8
        assert gn == pytest.approx(ref, rel=1e-6)  # the reported norm is the true one
        assert energy == pytest.approx(ref_energy(tensor, s), rel=1e-11, abs=1e-11)


def test_critical_points_max_iter_too_small(model, tensor):
    cp = pspin.critical_points(model, 6, index=1, seed=3, max_iter=1)
    assert not cp.converged.any()
    for s, gn in zip(cp.states, cp.grad_norm):
        assert gn == pytest.approx(ref_grad_norm_per_spin(tensor, s), rel=1e-6)
        assert gn >= 1e-12


def test_gd_unstable_step_reports_not_converged(model):
    """Far above 2 / lambda_max the GD map is unstable: it must say so, not stop anywhere."""
    res = pspin.minimize(model, 6, method="gd", step=5.0, max_iter=500, seed=1)
    assert not res.converged.any()
    assert (res.grad_norm > 1e-6).all()


@pytest.mark.parametrize("method", ["gd", "lbfgs"])
def test_float32_reaches_modest_gtol(method):
    """float32 models: |grad_sph H|/sqrt(n) < 1e-4 is far above float32 rounding (~1e-7 per
    component), and GD reaches it from every start. L-BFGS should too; a line search that
    compares float32 total energies (resolution ~1e-7 |H|) stalls near 3e-4 instead."""
    m32 = pspin.SphericalPSpin(40, 3, seed=1, dtype="float32")
    res = pspin.minimize(m32, 8, seed=1, gtol=1e-4, method=method, step=0.2)
    assert res.converged.all(), (res.grad_norm, res.iterations)
    assert (res.grad_norm < 1e-4).all()


def test_converged_flag_matches_gtol(model, tensor):
    res = pspin.minimize(model, 8, method="gd", seed=6, gtol=1e-3)
    assert res.converged.all()
    assert (res.grad_norm < 1e-3).all()
    for s in res.states:
        assert ref_grad_norm_per_spin(tensor, s) < 1e-3


# ---------------------------------------------------------------------------------------------
# Bad input: clear errors before any work
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_starts", [0, -3])
def test_bad_n_starts(model, n_starts):
    with pytest.raises(ValueError, match="n_starts"):
        pspin.minimize(model, n_starts)
    with pytest.raises(ValueError, match="n_starts"):
        pspin.critical_points(model, n_starts)


def test_missing_starts(model):
    with pytest.raises(ValueError, match="n_starts"):
        pspin.minimize(model)
    with pytest.raises(ValueError, match="n_starts"):
        pspin.critical_points(model)


@pytest.mark.parametrize("gtol", [0.0, -1e-6, float("nan"), float("inf")])
def test_bad_gtol(model, gtol):
    with pytest.raises(ValueError, match="gtol"):
        pspin.minimize(model, 2, gtol=gtol)
    with pytest.raises(ValueError, match="gtol"):
        pspin.critical_points(model, 2, gtol=gtol)


@pytest.mark.parametrize("step", [0.0, -0.1, float("nan")])
def test_bad_step(model, step):
    with pytest.raises(ValueError, match="step"):
        pspin.minimize(model, 2, method="gd", step=step)


def test_bad_max_iter(model):
    with pytest.raises(ValueError, match="max_iter"):
        pspin.minimize(model, 2, max_iter=0)
    with pytest.raises(ValueError, match="max_iter"):
        pspin.critical_points(model, 2, max_iter=0)


@pytest.mark.parametrize("shape", [(2, N_SMALL + 1), (N_SMALL - 1,), (2, 3, N_SMALL), (0, N_SMALL)])
def test_wrong_initial_shape(model, shape):
    bad = np.ones(shape)
    with pytest.raises(ValueError, match="initial"):
        pspin.minimize(model, initial=bad)
    with pytest.raises(ValueError, match="initial"):
        pspin.critical_points(model, initial=bad)


def test_initial_count_mismatch(model):
    with pytest.raises(ValueError, match="n_starts"):
        pspin.minimize(model, 3, initial=model.random_state(2, seed=1))


def test_zero_initial_state_minimize(model):
    init = model.random_state(3, seed=1)
    init[1] = 0.0
    with pytest.raises(ValueError, match="non-zero"):
        pspin.minimize(model, initial=init)


def test_zero_initial_state_critical_points(model):
    """Same check as minimize: a zero start cannot be normalised onto the sphere.

    A ValueError naming the problem, raised before any work (and without a
    RuntimeWarning from dividing by |s| = 0 first).
    """
    init = model.random_state(3, seed=1)
    init[1] = 0.0
    with pytest.raises(ValueError, match="non-zero|zero"):
        pspin.critical_points(model, initial=init)


def test_nonfinite_initial_state(model):
    init = model.random_state(2, seed=1)
    init[0, 3] = np.nan
    with pytest.raises(ValueError):
        pspin.minimize(model, initial=init)
    with pytest.raises(ValueError):
        pspin.critical_points(model, initial=init)


@pytest.mark.parametrize("method", ["newton", "LBFGS", "cg", ""])
def test_unknown_method_lists_allowed(model, method):
    with pytest.raises(ValueError) as info:
        pspin.minimize(model, 2, method=method)
    msg = str(info.value)
    assert "lbfgs" in msg and "gd" in msg


def test_ising_model_rejected_by_critical_points():
    with pytest.raises(TypeError, match="SphericalPSpin"):
        pspin.critical_points(pspin.IsingPSpin(8, 3, seed=1), 2)


@pytest.mark.parametrize("index", [-1, N_SMALL])
def test_bad_index(model, index):
    with pytest.raises(ValueError, match="index"):
        pspin.critical_points(model, 2, index=index)


def test_minimize_rejects_non_models():
    with pytest.raises(TypeError):
        pspin.minimize(np.eye(3), 2)


# ---------------------------------------------------------------------------------------------
# Slow: exhaustive small-n counts vs the exact finite-n Kac-Rice expectation (isotropic)
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_kac_rice_minima_count_n8():
    """Mean number of minima per sample at n = 8 (isotropic ensemble) vs the exact
    finite-n expectation pspin.theory.expected_critical_points(8, 3, index=0).
    The search is exhaustive in practice: 400 L-BFGS starts per sample (the saturation
    curve in examples/kac_rice_counts.py levels off well before that at n = 8)."""
    n, samples = 8, 60
    counts = []
    for k in range(samples):
        m = pspin.SphericalPSpin(n, 3, seed=1000 + k, ensemble="isotropic")
        res = pspin.minimize(m, 400, seed=k, gtol=1e-10)
        good = res.states[res.converged]
        cp = pspin.critical_points(m, initial=pspin.unique_states(good, tol=1e-8), index=0)
        counts.append(len(pspin.unique_states(cp.states[cp.converged & (cp.index == 0)], tol=1e-8)))
    counts = np.asarray(counts, dtype=float)
    mean, err = counts.mean(), counts.std(ddof=1) / np.sqrt(samples)
    from pspin.theory import expected_critical_points

    expected = expected_critical_points(n, 3, index=0).value
    assert abs(mean - expected) < 4 * err + 0.05 * expected, (mean, err, expected)
