"""Temperature ladders for parallel tempering."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import positive_float

#: The most temperatures a ladder may have.
_MAX_COUNT = 10**6


def geometric_temperatures(t_min: float, t_max: float, count: int) -> np.ndarray:
    """``count`` temperatures from t_min to t_max in geometric progression (ascending).

    Geometric spacing gives roughly constant swap acceptance when the specific heat
    is constant (Predescu et al., J. Phys. Chem. B 109, 4189 (2005)); the default
    starting point before any tuning.

    Parameters
    ----------
    t_min, t_max : float
        Lowest and highest temperature, ``0 < t_min <= t_max``, finite.
    count : int
        Number of temperatures, in [1, 10^6] (a ladder is one engine slot per
        temperature and replica: more could not be simulated).

    Examples
    --------
    >>> import pspin
    >>> [round(float(t), 6) for t in pspin.sampling.geometric_temperatures(0.5, 2.0, 3)]
    [0.5, 1.0, 2.0]
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= _MAX_COUNT:
        raise ValueError(f"count must be an int in [1, {_MAX_COUNT}], got {count!r}")
    t_min = positive_float(t_min, "t_min")
    t_max = positive_float(t_max, "t_max")
    if not (np.isfinite(t_min) and np.isfinite(t_max) and 0 < t_min <= t_max):
        raise ValueError(f"need 0 < t_min <= t_max, finite; got t_min={t_min}, t_max={t_max}")
    return np.geomspace(float(t_min), float(t_max), int(count))


def equalise_acceptance(temperatures: Any, acceptance: Any, *, damping: float = 0.5) -> np.ndarray:
    """One feedback step towards equal swap acceptance between all neighbours.

    The gap in ln T between neighbours is rescaled by how their acceptance
    compares with the mean: pairs that swap rarely get closer, pairs that swap
    often move apart; the end temperatures stay fixed. With acceptance a_i of
    pair i, the new log-gaps are g_i * (a_i / <a>)^damping renormalised to the
    same total (a constant-acceptance scheme in the spirit of Kone & Kofke,
    J. Chem. Phys. 122, 206101 (2005)). Used during burn-in only: changing the
    ladder while measuring would bias the averages.

    Parameters
    ----------
    temperatures : array (R,)
        The ladder, ascending.
    acceptance : array (R - 1,)
        Measured swap acceptance of each neighbouring pair, in [0, 1].
    damping : float
        Exponent of the feedback: 0 leaves the ladder unchanged, larger values move it
        further per step.

    Examples
    --------
    >>> import pspin
    >>> t = pspin.sampling.equalise_acceptance([0.5, 1.0, 2.0], [0.2, 0.8])
    >>> [round(float(x), 6) for x in t]  # the rarely swapping pair moves closer
    [0.5, 0.793701, 2.0]
    """
    t = np.asarray(temperatures, dtype=np.float64)
    a = np.asarray(acceptance, dtype=np.float64)
    if t.ndim != 1 or a.shape != (t.size - 1,) or t.size < 3:
        return t.copy()
    gaps = np.diff(np.log(t))
    weight = (np.clip(a, 0.01, 1.0) / max(float(np.mean(np.clip(a, 0.01, 1.0))), 1e-12)) ** damping
    new_gaps = gaps * weight
    new_gaps *= gaps.sum() / new_gaps.sum()
    return np.exp(np.log(t[0]) + np.concatenate([[0.0], np.cumsum(new_gaps)]))
