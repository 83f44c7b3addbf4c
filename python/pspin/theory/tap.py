"""TAP states of the pure spherical p-spin model at T > 0 (library convention).

Sources: A. Crisanti, H.-J. Sommers, J. Phys. I France 5 (1995) 805 (CS95);
J. Kurchan, G. Parisi, M. A. Virasoro, J. Phys. I 3 (1993) 1819;
A. Cavagna, I. Giardina, G. Parisi, PRB 57 (1998) 11251 (CGP98);
A. Barrat, arXiv:cond-mat/9701031 (review, Sec. on TAP).

Every T = 0 minimum ``s*`` with energy per spin ``E`` (``E <= e_th``) is followed to
T > 0 by the TAP state ``m = sqrt(q) s*``, whose free energy per spin is

    f_TAP(E, T) = q^(p/2) E - (T/2) ln(1-q) - (1/(4T)) [1 - p q^(p-1) + (p-1) q^p] - T s_inf

(``s_inf = (1 + ln 2 pi)/2``; dropped with ``sphere_entropy=False``, which is the CS95
normalisation where the paramagnet is ``-1/(4T)``). q solves
``q^((p-2)/2) (1-q) / T = y(E)`` on the branch ``q >= (p-2)/p``, with

    y(E) = [-p E - sqrt(p^2 E^2 - 2 p (p-1))] / (p (p-1)) = <1/lambda>_Hessian(E).

States are labelled by E, never cross or merge, so the TAP complexity is
``Sigma(f, T) = Sigma_0(E(f, T))`` (parametric, CGP98). Checked here [internal]: for
``T_s < T < T_d`` the minimum over states of ``f_TAP - T Sigma_0`` equals the paramagnet
(``-1/(4T)`` without the sphere entropy) and its argmin runs from ``e_gs`` (T_s) to
``e_th`` (T_d); as T -> 0, ``f_TAP -> E + (T/2)(<ln lambda> - ln(2 pi T))``. The
formulas themselves follow theory.md sec. g, [recalled] from CS95 and verified only
through these identities.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from ._validate import (
    ModelSpec,
    as_mixture,
    as_pure,
    as_real_array,
    as_temperature,
    explain_failures,
    scalar_or_array,
)
from .mixed import annealed_complexity, annealed_complexity_slope
from .spherical_landscape import ground_state_energy, threshold_energy
from .thermodynamics import SPHERE_ENTROPY, dynamical_temperature, static_temperature

__all__ = [
    "tap_complexity",
    "tap_equilibrium_state",
    "tap_free_energy",
    "tap_max_temperature",
    "tap_overlap",
    "tap_stability_parameter",
]

_WHAT = "the TAP formulas"


def _y(E: np.ndarray, p: int) -> np.ndarray:
    return (-p * E - np.sqrt(np.maximum(p * p * E * E - 2.0 * p * (p - 1.0), 0.0))) / (
        p * (p - 1.0)
    )


def _check_below_threshold(E: np.ndarray, p: int) -> None:
    e_th = threshold_energy(p)
    if np.any(E > e_th * (1.0 - 1e-12)):
        raise ValueError(
            f"TAP states are built on minima: need E <= threshold_energy({p}) = {e_th:.7f}, got max E = {np.max(E)!r}"
        )


def tap_stability_parameter(e: Any, p: ModelSpec) -> Any:
    """``y(E) = [-pE - sqrt(p^2 E^2 - 2p(p-1))]/(p(p-1))``, the stable root (E <= e_th).

    Equals ``<1/lambda>`` of the Hessian semicircle at E (theory.md sec. d/g).

    Parameters
    ----------
    e : float or array
        Energy per spin of the minimum, at or below ``e_th``.
    p : int
        Degree of the pure spherical model, >= 2 (or a one-degree mapping ``{p: 1.0}``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.tap_stability_parameter(-1.17, 3)), 6)
    0.490704
    """
    p = as_pure(p, what=_WHAT)
    E = as_real_array(e, "e")
    _check_below_threshold(E, p)
    return scalar_or_array(_y(E, p))


def _q_star(p: int) -> float:
    return (p - 2.0) / p


def _g_max(p: int) -> float:
    qs = _q_star(p)
    return qs ** ((p - 2) / 2.0) * (1.0 - qs)


def tap_max_temperature(e: Any, p: ModelSpec) -> Any:
    """``T_max(E) = q*^((p-2)/2)(1-q*) / y(E)``, ``q* = (p-2)/p``: the state built on E exists for T <= T_max.

    ``T_max`` decreases with E; p = 3: ``T_max(e_th) = 2/3 > T_d``.

    Parameters
    ----------
    e : float or array
        Energy per spin of the minimum, at or below ``e_th``.
    p : int
        Degree of the pure spherical model, >= 2 (or a one-degree mapping ``{p: 1.0}``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.tap_max_temperature(theory.threshold_energy(3), 3)), 6)
    0.666667
    """
    p = as_pure(p, what=_WHAT)
    E = as_real_array(e, "e")
    _check_below_threshold(E, p)
    return scalar_or_array(_g_max(p) / _y(E, p))


def _q_scalar(E: float, T: float, p: int) -> float:
    target = T * float(_y(np.asarray(E), p))
    if target > _g_max(p) * (1 + 1e-13):
        raise ValueError(
            f"no TAP state at E={E}, T={T}: T exceeds T_max(E)={_g_max(p) / float(_y(np.asarray(E), p)):.7f}"
        )
    lo = _q_star(p)
    if target >= _g_max(p):
        return lo
    return brentq(
        lambda q: q ** ((p - 2) / 2.0) * (1.0 - q) - target, lo, 1.0, xtol=1e-16, rtol=1e-15
    )


def tap_overlap(e: Any, T: Any, p: ModelSpec) -> Any:
    """Self-overlap ``q(E, T)`` of the TAP state built on a minimum of energy E.

    Root of ``q^((p-2)/2)(1-q) = T y(E)`` with ``q >= (p-2)/p``; ``q -> 1 - T y`` as T -> 0.
    ``e`` and ``T`` broadcast. Raises ValueError where ``E > e_th`` or ``T > T_max(E)``.

    Parameters
    ----------
    e : float or array
        Energy per spin of the minimum, at or below ``e_th``.
    T : float or array
        Temperature, > 0.
    p : int
        Degree of the pure spherical model, >= 2 (or a one-degree mapping ``{p: 1.0}``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.tap_overlap(-1.17, 0.5, 3)), 6)
    0.708516
    """
    p = as_pure(p, what=_WHAT)
    E = as_real_array(e, "e")
    Tarr = as_temperature(T)
    _check_below_threshold(E, p)
    E, Tarr = np.broadcast_arrays(E, Tarr)
    flat = [_q_scalar(float(a), float(b), p) for a, b in zip(E.ravel(), Tarr.ravel())]
    return scalar_or_array(np.array(flat).reshape(E.shape))


def _f_of_q(q: np.ndarray, E: np.ndarray, T: np.ndarray, p: int, s_inf: float) -> np.ndarray:
    return (
        q ** (p / 2.0) * E
        - 0.5 * T * np.log1p(-q)
        - (1.0 - p * q ** (p - 1) + (p - 1.0) * q**p) / (4.0 * T)
        - T * s_inf
    )


def tap_free_energy(e: Any, T: Any, p: ModelSpec, *, sphere_entropy: bool = True) -> Any:
    """TAP free energy per spin of the state built on a T = 0 minimum of energy ``e``.

    ``f = q^(p/2) E - (T/2) ln(1-q) - [1 - p q^(p-1) + (p-1) q^p]/(4T) - T s_inf``
    with ``q = tap_overlap(e, T, p)`` (CS95; see module docstring). ``e``, ``T``
    broadcast; ``df/dE = q^(p/2)`` at fixed T (the TAP equations make f stationary in q).

    Parameters
    ----------
    e : float or array
        Energy per spin of the minimum, at or below ``e_th``.
    T : float or array
        Temperature, > 0.
    p : int
        Degree of the pure spherical model, >= 2 (or a one-degree mapping ``{p: 1.0}``).
    sphere_entropy : bool
        Include the entropy of the sphere ``s_inf = (1 + ln 2 pi)/2``; False drops the
        constant (free energies then differ by ``T s_inf``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.tap_free_energy(-1.17, 0.5, 3)), 6)
    -1.201723
    """
    p = as_pure(p, what=_WHAT)
    q = np.asarray(tap_overlap(e, T, p))
    E, Tarr = np.broadcast_arrays(as_real_array(e, "e"), as_temperature(T))
    s_inf = SPHERE_ENTROPY if sphere_entropy else 0.0
    return scalar_or_array(_f_of_q(q, E, Tarr, p, s_inf))


def tap_complexity(f: Any, T: Any, p: ModelSpec, *, sphere_entropy: bool = True) -> Any:
    """TAP complexity ``Sigma(f, T)``: log-number per spin of TAP states of free energy f.

    Parametric (CGP98): ``Sigma(f, T) = Sigma_0(E)`` with E solving ``f_TAP(E, T) = f``
    (f_TAP increases with E). States exist for ``E <= min(e_th, E_max(T))``, where
    ``T_max(E_max) = T``; larger f gives ``-inf``. Below the free energy of the state
    built on ``e_gs`` the annealed value is negative (exponentially rare).
    ``f`` and ``T`` broadcast.

    Parameters
    ----------
    f : float or array
        Free energy per spin of the TAP states.
    T : float or array
        Temperature, > 0.
    p : int
        Degree of the pure spherical model, >= 2 (or a one-degree mapping ``{p: 1.0}``).
    sphere_entropy : bool
        Include the entropy of the sphere ``s_inf = (1 + ln 2 pi)/2``; False drops the
        constant (free energies then differ by ``T s_inf``).

    Examples
    --------
    >>> from pspin import theory
    >>> f = theory.tap_free_energy(-1.16, 0.6, 3)
    >>> round(float(theory.tap_complexity(f, 0.6, 3)), 6) == round(float(theory.complexity(-1.16, 3, 0)), 6)
    True
    """
    p = as_pure(p, what=_WHAT)
    F = as_real_array(f, "f")
    Tarr = as_temperature(T)
    F, Tarr = np.broadcast_arrays(F, Tarr)
    s_inf = SPHERE_ENTROPY if sphere_entropy else 0.0
    model = as_mixture(p)
    e_th = threshold_energy(p)

    def f_at(E: float, t: float) -> float:
        q = _q_scalar(E, t, p)
        return float(_f_of_q(np.asarray(q), np.asarray(E), np.asarray(t), p, s_inf))

    def one(fv: float, t: float) -> float:
        # Highest E with a state at this T: T_max(E) = T, capped at e_th.
        y_needed = _g_max(p) / t
        if float(_y(np.asarray(e_th), p)) <= y_needed:
            e_hi = e_th
        else:
            # y(E) = y_needed  <=>  E = -(p-1) y/2 - 1/(p y)   (invert the quadratic)
            e_hi = -(p - 1.0) * y_needed / 2.0 - 1.0 / (p * y_needed)
        if fv > f_at(e_hi, t):
            return -np.inf
        lo = 2.0 * e_hi
        while f_at(lo, t) > fv:
            lo *= 2.0
        E = brentq(lambda x: f_at(x, t) - fv, lo, e_hi, xtol=1e-15, rtol=1e-15)
        return float(annealed_complexity(E, model, 0))

    flat = [one(float(a), float(b)) for a, b in zip(F.ravel(), Tarr.ravel())]
    return scalar_or_array(np.array(flat).reshape(F.shape))


def tap_equilibrium_state(
    T: float, p: ModelSpec, *, sphere_entropy: bool = True
) -> tuple[float, float]:
    """``(E*, phi*)``: the states that dominate equilibrium, ``argmin/min_E [f_TAP(E,T) - T Sigma_0(E)]``.

    For ``T_s <= T <= T_d`` the minimum is taken over ``E in [e_gs, e_th]`` by solving
    the stationarity condition ``q(E,T)^(p/2) = T Sigma_0'(E)``; ``phi*`` equals the
    paramagnetic free energy ``-T s_inf - 1/(4T)`` (this is how the 1RSB m = 1 phase
    looks from the TAP side; checked to 1e-10 in the tests).

    Parameters
    ----------
    T : float
        Temperature in ``[T_s, T_d]``.
    p : int
        Degree of the pure spherical model, >= 3 (or a one-degree mapping ``{p: 1.0}``).
    sphere_entropy : bool
        Include the entropy of the sphere ``s_inf = (1 + ln 2 pi)/2``; False drops the
        constant (free energies then differ by ``T s_inf``).

    Raises
    ------
    ValueError
        If T lies outside ``[T_s, T_d]``.

    Examples
    --------
    >>> from pspin import theory
    >>> [round(float(x), 6) for x in theory.tap_equilibrium_state(0.6, 3)]
    [-1.161895, -1.26803]
    """
    p = as_pure(p, minimum=3, what="tap_equilibrium_state")
    t = float(as_temperature(T))
    T_s, T_d = static_temperature(p), dynamical_temperature(p)
    if not (T_s * (1 - 1e-12) <= t <= T_d * (1 + 1e-12)):
        raise ValueError(
            f"tap_equilibrium_state needs T_s={T_s:.7f} <= T <= T_d={T_d:.7f}, got T={t}"
        )
    model = as_mixture(p)
    e_gs, e_th = ground_state_energy(p), threshold_energy(p)

    def slope(E: float) -> float:
        q = _q_scalar(E, t, p)
        return q ** (p / 2.0) - t * float(annealed_complexity_slope(E, model, 0))

    a, b = e_gs, e_th * (1.0 - 1e-13)
    sa, sb = slope(a), slope(b)
    if sa >= 0.0:
        E = a
    elif sb <= 0.0:
        E = b
    else:
        E = brentq(slope, a, b, xtol=1e-15, rtol=1e-15)
    s_inf = SPHERE_ENTROPY if sphere_entropy else 0.0
    q = _q_scalar(E, t, p)
    phi = float(_f_of_q(np.asarray(q), np.asarray(E), np.asarray(t), p, s_inf)) - t * float(
        annealed_complexity(E, model, 0)
    )
    return float(E), phi


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
