"""Zero-temperature landscape of spherical p-spin models: complexity, threshold, layers.

Convention (design.md): ``E[H(s)H(s')] = N xi(q)/2``, energies per spin ``e = H/N``.
Auffinger-Ben Arous-Cerny (ABC13, Comm. Pure Appl. Math. 66 (2013) 165, arXiv:1003.1129)
use ``E[HH'] = N q^p``; their energies are ``u = sqrt(2) e``.  Complexities (per spin)
are the same in both conventions.

Two complexities are provided; do not mix them up:

* :func:`complexity` -- the **density**: ``lim (1/N) ln E[# critical points with H/N in
  (e, e + de)]``.  Negative values are meaningful (exponentially rare in expectation);
  ``-inf`` means none at all in the limit (e.g. index-k points above the threshold).
* :func:`cumulative_complexity` -- ABC's ``Theta``: ``lim (1/N) ln E[# with H/N < e]``
  ``= sup_{e' <= e} complexity(e')``.  It is flat above the maximiser of the density.

Pure model, in ABC units (``E_inf = 2 sqrt((p-1)/p)``, ``I_1`` the GOE edge rate), the
density is ``(1/2) ln(p-1) - (p-2) u^2 / (4(p-1)) - (k+1) I_1(u)`` for ``u <= -E_inf``
(index k) and ``(1/2) ln(p-1) - (p-2) u^2/(4(p-1)) - I_1(-|u|)`` for all indices
[ABC13 Thm 2.5 and 2.8, whose Theta is the cumulative version; checked against the
variational formula of :mod:`pspin.theory.mixed`, which is what is evaluated].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from ._validate import ModelSpec, as_index, as_mixture, as_real_array, explain_failures
from .mixed import annealed_complexity, annealed_complexity_slope, mixed_threshold_energy

__all__ = [
    "complexity",
    "complexity_peak",
    "cumulative_complexity",
    "ground_state_energy",
    "layer_energy",
    "threshold_energy",
]


def complexity(e: Any, p: ModelSpec, index: int | None = None) -> Any:
    """Annealed complexity **density** of critical points at energy per spin ``e``.

    ``Sigma_k(e) = lim_N (1/N) ln E[#{critical points of index k with H/N in de}]``;
    ``index=None`` counts all critical points.

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree or mixture ``{degree: c_p}``.
    index : int or None
        Morse index k >= 0 (0 = minima), or None for all critical points.

    Returns
    -------
    float or ndarray
        The complexity; ``-inf`` off the support (pure model, fixed index, ``e > e_th``).

    Notes
    -----
    Formula (ABC13 Thm 2.5/2.8 for pure p, Auffinger-Ben Arous 2013 for mixtures; see
    :mod:`pspin.theory.mixed` for the variational form evaluated here). For the pure
    model and ``e <= e_th`` the density and ABC's cumulative Theta coincide.
    Examples (p = 3): ``complexity(threshold_energy(3), 3, 0) = (1/2) ln 2 - 1/3``;
    ``complexity(ground_state_energy(3), 3, 0) = 0``.

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.complexity(theory.threshold_energy(3), 3, index=0)), 6)
    0.01324
    >>> [round(float(s), 4) for s in theory.complexity([-1.17, -1.16], 3, index=0)]
    [0.0015, 0.0096]
    """
    model = as_mixture(p)
    index = as_index(index)
    return annealed_complexity(as_real_array(e, "e"), model, index)


def complexity_peak(p: ModelSpec, index: int | None = None) -> tuple[float, float]:
    """``(e*, Sigma_k(e*))``: where the complexity density of index k is largest.

    All indices: ``e* = 0`` (H and -H have the same law). Pure model, index k:
    ``e* = e_th`` (the density increases up to the end of its support). Mixed model,
    index k: found numerically.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}``.
    index : int or None
        Morse index k >= 0 (0 = minima), or None for all critical points.

    Examples
    --------
    >>> from pspin import theory
    >>> [round(float(x), 6) for x in theory.complexity_peak(3, index=0)]
    [-1.154701, 0.01324]
    """
    model = as_mixture(p)
    index = as_index(index)
    if index is None:
        return 0.0, float(annealed_complexity(0.0, model, None))
    e_th = mixed_threshold_energy(model)
    if model.is_pure or len(model.degrees) == 1:
        return e_th, float(annealed_complexity(e_th, model, index))

    def slope(e: float) -> float:
        return float(annealed_complexity_slope(e, model, index))

    # The density rises below e_th; find where its slope changes sign.
    lo, hi = 2.0 * e_th, 0.5 * e_th
    while slope(lo) <= 0.0:
        lo *= 2.0
    while slope(hi) >= 0.0:
        hi = hi + abs(e_th)
    e_star = brentq(slope, lo, hi, xtol=1e-14)
    return e_star, float(annealed_complexity(e_star, model, index))


def cumulative_complexity(e: Any, p: ModelSpec, index: int | None = None) -> Any:
    """ABC's cumulative complexity ``Theta_k(e) = lim (1/N) ln E[# index-k points with H/N < e]``.

    Laplace's principle gives ``Theta_k(e) = sup_{e' <= e} Sigma_k(e')``; the density is
    unimodal, so this is ``Sigma_k(min(e, e*))`` with ``e*`` from :func:`complexity_peak`.
    For the pure model this is ABC13 Thm 2.5 (index k) and Thm 2.8 (all indices):
    constant ``(1/2) ln(p-1) - (p-2)/p`` above ``e_th`` (index k) and ``(1/2) ln(p-1)``
    above 0 (all indices).

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}``.
    index : int or None
        Morse index k >= 0 (0 = minima), or None for all critical points.

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.cumulative_complexity(0.5, 3)), 6)  # (1/2) ln 2 above e = 0
    0.346574
    """
    model = as_mixture(p)
    index = as_index(index)
    arr = as_real_array(e, "e")
    e_star, _ = complexity_peak(model, index)
    return annealed_complexity(np.minimum(arr, e_star), model, index)


def threshold_energy(p: ModelSpec) -> float:
    """Threshold energy per spin ``e_th``: below it, typical critical points are minima.

    Pure p: ``e_th = -sqrt(2 (p-1)/p)`` (= ``-E_inf/sqrt(2)``, ABC13; Castellani-Cavagna
    2005 eq. for the marginal states), p=3: -1.1547005. Mixed: the Auffinger-Ben Arous
    ``E'_inf`` (see :func:`pspin.theory.mixed.mixed_threshold_energy`).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}``.

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.threshold_energy(3), 6)
    -1.154701
    >>> round(theory.threshold_energy({3: 0.8, 4: 0.6}), 6)
    -1.185348
    """
    return float(mixed_threshold_energy(as_mixture(p)))


def layer_energy(p: ModelSpec, k: int) -> float:
    """Energy per spin ``e_k`` of the index-k layer: the lower zero of ``Sigma_k``.

    ``e_0 < e_1 < ... < e_th`` (ABC13 Thm 2.12 and the "layered structure"): below
    ``e_k`` there are exponentially few critical points of index >= k. In ABC units
    ``E_k = -sqrt(2) e_k``; p = 3: ``E_0 = 1.6569984``, ``E_1 = 1.6528732``.
    For p = 2 every layer sits at ``e_th = -1``.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}``.
    k : int
        Morse index k >= 0.

    Raises
    ------
    ValueError
        If the index-k complexity is negative everywhere (no layer).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.layer_energy(3, 1), 6)
    -1.168758
    """
    model = as_mixture(p)
    checked = as_index(k, "k")
    if checked is None:
        raise TypeError("k must be an integer >= 0 (a Morse index), got None")
    k = checked
    e_star, peak = complexity_peak(model, k)
    if peak <= 1e-14:
        if peak >= -1e-14:
            return float(e_star)
        raise ValueError(
            f"Sigma_{k} < 0 everywhere for {model.label}: no exponentially large layer"
        )

    def sigma(e: float) -> float:
        return float(annealed_complexity(e, model, k))

    lo = e_star - 1.0
    while sigma(lo) > 0.0:
        lo = e_star + 2.0 * (lo - e_star)
    return float(brentq(sigma, lo, e_star, xtol=1e-15, rtol=1e-15, maxiter=500))


def ground_state_energy(p: ModelSpec) -> float:
    """Ground-state energy per spin ``e_gs = layer_energy(p, 0)`` (zero of the minima complexity).

    Pure p >= 2: exact limit of ``min H / N`` (ABC13 lower bound, Subag 2017
    arXiv:1504.02251 matching upper bound, since quenched = annealed for minima there).
    p=3: -1.1716748 (ABC: ``E_0 = 1.657``). Checked here against the T -> 0 limit of the
    Crisanti-Sommers 1RSB solution (:func:`pspin.theory.ground_state_energy_1rsb`).
    Mixed models: the annealed zero is only a lower bound unless the model is
    "pure-like" (Auffinger-Ben Arous 2013).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}``.

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.ground_state_energy(3), 6)
    -1.171675
    """
    return layer_energy(p, 0)


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
