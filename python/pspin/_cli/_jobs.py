"""What every job subcommand shares: resolving the run, seeds per disorder sample, output
files, resuming, progress and log lines.

Seeds. A run has one root seed. Disorder sample ``i`` owns the SeedSequence
``SeedSequence(seed).spawn(i + 1)[i]`` (spawn key ``(i,)``); its couplings use the child
with spawn key ``(i, 0)`` and its search or sampling the child ``(i, 1)``, as
:func:`pspin.entropy.complexity` does with a model factory. A sample's numbers therefore
depend only on the seed and its index, never on how many samples a job or a job array
runs, so ``pspin census run.toml --sample-index 7`` on one node gives the file the full run
would have written for sample 7.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, cast

import numpy as np

from . import _runfile
from ._errors import CLIError
from ._runfile import Key


# ---------------------------------------------------------------- logging
class Log:
    """Timestamped lines on stderr, so that stdout stays for results and batch logs show progress."""

    def __init__(self, command: str, quiet: bool = False) -> None:
        self.command = command
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[pspin {self.command} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def progress_wanted(quiet: bool) -> bool:
    """A tqdm bar only on a terminal with tqdm installed; batch logs get periodic lines instead."""
    if quiet or not sys.stderr.isatty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------- seeds and models
def sample_seeds(seed: int, index: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """(couplings seed, run seed) of disorder sample ``index`` of the run seeded by ``seed``
    (:func:`pspin._seed.sample_seeds`, shared with :func:`pspin.farm`)."""
    from pspin import _seed

    return _seed.sample_seeds(np.random.SeedSequence(seed), index)


def degrees(config: dict[str, Any]) -> int | dict[int, float]:
    p = config["p"]
    return {int(k): float(v) for k, v in p.items()} if isinstance(p, dict) else int(p)


def build_model(config: dict[str, Any], seed: Any) -> Any:
    """The model the run file describes, seeded with ``seed``."""
    import pspin

    if config["model"] == "ising":
        if config["ensemble"] != "distinct":
            raise CLIError("ensemble = 'isotropic' exists only for spherical models")
        return pspin.IsingPSpin(config["n"], degrees(config), seed=seed, dtype=config["dtype"])
    return pspin.SphericalPSpin(config["n"], degrees(config), seed=seed, dtype=config["dtype"],
                                ensemble=config["ensemble"])


# ---------------------------------------------------------------- the run
@dataclass
class Sample:
    """One disorder sample of a job: its index, seeds and file."""

    index: int
    model_seed: np.random.SeedSequence
    run_seed: np.random.SeedSequence
    path: Path


@dataclass
class Job:
    """A resolved job: the configuration, the samples to do and where they go."""

    command: str
    config: dict[str, Any]
    output: Path
    samples: list[Sample]
    per_sample: bool
    progress: bool
    log: Log
    executor: str = "serial"
    workers: int | None = None

    def run_info(self, sample: Sample) -> dict[str, Any]:
        """What is stored with each result: the command, the sample and the resolved configuration."""
        return {"command": self.command, "sample": sample.index, "config": dict(self.config)}

    def model(self, sample: Sample) -> Any:
        return build_model(self.config, sample.model_seed)


EXECUTORS = ("serial", "process", "mpi")


def add_job_arguments(parser: argparse.ArgumentParser, keys: Sequence[Key], *, arrays: bool = True) -> None:
    parser.add_argument("run_file", nargs="?", default=None, help="TOML run file (optional: flags alone will do)")
    workers = parser.add_argument_group("workers (samples in parallel; see docs/farm.md)")
    workers.add_argument("--executor", choices=EXECUTORS, default=None,
                         help="where the samples run: serial (here, one after the other), process (a pool of "
                              "--workers processes) or mpi (the other ranks of mpiexec -n K python -m "
                              "mpi4py.futures -m pspin ...; needs pip install 'pspin[mpi]'). Default: mpi under "
                              "python -m mpi4py.futures, else serial. Each worker runs --threads threads")
    workers.add_argument("--workers", type=int, default=None, metavar="W",
                         help="processes of --executor process (default: CPUs // threads); MPI workers are "
                              "the ranks of mpiexec")
    if arrays:
        group = parser.add_argument_group("disorder-sample arrays")
        group.add_argument("--sample-index", type=int, default=None, metavar="I",
                          help="run only disorder sample I (0 <= I < samples): one task of a job array")
        group.add_argument("--samples", dest="samples_flag", default=None, metavar="A:B",
                          help="A:B runs only samples A..B-1 (one task of a job array); a plain number N "
                               "sets the run's number of samples (the key samples)")
    parser.add_argument("-o", dest="output", default=argparse.SUPPRESS, metavar="FILE", help="same as --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    # --samples is written by hand above: it is both the key and the range selection.
    _runfile.add_key_flags(parser, [k for k in keys if k.name != "samples"] if arrays else keys)


def _selection(args: argparse.Namespace, samples: int) -> tuple[list[int], bool]:
    """The sample indices to run and whether files are per sample."""
    index = getattr(args, "sample_index", None)
    text = _range_text(args)
    if index is not None and text is not None:
        raise CLIError("give --sample-index I or --samples A:B, not both")
    if index is not None:
        if not 0 <= index < samples:
            raise CLIError(f"--sample-index {index} is outside the run's samples 0..{samples - 1} (samples = {samples})")
        return [index], True
    if text is not None:
        from pspin._farm import sample_range

        try:
            chosen = sample_range(text, samples)
        except ValueError:
            raise CLIError(f"--samples expects A:B (sample indices A..B-1), got {text!r}") from None
        if not 0 <= chosen.start < chosen.stop <= samples:
            raise CLIError(f"--samples {text} must be A:B with 0 <= A < B <= samples = {samples}")
        return list(chosen), True
    return list(range(samples)), samples > 1


def _range_text(args: argparse.Namespace) -> str | None:
    text = getattr(args, "samples_flag", None)
    return text if text is not None and ":" in text else None


def sample_path(output: Path, index: int) -> Path:
    return output.with_name(f"{output.stem}.sample-{index:05d}{output.suffix or '.h5'}")


def check_writable(directory: Path) -> None:
    """Create the output directory if needed and prove it writable before any work is done."""
    if directory.exists() and not directory.is_dir():
        raise CLIError(f"cannot write into {directory}: it is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".pspin-write-test-"):
            pass
    except OSError as exc:
        raise CLIError(f"cannot write to {directory}: {exc.strerror or exc}") from None


def resolve_job(command: str, args: argparse.Namespace, keys: Sequence[Key]) -> Job:
    """The run file and flags resolved into a :class:`Job` (everything checked, nothing run)."""
    file_values = _runfile.load_toml(args.run_file) if args.run_file else {}
    source = str(args.run_file) if args.run_file else "flags"
    flags = {k.name: getattr(args, k.name) for k in keys if hasattr(args, k.name)}
    count = getattr(args, "samples_flag", None)
    if count is not None and ":" not in count:
        try:
            flags["samples"] = int(count)
        except ValueError:
            raise CLIError(f"--samples expects a number of samples N or a range A:B, got {count!r}") from None
    config = _runfile.resolve(keys, file_values, flags, source, command)
    wants_array = getattr(args, "sample_index", None) is not None or _range_text(args) is not None
    if config.get("seed", 0) is None:
        if wants_array:
            raise CLIError("a sample array needs a fixed seed: set seed in the run file or pass --seed, "
                           "so that every task derives its sample from the same root")
        # Recorded in every file written, so the run can be repeated exactly.
        config["seed"] = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if config.get("output") is None:
        config["output"] = (Path(args.run_file).stem if args.run_file else command) + ".h5"
    output = Path(config["output"])
    if output.exists() and output.is_dir():
        raise CLIError(f"output {output} is a directory; give a file name such as {output / (command + '.h5')}")
    check_writable(output.parent if str(output.parent) else Path("."))
    indices, per_sample = _selection(args, int(config.get("samples", 1)))
    samples = []
    for i in indices:
        model_seed, run_seed = sample_seeds(int(config["seed"]), i)
        samples.append(Sample(i, model_seed, run_seed, sample_path(output, i) if per_sample else output))
    quiet = bool(getattr(args, "quiet", False))
    executor, workers = _executor_choice(args, config)
    return Job(command, config, output, samples, per_sample, progress_wanted(quiet), Log(command, quiet),
               executor, workers)


def _executor_choice(args: argparse.Namespace, config: dict[str, Any]) -> tuple[str, int | None]:
    """``--executor`` and ``--workers`` checked before any work: (executor, workers)."""
    import importlib.util
    import os

    from pspin.mpi import _executor as _mpi_executor

    executor = getattr(args, "executor", None) or ("mpi" if _mpi_executor.under_mpi_futures() else "serial")
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise CLIError(f"--workers must be >= 1, got {workers}")
    if executor == "serial":
        if workers not in (None, 1):
            raise CLIError(f"--workers {workers} needs --executor process (or mpi under mpiexec)")
        return executor, 1
    if executor == "process":
        if workers is None:
            workers = max(1, (os.cpu_count() or 1) // int(config.get("threads") or 1))
        return executor, workers
    if workers is not None:
        raise CLIError("--workers is for --executor process; MPI workers are the ranks: mpiexec -n K gives K - 1")
    if importlib.util.find_spec("mpi4py") is None:
        raise CLIError("--executor mpi needs mpi4py: pip install 'pspin[mpi]'")
    size = _mpi_executor.world_size()
    if size < 2:
        raise CLIError("--executor mpi needs workers: run under mpiexec -n K (K >= 2), e.g. "
                       "mpiexec -n K python -m mpi4py.futures -m pspin ... (rank 0 runs the job, the others the samples)")
    return executor, size - 1


# ---------------------------------------------------------------- results on disk
def attach_run(result: Any, info: dict[str, Any]) -> Any:
    """The result with the run's configuration in ``params["run"]`` (results are frozen)."""
    if not dataclasses.is_dataclass(result) or not hasattr(result, "params"):
        raise CLIError(f"{type(result).__name__} results cannot carry a run configuration")
    changed: Any = dataclasses.replace(cast(Any, result), params={**result.params, "run": info})
    return changed


