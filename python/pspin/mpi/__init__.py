"""Runs over MPI ranks (mpi4py): the only part of pspin that imports mpi4py.

- :class:`DistributedSphericalPSpin`: one model whose packed couplings are split over
  the ranks of a communicator, bit-identical to :class:`pspin.SphericalPSpin`.
- :class:`ParallelTempering`: parallel tempering with the configurations of its
  ladders (so the temperatures of one ladder) split over ranks, bit-identical to
  :class:`pspin.ParallelTempering`; see docs/mpi_tempering.md.
- :func:`executor`: the mpi4py.futures executor for ``pspin.farm`` under ``mpiexec``.

Every exchange has a deadline (``timeout=``, else $PSPIN_MPI_TIMEOUT, else 600 s): a
rank that died or hangs gives :class:`RankTimeout`, not a hang. Run scripts as
``mpiexec -n K python -m mpi4py script.py`` so that an uncaught exception on one rank
aborts them all. See docs/mpi.md.
"""

from __future__ import annotations

from ._comm import DEFAULT_TIMEOUT, RankError, RankTimeout
from ._executor import executor
from ._model import DistributedSphericalPSpin, ExchangeStats
from ._tempering import ParallelTempering

__all__ = [
    "DEFAULT_TIMEOUT", "DistributedSphericalPSpin", "ExchangeStats", "ParallelTempering", "RankError", "RankTimeout",
    "executor",
]
