"""Where does gradient descent stop?  Spherical pure p = 3, n = 100 ... 800.

Theory (reference/theory.md c.7, b.6; CC convention, |s|^2 = n): Riemannian gradient
descent from a random start relaxes to the threshold energy
    e_th = -sqrt(2 (p-1) / p) = -1.1547005   (p = 3)
as n -> infinity, and no minimum lies below the ground state e_gs = -1.1716748.

Finite-n normalisation of the distinct ensemble (theory.md, section F): for the usual
simulation model (indices i<j<k only) E[H(s)^2] / n = (1/2) c_n^2 with
    c_n^2 = n (n-1) ... (n-p+1) / (n (n+2) ... (n+2p-2)),
i.e. the whole landscape is scaled by c_n (0.978 at n = 200, 0.994 at n = 800). The table
shows the raw energy per spin and e / c_n, the energy in units of the n = infinity scale.

GD here is pspin.minimize(method="gd"): s <- R(s - step grad_sph H) with R the retraction
onto |s|^2 = n (a discretised gradient flow; step 0.2 < 2 / lambda_max ~ 0.29), stopped at
|grad_sph H| / sqrt(n) < gtol. L-BFGS from the same starts is shown for comparison (it is
not the gradient flow and typically stops higher).

Errors: each disorder sample contributes the mean over its starts; the error is the
standard error over samples (starts within one sample are correlated through the disorder).

Run:  python examples/gd_threshold.py            (about 8 minutes on 2 cores)
      python examples/gd_threshold.py --quick    (seconds; n = 50, 100)
GD endpoints are cached (npz, in $PSPIN_CACHE or the temp dir) for
examples/hessian_marginality.py; the runs are seeded, so the cache only saves time.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pspin
from pspin.theory import ground_state_energy, threshold_energy

P = 3
SEED = 20240907
DEFAULT_PLAN = {100: 8, 200: 6, 400: 4, 800: 1}  # n -> disorder samples
DTYPE = {800: "float32"}  # halves the memory traffic; GD to gtol 1e-4 is far above float32 rounding
STARTS = 8
STEP = 0.2
GTOL = 1e-4


def distinct_scale(n: int, p: int = P) -> float:
    """c_n: sqrt(E[H^2]/(n/2)) of the distinct ensemble at size n (theory.md F)."""
    num = math.prod(n - i for i in range(p))
    den = math.prod(n + 2 * i for i in range(p))
    return math.sqrt(num / den)


def cache_path(n: int, samples: int, starts: int, step: float, gtol: float) -> Path:
    root = Path(os.environ.get("PSPIN_CACHE", tempfile.gettempdir()))
    return (
        root
        / f"pspin_gd_endpoints_p{P}_n{n}_S{samples}_b{starts}_step{step}_gtol{gtol}_seed{SEED}_{DTYPE.get(n, 'float64')}.npz"
    )


def model_for(n: int, sample: int, ensemble: str = "distinct") -> pspin.SphericalPSpin:
    return pspin.SphericalPSpin(
        n, P, seed=np.random.SeedSequence([SEED, n, sample]), ensemble=ensemble
    )


def gd_endpoints(
    n: int,
    samples: int,
    starts: int = STARTS,
    step: float = STEP,
    gtol: float = GTOL,
    *,
    lbfgs: bool = True,
) -> dict:
    """GD (and L-BFGS) endpoints for ``samples`` disorder samples of size n, cached."""
    path = cache_path(n, samples, starts, step, gtol)
    if path.exists():
        with np.load(path) as data:
            out = {k: data[k] for k in data.files}
        if lbfgs == ("lbfgs_e" in out):
            return out
    states, e_gd, it_gd, conv_gd, e_lb, conv_lb = [], [], [], [], [], []
    t0 = time.perf_counter()
    for k in range(samples):
        m = model_for(n, k)
        start_seed = np.random.SeedSequence([SEED, n, k, 1])
        gd = pspin.minimize(
            m, starts, method="gd", step=step, gtol=gtol, max_iter=200_000, seed=start_seed
        )
        states.append(gd.states)
        e_gd.append(gd.energy_per_spin)
        it_gd.append(gd.iterations)
        conv_gd.append(gd.converged)
        if lbfgs:
            lb = pspin.minimize(
                m, starts, method="lbfgs", gtol=gtol, seed=np.random.SeedSequence([SEED, n, k, 1])
            )
            e_lb.append(lb.energy_per_spin)
            conv_lb.append(lb.converged)
    out = {
        "states": np.asarray(states),  # (samples, starts, n)
        "gd_e": np.asarray(e_gd),
        "gd_iter": np.asarray(it_gd),
        "gd_conv": np.asarray(conv_gd),
        "seconds": np.asarray(time.perf_counter() - t0),
    }
    if lbfgs:
        out["lbfgs_e"] = np.asarray(e_lb)
        out["lbfgs_conv"] = np.asarray(conv_lb)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def mean_err(values: np.ndarray) -> tuple[float, float]:
    """values (samples, starts): mean, and the standard error over samples of the per-sample
    means; with a single sample, the standard error over its starts (disorder fluctuations
    not included: an underestimate, marked * in the table)."""
    x = np.asarray(values, dtype=float)
    if x.shape[0] > 1:
        means = x.mean(axis=1)
        return float(means.mean()), float(means.std(ddof=1) / math.sqrt(means.size))
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def fit_extrapolation(ns, ys, errs, exponent: float) -> tuple[float, float, float]:
    """Weighted least squares y = a + b n^-x; returns (a, error of a, chi2/dof)."""
    ns, ys, errs = map(np.asarray, (ns, ys, errs))
    w = 1.0 / errs**2
    a_mat = np.stack([np.ones_like(ys), ns.astype(float) ** (-exponent)], axis=1)
    cov = np.linalg.inv(a_mat.T @ (w[:, None] * a_mat))
    coef = cov @ (a_mat.T @ (w * ys))
    resid = ys - a_mat @ coef
    dof = max(len(ys) - 2, 1)
    return float(coef[0]), float(math.sqrt(cov[0, 0])), float(np.sum(w * resid**2) / dof)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="tiny run (n = 50, 100) to check the script"
    )
    ap.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: all)")
    args = ap.parse_args()
    if args.threads:
        pspin.set_num_threads(args.threads)
    plan = {50: 3, 100: 3} if args.quick else DEFAULT_PLAN
    e_th, e_gs = threshold_energy(P), ground_state_energy(P)

    print(
        f"Gradient descent endpoints, spherical pure p = {P}, distinct ensemble (pspin {pspin.__version__})"
    )
    print(
        f"GD: step {STEP}, stop at |grad_sph H|/sqrt(n) < {GTOL}; {STARTS} random starts per sample; seed {SEED}"
    )
    print(
        f"theory (CC): e_th = {e_th:.7f}, e_gs = {e_gs:.7f}; c_n = distinct-ensemble scale (theory.md F)"
    )
    print()
    head = (
        f"{'n':>5} {'S x b':>6} {'c_n':>7} | {'GD <e>':>18} {'GD <e>/c_n':>18} {'min e/c_n':>10} "
        f"{'iters':>6} {'conv':>5} | {'LBFGS <e>/c_n':>18} {'sec':>6}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    all_below = 0
    for n, samples in plan.items():
        r = gd_endpoints(n, samples)
        c = distinct_scale(n)
        gd_mean, gd_err = mean_err(r["gd_e"])
        gdn_mean, gdn_err = mean_err(r["gd_e"] / c)
        lb_mean, lb_err = mean_err(r["lbfgs_e"] / c)
        star = "*" if samples == 1 else " "
        emin = float((r["gd_e"] / c).min())
        below = int(np.sum(r["gd_e"] / c < e_gs)) + int(np.sum(r["lbfgs_e"] / c < e_gs))
        all_below += below
        conv = float(np.mean(r["gd_conv"]))
        rows.append((n, gdn_mean, gdn_err, gd_mean, gd_err))
        print(
            f"{n:>5}{star}{samples:>2} x {r['gd_e'].shape[1]:<2} {c:7.4f} | {gd_mean:10.5f} +- {gd_err:.5f} "
            f"{gdn_mean:10.5f} +- {gdn_err:.5f} {emin:10.5f} {np.mean(r['gd_iter']):6.0f} {conv:5.2f} | "
            f"{lb_mean:10.5f} +- {lb_err:.5f} {float(r['seconds']):6.0f}",
            flush=True,
        )
    print()
    print(
        "* one disorder sample: error over its starts only; dtype "
        + ", ".join(f"n={k}: {v}" for k, v in DTYPE.items())
        + ", else float64"
    )
    print(f"minima (GD and L-BFGS) below e_gs = {e_gs:.5f} after the c_n rescaling: {all_below}")
    ns = [r[0] for r in rows]
    if len(rows) >= 3 and all(np.isfinite([r[2] for r in rows])):
        print(
            "extrapolation of GD <e>/c_n to n = infinity (weighted fit a + b n^-x; exponent not known, two tried):"
        )
        for x in (1.0, 2.0 / 3.0):
            a, da, chi2 = fit_extrapolation(ns, [r[1] for r in rows], [r[2] for r in rows], x)
            print(
                f"  x = {x:.3f}: e_inf = {a:.4f} +- {da:.4f} (chi2/dof {chi2:.2f}); e_inf - e_th = {a - e_th:+.4f}"
            )
        for x in (1.0, 2.0 / 3.0):
            a, da, chi2 = fit_extrapolation(ns, [r[3] for r in rows], [r[4] for r in rows], x)
            print(
                f"  raw <e> (no c_n), x = {x:.3f}: e_inf = {a:.4f} +- {da:.4f} (chi2/dof {chi2:.2f})"
            )
    print(f"threads: {pspin.get_num_threads() if hasattr(pspin, 'get_num_threads') else 'default'}")


if __name__ == "__main__":
    main()
