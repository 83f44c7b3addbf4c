"""``pspin sample``: parallel tempering, checkpointed, one PTResult file per disorder sample.

The run writes ``<file>.checkpoint.h5`` beside each result file while it runs (every
``checkpoint_every`` seconds, and on Ctrl-C or SIGTERM); the same command resumes from it
bit-identically. The checkpoint is removed once the result file is written.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _jobs
from ._errors import CLIError
from ._runfile import (
    MODEL_KEYS,
    RUN_KEYS,
    Key,
    _bool,
    _floats,
    _nonneg_int,
    _pos_float,
    _pos_int,
    _str,
)

KEYS = MODEL_KEYS + RUN_KEYS + (
    Key("temperatures", _floats, None, "the ladder, e.g. 0.5,0.7,1.0 (or t_min, t_max, n_temperatures)"),
    Key("t_min", _pos_float, None, "lowest temperature of a geometric ladder"),
    Key("t_max", _pos_float, None, "highest temperature of a geometric ladder"),
    Key("n_temperatures", _pos_int, None, "temperatures in a geometric ladder"),
    Key("replicas", _pos_int, 2, "replicas per temperature"),
    Key("sweeps", _pos_int, None, "total sweeps, burn-in included", required=True),
    Key("burn_in", _nonneg_int, None, "sweeps before measuring (default sweeps // 10)"),
    Key("sample_every", _pos_int, 1, "record energies and overlaps every this many sweeps"),
    Key("snapshot_every", _nonneg_int, 0, "keep configurations every this many sweeps (0: none)"),
    Key("update", _str, None, "Ising: metropolis (default) or heat_bath; spherical: hmc"),
    Key("adaptive", _bool, False, "tune the ladder during burn-in"),
    Key("checkpoint_every", _pos_float, 60.0, "seconds between checkpoint saves"),
)
# Log lines per run when there is no terminal for a progress bar.
_LOG_LINES = 10


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sample", parents=parents, help="parallel tempering (checkpointed, resumable)",
        description="Parallel tempering over a temperature ladder; writes a PTResult file per disorder "
                    "sample, checkpoints while running and resumes after Ctrl-C or SIGTERM.")
    _jobs.add_job_arguments(parser, KEYS)
    parser.set_defaults(func=run)


def ladder(config: dict[str, Any]) -> np.ndarray:
    """The temperatures: the list given, or the geometric ladder t_min..t_max."""
    geometric = [config[k] for k in ("t_min", "t_max", "n_temperatures")]
    if config["temperatures"] is not None:
        if any(v is not None for v in geometric):
            raise CLIError("give temperatures or t_min, t_max and n_temperatures, not both")
        return np.asarray(config["temperatures"], dtype=np.float64)
    if any(v is None for v in geometric):
        raise CLIError("give temperatures = [...] or all of t_min, t_max and n_temperatures")
    from pspin.sampling.ladders import geometric_temperatures

    return np.asarray(geometric_temperatures(*geometric), dtype=np.float64)


def checkpoint_path(path: Path) -> Path:
    return path.with_name(path.stem + ".checkpoint.h5")


def _sweeps_in(checkpoint: Path) -> int:
    """Sweeps a checkpoint holds (0 when there is none or it cannot be read)."""
    if not checkpoint.exists():
        return 0
    try:
        import h5py
        from pspin.sampling.checkpoint import verify_seal

        verify_seal(checkpoint)  # a damaged file never reaches HDF5; the run reports the damage
        with h5py.File(checkpoint, "r") as f:
            return int(f.attrs.get("sweeps_done", 0))
    except (OSError, ImportError, ValueError, TypeError):
        return 0


def _work(job: _jobs.Job, sample: _jobs.Sample, model: Any) -> Any:
    import pspin

    c = job.config
    sweeps, burn_in = c["sweeps"], c["burn_in"]
    options: dict[str, Any] = {"replicas": c["replicas"], "seed": sample.run_seed, "adaptive": c["adaptive"]}
    if c["update"] is not None:
        options["update"] = c["update"]
    pt = pspin.ParallelTempering(model, ladder(c), **options)
    checkpoint = checkpoint_path(sample.path)
    run_options = {"burn_in": burn_in, "sample_every": c["sample_every"], "snapshot_every": c["snapshot_every"],
                   "checkpoint": checkpoint, "checkpoint_every": c["checkpoint_every"]}
    held = _sweeps_in(checkpoint)
    if held:
        job.log(f"sample {sample.index}: resuming from {checkpoint} at sweep {held}")
    if job.progress:
        result = pt.run(sweeps, progress=True, **run_options)
    else:
        # No terminal: run in slices (the run is the same however it is split) and log each.
        first = max(burn_in + 1, held + 1)
        targets = sorted({int(t) for t in np.linspace(first, sweeps, _LOG_LINES)} | {sweeps})
        start, begin = time.monotonic(), max(held, 0)
        for target in targets:
            if target <= held:
                continue
            result = pt.run(target, progress=False, **run_options)
            rate = (target - begin) / max(time.monotonic() - start, 1e-9)
            job.log(f"sample {sample.index}: sweep {target}/{sweeps} ({rate:.0f} sweeps/s, "
                    f"about {(sweeps - target) / max(rate, 1e-9):.0f} s to go)")
        if held >= sweeps:
            result = pt.run(sweeps, progress=False, **run_options)
    return result


def _describe(result: Any) -> str:
    e = result.mean_energy_per_spin
    t = result.temperatures
    return f"{t.size} temperatures; energy per spin {e[0]:.4f} at T = {t[0]:.3g} .. {e[-1]:.4f} at T = {t[-1]:.3g}"


def run(args: argparse.Namespace) -> int:
    job = _jobs.resolve_job("sample", args, KEYS)
    if job.config["burn_in"] is None:
        job.config["burn_in"] = job.config["sweeps"] // 10
    if job.config["burn_in"] >= job.config["sweeps"]:
        raise CLIError(f"burn_in ({job.config['burn_in']}) must be smaller than sweeps ({job.config['sweeps']})")
    ladder(job.config)  # bad ladders fail here, before any work
    with _jobs.threads_context(job.config):
        done = _jobs.run_samples(job, _work, _describe)
    for sample, _ in done:
        checkpoint = checkpoint_path(sample.path)
        # The checkpoint's state file, the previous save and its append-only series beside it.
        for leftover in (checkpoint, Path(f"{checkpoint}.prev"), Path(f"{checkpoint}.samples"),
                         Path(f"{checkpoint}.snapshots")):
            leftover.unlink(missing_ok=True)
        print(sample.path)
    return 0
