"""Configurational entropy and minima distributions from simulation, beside theory.

- :func:`census`: every distinct critical point of one disorder sample that a batch of
  searches finds, with basin sizes and an estimate of what was missed.
- :func:`complexity`: counts by energy over disorder samples; annealed and quenched
  complexity with jackknife errors, beside the finite-n and n -> infinity theory.
"""

from __future__ import annotations

from ._richness import chao1
from .census import Census, census
from .complexity import ComplexityResult, Extrapolation, complexity, extrapolate

__all__ = ["Census", "ComplexityResult", "Extrapolation", "census", "chao1", "complexity", "extrapolate"]
