"""Ising landscape: zero-temperature single-flip descent and exact enumeration.

Convention: ``h_i = -dH/ds_i``; flipping spin i changes the energy by
``dE_i = 2 s_i h_i``. A state is *one-flip stable* (a local minimum for single
flips) when every ``dE_i >= 0``. A flip with ``dE_i == 0`` is never taken, and a
state with such ties counts as stable (ties have probability zero for Gaussian
couplings). Degrees 2 and 3 are supported, pure or mixed.
"""

from __future__ import annotations

import math
import time
from dataclasses import field
from typing import Any

import numpy as np

from .. import _core, _seed, _validate
from .._deprecate import renamed
from .._memory import require_memory
from .._results import RUN_INFO, Result, RunClock, axes, result_type
from ..models import IsingPSpin
from ._progress import progress_bar
from ._results import Minima
from ._starts import initial_states

# The allowed method names (their only list) and the core's enum for each.
_CORE_METHODS = {"greedy": _core.IsingMethod.Greedy, "random": _core.IsingMethod.Random}
METHODS = tuple(_CORE_METHODS)
SUPPORTED_DEGREES = (2, 3)

# Seed purpose of the random sweep orders (the model uses 0 and 1; fixed forever,
# since results depend on it).
_SWEEP_ORDERS = 16

# Measured on the 2-core reference machine, per thread (bench/bench_ising_landscape.py):
# the p = 2 walk visits ~1.0e8 configurations/s; with degree 3, ~6e7/s at n = 24, falling
# roughly as 1/n beyond. Used for cost estimates and call slicing only.
_RATE_P2 = 1.0e8
_RATE_P3_N24 = 6.0e7

# Slices of work per C++ call, so Ctrl-C is answered between calls.
_SLICE_SECONDS = 0.3
# Beyond this many stable states the couplings are degenerate (e.g. all zero).
_MAX_STATES = 10_000_000


@result_type
class LocalMinima(Result):
    """All one-flip-stable states of an Ising model, from exact enumeration.

    Attributes
    ----------
    states : ndarray (count, n) of int8
        The stable configurations (+1/-1), sorted by energy (ties by configuration).
        For models without odd degrees both s and -s are listed. int8, as the name of
        the dtype says: 2^n-state walks can list millions of states.
    energies : ndarray (count,) of float64
        Total energies H, ascending.
    count : int
        Number of one-flip-stable states.
    n : int
        Number of spins.
    visited : int
        Configurations the Gray-code walk visited: 2^n, or 2^(n-1) when the s -> -s
        symmetry lets it walk half of them.
    seconds : float
        Wall time of the walk.
    params : dict
        Parameters and the model's seed (``model_seed_entropy``, ``model_seed_spawn_key``).
    """

    states: np.ndarray
    energies: np.ndarray
    count: int
    n: int
    visited: int = 0
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    run_info: dict[str, Any] = RUN_INFO

    @property
    def energy_per_spin(self) -> np.ndarray:
        """Energies per spin, H/n."""
        return self.energies / self.n

    @property
    def states_per_second(self) -> float:
        """Configurations visited per second of wall time."""
        return self.visited / self.seconds if self.seconds > 0 else float("inf")

    def __len__(self) -> int:
        return self.count

    def _table(self) -> dict[str, np.ndarray]:
        return {"energy_per_spin": self.energy_per_spin}

    def plot(self, ax: Any = None) -> Any:
        """Histogram of the energies per spin of the one-flip-stable states."""
        ax = axes(ax)
        ax.hist(self.energy_per_spin, bins="auto")
        ax.set_xlabel("energy per spin")
        ax.set_ylabel("one-flip-stable states")
        ax.set_title(f"{self.count} local minima, n = {self.n}")
        return ax


def _check_model(model: Any, what: str) -> IsingPSpin:
    if not isinstance(model, IsingPSpin):
        raise TypeError(f"{what} needs an IsingPSpin model, got {type(model).__name__}")
    unsupported = [d for d in model.degrees if d not in SUPPORTED_DEGREES]
    if unsupported:
        raise ValueError(
            f"{what} supports degrees {SUPPORTED_DEGREES} (pure or mixed); the model has degrees "
            f"{model.degrees}"
        )
    return model


