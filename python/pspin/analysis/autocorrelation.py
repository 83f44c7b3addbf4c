"""Integrated autocorrelation time by Sokal's automatic windowing.

Convention (physicists', Sokal; Madras-Sokal; Janke):

.. math::

    \\tau_{\\mathrm{int}} = \\frac12 + \\sum_{t \\ge 1} \\rho(t), \\qquad
    \\operatorname{Var}(\\bar x) \\approx \\frac{2 \\tau_{\\mathrm{int}}\\, \\sigma^2}{N},

so an uncorrelated series has ``tau_int = 1/2`` and the effective number of independent
samples is ``N / (2 tau_int)``. emcee, arviz and most statisticians quote
``tau = 1 + 2 sum rho = 2 tau_int`` instead.

Estimator: ``rho(t)`` from the FFT of the zero-padded, mean-subtracted series (the
biased, 1/N-normalised autocovariance, which is positive semi-definite), and the
windowed sum ``tau(W) = 1/2 + sum_{t=1}^W rho(t)`` at the smallest window ``W`` with
``W >= c tau(W)``. Its statistical error is (Madras-Sokal, Eq. 3.19 of Sokal's notes)

.. math::

    \\operatorname{Var}\\,\\hat\\tau_{\\mathrm{int}}
    \\approx \\frac{2(2W+1)}{N}\\,\\tau_{\\mathrm{int}}^2 .

References
----------
* A. D. Sokal, "Monte Carlo Methods in Statistical Mechanics: Foundations and New
  Algorithms", lecture notes, Cargese summer school 1996 (Sec. 3).
* N. Madras and A. D. Sokal, J. Stat. Phys. 50, 109 (1988), Appendix C.
* emcee's ``emcee.autocorr.integrated_time`` (D. Foreman-Mackey et al.), the same
  windowing written for ``tau_emcee = 2 tau_int``: its rule ``W >= c_emcee tau_emcee``
  is ours with ``c = 2 c_emcee`` (emcee's default ``c = 5`` is ``c = 10`` here), and
  its ``tol = 50`` (on ``tau_emcee``) is ``tol = 100`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import positive_float
from ._validate import scalar_or_array as _out
from ._validate import series, warn_undefined

__all__ = [
    "AutocorrelationResult",
    "autocorrelation_function",
    "effective_sample_size",
    "integrated_autocorrelation_time",
]


@dataclass(frozen=True)
class AutocorrelationResult:
    """Result of :func:`integrated_autocorrelation_time`.

    Fields have the shape of the input without its time axis (numpy scalars for 1-D).

    Attributes
    ----------
    tau : ndarray
        ``tau_int = 1/2 + sum_{t=1}^{W} rho(t)`` in units of the sampling interval
        (nan for a constant series, with a RuntimeWarning).
    error : ndarray
        Madras-Sokal error ``tau sqrt((4 W + 2) / N)``.
    window : ndarray of int
        Window ``W`` chosen by ``W >= c tau(W)``, searched in ``1 <= W <= N/2``
        (``N // 2`` when none qualifies).
    n : int
        Series length ``N``.
    converged : ndarray of bool
        False when no window ``W <= N/2`` satisfied ``W >= c tau(W)``, when
        ``N < tol * tau`` (the series is too short for a trustworthy tau), when
        ``tau <= 0``, or when the series is constant.
    """

    tau: Any
    error: Any
    window: Any
    n: int
    converged: Any


def autocorrelation_function(x: Any, *, axis: int = -1) -> np.ndarray:
    """Normalised autocorrelation ``rho(t)``, ``t = 0..N-1``, by FFT.

    .. math::

        \\hat C(t) = \\frac1N \\sum_{i=1}^{N-t} (x_i - \\bar x)(x_{i+t} - \\bar x), \\qquad
        \\rho(t) = \\hat C(t) / \\hat C(0),

    computed in O(N log N) with zero padding to ``>= 2N`` (no wrap-around).

    Parameters
    ----------
    x : array_like, shape (..., N)
        Series, time along ``axis``; ``N >= 2``.
    axis : int, default -1
        Time axis.

    Returns
    -------
    ndarray, shape (..., N)
        ``rho`` with time on the last axis; rows of a constant series are nan, with a
        RuntimeWarning naming the argument and axis.

    Examples
    --------
    >>> from pspin import analysis
    >>> analysis.autocorrelation_function([1.0, -1.0, 1.0, -1.0]).tolist()
    [1.0, -0.75, 0.5, -0.25]
    """
    y = series(x, "x", axis=axis, min_length=2)
    rho = _rho(y)
    warn_undefined(np.isnan(rho[..., 0]), "x", axis, "the autocorrelation rho(t)")
    return rho


def _rho(y: np.ndarray) -> np.ndarray:
    n = y.shape[-1]
    d = y - y.mean(axis=-1, keepdims=True)
    from scipy import fft  # here, not at import: it costs ~0.1 s of every `import pspin`

    nfft = fft.next_fast_len(2 * n, real=True)
    f = fft.rfft(d, n=nfft, axis=-1)
    acov = fft.irfft(f * np.conj(f), n=nfft, axis=-1)[..., :n]
    c0 = acov[..., :1]
    # Relative threshold: a constant series gives c0 at rounding level of the data.
    scale = np.max(np.abs(y), axis=-1, keepdims=True) ** 2 * n
    ok = c0 > 1e-26 * scale
    return np.divide(acov, c0, out=np.full_like(acov, np.nan), where=ok)


def integrated_autocorrelation_time(
    x: Any, c: float = 5.0, *, tol: float = 50.0, axis: int = -1
) -> AutocorrelationResult:
    """Integrated autocorrelation time with Sokal's automatic window.

    Parameters
    ----------
    x : array_like, shape (..., N)
        Time series (time along ``axis``); leading axes are independent series, each
        with its own window. ``N >= 2``.
    c : float, default 5.0
        Window constant: the smallest ``W >= 1`` with ``W >= c tau(W)``. Sokal
        recommends ``c ~ 4`` for nearly exponential ``rho`` and 6-10 otherwise.
    tol : float, default 50.0
        ``converged`` is False when ``N < tol * tau`` (physicists' tau).
    axis : int, default -1
        Time axis.

    Returns
    -------
    AutocorrelationResult

    Notes
    -----
    The window truncation biases ``tau`` by ``-sum_{t > W} rho(t)`` (for exponential
    decay ``-tau e^{-W/tau}``, below 1% at ``c = 5``) and the mean subtraction by
    O(W tau / N). For AR(1) with coefficient ``phi``, ``tau_int = (1+phi) / (2 (1-phi))``.

    Examples
    --------
    >>> import numpy as np
    >>> from pspin.analysis import integrated_autocorrelation_time
    >>> r = integrated_autocorrelation_time(np.random.default_rng(0).standard_normal(10000))
    >>> abs(float(r.tau) - 0.5) < 0.05
    True
    """
    return _tau(x, c, tol, axis, "tau_int")


def _tau(x: Any, c: Any, tol: Any, axis: int, quantity: str) -> AutocorrelationResult:
    y = series(x, "x", axis=axis, min_length=2)
    c = positive_float(c, "c")
    tol = positive_float(tol, "tol")
    n = y.shape[-1]
    rho = _rho(y)
    constant = np.isnan(rho[..., 0])
    warn_undefined(constant, "x", axis, quantity)
    rho = np.where(constant[..., None], 0.0, rho)
    # taus[W] = 1/2 + sum_{t=1}^{W} rho(t) = sum_{t=0}^{W} rho(t) - 1/2.
    taus = np.cumsum(rho, axis=-1) - 0.5
    # Windows are searched in 1 <= W <= N/2: beyond that rho(t) rests on too few pairs,
    # and the sum of the biased estimator over all lags is exactly 0 (tau(N-1) = 0),
    # which would satisfy W >= c tau(W) spuriously.
    w = np.arange(n)
    w_max = max(n // 2, 1)
    ok = (w >= 1) & (w <= w_max) & (w >= c * taus)
    found = ok.any(axis=-1)
    window = np.where(found, np.argmax(ok, axis=-1), w_max)
    tau = np.take_along_axis(taus, window[..., None], axis=-1)[..., 0]
    tau = np.where(constant, np.nan, tau)
    error = np.abs(tau) * np.sqrt((4.0 * window + 2.0) / n)
    with np.errstate(invalid="ignore"):
        converged = found & ~constant & (tau > 0.0) & (n >= tol * tau)
    return AutocorrelationResult(
        tau=_out(tau), error=_out(error), window=_out(window), n=int(n), converged=_out(converged)
    )


def effective_sample_size(x: Any, c: float = 5.0, *, axis: int = -1) -> Any:
    """Effective number of independent samples ``N / (2 tau_int)``.

    Parameters
    ----------
    x : array_like, shape (..., N)
        Time series (time along ``axis``).
    c : float, default 5.0
        Window constant of :func:`integrated_autocorrelation_time`.
    axis : int, default -1
        Time axis.

    Returns
    -------
    ndarray or numpy scalar
        Shape of ``x`` without its time axis; nan for a constant series (with a
        RuntimeWarning) or a non-positive ``tau``. Not clipped to ``N``: anti-correlated series
        (``0 < tau_int < 1/2``) give more than ``N``.

    Examples
    --------
    >>> import numpy as np
    >>> from pspin import analysis
    >>> x = np.random.default_rng(0).standard_normal(4096)  # uncorrelated: about N
    >>> 3500 < float(analysis.effective_sample_size(x)) < 4700
    True
    """
    r = _tau(x, c, 50.0, axis, "the effective sample size N / (2 tau_int)")
    tau = np.asarray(r.tau, dtype=np.float64)
    ess = np.divide(r.n, 2.0 * tau, out=np.full_like(tau, np.nan), where=tau > 0.0)
    return _out(ess)
