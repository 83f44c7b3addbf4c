"""Public API of the foundation: configuration, threads, model attributes and return types."""

from __future__ import annotations

import importlib.metadata
import io
import math
import re

import numpy as np
import pspin
import pytest


# --------------------------------------------------------------------------- package
def test_version_matches_installed_metadata():
    assert isinstance(pspin.__version__, str)
    assert pspin.__version__ == importlib.metadata.version("pspin")
    assert re.fullmatch(
        r"\d+\.\d+(\.\d+)?([._-]?(a|b|rc|dev|post)\d*)*(\+[\w.]+)?", pspin.__version__
    )


def test_public_names():
    for name in (
        "SphericalPSpin",
        "IsingPSpin",
        "show_config",
        "set_num_threads",
        "get_num_threads",
        "threads",
        "__version__",
    ):
        assert hasattr(pspin, name), name
        assert name in pspin.__all__


def test_show_config(capsys):
    buf = io.StringIO()
    info = pspin.show_config(file=buf)
    assert isinstance(info, dict)
    for key in ("version", "compiler", "openmp", "max_threads", "simd_width_bits"):
        assert key in info, key
        assert key in buf.getvalue(), f"{key} not printed"
    assert info["version"] == pspin.__version__
    assert isinstance(info["openmp"], bool) and info["openmp"], "OpenMP is required by design.md"
    assert isinstance(info["compiler"], str) and info["compiler"]
    assert isinstance(info["max_threads"], int) and info["max_threads"] >= 1
    assert isinstance(info["simd_width_bits"], int) and info["simd_width_bits"] >= 64
    assert info["simd_width_bits"] % 64 == 0
    assert capsys.readouterr().out == ""  # printed to ``file`` only
    again = pspin.show_config()
    assert "version" in capsys.readouterr().out
    assert again["version"] == info["version"]


# --------------------------------------------------------------------------- threads
def test_set_and_get_num_threads():
    before = pspin.get_num_threads()
    try:
        pspin.set_num_threads(1)
        assert pspin.get_num_threads() == 1
        pspin.set_num_threads(2)
        assert pspin.get_num_threads() == 2
    finally:
        pspin.set_num_threads(before)
    assert pspin.get_num_threads() == before


def test_threads_context_manager_restores():
    before = pspin.get_num_threads()
    with pspin.threads(1):
        assert pspin.get_num_threads() == 1
        with pspin.threads(3):
            assert pspin.get_num_threads() == 3
        assert pspin.get_num_threads() == 1
    assert pspin.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"), pspin.threads(1):
        assert pspin.get_num_threads() == 1
        raise RuntimeError("boom")
    assert pspin.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_rejects_non_positive(bad):
    before = pspin.get_num_threads()
    with pytest.raises(ValueError, match=">= 1"):
        pspin.set_num_threads(bad)
    with pytest.raises(ValueError, match=">= 1"), pspin.threads(bad):
        pass
    assert pspin.get_num_threads() == before


@pytest.mark.parametrize("bad", [1.5, "2", True, None])
def test_set_num_threads_rejects_non_int(bad):
    with pytest.raises(TypeError, match="int"):
        pspin.set_num_threads(bad)


def test_set_num_threads_accepts_numpy_int():
    """Like n, p and seed (which take any numbers.Integral), numpy integers are ints here too."""
    before = pspin.get_num_threads()
    try:
        pspin.set_num_threads(np.int64(1))
        assert pspin.get_num_threads() == 1
    finally:
        pspin.set_num_threads(before)


