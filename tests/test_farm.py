"""pspin.farm: disorder samples on any executor, bit-identical to the loop and to the CLI.

Serial, process pools of 1 and 2 workers and MPI (``mpiexec -n 2 python -m mpi4py.futures``
in a subprocess) give equal FarmResults; sample i has the CLI's seeds (``--sample-index
i``); results save, load and pickle; the disorder average agrees with numpy; bad
arguments fail before any work; a failing sample is named; a timeout fires without
hanging; a killed farm leaves whole files and resumes. Every subprocess has a timeout.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import _farm_jobs
import numpy as np
import pspin
import pytest
from pspin._cli import main as cli_main

TESTS = Path(__file__).resolve().parent
N, P, SAMPLES, SEED = 12, 3, 4, 11
MAKE = functools.partial(pspin.SphericalPSpin, N, P)
JOB = functools.partial(pspin.minimize, n_starts=4)
SUBPROCESS_TIMEOUT = 120


@pytest.fixture(scope="module")
def reference() -> pspin.FarmResult:
    return pspin.farm(MAKE, JOB, SAMPLES, seed=SEED)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
            "OMP_NUM_THREADS": "1"}


def _mpi() -> str:
    pytest.importorskip("mpi4py", reason="MPI tests need mpi4py: pip install 'pspin[mpi]'")
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        pytest.skip("MPI tests need mpiexec on PATH (pip install 'pspin[mpi]' brings MPICH)")
    return mpiexec


def _without_run(result: Any) -> Any:
    """The result without what the CLI adds (its configuration in params['run'])."""
    return dataclasses.replace(result, params={k: v for k, v in result.params.items() if k != "run"})


# ---------------------------------------------------------------- identical everywhere
def test_order_seeds_and_models(reference: pspin.FarmResult) -> None:
    assert [s.index for s in reference.samples] == list(range(SAMPLES))
    assert reference.indices.tolist() == list(range(SAMPLES))
    for i, (seeds, spec, result) in enumerate(zip(reference.seeds, reference.models, reference.results)):
        assert seeds == {"model_seed_entropy": str(SEED), "model_seed_spawn_key": f"({i}, 0)",
                         "seed_entropy": str(SEED), "seed_spawn_key": f"({i}, 1)"}
        # Sample i is the loop over SeedSequence(seed).spawn(...)[i]: couplings (i, 0), run (i, 1).
        base = np.random.SeedSequence(SEED).spawn(SAMPLES)[i]
        model_seed, run_seed = base.spawn(2)
        model = pspin.SphericalPSpin(N, P, seed=model_seed)
        assert spec == model.spec()
        assert result == pspin.minimize(model, 4, seed=run_seed)
    assert reference.params["seed_entropy"] == str(SEED) and reference.params["n_samples"] == SAMPLES


@pytest.mark.parametrize("workers", [1, 2])
def test_process_pools_equal_serial(reference: pspin.FarmResult, workers: int) -> None:
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        farmed = pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, executor=pool, threads=1)
    assert farmed == reference
    assert farmed.run_info["executor"] == "ProcessPoolExecutor" and farmed.run_info["workers"] == workers


def test_dask_executor_equals_serial(reference: pspin.FarmResult) -> None:
    # Dask's executor is a concurrent.futures.Executor: the farm needs nothing else. An
    # in-process cluster (worker threads, inproc transport) opens no port.
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        farmed = pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, executor=client.get_executor())
    assert farmed == reference


def test_thread_pool_and_sample_ranges(reference: pspin.FarmResult) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, executor=pool) == reference
    part = pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, samples="1:3")
    assert part.samples == reference.samples[1:3]
    assert pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, samples=[3, 0]).samples == (reference.samples[0], reference.samples[3])
    assert pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, samples=range(2, 4)).samples == reference.samples[2:]


def test_seeds_and_results_equal_the_cli(reference: pspin.FarmResult, tmp_path: Path) -> None:
    assert cli_main(["minimize", "--n", str(N), "--p", str(P), "--seed", str(SEED), "--samples", str(SAMPLES),
                     "--n-starts", "4", "--sample-index", "2", "-o", str(tmp_path / "m.h5"), "--quiet"]) == 0
    from_cli = pspin.load(tmp_path / "m.sample-00002.h5")
    assert _without_run(from_cli) == reference.results[2]
    assert from_cli.params["model_seed_spawn_key"] == reference.seeds[2]["model_seed_spawn_key"] == "(2, 0)"
    assert from_cli.params["seed_spawn_key"] == reference.seeds[2]["seed_spawn_key"] == "(2, 1)"


def test_save_load_pickle(reference: pspin.FarmResult, tmp_path: Path) -> None:
    path = reference.save(tmp_path / "farm.h5")
    assert pspin.load(path) == reference
    assert pickle.loads(pickle.dumps(reference)) == reference
    sample = reference.samples[1]
    assert pspin.load(sample.save(tmp_path / "one.h5")) == sample
    assert pspin.models.from_spec(sample.model).spec() == sample.model
    assert reference.to_dataframe()["index"].tolist() == list(range(SAMPLES))
    error = pspin.FarmError(3, "disorder sample 3 failed: x")
    again = pickle.loads(pickle.dumps(error))
    assert again.sample == 3 and str(again) == str(error)


# ---------------------------------------------------------------- disorder averages
def test_average_against_numpy(reference: pspin.FarmResult) -> None:
    lowest = np.array([r.energy_per_spin.min() for r in reference.results])
    avg = reference.average(lambda m: m.energy_per_spin.min())
    assert avg.n_samples == SAMPLES and avg.values.tolist() == lowest.tolist()
    assert avg.mean == pytest.approx(lowest.mean(), rel=1e-14)
    assert avg.error == pytest.approx(lowest.std(ddof=1) / np.sqrt(SAMPLES), rel=1e-12)
    # Arrays: the sorted energies of each sample, averaged element by element.
    arrays = np.array([np.sort(r.energy_per_spin) for r in reference.results])
    by_element = pspin.disorder_average(reference, lambda m: np.sort(m.energy_per_spin))
    np.testing.assert_allclose(by_element.mean, arrays.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(by_element.error, arrays.std(axis=0, ddof=1) / np.sqrt(SAMPLES), rtol=1e-12)
    # A ratio of disorder means by the delete-one jackknife, written out with numpy.
    a = np.array([np.mean(r.energy_per_spin ** 2) for r in reference.results])
    b = np.array([np.mean(r.energy_per_spin) for r in reference.results])
    ratio = reference.average(lambda m: (np.mean(m.energy_per_spin ** 2), np.mean(m.energy_per_spin)),
                              combine=lambda x, y: x / y ** 2)
    leave = np.array([np.delete(a, k).mean() / np.delete(b, k).mean() ** 2 for k in range(SAMPLES)])
    full = a.mean() / b.mean() ** 2
    assert ratio.mean == pytest.approx(SAMPLES * full - (SAMPLES - 1) * leave.mean(), rel=1e-12)
    assert ratio.error == pytest.approx(np.sqrt((SAMPLES - 1) / SAMPLES * ((leave - leave.mean()) ** 2).sum()), rel=1e-10)
    assert ratio.params["method"] == "jackknife"
    with pytest.raises(ValueError, match="at least 2 samples"):
        pspin.disorder_average(reference.results[:1], lambda m: 1.0)
    with pytest.raises(ValueError, match=r"NaN or infinite for sample\(s\) 1"):
        reference.average(lambda m: np.nan if m is reference.results[1] else 1.0)


# ---------------------------------------------------------------- bad input, failures, timeouts
def _counting() -> tuple[Any, list[int]]:
    calls: list[int] = []

    def make(**kwargs: Any) -> Any:
        calls.append(1)
        return MAKE(**kwargs)
    return make, calls


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"make_model": "not callable"}, TypeError, "make_model must be callable"),
    ({"job": None}, TypeError, "job must be callable"),
    ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
    ({"n_samples": 2.0}, TypeError, "n_samples must be an int"),
    ({"n_samples": True}, TypeError, "n_samples must be an int"),
    ({"executor": object()}, TypeError, "executor must be a concurrent.futures.Executor"),
    ({"samples": "2:9"}, ValueError, "samples 0..3"),
    ({"samples": [1, 1]}, ValueError, "repeats"),
    ({"samples": "x"}, ValueError, "A:B"),
    ({"timeout": -1}, ValueError, "timeout must be a positive"),
    ({"threads": 0}, ValueError, "threads must be >= 1"),
    ({"on_result": 3}, TypeError, "on_result must be callable"),
    ({"seed": None, "out": "somewhere"}, ValueError, "needs a fixed seed"),
    ({"seed": -1}, ValueError, "seed must be non-negative"),
])
def test_bad_input_raises_before_work(change: dict[str, Any], error: type[Exception], match: str, tmp_path: Path) -> None:
    make, calls = _counting()
    kwargs: dict[str, Any] = {"make_model": make, "job": JOB, "n_samples": SAMPLES, "seed": SEED, **change}
    if kwargs.get("out") == "somewhere":
        kwargs["out"] = tmp_path
    with pytest.raises(error, match=match):
        pspin.farm(**kwargs)
    assert calls == []


def test_seed_is_required_and_out_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="seed"):
        pspin.farm(MAKE, JOB, 2)  # type: ignore[call-arg]
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        pspin.farm(MAKE, JOB, 2, seed=1, out=tmp_path / "file")


def test_lambdas_to_a_process_pool_say_what_to_use() -> None:
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        with pytest.raises(TypeError, match="job must pickle.*functools.partial or a module-level function"):
            pspin.farm(MAKE, lambda model, seed: pspin.minimize(model, 2, seed=seed), 2, seed=1, executor=pool)
        with pytest.raises(TypeError, match="make_model must pickle"):
            pspin.farm(lambda seed: MAKE(seed=seed), JOB, 2, seed=1, executor=pool)


@pytest.mark.parametrize("workers", [None, 2])
def test_a_failing_sample_is_named(workers: int | None, tmp_path: Path) -> None:
    pool = None if workers is None else concurrent.futures.ProcessPoolExecutor(workers)
    try:
        with pytest.raises(pspin.FarmError, match="disorder sample 2 failed: ValueError: boom") as caught:
            pspin.farm(MAKE, _farm_jobs.boom, SAMPLES, seed=SEED, executor=pool, out=tmp_path)
    finally:
        if pool is not None:
            pool.shutdown()
    assert caught.value.sample == 2 and isinstance(caught.value.__cause__, ValueError)
    if pool is None:  # serial: the samples before the failure are on disk, the later one is not started
        assert sorted(p.name for p in tmp_path.glob("sample-*.h5")) == ["sample-00000.h5", "sample-00001.h5"]
    with pytest.raises(pspin.FarmError, match="disorder sample 0 failed: TypeError: make_model returned a int"):
        pspin.farm(lambda seed: 3, JOB, 1, seed=1)
    with pytest.raises(pspin.FarmError, match="disorder sample 0 failed: TypeError: job returned a float"):
        pspin.farm(MAKE, lambda model, seed: 1.0, 1, seed=1)


def test_timeout_stops_a_serial_farm() -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"after 0.5 s: sample\(s\) 0-3 not finished \(4\)"):
        pspin.farm(MAKE, _farm_jobs.sleepy, SAMPLES, seed=SEED, timeout=0.5)
    assert time.monotonic() - start < 5
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def test_timeout_cancels_a_pool() -> None:
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        start = time.monotonic()
        with pytest.raises(TimeoutError, match=r"sample\(s\) 0-3 not finished.*already handed to the workers"):
            pspin.farm(MAKE, _farm_jobs.nap, SAMPLES, seed=SEED, executor=pool, timeout=0.3)
        assert time.monotonic() - start < 1.5
    # The pool winds down after the naps it had taken (1 s each; the pool queues one more
    # than its workers), and the rest were cancelled.
    assert time.monotonic() - start < 3.9


# ---------------------------------------------------------------- files and resume
_KILLED_FARM = textwrap.dedent("""
    import functools, sys
    import _farm_jobs, pspin
    pspin.farm(functools.partial(pspin.SphericalPSpin, {n}, {p}), _farm_jobs.descend, {samples},
               seed={seed}, out=sys.argv[1])
