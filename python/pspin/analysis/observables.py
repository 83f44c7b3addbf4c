"""Thermodynamic observables that are nonlinear in means, with jackknife errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import positive_int
from ._validate import series, warn_undefined
from .jackknife import JackknifeResult, jackknife

__all__ = ["binder_ratio", "specific_heat"]


def binder_ratio(q: Any, *, n_blocks: int = 32, axis: int = -1) -> JackknifeResult:
    """Binder ratio of the overlap, ``g = (3 - <q^4> / <q^2>^2) / 2``, with jackknife error.

    Convention (Ising spin glasses, one real overlap ``q``; R. N. Bhatt and
    A. P. Young, Phys. Rev. Lett. 54, 924 (1985); Katzgraber, Palassini, Young,
    Phys. Rev. B 63, 184422 (2001)): ``g = 0`` for Gaussian ``q`` (paramagnet,
    ``<q^4> = 3 <q^2>^2``) and ``g = 1`` for ``q = +-q0`` (ordered, ``<q^4> = <q^2>^2``);
    curves for different sizes cross at ``T_c``. Some authors quote
    ``U_4 = 1 - <q^4> / (3 <q^2>^2) = (2/3) g`` instead.

    Parameters
    ----------
    q : array_like, shape (..., N)
        Overlap time series (time along ``axis``), e.g. shape (R, N) for R temperatures.
    n_blocks : int, default 32
        Jackknife blocks (see :func:`~pspin.analysis.jackknife`).
    axis : int, default -1
        Time axis.

    Returns
    -------
    JackknifeResult
        ``estimate`` is nan where ``<q^2> = 0`` (q identically zero), with a
        RuntimeWarning naming the series.

    Notes
    -----
    This is the thermal Binder ratio of one sample. The disorder-averaged ratio
    ``(3 - [<q^4>] / [<q^2>]^2) / 2`` takes the thermal means per sample first and
    jackknifes over samples, e.g. for ``q`` of shape (S, N)::

        q2, q4 = (q**2).mean(-1), (q**4).mean(-1)
        jackknife(lambda a, b: 0.5 * (3 - b / a**2), q2, q4, n_blocks=S)

    Examples
    --------
    >>> import numpy as np
    >>> from pspin import analysis
    >>> q = np.tile([0.5, -0.5], 512)  # |q| constant: the ordered limit, ratio 1
    >>> round(float(analysis.binder_ratio(q).estimate), 6)
    1.0
    """
    y = series(q, "q", axis=axis, min_length=2)
    warn_undefined(np.all(y == 0.0, axis=-1), "q", axis, "the Binder ratio (<q^2> = 0)", why="identically zero")

    def g(m2: np.ndarray, m4: np.ndarray) -> np.ndarray:
        ratio = np.divide(m4, m2 * m2, out=np.full_like(m4, np.nan), where=m2 > 0.0)
        return 0.5 * (3.0 - ratio)

    y2 = y * y
    return jackknife(g, y2, y2 * y2, n_blocks=n_blocks)


def specific_heat(
    e_total_series: Any, T: Any, n: int, *, n_blocks: int = 32, axis: int = -1
) -> JackknifeResult:
    """Specific heat per spin from energy fluctuations, with jackknife error.

    .. math::

        c = \\frac{\\langle H^2 \\rangle - \\langle H \\rangle^2}{n\\, T^2}
          = \\frac{\\operatorname{Var} H}{n T^2} \\quad (k_B = 1),

    from the total energy ``H`` (not per spin). The plug-in variance is biased low by
    ``Var(mean H)`` (O(tau_int / N)); the jackknife removes that bias.

    Parameters
    ----------
    e_total_series : array_like, shape (..., N)
        Total energy time series (time along ``axis``), e.g. (R, N) for R temperatures.
    T : float or array_like
        Temperature(s), > 0 and finite; broadcast against the leading shape (...,),
        e.g. shape (R,) for energies of shape (R, N).
    n : int
        Number of spins.
    n_blocks : int, default 32
        Jackknife blocks; make them much longer than ``tau_int`` of ``H``.
    axis : int, default -1
        Time axis.

    Returns
    -------
    JackknifeResult

    Examples
    --------
    >>> import numpy as np
    >>> from pspin import analysis
    >>> e = np.tile([-4.0, 4.0], 512)  # Var(H) = 16 at T = 1, n = 16: c = 1
    >>> round(float(analysis.specific_heat(e, 1.0, 16).estimate), 6)
    1.0
    """
    e = series(e_total_series, "e_total_series", axis=axis, min_length=2)
    n = positive_int(n, "n")
    t_arr = np.asarray(T)
    if t_arr.dtype.kind not in "fiu" or isinstance(T, bool):
        raise TypeError(f"T must be real, got {T!r}")
    t_arr = t_arr.astype(np.float64)
    if not np.all(np.isfinite(t_arr)) or np.any(t_arr <= 0.0):
        raise ValueError("temperatures T must be finite and > 0")
    try:
        lead = np.broadcast_shapes(e.shape[:-1], t_arr.shape)
    except ValueError as exc:
        raise ValueError(
            f"T of shape {t_arr.shape} does not broadcast against the energies' leading "
            f"shape {e.shape[:-1]}"
        ) from exc
    if lead != e.shape[:-1]:
        e = np.broadcast_to(e, lead + e.shape[-1:])
    scale = 1.0 / (n * t_arr[..., None] ** 2)
    # Shift by the mean: the variance is unchanged, the cancellation is not catastrophic.
    d = e - e.mean(axis=-1, keepdims=True)
    return jackknife(lambda m1, m2: (m2 - m1 * m1) * scale, d, d * d, n_blocks=n_blocks)
