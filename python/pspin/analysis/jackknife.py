"""Delete-one-block jackknife for nonlinear functions of means.

For ``f(<a>, <b>, ...)`` (a Binder ratio ``<q^4>/<q^2>^2``, a specific heat
``<E^2> - <E>^2``) the plug-in estimate ``f(abar, bbar, ...)`` is biased at O(1/N) and
its error is not the error of any single mean. Split the ``N`` samples into ``m``
contiguous blocks, let ``abar_(i)`` be the mean with block ``i`` left out and
``f_(i) = f(abar_(i), bbar_(i), ...)``, ``f_(.) = (1/m) sum_i f_(i)``. Then

.. math::

    \\hat f_J = m\\, f(\\bar a, \\bar b, \\ldots) - (m-1)\\, f_{(\\cdot)}, \\qquad
    \\sigma_J^2 = \\frac{m-1}{m} \\sum_{i=1}^m \\left(f_{(i)} - f_{(\\cdot)}\\right)^2 ,

which removes the O(1/N) bias and, to leading order, equals the delta-method variance
``grad f . Cov(means) . grad f`` (B. Efron, "The Jackknife, the Bootstrap and Other
Resampling Plans", SIAM 1982, Ch. 3; B. Efron and C. Stein, Ann. Stat. 9, 586 (1981)).
Blocks longer than the autocorrelation time make the block means nearly independent,
so the same formulas hold for correlated Monte Carlo series (e.g. W. Janke, "Statistical
analysis of simulations: data correlations and error estimation", NIC Series 10, 423
(2002), Sec. 3.4; B. A. Berg, "Markov Chain Monte Carlo Simulations and Their
Statistical Analysis", World Scientific 2004, Sec. 2.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._validate import positive_int
from ._validate import scalar_or_array as _out
from ._validate import series

__all__ = ["JackknifeResult", "jackknife"]


@dataclass(frozen=True)
class JackknifeResult:
    """Result of :func:`jackknife` (and of the observables built on it).

    Fields have the broadcast shape of ``func``'s output without the block axis
    (numpy scalars when that is 0-d).

    Attributes
    ----------
    estimate : ndarray
        Bias-corrected estimate ``m f(means) - (m-1) mean_i f_(i)``.
    error : ndarray
        Jackknife standard error ``sqrt((m-1)/m sum_i (f_(i) - f_(.))^2)``.
    naive : ndarray
        Plug-in value ``f(means)`` of all used samples.
    bias : ndarray
        Estimated bias of ``naive``: ``(m-1) (f_(.) - f(means))``.
    n_blocks : int
        Number of jackknife blocks ``m``.
    block_size : int
        Samples per block; the first ``N - m * block_size`` samples (the oldest) are
        not used.
    """

    estimate: Any
    error: Any
    naive: Any
    bias: Any
    n_blocks: int
    block_size: int


def jackknife(
    func: Callable[..., Any],
    *series_: Any,
    n_blocks: int = 32,
    axis: int = -1,
) -> JackknifeResult:
    """Jackknife estimate and error of ``func(<series_1>, <series_2>, ...)``.

    Parameters
    ----------
    func : callable
        ``func(mean_1, mean_2, ...)`` of the means of the series, written with numpy
        operations so that it works elementwise on arrays. It is called once, with
        arrays of shape ``(..., m + 1)``: index 0 of the last axis holds the means of
        all used samples, indices ``1..m`` the leave-one-block-out means. Parameters
        that vary along the leading axes must be shaped to broadcast against
        ``(..., 1)`` (e.g. ``T[:, None]``).
    *series_ : array_like, each of shape (..., N)
        One or more time series with the same length along ``axis``; their leading
        axes broadcast against each other (e.g. energies of shape (R, N) for R
        temperatures give R results at once).
    n_blocks : int, default 32
        Number of contiguous jackknife blocks ``m`` (``2 <= m <= N``). ``m = N`` is the
        delete-one jackknife of independent samples; for correlated series take blocks
        much longer than ``tau_int`` (``N / m >~ 10 tau_int``).
    axis : int, default -1
        Time axis of every series.

    Returns
    -------
    JackknifeResult

    Raises
    ------
    ValueError
        No series, series of different lengths, NaN/inf, ``n_blocks`` out of range,
        non-broadcastable leading axes, or ``func`` returning a wrongly shaped result.

    Examples
    --------
    Ratio of means, ``<a>/<b>``:

    >>> import numpy as np
    >>> from pspin.analysis import jackknife
    >>> rng = np.random.default_rng(0)
    >>> a, b = 2.0 + rng.standard_normal(1000), 1.0 + 0.1 * rng.standard_normal(1000)
    >>> r = jackknife(lambda ma, mb: ma / mb, a, b, n_blocks=50)
    >>> abs(float(r.estimate) - 2.0) < 4 * float(r.error)
    True
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    if not series_:
        raise ValueError("jackknife needs at least one series")
    arrays = [series(s, f"series {i}", axis=axis, min_length=2) for i, s in enumerate(series_)]
    lengths = {a.shape[-1] for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"all series must have the same number of samples, got {sorted(lengths)}")
    n = lengths.pop()
    m = positive_int(n_blocks, "n_blocks", minimum=2)
    if m > n:
        raise ValueError(f"n_blocks = {m} exceeds the number of samples {n}")
    try:
        lead = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
    except ValueError as exc:
        raise ValueError(
            f"leading axes of the series do not broadcast: {[a.shape[:-1] for a in arrays]}"
        ) from exc

    b = n // m
    used = m * b
    means = []
    for a in arrays:
        blocks = a[..., n - used :].reshape(a.shape[:-1] + (m, b))
        sums = blocks.sum(axis=-1)  # (..., m)
        total = sums.sum(axis=-1, keepdims=True)
        means.append(np.concatenate([total / used, (total - sums) / (used - b)], axis=-1))

    values = np.asarray(func(*means))
    if values.dtype.kind not in "fiu":
        raise ValueError(f"func must return real numbers, got dtype {values.dtype}")
    values = values.astype(np.float64, copy=False)
    if values.ndim < 1 or values.shape[-1] != m + 1:
        raise ValueError(
            f"func must act elementwise: called with means of shape {lead + (m + 1,)} it "
            f"returned shape {values.shape}"
        )
    naive, loo = values[..., 0], values[..., 1:]
    loo_mean = loo.mean(axis=-1)
    estimate = m * naive - (m - 1) * loo_mean
    error = np.sqrt((m - 1) / m * np.sum((loo - loo_mean[..., None]) ** 2, axis=-1))
    return JackknifeResult(
        estimate=_out(estimate),
        error=_out(error),
        naive=_out(naive),
        bias=_out((m - 1) * (loo_mean - naive)),
        n_blocks=m,
        block_size=b,
    )
