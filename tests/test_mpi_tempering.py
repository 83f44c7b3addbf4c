"""pspin.mpi.ParallelTempering: slots split over MPI ranks, bit-identical to one process.

Each case runs ``mpiexec -n N python <driver>`` (every subprocess with a timeout, so a
hang fails the test instead of CI), the ranks pickle their result, states, labels and
engine state, and the test compares them byte for byte with pspin.ParallelTempering
run in this process.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pspin
import pytest

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="mpi4py is not installed"),
    pytest.mark.skipif(shutil.which("mpiexec") is None, reason="no mpiexec on PATH"),
]

_DRIVER = textwrap.dedent('''
    import json, pickle, sys
    from mpi4py import MPI
    import pspin, pspin.mpi

    case, out = json.loads(sys.argv[1]), sys.argv[2]
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    cls = pspin.IsingPSpin if case["kind"] == "ising" else pspin.SphericalPSpin
    model = cls(case["n"], case["p"], seed=case["model_seed"] + rank * case.get("model_seed_per_rank", 0),
                dtype=case.get("dtype", "float64"))
    if case.get("raise_on_rank") == rank:
        raise RuntimeError("rank failed on purpose")
    if case.get("hang_on_rank") == rank:
        import time
        time.sleep(case["hang_seconds"])
        sys.exit(0)
    try:
        pt = pspin.mpi.ParallelTempering(comm if not case.get("bad_comm") else "world", model, case["temps"],
                                         replicas=case["K"], seed=case["seed"] + rank * case.get("seed_per_rank", 0),
                                         adaptive=case.get("adaptive", False), timeout=case.get("timeout", 60))
        result = pt.run(case["sweeps"], burn_in=case.get("burn_in", 0), sample_every=case.get("sample_every", 1),
                        snapshot_every=case.get("snapshot_every", 0), checkpoint=case.get("checkpoint"))
        saved = {"result": result, "states": pt.states(), "labels": pt._engine.temp_of_slot(),
                 "aux": pt._engine.aux()}
    except Exception as exc:
        saved = {"error": type(exc).__name__, "message": str(exc)}
    with open(f"{out}.{rank}", "wb") as f:
        pickle.dump(saved, f)
''')


def _model(case: dict[str, Any]) -> pspin.models.PSpinModel:
    cls = pspin.IsingPSpin if case["kind"] == "ising" else pspin.SphericalPSpin
    return cls(case["n"], case["p"], seed=case["model_seed"], dtype=case.get("dtype", "float64"))


def _launch(tmp_path: Path, case: dict[str, Any], ranks: int, timeout: float = 90) -> tuple[subprocess.CompletedProcess, list[dict]]:
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    out = tmp_path / f"out{ranks}"
    proc = subprocess.run(["mpiexec", "-n", str(ranks), sys.executable, str(driver), json.dumps(case), str(out)],
                          capture_output=True, text=True, timeout=timeout)
    saved = []
    for rank in range(ranks):
        path = Path(f"{out}.{rank}")
        saved.append(pickle.loads(path.read_bytes()) if path.exists() else {"missing": True})
    return proc, saved


def _reference(case: dict[str, Any]) -> tuple[pspin.ParallelTempering, pspin.PTResult]:
    pt = pspin.ParallelTempering(_model(case), case["temps"], replicas=case["K"], seed=case["seed"],
                                 adaptive=case.get("adaptive", False))
    result = pt.run(case["sweeps"], burn_in=case.get("burn_in", 0), sample_every=case.get("sample_every", 1),
                    snapshot_every=case.get("snapshot_every", 0))
    return pt, result


def _assert_identical(saved: dict[str, Any], pt: pspin.ParallelTempering, ref: pspin.PTResult) -> None:
    res = saved["result"]
    assert res == ref
    for name in ("temperatures", "energies", "overlaps", "swap_attempts", "swap_accepts", "round_trips_per_slot",
                 "move_acceptance", "snapshots", "snapshot_sweeps"):
        a, b = getattr(res, name), getattr(ref, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), name
    assert saved["states"].tobytes() == pt.states().tobytes()
    assert np.array_equal(saved["labels"], pt._engine.temp_of_slot())
    assert saved["aux"].tobytes() == pt._engine.aux().tobytes()  # fields, energies, HMC steps and counters


_SPHERICAL = {"kind": "spherical", "n": 16, "p": 3, "model_seed": 1, "temps": [0.5, 0.7, 1.0, 1.5], "K": 2,
              "seed": 5, "sweeps": 30, "burn_in": 6, "snapshot_every": 8}
_ISING = {"kind": "ising", "n": 16, "p": 3, "model_seed": 2, "temps": [0.5, 0.8, 1.2, 2.0, 3.0], "K": 3,
          "seed": 7, "sweeps": 40, "burn_in": 20, "snapshot_every": 10, "adaptive": True, "sample_every": 3}


@pytest.mark.parametrize("ranks", [1, 2, 4])
@pytest.mark.parametrize("case", [
    _SPHERICAL,
    _ISING,
    # one ladder, adaptive ladder and HMC steps, single precision
    {"kind": "spherical", "n": 12, "p": 3, "model_seed": 3, "temps": [0.4, 0.8, 1.2, 1.6, 2.4], "K": 1,
     "seed": 8, "sweeps": 40, "burn_in": 20, "adaptive": True, "dtype": "float32"},
    # 128 slots at n = 200: the batched pass merges tasks into groups, and a rank's share of the
    # slots is a smaller batch; the grouping must not depend on the batch (kernels/fields.hpp).
    {"kind": "spherical", "n": 200, "p": 3, "model_seed": 4, "temps": list(np.linspace(0.5, 2.0, 32)), "K": 4,
     "seed": 9, "sweeps": 3, "burn_in": 1},
], ids=["spherical-K2", "ising-K3-adaptive", "spherical-K1-f32-adaptive", "spherical-n200-128-slots"])
def test_bit_identical_to_one_process(tmp_path: Path, case: dict[str, Any], ranks: int) -> None:
    proc, saved = _launch(tmp_path, case, ranks)
    assert proc.returncode == 0, proc.stderr[-4000:]
    pt, ref = _reference(case)
    for rank, s in enumerate(saved):
        assert "error" not in s, (rank, s)
        _assert_identical(s, pt, ref)


def test_checkpoint_resumes_on_another_rank_count(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    path = tmp_path / "run.h5"
    first = dict(_SPHERICAL, sweeps=14, checkpoint=str(path))
    proc, saved = _launch(tmp_path, first, 2)
    assert proc.returncode == 0 and "error" not in saved[0], (proc.stderr[-4000:], saved[0])
    # 14 sweeps on 2 ranks, then on 4 ranks to 30: the single-process run's numbers.
    proc, saved = _launch(tmp_path, dict(_SPHERICAL, checkpoint=str(path)), 4)
    assert proc.returncode == 0, proc.stderr[-4000:]
    pt, ref = _reference(_SPHERICAL)
    for s in saved:
        assert "error" not in s, s
        _assert_identical(s, pt, ref)
    # ... and the file is the single-process format: one process continues it.
    more = pspin.ParallelTempering(_model(_SPHERICAL), _SPHERICAL["temps"], replicas=2, seed=_SPHERICAL["seed"])
    resumed = more.run(30, burn_in=6, snapshot_every=8, checkpoint=path)
    assert resumed == ref


@pytest.mark.parametrize("change, error, text", [
    ({"K": 1, "temps": [1.0, 2.0]}, "ValueError", "4 ranks for 2 configurations"),
    ({"seed_per_rank": 1}, "ValueError", "seed_entropy"),
    ({"model_seed_per_rank": 1}, "ValueError", "couplings_sha256"),
    ({"bad_comm": True}, "TypeError", "intracommunicator"),
])
def test_bad_input_is_an_error_on_every_rank(tmp_path: Path, change: dict[str, Any], error: str, text: str) -> None:
    proc, saved = _launch(tmp_path, dict(_SPHERICAL, **change), 4)
    for rank, s in enumerate(saved):
        assert s.get("error") == error and text in s["message"], (rank, s, proc.stderr[-2000:])


def test_rank_that_raises_gives_rank_timeout(tmp_path: Path) -> None:
    # Rank 1 dies before building; the others must not hang past their timeout. mpiexec
    # may kill them once rank 1 exits: then they leave no file, which is no hang either.
    proc, saved = _launch(tmp_path, dict(_SPHERICAL, raise_on_rank=1, timeout=3), 2, timeout=60)
    assert proc.returncode != 0
    assert "rank failed on purpose" in proc.stderr
    other = saved[0]
    if "missing" not in other:
        assert other["error"] == "RankTimeout" and "waited 3 s" in other["message"], other


def test_rank_that_hangs_gives_rank_timeout(tmp_path: Path) -> None:
    proc, saved = _launch(tmp_path, dict(_SPHERICAL, hang_on_rank=1, hang_seconds=8, timeout=2), 2, timeout=60)
    assert saved[0].get("error") == "RankTimeout" and "waited 2 s" in saved[0]["message"], (saved[0], proc.stderr)
