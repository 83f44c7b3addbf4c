"""``pspin enumerate``: every one-flip-stable state of an Ising sample by a Gray-code walk."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from . import _jobs
from ._errors import CLIError
from ._runfile import MODEL_KEYS, RUN_KEYS, Key, _pos_int

KEYS = tuple(dataclasses.replace(k, default="ising") if k.name == "model" else k for k in MODEL_KEYS) + RUN_KEYS + (
    Key("max_n", _pos_int, 32, "refuse sizes above this (the walk visits 2^n states)"),
)


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "enumerate", parents=parents, help="all one-flip-stable states of Ising samples (n <= 32)",
        description="Exact enumeration of the one-flip-stable states of Ising p-spin samples; "
                    "writes a LocalMinima file per disorder sample.")
    _jobs.add_job_arguments(parser, KEYS)
    parser.set_defaults(func=run)


def _work(job: _jobs.Job, sample: _jobs.Sample, model: Any) -> Any:
    import pspin

    return pspin.enumerate_local_minima(model, max_n=job.config["max_n"], progress=job.progress)


def _describe(result: Any) -> str:
    return f"{result.count} one-flip-stable states"


def run(args: argparse.Namespace) -> int:
    job = _jobs.resolve_job("enumerate", args, KEYS)
    if job.config["model"] != "ising":
        raise CLIError("enumerate counts Ising states: set model = 'ising'")
    return _jobs.run_and_list(job, _work, _describe)
