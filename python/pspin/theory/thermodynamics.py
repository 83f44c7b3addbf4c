"""Equilibrium thermodynamics of spherical p-spin models (Crisanti-Sommers).

Sources: A. Crisanti, H.-J. Sommers, Z. Phys. B 87 (1992) 341 (statics, 1RSB);
A. Crisanti, H. Horner, H.-J. Sommers, Z. Phys. B 92 (1993) 257 (dynamics, T_d);
T. Castellani, A. Cavagna, J. Stat. Mech. (2005) P05012, arXiv:cond-mat/0505032.

Library convention ``E[HH'] = N xi(q)/2``; write ``nu = xi/2``. Free energies include
the entropy of the uniform measure on the sphere, ``s_inf = (1 + ln 2 pi)/2`` per spin,
unless ``sphere_entropy=False`` (then the paramagnet is ``f = -xi(1)/(4T)``, the TAP
normalisation of Crisanti-Sommers 1995).

1RSB functional with ``q0 = 0`` (CS92; general nu by the same derivation):

    -beta f = s_inf + (beta^2/2)[nu(1) - (1-m) nu(q)]
              + (1/2)[((m-1)/m) ln(1-q) + (1/m) ln(1-(1-m) q)]

stationary in q: ``beta^2 nu'(q) (1-q)(1-(1-m)q) = q``; in m:
``beta^2 nu(q) + (1/m^2) ln((1-q)/(1-(1-m)q)) + q/(m(1-(1-m)q)) = 0``.
At ``m = 1`` the second gives minus twice the equilibrium complexity,
``Sigma_eq = -(1/2)[beta^2 nu(q) + ln(1-q) + q]`` (Monasson's ``Sigma = beta m^2 df/dm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from ._validate import (
    Mixture,
    ModelSpec,
    as_mixture,
    as_temperature,
    elementwise,
    explain_failures,
    scalar_or_array,
)

__all__ = [
    "SPHERE_ENTROPY",
    "OneRSBSolution",
    "dynamical_plateau",
    "dynamical_temperature",
    "equilibrium_complexity",
    "ground_state_energy_1rsb",
    "one_rsb_solution",
    "paramagnetic_energy",
    "paramagnetic_entropy",
    "paramagnetic_free_energy",
    "static_overlap",
    "static_temperature",
]

SPHERE_ENTROPY = 0.5 * (1.0 + np.log(2.0 * np.pi))
"""Entropy per spin of the uniform measure on the sphere |s|^2 = N, N -> inf."""


def _s_inf(sphere_entropy: bool) -> float:
    return SPHERE_ENTROPY if sphere_entropy else 0.0


def paramagnetic_free_energy(T: Any, p: ModelSpec, *, sphere_entropy: bool = True) -> Any:
    """Paramagnetic (replica-symmetric, q = 0) free energy per spin.

    ``f = -T s_inf - xi(1)/(4T)`` (annealed = quenched for ``T > T_s``; CS92).
    Pure model: ``-T s_inf - 1/(4T)``.

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).
    sphere_entropy : bool
        Include the entropy of the sphere ``s_inf = (1 + ln 2 pi)/2``; False drops the
        constant (free energies then differ by ``T s_inf``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.paramagnetic_free_energy(1.0, 3)), 6)
    -1.668939
    """
    model = as_mixture(p)
    T = as_temperature(T)
    return scalar_or_array(-T * _s_inf(sphere_entropy) - float(model.xi(1.0)) / (4.0 * T))


def paramagnetic_energy(T: Any, p: ModelSpec) -> Any:
    """Paramagnetic energy per spin ``e = -xi(1)/(2T)`` (pure: ``-1/(2T)``; CS92).

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.paramagnetic_energy(1.0, 3)), 6)
    -0.5
    """
    model = as_mixture(p)
    T = as_temperature(T)
    return scalar_or_array(-float(model.xi(1.0)) / (2.0 * T))


def paramagnetic_entropy(T: Any, p: ModelSpec, *, sphere_entropy: bool = True) -> Any:
    """Paramagnetic entropy per spin ``s = s_inf - xi(1)/(4T^2)`` (= ``(e - f)/T``).

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).
    sphere_entropy : bool
        Include the entropy of the sphere ``s_inf = (1 + ln 2 pi)/2``; False drops the
        constant (free energies then differ by ``T s_inf``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.paramagnetic_entropy(1.0, 3)), 6)
    1.168939
    """
    model = as_mixture(p)
    T = as_temperature(T)
    return scalar_or_array(_s_inf(sphere_entropy) - float(model.xi(1.0)) / (4.0 * T * T))


# ----------------------------------------------------------------- m = 1 (T_s <= T <= T_d)
def _m1_temperature_sq(q: float, model: Mixture) -> float:
    """T^2 at which q solves the m=1 equation ``beta^2 nu'(q)(1-q) = q``."""
    return 0.5 * float(model.xi(q, 1)) * (1.0 - q) / q


