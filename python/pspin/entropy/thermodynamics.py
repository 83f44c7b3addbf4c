"""Total entropy by thermodynamic integration, and the harmonic (vibrational) entropy of a basin.

The entropy is that of the uniform measure the sampler uses: counting measure on
{-1, +1}^n for Ising models, the surface (area) measure on the sphere |s|^2 = n for
spherical ones. With ``Z(beta) = int dmu(s) exp(-beta H(s))``,

    s(beta) = (ln Z + beta U)/n = s(inf) + beta u(beta) - int_0^beta u(b) db,

``u = U/n`` the mean energy per spin and ``s(inf) = ln(mu(total))/n``: ln 2 for Ising,
:func:`sphere_entropy` for the sphere (exact at finite n).

Sources: the spherical p-spin statics, A. Crisanti and H.-J. Sommers, Z. Phys. B 87,
341 (1992); inherent structures and their harmonic basins, F. H. Stillinger and
T. A. Weber, Phys. Rev. A 25, 978 (1982); F. Sciortino, W. Kob and P. Tartaglia,
Phys. Rev. Lett. 83, 3214 (1999).
"""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from .. import _seed, _validate
from .._results import Result, axes, result_type
from ..models import IsingPSpin, PSpinModel, SphericalPSpin

__all__ = [
    "ThermodynamicIntegration",
    "harmonic_entropy",
    "high_temperature_moments",
    "sphere_entropy",
    "thermodynamic_integration",
]


def sphere_entropy(n: int) -> float:
    """Entropy per spin of the uniform (surface) measure on the sphere |s|^2 = n.

    ``ln(area of S^(n-1) of radius sqrt(n)) / n
    = [ln 2 + (n/2) ln pi - lgamma(n/2) + ((n-1)/2) ln n] / n``,
    which tends to ``(1 + ln 2 pi)/2`` (:data:`pspin.theory.SPHERE_ENTROPY`) as n -> inf,
    from below: by Stirling's series it is ``SPHERE_ENTROPY - ln(pi)/(2n) + O(n^-2)``.

    Parameters
    ----------
    n : int
        Number of spins, >= 1 (n = 1: the two points +-1, entropy ln 2).

    Examples
    --------
    >>> from pspin import entropy
    >>> round(entropy.sphere_entropy(1), 6)  # ln 2
    0.693147
    """
    n = _validate.positive_int(n, "n")
    return (math.log(2.0) + 0.5 * n * math.log(math.pi) - math.lgamma(0.5 * n) + 0.5 * (n - 1) * math.log(n)) / n


def harmonic_entropy(hessian_eigenvalues: Any, T: Any) -> np.ndarray:
    """Vibrational entropy per spin of harmonic basins on the sphere (surface measure).

    A minimum with tangent Hessian eigenvalues lambda_a (a = 1..n-1) of the total H
    contributes ``int dA exp(-beta (H - H_min)) ~ prod_a sqrt(2 pi T / lambda_a)``, so its
    entropy per spin is ``s_vib = (1/n) sum_a [ln(2 pi T / lambda_a)/2 + 1/2]``
    (Stillinger-Weber harmonic approximation: exact as T -> 0 at fixed n).

    Parameters
    ----------
    hessian_eigenvalues : array (..., n-1)
        The n-1 tangent eigenvalues of each minimum (``model.hessian_spectrum(s)``); all
        must be positive.
    T : float or array
        Temperature(s), broadcast against ``hessian_eigenvalues.shape[:-1]``.

    Returns
    -------
    ndarray
        ``s_vib`` with the broadcast shape.

    Examples
    --------
    >>> from pspin import entropy
    >>> round(float(entropy.harmonic_entropy([1.0, 2.0, 4.0], 0.1)), 6)
    -0.059196
    """
    lam = _validate.real_array(hessian_eigenvalues, "hessian_eigenvalues").astype(np.float64)
    if lam.ndim < 1 or lam.shape[-1] < 1:
        raise ValueError("hessian_eigenvalues must have a last axis of length n - 1 >= 1")
    if not np.all(np.isfinite(lam)):
        raise ValueError("hessian_eigenvalues contain NaN or infinite values")
    if np.any(lam <= 0):
        bad = int(np.sum(np.any(lam <= 0, axis=-1)))
        raise ValueError(
            f"{bad} basin(s) have non-positive Hessian eigenvalues (min {lam.min():.3g}): the harmonic "
            "entropy is defined at minima only"
        )
    temps = _validate.real_array(T, "T").astype(np.float64)
    if not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise ValueError("T must be positive and finite")
    modes = lam.shape[-1]
    n = modes + 1
    return np.asarray((0.5 * modes * (np.log(2.0 * np.pi * temps) + 1.0) - 0.5 * np.log(lam).sum(axis=-1)) / n)


