"""Logarithmic-binning equilibration report (Katzgraber-Palassini-Young style).

Samples ``t = 1, 2, 3, ...`` (1-based) are grouped into windows ``[2^k, 2^(k+1))``,
``k = 0, 1, ...``: each window is the second half of a run of ``2^(k+1) - 1``
samples, so its average is what a run of that length would report after discarding
the first half as burn-in. Successive windows double in length; an observable is
considered equilibrated when the last (at least three) windows agree within their
error bars (H. G. Katzgraber, M. Palassini, A. P. Young, Phys. Rev. B 63, 184422
(2001), Sec. II; also Katzgraber and Young, PRB 65, 214401 (2002)). With 0-based
indices window ``k`` covers samples ``[2^k - 1, 2^(k+1) - 1)``; a trailing incomplete
window is left out.

Window errors are blocking errors (:func:`~pspin.analysis.binning_error`) of the
samples inside each window, so correlations within a window are accounted for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import positive_float, positive_int
from ._validate import series
from .binning import _binning_error

__all__ = ["LogBinningReport", "is_equilibrated", "log_binning"]


@dataclass(frozen=True)
class LogBinningReport:
    """Result of :func:`log_binning`.

    Attributes
    ----------
    start, stop : ndarray of int, shape (K,)
        0-based sample range ``[start, stop)`` of each window (``2^k - 1``, ``2^(k+1) - 1``).
    mean : ndarray, shape (..., K)
        Average of each window.
    error : ndarray, shape (..., K)
        Blocking standard error of each window average (nan for the one-sample window).
    converged : ndarray of bool, shape (..., K)
        The blocking flag of each window (False: too few blocks for a trusted error).
    """

    start: np.ndarray
    stop: np.ndarray
    mean: np.ndarray
    error: np.ndarray
    converged: np.ndarray


def log_binning(x: Any, *, min_bins: int = 16, axis: int = -1) -> LogBinningReport:
    """Averages over logarithmic windows ``[2^k, 2^(k+1))`` of the samples, with errors.

    Parameters
    ----------
    x : array_like, shape (..., N)
        Measurement series from the start of the run (time along ``axis``); at least
        one complete window beyond the first (``N >= 3``).
    min_bins : int, default 16
        Passed to :func:`~pspin.analysis.binning_error` for each window's error.
    axis : int, default -1
        Time axis.

    Returns
    -------
    LogBinningReport

    Examples
    --------
    >>> import numpy as np
    >>> from pspin import analysis
    >>> x = np.exp(-np.arange(4096) / 50.0) + np.random.default_rng(0).standard_normal(4096)
    >>> report = analysis.log_binning(x)
    >>> report.start[:4].tolist(), report.stop[:4].tolist()  # windows [2^k - 1, 2^(k+1) - 1)
    ([0, 1, 3, 7], [1, 3, 7, 15])
    """
    y = series(x, "x", axis=axis, min_length=3)
    min_bins = positive_int(min_bins, "min_bins", minimum=2)
    n = y.shape[-1]
    n_windows = int(np.floor(np.log2(n + 1)))
    k = np.arange(n_windows)
    start, stop = 2**k - 1, 2 ** (k + 1) - 1
    lead = y.shape[:-1]
    mean = np.empty(lead + (n_windows,))
    error = np.full(lead + (n_windows,), np.nan)
    converged = np.zeros(lead + (n_windows,), dtype=bool)
    for i in range(n_windows):
        w = y[..., start[i] : stop[i]]
        mean[..., i] = w.mean(axis=-1)
        if w.shape[-1] >= 2:
            # Only the errors are used: a constant window (error 0) needs no warning.
            r = _binning_error(w, min_bins=min_bins, method="lee", alpha=0.05, axis=-1, warn=False)
            error[..., i] = r.error
            converged[..., i] = r.converged
    return LogBinningReport(start=start, stop=stop, mean=mean, error=error, converged=converged)


def is_equilibrated(report: LogBinningReport, n_last: int = 3, *, n_sigma: float = 3.0) -> Any:
    """Whether the last ``n_last`` log-bins agree within their errors.

    The test: every one of windows ``K - n_last .. K - 2`` satisfies

    .. math::

        |\\bar x_k - \\bar x_{K-1}| \\le n_\\sigma \\sqrt{\\varepsilon_k^2 + \\varepsilon_{K-1}^2},

    with ``K - 1`` the last (longest) window. The windows are disjoint, so for a
    stationary Gaussian observable with exact errors each comparison fails with
    probability 0.27% at ``n_sigma = 3`` (4.6% at 2). The default 3 keeps false alarms
    rare when many temperatures and observables are checked at once (at 2 sigma,
    32 temperatures would almost surely flag one). Blocking errors are slightly low
    for short windows, which makes the test stricter, not looser.

    Parameters
    ----------
    report : LogBinningReport
        From :func:`log_binning`.
    n_last : int, default 3
        Number of trailing windows that must agree (>= 2; KPY use 3 or more).
    n_sigma : float, default 3.0
        Agreement threshold in combined standard errors.

    Returns
    -------
    bool or ndarray of bool
        One value per series (shape of the leading axes). False when there are fewer
        than ``n_last`` windows or an error is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> from pspin import analysis
    >>> x = np.random.default_rng(0).standard_normal(4096)
    >>> bool(analysis.is_equilibrated(analysis.log_binning(x)))
    True
    """
    if not isinstance(report, LogBinningReport):
        raise TypeError(f"report must be a LogBinningReport, got {type(report).__name__}")
    n_last = positive_int(n_last, "n_last", minimum=2)
    n_sigma = positive_float(n_sigma, "n_sigma")
    mean, error = report.mean, report.error
    if mean.shape[-1] < n_last:
        out = np.zeros(mean.shape[:-1], dtype=bool)
        return out[()] if out.ndim == 0 else out
    m, e = mean[..., -n_last:], error[..., -n_last:]
    diff = np.abs(m[..., :-1] - m[..., -1:])
    tol = n_sigma * np.sqrt(e[..., :-1] ** 2 + e[..., -1:] ** 2)
    finite = np.all(np.isfinite(e), axis=-1)
    with np.errstate(invalid="ignore"):
        agree = np.all(diff <= tol, axis=-1)
    out = np.asarray(agree & finite)
    return out[()] if out.ndim == 0 else out
