"""Per-SIMD-level benchmark runs (issue 9), and the stamp every bench script puts on its results.

pspin's core is built for several x86-64 levels (``baseline`` SSE2, ``v3`` AVX2+FMA, ``v4``
AVX-512) and picks one at import; ``PSPIN_SIMD`` forces a lower one and must be set before
``import pspin``. So this driver runs each named bench script once per level, in a subprocess
with ``PSPIN_SIMD`` set; pspin's figures and their baselines (numpy, scipy, peers) are measured
in that same subprocess, so every ratio is same-run. ::

    python bench/levels.py all                        # every script, every level this box runs
    python bench/levels.py report --levels v3,v4      # one script, chosen levels
    python bench/levels.py report -- --quick --no-torch   # arguments after -- go to the script
    python bench/levels.py --quick all                # --quick passed to every script
    python bench/levels.py --summary                  # only re-render results/levels.md

A script run with ``PSPIN_SIMD=<level>`` writes ``results/<name>-<level>.md`` / ``.json``
(without it: ``results/<name>.md``), stamped with the level loaded, the levels runnable here,
the CPU model, its ISA flags and the thread counts. Each JSON's ``headline`` list (the issue's
target ratios, PASS/MISS) goes into ``results/levels.md``: one column per level. The levels this
box cannot run are listed there with the reason.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pspin._dispatch import ENV_VAR, KNOWN_LEVELS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# name -> (script, results name); "pytest" is the pytest-benchmark gradient suite.
SCRIPTS = {
    "report": ("report.py", "latest"),
    "minimize": ("bench_minimize.py", "minimize"),
    "tempering": ("bench_tempering.py", "tempering"),
    "sphere_moves": ("bench_sphere_moves.py", "sphere_moves"),
    "ising_landscape": ("bench_ising_landscape.py", "ising_landscape"),
    "census": ("bench_census.py", "census"),
    "pytest": ("test_bench_gradient.py", "pytest"),
}


# --------------------------------------------------------------------------- the stamp
def stamp(threads: Any = None) -> dict[str, Any]:
    """Level loaded, levels runnable here, CPU model and flags, thread counts; raises if
    ``PSPIN_SIMD`` asked for a level that was not loaded."""
    import pspin

    cfg = pspin.show_config(file=io.StringIO())
    forced = os.environ.get(ENV_VAR) or None
    level = cfg.get("simd_level")
    if forced and level is not None and level != forced:
        raise RuntimeError(f"{ENV_VAR}={forced} but pspin loaded the {level} kernels")
    blas = None
    try:
        from threadpoolctl import threadpool_info

        blas = [d.get("num_threads") for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        pass
    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "simd_level": level,
        "pspin_simd_env": forced,
        "simd_levels": cfg.get("simd_levels"),
        "simd_width_bits": cfg.get("simd_width_bits"),
        "cpu_model": cfg["cpu_model"],
        "cpu_flags": cfg["cpu_flags"],
        "cores": os.cpu_count(),
        "threads_measured": list(threads) if threads is not None else None,
        "pspin_max_threads": cfg.get("max_threads"),
        "blas_threads": blas,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "pspin": pspin.__version__,
        "compiler": cfg.get("compiler"),
    }


def stamp_md(s: dict[str, Any] | None) -> str:
    if not s:
        return "(no machine stamp)"
    forced = f", forced by {ENV_VAR}={s['pspin_simd_env']}" if s.get("pspin_simd_env") else ""
    levels = ", ".join(s["simd_levels"]) if s.get("simd_levels") else "not reported"
    thr = ", ".join(map(str, s["threads_measured"])) if s.get("threads_measured") else "–"
    return (
        f"SIMD level **{s['simd_level']}**{forced} (levels runnable here: {levels}; "
        f"{s.get('simd_width_bits')}-bit vectors) · CPU: {s['cpu_model']} · "
        f"flags: {s['cpu_flags']} · "
        f"threads measured: {thr} of {s['cores']} cores (pspin max {s.get('pspin_max_threads')}, "
        f"BLAS {s.get('blas_threads')}, OMP_NUM_THREADS={s.get('OMP_NUM_THREADS')})"
    )


def results_name(name: str) -> str:
    """``name-<level>`` when PSPIN_SIMD is set, else ``name``."""
    forced = os.environ.get(ENV_VAR)
    return f"{name}-{forced}" if forced else name


def write_results(
    name: str, md: str, payload: dict[str, Any], out: Path = RESULTS
) -> tuple[Path, Path]:
    """Writes ``<out>/<name>[-level].md`` and ``.json``; ``payload`` should hold ``machine``
    (a :func:`stamp`) and ``headline`` (see :func:`headline`)."""
    out.mkdir(parents=True, exist_ok=True)
    base = out / results_name(name)
    payload = {"script": name, **payload}
    base.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=float) + "\n")
    base.with_suffix(".md").write_text(md)
    print(f"wrote {base}.md and .json", file=sys.stderr)
    return base.with_suffix(".md"), base.with_suffix(".json")


def headline(what: str, value: float | None, text: str, goal: str, verdict: str) -> dict[str, Any]:
    """One target line for the per-level summary: ``text`` is the value as printed."""
    return {"what": what, "value": value, "text": text, "goal": goal, "verdict": verdict}


class Recorder:
    """For the scripts that print plain-text tables: tees stdout, then writes it as the
    results markdown (in a code block, under the stamp) with ``data`` and ``headline``."""

    def __init__(self, name: str, threads: Any) -> None:
        self.name, self.threads = name, threads
        self.data: dict[str, Any] = {}
        self.headline: list[dict[str, Any]] = []

    def __enter__(self) -> Recorder:  # noqa: PYI034
        self._buf, self._stdout = io.StringIO(), sys.stdout
        stdout, buf = self._stdout, self._buf

        class Tee(io.TextIOBase):
            def write(self, s: str) -> int:
                buf.write(s)
                return stdout.write(s)

            def flush(self) -> None:
                stdout.flush()

        sys.stdout = Tee()
        self.machine = stamp(self.threads)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        sys.stdout = self._stdout
        if exc_type is not None:
            return
        title = f"# bench/{SCRIPTS_BY_NAME.get(self.name, self.name)}"
        lines = [title, "", stamp_md(self.machine), ""]
        if self.headline:
            lines += ["| target | value | goal | verdict |", "|---|---|---|---|"]
            lines += [
                f"| {h['what']} | {h['text']} | {h['goal']} | **{h['verdict']}** |"
                for h in self.headline
            ]
            lines.append("")
        md = "\n".join(lines) + "\n```\n" + self._buf.getvalue() + "```\n"
        write_results(
            self.name, md, {"machine": self.machine, "headline": self.headline, "data": self.data}
        )


SCRIPTS_BY_NAME = {name: script for script, name in SCRIPTS.values()}


# --------------------------------------------------------------------------- the driver
def probe() -> dict[str, Any]:
    """pspin's show_config at its default level, and the levels built and runnable, in a
    subprocess (PSPIN_SIMD unset)."""
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    code = (
        "import io, json, pspin; from pspin import _dispatch as d; "
        "c = pspin.show_config(file=io.StringIO()); "
        "c.update(built_levels=d.built_levels(), cpu_levels=d.cpu_levels()); "
        "print(json.dumps(c, default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"import pspin failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def plan(cfg: dict[str, Any], requested: list[str] | None) -> tuple[list[str], dict[str, str]]:
    """(levels to run, {level: why it cannot be measured}) for this box and build."""
    available = list(cfg["simd_levels"])
    skipped: dict[str, str] = {}
    for lv in KNOWN_LEVELS:
        if lv in available:
            continue
        if lv not in cfg["cpu_levels"]:
            skipped[lv] = f"the CPU cannot run it (CPU flags: {cfg['cpu_flags']})"
        else:
            skipped[lv] = f"not in this install (built: {', '.join(cfg['built_levels'])})"
    if requested:
        for lv in requested:
            if lv not in available and lv not in skipped:
                skipped[lv] = f"unknown level (known: {', '.join(KNOWN_LEVELS)})"
        available = [lv for lv in available if lv in requested]
    return available, skipped


def command(script: str, level: str | None, quick: bool, extra: list[str]) -> list[str]:
    path, name = SCRIPTS[script]
    if script == "pytest":
        tail = ["--bench-quick"] if quick else []
        out = RESULTS / f"{name}-{level}.json" if level else RESULTS / f"{name}.json"
        return [sys.executable, "-m", "pytest", str(HERE / path), "-q", "--benchmark-only",
                f"--benchmark-json={out}", *tail, *extra]
    return [sys.executable, str(HERE / path), *(["--quick"] if quick else []), *extra]


def summary(skipped: dict[str, str] | None = None) -> str:
    """results/levels.md: each script's headline targets, one column per level."""
    runs: dict[str, dict[str, dict[str, Any]]] = {}  # script -> level -> payload
    for lv in (*KNOWN_LEVELS, "native"):
        for f in sorted(RESULTS.glob(f"*-{lv}.json")):
            try:
                data = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            if "headline" in data and "machine" in data:
                runs.setdefault(data["script"], {})[lv] = data
    L = ["# pspin benchmarks per SIMD level (bench/levels.py)", ""]
    stamps = [d["machine"] for per in runs.values() for d in per.values()]
    if stamps:
        s = max(stamps, key=lambda m: m["date"])
        L += [f"CPU: {s['cpu_model']}, {s['cores']} cores · flags: {s['cpu_flags']} · "
              f"levels runnable here: {', '.join(s.get('simd_levels') or ['not reported'])}", ""]
    if skipped:
        L += ["Not measured: " + "; ".join(f"**{lv}** ({why})" for lv, why in skipped.items()), ""]
    elif skipped is not None:
        L += [f"Every level ({', '.join(KNOWN_LEVELS)}) runs here and is in this install.", ""]
    for script, per in runs.items():
        levels = list(per)
        L += [f"## {SCRIPTS_BY_NAME.get(script, script)}", "",
              "| target | goal | " + " | ".join(levels) + " |", "|---|---|" + "---|" * len(levels)]
        rows: dict[str, str] = {}
        for lv in levels:
            for h in per[lv]["headline"]:
                rows.setdefault(h["what"], h["goal"])
        for what, goal in rows.items():
            cells = []
            for lv in levels:
                h = next((h for h in per[lv]["headline"] if h["what"] == what), None)
                cells.append(f"{h['text']} {h['verdict']}" if h else "–")
            L.append(f"| {what} | {goal} | " + " | ".join(cells) + " |")
        L += ["", "Runs: " + "; ".join(
            f"{lv} {per[lv]['machine']['date']} (results/{script}-{lv}.md)" for lv in levels), ""]
    return "\n".join(L) + "\n"


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("scripts", nargs="*", help=f"scripts to run: {', '.join(SCRIPTS)} or all")
    ap.add_argument(
        "--levels", default=None, help="comma separated, e.g. v3,v4 (default: all runnable)"
    )
    ap.add_argument("--quick", action="store_true", help="pass --quick to every script")
    ap.add_argument("--summary", action="store_true", help="only re-render results/levels.md")
    args = ap.parse_args(argv)
    bad = set(args.scripts) - {*SCRIPTS, "all"}
    if bad or not (args.scripts or args.summary):
        ap.error(f"name scripts among {', '.join(SCRIPTS)} or all (got {' '.join(argv)})")
    cfg = probe()
    levels, skipped = plan(cfg, args.levels.split(",") if args.levels else None)
    scripts = [s for s in SCRIPTS if s != "pytest"] if "all" in args.scripts else args.scripts
    failed = []
    for script in [] if args.summary else scripts:
        for lv in levels or [None]:
            env = dict(os.environ)
            env.pop(ENV_VAR, None)
            if lv:
                env[ENV_VAR] = lv
            cmd = command(script, lv, args.quick, extra)
            where = lv or "the default level"
            print(f"== {script} at {where}: {' '.join(cmd)}", file=sys.stderr, flush=True)
            if subprocess.run(cmd, env=env, check=False).returncode != 0:
                failed.append(f"{script} at {lv}")
    md = summary(skipped)
    (RESULTS / "levels.md").write_text(md)
    print(md)
    if not levels:
        print("note: this build reports no simd_levels: scripts run once, at its default level "
              "(results without a level suffix, so not in this summary)", file=sys.stderr)
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
