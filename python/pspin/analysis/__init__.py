"""Monte Carlo error analysis and parallel-tempering diagnostics (numpy + scipy only).

Conventions used throughout:

* Time series have time on the last axis (``axis=-1``; every function takes ``axis=``);
  leading axes are independent series (temperatures, replicas, samples) analysed at
  once, and results have the leading shape (numpy scalars for a 1-D input).
* ``tau_int = 1/2 + sum_{t>=1} rho(t)`` (physicists'/Sokal's convention), so
  ``Var(mean) = 2 tau_int sigma^2 / N`` and ``ESS = N / (2 tau_int)``; emcee and arviz
  quote ``2 tau_int``.
* Binder ratio ``g = (3 - <q^4>/<q^2>^2) / 2`` (0 for Gaussian q, 1 for q = +-1).

Modules (one job each): :mod:`.binning` (Flyvbjerg-Petersen blocking with automatic
block choice), :mod:`.jackknife` (delete-one-block jackknife of nonlinear functions of
means), :mod:`.autocorrelation` (Sokal windowing, ESS), :mod:`.equilibration`
(log-binning report), :mod:`.observables` (Binder ratio, specific heat),
:mod:`.tempering_stats` (round trips, swap acceptance).

Bad input (empty, NaN/inf, wrong shape, out-of-range parameters) raises ValueError;
non-numeric input raises TypeError.
"""

from __future__ import annotations

from .autocorrelation import (
    AutocorrelationResult,
    autocorrelation_function,
    effective_sample_size,
    integrated_autocorrelation_time,
)
from .binning import BinningResult, binning_error
from .equilibration import LogBinningReport, is_equilibrated, log_binning
from .jackknife import JackknifeResult, jackknife
from .observables import binder_ratio, specific_heat
from .tempering_stats import RoundTrips, SwapAcceptance, round_trips, swap_acceptance

__all__ = [
    "AutocorrelationResult",
    "BinningResult",
    "JackknifeResult",
    "LogBinningReport",
    "RoundTrips",
    "SwapAcceptance",
    "autocorrelation_function",
    "binder_ratio",
    "binning_error",
    "effective_sample_size",
    "integrated_autocorrelation_time",
    "is_equilibrated",
    "jackknife",
    "log_binning",
    "round_trips",
    "specific_heat",
    "swap_acceptance",
]
