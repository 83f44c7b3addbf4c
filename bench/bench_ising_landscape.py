"""Ising landscape throughput: exact enumeration (states/s) and single-flip descent (minima/s).

pytest-benchmark:  python -m pytest bench/bench_ising_landscape.py -q --benchmark-only
Script (a table):  python bench/bench_ising_landscape.py [--quick]
                   (also written to results/ising_landscape[-LEVEL].md / .json)

"Visited" counts the configurations the Gray-code walk actually steps through: 2^n, or
2^(n-1) for models without odd degrees (s and -s are equivalent, so half the
configurations are walked and the other half listed as mirror images). "Covered" = 2^n.
Each row records the foreign load (CPUs used by other processes while timing); discard a
2-thread figure taken above 0.2 CPUs (shared/reference/perf.md).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import levels
import pspin
from foreign_load import ForeignLoad, sample
from pspin.landscape._ising import enumerate_local_minima, minimize_ising

SEED = 20240601


def _enumerate(n: int, p: int | dict[int, float]) -> tuple[object, float, float]:
    model = pspin.IsingPSpin(n, p, seed=SEED)
    cpu0, t0 = time.process_time(), time.perf_counter()
    res = enumerate_local_minima(model, max_n=40)
    return res, time.perf_counter() - t0, time.process_time() - cpu0


# ---------------------------------------------------------------- pytest-benchmark
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("p,n", [(2, 26), (3, 22), ({2: 1.0, 3: 1.0}, 22)])
def test_enumeration(benchmark, p, n, threads):
    model = pspin.IsingPSpin(n, p, seed=SEED)
    with pspin.threads(threads), ForeignLoad() as load:
        res = benchmark.pedantic(enumerate_local_minima, args=(model,), rounds=3, warmup_rounds=1)
    assert res.count > 0 and (res.states * model.local_fields(res.states) >= 0).all()
    benchmark.extra_info.update(
        visited_per_s=res.visited / benchmark.stats.stats.median,
        count=res.count,
        foreign_cpus=load.sample.foreign_cpus,
    )


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("method", ["greedy", "random"])
@pytest.mark.parametrize("p,n,starts", [(2, 1000, 64), (3, 200, 32)])
def test_descent(benchmark, p, n, starts, method, threads):
    model = pspin.IsingPSpin(n, p, seed=SEED)
    with pspin.threads(threads), ForeignLoad() as load:
        res = benchmark.pedantic(
            minimize_ising,
            args=(model, starts),
            kwargs={"method": method, "seed": 1},
            rounds=3,
            warmup_rounds=1,
        )
    assert res.converged.all()
    benchmark.extra_info.update(
        minima_per_s=starts / benchmark.stats.stats.median,
        mean_energy_per_spin=float(res.energy_per_spin.mean()),
        foreign_cpus=load.sample.foreign_cpus,
    )


# ---------------------------------------------------------------- script
def _enumeration_rows(quick: bool) -> None:
    cases = [(2, 24), (3, 22)] if quick else [(2, 28), (3, 26), (3, 28), ({2: 1.0, 3: 1.0}, 26)]
    print(
        f"{'model':>14} {'n':>3} {'thr':>3} {'wall s':>7} {'cpu s':>7} {'visited/s':>10} "
        f"{'covered/s':>10} {'visited/cpu-s':>13} {'count':>6} {'foreign':>7}"
    )
    for p, n in cases:
        for threads in (1, 2):
            with pspin.threads(threads), ForeignLoad() as load:
                res, wall, cpu = _enumerate(n, p)
            print(
                f"{p!s:>14} {n:3d} {threads:3d} {wall:7.2f} {cpu:7.2f} {res.visited / wall:10.3g} "
                f"{2**n / wall:10.3g} {res.visited / cpu:13.3g} {res.count:6d} {load.sample.foreign_cpus:7.2f}"
            )


def _descent_rows(quick: bool) -> None:
    cases = (
        [(2, 1000, 64), (3, 200, 32)]
        if quick
        else [(2, 1000, 256), (2, 4000, 32), (3, 200, 128), (3, 400, 32)]
    )
    print(
        f"{'model':>6} {'n':>5} {'starts':>6} {'method':>7} {'thr':>3} {'wall s':>7} {'minima/s':>9} "
        f"{'<iter>':>7} {'<e>':>8} {'conv':>5} {'foreign':>7}"
    )
    for p, n, starts in cases:
        model = pspin.IsingPSpin(n, p, seed=SEED)
        for method in ("greedy", "random"):
            for threads in (1, 2):
                with pspin.threads(threads), ForeignLoad() as load:
                    t0 = time.perf_counter()
                    res = minimize_ising(model, starts, method=method, seed=1)
                    wall = time.perf_counter() - t0
                print(
                    f"{p:6d} {n:5d} {starts:6d} {method:>7} {threads:3d} {wall:7.2f} {starts / wall:9.3g} "
                    f"{res.iterations.mean():7.1f} {res.energy_per_spin.mean():8.4f} {res.converged.mean():5.2f} "
                    f"{load.sample.foreign_cpus:7.2f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for an idle machine",
    )
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait_idle
    while time.monotonic() < deadline and sample(2.0).contaminated:
        pass
    info = pspin.show_config(file=io.StringIO())
    with levels.Recorder("ising_landscape", (1, 2)):
        print(
            f"pspin {pspin.__version__}, compiler {info['compiler']}, max threads {info['max_threads']}"
        )
        print("Exact enumeration of one-flip-stable states")
        _enumeration_rows(args.quick)
        print(
            "\nSingle-flip descent to one-flip-stable states (includes building the dense couplings);"
        )
        print("<iter>: mean flips per start (greedy) or sweeps (random)")
        _descent_rows(args.quick)


if __name__ == "__main__":
    main()
