"""Choice of the compiled kernel level at import.

One install carries the core compiled for several instruction-set levels
(x86-64: ``baseline`` = SSE2, ``v3`` = AVX2 + FMA, ``v4`` = AVX-512), each a module
``pspin._core_<level>``. The best level that both the CPU runs and the install
holds is imported; the environment variable ``PSPIN_SIMD`` forces a lower one
(for tests and comparisons). A build with ``PSPIN_NATIVE=ON`` holds one level,
``native``, tuned for the machine that compiled it.

Results agree across levels to rounding only: the vector width sets the order
in which sums are formed, and FMA (v3, v4) rounds once where baseline rounds
twice. Within one level they are bit-identical whatever the thread count.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
from types import ModuleType

ENV_VAR = "PSPIN_SIMD"
#: Every level pspin knows, lowest first (``native`` is a build option, not a level).
KNOWN_LEVELS = ("baseline", "v3", "v4")


def built_levels() -> list[str]:
    """Levels whose kernel module this install holds, lowest first."""
    names = [*KNOWN_LEVELS, "native"]
    return [lv for lv in names if importlib.util.find_spec(f"pspin._core_{lv}") is not None]


def cpu_levels() -> list[str]:
    """Levels this CPU (and its operating system) can run, lowest first."""
    from . import _cpu

    return list(_cpu.supported_simd_levels())


def cpu_flags() -> str:
    """The CPU's SIMD extensions that matter to the kernels, space separated."""
    from . import _cpu

    return str(_cpu.cpu_simd_flags())


def cpu_model() -> str:
    """The CPU's model name, as the operating system reports it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def available_levels() -> list[str]:
    """Levels that are both built and runnable here, lowest first."""
    built = built_levels()
    if "native" in built:
        return ["native"]
    runnable = set(cpu_levels())
    return [lv for lv in built if lv in runnable]


def choose_level(forced: str | None = None) -> str:
    """The level to import: ``forced`` (default: ``$PSPIN_SIMD``) or the best available.

    Raises
    ------
    ImportError
        If the forced level is unknown, not in this install, or not runnable on this CPU.
    """
    if forced is None:
        forced = os.environ.get(ENV_VAR) or None
    available = available_levels()
    if not available:
        raise ImportError(
            f"no pspin kernel module can run on this CPU (built: {built_levels()}, "
            f"CPU supports: {cpu_levels()})"
        )
    if forced is None:
        return available[-1]
    if forced not in (*KNOWN_LEVELS, "native"):
        raise ImportError(
            f"{ENV_VAR}={forced!r} is not a SIMD level; allowed: {', '.join(KNOWN_LEVELS)} "
            "(or native for a PSPIN_NATIVE build)"
        )
    if forced not in built_levels():
        raise ImportError(
            f"{ENV_VAR}={forced!r}: this install has no such kernel module "
            f"(built: {', '.join(built_levels())})"
        )
    if forced not in available:
        raise ImportError(
            f"{ENV_VAR}={forced!r}: this CPU cannot run it (it runs: {', '.join(available)})"
        )
    return forced


def load_core() -> ModuleType:
    """Import and return the kernel module of :func:`choose_level`."""
    return importlib.import_module(f"pspin._core_{choose_level()}")
