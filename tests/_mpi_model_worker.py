"""Run under mpiexec by tests/test_mpi_model.py: one scenario of DistributedSphericalPSpin.

    mpiexec -n K python tests/_mpi_model_worker.py SCENARIO OUT n p dtype ensemble

Rank 0 pickles what it computed to OUT, with a check that every rank computed the
same bytes; error scenarios pickle the exception's type and message instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import time

import numpy as np
import pspin
from mpi4py import MPI
from pspin.mpi import DistributedSphericalPSpin, RankError, RankTimeout


def contractions(model, dtype):
    """The contractions bit-identity is claimed for, on batches of every kernel path."""
    out = {}
    rng = np.random.default_rng(1)
    for b in (1, 3, 16, 40):
        s = model.random_state(b, seed=b)
        v = rng.standard_normal((b, model.n)).astype(dtype)
        out[f"energy {b}"] = model.energy(s)
        out[f"energy_and_gradient {b}"] = model.energy_and_gradient(s)
        out[f"hessian_vector_product {b}"] = model.hessian_vector_product(s, v)
        out[f"riemannian_hessian_vector_product {b}"] = model.riemannian_hessian_vector_product(s, v)
    out["energy one"] = model.energy(model.random_state(seed=4))
    out["hessian"] = model.hessian(model.random_state(seed=5))
    lbfgs = pspin.minimize(model, n_starts=6, seed=3, method="lbfgs")
    gd = pspin.minimize(model, n_starts=3, seed=3, method="gd", max_iter=40)
    for name, result in (("lbfgs", lbfgs), ("gd", gd)):
        out[name] = (result.states, result.energies, result.iterations, result.converged)
    return out


def landscape(model, dtype):
    """Lanczos spectra and a census, as a user runs them on one process."""
    s = pspin.minimize(model, n_starts=1, seed=2).states[0]
    lanczos = pspin.landscape.smallest_hessian_eigenvalues(model, s, k=3)
    census = pspin.entropy.census(model, 12, seed=4)
    return {"lanczos": np.asarray(lanczos), "census": (census.energies, census.hits, census.states)}


def main():
    scenario, out_path = sys.argv[1], sys.argv[2]
    n, p, dtype, ensemble = int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5], sys.argv[6]
    if isinstance(p, dict):
        p = {int(k): float(v) for k, v in p.items()}
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    result = {}
    try:
        if scenario in ("contractions", "landscape"):
            # Contractions pass their sums in pieces of 2 KB (up to 64 a pass), descents and
            # the census in the default 256 KB: either way the sums are those of one process.
            pieces = {"piece_bytes": 2048} if scenario == "contractions" else {}
            model = DistributedSphericalPSpin(comm, n, p, seed=7, dtype=dtype, ensemble=ensemble, **pieces)
            result = (contractions if scenario == "contractions" else landscape)(model, dtype)
            if scenario == "landscape":
                # numpy's LAPACK rounds differently with other thread counts: the single-process
                # reference runs here, under the same environment.
                single = pspin.SphericalPSpin(n, p, seed=7, dtype=dtype, ensemble=ensemble)
                result["reference"] = landscape(single, dtype)
            result["nbytes"] = model.nbytes
            result["own_tasks"] = model.own_tasks
            result["stats"] = model.exchange_stats
            result["spec"] = model.spec()
            # The same bytes on every rank, not just on rank 0.
            digest = hashlib.sha256(pickle.dumps({k: v for k, v in result.items()
                                                  if k not in ("nbytes", "own_tasks", "stats")})).hexdigest()
            result["digests"] = comm.allgather(digest)
            result["nbytes_all"] = comm.allgather(model.nbytes)
        elif scenario == "seed_differs":
            DistributedSphericalPSpin(comm, n, p, seed=rank, dtype=dtype)
        elif scenario == "states_differ":
            model = DistributedSphericalPSpin(comm, n, p, seed=1, dtype=dtype)
            model.energy(model.random_state(2, seed=rank))
        elif scenario == "unseeded_starts":
            model = DistributedSphericalPSpin(comm, n, p, seed=1, dtype=dtype)
            pspin.minimize(model, n_starts=2)
        elif scenario == "rank_stops":
            model = DistributedSphericalPSpin(comm, n, p, seed=1, dtype=dtype, timeout=2.0)
            if rank == 1:
                time.sleep(8.0)  # gone for longer than the timeout; then leaves without a word
                os._exit(0)
            start = time.monotonic()
            try:
                model.energy(model.random_state(2, seed=1))
            finally:
                result["waited"] = time.monotonic() - start
        elif scenario == "unseeded_model":
            model = DistributedSphericalPSpin(comm, n, p, dtype=dtype)
            result["entropy"] = comm.allgather(str(model.seed_sequence.entropy))
            result["energy"] = comm.allgather(model.energy(model.random_state(seed=1)))
        elif scenario == "many_models":
            # More models than MPI has communicators per process (2048 in MPICH), one at a time.
            for i in range(2100):
                model = DistributedSphericalPSpin(comm, n, p, seed=i, dtype=dtype)
                result["last_energy"] = model.energy(model.random_state(seed=1))
                del model
        elif scenario == "pickle":
            model = DistributedSphericalPSpin(comm, n, p, seed=1, dtype=dtype)
            pickle.dumps(model)
        else:
            DistributedSphericalPSpin(comm, n, p, seed=1, dtype=dtype)
    except (ValueError, TypeError, RankError, RankTimeout, MemoryError) as exc:
        result["error"] = (type(exc).__name__, str(exc))
    if rank == 0:
        with open(out_path, "wb") as fh:
            pickle.dump(result, fh)
    sys.stdout.flush()
    if scenario == "rank_stops":
        os._exit(0)  # MPI_Finalize would wait for the rank that left


if __name__ == "__main__":
    main()
