"""Input checks shared by :mod:`pspin.analysis`: clear errors before any work starts."""

from __future__ import annotations

import numbers
import warnings
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


def warn_undefined(bad: Any, what: str, axis: int, quantity: str, why: str = "constant") -> None:
    """RuntimeWarning when some series give an undefined (NaN) ``quantity``.

    ``bad`` flags the series (leading shape) for which ``quantity`` is NaN, ``what`` names
    the argument and ``axis`` its time axis; ``why`` says what makes them undefined. The
    warning points at the caller of the public function.
    """
    bad = np.asarray(bad, dtype=bool)
    count = int(np.count_nonzero(bad))
    if count == 0:
        return
    where = "" if bad.ndim == 0 else f" (first at index {tuple(int(i) for i in np.argwhere(bad)[0])})"
    series_word = "series" if bad.ndim == 0 else f"{count} of {bad.size} series"
    warnings.warn(
        f"{what}: {series_word} along axis {axis} {'is' if count == 1 else 'are'} {why}{where}; "
        f"{quantity} is undefined there and returned as NaN",
        RuntimeWarning,
        stacklevel=3,
    )
