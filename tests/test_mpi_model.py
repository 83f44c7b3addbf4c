"""DistributedSphericalPSpin: couplings split over MPI ranks, results bit-identical to one process.

Each case runs tests/_mpi_model_worker.py under ``mpiexec -n K`` (MPICH from the
``mpich`` wheel of the mpi extra) and compares what rank 0 computed with the
single-process model of the same seed, byte for byte.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pspin
import pytest

pytest.importorskip("mpi4py", reason="the mpi extra (mpi4py) is not installed")
MPIEXEC = shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on PATH (install the mpich wheel: pip install 'pspin[mpi]')")

WORKER = Path(__file__).with_name("_mpi_model_worker.py")


def run_ranks(tmp_path: Path, ranks: int, scenario: str, n: int, p, dtype="float64", ensemble="distinct",
              timeout: float = 120.0) -> dict:
    out = tmp_path / f"{scenario}-{ranks}.pkl"
    # One thread per rank: four ranks share the two cores of a CI machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PSPIN_MPI_TIMEOUT": "60"}
    cmd = [MPIEXEC, "-n", str(ranks), sys.executable, str(WORKER), scenario, str(out), str(n), json.dumps(p), dtype,
           ensemble]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.exists(), f"rank 0 wrote nothing (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    with out.open("rb") as fh:
        return pickle.load(fh)


def reference(n: int, p, dtype: str, ensemble: str) -> dict:
    """The single-process results, computed as the worker computes them."""
    sys.path.insert(0, str(WORKER.parent))
    try:
        import _mpi_model_worker as worker
    finally:
        sys.path.pop(0)
    model = pspin.SphericalPSpin(n, p, seed=7, dtype=dtype, ensemble=ensemble)
    return {**worker.contractions(model, dtype), "model": model}


def assert_bit_identical(got, want, where: str) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_bit_identical(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape, where
        assert got.tobytes() == want.tobytes(), f"{where}: max |diff| {np.max(np.abs(got - want))}"
    else:
        assert type(got) is type(want) and np.float64(got).tobytes() == np.float64(want).tobytes(), where


CASES = [
    pytest.param(200, 3, "float64", "distinct", id="p3-f64"),
    pytest.param(200, 3, "float32", "distinct", id="p3-f32"),
    # 30 tasks merged into 16 groups for batches of 16 and 40: ranks split at group bounds.
    pytest.param(2000, 2, "float64", "distinct", id="p2-merged-groups"),
    pytest.param(150, {2: 0.5, 3: 1.0}, "float64", "isotropic", id="mixed-isotropic"),
]


@pytest.mark.parametrize(("n", "p", "dtype", "ensemble"), CASES)
def test_contractions_and_descents_are_bit_identical_to_one_process(tmp_path, n, p, dtype, ensemble):
    want = reference(n, p, dtype, ensemble)
    model = want.pop("model")
    for ranks in (1, 2, 4):
        got = run_ranks(tmp_path, ranks, "contractions", n, p, dtype, ensemble)
        assert "error" not in got, got.get("error")
        for key, value in want.items():
            assert_bit_identical(got[key], value, f"{key} on {ranks} rank(s)")
        assert len(set(got["digests"])) == 1, f"ranks computed different results on {ranks} ranks"
        # Each rank holds its share only, and the shares add up to the whole model.
        assert sum(got["nbytes_all"]) == model.nbytes
        assert max(got["nbytes_all"]) <= model.nbytes / ranks * 1.5
        assert got["stats"].passes > 0
        # spec() rebuilds the whole model in one process.
        rebuilt = pspin.models.from_spec(got["spec"])
        assert rebuilt.couplings_sha256() == model.couplings_sha256()


def test_exchanges_send_one_batch_of_sums_per_pass(tmp_path):
    got = run_ranks(tmp_path, 2, "contractions", 200, 3)
    stats = got["stats"]
    # Rank 0 of 2 sends its running sums to rank 1 once per pass (b n values + b energies
    # + a 16-byte header), and nothing in the broadcast: the bytes are bounded by the
    # largest batch of the scenario (40 states of 200 spins, padded to 40 lanes).
    assert 0 < stats.bytes_sent <= stats.passes * (16 + 8 * 40 + 8 * 2 * 40 * 200 + 8 * 200 * 200)


def test_lanczos_spectra_and_census_run_unchanged(tmp_path):
    got = run_ranks(tmp_path, 2, "landscape", 200, 3)
    assert "error" not in got, got.get("error")
    want = got["reference"]
    assert_bit_identical(got["lanczos"], want["lanczos"], "Lanczos eigenvalues")
    assert_bit_identical(got["census"], want["census"], "census")
    assert got["census"][0].size > 1


def test_unseeded_model_shares_rank_zeros_entropy(tmp_path):
    got = run_ranks(tmp_path, 2, "unseeded_model", 200, 3)
    assert "error" not in got, got.get("error")
    assert len(set(got["entropy"])) == 1 and len(set(got["energy"])) == 1


@pytest.mark.parametrize(("scenario", "n", "error", "words"), [
    ("seed_differs", 200, "ValueError", ["disagree", "seed_entropy", "rank 0: '0'", "rank 1: '1'"]),
    ("states_differ", 200, "RankError", ["rank 1 was given other arguments"]),
    ("unseeded_starts", 200, "RankError", ["same seed="]),
    ("too_many_ranks", 30, "ValueError", ["splits into 1 task", "at most 1 rank"]),
    ("memory", 40000, "MemoryError", ["held by the 2 rank(s) on this node"]),
    ("pickle", 200, "TypeError", ["cannot be pickled", "from_spec"]),
])
def test_bad_input_is_a_clear_error_on_rank_zero(tmp_path, scenario, n, error, words):
    got = run_ranks(tmp_path, 2, scenario, n, 3)
    assert "error" in got, f"{scenario}: no error raised"
    name, message = got["error"]
    assert name == error, message
    for word in words:
        assert word in message, message


def test_models_free_their_communicators(tmp_path):
    got = run_ranks(tmp_path, 2, "many_models", 120, 3)
    assert "error" not in got, got.get("error")
    assert got["last_energy"] == pspin.SphericalPSpin(120, 3, seed=2099).energy(
        pspin.SphericalPSpin(120, 3, seed=2099).random_state(seed=1))


def test_a_rank_that_stops_answering_gives_a_timeout_not_a_hang(tmp_path):
    start = time.monotonic()
    got = run_ranks(tmp_path, 2, "rank_stops", 200, 3, timeout=60)
    assert time.monotonic() - start < 30
    name, message = got["error"]
    assert name == "RankTimeout" and "rank 0 of 2 waited 2 s" in message, message
    assert 2.0 <= got["waited"] < 5.0
