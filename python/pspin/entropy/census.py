"""Census of one disorder sample: every distinct critical point a batch of searches finds."""

from __future__ import annotations

from dataclasses import field
from typing import Any

import numpy as np

from .. import _seed, _validate
from .._results import Result, axes, result_type
from ..landscape import critical_points, enumerate_local_minima, enumeration_cost, minimize
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from ._dedupe import classes_by_equality, classes_by_overlap
from ._polish import polish
from ._richness import chao1

# Exact enumeration replaces descent when it is estimated to take less than this.
_ENUMERATE_SECONDS = 20.0


@result_type
class Census(Result):
    """Distinct critical points of one disorder sample, with their basins and what was missed.

    One row per distinct point, up to the model's symmetry: when every degree is even,
    H(-s) = H(s) and s, -s are both critical points of the same energy and index; the
    census lists one of them and ``symmetry_factor`` is 2, so ``count`` (the number of
    critical points, both of a pair counted) is ``symmetry_factor * len(census)``.

    Attributes
    ----------
    states : ndarray (m, n)
        The distinct points, by ascending energy (float64 spherical, int8 Ising).
    energies : ndarray (m,)
        Total energies H.
    index : ndarray (m,) of int
        Morse index (number of negative Riemannian Hessian eigenvalues); 0 for Ising
        one-flip-stable states.
    hits : ndarray (m,) of int
        Converged starts that ended at each point: its basin of attraction in starts.
        All zero for an exact enumeration.
    first_hit : ndarray (m,) of int
        The start that found each point first (-1 for an enumeration).
    saturation : ndarray (n_starts,) of int
        Distinct points found among the first k starts, k = 1..n_starts.
    n : int
    n_starts : int
        Starts run (0 for an exact enumeration).
    n_converged : int
        Starts that converged to a point of the requested index.
    symmetry_factor : int
        2 when s and -s are distinct points of equal energy listed once, else 1.
    exact : bool
        True when the list is complete by construction (exhaustive enumeration).
    estimated_count, estimated_count_error : float
        Chao1 estimate of the number of points (``symmetry_factor`` included) from the
        singletons and doubletons of ``hits``, and its standard error; the count itself,
        with error 0, when ``exact``.
    hessian_eigenvalues : ndarray (m, n-1) or None
        Tangent Hessian spectra (spherical, when asked for).
    method : str
        How the points were found.
    params : dict
        Model, seed and search parameters.
    """

    states: np.ndarray
    energies: np.ndarray
    index: np.ndarray
    hits: np.ndarray
    first_hit: np.ndarray
    saturation: np.ndarray
    n: int
    n_starts: int
    n_converged: int
    symmetry_factor: int
    exact: bool
    estimated_count: float
    estimated_count_error: float
    hessian_eigenvalues: np.ndarray | None = None
    method: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.energies.shape[0])

    @property
    def energy_per_spin(self) -> np.ndarray:
        """Energies per spin, H/n."""
        return self.energies / self.n

    @property
    def count(self) -> int:
        """Critical points found, s and -s both counted when they are distinct points."""
        return len(self) * self.symmetry_factor

    @property
    def missed(self) -> float:
        """Chao1 estimate of the points the search did not find (0 when ``exact``)."""
        return max(self.estimated_count - self.count, 0.0)

    def _table(self) -> dict[str, np.ndarray]:
        return {
            "energy_per_spin": self.energy_per_spin,
            "index": self.index,
            "hits": self.hits,
            "first_hit": self.first_hit,
        }

    def plot(self, ax: Any = None) -> Any:
        """Saturation: distinct points found against starts, with the Chao1 estimate."""
        ax = axes(ax)
        k = np.arange(1, self.saturation.size + 1)
        ax.plot(k, self.saturation * self.symmetry_factor, label="distinct points found")
        ax.axhline(self.estimated_count, color="k", ls="--", label="Chao1 estimate")
        ax.axhspan(
            self.estimated_count - self.estimated_count_error, self.estimated_count + self.estimated_count_error,
            color="k", alpha=0.1,
        )
        ax.set_xlabel("starts")
        ax.set_ylabel("critical points")
        ax.set_xscale("log")
        ax.legend()
        return ax


