"""``pspin show``, ``pspin plot`` and ``pspin merge``: working with results files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import _jobs
from ._errors import CLIError


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    show = sub.add_parser("show", parents=parents, help="metadata and a summary of a results file",
                          description="Print what a results file holds: type, pspin version, host, time, the "
                                      "run configuration, every field and a summary.")
    show.add_argument("file", help="results file written by result.save() or a pspin command")
    show.set_defaults(func=run_show)
    plot = sub.add_parser("plot", parents=parents, help="draw a results file to a PNG (result.plot())",
                          description="Draw a results file with its type's .plot() and write a PNG.")
    plot.add_argument("file", help="results file")
    plot.add_argument("-o", "--output", default=None, metavar="PNG", help="image to write (default: FILE with .png)")
    plot.set_defaults(func=run_plot)
    merge = sub.add_parser(
        "merge", parents=parents, help="combine per-sample Census files into one ComplexityResult",
        description="Combine per-sample results into one file with disorder averages and errors. "
                    "Supported: Census files (pspin census, one per disorder sample) -> ComplexityResult "
                    "(pspin.entropy.complexity of the censuses: annealed and quenched complexity with "
                    "jackknife and standard errors, and theory beside them). Other result types are refused.")
    merge.add_argument("files", nargs="+", help="per-sample files (e.g. run.sample-*.h5)")
    merge.add_argument("-o", "--output", default=None, metavar="FILE",
                       help="merged file (default: run.h5 for run.sample-NNNNN.h5 inputs)")
    merge.add_argument("--bins", type=int, default=None, help="energy bins (default: the run file's bins, else 20)")
    merge.add_argument("--no-theory", dest="theory", action="store_false",
                       help="leave the theory columns empty, as pspin.entropy.complexity(censuses) does")
    merge.add_argument("--finite-n-theory", action=argparse.BooleanOptionalAction, default=None,
                       help="the exact finite-n Kac-Rice counts (about 1 s per bin at n = 20; default: as the "
                            "run file's finite_n_theory, else on)")
    merge.set_defaults(func=run_merge)


def _load(path: str | Path) -> Any:
    import pspin

    path = Path(path)
    if not path.exists():
        raise CLIError(f"results file {path} does not exist")
    if path.is_dir():
        raise CLIError(f"{path} is a directory, not a results file")
    try:
        return pspin.load(path)
    except (ValueError, KeyError, OSError, TypeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(message if str(path) in message else f"cannot read {path}: {message}") from None


# ---------------------------------------------------------------- show
def _summaries() -> dict[str, Callable[[Any], str]]:
    from . import anneal, census, enumerate, minimize, sample

    return {"Census": census._describe, "ComplexityResult": census.summary, "Minima": minimize._describe,
            "LocalMinima": enumerate._describe, "AnnealResult": anneal._describe, "PTResult": sample._describe}


def _field_line(name: str, value: Any) -> str:
    if isinstance(value, np.ndarray):
        text = f"{value.dtype}{list(value.shape)}"
        if value.size and value.dtype.kind in "fiu" and value.ndim <= 2:
            finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
            if finite.size:
                text += f"  min {finite.min():.6g}  mean {finite.mean():.6g}  max {finite.max():.6g}"
        return f"  {name:<28} {text}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"  {name:<28} {type(value).__name__}"
    if isinstance(value, (tuple, list)):
        return f"  {name:<28} [{len(value)} items]"
    if isinstance(value, dict):
        return f"  {name:<28} {{{len(value)} keys}}"
    text = repr(value)
    return f"  {name:<28} {text if len(text) <= 70 else text[:67] + '...'}"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def run_show(args: argparse.Namespace) -> int:
    from pspin._results import metadata

    result = _load(args.file)
    meta = metadata(args.file)
    print(f"{args.file}: {type(result).__name__}")
    print(f"  written by pspin {meta.get('pspin_version', '?')} on {meta.get('host', '?')} at {meta.get('saved_at', '?')}")
    info = getattr(result, "run_info", None)
    if isinstance(info, dict) and info:
        wall = info.get("wall_seconds")
        print(f"  ran {info.get('started_at', '?')} .. {info.get('finished_at', '?')}"
              + (f" ({wall:.1f} s)" if isinstance(wall, (int, float)) else "")
              + (f" on {info['host']}" if info.get("host") else ""))
    params = dict(getattr(result, "params", {}) or {})
    run = params.pop("run", None)
    if isinstance(run, dict):
        where = "" if run.get("sample") is None else f", sample {run['sample']}"
        print(f"run: pspin {run.get('command', '?')}{where}")
        for key, value in (run.get("config") or {}).items():
            print(f"  {key} = {_short(value)}")
    print("fields:")
    if dataclasses.is_dataclass(result):
        for f in dataclasses.fields(result):
            if f.name not in ("params", "run_info"):
                print(_field_line(f.name, getattr(result, f.name)))
    if params:
        print("params:")
        for key, value in params.items():
            print(f"  {key} = {_short(value)}")
    describe = _summaries().get(type(result).__name__)
    if describe is not None:
        try:
            print(f"summary: {describe(result)}")
        except Exception as exc:  # noqa: BLE001 - the summary is a courtesy; the fields above are the content
            print(f"summary: unavailable ({exc})")
    return 0


# ---------------------------------------------------------------- plot
def _figure(drawn: Any) -> Any:
    if hasattr(drawn, "savefig"):
        return drawn
    if hasattr(drawn, "figure"):
        return drawn.figure
    if isinstance(drawn, np.ndarray) and drawn.size and hasattr(drawn.flat[0], "figure"):
        return drawn.flat[0].figure
    raise CLIError("the result's plot() returned no figure")


def run_plot(args: argparse.Namespace) -> int:
    result = _load(args.file)
    if not callable(getattr(result, "plot", None)):
        raise CLIError(f"{type(result).__name__} has no plot(); pspin show {args.file} prints what it holds")
    output = Path(args.output) if args.output else Path(args.file).with_suffix(".png")
    _jobs.check_writable(output.parent if str(output.parent) else Path("."))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError("plotting needs matplotlib: pip install 'pspin[plot]'") from None
    figure = _figure(result.plot())
    figure.tight_layout()
    try:
        figure.savefig(output, dpi=120)
    except OSError as exc:
        raise CLIError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    print(output)
    return 0


# ---------------------------------------------------------------- merge
_SAMPLE_FILE = re.compile(r"^(?P<stem>.+)\.sample-\d+$")


def _default_merged(paths: list[Path]) -> Path:
    stems = set()
    for path in paths:
        match = _SAMPLE_FILE.match(path.stem)
        if match is None:
            raise CLIError("give -o FILE: the inputs are not <run>.sample-NNNNN.h5 files")
        stems.add(path.with_name(match["stem"] + path.suffix))
    if len(stems) != 1:
        raise CLIError(f"the inputs belong to several runs ({', '.join(sorted(map(str, stems)))}); give -o FILE")
    return stems.pop()


def run_merge(args: argparse.Namespace) -> int:
    from .census import merge_censuses, summary

    paths = [Path(p) for p in args.files]
    output = Path(args.output) if args.output else _default_merged(paths)
    if output.resolve() in {p.resolve() for p in paths}:
        raise CLIError(f"the output {output} is one of the inputs")
    _jobs.check_writable(output.parent if str(output.parent) else Path("."))
    results = [_load(p) for p in paths]
    kinds = sorted({type(r).__name__ for r in results})
    if kinds != ["Census"]:
        raise CLIError(f"merge combines Census files (pspin census) into a ComplexityResult; got {', '.join(kinds)}")
    if args.bins is not None and args.bins < 1:
        raise CLIError(f"--bins must be >= 1, got {args.bins}")
    log = _jobs.Log("merge")
    merged = merge_censuses(results, paths, bins=args.bins, finite_n_theory=args.finite_n_theory, theory=args.theory)
    first_run = results[0].params.get("run") if isinstance(results[0].params.get("run"), dict) else None
    expected = (first_run or {}).get("config", {}).get("samples")
    if isinstance(expected, int) and expected > len(results):
        have = {r.params["run"]["sample"] for r in results if isinstance(r.params.get("run"), dict)}
        missing = sorted(set(range(expected)) - have)
        log(f"merged {len(results)} of the run's {expected} samples; missing: {missing[:20]}"
            f"{' ...' if len(missing) > 20 else ''}")
    merged = _jobs.attach_run(merged, {"command": "merge", "sample": None,
                                        "config": (first_run or {}).get("config", {})})
    _jobs.save(merged, output)
    log(summary(merged))
    print(output)
    return 0