def _plateau(model: Mixture) -> tuple[float, float]:
    """(q_d, T_d^2): the maximum of T^2(q) = nu'(q)(1-q)/q on (0, 1)."""
    res = minimize_scalar(
        lambda q: -_m1_temperature_sq(q, model),
        bounds=(1e-9, 1.0 - 1e-12),
        method="bounded",
        options={"xatol": 1e-13},
    )
    q_d = float(res.x)
    # A maximum at q -> 0 means the transition is continuous: no 1RSB m=1 plateau.
    if q_d < 1e-6 or _m1_temperature_sq(1e-9, model) >= -res.fun * (1 - 1e-12):
        raise ValueError(
            f"model {model.label} has a continuous transition (maximum of nu'(q)(1-q)/q at q -> 0): "
            "the 1RSB dynamical/static transition formulas do not apply"
        )
    if model.is_pure and model.p >= 3:
        q_d = (model.p - 2.0) / (model.p - 1.0)  # exact stationary point, CHS93
    return q_d, _m1_temperature_sq(q_d, model)


def dynamical_temperature(p: ModelSpec) -> float:
    """Dynamical (mode-coupling) temperature ``T_d``, where the m = 1 solution appears.

    ``T_d^2 = max_q nu'(q)(1-q)/q``; pure p: ``T_d^2 = p (p-2)^(p-2) / (2 (p-1)^(p-1))``
    (Crisanti-Horner-Sommers 1993; Cugliandolo-Kurchan 1993). p=3: ``sqrt(3/8) = 0.6123724``.
    Mixtures: valid when the transition is discontinuous (raises ValueError otherwise).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.dynamical_temperature(3), 6)
    0.612372
    """
    return float(np.sqrt(_plateau(as_mixture(p))[1]))


def dynamical_plateau(p: ModelSpec) -> float:
    """Plateau overlap ``q_d`` at ``T_d`` (pure: ``(p-2)/(p-1)``).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.dynamical_plateau(3), 6)
    0.5
    """
    return float(_plateau(as_mixture(p))[0])


def _m1_overlap(T: float, model: Mixture, q_d: float) -> float:
    """Largest root q of ``beta^2 nu'(q)(1-q) = q`` (the stable m=1 branch), T <= T_d."""
    T2 = T * T
    if _m1_temperature_sq(q_d, model) <= T2:
        return q_d  # at T_d itself (q_d is a numerical maximiser for mixtures)
    return brentq(
        lambda q: _m1_temperature_sq(q, model) - T2, q_d, 1.0 - 1e-15, xtol=1e-15, rtol=1e-15
    )


def _m1_complexity(q: float, T: float, model: Mixture) -> float:
    return -0.5 * (0.5 * float(model.xi(q)) / (T * T) + np.log1p(-q) + q)


def _static(model: Mixture) -> tuple[float, float]:
    """(q_s, T_s): the point of the m=1 branch where Sigma_eq = 0."""
    q_d, _ = _plateau(model)

    def sigma_of_q(q: float) -> float:
        return _m1_complexity(q, np.sqrt(_m1_temperature_sq(q, model)), model)

    hi = 1.0 - 1e-12
    if sigma_of_q(q_d * (1 + 1e-12)) <= 0.0 or sigma_of_q(hi) >= 0.0:
        raise ValueError(f"no Kauzmann point on the m=1 branch for model {model.label}")
    q_s = brentq(sigma_of_q, q_d * (1 + 1e-12), hi, xtol=1e-15, rtol=1e-15)
    return q_s, float(np.sqrt(_m1_temperature_sq(q_s, model)))


def static_temperature(p: ModelSpec) -> float:
    """Static (Kauzmann) temperature ``T_s``: ``Sigma_eq(T_s) = 0`` on the m = 1 branch.

    Pure p: solve ``q^2/(p(1-q)) + q + ln(1-q) = 0``, then ``T_s^2 = p q^(p-2)(1-q)/2``
    (CS92). p=3: 0.5860540 (CS92: 0.586), p=4: 0.5030394.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.static_temperature(3), 6)
    0.586054
    """
    return _static(as_mixture(p))[1]


