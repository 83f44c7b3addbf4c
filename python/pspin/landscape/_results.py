"""Result containers of the zero-temperature landscape tools."""

from __future__ import annotations

from dataclasses import field
from typing import Any

import numpy as np

from .._results import RUN_INFO, Result, axes, result_type


@result_type
class Minima(Result):
    """Endpoints of a batch of descents, one row per start (docs/conventions.md).

    Attributes
    ----------
    states : ndarray (b, n) of float64
        Final configurations (+1/-1 for Ising models).
    energies : ndarray (b,) of float64
        Total energies H (not per spin; ``energy_per_spin`` is H/n).
    grad_norm : ndarray (b,)
        Stopping measure per start. Spherical models: the Riemannian gradient norm per
        spin, |grad_sph H| / sqrt(n) (float64). Ising models: the number of spins whose
        flip lowers the energy (int64, 0 at a one-flip-stable state), the same as
        ``unstable_spins``, which is the name to use.
    converged : ndarray (b,) of bool
        Whether the stopping rule was met within ``max_iter``; a start that did not
        converge is reported as such, never as a minimum.
    iterations : ndarray (b,) of int64
        Iterations used per start: L-BFGS or GD steps (spherical), flips ('greedy') or
        sweeps ('random') for Ising models (``params["iteration_unit"]``).
    trajectory : ndarray (b, m) of float64 or None
        Energy per spin every ``record_every`` iterations (column 0 is the start; time
        is the last axis), NaN after a start stopped; None unless asked for.
    method : str
        The method that produced them.
    params : dict
        Every parameter of the run, the run's seed (``seed_entropy``, ``seed_spawn_key``)
        and the model's (``model_seed_entropy``, ``model_seed_spawn_key``).
    unstable_spins : ndarray (b,) of int64 or None
        Ising models: spins whose flip lowers the energy, counted with fields recomputed
        from scratch (0 exactly when ``converged``). None for spherical models.
    """

    states: np.ndarray
    energies: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    trajectory: np.ndarray | None = None
    method: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    unstable_spins: np.ndarray | None = None
    run_info: dict[str, Any] = RUN_INFO

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

    def _table(self) -> dict[str, np.ndarray]:
        columns = {
            "energy_per_spin": self.energy_per_spin,
            "converged": self.converged,
            "iterations": self.iterations,
        }
        if self.unstable_spins is not None:
            columns["unstable_spins"] = self.unstable_spins
        else:
            columns["grad_norm"] = self.grad_norm
        return columns

    def plot(self, ax: Any = None) -> Any:
        """Energy per spin against iterations (the trajectories if recorded), else a histogram."""
        ax = axes(ax)
        if self.trajectory is not None:
            every = max(int(self.params.get("record_every", 1)), 1)
            steps = np.arange(self.trajectory.shape[1]) * every
            for row in self.trajectory[:50]:  # more lines would hide each other
                ax.plot(steps, row, lw=0.7, alpha=0.6)
            ax.set_xlabel(f"iteration ({self.params.get('iteration_unit', 'step')})")
            ax.set_ylabel("energy per spin")
            return ax
        ax.hist(self.energy_per_spin[self.converged], bins="auto", label="converged")
        ax.set_xlabel("energy per spin")
        ax.set_ylabel("starts")
        ax.legend()
        return ax
