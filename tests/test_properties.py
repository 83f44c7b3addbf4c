"""Property-based tests (hypothesis) of the public API: random small models and inputs.

Each property is checked on examples that hypothesis draws from a fixed seed
(``derandomize=True``), so the suite is deterministic and the same cases run every time;
no example database is written. References are independent of pspin's C++ core: numpy
einsum on the dense tensors, the multilinear form over index tuples of the packed
couplings, exact spin-flip differences and finite differences along geodesics of the
sphere, closed-form integrals.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pspin
import pytest
from pspin import entropy

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: Shared settings: fixed examples, no deadline (the first call of a kernel may be slow
#: under a sanitizer), no database files.
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(PROPERTY, max_examples=15)

LETTERS = "ijklmnop"


# ---------------------------------------------------------------------------- strategies
@st.composite
def degrees(draw):
    """Pure p in {2, 3, 4} or a mixture {p: c_p} of two or three of them."""
    if draw(st.booleans()):
        return draw(st.sampled_from([2, 3, 4]))
    ps = draw(st.lists(st.sampled_from([2, 3, 4]), min_size=2, max_size=3, unique=True))
    coefficient = st.floats(0.1, 2.0, allow_nan=False, allow_infinity=False)
    return {p: draw(coefficient) for p in sorted(ps)}


def _max_degree(p) -> int:
    return p if isinstance(p, int) else max(p)


@st.composite
def models(draw, kinds=("spherical", "isotropic", "ising"), dtypes=("float64", "float32")):
    """A random small model: n <= 10, p in {2, 3, 4} or a mixture, any seed."""
    kind = draw(st.sampled_from(kinds))
    p = draw(degrees())
    n = draw(st.integers(max(4, _max_degree(p)), 10))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from(dtypes))
    if kind == "ising":
        return pspin.IsingPSpin(n, p, seed=seed, dtype=dtype)
    ensemble = "isotropic" if kind == "isotropic" else "distinct"
    return pspin.SphericalPSpin(n, p, seed=seed, dtype=dtype, ensemble=ensemble)


def _states(model, seed: int, b: int) -> np.ndarray:
    """b valid states of the model, exactly representable in its dtype (float64)."""
    s = model.random_state(b, seed=seed)
    return np.asarray(s, dtype=model.dtype).astype(np.float64)


# ---------------------------------------------------------------------------- references
def _einsum_energy(model, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H (b,) from the dense tensors, H = -sum_p (1/p!) T_p[i..] s_i..., and sum |terms|."""
    total = np.zeros(states.shape[0])
    scale = np.zeros(states.shape[0])
    for p, tensor in model.tensors().items():
        subs = LETTERS[:p] + "," + ",".join("z" + c for c in LETTERS[:p]) + "->z"
        total -= np.einsum(subs, tensor, *([states] * p), optimize=True) / math.factorial(p)
        scale += np.einsum(subs, np.abs(tensor), *([np.abs(states)] * p), optimize=True) / math.factorial(p)
    return total, scale


def _tuple_energy(model, states: np.ndarray) -> np.ndarray:
    """H (b,) as the sum over stored index tuples of the packed couplings (distinct ensemble)."""
    total = np.zeros(states.shape[0])
    for p in model.degrees:
        couplings = model.packed_couplings(p).astype(np.float64)
        idx = np.array(list(itertools.combinations(range(model.n), p)), dtype=np.intp)
        total -= np.prod(states[:, idx], axis=2) @ couplings
    return total


def _tolerance(model) -> float:
    """Forward-error bound (m + p + 2) eps of a sum of m products, relative to sum |terms|."""
    m = sum(
        math.comb(model.n + (p - 1 if model.ensemble == "isotropic" else 0), p)
        for p in model.degrees
    )
    return 4 * (m + max(model.degrees) + 2) * float(np.finfo(model.dtype).eps)