def _dense(model: IsingPSpin) -> Any:
    """The C++ dense couplings, after checking they fit in memory."""
    n = model.n
    entries = (n * n if 2 in model.degrees else 0) + (
        n * n * (n - 1) // 2 if 3 in model.degrees else 0
    )
    require_memory(
        entries * model.dtype.itemsize,
        f"the dense couplings of the Ising landscape kernels (n = {n}, degrees {list(model.degrees)}; "
        f"{'n^2 (n-1)/2' if 3 in model.degrees else 'n^2'} entries of {model.dtype})",
    )
    # Any: the kernel's precision follows the couplings' (F64 with F64), which the types
    # cannot express; both kernels share one interface.
    cls: Any = _core.IsingDenseF64 if model.dtype == np.float64 else _core.IsingDenseF32
    return cls(model._couplings)


def _flip_cost(model: IsingPSpin) -> float:
    """Multiply-adds of one incremental field update."""
    n = model.n
    return (n if 2 in model.degrees else 0) + (n * n if 3 in model.degrees else 0)


def minimize_ising(
    model: IsingPSpin,
    n_starts: int | None = None,
    *,
    method: str = "greedy",
    max_iter: int | None = None,
    seed: _seed.SeedLike = None,
    initial: Any = None,
    record_every: int = 0,
    progress: bool = False,
    max_sweeps: int | None = None,
) -> Minima:
    """Zero-temperature single-flip descent to one-flip-stable states, from many starts.

    Parameters
    ----------
    model : IsingPSpin
        Degrees 2 and/or 3. The kernels keep dense symmetric couplings for per-spin
        access: n^2 values for degree 2 and n^2 (n-1)/2 for degree 3 (float64: 0.5 GB
        at n = 500, 4 GB at n = 1000); a MemoryError says so before anything is allocated.
    n_starts : int, optional
        Number of random starts (uniform +-1, from ``seed``). May be omitted when
        ``initial`` is given.
    method : {'greedy', 'random'}
        'greedy': flip the spin with the largest energy decrease, one flip per
        iteration (ties: lowest index). 'random': sweep over the spins in a random
        order (a new order every sweep, from the seed, per start) and flip every spin
        whose flip lowers the energy; one sweep per iteration. Both stop when no flip
        lowers the energy.
    max_iter : int, optional
        Budget per start in sweeps: ``max_iter`` sweeps ('random') or ``max_iter * n``
        flips ('greedy'); default 1000. Descents need far fewer (about n/3 flips, or ~10
        sweeps).
    seed : None, int, SeedSequence or Generator
        Seed of the random starts and of the sweep orders.
    initial : array (n_starts, n) or (n,), optional
        Starting configurations of +1/-1.
    record_every : int
        Record the energy per spin every this many iterations (0: no trajectory).
    progress : bool
        Show a tqdm progress bar of the starts done (if tqdm is installed).
    max_sweeps : int, optional
        Deprecated name of ``max_iter`` (DeprecationWarning; goes in pspin 0.2).

    Returns
    -------
    Minima
        ``unstable_spins`` is the number of spins whose flip lowers the energy (0 at a
        one-flip-stable state), counted with fields recomputed from scratch;
        ``converged`` is True exactly when it is 0. ``grad_norm`` holds the same counts
        (docs/conventions.md). ``states`` are float64 +1/-1. ``iterations`` counts flips
        ('greedy') or sweeps ('random', including the final sweep without flips).
        Energies are recomputed from scratch, not accumulated. The result is
        bit-identical for any thread count.

    Examples
    --------
    >>> import pspin
    >>> m = pspin.landscape.minimize_ising(pspin.IsingPSpin(32, 2, seed=1), 4, seed=2)
    >>> m.energies.shape, bool(m.converged.all())
    ((4,), True)
    """
    clock = RunClock()
    max_iter = renamed(max_sweeps, max_iter, "max_sweeps", "max_iter", "minimize_ising")
    model = _check_model(model, "minimize (Ising)")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"unknown method {method!r} for Ising models; allowed: {METHODS}")
    max_sweeps = _validate.positive_int(1000 if max_iter is None else max_iter, "max_iter")
    record_every = _validate.positive_int(record_every, "record_every", minimum=0)
    n = model.n
    states, seq = initial_states(model, n_starts, initial, seed)
    if initial is not None:
        _validate.ising_spins(states, "initial")
    states = np.ascontiguousarray(states, dtype=model.dtype)
    b = states.shape[0]
    max_iterations = max_sweeps * n if method == "greedy" else max_sweeps
    dense = _dense(model)
    order_key = _seed.key64(seq, _SWEEP_ORDERS)

    # Starts per call: about _SLICE_SECONDS of work (a descent makes ~n field updates and
    # two fresh field computations). Results do not depend on the slicing: each start's
    # sweep orders are keyed by its global number, and fresh fields are computed lane by lane.
    per_start = 2.0 * n * (n + _flip_cost(model)) / 1e9
    threads = _core.max_threads()
    step = max(threads, int(_SLICE_SECONDS * threads / per_start))
    parts = []
    with progress_bar(progress, total=b, desc=f"minimize ({method})", unit="start") as bar:
        for begin in range(0, b, step):
            end = min(b, begin + step)
            parts.append(
                dense.descend(
                    model._couplings,
                    states[begin:end],
                    begin,
                    _CORE_METHODS[method],
                    max_iterations,
                    record_every,
                    order_key,
                )
            )
            bar.update(end - begin)
    final, energies, unstable, converged, iterations, trajectories = (
        [part[k] for part in parts] for k in range(6)
    )
    trajectory = None
    if record_every:
        width = max(t.shape[1] for t in trajectories)
        trajectory = np.full((b, width), np.nan)
        row = 0
        for t in trajectories:
            trajectory[row : row + t.shape[0], : t.shape[1]] = t
            row += t.shape[0]
    unstable_spins = np.concatenate(unstable).astype(np.int64)
    return Minima(
        # float64 like every other Minima (exact for +-1); the kernels work in the model's dtype.
        states=np.concatenate(final).astype(np.float64),
        energies=np.concatenate(energies),
        grad_norm=unstable_spins,
        converged=np.concatenate(converged),
        iterations=np.concatenate(iterations).astype(np.int64),
        trajectory=trajectory,
        method=method,
        params={
            "model": repr(model),
            "method": method,
            "n_starts": b,
            "max_iter": max_sweeps,
            "max_iterations": max_iterations,
            "iteration_unit": "flip" if method == "greedy" else "sweep",
            "record_every": record_every,
            "initial_given": initial is not None,
            **_seed.record(seq),
            **_seed.model_record(model),
        },
        unstable_spins=unstable_spins,
        run_info=clock.info(),
    )


