"""Energy, gradient, Hessian and Hessian-vector products against independent references.

References used here (none of them is pspin's code):

* numpy einsum on dense symmetric tensors, with the from_tensors convention
  ``H = -sum_p (1/p!) sum_{all i1..ip} T_p[i1..ip] s_i1...s_ip``, so
  ``dH/ds_i = -sum_p T_p[i,...] s^(p-1)/(p-1)!`` and
  ``d2H/ds_i ds_j = -sum_p T_p[i,j,...] s^(p-2)/(p-2)!``;
* the definition of the Hamiltonian as a sum over index tuples of the packed couplings
  (``itertools.combinations``, lexicographic order);
* exact spin-flip differences (Ising: H is affine in each s_i), central finite differences
  of the energy (spherical, through the homogeneous extension of each degree off the sphere)
  and finite differences along geodesics of the sphere |s|^2 = n.

Tolerances of the einsum comparisons are the rigorous forward-error bound of a sum of
m products of p+1 factors in floating point, in any summation order::

    |computed - exact| <= (m + p + 2) * eps * sum_terms |term|

with eps the machine epsilon of the model dtype (2.2e-16 for float64, 1.2e-7 for float32)
and m the number of stored couplings (an upper bound on the terms of any output entry).
For n = 11, p <= 4 this is ~1e-13 (float64) and ~4e-5 (float32) of the absolute scale
``sum |term|``; float32 states are rounded to float32 before both computations, and the
float32 rounding of tensor entries in ``from_tensors`` (one more eps) is inside the "+2".
"""

from __future__ import annotations

import io
import itertools
import math
import zlib

import numpy as np
import pspin
import pytest

LETTERS = "ijklmnopqrstuvwxy"


# --------------------------------------------------------------------------- references
def _contract(tensor: np.ndarray, states: np.ndarray, keep: int) -> np.ndarray:
    """Contract all but the first ``keep`` axes of ``tensor`` with each row of ``states``.

    Returns shape (b,) + (n,) * keep.
    """
    p = tensor.ndim
    idx = LETTERS[:p]
    if keep == p:
        return np.broadcast_to(tensor, (states.shape[0],) + tensor.shape).copy()
    subs = idx + "," + ",".join("z" + c for c in idx[keep:]) + "->z" + idx[:keep]
    return np.einsum(subs, tensor, *([states] * (p - keep)), optimize=True)


def ref_derivative(
    tensors: dict[int, np.ndarray], states: np.ndarray, order: int, *, absolute: bool = False
):
    """order 0: H (b,), 1: dH/ds (b, n), 2: Hessian (b, n, n), from dense tensors.

    With ``absolute`` the same sums of |terms| (the scale of the rounding-error bound).
    """
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    total = 0.0
    for p, t in tensors.items():
        if order > p:
            continue
        tt, ss = (np.abs(t), np.abs(states)) if absolute else (t, states)
        total = total + _contract(tt, ss, order) / math.factorial(p - order)
    if isinstance(total, float):  # no degree contributes (order > every p)
        total = np.zeros((states.shape[0],) + (states.shape[1],) * order)
    return total if absolute else -total


def bound(model: pspin.SphericalPSpin | pspin.IsingPSpin) -> float:
    """Relative (to sum |terms|) forward-error bound (m + p + 2) * eps, see module doc."""
    m = sum(
        math.comb(model.n + (p - 1 if model.ensemble == "isotropic" else 0), p)
        for p in model.degrees
    )
    return (m + max(model.degrees) + 2) * float(np.finfo(model.dtype).eps)


def assert_within(got, ref, scale, rel, what):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    err = np.abs(got - ref)
    allowed = rel * np.asarray(scale) + 1e-300
    worst = np.unravel_index(np.argmax(err / allowed), err.shape) if err.size else ()
    assert np.all(err <= allowed), (
        f"{what}: error {err[worst]:.3e} > allowed "
        f"{np.broadcast_to(allowed, err.shape)[worst]:.3e} at {worst}"
        f" (got {got[worst]!r}, expected {ref[worst]!r})"
    )


def states_for(model, rng, b, sphere_states):
    """b valid states of the model, exactly representable in its dtype (float64 array)."""
    if isinstance(model, pspin.IsingPSpin):
        return rng.choice([-1.0, 1.0], size=(b, model.n))
    s = sphere_states(rng, model.n, b)
    return s.astype(model.dtype).astype(np.float64)


