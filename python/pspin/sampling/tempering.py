"""Parallel tempering (replica exchange) for Ising and spherical p-spin models."""

from __future__ import annotations

import math
import threading
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


_MiB = 1 << 20
_HUGE_PAGE = 2 * _MiB  # the core rounds each coupling table up to whole 2 MiB pages
# The widest SIMD vector of doubles any build uses (AVX-512): the padding of the degree-3
# triangles is largest with it.
_MAX_DOUBLE_LANES = 8
# One engine.run() call writes energies, overlaps and (K > 1) a double copy of every
# sampled configuration; chunks are capped so that these buffers stay below this.
_CHUNK_BUFFER_BYTES = 64 * _MiB


def _pages(nbytes: int) -> int:
    return -(-nbytes // _HUGE_PAGE) * _HUGE_PAGE if nbytes else 0


def engine_memory(n: int, degrees: Any, dtype: Any, temperatures: int, replicas: int, *, ising: bool,
                  threads: int = 1) -> dict[str, int]:
    """Bytes a tempering engine allocates, table by table (the counts of the C++ core).

    Ising (``ising_sampler.hpp``, ``ising_dense.hpp``, ``ising_high_degree.hpp``):
    degree 2 the matrix W (n rows padded to an odd number of cache lines), degree 3 one
    padded upper triangle per spin (about n^2 (n - 1) / 2 values) and its n^2 row-start
    index while it is built, degree p >= 4 the couplings of each spin over the
    (p-1)-subsets of the others (n C(n, p-1)); single precision with degree 3 adds a
    widened slice and states per thread. Per configuration ("slot"): the state, the
    float64 field cache and energy, and the initial state drawn in Python. Spherical HMC
    (``sphere_sampler.hpp``): states, fields, position, momentum and trial fields in
    float64 and an output copy per slot. Both: the per-chunk output buffers (capped at
    ``_CHUNK_BUFFER_BYTES``).
    """
    size = np.dtype(dtype).itemsize
    slots = temperatures * replicas
    out: dict[str, int] = {}
    if ising:
        line = 64 // size
        if 2 in degrees:
            stride = (-(-n // line) | 1) * line
            out["degree-2 coupling matrix"] = _pages(n * stride * size)
        if 3 in degrees:
            lanes = _MAX_DOUBLE_LANES
            used = n * (n - 1) // 2 + n * lanes  # rows start at most `lanes` columns early
            slice_size = -(-used // lanes) * lanes
            out["degree-3 coupling triangles"] = _pages(slice_size * n * size)
            out["degree-3 row index (while built)"] = n * n * 8
            if size != 8:
                out["widened slices and states (per thread)"] = threads * (slice_size + slots * n) * 8
        for p in degrees:
            if p >= 4:
                out[f"degree-{p} coupling tables"] = _pages(n * math.comb(n, p - 1) * size)
        out["states, field caches and energies"] = slots * (n * (size + 8) + 8)
    else:
        out["states, fields and trajectory scratch"] = slots * n * (5 * 8 + size) + slots * 8 * 4
    out["initial states"] = slots * n * size
    out["chunk output buffers"] = min(_CHUNK_BUFFER_BYTES, slots * (n + 1) * 8 + slots * replicas * 8)
    return out


def require_engine_memory(n: int, degrees: Any, dtype: Any, temperatures: int, replicas: int, *,
                          ising: bool) -> None:
    """The engine's tables and per-configuration arrays must fit (with the safety margin of
    :func:`pspin._memory.require_memory`): MemoryError stating the bytes needed and available."""
    from .._config import get_num_threads

    tables = engine_memory(n, tuple(degrees), dtype, temperatures, replicas, ising=ising, threads=get_num_threads())
    largest = max(tables, key=lambda k: tables[k])
    require_memory(
        sum(tables.values()),
        f"the {'Ising' if ising else 'spherical'} tempering engine (n = {n}, degrees {list(degrees)}, "
        f"{temperatures} temperatures x {replicas} replicas, {np.dtype(dtype)}; largest: {largest}, "
        f"{tables[largest]:,} bytes)",
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
        require_engine_memory(model.n, model.degrees, model.dtype, self.requested_temperatures.size, self.replicas,
                              ising=isinstance(model, IsingPSpin))
        self._fingerprint: str | None = None
        self._engine = self._make_engine()
        # run() mutates the engine: two threads at once would interleave their sweeps.
        self._running = threading.Lock()
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
        if not self._running.acquire(blocking=False):
            raise RuntimeError(
                "ParallelTempering.run is already running in another thread on this engine; one engine runs one "
                "run() at a time (wait for it, or build one engine per thread)"
            )
        try:
            return self._run(sweeps, burn_in, sample_every, snapshot_every, checkpoint, checkpoint_every, progress)
        finally:
            self._running.release()

    def _run(self, sweeps: int, burn_in: int, sample_every: int, snapshot_every: int,
             checkpoint: str | Path | None, checkpoint_every: float, progress: bool) -> PTResult:
        """:meth:`run`, with the engine held by this thread."""
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
        self._require_series_memory(sweeps, burn_in, sample_every, snapshot_every)
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
        cap = self._chunk_cap(sample_every)
        try:
            with progress_bar(progress, total=sweeps, initial=self.sweeps_done, desc="tempering") as bar:
                while self.sweeps_done < sweeps:
                    due = store is not None and time.monotonic() - last_save >= interval
                    chunk, due = self._plan_chunk(guard, chunk, due)
                    if store is not None and due:
                        self._save(store)
                        last_save = time.monotonic()
                    done = self.sweeps_done
                    stop = sweeps if done >= burn_in else self._next_tune_point(done, burn_in)
                    if snapshot_every:
                        stop = min(stop, self._next_snapshot_point(done, burn_in, snapshot_every))
                    todo = min(chunk, stop - done, cap)
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
        except KeyboardInterrupt:
            if store is not None:
                self._save(store)
            raise
        if store is not None:
            self._save(store)
        # A signal during the last chunk or the final save: the run is complete and saved,
        # but the process was asked to stop.
        guard.check()

    def _plan_chunk(self, guard: ckpt.SignalGuard, chunk: int, save_due: bool) -> tuple[int, bool]:
        """Before each chunk: raise a noted signal, then the chunk's length and whether to
        save first (a run split over MPI ranks agrees on all three across its ranks)."""
        guard.check()
        return chunk, save_due

    def _require_series_memory(self, sweeps: int, burn_in: int, sample_every: int, snapshot_every: int) -> None:
        """The measurements and snapshots this call adds must fit: each is held three times
        at the end (the kept chunks, their concatenation, the result's time-last copy)."""
        R, K, n = self.requested_temperatures.size, self.replicas, self.model.n
        start = max(burn_in, self.sweeps_done)
        samples = max(0, sweeps // sample_every - start // sample_every)
        nbytes = 3 * samples * R * (K + K * (K - 1) // 2) * 8
        what = f"the measurements of this run ({samples:,} samples"
        if snapshot_every:
            shots = max(0, sweeps // snapshot_every - start // snapshot_every)
            nbytes += 3 * shots * R * K * n * self._snapshot_dtype().itemsize
            what += f" and {shots:,} snapshots of {R} x {K} x {n} spins"
        require_memory(nbytes, what + ", each held 3 times while the result is built)")

    def _chunk_cap(self, sample_every: int) -> int:
        """Most sweeps per engine call: its output buffers stay under _CHUNK_BUFFER_BYTES
        (the run is the same however it is chunked)."""
        R, K, n = self.requested_temperatures.size, self.replicas, self.model.n
        per_sample = R * K * 8 + R * (K * (K - 1) // 2) * 8 + (R * K * n * 8 if K > 1 else 0)
        return max(1, _CHUNK_BUFFER_BYTES // per_sample) * sample_every

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
        attrs, arrays = store.load_state()  # checksums verified there (format 3)
        mine = self._identity()
        for key in ("couplings_sha256", "replicas", "update", "move_options", "adaptive", "seed_entropy", "seed_spawn_key"):
            if str(attrs.get(key)) != str(mine[key]):
                raise ValueError(
                    f"checkpoint {path} belongs to another run ({key}: {attrs.get(key)!r} != {mine[key]!r}); "
                    "use another path or the same model, seed and settings"
                )
        if not np.array_equal(np.asarray(attrs.get("temperatures_requested")), self.requested_temperatures):
            raise ValueError(f"checkpoint {path} was run at other temperatures")
        for key, value in params.items():
            # Checkpoints written before snapshots existed took none.
            if str(attrs.get(key, 0)) != str(value):
                raise ValueError(f"checkpoint {path} was run with {key}={attrs.get(key, 0)}, not {value}")
        try:
            held = int(attrs["sweeps_done"])
        except (KeyError, TypeError, ValueError) as exc:
            raise store.damaged(f"its sweeps_done {attrs.get('sweeps_done')!r} is missing or not an integer") from exc
        if held < 0:
            raise store.damaged(f"sweeps_done is {held}")
        R, K = self.requested_temperatures.size, self.replicas
        if int(attrs["format_version"]) == 1:
            energies, overlaps = arrays.get("energies"), arrays.get("overlaps")
            if energies is None or overlaps is None:
                raise store.damaged("it lacks the dataset 'energies' or 'overlaps' of format 1")
            snapshots = arrays.get("snapshots", np.empty((0, R, K, self.model.n), self._snapshot_dtype()))
            snapshot_sweeps = arrays.get("snapshot_sweeps", np.empty(0, np.int64))
        else:
            series = store.load_series()  # checksums of the records verified there (format 3)
            samples = series.get("samples")
            energies = np.empty((0, R, K)) if samples is None else np.ascontiguousarray(samples["energies"])
            overlaps = np.empty((0, R, K * (K - 1) // 2)) if samples is None else np.ascontiguousarray(samples["overlaps"])
            shots = series.get("snapshots")
            snapshots = (np.empty((0, R, K, self.model.n), self._snapshot_dtype()) if shots is None
                         else np.ascontiguousarray(shots["state"]))
            snapshot_sweeps = np.empty(0, np.int64) if shots is None else shots["sweep"]
        # The state is validated before its sweep count is compared with the request, so a
        # damaged count is reported as damage.
        state = _RestoredState(self, store, arrays, held, params)
        state.check_series(energies, overlaps, snapshots, snapshot_sweeps)
        if held < self.sweeps_done:
            raise ValueError(f"checkpoint {path} is behind this simulation ({held} sweeps)")
        if held > sweeps:
            raise ValueError(f"checkpoint {path} has {held} sweeps, asked for {sweeps}")
        self._engine.set_betas(list(state.betas))
        self._engine.restore(
            state.states, list(state.aux), list(state.temp_of_slot), held,
            list(state.stats["attempts"]), list(state.stats["accepts"]), list(state.stats["round_trips"]),
            list(state.stats["phase"]),
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


class _RestoredState:
    """The arrays of a checkpoint, checked for what they mean before the engine takes them.

    Every check raises :class:`~pspin.sampling.checkpoint.CheckpointDamaged` naming the
    file and the fault: the datasets and their shapes and dtypes; Ising spins exactly
    +-1, spherical norms |s|^2 = n to rounding; finite caches (fields, energies, HMC step
    sizes and counters), the cached fields and energies recomputed from the states and
    compared; finite positive betas, decreasing, equal to 1/T of the requested ladder
    (its end points when adaptive); the labels a permutation within each ladder; the
    swap and HMC counters against sweeps_done (their counts are exact functions of it);
    the statistics at burn-in present exactly when burn-in is over; and
    (:meth:`check_series`) the series against sweeps_done, burn_in, sample_every and
    snapshot_every, their values, and their last records against the states.
    """

    # Cached fields and energies against a fresh computation: incremental updates drift
    # by rounding between refreshes (every 1024 sweeps); a damaged value is far off.
    _TOLERANCE = {8: 1e-8, 4: 1e-3}

    def __init__(self, pt: ParallelTempering, store: ckpt.Checkpoint, arrays: dict[str, np.ndarray], held: int,
                 params: dict[str, int]) -> None:
        self.pt, self.store, self.held, self.params = pt, store, held, params
        model = pt.model
        self.R, self.K, self.n = pt.requested_temperatures.size, pt.replicas, model.n
        self.slots = self.R * self.K
        self.ising = isinstance(model, IsingPSpin)
        self.tol = self._TOLERANCE[model.dtype.itemsize]
        self.states = self._array(arrays, "states", (self.slots, self.n), model.dtype)
        self.aux = self._array(arrays, "aux", (self._aux_size(),), np.float64)
        self.temp_of_slot = self._array(arrays, "temp_of_slot", (self.slots,), "int")
        self.betas = self._array(arrays, "betas", (self.R,), np.float64)
        self.stats = {
            "attempts": self._array(arrays, "stats/attempts", (self.R - 1,), np.uint64),
            "accepts": self._array(arrays, "stats/accepts", (self.R - 1,), np.uint64),
            "round_trips": self._array(arrays, "stats/round_trips", (self.slots,), np.uint64),
            "phase": self._array(arrays, "stats/phase", (self.slots,), "int"),
        }
        self._check_states()
        self._check_aux()
        self._check_ladder()
        self._check_counters(arrays)

    def bad(self, problem: str) -> ckpt.CheckpointDamaged:
        return self.store.damaged(problem)

    def _aux_size(self) -> int:
        sn = self.slots * self.n
        if self.ising:
            return sn + self.slots
        return sn + self.slots + 4 * self.R + (0 if self.pt.model.dtype == np.float64 else sn)

    def _array(self, arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        if name not in arrays:
            raise self.bad(f"it lacks the dataset {name!r}")
        value = np.asarray(arrays[name])
        if dtype == "int":
            ok = value.dtype.kind in "iu"
        else:
            ok = value.dtype == np.dtype(dtype)
        if not ok:
            raise self.bad(f"dataset {name!r} is of type {value.dtype}, expected {dtype}")
        if value.shape != shape:
            raise self.bad(f"dataset {name!r} has shape {value.shape}, expected {shape}")
        return value

    def _check_spins(self, states: np.ndarray, name: str) -> None:
        """Ising: exactly +-1; spherical: |s|^2 = n to rounding."""
        if self.ising:
            wrong = states[np.abs(states) != 1]
            if wrong.size:
                raise self.bad(f"{name} holds {wrong.size} Ising spin(s) that are not +-1 (e.g. {wrong[0]!r})")
            return
        flat = np.asarray(states, dtype=np.float64).reshape(-1, self.n)
        norms = np.einsum("ij,ij->i", flat, flat)
        err = np.abs(norms - self.n) / self.n
        limit = 1e-9 if states.dtype == np.float64 else 1e-5
        if not np.all(err <= limit):  # NaN fails too
            worst = int(np.argmax(np.where(np.isfinite(err), err, np.inf)))
            raise self.bad(f"{name}: |s|^2 = {norms[worst]!r} for configuration {worst}, not n = {self.n}")

    def _check_states(self) -> None:
        self._check_spins(self.states, "dataset 'states'")

    def _close(self, cached: np.ndarray, fresh: np.ndarray, what: str) -> None:
        if not np.all(np.isfinite(cached)):
            raise self.bad(f"{what} in 'aux' are not all finite ({np.count_nonzero(~np.isfinite(cached))} values)")
        scale = 1.0 + float(np.max(np.abs(fresh))) if fresh.size else 1.0
        err = float(np.max(np.abs(cached - fresh))) if fresh.size else 0.0
        if err > self.tol * scale:
            raise self.bad(f"{what} in 'aux' differ from those of the states by {err:.3g} (recomputed and compared)")

    def _check_aux(self) -> None:
        if not np.all(np.isfinite(self.aux)):
            raise self.bad(f"dataset 'aux' (cached fields and energies) holds {np.count_nonzero(~np.isfinite(self.aux))} "
                           "non-finite value(s)")
        model, sn, S, R = self.pt.model, self.slots * self.n, self.slots, self.R
        fields = self.aux[:sn].reshape(S, self.n)
        energies = self.aux[sn:sn + S]
        states = self.states
        if not self.ising and model.dtype != np.float64:
            exact = self.aux[sn + S + 4 * R:].reshape(S, self.n)  # the sampler's float64 states
            self._check_spins(exact, "the float64 states in 'aux'")
            if exact.astype(model.dtype).tobytes() != states.tobytes():
                raise self.bad("the float64 states in 'aux' do not round to dataset 'states'")
            states = exact.astype(model.dtype)
        self._close(fields, np.asarray(model.local_fields(states), dtype=np.float64), "the cached local fields")
        self._close(energies, np.asarray(model.energy(states), dtype=np.float64), "the cached energies")
        if not self.ising:
            steps = self.aux[sn + S:sn + S + R]
            if not np.all(steps > 0):
                raise self.bad(f"the HMC step sizes in 'aux' must be positive, got {steps}")

    def _check_ladder(self) -> None:
        betas = self.betas
        if not (np.all(np.isfinite(betas)) and np.all(betas > 0)):
            raise self.bad(f"dataset 'betas' must be finite and positive, got {betas}")
        if np.any(np.diff(betas) >= 0):
            raise self.bad(f"dataset 'betas' must decrease (temperatures ascending), got {betas}")
        expected = 1.0 / self.pt.requested_temperatures
        if self.pt.adaptive:
            ends = betas[[0, -1]]
            if not np.allclose(ends, expected[[0, -1]], rtol=1e-12, atol=0):
                raise self.bad(f"dataset 'betas' ends at {ends}, the ladder's end points give {expected[[0, -1]]}")
        elif not np.array_equal(betas, expected):
            raise self.bad(f"dataset 'betas' {betas} is not 1/T of the temperatures {self.pt.requested_temperatures}")
        labels = self.temp_of_slot.reshape(self.K, self.R)
        for k in range(self.K):
            if not np.array_equal(np.sort(labels[k]), np.arange(self.R)):
                raise self.bad(f"dataset 'temp_of_slot' is not a permutation of the temperatures in ladder {k}: {labels[k]}")

    def _check_counters(self, arrays: dict[str, np.ndarray]) -> None:
        held, K = self.held, self.K
        attempts, accepts = self.stats["attempts"], self.stats["accepts"]
        # Pair r of each ladder tries a swap after every sweep of r's parity.
        expected = np.array([K * ((held + 1) // 2 if r % 2 == 0 else held // 2) for r in range(self.R - 1)],
                            dtype=np.uint64)
        if not np.array_equal(attempts, expected):
            raise self.bad(f"the swap attempts {attempts} do not match sweeps_done = {held} (expected {expected})")
        if np.any(accepts > attempts):
            raise self.bad(f"more swaps accepted {accepts} than attempted {attempts}")
        if not np.all(np.isin(self.stats["phase"], (0, 1, 2))):
            raise self.bad(f"dataset 'stats/phase' holds values other than 0, 1, 2: {self.stats['phase']}")
        if not self.ising:
            sn, S, R = self.slots * self.n, self.slots, self.R
            tries = self.aux[sn + S + R:sn + S + 2 * R]
            if not np.array_equal(tries, np.full(R, float(K * held))):
                raise self.bad(f"the HMC trajectory counts {tries} do not match sweeps_done = {held} ({K * held} each)")
        burn_in = self.params["burn_in"]
        at_burn_in = any(k.startswith("stats_at_burn_in/") for k in arrays)
        if burn_in > 0 and held >= burn_in and not at_burn_in:
            raise self.bad(f"it lacks the statistics at the end of burn-in (sweeps_done = {held} >= burn_in = {burn_in})")
        if at_burn_in and held < burn_in:
            raise self.bad(f"it holds statistics at the end of burn-in but sweeps_done = {held} < burn_in = {burn_in}")
        for key, value in arrays.items():
            if key.startswith(("stats_at_burn_in/", "last_tune/")) and not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
                raise self.bad(f"dataset {key!r} holds non-finite values")

    def check_series(self, energies: np.ndarray, overlaps: np.ndarray, snapshots: np.ndarray,
                     snapshot_sweeps: np.ndarray) -> None:
        """The series against the sweep count and run parameters, and their values."""
        held, burn_in, every = self.held, self.params["burn_in"], self.params["sample_every"]
        R, K = self.R, self.K
        expected = max(0, held // every - burn_in // every)
        if energies.shape[0] != expected or overlaps.shape[0] != expected:
            raise self.bad(
                f"it holds {energies.shape[0]} samples, but sweeps_done = {held}, burn_in = {burn_in} and "
                f"sample_every = {every} give {expected}"
            )
        if energies.shape[1:] != (R, K) or overlaps.shape[1:] != (R, K * (K - 1) // 2):
            raise self.bad(f"its samples have shapes {energies.shape[1:]} and {overlaps.shape[1:]}")
        if not np.all(np.isfinite(energies)):
            raise self.bad(f"its energy series holds {np.count_nonzero(~np.isfinite(energies))} non-finite value(s)")
        if not np.all(np.abs(overlaps) <= 1 + 1e-6):  # NaN fails too
            raise self.bad("its overlap series holds values outside [-1, 1] or not finite")
        if expected and held % every == 0 and held > burn_in:
            # The last sample was taken at sweeps_done: its energies are the cached ones.
            cached = self.aux[self.slots * self.n:self.slots * self.n + self.slots]
            now = np.empty((R, K))
            for slot, t in enumerate(self.temp_of_slot):
                now[t, slot // R] = cached[slot]
            if now.tobytes() != np.ascontiguousarray(energies[-1], dtype=np.float64).tobytes():
                raise self.bad("the last recorded energies differ from those of the saved states (series of another save?)")
        snapshot_every = self.params["snapshot_every"]
        shots = (np.arange(burn_in // snapshot_every + 1, held // snapshot_every + 1, dtype=np.int64) * snapshot_every
                 if snapshot_every else np.empty(0, np.int64))
        if len(snapshot_sweeps) != shots.size or not np.array_equal(np.asarray(snapshot_sweeps), shots):
            raise self.bad(
                f"it holds {len(snapshot_sweeps)} snapshots, but sweeps_done = {held}, burn_in = {burn_in} and "
                f"snapshot_every = {snapshot_every} give {shots.size}"
            )
        if shots.size:
            dtype = self.pt._snapshot_dtype()
            if snapshots.dtype != dtype or snapshots.shape[1:] != (R, K, self.n):
                raise self.bad(f"its snapshots are {snapshots.dtype}{list(snapshots.shape[1:])}, expected {dtype}")
            self._check_spins(snapshots, "its snapshot series")
            if shots[-1] == held:
                now = np.empty((R, K, self.n), dtype=dtype)
                for slot, t in enumerate(self.temp_of_slot):
                    now[t, slot // R] = self.states[slot]
                if now.tobytes() != snapshots[-1].tobytes():
                    raise self.bad("the last snapshot differs from the saved states (series of another save?)")
