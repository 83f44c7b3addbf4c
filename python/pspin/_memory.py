"""Refusing allocations that cannot fit, before any work starts."""

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


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:.2f} GiB"


def require_memory(nbytes: int, what: str) -> None:
    """Raise MemoryError if ``nbytes`` more cannot be allocated."""
    available = available_memory()
    if available is not None and nbytes > available:
        raise MemoryError(
            f"{what} needs {nbytes:,} bytes ({_gib(nbytes)}), but only {available:,} bytes "
            f"({_gib(available)}) of memory are available"
        )
