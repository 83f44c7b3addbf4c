"""Simulated annealing with the same moves as parallel tempering."""

from __future__ import annotations

import warnings
from dataclasses import field
from typing import Any

import numpy as np

from .. import _seed, _validate
from .._deprecate import REMOVED_IN, renamed
from .._results import RUN_INFO, Result, RunClock, axes, result_type
from ..models import IsingPSpin, PSpinModel
from .tempering import ParallelTempering


@result_type
class AnnealResult(Result):
    """Outcome of simulated annealing, one row per independent run (docs/conventions.md).

    Attributes
    ----------
    best_states : ndarray (K, n) of float64
        Lowest-energy configuration seen by each run (checked after every sweep).
    best_energies : ndarray (K,) of float64
        Their total energies H.
    final_states : ndarray (K, n) of float64
        Configurations at the end of the schedule.
    energies : ndarray (K, len(schedule)) of float64
        Total energy H of each run at the end of each temperature step; time is the
        last axis, as in ``PTResult.energies``. ``energy_per_spin`` is H/n.
    schedule : ndarray (len(schedule),) of float64
        Temperatures used, in order.
    params : dict
        Every parameter, the run's seed and the model's.
    """

    best_states: np.ndarray
    best_energies: np.ndarray
    final_states: np.ndarray
    energies: np.ndarray
    schedule: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    run_info: dict[str, Any] = RUN_INFO

    @property
    def n(self) -> int:
        """Number of spins."""
        return int(self.best_states.shape[1])

    @property
    def best_energy_per_spin(self) -> np.ndarray:
        """(K,) best energies per spin, H/n."""
        return self.best_energies / self.n

    @property
    def energy_per_spin(self) -> np.ndarray:
        """(K, len(schedule)) energies per spin at the end of each temperature step."""
        return self.energies / self.n

    @property
    def energy_trace(self) -> np.ndarray:
        """Deprecated: (len(schedule), K) energies per spin, time first; use ``energy_per_spin``."""
        warnings.warn(
            "AnnealResult.energy_trace (time first, per spin) is deprecated: use energy_per_spin "
            f"(K, steps; time last) or energies (total H); it goes in pspin {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.energy_per_spin.T

    def __len__(self) -> int:
        return int(self.best_states.shape[0])

    def _table(self) -> dict[str, np.ndarray]:
        return {"best_energy_per_spin": self.best_energy_per_spin, "final_energy_per_spin": self.energy_per_spin[:, -1]}

    def plot(self, ax: Any = None) -> Any:
        """Energy per spin of every run against temperature along the schedule."""
        ax = axes(ax)
        for row in self.energy_per_spin[:50]:  # more lines would hide each other
            ax.plot(self.schedule, row, lw=0.7, alpha=0.6)
        if np.all(np.diff(self.schedule) < 0):
            ax.invert_xaxis()  # annealing reads left to right, hot to cold
        ax.set_xlabel("temperature")
        ax.set_ylabel("energy per spin")
        return ax


def anneal(
    model: PSpinModel,
    schedule: Any,
    *,
    sweeps_per_temperature: int = 1,
    n_starts: int | None = None,
    seed: _seed.SeedLike = None,
    initial: Any = None,
    update: str | None = None,
    runs: int | None = None,
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
    n_starts : int, optional
        Independent runs done together (one configuration each; default 1, or the rows
        of ``initial``). Ising runs are swept in lockstep, up to 64 per thread, so that
        one load of a coupling row serves every run that flips that spin: for SK at
        n = 1024, 64 runs cost about 2.8x less per run than one
        (bench/bench_tempering.py). Grouping never changes a run's trajectory.
    seed : None, int, SeedSequence or Generator
        Seeds the random initial states, the moves and the acceptance draws.
    initial : array (K, n) or (n,), optional
        Starting configurations instead of random ones (+1/-1 for Ising; spherical ones
        are scaled onto the sphere |s|^2 = n).
    update, **move_options
        As for :class:`ParallelTempering` (same moves, same counter-based randomness).
    runs : int, optional
        Deprecated name of ``n_starts`` (DeprecationWarning; goes in pspin 0.2).

    Returns
    -------
    AnnealResult

    Examples
    --------
    >>> import numpy as np, pspin
    >>> r = pspin.anneal(pspin.IsingPSpin(32, 2, seed=1), np.geomspace(2.0, 0.1, 50), n_starts=4, seed=2)
    >>> r.energies.shape  # (runs, temperature steps): time last
    (4, 50)
    """
    clock = RunClock()
    n_starts = renamed(runs, n_starts, "runs", "n_starts", "anneal")
    temps = _validate.real_array(schedule, "schedule").astype(np.float64).ravel()
    if temps.size < 1 or not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise ValueError("schedule must be a non-empty array of positive, finite temperatures")
    per_step = _validate.positive_int(sweeps_per_temperature, "sweeps_per_temperature")
    start = None if initial is None else _initial(model, initial, n_starts)
    count = _validate.positive_int(
        (1 if n_starts is None else n_starts) if start is None else start.shape[0], "n_starts"
    )
    pt = ParallelTempering(model, [temps[0]], replicas=count, seed=seed, update=update, **move_options)
    if start is not None:
        _restart(pt, model, start)
    # One GIL-free call runs the whole schedule (the best state is checked after every sweep).
    best_e, best_s, trace = pt._engine.anneal(list(1.0 / temps), per_step)
    final = pt._engine.states()
    return AnnealResult(
        best_states=best_s.astype(np.float64),
        best_energies=best_e,
        final_states=final.astype(np.float64),
        energies=np.ascontiguousarray(np.asarray(trace, dtype=np.float64).T),
        schedule=temps,
        params={"model": repr(model), "n_starts": count, "sweeps_per_temperature": per_step,
                "update": pt.update, "move_options": repr(sorted(pt.move_options.items())),
                "initial_given": initial is not None, **_seed.record(pt.seed_sequence), **_seed.model_record(model)},
        run_info=clock.info(),
    )


def _initial(model: PSpinModel, initial: Any, n_starts: int | None) -> np.ndarray:
    """User starting states as (K, n) float64: +-1 for Ising, scaled onto the sphere otherwise."""
    arr, _ = _validate.batch(initial, model.n, "initial")
    if n_starts is not None and _validate.positive_int(n_starts, "n_starts") != arr.shape[0]:
        raise ValueError(f"n_starts = {n_starts} does not match the {arr.shape[0]} initial states")
    arr = np.array(arr, dtype=np.float64)
    if isinstance(model, IsingPSpin):
        _validate.ising_spins(arr, "initial")
        return arr
    arr = _validate.sphere_safe(arr)  # |s|^2 of entries near 1e+-300 would overflow
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if not np.all(norms > 0):
        raise ValueError("initial states must be non-zero (they are scaled onto the sphere)")
    return arr * (np.sqrt(model.n) / norms)


def _restart(pt: ParallelTempering, model: PSpinModel, states: np.ndarray) -> None:
    """Put ``states`` into a fresh one-temperature engine, with their fields and energies.

    The engine keeps local fields and energies beside the states (its checkpoint "aux",
    laid out fields, energies, then per-temperature data, then, for float32 spherical
    models, the float64 states): the fresh engine's own aux supplies everything else.
    """
    engine = pt._engine
    cast = np.ascontiguousarray(states, dtype=model.dtype)
    aux = np.array(engine.aux(), dtype=np.float64)
    size, runs = cast.size, cast.shape[0]
    aux[:size] = np.asarray(model.local_fields(cast), dtype=np.float64).ravel()
    aux[size : size + runs] = model.energy(cast)
    if not isinstance(model, IsingPSpin) and model.dtype != np.float64:
        aux[-size:] = states.ravel()
    stats = engine.stats()
    engine.restore(
        cast, list(aux), list(engine.temp_of_slot()), 0,
        list(stats["attempts"]), list(stats["accepts"]), list(stats["round_trips"]), list(stats["phase"]),
    )
