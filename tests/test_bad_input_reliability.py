"""Bad input never gives silent NaN, and errors name the parameter (issue 12).

Two parts:

* the audit cases, one test each: coefficients beyond the range the dtype holds, vectors
  overflowing the model's dtype, starts near 1e300, constant series in
  ``pspin.analysis``, theory functions at extreme coefficients, ``max_step`` and
  ``bins`` out of range, root-finder failures of the theory, wrong types;
* a sweep: every public run function and model method with integers 2**31, 2**63, -1,
  0, NaN, inf, long-double states and wrong dtypes. Each call either raises
  ValueError/TypeError whose message names the parameter (never pybind11's
  "incompatible function arguments", never numpy's casting message) or, where the
  value is allowed, returns finite numbers.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pspin
import pytest
from pspin import IsingPSpin, SphericalPSpin, analysis, entropy, landscape, theory
from pspin.sampling import geometric_temperatures

FOREIGN = ("incompatible function arguments", "according to the rule", "Cannot cast", "solver cannot continue",
           "must have different signs")


def _clean(message: str) -> None:
    for text in FOREIGN:
        assert text not in message, message


def _finite(obj) -> bool:
    """Every float in obj (arrays, tuples, dataclasses) is finite."""
    if hasattr(obj, "__dataclass_fields__"):
        return all(_finite(getattr(obj, k)) for k in obj.__dataclass_fields__ if k not in ("params", "run_info"))
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return all(_finite(v) for v in obj)
    arr = np.asarray(obj) if isinstance(obj, (np.ndarray, float, np.floating)) else None
    return arr is None or arr.dtype.kind not in "fc" or bool(np.all(np.isfinite(arr)))


# ---------------------------------------------------------------------------- silent NaN


@pytest.mark.parametrize(
    ("cls", "coefficients", "dtype"),
    [
        (SphericalPSpin, {3: 1e300}, "float64"),
        (IsingPSpin, {3: 1e39}, "float32"),
        (SphericalPSpin, {3: 1e18}, "float32"),
        (IsingPSpin, {2: 1.0, 4: 1e200}, "float64"),
        (SphericalPSpin, {3: 10**400}, "float64"),
    ],
)
def test_coefficients_beyond_the_dtype_raise(cls, coefficients, dtype):
    with pytest.raises(ValueError, match=r"too large|finite") as info:
        cls(20, coefficients, seed=1, dtype=dtype)
    assert "coefficient" in str(info.value)


@pytest.mark.parametrize(("cls", "dtype", "c"), [(SphericalPSpin, "float64", 1e149), (IsingPSpin, "float64", 1e149),
                                                 (SphericalPSpin, "float32", 1e14), (IsingPSpin, "float32", 1e14),
                                                 (SphericalPSpin, "float32", 1e-40), (IsingPSpin, "float64", 1e-300)])
def test_coefficients_within_the_limit_give_finite_results(cls, dtype, c):
    m = cls(20, {3: c}, seed=1, dtype=dtype)
    s = m.random_state(4)
    assert _finite(m.energy(s)) and _finite(m.gradient(s))
    assert _finite(m.hessian_vector_product(s, s))
    assert _finite(pspin.minimize(m, 3, seed=2).energies)
    assert _finite(pspin.anneal(m, [2.0 * c, c], n_starts=2, seed=3).energies)


def test_from_tensors_beyond_the_dtype_raise():
    t = SphericalPSpin(6, 3, seed=1).tensors()[3] * 1e300
    with pytest.raises(ValueError, match="tensor of degree 3 is too large"):
        SphericalPSpin.from_tensors(t)
    with pytest.raises(ValueError, match="float32"):
        SphericalPSpin.from_tensors(t * 1e-270, dtype="float32")


@pytest.mark.parametrize("method", ["hessian_vector_product", "riemannian_hessian_vector_product"])
@pytest.mark.parametrize(("dtype", "scale"), [("float32", 1e300), ("float32", 1e38), ("float64", 1e300)])
def test_vectors_beyond_the_dtype_raise(method, dtype, scale):
    m = SphericalPSpin(20, 3, seed=1, dtype=dtype)
    s = m.random_state().astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="vectors has entries up to"):
            getattr(m, method)(s, np.full(20, scale))


@pytest.mark.parametrize("scale", [1e300, 1e-300, 2.0**1000, 5e-324 * 2**60])
@pytest.mark.parametrize("run", ["minimize", "critical_points", "census", "unique_states"])
def test_starts_near_the_float_limits_are_normalised(run, scale):
    m = SphericalPSpin(20, 3, seed=1)
    s = m.random_state(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if run == "minimize":
            ref, out = pspin.minimize(m, initial=s), pspin.minimize(m, initial=s * scale)
            np.testing.assert_allclose(out.energies, ref.energies, rtol=1e-12)
        elif run == "critical_points":
            ref, out = (pspin.critical_points(m, initial=x, index=0, max_iter=30) for x in (s, s * scale))
            np.testing.assert_allclose(out.energies, ref.energies, rtol=1e-10)
        elif run == "census":
            ref, out = (entropy.census(m, initial=x, polish=False) for x in (s, s * scale))
            np.testing.assert_allclose(out.energies, ref.energies, rtol=1e-12)
        else:
            assert pspin.unique_states(np.vstack([s, s]) * scale).shape == (2, 20)


def test_starts_in_range_are_unchanged_bit_for_bit():
    from pspin._validate import sphere_safe

    s = SphericalPSpin(20, 3, seed=1).random_state(3) * 1e100
    np.testing.assert_array_equal(sphere_safe(s), s)


@pytest.mark.parametrize(
    ("func", "quantity"),
    [
        (analysis.integrated_autocorrelation_time, "tau_int"),
        (analysis.effective_sample_size, "effective sample size"),
        (analysis.autocorrelation_function, "autocorrelation"),
        (analysis.binning_error, "tau_int"),
    ],
)
@pytest.mark.parametrize("shape", [(64,), (3, 64)])
def test_constant_series_warn(func, quantity, shape):
    x = np.full(shape, 2.5)
    with pytest.warns(RuntimeWarning, match=rf"x: .*along axis -1.*constant.*{quantity}") as record:
        func(x)
    assert len(record) == 1


def test_constant_series_warning_names_the_axis_and_the_count():
    x = np.random.default_rng(1).standard_normal((64, 3))
    x[:, 1] = 0.0
    with pytest.warns(RuntimeWarning, match=r"1 of 3 series along axis 0 is constant \(first at index \(1,\)\)"):
        r = analysis.integrated_autocorrelation_time(x, axis=0)
    assert np.isnan(r.tau[1]) and np.all(np.isfinite(r.tau[[0, 2]]))


def test_binder_ratio_of_zero_overlaps_warns():
    with pytest.warns(RuntimeWarning, match=r"q: .*identically zero.*Binder"):
        assert np.isnan(analysis.binder_ratio(np.zeros((2, 100))).estimate).all()


def test_non_constant_series_do_not_warn():
    x = np.random.default_rng(2).standard_normal((2, 256))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analysis.integrated_autocorrelation_time(x)
        analysis.effective_sample_size(x)
        analysis.binning_error(x)
        analysis.binder_ratio(x)
        analysis.log_binning(np.ones(100))  # windows of a constant series: errors 0, no tau


# ---------------------------------------------------------------------------- theory


def _theory_calls(p, scale):
    """(name, callable) for every function of pspin.theory.__all__ that takes p."""
    values = {"e": -1.5 * scale, "T": 0.8 * scale, "f": -1.7 * scale, "lam": 0.1 * scale, "n": 10, "k": 1, "q": 0.5}
    for name in theory.__all__:
        f = getattr(theory, name)
        if not inspect.isfunction(f) or "p" not in inspect.signature(f).parameters:
            continue
        args = []
        for pn, par in inspect.signature(f).parameters.items():
            if par.default is not inspect.Parameter.empty or par.kind == par.KEYWORD_ONLY:
                continue
            args.append(p if pn == "p" else values[pn])
        yield name, (lambda f=f, args=args: f(*args))


THEORY_NAMES = [name for name, _ in _theory_calls(3, 1.0)]


@pytest.mark.parametrize("c", [1e300, 1e30, 2e8, 5e-9, 1e-30, 1e-300])
def test_theory_rejects_coefficients_outside_the_range(c):
    for _name, call in _theory_calls({3: c}, c):
        with pytest.raises(ValueError, match=r"outside the range the theory handles: its scale sqrt\(xi\(1\)\)"):
            call()


# Functions whose value at these arguments is legitimately infinite: the energy range of
# the count is (-inf, inf), and the equilibrium complexity is -inf above T_d.
_INFINITE_BY_DESIGN = {"expected_critical_points", "equilibrium_complexity", "ising_equilibrium_complexity"}


@pytest.mark.parametrize("p", [{3: 1e8}, {3: 1e-8}, {2: 1e8, 4: 1e-8}, {2: 3e-9, 3: 4e-9}])
def test_theory_is_finite_at_the_ends_of_the_range(p):
    scale = math.sqrt(sum(c * c for c in p.values()))
    for name, call in _theory_calls(p, scale):
        try:
            with warnings.catch_warnings():
                # Intermediate divisions by zero inside a bracket search are harmless here:
                # what is checked is the value returned.
                warnings.simplefilter("ignore", RuntimeWarning)
                out = call()
        except ValueError as exc:  # a documented limitation (pure-only formulas, no 1RSB transition, ...)
            _clean(str(exc))
            continue
        assert name in _INFINITE_BY_DESIGN or _finite(out), (name, out)


@pytest.mark.parametrize(
    ("call", "name", "why"),
    [
        (lambda: theory.ising_static_temperature(12), "ising_static_temperature", "q = 0.9999"),
        (lambda: theory.ising_static_temperature(14), "ising_static_temperature", "random energy model"),
        (lambda: theory.ground_state_energy({2: 1e-10, 3: 1}), "ground_state_energy", "close to a pure model"),
        (lambda: theory.ground_state_energy_1rsb(2), "ground_state_energy_1rsb", "replica symmetric"),
    ],
)
def test_theory_solver_failures_say_what_and_why(call, name, why):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{name} cannot be computed for") and why in message
    _clean(message)
    # The solver's own words stay available as the cause.
    assert info.value.__cause__ is not None


def test_theory_own_errors_pass_unchanged():
    with pytest.raises(ValueError, match=r"^tap_equilibrium_state needs T_s="):
        theory.tap_equilibrium_state(0.8, 3)
    with pytest.raises(TypeError, match="degree"):
        theory.threshold_energy({"a": 1.0})


def test_theory_wrappers_keep_names_docs_and_signatures():
    for name in THEORY_NAMES:
        f = getattr(theory, name)
        assert f.__name__ == name and f.__doc__ and "p" in inspect.signature(f).parameters


# ---------------------------------------------------------------------------- bad input accepted


@pytest.mark.parametrize("max_step", [-1, 0, 0.0, float("nan"), float("inf"), -np.inf])
def test_critical_points_max_step_must_be_positive_and_finite(max_step):
    m = SphericalPSpin(12, 3, seed=1)
    with pytest.raises(ValueError, match=r"max_step must be finite and > 0"):
        pspin.critical_points(m, 2, index=0, max_step=max_step, seed=0)


def test_critical_points_max_step_type():
    with pytest.raises(TypeError, match="max_step"):
        pspin.critical_points(SphericalPSpin(12, 3, seed=1), 2, max_step="a")


@pytest.fixture(scope="module")
def pt_results():
    m = IsingPSpin(16, 2, seed=1)
    two = pspin.ParallelTempering(m, [0.5, 1.0], replicas=2, seed=1).run(40)
    one = pspin.ParallelTempering(m, [0.5, 1.0], replicas=1, seed=1).run(40)
    return two, one


@pytest.mark.parametrize(("bins", "error"), [(0, ValueError), (-3, ValueError), (2**31, ValueError),
                                             (2.5, TypeError), ("a", TypeError), (True, TypeError)])
def test_overlap_histogram_bins(pt_results, bins, error):
    with pytest.raises(error, match="bins"):
        pt_results[0].overlap_histogram(bins=bins)


def test_overlap_histogram_needs_two_replicas_like_the_other_overlap_properties(pt_results):
    two, one = pt_results
    density, edges = two.overlap_histogram(bins=10)
    assert density.shape == (2, 10) and edges.shape == (11,) and np.all(np.isfinite(density))
    for get in (lambda r: r.overlap_histogram(), lambda r: r.overlap_series, lambda r: r.binder):
        with pytest.raises(ValueError, match="replicas >= 2"):
            get(one)


# ---------------------------------------------------------------------------- unclear errors


@pytest.mark.parametrize("model", ["x", 3, np.ones(3)])
def test_unique_states_model_type(model):
    with pytest.raises(TypeError, match="model must be a SphericalPSpin or IsingPSpin"):
        pspin.unique_states(np.ones((2, 4)), model=model)


@pytest.mark.parametrize(("kwargs", "name"), [({"tol": "a"}, "tol"), ({"tol": 0.0}, "tol"), ({"tol": np.nan}, "tol"),
                                              ({"flip_symmetric": "yes"}, "flip_symmetric")])
def test_unique_states_options(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        pspin.unique_states(np.ones((2, 4)), **kwargs)


def test_integer_rule_messages():
    from pspin._validate import INT32_MAX, positive_int

    assert positive_int(np.int64(INT32_MAX), "x") == INT32_MAX
    with pytest.raises(ValueError, match=r"^sweeps must be <= 2147483647 \(the largest value the core takes\), got 2147483648$"):
        positive_int(2**31, "sweeps")
    with pytest.raises(ValueError, match=r"^sweeps must be >= 1, got 0$"):
        positive_int(0, "sweeps")
    with pytest.raises(TypeError, match=r"^sweeps must be an int in \[1, 2147483647\], got float nan$"):
        positive_int(float("nan"), "sweeps")
    assert positive_int(2**40, "x", maximum=2**63 - 1) == 2**40


# ---------------------------------------------------------------------------- the sweep

SPH = SphericalPSpin(12, 3, seed=1)
ISI = IsingPSpin(12, 3, seed=1)
SCHEDULE = [1.0, 0.5]

INTS = [2**31, 2**63, -1, 0, float("nan"), float("inf"), np.int64(-5), 2.0, True]
FLOATS = [-1, 0, float("nan"), float("inf"), -float("inf"), "a", None, 1j, True]


def _pt(model=ISI, **kwargs):
    return pspin.ParallelTempering(model, [0.5, 1.0], seed=1, **kwargs)


# name -> (call with the value, the parameter's name, the smallest allowed value[, the largest])
INT_TARGETS = {
    "SphericalPSpin(n)": (lambda v: SphericalPSpin(v, 3, seed=1), "n", 3),
    "IsingPSpin(n)": (lambda v: IsingPSpin(v, 3, seed=1), "n", 3),
    "SphericalPSpin(p)": (lambda v: SphericalPSpin(20, v, seed=1), "degree p", 2),
    "random_state(size)": (lambda v: SPH.random_state(v), "size", 1),
    "minimize(n_starts)": (lambda v: pspin.minimize(SPH, v, seed=1), "n_starts", 1),
    "minimize(max_iter)": (lambda v: pspin.minimize(SPH, 2, max_iter=v, seed=1), "max_iter", 1),
    "minimize(record_every)": (lambda v: pspin.minimize(SPH, 2, record_every=v, seed=1), "record_every", 0),
    "minimize(memory)": (lambda v: pspin.minimize(SPH, 2, memory=v, seed=1), "memory", 1),
    "minimize_gd(max_iter)": (lambda v: pspin.minimize(SPH, 2, method="gd", max_iter=v, seed=1), "max_iter", 1),
    "minimize_ising(n_starts)": (lambda v: pspin.minimize(ISI, v, seed=1), "n_starts", 1),
    "minimize_ising(max_iter)": (lambda v: pspin.minimize(ISI, 2, max_iter=v, seed=1), "max_iter", 1),
    "minimize_ising(record_every)": (lambda v: pspin.minimize(ISI, 2, record_every=v, seed=1), "record_every", 0),
    "critical_points(n_starts)": (lambda v: pspin.critical_points(SPH, v, seed=1, max_iter=5), "n_starts", 1),
    "critical_points(max_iter)": (lambda v: pspin.critical_points(SPH, 2, max_iter=v, seed=1), "max_iter", 1),
    "critical_points(index)": (lambda v: pspin.critical_points(SPH, 2, index=v, max_iter=5, seed=1), "index", 0),
    "enumerate_local_minima(max_n)": (lambda v: pspin.enumerate_local_minima(ISI, max_n=v), "max_n", 1),
    "enumeration_cost(threads)": (lambda v: landscape.enumeration_cost(ISI, threads=v), "threads", 1),
    "anneal(sweeps_per_temperature)": (lambda v: pspin.anneal(ISI, SCHEDULE, sweeps_per_temperature=v, seed=1),
                                       "sweeps_per_temperature", 1),
    "anneal(n_starts)": (lambda v: pspin.anneal(ISI, SCHEDULE, n_starts=v, seed=1), "n_starts", 1),
    "anneal_spherical(n_starts)": (lambda v: pspin.anneal(SPH, SCHEDULE, n_starts=v, seed=1), "n_starts", 1),
    "ParallelTempering(replicas)": (lambda v: _pt(replicas=v), "replicas", 1),
    "ParallelTempering(leapfrog_steps)": (lambda v: _pt(SPH, leapfrog_steps=v), "leapfrog_steps", 1),
    "run(sweeps)": (lambda v: _pt().run(v), "sweeps", 1),
    "run(burn_in)": (lambda v: _pt().run(4, burn_in=v), "burn_in", 0),
    "run(sample_every)": (lambda v: _pt().run(4, sample_every=v), "sample_every", 1),
    "run(snapshot_every)": (lambda v: _pt().run(4, snapshot_every=v), "snapshot_every", 0),
    "spherical run(sample_every)": (lambda v: _pt(SPH).run(4, sample_every=v), "sample_every", 1),
    "smallest_hessian_eigenvalues(k)": (lambda v: landscape.smallest_hessian_eigenvalues(SPH, SPH.random_state(), v),
                                        "k", 1),
    "census(n_starts)": (lambda v: entropy.census(SPH, v, seed=1), "n_starts", 1),
    "census(index)": (lambda v: entropy.census(SPH, 4, index=v, seed=1), "index", 0),
    "census(max_iter)": (lambda v: entropy.census(SPH, 4, max_iter=v, seed=1), "max_iter", 1),
    "geometric_temperatures(count)": (lambda v: geometric_temperatures(0.5, 2.0, v), "count", 1),
    "binning_error(min_bins)": (lambda v: analysis.binning_error(np.arange(64.0), min_bins=v), "min_bins", 2),
    "jackknife(n_blocks)": (lambda v: analysis.jackknife(np.mean, np.arange(64.0), n_blocks=v), "n_blocks", 2),
    "specific_heat(n)": (lambda v: analysis.specific_heat(np.arange(64.0), 1.0, v), "n", 1),
    "log_binning(min_bins)": (lambda v: analysis.log_binning(np.arange(64.0), min_bins=v), "min_bins", 2),
    "theory.expected_critical_points(n)": (lambda v: theory.expected_critical_points(v, 3), "n", 2),
    # A Morse index of the n -> infinity theory: any int >= 0 (no core involved).
    "theory.layer_energy(k)": (lambda v: theory.layer_energy(3, v), "k", 0, math.inf),
}

FLOAT_TARGETS = {
    "minimize(gtol)": (lambda v: pspin.minimize(SPH, 2, gtol=v, seed=1), "gtol"),
    "minimize(step)": (lambda v: pspin.minimize(SPH, 2, method="gd", step=v, max_iter=50, seed=1), "step"),
    "critical_points(gtol)": (lambda v: pspin.critical_points(SPH, 2, gtol=v, max_iter=5, seed=1), "gtol"),
    "critical_points(max_step)": (lambda v: pspin.critical_points(SPH, 2, max_step=v, max_iter=5, seed=1),
                                  "max_step"),
    "smallest_hessian_eigenvalues(tol)": (
        lambda v: landscape.smallest_hessian_eigenvalues(SPH, SPH.random_state(), 1, tol=v), "tol"),
    "unique_states(tol)": (lambda v: pspin.unique_states(np.ones((2, 4)), tol=v), "tol"),
    "integrated_autocorrelation_time(c)": (
        lambda v: analysis.integrated_autocorrelation_time(np.arange(64.0), c=v), "c"),
    "integrated_autocorrelation_time(tol)": (
        lambda v: analysis.integrated_autocorrelation_time(np.arange(64.0), tol=v), "tol"),
    "census(gtol)": (lambda v: entropy.census(SPH, 4, gtol=v, seed=1), "gtol"),
}

# Floats where these "bad" values are in fact allowed and must give finite output.
_FLOAT_OK: dict[str, set] = {"minimize(gtol)": {None}, "critical_points(gtol)": {None},
                              "critical_points(max_step)": {None}}


def _check(call, value, name, allowed):
    """The call raises a clear error naming ``name`` unless ``allowed``; then its output is finite."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = call(value)
        except (ValueError, TypeError) as exc:
            message = str(exc)
            _clean(message)
            assert not allowed, f"{value!r} is allowed for {name}, got {type(exc).__name__}: {message}"
            assert name in message, f"the message does not name {name!r}: {message}"
            return
    assert allowed, f"{value!r} was accepted for {name}"
    assert _finite(out), f"non-finite output for {name} = {value!r}"


