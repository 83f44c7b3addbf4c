"""The table of landmark values for one model: what ``pspin theory --p 3`` prints."""

from __future__ import annotations

import math
from typing import Any, Callable

from ._validate import ModelSpec, as_mixture, explain_failures
from .hessian import smallest_eigenvalue
from .spherical_landscape import (
    complexity,
    complexity_peak,
    ground_state_energy,
    layer_energy,
    threshold_energy,
)
from .thermodynamics import (
    dynamical_plateau,
    dynamical_temperature,
    equilibrium_complexity,
    ground_state_energy_1rsb,
    static_overlap,
    static_temperature,
)

__all__ = ["format_landmarks", "landmarks"]


def _try(func: Callable[[], float]) -> float:
    """Some landmarks do not exist for some models (p = 2, continuous transitions)."""
    try:
        return float(func())
    except ValueError:
        return math.nan


def landmarks(p: ModelSpec) -> dict[str, Any]:
    """Landmark values of the spherical model ``p`` (library convention, energies per spin).

    Keys: ``model``, ``e_th``, ``e_gs``, ``e_gs_1rsb``, ``e_1``, ``e_2``,
    ``sigma_minima_threshold`` (= ``Sigma_0(e_th)``), ``sigma_total`` (all critical
    points, at e = 0), ``hessian_gap_gs``, ``T_d``, ``q_d``, ``T_s``, ``q_s``,
    ``sigma_eq_Td``. Missing values (no such transition) are nan.

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> marks = theory.landmarks(3)
    >>> round(marks["e_gs"], 6), round(marks["e_th"], 6), round(marks["T_d"], 6)
    (-1.171675, -1.154701, 0.612372)
    """
    model = as_mixture(p)
    e_th = threshold_energy(model)
    return {
        "model": model.label,
        "e_th": e_th,
        "e_gs": ground_state_energy(model),
        "e_gs_1rsb": _try(lambda: ground_state_energy_1rsb(model)),
        "e_1": _try(lambda: layer_energy(model, 1)),
        "e_2": _try(lambda: layer_energy(model, 2)),
        "sigma_minima_threshold": float(complexity(e_th, model, 0)),
        "sigma_minima_max": complexity_peak(model, 0)[1],
        "sigma_total": float(complexity(0.0, model)),
        "hessian_gap_gs": float(smallest_eigenvalue(ground_state_energy(model), model)),
        "T_d": _try(lambda: dynamical_temperature(model)),
        "q_d": _try(lambda: dynamical_plateau(model)),
        "T_s": _try(lambda: static_temperature(model)),
        "q_s": _try(lambda: static_overlap(model)),
        "sigma_eq_Td": _try(lambda: equilibrium_complexity(dynamical_temperature(model), model)),
    }


_LABELS = {
    "e_th": "threshold energy e_th",
    "e_gs": "ground-state energy e_gs (zero of Sigma_0)",
    "e_gs_1rsb": "ground-state energy, 1RSB T->0",
    "e_1": "index-1 layer energy e_1",
    "e_2": "index-2 layer energy e_2",
    "sigma_minima_threshold": "minima complexity at e_th",
    "sigma_minima_max": "largest minima complexity",
    "sigma_total": "total complexity (all critical points)",
    "hessian_gap_gs": "Hessian gap at e_gs",
    "T_d": "dynamical temperature T_d",
    "q_d": "plateau overlap q_d",
    "T_s": "static (Kauzmann) temperature T_s",
    "q_s": "EA overlap at T_s",
    "sigma_eq_Td": "equilibrium complexity at T_d",
}


def format_landmarks(p: ModelSpec) -> str:
    """The :func:`landmarks` table as text (one quantity a line).

    Parameters
    ----------
    p : int or mapping
        Pure degree p >= 2, or a mixture ``{degree: c_p}`` (spherical model).

    Examples
    --------
    >>> from pspin import theory
    >>> print(theory.format_landmarks(3))  # doctest: +ELLIPSIS
    spherical model p=3 ...
    threshold energy e_th                              -1.1547005
    ...
    """
    values = landmarks(p)
    lines = [
        f"spherical model {values['model']}  (E[HH'] = N xi(q)/2, energies per spin; ABC units = x sqrt(2))",
        "-" * 64,
    ]
    for key, label in _LABELS.items():
        lines.append(f"{label:<46s} {values[key]:>14.7f}")
    return "\n".join(lines)


# Failures of the numerical solutions raise ValueError naming the function and the model.
explain_failures(globals(), __all__)
