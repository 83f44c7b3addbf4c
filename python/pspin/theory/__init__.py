"""Analytic theory of mean-field spin-glass landscapes (pure Python: numpy + scipy).

Convention (design.md): ``H(s) = -sum_p c_p sum_{i1<..<ip} J s..s`` with
``Var J = p!/(2 N^(p-1))``, so ``E[H(s)H(s')] = N xi(q)/2``, ``xi(q) = sum_p c_p^2 q^p``.
All energies are per spin (``e = H/N``) and temperatures are in the same units.
Auffinger-Ben Arous-Cerny use ``E[HH'] = N q^p``: their energies and temperatures
are ``sqrt(2)`` times ours; complexities agree.

``p`` is an int >= 2 (pure model) or a mapping ``{degree: c_p}`` (mixture). Functions
are vectorised over arrays of energies / temperatures and raise ValueError/TypeError
on invalid input.

Modules: :mod:`.spherical_landscape` (complexity, threshold, layers),
:mod:`.kac_rice_finite_n` (exact finite-N counts), :mod:`.hessian` (semicircle),
:mod:`.thermodynamics` (paramagnet, 1RSB, T_d, T_s, Sigma_eq), :mod:`.tap`,
:mod:`.mixed` (covariance, Kac-Rice variational formula), :mod:`.ising`
(SK, Tanaka-Edwards, Ising p-spin 1RSB, REM), :mod:`.landmarks`, :mod:`.plot`.

Verification status (details in each docstring and in tests/theory):

* Published values reproduced to their digits: ABC's ``E_0(p=3) = 1.657``,
  ``T_d(p=3) = sqrt(3/8)``, ``T_s(p=3) = 0.586``, Tanaka-Edwards 0.1992, Ising p=3
  ``T_d = 0.682`` and ``T_s = 0.651``, SK replica-symmetric ``-sqrt(2/pi)``.
* The finite-N Kac-Rice identity of ABC13 (recalled) is re-derived from first
  principles here and agrees with a seeded Monte Carlo of the ABC form; p = 2 gives
  exactly 2 critical points of each index.
* Internal identities to <= 1e-8: complexity continuous at the threshold,
  ``Sigma_0(e_gs) = 0`` equals the 1RSB T -> 0 energy, ``Sigma_eq(T_d) = Sigma_0(e_th)``,
  ``e = d(beta f)/d beta``, min over TAP states of ``f - T Sigma`` equals the paramagnet.
* Not seen in the source text (recalled, checked only through the identities above):
  the TAP free energy of Crisanti-Sommers 1995 and the mixed-model threshold
  ``E'_inf`` of Auffinger-Ben Arous 2013 (re-derived here from the edge condition).
"""

from __future__ import annotations

from .hessian import (
    hessian_density,
    hessian_semicircle,
    index_fraction,
    mean_inverse_eigenvalue,
    mean_log_eigenvalue,
    smallest_eigenvalue,
)
from .ising import (
    SK_CRITICAL_TEMPERATURE,
    expected_one_flip_stable,
    ising_dynamical_temperature,
    ising_equilibrium_complexity,
    ising_ground_state_energy_1rsb,
    ising_paramagnetic_free_energy,
    ising_static_temperature,
    one_flip_stable_complexity,
    one_flip_stable_typical_energy,
    rem_critical_temperature,
    rem_entropy,
    rem_ground_state_energy,
    sk_ground_state_energy,
    sk_replica_symmetric_ground_state_energy,
)
from .kac_rice_finite_n import (
    KacRiceCount,
    expected_critical_points,
    expected_critical_points_by_index,
)
from .landmarks import format_landmarks, landmarks
from .mixed import covariance_xi, kac_rice_parameters, mixed_threshold_energy, radial_multiplier
from .spherical_landscape import (
    complexity,
    complexity_peak,
    cumulative_complexity,
    ground_state_energy,
    layer_energy,
    threshold_energy,
)
from .tap import (
    tap_complexity,
    tap_equilibrium_state,
    tap_free_energy,
    tap_max_temperature,
    tap_overlap,
    tap_stability_parameter,
)
from .thermodynamics import (
    SPHERE_ENTROPY,
    OneRSBSolution,
    dynamical_plateau,
    dynamical_temperature,
    equilibrium_complexity,
    ground_state_energy_1rsb,
    one_rsb_solution,
    paramagnetic_energy,
    paramagnetic_entropy,
    paramagnetic_free_energy,
    static_overlap,
    static_temperature,
)

__all__ = [  # noqa: RUF022 - grouped by topic on purpose
    # spherical landscape (T = 0)
    "threshold_energy",
    "ground_state_energy",
    "layer_energy",
    "complexity",
    "cumulative_complexity",
    "complexity_peak",
    # finite-N Kac-Rice
    "expected_critical_points",
    "expected_critical_points_by_index",
    "KacRiceCount",
    # Hessian
    "hessian_semicircle",
    "hessian_density",
    "index_fraction",
    "smallest_eigenvalue",
    "mean_log_eigenvalue",
    "mean_inverse_eigenvalue",
    # thermodynamics
    "SPHERE_ENTROPY",
    "paramagnetic_free_energy",
    "paramagnetic_energy",
    "paramagnetic_entropy",
    "dynamical_temperature",
    "dynamical_plateau",
    "static_temperature",
    "static_overlap",
    "equilibrium_complexity",
    "one_rsb_solution",
    "OneRSBSolution",
    "ground_state_energy_1rsb",
    # TAP
    "tap_stability_parameter",
    "tap_overlap",
    "tap_max_temperature",
    "tap_free_energy",
    "tap_complexity",
    "tap_equilibrium_state",
    # mixed models
    "covariance_xi",
    "kac_rice_parameters",
    "mixed_threshold_energy",
    "radial_multiplier",
    # Ising
    "SK_CRITICAL_TEMPERATURE",
    "sk_ground_state_energy",
    "sk_replica_symmetric_ground_state_energy",
    "one_flip_stable_complexity",
    "one_flip_stable_typical_energy",
    "expected_one_flip_stable",
    "ising_paramagnetic_free_energy",
    "ising_dynamical_temperature",
    "ising_static_temperature",
    "ising_equilibrium_complexity",
    "ising_ground_state_energy_1rsb",
    "rem_critical_temperature",
    "rem_ground_state_energy",
    "rem_entropy",
    # tables
    "landmarks",
    "format_landmarks",
]
