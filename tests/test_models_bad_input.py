"""Bad input: a clear ValueError / TypeError / MemoryError, raised before any work starts."""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pspin
import pytest

Sph = pspin.SphericalPSpin
Ising = pspin.IsingPSpin
CLASSES = [Sph, Ising]


# --------------------------------------------------------------------------- constructor
@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(("n", "p"), [(2, 3), (3, 4), (0, 2), (-5, 2), (4, {2: 1.0, 5: 1.0})])
def test_n_smaller_than_p(cls, n, p):
    with pytest.raises(ValueError, match="n"):
        cls(n, p, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("p", [1, 0, -3, 17, 100, {1: 1.0}, {2: 1.0, 17: 1.0}])
def test_degree_out_of_range(cls, p):
    with pytest.raises(ValueError, match=r"degree|\[2, 16\]"):
        cls(20, p, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "p", [3.0, 2.5, True, "3", None, [3], np.float64(3.0), {3.0: 1.0}, {True: 1.0}]
)
def test_degree_not_an_int(cls, p):
    with pytest.raises(TypeError, match="degree|int"):
        cls(20, p, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
def test_empty_mixture(cls):
    with pytest.raises(ValueError, match="at least one degree"):
        cls(20, {}, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("coef", [float("nan"), float("inf"), -float("inf"), np.nan])
def test_non_finite_coefficients(cls, coef):
    with pytest.raises(ValueError, match="finite"):
        cls(20, {2: 1.0, 3: coef}, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("coef", ["1", None, 1j, True, [1.0]])
def test_non_real_coefficients(cls, coef):
    with pytest.raises(TypeError, match="coefficient"):
        cls(20, {2: 1.0, 3: coef}, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("n", [10.0, "10", True, None, np.float64(10)])
def test_n_not_an_int(cls, n):
    with pytest.raises(TypeError, match="n"):
        cls(n, 3, seed=0)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "dtype", ["float16", "int64", "complex128", "foo", np.int32, np.complex64, "float128", object]
)
def test_unknown_dtype(cls, dtype):
    with pytest.raises(ValueError, match="dtype"):
        cls(10, 3, seed=0, dtype=dtype)


@pytest.mark.parametrize("ensemble", ["foo", "Isotropic", "", None, 1, "DISTINCT"])
def test_unknown_ensemble(ensemble):
    with pytest.raises(ValueError, match="ensemble"):
        Sph(10, 3, seed=0, ensemble=ensemble)


@pytest.mark.parametrize("cls", CLASSES)
def test_negative_seed(cls):
    with pytest.raises(ValueError, match="non-negative"):
        cls(10, 3, seed=-1)
    with pytest.raises(ValueError, match="non-negative"):
        cls(10, 3, seed=np.int64(-7))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("seed", [1.5, "1", True, [1, 2], np.random.RandomState(1)])
def test_seed_of_wrong_type(cls, seed):
    with pytest.raises(TypeError, match="seed"):
        cls(10, 3, seed=seed)


def _bytes_in(message: str) -> list[int]:
    return [
        int(x.replace(",", "").replace("_", "")) for x in re.findall(r"(\d[\d,_]*) bytes", message)
    ]


@pytest.mark.parametrize(
    ("cls", "n", "p", "kwargs", "count"),
    [
        (Sph, 100_000, 3, {}, math.comb(100_000, 3)),
        (Sph, 100_000, 3, {"dtype": "float32"}, math.comb(100_000, 3)),
        (Sph, 100_000, 3, {"ensemble": "isotropic"}, math.comb(100_002, 3)),
        (Ising, 5_000, 4, {}, math.comb(5_000, 4)),
        (Sph, 3_000, {2: 1.0, 5: 1.0}, {}, math.comb(3_000, 2) + math.comb(3_000, 5)),
    ],
)
def test_too_large_for_memory(cls, n, p, kwargs, count):
    itemsize = np.dtype(kwargs.get("dtype", "float64")).itemsize
    start = time.perf_counter()
    with pytest.raises(MemoryError) as info:
        cls(n, p, seed=0, **kwargs)
    assert time.perf_counter() - start < 5.0, "refusing an impossible model must be immediate"
    assert count * itemsize in _bytes_in(str(info.value)), str(info.value)


def test_too_large_just_above_physical_memory():
    """A model needing ~4x the machine's RAM (read here from /proc/meminfo) is refused."""
    try:
        with open("/proc/meminfo") as f:
            total = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemTotal:"))
    except (OSError, StopIteration):
        pytest.skip("no /proc/meminfo")
    n = 3
    while math.comb(n, 3) * 8 < 4 * total:
        n = int(n * 1.05) + 1
    start = time.perf_counter()
    with pytest.raises(MemoryError, match="bytes"):
        Sph(n, 3, seed=0)
    assert time.perf_counter() - start < 5.0


def test_dense_tensors_refused_when_too_large():
    model = Sph(16, 8, seed=0)  # 12870 couplings, but a dense 16^8 tensor is 34 GB
    with pytest.raises(ValueError, match="bytes"):
        model.tensors()


# --------------------------------------------------------------------------- states
SPH_METHODS = [
    "energy",
    "gradient",
    "local_fields",
    "energy_and_gradient",
    "hessian",
    "riemannian_gradient",
    "riemannian_hessian",
    "hessian_spectrum",
]
ISING_METHODS = ["energy", "gradient", "local_fields", "energy_and_gradient", "hessian"]
N = 7


@pytest.fixture(scope="module")
def sph():
    return Sph(N, 3, seed=1)


@pytest.fixture(scope="module")
def ising():
    return Ising(N, 3, seed=1)


def _call(model, method, s):
    if method == "hvp":
        return model.hessian_vector_product(s, np.ones(np.shape(s)))
    if method == "rhvp":
        return model.riemannian_hessian_vector_product(s, np.ones(np.shape(s)))
    return getattr(model, method)(s)


def _on_sphere(shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x * np.sqrt(shape[-1]) / np.linalg.norm(x, axis=-1, keepdims=True)


BAD_SHAPES = [(N + 1,), (N - 1,), (2, N + 1), (2, 3, N), (), (0, N), (N, 1), (1, 1)]


@pytest.mark.parametrize("shape", BAD_SHAPES, ids=str)
@pytest.mark.parametrize("method", SPH_METHODS + ["hvp", "rhvp"])
def test_states_of_wrong_shape_spherical(sph, method, shape):
    s = np.ones(shape) if 0 in shape or shape == () else _on_sphere(shape)
    with pytest.raises(ValueError, match="shape"):
        _call(sph, method, s)


@pytest.mark.parametrize("shape", BAD_SHAPES, ids=str)
@pytest.mark.parametrize("method", ISING_METHODS + ["hvp"])
def test_states_of_wrong_shape_ising(ising, method, shape):
    with pytest.raises(ValueError, match="shape"):
        _call(ising, method, np.ones(shape))


def _typed(kind, s):
    if kind == "complex":
        return s.astype(np.complex128)
    if kind == "bool":
        return s > 0
    if kind == "object":
        return s.astype(object)
    if kind == "str":
        return s.astype(str)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["complex", "bool", "object", "str"])
@pytest.mark.parametrize("method", SPH_METHODS + ["hvp", "rhvp"])
def test_states_of_wrong_dtype_spherical(sph, method, kind):
    with pytest.raises(TypeError, match="real"):
        _call(sph, method, _typed(kind, _on_sphere((N,))))


@pytest.mark.parametrize("kind", ["complex", "bool", "object", "str"])
@pytest.mark.parametrize("method", ISING_METHODS + ["hvp"])
def test_states_of_wrong_dtype_ising(ising, method, kind):
    with pytest.raises(TypeError, match="real"):
        _call(ising, method, _typed(kind, np.ones(N)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method", SPH_METHODS + ["hvp", "rhvp"])
def test_non_finite_states_spherical(sph, method, bad):
    s = _on_sphere((N,))
    s[2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        _call(sph, method, s)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("method", ISING_METHODS + ["hvp"])
def test_non_finite_states_ising(ising, method, bad):
    s = np.ones(N)
    s[0] = bad
    with pytest.raises(ValueError, match="NaN or infinite|\\+1 and -1"):
        _call(ising, method, s)


def test_non_finite_in_one_row_of_a_batch(sph, ising):
    s = _on_sphere((4, N))
    s[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        sph.energy(s)
    x = np.ones((4, N))
    x[2, 2] = np.inf
    with pytest.raises(ValueError):
        ising.gradient(x)


@pytest.mark.parametrize("factor", [2.0, 0.5, 1 + 1e-6, 1 - 1e-6, 0.0])
@pytest.mark.parametrize("method", SPH_METHODS + ["hvp", "rhvp"])
def test_states_off_the_sphere(sph, method, factor):
    with pytest.raises(ValueError, match="sphere"):
        _call(sph, method, factor * _on_sphere((N,)))


def test_sphere_tolerance_is_sqrt_eps_of_less_precise_dtype():
    s = _on_sphere((N,))
    m64 = Sph(N, 3, seed=0)
    m32 = Sph(N, 3, seed=0, dtype="float32")
    # |s|^2/n = 1 + 2e-10 (inside sqrt(eps64) = 1.5e-8): accepted; 1 + 2e-7 refused
    m64.energy(s * (1 + 1e-10))
    with pytest.raises(ValueError, match="sphere"):
        m64.energy(s * (1 + 1e-7))
    # float32 anywhere -> sqrt(eps32) = 3.5e-4
    m32.energy(s * (1 + 1e-5))
    m64.energy((s * (1 + 1e-5)).astype(np.float32))
    with pytest.raises(ValueError, match="sphere"):
        m32.energy(s * (1 + 1e-3))
    # the row that is off is named
    batch = _on_sphere((5, N))
    batch[3] *= 1.1
    with pytest.raises(ValueError, match="row 3"):
        m64.energy(batch)


@pytest.mark.parametrize("values", [[0.5], [0.0], [2.0], [-1.0000001], [1, 0, -1]])
@pytest.mark.parametrize("method", ISING_METHODS + ["hvp"])
def test_ising_states_not_plus_minus_one(ising, method, values):
    s = np.ones(N)
    s[: len(values)] = values
    with pytest.raises(ValueError, match=r"\+1 and -1"):
        _call(ising, method, s)


def test_ising_rejects_spherical_state(ising):
    with pytest.raises(ValueError, match=r"\+1 and -1"):
        ising.energy(_on_sphere((3, N)))


@pytest.mark.parametrize("method", ["hessian", "riemannian_hessian", "hessian_spectrum"])
def test_hessians_take_one_state(sph, method):
    with pytest.raises(ValueError, match="one configuration"):
        getattr(sph, method)(_on_sphere((3, N)))
    with pytest.raises(ValueError, match="one configuration"):
        getattr(sph, method)(_on_sphere((1, N)))


def test_ising_hessian_takes_one_state(ising):
    with pytest.raises(ValueError, match="one configuration"):
        ising.hessian(np.ones((2, N)))


@pytest.mark.parametrize("method", ["hessian_vector_product", "riemannian_hessian_vector_product"])
@pytest.mark.parametrize(
    ("s_shape", "v_shape"),
    [
        ((N,), (N + 1,)),
        ((N,), (2, N)),
        ((3, N), (2, N)),
        ((3, N), (N,)),
        ((N,), (1, N)),
        ((1, N), (N,)),
        ((2, N), (2, N + 1)),
    ],
)
def test_hessian_vector_product_mismatched_shapes(sph, method, s_shape, v_shape):
    with pytest.raises(ValueError, match="shape"):
        getattr(sph, method)(_on_sphere(s_shape), np.ones(v_shape))


@pytest.mark.parametrize("method", ["hessian_vector_product", "riemannian_hessian_vector_product"])
def test_hessian_vector_product_bad_vectors(sph, method):
    s = _on_sphere((2, N))
    v = np.ones((2, N))
    v[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        getattr(sph, method)(s, v)
    with pytest.raises(TypeError, match="real"):
        getattr(sph, method)(s, np.ones((2, N), dtype=complex))


def test_ising_hessian_vector_product_mismatched(ising):
    with pytest.raises(ValueError, match="shape"):
        ising.hessian_vector_product(np.ones(N), np.ones((2, N)))


@pytest.mark.parametrize("cls", CLASSES)
def test_random_state_bad_arguments(cls):
    model = cls(N, 3, seed=0)
    with pytest.raises(ValueError, match="size"):
        model.random_state(size=0)
    with pytest.raises(ValueError, match="size"):
        model.random_state(size=-2)
    with pytest.raises(TypeError, match="size"):
        model.random_state(size=2.5)
    with pytest.raises(TypeError, match="size"):
        model.random_state(size=(2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        model.random_state(seed=-1)


def test_packed_couplings_unknown_degree(sph):
    with pytest.raises(ValueError, match="degree"):
        sph.packed_couplings(4)


# --------------------------------------------------------------------------- from_tensors
def _sym3(n, seed=0, repeated=False):
    rng = np.random.default_rng(seed)
    t = rng.standard_normal((n, n, n))
    t = (
        sum(
            np.transpose(t, p)
            for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
        )
        / 6
    )
    if not repeated:
        i, j, k = np.indices(t.shape)
        t[(i == j) | (j == k) | (i == k)] = 0.0
    return t


@pytest.mark.parametrize("cls", CLASSES)
def test_from_tensors_not_symmetric(cls):
    t = _sym3(6)
    t[0, 1, 2] += 1e-3
    with pytest.raises(ValueError, match="symmetric"):
        cls.from_tensors(t)
    m = np.random.default_rng(0).standard_normal((6, 6))
    np.fill_diagonal(m, 0)
    with pytest.raises(ValueError, match="symmetric"):
        cls.from_tensors({2: m})


@pytest.mark.parametrize("cls", CLASSES)
def test_from_tensors_mismatched_n(cls):
    t2 = np.zeros((7, 7))
    with pytest.raises(ValueError, match="same length"):
        cls.from_tensors({2: t2, 3: _sym3(6)})
    with pytest.raises(ValueError, match="same length"):
        cls.from_tensors({3: np.zeros((6, 6, 7))})


@pytest.mark.parametrize("cls", CLASSES)
def test_from_tensors_wrong_number_of_axes(cls):
    with pytest.raises(ValueError, match="axes"):
        cls.from_tensors({3: np.zeros((6, 6))})
    with pytest.raises(ValueError, match="axes"):
        cls.from_tensors({2: _sym3(6)})


def test_from_tensors_repeated_index_entries_refused():
    t = _sym3(6, repeated=True)
    with pytest.raises(ValueError, match="repeated"):
        Ising.from_tensors(t)
    with pytest.raises(ValueError, match="repeated"):
        Sph.from_tensors(t, ensemble="distinct")
    # one diagonal entry of an SK matrix is enough
    j = np.zeros((5, 5))
    j[2, 2] = 1.0
    with pytest.raises(ValueError, match="repeated"):
        Ising.from_tensors({2: j})


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_from_tensors_non_finite(cls, bad):
    t = _sym3(6)
    for idx in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]:
        t[idx] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        cls.from_tensors(t)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("arg", [{}, [], None, "abc", [[0.0, 1.0], [1.0, 0.0]]])
def test_from_tensors_not_tensors(cls, arg):
    with pytest.raises(TypeError):
        cls.from_tensors(arg)


@pytest.mark.parametrize("cls", CLASSES)
def test_from_tensors_bad_entries_dtype_and_degree(cls):
    with pytest.raises(TypeError, match="real"):
        cls.from_tensors(_sym3(5).astype(complex))
    with pytest.raises(TypeError, match="real"):
        cls.from_tensors({3: _sym3(5).astype(object)})
    with pytest.raises(ValueError, match="dtype"):
        cls.from_tensors(_sym3(5), dtype="float16")
    with pytest.raises(ValueError):
        cls.from_tensors({1: np.zeros(5)})
    with pytest.raises(ValueError, match="n"):
        cls.from_tensors(np.zeros((2, 2, 2)))  # n = 2 < p = 3


def test_from_tensors_bad_ensemble():
    with pytest.raises(ValueError, match="ensemble"):
        Sph.from_tensors(_sym3(5), ensemble="foo")
    with pytest.raises(ValueError, match="ensemble"):
        Ising.from_tensors(_sym3(5), ensemble="isotropic")
    with pytest.raises(TypeError):
        Sph.from_tensors(_sym3(5), seed=3)


# ------------------------------------------------------------- odd but valid input: no crash
def test_inputs_are_not_modified_and_views_work(sph):
    s = _on_sphere((6, 2 * N))[:, ::2]  # non-contiguous view, rows not on the sphere -> rescale
    s = s * np.sqrt(N) / np.linalg.norm(s, axis=1, keepdims=True)
    view = s[::2]
    copy = np.ascontiguousarray(view)
    before = view.copy()
    np.testing.assert_array_equal(sph.energy(view), sph.energy(copy))
    np.testing.assert_array_equal(sph.gradient(view), sph.gradient(copy))
    np.testing.assert_array_equal(sph.gradient(np.asfortranarray(copy)), sph.gradient(copy))
    np.testing.assert_array_equal(sph.hessian(view[0]), sph.hessian(copy[0]))
    np.testing.assert_array_equal(view, before)
    assert sph.energy(list(copy[0])) == sph.energy(copy[0])


def test_from_tensors_accepts_rounding_level_asymmetry():
    """A tensor symmetrised in floating point is symmetric only to rounding: accepted."""
    t = _sym3(6, seed=3)
    noisy = t * (1 + 1e-15 * np.random.default_rng(1).standard_normal(t.shape))
    i, j, k = np.indices(t.shape)
    noisy[(i == j) | (j == k) | (i == k)] = 0.0
    m = Sph.from_tensors(noisy)
    np.testing.assert_allclose(m.tensors()[3], t, rtol=0, atol=1e-13 * np.abs(t).max())
