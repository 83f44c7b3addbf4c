"""Parallel-tempering diagnostics: replica round trips and swap acceptance.

In label-swapping parallel tempering each *slot* (a configuration in memory) carries
a temperature index that changes when a swap is accepted. A round trip of a slot is
a walk from the lowest temperature (index 0) to the highest (index ``R - 1``) and
back. Round-trip times bound the decorrelation time of the whole ladder and are what
feedback-optimised ladders minimise (H. G. Katzgraber, S. Trebst, D. A. Huse,
M. Troyer, J. Stat. Mech. P03018 (2006)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import positive_int
from ._validate import scalar_or_array as _out

__all__ = ["RoundTrips", "SwapAcceptance", "round_trips", "swap_acceptance"]


@dataclass(frozen=True)
class RoundTrips:
    """Result of :func:`round_trips`.

    Attributes
    ----------
    per_slot : ndarray of int, shape (slots,)
        Completed lowest -> highest -> lowest round trips of each slot.
    total : int
        Sum of ``per_slot``.
    times : ndarray of int, shape (total,)
        Duration of every completed round trip, in samples: from an arrival at the
        lowest temperature to the next arrival there after visiting the highest.
    mean_time : float
        Mean of ``times`` (nan when there were none).
    """

    per_slot: np.ndarray
    total: int
    times: np.ndarray
    mean_time: float


@dataclass(frozen=True)
class SwapAcceptance:
    """Result of :func:`swap_acceptance`: rates and binomial errors per pair."""

    rate: Any
    error: Any


def round_trips(temperature_index_history: Any, n_temperatures: int | None = None) -> RoundTrips:
    """Count lowest -> highest -> lowest temperature round trips of every slot.

    Parameters
    ----------
    temperature_index_history : array_like of int, shape (samples, slots)
        ``h[t, s]`` = temperature index (0 = lowest T) held by slot ``s`` at sample ``t``.
    n_temperatures : int, optional
        Number of temperatures ``R``; the highest index is ``R - 1``. Default: the
        number of slots (one replica per temperature, each row a permutation).

    Returns
    -------
    RoundTrips

    Notes
    -----
    Per slot, keep only the samples at an extreme temperature (0 or ``R - 1``) and
    merge repeats; the result alternates between the two ends. Every arrival at 0
    after the first one completes a round trip, so the count is ``max(a - 1, 0)`` with
    ``a`` the number of merged arrivals at 0. A slot that starts at the top and comes
    down has made half a trip, which is not counted. The sampling interval must be
    short enough that no slot crosses the ladder between two samples.

    Raises
    ------
    ValueError
        Wrong shape, empty, non-integer values, indices outside ``[0, R)``, ``R < 2``.

    Examples
    --------
    >>> from pspin import analysis
    >>> rt = analysis.round_trips([[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]])
    >>> rt.per_slot.tolist(), rt.total
    ([2, 1], 3)
    """
    h = np.asarray(temperature_index_history)
    if h.ndim != 2 or h.shape[0] < 1 or h.shape[1] < 1:
        raise ValueError(
            "temperature_index_history must have shape (samples, slots) with both >= 1, "
            f"got {h.shape}"
        )
    if h.dtype.kind == "f":
        if not np.all(np.isfinite(h)) or np.any(h != np.round(h)):
            raise ValueError("temperature_index_history must hold integer temperature indices")
        h = h.astype(np.int64)
    elif h.dtype.kind not in "iu":
        raise ValueError(f"temperature_index_history must hold integers, got dtype {h.dtype}")
    r = h.shape[1] if n_temperatures is None else positive_int(n_temperatures, "n_temperatures")
    if r < 2:
        raise ValueError(f"round trips need at least 2 temperatures, got {r}")
    if h.min() < 0 or h.max() >= r:
        raise ValueError(f"temperature indices must lie in [0, {r}), got [{h.min()}, {h.max()}]")

    per_slot = np.zeros(h.shape[1], dtype=np.int64)
    times = []
    for s in range(h.shape[1]):
        col = h[:, s]
        idx = np.flatnonzero((col == 0) | (col == r - 1))
        if idx.size == 0:
            continue
        ends = col[idx]
        first = np.ones(ends.size, dtype=bool)
        first[1:] = ends[1:] != ends[:-1]
        arrivals_low = idx[first & (ends == 0)]
        per_slot[s] = max(arrivals_low.size - 1, 0)
        times.append(np.diff(arrivals_low))
    all_times = np.concatenate(times) if times else np.zeros(0, dtype=np.int64)
    mean_time = float(all_times.mean()) if all_times.size else float("nan")
    return RoundTrips(
        per_slot=per_slot,
        total=int(per_slot.sum()),
        times=all_times.astype(np.int64),
        mean_time=mean_time,
    )


def swap_acceptance(accepted: Any, attempted: Any) -> SwapAcceptance:
    """Swap acceptance rate per neighbouring pair with its binomial error.

    .. math::

        p = \\frac{\\text{accepted}}{\\text{attempted}}, \\qquad
        \\sigma_p = \\sqrt{\\frac{p (1-p)}{\\text{attempted}}} .

    The binomial error treats attempts as independent; successive swap decisions are
    correlated, so it is a lower bound (use :func:`~pspin.analysis.binning_error` on a
    0/1 acceptance history for an honest error).

    Parameters
    ----------
    accepted, attempted : array_like of int, same shape (e.g. (R - 1,) pairs)
        Counts, ``0 <= accepted <= attempted``.

    Returns
    -------
    SwapAcceptance
        ``rate`` and ``error``; both nan where ``attempted == 0``.

    Examples
    --------
    >>> from pspin import analysis
    >>> acc = analysis.swap_acceptance([30, 50], [100, 100])
    >>> [round(float(r), 6) for r in acc.rate]
    [0.3, 0.5]
    """
    acc, att = np.asarray(accepted), np.asarray(attempted)
    for name, a in (("accepted", acc), ("attempted", att)):
        if a.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold counts, got dtype {a.dtype}")
        if a.dtype.kind == "f" and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
            raise ValueError(f"{name} must hold integer counts")
    if acc.shape != att.shape:
        raise ValueError(
            f"accepted and attempted must have the same shape, got {acc.shape} and {att.shape}"
        )
    if acc.size == 0:
        raise ValueError("accepted and attempted are empty")
    acc, att = acc.astype(np.float64), att.astype(np.float64)
    if np.any(acc < 0) or np.any(acc > att):
        raise ValueError("need 0 <= accepted <= attempted for every pair")
    ok = att > 0
    rate = np.divide(acc, att, out=np.full_like(acc, np.nan), where=ok)
    var = np.divide(rate * (1.0 - rate), att, out=np.full_like(acc, np.nan), where=ok)
    error = np.sqrt(var)
    return SwapAcceptance(rate=_out(rate), error=_out(error))
