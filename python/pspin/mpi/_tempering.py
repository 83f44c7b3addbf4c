"""Parallel tempering with the configurations ("slots") of the ladders split over MPI ranks.

Every rank holds the whole model and a whole engine, but sweeps only its own
contiguous range of slots, with the random numbers the single-process run gives
those slots (Philox counters depend on the slot, never on which slots share a pass).
After each sweep the ranks allgather every slot's outcome (its energy and, for HMC,
the trajectory's acceptance) and then, identically on every rank, tally the moves and
swap temperature labels with the counter-based generator of the single-process
engine. Configurations never move for a swap; they are gathered only where every
rank needs them current: before an overlap measurement (K > 1), a snapshot, a
checkpoint save and :meth:`ParallelTempering.states`. See docs/mpi_tempering.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import _seed
from ..models import PSpinModel
from ..sampling import checkpoint as ckpt
from ..sampling import tempering as _tempering
from ..sampling.result import PTResult
from . import _comm


def split_slots(slots: int, ranks: int) -> np.ndarray:
    """Slots per rank: contiguous ranges in rank order, sizes differing by at most one."""
    return np.array([slots // ranks + (r < slots % ranks) for r in range(ranks)], dtype=np.int64)


class _SplitEngine:
    """A tempering engine whose sweeps are split over the ranks of ``comm``.

    It answers the calls :class:`pspin.ParallelTempering` makes of its engine; those
    that need every slot current (``states``, ``aux``) first gather the slots of the
    other ranks, so they are collective: every rank must call them at the same sweep.
    """

    def __init__(self, engine: Any, comm: Any, timeout: float) -> None:
        self._engine = engine
        self._comm = comm
        self._timeout = timeout
        rank = comm.Get_rank()
        self.counts = split_slots(len(engine.temp_of_slot()), comm.Get_size())
        self.first = int(self.counts[:rank].sum())
        self.count = int(self.counts[rank])
        self._current = int(engine.sweeps_done)  # every slot on this rank is current at this sweep

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def run(self, n_sweeps: int, sample_every: int) -> tuple[np.ndarray, np.ndarray]:
        """``engine.run``: n_sweeps sweeps with one outcome exchange each."""
        e = self._engine
        R, K = len(e.betas()), len(e.temp_of_slot()) // len(e.betas())
        start = int(e.sweeps_done)
        samples = (start + n_sweeps) // sample_every - start // sample_every
        energies = np.empty((samples, R, K))
        overlaps = np.empty((samples, R, K * (K - 1) // 2))
        idx = 0
        for sweep in range(start, start + n_sweeps):
            mine = e.sweep_own(self.first, self.count)
            e.finish_sweep(_comm.allgather_rows(self._comm, mine, self.counts, self._timeout,
                                                f"the slot energies of sweep {sweep + 1}"))
            if (sweep + 1) % sample_every == 0:
                if K > 1:
                    self.share_slots()
                energies[idx], overlaps[idx] = e.sample()
                idx += 1
        return energies, overlaps

    def share_slots(self) -> None:
        """Make every slot current on every rank (collective; nothing to do if they are)."""
        done = int(self._engine.sweeps_done)
        if self._current == done:
            return
        every = _comm.allgather_rows(self._comm, self._engine.save_slots(self.first, self.count), self.counts,
                                     self._timeout, f"the configurations at sweep {done}")
        end = self.first + self.count
        self._engine.load_slots(0, every[:self.first])
        self._engine.load_slots(end, every[end:])
        self._current = done

    def states(self) -> np.ndarray:
        self.share_slots()
        return self._engine.states()

    def aux(self) -> np.ndarray:
        self.share_slots()
        return self._engine.aux()

    def restore(self, *args: Any) -> None:
        self._engine.restore(*args)  # every rank restores every slot
        self._current = int(self._engine.sweeps_done)


class ParallelTempering(_tempering.ParallelTempering):
    """:class:`pspin.ParallelTempering` with the slots of its ladders split over MPI ranks.

    The same constructor and :meth:`run` with ``comm`` first (and ``timeout``): every
    rank of ``comm`` builds one with equal arguments and calls ``run`` with equal
    arguments. The R x K configurations are split into contiguous ranges, one per rank
    (so the temperatures of a ladder are spread over ranks); the couplings are
    replicated. The trajectory is bit-identical to the single-process run for any
    number of ranks (energies, overlaps, labels, swap and move counters, snapshots,
    checkpoints), and every rank returns the same :class:`~pspin.PTResult`.

    Parameters
    ----------
    comm : mpi4py intracommunicator
        Its ranks share the work; at most R x K of them (each must own a configuration).
    model, temperatures, replicas, seed, update, adaptive, **move_options
        As for :class:`pspin.ParallelTempering`. ``seed`` must be given and equal on
        every rank (None would seed each rank differently).
    timeout : float, optional
        Seconds any exchange waits for the other ranks before :class:`RankTimeout`
        (default $PSPIN_MPI_TIMEOUT, else 600).

    Raises
    ------
    TypeError
        ``comm`` is not an intracommunicator.
    ValueError
        More ranks than configurations, or the ranks disagree on the model (its spec
        and couplings hash), the temperatures, replicas, update, options or seed; on
        every rank, before the engine is built.
    RankTimeout
        Another rank died, raised or hangs (it took no part in an exchange in time).

    Notes
    -----
    :meth:`run` and :meth:`states` are collective: call them on every rank at the same
    point (:meth:`result` is not: every rank holds the same counters and series). With ``checkpoint=``, every rank reads the file to resume (it must be on a
    file system every rank sees) and rank 0 alone writes it; the file is the
    single-process format, so a run may resume on any number of ranks, or on one
    process with :class:`pspin.ParallelTempering`. A signal on any rank stops every
    rank at the next chunk (after a save).
    """

    def __init__(
        self,
        comm: Any,
        model: PSpinModel,
        temperatures: Any,
        *,
        replicas: int = 2,
        seed: _seed.SeedLike = None,
        update: str | None = None,
        adaptive: bool = False,
        timeout: float | None = None,
        **move_options: Any,
    ) -> None:
        self.comm = _comm.check_comm(comm)
        self.timeout = _comm.resolve_timeout(timeout)
        super().__init__(model, temperatures, replicas=replicas, seed=seed, update=update, adaptive=adaptive,
                         **move_options)

    @property
    def rank(self) -> int:
        return int(self.comm.Get_rank())

    def _make_engine(self) -> Any:
        # Called by the base constructor once the arguments are validated and the
        # memory checked: agree before building anything.
        identity = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self._identity().items()}
        identity["model_spec"] = repr(self.model.spec())
        _comm.agree(self.comm, "tempering parameters (pass the same model and an explicit equal seed on every rank)",
                    identity, self.timeout)
        slots, ranks = self.requested_temperatures.size * self.replicas, self.comm.Get_size()
        if ranks > slots:
            raise ValueError(f"{ranks} ranks for {slots} configurations ({self.requested_temperatures.size} temperatures "
                             f"x {self.replicas} replicas): every rank needs at least one; use at most {slots} ranks")
        return _SplitEngine(super()._make_engine(), self.comm, self.timeout)

    def states(self) -> np.ndarray:
        """Configurations by temperature and replica, (R, K, n); collective."""
        return super().states()

    def run(
        self,
        sweeps: int,
        *,
        burn_in: int = 0,
        sample_every: int = 1,
        snapshot_every: int = 0,
        checkpoint: str | Path | None = None,
        checkpoint_every: float = 60.0,
        progress: bool = False,
    ) -> PTResult:
        """:meth:`pspin.ParallelTempering.run` on every rank (collective; the arguments
        must agree). Every rank returns the same result; the progress bar is rank 0's,
        and only rank 0 writes the checkpoint."""
        params = {"sweeps": sweeps, "burn_in": burn_in, "sample_every": sample_every,
                  "snapshot_every": snapshot_every, "checkpoint": None if checkpoint is None else str(checkpoint),
                  "checkpoint_every": checkpoint_every}
        _comm.agree(self.comm, "arguments of run()", params, self.timeout)
        return super().run(sweeps, burn_in=burn_in, sample_every=sample_every, snapshot_every=snapshot_every,
                           checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                           progress=progress and self.rank == 0)

    def _run_chunks(self, sweeps: int, burn_in: int, sample_every: int, snapshot_every: int,
                    store: ckpt.Checkpoint | None, guard: ckpt.SignalGuard, interval: float, progress: bool) -> None:
        # A rank that could not see the checkpoint would start afresh while the others resume.
        _comm.agree(self.comm, "sweeps done after resuming (is the checkpoint on a file system every rank sees?)",
                    {"sweeps_done": self.sweeps_done}, self.timeout)
        super()._run_chunks(sweeps, burn_in, sample_every, snapshot_every, store, guard, interval, progress)

    def _plan_chunk(self, guard: ckpt.SignalGuard, chunk: int, save_due: bool) -> tuple[int, bool]:
        # Rank 0's chunk length and save clock; a signal on any rank stops them all here.
        plans = _comm.allgather(self.comm, (guard.take(), chunk, save_due), self.timeout, "the plan of the next chunk")
        ckpt.raise_signal(next((signum for signum, _, _ in plans if signum is not None), None))
        return plans[0][1], plans[0][2]

    def _save(self, store: ckpt.Checkpoint) -> None:
        self._engine.share_slots()  # collective, so before the rank test
        if self.rank == 0:
            super()._save(store)