def enumeration_cost(model: IsingPSpin, threads: int | None = None) -> tuple[int, float]:
    """Configurations the exact enumeration visits, and its estimated wall time in seconds.

    The time uses single-thread rates measured on the 2-core reference machine (~1e8
    configurations/s for p = 2; with degree 3 ~6e7/s at n = 24, falling as ~1/n),
    divided by ``threads`` (default: pspin's thread count).

    Parameters
    ----------
    model : IsingPSpin
        The model to be enumerated.
    threads : int, optional
        Threads the enumeration will use (default: pspin's thread count).

    Examples
    --------
    >>> import pspin
    >>> configurations, seconds = pspin.landscape.enumeration_cost(pspin.IsingPSpin(20, 2, seed=1))
    >>> configurations  # s and -s are equivalent for p = 2: half of 2^20
    524288
    """
    model = _check_model(model, "enumeration_cost")
    threads = _core.max_threads() if threads is None else _validate.positive_int(threads, "threads")
    n = model.n
    visited = 2 ** (n - 1) if 3 not in model.degrees else 2**n
    rate = _RATE_P2 if 3 not in model.degrees else _RATE_P3_N24 * 24.0 / max(n, 8)
    return visited, visited / (rate * threads)


def enumerate_local_minima(
    model: IsingPSpin, *, max_n: int = 32, progress: bool = False
) -> LocalMinima:
    """All one-flip-stable states of an Ising model, by exact enumeration.

    Walks all 2^n configurations in Gray-code order (one spin flip and one
    incremental update of the local fields per configuration), in parallel over
    tasks that fix the highest spins. Without odd degrees, s and -s are equivalent:
    only s_{n-1} = +1 is walked and each state found is listed with its mirror
    image. A configuration is stable when every ``dE_i = 2 s_i h_i >= 0``; any
    configuration within rounding of that is re-checked with fields summed from
    scratch, so the answer does not rest on accumulated rounding. The set of
    states is identical for any thread count.

    Parameters
    ----------
    model : IsingPSpin
        Degrees 2 and/or 3 (pure or mixed).
    max_n : int
        Refuse larger models (the cost doubles per spin: n = 32 takes tens of
        seconds for p = 2 on two cores). Raise it deliberately; the hard limit is 62.
    progress : bool
        Show a tqdm progress bar (if tqdm is installed).

    Returns
    -------
    LocalMinima
        ``states`` (count, n) int8, ``energies`` (count,), ``count``, ``n``.

    Examples
    --------
    >>> import pspin
    >>> lm = pspin.enumerate_local_minima(pspin.IsingPSpin(10, 2, seed=1))
    >>> lm.count, lm.states.shape
    (12, (12, 10))
    """
    clock = RunClock()
    model = _check_model(model, "enumerate_local_minima")
    max_n = _validate.positive_int(max_n, "max_n")
    n = model.n
    visited, seconds = enumeration_cost(model)
    if n > min(max_n, 62):
        limit = "the hard limit is n = 62" if n > 62 else f"pass max_n >= {n} to run it anyway"
        raise ValueError(
            f"exact enumeration of n = {n} spins visits {visited:.3g} configurations, estimated "
            f"{_duration(seconds)} with {_core.max_threads()} thread(s); the limit is max_n = {max_n} "
            f"({limit})"
        )
    dense = _dense(model)
    walker = _core.IsingEnumerator(dense)
    n_tasks = walker.n_tasks
    step = max(1, math.ceil(n_tasks * _SLICE_SECONDS / max(seconds, 1e-9)))
    codes = []
    found = 0
    start = time.perf_counter()
    with progress_bar(progress, total=n_tasks, desc="enumerate") as bar:
        for begin in range(0, n_tasks, step):
            end = min(n_tasks, begin + step)
            allowed = _MAX_STATES - found
            part = walker.run(begin, end, allowed)
            if part.size > allowed:
                raise ValueError(
                    f"more than {_MAX_STATES:,} one-flip-stable states (degenerate couplings, e.g. many "
                    "exact ties dE_i = 0, which count as stable); refusing to list them"
                )
            found += part.size
            codes.append(part)
            bar.update(end - begin)
    seconds = time.perf_counter() - start
    code = np.concatenate(codes) if codes else np.zeros(0, np.uint64)
    if walker.mirror:
        code = np.concatenate([code, code ^ np.uint64((1 << n) - 1)])
    bits = (code[:, None] >> np.arange(n, dtype=np.uint64)) & np.uint64(1)
    states = (1 - 2 * bits.astype(np.int8)).astype(np.int8)
    energies = model.energy(states) if len(code) else np.zeros(0)
    order = np.lexsort((code, energies))
    return LocalMinima(
        states=states[order],
        energies=energies[order],
        count=int(code.size),
        n=n,
        visited=int(walker.n_tasks * walker.states_per_task),
        seconds=seconds,
        params={
            "model": repr(model),
            "max_n": max_n,
            "tie_rule": "dE_i >= 0 for all i (ties stable)",
            **_seed.model_record(model),
        },
        run_info=clock.info(),
    )


def _duration(seconds: float) -> str:
    for unit, size in (("years", 3.15e7), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"about {seconds / size:.3g} {unit}"
    return f"about {seconds:.3g} s"