def _int_allowed(value, minimum, maximum=2**31 - 1):
    return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and minimum <= int(value) <= maximum)


@pytest.mark.parametrize("value", INTS, ids=repr)
@pytest.mark.parametrize("target", sorted(INT_TARGETS))
def test_sweep_integer_arguments(target, value):
    call, name, *limits = INT_TARGETS[target]
    _check(call, value, name, _int_allowed(value, *limits))


@pytest.mark.parametrize("value", FLOATS, ids=repr)
@pytest.mark.parametrize("target", sorted(FLOAT_TARGETS))
def test_sweep_float_arguments(target, value):
    call, name = FLOAT_TARGETS[target]
    _check(call, value, name, value in _FLOAT_OK.get(target, set()))


@pytest.mark.parametrize("value", ["a", float("nan"), float("inf"), 0, -1.0, None])
def test_sweep_checkpoint_every(value, tmp_path):
    with pytest.raises((TypeError, ValueError), match="checkpoint_every") as info:
        _pt().run(4, checkpoint=tmp_path / "run.h5", checkpoint_every=value)
    _clean(str(info.value))


@pytest.mark.parametrize("value", [2**31, 2**63, -1, float("nan")], ids=repr)
def test_sweep_large_floats_are_fine_where_they_are_floats(value):
    """gtol of 2**31 stops at once; it is a float parameter, not a count."""
    if isinstance(value, int) and value > 0:
        out = pspin.minimize(SPH, 2, gtol=value, seed=1)
        assert _finite(out) and out.converged.all()
    else:
        with pytest.raises(ValueError, match="gtol"):
            pspin.minimize(SPH, 2, gtol=value, seed=1)


