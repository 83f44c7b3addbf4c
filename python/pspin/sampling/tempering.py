"""Parallel tempering (replica exchange) for Ising and spherical p-spin models."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import _core, _seed, _validate
from .._memory import require_memory
from .._results import RunClock
from ..landscape._progress import progress_bar
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from . import checkpoint as ckpt
from .ladders import equalise_acceptance
from .result import PTResult

# Seed purposes of a tempering run (fixed forever: results depend on them).
_PT_INIT, _PT_MOVES, _PT_SWAPS = 10, 11, 12

# The allowed Ising update names (their only list) and the core's enum for each.
_CORE_ISING_UPDATES = {
    "metropolis": _core.IsingUpdate.Metropolis,
    "heat_bath": _core.IsingUpdate.HeatBath,
}
ISING_UPDATES = tuple(_CORE_ISING_UPDATES)
SPHERICAL_UPDATES = ("hmc",)


def _temperatures(temperatures: Any) -> np.ndarray:
    t = _validate.real_array(temperatures, "temperatures").astype(np.float64).ravel()
    if t.size < 1:
        raise ValueError("need at least one temperature")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError(f"temperatures must be positive and finite, got {t}")
    t = np.sort(t)
    if np.any(np.diff(t) == 0):
        raise ValueError("temperatures must be distinct")
    return t


def _require_ising_tables(model: IsingPSpin, slots: int) -> None:
    """The Ising sampler's coupling tables and per-configuration fields must fit in memory.

    Degree 2: W (n^2 values); degree 3: one upper triangle per spin (~n^3 / 2); degree
    p >= 4: the couplings of each spin over the (p-1)-subsets of the others (n C(n, p-1)).
    """
    n, size = model.n, model.dtype.itemsize
    entries = 0
    for p in model.degrees:
        entries += n * n if p == 2 else n * (n * (n - 1) // 2 + 8 * n) if p == 3 else n * math.comb(n, p - 1)
    require_memory(
        entries * size + slots * n * (size + 8),
        f"the Ising sampler's coupling tables and fields (n = {n}, degrees {list(model.degrees)}, "
        f"{slots} configurations, {model.dtype})",
    )


class ParallelTempering:
    """Replica-exchange Monte Carlo: R temperatures x K independent replicas each.

    Each of the K ladders holds one configuration per temperature; after every
    sweep, neighbouring temperatures of a ladder try to exchange their labels
    (configurations stay in place), accepted with probability
    min(1, exp[(beta_r - beta_{r+1})(E_a - E_b)]). K >= 2 gives the overlaps
    q = s_a . s_b / n between replicas at equal temperature.

    Parameters
    ----------
    model : IsingPSpin or SphericalPSpin
    temperatures : array_like (R,)
        Positive, distinct; sorted ascending internally.
    replicas : int, default 2
        Independent ladders K.
    seed : None, int, SeedSequence or Generator
        Seeds the initial states, the moves and the swaps (counter-based: the run is
        a pure function of the seed and the number of sweeps, for any thread count
        and however it is split into calls or checkpoints). Pass an explicit seed to
        be able to resume from a checkpoint.
    update : str, optional
        Ising: 'metropolis' (default) or 'heat_bath', single-spin flips in sequential
        sweeps with cached local fields. Spherical: 'hmc' (geodesic Hamiltonian Monte
        Carlo on the sphere, one trajectory per sweep).
    adaptive : bool
        During burn-in only, every max(10, burn_in/20) sweeps: move the ladder towards
        equal swap acceptance (end temperatures fixed) and, for spherical HMC, each
        temperature's step towards acceptance 0.8. Both are frozen for the measurement.
    **move_options
        Spherical HMC: ``leapfrog_steps`` (default 5) and ``step_size`` (default 0.25;
        the leapfrog step is step_size * sqrt(T), capped at (pi/2)/leapfrog_steps).
    """

    def __init__(
        self,
        model: PSpinModel,
        temperatures: Any,
        *,
        replicas: int = 2,
        seed: _seed.SeedLike = None,
        update: str | None = None,
        adaptive: bool = False,
        **move_options: Any,
    ) -> None:
        if not isinstance(model, (IsingPSpin, SphericalPSpin)):
            raise TypeError(f"ParallelTempering needs an IsingPSpin or SphericalPSpin, got {type(model).__name__}")
        self.model = model
        self.requested_temperatures = _temperatures(temperatures)
        self.replicas = _validate.positive_int(replicas, "replicas")
        self.adaptive = bool(adaptive)
        self.seed_sequence = _seed.as_seed_sequence(seed)
        ising = isinstance(model, IsingPSpin)
        allowed = ISING_UPDATES if ising else SPHERICAL_UPDATES
        self.update = allowed[0] if update is None else update
        if self.update not in allowed:
            raise ValueError(f"unknown update {self.update!r} for {type(model).__name__}; allowed: {allowed}")
        self.move_options = dict(move_options)
        if ising and move_options:
            raise TypeError(f"Ising updates take no options, got {sorted(move_options)}")
        if isinstance(model, IsingPSpin):
            _require_ising_tables(model, self.requested_temperatures.size * self.replicas)
        self._engine = self._make_engine()
        self._fingerprint: str | None = None
        self._energies: list[np.ndarray] = []
        self._overlaps: list[np.ndarray] = []
        self._sample_count = 0  # rows in _energies: a save appends those after the checkpoint's
        self._stats_at_burn_in: dict[str, np.ndarray] | None = None
        self._last_tune: dict[str, np.ndarray] | None = None
        self._run_params: dict[str, int] | None = None
        self._snapshots: list[np.ndarray] = []
        self._snapshot_sweeps: list[int] = []
        self._clock: RunClock | None = None  # the latest run() call, for PTResult.run_info

    # ------------------------------------------------------------------ engine
    def _make_engine(self) -> Any:
        R, K = self.requested_temperatures.size, self.replicas
        init = self.model.random_state(R * K, seed=_seed.child_generator(self.seed_sequence, _PT_INIT))
        betas = list(1.0 / self.requested_temperatures)
        moves = _seed.key64(self.seed_sequence, _PT_MOVES)
        swaps = _seed.key64(self.seed_sequence, _PT_SWAPS)
        f64 = self.model.dtype == np.float64
        couplings = self.model._couplings
        # Any: the engine's precision follows the couplings' (F64 with F64), which the
        # types cannot express; the engines share one interface.
        cls: Any
        if isinstance(self.model, IsingPSpin):
            cls = _core.IsingTemperingF64 if f64 else _core.IsingTemperingF32
            return cls(couplings, init, betas, K, moves, swaps, _CORE_ISING_UPDATES[self.update])
        cls = _core.SphericalTemperingF64 if f64 else _core.SphericalTemperingF32
        unknown = set(self.move_options) - {"leapfrog_steps", "step_size"}
        if unknown:
            raise TypeError(f"unknown move options {sorted(unknown)}; spherical HMC takes leapfrog_steps, step_size")
        # L = 5, eps = 0.25 sqrt(T): acceptance ~0.85 at n = 128..256, the most
        # effective samples per second measured for p = 3 (sphere_sampler.hpp).
        steps = _validate.positive_int(self.move_options.get("leapfrog_steps", 5), "leapfrog_steps")
        step_size = _validate.positive_float(self.move_options.get("step_size", 0.25), "step_size")
        return cls(couplings, init, betas, K, moves, swaps, steps, step_size)

    @property
    def temperatures(self) -> np.ndarray:
        """Current ladder (ascending); differs from the requested one after adaptive burn-in."""
        return 1.0 / np.asarray(self._engine.betas())

    @property
    def sweeps_done(self) -> int:
        return int(self._engine.sweeps_done)

    def states(self) -> np.ndarray:
        """Configurations by temperature and replica, (R, K, n)."""
        R, K = self.requested_temperatures.size, self.replicas
        states = self._engine.states()
        labels = self._engine.temp_of_slot()
        out = np.empty((R, K, self.model.n), dtype=states.dtype)
        for slot, t in enumerate(labels):
            out[t, slot // R] = states[slot]
        return out

    # ------------------------------------------------------------------ run
    def run(
        self,
        sweeps: int,
        *,
        burn_in: int = 0,
        sample_every: int = 1,
        snapshot_every: int = 0,
        checkpoint: str | Path | None = None,
        checkpoint_every: float = 60.0,
        progress: bool = False,
    ) -> PTResult:
        """Run until ``sweeps`` sweeps in total are done and return the measurements.

        Parameters
        ----------
        sweeps : int
            Total sweeps (burn-in included). Calling run again with a larger number
            continues the same simulation.
        burn_in : int
            Sweeps before measuring (with ``adaptive``, the ladder is tuned then).
        sample_every : int
            Record energies and overlaps every this many sweeps.
        snapshot_every : int
            Keep the configurations by temperature and replica (``states()``) at every
            sweep index after burn-in that is a multiple of this (0: none); they are
            ``PTResult.snapshots``. Chunks stop at these sweeps, so the snapshots are
            the same however the run is split into calls or checkpoints.
        checkpoint : path, optional
            HDF5 file (h5py is required; its absence is an error before anything
            runs). If it exists and belongs to the same model (couplings fingerprint),
            temperatures, replicas, update, seed and run parameters, the run resumes
            from it; otherwise a clear error is raised before anything runs, as it is
            when the checkpoint holds more than ``sweeps`` sweeps. The small state is
            rewritten atomically on every save and the series (measurements,
            snapshots) are appended to ``<checkpoint>.samples`` and
            ``<checkpoint>.snapshots`` beside it (:mod:`pspin.sampling.checkpoint`):
            keep the files together. Saved every ``checkpoint_every`` seconds, at the
            end, and on Ctrl-C or SIGTERM, after which ``KeyboardInterrupt`` is
            re-raised (:class:`~pspin.sampling.checkpoint.Terminated`, a subclass
            carrying ``signum``, for SIGTERM).
        checkpoint_every : float
            Seconds of wall time between saves, the first one included (finite, > 0).
        progress : bool
            tqdm progress bar (if tqdm is installed).

        Notes
        -----
        For the duration of the call (in the main thread) SIGINT and SIGTERM handlers
        are installed that only note the signal; it is raised between chunks of sweeps
        (~0.2 s apart), never between a chunk and the bookkeeping of its measurements
        nor during a save, so the sampler and its checkpoint stay consistent. The
        previous handlers are restored after; signals that were ignored stay ignored.
        """
        sweeps = _validate.positive_int(sweeps, "sweeps")
        burn_in = _validate.positive_int(burn_in, "burn_in", minimum=0)
        sample_every = _validate.positive_int(sample_every, "sample_every")
        snapshot_every = _validate.positive_int(snapshot_every, "snapshot_every", minimum=0)
        interval = _validate.positive_float(checkpoint_every, "checkpoint_every")
        if burn_in >= sweeps:
            raise ValueError(f"burn_in ({burn_in}) must be smaller than sweeps ({sweeps})")
        if sweeps < self.sweeps_done:
            raise ValueError(f"this simulation has {self.sweeps_done} sweeps done, asked for {sweeps}")
        params = {"burn_in": burn_in, "sample_every": sample_every, "snapshot_every": snapshot_every}
        if self._run_params is not None and self._run_params != params:
            raise ValueError(
                f"this simulation was run with {self._run_params}; burn_in, sample_every and snapshot_every cannot change"
            )
        if snapshot_every:
            R, K = self.requested_temperatures.size, self.replicas
            future = max(0, sweeps // snapshot_every - max(burn_in, self.sweeps_done) // snapshot_every)
            require_memory(future * R * K * self.model.n * self._snapshot_dtype().itemsize, "the snapshots of this run")
        store = None
        if checkpoint is not None:
            ckpt.require_h5py()
            store = ckpt.Checkpoint(Path(checkpoint))
            ckpt.check_writable(store.path)
            if store.path.exists():
                self._resume(store, params, sweeps)
        self._run_params = params
        self._clock = RunClock()
        # Ctrl-C and SIGTERM are raised between chunks only, so that the sampler (and its
        # checkpoint) never holds sweeps without their measurements.
        with ckpt.SignalGuard() as guard:
            self._run_chunks(sweeps, burn_in, sample_every, snapshot_every, store, guard, interval, progress)
        return self.result()

    def _run_chunks(
        self,
        sweeps: int,
        burn_in: int,
        sample_every: int,
        snapshot_every: int,
        store: ckpt.Checkpoint | None,
        guard: ckpt.SignalGuard,
        interval: float,
        progress: bool,
    ) -> None:
        """The sweep loop of :meth:`run`: chunks of ~0.2 s, saves every ``interval`` seconds."""
        last_save = time.monotonic()
        chunk = 1
        try:
            with progress_bar(progress, total=sweeps, initial=self.sweeps_done, desc="tempering") as bar:
                while self.sweeps_done < sweeps:
                    guard.check()
                    done = self.sweeps_done
                    stop = sweeps if done >= burn_in else self._next_tune_point(done, burn_in)
                    if snapshot_every:
                        stop = min(stop, self._next_snapshot_point(done, burn_in, snapshot_every))
                    todo = min(chunk, stop - done)
                    start = time.perf_counter()
                    energies, overlaps = self._engine.run(todo, sample_every)
                    elapsed = time.perf_counter() - start
                    self._keep_samples(done, sample_every, burn_in, energies, overlaps)
                    if snapshot_every and done + todo > burn_in and (done + todo) % snapshot_every == 0:
                        self._snapshots.append(self.states().astype(self._snapshot_dtype()))
                        self._snapshot_sweeps.append(done + todo)
                    bar.update(todo)
                    if done < burn_in:
                        self._after_burn_in_chunk(done + todo, burn_in)
                    # Chunks of about 0.2 s: progress and Ctrl-C stay responsive.
                    chunk = max(1, min(chunk * 2, int(todo * 0.2 / max(elapsed, 1e-6)) + 1))
                    if store is not None and time.monotonic() - last_save >= interval:
                        self._save(store)
                        last_save = time.monotonic()
        except KeyboardInterrupt:
            if store is not None:
                self._save(store)
            raise
        if store is not None:
            self._save(store)
        # A signal during the last chunk or the final save: the run is complete and saved,
        # but the process was asked to stop.
        guard.check()

    def _keep_samples(self, done: int, every: int, burn_in: int, energies: np.ndarray, overlaps: np.ndarray) -> None:
        first = done // every + 1
        sweep_of_sample = (first + np.arange(energies.shape[0])) * every
        keep = sweep_of_sample > burn_in
        if np.any(keep):
            self._energies.append(energies[keep])
            self._overlaps.append(overlaps[keep])
            self._sample_count += int(np.count_nonzero(keep))

    def _tune_interval(self, burn_in: int) -> int:
        return max(10, burn_in // 20)

    def _next_tune_point(self, done: int, burn_in: int) -> int:
        """End of the current chunk during burn-in: tuning happens at fixed sweep
        indices, so a run is reproducible however it is chunked or resumed."""
        if not self.adaptive:
            return burn_in
        interval = self._tune_interval(burn_in)
        return min(burn_in, (done // interval + 1) * interval)

    def _next_snapshot_point(self, done: int, burn_in: int, every: int) -> int:
        """First snapshot sweep after ``done``: a multiple of ``every`` beyond burn-in."""
        return (max(done, burn_in) // every + 1) * every

    def _snapshot_dtype(self) -> np.dtype:
        # Ising spins are +-1: int8 keeps (R, K, S, n) snapshots 8 times smaller than float64.
        return np.dtype(np.int8) if isinstance(self.model, IsingPSpin) else self.model.dtype

    def _snapshot_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Snapshots stacked (S, R, K, n) and their sweep indices (S,)."""
        R, K = self.requested_temperatures.size, self.replicas
        if not self._snapshots:
            return np.empty((0, R, K, self.model.n), self._snapshot_dtype()), np.empty(0, np.int64)
        return np.stack(self._snapshots), np.asarray(self._snapshot_sweeps, dtype=np.int64)

    def _counters(self) -> dict[str, np.ndarray]:
        """The engine's cumulative counts (copies): swaps, round trips and, for HMC,
        trajectories and summed acceptance probabilities per temperature."""
        counts = {k: np.array(v) for k, v in self._engine.stats().items()}
        if isinstance(self.model, SphericalPSpin):
            acc = self._engine.acceptance()
            counts["hmc_attempts"] = np.array(acc["attempts"])
            counts["hmc_prob"] = np.array(acc["accept_prob_sum"])
        return counts

    def _after_burn_in_chunk(self, done: int, burn_in: int) -> None:
        counts = self._counters()
        at_tune_point = self.adaptive and (done % self._tune_interval(burn_in) == 0 or done == burn_in)
        if at_tune_point and done < burn_in:
            self._tune(counts)
        if done >= burn_in:
            self._stats_at_burn_in = counts

    def _tune(self, counts: dict[str, np.ndarray]) -> None:
        """Feedback during burn-in from the counts since the previous tune point:
        the ladder towards equal swap acceptance and, for HMC, each temperature's
        step towards acceptance 0.8 (the measurement then runs with both frozen)."""
        last = self._last_tune or {}
        attempts = counts["attempts"] - last.get("attempts", 0)
        accepts = counts["accepts"] - last.get("accepts", 0)
        if self.requested_temperatures.size > 2 and np.all(attempts > 0):
            t = equalise_acceptance(self.temperatures, accepts / attempts)
            self._engine.set_betas(list(1.0 / t))
        if "hmc_attempts" in counts:
            tries = counts["hmc_attempts"] - last.get("hmc_attempts", 0)
            prob = (counts["hmc_prob"] - last.get("hmc_prob", 0)) / np.maximum(tries, 1)
            steps = np.asarray(self._engine.step_sizes()) * np.exp(np.clip(prob - 0.8, -0.5, 0.5))
            self._engine.set_step_sizes(list(steps))
        tuned_on = ("attempts", "accepts", "hmc_attempts", "hmc_prob")
        self._last_tune = {k: v for k, v in counts.items() if k in tuned_on}

    # ------------------------------------------------------------------ results
    def result(self) -> PTResult:
        """Measurements so far (after burn-in)."""
        R, K = self.requested_temperatures.size, self.replicas
        pairs = K * (K - 1) // 2
        energies = np.concatenate(self._energies) if self._energies else np.empty((0, R, K))
        overlaps = np.concatenate(self._overlaps) if self._overlaps else np.empty((0, R, pairs))
        stats = self._counters()
        base = self._stats_at_burn_in or {k: np.zeros_like(v) for k, v in stats.items()}
        attempts = stats["attempts"] - base["attempts"]
        accepts = stats["accepts"] - base["accepts"]
        move_acceptance = None
        if "hmc_attempts" in stats:
            tries = stats["hmc_attempts"] - base.get("hmc_attempts", 0)
            move_acceptance = (stats["hmc_prob"] - base.get("hmc_prob", 0)) / np.maximum(tries, 1)
        snapshots = snapshot_sweeps = None
        if (self._run_params or {}).get("snapshot_every", 0):
            stacked, snapshot_sweeps = self._snapshot_arrays()
            snapshots = np.ascontiguousarray(np.moveaxis(stacked, 0, 2))
        return PTResult(
            model=self.model,
            temperatures=self.temperatures,
            energies=np.ascontiguousarray(np.moveaxis(energies, 0, -1)),  # a view would sum in another order after load
            overlaps=np.ascontiguousarray(np.moveaxis(overlaps, 0, -1)),
            swap_attempts=attempts,
            swap_accepts=accepts,
            round_trips_per_slot=stats["round_trips"] - base["round_trips"],
            sweeps=self.sweeps_done,
            burn_in=(self._run_params or {}).get("burn_in", 0),
            sample_every=(self._run_params or {}).get("sample_every", 1),
            params=self._identity(),
            move_acceptance=move_acceptance,
            run_info=self._clock.info() if self._clock is not None else {},
            snapshots=snapshots,
            snapshot_sweeps=snapshot_sweeps,
        )

    # ------------------------------------------------------------------ checkpoints
    def _couplings_sha256(self) -> str:
        # Hashing every coupling (n^3/6 values for p = 3) once per run, not per save or result.
        if self._fingerprint is None:
            self._fingerprint = ckpt.couplings_fingerprint(self.model)
        return self._fingerprint

    def _identity(self) -> dict[str, Any]:
        import pspin

        return {
            "pspin_version": pspin.__version__,
            "model": repr(self.model),
            "couplings_sha256": self._couplings_sha256(),
            "temperatures_requested": self.requested_temperatures,
            "replicas": self.replicas,
            "update": self.update,
            "move_options": repr(sorted(self.move_options.items())),
            "adaptive": self.adaptive,
            "seed_entropy": str(self.seed_sequence.entropy),
            "seed_spawn_key": repr(tuple(self.seed_sequence.spawn_key)),
        }

    def _sample_records(self, start: int) -> np.ndarray:
        """Measurements from the ``start``-th on as records of the checkpoint's ``samples``
        series (walks back over the recent chunks only: a save costs O(new samples))."""
        R, K = self.requested_temperatures.size, self.replicas
        tail_e: list[np.ndarray] = []
        tail_o: list[np.ndarray] = []
        remaining = self._sample_count - start
        for e, o in zip(reversed(self._energies), reversed(self._overlaps)):
            if remaining <= 0:
                break
            take = min(remaining, e.shape[0])
            tail_e.append(e[e.shape[0] - take :])
            tail_o.append(o[o.shape[0] - take :])
            remaining -= take
        e_dtype = self._energies[0].dtype if self._energies else np.dtype(np.float64)
        o_dtype = self._overlaps[0].dtype if self._overlaps else np.dtype(np.float64)
        records = np.empty(
            self._sample_count - start,
            dtype=[("energies", e_dtype, (R, K)), ("overlaps", o_dtype, (R, K * (K - 1) // 2))],
        )
        if tail_e:
            records["energies"] = np.concatenate(tail_e[::-1])
            records["overlaps"] = np.concatenate(tail_o[::-1])
        return records

    def _snapshot_records(self, start: int) -> np.ndarray:
        """Snapshots from the ``start``-th on as records of the ``snapshots`` series."""
        R, K = self.requested_temperatures.size, self.replicas
        dtype = [("sweep", np.int64), ("state", self._snapshot_dtype(), (R, K, self.model.n))]
        records = np.empty(len(self._snapshots) - start, dtype=dtype)
        if records.size:
            records["sweep"] = self._snapshot_sweeps[start:]
            records["state"] = np.stack(self._snapshots[start:])
        return records

    def _save(self, store: ckpt.Checkpoint) -> None:
        arrays = {
            "states": self._engine.states(),
            "aux": self._engine.aux(),
            "temp_of_slot": self._engine.temp_of_slot(),
            "betas": self._engine.betas(),
        }
        for key, value in self._engine.stats().items():
            arrays[f"stats/{key}"] = value
        if self._stats_at_burn_in is not None:
            for key, value in self._stats_at_burn_in.items():
                arrays[f"stats_at_burn_in/{key}"] = value
        for key, value in (self._last_tune or {}).items():
            arrays[f"last_tune/{key}"] = value
        attrs = dict(self._identity())
        attrs.update({"sweeps_done": self.sweeps_done, **(self._run_params or {})})
        series = {
            "samples": self._sample_records(store.committed("samples")),
            "snapshots": self._snapshot_records(store.committed("snapshots")),
        }
        store.save(attrs, arrays, series)

    def _resume(self, store: ckpt.Checkpoint, params: dict[str, int], sweeps: int) -> None:
        path = store.path
        attrs, arrays = store.load_state()
        mine = self._identity()
        for key in ("couplings_sha256", "replicas", "update", "move_options", "adaptive", "seed_entropy", "seed_spawn_key"):
            if str(attrs.get(key)) != str(mine[key]):
                raise ValueError(
                    f"checkpoint {path} belongs to another run ({key}: {attrs.get(key)!r} != {mine[key]!r}); "
                    "use another path or the same model, seed and settings"
                )
        if not np.array_equal(np.asarray(attrs["temperatures_requested"]), self.requested_temperatures):
            raise ValueError(f"checkpoint {path} was run at other temperatures")
        for key, value in params.items():
            # Checkpoints written before snapshots existed took none.
            if int(attrs.get(key, 0)) != value:
                raise ValueError(f"checkpoint {path} was run with {key}={attrs.get(key, 0)}, not {value}")
        held = int(attrs["sweeps_done"])
        if held < self.sweeps_done:
            raise ValueError(f"checkpoint {path} is behind this simulation ({held} sweeps)")
        if held > sweeps:
            raise ValueError(f"checkpoint {path} has {held} sweeps, asked for {sweeps}")
        if int(attrs["format_version"]) == 1:
            energies, overlaps = arrays["energies"], arrays["overlaps"]
            snapshots = arrays.get("snapshots", np.empty((0,)))
            snapshot_sweeps = arrays.get("snapshot_sweeps", np.empty(0, np.int64))
        else:
            series = store.load_series()
            R, K = self.requested_temperatures.size, self.replicas
            samples = series.get("samples")
            energies = np.empty((0, R, K)) if samples is None else np.ascontiguousarray(samples["energies"])
            overlaps = np.empty((0, R, K * (K - 1) // 2)) if samples is None else np.ascontiguousarray(samples["overlaps"])
            shots = series.get("snapshots")
            snapshots = np.empty((0,)) if shots is None else np.ascontiguousarray(shots["state"])
            snapshot_sweeps = np.empty(0, np.int64) if shots is None else shots["sweep"]
        stats = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("stats/")}
        self._engine.set_betas(list(arrays["betas"]))
        self._engine.restore(
            arrays["states"], list(arrays["aux"]), list(arrays["temp_of_slot"]), held,
            list(stats["attempts"]), list(stats["accepts"]), list(stats["round_trips"]), list(stats["phase"]),
        )
        burn = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("stats_at_burn_in/")}
        self._stats_at_burn_in = burn or None
        tune = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("last_tune/")}
        self._last_tune = tune or None
        self._energies = [energies] if energies.shape[0] else []
        self._overlaps = [overlaps] if overlaps.shape[0] else []
        self._sample_count = int(energies.shape[0])
        self._snapshots = list(snapshots)
        self._snapshot_sweeps = [int(k) for k in snapshot_sweeps]
        self._run_params = params
