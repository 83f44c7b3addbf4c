"""Argument checks shared by the public API: clear errors before any work starts."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}

#: The largest value of a C ``int`` (int32): the limit of every count the compiled core
#: takes as ``int`` (sweeps, sample intervals, iterations, history lengths, ...).
INT32_MAX = 2**31 - 1
#: The largest value of an int64: counts the core takes as 64-bit integers.
INT64_MAX = 2**63 - 1
#: Safety factor between the energy scale of a model and the square root of the largest
#: value its dtype holds (see :func:`coefficient_scale`): energies, fields, gradient
#: norms and their squares then stay finite.
_SCALE_MARGIN = 1e-3


def degree_spec(p: Any) -> dict[int, float]:
    """``p`` as {degree: coefficient}: an int >= 2 (pure model) or a mapping (mixed)."""
    if isinstance(p, Mapping):
        if not p:
            raise ValueError("a mixed model needs at least one degree, got an empty mapping")
        spec: dict[int, float] = {}
        for degree, coef in p.items():
            d = _degree(degree)
            if isinstance(coef, bool) or not isinstance(coef, numbers.Real):
                raise TypeError(f"coefficient of degree {d} must be a real number, got {type(coef).__name__}")
            try:
                value = float(coef)
            except OverflowError:  # an int beyond the float range
                value = math.inf
            if not math.isfinite(value):
                raise ValueError(f"coefficient of degree {d} must be finite, got {coef}")
            spec[d] = value
        return dict(sorted(spec.items()))
    return {_degree(p): 1.0}


def _degree(p: Any) -> int:
    if isinstance(p, bool) or not isinstance(p, numbers.Integral):
        raise TypeError(f"degree p must be an int >= 2 (or a mapping {{p: c_p}}), got {p!r}")
    # int(): numbers.Integral declares no ordering for the type checker.
    if int(p) < 2 or int(p) > 16:
        raise ValueError(f"degree p must be an int in [2, 16], got {p}")
    return int(p)


def spin_count(n: Any, degrees: list[int]) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n (number of spins) must be an int, got {type(n).__name__}")
    if int(n) < max(degrees):
        raise ValueError(f"n (number of spins) must be >= the largest degree p = {max(degrees)}, got n = {n}")
    if int(n) > INT32_MAX:
        raise ValueError(f"n (number of spins) must be <= {INT32_MAX} (the largest value the core takes), got n = {n}")
    return int(n)


def real_dtype(dtype: Any) -> np.dtype:
    """float64 or float32; anything else is a clear error."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}") from exc
    if dt not in _DTYPES.values():
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return dt


