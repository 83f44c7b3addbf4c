"""Exact expected numbers of critical points at finite N (isotropic spherical ensemble).

For the isotropic ensemble the covariance is exactly ``E[H(s)H(s')] = N nu(q)``,
``nu = xi/2``, at every N, so the Kac-Rice formula is exact. On the sphere
``|s|^2 = N`` (``n = N - 1`` tangent dimensions), at a point with ``H = N u``,
radial derivative ``r = s.grad H / N`` and zero Riemannian gradient, the Riemannian
Hessian is ``M - r I`` with ``M`` an n x n GOE of off-diagonal variance ``nu''/N``,
independent of ``(u, r)`` and of the gradient (components iid ``N(0, nu')``). Hence

    E Crt_k(B) = |S^{N-1}(sqrt N)| (2 pi nu')^(-n/2)
                 * int dr p(r) P(u in B | r) E[|det(M - r)| 1{index = k}]

with ``(u, r)`` jointly Gaussian: ``Var u = nu/N``, ``Cov = nu'/N``,
``Var r = (nu' + nu'')/N`` (pure p: ``r = p u``). Rescaling ``M = c X``,
``c = sqrt(2 nu''/N)``, the GOE average is ``c^n D_k(r/c)`` computed exactly by
:mod:`pspin.theory._goe` (de Bruijn Pfaffians); the r integral is a composite
Gauss-Legendre rule, and the error estimate is the difference between two rules
(8 and 12 nodes per panel) plus the Fourier round-off.

For pure p this is equivalent to the identity of Auffinger-Ben Arous-Cerny 2013
(arXiv:1003.1129, Lemma 3.x [recalled]), in their units ``u_ABC = sqrt(2) e``:

    E Crt_{N,k}(B) = 2 sqrt(2/p) (p-1)^(N/2)
                     E_GOE_N[ exp(-N (p-2) lam_k^2 / (2p)) 1{lam_k in sqrt(p/(2(p-1))) B} ]

(GOE_N with ``E M_ij^2 = (1 + delta_ij)/(2N)``, ``lam_k`` the (k+1)-th smallest
eigenvalue), which the tests check by Monte Carlo, together with the exact p = 2
counts (2 critical points of each index, 2N in all).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln, ndtr

from ._goe import det_moments_by_count, legendre_rule
from ._validate import Mixture, ModelSpec, as_count, as_index, as_mixture, explain_failures

__all__ = ["KacRiceCount", "expected_critical_points", "expected_critical_points_by_index"]


@dataclass(frozen=True)
class KacRiceCount:
    """Expected number of critical points with an error estimate.

    Attributes
    ----------
    value : float
        ``E[# critical points]`` (index and energy range as requested).
    error : float
        Estimated absolute numerical error (quadrature + round-off); the value is exact
        otherwise. Typically 1e-10 relative or better.
    n : int
    index : int or None
    energy_range : (float, float)
        Energy-per-spin interval ``[e_lo, e_hi]`` (may be infinite).

    ``float(result)`` gives ``value``.
    """

    value: float
    error: float
    n: int
    index: int | None
    energy_range: tuple[float, float]

    def __float__(self) -> float:
        return float(self.value)


_N_MAX = 40  # about 20 s at n = 40 (n = 20: ~1 s); round-off stays ~1e-12 relative
_PANEL = 0.5  # panel width in GOE units: eigenvalue spacing near the centre ~ pi/sqrt(2n)
_RULES = (8, 12)


def _energy_range(energy_range: Any) -> tuple[float, float]:
    if energy_range is None:
        return (-np.inf, np.inf)
    try:
        lo, hi = (float(v) for v in energy_range)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"energy_range must be None or a pair (e_lo, e_hi), got {energy_range!r}"
        ) from exc
    if np.isnan(lo) or np.isnan(hi):
        raise ValueError(f"energy_range must not contain NaN, got {energy_range!r}")
    if lo > hi:
        raise ValueError(f"energy_range must have e_lo <= e_hi, got {energy_range!r}")
    return (lo, hi)


def _log_prefactor(N: int, nu1: float) -> float:
    """ln(|S^{N-1}(sqrt N)| (2 pi nu')^(-n/2)), n = N - 1."""
    n = N - 1
    log_area = np.log(2.0) + 0.5 * N * np.log(np.pi) + 0.5 * n * np.log(N) - gammaln(0.5 * N)
    return log_area - 0.5 * n * np.log(2.0 * np.pi * nu1)


def _composite_rule(lo: float, hi: float, m: int) -> tuple[np.ndarray, np.ndarray]:
    panels = max(1, int(np.ceil((hi - lo) / _PANEL)))
    edges = np.linspace(lo, hi, panels + 1)
    t, w = legendre_rule(m)
    half = 0.5 * np.diff(edges)[:, None]
    nodes = 0.5 * (edges[1:] + edges[:-1])[:, None] + half * t[None, :]
    return nodes.ravel(), (half * w[None, :]).ravel()


@functools.lru_cache(maxsize=256)
def _counts(
    N: int, model: Mixture, energy_range: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(values[k], errors[k]) for k = 0..N-1 (cached: all indices come out together)."""
    n = N - 1
    nu0, nu1, nu2 = model.nu()
    var_r = (nu1 + nu2) / N
    c = np.sqrt(2.0 * nu2 / N)
    cond_var_u = max(nu0 - nu1 * nu1 / (nu1 + nu2), 0.0) / N  # 0 for a pure model
    pure = cond_var_u <= 1e-14 * nu0 / N
    # GOE_N spectrum edge in X units is sqrt(2N); beyond edge + 10 nothing contributes.
    x_lo, x_hi = -(np.sqrt(2.0 * N) + 10.0), np.sqrt(2.0 * N) + 10.0
    e_lo, e_hi = energy_range
    if pure:
        scale = (nu1 / nu0) / c  # x = r / c = (nu'/nu) u / c
        x_lo, x_hi = max(x_lo, e_lo * scale), min(x_hi, e_hi * scale)
        if x_lo >= x_hi:
            return np.zeros(N), np.zeros(N)
    log_pref = _log_prefactor(N, nu1) + (n + 1) * np.log(c)
    results = []
    for m in _RULES:
        x, wq = _composite_rule(x_lo, x_hi, m)
        D = det_moments_by_count(x, n)  # (len(x), N)
        r = c * x
        log_w = log_pref - 0.5 * r * r / var_r - 0.5 * np.log(2.0 * np.pi * var_r)
        weight = wq * np.exp(log_w)
        if not pure:
            mean_u = nu1 * r / (nu1 + nu2)
            sd = np.sqrt(cond_var_u)
            weight = weight * (ndtr((e_hi - mean_u) / sd) - ndtr((e_lo - mean_u) / sd))
        results.append((weight @ D, np.abs(weight) @ np.abs(D).sum(axis=1, keepdims=True)))
    (coarse, _), (fine, scale_abs) = results
    # Fourier round-off of the Pfaffian coefficients ~ eps * sum_k |D_k|.
    error = np.abs(fine - coarse) + 1e-13 * scale_abs.ravel()[0]
    return np.maximum(fine, 0.0), error


def _check(
    n: Any, p: ModelSpec, index: Any, energy_range: Any
) -> tuple[int, Mixture, int | None, tuple[float, float]]:
    N = as_count(n, "n", minimum=2)
    if N > _N_MAX:
        raise ValueError(
            f"exact finite-n counts are implemented for 2 <= n <= {_N_MAX} "
            f"(the cost grows like n^4; use complexity() beyond), got n={N}"
        )
    return N, as_mixture(p), as_index(index), _energy_range(energy_range)


def expected_critical_points(
    n: int, p: ModelSpec, index: int | None = None, energy_range: Any = None
) -> KacRiceCount:
    """Exact expected number of critical points of the isotropic spherical model at size n.

    Parameters
    ----------
    n : int
        Number of spins N, 2 <= N <= 40 (about 1 s at N = 20, 20 s at N = 40; cached).
    p : int or mapping
        Model (pure or mixed; the isotropic ensemble of design.md).
    index : int or None
        Morse index k (0 = minima, N-1 = maxima), or None for all critical points.
    energy_range : (e_lo, e_hi) or None
        Count only critical points with energy per spin ``H/N`` in this interval.

    Returns
    -------
    KacRiceCount
        ``value`` and an ``error`` estimate (see module docstring); ``float(result)``
        is the value. Critical points come in pairs ``s, -s`` only for even p.

    Notes
    -----
    Exact Kac-Rice formula evaluated with exact GOE Pfaffian averages (module docstring).
    Checks: p = 2 gives exactly 2 critical points of each index (the eigenvectors of
    the coupling matrix) and 2N in all. p = 3: ``E[#minima] = 6.11`` at N = 10 and 11.0
    at N = 20 (theory.md sec. T, Monte Carlo over 2e4 GOE matrices).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.expected_critical_points(4, 2)), 6)  # 2N for p = 2
    8.0
    """
    N, model, k, erange = _check(n, p, index, energy_range)
    values, errors = _counts(N, model, erange)
    if k is None:
        value, error = float(values.sum()), float(errors.sum())
    elif k >= N:
        value, error = 0.0, 0.0  # the tangent space has N-1 dimensions
    else:
        value, error = float(values[k]), float(errors[k])
    return KacRiceCount(value=value, error=error, n=N, index=k, energy_range=erange)


def expected_critical_points_by_index(
    n: int, p: ModelSpec, energy_range: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(values, errors)``: expected numbers of critical points of index k = 0..n-1 (arrays).

    Parameters
    ----------
    n : int
        Number of spins N, 2 <= N <= 40.
    p : int or mapping
        Model (pure or mixed; the isotropic ensemble of design.md).
    energy_range : (e_lo, e_hi) or None
        Count only critical points with energy per spin ``H/N`` in this interval.

    Examples
    --------
    >>> from pspin import theory
    >>> values, errors = theory.expected_critical_points_by_index(4, 2)
    >>> [round(float(v), 6) for v in values]  # two of each index for p = 2
    [2.0, 2.0, 2.0, 2.0]
    """
    N, model, _, erange = _check(n, p, None, energy_range)
    values, errors = _counts(N, model, erange)
    return values.copy(), errors.copy()


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
