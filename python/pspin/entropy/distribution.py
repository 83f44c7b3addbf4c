"""Where minima lie: energies by route, index against energy, overlaps and basin sizes."""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any, Sequence, cast

import numpy as np

from .. import _seed, _validate, theory
from .._results import Result, axes, result_type
from ..landscape import critical_points, minimize
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from ..sampling import anneal
from ._dedupe import classes_by_overlap
from .census import Census, census
from .complexity import _sample_seed, theory_spec

ROUTES = ("lbfgs", "gd", "anneal")


@result_type
class MinimaDistribution(Result):
    """The minima of one disorder sample as different routes find them.

    Attributes
    ----------
    n : int
    routes : dict of str -> ndarray
        Energy per spin of every converged endpoint of each route ('lbfgs', 'gd',
        'anneal' = annealing then descent, 'quench T=...' from inherent structures):
        where a route lands, each start counted once.
    minima_energies : ndarray (m,)
        Energy per spin of every distinct minimum (from the L-BFGS census).
    basin_sizes : ndarray (m,)
        Starts that reached each distinct minimum.
    overlaps : ndarray (m (m-1) / 2,)
        Overlaps q = s.t / n between every pair of distinct minima (of a seeded random
        subset of 2000 when there are more).
    critical_energies, critical_index : ndarray (c,)
        Energy per spin and Morse index of the distinct critical points of any index
        found by plain Newton from random starts (spherical; empty when not asked).
    ground_state_energy, threshold_energy : float
        Theory (n -> infinity): e_gs and e_th for spherical models; the SK ground state
        and the typical one-flip-stable energy (Tanaka-Edwards) for Ising p = 2; NaN otherwise.
    params : dict
    """

    n: int
    routes: dict[str, np.ndarray]
    minima_energies: np.ndarray
    basin_sizes: np.ndarray
    overlaps: np.ndarray
    critical_energies: np.ndarray
    critical_index: np.ndarray
    ground_state_energy: float
    threshold_energy: float
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean, spread and extremes of each route's energies per spin."""
        return {
            name: {"mean": float(e.mean()), "std": float(e.std()), "min": float(e.min()), "max": float(e.max()),
                   "count": float(e.size)}
            for name, e in self.routes.items() if e.size
        }

    def plot(self, ax: Any = None) -> Any:
        """Histograms of the energies each route reaches, with e_gs and e_th marked."""
        ax = axes(ax)
        values = np.concatenate([e for e in self.routes.values() if e.size] + [self.minima_energies])
        edges = np.linspace(values.min(), values.max(), 40)
        for name, e in self.routes.items():
            if e.size:
                ax.hist(e, bins=edges, density=True, histtype="step", label=name)
        ax.hist(self.minima_energies, bins=edges, density=True, histtype="stepfilled", alpha=0.25,
                label="distinct minima")
        for value, text, style in ((self.ground_state_energy, "e_gs", "-"), (self.threshold_energy, "e_th", "--")):
            if np.isfinite(value):
                ax.axvline(value, color="k", ls=style, label=f"{text} (n -> inf)")
        ax.set_xlabel("energy per spin")
        ax.set_ylabel("density")
        ax.legend(fontsize="small")
        return ax

    def plot_index(self, ax: Any = None, p: Any = None) -> Any:
        """Index fraction k/n of critical points against energy, with the theory curve when ``p`` is given."""
        ax = axes(ax)
        ax.plot(self.critical_energies, self.critical_index / self.n, "o", ms=3, label="critical points found")
        if p is not None and self.critical_energies.size:
            grid = np.linspace(self.critical_energies.min(), self.critical_energies.max(), 200)
            ax.plot(grid, theory.index_fraction(grid, p), "-", label="semicircle, n -> inf")
        ax.set_xlabel("energy per spin")
        ax.set_ylabel("index / n")
        ax.legend()
        return ax

    def plot_overlaps(self, ax: Any = None) -> Any:
        """Histogram of the overlaps between distinct minima."""
        ax = axes(ax)
        ax.hist(self.overlaps, bins=40, density=True)
        ax.set_xlabel("overlap q between distinct minima")
        ax.set_ylabel("density")
        return ax

    def plot_basins(self, ax: Any = None) -> Any:
        """Basin size (starts) of each distinct minimum against its energy."""
        ax = axes(ax)
        ax.semilogy(self.minima_energies, self.basin_sizes, "o", ms=3)
        ax.set_xlabel("energy per spin")
        ax.set_ylabel("basin size (starts)")
        return ax


