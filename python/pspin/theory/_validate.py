"""Input checking and the model description shared by the theory modules.

Every public function of :mod:`pspin.theory` accepts the model as ``p``: either an
``int >= 2`` (the pure model, ``c_p = 1``) or a mapping ``{degree: c_p}`` (a mixed
model).  :func:`as_mixture` turns both into a :class:`Mixture`, which carries the
covariance function ``xi(q) = sum_p c_p**2 q**p`` of the library convention
``E[H(s) H(s')] = N xi(q) / 2`` (design.md).
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np

ModelSpec = Union[int, Mapping[int, float], "Mixture"]
"""What ``p`` may be: an int >= 2 or a mapping {degree: c_p} (or a :class:`Mixture`,
which the theory modules pass between themselves once validated)."""

_P_HELP = "p must be an int >= 2 (pure model) or a mapping {degree: c_p} with int degrees >= 2"

#: The range of the scale sqrt(xi(1)) = sqrt(sum c_p^2) the theory accepts. Energies and
#: temperatures scale with sqrt(xi(1)), but the solvers bracket their roots with
#: absolute offsets and tolerances (an energy step of 1, xtol = 1e-15) and the formulas
#: use powers of xi and its derivatives: far outside O(1) they loop, overflow or return
#: NaN (1e300 gave NaN or inf in 11 functions). Every function of pspin.theory is checked
#: finite at both ends of this range (tests/test_bad_input_reliability.py); rescale H
#: (energies and temperatures with it) to stay inside.
COEFFICIENT_RANGE = (1e-8, 1e8)


def _as_degree(value: Any, what: str) -> int:
    # bool is an int subclass; True as a degree is always a bug upstream.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            raise TypeError(
                f"{what} must be an integer, got {value!r} (non-integer p is not allowed); {_P_HELP}"
            )
        raise TypeError(
            f"{what} must be an integer, got {type(value).__name__} {value!r}; {_P_HELP}"
        )
    degree = int(value)
    if degree < 2:
        raise ValueError(f"{what} must be >= 2, got {degree}; {_P_HELP}")
    return degree


@dataclass(frozen=True)
class Mixture:
    """A spherical/Ising mixture ``H = sum_p c_p H_p``.

    Attributes
    ----------
    degrees : tuple of int
        The degrees p with ``c_p != 0``, increasing.
    coefficients : tuple of float
        The ``c_p``, same order.
    """

    degrees: tuple[int, ...]
    coefficients: tuple[float, ...]

    @property
    def is_pure(self) -> bool:
        """True for a single degree with ``c_p = 1`` (the closed-form formulas apply)."""
        return len(self.degrees) == 1 and self.coefficients[0] == 1.0

    @property
    def p(self) -> int:
        """The degree of a pure model."""
        if len(self.degrees) != 1:
            raise ValueError(f"model {self.label} is mixed; this quantity needs a single degree")
        return self.degrees[0]

    @property
    def label(self) -> str:
        """Short human-readable description, e.g. ``'p=3'`` or ``'3:0.7+4:0.3'``."""
        if self.is_pure:
            return f"p={self.degrees[0]}"
        return "+".join(f"{d}:{c:g}" for d, c in zip(self.degrees, self.coefficients))

    def xi(self, q: Any, derivative: int = 0) -> Any:
        """``xi(q) = sum_p c_p^2 q^p`` or its ``derivative``-th derivative."""
        q = np.asarray(q, dtype=float)
        out = np.zeros_like(q)
        for d, c in zip(self.degrees, self.coefficients):
            if derivative > d:
                continue
            fall = float(np.prod(np.arange(d - derivative + 1, d + 1))) if derivative else 1.0
            out = out + c * c * fall * q ** (d - derivative)
        return out[()] if out.ndim == 0 else out

    def nu(self) -> tuple[float, float, float]:
        """``(nu(1), nu'(1), nu''(1))`` for the covariance ``E[H H'] = N nu(q)``, ``nu = xi/2``."""
        return (
            0.5 * float(self.xi(1.0)),
            0.5 * float(self.xi(1.0, 1)),
            0.5 * float(self.xi(1.0, 2)),
        )


def as_mixture(p: ModelSpec) -> Mixture:
    """Validate ``p`` and return the :class:`Mixture` it describes.

    Raises
    ------
    TypeError
        ``p`` is not an integer / mapping, or a degree is not an integer, or a
        coefficient is not a real number.
    ValueError
        A degree < 2, a non-finite coefficient, all coefficients zero, or a scale
        ``sqrt(xi(1))`` outside :data:`COEFFICIENT_RANGE` (1e-8 to 1e8).
    """
    if isinstance(p, Mixture):
        return p
    if isinstance(p, Mapping):
        if not p:
            raise ValueError(f"empty mapping; {_P_HELP}")
        items: dict[int, float] = {}
        for key, value in p.items():
            degree = _as_degree(key, "degree")
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise TypeError(f"coefficient c_{degree} must be a real number, got {value!r}")
            c = float(value)
            if not np.isfinite(c):
                raise ValueError(f"coefficient c_{degree} must be finite, got {c}")
            if c != 0.0:
                # H is symmetric under J -> -J, so only |c_p| matters.
                items[degree] = abs(c)
        if not items:
            raise ValueError("all coefficients are zero; the Hamiltonian would vanish")
        big = max(items.values())
        scale = big * float(np.sqrt(sum((c / big) ** 2 for c in items.values())))
        lo, hi = COEFFICIENT_RANGE
        if not lo <= scale <= hi:
            label = "+".join(f"{d}:{c:g}" for d, c in sorted(items.items()))
            raise ValueError(
                f"model {label} is outside the range the theory handles: its scale sqrt(xi(1)) = "
                f"sqrt(sum c_p^2) = {scale:.3g} must lie in [{lo:g}, {hi:g}]; energies and temperatures "
                "scale with sqrt(xi(1)), so rescale the coefficients (and the results by the same factor)"
            )
        degrees = tuple(sorted(items))
        return Mixture(degrees, tuple(items[d] for d in degrees))
    return Mixture((_as_degree(p, "p"),), (1.0,))


def as_pure(p: ModelSpec, *, minimum: int = 2, what: str = "this formula") -> int:
    """Validate ``p`` as a pure model (int, or one-degree mapping with ``c_p = 1``) and return p."""
    model = as_mixture(p)
    if not model.is_pure:
        raise ValueError(
            f"{what} is only available for a pure model (int p, or {{p: 1.0}}); got {model.label}"
        )
    if model.p < minimum:
        raise ValueError(f"{what} needs p >= {minimum}, got p={model.p}")
    return model.p


def as_real_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float array; NaN or infinite entries raise ValueError."""
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or array of reals, got a bool")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number or array of reals, got {x!r}") from exc
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {x!r}")
    return arr


