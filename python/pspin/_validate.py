"""Argument checks shared by the public API: clear errors before any work starts."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}


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
            if not math.isfinite(float(coef)):
                raise ValueError(f"coefficient of degree {d} must be finite, got {coef}")
            spec[d] = float(coef)
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
    if int(n) > 2**31 - 1:
        raise ValueError(f"n = {n} is too large")
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


def real_array(x: Any, what: str) -> np.ndarray:
    """A real (integer or floating) array; complex, bool, object and strings are refused."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what} must be a real numeric array, got dtype {arr.dtype}")
    return arr


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


def ising_spins(arr: np.ndarray, what: str) -> None:
    if not np.isin(arr, (-1, 1)).all():
        raise ValueError(f"{what} must contain only +1 and -1")


def positive_int(x: Any, what: str, minimum: int = 1) -> int:
    """An int >= ``minimum`` (bool refused)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(x).__name__}")
    if x < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {x}")
    return int(x)


def positive_float(x: Any, what: str) -> float:
    """A finite real > 0 (bool refused; numpy floats accepted)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}")
    value = float(x)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{what} must be finite and > 0, got {x}")
    return value
