"""Annealed Kac-Rice complexity of spherical models, pure or mixed (library convention).

The model ``H = sum_p c_p H_p`` on the sphere ``|s|^2 = N`` has covariance
``E[H(s) H(s')] = N nu(q)`` with ``nu = xi / 2``, ``xi(q) = sum_p c_p^2 q^p``.
Write ``nu, nu', nu''`` for the values at ``q = 1`` and ``alpha^2 = nu'' + nu' - nu'^2/nu``.

Derivation (Kac-Rice on the sphere; the same steps as Auffinger-Ben Arous 2013,
arXiv:1110.5872, Sec. 2-3; re-derived here, constants checked against the pure
closed forms of Auffinger-Ben Arous-Cerny 2013, arXiv:1003.1129, Thm 2.5/2.8).
At a point s, conditional on ``H = N u`` and on a vanishing Riemannian gradient
(whose N-1 components are iid ``N(0, nu')``), the Riemannian Hessian is ``M - r I``
with ``M`` a GOE of off-diagonal variance ``nu''/N`` (semicircle radius
``R = 2 sqrt(nu'')``) independent of ``(u, r)``, and ``r = s.grad H / N`` the radial
derivative, Gaussian with mean ``nu' u / nu`` and variance ``alpha^2 / N`` given u
(for a pure model ``alpha = 0`` and ``r = p u``). Hence the complexity density

    Sigma_k(u) = 1/2 - (1/2) ln nu' - u^2/(2 nu)
                 + max_r [ Phi_R(r) - (r - nu' u/nu)^2 / (2 alpha^2) - k I(r) ]

with ``Phi_R`` the semicircle log-potential and ``I`` the GOE edge rate (one eigenvalue
pushed below r costs ``I(r)``).  ``k = None`` (all indices): r free and no ``I`` term.
Fixed index k: ``r <= -R`` (only k eigenvalues of M below r).  Because
``alpha^2 < 2 nu''`` the bracket is strictly concave, so the maximiser is unique.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from . import _semicircle as sc
from ._validate import (
    Mixture,
    ModelSpec,
    as_index,
    as_mixture,
    as_real_array,
    elementwise,
    explain_failures,
    scalar_or_array,
)

__all__ = [
    "covariance_xi",
    "kac_rice_parameters",
    "mixed_threshold_energy",
    "radial_multiplier",
]


def covariance_xi(q: Any, p: ModelSpec, derivative: int = 0) -> Any:
    """The covariance function ``xi(q) = sum_p c_p^2 q^p`` (or a derivative).

    Library convention (design.md): ``E[H(s) H(s')] = N xi(q) / 2``, ``q = s.s'/N``.

    Parameters
    ----------
    q : float or array
        Overlap(s), finite.
    p : int or mapping
        Model.
    derivative : int
        0, 1, 2, ...

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.covariance_xi(0.5, {3: 0.8, 4: 0.6})), 6)  # 0.64/8 + 0.36/16
    0.1025
    """
    model = as_mixture(p)
    if (
        isinstance(derivative, bool)
        or not isinstance(derivative, (int, np.integer))
        or derivative < 0
    ):
        raise ValueError(f"derivative must be an int >= 0, got {derivative!r}")
    return scalar_or_array(model.xi(as_real_array(q, "q"), int(derivative)))


def kac_rice_parameters(p: ModelSpec) -> dict[str, float]:
    """The numbers entering the Kac-Rice formula: ``nu, nu', nu'', alpha^2, R``.

    ``nu = xi(1)/2``, ``nu' = xi'(1)/2``, ``nu'' = xi''(1)/2``,
    ``alpha^2 = nu'' + nu' - nu'^2/nu`` (0 for a pure model), ``R = 2 sqrt(nu'')``.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> {k: round(float(v), 6) for k, v in theory.kac_rice_parameters(3).items()}
    {'nu': 0.5, 'nu1': 1.5, 'nu2': 3.0, 'alpha2': 0.0, 'R': 3.464102}
    """
    nu0, nu1, nu2 = as_mixture(p).nu()
    # Cauchy-Schwarz makes alpha^2 >= 0; clip the rounding error of the pure case.
    alpha2 = max(nu2 + nu1 - nu1 * nu1 / nu0, 0.0)
    if alpha2 < 1e-13 * (nu2 + nu1):
        alpha2 = 0.0
    return {"nu": nu0, "nu1": nu1, "nu2": nu2, "alpha2": alpha2, "R": 2.0 * np.sqrt(nu2)}


def mixed_threshold_energy(p: ModelSpec) -> float:
    """Threshold energy per spin ``e_th = -nu (2 nu'' - alpha^2) / (nu' sqrt(nu''))``.

    It is the energy below which the dominant critical points are minima (the optimal
    radial multiplier of the Kac-Rice problem reaches the spectral edge ``-R``).
    With ``nu(1) = 1`` this is ``-(nu'' - nu' + nu'^2)/(nu' sqrt(nu''))``: the
    ``E'_inf`` of Auffinger-Ben Arous 2013 (arXiv:1110.5872) [form recalled; derived
    here from the edge condition]. It is *not* the naive ``-2 nu sqrt(nu'')/nu'``,
    which holds only for pure models, where both give ``-sqrt(2(p-1)/p)``.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.mixed_threshold_energy({3: 0.8, 4: 0.6})), 6)
    -1.185348
    """
    k = kac_rice_parameters(p)
    return -k["nu"] * (2.0 * k["nu2"] - k["alpha2"]) / (k["nu1"] * np.sqrt(k["nu2"]))


def _optimal_r(u: float, k: dict[str, float], index: int | None) -> float:
    """Maximiser r of the concave Kac-Rice bracket at energy u (nan when none exists)."""
    a = k["nu1"] * u / k["nu"]
    R, alpha2 = k["R"], k["alpha2"]
    if alpha2 == 0.0:
        if index is not None and a > -R * (1.0 - 1e-12):
            return np.nan
        return a
    weight = 0 if index is None else index

    def slope(r: float) -> float:
        return float(sc.stieltjes(r, R) - (r - a) / alpha2 - weight * sc.edge_rate_derivative(r, R))

    # |Phi'| <= 2/R, and for r < -R the edge term only adds a positive slope, so this
    # bracket always contains the root.
    half = 2.0 * alpha2 / R * (1 + weight) + 1.0
    lo, hi = a - half, a + half
    if index is not None:
        hi = min(hi, -R)
        if slope(hi) >= 0.0:
            return -R
        while slope(lo) <= 0.0:
            lo -= half
    return brentq(slope, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)


def _bracket(r: float, u: float, k: dict[str, float], index: int | None) -> float:
    a = k["nu1"] * u / k["nu"]
    val = float(sc.log_potential(r, k["R"]))
    if k["alpha2"] > 0.0:
        val -= (r - a) ** 2 / (2.0 * k["alpha2"])
    if index:
        val -= index * float(sc.edge_rate(r, k["R"]))
    return val


def _sigma_scalar(u: float, k: dict[str, float], index: int | None) -> float:
    r = _optimal_r(u, k, index)
    if np.isnan(r):
        return -np.inf
    return 0.5 - 0.5 * np.log(k["nu1"]) - u * u / (2.0 * k["nu"]) + _bracket(r, u, k, index)


def _sigma_slope_scalar(u: float, k: dict[str, float], index: int | None) -> float:
    """dSigma/du by the envelope theorem (the maximiser r is stationary)."""
    r = _optimal_r(u, k, index)
    if np.isnan(r):
        return np.nan
    lin = -u / k["nu"]
    if k["alpha2"] == 0.0:
        # r = nu' u / nu is tied to u: differentiate the bracket along it.
        slope_r = float(sc.stieltjes(r, k["R"]))
        if index:
            slope_r -= index * float(sc.edge_rate_derivative(r, k["R"]))
        return lin + k["nu1"] / k["nu"] * slope_r
    return lin + k["nu1"] / k["nu"] * (r - k["nu1"] * u / k["nu"]) / k["alpha2"]


def annealed_complexity(e: Any, model: Mixture, index: int | None) -> Any:
    """Sigma_k(e) of the module docstring for an already-validated model (vectorised)."""
    k = kac_rice_parameters(model)
    e = np.asarray(e, dtype=float)
    if k["alpha2"] == 0.0:
        # Closed form: no optimisation needed, so evaluate on the whole array at once.
        r = k["nu1"] * e / k["nu"]
        out = 0.5 - 0.5 * np.log(k["nu1"]) - e * e / (2.0 * k["nu"]) + sc.log_potential(r, k["R"])
        if index is not None:
            out = out - index * sc.edge_rate(r, k["R"])
            # Relative slack so that e = threshold_energy(p), rounded, stays on the support;
            # the formula is continuous there (edge_rate vanishes at the edge).
            out = np.where(r <= -k["R"] * (1.0 - 1e-12), out, -np.inf)
        return scalar_or_array(out)
    return elementwise(lambda u: _sigma_scalar(u, k, index), e)


def annealed_complexity_slope(e: Any, model: Mixture, index: int | None) -> Any:
    """d Sigma_k / de (vectorised); nan off the support."""
    k = kac_rice_parameters(model)
    return elementwise(lambda u: _sigma_slope_scalar(u, k, index), np.asarray(e, dtype=float))


def radial_multiplier(e: Any, p: ModelSpec, index: int | None = None) -> Any:
    """Radial multiplier ``r*(e)`` of the dominant critical points at energy e.

    The Riemannian Hessian of those points is ``M - r* I`` (semicircle centred at
    ``-r*``, radius ``2 sqrt(nu'')``). For a pure model ``r* = p e``. nan where no
    critical point of that index exists (pure model, fixed index, ``e > e_th``).

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).
    index : int or None
        Morse index k >= 0 (0 = minima), or None for all critical points.

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.radial_multiplier(-1.0, 3)), 6)  # p e for a pure model
    -3.0
    """
    model = as_mixture(p)
    index = as_index(index)
    k = kac_rice_parameters(model)
    arr = as_real_array(e, "e")
    return elementwise(lambda u: _optimal_r(u, k, index), arr)


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
