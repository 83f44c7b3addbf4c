"""Disorder farms: one model and one run per disorder sample, on any executor.

:func:`farm` builds sample ``i``'s model with ``make_model(seed=model_seed_i)`` and runs
``job(model, seed=run_seed_i)`` on it, for every sample, on a
:class:`concurrent.futures.Executor` (none, a process pool, ``mpi4py.futures``, Dask's
``client.get_executor()``) or in this process. Both seeds come from the root seed by
:func:`pspin._seed.sample_seeds`, as the command line's ``--sample-index``, so the
numbers depend only on the root seed and the index, never on the executor, the number
of workers or the order in which samples finish. See docs/farm.md.

Nothing here imports mpi4py: :func:`pspin.mpi.executor` gives the MPI executor.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import numbers
import os
import pickle
import re
import signal
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import _seed
from ._results import RUN_INFO, Result, RunClock, _is_model, result_type
from ._validate import positive_int

__all__ = ["DisorderAverage", "FarmError", "FarmResult", "FarmSample", "disorder_average", "farm"]

_PICKLE_HINT = "use functools.partial or a module-level function (lambdas and local functions do not pickle)"


class FarmError(RuntimeError):
    """A disorder sample's model or job raised; ``sample`` is its index, ``__cause__`` the error."""

    def __init__(self, sample: int, message: str) -> None:
        super().__init__(message)
        self.sample = sample

    def __reduce__(self) -> Any:
        return (type(self), (self.sample, str(self)))


# ---------------------------------------------------------------- results
@result_type
class FarmSample(Result):
    """One disorder sample of a farm: its index, model, seeds and the job's result.

    Attributes
    ----------
    index : int
        The disorder sample's index ``i`` (its seeds are the root seed's children ``(i, 0)``
        and ``(i, 1)``).
    model : dict
        ``model.spec()`` of the sample's model: class, n, coefficients, dtype, ensemble,
        seed and the SHA-256 of the couplings (:func:`pspin.models.from_spec` rebuilds it).
    result : Result
        What ``job(model, seed=...)`` returned.
    params : dict
        ``sample``, the sample's seeds as strings (``model_seed_entropy``,
        ``model_seed_spawn_key``: the couplings; ``seed_entropy``, ``seed_spawn_key``: the
        run) and ``make_model`` and ``job``, descriptions of the callables (their repr
        without memory addresses), which a resumed farm checks.
    run_info : dict
        Start, end and wall time of the sample, host, process id (not compared by ``==``).
    """

    index: int
    model: dict[str, Any]
    result: Any
    params: dict[str, Any]
    run_info: dict[str, Any] = RUN_INFO


@result_type
class FarmResult(Result):
    """What :func:`farm` returns: every sample's :class:`FarmSample`, in sample order.

    Attributes
    ----------
    samples : tuple of FarmSample
        One per disorder sample run (or resumed from ``out``), by increasing index.
    params : dict
        ``seed_entropy`` and ``seed_spawn_key`` of the root seed (strings), ``n_samples``
        (the farm's size; ``samples`` may hold a range of it), ``make_model`` and ``job``
        (descriptions).
    run_info : dict
        Start, end and wall time, host, version, executor, workers, threads and timeout
        (not compared by ``==``: a farm equals itself whatever ran it).
    """

    samples: tuple[FarmSample, ...]
    params: dict[str, Any]
    run_info: dict[str, Any] = RUN_INFO

    @property
    def results(self) -> list[Any]:
        """The job's result of every sample, in sample order."""
        return [s.result for s in self.samples]

    @property
    def indices(self) -> np.ndarray:
        """The disorder sample indices, int64, increasing."""
        return np.array([s.index for s in self.samples], dtype=np.int64)

    @property
    def models(self) -> list[dict[str, Any]]:
        """``model.spec()`` of every sample (:func:`pspin.models.from_spec` rebuilds each)."""
        return [s.model for s in self.samples]

    @property
    def seeds(self) -> list[dict[str, str]]:
        """Every sample's seeds as strings: ``model_seed_entropy``, ``model_seed_spawn_key``,
        ``seed_entropy``, ``seed_spawn_key`` (:func:`pspin._seed.from_record` reads them)."""
        keys = ("model_seed_entropy", "model_seed_spawn_key", "seed_entropy", "seed_spawn_key")
        return [{k: s.params[k] for k in keys} for s in self.samples]

    def average(self, quantity: Callable[[Any], Any], *, combine: Callable[..., Any] | None = None) -> DisorderAverage:
        """The disorder average of ``quantity`` with its error: :func:`disorder_average` (self, ...)."""
        return disorder_average(self, quantity, combine=combine)

    def _table(self) -> dict[str, np.ndarray]:
        return {
            "index": self.indices,
            "wall_seconds": np.array([float(s.run_info.get("wall_seconds", np.nan)) for s in self.samples]),
        }