# ---------------------------------------------------------------------------- contractions
@PROPERTY
@given(model=models(), seed=st.integers(0, 2**32 - 1), b=st.integers(1, 9))
def test_energy_equals_the_einsum_reference(model, seed, b):
    states = _states(model, seed, b)
    ref, scale = _einsum_energy(model, states)
    got = np.asarray(model.energy(states), dtype=np.float64)
    assert got.shape == (b,)
    assert np.all(np.abs(got - ref) <= _tolerance(model) * scale + 1e-300)
    if model.ensemble == "distinct":
        tuples = _tuple_energy(model, states)
        assert np.all(np.abs(got - tuples) <= _tolerance(model) * scale + 1e-300)


@PROPERTY
@given(model=models(kinds=("ising",), dtypes=("float64",)), seed=st.integers(0, 2**32 - 1))
def test_ising_gradient_is_the_exact_flip_difference(model, seed):
    # H is affine in each spin: H(s) - H(s with s_i flipped) = 2 s_i dH/ds_i.
    s = _states(model, seed, 1)[0]
    flipped = np.repeat(s[None, :], model.n, axis=0)
    flipped[np.arange(model.n), np.arange(model.n)] *= -1
    difference = model.energy(s) - model.energy(flipped)
    _, scale = _einsum_energy(model, s[None, :])
    np.testing.assert_allclose(difference, 2 * s * model.gradient(s), rtol=0, atol=8 * _tolerance(model) * scale[0])


@PROPERTY
@given(
    model=models(kinds=("spherical", "isotropic"), dtypes=("float64",)),
    seed=st.integers(0, 2**32 - 1),
    direction_seed=st.integers(0, 2**32 - 1),
)
def test_spherical_gradient_matches_geodesic_finite_differences(model, seed, direction_seed):
    # d/dt H(cos t s + sin t sqrt(n) v) at t = 0 is sqrt(n) v . grad H for a unit tangent v.
    s = _states(model, seed, 1)[0]
    v = np.random.default_rng([direction_seed, 1]).standard_normal(model.n)
    v -= (v @ s) / model.n * s
    assume(np.linalg.norm(v) > 1e-3)
    v /= np.linalg.norm(v)
    h = 1e-4
    ends = np.array([np.cos(t) * s + np.sin(t) * np.sqrt(model.n) * v for t in (h, -h, 2 * h, -2 * h)])
    e = model.energy(ends)
    derivative = (8 * (e[0] - e[1]) - (e[2] - e[3])) / (12 * h)  # fourth-order central difference
    exact = np.sqrt(model.n) * v @ model.gradient(s)
    _, scale = _einsum_energy(model, s[None, :])
    assert abs(derivative - exact) <= 1e-7 * max(1.0, scale[0])


@PROPERTY
@given(model=models(kinds=("spherical",), dtypes=("float64",)), seed=st.integers(0, 2**32 - 1))
def test_euler_identity_of_the_homogeneous_degrees(model, seed):
    # H_p(lambda s) = lambda^p H_p(s), so s . grad H = sum_p p H_p(s); for pure p: p H(s).
    s = _states(model, seed, 1)[0]
    parts = {
        p: -np.einsum(
            LETTERS[:p] + "," + ",".join(LETTERS[:p]) + "->", t, *([s] * p), optimize=True
        ) / math.factorial(p)
        for p, t in model.tensors().items()
    }
    _, scale = _einsum_energy(model, s[None, :])
    assert abs(s @ model.gradient(s) - sum(p * hp for p, hp in parts.items())) <= 1e-11 * max(1.0, scale[0])
    if len(model.degrees) == 1:
        assert abs(s @ model.gradient(s) - model.degrees[0] * model.energy(s)) <= 1e-11 * max(1.0, scale[0])