def _landmarks(model: PSpinModel) -> tuple[float, float]:
    if isinstance(model, SphericalPSpin):
        p = theory_spec(model)
        return float(theory.ground_state_energy(p)), float(theory.threshold_energy(p))
    if tuple(model.degrees) == (2,):
        return float(theory.sk_ground_state_energy()), float(theory.one_flip_stable_typical_energy())
    return math.nan, math.nan


# Overlaps of all pairs cost m^2 / 2 values: beyond this many minima a fixed random subset is used.
_MAX_OVERLAP_MINIMA = 2000


def _pair_overlaps(states: np.ndarray, n: int, seq: np.random.SeedSequence) -> np.ndarray:
    """q = s.t / n for every pair of distinct minima, or for every pair of a seeded random
    subset of ``_MAX_OVERLAP_MINIMA`` of them (the distribution, not each pair, is the result)."""
    s = np.asarray(states, dtype=np.float64)
    if s.shape[0] > _MAX_OVERLAP_MINIMA:
        pick = np.random.default_rng(seq).choice(s.shape[0], _MAX_OVERLAP_MINIMA, replace=False)
        s = s[np.sort(pick)]
    return (s @ s.T / n)[np.triu_indices(s.shape[0], k=1)]


def _descend(model: PSpinModel, states: np.ndarray) -> np.ndarray:
    """Energies per spin of the converged minima reached from ``states``."""
    if isinstance(model, SphericalPSpin):
        done = minimize(model, initial=states, method="lbfgs", gtol=1e-9)
    else:
        done = minimize(model, initial=states)
    return done.energy_per_spin[done.converged]


