"""One-run benchmark report for pspin's batched gradient, with issue 9's target ratios.

    python bench/report.py            # full run, ~3-5 minutes on the 2-core box
    python bench/report.py --quick    # < 1 minute: smaller bandwidth arrays, dense baselines
                                      #   only for n <= 400, torch only for n <= 200 and p=2

Everything is measured in this one process, in this order: machine bandwidth (numpy,
bench/bandwidth.py), then for each case (p, n, dtype, b) and thread count (1, 2 of the 2
cores) pspin's gradient, every numpy dense formulation (the fastest is "numpy best") and
torch.einsum. Each implementation's answer is checked against the case's reference before
it is timed. A figure is the median over repeats after one warm-up call (time.perf_counter);
the repeat count fills a time budget per figure (min/max bounded). Around each timing the
foreign load (CPU used by other processes, bench/foreign_load.py) is recorded; 2-thread
figures taken above 0.2 CPUs are retried and, if still loaded, marked contaminated (†) and
their target lines reported as "n/a (load)".

Writes bench/results/latest.json (all raw figures) and bench/results/latest.md (the tables,
also printed on stdout), stamped with the SIMD level loaded, the CPU model and flags; with
PSPIN_SIMD=<level> set, latest-<level>.json / .md (bench/levels.py runs every level). Also
times a batch sweep (p=3 n=400 float64, 1 thread, b = 1..64). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bandwidth
import bench_cases as bc
import levels
import numpy as np
from foreign_load import ForeignLoad, contaminated, limit
from foreign_load import sample as load_sample

CORES = os.cpu_count() or 0

# targets of issue 9 (per SIMD level), and issue 2's thread gain
T_BW_FRACTION = 0.70  # p=3 b=1 n=800: packed bytes / time >= 70% of measured read bandwidth
T_NUMPY_B1 = 3.0  # p=3 b=1 n=400: pspin >= 3x faster than numpy's best dense form
T_NUMPY_B32 = 3.0  # p=3 b=32 n=400, 800: >= 3x faster than numpy's best batched form (GEMM)
T_BATCH_GAIN = 6.0  # p=3 b=32 per-configuration time >= 6x lower than b=1
T_P2_WITHIN = 1.25  # p=2 n=4096 b=32: pspin time <= 1.25x numpy's GEMM
T_THREAD_GAIN = 1.6  # issue 2: 2 threads >= 1.6x faster than 1 at b=32


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- timing
class Timer:
    def __init__(
        self, budget_s: float, min_reps: int, max_reps: int, retries: int, retry_budget_s: float
    ) -> None:
        self.budget_s = budget_s
        self.min_reps = min_reps
        self.max_reps = max_reps
        self.retries = retries
        self.retry_budget_s = retry_budget_s  # total time the whole run may spend on retries
        self.retried = 0

    def _once(self, fn: Callable[[Any], Any], arg: Any, warm_s: float) -> dict[str, Any]:
        reps = int(self.budget_s / max(warm_s, 1e-7))
        reps = max(self.min_reps, min(self.max_reps, reps))
        if warm_s > 0.25:  # slow calls (the dense baselines at n=800): 3 repeats
            reps = min(reps, 3)
        times = []
        with ForeignLoad() as load:
            for _ in range(reps):
                t0 = time.perf_counter()
                fn(arg)
                times.append(time.perf_counter() - t0)
        assert load.sample is not None
        return {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "reps": reps,
            "foreign_load": load.sample.as_dict(),
        }

    def measure(
        self,
        fn: Callable[[Any], Any],
        arg: Any,
        threads: int,
        check: Callable[[Any], float] | None = None,
        settle_s: float = 0.2,
    ) -> dict[str, Any]:
        """Warm-up call, ``check`` of its answer (before any timing), then timed repeats. A
        measurement under too much foreign load (> 0.2 CPUs with 2 threads, > 1 CPU with 1)
        is retried after a pause; the least loaded attempt is kept."""
        time.sleep(settle_s)  # let the previous call's BLAS/OpenMP workers stop spinning
        t0 = time.perf_counter()
        out = fn(arg)
        warm = time.perf_counter() - t0
        err = check(out) if check is not None else None
        self.last_output = out
        del out
        best: dict[str, Any] | None = None
        for attempt in range(1 + self.retries):
            t0 = time.perf_counter()
            res = self._once(fn, arg, warm)
            res["attempts"] = attempt + 1
            res["warmup_s"] = warm
            if (
                best is None
                or res["foreign_load"]["foreign_cpus"] < best["foreign_load"]["foreign_cpus"]
            ):
                best = res
            if (
                not contaminated(res["foreign_load"]["foreign_cpus"], threads)
                or self.retry_budget_s <= 0
            ):
                break
            self.retried += 1
            time.sleep(1.0)
            self.retry_budget_s -= time.perf_counter() - t0
        assert best is not None
        best["max_rel_error"] = err
        best["contaminated"] = contaminated(best["foreign_load"]["foreign_cpus"], threads)
        return best


# --------------------------------------------------------------------------- environment
def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=HERE.parent, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def environment() -> dict[str, Any]:
    import io

    import pspin

    info: dict[str, Any] = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "cores": CORES,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pspin": pspin.__version__,
        "pspin_config": pspin.show_config(file=io.StringIO()),
        "machine": levels.stamp(bc.THREADS),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty_core": bool(
            _git("status", "--porcelain", "--", "cpp", "CMakeLists.txt", "python")
        ),
        "env": {
            k: os.environ.get(k)
            for k in (
                "OMP_NUM_THREADS",
                "OMP_WAIT_POLICY",
                "OPENBLAS_NUM_THREADS",
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "GOMP_SPINCOUNT",
            )
        },
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    info["mem_total_gib"] = round(
        os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1
    )
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            dict(
                {
                    k: d.get(k)
                    for k in (
                        "internal_api",
                        "version",
                        "architecture",
                        "threading_layer",
                        "num_threads",
                    )
                },
                file=os.path.basename(d.get("filepath") or ""),
            )
            for d in threadpool_info()
            if d.get("user_api") == "blas"
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    if bc.torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["torch_opt_einsum"] = bool(torch.backends.opt_einsum.is_available())
    else:
        info["torch"] = None
    return info


# --------------------------------------------------------------------------- the run
def run_cases(args: argparse.Namespace, timer: Timer) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    groups: list[tuple[int, int, str]] = [(3, n, dt) for n in args.sizes for dt in bc.DTYPES]
    if not args.no_p2:
        groups += [(2, bc.P2_SIZE, dt) for dt in bc.DTYPES]
    use_torch = bc.torch_available() and not args.no_torch
    for p, n, dtype in groups:
        t0 = time.perf_counter()
        model = bc.make_model(p, n, dtype)
        build_s = time.perf_counter() - t0
        log(
            f"p={p} n={n} {dtype}: model built in {build_s:.2f} s ({model.nbytes / 1e6:.1f} MB packed)"
        )
        dense_skip = ""
        if n > args.dense_max_n and p == 3:
            dense_skip = "not run (--quick)" if args.quick else "not run (--dense-max-n)"
        else:
            ok, why = bc.dense_fits(p, n, dtype)
            dense_skip = "" if ok else why
        T = None
        dense_build_s = None
        if not dense_skip:
            t0 = time.perf_counter()
            T = bc.dense_tensor(model, dtype)
            dense_build_s = time.perf_counter() - t0
            log(f"  dense tensor {T.nbytes / 1e9:.2f} GB built in {dense_build_s:.1f} s")
        torch_skip = ""
        if not use_torch:
            torch_skip = (
                "not run (torch not importable)"
                if not bc.torch_available()
                else "not run (--no-torch)"
            )
        elif dense_skip:
            torch_skip = dense_skip
        elif p == 3 and n > args.torch_max_n:
            torch_skip = "not run (--quick)" if args.quick else "not run (--torch-max-n)"
        else:
            ok, why = bc.dense_fits(p, n, dtype, bc.TORCH_EXTRA_COPIES - 1.0)  # T already allocated
            torch_skip = "" if ok else why

        # Reference answers for the nested states S_all[:b]: numpy on the dense tensor, or
        # numpy on the packed couplings (~2 s at n=800) where the dense tensor is not built.
        S_all = bc.make_states(model, bc.MAX_BATCH)
        t0 = time.perf_counter()
        if T is not None:
            ref_name, ref_fn = next(iter(bc.numpy_forms(T, p, bc.MAX_BATCH).items()))
            with bc.Threads(CORES):
                ref = ref_fn(S_all)
            ref_name = f"numpy dense ({ref_name})"
        elif n <= args.packed_check_max_n:
            ref, ref_name = bc.packed_reference(model, S_all), "numpy packed reference"
        else:
            ref, ref_name = (
                None,
                "none (dense not run; packed reference skipped: --packed-check-max-n)",
            )
        log(f"  reference: {ref_name} ({time.perf_counter() - t0:.1f} s)")

        def checker(
            what: str, ref: Any = ref, dtype: str = dtype, ref_name: str = ref_name
        ) -> Callable[[Any], float] | None:
            if ref is None:
                return None
            return lambda out: bc.check(out, ref, dtype, f"{what} vs {ref_name}")

        for b in bc.BATCHES:
            case = bc.Case(p, n, b, dtype)
            S = np.ascontiguousarray(S_all[:b])
            forms = bc.numpy_forms(T, p, b) if T is not None else {}
            for k in bc.THREADS:
                row: dict[str, Any] = {
                    "p": p,
                    "n": n,
                    "b": b,
                    "dtype": dtype,
                    "threads": k,
                    "cores": CORES,
                    "packed_bytes": bc.packed_bytes(model),
                    "model_build_s": build_s,
                    "dense_build_s": dense_build_s,
                    "checked_against": ref_name,
                }
                tag = f"{case.label} {k}T"
                with bc.Threads(k):
                    row["pspin"] = timer.measure(
                        bc.pspin_gradient(model), S, k, checker(f"pspin {tag}")
                    )
                    row["_answer"] = timer.last_output  # for the second pass; not saved
                    numpy_res = {
                        name: timer.measure(fn, S, k, checker(f"numpy {name} {tag}"), settle_s=0.1)
                        for name, fn in forms.items()
                    }
                    if numpy_res:
                        best = min(numpy_res, key=lambda nm: numpy_res[nm]["median_s"])
                        row["numpy"] = {
                            "forms": numpy_res,
                            "best": best,
                            "median_s": numpy_res[best]["median_s"],
                            "contaminated": numpy_res[best]["contaminated"],
                        }
                    else:
                        row["numpy"] = {"skipped": dense_skip}
                    if not torch_skip and T is not None:
                        row["torch"] = timer.measure(
                            bc.torch_einsum(T, p, b), S, k, checker(f"torch {tag}"), settle_s=0.1
                        )
                    else:
                        row["torch"] = {"skipped": torch_skip or dense_skip}
                ps = row["pspin"]
                msg = (
                    f"  b={b:<2d} {k}T: pspin {ps['median_s'] * 1e3:9.3f} ms"
                    f" (load {ps['foreign_load']['foreign_cpus']:.2f}, try {ps['attempts']})"
                )
                if "best" in row["numpy"]:
                    msg += f" | numpy {row['numpy']['median_s'] * 1e3:9.2f} ms ({row['numpy']['best']})"
                if "median_s" in row["torch"]:
                    msg += f" | torch {row['torch']['median_s'] * 1e3:9.2f} ms"
                log(msg)
                rows.append(row)
        del T, ref, model
        gc.collect()
    return rows


def batch_sweep(timer: Timer) -> list[dict[str, Any]]:
    """pspin's gradient at every b of bc.SWEEP_BATCHES (p=3, n=400, float64, 1 thread),
    checked against the packed numpy reference (no dense tensor needed)."""
    model = bc.make_model(3, bc.SWEEP_N, "float64")
    S_all = bc.make_states(model, max(bc.SWEEP_BATCHES), pool=max(bc.SWEEP_BATCHES))
    ref = bc.packed_reference(model, S_all)
    out = []
    with bc.Threads(1):
        for b in bc.SWEEP_BATCHES:
            res = timer.measure(
                bc.pspin_gradient(model),
                np.ascontiguousarray(S_all[:b]),
                1,
                lambda got, b=b: bc.check(got, ref, "float64", f"pspin sweep b={b}"),
            )
            log(f"  sweep b={b:<2d}: {res['median_s'] * 1e3 / b:.3f} ms per config")
            out.append({"b": b, "pspin": res})
    return out


def second_pass(
    args: argparse.Namespace, timer: Timer, rows: list[dict[str, Any]], bw: dict[str, Any]
) -> None:
    """Re-measure, at the end of the run, the bandwidth and pspin figures that were taken
    under too much foreign load (a busy spell often passes within minutes); keeps whichever
    attempt saw less foreign load. A re-measured pspin answer must be bit-identical to the
    first one, which was checked against the reference."""
    bad_bw = [k for k in bc.THREADS if bw.get(f"{k}T", {}).get("contaminated")]
    bad_rows = [r for r in rows if r["pspin"]["contaminated"] or r["numpy"].get("contaminated")]
    if not bad_bw and not bad_rows:
        return
    deadline = time.perf_counter() + args.second_pass_wait
    while time.perf_counter() < deadline:
        s = load_sample(2.0)
        if not s.contaminated:
            break
    log(f"second pass: {len(bad_bw)} bandwidth and {len(bad_rows)} case figure(s) under load")
    for k in bad_bw:
        new = bandwidth.measure_all((k,), quick=args.quick, retries=args.retries, log=log)[f"{k}T"]
        if new["max_foreign_load"] < bw[f"{k}T"]["max_foreign_load"]:
            new["second_pass"] = True
            bw[f"{k}T"] = new
    timer.retry_budget_s = max(timer.retry_budget_s, 10.0 if args.quick else 30.0)
    groups: dict[tuple[int, int, str], list[dict[str, Any]]] = {}
    for r in bad_rows:
        groups.setdefault((r["p"], r["n"], r["dtype"]), []).append(r)
    for (p, n, dtype), group in groups.items():
        model = bc.make_model(p, n, dtype)
        S_all = bc.make_states(model, bc.MAX_BATCH)
        T = None
        if (
            any(r["numpy"].get("contaminated") for r in group)
            and bc.dense_bytes(p, n, dtype) <= 2**30
        ):
            T = bc.dense_tensor(model, dtype)  # numpy's best form is re-measured up to 1 GiB
        for r in group:
            answer = r["_answer"]
            if T is not None and r["numpy"].get("contaminated"):
                best = r["numpy"]["best"]
                fn = bc.numpy_forms(T, p, r["b"])[best]
                with bc.Threads(r["threads"]):
                    res = timer.measure(
                        fn,
                        np.ascontiguousarray(S_all[: r["b"]]),
                        r["threads"],
                        lambda out, answer=answer, dtype=dtype: bc.check(
                            out, answer, dtype, "numpy second pass"
                        ),
                    )
                old_np = r["numpy"]["forms"][best]
                log(
                    f"  p={p} n={n} {dtype} b={r['b']} {r['threads']}T: numpy {best} "
                    f"{old_np['median_s'] * 1e3:.3f} ms "
                    f"(load {old_np['foreign_load']['foreign_cpus']:.2f}) -> "
                    f"{res['median_s'] * 1e3:.3f} ms (load {res['foreign_load']['foreign_cpus']:.2f})"
                )
                if res["foreign_load"]["foreign_cpus"] < old_np["foreign_load"]["foreign_cpus"]:
                    res["second_pass"] = True
                    r["numpy"]["forms"][best] = res
                    r["numpy"]["median_s"] = res["median_s"]
                    r["numpy"]["contaminated"] = res["contaminated"]
            if not r["pspin"]["contaminated"]:
                continue

            def same(out: Any, answer: Any = answer) -> float:
                if not np.array_equal(out, answer):
                    raise AssertionError("second-pass pspin answer differs from the first pass")
                return 0.0

            with bc.Threads(r["threads"]):
                res = timer.measure(
                    bc.pspin_gradient(model),
                    np.ascontiguousarray(S_all[: r["b"]]),
                    r["threads"],
                    same,
                )
            old = r["pspin"]
            log(
                f"  p={p} n={n} {dtype} b={r['b']} {r['threads']}T: pspin "
                f"{old['median_s'] * 1e3:.3f} ms (load {old['foreign_load']['foreign_cpus']:.2f}) -> "
                f"{res['median_s'] * 1e3:.3f} ms (load {res['foreign_load']['foreign_cpus']:.2f})"
            )
            if res["foreign_load"]["foreign_cpus"] < old["foreign_load"]["foreign_cpus"]:
                res["max_rel_error"] = old.get("max_rel_error")
                res["second_pass"] = True
                r["pspin"] = res
        del model, T
        gc.collect()


# --------------------------------------------------------------------------- ratios
def _find(rows: list[dict[str, Any]], **kw: Any) -> dict[str, Any] | None:
    for r in rows:
        if all(r[k] == v for k, v in kw.items()):
            return r
    return None


def _verdict(value: float | None, target: float, contaminated: bool = False) -> str:
    if value is None:
        return "n/a"
    if contaminated:
        return "n/a (load)"
    return "PASS" if value >= target else "MISS"


def targets(
    rows: list[dict[str, Any]],
    bw: dict[str, Any],
    sizes: tuple[int, ...],
    sweep: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Issue 9's targets (and issue 2's thread gain), one line per case and thread count."""
    out: list[dict[str, Any]] = []

    def add(target: str, what: str, value: float | None, goal: float, loaded: bool = False,
            note: str = "") -> None:
        out.append({"target": target, "what": what, "value": value, "goal": goal,
                    "verdict": _verdict(value, goal, loaded), "contaminated": loaded, "note": note})

    def ratio(target: str, what: str, num: dict[str, Any] | None, den: dict[str, Any] | None,
              goal: float, scale: float = 1.0) -> None:
        """scale * num time / den time, where num and den are timing results (or absent)."""
        if not num or not den or "median_s" not in num or "median_s" not in den:
            add(target, what, None, goal, note="not measured")
        else:
            add(target, what, scale * num["median_s"] / den["median_s"], goal,
                bool(num.get("contaminated") or den.get("contaminated")))

    def get(impl: str, **kw: Any) -> dict[str, Any] | None:
        r = _find(rows, **kw)
        return r[impl] if r is not None else None

    cores = f"of {CORES} cores"
    for dt in bc.DTYPES:
        for k in bc.THREADS:
            # (1) b=1 streaming at n=800: packed bytes / time vs the read bandwidth
            r, bwk = _find(rows, p=3, n=800, b=1, dtype=dt, threads=k), bw.get(f"{k}T")
            what = f"n=800 b=1 {dt}, {k} {cores}: packed GB/s / read BW"
            if r is None or bwk is None:
                add("1", what, None, T_BW_FRACTION, note="not measured")
            else:
                eff = r["packed_bytes"] / r["pspin"]["median_s"] / 1e9
                add("1", what, eff / bwk["read"]["gbs"], T_BW_FRACTION,
                    r["pspin"]["contaminated"] or bool(bwk.get("contaminated")),
                    f"{eff:.1f} / {bwk['read']['gbs']:.1f} GB/s")
            # (2) b=1 n=400 vs numpy's best dense form
            case = {"p": 3, "n": 400, "b": 1, "dtype": dt, "threads": k}
            ratio("2", f"n=400 b=1 {dt}, {k} {cores}: numpy best / pspin",
                  get("numpy", **case), get("pspin", **case), T_NUMPY_B1)
            for n in (400, 800):
                case = {"p": 3, "n": n, "b": 32, "dtype": dt, "threads": k}
                # (3) b=32 vs numpy's best batched dense form (GEMM)
                ratio("3", f"n={n} b=32 {dt}, {k} {cores}: numpy best / pspin",
                      get("numpy", **case), get("pspin", **case), T_NUMPY_B32)
                # (4) b=32 per configuration vs b=1
                ratio("4", f"n={n} {dt}, {k} {cores}: b=1 time / (b=32 time / 32)",
                      get("pspin", **{**case, "b": 1}), get("pspin", **case), T_BATCH_GAIN, 32.0)
            # (6) p=2 n=4096 b=32 within 1.25x of numpy's GEMM
            case = {"p": 2, "n": bc.P2_SIZE, "b": 32, "dtype": dt, "threads": k}
            ratio("6", f"p=2 n={bc.P2_SIZE} b=32 {dt}, {k} {cores}: numpy GEMM / pspin",
                  get("numpy", **case), get("pspin", **case), 1.0 / T_P2_WITHIN)
    # (5) no batch size dearer per configuration than b=1 (n=400 float64, 1 thread)
    if sweep:
        per = {s["b"]: s["pspin"]["median_s"] / s["b"] for s in sweep}
        worst = max((b for b in per if b != 1), key=lambda b: per[b], default=None)
        if 1 in per and worst is not None:
            add("5", "n=400 float64, 1 thread: per config at b=1 / worst b", per[1] / per[worst],
                1.0, any(s["pspin"]["contaminated"] for s in sweep),
                f"b=1 {per[1] * 1e3:.3f} ms, worst b={worst} {per[worst] * 1e3:.3f} ms")
    # (7) issue 2: 2 threads vs 1 at b=32
    for n in sizes:
        for dt in bc.DTYPES:
            case = {"p": 3, "n": n, "b": 32, "dtype": dt}
            if _find(rows, **case) is not None:
                ratio("7", f"n={n} b=32 {dt}: 1-thread / 2-thread time ({CORES} cores)",
                      get("pspin", **case, threads=1), get("pspin", **case, threads=2), T_THREAD_GAIN)
    return sorted(out, key=lambda t: t["target"])


