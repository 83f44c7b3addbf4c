"""Critical points of any index on the sphere: eigenvector-following Newton, polished."""

from __future__ import annotations

from dataclasses import field, replace
from typing import Any

import numpy as np

from .. import _seed, _validate
from .._results import RUN_INFO, Result, RunClock, axes, result_type
from ..models import SphericalPSpin
from ._progress import progress_bar
from ._starts import initial_states


@result_type
class CriticalPoints(Result):
    """Critical points found from a batch of starts, one row per start.

    Attributes
    ----------
    states : ndarray (b, n) of float64
    energies : ndarray (b,) of float64
        Total energies H (``energy_per_spin`` is H/n).
    grad_norm : ndarray (b,) of float64
        |grad_sph H| / sqrt(n) at the end (about 1e-15 when polished).
    converged : ndarray (b,) of bool
        Whether |grad_sph H| / sqrt(n) < gtol was reached; other rows are not critical points.
    index : ndarray (b,) of int
        Number of negative eigenvalues of the Riemannian Hessian.
    hessian_eigenvalues : ndarray (b, n-1)
        The tangent Hessian spectrum, ascending.
    iterations : ndarray (b,) of int64
        Newton steps per start.
    params : dict
        Every parameter, the run's seed and the model's (docs/conventions.md).
    """

    states: np.ndarray
    energies: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    index: np.ndarray
    hessian_eigenvalues: np.ndarray
    iterations: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    run_info: dict[str, Any] = RUN_INFO

    @property
    def n(self) -> int:
        """Number of spins."""
        return int(self.states.shape[1])

    @property
    def energy_per_spin(self) -> np.ndarray:
        """Energies per spin, H/n."""
        return self.energies / self.states.shape[1]

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def select(self, mask: np.ndarray) -> CriticalPoints:
        """The rows where ``mask`` is true (e.g. ``cp.select(cp.converged)``)."""
        m = np.asarray(mask)
        return replace(
            self, states=self.states[m], energies=self.energies[m], grad_norm=self.grad_norm[m],
            converged=self.converged[m], index=self.index[m], hessian_eigenvalues=self.hessian_eigenvalues[m],
            iterations=self.iterations[m], params=dict(self.params),
        )

    def _table(self) -> dict[str, np.ndarray]:
        return {
            "energy_per_spin": self.energy_per_spin,
            "index": self.index,
            "grad_norm": self.grad_norm,
            "converged": self.converged,
            "iterations": self.iterations,
        }

    def plot(self, ax: Any = None) -> Any:
        """Index against energy per spin of the converged points."""
        ax = axes(ax)
        ok = self.converged
        ax.scatter(self.energy_per_spin[ok], self.index[ok], s=12)
        ax.set_xlabel("energy per spin")
        ax.set_ylabel("index (negative Hessian eigenvalues)")
        return ax