# States: long double accepted by conversion (same numbers as float64); wrong dtypes a
# TypeError naming the argument.

STATE_CALLS = {
    "energy": lambda m, s: m.energy(s),
    "gradient": lambda m, s: m.gradient(s),
    "local_fields": lambda m, s: m.local_fields(s),
    "energy_and_gradient": lambda m, s: m.energy_and_gradient(s),
    "hessian": lambda m, s: m.hessian(s[0]),
    "hessian_vector_product": lambda m, s: m.hessian_vector_product(s, s),
    "minimize": lambda m, s: pspin.minimize(m, initial=s).energies,
    "anneal": lambda m, s: pspin.anneal(m, SCHEDULE, initial=s, seed=1).energies,
    "census": lambda m, s: entropy.census(m, initial=s, seed=1).energies,
    "unique_states": lambda m, s: pspin.unique_states(s, m),
    "overlap_matrix": lambda m, s: landscape.overlap_matrix(s),
}
SPHERICAL_CALLS = {
    "riemannian_gradient": lambda m, s: m.riemannian_gradient(s),
    "riemannian_hessian": lambda m, s: m.riemannian_hessian(s[0]),
    "riemannian_hessian_vector_product": lambda m, s: m.riemannian_hessian_vector_product(s, s),
    "hessian_spectrum": lambda m, s: m.hessian_spectrum(s[0]),
    "critical_points": lambda m, s: pspin.critical_points(m, initial=s, max_iter=10).energies,
    "smallest_hessian_eigenvalues": lambda m, s: landscape.smallest_hessian_eigenvalues(m, s[0]),
}
MODELS = {"spherical64": SPH, "spherical32": SphericalPSpin(12, 3, seed=1, dtype="float32"), "ising": ISI,
          "ising32": IsingPSpin(12, 3, seed=1, dtype="float32")}