TARGET_NAMES = {
    "1": f"(1) p=3 b=1 n=800: packed bytes / time ≥ {100 * T_BW_FRACTION:.0f}% of measured read bandwidth",
    "2": f"(2) p=3 b=1 n=400 ≥ {T_NUMPY_B1:g}× faster than numpy's best dense form",
    "3": f"(3) p=3 b=32 ≥ {T_NUMPY_B32:g}× faster than numpy's best batched dense form (GEMM)",
    "4": f"(4) p=3 b=32 per configuration ≥ {T_BATCH_GAIN:g}× cheaper than b=1",
    "5": "(5) no b in the sweep dearer per configuration than b=1",
    "6": f"(6) p=2 n={bc.P2_SIZE} b=32 within {T_P2_WITHIN:g}× of numpy's GEMM",
    "7": f"(7) issue 2: 2 threads ≥ {T_THREAD_GAIN:g}× faster than 1 at b=32",
}


def _target_text(t: dict[str, Any]) -> tuple[str, str]:
    """(value, goal) as printed: % for the bandwidth fraction, × otherwise."""
    pct = t["target"] == "1"
    v, g = t["value"], t["goal"]
    vs = "–" if v is None else f"{100 * v:.0f}%" if pct else f"{v:.2f}×"
    return vs, f"≥ {100 * g:.0f}%" if pct else f"≥ {g:.3g}×"