@result_type
class DisorderAverage(Result):
    """A disorder average and its error (:func:`disorder_average`).

    Attributes
    ----------
    mean : float or ndarray
        The mean over samples of ``quantity`` or, with ``combine``, the jackknife
        (bias-corrected) estimate of ``combine(<a>, <b>, ...)``.
    error : float or ndarray
        The standard error over samples, ``std(ddof=1) / sqrt(n_samples)``, or the
        delete-one jackknife error.
    n_samples : int
    values : ndarray
        Per-sample values, float64, samples on the first axis: ``(n_samples, ...)``, or
        ``(n_samples, k, ...)`` for ``k`` series with ``combine``.
    params : dict
        ``method`` ("mean" or "jackknife") and ``samples`` (the indices, as a list).
    """

    mean: Any
    error: Any
    n_samples: int
    values: np.ndarray
    params: dict[str, Any]
    run_info: dict[str, Any] = RUN_INFO


def disorder_average(
    farm_result: FarmResult | Iterable[Any],
    quantity: Callable[[Any], Any],
    *,
    combine: Callable[..., Any] | None = None,
) -> DisorderAverage:
    """Average ``quantity`` of each sample's result over disorder, with its error.

    Parameters
    ----------
    farm_result : FarmResult or iterable of results
        A farm, or the per-sample results themselves.
    quantity : callable
        ``quantity(result)`` of one sample's result: a float or an array (the same shape
        for every sample). With ``combine``: a tuple of ``k`` such values, the series
        whose disorder means ``combine`` takes.
    combine : callable, optional
        A nonlinear function of disorder means, ``combine(mean_a, mean_b, ...)``, written
        with numpy operations as for :func:`pspin.analysis.jackknife` (e.g. a Binder
        ratio ``lambda q4, q2: q4 / q2**2``). Its estimate and error come from the
        delete-one jackknife over samples, which is what a ratio of disorder averages
        needs (its error is not the error of either mean).

    Returns
    -------
    DisorderAverage
        ``mean`` and ``error`` (floats for scalar quantities, else arrays), ``n_samples``
        and the per-sample ``values``.

    Raises
    ------
    ValueError
        Fewer than two samples (no error can be estimated), values of different shapes,
        or a NaN or infinite value (the samples that have one are named).
    TypeError
        ``quantity`` or ``combine`` not callable.

    Examples
    --------
    >>> import functools, pspin
    >>> farm = pspin.farm(functools.partial(pspin.SphericalPSpin, 16, 3),
    ...                   functools.partial(pspin.minimize, n_starts=4), 3, seed=1)
    >>> avg = farm.average(lambda m: m.energy_per_spin.min())
    >>> avg.n_samples, avg.mean < 0, avg.error > 0
    (3, True, True)
    """
    if not callable(quantity):
        raise TypeError(f"quantity must be callable (result -> float or array), got {type(quantity).__name__}")
    if combine is not None and not callable(combine):
        raise TypeError(f"combine must be callable or None, got {type(combine).__name__}")
    if isinstance(farm_result, FarmResult):
        results, indices = farm_result.results, [s.index for s in farm_result.samples]
    else:
        results = list(farm_result)
        indices = list(range(len(results)))
    if len(results) < 2:
        raise ValueError(f"a disorder average with an error needs at least 2 samples, got {len(results)}")
    rows = []
    for result in results:
        value = quantity(result)
        rows.append(np.stack([np.asarray(v, dtype=np.float64) for v in value]) if combine is not None
                    else np.asarray(value, dtype=np.float64))
    shapes = {r.shape for r in rows}
    if len(shapes) != 1:
        raise ValueError(f"quantity gave values of different shapes over the samples: {sorted(shapes)}")
    values = np.stack(rows)
    bad = [i for i, r in zip(indices, rows) if not np.all(np.isfinite(r))]
    if bad:
        raise ValueError(f"quantity is NaN or infinite for sample(s) {_ranges(bad)}")
    n = values.shape[0]
    if combine is None:
        mean: Any = values.mean(axis=0)
        error: Any = values.std(axis=0, ddof=1) / math.sqrt(n)
        method = "mean"
    else:
        from .analysis import jackknife

        series = [np.moveaxis(values[:, k], 0, -1) for k in range(values.shape[1])]
        jk = jackknife(combine, *series, n_blocks=n)
        mean, error, method = np.asarray(jk.estimate, dtype=np.float64), np.asarray(jk.error, dtype=np.float64), "jackknife"
    if np.ndim(mean) == 0:
        mean, error = float(mean), float(error)
    return DisorderAverage(mean=mean, error=error, n_samples=n, values=values,
                           params={"method": method, "samples": [int(i) for i in indices]})


