"""De-duplication of states up to the model's symmetries."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import _validate


def unique_states(
    states: Any,
    model: Any = None,
    *,
    flip_symmetric: bool | None = None,
    tol: float = 1e-6,
    return_index: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Distinct states, by overlap.

    Two states s, t (with |s|^2 = |t|^2 = n, or +-1 spins) are the same when their
    overlap q = s.t/n satisfies 1 - q < tol; with ``flip_symmetric`` (even-p models,
    where H(-s) = H(s)) also when 1 + q < tol. For critical points polished to machine
    precision distinct points have 1 - |q| of order 1/n, so any tol well below that
    separates them; the default 1e-6 is safe for n up to ~10^5.

    Parameters
    ----------
    states : array (b, n)
    model : SphericalPSpin or IsingPSpin, optional
        Infers the symmetry: H(-s) = H(s) exactly when every degree is even.
    flip_symmetric : bool, optional
        Identify s with -s; overrides what ``model`` implies (default False without a model).
    tol : float
        Tolerance on 1 - |q|.
    return_index : bool
        Also return, for each distinct state, the row of its first occurrence.

    Returns
    -------
    ndarray (m, n), and the (m,) first-occurrence rows if ``return_index``.

    Examples
    --------
    >>> import numpy as np, pspin
    >>> s = np.array([[1.0, 1, 1, 1], [1, 1, -1, -1], [-1, -1, -1, -1]])
    >>> pspin.unique_states(s).shape, pspin.unique_states(s, flip_symmetric=True).shape
    ((3, 4), (2, 4))
    """
    arr, _ = _validate.batch(states, np.shape(states)[-1] if np.ndim(states) else 0, "states")
    if model is not None:
        from ..models import PSpinModel

        if not isinstance(model, PSpinModel):
            raise TypeError(f"model must be a SphericalPSpin or IsingPSpin (or None), got {type(model).__name__}")
    if flip_symmetric is None:
        flip_symmetric = model is not None and all(d % 2 == 0 for d in model.degrees)
    elif not isinstance(flip_symmetric, (bool, np.bool_)):
        raise TypeError(f"flip_symmetric must be a bool or None, got {type(flip_symmetric).__name__}")
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number in (0, 1), got {type(tol).__name__}")
    if not (np.isfinite(tol) and 0 < tol < 1):
        raise ValueError(f"tol must lie in (0, 1), got {tol}")
    # Scaled by powers of two where |s|^2 would overflow: the overlaps do not change.
    x = _validate.sphere_safe(arr)
    norms = np.linalg.norm(x, axis=1)
    if np.any(norms == 0):
        raise ValueError("states must be non-zero")
    unit = x / norms[:, None]
    keep: list[int] = []
    kept = np.empty_like(unit)  # the first len(keep) rows are the kept unit vectors
    for i in range(unit.shape[0]):
        if keep:
            q = kept[: len(keep)] @ unit[i]
            if flip_symmetric:
                q = np.abs(q)
            if np.any(1.0 - q < tol):
                continue
        kept[len(keep)] = unit[i]
        keep.append(i)
    rows = np.asarray(keep, dtype=np.int64)
    return (arr[rows], rows) if return_index else arr[rows]