def static_overlap(p: ModelSpec) -> float:
    """Edwards-Anderson overlap ``q_s`` at ``T_s`` (p=3: 0.6450075).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.static_overlap(3), 6)
    0.645007
    """
    return _static(as_mixture(p))[0]


def equilibrium_complexity(T: Any, p: ModelSpec) -> Any:
    """Configurational entropy of the equilibrium states, ``Sigma_eq(T)``.

    ``Sigma_eq = -(1/2)[nu(q)/T^2 + ln(1-q) + q]``
    with q the largest root of ``nu'(q)(1-q)/T^2 = q`` (CS92; Castellani-Cavagna 2005
    Sec. 7), for ``T_s <= T <= T_d``. It equals the threshold complexity of minima
    ``Sigma_0(e_th) = (1/2) ln(p-1) - (p-2)/p`` at ``T_d`` and vanishes at ``T_s`` (the
    entropy crisis). Returns 0 for ``T < T_s`` (equilibrium sits in the lowest states)
    and ``-inf`` for ``T > T_d`` (no 1RSB states: ergodic paramagnet).

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.equilibrium_complexity(0.6, 3)), 6)
    0.008145
    """
    model = as_mixture(p)
    T = as_temperature(T)
    q_d, Td2 = _plateau(model)
    _, T_s = _static(model)
    T_d = np.sqrt(Td2)

    def one(t: float) -> float:
        if t > T_d:
            return -np.inf
        if t < T_s:
            return 0.0
        return _m1_complexity(_m1_overlap(min(t, T_d), model, q_d), t, model)

    return elementwise(one, T)


# ----------------------------------------------------------------- below T_s: m < 1
@dataclass(frozen=True)
class OneRSBSolution:
    """Equilibrium 1RSB solution (arrays shaped like the temperatures given).

    Attributes
    ----------
    T : temperatures; q : Edwards-Anderson overlap ``q_EA`` (0 above ``T_s``);
    m : Parisi breakpoint (1 above ``T_s``); free_energy, energy : per spin.
    """

    T: Any
    q: Any
    m: Any
    free_energy: Any
    energy: Any


def _q_given_m(beta2: float, m: float, model: Mixture) -> float:
    """Largest root of ``beta^2 nu'(q)(1-q)(1-(1-m)q) = q``; nan if none."""

    def h(q: float) -> float:
        return beta2 * 0.5 * float(model.xi(q, 1)) * (1.0 - q) * (1.0 - (1.0 - m) * q) / q - 1.0

    # Scan 1 - q geometrically from q -> 1 (where h = -1) to find the first sign change:
    # the largest root can sit within O(T) of 1, which a bounded optimiser misses.
    gaps = np.logspace(-15, 0, 301)[:-1]
    vals = np.array([h(1.0 - x) for x in gaps])
    positive = np.nonzero(vals > 0.0)[0]
    if positive.size == 0:
        return np.nan
    j = positive[0]
    if j == 0:
        return 1.0 - gaps[0]
    return brentq(h, 1.0 - gaps[j], 1.0 - gaps[j - 1], xtol=1e-16, rtol=1e-15)


def _m_equation(m: float, beta2: float, model: Mixture) -> float:
    q = _q_given_m(beta2, m, model)
    if np.isnan(q):
        return np.nan
    a = 1.0 - (1.0 - m) * q
    return beta2 * 0.5 * float(model.xi(q)) + (np.log1p(-q) - np.log(a)) / (m * m) + q / (m * a)


def _one_rsb_point(
    T: float, model: Mixture, T_s: float, s_inf: float
) -> tuple[float, float, float, float]:
    beta2 = 1.0 / (T * T)
    nu_one = 0.5 * float(model.xi(1.0))
    if T >= T_s:
        return 0.0, 1.0, -T * s_inf - nu_one / (2.0 * T), -nu_one / T
    # The m-equation is > 0 at m = 1 below T_s. Walk m down (m ~ T at low T) to the first
    # sign change; at small m and higher T the q-equation may have no solution (nan).
    grid = np.geomspace(1.0, 1e-4 * T, 120)
    hi = 1.0
    for m_try in grid[1:]:
        val = _m_equation(m_try, beta2, model)
        if val < 0.0:
            break
        if val > 0.0:
            hi = m_try
    else:
        raise RuntimeError(f"1RSB: no breakpoint m found at T={T}")  # pragma: no cover
    m = brentq(lambda x: _m_equation(x, beta2, model), m_try, hi, xtol=1e-15, rtol=1e-15)
    q = _q_given_m(beta2, m, model)
    nuq = 0.5 * float(model.xi(q))
    minus_beta_f = (
        s_inf
        + 0.5 * beta2 * (nu_one - (1.0 - m) * nuq)
        + 0.5 * (((m - 1.0) / m) * np.log1p(-q) + np.log(1.0 - (1.0 - m) * q) / m)
    )
    # Only the explicit beta dependence survives in d(beta f)/d beta (stationarity).
    energy = -(nu_one - (1.0 - m) * nuq) / T
    return q, m, -T * minus_beta_f, energy


