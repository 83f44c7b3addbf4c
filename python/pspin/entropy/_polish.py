"""Newton polish of many near-critical points of a spherical model, with their spectra."""

from __future__ import annotations

import numpy as np

from ..landscape._critical import _from_tangent
from ..models import SphericalPSpin


def _riemannian_norm(model: SphericalPSpin, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energies, Euclidean gradients and |grad_sph H| / sqrt(n) of a batch, in one pass."""
    e, g = model.energy_and_gradient(x)
    g = np.asarray(g, dtype=np.float64)
    radial = np.sum(g * x, axis=1, keepdims=True) / model.n
    return np.asarray(e, dtype=np.float64), g, np.linalg.norm(g - radial * x, axis=1) / np.sqrt(model.n)


def polish(
    model: SphericalPSpin, states: np.ndarray, *, gtol: float, rounds: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Plain Newton steps on the sphere from points already close to critical points.

    Gradients are batched (one pass over the couplings per round); each point then needs
    its dense tangent Hessian and one symmetric eigendecomposition, which gives the
    Newton step, the Morse index and the spectrum together. From an L-BFGS endpoint with
    |grad| ~ 1e-9 one step reaches rounding level; points still above ``gtol`` get up
    to ``rounds`` steps. The spectrum is that of the last point where a step was taken,
    which differs from the final point's by the size of that step (|ds| / sqrt(n) below
    the descent's gtol divided by the smallest |eigenvalue|).

    Returns
    -------
    states, energies, grad_norm, index, spectra : the polished points (float64), their
    energies H, |grad_sph H| / sqrt(n), Morse indices and ascending tangent spectra.
    """
    n = model.n
    x = np.asarray(states, dtype=np.float64)
    if x.shape[0] == 0:
        return x.astype(model.dtype), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros((0, n - 1))
    x = x * (np.sqrt(n) / np.linalg.norm(x, axis=1, keepdims=True))
    spectra = np.empty((x.shape[0], n - 1))
    index = np.empty(x.shape[0], dtype=np.int64)
    todo = np.arange(x.shape[0])
    for r in range(rounds):
        _, g, norm = _riemannian_norm(model, x[todo].astype(model.dtype))
        # Every point needs its spectrum once, converged or not.
        step_rows = np.ones(todo.size, bool) if r == 0 else norm >= gtol
        for j in np.flatnonzero(step_rows):
            i = todo[j]
            s = x[i]
            u = model._householder(s)
            h = model._tangent_block(model.hessian(s.astype(model.dtype)), s)
            h[np.diag_indices_from(h)] -= model._radial_curvature(s, g[j])
            lam, vec = np.linalg.eigh(h)
            spectra[i], index[i] = lam, int(np.sum(lam < 0))
            if norm[j] < gtol:
                continue
            tangent_g = (g[j] - 2.0 * u * (u @ g[j]))[1:]
            floor = 1e-12 * max(1.0, float(np.abs(lam).max()))
            coeff = -(vec.T @ tangent_g) / np.where(np.abs(lam) > floor, lam, floor)
            y = s + _from_tangent(u, vec @ coeff)
            x[i] = y * (np.sqrt(n) / np.linalg.norm(y))
        todo = todo[norm >= gtol]
        if todo.size == 0:
            break
    x = x.astype(model.dtype)
    energies, _, norm = _riemannian_norm(model, x)
    return x, energies, norm, index, spectra