@PROPERTY
@given(model=models(), seed=st.integers(0, 2**32 - 1), b=st.integers(1, 6))
def test_sign_reversal_is_exact(model, seed, b):
    # Every degree even: H(-s) = H(s); every degree odd: H(-s) = -H(s); bit for bit (negation
    # is exact and commutes with rounding).
    states = _states(model, seed, b)
    parities = {p % 2 for p in model.degrees}
    e, e_flipped = model.energy(states), model.energy(-states)
    if parities == {0}:
        assert np.array_equal(e_flipped, e)
    elif parities == {1}:
        assert np.array_equal(e_flipped, -e)


@PROPERTY
@given(model=models(), seed=st.integers(0, 2**32 - 1), b=st.integers(2, 12))
def test_batch_equals_rows(model, seed, b):
    states = _states(model, seed, b)
    energies = model.energy(states)
    gradients = model.gradient(states)
    _, scale = _einsum_energy(model, states)
    atol = _tolerance(model) * scale
    for i in range(b):
        assert abs(float(model.energy(states[i])) - float(energies[i])) <= atol[i]
        np.testing.assert_allclose(model.gradient(states[i]), gradients[i], rtol=0, atol=8 * atol[i] + 1e-300)
    e2, g2 = model.energy_and_gradient(states)
    np.testing.assert_array_equal(e2, energies)
    np.testing.assert_array_equal(g2, gradients)