""")


def test_killed_farm_leaves_whole_files_and_resumes(tmp_path: Path) -> None:
    out, calls = tmp_path / "out", tmp_path / "calls"
    calls.mkdir()
    env = {**_env(), "PSPIN_FARM_HANG_AT": "2", "PSPIN_FARM_CALLS": str(calls)}
    script = _KILLED_FARM.format(n=N, p=P, samples=SAMPLES, seed=SEED)
    child = subprocess.Popen([sys.executable, "-c", script, str(out)], env=env)
    try:
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT
        while not (calls / "called-2").exists():
            assert child.poll() is None, "the farm ended before it reached the hanging sample"
            assert time.monotonic() < deadline, "the farm never reached sample 2"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait(timeout=SUBPROCESS_TIMEOUT)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["sample-00000.h5", "sample-00001.h5"], files
    for name in files:
        assert isinstance(pspin.load(out / name), pspin.FarmSample)
    # Resume: 0 and 1 are read back, not run again; the result is the uninterrupted farm's.
    for f in calls.iterdir():
        f.unlink()
    os.environ["PSPIN_FARM_CALLS"] = str(calls)
    try:
        resumed = pspin.farm(MAKE, _farm_jobs.descend, SAMPLES, seed=SEED, out=out)
    finally:
        del os.environ["PSPIN_FARM_CALLS"]
    assert sorted(f.name for f in calls.iterdir()) == ["called-2", "called-3"]
    assert resumed.run_info["resumed"] == [0, 1]
    assert resumed == pspin.farm(MAKE, _farm_jobs.descend, SAMPLES, seed=SEED)
    assert sorted(p.name for p in out.iterdir()) == [f"sample-{i:05d}.h5" for i in range(SAMPLES)]
    # Another farm's files are refused, never overwritten or reused.
    with pytest.raises(ValueError, match=r"sample-00000.h5 holds another farm \(model_seed_entropy"):
        pspin.farm(MAKE, _farm_jobs.descend, SAMPLES, seed=SEED + 1, out=out)
    with pytest.raises(ValueError, match="holds another farm.*job"):
        pspin.farm(MAKE, JOB, SAMPLES, seed=SEED, out=out)
    # A damaged file is redone, with a warning.
    damaged = out / "sample-00003.h5"
    data = bytearray(damaged.read_bytes())
    data[-100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="sample-00003.h5 is unreadable"):
        again = pspin.farm(MAKE, _farm_jobs.descend, SAMPLES, seed=SEED, out=out)
    assert again == resumed and again.run_info["resumed"] == [0, 1, 2]


# ---------------------------------------------------------------- MPI and the command line
def test_import_pspin_does_not_import_mpi4py() -> None:
    # Only pspin.mpi uses mpi4py, and only when a run asks for MPI: importing it (or the
    # rest of pspin) must not initialise MPI.
    code = "import sys, pspin, pspin.entropy, pspin.landscape, pspin.sampling, pspin.mpi; assert 'mpi4py' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)
    assert done.returncode == 0, done.stderr


_MPI_FARM = textwrap.dedent("""
    import functools, sys
    from mpi4py.futures import MPIPoolExecutor
    import pspin
    with MPIPoolExecutor() as pool:
        farmed = pspin.farm(functools.partial(pspin.SphericalPSpin, {n}, {p}),
                            functools.partial(pspin.minimize, n_starts=4), {samples}, seed={seed}, executor=pool)
    farmed.save(sys.argv[1])
