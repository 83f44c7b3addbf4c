"""Simulated annealing with the same moves as parallel tempering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _seed, _validate
from ..models import PSpinModel
from .tempering import ParallelTempering


@dataclass(frozen=True)
class AnnealResult:
    """Outcome of simulated annealing, one row per independent run.

    Attributes
    ----------
    best_states : (K, n) lowest-energy configuration seen by each run (checked after every sweep).
    best_energies : (K,) their total energies H.
    final_states : (K, n) configurations at the end of the schedule.
    energy_trace : (len(schedule), K) energy per spin at the end of each temperature step.
    schedule : (len(schedule),) temperatures used, in order.
    """

    best_states: np.ndarray
    best_energies: np.ndarray
    final_states: np.ndarray
    energy_trace: np.ndarray
    schedule: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def best_energy_per_spin(self) -> np.ndarray:
        return self.best_energies / self.best_states.shape[1]


def anneal(
    model: PSpinModel,
    schedule: Any,
    *,
    sweeps_per_temperature: int = 1,
    runs: int = 1,
    seed: _seed.SeedLike = None,
    update: str | None = None,
    **move_options: Any,
) -> AnnealResult:
    """Simulated annealing: sweeps at each temperature of ``schedule`` in the given order.

    Parameters
    ----------
    model : IsingPSpin or SphericalPSpin
    schedule : array_like
        Positive temperatures, visited in the order given (usually decreasing, e.g.
        ``np.geomspace(2.0, 0.05, 200)``).
    sweeps_per_temperature : int
    runs : int
        Independent runs done together (one configuration each). Ising runs are swept
        in lockstep, up to 64 per thread, so that one load of a coupling row serves every
        run that flips that spin: for SK at n = 1024, 64 runs cost about 2.8x less per run
        than one (bench/bench_tempering.py). Grouping never changes a run's trajectory.
    seed, update, **move_options
        As for :class:`ParallelTempering` (same moves, same counter-based randomness).

    Returns
    -------
    AnnealResult
    """
    temps = _validate.real_array(schedule, "schedule").astype(np.float64).ravel()
    if temps.size < 1 or not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise ValueError("schedule must be a non-empty array of positive, finite temperatures")
    per_step = _validate.positive_int(sweeps_per_temperature, "sweeps_per_temperature")
    runs = _validate.positive_int(runs, "runs")
    pt = ParallelTempering(model, [temps[0]], replicas=runs, seed=seed, update=update, **move_options)
    # One GIL-free call runs the whole schedule (the best state is checked after every sweep).
    best_e, best_s, trace = pt._engine.anneal(list(1.0 / temps), per_step)
    final = pt._engine.states()
    return AnnealResult(
        best_states=best_s.astype(final.dtype),
        best_energies=best_e,
        final_states=final,
        energy_trace=trace / model.n,
        schedule=temps,
        params={"model": repr(model), "sweeps_per_temperature": per_step, "runs": runs,
                "seed_entropy": str(pt.seed_sequence.entropy), "update": pt.update},
    )
