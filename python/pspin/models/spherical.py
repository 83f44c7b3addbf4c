"""Spherical p-spin model: s on the sphere |s|^2 = n."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import _seed, _validate
from ._base import PSpinModel


class SphericalPSpin(PSpinModel):
    """Spherical (pure or mixed) p-spin model on the sphere |s|^2 = n.

    Parameters
    ----------
    n : int
        Number of spins (>= the largest degree).
    p : int or mapping {int: float}, default 3
        Degree of a pure model, or {p: c_p} for a mixed one with xi(q) = sum c_p^2 q^p.
    seed : None, int, numpy SeedSequence or Generator
        Seed of the couplings; the same seed gives bit-identical couplings whatever
        the thread count.
    dtype : {'float64', 'float32'}
        Storage and arithmetic type of the couplings.
    ensemble : {'distinct', 'isotropic'}
        'distinct' stores i1<...<ip; 'isotropic' also stores repeated indices, with
        variances making E[H(s)H(s')] = n xi(q)/2 exact at finite n (so the finite-n
        Kac-Rice formulas hold exactly).

    Notes
    -----
    Riemannian quantities are those of the sphere of radius sqrt(n): with
    P = I - s s^T/n, grad_sph H = P grad H and Hess_sph H = P Hess H P - (s.grad H/n) P
    (evaluated with |s|^2 in place of n, so that inputs normalised only to rounding
    keep s exactly radial).
    """

    kind: ClassVar[str] = "spherical"
    _ensembles: ClassVar[tuple[str, ...]] = ("distinct", "isotropic")

    def __init__(
        self,
        n: int,
        p: int | Mapping[int, float] = 3,
        *,
        seed: _seed.SeedLike = None,
        dtype: Any = "float64",
        ensemble: str = "distinct",
    ) -> None:
        super().__init__(n, p, seed=seed, dtype=dtype, ensemble=ensemble)

    def _check_domain(self, arr: np.ndarray, what: str) -> None:
        _validate.on_sphere(arr, self._n, self._dtype, what)

    def _draw_states(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        x = rng.standard_normal(shape)
        x *= np.sqrt(self._n) / np.linalg.norm(x, axis=-1, keepdims=True)
        return x.astype(self._dtype)

    def riemannian_gradient(self, s: Any) -> np.ndarray:
        """Gradient on the sphere, P grad H with P = I - s s^T/n; same shape as s."""
        g = self.gradient(s)
        s_arr = np.asarray(s, dtype=g.dtype)
        radial = np.sum(g * s_arr, axis=-1, keepdims=True) / np.sum(s_arr * s_arr, axis=-1, keepdims=True)
        return g - radial * s_arr

    @staticmethod
    def _radial_curvature(s: np.ndarray, g: np.ndarray) -> float:
        # s.g/|s|^2 rather than s.g/n: states are validated to sqrt(eps), and the
        # exact norm keeps s in the kernel of the Riemannian Hessian to rounding.
        s64 = s.astype(np.float64)
        return float(np.dot(s64, g.astype(np.float64)) / np.dot(s64, s64))

    def riemannian_hessian(self, s: Any) -> np.ndarray:
        """Hessian on the sphere (n, n): P Hess H P - (s.grad H / n) P, float64.

        Its kernel contains s; the other n-1 eigenvalues are those of
        ``hessian_spectrum``.
        """
        s_arr = np.asarray(s)
        hess = self.hessian(s_arr)
        s64 = s_arr.astype(np.float64)
        mu = self._radial_curvature(s64, self.gradient(s_arr))
        proj = np.eye(self._n) - np.outer(s64, s64) / np.dot(s64, s64)
        return proj @ hess @ proj - mu * proj

    def hessian_spectrum(self, s: Any) -> np.ndarray:
        """The n-1 eigenvalues of the Riemannian Hessian on the tangent space, ascending.

        The tangent space is spanned by the last n-1 columns of the Householder
        reflection that maps s to the first axis, so no spurious radial zero appears.
        """
        s_arr = np.asarray(s)
        hess = self.hessian(s_arr)
        s64 = s_arr.astype(np.float64)
        mu = self._radial_curvature(s64, self.gradient(s_arr))
        tangent = self._tangent_block(hess, s64)
        return np.linalg.eigvalsh(tangent) - mu

    @staticmethod
    def _householder(s: np.ndarray) -> np.ndarray:
        """Unit u with (I - 2uu^T) s / |s| = -sign(s_0) e_0: the reflection's last n-1
        columns are an orthonormal basis of the tangent space at s."""
        unit = s / np.linalg.norm(s)
        u = unit.copy()
        u[0] += 1.0 if unit[0] >= 0 else -1.0  # avoid cancellation
        return u / np.linalg.norm(u)

    def _tangent_block(self, mat: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Q^T M Q restricted to the tangent space, Q the Householder reflection of s."""
        u = self._householder(s)
        mu = mat @ u
        c = float(u @ mu)
        # (I - 2uu^T) M (I - 2uu^T) = M - 2u(Mu)^T - 2(Mu)u^T + 4c uu^T
        reflected = mat - 2.0 * np.outer(u, mu) - 2.0 * np.outer(mu, u) + 4.0 * c * np.outer(u, u)
        return reflected[1:, 1:]

    def riemannian_hessian_vector_product(self, s: Any, v: Any) -> np.ndarray:
        """Riemannian Hessian times v, batched: P Hess H (P v) - (s.grad H/n) P v."""
        arr, single = self._states(s)
        vec, vsingle = _validate.batch(v, self._n, "vectors")
        if vec.shape != arr.shape or vsingle != single:
            raise ValueError(f"v must have the same shape as s, got {np.shape(v)} and {np.shape(s)}")
        _validate.vector_range(vec, self._dtype, "vectors")
        s64 = arr.astype(np.float64)
        norm2 = np.sum(s64 * s64, axis=1, keepdims=True)
        vt = vec - np.sum(vec * s64, axis=1, keepdims=True) / norm2 * s64
        jvp, fields = self._couplings.fields_jvp(arr, np.ascontiguousarray(vt, dtype=self._dtype), True)
        hv = -jvp.astype(np.float64)
        mu = -np.sum(s64 * fields, axis=1, keepdims=True) / norm2
        out = hv - np.sum(hv * s64, axis=1, keepdims=True) / norm2 * s64 - mu * vt
        return out[0] if single else out
