"""The energy landscape of the spherical p-spin glass, from simulation, beside theory (p = 3 and 4).

The whole story of why a high-dimensional landscape has few bad minima, each step measured
with pspin and printed next to its theory value:

1. Counting: the number of minima grows as exp(n Sigma). Exhaustive censuses at n = 8..14
   (isotropic ensemble, where the finite-n Kac-Rice formula is exact) against E[N] at that
   n, and the extrapolation of (1/n) ln E[N] to n -> infinity against Sigma_0(e_th).
2. The band: at large n, the distinct minima a census finds crowd into a thin band
   above the ground state e_gs, below the threshold e_th.
3. Gradient descent stops at the threshold: where GD from random starts ends, against e_th.
4. The marginal Hessian there: the spectrum at GD endpoints against the semicircle at e_th,
   whose lower edge touches zero (many near-zero eigenvalues), while deep minima are gapped.
5. Index against energy: critical points of higher index lie higher (semicircle index fraction).
6. The entropy crisis: parallel tempering with snapshots, quenched to inherent structures;
   total entropy by thermodynamic integration minus the harmonic vibrational entropy gives
   Sigma_conf(T), which falls towards zero near the Kauzmann temperature T_s.

Writes PNG figures and a text table of every number beside its theory value into
examples/results/ (entropy_picture*.png, entropy_picture.txt).

Run:  python examples/entropy_picture.py           (under 20 minutes on 2 cores)
      python examples/entropy_picture.py --quick   (about a minute; smaller n and fewer samples)

Finite-n effects are stated where they matter: at n ~ 100-200 the minima and the GD
endpoints sit above their n -> infinity energies by O(n^(-2/3)) and the entropy-crisis
temperature from n ~ 50 is rounded by O(1/n); the exact finite-n Kac-Rice counts have
no such caveat.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pspin
from pspin import theory

SEED = 20261206
OUT = Path(__file__).resolve().parent / "results"

FULL = {
    "count_sizes": (8, 10, 12, 14), "count_samples": 40, "count_starts": 600,
    "band_n": {3: 200, 4: 100}, "band_starts": 1000, "gd_starts": 100, "spectra": 8,
    "index_n": 20, "index_starts": 300,
    "crisis_n": {3: (32, 64), 4: (24, 40)}, "crisis_sweeps": 20000, "crisis_burn": 5000, "crisis_every": 250,
}
QUICK = {
    "count_sizes": (8, 10, 12), "count_samples": 10, "count_starts": 150,
    "band_n": {3: 60, 4: 40}, "band_starts": 200, "gd_starts": 30, "spectra": 4,
    "index_n": 14, "index_starts": 100,
    "crisis_n": {3: (16, 24), 4: (12, 20)}, "crisis_sweeps": 3000, "crisis_burn": 1000, "crisis_every": 100,
}


class Table:
    """Rows of (quantity, measured, theory, note) for the text report."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, measured: str, expected: str = "", note: str = "") -> None:
        self.rows.append((what, measured, expected, note))
        print(f"  {what:<52} {measured:>22}   theory {expected:>18}   {note}")

    def text(self) -> str:
        w = [max(len(r[i]) for r in self.rows) for i in range(4)]
        head = ("quantity", "measured", "theory", "note")
        lines = [" | ".join(h.ljust(w[i]) for i, h in enumerate(head)), "-+-".join("-" * x for x in w)]
        lines += [" | ".join(r[i].ljust(w[i]) for i in range(4)) for r in self.rows]
        return "\n".join(lines) + "\n"


def pm(value: float, error: float, digits: int = 4) -> str:
    return f"{value:.{digits}f} +- {error:.{digits}f}"