def _flip_symmetric(model: PSpinModel) -> bool:
    return all(d % 2 == 0 for d in model.degrees)


def _saturation(first_rows: np.ndarray, converged_rows: np.ndarray, n_starts: int) -> np.ndarray:
    """Distinct classes among the first k starts: ``first_rows`` index the converged rows."""
    found_at = np.sort(converged_rows[first_rows])
    return np.searchsorted(found_at, np.arange(n_starts), side="right").astype(np.int64)


def _assemble(
    model: PSpinModel,
    states: np.ndarray,
    energies: np.ndarray,
    index: np.ndarray,
    labels: np.ndarray,
    first: np.ndarray,
    converged_rows: np.ndarray,
    n_starts: int,
    spectra: np.ndarray | None,
    method: str,
    params: dict[str, Any],
) -> Census:
    """Census from per-class arrays (in first-found order) and the label of every converged start."""
    factor = 2 if _flip_symmetric(model) else 1
    hits = np.bincount(labels, minlength=first.size).astype(np.int64)
    estimate, error = chao1(hits) if hits.size else (0.0, 0.0)
    order = np.lexsort((converged_rows[first], energies))
    return Census(
        states=states[order],
        energies=energies[order],
        index=index[order],
        hits=hits[order],
        first_hit=converged_rows[first][order],
        saturation=_saturation(first, converged_rows, n_starts),
        n=model.n,
        n_starts=n_starts,
        n_converged=int(labels.size),
        symmetry_factor=factor,
        exact=False,
        estimated_count=factor * estimate,
        estimated_count_error=factor * error,
        hessian_eigenvalues=None if spectra is None else spectra[order],
        method=method,
        params=params,
    )


