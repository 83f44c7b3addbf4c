"""CPU used by *other* processes while a benchmark runs (the "foreign load").

The 2-core benchmark box is shared: a job we did not start can hold a core for minutes, and
every 2-thread figure taken meanwhile falls to the 1-thread figure or below (see
shared/reference/perf.md). So each timing window records

    foreign = (busy CPU time of the whole machine - CPU time of this process and its
               descendants) / wall time of the window

in units of CPUs (0.0 = the rest of the machine was idle, 1.0 = one whole core was taken by
someone else). "Busy" is everything in the aggregate ``cpu`` line of ``/proc/stat`` except
``idle`` and ``iowait``; it includes ``steal`` (time the hypervisor gave our vCPUs to someone
else), which takes a core from us just as well. Our own time comes from
``/proc/<pid>/stat`` (utime + stime, all threads) of this process and every live
descendant (the bandwidth workers are child processes).

Resolution: both counters tick at ``SC_CLK_TCK`` (100 Hz), so a window of T seconds has an
error of about +-2 ticks / T, i.e. +-0.04 CPUs for a 0.5 s window. Windows shorter than
``MIN_RELIABLE_S`` are reported but flagged as imprecise.

A 2-thread figure taken with ``foreign > CONTAMINATED`` (0.2 CPUs) is marked contaminated by
the report and should be discarded (perf.md's rule). More generally a k-thread figure on a
c-core machine is contaminated when others use more than the c - k idle cores plus 0.2
(``limit(k)``): a 1-thread figure on 2 cores survives one foreign core, not more.

Run as a script it samples the machine for a few seconds and prints the foreign load, which is
a quick "is the box idle?" check before a benchmark run::

    python bench/foreign_load.py [seconds]
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
CONTAMINATED = 0.2  # CPUs of foreign load above which a 2-thread figure is discarded
MIN_RELIABLE_S = 0.25  # windows shorter than this have > +-0.1 CPUs of tick noise

_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (guest is inside user)


def machine_ticks() -> tuple[int, int]:
    """(busy, steal) clock ticks summed over all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    assert fields[0] == "cpu", fields
    values = [int(x) for x in fields[1:]]
    values += [0] * (8 - len(values))
    return sum(values[i] for i in _BUSY_FIELDS), values[7]


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime ticks) of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()  # fields after "pid (comm) "
    # rest[0] is state (field 3): ppid is field 4, utime 14, stime 15
    return int(rest[1]), int(rest[11]) + int(rest[12])


def own_ticks(root: int | None = None) -> int:
    """utime + stime ticks of ``root`` (default: this process) and all its live descendants."""
    root = os.getpid() if root is None else root
    table: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _proc_stat(int(name))
            if info is not None:
                table[int(name)] = info
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


CORES = os.cpu_count() or 1


def limit(threads: int, cores: int = CORES) -> float:
    """Foreign load (CPUs) above which a figure measured with ``threads`` threads is
    contaminated: the cores it leaves idle, plus the 0.2 CPUs of tolerance."""
    return max(0, cores - threads) + CONTAMINATED


def contaminated(foreign_cpus: float, threads: int, cores: int = CORES) -> bool:
    return foreign_cpus > limit(threads, cores)


@dataclass
class LoadSample:
    wall_s: float
    foreign_cpus: float  # CPUs used by others (>= 0 after clamping tick noise)
    own_cpus: float  # CPUs used by this process tree
    steal_cpus: float  # part of foreign taken by the hypervisor
    reliable: bool  # window long enough for the tick resolution

    @property
    def contaminated(self) -> bool:
        """Whether a figure using every core (2 threads on 2 cores) is unusable."""
        return contaminated(self.foreign_cpus, CORES)

    def contaminated_for(self, threads: int) -> bool:
        """Whether a figure measured with ``threads`` threads in this window is unusable."""
        return contaminated(self.foreign_cpus, threads)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ForeignLoad:
    """Context manager measuring the foreign load over its body.

    >>> with ForeignLoad() as load:
    ...     run_benchmark()
    >>> load.sample.foreign_cpus
    """

    def __init__(self) -> None:
        self.sample: LoadSample | None = None

    def __enter__(self) -> ForeignLoad:  # noqa: PYI034
        self._own0 = own_ticks()
        self._busy0, self._steal0 = machine_ticks()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        t1 = time.perf_counter()
        busy1, steal1 = machine_ticks()
        own1 = own_ticks()
        wall = max(t1 - self._t0, 1e-9)
        busy = (busy1 - self._busy0) / CLK_TCK
        own = (own1 - self._own0) / CLK_TCK
        steal = (steal1 - self._steal0) / CLK_TCK
        self.sample = LoadSample(
            wall_s=wall,
            foreign_cpus=max(0.0, (busy - own) / wall),
            own_cpus=own / wall,
            steal_cpus=steal / wall,
            reliable=wall >= MIN_RELIABLE_S,
        )


def sample(seconds: float = 2.0) -> LoadSample:
    """Foreign load while this process sleeps for ``seconds`` (so all busy time is foreign)."""
    with ForeignLoad() as load:
        time.sleep(seconds)
    assert load.sample is not None
    return load.sample


def main(argv: list[str]) -> int:
    seconds = float(argv[1]) if len(argv) > 1 else 3.0
    s = sample(seconds)
    verdict = "busy: 2-thread figures would be contaminated" if s.contaminated else "idle enough"
    print(
        f"foreign load over {s.wall_s:.1f} s: {s.foreign_cpus:.2f} CPUs of {os.cpu_count()} "
        f"(steal {s.steal_cpus:.2f}) -> {verdict} (threshold {limit(CORES):.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
