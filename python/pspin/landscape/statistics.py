"""Statistics of sets of minima and critical points, as numpy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validate


def overlap_matrix(states: Any) -> np.ndarray:
    """Overlaps q_ab = s_a . s_b / n between all pairs of states, (m, m).

    Parameters
    ----------
    states : array (m, n)
        States with ``|s|^2 = n`` (spherical) or +-1 spins (Ising).

    Examples
    --------
    >>> import numpy as np, pspin
    >>> s = np.array([[1.0, 1, 1, 1], [1, 1, -1, -1], [-1, -1, -1, -1]])
    >>> pspin.landscape.overlap_matrix(s).tolist()
    [[1.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 1.0]]
    """
    arr, _ = _validate.batch(states, np.shape(states)[-1], "states")
    x = arr.astype(np.float64)
    limit = np.sqrt(np.finfo(np.float64).max / (4.0 * x.shape[1]))
    if x.size and np.max(np.abs(x)) > limit:
        raise ValueError(f"states has entries up to {np.max(np.abs(x)):.3g}: their overlaps overflow float64 "
                         f"(|s_i| <= {limit:.3g}); states are meant to have |s|^2 = n or +-1 spins")
    return (x @ x.T) / x.shape[1]


def energy_histogram(energies_per_spin: Any, bins: Any = 30, range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalised histogram of energies per spin: (density, bin_edges).

    Parameters
    ----------
    energies_per_spin : array
        Energies per spin, e.g. ``Minima.energy_per_spin``.
    bins : int or sequence of float
        Number of bins or their edges, as in ``numpy.histogram``.
    range : (float, float), optional
        Lower and upper edge (default: the data's range).

    Examples
    --------
    >>> import pspin
    >>> density, edges = pspin.landscape.energy_histogram([-1.0, -1.1, -1.1, -1.2], bins=2)
    >>> [round(float(d), 6) for d in density], [round(float(x), 6) for x in edges]
    ([2.5, 7.5], [-1.2, -1.1, -1.0])
    """
    e = np.asarray(energies_per_spin, dtype=np.float64)
    if e.ndim != 1 or e.size == 0 or not np.isfinite(e).all():
        raise ValueError("energies must be a non-empty 1-D array of finite numbers")
    return np.histogram(e, bins=bins, range=range, density=True)


def index_histogram(index: Any, n: int) -> np.ndarray:
    """Counts of critical points by index k = 0 .. n-1, (n,) int.

    Parameters
    ----------
    index : array of int
        Morse indices, e.g. ``CriticalPoints.index``, each in ``0 .. n-1``.
    n : int
        Number of spins (the length of the result).

    Examples
    --------
    >>> import pspin
    >>> pspin.landscape.index_histogram([0, 0, 1, 3], 4).tolist()
    [2, 1, 0, 1]
    """
    k = np.asarray(index)
    if k.ndim != 1 or (k.size and (k.min() < 0 or k.max() > n - 1)):
        raise ValueError(f"index must be a 1-D array of integers in [0, {n - 1}]")
    return np.bincount(k.astype(np.int64), minlength=n)