def one_rsb_solution(T: Any, p: ModelSpec, *, sphere_entropy: bool = True) -> OneRSBSolution:
    """Equilibrium solution of the Crisanti-Sommers 1RSB equations (q0 = 0).

    Below ``T_s`` solves the two stationarity equations of the module docstring for
    ``(q, m)`` and returns ``f`` and ``e = d(beta f)/d beta = -beta[nu(1) - (1-m) nu(q)]``.
    At and above ``T_s`` the equilibrium state is the paramagnet: ``q = 0``, ``m = 1``.
    Pure p >= 3: 1RSB is exact down to T = 0 (no Gardner transition), and as T -> 0,
    ``m ~ mu T``, ``1 - q ~ chi T``, ``e -> e_gs`` (:func:`ground_state_energy_1rsb`).
    Reliable down to ``T ~ 1e-3``.

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).
    sphere_entropy : bool
        Include the entropy of the sphere ``s_inf = (1 + ln 2 pi)/2``; False drops the
        constant (free energies then differ by ``T s_inf``).

    Examples
    --------
    >>> from pspin import theory
    >>> sol = theory.one_rsb_solution(0.5, 3)
    >>> round(float(sol.q), 4), round(float(sol.m), 4), round(float(sol.energy), 4)
    (0.7117, 0.7361, -0.9049)
    """
    model = as_mixture(p)
    Tarr = as_temperature(T)
    _, T_s = _static(model)
    s_inf = _s_inf(sphere_entropy)
    pts = np.array([_one_rsb_point(float(t), model, T_s, s_inf) for t in np.ravel(Tarr)]).reshape(
        Tarr.shape + (4,)
    )
    return OneRSBSolution(
        T=scalar_or_array(Tarr),
        q=scalar_or_array(pts[..., 0]),
        m=scalar_or_array(pts[..., 1]),
        free_energy=scalar_or_array(pts[..., 2]),
        energy=scalar_or_array(pts[..., 3]),
    )


def ground_state_energy_1rsb(p: ModelSpec) -> float:
    """Ground-state energy from the T -> 0 limit of the 1RSB functional (``m = mu T``, ``1-q = chi T``).

    ``e_gs = -(1/2)[nu'(1) chi + nu(1) mu + (1/mu) ln(1 + mu/chi)]`` stationary in
    ``(chi, mu)``: ``nu'(1) = 1/(chi(chi+mu))`` and
    ``nu(1) = ln(1+mu/chi)/mu^2 - 1/(mu(chi+mu))`` (CS92 T -> 0; pure p: theory.md c.5).
    Independent of the Kac-Rice route, and equal to :func:`ground_state_energy` for pure p.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.ground_state_energy_1rsb(3), 6)
    -1.171675
    """
    model = as_mixture(p)
    nu0, nu1 = 0.5 * float(model.xi(1.0)), 0.5 * float(model.xi(1.0, 1))
    # e_gs scales with sqrt(xi(1)): solve for the model normalised to xi(1) = 1 (the
    # bracket [1e-3, 1] of mu is meant for it) and scale back; exact when xi(1) = 1.
    scale = float(np.sqrt(2.0 * nu0))
    nu0, nu1 = nu0 / scale**2, nu1 / scale**2

    def chi_of(mu: float) -> float:
        return 0.5 * (-mu + np.sqrt(mu * mu + 4.0 / nu1))

    def eq(mu: float) -> float:
        c = chi_of(mu)
        return nu0 - np.log1p(mu / c) / mu**2 + 1.0 / (mu * (c + mu))

    lo, hi = 1e-3, 1.0
    while eq(hi) <= 0.0:
        hi *= 2.0
    mu = brentq(eq, lo, hi, xtol=1e-15, rtol=1e-15)
    c = chi_of(mu)
    return float(-0.5 * (nu1 * c + nu0 * mu + np.log1p(mu / c) / mu)) * scale


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
