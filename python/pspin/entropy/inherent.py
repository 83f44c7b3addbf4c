"""Inherent structures: the minima that equilibrium configurations quench to (Stillinger-Weber).

Every snapshot of a parallel-tempering run is quenched to the minimum of its basin:
spherical models by Riemannian L-BFGS (then, for n <= 256, Newton-polished to machine
precision with the tangent Hessian), Ising models by greedy single-flip descent to a
one-flip-stable state. The distribution of their energies P(e_IS | T), their mean
<e_IS>(T) and, for spherical models, the harmonic vibrational entropy of their basins
are what the configurational entropy is built from.

Sources: F. H. Stillinger and T. A. Weber, Phys. Rev. A 25, 978 (1982); F. Sciortino,
W. Kob and P. Tartaglia, Phys. Rev. Lett. 83, 3214 (1999).
"""

from __future__ import annotations

import warnings
from dataclasses import field
from typing import Any

import numpy as np

from .. import analysis
from .._results import Result, axes, result_type
from ..landscape import minimize
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from ..sampling import checkpoint as ckpt
from ..sampling.result import PTResult
from ._polish import polish as newton_polish
from .thermodynamics import harmonic_entropy

__all__ = ["InherentStructures", "inherent_structures"]

# Dense Newton polishing and Hessian spectra cost O(n^3) per minimum: on by default up to here.
_POLISH_MAX_N = 256
# Fewest snapshots per temperature for a blocking analysis of their correlations.
_BLOCKING_MIN = 64


