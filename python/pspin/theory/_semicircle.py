"""Wigner semicircle of radius R centred at 0: the random-matrix facts the landscape uses.

All functions are vectorised over ``r`` (or ``lam``) and take the radius ``R > 0``.
Notation: ``t = 2 r / R`` so that the bulk is ``|t| <= 2``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _t(r: ArrayLike, R: float) -> np.ndarray:
    return 2.0 * np.asarray(r, dtype=float) / R


def edge_rate(r: ArrayLike, R: float) -> np.ndarray:
    """Large-deviation rate of one GOE eigenvalue at ``r`` outside the bulk.

    ``I(t) = (|t|/4) sqrt(t^2 - 4) - ln((|t| + sqrt(t^2 - 4)) / 2)`` for ``|t| > 2``, 0 inside;
    equals ``(1/2) int_2^|t| sqrt(y^2 - 4) dy`` (Ben Arous-Dembo-Guionnet 2001; ABC13 I_1).
    """
    a = np.abs(_t(r, R))
    out = np.zeros_like(a)
    big = a > 2.0
    s = np.sqrt(a[big] ** 2 - 4.0)
    out[big] = 0.25 * a[big] * s - np.log(0.5 * (a[big] + s))
    return out


def edge_rate_derivative(r: ArrayLike, R: float) -> np.ndarray:
    """``d I(2|r|/R) / dr = sign(r) sqrt(t^2 - 4) / R`` outside the bulk, 0 inside."""
    t = _t(r, R)
    return np.sign(t) * np.sqrt(np.maximum(t * t - 4.0, 0.0)) / R


def log_potential(r: ArrayLike, R: float) -> np.ndarray:
    """``Phi_R(r) = int ln|r - lam| rho_R(lam) dlam = ln(R/2) + t^2/4 - 1/2 - I(t)``.

    The exponential rate of ``E|det(M - r)|`` for a GOE ``M`` with semicircle radius R.
    """
    t = _t(r, R)
    return np.log(0.5 * R) + 0.25 * t * t - 0.5 - edge_rate(r, R)


def stieltjes(r: ArrayLike, R: float) -> np.ndarray:
    """``Phi_R'(r) = int rho_R(lam) / (r - lam) dlam`` (principal value inside the bulk).

    ``(2/R^2)(r - sign(r) sqrt(r^2 - R^2))`` for ``|r| > R``, ``2 r / R^2`` inside.
    """
    r = np.asarray(r, dtype=float)
    root = np.sqrt(np.maximum(r * r - R * R, 0.0))
    return 2.0 / R**2 * (r - np.sign(r) * root)


def density(lam: ArrayLike, R: float) -> np.ndarray:
    """``rho_R(lam) = (2 / (pi R^2)) sqrt(R^2 - lam^2)`` on ``[-R, R]``."""
    lam = np.asarray(lam, dtype=float)
    return 2.0 / (np.pi * R * R) * np.sqrt(np.maximum(R * R - lam * lam, 0.0))


def cdf(lam: np.ndarray, R: float) -> np.ndarray:
    """Fraction of the semicircle below ``lam``: ``1/2 + (x sqrt(1-x^2) + arcsin x)/pi``, ``x = lam/R``."""
    x = np.clip(np.asarray(lam, dtype=float) / R, -1.0, 1.0)
    return 0.5 + (x * np.sqrt(1.0 - x * x) + np.arcsin(x)) / np.pi
