"""Configurational entropy and minima distributions from simulation, beside theory.

- :func:`census`: every distinct critical point of one disorder sample that a batch of
  searches finds, with basin sizes and an estimate of what was missed.
- :func:`complexity`: counts by energy over disorder samples; annealed and quenched
  complexity with jackknife errors, beside the finite-n and n -> infinity theory.
- :func:`minima_distribution`: energies of the minima each route reaches (L-BFGS,
  gradient descent, annealing, quenches from tempering), index against energy,
  overlaps between minima, basin sizes.
"""

from __future__ import annotations

from ._richness import chao1
from .census import Census, census
from .complexity import ComplexityResult, Extrapolation, complexity, extrapolate
from .distribution import MinimaDistribution, minima_distribution

__all__ = [
    "Census",
    "ComplexityResult",
    "Extrapolation",
    "MinimaDistribution",
    "census",
    "chao1",
    "complexity",
    "extrapolate",
    "minima_distribution",
]
