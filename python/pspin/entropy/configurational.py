"""Configurational entropy Sigma_conf(T) = s(T) - s_vib(T), and Sigma(e_IS), beside theory.

s(T) comes from thermodynamic integration of the tempering run's mean energies from
T = inf (exact s(inf): ln 2 for Ising, :func:`~pspin.entropy.sphere_entropy` (n) for
the sphere); s_vib(T) is the mean harmonic entropy of the basins of the inherent
structures quenched from the same run; their difference estimates the log-number of
basins per spin visited at T (Stillinger-Weber; Sciortino-Kob-Tartaglia). In the
spherical p-spin it is compared with the 1RSB equilibrium complexity Sigma_eq(T) of
Crisanti and Sommers, which vanishes at the Kauzmann temperature T_s.

Finite n, stated plainly: at n ~ 50-100 every term carries O(1/n) corrections of the
size of Sigma itself near T_s (Sigma_eq(T_d) is only 0.013 for p = 3): s(inf) =
sphere_entropy(n) differs from its limit by -ln(pi)/(2n), a basin has n-1 modes, not n,
the harmonic approximation is exact only as T -> 0, and T_d, T_s are sharp only as
n -> inf (at finite n the dynamics never freezes and the quenches reach minima of all
depths). So the linearly extrapolated zero of Sigma_conf(T) is a finite-n estimate that
sits off T_s by O(1/n) effects, not a measurement of T_s; compare trends in n.

Sources: F. H. Stillinger and T. A. Weber, Phys. Rev. A 25, 978 (1982); F. Sciortino,
W. Kob and P. Tartaglia, Phys. Rev. Lett. 83, 3214 (1999); A. Crisanti and H.-J.
Sommers, Z. Phys. B 87, 341 (1992).
"""

from __future__ import annotations

import warnings
from dataclasses import field
from typing import Any

import numpy as np

from .. import theory
from .._results import Result, axes, result_type
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from ..sampling.result import PTResult
from .complexity import theory_spec
from .inherent import InherentStructures, inherent_structures
from .reconstruction import ComplexityReconstruction, reconstruct_complexity
from .thermodynamics import ThermodynamicIntegration, thermodynamic_integration

__all__ = ["ConfigurationalEntropy", "configurational_entropy"]


@result_type
class ConfigurationalEntropy(Result):
    """Total, vibrational and configurational entropy per spin against T, with theory.

    Attributes
    ----------
    temperatures : (R,) ascending.
    entropy, entropy_error : (R,) s(T) by thermodynamic integration.
    vibrational_entropy, vibrational_entropy_error : (R,) or None
        Mean harmonic entropy of the inherent structures' basins (spherical only).
    configurational_entropy, configurational_entropy_error : (R,) or None
        Sigma_conf = s - s_vib; errors added in quadrature (the two come from the energy
        series and from the snapshots of one run; their correlation is neglected).
    zero_crossing, zero_crossing_error : float
        T where the weighted straight-line fit of Sigma_conf(T) over the ``fit_points``
        lowest temperatures crosses zero (error by the delta method from the fit's
        covariance); NaN when there is no Sigma_conf or the fitted slope is not positive.
    fit_points : int
    theory_complexity : (R,) or None
        ``Sigma_eq(T)`` of the 1RSB theory (``pspin.theory.equilibrium_complexity``, or the
        Ising one): kept as the theory returns it, -inf above T_d (no states: ergodic)
        and 0 below T_s. None where the theory does not apply (e.g. SK).
    static_temperature, dynamical_temperature : float
        T_s and T_d of the theory (NaN where it does not apply).
    thermodynamics : ThermodynamicIntegration
    inherent : InherentStructures or None
    reconstruction : ComplexityReconstruction or None
        Sigma(e_IS): absolute (ln Z(T) = n (s - beta u) from the integration) for
        spherical models with basin volumes; for Ising models relative (bare counts, no
        basin volume) and then the only estimate of the configurational entropy.
    theory_minima_complexity : ndarray or None
        ``pspin.theory.complexity(e, p, index=0)`` (n -> inf) at the reconstruction's
        energies, spherical models; None otherwise.
    n : int
    kind : str
    params : dict
    """

    temperatures: np.ndarray
    entropy: np.ndarray
    entropy_error: np.ndarray
    vibrational_entropy: np.ndarray | None
    vibrational_entropy_error: np.ndarray | None
    configurational_entropy: np.ndarray | None
    configurational_entropy_error: np.ndarray | None
    zero_crossing: float
    zero_crossing_error: float
    fit_points: int
    theory_complexity: np.ndarray | None
    static_temperature: float
    dynamical_temperature: float
    thermodynamics: ThermodynamicIntegration
    inherent: InherentStructures | None
    reconstruction: ComplexityReconstruction | None
    n: int
    kind: str
    theory_minima_complexity: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def plot_reconstruction(self, ax: Any = None) -> Any:
        """Sigma(e_IS) reconstructed from P(e_IS | T), beside the complexity of minima (n -> inf)."""
        if self.reconstruction is None:
            raise ValueError(f"no reconstruction: {self.params.get('reconstruction_skipped') or 'not asked for'}")
        ax = self.reconstruction.plot(ax)
        if self.theory_minima_complexity is not None:
            ok = np.isfinite(self.theory_minima_complexity)
            ax.plot(self.reconstruction.energies[ok], self.theory_minima_complexity[ok], "k-", lw=1,
                    label="Sigma_0(e), n = inf")
            ax.legend(fontsize="small")
        return ax

    def plot(self, ax: Any = None) -> Any:
        """s(T), s_vib(T), Sigma_conf(T) with the theory's Sigma_eq(T), T_s and T_d."""
        ax = axes(ax)
        t = self.temperatures
        ax.errorbar(t, self.entropy, yerr=self.entropy_error, marker="o", ms=3, label="s (TI)")
        if self.vibrational_entropy is not None:
            ax.errorbar(t, self.vibrational_entropy, yerr=self.vibrational_entropy_error, marker="s", ms=3, label="s_vib")
        if self.configurational_entropy is not None:
            ax.errorbar(t, self.configurational_entropy, yerr=self.configurational_entropy_error, marker="^", ms=3,
                        label="Sigma_conf = s - s_vib")
        if self.theory_complexity is not None:
            finite = np.isfinite(self.theory_complexity)
            ax.plot(t[finite], self.theory_complexity[finite], "k-", lw=1, label="Sigma_eq (1RSB, n = inf)")
        for value, name, style in ((self.static_temperature, "T_s", ":"), (self.dynamical_temperature, "T_d", "--")):
            if np.isfinite(value):
                ax.axvline(value, color="gray", ls=style, lw=1, label=f"{name} = {value:.3f}")
        ax.axhline(0.0, color="gray", lw=0.5)
        ax.set_xlabel("T")
        ax.set_ylabel("entropy per spin")
        ax.legend(fontsize="small")
        return ax


