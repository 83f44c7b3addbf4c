"""Configurational entropy and minima distributions from simulation, beside theory.

- :func:`census`: every distinct critical point of one disorder sample that a batch of
  searches finds, with basin sizes and an estimate of what was missed.
- :func:`complexity`: counts by energy over disorder samples; annealed and quenched
  complexity with jackknife errors, beside the finite-n and n -> infinity theory.
- :func:`minima_distribution`: energies of the minima each route reaches (L-BFGS,
  gradient descent, annealing, quenches from tempering), index against energy,
  overlaps between minima, basin sizes.
- :func:`inherent_structures`: tempering snapshots quenched to their minima, P(e_IS | T),
  Hessian spectra and the harmonic vibrational entropy.
- :func:`configurational_entropy`: total entropy by thermodynamic integration, minus the
  vibrational entropy, Sigma_conf(T) and its zero crossing beside T_s; Sigma(e_IS) by the
  Sciortino-Kob-Tartaglia reconstruction (:func:`reconstruct_complexity`).
"""

from __future__ import annotations

from ._richness import chao1
from .census import Census, census
from .complexity import ComplexityResult, Extrapolation, complexity, extrapolate
from .configurational import ConfigurationalEntropy, configurational_entropy
from .distribution import MinimaDistribution, minima_distribution
from .inherent import InherentStructures, inherent_structures
from .reconstruction import ComplexityReconstruction, reconstruct_complexity
from .thermodynamics import (
    ThermodynamicIntegration,
    harmonic_entropy,
    high_temperature_moments,
    sphere_entropy,
    thermodynamic_integration,
)

__all__ = [
    "Census",
    "ComplexityReconstruction",
    "ComplexityResult",
    "ConfigurationalEntropy",
    "Extrapolation",
    "InherentStructures",
    "MinimaDistribution",
    "ThermodynamicIntegration",
    "census",
    "chao1",
    "complexity",
    "configurational_entropy",
    "extrapolate",
    "harmonic_entropy",
    "high_temperature_moments",
    "inherent_structures",
    "minima_distribution",
    "reconstruct_complexity",
    "sphere_entropy",
    "thermodynamic_integration",
]
