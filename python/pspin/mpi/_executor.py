"""The mpi4py.futures executor of disorder farms (``pspin.farm``, the command line)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
from collections.abc import Iterator
from typing import cast

from . import _comm


def under_mpi_futures() -> bool:
    """Whether this process is rank 0 of ``mpiexec -n K python -m mpi4py.futures ...``
    (the other ranks wait as workers of a shared pool). Imports nothing."""
    core = sys.modules.get("mpi4py.futures._core")
    return core is not None and getattr(core, "SharedPool", None) is not None


def world_size() -> int:
    """Ranks in ``MPI.COMM_WORLD`` (imports mpi4py, which initialises MPI)."""
    return int(_comm.mpi().COMM_WORLD.Get_size())


@contextlib.contextmanager
def executor() -> Iterator[concurrent.futures.Executor | None]:
    """An ``mpi4py.futures`` executor over ``MPI.COMM_WORLD``: rank 0 submits, the others work.

    Under ``mpiexec -n K python -m mpi4py.futures ...`` only rank 0 runs the program and
    this is the shared pool of the K-1 other ranks. Under plain ``mpiexec -n K python
    ...`` every rank runs the program: rank 0 gets the executor, the others serve samples
    inside the ``with`` and then get None (``MPICommExecutor``). The executor is shut down
    at the end of the ``with``.

    Raises
    ------
    ImportError
        mpi4py is not installed (``pip install 'pspin[mpi]'``).
    """
    MPI = _comm.mpi()
    from mpi4py.futures import MPICommExecutor

    with MPICommExecutor(MPI.COMM_WORLD, root=0) as pool:
        # MPICommExecutor gives the pool on the root rank, None on the others.
        yield cast("concurrent.futures.Executor | None", pool)
