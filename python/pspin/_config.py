"""Build configuration and thread control of the compiled core."""

from __future__ import annotations

import contextlib
import numbers
import sys
from collections.abc import Iterator
from typing import IO, Any

from . import _core, _dispatch


def show_config(file: IO[str] | None = None) -> dict[str, Any]:
    """Print and return how pspin's core was built and how it will run.

    Parameters
    ----------
    file : text stream, optional
        Where to print (default ``sys.stdout``).

    Returns
    -------
    dict
        ``version``, ``compiler``, ``openmp`` (bool), ``openmp_version``, ``max_threads``;
        ``simd_level`` (the kernel level in use: ``baseline``, ``v3``, ``v4`` or ``native``),
        ``simd_width_bits`` and ``simd_extensions`` (what that level was compiled for),
        ``simd_levels`` (the levels this install holds that this CPU runs, lowest first;
        ``PSPIN_SIMD=<level>`` before the import forces a lower one), ``cpu_model`` and
        ``cpu_flags`` (the CPU's SIMD extensions).

    Examples
    --------
    >>> import io, pspin
    >>> info = pspin.show_config(file=io.StringIO())
    >>> info["simd_level"] in info["simd_levels"]
    True
    """
    info: dict[str, Any] = dict(_core.build_info())
    info["simd_levels"] = _dispatch.available_levels()
    info["cpu_model"] = _dispatch.cpu_model()
    info["cpu_flags"] = _dispatch.cpu_flags()
    info["max_threads"] = _core.max_threads()
    out = sys.stdout if file is None else file
    for key, value in info.items():
        print(f"{key:16s}: {value}", file=out)
    return info


def get_num_threads() -> int:
    """Number of OpenMP threads pspin's kernels use (``OMP_NUM_THREADS`` by default).

    Examples
    --------
    >>> import pspin
    >>> pspin.get_num_threads() >= 1
    True
    """
    return int(_core.max_threads())


def set_num_threads(n: int) -> None:
    """Set the number of OpenMP threads for pspin's kernels.

    Results do not depend on it: work is split into tasks fixed by the problem size
    and summed in a fixed order.

    Parameters
    ----------
    n : int
        Number of threads, >= 1.

    Examples
    --------
    >>> import pspin
    >>> before = pspin.get_num_threads()
    >>> pspin.set_num_threads(1)
    >>> pspin.get_num_threads()
    1
    >>> pspin.set_num_threads(before)
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"number of threads must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"number of threads must be >= 1, got {n}")
    _core.set_num_threads(int(n))


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Context manager running the enclosed pspin calls with ``n`` threads.

    Parameters
    ----------
    n : int
        Number of threads inside the ``with`` block, >= 1; the previous count is restored
        on leaving it, also after an exception.

    Examples
    --------
    >>> import pspin
    >>> with pspin.threads(1):
    ...     pspin.get_num_threads()
    1
    """
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(previous)