@FEW
@given(
    kind=st.sampled_from(["spherical", "isotropic", "ising"]),
    p=degrees(),
    n=st.integers(4, 10),
    model_seed=st.integers(0, 2**63 - 1),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_same_seed_same_couplings(kind, p, n, model_seed, dtype, seed):
    def build():
        if kind == "ising":
            return pspin.IsingPSpin(n, p, seed=model_seed, dtype=dtype)
        return pspin.SphericalPSpin(n, p, seed=model_seed, dtype=dtype, ensemble="isotropic" if kind == "isotropic" else "distinct")

    model, twin = build(), build()
    for degree in model.degrees:
        assert model.packed_couplings(degree).tobytes() == twin.packed_couplings(degree).tobytes()
    states = _states(model, seed, 3)
    assert np.array_equal(model.energy(states), twin.energy(states))


# ---------------------------------------------------------------------------- results and tools
@FEW
@given(
    n=st.integers(4, 10),
    p=st.sampled_from([2, 3, 4]),
    model_seed=st.integers(0, 2**32 - 1),
    run_seed=st.integers(0, 2**32 - 1),
    starts=st.integers(1, 5),
    kind=st.sampled_from(["spherical", "ising", "anneal"]),
)
def test_results_save_and_load_round_trip(tmp_path_factory, n, p, model_seed, run_seed, starts, kind):
    pytest.importorskip("h5py")
    if kind == "spherical":
        result = pspin.minimize(pspin.SphericalPSpin(n, p, seed=model_seed), starts, seed=run_seed, max_iter=50)
    elif kind == "ising":  # single-flip descent takes degrees 2 and 3
        result = pspin.minimize(pspin.IsingPSpin(n, min(p, 3), seed=model_seed), starts, seed=run_seed)
    else:
        schedule = np.geomspace(2.0, 0.2, 5)
        result = pspin.anneal(pspin.IsingPSpin(n, p, seed=model_seed), schedule, n_starts=starts, seed=run_seed)
    path = result.save(tmp_path_factory.mktemp("round_trip") / "r.h5")
    back = pspin.load(path)
    assert type(back) is type(result)
    assert back == result


@PROPERTY
@given(
    n=st.integers(2, 12),
    pool=st.integers(1, 6),
    draws=st.lists(st.integers(0, 5), min_size=1, max_size=30),
    seed=st.integers(0, 2**32 - 1),
    flip=st.booleans(),
)
def test_unique_states_is_idempotent_and_covers_its_input(n, pool, draws, seed, flip):
    rng = np.random.default_rng(seed)
    candidates = rng.choice([-1.0, 1.0], size=(pool, n))
    signs = rng.choice([-1.0, 1.0], size=len(draws))
    states = candidates[[d % pool for d in draws]] * signs[:, None]
    distinct, first = pspin.unique_states(states, flip_symmetric=flip, return_index=True)
    assert np.array_equal(distinct, states[first])
    again = pspin.unique_states(distinct, flip_symmetric=flip)
    assert np.array_equal(again, distinct)
    q = states @ distinct.T / n
    matched = np.abs(q) if flip else q
    assert np.all(np.isclose(matched, 1.0).sum(axis=1) == 1)  # each input is exactly one of them
    assert len(distinct) <= len(states)


@PROPERTY
@given(hits=st.lists(st.integers(1, 50), min_size=1, max_size=60))
def test_chao1_is_at_least_what_was_seen(hits):
    estimate, error = entropy.chao1(hits)
    assert math.isfinite(estimate) and math.isfinite(error)
    assert estimate >= len(hits) - 1e-9
    assert error >= 0


@PROPERTY
@given(
    t_min=st.floats(0.3, 1.5),
    t_max=st.floats(3.0, 10.0),
    points=st.integers(6, 30),
    m=st.floats(-1.0, 1.0),
    v=st.floats(0.05, 3.0),
    a=st.floats(-0.2, 0.2),
    s_inf=st.floats(0.0, 2.0),
)
def test_thermodynamic_integration_of_an_exact_energy(t_min, t_max, points, m, v, a, s_inf):
    # u(beta) = m - v beta + a beta^2 (cubic splines and the quadratic tail are exact for
    # it) integrates to s(beta) = s_inf - v beta^2 / 2 + 2 a beta^3 / 3.
    temperatures = np.geomspace(t_min, t_max, points)
    beta = 1 / temperatures
    u = m - v * beta + a * beta**2
    ti = entropy.thermodynamic_integration(
        temperatures[::-1], u[::-1], variance=v, mean_at_infinity=m, s_infinity=s_inf
    )
    order = np.argsort(ti.temperatures)
    exact = s_inf - v * beta**2 / 2 + 2 * a * beta**3 / 3
    np.testing.assert_allclose(np.asarray(ti.entropy)[order], exact, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------- bad input
BAD_SIZES = st.one_of(
    st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not float(x).is_integer()),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(-float("inf")),
    st.just("3"),
    st.just(None),
    st.just(True),
    st.just([3]),
)


@PROPERTY
@given(n=BAD_SIZES, kind=st.sampled_from(["spherical", "ising"]))
def test_bad_model_sizes_raise(n, kind):
    cls = pspin.SphericalPSpin if kind == "spherical" else pspin.IsingPSpin
    with pytest.raises((ValueError, TypeError)):
        cls(n, 3, seed=1)


@PROPERTY
@given(p=st.one_of(BAD_SIZES, st.integers(-5, 1), st.integers(17, 2**70)))
def test_bad_degrees_raise(p):
    with pytest.raises((ValueError, TypeError)):
        pspin.SphericalPSpin(8, p, seed=1)


@PROPERTY
@given(size=BAD_SIZES.filter(lambda x: x is not None), which=st.sampled_from(["random_state", "minimize"]))
def test_bad_batch_sizes_raise(size, which):
    model = pspin.SphericalPSpin(6, 3, seed=1)
    with pytest.raises((ValueError, TypeError)):
        if which == "random_state":
            model.random_state(size, seed=1)
        else:
            pspin.minimize(model, size, seed=1)


@PROPERTY
@given(
    shape=st.one_of(st.just((5,)), st.just((2, 7)), st.just((0, 6)), st.just((2, 3, 6)), st.just(())),
    value=st.sampled_from([np.nan, np.inf, 0.5, 2.0]),
)
def test_bad_states_raise(shape, value):
    model = pspin.IsingPSpin(6, 2, seed=1)
    states = np.full(shape, value)
    with pytest.raises((ValueError, TypeError)):
        model.energy(states)
