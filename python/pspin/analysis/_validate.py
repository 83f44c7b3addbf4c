"""Input checks shared by :mod:`pspin.analysis`: clear errors before any work starts."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def series(x: Any, what: str, *, axis: int = -1, min_length: int = 2) -> np.ndarray:
    """``x`` as a finite float64 array with the time axis moved last.

    Raises
    ------
    TypeError
        If ``x`` is not a real numeric array (complex, bool, object, strings).
    ValueError
        If ``x`` is 0-d, has fewer than ``min_length`` samples along ``axis``, has an
        empty leading axis, or contains NaN or infinity.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{what} must have at least one (time) axis, got a scalar")
    ax = _axis(axis, arr.ndim, what)
    arr = np.moveaxis(arr.astype(np.float64, copy=False), ax, -1)
    if arr.shape[-1] < min_length:
        raise ValueError(
            f"{what} needs at least {min_length} samples along axis {axis}, got {arr.shape[-1]}"
        )
    if arr.size == 0:
        raise ValueError(f"{what} is empty (shape {np.shape(x)})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} contains NaN or infinite values")
    return arr


def _axis(axis: Any, ndim: int, what: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    if not -ndim <= int(axis) < ndim:
        raise ValueError(f"axis {axis} is out of range for {what} with {ndim} dimension(s)")
    return int(axis) % ndim


def scalar_or_array(a: np.ndarray) -> Any:
    """0-d arrays become numpy scalars; others are returned unchanged."""
    a = np.asarray(a)
    return a[()] if a.ndim == 0 else a
