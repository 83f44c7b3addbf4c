"""A spherical p-spin model whose packed couplings are split over MPI ranks."""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__, _core, _seed, _validate
from .._memory import require_memory
from ..models import SphericalPSpin
from . import _comm

# Tags of the chain's messages (piece c: _DOUBLES + 2c and _VALUES + 2c); the model's own
# duplicate of the communicator keeps them apart from any traffic of the user's.
_HEADER, _DOUBLES, _VALUES = 1, 2, 3
_MAX_PIECES = 64
# Pieces of 256 KiB: a few tens of microseconds on a cluster link, long next to the
# latency of one message (a few microseconds), short next to a pass.
DEFAULT_PIECE_BYTES = 1 << 18


@dataclass
class ExchangeStats:
    """What the sums over ranks cost this rank since the model was built (or reset).

    Attributes
    ----------
    passes : int
        Sums over ranks: one per energy/gradient/Hessian-vector/Hessian call, one per
        descent iteration.
    bytes_sent : int
        Bytes this rank sent: its running sums to the next rank, and its part of the
        broadcast of the totals.
    seconds : float
        Wall time inside the exchanges, waiting for slower ranks included.
    """

    passes: int = 0
    bytes_sent: int = 0
    seconds: float = 0.0


class _RankChain:
    """What the C++ kernels call to sum over ranks: pieces, receive, pass_on, share.

    Rank r receives the running sums of ranks 0..r-1, the kernel adds its own task
    groups in task order, and r passes them to r+1; the last rank broadcasts the totals.
    Every addition is the one a single process makes, in the same order, hence the
    bit-identity. The sums travel in pieces of about ``piece_bytes``, so that on a long
    chain rank k adds piece c while its predecessor still sends piece c+1: the hops
    overlap instead of adding up. A header travels with the first piece: the fingerprint
    of rank 0's arguments and the first rank whose arguments differ, so that every rank
    raises the same error when a script feeds ranks different states.
    """

    def __init__(self, comm: Any, timeout: float, piece_bytes: int) -> None:
        self._comm = comm
        self._rank = comm.Get_rank()
        self._last = comm.Get_size() - 1
        self._timeout = timeout
        self._piece_bytes = piece_bytes
        self._header = np.zeros(2, dtype=np.uint64)
        self._sending: list[Any] = []
        self.stats = ExchangeStats()

    def _wait_all(self, requests: list[Any], what: str) -> None:
        for request in requests:
            _comm.wait(request, self._timeout, what, self._comm)

    def pieces(self, nbytes: int) -> int:
        # A rank alone has nobody to pass to.
        if self._last < 1:
            return 1
        return int(min(_MAX_PIECES, max(1, -(-nbytes // self._piece_bytes))))

    def receive(self, piece: int, inputs: int, doubles: np.ndarray, values: np.ndarray) -> None:
        start = time.perf_counter()
        if piece == 0:
            self._header[:] = (inputs, 0)
        if self._rank > 0:
            source = self._rank - 1
            requests = [self._comm.Irecv(self._header, source, _HEADER)] if piece == 0 else []
            if doubles.size:
                requests.append(self._comm.Irecv(doubles, source, _DOUBLES + 2 * piece))
            if values.size:
                requests.append(self._comm.Irecv(values, source, _VALUES + 2 * piece))
            self._wait_all(requests, f"the partial sums of rank {source}")
            if piece == 0 and self._header[1] == 0 and int(self._header[0]) != inputs:
                self._header[1] = self._rank + 1
        self.stats.seconds += time.perf_counter() - start

    def pass_on(self, piece: int, inputs: int, doubles: np.ndarray, values: np.ndarray) -> None:
        if self._rank == self._last:
            return
        start = time.perf_counter()
        target = self._rank + 1
        if piece == 0:
            self._sending.append(self._comm.Isend(self._header, target, _HEADER))
            self.stats.bytes_sent += self._header.nbytes
        if doubles.size:
            self._sending.append(self._comm.Isend(doubles, target, _DOUBLES + 2 * piece))
        if values.size:
            self._sending.append(self._comm.Isend(values, target, _VALUES + 2 * piece))
        self.stats.bytes_sent += doubles.nbytes + values.nbytes
        self.stats.seconds += time.perf_counter() - start

    def share(self, inputs: int, doubles: np.ndarray, values: np.ndarray) -> None:
        start = time.perf_counter()
        sending, self._sending = self._sending, []
        self._wait_all(sending, f"rank {self._rank + 1} to take the partial sums")
        buffers = [b for b in (self._header, doubles, values) if b.size]
        self._wait_all([self._comm.Ibcast(b, root=self._last) for b in buffers],
                       f"the totals from rank {self._last}")
        # A binomial-tree broadcast: a rank forwards the totals to about one other rank.
        if self._rank != self._last and self._comm.Get_size() > 2:
            self.stats.bytes_sent += sum(b.nbytes for b in buffers)
        self.stats.passes += 1
        self.stats.seconds += time.perf_counter() - start
        if self._header[1]:
            raise _comm.RankError(
                f"rank {int(self._header[1]) - 1} was given other arguments (states, vectors) than rank 0: every "
                "rank must make the same calls with the same arrays; pass the same seed= to random starts"
            )


def _layout_args(n: Any, p: Any, ensemble: Any) -> tuple[int, list[int], bool]:
    """(n, degrees, multiset) of a spherical model, validated: what fixes its tasks."""
    spec = _validate.degree_spec(p)
    n = _validate.spin_count(n, list(spec))
    return n, list(spec), _validate.ensemble_name(ensemble, SphericalPSpin._ensembles) == "isotropic"


def _free(comm: Any) -> None:
    """Free a communicator of a model that is gone (not after MPI has shut down)."""
    MPI = _comm.mpi()
    if not MPI.Is_finalized() and comm != MPI.COMM_NULL:
        comm.Free()


class DistributedSphericalPSpin(SphericalPSpin):
    """A spherical p-spin model whose packed couplings are split over the ranks of ``comm``.

    Each rank generates and stores only its share of the couplings (about 1/K of them
    on K ranks): the counter-based generator makes any share reproducible without
    communication. Energies, gradients, Hessian-vector products and Hessians sum the
    ranks' partial results in a fixed order (a chain from rank 0 to rank K-1, then a
    broadcast), so on every rank they are **bit-identical** to those of
    ``pspin.SphericalPSpin(n, p, seed=seed)`` in one process, for 1, 2 and 4 ranks (and
    for 8 and 16 in everything but the dense Hessian). ``pspin.minimize`` (L-BFGS and
    gradient descent), ``pspin.landscape.smallest_hessian_eigenvalues`` and
    ``pspin.entropy.census`` take it unchanged.

    Every rank must make the same calls with the same arguments (SPMD): give random
    starts an explicit ``seed``. Ranks that pass different states get a
    :class:`~pspin.mpi.RankError` on every rank; a rank that dies or stops calling gives
    the others :class:`~pspin.mpi.RankTimeout` after ``timeout`` seconds.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        The ranks that share the model (e.g. ``MPI.COMM_WORLD``); the model keeps a
        duplicate of it for its own messages.
    n, p, dtype, ensemble
        As for :class:`pspin.SphericalPSpin`.
    seed : None, int or numpy SeedSequence
        Seed of the couplings, the same on every rank (checked). None draws fresh
        entropy on rank 0 and shares it.
    timeout : float, optional
        Seconds any exchange may wait for another rank (default: $PSPIN_MPI_TIMEOUT,
        else 600).
    piece_bytes : int
        The running sums pass from rank to rank in pieces of about this size (default
        256 KiB, at most 64 pieces), so that the hops of a long chain overlap. Results do
        not depend on it.

    Raises
    ------
    ValueError
        If the ranks disagree on the parameters or the seed, if there are more ranks
        than the model has tasks to split, or if the couplings of the ranks on one node
        do not fit its memory (checked before anything is allocated).

    Notes
    -----
    Per sum over ranks each rank sends b n values (the running sums of a batch of b
    states) once along the chain and about once more in the broadcast: see
    :attr:`exchange_stats` and docs/mpi.md.
    """

    def __init__(
        self,
        comm: Any,
        n: int,
        p: int | Mapping[int, float] = 3,
        *,
        seed: _seed.SeedLike = None,
        dtype: Any = "float64",
        ensemble: str = "distinct",
        timeout: float | None = None,
        piece_bytes: int = DEFAULT_PIECE_BYTES,
    ) -> None:
        _comm.check_comm(comm)
        self._timeout = _comm.resolve_timeout(timeout)
        piece_bytes = _validate.positive_int(piece_bytes, "piece_bytes")
        if isinstance(seed, np.random.Generator):
            raise TypeError("seed must be None, an int or a SeedSequence: a Generator draws differently on each rank")
        if seed is None:
            shared = _comm.allgather(comm, np.random.SeedSequence().entropy if comm.Get_rank() == 0 else None,
                                     self._timeout, "the seed drawn on rank 0")
            seed = np.random.SeedSequence(shared[0])
        seq = _seed.as_seed_sequence(seed)
        spec = _validate.degree_spec(p)
        _comm.agree(comm, "model", {
            "pspin": __version__, "n": n, "p": sorted(spec.items()), "dtype": np.dtype(_validate.real_dtype(dtype)).name,
            "ensemble": ensemble, **_seed.record(seq), "seed_pool_size": seq.pool_size, "piece_bytes": piece_bytes,
        }, self._timeout)
        self._rank, self._ranks = comm.Get_rank(), comm.Get_size()
        dup, request = comm.Idup()
        _comm.wait(request, self._timeout, "the model's communicator", comm)
        # MPI has a few thousand communicators per process: a loop over disorder samples
        # would run out unless each model frees its own when it goes.
        weakref.finalize(self, _free, dup)
        self._comm = dup
        self._chain = _RankChain(dup, self._timeout, piece_bytes)
        super().__init__(n, spec, seed=seq, dtype=dtype, ensemble=ensemble)
        self._couplings.set_chain(self._chain)

    def _allocate_couplings(self, spec: dict[int, float], multiset: bool) -> Any:
        cls = self._couplings_class()
        tasks = cls.task_count(self._n, list(spec), multiset)
        if tasks < self._ranks:
            raise ValueError(
                f"this model (n = {self._n}, degrees {list(spec)}) splits into {tasks} task(s): run it on at most "
                f"{tasks} rank(s), not {self._ranks} (a larger model splits further, up to 64 tasks per degree)"
            )
        held = cls.held_values(self._n, list(spec), multiset, self._rank, self._ranks) * self._dtype.itemsize
        # Ranks on one node share its memory: each checks that all of them fit.
        node_comm = self._comm.Split_type(_comm.mpi().COMM_TYPE_SHARED, key=self._rank)
        try:
            node = _comm.allgather(node_comm, held, self._timeout, "the coupling bytes of the ranks on this node")
        finally:
            node_comm.Free()
        require_memory(
            int(sum(node)),
            f"the couplings held by the {len(node)} rank(s) on this node (n = {self._n}, degrees {list(spec)}, "
            f"{self._dtype}, {self._ranks} ranks in all)",
        )
        return cls(self._n, list(spec), list(spec.values()), multiset, self._rank, self._ranks)

    @staticmethod
    def max_ranks(n: int, p: int | Mapping[int, float] = 3, *, ensemble: str = "distinct") -> int:
        """The most ranks a model splits over: its number of tasks (64 per degree at most).

        Examples
        --------
        >>> from pspin.mpi import DistributedSphericalPSpin
        >>> DistributedSphericalPSpin.max_ranks(200, 3), DistributedSphericalPSpin.max_ranks(8000, 3)
        (20, 64)
        """
        return int(_core.CouplingsF64.task_count(*_layout_args(n, p, ensemble)))

    @staticmethod
    def bytes_per_rank(n: int, p: int | Mapping[int, float] = 3, *, ranks: int, dtype: Any = "float64",
                       ensemble: str = "distinct") -> list[int]:
        """Bytes of couplings each of ``ranks`` ranks would hold, in rank order (nothing is built).

        For planning a job: the largest entry times the ranks per node must fit a node's memory.

        Examples
        --------
        >>> from pspin.mpi import DistributedSphericalPSpin
        >>> per_rank = DistributedSphericalPSpin.bytes_per_rank(8000, 3, ranks=64, dtype="float32")
        >>> round(sum(per_rank) / 1e9), round(max(per_rank) / 1e9, 1)
        (341, 5.4)
        """
        layout = _layout_args(n, p, ensemble)
        ranks = _validate.positive_int(ranks, "ranks")
        itemsize = _validate.real_dtype(dtype).itemsize
        return [int(_core.CouplingsF64.held_values(*layout, r, ranks)) * itemsize for r in range(ranks)]

    @property
    def comm(self) -> Any:
        """The model's duplicate of the communicator it was built on."""
        return self._comm

    @property
    def rank(self) -> int:
        """This process's rank."""
        return int(self._rank)

    @property
    def ranks(self) -> int:
        """How many ranks share the couplings."""
        return int(self._ranks)

    @property
    def own_tasks(self) -> tuple[int, int]:
        """Tasks [first, last) of the whole model whose couplings this rank holds."""
        first, last = self._couplings.own_tasks
        return int(first), int(last)

    @property
    def exchange_stats(self) -> ExchangeStats:
        """Passes, bytes sent and seconds spent in the sums over ranks, on this rank."""
        return self._chain.stats

    def reset_exchange_stats(self) -> None:
        """Start counting :attr:`exchange_stats` from zero."""
        self._chain.stats = ExchangeStats()

    def spec(self) -> dict[str, Any]:
        """As :meth:`pspin.SphericalPSpin.spec`, for a model in one process.

        ``pspin.models.from_spec`` rebuilds the same couplings in one process; the
        fingerprint ``couplings_sha256`` is None, since hashing would funnel every
        coupling through one rank.
        """
        out = super().spec()
        out["class"] = SphericalPSpin.__name__
        return out

    def save(self, path: Any) -> Any:
        """Write the model's spec and seed to HDF5 from rank 0 (the others wait for it).

        Returns the path written, on every rank; an error on rank 0 is raised on all.
        """
        written, error = None, None
        if self._rank == 0:
            try:
                written = super().save(path)
            except Exception as exc:  # re-raised below, on every rank alike
                error = f"{type(exc).__name__}: {exc}"
        outcome = _comm.allgather(self._comm, (written, error) if self._rank == 0 else None, self._timeout,
                                  "rank 0 to write the model")[0]
        if outcome[1] is not None:
            raise OSError(f"rank 0 could not write the model to {path!r}: {outcome[1]}")
        return outcome[0]

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(
            "a DistributedSphericalPSpin lives on its communicator and cannot be pickled; pickle "
            "pspin.models.from_spec(model.spec()) for a copy in one process, or send spec() and rebuild it"
        )

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", rank={self._rank}, ranks={self._ranks})"