def check_against_tensors(model, tensors, states, vectors):
    """Compare every contraction of ``model`` with the einsum references on ``tensors``."""
    rel = bound(model)
    e_ref = ref_derivative(tensors, states, 0)
    g_ref = ref_derivative(tensors, states, 1)
    h_ref = ref_derivative(tensors, states, 2)
    e_scale = ref_derivative(tensors, states, 0, absolute=True)
    g_scale = ref_derivative(tensors, states, 1, absolute=True)
    h_scale = ref_derivative(tensors, states, 2, absolute=True)

    energy = model.energy(states)
    assert (
        isinstance(energy, np.ndarray)
        and energy.dtype == np.float64
        and energy.shape == (len(states),)
    )
    assert_within(energy, e_ref, e_scale, rel, "energy (batched)")

    grad = model.gradient(states)
    assert grad.dtype == model.dtype and grad.shape == states.shape
    assert_within(grad, g_ref, g_scale, rel, "gradient (batched)")
    assert_within(model.local_fields(states), -g_ref, g_scale, rel, "local_fields (batched)")
    e2, g2 = model.energy_and_gradient(states)
    assert_within(e2, e_ref, e_scale, rel, "energy_and_gradient: energy")
    assert_within(g2, g_ref, g_scale, rel, "energy_and_gradient: gradient")

    for r in range(len(states)):
        e1 = model.energy(states[r])
        assert isinstance(e1, float)
        assert_within(e1, e_ref[r], e_scale[r], rel, f"energy row {r}")
        assert_within(model.gradient(states[r]), g_ref[r], g_scale[r], rel, f"gradient row {r}")
        hess = model.hessian(states[r])
        assert hess.shape == (model.n, model.n) and hess.dtype == np.float64
        assert_within(hess, h_ref[r], h_scale[r], rel, f"hessian row {r}")

    hv_ref = np.einsum("bij,bj->bi", h_ref, vectors)
    hv_scale = np.einsum("bij,bj->bi", h_scale, np.abs(vectors))
    # one more product and n more terms than the Hessian entries
    hv_rel = rel + (model.n + 2) * float(np.finfo(model.dtype).eps)
    assert_within(
        model.hessian_vector_product(states, vectors), hv_ref, hv_scale, hv_rel, "HVP (batched)"
    )
    assert_within(
        model.hessian_vector_product(states[0], vectors[0]),
        hv_ref[0],
        hv_scale[0],
        hv_rel,
        "HVP (one)",
    )


# --------------------------------------------------------------------------- cases
# (name, {degree: coefficient}, repeated-index entries?) -- coefficients multiply the tensors
CASES = [
    ("p2", {2: 1.0}, False),
    ("p3", {3: 1.0}, False),
    ("p4", {4: 1.0}, False),
    ("mixed23", {2: 0.6, 3: 1.3}, False),
    ("mixed234", {2: 0.3, 3: 1.0, 4: 0.5}, False),
    ("iso3", {3: 1.0}, True),
    ("iso_mixed24", {2: 0.7, 4: 1.1}, True),
]
DTYPES = ["float64", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "spec", "repeated"), CASES, ids=[c[0] for c in CASES])
def test_from_own_tensors_spherical(name, spec, repeated, dtype, symmetric_tensor, sphere_states):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    n = 11
    tensors = {p: c * symmetric_tensor(rng, n, p, repeated=repeated) for p, c in spec.items()}
    model = pspin.SphericalPSpin.from_tensors(tensors, dtype=dtype)
    assert model.ensemble == ("isotropic" if repeated else "distinct")
    assert model.degrees == tuple(sorted(spec)) and model.n == n and model.dtype == np.dtype(dtype)
    states = states_for(model, rng, 6, sphere_states)
    vectors = rng.standard_normal(states.shape).astype(dtype).astype(np.float64)
    check_against_tensors(model, tensors, states, vectors)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("name", "spec", "repeated"),
    [c for c in CASES if not c[2]],
    ids=[c[0] for c in CASES if not c[2]],
)
def test_from_own_tensors_ising(name, spec, repeated, dtype, symmetric_tensor, sphere_states):
    rng = np.random.default_rng(1 + zlib.crc32(name.encode()))
    n = 10
    tensors = {p: c * symmetric_tensor(rng, n, p) for p, c in spec.items()}
    model = pspin.IsingPSpin.from_tensors(tensors, dtype=dtype)
    states = states_for(model, rng, 6, sphere_states)
    vectors = rng.standard_normal(states.shape).astype(dtype).astype(np.float64)
    check_against_tensors(model, tensors, states, vectors)