def headline(tg: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [levels.headline(f"{TARGET_NAMES[t['target']].split(' ', 1)[0]} {t['what']}", t["value"],
                            *_target_text(t), t["verdict"]) for t in tg]


# --------------------------------------------------------------------------- formatting
def _ms(res: dict[str, Any] | None, per: int = 1) -> str:
    if not res or "median_s" not in res:
        return "–"
    v = res["median_s"] * 1e3 / per
    s = f"{v:.3f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"
    return s + (" †" if res.get("contaminated") else "")


def _ratio(x: float) -> str:
    return f"{x:.2f}" if x < 1 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def markdown(
    env: dict[str, Any],
    bw: dict[str, Any],
    rows: list[dict[str, Any]],
    tg: list[dict[str, Any]],
    args: argparse.Namespace,
    wall_s: float,
    sweep: list[dict[str, Any]] | None = None,
) -> str:
    L: list[str] = []
    cfg = env["pspin_config"]
    level = (env.get("machine") or {}).get("simd_level", "?")
    L.append(
        f"# pspin gradient benchmark, SIMD level {level} "
        f"({'quick' if args.quick else 'full'} run, {CORES} cores)"
    )
    L.append("")
    L.append(levels.stamp_md(env.get("machine")))
    L.append("")
    L.append(
        f"{env['date']} · {env['cpu']} · {CORES} cores · {env['mem_total_gib']} GiB · "
        f"pspin {env['pspin']} (git {env['git_commit']}{', core modified' if env['git_dirty_core'] else ''}; "
        f"{cfg.get('compiler')}, OpenMP {cfg.get('openmp')}, SIMD {cfg.get('simd_width_bits')} bit) · "
        f"numpy {env['numpy']} · torch {env['torch'] or 'absent'} · run took {wall_s:.0f} s"
    )
    blas = env.get("blas")
    set_vars = ", ".join(f"{k}={v}" for k, v in env["env"].items() if v is not None)
    if isinstance(blas, list) and blas:
        libs = "; ".join(
            f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['threading_layer']}"
            f"{', ' + b['file'] if b.get('file') else ''})"
            for b in blas
        )
        L.append(
            f"BLAS loaded: {libs}. Environment: {set_vars or 'no OMP_/OPENBLAS_/GOMP_ variables set'}."
        )
    L.append("")
    L.append(
        "Times are medians over repeats after one warm-up; threads are of the machine's "
        f"{CORES} cores; † = figure taken under foreign load (CPU used by other processes) above "
        f"its limit ({limit(2):.1f} CPUs with 2 threads, {limit(1):.1f} with 1), to be discarded; "
        "`load` = foreign CPUs during the pspin timing. GB/s = 1e9 B/s. GFLOP/s counts 4 flop "
        "per packed coupling per configuration (2 FMA, perf.md §2; matmul peak ≈ 65 f64 / 145 f32 "
        "per core)."
    )
    L.append("")
    L.append(
        f"## Memory bandwidth (numpy, {bw['array_bytes'] / 2**30:.2g} GiB arrays, median of rounds [min..max])"
    )
    L.append("")
    L.append("| kernel | " + " | ".join(f"{k} of {CORES} cores" for k in bc.THREADS) + " |")
    L.append("|---|" + "---|" * len(bc.THREADS))
    for kernel in (*bandwidth.KERNELS, "read"):
        cells = []
        for k in bc.THREADS:
            r = bw.get(f"{k}T", {}).get(kernel)
            if r is None:
                cells.append("–")
                continue
            load = r["foreign_load"]["foreign_cpus"]
            dag = " †" if contaminated(load, k) else ""
            cells.append(f"{r['gbs']:.1f} [{r['gbs_min']:.1f}..{r['gbs_max']:.1f}]{dag}")
        name = {"read": "**read (best of the two)**", "add": "add (triad traffic)"}.get(
            kernel, kernel
        )
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Gradient")
    L.append("")
    L.append(
        "| p | n | b | dtype | threads | pspin ms | ms/config | packed GB/s | % read BW | GFLOP/s | "
        "numpy best ms (form) | × numpy | torch.einsum ms | × torch | load |"
    )
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        k = r["threads"]
        ps = r["pspin"]
        eff = r["packed_bytes"] / ps["median_s"] / 1e9
        bwk = bw.get(f"{k}T", {}).get("read", {}).get("gbs")
        frac = f"{100 * eff / bwk:.0f}%" if (bwk and r["b"] == 1) else "–"
        npy = r["numpy"]
        if "median_s" in npy:
            npy_s = f"{_ms(npy['forms'][npy['best']])} ({npy['best']})"
            x_np = _ratio(npy["median_s"] / ps["median_s"])
        else:
            npy_s, x_np = npy.get("skipped", "–"), "–"
        th = r["torch"]
        if "median_s" in th:
            th_s, x_th = _ms(th), _ratio(th["median_s"] / ps["median_s"])
        else:
            th_s, x_th = th.get("skipped", "–"), "–"
        flops = (
            4.0 * r["packed_bytes"] / np.dtype(r["dtype"]).itemsize * r["b"] / ps["median_s"] / 1e9
        )
        L.append(
            f"| {r['p']} | {r['n']} | {r['b']} | {r['dtype']} | {k} of {CORES} cores | {_ms(ps)} | "
            f"{_ms(ps, r['b'])} | {eff:.1f} | {frac} | {flops:.1f} | {npy_s} | {x_np} | {th_s} | {x_th} | "
            f"{ps['foreign_load']['foreign_cpus']:.2f} |"
        )
    L.append("")
    if sweep:
        L.append("## Batch sweep (p=3, n=400, float64, 1 thread)")
        L.append("")
        L.append("| b | pspin ms | ms/config | per config vs b=1 | load |")
        L.append("|---|---|---|---|---|")
        per1 = sweep[0]["pspin"]["median_s"] / sweep[0]["b"]
        for sw in sweep:
            ps = sw["pspin"]
            L.append(
                f"| {sw['b']} | {_ms(ps)} | {_ms(ps, sw['b'])} | "
                f"{_ratio(ps['median_s'] / sw['b'] / per1)} | {ps['foreign_load']['foreign_cpus']:.2f} |"
            )
        L.append("")
    L.append("## Targets (issue 9)")
    L.append("")
    names = TARGET_NAMES
    L.append("| target | measurement | value | goal | verdict |")
    L.append("|---|---|---|---|---|")
    for t in tg:
        vs, goal = _target_text(t)
        note = f" ({t['note']})" if t["note"] else ""
        L.append(
            f"| {names[t['target']]} | {t['what']}{note} | {vs} | {goal} | **{t['verdict']}** |"
        )
    L.append("")
    counts = []
    for key in names:
        sel = [t for t in tg if t["target"] == key]
        if sel:
            npass = sum(t["verdict"] == "PASS" for t in sel)
            nmiss = sum(t["verdict"] == "MISS" for t in sel)
            rest = len(sel) - npass - nmiss
            counts.append(f"({key}) {npass} PASS, {nmiss} MISS" + (f", {rest} n/a" if rest else ""))
    L.append("Summary: " + "; ".join(counts) + ".")
    loads = [r["pspin"]["foreign_load"]["foreign_cpus"] for r in rows]
    if loads:
        L.append("")
        L.append(
            f"Foreign load during pspin timings: max {max(loads):.2f} CPUs, median {statistics.median(loads):.2f} "
            f"(of {CORES}); {sum(1 for r in rows if r['pspin']['contaminated'])} pspin figure(s) marked †; "
            f"{sum(1 for r in rows if r['pspin'].get('second_pass'))} re-measured in a second pass."
        )
    L.append("")
    L.append(
        f"Reproduce: `python bench/report.py{' --quick' if args.quick else ''}` "
        "(packages: numpy, threadpoolctl, torch optional; pytest-benchmark for the suite)."
    )
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="pspin gradient benchmark report")
    ap.add_argument("--quick", action="store_true", help="< 1 minute: fewer repeats and baselines")
    ap.add_argument("--sizes", type=int, nargs="+", default=list(bc.P3_SIZES), help="p=3 sizes")
    ap.add_argument("--no-p2", action="store_true", help="skip the p=2 n=4096 cases")
    ap.add_argument("--no-torch", action="store_true", help="skip torch.einsum")
    ap.add_argument(
        "--no-sweep", action="store_true", help="skip the batch sweep (n=400 f64, b = 1..64)"
    )
    ap.add_argument(
        "--dense-max-n", type=int, default=None, help="largest p=3 n with dense numpy baselines"
    )
    ap.add_argument("--torch-max-n", type=int, default=None, help="largest p=3 n with torch.einsum")
    ap.add_argument(
        "--packed-check-max-n",
        type=int,
        default=10**9,
        help="largest n checked with the (slow) packed numpy reference when dense is not run",
    )
    ap.add_argument(
        "--retries", type=int, default=2, help="retries of a measurement under foreign load"
    )
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the foreign load to fall below 0.2 CPUs",
    )
    ap.add_argument(
        "--out", type=Path, default=HERE / "results", help="folder for latest[-LEVEL].json / .md"
    )
    ap.add_argument(
        "--second-pass-wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="before re-measuring loaded figures at the end, wait up to SECONDS for an idle box "
        "(default 60; 10 with --quick)",
    )
    ap.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only re-render the markdown of a saved results JSON (no measurement)",
    )
    args = ap.parse_args(argv)
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        saved_args = argparse.Namespace(**saved["args"])
        rows, bw, sweep = saved["rows"], saved["bandwidth"], saved.get("sweep")
        tg = targets(rows, bw, tuple(saved_args.sizes), sweep)
        print(markdown(saved["environment"], bw, rows, tg, saved_args, saved["wall_s"], sweep))
        return 0
    if args.dense_max_n is None:
        args.dense_max_n = 400 if args.quick else 10**9
    if args.second_pass_wait is None:
        args.second_pass_wait = 10.0 if args.quick else 60.0
    if args.torch_max_n is None:
        args.torch_max_n = 200 if args.quick else 400
    args.sizes = tuple(args.sizes)
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        log(
            "warning: threadpoolctl is missing, numpy's BLAS runs with its default thread count "
            "(pip install threadpoolctl)"
        )

    if args.wait_idle > 0:
        deadline = time.perf_counter() + args.wait_idle
        while True:
            s = load_sample(2.0)
            if not s.contaminated or time.perf_counter() > deadline:
                break
            log(f"waiting for the box to be idle: foreign load {s.foreign_cpus:.2f} CPUs")
            time.sleep(3.0)
    t_start = time.perf_counter()
    env = environment()
    idle = load_sample(1.0)
    env["foreign_load_at_start"] = idle.as_dict()
    log(
        f"pspin {env['pspin']} (git {env['git_commit']}), {CORES} cores; foreign load at start "
        f"{idle.foreign_cpus:.2f} CPUs"
    )
    log("bandwidth ...")
    bw = bandwidth.measure_all(bc.THREADS, quick=args.quick, retries=args.retries, log=log)
    timer = Timer(
        budget_s=0.25 if args.quick else 0.6,
        min_reps=3 if args.quick else 5,
        max_reps=2000,
        retries=args.retries,
        retry_budget_s=10.0 if args.quick else 30.0,
    )
    rows = run_cases(args, timer)
    sweep = None if args.no_sweep else batch_sweep(timer)
    second_pass(args, timer, rows, bw)
    for r in rows:
        r.pop("_answer", None)
    tg = targets(rows, bw, args.sizes, sweep)
    wall = time.perf_counter() - t_start
    md = markdown(env, bw, rows, tg, args, wall, sweep)
    payload = {
        "machine": env["machine"],
        "headline": headline(tg),
        "environment": env,
        "args": {
            k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
        },
        "bandwidth": bw,
        "rows": rows,
        "sweep": sweep,
        "targets": tg,
        "wall_s": wall,
    }
    levels.write_results("latest", md, payload, args.out)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
