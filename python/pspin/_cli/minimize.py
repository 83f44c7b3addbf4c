"""``pspin minimize``: batched descents from random starts, one file per disorder sample."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from . import _jobs
from ._runfile import MODEL_KEYS, RUN_KEYS, Key, _nonneg_int, _pos_float, _pos_int, _str

KEYS = MODEL_KEYS + RUN_KEYS + (
    Key("n_starts", _pos_int, 32, "random starts (one descent each)"),
    Key("method", _str, None, "spherical: lbfgs (default) or gd; Ising: greedy (default) or random"),
    Key("gtol", _pos_float, 1e-6, "stop when |grad_sph H|/sqrt(n) < gtol (spherical)"),
    Key("max_iter", _pos_int, None, "iteration budget (spherical) or sweeps (Ising)"),
    Key("record_every", _nonneg_int, 0, "record the energy every this many iterations (0: no trajectory)"),
)


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "minimize", parents=parents, help="descend to minima from random starts",
        description="Batched descent (L-BFGS or gradient descent on the sphere, single-flip for Ising) "
                    "from random starts; writes a Minima file per disorder sample.")
    _jobs.add_job_arguments(parser, KEYS)
    parser.set_defaults(func=run)


def _work(job: _jobs.Job, sample: _jobs.Sample, model: Any) -> Any:
    import pspin

    c = job.config
    options: dict[str, Any] = {"method": c["method"], "max_iter": c["max_iter"], "seed": sample.run_seed,
                               "progress": job.progress}
    if c["model"] == "spherical":
        options.update(gtol=c["gtol"], record_every=c["record_every"])
    return pspin.minimize(model, c["n_starts"], **options)


def _describe(result: Any) -> str:
    e = np.asarray(result.energies, dtype=np.float64) / result.states.shape[1]
    ok = np.asarray(result.converged, dtype=bool)
    lowest = f", lowest {e.min():.5f}" if e.size else ""
    return f"{int(ok.sum())}/{ok.size} converged; energy per spin {e.mean():.5f}{lowest}"


def run(args: argparse.Namespace) -> int:
    job = _jobs.resolve_job("minimize", args, KEYS)
    return _jobs.run_and_list(job, _work, _describe)