# ---------------------------------------------------------------- the worker side
def _run_sample(make_model: Callable[..., Any], job: Callable[..., Any], index: int,
                model_seed: np.random.SeedSequence, run_seed: np.random.SeedSequence,
                threads: int | None, described: dict[str, str]) -> FarmSample:
    """One sample, where the executor runs it: build the model, run the job, wrap both."""
    import pspin

    clock = RunClock()
    with pspin.threads(threads) if threads else contextlib.nullcontext():
        model = make_model(seed=model_seed)
        if not _is_model(model):
            raise TypeError(f"make_model returned a {type(model).__name__}, not a pspin model")
        result = job(model, seed=run_seed)
    if not isinstance(result, Result):
        raise TypeError(f"job returned a {type(result).__name__}; a farm collects pspin results "
                        f"(Minima, Census, PTResult, ...), which save and load")
    params = {"sample": index, **_seed.record(model_seed, "model_seed"), **_seed.record(run_seed), **described}
    return FarmSample(index=index, model=model.spec(), result=result, params=params,
                      run_info={**clock.info(), "pid": os.getpid()})


# ---------------------------------------------------------------- the farm
def farm(
    make_model: Callable[..., Any],
    job: Callable[..., Any],
    n_samples: int,
    *,
    seed: _seed.SeedLike,
    executor: concurrent.futures.Executor | None = None,
    samples: Any = None,
    out: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    threads: int | None = None,
    progress: bool = False,
    on_result: Callable[[FarmSample], Any] | None = None,
) -> FarmResult:
    """Run ``job`` on ``n_samples`` disorder samples, each with its own seeded model.

    Sample ``i`` gets the model ``make_model(seed=model_seed_i)`` and the result
    ``job(model, seed=run_seed_i)``. Its seeds are the children ``(i, 0)`` and ``(i, 1)``
    of the root seed's ``i``-th spawn (:func:`pspin._seed.sample_seeds`), exactly as
    ``pspin <command> run.toml --sample-index i`` seeds it, so the result is bit-identical
    for every executor, worker count and completion order.

    Parameters
    ----------
    make_model : callable
        ``make_model(seed=...)`` -> a pspin model, e.g.
        ``functools.partial(pspin.SphericalPSpin, 200, 3)``.
    job : callable
        ``job(model, seed=...)`` -> a pspin result, e.g.
        ``functools.partial(pspin.minimize, n_starts=64)``, ``functools.partial(
        pspin.entropy.census, n_starts=500)`` or a module-level function that runs
        tempering or an enumeration.
    n_samples : int
        Disorder samples in the farm (>= 1).
    seed : None, int, SeedSequence or Generator
        The root seed (required, by keyword). None draws fresh entropy, recorded in
        ``params["seed_entropy"]``; it cannot be used with ``out`` (a resumed farm must
        find the same seeds).
    executor : concurrent.futures.Executor, optional
        Where samples run: None (default) runs them here, one after the other, with no
        pool; a ``ProcessPoolExecutor``, ``mpi4py.futures.MPIPoolExecutor`` (or
        ``MPICommExecutor``, :func:`pspin.mpi.executor`), Dask's ``client.get_executor()`` or
        anything with ``submit`` returning :class:`concurrent.futures.Future`. The
        executor is not shut down. With process and MPI executors ``make_model`` and
        ``job`` travel by pickle: use ``functools.partial`` of pspin functions or
        module-level functions, not lambdas.
    samples : range, slice, "A:B" or sequence of int, optional
        Run only these sample indices (default: all of ``range(n_samples)``), e.g. one
        task of a job array; the result holds only them.
    out : str or path-like, optional
        A directory (created if needed) that gets ``sample-NNNNN.h5``, the sample's
        :class:`FarmSample`, as soon as each sample finishes, written atomically (a
        killed farm leaves whole files only). A farm given the same directory resumes: a
        sample whose file loads (its SHA-256 seal checked) is read, not run again; an
        unreadable file is redone with a warning; a file from another farm (other seeds
        or callables) is a ValueError naming it.
    timeout : float, optional
        Seconds for the whole farm, from the call. On expiry: ``TimeoutError`` naming
        the samples not finished, after cancelling those not started (files of finished
        samples stay in ``out``). Without an executor the running sample is stopped
        (SIGALRM, in the main thread on POSIX; elsewhere the check is between samples);
        a sample already running in a worker cannot be stopped from here and finishes
        there.
    threads : int, optional
        OpenMP threads per sample (``pspin.threads`` around the model and the job, in the
        worker); default: as the worker's environment (``OMP_NUM_THREADS``) says.
    progress : bool
        A tqdm bar of finished samples (needs tqdm).
    on_result : callable, optional
        ``on_result(farm_sample)``, called here (not in the worker) as each sample
        finishes, in completion order; after its file is written.

    Returns
    -------
    FarmResult
        Every sample's :class:`FarmSample` (index, model spec, seeds, result), in sample
        order; ``.results`` lists the job's results and ``.average(fn)`` averages over
        disorder.

    Raises
    ------
    TypeError, ValueError
        Bad arguments, before any work: callables that are not callable or (for process
        and MPI executors) do not pickle, an ``n_samples`` that is not a positive int, a
        missing ``seed``, an executor without ``submit``, indices out of range.
    FarmError
        A sample's ``make_model`` or ``job`` raised (or returned something else than a
        model and a pspin result): the message names the sample and the error, which is
        the ``__cause__``. Samples not started are cancelled; finished ones are in ``out``.
    TimeoutError
        ``timeout`` passed; the message names the samples not finished.

    Examples
    --------
    >>> import functools, pspin
    >>> result = pspin.farm(functools.partial(pspin.SphericalPSpin, 16, 3),
    ...                     functools.partial(pspin.minimize, n_starts=4), 3, seed=1)
    >>> [s.index for s in result.samples], type(result.results[0]).__name__
    ([0, 1, 2], 'Minima')
    """
    if not callable(make_model):
        raise TypeError(f"make_model must be callable (make_model(seed=...) -> model), got {type(make_model).__name__}")
    if not callable(job):
        raise TypeError(f"job must be callable (job(model, seed=...) -> result), got {type(job).__name__}")
    n_samples = positive_int(n_samples, "n_samples")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor (with submit) or None, got {type(executor).__name__}")
    indices = _indices(samples, n_samples)
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not 0 < float(timeout) < math.inf:
            raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        timeout = float(timeout)
    if threads is not None:
        threads = positive_int(threads, "threads")
    if on_result is not None and not callable(on_result):
        raise TypeError(f"on_result must be callable or None, got {type(on_result).__name__}")
    if seed is None and out is not None:
        raise ValueError("a farm writing to out= needs a fixed seed, so that a resumed farm finds the same samples")
    directory = _out_directory(out)
    if executor is not None and _pickles_callables(executor):
        for name, value in (("make_model", make_model), ("job", job)):
            try:
                pickle.dumps(value)
            except Exception as exc:  # noqa: BLE001 - pickle raises several types
                raise TypeError(f"{name} must pickle to reach the workers of {type(executor).__name__} ({exc}): "
                                f"{_PICKLE_HINT}") from None

    clock = RunClock()
    start = time.monotonic()
    root = _seed.as_seed_sequence(seed)
    described = {"make_model": _describe_callable(make_model), "job": _describe_callable(job)}
    collected: dict[int, FarmSample] = {}
    todo = []
    for i in indices:
        old = _resumed(directory, i, root, described) if directory is not None else None
        if old is None:
            todo.append(i)
        else:
            collected[i] = old

    from .landscape._progress import progress_bar

    with progress_bar(progress, total=len(indices), initial=len(collected), desc="farm", unit="sample") as bar:

        def finish(done: FarmSample) -> None:
            if directory is not None:
                done.save(_sample_file(directory, done.index))
            collected[done.index] = done
            if on_result is not None:
                on_result(done)
            bar.update(1)

        deadline = None if timeout is None else start + timeout
        tasks = [(i, *_seed.sample_seeds(root, i)) for i in todo]
        if executor is None:
            _run_here(make_model, job, tasks, threads, described, finish, deadline, timeout)
        else:
            _run_on(executor, make_model, job, tasks, threads, described, finish, deadline, timeout)

    params = {**_seed.record(root), "n_samples": n_samples, **described}
    info = {**clock.info(), "executor": "serial" if executor is None else type(executor).__name__,
            "workers": _workers(executor), "threads": threads, "timeout": timeout,
            "resumed": sorted(set(indices) - set(todo))}
    return FarmResult(samples=tuple(collected[i] for i in sorted(collected)), params=params, run_info=info)