GENERATED = [
    ("sph_p2", pspin.SphericalPSpin, 2, "distinct"),
    ("sph_p3", pspin.SphericalPSpin, 3, "distinct"),
    ("sph_p4", pspin.SphericalPSpin, 4, "distinct"),
    ("sph_mixed", pspin.SphericalPSpin, {2: 0.5, 3: 1.0, 4: 0.25}, "distinct"),
    ("sph_iso3", pspin.SphericalPSpin, 3, "isotropic"),
    ("sph_iso_mixed", pspin.SphericalPSpin, {2: 0.8, 3: 0.6}, "isotropic"),
    ("ising_p2", pspin.IsingPSpin, 2, None),
    ("ising_p3", pspin.IsingPSpin, 3, None),
    ("ising_mixed", pspin.IsingPSpin, {2: 1.0, 4: 0.5}, None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "cls", "p", "ensemble"), GENERATED, ids=[g[0] for g in GENERATED])
def test_generated_model_against_its_tensors(name, cls, p, ensemble, dtype, sphere_states):
    kwargs = {} if ensemble is None else {"ensemble": ensemble}
    model = cls(12, p, seed=2024, dtype=dtype, **kwargs)
    tensors = model.tensors()
    assert set(tensors) == set(model.degrees)
    for t in tensors.values():
        assert t.dtype == np.float64
    rng = np.random.default_rng(7)
    states = states_for(model, rng, 5, sphere_states)
    vectors = rng.standard_normal(states.shape).astype(dtype).astype(np.float64)
    check_against_tensors(model, tensors, states, vectors)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("n", "p", "ensemble"), [(100, 3, "distinct"), (48, 4, "distinct"), (70, 3, "isotropic")]
)
def test_larger_models_several_tasks(n, p, ensemble, dtype, sphere_states):
    """Sizes with more than 2^17 couplings, so the kernels split the work into several tasks."""
    model = pspin.SphericalPSpin(n, p, seed=n + p, dtype=dtype, ensemble=ensemble)
    tensors = model.tensors()
    rng = np.random.default_rng(n)
    states = states_for(model, rng, 7, sphere_states)
    rel = bound(model)
    assert_within(
        model.energy(states),
        ref_derivative(tensors, states, 0),
        ref_derivative(tensors, states, 0, absolute=True),
        rel,
        "energy",
    )
    assert_within(
        model.gradient(states),
        ref_derivative(tensors, states, 1),
        ref_derivative(tensors, states, 1, absolute=True),
        rel,
        "gradient",
    )
    one = states[:1]
    h_ref = ref_derivative(tensors, one, 2)[0]
    assert_within(
        model.hessian(one[0]),
        h_ref,
        ref_derivative(tensors, one, 2, absolute=True)[0],
        rel,
        "hessian",
    )
    v = rng.standard_normal(states.shape).astype(dtype).astype(np.float64)
    hv_ref = np.einsum("bij,bj->bi", ref_derivative(tensors, states, 2), v)
    hv_scale = np.einsum("bij,bj->bi", ref_derivative(tensors, states, 2, absolute=True), np.abs(v))
    assert_within(
        model.hessian_vector_product(states, v),
        hv_ref,
        hv_scale,
        rel + (n + 2) * float(np.finfo(model.dtype).eps),
        "HVP",
    )


# --------------------------------------------------------------------------- packed couplings
def _tuples(n, p, multiset):
    combos = itertools.combinations_with_replacement if multiset else itertools.combinations
    return np.array(list(combos(range(n), p)), dtype=np.intp).reshape(-1, p)


def _multiplicity_factorials(idx):
    """prod_i m_i! for each index tuple (rows)."""
    out = np.ones(len(idx))
    for r, row in enumerate(idx):
        for _, grp in itertools.groupby(row):
            out[r] *= math.factorial(len(list(grp)))
    return out