def _tangent_system(model: SphericalPSpin, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Energy, the Householder vector u of s, and the gradient and Riemannian Hessian in
    the tangent coordinates Q = (I - 2uu^T)[:, 1:] (O(n^2), no dense Q)."""
    energy, g = model.energy_and_gradient(s)
    g = g.astype(np.float64)
    s64 = s.astype(np.float64)
    u = model._householder(s64)
    h = model._tangent_block(model.hessian(s), s64)
    h[np.diag_indices_from(h)] -= model._radial_curvature(s64, g)
    return energy, u, (g - 2.0 * u * (u @ g))[1:], h


def _from_tangent(u: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Q step for Q = (I - 2uu^T)[:, 1:]."""
    v = np.concatenate([[0.0], step])
    return v - 2.0 * u * (u @ v)


def _step(grad: np.ndarray, hess: np.ndarray, target: int | None, max_step: float) -> np.ndarray:
    """Newton step in tangent coordinates.

    target None: plain Newton (converges to the nearest critical point of any index).
    target k: eigenvector following, ascending along the k lowest modes and
    descending along the others, with |lambda| in place of lambda (converges to
    index-k saddles).
    """
    lam, vec = np.linalg.eigh(hess)
    gc = vec.T @ grad
    floor = 1e-12 * max(1.0, float(np.abs(lam).max()))
    if target is None:
        safe = np.where(np.abs(lam) > floor, lam, floor)
        coeff = -gc / safe
    else:
        sign = np.ones_like(lam)
        sign[:target] = -1.0
        coeff = -sign * gc / np.maximum(np.abs(lam), floor)
    step = vec @ coeff
    norm = np.linalg.norm(step)
    return step * (max_step / norm) if norm > max_step else step


def critical_points(
    model: SphericalPSpin,
    n_starts: int | None = None,
    *,
    index: int | None = None,
    gtol: float | None = None,
    max_iter: int = 200,
    max_step: float | None = None,
    seed: _seed.SeedLike = None,
    initial: Any = None,
    progress: bool = False,
) -> CriticalPoints:
    """Critical points of a spherical model from many starts, polished to machine precision.

    Each start follows Newton's method on the sphere with the Hessian in an
    orthonormal tangent basis. With ``index=k`` the step ascends along the k lowest
    Hessian modes and descends along the rest (eigenvector following), which
    converges to index-k saddles; with ``index=None`` it is plain Newton, which
    converges to whichever critical point is near. Every step is capped at
    ``max_step`` (default 0.5 sqrt(n), a trust radius), and the last iterations are
    plain Newton steps, so converged points have |grad_sph H|/sqrt(n) at rounding
    level. Uses dense Hessians: meant for n up to a few hundred.

    Parameters
    ----------
    model : SphericalPSpin
    n_starts : int, optional
        Number of random starts (or give ``initial``).
    index : int, optional
        Target index for eigenvector following (0 finds minima); None: any index.
    gtol : float, optional
        Convergence threshold on |grad_sph H| / sqrt(n) (default 1e-12 for float64
        models, 1e-5 for float32).
    max_iter : int
        Newton iterations per start.
    seed, initial
        Seed of the random starts, or explicit starts (b, n).

    max_step : float, optional
        Trust radius of a step (default 0.5 sqrt(n)).
    progress : bool
        Show a progress bar of the starts done (needs tqdm).

    Returns
    -------
    CriticalPoints
        With the index and tangent Hessian eigenvalues of each point; rows with
        ``converged`` false are not critical points. float64 whatever the model's dtype.

    Examples
    --------
    >>> import pspin
    >>> cp = pspin.critical_points(pspin.SphericalPSpin(12, 3, seed=1), 8, index=0, seed=2)
    >>> bool(cp.converged.all()), sorted(set(cp.index.tolist()))
    (True, [0])
    """
    clock = RunClock()
    if not isinstance(model, SphericalPSpin):
        raise TypeError(f"critical_points needs a SphericalPSpin, got {type(model).__name__}")
    if index is not None:
        index = _validate.positive_int(index, "index", minimum=0)
        if index > model.n - 1:
            raise ValueError(f"index must be <= n - 1 = {model.n - 1}, got {index}")
    if gtol is None:
        gtol = 1e-12 if model.dtype == np.float64 else 1e-5
    gtol = _validate.positive_float(gtol, "gtol")
    max_iter = _validate.positive_int(max_iter, "max_iter")
    if model.n > 2000:
        raise ValueError(f"critical_points uses dense Hessians; n = {model.n} is too large (limit 2000)")
    states, seq = initial_states(model, n_starts, initial, seed)
    if not np.all(np.linalg.norm(states, axis=1) > 0):
        raise ValueError("initial states must be non-zero (they are normalised onto the sphere)")
    n = model.n
    radius = np.sqrt(n)
    cap = 0.5 * radius if max_step is None else _validate.positive_float(max_step, "max_step")
    b = states.shape[0]
    out_states = np.empty_like(states)
    energies = np.empty(b)
    gnorm = np.empty(b)
    idx = np.empty(b, dtype=np.int64)
    eigs = np.empty((b, n - 1))
    iters = np.zeros(b, dtype=np.int64)
    with progress_bar(progress, total=b, desc="critical points", unit="start") as bar:
        for i in range(b):
            s = states[i] * (radius / np.linalg.norm(states[i]))
            s = s.astype(model.dtype)
            target = index
            for it in range(max_iter):
                energy, u, g, h = _tangent_system(model, s)
                norm = np.linalg.norm(g) / radius
                if norm < gtol:
                    break
                # Close to a point, plain Newton converges quadratically; its index is
                # already fixed by then, so polishing cannot change the target.
                tgt = None if norm < 1e-6 else target
                step = _step(g, h, tgt, cap)
                x = s.astype(np.float64) + _from_tangent(u, step)
                s = (x * (radius / np.linalg.norm(x))).astype(model.dtype)
                iters[i] = it + 1
            else:  # max_iter steps taken: the last point is not evaluated yet
                energy, u, g, h = _tangent_system(model, s)
            lam = np.linalg.eigvalsh(h)
            out_states[i], energies[i], gnorm[i] = s, energy, np.linalg.norm(g) / radius
            eigs[i], idx[i] = lam, int(np.sum(lam < 0))
            bar.update(1)
    return CriticalPoints(
        states=out_states, energies=energies, grad_norm=gnorm, converged=gnorm < gtol,
        index=idx, hessian_eigenvalues=eigs, iterations=iters,
        params={"model": repr(model), "n_starts": b, "index": index, "gtol": gtol, "max_iter": max_iter,
                "max_step": cap, "initial_given": initial is not None, **_seed.record(seq), **_seed.model_record(model)},
        run_info=clock.info(),
    )