# --------------------------------------------------------------------------- model attributes
@pytest.mark.parametrize(
    ("cls", "kwargs", "multiset"),
    [
        (pspin.SphericalPSpin, {}, False),
        (pspin.SphericalPSpin, {"ensemble": "isotropic"}, True),
        (pspin.IsingPSpin, {}, False),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32", np.float32, np.dtype("float64")])
def test_model_attributes(cls, kwargs, multiset, dtype):
    n, spec = 13, {4: 0.5, 2: 1.5}
    m = cls(n, spec, seed=1, dtype=dtype, **kwargs)
    assert m.n == n and isinstance(m.n, int)
    assert m.degrees == (2, 4)
    assert m.coefficients == {2: 1.5, 4: 0.5}
    m.coefficients[2] = 99.0  # a copy: the model is unchanged
    assert m.coefficients == {2: 1.5, 4: 0.5}
    assert isinstance(m.dtype, np.dtype) and m.dtype == np.dtype(dtype)
    assert m.ensemble == ("isotropic" if multiset else "distinct")
    count = sum(math.comb(n + (p - 1 if multiset else 0), p) for p in (2, 4))
    assert m.nbytes == count * m.dtype.itemsize
    assert isinstance(m.seed_sequence, np.random.SeedSequence)
    assert m.xi(0.5) == pytest.approx(1.5**2 * 0.25 + 0.5**2 * 0.0625, rel=1e-15)
    np.testing.assert_allclose(m.xi(np.array([0.0, 1.0])), [0.0, 1.5**2 + 0.5**2], rtol=1e-15)
    assert cls.__name__ in repr(m)
    for p in m.degrees:
        k = m.packed_couplings(p)
        assert k.dtype == m.dtype and k.shape == (math.comb(n + (p - 1 if multiset else 0), p),)
        k[:] = 0  # a copy: the model is unchanged
        assert np.any(m.packed_couplings(p) != 0)


def test_pure_model_coefficients_and_numpy_integer_arguments():
    m = pspin.SphericalPSpin(np.int64(9), np.int32(3), seed=np.uint32(4))
    assert m.n == 9 and m.degrees == (3,) and m.coefficients == {3: 1.0}
    ref = pspin.SphericalPSpin(9, 3, seed=4)
    np.testing.assert_array_equal(m.packed_couplings(3), ref.packed_couplings(3))


def test_ising_has_no_riemannian_methods():
    m = pspin.IsingPSpin(6, 2, seed=0)
    for name in (
        "riemannian_gradient",
        "riemannian_hessian",
        "hessian_spectrum",
        "riemannian_hessian_vector_product",
    ):
        assert not hasattr(m, name), name
    assert m.ensemble == "distinct"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls", [pspin.SphericalPSpin, pspin.IsingPSpin])
def test_return_types_and_shapes(cls, dtype):
    n = 10
    m = cls(n, {2: 0.5, 3: 1.0}, seed=3, dtype=dtype)
    s1 = m.random_state(seed=1)
    sb = m.random_state(4, seed=2)
    assert s1.shape == (n,) and sb.shape == (4, n)
    assert s1.dtype == m.dtype and sb.dtype == m.dtype
    assert m.random_state(np.int64(2)).shape == (2, n)

    e1 = m.energy(s1)
    assert type(e1) is float
    eb = m.energy(sb)
    assert isinstance(eb, np.ndarray) and eb.shape == (4,) and eb.dtype == np.float64

    for fn in (m.gradient, m.local_fields):
        assert fn(s1).shape == (n,) and fn(s1).dtype == m.dtype
        assert fn(sb).shape == (4, n) and fn(sb).dtype == m.dtype
    np.testing.assert_array_equal(m.local_fields(sb), -m.gradient(sb))

    e, g = m.energy_and_gradient(s1)
    assert type(e) is float and g.shape == (n,)
    np.testing.assert_array_equal(g, m.gradient(s1))
    assert e == pytest.approx(e1, rel=1e-12 if dtype == "float64" else 1e-5, abs=1e-12)
    eb2, gb2 = m.energy_and_gradient(sb)
    assert eb2.shape == (4,) and gb2.shape == (4, n)
    np.testing.assert_allclose(eb2, eb, rtol=1e-12 if dtype == "float64" else 1e-5, atol=1e-12)

    h = m.hessian(s1)
    assert h.shape == (n, n) and h.dtype == np.float64
    np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-12 * np.abs(h).max())
    hv1 = m.hessian_vector_product(s1, np.ones(n))
    hvb = m.hessian_vector_product(sb, np.ones((4, n)))
    assert hv1.shape == (n,) and hvb.shape == (4, n)

    if isinstance(m, pspin.SphericalPSpin):
        assert m.riemannian_gradient(s1).shape == (n,) and m.riemannian_gradient(sb).shape == (4, n)
        assert m.riemannian_hessian(s1).shape == (n, n)
        assert m.hessian_spectrum(s1).shape == (n - 1,)
        assert m.riemannian_hessian_vector_product(s1, np.ones(n)).shape == (n,)
        assert m.riemannian_hessian_vector_product(sb, np.ones((4, n))).shape == (4, n)
        np.testing.assert_allclose(np.einsum("bi,bi->b", sb.astype(np.float64), sb), n, rtol=1e-6)
    else:
        assert set(np.unique(sb)) <= {-1.0, 1.0}


def test_states_of_other_real_dtypes_accepted():
    n = 8
    ising = pspin.IsingPSpin(n, 3, seed=0)
    s = ising.random_state(3, seed=0)
    ref = ising.energy(s)
    for dt in (np.int8, np.int64, np.float32):
        np.testing.assert_array_equal(ising.energy(s.astype(dt)), ref)
    # A single configuration goes through the bandwidth-bound b = 1 kernel, whose
    # summation order differs from the batched kernel's; compare like with like.
    assert ising.energy(list(s[0])) == ising.energy(s[0])
    assert ising.energy(list(s[0])) == pytest.approx(ref[0], rel=1e-14)
    sph = pspin.SphericalPSpin(4, 2, seed=0)
    ints = np.array([1, -1, 1, 1])  # |s|^2 = 4 = n
    assert sph.energy(ints) == sph.energy(ints.astype(float))


def test_from_tensors_model_metadata():
    t = np.zeros((5, 5))
    t[0, 1] = t[1, 0] = 2.0
    m = pspin.IsingPSpin.from_tensors({2: t}, dtype="float32")
    assert m.n == 5 and m.degrees == (2,) and m.coefficients == {2: 1.0} and m.dtype == np.float32
    s = np.array([1.0, 1.0, -1.0, 1.0, 1.0])
    assert m.energy(s) == -2.0  # H = -(1/2!) (T01 + T10) s0 s1
    np.testing.assert_array_equal(m.gradient(s), [-2.0, -2.0, 0.0, 0.0, 0.0])
