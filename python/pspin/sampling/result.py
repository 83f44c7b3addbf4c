"""Measurements of a parallel-tempering run and the observables derived from them."""

from __future__ import annotations

import math
from dataclasses import field
from functools import cached_property
from typing import Any

import numpy as np

from .. import _validate, analysis
from .._results import RUN_INFO, Result, axes, result_type


def elementary_symmetric_of_products(q: np.ndarray, n: int, p: int) -> np.ndarray:
    """e_p(s o t) for Ising spins from the overlap q = s.t/n alone.

    The products x_i = s_i t_i are +-1, so their power sums are P_k = n (k even) and
    n q (k odd); Newton's identities e_k = (1/k) sum_{i=1}^k (-1)^(i-1) e_{k-i} P_i
    then give e_p exactly.
    """
    e = [np.ones_like(q)]
    for k in range(1, p + 1):
        acc = np.zeros_like(q)
        for i in range(1, k + 1):
            power_sum = n if i % 2 == 0 else n * q
            acc = acc + (-1) ** (i - 1) * e[k - i] * power_sum
        e.append(acc / k)
    return e[p]


@result_type
class PTResult(Result):
    """Time series and observables of a parallel-tempering run (after burn-in).

    Saved files hold the model as its spec and seed (docs/conventions.md), and
    :func:`pspin.load` regenerates it with bit-identical couplings (checked against the
    stored SHA-256), so no live model is needed to read a result. A model built from
    tensors is stored with its couplings.

    Attributes
    ----------
    model : SphericalPSpin or IsingPSpin
        The model sampled.
    temperatures : (R,) ascending.
    energies : (R, K, samples) total energies H of replica k at temperature r.
    overlaps : (R, K(K-1)/2, samples) overlaps q between replica pairs.
    swap_attempts, swap_accepts : (R-1,) per neighbour pair, measurement phase.
    round_trips_per_slot : (R*K,) lowest -> highest -> lowest trips per configuration.
    move_acceptance : (R,) mean Metropolis acceptance probability of the HMC trajectories
        per temperature in the measurement phase (spherical models), else None.
    sweeps, burn_in, sample_every : run bookkeeping; params: identity and provenance.
    snapshots : (R, K, S, n) configurations of replica k at temperature r at the sweeps
        ``snapshot_sweeps`` (S,) (multiples of ``snapshot_every`` after burn-in), in the
        model's dtype (int8 for Ising); None unless the run asked for them.
    """

    model: Any
    temperatures: np.ndarray
    energies: np.ndarray
    overlaps: np.ndarray
    swap_attempts: np.ndarray
    swap_accepts: np.ndarray
    round_trips_per_slot: np.ndarray
    sweeps: int
    burn_in: int
    sample_every: int
    params: dict[str, Any] = field(default_factory=dict)
    move_acceptance: np.ndarray | None = None
    snapshots: np.ndarray | None = None
    snapshot_sweeps: np.ndarray | None = None
    run_info: dict[str, Any] = RUN_INFO

    @property
    def n(self) -> int:
        return int(self.model.n)

    @property
    def samples(self) -> int:
        return int(self.energies.shape[-1])

    def _table(self) -> dict[str, np.ndarray]:
        columns = {"temperature": self.temperatures}
        if self.samples >= 2:
            columns.update(mean_energy_per_spin=self.mean_energy_per_spin, energy_error=self.energy_error,
                           specific_heat=self.specific_heat)
        if self.overlaps.shape[1] and self.samples:
            columns["mean_overlap_squared"] = self.mean_overlap_squared
        return columns

    def plot(self, ax: Any = None) -> Any:
        """Mean energy per spin against temperature, with its blocking error."""
        ax = axes(ax)
        if self.samples >= 2:
            ax.errorbar(self.temperatures, self.mean_energy_per_spin, yerr=self.energy_error, fmt="o-", ms=3)
        elif self.samples:
            ax.plot(self.temperatures, self.energy_series.mean(axis=-1), "o-", ms=3)
        ax.set_xlabel("temperature")
        ax.set_ylabel("energy per spin")
        return ax

    def _need_samples(self) -> None:
        if self.samples < 2:
            raise ValueError("fewer than 2 samples after burn-in: run longer or sample more often")

    # ------------------------------------------------------------------ energy
    @property
    def energy_series(self) -> np.ndarray:
        """(R, samples) energy per spin, averaged over the replicas."""
        return self.energies.mean(axis=1) / self.n

    @cached_property
    def _energy_binning(self) -> Any:
        self._need_samples()
        return analysis.binning_error(self.energy_series, axis=-1)

    @property
    def mean_energy_per_spin(self) -> np.ndarray:
        """(R,) mean energy per spin."""
        return np.asarray(self._energy_binning.mean)

    @property
    def energy_error(self) -> np.ndarray:
        """(R,) standard error of the mean energy per spin (blocking analysis)."""
        return np.asarray(self._energy_binning.error)

    @cached_property
    def autocorrelation_time(self) -> np.ndarray:
        """(R,) integrated autocorrelation time of the energy, in samples (tau_int = 1/2 + sum rho)."""
        self._need_samples()
        return np.asarray(analysis.integrated_autocorrelation_time(self.energy_series, axis=-1).tau)

    @cached_property
    def _specific_heat(self) -> Any:
        self._need_samples()
        return analysis.specific_heat(self.energies, self.temperatures[:, None], self.n, axis=-1)

    @property
    def specific_heat(self) -> np.ndarray:
        """(R,) specific heat per spin from fluctuations, Var(H)/(n T^2), averaged over replicas."""
        return np.asarray(self._specific_heat.estimate).mean(axis=1)

    @property
    def specific_heat_error(self) -> np.ndarray:
        """(R,) jackknife error of ``specific_heat`` (replicas independent)."""
        err = np.asarray(self._specific_heat.error)
        return np.sqrt((err**2).sum(axis=1)) / err.shape[1]

    def equilibration(self, n_last: int = 3) -> dict[str, Any]:
        """Log-binning report of the energy per temperature (Katzgraber, Palassini, Young 2001).

        Returns the report and an (R,) flag: the last ``n_last`` windows
        [2^k, 2^(k+1)) of samples agree within errors.
        """
        report = analysis.log_binning(self.energy_series, axis=-1)
        return {"report": report, "equilibrated": np.asarray(analysis.is_equilibrated(report, n_last=n_last))}

    # ------------------------------------------------------------------ overlaps
    def _need_overlaps(self) -> None:
        if self.overlaps.shape[1] == 0:
            raise ValueError("overlaps need replicas >= 2")

    @property
    def overlap_series(self) -> np.ndarray:
        """(R, samples) overlap q of the first replica pair (needs replicas >= 2)."""
        self._need_overlaps()
        return self.overlaps[:, 0, :]

    @property
    def mean_overlap_squared(self) -> np.ndarray:
        """(R,) <q^2> averaged over replica pairs and samples."""
        return self.overlap_moment(2)

    def overlap_moment(self, k: int) -> np.ndarray:
        """(R,) <q^k> over replica pairs and samples; k = p gives the p-spin order parameter
        <q^p>, whose disorder average enters E[H(s)H(t)] = n xi(q)/2."""
        self._need_overlaps()
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        return (self.overlaps**k).mean(axis=(1, 2))

    @cached_property
    def _binder(self) -> Any:
        self._need_overlaps()
        self._need_samples()
        return analysis.binder_ratio(self.overlaps.reshape(self.overlaps.shape[0], -1), axis=-1)

    @property
    def binder(self) -> np.ndarray:
        """(R,) Binder ratio g = (3 - <q^4>/<q^2>^2)/2 (0 for Gaussian q, 1 for q = +-1)."""
        return np.asarray(self._binder.estimate)

    @property
    def binder_error(self) -> np.ndarray:
        """(R,) jackknife error of ``binder``."""
        return np.asarray(self._binder.error)

    def overlap_histogram(self, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """P(q) per temperature: (R, bins) densities and the (bins+1,) edges on [-1, 1].

        Needs replicas >= 2 and at least one sample (ValueError otherwise, as the other
        overlap properties); ``bins`` is an int in [1, 10^7].
        """
        self._need_overlaps()
        self._need_samples()
        bins = _validate.positive_int(bins, "bins", maximum=10**7)
        edges = np.linspace(-1.0, 1.0, bins + 1)
        q = self.overlaps.reshape(self.overlaps.shape[0], -1)
        return np.stack([np.histogram(row, bins=edges, density=True)[0] for row in q]), edges

    # ------------------------------------------------------------------ swaps
    @property
    def swap_acceptance(self) -> np.ndarray:
        """(R-1,) acceptance of label swaps between neighbours (measurement phase)."""
        return self.swap_accepts / np.maximum(self.swap_attempts, 1)

    @property
    def round_trips(self) -> int:
        """Total lowest -> highest -> lowest temperature round trips (measurement phase)."""
        return int(np.sum(self.round_trips_per_slot))

    # ------------------------------------------------------------------ checks
    def gaussian_identity(self) -> dict[str, np.ndarray]:
        """Both sides of the integration-by-parts identity for Gaussian couplings.

        Spherical, isotropic ensemble: U/n = -(beta/2)(xi(1) - [<xi(q)>]) exactly after
        the disorder average (the covariance is exactly n xi(q)/2).

        U = -beta sum_p Var(K_p) (C(n,p) - <e_p(s o t)>), with Var(K_p) = c_p^2 p!/(2 n^(p-1))
        and s, t two replicas; for SK it reads U/n = -(beta/2)(1 - <q^2>) up to the
        1/n diagonal term. Holds exactly after the disorder average; for one sample
        both sides agree only as n grows. Returns per-spin 'lhs' (U/n) and 'rhs', (R,).
        """
        if self.overlaps.shape[1] == 0:
            raise ValueError("the identity needs replicas >= 2")
        n, beta = self.n, 1.0 / self.temperatures
        kind = getattr(self.model, "kind", "")
        if kind == "spherical":
            if self.model.ensemble != "isotropic":
                raise ValueError("the spherical identity is exact for the isotropic ensemble only")
            # Cov(H(s), H(t)) = n xi(q)/2 exactly, so U/n = -(beta/2)(xi(1) - [<xi(q)>]).
            xi_q = sum(c * c * self.overlaps**p for p, c in self.model.coefficients.items()).mean(axis=(1, 2))
            return {"lhs": self.mean_energy_per_spin, "rhs": -0.5 * beta * (self.model.xi(1.0) - xi_q)}
        rhs = np.zeros_like(beta)
        for p, c in self.model.coefficients.items():
            var = c * c * math.factorial(p) / (2.0 * n ** (p - 1))
            e_p = elementary_symmetric_of_products(self.overlaps, n, p).mean(axis=(1, 2))
            rhs += -beta * var * (math.comb(n, p) - e_p)
        return {"lhs": self.mean_energy_per_spin, "rhs": rhs / n}