def ensemble_name(ensemble: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(ensemble, str) or ensemble not in allowed:
        raise ValueError(f"ensemble must be one of {allowed}, got {ensemble!r}")
    return ensemble


def coefficient_scale(coefficients: Mapping[int, float], n: int, dtype: np.dtype) -> None:
    """Refuse coefficients whose energies the dtype cannot hold.

    The energy scale of a model is ``n sqrt(xi(1))``, ``xi(1) = sum_p c_p^2`` (ground
    states lie at about ``-n sqrt(xi(1))``; fields, gradients and Hessian entries are
    smaller). Sums of squares of these (gradient norms, variances) must stay finite, so
    the scale must not exceed ``1e-3 sqrt(finfo(dtype).max)``: about 1.3e151 for float64
    and 1.8e16 for float32. Larger coefficients gave NaN energies; they raise ValueError.
    """
    limit = _SCALE_MARGIN * math.sqrt(float(np.finfo(dtype).max))
    # Scaled by the largest coefficient first: the sum of squares cannot overflow.
    big = max(abs(c) for c in coefficients.values())
    root_xi = big * math.sqrt(sum((c / big) ** 2 for c in coefficients.values())) if big > 0 else 0.0
    scale = n * root_xi
    if not scale <= limit:
        raise ValueError(
            f"coefficients {dict(coefficients)} are too large for n = {n} in {np.dtype(dtype).name}: the energy "
            f"scale n*sqrt(sum c_p^2) = {scale:.3g} must be <= {limit:.3g} (1e-3 * sqrt of the largest "
            f"{np.dtype(dtype).name}), so that energies and their squares stay finite; "
            "rescale the coefficients (energies and temperatures scale with them)"
        )


def real_array(x: Any, what: str) -> np.ndarray:
    """A real (integer or floating) array; complex, bool, object and strings are refused.

    Extended-precision floats (``np.longdouble``) are converted to float64, the widest
    type the core computes in: values beyond float64's range raise ValueError.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what} must be a real numeric array, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
        finite = np.isfinite(arr)
        if np.any(np.abs(arr[finite]) > np.finfo(np.float64).max):
            raise ValueError(
                f"{what} ({arr.dtype}) has entries beyond the float64 range (|x| <= {np.finfo(np.float64).max:.3g})"
            )
        arr = arr.astype(np.float64)
    return arr


def representable(arr: np.ndarray, dtype: np.dtype, what: str) -> None:
    """Refuse finite entries that a cast to ``dtype`` would turn into infinity."""
    dt = np.dtype(dtype)
    if dt.kind != "f" or arr.dtype.kind != "f" or arr.dtype.itemsize <= dt.itemsize or arr.size == 0:
        return
    peak = float(np.max(np.abs(arr)))
    top = float(np.finfo(dt).max)
    if peak > top:
        raise ValueError(f"{what} has entries up to {peak:.3g}, beyond the range of the model's {dt.name} (|x| <= {top:.3g})")


def vector_range(arr: np.ndarray, dtype: np.dtype, what: str) -> None:
    """Refuse direction vectors whose Hessian products the model's dtype cannot hold.

    Entries must satisfy ``|v| <= 1e-3 sqrt(finfo(dtype).max)`` (the bound of
    :func:`coefficient_scale`): with the coefficients within theirs, the products and
    their squares stay finite. The products are linear in ``v``, so scaling ``v`` down
    loses nothing.
    """
    if arr.size == 0:
        return
    limit = _SCALE_MARGIN * math.sqrt(float(np.finfo(dtype).max))
    peak = float(np.max(np.abs(arr)))
    if not peak <= limit:
        raise ValueError(
            f"{what} has entries up to {peak:.3g}; the model's {np.dtype(dtype).name} allows |v| <= {limit:.3g} "
            "(the product is linear in v: scale v down and the result up)"
        )


def batch(x: Any, n: int, what: str) -> tuple[np.ndarray, bool]:
    """``x`` of shape (n,) or (b, n) as a finite (b, n) array, and whether it was 1-D."""
    arr = real_array(x, what)
    if arr.ndim not in (1, 2) or arr.shape[-1] != n or (arr.ndim == 2 and arr.shape[0] < 1):
        raise ValueError(f"{what} must have shape ({n},) or (b, {n}) with b >= 1, got {arr.shape}")
    single = arr.ndim == 1
    arr = arr.reshape(-1, n)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinite entries")
    return arr, single


def sphere_tolerance(*dtypes: np.dtype) -> float:
    """Relative tolerance on |s|^2 = n: sqrt(eps) of the least precise dtype involved."""
    eps = max(np.finfo(d).eps if np.dtype(d).kind == "f" else np.finfo(np.float64).eps for d in dtypes)
    return float(np.sqrt(eps))


def on_sphere(arr: np.ndarray, n: int, model_dtype: np.dtype, what: str) -> None:
    norms = np.einsum("bi,bi->b", arr, arr, dtype=np.float64) / n
    tol = sphere_tolerance(arr.dtype, model_dtype)
    bad = np.flatnonzero(np.abs(norms - 1.0) > tol)
    if bad.size:
        raise ValueError(
            f"{what} must lie on the sphere |s|^2 = n = {n} (relative tolerance {tol:.1e}); "
            f"row {bad[0]} has |s|^2/n = {norms[bad[0]]:.6g}. Normalise with s * sqrt(n) / |s|."
        )


def sphere_safe(arr: np.ndarray) -> np.ndarray:
    """Rows of ``arr`` scaled by powers of two so that |s|^2 cannot overflow or underflow.

    Starting states are normalised onto the sphere with ``s sqrt(n) / |s|``; for entries
    near 1e300 (or 1e-300) |s|^2 overflows (underflows) and the state became zero or NaN.
    Rows whose largest entry lies outside [2^-400, 2^400] are multiplied by the power of
    two that brings it into [0.5, 1): exact, so the normalised state is the one the
    unscaled row describes; other rows are returned unchanged (bit for bit).
    """
    out = np.array(arr, dtype=np.float64)
    if out.size == 0:
        return out
    peak = np.max(np.abs(out), axis=-1)
    bad = (peak > 2.0**400) | ((peak < 2.0**-400) & (peak > 0))
    if np.any(bad):
        _, exponent = np.frexp(peak[bad])
        out[bad] = np.ldexp(out[bad], -exponent[:, None])
    return out


def ising_spins(arr: np.ndarray, what: str) -> None:
    if not np.isin(arr, (-1, 1)).all():
        raise ValueError(f"{what} must contain only +1 and -1")


def positive_int(x: Any, what: str, minimum: int = 1, maximum: int = INT32_MAX) -> int:
    """An int in [``minimum``, ``maximum``] (bool refused; numpy integers accepted).

    The one rule for counts and sizes: ``maximum`` is the limit of the core's type for
    the value, ``INT32_MAX`` (2**31 - 1) by default, where the core takes a C ``int``;
    ``INT64_MAX`` where it takes a 64-bit integer or Python alone uses the value. The
    message names the parameter and the allowed range.
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{what} must be an int in [{minimum}, {maximum}], got {type(x).__name__} {x!r}")
    value = int(x)
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    if value > maximum:
        raise ValueError(f"{what} must be <= {maximum} (the largest value the core takes), got {value}")
    return value


def positive_float(x: Any, what: str, maximum: float | None = None) -> float:
    """A finite real > 0, and <= ``maximum`` if given (bool refused; numpy floats accepted)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}")
    try:
        value = float(x)
    except OverflowError:  # an int beyond the float range
        value = math.inf
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{what} must be finite and > 0, got {x}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{what} must be <= {maximum:g}, got {x}")
    return value