def high_temperature_moments(
    model: PSpinModel, *, samples: int = 2**15, seed: _seed.SeedLike = 0
) -> tuple[float, float, float]:
    """Mean and variance per spin of H under the uniform measure (the beta -> 0 limit of u).

    ``u(beta) = m - beta v + O(beta^2)`` with ``m = E[H]/n`` and ``v = Var(H)/n`` over the
    uniform measure. Distinct-index couplings K_A (Ising, or spherical 'distinct'): the
    monomials are orthogonal, so m = 0 and ``v = sum_A K_A^2 mu_|A| / n`` exactly, with
    ``mu_p = 1`` (Ising) and ``mu_p = n^p / (n (n+2) ... (n+2p-2))`` (sphere). Spherical
    'isotropic' (repeated indices): Monte Carlo over ``samples`` uniform states; its
    disorder average is exactly ``v = xi(1)/2``.

    Parameters
    ----------
    model : IsingPSpin or SphericalPSpin
        The model (one disorder sample).
    samples : int
        Uniform states of the Monte Carlo estimate (spherical 'isotropic' models only).
    seed : int, SeedSequence or None
        Seed of those states.

    Returns
    -------
    (m, v, v_error)
        ``v_error`` is 0 for the exact cases, the standard error of the estimate otherwise
        (the error of m is not returned: it cancels in the entropy).

    Examples
    --------
    >>> import pspin
    >>> m, v, v_error = pspin.entropy.high_temperature_moments(pspin.IsingPSpin(16, 2, seed=1))
    >>> m, v_error  # exact for Ising models
    (0.0, 0.0)
    """
    n = model.n
    if isinstance(model, IsingPSpin) or (isinstance(model, SphericalPSpin) and model.ensemble == "distinct"):
        v = 0.0
        for p in model.degrees:
            weight = 1.0 if isinstance(model, IsingPSpin) else float(np.prod(n / (n + 2.0 * np.arange(p))))
            k = model.packed_couplings(p).astype(np.float64)
            v += weight * float(k @ k)
        return 0.0, v / n, 0.0
    if not isinstance(model, SphericalPSpin):
        raise TypeError(f"need an IsingPSpin or SphericalPSpin, got {type(model).__name__}")
    samples = _validate.positive_int(samples, "samples", minimum=2)
    states = model.random_state(samples, seed=_seed.as_seed_sequence(seed))
    h = np.asarray(model.energy(states), dtype=np.float64)
    centred = h - h.mean()
    var = float(centred @ centred) / (samples - 1)
    # Standard error of the sample variance: sqrt((mu4 - var^2)/samples).
    err = math.sqrt(max(float(np.mean(centred**4)) - var * var, 0.0) / samples)
    return float(h.mean()) / n, var / n, err / n


@result_type
class ThermodynamicIntegration(Result):
    """Total entropy and free energy per spin from mean energies, by integration from T = inf.

    Attributes
    ----------
    temperatures : (R,) ascending.
    energies_per_spin, energy_errors : (R,) the input u(T) and its standard errors.
    entropy : (R,) s(T) per spin.
    entropy_error : (R,) its standard error from the energies' errors (independent across
        temperatures) and the error of the high-temperature variance.
    entropy_covariance : (R, R) covariance of ``entropy`` (the integral correlates it).
    free_energy, free_energy_error : (R,) f = u - T s and its standard error.
    integration_error : (R,) estimated discretisation error of s: the difference between
        the cubic-spline integral used and a PCHIP one.
    tail_error : float
        Bound on the error of the tail on [0, beta_0 = 1/T_max]: the size of its beta^2
        term, ``|a| beta_0^3/3`` with ``a = (u(beta_0) - m + v beta_0)/beta_0^2``; the
        error left after that term is O(beta_0^4) (``-b beta_0^4/12`` for a cubic term
        ``b beta^3`` in u).
    s_infinity, variance, mean_at_infinity : float
        s(inf), and the tail's v and m (``u = m - beta v``).
    params : dict
    """

    temperatures: np.ndarray
    energies_per_spin: np.ndarray
    energy_errors: np.ndarray
    entropy: np.ndarray
    entropy_error: np.ndarray
    entropy_covariance: np.ndarray
    free_energy: np.ndarray
    free_energy_error: np.ndarray
    integration_error: np.ndarray
    tail_error: float
    s_infinity: float
    variance: float
    mean_at_infinity: float
    params: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Any = None) -> Any:
        """s(T) with its error bars."""
        ax = axes(ax)
        ax.errorbar(self.temperatures, self.entropy, yerr=self.entropy_error, marker="o", ms=3, label="s(T)")
        ax.set_xlabel("T")
        ax.set_ylabel("entropy per spin")
        ax.legend()
        return ax