def sample_range(text: str, n_samples: int) -> range:
    """``'A:B'`` as ``range(A, B)``; a missing A is 0, a missing B ``n_samples``.

    The farm's ``samples=`` and the command line's ``--samples`` read ranges with it.
    Raises ValueError if ``text`` is not of that form (bounds are the caller's to check).
    """
    lo_text, sep, hi_text = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return range(int(lo_text) if lo_text.strip() else 0, int(hi_text) if hi_text.strip() else n_samples)
    except ValueError:
        raise ValueError(f"samples expects 'A:B' (indices A..B-1), got {text!r}") from None


def _indices(samples: Any, n_samples: int) -> list[int]:
    if samples is None:
        return list(range(n_samples))
    if isinstance(samples, str):
        samples = sample_range(samples, n_samples)
    elif isinstance(samples, slice):
        samples = range(n_samples)[samples]
    try:
        chosen = [positive_int(i, "a sample index", minimum=0, maximum=n_samples - 1) for i in samples]
    except TypeError as exc:
        if "sample index" in str(exc):
            raise
        raise TypeError(f"samples must be a range, a slice, 'A:B' or a sequence of ints, got {type(samples).__name__}") from None
    except ValueError as exc:
        raise ValueError(f"{exc} (the farm has samples 0..{n_samples - 1})") from None
    if not chosen:
        raise ValueError(f"samples selects no sample of 0..{n_samples - 1}")
    if len(set(chosen)) != len(chosen):
        raise ValueError("samples repeats an index")
    return sorted(chosen)