def _mean_and_error(values: np.ndarray, mask: np.ndarray, replicas: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-temperature mean and standard error of (R, K*S) values over the converged ones.

    The replica-averaged snapshot series (R, S) is analysed by blocking when it has at
    least 64 snapshots; shorter series are treated as independent (snapshots spaced
    beyond the autocorrelation time).
    """
    R = values.shape[0]
    masked = np.where(mask, values, np.nan).reshape(R, replicas, -1)
    series = np.nanmean(masked, axis=1) if np.all(np.any(mask.reshape(R, replicas, -1), axis=1)) else None
    mean = np.nanmean(np.where(mask, values, np.nan), axis=1)
    if series is not None and series.shape[1] >= _BLOCKING_MIN:
        return mean, np.asarray(analysis.binning_error(series, axis=-1).error)
    counts = mask.sum(axis=1)
    std = np.nanstd(np.where(mask, values, np.nan), axis=1, ddof=1)
    return mean, std / np.sqrt(np.maximum(counts, 1))


@result_type
class InherentStructures(Result):
    """The minima quenched from equilibrium snapshots, by temperature.

    Attributes
    ----------
    temperatures : (R,) ascending, those of the tempering run.
    energies_per_spin : (R, M) energies per spin of the minima, M = replicas x snapshots
        (replica-major: column k*S + j is replica k at snapshot j).
    parent_energies_per_spin : (R, M) energies per spin of the snapshots themselves.
    converged : (R, M) bool
        The quench reached a minimum: spherical, |grad_sph H|/sqrt(n) below the tolerance
        and (with the Hessian) every tangent eigenvalue positive; Ising, one-flip-stable.
        Averages use the converged minima only; the others are kept, not hidden.
    grad_norm : (R, M) spherical, the Riemannian gradient norm per sqrt(n); Ising, the
        number of spins whose flip lowers the energy.
    snapshot_sweeps : (S,) sweeps of the snapshots.
    n, replicas : int
    kind : 'spherical' or 'ising'
    hessian_eigenvalues : (R, M, n-1) or None
        Tangent (Riemannian) Hessian eigenvalues of the total H, ascending (spherical,
        with ``hessian=True``).
    log_det_per_spin : (R, M) or None
        ``(1/n) sum_a ln lambda_a`` (NaN where an eigenvalue is not positive).
    states : (R, M, n) or None
        The minima (``keep_states=True``).
    params : dict
    """

    temperatures: np.ndarray
    energies_per_spin: np.ndarray
    parent_energies_per_spin: np.ndarray
    converged: np.ndarray
    grad_norm: np.ndarray
    snapshot_sweeps: np.ndarray
    n: int
    replicas: int
    kind: str
    hessian_eigenvalues: np.ndarray | None = None
    log_det_per_spin: np.ndarray | None = None
    states: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_energy(self) -> np.ndarray:
        """(R,) <e_IS>(T) over the converged minima."""
        return _mean_and_error(self.energies_per_spin, self.converged, self.replicas)[0]

    @property
    def mean_energy_error(self) -> np.ndarray:
        """(R,) standard error of ``mean_energy`` (blocking over snapshots when >= 64 of
        them, else snapshots taken as independent; replicas are independent)."""
        return _mean_and_error(self.energies_per_spin, self.converged, self.replicas)[1]

    @property
    def mean_parent_energy(self) -> np.ndarray:
        """(R,) mean energy per spin of the snapshots that were quenched."""
        return np.asarray(self.parent_energies_per_spin.mean(axis=1))

    def histogram(self, bins: int | Any = 30) -> tuple[np.ndarray, np.ndarray]:
        """P(e_IS | T): (R, bins) densities over common edges (bins + 1,), converged minima."""
        good = self.energies_per_spin[self.converged]
        edges = np.histogram_bin_edges(good, bins=bins)
        dens = [np.histogram(row[ok], bins=edges, density=True)[0] for row, ok in zip(self.energies_per_spin, self.converged)]
        return np.stack(dens), edges

    def _need_hessian(self) -> np.ndarray:
        if self.hessian_eigenvalues is None:
            raise ValueError("no Hessian spectra: spherical models with inherent_structures(..., hessian=True) only")
        return self.hessian_eigenvalues

    @property
    def log_volume(self) -> np.ndarray:
        """(R, M) harmonic ln V of each basin at its temperature, ``sum_a ln(2 pi T/lambda_a)/2``
        (the surface measure; NaN for minima that did not converge)."""
        self._need_hessian()
        log_det = np.asarray(self.log_det_per_spin)
        log_v = 0.5 * ((self.n - 1) * np.log(2.0 * np.pi * self.temperatures[:, None]) - self.n * log_det)
        return np.where(self.converged, log_v, np.nan)

    @property
    def vibrational_entropy(self) -> np.ndarray:
        """(R,) mean harmonic entropy per spin of the basins at their temperature
        (:func:`pspin.entropy.harmonic_entropy`)."""
        return _mean_and_error(self._vibrational(), self.converged, self.replicas)[0]

    @property
    def vibrational_entropy_error(self) -> np.ndarray:
        """(R,) standard error of ``vibrational_entropy`` (as for ``mean_energy_error``)."""
        return _mean_and_error(self._vibrational(), self.converged, self.replicas)[1]

    def _vibrational(self) -> np.ndarray:
        lam = self._need_hessian()
        safe = np.where(self.converged[..., None], lam, 1.0)
        return harmonic_entropy(safe, self.temperatures[:, None])

    def complexity(self, **kwargs: Any) -> Any:
        """Sigma(e_IS) by :func:`pspin.entropy.reconstruct_complexity` from these minima
        (with their harmonic basin volumes when the Hessian spectra are there)."""
        from .reconstruction import reconstruct_complexity

        energies = [row[ok] for row, ok in zip(self.energies_per_spin, self.converged)]
        if self.hessian_eigenvalues is not None and "log_volume" not in kwargs:
            kwargs["log_volume"] = [row[ok] for row, ok in zip(self.log_volume, self.converged)]
        return reconstruct_complexity(self.temperatures, energies, self.n, **kwargs)

    def plot(self, ax: Any = None) -> Any:
        """<e_IS>(T) and the mean energy of the snapshots against T."""
        ax = axes(ax)
        ax.errorbar(self.temperatures, self.mean_energy, yerr=self.mean_energy_error, marker="o", ms=3, label="<e_IS>")
        ax.plot(self.temperatures, self.mean_parent_energy, "s--", ms=3, label="<e> of the snapshots")
        ax.set_xlabel("T")
        ax.set_ylabel("energy per spin")
        ax.legend()
        return ax


def _check_model(result: PTResult, model: PSpinModel | None) -> PSpinModel:
    if model is None:
        return result.model
    if not isinstance(model, (IsingPSpin, SphericalPSpin)):
        raise TypeError(f"model must be an IsingPSpin or SphericalPSpin, got {type(model).__name__}")
    if model is not result.model:
        same = type(model) is type(result.model) and model.n == result.model.n and (
            ckpt.couplings_fingerprint(model) == ckpt.couplings_fingerprint(result.model)
        )
        if not same:
            raise ValueError(f"model {model!r} is not the model of the tempering run ({result.model!r})")
    return model


def inherent_structures(
    result: PTResult,
    model: PSpinModel | None = None,
    *,
    hessian: bool = True,
    polish: bool | None = None,
    keep_states: bool = False,
    gtol: float | None = None,
    max_iter: int | None = None,
    progress: bool = False,
) -> InherentStructures:
    """Quench every snapshot of a tempering run to its minimum.

    Parameters
    ----------
    result : PTResult
        From ``ParallelTempering.run(..., snapshot_every=k)``.
    model : IsingPSpin or SphericalPSpin, optional
        Defaults to ``result.model``; if given, it must be the same model (couplings).
    hessian : bool
        Spherical: keep the tangent Hessian spectrum of every minimum (dense, O(n^3) each)
        for the vibrational entropy; ignored for Ising models.
    polish : bool, optional
        Spherical: Newton-polish the L-BFGS minima (batched gradients, one dense
        tangent Hessian and eigendecomposition per minimum, which also gives its
        spectrum; default: n <= 256).
    keep_states : bool
        Keep the minima (R, M, n).
    gtol : float, optional
        L-BFGS tolerance on |grad_sph H|/sqrt(n) (default 1e-10 for float64 models, 1e-5
        for float32).
    max_iter : int, optional
        Iterations per quench (``pspin.minimize``'s default otherwise).
    progress : bool
        Progress bars.

    Returns
    -------
    InherentStructures
        Quenches that did not reach a minimum are flagged in ``converged`` and a
        RuntimeWarning says how many.
    """
    if not isinstance(result, PTResult):
        raise TypeError(f"inherent_structures needs a PTResult, got {type(result).__name__}")
    if result.snapshots is None or result.snapshots.shape[2] == 0:
        raise ValueError("the tempering result has no snapshots: run ParallelTempering.run(..., snapshot_every=k)")
    model = _check_model(result, model)
    snaps = result.snapshots
    R, K, S, n = snaps.shape
    flat = np.ascontiguousarray(snaps.reshape(R * K * S, n).astype(model.dtype))
    parents = np.asarray(model.energy(flat), dtype=np.float64).reshape(R, K * S) / n
    eigs = log_det = None
    if isinstance(model, SphericalPSpin):
        if gtol is None:
            gtol = 1e-10 if model.dtype == np.float64 else 1e-5
        mins = minimize(model, initial=flat, method="lbfgs", gtol=gtol, max_iter=max_iter, progress=progress)
        states, energies, grad, ok = mins.states, mins.energies, mins.grad_norm, mins.converged
        if polish is None:
            polish = n <= _POLISH_MAX_N
        if polish:
            tight = 1e-12 if model.dtype == np.float64 else 1e-5
            states, energies, grad, index, lam = newton_polish(model, states, gtol=tight)
            ok = ok & (grad < tight) & (index == 0)
        elif hessian:
            lam = np.stack([model.hessian_spectrum(s) for s in states])
        if hessian:
            ok = ok & np.all(lam > 0, axis=1)
            eigs = lam.reshape(R, K * S, n - 1)
            with np.errstate(invalid="ignore", divide="ignore"):
                log_det = np.where(np.all(lam > 0, axis=1), np.log(np.abs(lam)).sum(axis=1), np.nan).reshape(R, K * S) / n
    else:
        mins = minimize(model, initial=flat, max_iter=max_iter, progress=progress)
        states, energies, grad, ok = mins.states, mins.energies, mins.grad_norm, mins.converged
    failed = int(np.sum(~ok))
    if failed:
        warnings.warn(f"{failed} of {ok.size} quenches did not reach a minimum; they are flagged in .converged", RuntimeWarning, stacklevel=2)

    import pspin

    return InherentStructures(
        temperatures=np.asarray(result.temperatures, dtype=np.float64),
        energies_per_spin=np.asarray(energies, dtype=np.float64).reshape(R, K * S) / n,
        parent_energies_per_spin=parents,
        converged=np.asarray(ok, dtype=bool).reshape(R, K * S),
        grad_norm=np.asarray(grad, dtype=np.float64).reshape(R, K * S),
        snapshot_sweeps=np.asarray(result.snapshot_sweeps, dtype=np.int64),
        n=n,
        replicas=K,
        kind=model.kind,
        hessian_eigenvalues=eigs,
        log_det_per_spin=log_det,
        states=np.asarray(states).reshape(R, K * S, n).astype(snaps.dtype) if keep_states else None,
        params={
            "pspin_version": pspin.__version__,
            "model": repr(model),
            "couplings_sha256": result.params.get("couplings_sha256", ckpt.couplings_fingerprint(model)),
            "tempering_seed_entropy": result.params.get("seed_entropy"),
            "tempering_seed_spawn_key": result.params.get("seed_spawn_key"),
            "quench": "lbfgs" + (" + newton polish" if polish else "") if isinstance(model, SphericalPSpin) else "greedy",
            "gtol": gtol,
            "max_iter": max_iter,
            "hessian": bool(hessian) and isinstance(model, SphericalPSpin),
            "failed": failed,
        },
    )