STATE_CASES = [(m, c) for m in MODELS for c in STATE_CALLS] + [
    (m, c) for m in MODELS if m.startswith("spherical") for c in SPHERICAL_CALLS]


def _state_call(name):
    return STATE_CALLS.get(name) or SPHERICAL_CALLS[name]


@pytest.mark.parametrize(("model", "call"), STATE_CASES)
def test_sweep_long_double_states_are_converted(model, call):
    m = MODELS[model]
    s = m.random_state(3).astype(np.float64)
    f = _state_call(call)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = f(m, s)
        out = f(m, s.astype(np.longdouble))
    assert _finite(out)
    for a, b in zip(ref if isinstance(ref, tuple) else (ref,), out if isinstance(out, tuple) else (out,)):
        np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


@pytest.mark.parametrize("bad", ["complex", "bool", "str", "object"])
@pytest.mark.parametrize(("model", "call"), STATE_CASES)
def test_sweep_wrong_state_dtypes(model, call, bad):
    m = MODELS[model]
    s = m.random_state(3).astype(np.float64)
    x = {"complex": s.astype(complex), "bool": s > 0, "str": s.astype(str), "object": s.astype(object)}[bad]
    with pytest.raises(TypeError) as info:
        _state_call(call)(m, x)
    message = str(info.value)
    _clean(message)
    assert "must be a real numeric array" in message and any(
        w in message for w in ("states", "state", "initial", "vectors"))


@pytest.mark.parametrize(("model", "call"), STATE_CASES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e300])
def test_sweep_non_finite_and_huge_states(model, call, bad):
    m = MODELS[model]
    s = m.random_state(3).astype(np.float64)
    s[0, 2] = bad  # the first row: the one-state calls take s[0]
    f = _state_call(call)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = f(m, s)
        except (ValueError, TypeError) as exc:
            _clean(str(exc))
            assert any(w in str(exc) for w in ("states", "state", "initial", "vectors")), str(exc)
            return
    # Only starts that are scaled onto the sphere (and overlaps) may take a huge entry.
    assert bad == 1e300 and call in ("minimize", "anneal", "census", "critical_points", "unique_states",
                                     "overlap_matrix"), call
    assert _finite(out)
