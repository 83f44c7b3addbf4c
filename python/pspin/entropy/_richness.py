"""How many states a search missed: the Chao1 estimator from singletons and doubletons."""

from __future__ import annotations

from typing import Any

import numpy as np


def chao1(hits: Any) -> tuple[float, float]:
    """Chao1 estimate of the number of distinct states, and its standard error.

    Each distinct state found is a "class" and ``hits`` says how many starts reached
    it. With ``S`` classes seen, ``f1`` seen once, ``f2`` seen twice, ``m`` starts
    and ``A = (m-1)/m``:

    - ``f2 > 0``: ``S + A f1^2 / (2 f2)``, variance
      ``f2 [A/2 (f1/f2)^2 + A^2 (f1/f2)^3 + A^2/4 (f1/f2)^4]``;
    - ``f2 = 0``: ``S + A f1 (f1-1) / 2``, variance
      ``A f1 (f1-1)/2 + A^2 f1 (2 f1-1)^2 / 4 - A^2 f1^4 / (4 S_chao)``;
    - ``f1 = 0``: ``S``, variance ``sum_k f_k (e^-k - e^-2k) - (sum_k k e^-k f_k)^2 / m``.

    A. Chao, Scand. J. Stat. 11, 265 (1984); variances from A. Chao, Biometrics 43, 783
    (1987) and A. Chao, "Species estimation and applications", Encyclopedia of
    Statistical Sciences (2005). It is a lower bound when basins differ in size, as
    they do on a rugged landscape: the smallest basins are the ones missed.

    Parameters
    ----------
    hits : array_like of int
        Hit count of every distinct state (all >= 1).

    Returns
    -------
    (estimate, error)

    Examples
    --------
    >>> from pspin import entropy
    >>> estimate, error = entropy.chao1([1, 1, 2, 3, 5])  # 5 states seen, 2 of them once
    >>> round(estimate, 4)
    6.8333
    """
    h = np.asarray(hits, dtype=np.int64)
    if h.ndim != 1 or np.any(h < 1):
        raise ValueError("hits must be a 1-D array of counts >= 1")
    s_obs = float(h.size)
    m = float(h.sum())
    if h.size == 0:
        return 0.0, 0.0
    f1 = float(np.sum(h == 1))
    f2 = float(np.sum(h == 2))
    a = (m - 1.0) / m
    if f1 == 0:
        k, fk = np.unique(h, return_counts=True)
        var = float(np.sum(fk * (np.exp(-k) - np.exp(-2.0 * k))) - np.sum(k * np.exp(-k) * fk) ** 2 / m)
        return s_obs, float(np.sqrt(max(var, 0.0)))
    if f2 > 0:
        r = f1 / f2
        estimate = s_obs + a * f1 * f1 / (2.0 * f2)
        var = f2 * (a / 2.0 * r**2 + a * a * r**3 + a * a / 4.0 * r**4)
        return estimate, float(np.sqrt(var))
    estimate = s_obs + a * f1 * (f1 - 1.0) / 2.0
    var = a * f1 * (f1 - 1.0) / 2.0 + a * a * f1 * (2.0 * f1 - 1.0) ** 2 / 4.0 - a * a * f1**4 / (4.0 * estimate)
    return estimate, float(np.sqrt(max(var, 0.0)))