def _theory(model: PSpinModel, temperatures: np.ndarray) -> tuple[np.ndarray | None, float, float]:
    spec = theory_spec(model)
    if isinstance(model, IsingPSpin):
        funcs = (theory.ising_equilibrium_complexity, theory.ising_static_temperature, theory.ising_dynamical_temperature)
    else:
        funcs = (theory.equilibrium_complexity, theory.static_temperature, theory.dynamical_temperature)
    try:
        sigma = np.asarray(funcs[0](temperatures, spec), dtype=np.float64)
        return sigma, float(funcs[1](spec)), float(funcs[2](spec))
    except ValueError:  # continuous transition (SK, some mixtures): no 1RSB states to count
        return None, float("nan"), float("nan")


def _zero_crossing(t: np.ndarray, sigma: np.ndarray, err: np.ndarray, points: int) -> tuple[float, float]:
    """Root of the weighted line a + b T through the ``points`` lowest temperatures."""
    tt, yy, ee = t[:points], sigma[:points], err[:points]
    if tt.size < 2 or not np.all(np.isfinite(yy)) or not np.all(ee > 0):
        return float("nan"), float("nan")
    design = np.stack([np.ones_like(tt), tt], axis=1) / ee[:, None]
    cov = np.linalg.inv(design.T @ design)
    a, b = cov @ (design.T @ (yy / ee))
    if not b > 0:
        return float("nan"), float("nan")
    root = -a / b
    grad = np.array([-1.0 / b, a / (b * b)])
    return float(root), float(np.sqrt(grad @ cov @ grad))


