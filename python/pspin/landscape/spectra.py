"""Riemannian Hessian spectra: dense up to a few thousand spins, iterative beyond."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validate
from ..models import SphericalPSpin


def smallest_hessian_eigenvalues(model: SphericalPSpin, s: Any, k: int = 1, *, tol: float = 1e-10) -> np.ndarray:
    """The k smallest eigenvalues of the Riemannian Hessian on the tangent space at s.

    Uses Lanczos (scipy.sparse.linalg.eigsh) on the Hessian-vector product, so only
    O(n) memory beyond the couplings: the way to probe marginality at large n. The
    radial direction is mapped to a large eigenvalue (it is outside the tangent
    space) so it never appears among the smallest.

    Parameters
    ----------
    model : SphericalPSpin
        The model.
    s : array (n,)
        A point of the sphere ``|s|^2 = n`` (a critical point, for the eigenvalues to be
        those of the Riemannian Hessian there).
    k : int
        How many eigenvalues, ``1 <= k <= n - 2`` (more: use ``model.hessian_spectrum``).
    tol : float
        Relative accuracy passed to ``eigsh``.

    Examples
    --------
    >>> import numpy as np, pspin
    >>> model = pspin.SphericalPSpin(16, 3, seed=1)
    >>> s = pspin.minimize(model, 1, seed=2, gtol=1e-10).states[0]
    >>> lam = pspin.landscape.smallest_hessian_eigenvalues(model, s, k=2)
    >>> bool(np.allclose(lam, model.hessian_spectrum(s)[:2]))  # the dense spectrum's lowest
    True
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    if not isinstance(model, SphericalPSpin):
        raise TypeError("smallest_hessian_eigenvalues needs a SphericalPSpin")
    k = _validate.positive_int(k, "k")
    if k > model.n - 2:
        raise ValueError(f"k must be <= n - 2 = {model.n - 2} for the iterative solver; use hessian_spectrum")
    tol = _validate.positive_float(tol, "tol")
    state, single = _validate.batch(s, model.n, "state")
    if not single:
        raise ValueError("give one state of shape (n,)")
    _validate.on_sphere(state, model.n, model.dtype, "state")
    x = state[0].astype(np.float64)
    unit = x / np.linalg.norm(x)
    # Shift the radial direction far above the spectrum (bound from the Frobenius norm scale).
    shift = 10.0 * (1.0 + np.abs(model.energy(state[0].astype(model.dtype))) / model.n) * max(model.degrees) ** 2

    def matvec(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64).ravel()
        out = model.riemannian_hessian_vector_product(x.astype(model.dtype), v.astype(model.dtype))
        return np.asarray(out, dtype=np.float64) + shift * unit * (unit @ v)

    op = LinearOperator((model.n, model.n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(model.n)
    values = eigsh(op, k=k, which="SA", tol=tol, v0=v0 - unit * (unit @ v0), return_eigenvectors=False)
    return np.sort(values)