@pytest.mark.parametrize(
    ("cls", "p", "ensemble"),
    [
        (pspin.SphericalPSpin, 3, "distinct"),
        (pspin.SphericalPSpin, {2: 0.5, 3: 2.0}, "distinct"),
        (pspin.SphericalPSpin, 3, "isotropic"),
        (pspin.SphericalPSpin, {2: 1.5, 4: 0.5}, "isotropic"),
        (pspin.IsingPSpin, 4, None),
    ],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_packed_couplings_define_the_hamiltonian(cls, p, ensemble, dtype, sphere_states):
    """H(s) = -sum over stored tuples (lexicographic) of K_t prod_{i in t} s_i; tensors() agree."""
    kwargs = {} if ensemble is None else {"ensemble": ensemble}
    model = cls(9, p, seed=31, dtype=dtype, **kwargs)
    multiset = model.ensemble == "isotropic"
    tensors = model.tensors()
    rng = np.random.default_rng(3)
    states = states_for(model, rng, 4, sphere_states)
    energy = np.zeros(len(states))
    scale = np.zeros(len(states))
    for d in model.degrees:
        packed = model.packed_couplings(d)
        idx = _tuples(model.n, d, multiset)
        assert packed.dtype == model.dtype and packed.shape == (len(idx),)
        # dense entry at a tuple = K_t * prod m_i!  (so that (1/p!) sum over orderings gives K_t)
        # (exact for distinct tuples; x * 6 / 6 may move one ulp for repeated ones)
        np.testing.assert_allclose(
            tensors[d][tuple(idx.T)] / _multiplicity_factorials(idx),
            packed.astype(np.float64),
            rtol=0 if not multiset else 2.3e-16,
            atol=0,
        )
        if not multiset:
            mask = np.ones(tensors[d].shape, dtype=bool)
            for perm in itertools.permutations(range(d)):
                mask[tuple(idx[:, list(perm)].T)] = False
            assert not np.any(tensors[d][mask]), "entries with repeated indices must be zero"
        terms = packed.astype(np.float64)[None, :] * np.prod(states[:, idx], axis=2)
        energy -= terms.sum(axis=1)
        scale += np.abs(terms).sum(axis=1)
    assert_within(model.energy(states), energy, scale, bound(model), "energy from packed couplings")


HIGH = [
    (cls, p, extra, None)
    for cls in (pspin.SphericalPSpin, pspin.IsingPSpin)
    for p in (2, 5, 6, 7, 10, 16)
    for extra in (0, 4)
]
HIGH += [(pspin.SphericalPSpin, p, extra, "isotropic") for p in (2, 3, 5, 6) for extra in (0, 3)]


@pytest.mark.parametrize(
    ("cls", "p", "extra", "ensemble"),
    HIGH,
    ids=[f"{c.__name__[:4]}-p{p}-n{p + e}-{ens or 'distinct'}" for c, p, e, ens in HIGH],
)
def test_high_degrees_and_n_equal_p_against_packed_sum(cls, p, extra, ensemble, sphere_states):
    """Degrees above 4 (dense tensors too large) and n = p: energy, gradient from the tuple sum."""
    n = p + extra
    model = cls(n, p, seed=p, **({} if ensemble is None else {"ensemble": ensemble}))
    rng = np.random.default_rng(p)
    states = states_for(model, rng, 3, sphere_states)
    idx = _tuples(n, p, ensemble == "isotropic")
    packed = model.packed_couplings(p)
    prods = np.prod(states[:, idx], axis=2)  # (b, m)
    energy = -(packed[None, :] * prods).sum(axis=1)
    grad = np.zeros_like(states)
    for b in range(len(states)):
        for k in range(p):  # d/ds_i of prod over t = sum over positions of i in t of the others
            others = np.prod(states[b][np.delete(idx, k, axis=1)], axis=1)
            np.add.at(grad[b], idx[:, k], -packed * others)
    escale = (np.abs(packed)[None, :] * np.abs(prods)).sum(axis=1)
    rel = bound(model)
    assert_within(model.energy(states), energy, escale, rel, f"energy p={p}")
    assert_within(model.gradient(states), grad, escale.max() * p, rel, f"gradient p={p}")


# --------------------------------------------------------------------------- batches
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b", [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33])
def test_batched_equals_row_by_row(b, dtype, sphere_states):
    model = pspin.SphericalPSpin(30, {2: 0.5, 3: 1.0}, seed=11, dtype=dtype)
    tensors = model.tensors()
    rng = np.random.default_rng(b)
    states = states_for(model, rng, b, sphere_states)
    vectors = rng.standard_normal(states.shape)
    rel = 2 * bound(model)  # both results are within bound() of the exact value
    e_scale = ref_derivative(tensors, states, 0, absolute=True)
    g_scale = ref_derivative(tensors, states, 1, absolute=True)
    hv_scale = np.einsum(
        "bij,bj->bi", ref_derivative(tensors, states, 2, absolute=True), np.abs(vectors)
    )
    e_b, g_b = model.energy_and_gradient(states)
    hv_b = model.hessian_vector_product(states, vectors)
    for r in range(b):
        e_r, g_r = model.energy_and_gradient(states[r])
        assert_within(e_b[r], e_r, e_scale[r], rel, f"energy row {r} of {b}")
        assert_within(g_b[r], g_r, g_scale[r], rel, f"gradient row {r} of {b}")
        assert_within(
            hv_b[r],
            model.hessian_vector_product(states[r], vectors[r]),
            hv_scale[r],
            rel + 2 * (model.n + 2) * float(np.finfo(model.dtype).eps),
            f"HVP row {r} of {b}",
        )
        assert_within(
            model.energy(states[r : r + 1])[0], e_r, e_scale[r], rel, f"(1, n) batch, row {r}"
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_narrower_than_a_vector_gives_each_row_its_own_result(dtype):
    # Below one vector of lanes the batch runs row by row over shared coupling
    # loads, with the arithmetic of b = 1: every row's result is its own, bit for bit.
    lanes = pspin.show_config(file=io.StringIO())[f"simd_lanes_{dtype}"]
    model = pspin.SphericalPSpin(40, {2: 0.5, 3: 1.0}, seed=5, dtype=dtype)
    for b in range(2, lanes):
        states = model.random_state(b, seed=b)
        e_b, g_b = model.energy_and_gradient(states)
        for r in range(b):
            e_r, g_r = model.energy_and_gradient(states[r])
            assert e_b[r] == e_r and np.array_equal(g_b[r], g_r), f"row {r} of {b}"


# --------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("cls", "p", "ensemble"),
    [
        (pspin.SphericalPSpin, {2: 0.5, 3: 1.0}, "distinct"),
        (pspin.SphericalPSpin, {2: 0.5, 3: 1.0}, "isotropic"),
        (pspin.IsingPSpin, {3: 1.0, 4: 2.0}, None),
    ],
)
def test_tensors_from_tensors_round_trip(cls, p, ensemble, dtype, symmetric_tensor):
    kwargs = {} if ensemble is None else {"ensemble": ensemble}
    model = cls(8, p, seed=99, dtype=dtype, **kwargs)
    tensors = model.tensors()
    for d, t in tensors.items():
        for a in range(d - 1):
            np.testing.assert_array_equal(t, np.swapaxes(t, a, a + 1))
    again = cls.from_tensors(tensors, dtype=dtype)
    assert again.ensemble == model.ensemble and again.degrees == model.degrees
    assert again.coefficients == {d: 1.0 for d in model.degrees}
    for d in model.degrees:
        a, b = model.packed_couplings(d), again.packed_couplings(d)
        if model.ensemble == "distinct":
            np.testing.assert_array_equal(a, b)
        else:  # dividing by prod m_i! (2, 6, ...) after multiplying may move one ulp
            np.testing.assert_allclose(a, b, rtol=2 * np.finfo(dtype).eps, atol=0)
        np.testing.assert_allclose(
            again.tensors()[d], tensors[d], rtol=4 * np.finfo(dtype).eps, atol=0
        )

    # own tensors -> model -> tensors(): the same entries (rounded to the dtype)
    rng = np.random.default_rng(5)
    own = {3: symmetric_tensor(rng, 8, 3, repeated=ensemble == "isotropic")}
    back = cls.from_tensors(own, dtype=dtype).tensors()[3]
    np.testing.assert_allclose(
        back, own[3].astype(dtype).astype(np.float64), rtol=4 * np.finfo(dtype).eps, atol=0
    )


def test_from_tensors_single_array_and_explicit_ensemble(symmetric_tensor, sphere_states):
    rng = np.random.default_rng(8)
    t = symmetric_tensor(rng, 7, 3)
    m1 = pspin.SphericalPSpin.from_tensors(t)
    m2 = pspin.SphericalPSpin.from_tensors({3: t})
    assert m1.degrees == (3,) and m1.n == 7
    np.testing.assert_array_equal(m1.packed_couplings(3), m2.packed_couplings(3))
    # a tensor without repeated entries may still be declared isotropic: same energies
    m3 = pspin.SphericalPSpin.from_tensors(t, ensemble="isotropic")
    assert m3.ensemble == "isotropic"
    s = sphere_states(rng, 7, 4)
    np.testing.assert_allclose(m3.energy(s), m1.energy(s), rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------- finite differences
def _homogeneous_energy(parts, n, x):
    """Energy at arbitrary x (off the sphere) from models of one degree each:
    H_p(x) = r^p H_p(x / r), r = |x| / sqrt(n)."""
    x = np.atleast_2d(x)
    r = np.linalg.norm(x, axis=1) / np.sqrt(n)
    on = x / r[:, None]
    return sum(r**p * m.energy(on) for p, m in parts.items())


@pytest.mark.parametrize("spec", [3, 4, {2: 0.5, 3: 1.0, 4: 0.7}], ids=["p3", "p4", "mixed234"])
@pytest.mark.parametrize("ensemble", ["distinct", "isotropic"])
def test_euclidean_gradient_and_hessian_vs_finite_differences(spec, ensemble, sphere_states):
    n = 9
    model = pspin.SphericalPSpin(n, spec, seed=17, ensemble=ensemble)
    parts = {
        p: pspin.SphericalPSpin.from_tensors({p: t}, ensemble=ensemble)
        for p, t in model.tensors().items()
    }
    s = sphere_states(np.random.default_rng(1), n)
    assert _homogeneous_energy(parts, n, s)[0] == pytest.approx(
        model.energy(s), rel=1e-13, abs=1e-13
    )

    eye = np.eye(n)
    h = 1e-5  # truncation ~h^2 |H'''| ~ 1e-10, rounding ~eps |H| / h ~ 1e-11
    fd = (
        _homogeneous_energy(parts, n, s + h * eye) - _homogeneous_energy(parts, n, s - h * eye)
    ) / (2 * h)
    g = model.gradient(s)
    np.testing.assert_allclose(g, fd, rtol=0, atol=1e-7 * np.abs(g).max())

    h = 1e-3  # truncation ~h^2 |H''''| ~ 1e-6, rounding ~eps |H| / h^2 ~ 1e-10
    pp = s + h * eye[:, None, :] + h * eye[None, :, :]
    pm = s + h * eye[:, None, :] - h * eye[None, :, :]
    f = lambda x: _homogeneous_energy(parts, n, x.reshape(-1, n)).reshape(n, n)
    fd2 = (f(pp) - f(pm) - f(-pm + 2 * s) + f(-pp + 2 * s)) / (4 * h * h)
    hess = model.hessian(s)
    np.testing.assert_allclose(hess, fd2, rtol=0, atol=1e-5 * np.abs(hess).max())
    # Euler's relation for each homogeneous part: s.grad H = sum_p p H_p(s)
    euler = sum(p * m.energy(s) for p, m in parts.items())
    assert float(s @ g) == pytest.approx(euler, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("spec", [2, 3, {2: 1.0, 3: 0.5, 5: 0.3}], ids=["sk", "p3", "mixed235"])
def test_ising_derivatives_are_exact_spin_flip_differences(spec):
    """H is affine in each s_i (distinct indices): dH/ds_i = [H(s_i=+1) - H(s_i=-1)] / 2 exactly,
    d2H/ds_i ds_j = [H(++) - H(+-) - H(-+) + H(--)] / 4 for i != j, and 0 on the diagonal."""
    n = 10
    model = pspin.IsingPSpin(n, spec, seed=4)
    s = model.random_state(seed=9)
    plus = np.tile(s, (n, 1))
    minus = plus.copy()
    np.fill_diagonal(plus, 1.0)
    np.fill_diagonal(minus, -1.0)
    g_ref = (model.energy(plus) - model.energy(minus)) / 2
    scale = np.abs(model.energy(plus)) + np.abs(model.energy(minus)) + 1.0
    np.testing.assert_allclose(model.gradient(s), g_ref, rtol=0, atol=1e-12 * scale.max())

    def flipped(a, b):
        x = np.tile(s, (n, n, 1))
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        x[i, j, i] = a
        x[i, j, j] = b
        return model.energy(x.reshape(-1, n)).reshape(n, n)

    h_ref = (flipped(1, 1) - flipped(1, -1) - flipped(-1, 1) + flipped(-1, -1)) / 4
    np.fill_diagonal(h_ref, 0.0)
    hess = model.hessian(s)
    np.testing.assert_allclose(hess, h_ref, rtol=0, atol=1e-12 * scale.max())
    np.testing.assert_array_equal(np.diag(hess), 0.0)


def _tangent_basis(s):
    """(n-1, n) orthonormal basis of the tangent space at s (rows), from an SVD."""
    _, _, vt = np.linalg.svd(s[None, :])
    return vt[1:]


def _exp_map(s, n, tq):
    """Points exp_s(sqrt(n) t.Q) on the sphere |x|^2 = n for rows tq = t.Q (unit-speed scaled)."""
    tq = np.atleast_2d(tq)
    theta = np.linalg.norm(tq, axis=1, keepdims=True)
    safe = np.where(theta > 0, theta, 1.0)
    return np.cos(theta) * s + np.sqrt(n) * np.sin(theta) * tq / safe


@pytest.mark.parametrize("spec", [3, {2: 0.5, 4: 1.0}], ids=["p3", "mixed24"])
@pytest.mark.parametrize("ensemble", ["distinct", "isotropic"])
def test_riemannian_gradient_and_hessian_along_geodesics(spec, ensemble, sphere_states):
    """f(t) = H(exp_s(sqrt(n) t.Q)): grad f(0) = sqrt(n) Q g_R and Hess f(0) = n Q R Q^T."""
    n = 8
    model = pspin.SphericalPSpin(n, spec, seed=21, ensemble=ensemble)
    s = sphere_states(np.random.default_rng(2), n)
    q = _tangent_basis(s)
    k = n - 1
    eye = np.eye(k)

    h = 1e-5
    fd = (
        model.energy(_exp_map(s, n, h * eye @ q)) - model.energy(_exp_map(s, n, -h * eye @ q))
    ) / (2 * h)
    g_r = model.riemannian_gradient(s)
    np.testing.assert_allclose(np.sqrt(n) * q @ g_r, fd, rtol=0, atol=1e-7 * np.abs(fd).max())
    assert abs(float(g_r @ s)) < 1e-12 * np.sqrt(n) * np.abs(g_r).sum()

    h = 1e-3

    def f(a, b):
        t = a * h * eye[:, None, :] + b * h * eye[None, :, :]
        return model.energy(_exp_map(s, n, (t.reshape(-1, k) @ q))).reshape(k, k)

    fd2 = (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h * h)
    r = model.riemannian_hessian(s)
    np.testing.assert_allclose(n * q @ r @ q.T, fd2, rtol=0, atol=1e-5 * np.abs(fd2).max())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", [3, {2: 0.5, 3: 1.0}, 4], ids=["p3", "mixed23", "p4"])
@pytest.mark.parametrize("ensemble", ["distinct", "isotropic"])
def test_riemannian_hessian_structure(spec, ensemble, dtype, sphere_states):
    n = 12
    model = pspin.SphericalPSpin(n, spec, seed=5, dtype=dtype, ensemble=ensemble)
    tensors = model.tensors()
    rng = np.random.default_rng(6)
    s = states_for(model, rng, 1, sphere_states)[0]
    # reference from the einsum Euclidean quantities: P Hess P - (s.g/n) P
    g = ref_derivative(tensors, s, 1)[0]
    hess = ref_derivative(tensors, s, 2)[0]
    proj = np.eye(n) - np.outer(s, s) / n
    r_ref = proj @ hess @ proj - (s @ g / n) * proj
    r = model.riemannian_hessian(s)
    assert r.shape == (n, n) and r.dtype == np.float64
    scale = np.abs(r_ref).max()
    tol = 1e-11 if dtype == "float64" else 1e-4  # float32 Hessian/gradient enter through P H P
    np.testing.assert_allclose(r, r_ref, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(r, r.T, rtol=0, atol=1e-13 * scale)
    # float32 states are on the sphere only to float32 rounding (|s|^2/n = 1 + O(1e-7)), so with
    # P = I - ss^T/n the radial direction is killed only to that precision: kernel_tol
    kernel_tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(r @ s, 0.0, rtol=0, atol=kernel_tol * scale * np.sqrt(n))

    # spectrum on the tangent space: own orthonormal basis, and eigvalsh(R) minus the radial zero
    q = _tangent_basis(s)
    tangent_ref = np.linalg.eigvalsh(q @ r_ref @ q.T)
    spec_got = model.hessian_spectrum(s)
    assert spec_got.shape == (n - 1,)
    assert np.all(np.diff(spec_got) >= 0), "hessian_spectrum must be sorted ascending"
    np.testing.assert_allclose(spec_got, tangent_ref, rtol=0, atol=tol * scale)
    w, v = np.linalg.eigh(r)
    radial = np.argmax(np.abs(v.T @ s))
    assert abs(w[radial]) < kernel_tol * scale * n
    np.testing.assert_allclose(spec_got, np.delete(w, radial), rtol=0, atol=kernel_tol * scale * n)

    # Riemannian HVP == riemannian_hessian @ v, one and batched (v need not be tangent)
    vs = rng.standard_normal((3, n))
    states = np.vstack([s, states_for(model, rng, 2, sphere_states)])
    hv = model.riemannian_hessian_vector_product(states, vs)
    assert hv.shape == (3, n)
    for row in range(3):
        rr = model.riemannian_hessian(states[row])
        np.testing.assert_allclose(
            hv[row], rr @ vs[row], rtol=0, atol=tol * np.abs(rr).max() * np.sqrt(n)
        )
    np.testing.assert_allclose(
        model.riemannian_hessian_vector_product(s, vs[0]),
        r @ vs[0],
        rtol=0,
        atol=tol * scale * np.sqrt(n),
    )
    # Riemannian gradient batched == P g per row
    rg = model.riemannian_gradient(states)
    for row in range(3):
        gg = ref_derivative(tensors, states[row], 1)[0]
        x = states[row]
        np.testing.assert_allclose(
            rg[row], gg - (x @ gg / n) * x, rtol=0, atol=tol * np.abs(gg).max()
        )


# --------------------------------------------------------------------------- relabelling
@pytest.mark.parametrize("cls", [pspin.SphericalPSpin, pspin.IsingPSpin])
@pytest.mark.parametrize("spec", [3, {2: 0.4, 3: 1.0, 4: 0.6}], ids=["p3", "mixed234"])
def test_energy_invariant_under_relabelling(cls, spec, sphere_states):
    """T'[i..] = T[pi(i)..], s'_i = s_pi(i).

    Then H'(s') = H(s), g'(s') = g(s)[pi] and Hess'(s') = Hess(s)[pi][:, pi].
    """
    n = 10
    model = cls(n, spec, seed=12)
    rng = np.random.default_rng(13)
    perm = rng.permutation(n)
    permuted = {p: t[np.ix_(*([perm] * p))] for p, t in model.tensors().items()}
    other = cls.from_tensors(permuted)
    states = states_for(model, rng, 4, sphere_states)
    np.testing.assert_allclose(
        other.energy(states[:, perm]), model.energy(states), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        other.gradient(states[:, perm]), model.gradient(states)[:, perm], rtol=1e-12, atol=1e-12
    )
    h = model.hessian(states[0])
    np.testing.assert_allclose(
        other.hessian(states[0][perm]), h[np.ix_(perm, perm)], rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("p", [2, 3, 4, 5])
@pytest.mark.parametrize("cls", [pspin.SphericalPSpin, pspin.IsingPSpin])
def test_parity_of_pure_models(cls, p, sphere_states):
    """A pure degree-p polynomial: H(-s) = (-1)^p H(s), g(-s) = (-1)^(p-1) g(s) (exact)."""
    model = cls(9, p, seed=p)
    states = states_for(model, np.random.default_rng(p), 4, sphere_states)
    sign = (-1.0) ** p
    np.testing.assert_allclose(
        model.energy(-states), sign * model.energy(states), rtol=1e-14, atol=1e-14
    )
    np.testing.assert_allclose(
        model.gradient(-states), -sign * model.gradient(states), rtol=1e-14, atol=1e-14
    )