def seed(*keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([SEED, *keys])


# ------------------------------------------------------------------ 1. counting
def counting(p: int, plan: dict, table: Table, plt) -> None:
    results = []
    for n in plan["count_sizes"]:
        r = pspin.entropy.complexity(
            lambda seed, n=n: pspin.SphericalPSpin(n, p, seed=seed, ensemble="isotropic"),
            plan["count_starts"], samples=plan["count_samples"], seed=seed(1, p, n),
        )
        results.append(r)
        se = r.totals.std(ddof=1) / math.sqrt(r.samples)
        table.add(f"p={p} n={n}: mean number of minima ({r.samples} samples)", pm(r.totals.mean(), se, 3),
                  f"{r.theory_expected_total:.3f}", "exact finite-n Kac-Rice (isotropic)")
    x = pspin.entropy.extrapolate(results)
    table.add(f"p={p}: Sigma_0 total, (1/n) ln E[N] -> n=inf", pm(x.limit, x.limit_error),
              f"{x.theory:.4f}", f"fit {x.form}, chi2 = {x.chi2:.1f} for {len(results) - 2} dof")
    table.add(f"p={p}: the same fit to the exact finite-n E[N]", f"{x.theory_finite_n_limit:.4f}", f"{x.theory:.4f}",
              f"bias of the form at n <= {max(plan['count_sizes'])}")
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    results[-1].plot(ax=ax[0])
    ax[0].set_title(f"p = {p}, n = {results[-1].n}: cumulative count")
    x.plot(ax=ax[1])
    ax[1].set_title(f"p = {p}: extrapolation in n")
    fig.tight_layout()
    fig.savefig(OUT / f"entropy_picture_counting_p{p}.png", dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ 2-4. band, GD, Hessian
def band_and_threshold(p: int, plan: dict, table: Table, plt) -> None:
    n = plan["band_n"][p]
    model = pspin.SphericalPSpin(n, p, seed=seed(2, p), ensemble="isotropic")
    e_gs, e_th = theory.ground_state_energy(p), theory.threshold_energy(p)
    t0 = time.perf_counter()
    c = pspin.entropy.census(model, plan["band_starts"], seed=seed(3, p), hessian=True)
    d = pspin.entropy.minima_distribution(model, plan["gd_starts"], routes=("lbfgs", "gd"), seed=seed(4, p),
                                          census_result=c)
    e = c.energy_per_spin
    table.add(f"p={p} n={n}: distinct minima found ({c.n_starts} starts)",
              f"{c.count} (Chao1 {c.estimated_count:.0f} +- {c.estimated_count_error:.0f})", "",
              f"{time.perf_counter() - t0:.0f} s with GD")
    table.add(f"p={p} n={n}: minima energies, lowest / mean / highest",
              f"{e.min():.4f} / {e.mean():.4f} / {e.max():.4f}", f"[{e_gs:.4f}, {e_th:.4f}]",
              "band [e_gs, e_th], n=inf")
    table.add(f"p={p} n={n}: band width (e_th - e_gs) vs spread of minima", f"{e.max() - e.min():.4f}",
              f"{e_th - e_gs:.4f}", "thin band")
    gd = d.routes["gd"]
    table.add(f"p={p} n={n}: gradient descent endpoints, mean energy", pm(gd.mean(), gd.std() / math.sqrt(gd.size)),
              f"{e_th:.4f}", "e_th; finite-n: above by O(n^-2/3)")
    gap_theory = float(theory.smallest_eigenvalue(e_gs, p))
    lam_deep = c.hessian_eigenvalues[0]
    table.add(f"p={p} n={n}: smallest Hessian eigenvalue at the lowest minimum", f"{lam_deep[0]:.4f}",
              f"{float(theory.smallest_eigenvalue(e[0], p)):.4f}", f"semicircle edge at its energy (gap at e_gs {gap_theory:.3f})")
    gd_states = pspin.minimize(model, plan["spectra"], method="gd", gtol=1e-4, max_iter=20000, seed=seed(5, p))
    spectra = np.array([model.hessian_spectrum(s) for s in gd_states.states[gd_states.converged]])
    table.add(f"p={p} n={n}: smallest Hessian eigenvalue at GD endpoints (mean)", f"{spectra[:, 0].mean():.4f}",
              f"{float(theory.smallest_eigenvalue(e_th, p)):.4f}", "semicircle edge at e_th; finite n: O(n^-2/3) above")
    frac_small = float(np.mean(spectra < 0.1 * theory.hessian_semicircle(e_th, p)[1]))
    table.add(f"p={p} n={n}: fraction of GD-endpoint eigenvalues below 0.1 R", f"{frac_small:.4f}",
              f"{float(_semicircle_mass_below(e_th, p, 0.1)):.4f}", "semicircle at e_th: near-zero modes")

    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    d.plot(ax=ax[0])
    ax[0].set_title(f"p = {p}, n = {n}: where minima lie")
    lam = np.linspace(0, spectra.max() * 1.05, 300)
    ax[1].hist(spectra.ravel(), bins=50, density=True, alpha=0.5, label="GD endpoints")
    ax[1].hist(c.hessian_eigenvalues[:8].ravel(), bins=50, density=True, histtype="step", label="lowest minima")
    ax[1].plot(lam, theory.hessian_density(lam, e_th, p), "k-", label="semicircle at e_th")
    ax[1].set_xlabel("Riemannian Hessian eigenvalue")
    ax[1].legend()
    ax[1].set_title("marginal at the threshold, gapped below")
    c.plot(ax=ax[2])
    ax[2].set_title("census saturation")
    fig.tight_layout()
    fig.savefig(OUT / f"entropy_picture_band_p{p}.png", dpi=110)
    plt.close(fig)


def _semicircle_mass_below(e: float, p: int, fraction: float) -> float:
    centre, radius = theory.hessian_semicircle(e, p)
    lam = np.linspace(float(centre) - radius, fraction * radius, 2001)
    if lam[-1] <= lam[0]:
        return 0.0
    return float(np.trapezoid(theory.hessian_density(lam, e, p), lam))


# ------------------------------------------------------------------ 5. index against energy
def index_against_energy(p: int, plan: dict, table: Table, plt) -> None:
    n = plan["index_n"]
    model = pspin.SphericalPSpin(n, p, seed=seed(6, p), ensemble="isotropic")
    d = pspin.entropy.minima_distribution(model, 50, routes=("lbfgs",), seed=seed(7, p), index_starts=plan["index_starts"])
    e, k = d.critical_energies, d.critical_index
    corr = float(np.corrcoef(e, k)[0, 1]) if e.size > 2 else math.nan
    frac = k / n
    pred = np.asarray(theory.index_fraction(e, p))
    table.add(f"p={p} n={n}: distinct critical points of any index (Newton)", f"{e.size}", "", "")
    table.add(f"p={p} n={n}: mean |index/n - semicircle fraction|", f"{np.mean(np.abs(frac - pred)):.3f}",
              "0", f"finite n: index/n in steps of 1/{n}; corr(e, index) = {corr:.3f}")
    fig, ax = plt.subplots(figsize=(5, 4))
    d.plot_index(ax=ax, p=p)
    ax.set_title(f"p = {p}, n = {n}: index against energy")
    fig.tight_layout()
    fig.savefig(OUT / f"entropy_picture_index_p{p}.png", dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ 6. entropy crisis
def _crisis_one(p: int, n: int, plan: dict, table: Table) -> pspin.entropy.ConfigurationalEntropy:
    model = pspin.SphericalPSpin(n, p, seed=seed(8, p, n), ensemble="isotropic")
    T_s, T_d = theory.static_temperature(p), theory.dynamical_temperature(p)
    # geometric ladder, spacing ~ 1/sqrt(n) so neighbours keep exchanging
    temps = np.geomspace(0.8 * T_s, 3.0, int(round(3.3 * math.sqrt(n))))
    pt = pspin.ParallelTempering(model, temps, replicas=2, seed=seed(9, p, n))
    t0 = time.perf_counter()
    res = pt.run(plan["crisis_sweeps"], burn_in=plan["crisis_burn"], snapshot_every=plan["crisis_every"])
    inh = pspin.entropy.inherent_structures(res)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conf = pspin.entropy.configurational_entropy(res, inh)
    skipped = "; SKT skipped hot T (too few minima per bin)" if caught else ""
    table.add(f"p={p} n={n}: tempering + quenches", f"{time.perf_counter() - t0:.0f} s", "",
              f"{temps.size} temperatures, {plan['crisis_sweeps']} sweeps{skipped}")
    m, v, _ = pspin.entropy.high_temperature_moments(model)
    hot = temps[-1]
    table.add(f"p={p} n={n}: energy per spin at T={hot:.2f}", pm(res.mean_energy_per_spin[-1], res.energy_error[-1]),
              f"{m - v / hot:.4f}", f"high-T series of this sample, O(T^-2) ({theory.paramagnetic_energy(hot, p):.4f} annealed)")
    table.add(f"p={p} n={n}: Sigma_conf(T) zero crossing (extrapolated)",
              pm(conf.zero_crossing, conf.zero_crossing_error, 3), f"T_s = {T_s:.3f}",
              f"linear fit over the {conf.fit_points} lowest T; finite-n rounding")
    i = int(np.argmin(np.abs(res.temperatures - T_d)))
    sigma_eq = float(theory.equilibrium_complexity(min(res.temperatures[i], T_d), p))
    note = f"Sigma_eq(T) theory (n = inf) is {sigma_eq:.4f}"
    if n <= 32:
        finite_n = math.log(float(theory.expected_critical_points(n, p, 0))) / n
        table.add(f"p={p} n={n}: Sigma_conf at T={res.temperatures[i]:.3f} (near T_d)",
                  pm(conf.configurational_entropy[i], conf.configurational_entropy_error[i]), f"{finite_n:.4f}",
                  f"(1/n) ln E[#minima] at this n (exact); {note}")
    else:
        table.add(f"p={p} n={n}: Sigma_conf at T={res.temperatures[i]:.3f} (near T_d)",
                  pm(conf.configurational_entropy[i], conf.configurational_entropy_error[i]), f"{sigma_eq:.4f}", note)
    return conf


def entropy_crisis(p: int, plan: dict, table: Table, plt) -> None:
    sizes = plan["crisis_n"][p]
    confs = [_crisis_one(p, n, plan, table) for n in sizes]
    T_s = theory.static_temperature(p)
    if len(sizes) >= 2:
        x = 1.0 / np.array(sizes, dtype=float)
        roots = np.array([c.zero_crossing for c in confs])
        errs = np.array([c.zero_crossing_error for c in confs])
        slope = (roots[-1] - roots[0]) / (x[-1] - x[0])
        limit = roots[-1] - slope * x[-1]
        err = math.hypot(errs[-1] * x[0], errs[0] * x[-1]) / abs(x[0] - x[-1])
        table.add(f"p={p}: zero crossing, n = {sizes[0]} -> {sizes[-1]} -> inf (linear in 1/n)",
                  " -> ".join(f"{r:.3f}" for r in roots) + f" -> {limit:.3f} +- {err:.3f}", f"T_s = {T_s:.3f}",
                  "two sizes: a trend, not a measurement")
    rec = confs[-1].reconstruction
    if rec is not None:
        j = int(np.nanargmax(rec.complexity))
        table.add(f"p={p} n={sizes[-1]}: Sigma(e_IS) reconstructed (SKT), its maximum",
                  f"{pm(rec.complexity[j], rec.complexity_error[j])} at e = {rec.energies[j]:.3f}",
                  f"{confs[-1].theory_minima_complexity[j]:.4f}", "Sigma_0(e) at that e, n = inf")
    fig, ax = plt.subplots(1, 3, figsize=(16, 4))
    confs[-1].plot(ax=ax[0])
    for c in confs[:-1]:
        ax[0].errorbar(c.temperatures, c.configurational_entropy, yerr=c.configurational_entropy_error, fmt=".:",
                       label=f"Sigma_conf, n = {c.n}")
    ax[0].legend(fontsize="small")
    ax[0].set_title(f"p = {p}, n = {', '.join(map(str, sizes))}: the entropy crisis")
    confs[-1].inherent.plot(ax=ax[1])
    ax[1].set_title(f"n = {sizes[-1]}: inherent structures")
    if rec is not None:
        confs[-1].plot_reconstruction(ax=ax[2])
        ax[2].set_title(f"n = {sizes[-1]}: Sigma(e_IS) from P(e_IS | T)")
    fig.tight_layout()
    fig.savefig(OUT / f"entropy_picture_crisis_p{p}.png", dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--p", type=int, nargs="+", default=[3, 4])
    ap.add_argument("--out", type=Path, default=None, help="folder for the figures and the table (default examples/results)")
    args = ap.parse_args()
    global OUT
    if args.out is not None:
        OUT = args.out
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = QUICK if args.quick else FULL
    OUT.mkdir(parents=True, exist_ok=True)
    table = Table()
    start = time.perf_counter()
    for p in args.p:
        print(f"\n=== p = {p} ===")
        for step in (counting, band_and_threshold, index_against_energy, entropy_crisis):
            t0 = time.perf_counter()
            step(p, plan, table, plt)
            print(f"  [{step.__name__}: {time.perf_counter() - t0:.0f} s]")
    header = (f"pspin {pspin.__version__} examples/entropy_picture.py{' --quick' if args.quick else ''}; seed {SEED}; "
              f"{pspin.get_num_threads()} threads; {time.perf_counter() - start:.0f} s in all\n\n")
    name = "entropy_picture_quick.txt" if args.quick else "entropy_picture.txt"
    (OUT / name).write_text(header + table.text())
    print(f"\nwrote {OUT / name} and the figures entropy_picture_*.png ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
