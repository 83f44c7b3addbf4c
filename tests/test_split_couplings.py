"""Couplings split over ranks, checked in one process: each "rank" is a thread.

The MPI tests (tests/test_mpi_model.py) run the real thing under mpiexec; this file drives
the same C++ path (a rank's slab of the packed couplings, the sums chained rank to rank)
with a chain of queues between threads, so that it also runs under the sanitizer build
(tools/run_sanitized_tests.sh), where mpiexec does not.
"""

from __future__ import annotations

import queue
import threading

import numpy as np
import pspin
import pytest
from pspin import _core, _seed

TIMEOUT = 60.0


class QueueChain:
    """The protocol of pspin.mpi's chain (pieces, receive, pass_on, share) over queues."""

    def __init__(self, rank: int, links: list[queue.Queue], totals: list[queue.Queue], piece_bytes: int) -> None:
        self.rank, self.links, self.totals, self.piece_bytes = rank, links, totals, piece_bytes
        self.last = len(links) - 1

    def pieces(self, nbytes: int) -> int:
        return max(1, -(-nbytes // self.piece_bytes))

    def receive(self, piece: int, inputs: int, doubles: np.ndarray, values: np.ndarray) -> None:
        if self.rank > 0:
            sent_piece, sent_inputs, d, v = self.links[self.rank].get(timeout=TIMEOUT)
            assert (sent_piece, sent_inputs) == (piece, inputs), "the ranks were given different arguments"
            doubles[:], values[:] = d, v

    def pass_on(self, piece: int, inputs: int, doubles: np.ndarray, values: np.ndarray) -> None:
        if self.rank < self.last:
            self.links[self.rank + 1].put((piece, inputs, doubles.copy(), values.copy()))

    def share(self, inputs: int, doubles: np.ndarray, values: np.ndarray) -> None:
        if self.rank < self.last:
            doubles[:], values[:] = self.totals[self.rank].get(timeout=TIMEOUT)
        else:
            for q in self.totals[:-1]:
                q.put((doubles.copy(), values.copy()))


def split(model: pspin.SphericalPSpin, ranks: int, piece_bytes: int = 1 << 30) -> list:
    """The model's couplings as `ranks` slabs, each generated alone, chained by queues."""
    cls = _core.CouplingsF64 if model.dtype == np.float64 else _core.CouplingsF32
    multiset = model.ensemble == "isotropic"
    key = _seed.key64(model.seed_sequence, _seed.COUPLINGS)
    links = [queue.Queue() for _ in range(ranks)]
    totals = [queue.Queue() for _ in range(ranks)]
    slabs = []
    for rank in range(ranks):
        c = cls(model.n, list(model.degrees), list(model.coefficients.values()), multiset, rank, ranks)
        first, last = c.own_tasks
        c.generate(key, first, last)
        c.set_chain(QueueChain(rank, links, totals, piece_bytes))
        slabs.append(c)
    return slabs


def on_every_rank(slabs: list, call) -> list:
    """call(slab) on one thread per rank at once; every rank's result."""
    results: list = [None] * len(slabs)
    errors: list = []

    def work(rank: int) -> None:
        try:
            results[rank] = call(slabs[rank])
        except BaseException as exc:  # reported below with its rank
            errors.append((rank, exc))

    threads = [threading.Thread(target=work, args=(r,)) for r in range(len(slabs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors, errors
    return results


def same_bytes(a, b) -> bool:
    return all(np.asarray(x).tobytes() == np.asarray(y).tobytes() for x, y in zip(a, b))


@pytest.mark.parametrize(("n", "p", "dtype", "ensemble"), [
    (200, 3, "float64", "distinct"),
    (120, 3, "float32", "distinct"),
    (2000, 2, "float64", "distinct"),
    (130, {2: 0.5, 3: 1.0}, "float64", "isotropic"),
])
@pytest.mark.parametrize(("ranks", "piece_bytes"), [(2, 1 << 30), (4, 1 << 30), (4, 1000)])
def test_split_sums_are_bit_identical_to_the_whole(n, p, dtype, ensemble, ranks, piece_bytes):
    model = pspin.SphericalPSpin(n, p, seed=11, dtype=dtype, ensemble=ensemble)
    whole = model._couplings
    if whole.n_tasks < ranks:
        pytest.skip(f"{whole.n_tasks} task(s) split over at most that many ranks")
    slabs = split(model, ranks, piece_bytes)
    assert sum(s.nbytes for s in slabs) == whole.nbytes
    assert [s.own_tasks for s in slabs] == [(r * whole.n_tasks // ranks, (r + 1) * whole.n_tasks // ranks)
                                            for r in range(ranks)]
    rng = np.random.default_rng(2)
    for b in (1, 5, 24):
        s = model.random_state(b, seed=b)
        v = rng.standard_normal((b, n)).astype(dtype)
        want = whole.energy_and_fields(s, True)
        for got in on_every_rank(slabs, lambda c, s=s: c.energy_and_fields(s, True)):
            assert same_bytes(got, want)
        want = whole.fields_jvp(s, v, True)
        for got in on_every_rank(slabs, lambda c, s=s, v=v: c.fields_jvp(s, v, True)):
            assert same_bytes(got, want)
    one = model.random_state(seed=3)
    want = whole.fields_jacobian(one)
    for got in on_every_rank(slabs, lambda c: c.fields_jacobian(one)):
        assert got.tobytes() == want.tobytes()


def test_a_slab_refuses_what_needs_the_whole_couplings():
    model = pspin.SphericalPSpin(200, 3, seed=1)
    slab = split(model, 2)[1]
    assert not slab.complete and model._couplings.complete
    with pytest.raises(ValueError, match="holds only part of the couplings"):
        slab.values(0)
    first, _ = slab.own_tasks
    with pytest.raises(IndexError, match="not held by this rank"):
        slab.generate(1, 0, first)
    with pytest.raises(ValueError, match="rank must lie in"):
        _core.CouplingsF64(200, [3], [1.0], False, 2, 2)
    with pytest.raises(ValueError, match="held whole by one process"):
        _core.SphericalTemperingF64(slab, model.random_state(2), [1.0, 2.0], 1, 1, 1, 1, 0.1)
    with pytest.raises(ValueError, match="held whole by one process"):
        _core.IsingDenseF64(slab)