def save(result: Any, path: Path) -> Path:
    if not hasattr(result, "save"):
        raise CLIError(f"{type(result).__name__} results cannot be saved by this version of pspin")
    try:
        return Path(result.save(path))
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None


def finished(job: Job, sample: Sample) -> Any:
    """The result already on disk for this sample, or None when it is still to do.

    A file from another run (another seed, model or budget) is an error rather than being
    silently overwritten or silently reused; an unreadable file (a crash while an older
    pspin wrote it) is redone.
    """
    if not sample.path.exists():
        return None
    import pspin

    try:
        old = pspin.load(sample.path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is simply redone
        job.log(f"{sample.path} is unreadable ({exc}); redoing sample {sample.index}")
        return None
    run = getattr(old, "params", {}).get("run") if isinstance(getattr(old, "params", None), dict) else None
    if not isinstance(run, dict) or run.get("command") != job.command or run.get("sample") != sample.index:
        raise CLIError(f"{sample.path} exists and was not written by this job (pspin {job.command}, "
                       f"sample {sample.index}); move it away or choose another output")
    mine, theirs = _runfile.identity(job.config), _runfile.identity(run.get("config", {}))
    if mine != theirs:
        differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        detail = ", ".join(f"{k}: {theirs.get(k)!r} there, {mine.get(k)!r} here" for k in differ[:3])
        raise CLIError(f"{sample.path} holds another run ({detail}); move it away or choose another output")
    return old


# work(job, sample, model) -> the sample's result; runs where the farm runs the sample (a
# worker process or rank), so it and the Job must pickle.
Work = Callable[[Job, Sample, Any], Any]


def run_and_list(job: Job, work: Work, describe: Callable[[Any], str]) -> int:
    """The body of a per-sample job command: run every sample with the job's threads, print
    the file of each, exit status 0."""
    with threads_context(job.config):
        done = run_samples(job, work, describe)
    for sample, _ in done:
        print(sample.path)
    return 0


@dataclass
class _SampleJob:
    """The farm's ``job`` for one command: ``work`` on the sample whose run seed it gets,
    with the run's threads, the result carrying the run configuration. It travels to every
    worker with every sample, so it holds the job without its sample list."""

    work: Work
    job: Job

    def __call__(self, model: Any, *, seed: np.random.SeedSequence) -> Any:
        index = int(seed.spawn_key[-2])  # the farm's run seed of sample i has the spawn key (..., i, 1)
        job = self.job
        model_seed, run_seed = sample_seeds(int(job.config["seed"]), index)
        sample = Sample(index, model_seed, run_seed, sample_path(job.output, index) if job.per_sample else job.output)
        job.log(f"sample {index}: running")
        with threads_context(job.config):
            result = self.work(job, sample, model)
        return attach_run(result, job.run_info(sample))

    def __repr__(self) -> str:
        return f"pspin {self.job.command} ({self.work.__module__}.{self.work.__name__})"


def run_samples(job: Job, work: Work, describe: Callable[[Any], str]) -> list[tuple[Sample, Any]]:
    """Run ``work`` on every sample not already on disk, saving each as soon as it is done.

    The samples go through :func:`pspin.farm` on the job's executor (serial, a process
    pool or the MPI ranks), which seeds sample ``i`` as :func:`sample_seeds` does. A job
    stopped by Ctrl-C or SIGTERM keeps the samples it finished; the same command then
    does only the rest. On the worker ranks of ``mpiexec -n K python -m pspin ...
    --executor mpi`` (without ``-m mpi4py.futures``) this serves samples and then exits.
    """
    import pspin

    done: list[tuple[Sample, Any]] = []
    total = len(job.samples)
    todo = []
    for sample in job.samples:
        old = finished(job, sample)
        if old is None:
            todo.append(sample)
        else:
            done.append((sample, old))
    if job.workers is not None and job.workers > total:
        # Ranks or processes asked for and never used are a layout mistake (a job script's
        # --ntasks against another --samples range): said before anything runs.
        raise CLIError(f"{job.workers} {job.executor} workers for {total} sample(s): use at most {total} "
                       "worker(s), or more samples")
    if done:
        job.log(f"{len(done)} of {total} sample(s) already done, skipped: {_ranges([s.index for s, _ in done])}")
    if todo and job.workers is not None and job.workers > len(todo):
        # Only a resumed job has fewer samples left than workers; it still runs.
        job.log(f"warning: {job.workers} {job.executor} workers for {len(todo)} sample(s) to do: "
                f"{job.workers - len(todo)} will be idle")
    by_index = {s.index: s for s in todo}
    serial = job.executor == "serial"
    # Bars from several processes would garble each other; workers log lines instead.
    sample_job = _SampleJob(work, dataclasses.replace(job, samples=[], progress=job.progress and serial))
    start = time.monotonic()
    count = 0

    def saved(item: Any) -> None:
        nonlocal count
        count += 1
        sample, result = by_index[item.index], item.result
        save(result, sample.path)
        eta = ""
        if count < len(todo):
            eta = f"; about {(time.monotonic() - start) / count * (len(todo) - count):.0f} s to go"
        label = f"sample {sample.index}" + (f" ({count}/{len(todo)})" if len(todo) > 1 else "")
        took = float(item.run_info.get("wall_seconds", 0.0))
        job.log(f"{label}: {describe(result)}; {took:.1f} s; wrote {sample.path}{eta}")
        done.append((sample, result))

    def run_farm(executor: Any) -> None:
        if todo:
            pspin.farm(functools.partial(build_model, job.config), sample_job, int(job.config.get("samples", 1)),
                       seed=int(job.config["seed"]), executor=executor, samples=sorted(by_index), on_result=saved)

    if serial:
        run_farm(None)
    elif job.executor == "process":
        import concurrent.futures
        import multiprocessing

        # spawn, not fork: a forked child of a process that has run OpenMP regions can hang.
        pool = concurrent.futures.ProcessPoolExecutor(job.workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            run_farm(pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        from pspin.mpi import _executor as _mpi_executor

        with _mpi_executor.executor() as executor:
            if executor is not None:
                run_farm(executor)
        if executor is None:  # a worker rank: the samples were served inside the with
            raise SystemExit(0)
    done.sort(key=lambda item: item[0].index)
    return done


def _ranges(indices: list[int]) -> str:
    """0,1,2,5,6 -> '0-2, 5-6'."""
    out, indices = [], sorted(indices)
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(out)


def threads_context(config: dict[str, Any]) -> Any:
    """``pspin.threads(k)`` when the run sets threads, else a no-op."""
    import contextlib

    import pspin

    return pspin.threads(config["threads"]) if config.get("threads") else contextlib.nullcontext()

