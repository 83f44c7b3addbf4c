"""``pspin census`` (one Census file per disorder sample) and ``pspin entropy`` (all samples,
then their complexity), with :func:`merge_censuses` shared by ``pspin merge``.

``pspin entropy run.toml`` is ``pspin census run.toml`` for every sample followed by
``pspin merge`` of the files, so a job array of ``census`` tasks and one ``merge`` gives
the same ComplexityResult as one ``entropy`` job.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, Sequence, cast

from . import _jobs
from ._errors import CLIError
from ._runfile import MODEL_KEYS, RUN_KEYS, Key, _bool, _nonneg_int, _pos_float, _pos_int, _str

KEYS = MODEL_KEYS + RUN_KEYS + (
    Key("n_starts", _pos_int, None, "random starts per sample (spherical; Ising enumerates when n is small)"),
    Key("index", _nonneg_int, 0, "Morse index of the critical points counted"),
    Key("method", _str, None, "search method (see pspin.entropy.census)"),
    Key("gtol", _pos_float, 1e-6, "descent tolerance |grad_sph H|/sqrt(n)"),
    Key("max_iter", _pos_int, None, "descent budget"),
    Key("polish", _bool, True, "Newton-polish one point per class"),
    Key("hessian", _bool, False, "keep the Hessian spectrum of every point"),
    Key("tol", _pos_float, 1e-8, "overlap distance under which two points are one"),
    Key("bins", _pos_int, 20, "energy bins of the complexity (entropy, merge)"),
    Key("finite_n_theory", _bool, True, "exact finite-n Kac-Rice counts beside the complexity (n <= 30)"),
)
_CENSUS_OPTIONS = ("index", "method", "gtol", "max_iter", "polish", "hessian", "tol")


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    census = sub.add_parser(
        "census", parents=parents, help="distinct critical points of disorder samples (one file each)",
        description="pspin.entropy.census on each disorder sample; one Census file per sample "
                    "(<output stem>.sample-NNNNN.h5 when the run has several). Finished samples are "
                    "skipped on restart. Combine them with pspin merge.")
    _jobs.add_job_arguments(census, KEYS)
    census.set_defaults(func=run_census)
    entropy = sub.add_parser(
        "entropy", parents=parents, help="complexity over disorder samples (census of each, then merge)",
        description="Census of every disorder sample (one file each, skipped when already done), then "
                    "the annealed and quenched complexity with errors and theory, written to the output "
                    "file (a ComplexityResult).")
    _jobs.add_job_arguments(entropy, KEYS, arrays=False)
    entropy.set_defaults(func=run_entropy)


def _work(job: _jobs.Job, sample: _jobs.Sample, model: Any) -> Any:
    from pspin import entropy

    c = job.config
    options = {k: c[k] for k in _CENSUS_OPTIONS}
    return entropy.census(model, c["n_starts"], seed=sample.run_seed, progress=job.progress, **options)


def _describe(result: Any) -> str:
    extra = "" if result.exact else f" (Chao1 estimate {result.estimated_count:.1f})"
    return f"{result.count} critical points of index {result.params.get('index', 0)}{extra}"


def _check(job: _jobs.Job) -> None:
    if job.config["model"] == "spherical" and job.config["n_starts"] is None:
        raise CLIError("n_starts is required for spherical models: put it in the run file or pass --n-starts")


def run_census(args: argparse.Namespace) -> int:
    job = _jobs.resolve_job("census", args, KEYS)
    _check(job)
    with _jobs.threads_context(job.config):
        done = _jobs.run_samples(job, _work, _describe)
    for sample, _ in done:
        print(sample.path)
    return 0


def run_entropy(args: argparse.Namespace) -> int:
    job = _jobs.resolve_job("entropy", args, KEYS)
    _check(job)
    # The per-sample censuses are the resumable unit, whatever the number of samples;
    # they are written as by ``pspin census`` so that either command can pick them up.
    job.samples = [dataclasses.replace(s, path=_jobs.sample_path(job.output, s.index)) for s in job.samples]
    job.per_sample = True
    job.command = "census"
    with _jobs.threads_context(job.config):
        done = _jobs.run_samples(job, _work, _describe)
    job.command = "entropy"
    result = merge_censuses([r for _, r in done], [s.path for s, _ in done], bins=job.config["bins"],
                            finite_n_theory=job.config["finite_n_theory"])
    result = _jobs.attach_run(result, {"command": "entropy", "sample": None, "config": dict(job.config)})
    _jobs.save(result, job.output)
    job.log(summary(result))
    print(job.output)
    return 0


def summary(result: Any) -> str:
    theory = result.theory_expected_total
    beside = f"; theory E[N] = {theory:.3f}" if theory == theory else ""
    return (f"{result.samples} samples, n = {result.n}: mean count {result.totals.mean():.3f}{beside}; "
            f"annealed complexity {result.annealed_total:.5f} +- {result.annealed_total_error:.5f}, "
            f"quenched {result.quenched_total:.5f} +- {result.quenched_total_error:.5f}")


def _sample_of(census: Any) -> int | None:
    run = census.params.get("run")
    return int(run["sample"]) if isinstance(run, dict) and run.get("sample") is not None else None


def merge_censuses(censuses: Sequence[Any], paths: Sequence[Path], *, bins: int | None = None,
                   finite_n_theory: bool | None = None, theory: bool = True) -> Any:
    """One ComplexityResult from per-sample Census results: ``pspin.entropy.complexity(censuses)``.

    The censuses are put in sample order (from the run information the command line
    stores), so the result does not depend on the order of the files. With ``theory``,
    the theory columns that ``complexity`` fills only when it is given models (finite-n
    Kac-Rice, n -> infinity) are computed from the model description in the files.

    Parameters
    ----------
    censuses : sequence of Census
    paths : sequence of Path
        Where each came from (for messages and provenance).
    bins : int, optional
        Energy bins; by default the ``bins`` of the run that wrote the files, else 20.
    finite_n_theory : bool, optional
        Compute the exact finite-n Kac-Rice counts (spherical, n <= 30); by default as
        the run that wrote the files asked (``finite_n_theory``), else True.
    theory : bool
        Fill the theory columns (needs files written by ``pspin census``).

    Returns
    -------
    ComplexityResult
    """
    from pspin import entropy

    if not censuses:
        raise CLIError("nothing to merge")
    for census, path in zip(censuses, paths):
        if type(census).__name__ != "Census":
            raise CLIError(f"{path} holds a {type(census).__name__}; merge combines Census files "
                           f"(from pspin census) into a ComplexityResult")
    order = list(range(len(censuses)))
    indices = [_sample_of(c) for c in censuses]
    if all(i is not None for i in indices):
        seen: dict[int, Path] = {}
        for i, path in zip(indices, paths):
            if i in seen:
                raise CLIError(f"sample {i} is in both {seen[i]} and {path}")
            seen[i] = path  # type: ignore[index]
        order.sort(key=lambda k: indices[k])  # type: ignore[arg-type, return-value]
        roots = {_root(c) for c in censuses}
        if len(roots) > 1:
            raise CLIError(f"the files come from different runs (seed, model or search differ): {sorted(roots)}")
    censuses = [censuses[k] for k in order]
    paths = [paths[k] for k in order]
    config = _config_of(censuses[0])
    if bins is None:
        bins = int(config.get("bins", 20)) if config else 20
    if finite_n_theory is None:
        finite_n_theory = bool(config.get("finite_n_theory", True)) if config else True
    index = int(censuses[0].params.get("index", 0))
    stand_in = _theory_stand_in(config) if theory and config else None
    try:
        result = entropy.complexity(list(censuses), bins=bins, index=index, theory_model=stand_in,
                                    finite_n_theory=finite_n_theory)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"cannot merge: {exc}") from None
    return dataclasses.replace(cast(Any, result), params={**result.params, "merged_from": [str(p) for p in paths]})


def _config_of(census: Any) -> dict[str, Any] | None:
    run = census.params.get("run")
    return run.get("config") if isinstance(run, dict) and isinstance(run.get("config"), dict) else None


def _root(census: Any) -> str:
    from ._runfile import identity

    config = _config_of(census) or {}
    return repr(sorted(identity({k: v for k, v in config.items() if k not in ("bins", "finite_n_theory")}).items()))


def _theory_stand_in(config: dict[str, Any]) -> Any:
    """A model of the run's family and degrees at the smallest size: the theory columns
    depend on the family and the degrees only (n is passed apart), and building the real
    model could take gigabytes."""
    small = dict(config, n=max(_degree_list(config)) + 1)
    return _jobs.build_model(small, 0)


def _degree_list(config: dict[str, Any]) -> list[int]:
    p = _jobs.degrees(config)
    return list(p) if isinstance(p, dict) else [p]