def configurational_entropy(
    result: PTResult,
    inherent: InherentStructures | None = None,
    *,
    model: PSpinModel | None = None,
    fit_points: int = 3,
    reconstruct: bool = True,
    reconstruction_options: dict[str, Any] | None = None,
    reconstruction_max_temperature: float | None = None,
    progress: bool = False,
) -> ConfigurationalEntropy:
    """Total entropy s(T), vibrational s_vib(T) and configurational Sigma_conf(T) from one run.

    Parameters
    ----------
    result : PTResult
        A tempering run whose ladder reaches high temperatures (T_max = 5-10: the
        integration from T = inf uses the high-T expansion beyond T_max and reports its
        error) and, for the inherent structures, with snapshots.
    inherent : InherentStructures, optional
        Quenched snapshots of the same run; computed (``inherent_structures(result)``)
        when omitted and the run has snapshots.
    model : optional
        Defaults to ``result.model``.
    fit_points : int
        Lowest temperatures in the straight-line fit of Sigma_conf(T) for its zero.
    reconstruct : bool
        Also reconstruct Sigma(e_IS) (:func:`~pspin.entropy.reconstruct_complexity`); when
        the histograms do not overlap it is skipped with a warning (reason in ``params``).
    reconstruction_options : dict, optional
        Passed to the reconstruction (``bins``, ``min_count``).
    reconstruction_max_temperature : float, optional
        Temperatures above it are left out of the reconstruction (default 1.5 T_d where
        the theory has a T_d, else none): far above T_d basins are anharmonic and the
        sampled minima say little about the landscape, and their ln Z(T) offsets would
        pull the absolute constant.
    progress : bool
        Progress bars of the quenches.

    Returns
    -------
    ConfigurationalEntropy
        For Ising models s_vib and Sigma_conf are None: the basin of a one-flip-stable
        state has no harmonic volume, and Sigma(e_IS) from the reconstruction (relative)
        is the only configurational estimate; s(T) is still the integration's.
    """
    if not isinstance(result, PTResult):
        raise TypeError(f"configurational_entropy needs a PTResult, got {type(result).__name__}")
    model = result.model if model is None else model
    if not isinstance(model, (IsingPSpin, SphericalPSpin)):
        raise TypeError(f"model must be an IsingPSpin or SphericalPSpin, got {type(model).__name__}")
    if isinstance(fit_points, bool) or not isinstance(fit_points, (int, np.integer)) or fit_points < 2:
        raise ValueError(f"fit_points must be an int >= 2, got {fit_points!r}")
    if inherent is None and result.snapshots is not None and result.snapshots.shape[2] > 0:
        inherent = inherent_structures(result, model, hessian=isinstance(model, SphericalPSpin), progress=progress)
    if inherent is not None:
        if inherent.n != model.n or inherent.kind != model.kind:
            raise ValueError("the inherent structures belong to another model")
        if inherent.temperatures.shape != result.temperatures.shape or not np.allclose(
            inherent.temperatures, result.temperatures, rtol=1e-12, atol=0
        ):
            raise ValueError("the inherent structures were quenched at other temperatures than this run's")

    t = np.asarray(result.temperatures, dtype=np.float64)
    ti = thermodynamic_integration(t, result.mean_energy_per_spin, errors=result.energy_error, model=model)
    n = model.n
    s_vib = s_vib_err = sigma = sigma_err = None
    if inherent is not None and inherent.hessian_eigenvalues is not None:
        s_vib, s_vib_err = inherent.vibrational_entropy, inherent.vibrational_entropy_error
        sigma = ti.entropy - s_vib
        sigma_err = np.sqrt(ti.entropy_error**2 + s_vib_err**2)
    root, root_err = (float("nan"), float("nan"))
    if sigma is not None and sigma_err is not None:
        root, root_err = _zero_crossing(t, sigma, sigma_err, int(fit_points))

    theory_sigma, t_s, t_d = _theory(model, t)
    if reconstruction_max_temperature is None:
        reconstruction_max_temperature = 1.5 * t_d if np.isfinite(t_d) else float("inf")
    reconstruction = None
    skipped = None
    use = t <= reconstruction_max_temperature
    if reconstruct and inherent is not None and not np.any(use):
        skipped = f"no temperature <= {reconstruction_max_temperature}"
    elif reconstruct and inherent is not None:
        options = dict(reconstruction_options or {})
        rows = np.flatnonzero(use)
        ok = inherent.converged
        energies = [inherent.energies_per_spin[r][ok[r]] for r in rows]
        if inherent.hessian_eigenvalues is not None:
            volumes = inherent.log_volume
            options["log_volume"] = [volumes[r][ok[r]] for r in rows]
            # ln Z(T) = n (s - beta u) = -n beta f, in the surface measure of the basin volumes.
            options["ln_z"] = (-n * ti.free_energy / t)[rows]
            options["ln_z_error"] = (n * ti.free_energy_error / t)[rows]
        try:
            reconstruction = reconstruct_complexity(t[rows], energies, n, **options)
        except ValueError as exc:
            skipped = str(exc)
            warnings.warn(f"Sigma(e_IS) not reconstructed: {exc}", RuntimeWarning, stacklevel=2)

    import pspin

    return ConfigurationalEntropy(
        temperatures=t,
        entropy=ti.entropy,
        entropy_error=ti.entropy_error,
        vibrational_entropy=s_vib,
        vibrational_entropy_error=s_vib_err,
        configurational_entropy=sigma,
        configurational_entropy_error=sigma_err,
        zero_crossing=root,
        zero_crossing_error=root_err,
        fit_points=int(fit_points),
        theory_complexity=theory_sigma,
        static_temperature=t_s,
        dynamical_temperature=t_d,
        thermodynamics=ti,
        inherent=inherent,
        reconstruction=reconstruction,
        n=n,
        kind=model.kind,
        theory_minima_complexity=(
            np.asarray(theory.complexity(reconstruction.energies, theory_spec(model), 0), dtype=np.float64)
            if reconstruction is not None and isinstance(model, SphericalPSpin) else None
        ),
        params={
            "pspin_version": pspin.__version__,
            "model": repr(model),
            "theory_model": repr(theory_spec(model)),
            "tempering_seed_entropy": result.params.get("seed_entropy"),
            "tempering_seed_spawn_key": result.params.get("seed_spawn_key"),
            "sweeps": result.sweeps,
            "burn_in": result.burn_in,
            "reconstruction_skipped": skipped,
            "reconstruction_max_temperature": float(reconstruction_max_temperature),
            "zero_crossing_fit": f"weighted line a + b T over the {int(fit_points)} lowest temperatures",
        },
    )
