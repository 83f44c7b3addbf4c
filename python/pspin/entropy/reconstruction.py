"""Complexity of the inherent structures Sigma(e_IS) from their energy histograms at several T.

Sciortino-Kob-Tartaglia (SKT) reconstruction: in the Stillinger-Weber partition of
configuration space into basins of minima, the probability that an equilibrium
configuration at temperature T quenches to a minimum of energy per spin e is

    P(e | T) = exp(n Sigma(e) - beta n e) <V(e, T)> / Z(T),

with exp(n Sigma(e)) de the number of minima in [e, e + de], V(e, T) the basin's
Boltzmann volume ``int_basin dmu exp(-beta (H - H_min))`` and ``<V>`` its average over
the minima at e. Hence ``y_T(e) = ln P(e|T) + beta n e - ln <V(e, T)> = n Sigma(e) - ln Z(T)``:
the curves of different temperatures are pieces of one curve, shifted by ln Z(T).

Sources: F. H. Stillinger and T. A. Weber, Phys. Rev. A 25, 978 (1982);
F. Sciortino, W. Kob and P. Tartaglia, Phys. Rev. Lett. 83, 3214 (1999).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

import numpy as np
from scipy import special
from scipy.special import logsumexp

from .. import _validate
from .._results import Result, axes, result_type

__all__ = ["ComplexityReconstruction", "reconstruct_complexity"]


@result_type
class ComplexityReconstruction(Result):
    """Sigma(e_IS) joined from the IS energy histograms of several temperatures.

    Attributes
    ----------
    energies : (B,) bin centres (energy per spin) where Sigma is estimated.
    complexity : (B,) Sigma(e) per spin. Absolute when ``absolute`` (fixed by ln Z(T)),
        else up to one additive constant, chosen so that its maximum is 0.
    complexity_error : (B,) standard errors: the counts' multinomial errors (and those of
        the basin volumes) through the least-squares join, plus, when absolute, the error
        of the constant from ln Z. In the relative case the errors are those of the
        differences to the lowest temperature's reference (the join's gauge).
    bin_width : float
    temperatures : (R,) ascending.
    pieces, pieces_error : (R, B) each temperature's own estimate of Sigma (its histogram
        shifted by the fitted ln Z(T)), NaN where the temperature does not cover the bin.
    counts : (R, B) minima per bin and temperature.
    log_z : (R,) the fitted shifts ln Z(T) (total, same constant as ``complexity``).
    log_z_error : (R,)
    n : int
    absolute : bool
    chi2, dof : the join's weighted residual sum of squares and degrees of freedom (chi2
        ~ dof when the pieces agree within their errors).
    offset_chi2, offset_dof : when absolute, the scatter of ln Z(T) given minus the fitted
        shifts around their weighted mean (a consistency check of the basin volumes).
    params : dict
    """

    energies: np.ndarray
    complexity: np.ndarray
    complexity_error: np.ndarray
    bin_width: float
    temperatures: np.ndarray
    pieces: np.ndarray
    pieces_error: np.ndarray
    counts: np.ndarray
    log_z: np.ndarray
    log_z_error: np.ndarray
    n: int
    absolute: bool
    chi2: float
    dof: int
    offset_chi2: float
    offset_dof: int
    params: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Any = None) -> Any:
        """Sigma(e) with error bars, over the per-temperature pieces."""
        ax = axes(ax)
        for t, piece in zip(self.temperatures, self.pieces):
            ax.plot(self.energies, piece, ".", ms=3, alpha=0.5, label=f"T = {t:.3g}")
        ax.errorbar(self.energies, self.complexity, yerr=self.complexity_error, color="k", lw=1, label="joined")
        ax.set_xlabel("e_IS")
        ax.set_ylabel("Sigma(e_IS)" if self.absolute else "Sigma(e_IS) + const")
        ax.legend(fontsize="small")
        return ax


def _as_rows(values: Any, R: int, what: str) -> list[np.ndarray]:
    rows = [np.asarray(_validate.real_array(v, what), dtype=np.float64).ravel() for v in values]
    if len(rows) != R:
        raise ValueError(f"{what} needs one set per temperature ({R}), got {len(rows)}")
    for row in rows:
        if row.size < 1 or not np.all(np.isfinite(row)):
            raise ValueError(f"every temperature needs at least one finite value in {what}")
    return rows


def _connected(observed: np.ndarray) -> bool:
    """Whether the temperatures are linked by shared bins (observed: (R, B) bool)."""
    reached = observed[0].copy()
    linked = np.zeros(observed.shape[0], dtype=bool)
    linked[0] = True
    while True:
        new = ~linked & np.any(observed & reached, axis=1)
        if not np.any(new):
            return bool(np.all(linked))
        linked |= new
        reached |= np.any(observed[new], axis=0)


def reconstruct_complexity(
    temperatures: Any,
    is_energies: Any,
    n: int,
    *,
    log_volume: Any = None,
    ln_z: Any = None,
    ln_z_error: Any = None,
    bins: int | Any = "auto",
    min_count: int = 10,
) -> ComplexityReconstruction:
    """Reconstruct Sigma(e_IS) from inherent-structure energies sampled at several T (SKT).

    For each T and energy bin where a normal fit of that T's IS energies predicts at least
    ``min_count`` minima (and at least 3 are there):
    ``y_T(b) = ln p_T(b) + beta n e_b - ln <V>_b = n Sigma(e_b) - ln Z(T)``, with

    - ``p_T(b)`` the histogram density at the bin centre e_b, corrected to leading order
      for the slope of the density inside the bin (``-6 d^2/w^2``, d the offset of the
      bin's mean energy from its centre, w the width; the leading term of an exponential
      density), for its curvature (that of a normal fit of the temperature's IS
      energies) and for the 1/k biases of ln k and d^2 at k minima in the bin;
    - ``<V>_b`` the basin volume averaged over the *minima* at e_b. The sampled minima are
      volume-biased (each is found with probability proportional to its V), so the
      unbiased estimate is the harmonic mean, ``ln <V>_b = -ln mean_i exp(-ln V_i)``,
      not the mean of ln V_i.

    The pieces y_T are joined by weighted least squares with one shift per T (the lowest
    T fixed), errors ``Var ln p = 1/count - 1/M`` (multinomial) plus the volume
    estimate's. Temperatures must be linked through shared bins. With ``ln_z`` the
    remaining constant is fixed by the weighted mean of ln Z(T) - shift_T (absolute
    Sigma; the fitted shifts' correlations are neglected in its error); without, Sigma is
    relative (its maximum set to 0).

    Parameters
    ----------
    temperatures : array (R,)
    is_energies : array (R, M) or sequence of R arrays
        Energies per spin of the minima quenched from equilibrium configurations at each T.
    n : int
        Number of spins.
    log_volume : like ``is_energies``, optional
        ln V of each minimum's basin at the temperature it was sampled at (total, not per
        spin); harmonic spherical basins: ``n * harmonic_entropy(...) - (n-1)/2``, i.e.
        ``sum_a ln(2 pi T / lambda_a)/2``. None: V = 1 (a REM-like or bare Ising count).
    ln_z : array (R,), optional
        ln Z(T) (total) in the same measure as V, e.g. n (s - beta u) from thermodynamic
        integration; gives absolute Sigma.
    ln_z_error : array (R,), optional
        Standard errors of ``ln_z``.
    bins : int, array of edges, or 'auto'
        Common energy bins; 'auto': width a quarter of the median per-T standard deviation.
    min_count : int
        Bins where fewer minima are predicted at a temperature (normal fit of its IS
        energies) are not used for it.

    Returns
    -------
    ComplexityReconstruction
    """
    t = _validate.real_array(temperatures, "temperatures").astype(np.float64).ravel()
    if t.size < 1 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("temperatures must be positive and finite (at least one)")
    if np.unique(t).size != t.size:
        raise ValueError("temperatures must be distinct")
    R = t.size
    n = _validate.positive_int(n, "n")
    min_count = _validate.positive_int(min_count, "min_count", minimum=2)
    energies = _as_rows(is_energies, R, "is_energies")
    volumes = [np.zeros_like(e) for e in energies] if log_volume is None else _as_rows(log_volume, R, "log_volume")
    if any(v.shape != e.shape for v, e in zip(volumes, energies)):
        raise ValueError("log_volume must have one value per minimum, like is_energies")
    lnz = lnz_err = None
    if ln_z is not None:
        lnz = _validate.real_array(ln_z, "ln_z").astype(np.float64).ravel()
        lnz_err = np.zeros(R) if ln_z_error is None else _validate.real_array(ln_z_error, "ln_z_error").astype(np.float64).ravel()
        if lnz.shape != (R,) or lnz_err.shape != (R,) or not np.all(np.isfinite(lnz)) or np.any(~(lnz_err >= 0)):
            raise ValueError("ln_z (and ln_z_error >= 0) need one finite value per temperature")
    elif ln_z_error is not None:
        raise ValueError("ln_z_error without ln_z")

    order = np.argsort(t)
    t = t[order]
    energies = [energies[i] for i in order]
    volumes = [volumes[i] for i in order]
    if lnz is not None and lnz_err is not None:
        lnz, lnz_err = lnz[order], lnz_err[order]
    beta = 1.0 / t

    if isinstance(bins, str):
        if bins != "auto":
            raise ValueError(f"bins must be an int, an array of edges or 'auto', got {bins!r}")
        width = 0.25 * float(np.median([e.std() for e in energies]))
        lo, hi = min(e.min() for e in energies), max(e.max() for e in energies)
        if not width > 0:
            raise ValueError("the IS energies have no spread at any temperature: cannot histogram them")
        edges = lo + width * np.arange(int(np.ceil((hi - lo) / width)) + 2) - 0.5 * width
    elif np.ndim(bins) == 0:
        count = _validate.positive_int(bins, "bins")
        lo, hi = min(e.min() for e in energies), max(e.max() for e in energies)
        edges = np.linspace(lo, hi, count + 1) if hi > lo else np.array([lo - 0.5, hi + 0.5])
    else:
        edges = _validate.real_array(bins, "bins").astype(np.float64).ravel()
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be strictly increasing (at least 2)")
    widths = np.diff(edges)
    if not np.allclose(widths, widths[0], rtol=1e-9, atol=0):
        raise ValueError("bins must have equal widths")
    w = float(widths[0])
    centres = 0.5 * (edges[:-1] + edges[1:])
    B = centres.size

    counts = np.zeros((R, B), dtype=np.int64)
    y = np.full((R, B), np.nan)
    var = np.full((R, B), np.nan)
    for r in range(R):
        e, lv = energies[r], volumes[r]
        which = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, B - 1)
        inside = (e >= edges[0]) & (e <= edges[-1])
        which, e_in, lv_in = which[inside], e[inside], lv[inside]
        counts[r] = np.bincount(which, minlength=B)
        M = e.size
        # Bins are chosen by the count a normal fit of this T's distribution predicts, not by
        # their own count: cutting on the count itself would bias ln k upward near the cut.
        spread = max(float(e.std()), 1e-300)
        z = (edges - e.mean()) / spread
        expected = M * np.diff(special.ndtr(z))
        for b in np.flatnonzero((expected >= min_count) & (counts[r] >= 3)):
            sel = which == b
            k = counts[r, b]
            in_bin = e_in[sel]
            d = float(in_bin.mean() - centres[b])
            # The slope correction's own noise (delta method): d has variance Var(e | bin)/k.
            var_slope = (12.0 * d / (w * w)) ** 2 * float(in_bin.var()) / k
            # E[ln k] = ln E[k] - 1/(2k) and E[d^2] = d_true^2 + w^2/(12k): both biases removed.
            # The bin average exceeds the centre's density by (a^2 + kappa) w^2/24 for a log-density
            # of slope a (a w^2/12 = d) and curvature kappa (-1/std^2 of the normal fit).
            log_p = np.log(k / (M * w)) + 1.0 / k - 6.0 * d * d / (w * w) + w * w / (24.0 * spread**2)
            inv = -lv_in[sel]
            log_v = -(logsumexp(inv) - np.log(k))  # harmonic mean of V over the bin's minima
            ratio = np.exp(inv - inv.max())
            var_v = float(ratio.var() / (k * ratio.mean() ** 2)) if k > 1 else 0.0
            y[r, b] = log_p + beta[r] * n * centres[b] - log_v
            var[r, b] = 1.0 / k - 1.0 / M + var_v + var_slope
    observed = np.isfinite(y)
    used = np.any(observed, axis=0)
    if not np.all(np.any(observed, axis=1)):
        bad = t[~np.any(observed, axis=1)]
        raise ValueError(f"no energy bin has {min_count} minima at T = {bad}: sample more minima or use wider bins")
    if not _connected(observed[:, used]):
        raise ValueError(
            "the temperatures' IS histograms do not overlap in a chain (no shared bins with at least "
            f"{min_count} minima): use closer temperatures, more minima or wider bins"
        )

    # Unknowns: n Sigma for each used bin, then c_T = ln Z(T) + const for T > lowest (c_0 = 0).
    bin_col = -np.ones(B, dtype=np.int64)
    bin_col[used] = np.arange(int(used.sum()))
    nb = int(used.sum())
    rows_r, rows_b = np.nonzero(observed)
    design = np.zeros((rows_r.size, nb + R - 1))
    design[np.arange(rows_r.size), bin_col[rows_b]] = 1.0
    shifted = rows_r > 0
    design[np.flatnonzero(shifted), nb + rows_r[shifted] - 1] = -1.0
    sigma = np.sqrt(var[rows_r, rows_b])
    weighted = design / sigma[:, None]
    normal = weighted.T @ weighted
    cov = np.linalg.inv(normal)
    x = cov @ (weighted.T @ (y[rows_r, rows_b] / sigma))
    residual = (design @ x - y[rows_r, rows_b]) / sigma
    chi2 = float(residual @ residual)
    dof = int(rows_r.size - design.shape[1])
    n_sigma = x[:nb]
    n_sigma_var = np.diag(cov)[:nb].copy()
    c = np.concatenate([[0.0], x[nb:]])
    c_var = np.concatenate([[0.0], np.diag(cov)[nb:]])

    offset_chi2, offset_dof = 0.0, 0
    if lnz is not None and lnz_err is not None:
        offsets = lnz - c
        off_var = lnz_err**2 + c_var
        if np.all(off_var > 0):
            wts = 1.0 / off_var
            constant = float(np.sum(wts * offsets) / np.sum(wts))
            constant_var = float(1.0 / np.sum(wts))
            offset_chi2 = float(np.sum(wts * (offsets - constant) ** 2))
        else:  # exact ln Z and the gauge temperature: it alone fixes the constant exactly
            constant, constant_var = float(offsets[0]), 0.0
            offset_chi2 = float(np.sum((offsets[1:] - constant) ** 2 / off_var[1:]))
        offset_dof = R - 1
    else:
        constant, constant_var = -float(n_sigma.max()), 0.0
    complexity = (n_sigma + constant) / n
    complexity_error = np.sqrt(n_sigma_var + constant_var) / n
    pieces = (y + c[:, None] + constant) / n
    pieces_error = np.sqrt(var) / n

    import pspin

    return ComplexityReconstruction(
        energies=centres[used],
        complexity=complexity,
        complexity_error=complexity_error,
        bin_width=w,
        temperatures=t,
        pieces=pieces[:, used],
        pieces_error=pieces_error[:, used],
        counts=counts[:, used],
        log_z=c + constant,
        log_z_error=np.sqrt(c_var + constant_var),
        n=n,
        absolute=lnz is not None,
        chi2=chi2,
        dof=dof,
        offset_chi2=offset_chi2,
        offset_dof=offset_dof,
        params={
            "pspin_version": pspin.__version__,
            "method": "Sciortino-Kob-Tartaglia histogram join (weighted least squares)",
            "min_count": min_count,
            "bins": int(B),
            "harmonic_mean_volume": log_volume is not None,
        },
    )
