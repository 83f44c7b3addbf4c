"""Ising spin glasses: SK reference values, one-flip-stable states, p-spin 1RSB, REM.

Convention (design.md, = Gardner's): ``E[H(s)H(s')] = N xi(q)/2``; SK is
``H = -sum_{i<j} J_ij s_i s_j`` with ``J ~ N(0, 1/N)`` (p = 2, ``T_c = 1``).
Write ``nu = xi/2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq, minimize_scalar
from scipy.special import log_ndtr

from ._validate import (
    Mixture,
    ModelSpec,
    as_count,
    as_mixture,
    as_real_array,
    as_temperature,
    elementwise,
    explain_failures,
    scalar_or_array,
)

__all__ = [
    "SK_CRITICAL_TEMPERATURE",
    "expected_one_flip_stable",
    "ising_dynamical_temperature",
    "ising_equilibrium_complexity",
    "ising_ground_state_energy_1rsb",
    "ising_paramagnetic_free_energy",
    "ising_static_temperature",
    "one_flip_stable_complexity",
    "one_flip_stable_typical_energy",
    "rem_critical_temperature",
    "rem_entropy",
    "rem_ground_state_energy",
    "sk_ground_state_energy",
    "sk_replica_symmetric_ground_state_energy",
]

SK_CRITICAL_TEMPERATURE = 1.0
"""SK spin-glass temperature in this convention (Sherrington-Kirkpatrick, PRL 35 (1975) 1792)."""


def sk_ground_state_energy() -> float:
    """Parisi (full-RSB) ground-state energy per spin of SK: ``-0.763166``.

    Sources: A. Crisanti, T. Rizzo, PRE 65 (2002) 046137 (-0.76317); R. Oppermann,
    M. J. Schmidt, D. Sherrington, PRL 98 (2007) 127201; M. J. Schmidt, R. Oppermann,
    PRE 77 (2008) 061104 (-0.763166). Digits beyond -0.76317 are [recalled]. Finite N:
    ``<e_N> ~ e_inf + A N^(-2/3)`` (Boettcher, EPJB 46 (2005) 501).

    Examples
    --------
    >>> from pspin import theory
    >>> theory.sk_ground_state_energy()
    -0.763166
    """
    return -0.763166


def sk_replica_symmetric_ground_state_energy() -> float:
    """SK replica-symmetric T = 0 energy ``-sqrt(2/pi) = -0.7978846`` (SK 1975; wrong, a bound).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.sk_replica_symmetric_ground_state_energy(), 6)
    -0.797885
    """
    return -float(np.sqrt(2.0 / np.pi))


def _te_objective(w: float) -> float:
    return float(log_ndtr(w)) - 0.5 * w * w


def _te_optimum() -> tuple[float, float]:
    res = minimize_scalar(
        lambda w: -_te_objective(w), bounds=(-5.0, 5.0), method="bounded", options={"xatol": 1e-14}
    )
    return float(res.x), float(np.log(2.0) - res.fun)


def one_flip_stable_complexity() -> float:
    """Tanaka-Edwards annealed complexity of one-spin-flip-stable SK states: 0.1992285.

    ``lim (1/N) ln E N_s = ln 2 + max_w [ln Phi(w) - w^2/2]`` (F. Tanaka, S. F. Edwards,
    J. Phys. F 10 (1980) 2769: 0.1992; A. J. Bray, M. A. Moore, J. Phys. C 13 (1980)
    L469). The maximiser w* solves ``phi(w)/Phi(w) = w``; quenched and annealed agree
    to the digits quoted (Bray-Moore).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.one_flip_stable_complexity(), 6)
    0.199228
    """
    return _te_optimum()[1]


def one_flip_stable_typical_energy() -> float:
    """Energy per spin of the one-flip-stable states that dominate ``E N_s``: ``-w* = -0.5060545``.

    [derived here] At the saddle the local stabilities ``lambda_i = s_i h_i`` are
    ``w* + z_i`` conditioned positive, mean ``w* + phi(w*)/Phi(w*) = 2 w*``, and
    ``e = -(1/2) mean(lambda) = -w*``.

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.one_flip_stable_typical_energy(), 6)
    -0.506054
    """
    return -_te_optimum()[0]


def expected_one_flip_stable(n: int) -> float:
    """Exact expected number of one-spin-flip-stable configurations of SK at size n.

    ``E N_s(n) = 2^n int dw N(0, 1/n)(w) Phi(w / sqrt(1 - 2/n))^n`` (s and -s counted
    separately). Derivation [theory.md f.3, derived; checked by enumeration]: by the
    gauge ``J_ij -> J_ij s_i s_j`` the stabilities ``lambda_i = s_i h_i`` are jointly
    Gaussian with variance ``1 - 1/n`` and covariance ``1/n``, i.e.
    ``lambda_i = w + sqrt(1-2/n) z_i`` with ``w ~ N(0, 1/n)``.
    Values: n=4: 2.3958024, 8: 5.2265044, 12: 11.549367, 16: 25.578078, 20: 56.691342.
    Integrated by adaptive quadrature to relative accuracy ~1e-12.

    Parameters
    ----------
    n : int
        Number of spins, >= 2.

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.expected_one_flip_stable(8), 6)
    5.226504
    """
    n = as_count(n, "n", minimum=2)
    if n == 2:
        return 2.0  # lambda_1 = lambda_2 = J s1 s2: exactly two of four states are stable
    sd = np.sqrt(1.0 / n)
    a = np.sqrt(1.0 - 2.0 / n)

    def log_integrand(w: float) -> float:
        return (
            n * np.log(2.0)
            + n * float(log_ndtr(w / a))
            - 0.5 * w * w / (sd * sd)
            - np.log(np.sqrt(2 * np.pi) * sd)
        )

    res = minimize_scalar(lambda w: -log_integrand(w), bounds=(-10 * sd, 10 * sd), method="bounded")
    peak = -float(res.fun)
    w0 = float(res.x)
    val, _ = quad(
        lambda w: np.exp(log_integrand(w) - peak),
        w0 - 14 * sd,
        w0 + 14 * sd,
        points=[w0],
        limit=400,
        epsabs=0.0,
        epsrel=1e-13,
    )
    return float(val * np.exp(peak))


def ising_paramagnetic_free_energy(T: Any, p: ModelSpec) -> Any:
    """Paramagnetic free energy per spin of the Ising model: ``f = -T ln 2 - xi(1)/(4T)`` (annealed).

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (Ising model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.ising_paramagnetic_free_energy(1.0, 3)), 6)
    -0.943147
    """
    model = as_mixture(p)
    T = as_temperature(T)
    return scalar_or_array(-T * np.log(2.0) - float(model.xi(1.0)) / (4.0 * T))


# --------------------------------------------------------------- Ising p-spin, 1RSB (q0 = 0)
# Gardner, Nucl. Phys. B 257 (1985) 747; Montanari, Ricci-Tersenghi, EPJB 33 (2003) 339.
# -beta f = ln 2 + (1/m) ln E_z cosh^m(b z) + (beta^2/2)[nu(1) - nu'(q) + (1-m)(q nu'(q) - nu(q))],
# b^2 = beta^2 nu'(q). At m = 1: q = E_z tanh^2(b z + b^2) and
# Sigma = b^2/2 - E_z ln cosh(b z + b^2) + (beta^2/2)(q nu'(q) - nu(q)).
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(240)
_GH_W = _GH_W / _GH_W.sum()


def _gauss(values: np.ndarray) -> float:
    return float(np.dot(_GH_W, values))


def _lncosh(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)


def _b_of_q(q: float) -> float:
    """b > 0 with E_z tanh^2(b z + b^2) = q (monotone in b)."""
    return brentq(
        lambda b: _gauss(np.tanh(b * _GH_X + b * b) ** 2) - q, 1e-8, 20.0, xtol=1e-15, rtol=1e-15
    )


def _ising_T_of_q(q: float, model: Mixture) -> float:
    """Temperature at which q is a fixed point of the m = 1 equation."""
    return float(np.sqrt(0.5 * float(model.xi(q, 1)))) / _b_of_q(q)


def _ising_sigma_of_q(q: float, model: Mixture) -> float:
    T = _ising_T_of_q(q, model)
    b = _b_of_q(q)
    beta2 = 1.0 / (T * T)
    nu_q, nu1_q = 0.5 * float(model.xi(q)), 0.5 * float(model.xi(q, 1))
    return 0.5 * b * b - _gauss(_lncosh(b * _GH_X + b * b)) + 0.5 * beta2 * (q * nu1_q - nu_q)


def _ising_plateau(model: Mixture) -> tuple[float, float]:
    res = minimize_scalar(
        lambda q: -_ising_T_of_q(q, model),
        bounds=(1e-4, 0.999),
        method="bounded",
        options={"xatol": 1e-12},
    )
    q_d = float(res.x)
    if q_d < 2e-4:
        raise ValueError(
            f"Ising model {model.label} has a continuous transition: no 1RSB m=1 plateau"
        )
    return q_d, -float(res.fun)


def ising_dynamical_temperature(p: ModelSpec) -> float:
    """Dynamical temperature of the Ising p-spin: highest T with an m = 1 1RSB solution.

    ``T_d = max_q T(q)`` where q is a fixed point of ``q = E tanh^2(bz + b^2)``,
    ``b^2 = nu'(q)/T^2``. p = 3: 0.6815981 (Montanari-Ricci-Tersenghi 2003: 0.682).
    Raises ValueError for SK (continuous transition at T_c = 1).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (Ising model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.ising_dynamical_temperature(3), 6)
    0.681598
    """
    return _ising_plateau(as_mixture(p))[1]


def _ising_static(model: Mixture) -> tuple[float, float]:
    q_d, _ = _ising_plateau(model)
    hi = 0.9999
    q_s = brentq(lambda q: _ising_sigma_of_q(q, model), q_d, hi, xtol=1e-14, rtol=1e-15)
    return q_s, _ising_T_of_q(q_s, model)


def ising_static_temperature(p: ModelSpec) -> float:
    """Static (1RSB, m = 1) temperature of the Ising p-spin: ``Sigma(T_s) = 0``.

    p = 3: 0.6513852 (Gardner 1985; Montanari-Ricci-Tersenghi 2003: 0.651). Below a
    Gardner temperature (~0.24 for p = 3 [recalled]) full RSB changes the solution.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (Ising model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.ising_static_temperature(3), 6)
    0.651385
    """
    return _ising_static(as_mixture(p))[1]


def ising_equilibrium_complexity(T: Any, p: ModelSpec) -> Any:
    """Equilibrium complexity of the Ising p-spin on ``[T_s, T_d]`` (1RSB, m = 1).

    0 below ``T_s``, ``-inf`` above ``T_d`` (same conventions as the spherical
    :func:`pspin.theory.equilibrium_complexity`).

    Parameters
    ----------
    T : float or array
        Temperature, > 0.
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (Ising model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.ising_equilibrium_complexity(0.66, 3)), 6)
    0.007883
    """
    model = as_mixture(p)
    Tarr = as_temperature(T)
    q_d, T_d = _ising_plateau(model)
    _, T_s = _ising_static(model)

    def one(t: float) -> float:
        if t > T_d:
            return -np.inf
        if t < T_s:
            return 0.0
        q = brentq(lambda x: _ising_T_of_q(x, model) - t, q_d, 0.9999999, xtol=1e-15, rtol=1e-15)
        return _ising_sigma_of_q(q, model)

    return elementwise(one, Tarr)


def ising_ground_state_energy_1rsb(p: ModelSpec) -> float:
    """T = 0 1RSB (q0 = 0, q1 -> 1) ground-state energy of the Ising model.

    ``e = -min_mu [ln(2 Phi(mu sqrt(nu'(1))))/mu + mu nu(1)/2]`` (theory.md f.6).
    p=3: -0.8135350 [not cross-checked vs literature; FRSB below T_G shifts it
    slightly]; p -> inf tends to the REM value ``-sqrt(ln 2)``. For SK (p=2) this is
    -0.7688280, a lower bound, not Parisi's -0.7632.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (Ising model).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.ising_ground_state_energy_1rsb(3), 6)
    -0.813535
    """
    model = as_mixture(p)
    nu0, nu1 = 0.5 * float(model.xi(1.0)), 0.5 * float(model.xi(1.0, 1))
    g = lambda mu: (np.log(2.0) + float(log_ndtr(mu * np.sqrt(nu1)))) / mu + 0.5 * mu * nu0
    res = minimize_scalar(g, bounds=(1e-3, 60.0), method="bounded", options={"xatol": 1e-13})
    return -float(res.fun)


# --------------------------------------------------------------- REM (p -> inf)
def rem_critical_temperature() -> float:
    """REM limit (Derrida 1980/81) in this normalisation: ``T_c = 1/(2 sqrt(ln 2)) = 0.6005612``.

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.rem_critical_temperature(), 6)
    0.600561
    """
    return float(0.5 / np.sqrt(np.log(2.0)))


def rem_ground_state_energy() -> float:
    """REM ground state ``e_gs = -sqrt(ln 2) = -0.8325546`` (``E[H^2] = N/2``).

    Examples
    --------
    >>> from pspin import theory
    >>> round(theory.rem_ground_state_energy(), 6)
    -0.832555
    """
    return -float(np.sqrt(np.log(2.0)))


def rem_entropy(e: Any) -> Any:
    """REM microcanonical entropy ``s(e) = ln 2 - e^2`` for ``|e| <= sqrt(ln 2)``, ``-inf`` beyond.

    Parameters
    ----------
    e : float or array
        Energy per spin.

    Examples
    --------
    >>> from pspin import theory
    >>> round(float(theory.rem_entropy(0.5)), 6)  # ln 2 - 1/4
    0.443147
    """
    e = as_real_array(e, "e")
    s = np.log(2.0) - e * e
    return scalar_or_array(np.where(s >= 0.0, s, -np.inf))


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
