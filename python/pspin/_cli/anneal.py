"""``pspin anneal``: simulated annealing down a geometric (or given) temperature schedule."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from . import _jobs
from ._runfile import MODEL_KEYS, RUN_KEYS, Key, _floats, _pos_float, _pos_int, _str

KEYS = MODEL_KEYS + RUN_KEYS + (
    Key("schedule", _floats, None, "temperatures in the order visited (overrides t_start, t_end, steps)"),
    Key("t_start", _pos_float, 2.0, "first temperature of the geometric schedule"),
    Key("t_end", _pos_float, 0.05, "last temperature of the geometric schedule"),
    Key("steps", _pos_int, 100, "temperatures in the geometric schedule"),
    Key("sweeps_per_temperature", _pos_int, 1, "sweeps at each temperature"),
    Key("n_starts", _pos_int, 1, "independent runs from random starts (swept in lockstep)"),
    Key("update", _str, None, "move: Ising metropolis (default) or heat_bath; spherical hmc"),
)


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "anneal", parents=parents, help="simulated annealing",
        description="Simulated annealing with the tempering moves; writes an AnnealResult file per "
                    "disorder sample.")
    _jobs.add_job_arguments(parser, KEYS)
    parser.set_defaults(func=run)


def schedule(config: dict[str, Any]) -> np.ndarray:
    if config["schedule"] is not None:
        return np.asarray(config["schedule"], dtype=np.float64)
    return np.geomspace(config["t_start"], config["t_end"], config["steps"])


def _work(job: _jobs.Job, sample: _jobs.Sample, model: Any) -> Any:
    import pspin

    c = job.config
    options: dict[str, Any] = {"sweeps_per_temperature": c["sweeps_per_temperature"], "n_starts": c["n_starts"],
                               "seed": sample.run_seed}
    if c["update"] is not None:
        options["update"] = c["update"]
    return pspin.anneal(model, schedule(c), **options)


def _describe(result: Any) -> str:
    e = np.asarray(result.best_energies, dtype=np.float64) / result.best_states.shape[-1]
    return f"best energy per spin {e.min():.5f} (mean over runs {e.mean():.5f})"


def run(args: argparse.Namespace) -> int:
    job = _jobs.resolve_job("anneal", args, KEYS)
    return _jobs.run_and_list(job, _work, _describe)