def minima_distribution(
    model: PSpinModel,
    n_starts: int,
    *,
    routes: Sequence[str] = ("lbfgs", "gd"),
    seed: _seed.SeedLike = None,
    census_result: Census | None = None,
    inherent: Any = None,
    gd_options: dict[str, Any] | None = None,
    anneal_schedule: Any = None,
    index_starts: int = 0,
    progress: bool = False,
) -> MinimaDistribution:
    """Energies of the minima reached by several routes, and the statistics of distinct minima.

    Parameters
    ----------
    model : SphericalPSpin or IsingPSpin
    n_starts : int
        Starts per route.
    routes : sequence of {'lbfgs', 'gd', 'anneal'}
        'lbfgs': the census's descents (spherical L-BFGS, Ising greedy descent);
        'gd': Riemannian gradient descent (spherical; ``gd_options`` go to
        :func:`pspin.minimize`, default gtol 1e-4, max_iter 20000: gradient descent from
        random starts slows down near the threshold energy); 'anneal': simulated
        annealing along ``anneal_schedule`` (default geometric from 2 to 0.05 in 200
        steps), then descent.
    seed : None, int, SeedSequence or Generator
        One independent stream per route.
    census_result : Census, optional
        A census of this model to reuse (its distinct minima, basins and overlaps).
    inherent : InherentStructures, optional
        Adds one route 'quench T=...' per temperature of a tempering run.
    index_starts : int
        Plain-Newton starts for the index-versus-energy distribution (spherical, dense
        Hessians; 0 skips it).
    progress : bool

    Returns
    -------
    MinimaDistribution

    Examples
    --------
    >>> import pspin
    >>> d = pspin.entropy.minima_distribution(pspin.SphericalPSpin(12, 3, seed=1), 20, routes=("lbfgs",), seed=2)
    >>> list(d.routes), d.routes["lbfgs"].shape
    (['lbfgs'], (20,))
    """
    if not isinstance(model, (SphericalPSpin, IsingPSpin)):
        raise TypeError(f"minima_distribution needs a SphericalPSpin or IsingPSpin, got {type(model).__name__}")
    n_starts = _validate.positive_int(n_starts, "n_starts")
    index_starts = _validate.positive_int(index_starts, "index_starts", minimum=0)
    routes = tuple(routes)
    unknown = set(routes) - set(ROUTES)
    if unknown:
        raise ValueError(f"unknown routes {sorted(unknown)}; allowed: {ROUTES}")
    if "gd" in routes and isinstance(model, IsingPSpin):
        raise ValueError("route 'gd' is for spherical models; Ising descent is the 'lbfgs' route (greedy flips)")
    if index_starts and isinstance(model, IsingPSpin):
        raise ValueError("index_starts counts saddles of spherical models; an Ising model has only one-flip-stable states")
    if census_result is not None and census_result.n != model.n:
        raise ValueError(f"census_result has n = {census_result.n}, the model n = {model.n}")
    if inherent is not None and getattr(inherent, "n", model.n) != model.n:
        raise ValueError("inherent structures of another model size")
    seq = _seed.as_seed_sequence(seed)
    found = census_result if census_result is not None else census(model, n_starts, seed=_sample_seed(seq, 0, 0), progress=progress)
    out: dict[str, np.ndarray] = {}
    if "lbfgs" in routes:
        out["lbfgs"] = np.repeat(found.energy_per_spin, found.hits) if found.hits.sum() else found.energy_per_spin
    if "gd" in routes:
        opts = {"gtol": 1e-4, "max_iter": 20000, **(gd_options or {})}
        gd = minimize(model, n_starts, method="gd", seed=_sample_seed(seq, 0, 1), progress=progress, **opts)
        out["gd"] = gd.energy_per_spin[gd.converged]
    if "anneal" in routes:
        schedule = np.geomspace(2.0, 0.05, 200) if anneal_schedule is None else anneal_schedule
        ann = anneal(model, schedule, n_starts=n_starts, seed=_sample_seed(seq, 0, 2))
        out["anneal"] = _descend(model, ann.best_states)
    if inherent is not None:
        for t, e, ok in zip(inherent.temperatures, inherent.energies_per_spin, inherent.converged):
            out[f"quench T={t:.4g}"] = np.asarray(e)[np.asarray(ok, bool)]
    overlaps = _pair_overlaps(found.states, model.n, _sample_seed(seq, 0, 4))
    crit_e = np.zeros(0)
    crit_k = np.zeros(0, np.int64)
    if index_starts:
        # Spherical: index_starts with an Ising model was refused above.
        cp = critical_points(cast(SphericalPSpin, model), index_starts, index=None, seed=_sample_seed(seq, 0, 3), progress=progress)
        ok = np.flatnonzero(cp.converged)
        flip = all(d % 2 == 0 for d in model.degrees)
        _, first = classes_by_overlap(cp.states[ok], cp.energy_per_spin[ok], flip_symmetric=flip, q_tol=1e-8, e_tol=1e-9)
        crit_e, crit_k = cp.energy_per_spin[ok][first], cp.index[ok][first]
    e_gs, e_th = _landmarks(model)
    return MinimaDistribution(
        n=model.n, routes=out, minima_energies=found.energy_per_spin, basin_sizes=found.hits, overlaps=overlaps,
        critical_energies=crit_e, critical_index=crit_k, ground_state_energy=e_gs, threshold_energy=e_th,
        params={"model": repr(model), "n_starts": n_starts, "routes": list(routes), "index_starts": index_starts,
                "gd_options": repr(gd_options), "seed_entropy": str(seq.entropy),
                "seed_spawn_key": repr(tuple(seq.spawn_key)), "census": found.params},
    )
