"""Sampling at T > 0: parallel tempering, simulated annealing, temperature ladders."""

from __future__ import annotations

from .annealing import AnnealResult, anneal
from .ladders import equalise_acceptance, geometric_temperatures
from .result import PTResult
from .tempering import ParallelTempering

__all__ = ["AnnealResult", "PTResult", "ParallelTempering", "anneal", "equalise_acceptance", "geometric_temperatures"]
