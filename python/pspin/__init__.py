"""pspin: energy landscapes of mean-field spin glasses.

Spherical and Ising p-spin models (pure and mixed) with a C++17/OpenMP core for
the batched tensor contractions, and the theory they are compared with.

Convention (every result depends on it)::

    H(s) = - sum_p c_p sum_{i1<...<ip} J_{i1..ip} s_i1 ... s_ip,
    J iid N(0, p! / (2 N^(p-1))),  so  E[H(s) H(s')] = N xi(q) / 2,
    xi(q) = sum_p c_p^2 q^p,  q = s.s'/N.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:
    from ._dispatch import ENV_VAR

    if ENV_VAR in str(exc):  # a level forced by the environment: the message says what is available
        raise
    raise ImportError(
        f"pspin's compiled core could not be imported: {exc}. Install the package with "
        "`pip install .` (or, for development, `pip install --no-build-isolation -ve .`)."
    ) from exc

from . import analysis, entropy, landscape, sampling, theory
from ._config import get_num_threads, set_num_threads, show_config, threads
from ._farm import DisorderAverage, FarmError, FarmResult, FarmSample, disorder_average, farm
from ._results import load
from .landscape import (
    CriticalPoints,
    LocalMinima,
    Minima,
    critical_points,
    enumerate_local_minima,
    minimize,
    unique_states,
)
from .models import IsingPSpin, SphericalPSpin
from .sampling import ParallelTempering, PTResult, anneal


def _version() -> str:
    # The compiled core carries the version it was built with; a build outside
    # scikit-build-core leaves it empty, and the installed metadata is the fallback.
    if _core.__version__:
        return str(_core.__version__)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pspin")
    except PackageNotFoundError:
        return "unknown"


__version__: str = _version()

__all__ = [
    "CriticalPoints",
    "DisorderAverage",
    "FarmError",
    "FarmResult",
    "FarmSample",
    "IsingPSpin",
    "LocalMinima",
    "Minima",
    "PTResult",
    "ParallelTempering",
    "SphericalPSpin",
    "__version__",
    "analysis",
    "entropy",
    "farm",
    "load",
    "anneal",
    "critical_points",
    "disorder_average",
    "enumerate_local_minima",
    "get_num_threads",
    "landscape",
    "minimize",
    "sampling",
    "set_num_threads",
    "show_config",
    "theory",
    "threads",
    "unique_states",
]