def thermodynamic_integration(
    temperatures: Any,
    energies_per_spin: Any,
    *,
    errors: Any = None,
    model: PSpinModel | None = None,
    variance: float | None = None,
    variance_error: float = 0.0,
    mean_at_infinity: float = 0.0,
    s_infinity: float | None = None,
) -> ThermodynamicIntegration:
    """Entropy per spin s(T) = s(inf) + beta u(beta) - int_0^beta u(b) db from u(T) on a grid.

    On [beta_0, beta] (beta_0 = 1/T_max, the highest temperature given) u is integrated
    with a not-a-knot cubic spline in beta (error O(h^4) for smooth u; ``integration_error``
    estimates it against PCHIP). On [0, beta_0] the high-temperature expansion
    ``u = m - beta v + a beta^2`` is used, with the exact slope v and a matched to the
    measured u(beta_0); its error is O(beta_0^4), bounded by ``tail_error`` (the size of
    the beta^2 term, O(beta_0^3)). Choose T_max high enough (T_max = 5-10 for p-spin
    models) that it is negligible. Errors: s is a linear functional of the u_i, so its
    covariance follows exactly from the independent errors of the u_i.

    Parameters
    ----------
    temperatures : array (R,)
        Positive, distinct (sorted internally).
    energies_per_spin : array (R,)
        Mean energy per spin u(T) (equilibrium).
    errors : array (R,), optional
        Standard errors of ``energies_per_spin`` (independent across temperatures).
    model : IsingPSpin or SphericalPSpin, optional
        Gives v and m (:func:`high_temperature_moments`: exact for distinct-index
        couplings, Monte Carlo for the isotropic ensemble) and s(inf) (ln 2, or
        :func:`sphere_entropy` (n)). Give either ``model`` or ``variance`` and
        ``s_infinity``.
    variance : float, optional
        v = lim_{beta->0} -du/dbeta: Var(H)/n under the uniform measure; its disorder
        average is xi(1)/2 for the p-spin models.
    variance_error : float
        Standard error of ``variance`` (propagated, fully correlated across T).
    mean_at_infinity : float
        m = E[H]/n under the uniform measure (0 unless couplings have repeated indices).
    s_infinity : float, optional
        The entropy per spin at T = inf; with ``model``, defaults to the model's.

    Returns
    -------
    ThermodynamicIntegration

    Examples
    --------
    >>> import numpy as np
    >>> from pspin import entropy, theory
    >>> T = np.linspace(1.0, 3.0, 9)
    >>> ti = entropy.thermodynamic_integration(T, -0.5 / T, variance=0.5, s_infinity=theory.SPHERE_ENTROPY)
    >>> bool(np.allclose(ti.entropy, theory.paramagnetic_entropy(T, 3)))  # the p = 3 paramagnet
    True
    """
    t = _validate.real_array(temperatures, "temperatures").astype(np.float64).ravel()
    u = _validate.real_array(energies_per_spin, "energies_per_spin").astype(np.float64).ravel()
    if t.size < 1 or u.shape != t.shape:
        raise ValueError(f"need as many energies as temperatures (>= 1), got {u.size} and {t.size}")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("temperatures must be positive and finite")
    if not np.all(np.isfinite(u)):
        raise ValueError("energies_per_spin must be finite")
    err = np.zeros_like(u) if errors is None else _validate.real_array(errors, "errors").astype(np.float64).ravel()
    if err.shape != t.shape or not np.all(np.isfinite(err)) or np.any(err < 0):
        raise ValueError("errors must be finite, non-negative and one per temperature")
    order = np.argsort(t)
    t, u, err = t[order], u[order], err[order]
    if np.any(np.diff(t) == 0):
        raise ValueError("temperatures must be distinct")
    if model is not None:
        if variance is not None:
            raise ValueError("give either model or variance, not both")
        if not isinstance(model, (IsingPSpin, SphericalPSpin)):
            raise TypeError(f"model must be an IsingPSpin or SphericalPSpin, got {type(model).__name__}")
        mean_at_infinity, variance, variance_error = high_temperature_moments(model)
        if s_infinity is None:
            s_infinity = math.log(2.0) if isinstance(model, IsingPSpin) else sphere_entropy(model.n)
    if variance is None or s_infinity is None:
        raise ValueError("need the high-temperature variance and s(inf): pass model=, or variance= and s_infinity=")
    v, dv, m, s_inf = float(variance), float(variance_error), float(mean_at_infinity), float(s_infinity)
    if not (np.isfinite(v) and v >= 0 and np.isfinite(dv) and dv >= 0 and np.isfinite(m) and np.isfinite(s_inf)):
        raise ValueError("variance must be >= 0, variance_error >= 0, mean_at_infinity and s_infinity finite")

    # beta ascending: index j = 0 is the highest temperature.
    beta = 1.0 / t[::-1]
    uj = u[::-1]
    R = beta.size
    weights = np.zeros((R, R))  # weights[j] . u = int_{beta_0}^{beta_j} spline(u)
    pchip = np.zeros(R)
    if R >= 2:
        basis = CubicSpline(beta, np.eye(R), axis=0, bc_type="not-a-knot")
        weights = np.stack([basis.integrate(beta[0], b) for b in beta])
        shape_preserving = PchipInterpolator(beta, uj)
        pchip = np.array([shape_preserving.integrate(beta[0], b) for b in beta])
    b0 = beta[0]
    # Tail u = m - beta v + a beta^2 with a matched to u(beta_0):
    # int_0^beta_0 u = (2/3) m beta_0 - v beta_0^2/6 + u_0 beta_0/3, linear in u_0.
    tail_fixed = (2.0 / 3.0) * m * b0 - v * b0 * b0 / 6.0
    # s = s_inf - tail_fixed + A u: A = diag(beta) - weights - (beta_0/3) e_0.
    A = np.diag(beta) - weights
    A[:, 0] -= b0 / 3.0
    s = s_inf - tail_fixed + A @ uj
    dtail = np.full(R, b0 * b0 / 6.0)  # ds/dv
    cov = (A * err[::-1] ** 2) @ A.T + np.outer(dtail, dtail) * dv * dv
    F = np.eye(R) - (1.0 / beta)[:, None] * A  # f = u - T s: df/du
    cov_f = (F * err[::-1] ** 2) @ F.T + np.outer(dtail / beta, dtail / beta) * dv * dv
    f = uj - s / beta
    integration_error = np.abs(weights @ uj - pchip)
    tail_error = abs(uj[0] - m + v * b0) * b0 / 3.0  # the beta^2 term's share of the tail integral

    flip = slice(None, None, -1)
    import pspin

    return ThermodynamicIntegration(
        temperatures=t,
        energies_per_spin=u,
        energy_errors=err,
        entropy=s[flip],
        entropy_error=np.sqrt(np.diag(cov))[flip],
        entropy_covariance=cov[flip, flip],
        free_energy=f[flip],
        free_energy_error=np.sqrt(np.diag(cov_f))[flip],
        integration_error=integration_error[flip],
        tail_error=float(tail_error),
        s_infinity=s_inf,
        variance=v,
        mean_at_infinity=m,
        params={
            "pspin_version": pspin.__version__,
            "method": "not-a-knot cubic spline in beta; tail u = m - beta v on [0, 1/T_max]",
            "variance_error": dv,
            "model": repr(model) if model is not None else None,
            "high_temperature_moments": None if model is None else (
                "monte carlo: 32768 uniform states, seed 0"
                if isinstance(model, SphericalPSpin) and model.ensemble == "isotropic" else "exact"
            ),
        },
    )