def _out_directory(out: str | os.PathLike[str] | None) -> Path | None:
    if out is None:
        return None
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"out={directory} is a file; give a directory for the per-sample files")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".pspin-farm-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"cannot write to out={directory}: {exc.strerror or exc}") from None
    return directory


def _sample_file(directory: Path, index: int) -> Path:
    return directory / f"sample-{index:05d}.h5"


def _resumed(directory: Path, index: int, root: np.random.SeedSequence, described: dict[str, str]) -> FarmSample | None:
    """The sample already in ``directory`` (checked), or None when it is to be run."""
    path = _sample_file(directory, index)
    # What a farm killed while saving leaves (whole files are only ever renamed into place).
    path.with_name(path.name + ".tmp").unlink(missing_ok=True)
    if not path.exists():
        return None
    from ._results import load

    try:
        old = load(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is redone
        warnings.warn(f"{path} is unreadable ({exc}); running sample {index} again", RuntimeWarning, stacklevel=3)
        return None
    model_seed, run_seed = _seed.sample_seeds(root, index)
    expected = {"sample": index, **_seed.record(model_seed, "model_seed"), **_seed.record(run_seed), **described}
    if not isinstance(old, FarmSample):
        raise ValueError(f"{path} holds a {type(old).__name__}, not a farm sample; move it away or choose another out=")
    differ = sorted(k for k in expected if old.params.get(k) != expected[k])
    if differ:
        detail = "; ".join(f"{k}: {old.params.get(k)!r} there, {expected[k]!r} here" for k in differ[:3])
        raise ValueError(f"{path} holds another farm ({detail}); move it away or choose another out=")
    return old


def _describe_callable(f: Any) -> str:
    """repr without memory addresses, so that the same callable describes itself the same way in every run."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(f))


def _pickles_callables(executor: Any) -> bool:
    """Executors known to pickle what is submitted (threads do not; Dask uses cloudpickle)."""
    return isinstance(executor, concurrent.futures.ProcessPoolExecutor) or type(executor).__module__.startswith("mpi4py")


def _workers(executor: Any) -> int | None:
    if executor is None:
        return 1
    count = getattr(executor, "_max_workers", None) or getattr(executor, "num_workers", None)
    return int(count) if isinstance(count, numbers.Integral) else None


def _failure(index: int, exc: BaseException) -> FarmError:
    text = f"disorder sample {index} failed: {type(exc).__name__}: {exc}"
    if isinstance(exc, pickle.PicklingError) or "pickle" in str(exc).lower():
        text += f" ({_PICKLE_HINT})"
    error = FarmError(index, text)
    error.__cause__ = exc
    return error


def _timed_out(timeout: float | None, unfinished: list[int], running: int = 0) -> TimeoutError:
    # A process pool hands a sample or more beyond its workers to its queue: those count too.
    still = (f"; {running} already handed to the workers cannot be stopped from here and finish there"
             if running else "")
    return TimeoutError(f"farm timed out after {timeout:g} s: sample(s) {_ranges(unfinished)} not finished "
                        f"({len(unfinished)}); those not started are cancelled{still}")


class _Expired(BaseException):
    """Raised by the SIGALRM handler; a BaseException so that a job's ``except Exception`` lets it through."""


@contextlib.contextmanager
def _alarm(seconds: float | None) -> Iterator[None]:
    """Interrupt this thread after ``seconds`` (the C++ kernels poll for Python signals)."""
    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Expired()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_here(make_model: Any, job: Any, tasks: list[Any], threads: int | None, described: dict[str, str],
              finish: Callable[[FarmSample], None], deadline: float | None, timeout: float | None) -> None:
    for k, (index, model_seed, run_seed) in enumerate(tasks):
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise _timed_out(timeout, [t[0] for t in tasks[k:]])
        try:
            with _alarm(left):
                done = _run_sample(make_model, job, index, model_seed, run_seed, threads, described)
        except _Expired:
            raise _timed_out(timeout, [t[0] for t in tasks[k:]]) from None
        except Exception as exc:
            raise _failure(index, exc) from exc
        finish(done)


def _run_on(executor: Any, make_model: Any, job: Any, tasks: list[Any], threads: int | None,
            described: dict[str, str], finish: Callable[[FarmSample], None], deadline: float | None,
            timeout: float | None) -> None:
    futures: dict[Any, int] = {}
    try:
        for index, model_seed, run_seed in tasks:
            try:
                future = executor.submit(_run_sample, make_model, job, index, model_seed, run_seed, threads, described)
            except Exception as exc:
                raise _failure(index, exc) from exc
            futures[future] = index
        pending = set(futures)
        while pending:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                unfinished = sorted(futures[f] for f in pending)
                running = sum(not f.cancel() for f in pending)
                raise _timed_out(timeout, unfinished, running)
            done, pending = concurrent.futures.wait(pending, timeout=left, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in sorted(done, key=futures.__getitem__):
                index = futures[future]
                if future.cancelled():
                    raise FarmError(index, f"disorder sample {index} was cancelled (executor shut down?)")
                error = future.exception()
                if error is not None:
                    raise _failure(index, error) from error
                finish(future.result())
    except BaseException:
        # Fail fast: samples not started are dropped (finished ones are already saved).
        for future in futures:
            future.cancel()
        raise


def _ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5, 6] -> '0-2, 5-6'."""
    runs: list[list[int]] = []
    for i in sorted(indices):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)
