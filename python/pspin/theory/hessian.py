"""Spectrum of the Riemannian Hessian at a typical critical point of energy e.

Conditional on a critical point with ``H/N = e``, the ``(N-1) x (N-1)`` Riemannian
Hessian ``P grad^2 H P - (s.grad H / N) P`` equals ``M - r I``, where ``M`` is a GOE with
off-diagonal variance ``xi''(1)/(2N)``, independent of the energy and gradient, and
``r`` is the radial derivative (ABC13 Lemma 3.x, unit-sphere scaling [recalled];
re-derived in :mod:`pspin.theory.mixed`). Its N -> inf spectrum is a semicircle

    centre c = -r*(e),  radius R = sqrt(2 xi''(1))

with ``r* = p e`` for a pure model (so ``c = -p e``, ``R = sqrt(2 p (p-1))``: p=3 gives
``R = 3.4641016``) and, for mixtures, ``r*`` the Kac-Rice maximiser (the spectrum of
the *dominant* critical points at that energy). Minima at ``e_th`` are marginal
(``c = R``). Finite-N: the smallest eigenvalue fluctuates on the scale ``N^(-2/3)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _semicircle as sc
from ._validate import ModelSpec, as_mixture, as_real_array, explain_failures, scalar_or_array
from .mixed import kac_rice_parameters, radial_multiplier

__all__ = [
    "hessian_density",
    "hessian_semicircle",
    "index_fraction",
    "mean_inverse_eigenvalue",
    "mean_log_eigenvalue",
    "smallest_eigenvalue",
]


def hessian_semicircle(e: Any, p: ModelSpec) -> tuple[Any, float]:
    """``(centre, radius)`` of the Riemannian Hessian spectrum at energy per spin ``e``.

    Pure p: ``centre = -p e``, ``radius = sqrt(2 p (p-1))`` (library convention; ABC
    units multiply both by sqrt(2)). Mixtures: ``centre = -r*(e)``,
    ``radius = sqrt(2 xi''(1))``. ``centre`` is an array when ``e`` is.

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> [round(float(x), 6) for x in theory.hessian_semicircle(-1.0, 3)]
    [3.0, 3.464102]
    """
    model = as_mixture(p)
    arr = as_real_array(e, "e")
    k = kac_rice_parameters(model)
    if k["alpha2"] == 0.0:
        centre = -(k["nu1"] / k["nu"]) * arr  # r = p e exactly: no optimisation needed
    else:
        centre = -np.asarray(radial_multiplier(arr, model), dtype=float)
    return scalar_or_array(centre), float(k["R"])


def hessian_density(lam: Any, e: Any, p: ModelSpec) -> Any:
    """Semicircle density of Hessian eigenvalues ``rho(lam) = 2 sqrt(R^2-(lam-c)^2)/(pi R^2)``.

    ``lam`` and ``e`` broadcast against each other.

    Parameters
    ----------
    lam : float or array
        Eigenvalue(s) of the Riemannian Hessian.
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.hessian_density(2.0, -1.0, 3)), 6)
    0.175952
    """
    lam = as_real_array(lam, "lam")
    c, R = hessian_semicircle(e, p)
    return scalar_or_array(sc.density(lam - np.asarray(c), R))


def index_fraction(e: Any, p: ModelSpec) -> Any:
    """Fraction of negative Hessian eigenvalues ``k/N = int_{lam<0} rho``.

    ``1/2 + (x sqrt(1-x^2) + arcsin x)/pi`` with ``x = -c/R`` clipped to [-1, 1].
    Zero for ``e <= e_th``; p = 3: 0.028834 at e = -1, 0.233210 at e = -0.5.

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.index_fraction(-1.0, 3)), 6)
    0.028834
    """
    c, R = hessian_semicircle(e, p)
    return scalar_or_array(sc.cdf(-np.asarray(c), R))


def smallest_eigenvalue(e: Any, p: ModelSpec) -> Any:
    """Lower spectral edge ``c - R`` (N -> inf). p = 3 at ``e_gs``: 0.050923 (the gap).

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.smallest_eigenvalue(theory.ground_state_energy(3), 3)), 6)
    0.050923
    """
    c, R = hessian_semicircle(e, p)
    return scalar_or_array(np.asarray(c) - R)


def mean_log_eigenvalue(e: Any, p: ModelSpec) -> Any:
    """``<ln|lam|>`` over the semicircle (``<ln lam>`` for minima, ``e <= e_th``).

    Closed form with ``t = 2c/R``: ``ln(R/2) + t^2/4 - 1/2 - (|t|/4) sqrt(t^2-4)
    + ln((|t| + sqrt(t^2-4))/2)`` for ``|t| >= 2`` (the last two terms absent inside).
    p = 3 at ``e_gs``: 1.0755543. Enters the harmonic vibrational free energy
    ``f_vib = (T/2)(<ln lam> - ln(2 pi T))``.

    Parameters
    ----------
    e : float or array
        Energy per spin (library convention), finite.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.mean_log_eigenvalue(theory.ground_state_energy(3), 3)), 6)
    1.075554
    """
    c, R = hessian_semicircle(e, p)
    return scalar_or_array(sc.log_potential(np.asarray(c), R))


def mean_inverse_eigenvalue(e: Any, p: ModelSpec) -> Any:
    """``<1/lam> = 2 (c - sqrt(c^2 - R^2)) / R^2`` for minima (``c >= R``, i.e. ``e <= e_th``).

    Equals the TAP stability variable ``y(e)`` (:func:`pspin.theory.tap_stability_parameter`).

    Parameters
    ----------
    e : float or array
        Energy per spin, at or below the threshold ``e_th``.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Raises
    ------
    ValueError
        If some ``e`` lies above the threshold (the spectrum reaches 0 and <1/lam> diverges).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.mean_inverse_eigenvalue(-1.17, 3)), 6)
    0.490704
    """
    c, R = hessian_semicircle(e, p)
    c = np.asarray(c)
    if np.any(c < R * (1.0 - 1e-12)):
        raise ValueError(
            "mean_inverse_eigenvalue needs e <= threshold_energy(p) (spectrum away from 0)"
        )
    return scalar_or_array(sc.stieltjes(np.maximum(c, R), R))


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
