"""Zero-temperature landscape: minimisers, critical points, Hessian spectra, minima statistics."""

from __future__ import annotations

from typing import Any

from .. import _seed
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from ._critical import CriticalPoints, critical_points
from ._ising import LocalMinima, enumerate_local_minima, enumeration_cost, minimize_ising
from ._results import Minima
from ._spherical import METHODS as SPHERICAL_METHODS
from ._spherical import minimize_spherical
from ._unique import unique_states
from .spectra import smallest_hessian_eigenvalues
from .statistics import energy_histogram, index_histogram, overlap_matrix


def minimize(
    model: PSpinModel,
    n_starts: int | None = None,
    *,
    method: str | None = None,
    gtol: float | None = None,
    max_iter: int | None = None,
    seed: _seed.SeedLike = None,
    initial: Any = None,
    record_every: int = 0,
    progress: bool = False,
    **options: Any,
) -> Minima:
    """Descend to local minima from many starts at once.

    Spherical models: ``method`` 'lbfgs' (default, Riemannian L-BFGS) or 'gd'
    (Riemannian gradient descent, the gradient flow of the theory); see
    :func:`pspin.landscape.minimize_spherical` for ``step`` and ``memory``.
    Ising models: zero-temperature single-flip descent to one-flip-stable states,
    ``method`` 'greedy' (default) or 'random'; see :func:`pspin.landscape.minimize_ising`.
    Names, dtypes and units follow docs/conventions.md.

    Parameters
    ----------
    model : SphericalPSpin or IsingPSpin
    n_starts : int, optional
        Number of random starts; may be omitted when ``initial`` is given.
    method : str, optional
        See above.
    gtol : float, optional
        Spherical: stop a start when |grad_sph H| / sqrt(n) < gtol (default 1e-6).
        Ising descents stop at one-flip-stable states: passing ``gtol`` is an error.
    max_iter : int, optional
        Budget per start: iterations (spherical; default 10000 for 'lbfgs', 10^6 for
        'gd') or sweeps (Ising, default 1000; ``max_iter * n`` flips for 'greedy').
    seed : None, int, SeedSequence or Generator
        Seed of the random starts (and of the Ising sweep orders).
    initial : array (b, n) or (n,), optional
        Starting states instead of random ones.
    record_every : int
        Record the energy per spin every this many iterations (0: no trajectory).
    progress : bool
        Show a progress bar of the starts that have stopped (needs tqdm).
    **options
        Method options (spherical ``step``, ``memory``).

    Returns
    -------
    Minima

    Examples
    --------
    >>> import pspin
    >>> m = pspin.minimize(pspin.SphericalPSpin(16, 3, seed=1), 4, seed=2)
    >>> m.energies.shape, m.energies.dtype.name
    ((4,), 'float64')
    """
    if isinstance(model, SphericalPSpin):
        return minimize_spherical(
            model, n_starts, method="lbfgs" if method is None else method, gtol=1e-6 if gtol is None else gtol,
            max_iter=max_iter, seed=seed, initial=initial, record_every=record_every, progress=progress, **options,
        )
    if isinstance(model, IsingPSpin):
        if gtol is not None:
            raise ValueError(
                "gtol does not apply to Ising models: single-flip descent stops at one-flip-stable states "
                "(Minima.unstable_spins == 0); leave gtol out"
            )
        return minimize_ising(
            model, n_starts, method="greedy" if method is None else method, max_iter=max_iter, seed=seed, initial=initial,
            record_every=record_every, progress=progress, **options,
        )
    raise TypeError(f"minimize needs a SphericalPSpin or IsingPSpin, got {type(model).__name__}")


__all__ = [
    "SPHERICAL_METHODS",
    "CriticalPoints",
    "LocalMinima",
    "Minima",
    "critical_points",
    "energy_histogram",
    "enumerate_local_minima",
    "enumeration_cost",
    "index_histogram",
    "minimize",
    "minimize_ising",
    "minimize_spherical",
    "overlap_matrix",
    "smallest_hessian_eigenvalues",
    "unique_states",
]