def _spherical_minima(
    model: SphericalPSpin, n_starts: int | None, seq: np.random.SeedSequence, initial: Any,
    gtol: float, max_iter: int | None, q_tol: float, progress: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Batched L-BFGS from every start, then one class per endpoint basin:
    (converged endpoint states, their labels' class ids, converged rows, starts)."""
    runs = minimize(model, n_starts, method="lbfgs", gtol=gtol, max_iter=max_iter, seed=seq, initial=initial, progress=progress)
    rows = np.flatnonzero(runs.converged)
    labels, first = classes_by_overlap(
        runs.states[rows], runs.energy_per_spin[rows], flip_symmetric=_flip_symmetric(model), q_tol=q_tol, e_tol=1e-7,
    )
    return runs.states[rows], labels, rows, len(runs)


def _polish_classes(
    model: SphericalPSpin, candidates: np.ndarray, index: int, q_tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Newton-polish one endpoint per class and merge classes that polish to one point.

    Returns polished states, energies, indices, spectra of the merged classes, and the
    map from candidate class to merged class (-1 where the point is not of ``index``).
    """
    gtol = 1e-12 if model.dtype == np.float64 else 1e-5
    states, energies, norm, idx, spectra = polish(model, candidates, gtol=gtol)
    keep = np.flatnonzero((norm < gtol) & (idx == index))
    merged, first = classes_by_overlap(
        states[keep], energies[keep] / model.n, flip_symmetric=_flip_symmetric(model), q_tol=q_tol, e_tol=1e-9,
    )
    mapping = np.full(candidates.shape[0], -1, dtype=np.int64)
    mapping[keep] = merged
    rows = keep[first]
    return states[rows], energies[rows], idx[rows], spectra[rows], mapping


def census(
    model: PSpinModel,
    n_starts: int | None = None,
    *,
    index: int = 0,
    seed: _seed.SeedLike = None,
    initial: Any = None,
    method: str | None = None,
    gtol: float = 1e-6,
    max_iter: int | None = None,
    polish: bool = True,
    hessian: bool = False,
    tol: float = 1e-8,
    progress: bool = False,
) -> Census:
    """All distinct critical points of one disorder sample that a batch of searches finds.

    Spherical models:

    - ``index=0`` (``method='lbfgs'``): every start descends in one batched C++ call
      (Riemannian L-BFGS to ``gtol``); endpoints are grouped by energy and overlap; one
      endpoint per group is Newton-polished to machine precision (``polish``) and its
      index read from the full tangent Hessian spectrum; groups that polish to the same
      point are merged and endpoints that are not minima are dropped (a descent can
      stall near a saddle).
    - ``index=k`` (``method='newton'``): eigenvector-following Newton from each start
      (:func:`pspin.critical_points`), dense Hessians, n up to a few hundred.

    Ising models (``index=0`` only, one-flip-stable states): ``method='enumerate'``
    lists them all exactly (small n; the default when enumeration is estimated to take
    under 20 s), ``method='greedy'`` or ``'random'`` descends from random starts.

    Points are distinct up to the model's symmetry (s ~ -s when every degree is even);
    deduplication sorts by energy and compares overlaps only among equal energies, so it
    costs O(k log k) in the number of endpoints k. The hit count of a point is the
    number of starts that reached it (its basin of attraction in starts), and the
    saturation curve with the Chao1 estimate says how many points the search missed.

    Parameters
    ----------
    model : SphericalPSpin or IsingPSpin
    n_starts : int, optional
        Random starts (or give ``initial``); not needed for an enumeration.
    index : int
        Morse index of the points to count (0: minima).
    seed : None, int, SeedSequence or Generator
        Seed of the random starts.
    initial : array (b, n), optional
        Explicit starts instead of random ones.
    method : str, optional
        'lbfgs' (spherical, index 0), 'newton' (spherical, any index), 'enumerate',
        'greedy' or 'random' (Ising); default chosen as above.
    gtol : float
        Convergence of the descent, |grad_sph H| / sqrt(n) (spherical). Polished points
        then reach rounding level (1e-12 in float64); without ``polish`` take it smaller.
    max_iter : int, optional
        Iterations per start (L-BFGS or Newton; Ising: sweeps).
    polish : bool
        Newton-polish the distinct minima and read their index from the Hessian
        spectrum (spherical, index 0). Without it, points are L-BFGS endpoints whose
        index is not checked.
    hessian : bool
        Keep the tangent Hessian spectrum of every point (spherical).
    tol : float
        Two polished points are one when 1 - |q| < tol.
    progress : bool
        Progress bars (if tqdm is installed).

    Returns
    -------
    Census

    Examples
    --------
    >>> import pspin
    >>> m = pspin.SphericalPSpin(12, 2, seed=1)
    >>> c = pspin.entropy.census(m, 200, seed=2)
    >>> c.count  # p = 2: the two eigenvectors of the top eigenvalue
    2
    """
    if not isinstance(model, (SphericalPSpin, IsingPSpin)):
        raise TypeError(f"census needs a SphericalPSpin or IsingPSpin, got {type(model).__name__}")
    index = _validate.positive_int(index, "index", minimum=0)
    gtol = _validate.positive_float(gtol, "gtol")
    if not 0 < tol < 1:
        raise ValueError(f"tol must lie in (0, 1), got {tol}")
    seq = _seed.as_seed_sequence(seed)
    params: dict[str, Any] = {
        "model": repr(model), "index": index, "gtol": gtol, "max_iter": max_iter, "polish": polish,
        "tol": tol, "seed_entropy": str(seq.entropy), "seed_spawn_key": repr(tuple(seq.spawn_key)),
    }
    if isinstance(model, IsingPSpin):
        return _ising_census(model, n_starts, index, seq, initial, method, max_iter, progress, params)
    return _spherical_census(model, n_starts, index, seq, initial, method, gtol, max_iter, polish, hessian, tol, progress, params)


def _spherical_census(
    model: SphericalPSpin, n_starts: int | None, index: int, seq: np.random.SeedSequence, initial: Any,
    method: str | None, gtol: float, max_iter: int | None, polish: bool, hessian: bool, tol: float,
    progress: bool, params: dict[str, Any],
) -> Census:
    method = ("lbfgs" if index == 0 else "newton") if method is None else method
    if method not in ("lbfgs", "newton"):
        raise ValueError(f"unknown census method {method!r} for a spherical model; allowed: 'lbfgs', 'newton'")
    if index > model.n - 1:
        raise ValueError(f"index must be <= n - 1 = {model.n - 1}, got {index}")
    if method == "lbfgs" and index != 0:
        raise ValueError(f"descent ('lbfgs') finds minima only; index {index} needs method='newton'")
    if (polish or hessian or method == "newton") and model.n > 2000:
        raise ValueError(f"polishing and Hessian spectra use dense Hessians; n = {model.n} is too large (limit 2000): "
                         "pass polish=False, hessian=False")
    params["method"] = method
    if method == "newton":
        cp = critical_points(model, n_starts, index=index, max_iter=200 if max_iter is None else max_iter,
                             seed=seq, initial=initial, progress=progress)
        rows = np.flatnonzero(cp.converged & (cp.index == index))
        labels, first = classes_by_overlap(
            cp.states[rows], cp.energy_per_spin[rows], flip_symmetric=_flip_symmetric(model), q_tol=tol, e_tol=1e-9,
        )
        spectra = cp.hessian_eigenvalues[rows][first] if hessian else None
        return _assemble(model, cp.states[rows][first], cp.energies[rows][first], cp.index[rows][first], labels, first,
                         rows, len(cp), spectra, method, params)
    states, labels, rows, starts = _spherical_minima(model, n_starts, seq, initial, gtol, max_iter, 1e-6, progress)
    _, first = np.unique(labels, return_index=True)
    if not polish:
        reps = states[first]
        return _assemble(model, reps, model.energy(reps), np.zeros(first.size, np.int64), labels, first, rows, starts,
                         None, method, params)
    pol_states, pol_energies, pol_index, spectra, mapping = _polish_classes(model, states[first], index, tol)
    merged = mapping[labels]
    ok = merged >= 0
    params["dropped_not_of_index"] = int(np.sum(~ok))
    # Merged classes are numbered in candidate order, which is first-start order.
    merged_ok = merged[ok]
    _, first_ok = np.unique(merged_ok, return_index=True)
    return _assemble(model, pol_states, pol_energies, pol_index, merged_ok, first_ok, rows[ok], starts,
                     spectra if hessian else None, method, params)


def _ising_census(
    model: IsingPSpin, n_starts: int | None, index: int, seq: np.random.SeedSequence, initial: Any,
    method: str | None, max_iter: int | None, progress: bool, params: dict[str, Any],
) -> Census:
    if index != 0:
        raise ValueError(f"an Ising census counts one-flip-stable states (index 0); index {index} is not defined")
    if method is None:
        small = model.n <= 32 and enumeration_cost(model)[1] < _ENUMERATE_SECONDS
        method = "enumerate" if small and n_starts is None and initial is None else "greedy"
    if method not in ("enumerate", "greedy", "random"):
        raise ValueError(f"unknown census method {method!r} for an Ising model; allowed: 'enumerate', 'greedy', 'random'")
    params["method"] = method
    flip = _flip_symmetric(model)
    if method == "enumerate":
        if n_starts is not None or initial is not None:
            raise ValueError("an enumeration takes no starts: drop n_starts/initial or choose method='greedy'")
        found = enumerate_local_minima(model, progress=progress)
        keep = found.states[:, -1] == 1 if flip else np.ones(found.count, bool)
        states, energies = found.states[keep], found.energies[keep]
        m = states.shape[0]
        factor = 2 if flip else 1
        return Census(
            states=states, energies=energies, index=np.zeros(m, np.int64), hits=np.zeros(m, np.int64),
            first_hit=np.full(m, -1, np.int64), saturation=np.zeros(0, np.int64), n=model.n, n_starts=0,
            n_converged=0, symmetry_factor=factor, exact=True, estimated_count=float(found.count),
            estimated_count_error=0.0, method=method, params=params,
        )
    runs = minimize(model, n_starts, method=method, max_iter=max_iter, seed=seq, initial=initial, progress=progress)
    rows = np.flatnonzero(runs.converged)
    labels, first = classes_by_equality(runs.states[rows], flip_symmetric=flip)
    reps = np.asarray(runs.states[rows][first], dtype=np.int8)
    if flip:
        reps = reps * reps[:, -1:]
    return _assemble(model, reps, runs.energies[rows][first], np.zeros(first.size, np.int64), labels, first, rows,
                     len(runs), None, method, params)