""")


def test_mpi_pool_equals_serial(reference: pspin.FarmResult, tmp_path: Path) -> None:
    mpiexec = _mpi()
    script = tmp_path / "farm_mpi.py"
    script.write_text(_MPI_FARM.format(n=N, p=P, samples=SAMPLES, seed=SEED))
    done = subprocess.run([mpiexec, "-n", "2", sys.executable, "-m", "mpi4py.futures", str(script), str(tmp_path / "f.h5")],
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    farmed = pspin.load(tmp_path / "f.h5")
    assert farmed == reference
    assert farmed.run_info["executor"] == "MPIPoolExecutor"


def _cli_args(out: Path) -> list[str]:
    run = out.parent.parent / "run.toml"
    run.write_text(f"n = {N}\np = {P}\nseed = {SEED}\nsamples = {SAMPLES}\nn_starts = 4\n")
    return ["minimize", str(run), "--samples", "0:4", "--threads", "1", "-o", str(out)]


def _cli_files(out: Path) -> list[Any]:
    return [_without_run(pspin.load(out.with_name(f"m.sample-{i:05d}.h5"))) for i in range(SAMPLES)]


def test_cli_under_mpi_futures_equals_serial(tmp_path: Path) -> None:
    mpiexec = _mpi()
    serial, mpi = tmp_path / "serial" / "m.h5", tmp_path / "mpi" / "m.h5"
    assert cli_main([*_cli_args(serial), "--quiet"]) == 0
    done = subprocess.run([mpiexec, "-n", "3", sys.executable, "-m", "mpi4py.futures", "-m", "pspin", *_cli_args(mpi)],
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert _cli_files(mpi) == _cli_files(serial)
    assert done.stdout.split() == [str(mpi.with_name(f"m.sample-{i:05d}.h5")) for i in range(SAMPLES)]
    # More ranks than samples left to do (a resumed job): a warning, not an error.
    (mpi.with_name("m.sample-00003.h5")).unlink()
    done = subprocess.run([mpiexec, "-n", "3", sys.executable, "-m", "mpi4py.futures", "-m", "pspin", *_cli_args(mpi)],
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning: 2 mpi workers for 1 sample(s) to do: 1 will be idle" in done.stderr
    assert _cli_files(mpi) == _cli_files(serial)


def test_cli_process_executor_equals_serial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serial, pool = tmp_path / "serial" / "m.h5", tmp_path / "pool" / "m.h5"
    assert cli_main([*_cli_args(serial), "--quiet"]) == 0
    assert cli_main([*_cli_args(pool), "--executor", "process", "--workers", "2"]) == 0
    assert _cli_files(pool) == _cli_files(serial)
    for path in pool.parent.glob("m.sample-*.h5"):
        path.unlink()
    # More workers than samples asked for is a layout mistake, refused before any work.
    assert cli_main([*_cli_args(pool), "--executor", "process", "--workers", "5", "--samples", "0:2"]) == 2
    assert "5 process workers for 2 sample(s): use at most 2 worker(s)" in capsys.readouterr().err
    assert not list(pool.parent.glob("m.sample-*.h5"))


@pytest.mark.parametrize(("flags", "match"), [
    (["--executor", "serial", "--workers", "2"], "needs --executor process"),
    (["--executor", "process", "--workers", "0"], "--workers must be >= 1"),
    (["--executor", "mpi", "--workers", "2"], "MPI workers are the ranks"),
])
def test_cli_executor_flags_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], match: str) -> None:
    assert cli_main([*_cli_args(tmp_path / "x" / "m.h5"), *flags]) == 2
    assert match in capsys.readouterr().err
    assert not list(tmp_path.glob("x/m.sample-*"))


def test_cli_mpi_without_mpi4py_or_ranks(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mpi4py" else real(name, *a))
    assert cli_main([*_cli_args(tmp_path / "x" / "m.h5"), "--executor", "mpi"]) == 2
    assert "pip install 'pspin[mpi]'" in capsys.readouterr().err
    monkeypatch.undo()
    _mpi()
    # One process, no mpiexec: no workers to send samples to.
    done = subprocess.run([sys.executable, "-m", "pspin", *_cli_args(tmp_path / "x" / "m.h5"), "--executor", "mpi"],
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, env=_env())
    assert done.returncode == 2 and "needs workers: run under mpiexec -n K" in done.stderr, done.stderr


def test_cli_failing_sample_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # isotropic Ising models do not exist: the sample's model fails inside the farm.
    assert cli_main(["minimize", "--model", "ising", "--ensemble", "isotropic", "--n", "8", "--p", "2",
                     "--seed", "1", "-o", str(tmp_path / "m.h5")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[pspin ")]
    assert len(err) == 1 and "disorder sample 0 failed" in err[0] and "isotropic" in err[0], err
