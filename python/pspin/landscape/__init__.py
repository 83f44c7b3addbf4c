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
    gtol: float = 1e-6,
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
    ``method`` 'greedy' (default) or 'random'; ``max_iter`` is the budget in sweeps
    (default 1000): sweeps for 'random', ``max_iter * n`` flips for 'greedy'.

    Returns
    -------
    Minima
    """
    if isinstance(model, SphericalPSpin):
        return minimize_spherical(
            model, n_starts, method="lbfgs" if method is None else method, gtol=gtol, max_iter=max_iter, seed=seed,
            initial=initial, record_every=record_every, progress=progress, **options,
        )
    if isinstance(model, IsingPSpin):
        return minimize_ising(
            model, n_starts, method="greedy" if method is None else method, max_sweeps=max_iter, seed=seed, initial=initial,
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
