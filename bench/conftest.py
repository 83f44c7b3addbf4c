"""pytest-benchmark configuration for pspin's benchmark suite (bench/).

Run:  python -m pytest bench -q --benchmark-only        (everything, a few minutes on 2 cores)
      python -m pytest bench -q --benchmark-only --bench-quick   (n <= 400, no torch at n=800)

bench/ is outside pyproject's ``testpaths`` (tests/), so a plain ``pytest`` never runs it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cases as bc
from foreign_load import CONTAMINATED, contaminated

_LOADS: list[tuple[str, int, float, bool]] = []  # (test id, threads, foreign CPUs, reliable)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pspin-bench")
    group.addoption(
        "--bench-sizes",
        default=None,
        help="comma-separated p=3 sizes (default 200,400,800; 200,400 with --bench-quick)",
    )
    group.addoption("--bench-quick", action="store_true", help="p=3 sizes 200 and 400 only")
    group.addoption("--bench-no-torch", action="store_true", help="skip the torch.einsum baselines")
    group.addoption(
        "--bench-torch-max-n",
        type=int,
        default=400,
        help="largest p=3 n with a torch.einsum baseline (default 400: at n=800 it takes ~3 s a call)",
    )
    group.addoption(
        "--bench-dense-cache-gib",
        type=float,
        default=6.0,
        help="dense tensors kept between tests (GiB); more are rebuilt",
    )


def bench_sizes(config: pytest.Config) -> tuple[int, ...]:
    raw = config.getoption("--bench-sizes")
    if raw:
        return tuple(int(x) for x in raw.split(","))
    return (200, 400) if config.getoption("--bench-quick") else bc.P3_SIZES


class BenchStore:
    """Session cache of models, states, dense tensors and reference gradients."""

    def __init__(self, dense_cache_bytes: int) -> None:
        self.models: dict[tuple[int, int, str], Any] = {}
        self.states: dict[tuple[int, int, str, int], Any] = {}
        self.dense: dict[tuple[int, int, str], Any] = {}
        self.refs: dict[bc.Case, tuple[Any, str]] = {}
        self.dense_cache_bytes = dense_cache_bytes

    def model(self, p: int, n: int, dtype: str) -> Any:
        key = (p, n, dtype)
        if key not in self.models:
            self.models[key] = bc.make_model(p, n, dtype)
        return self.models[key]

    def S(self, case: bc.Case) -> Any:
        key = (case.p, case.n, case.dtype, case.b)
        if key not in self.states:
            self.states[key] = bc.make_states(self.model(case.p, case.n, case.dtype), case.b)
        return self.states[key]

    def dense_tensor(self, p: int, n: int, dtype: str, extra_copies: float = 0.0) -> Any:
        """The dense tensor, or pytest.skip('not run (memory)') if it cannot fit."""
        key = (p, n, dtype)
        if key in self.dense:
            ok, why = bc.dense_fits(p, n, dtype, extra_copies - 1.0)  # already allocated
        else:
            need = bc.dense_bytes(p, n, dtype)
            held = sum(t.nbytes for t in self.dense.values())
            if held + need > self.dense_cache_bytes:
                self.dense.clear()
                import gc

                gc.collect()
            ok, why = bc.dense_fits(p, n, dtype, extra_copies)
            if ok:
                self.dense[key] = bc.dense_tensor(self.model(p, n, dtype), dtype)
        if not ok:
            pytest.skip(why)
        return self.dense[key]

    def reference(self, case: bc.Case) -> tuple[Any, str]:
        """(float64 reference gradient, how it was computed) for a case."""
        if case not in self.refs:
            model = self.model(case.p, case.n, case.dtype)
            S = self.S(case)
            ok, _ = bc.dense_fits(case.p, case.n, case.dtype)
            if ok or (case.p, case.n, case.dtype) in self.dense:
                T = self.dense_tensor(case.p, case.n, case.dtype)
                name, form = next(iter(bc.numpy_forms(T, case.p, case.b).items()))
                self.refs[case] = (form(S), f"numpy dense ({name})")
            else:
                self.refs[case] = (bc.packed_reference(model, S), "numpy packed reference")
        return self.refs[case]


@pytest.fixture(scope="session")
def store(request: pytest.FixtureRequest) -> BenchStore:
    gib = request.config.getoption("--bench-dense-cache-gib")
    return BenchStore(int(gib * 2**30))


def record_load(test_id: str, threads: int, foreign: float, reliable: bool) -> None:
    _LOADS.append((test_id, threads, foreign, reliable))


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """Stamps --benchmark-json with the SIMD level, CPU model and flags (bench/levels.py)."""
    import levels

    machine_info["pspin"] = levels.stamp(bc.THREADS)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _LOADS:
        return
    tr = terminalreporter
    worst = max(_LOADS, key=lambda r: r[2])
    bad = [r for r in _LOADS if contaminated(r[2], r[1])]
    tr.write_sep("-", "foreign load (CPUs used by other processes while timing; 2 cores)")
    tr.write_line(f"worst: {worst[2]:.2f} CPUs in {worst[0]}")
    if bad:
        tr.write_line(
            f"{len(bad)} benchmark(s) ran under foreign load above their limit (2 threads: "
            f"{CONTAMINATED} CPUs; 1 thread: {1 + CONTAMINATED} CPUs); discard their figures (perf.md):"
        )
        for test_id, _, load, _ in bad:
            tr.write_line(f"  {load:.2f}  {test_id}")
    else:
        tr.write_line(
            "no benchmark ran under foreign load above its limit "
            f"(2 threads: {CONTAMINATED} CPUs; 1 thread: {1 + CONTAMINATED} CPUs)"
        )
