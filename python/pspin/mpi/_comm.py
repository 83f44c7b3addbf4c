"""Collective steps with a deadline, shared by everything in ``pspin.mpi``.

A blocking MPI collective waits forever for a rank that died or took another
branch; every exchange here polls a non-blocking request instead and raises
:class:`RankTimeout` past ``timeout`` seconds, naming what was being exchanged.
"""

from __future__ import annotations

import os
import pickle
import time
from typing import Any

import numpy as np

# A distributed step is one pass over the couplings; on any sane machine no rank lags
# the others by ten minutes, so past that a rank is gone (or stuck) and we say so.
DEFAULT_TIMEOUT = 600.0
_TIMEOUT_ENV = "PSPIN_MPI_TIMEOUT"


class RankError(RuntimeError):
    """The ranks of a distributed run disagree, or one of them failed."""


class RankTimeout(RankError, TimeoutError):
    """A rank did not take part in an exchange within the timeout (it died or hangs)."""


def mpi() -> Any:
    """The ``mpi4py.MPI`` module, or an ImportError that says how to get it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:  # pragma: no cover - exercised only without mpi4py
        raise ImportError(
            "pspin.mpi needs mpi4py and an MPI library: pip install 'pspin[mpi]' (mpi4py and the "
            "mpich wheel), or mpi4py built against your cluster's MPI"
        ) from exc
    return MPI


def resolve_timeout(timeout: float | None) -> float:
    """Seconds an exchange may wait: ``timeout``, else $PSPIN_MPI_TIMEOUT, else 600."""
    if timeout is None:
        raw = os.environ.get(_TIMEOUT_ENV)
        if raw is None:
            return DEFAULT_TIMEOUT
        try:
            timeout = float(raw)
        except ValueError:
            raise ValueError(f"{_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, np.integer, np.floating)):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if not np.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive finite number of seconds, got {timeout}")
    return float(timeout)


def wait(request: Any, timeout: float, what: str, comm: Any) -> None:
    """Complete ``request`` or raise RankTimeout after ``timeout`` seconds.

    Polls, yielding the core, for the first 2 ms (a healthy exchange completes within
    microseconds of the slowest rank's arrival, and a rank waiting on its neighbour has
    nothing else to run), then sleeps between polls, 50 microseconds growing to 1 ms, so
    that a rank waiting long for a slower one leaves the node's cores to its computing
    threads.
    """
    if request.Test():
        return
    start = time.monotonic()
    spin_until = start + 2e-3
    pause = 5e-5
    while not request.Test():
        now = time.monotonic()
        if now - start > timeout:
            raise RankTimeout(
                f"rank {comm.Get_rank()} of {comm.Get_size()} waited {timeout:g} s for {what}: another rank "
                "died, raised an error or hangs (set the limit with timeout= or PSPIN_MPI_TIMEOUT)"
            )
        if now < spin_until:
            os.sched_yield()
            continue
        time.sleep(pause)
        pause = min(pause * 2, 1e-3)


def allgather(comm: Any, obj: Any, timeout: float, what: str) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank."""
    MPI = mpi()
    payload = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
    sizes = np.zeros(comm.Get_size(), dtype=np.int64)
    wait(comm.Iallgather(np.array([payload.size], dtype=np.int64), sizes), timeout, what, comm)
    gathered = np.empty(int(sizes.sum()), dtype=np.uint8)
    offsets = _allgatherv(comm, payload, gathered, sizes, MPI.BYTE, timeout, what)
    return [pickle.loads(gathered[o:o + s].tobytes()) for o, s in zip(offsets, sizes)]


def _allgatherv(comm: Any, send: np.ndarray, out: np.ndarray, sizes: np.ndarray, mpi_type: Any, timeout: float,
                what: str) -> np.ndarray:
    """Every rank's ``send`` (``sizes[r]`` items from rank r) into ``out`` in rank order; the offsets."""
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    wait(comm.Iallgatherv(send, [out, sizes, offsets, mpi_type]), timeout, what, comm)
    return offsets


def agree(comm: Any, what: str, values: dict[str, Any], timeout: float) -> None:
    """Raise ValueError on every rank unless all ranks passed equal ``values``.

    The message names each differing key with the ranks' values, so a script that
    seeded one rank differently (or read another run file) is caught before any work.
    """
    every = allgather(comm, values, timeout, f"the {what} of every rank")
    differing = [key for key in values if any(other.get(key) != values[key] for other in every)]
    differing += [key for other in every for key in other if key not in values]
    if differing:
        lines = [f"  {key}: " + ", ".join(f"rank {r}: {other.get(key)!r}" for r, other in enumerate(every))
                 for key in dict.fromkeys(differing)]
        raise ValueError(f"the ranks disagree on the {what}:\n" + "\n".join(lines))


def check_comm(comm: Any) -> Any:
    """``comm`` if it is an mpi4py intracommunicator, else a TypeError."""
    MPI = mpi()
    if not isinstance(comm, MPI.Intracomm) or comm == MPI.COMM_NULL:
        raise TypeError(f"comm must be an mpi4py intracommunicator (e.g. MPI.COMM_WORLD), got {comm!r}")
    return comm


def allgather_rows(comm: Any, rows: np.ndarray, counts: Any, timeout: float, what: str) -> np.ndarray:
    """Every rank's float64 ``rows`` (``counts[r]`` rows of one width from rank r) stacked
    in rank order, on every rank; one Iallgatherv bounded by ``timeout``."""
    MPI = mpi()
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    width = int(np.prod(rows.shape[1:], dtype=np.int64))
    out = np.empty((int(np.sum(counts)), *rows.shape[1:]), dtype=np.float64)
    _allgatherv(comm, rows, out, np.asarray(counts, dtype=np.int64) * width, MPI.DOUBLE, timeout, what)
    return out
