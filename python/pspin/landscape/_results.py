"""Result containers of the zero-temperature landscape tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Minima:
    """Endpoints of a batch of descents, one row per start.

    Attributes
    ----------
    states : ndarray (b, n)
        Final configurations.
    energies : ndarray (b,)
        Total energies H (not per spin).
    grad_norm : ndarray (b,)
        Stopping measure per start: the Riemannian gradient norm per spin,
        |grad_sph H| / sqrt(n), for spherical models; the number of spins whose flip
        lowers the energy for Ising models (0 at a one-flip-stable state).
    converged : ndarray (b,) of bool
        Whether the stopping rule was met within ``max_iter``; a start that did not
        converge is reported as such, never as a minimum.
    iterations : ndarray (b,) of int
        Iterations (spherical) or sweeps (Ising) used per start.
    trajectory : ndarray (b, m) or None
        Energy per spin every ``record_every`` iterations (column 0 is the start),
        NaN after a start stopped; None unless asked for.
    method : str
        The method that produced them.
    params : dict
        Parameters and seed of the run, for provenance.
    """

    states: np.ndarray
    energies: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    trajectory: np.ndarray | None = None
    method: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of spins."""
        return int(self.states.shape[1])

    @property
    def energy_per_spin(self) -> np.ndarray:
        """Energies per spin, H/n."""
        return self.energies / self.n

    def __len__(self) -> int:
        return int(self.states.shape[0])
