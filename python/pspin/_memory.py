"""Refusing allocations that cannot fit, before any work starts.

:func:`require_memory` keeps a safety margin: an allocation of ``nbytes`` is refused unless
``nbytes <= SAFETY_MARGIN * available`` (80 % of what the kernel reports as available), so
what the estimate leaves out (allocator overhead, page cache that cannot be reclaimed,
other processes growing, Python temporaries) has 20 % of room. Callers count every table
the work will build, not only the largest.
"""

from __future__ import annotations

import os


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable, capped by a cgroup limit."""
    limits: list[int] = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            raw = f.read().strip()
        if raw != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                limits.append(int(raw) - int(f.read().strip()))
    except (OSError, ValueError):
        pass
    if not limits:
        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return max(0, min(limits))


#: The fraction of the available memory an allocation may take (see the module docstring).
SAFETY_MARGIN = 0.8


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:.2f} GiB"


def require_memory(nbytes: int, what: str) -> None:
    """Raise MemoryError unless ``nbytes`` more fit in :data:`SAFETY_MARGIN` of the available memory.

    The message states the bytes needed, the bytes available and the margin.
    """
    available = available_memory()
    if available is not None and nbytes > SAFETY_MARGIN * available:
        raise MemoryError(
            f"{what} needs {nbytes:,} bytes ({_gib(nbytes)}), but only {available:,} bytes "
            f"({_gib(available)}) of memory are available and pspin uses at most "
            f"{SAFETY_MARGIN:.0%} of them ({int(SAFETY_MARGIN * available):,} bytes), keeping the rest as a "
            "safety margin"
        )