def as_temperature(T: Any, name: str = "T") -> np.ndarray:
    """Temperatures as a float array; they must be finite and > 0."""
    arr = as_real_array(T, name)
    if np.any(arr <= 0.0):
        raise ValueError(f"{name} must be > 0 (temperatures are positive), got {T!r}")
    return arr


def as_count(n: Any, name: str = "n", minimum: int = 2) -> int:
    """A system size: an int >= minimum."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {n!r}")
    if int(n) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def as_index(k: Any, name: str = "index") -> int | None:
    """A Morse index: None (all indices) or an int >= 0."""
    if k is None:
        return None
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be None (all indices) or an integer >= 0, got {k!r}")
    if int(k) < 0:
        raise ValueError(f"{name} must be >= 0, got {k}")
    return int(k)


def scalar_or_array(out: np.ndarray) -> Any:
    """Return a Python float for 0-d results, the array otherwise."""
    out = np.asarray(out, dtype=float)
    return float(out) if out.ndim == 0 else out


def elementwise(func: Callable[[float], float], x: np.ndarray) -> Any:
    """Apply a scalar function (root finders etc.) over an array, keeping its shape."""
    flat = np.array([func(float(v)) for v in np.ravel(x)], dtype=float)
    return scalar_or_array(flat.reshape(np.shape(x)))


# ---------------------------------------------------------------------------- failures
# Where a formula's numerical solution fails (a root finder finds no bracket, an
# intermediate quantity overflows or is NaN), scipy's and numpy's own messages said
# nothing about the model. Every public theory function is wrapped so that such a
# failure raises ValueError naming the function, the model and what went wrong; errors
# raised by pspin itself (argument checks, documented limits) pass unchanged.

#: Per function: why its solution can fail, where that is known.
_WHY: dict[str, str] = {
    "ising_static_temperature": (
        "the static overlap q_s approaches 1 as p grows (the random energy model limit, see "
        "rem_critical_temperature()); for p >= 12 it lies beyond q = 0.9999, where the quadrature of the "
        "m = 1 equation cannot resolve it"
    ),
    "ising_equilibrium_complexity": (
        "it needs the static transition, whose overlap lies beyond q = 0.9999 for large p (see "
        "ising_static_temperature)"
    ),
    "ground_state_energy_1rsb": (
        "a 1RSB ground state exists only for models with a discontinuous (1RSB) transition; the spherical "
        "p = 2 model (and mixtures dominated by p = 2) are replica symmetric: use ground_state_energy"
    ),
    "complexity_peak": (
        "for a mixture close to a pure model (a coefficient much smaller than the others) the peak of the "
        "density sits at the threshold, where the slope the root finder follows is not resolved; leave the "
        "small coefficient out"
    ),
    "ising_ground_state_energy_1rsb": (
        "the 1RSB ground state needs a model with a discontinuous transition"
    ),
}


def _solver_reason(exc: BaseException) -> str:
    text = str(exc)
    if "different signs" in text:
        return "the equation has no root in the bracket the formula assumes"
    if "NaN" in text or "nan" in text:
        return "the equation became NaN inside the solver's bracket (an intermediate quantity is undefined)"
    if isinstance(exc, OverflowError) or "overflow" in text.lower() or "out of range" in text:
        return "an intermediate quantity overflows float64"
    if isinstance(exc, ZeroDivisionError):
        return "an intermediate quantity divides by zero"
    return "the numerical solution failed"


def _foreign(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside scipy or numpy (not by pspin's own checks)."""
    tb = exc.__traceback__
    name = ""
    while tb is not None:
        name = str(tb.tb_frame.f_globals.get("__name__", ""))
        tb = tb.tb_next
    return name.split(".")[0] in ("scipy", "numpy")


