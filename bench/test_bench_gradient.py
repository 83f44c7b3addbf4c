"""pytest-benchmark suite: p=3 (n = 200, 400, 800) and p=2 (n = 4096) batched gradients.

Every benchmark is one (case, threads, implementation):
  case            p, n, b in {1, 32}, dtype in {float64, float32}
  threads         1 or 2 (of the box's 2 cores): pspin's OpenMP threads, numpy's BLAS threads
                  (threadpoolctl) and torch's intra-op threads all set to the same count
  implementation  pspin (model.gradient on packed couplings), numpy:<form> (each dense
                  formulation of bench_cases.numpy_forms) or torch (torch.einsum, CPU)

Before timing, each benchmark checks its answer against the case's reference (numpy on the
dense tensor, or a numpy computation on the packed couplings where the dense tensor does not
fit in memory). Baselines whose dense tensor does not fit are skipped with
"not run (memory)". The foreign load (CPU used by other processes) is measured around each
timing and stored in extra_info; the terminal summary lists 2-thread figures above 0.2 CPUs.

``python bench/report.py`` runs the same functions with its own timing loop and prints the
issue's target ratios.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import bench_cases as bc
import numpy as np
import pytest
from conftest import BenchStore, bench_sizes, record_load
from foreign_load import ForeignLoad

SLOW_CALL_S = 0.1  # above this per call, time a fixed 3 rounds instead of calibrating


def _impls(case: bc.Case) -> list[str]:
    dummy = np.zeros((2,) * case.p)
    names = ["pspin"] + [f"numpy:{name}" for name in bc.numpy_forms(dummy, case.p, case.b)]
    return names + ["torch"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bench_case" not in metafunc.fixturenames:
        return
    sizes = bench_sizes(metafunc.config)
    no_torch = metafunc.config.getoption("--bench-no-torch")
    torch_max_n = metafunc.config.getoption("--bench-torch-max-n")
    params = []
    for case in bc.all_cases(sizes):
        for k in bc.THREADS:
            for impl in _impls(case):
                if impl == "torch" and (no_torch or (case.p == 3 and case.n > torch_max_n)):
                    continue
                ident = f"{case.ident}-{k}T-{impl.replace(' ', '_')}"
                params.append(pytest.param(case, k, impl, id=ident))
    metafunc.parametrize(("bench_case", "threads", "impl"), params)


def _function(store: BenchStore, case: bc.Case, impl: str) -> Callable[[np.ndarray], np.ndarray]:
    if impl == "pspin":
        return bc.pspin_gradient(store.model(case.p, case.n, case.dtype))
    if impl == "torch":
        if not bc.torch_available():
            pytest.skip("torch is not importable")
        T = store.dense_tensor(case.p, case.n, case.dtype, extra_copies=bc.TORCH_EXTRA_COPIES)
        return bc.torch_einsum(T, case.p, case.b)
    T = store.dense_tensor(case.p, case.n, case.dtype)
    return bc.numpy_forms(T, case.p, case.b)[impl.split(":", 1)[1]]


def test_gradient(
    benchmark: Any,
    store: BenchStore,
    bench_case: bc.Case,
    threads: int,
    impl: str,
    request: pytest.FixtureRequest,
) -> None:
    case = bench_case
    fn = _function(store, case, impl)
    S = store.S(case)
    ref, ref_name = store.reference(case)
    model = store.model(case.p, case.n, case.dtype)

    benchmark.group = f"{case.label}, {threads} thread(s) of 2 cores"
    time.sleep(0.2)  # let BLAS/OpenMP worker threads of the previous benchmark stop spinning
    with bc.Threads(threads):
        t0 = time.perf_counter()
        got = fn(S)  # also the warm-up
        first_call = time.perf_counter() - t0
        err = bc.check(got, ref, case.dtype, f"{impl} vs {ref_name}")
        with ForeignLoad() as load:
            if first_call > SLOW_CALL_S:
                benchmark.pedantic(fn, args=(S,), rounds=3, iterations=1, warmup_rounds=0)
            else:
                benchmark(fn, S)
    assert load.sample is not None
    record_load(request.node.name, threads, load.sample.foreign_cpus, load.sample.reliable)
    benchmark.extra_info.update(
        {
            "p": case.p,
            "n": case.n,
            "b": case.b,
            "dtype": case.dtype,
            "threads": threads,
            "cores": 2,
            "impl": impl,
            "packed_bytes": bc.packed_bytes(model),
            "checked_against": ref_name,
            "max_rel_error": err,
            "foreign_load_cpus": round(load.sample.foreign_cpus, 3),
            "contaminated": bool(load.sample.contaminated_for(threads)),
        }
    )


def test_dense_builder() -> None:
    """bench_cases.dense_tensor equals the package's own tensors() (not a benchmark)."""
    for p, n in ((3, 23), (2, 31)):
        model = bc.make_model(p, n, "float64")
        np.testing.assert_array_equal(bc.dense_tensor(model), model.tensors()[p])


def test_packed_reference() -> None:
    """The packed numpy reference agrees with the dense einsum (not a benchmark)."""
    for p, n in ((3, 19), (2, 17)):
        model = bc.make_model(p, n, "float64")
        S = bc.make_states(model, 3)
        T = model.tensors()[p]
        dense = -0.5 * np.einsum("ijk,bj,bk->bi", T, S, S) if p == 3 else -(S @ T)
        bc.check(bc.packed_reference(model, S), dense, "float64", "packed reference")
