"""Couplings split over MPI ranks: time per pass, the compute/exchange split, bytes sent.

    mpiexec -n 2 python bench/mpi_model.py [--n 600] [--p 3] [--dtype float64] [--repeats 5]

Rank 0 first times the single-process model with every core's thread (the baseline,
same cores, same run); then every rank times DistributedSphericalPSpin with
cores / ranks threads. For each batch size b it reports the median wall time of
``energy_and_gradient``, the part spent in the exchanges (waiting for slower ranks
included), the bytes a rank sends per pass, and a ping-pong of the same message size
(the link's latency and bandwidth, for extrapolating to other machines). Rank 0
writes bench/results/mpi_model-<level>.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pspin
from mpi4py import MPI
from pspin.mpi import DistributedSphericalPSpin, _comm

BATCHES = (1, 16, 64)


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: first touch of the workspace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ping_pong(comm, nbytes: int, repeats: int = 20) -> float:
    """Seconds for one one-way message of nbytes between ranks 0 and 1."""
    buf = np.zeros(max(nbytes, 1), dtype=np.uint8)
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        if comm.rank == 0:
            comm.Send(buf, 1)
            comm.Recv(buf, 1)
        elif comm.rank == 1:
            comm.Recv(buf, 0)
            comm.Send(buf, 0)
    return (time.perf_counter() - start) / (2 * repeats)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--p", type=int, default=3)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    ranks, rank = comm.Get_size(), comm.Get_rank()
    cores = os.cpu_count() or 1

    single: dict[int, float] = {}
    # The other ranks wait sleeping: MPICH's blocking Barrier spins and would steal a core
    # from the single-process baseline.
    idle = comm.Ibarrier() if rank != 0 else None
    if rank == 0:
        pspin.set_num_threads(cores)
        model = pspin.SphericalPSpin(args.n, args.p, seed=1, dtype=args.dtype)
        states = {b: model.random_state(b, seed=b) for b in BATCHES}
        for b in BATCHES:
            single[b] = median_seconds(lambda b=b: model.energy_and_gradient(states[b]), args.repeats)
        del model
        idle = comm.Ibarrier()
    _comm.wait(idle, 3600.0, "rank 0's single-process baseline", comm)

    pspin.set_num_threads(max(1, cores // ranks))
    model = DistributedSphericalPSpin(comm, args.n, args.p, seed=1, dtype=args.dtype)
    states = {b: model.random_state(b, seed=b) for b in BATCHES}
    rows = []
    for b in BATCHES:
        model.energy_and_gradient(states[b])
        model.reset_exchange_stats()
        wall = median_seconds(lambda b=b: model.energy_and_gradient(states[b]), args.repeats)
        stats = model.exchange_stats
        per_pass = stats.seconds / stats.passes
        sent = stats.bytes_sent / stats.passes
        every = comm.gather((wall, per_pass, sent), root=0)
        message = (b * args.n + b) * np.dtype(args.dtype).itemsize
        link = ping_pong(comm, message) if ranks > 1 else 0.0
        if rank == 0:
            walls, exchanges, sends = zip(*every)
            rows.append((b, single[b], max(walls), min(exchanges), max(exchanges), max(sends), link, message))

    if rank == 0:
        config = pspin.show_config(file=io.StringIO())
        level, cpu = config["simd_level"], config["cpu_model"]
        lines = [
            f"# Couplings split over {ranks} MPI rank(s): p = {args.p}, n = {args.n}, {args.dtype}",
            "",
            f"{cpu}, {cores} cores; SIMD level {level}; single process: {cores} threads; "
            f"distributed: {ranks} ranks x {max(1, cores // ranks)} thread(s) (MPICH {MPI.Get_version()}, "
            f"mpi4py). Medians of {args.repeats} calls of energy_and_gradient. Command: "
            f"`mpiexec -n {ranks} python bench/mpi_model.py --n {args.n} --p {args.p} --dtype {args.dtype}`.",
            "",
            "Exchange: time inside the sums over ranks per pass; the least-waiting rank's is the cost of",
            "the exchange itself, the most-waiting rank's adds the wait for slower ranks (imbalance).",
            "",
            "| b | one process (ms) | split over ranks (ms) | speed-up | exchange, least / most waiting rank (ms) | "
            "share of the pass | bytes sent / pass / rank | ping-pong of b(n+1) values (ms) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for b, one, wall, least, most, sent, link, message in rows:
            lines.append(
                f"| {b} | {one * 1e3:.2f} | {wall * 1e3:.2f} | {one / wall:.2f}x | {least * 1e3:.3f} / {most * 1e3:.3f} | "
                f"{least / wall:.1%} / {most / wall:.1%} | {sent:,.0f} | {link * 1e3:.3f} ({message:,} B) |"
            )
        text = "\n".join(lines) + "\n"
        print(text)
        out = Path(__file__).with_name("results") / f"mpi_model-{level}.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)


if __name__ == "__main__":
    main()