def _model_label(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
        return as_mixture(bound.arguments["p"]).label
    except (TypeError, ValueError, KeyError):
        return "this model"


def explained(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with the failures of its numerical solution re-raised as a clear ValueError."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ValueError, RuntimeError, ArithmeticError) as exc:
            inner = getattr(exc, "pspin_failure", None)
            if inner is None and not isinstance(exc, ArithmeticError) and not _foreign(exc):
                raise
            if inner is not None:  # explained by a theory function this one called
                if inner[0] == func.__name__:
                    raise
                detail = f"{inner[1]} (in {inner[0]})"
                cause = exc.__cause__ if exc.__cause__ is not None else exc
            else:
                why = _WHY.get(func.__name__)
                # The solver's own message stays available as the __cause__.
                detail = _solver_reason(exc) + (f"; {why}" if why else "")
                cause = exc
            error = ValueError(f"{func.__name__} cannot be computed for {_model_label(func, args, kwargs)}: {detail}")
            error.pspin_failure = (func.__name__, detail)  # type: ignore[attr-defined]
            raise error from cause

    wrapper.__dict__["__explained__"] = True
    return wrapper


def explain_failures(namespace: dict[str, Any], names: Iterable[str]) -> None:
    """Wrap the public functions ``names`` of a theory module with :func:`explained`."""
    for name in names:
        obj = namespace[name]
        if inspect.isfunction(obj) and not getattr(obj, "__explained__", False):
            namespace[name] = explained(obj)
