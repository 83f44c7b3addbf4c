"""Hessian spectrum at gradient-descent endpoints: semicircle and marginality.

Theory (reference/theory.md d; CC convention): at a critical point of energy per spin e the
Riemannian Hessian (n-1 tangent eigenvalues) is W - p e I with W a GOE matrix: a
semicircle centred at c = -p e with radius R = sqrt(2 p (p-1)) (= 3.4641 for p = 3).
Its lower edge c - R vanishes at e = e_th: minima reached by gradient descent sit at
the threshold and are marginal, so their smallest eigenvalue tends to 0 with n
(on the Tracy-Widom scale n^(-2/3)).

For each GD endpoint (same runs as examples/gd_threshold.py: distinct ensemble, step 0.2,
|grad_sph H|/sqrt(n) < 1e-4) this computes the dense tangent spectrum and
- the Kolmogorov-Smirnov distance between its empirical distribution and the semicircle
  of the endpoint's own energy e (centre -p e, radius R); also with the radius scaled by
  the distinct ensemble's finite-n factor c_n (theory.md F), the same factor by which
  the couplings' typical size is reduced;
- the smallest eigenvalue (mean +- standard error over endpoints), with a power-law fit
  lambda_min ~ A n^-x.
The KS distance of n - 1 exact semicircle samples (GOE, no model) is printed as a baseline.
Larger n: --large N computes one GD endpoint at size N and its smallest eigenvalues with
pspin.landscape.smallest_hessian_eigenvalues (Lanczos on the Hessian-vector product).

Run:  python examples/hessian_marginality.py            (reuses gd_threshold's cached endpoints)
      python examples/hessian_marginality.py --quick
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pspin
from gd_threshold import DEFAULT_PLAN, GTOL, STEP, P, distinct_scale, gd_endpoints, model_for
from pspin.landscape import smallest_hessian_eigenvalues
from pspin.theory import hessian_semicircle, threshold_energy


def semicircle_cdf(x: np.ndarray, centre: float, radius: float) -> np.ndarray:
    u = np.clip((np.asarray(x) - centre) / radius, -1.0, 1.0)
    return 0.5 + (u * np.sqrt(1.0 - u * u) + np.arcsin(u)) / np.pi


def ks_distance(sample: np.ndarray, centre: float, radius: float) -> float:
    x = np.sort(sample)
    m = x.size
    f = semicircle_cdf(x, centre, radius)
    upper = np.arange(1, m + 1) / m - f
    lower = f - np.arange(0, m) / m
    return float(max(upper.max(), lower.max()))


def goe_baseline(m: int, reps: int, rng: np.random.Generator) -> float:
    """Mean KS distance of an m x m GOE spectrum to its own semicircle (finite-m noise floor)."""
    out = []
    for _ in range(reps):
        a = rng.standard_normal((m, m))
        w = (a + a.T) / math.sqrt(2 * m)  # off-diagonal variance 1/m, semicircle radius 2
        out.append(ks_distance(np.linalg.eigvalsh(w), 0.0, 2.0))
    return float(np.mean(out))


def power_fit(ns, ys) -> tuple[float, float]:
    """Least squares log y = log A - x log n; returns (x, A)."""
    slope, icpt = np.polyfit(np.log(ns), np.log(ys), 1)
    return float(-slope), float(math.exp(icpt))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--large",
        type=int,
        nargs="*",
        default=[],
        help="extra sizes: one GD endpoint each, Lanczos only",
    )
    ap.add_argument(
        "--only-large", action="store_true", help="skip the dense table (only --large sizes)"
    )
    ap.add_argument(
        "--large-dtype",
        default="float64",
        help="dtype of the --large models (float32 halves memory)",
    )
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="subset of the sizes")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        pspin.set_num_threads(args.threads)
    plan = {50: 3, 100: 3} if args.quick else DEFAULT_PLAN
    if args.sizes:
        plan = {n: plan[n] for n in args.sizes}
    if args.only_large:
        plan = {}
    _, radius = hessian_semicircle(threshold_energy(P), P)
    assert abs(radius - math.sqrt(2 * P * (P - 1))) < 1e-12
    rng = np.random.default_rng(1)

    print(
        f"Riemannian Hessian at GD endpoints, spherical pure p = {P}, distinct ensemble (pspin {pspin.__version__})"
    )
    print(
        f"GD: step {STEP}, gtol {GTOL}; semicircle centre -p e (e of each endpoint), radius R = {radius:.7f}"
    )
    print(
        "KS: sup-distance between the empirical spectral CDF and the semicircle CDF; KS(c_n R): radius times c_n"
    )
    print(
        "GOE floor: mean KS of an exact (n-1)x(n-1) GOE spectrum to its own semicircle (finite-size noise)"
    )
    print()
    head = (
        f"{'n':>5} {'pts':>4} {'<e>':>9} | {'KS(R)':>16} {'KS(c_n R)':>16} {'GOE floor':>9} | "
        f"{'lambda_min':>18} {'edge c-R':>9} {'lambda_2':>9} {'#<0.1':>6} {'sec':>5}"
    )
    print(head)
    print("-" * len(head))
    ns, lmins = [], []
    for n, samples in plan.items():
        t0 = time.perf_counter()
        r = gd_endpoints(n, samples)
        c_n = distinct_scale(n)
        ks, ks_c, lmin, l2, soft, energies = [], [], [], [], [], []
        for k in range(samples):
            m = model_for(n, k)
            for s in r["states"][k]:
                e = m.energy(s) / n
                lam = m.hessian_spectrum(s)
                centre, rad = hessian_semicircle(e, P)
                ks.append(ks_distance(lam, centre, rad))
                ks_c.append(ks_distance(lam, centre, c_n * rad))
                lmin.append(lam[0])
                l2.append(lam[1])
                soft.append(np.sum(lam < 0.1))
                energies.append(e)
            del m
        floor = goe_baseline(n - 1, 4, rng)
        lmin = np.asarray(lmin)
        err = lmin.std(ddof=1) / math.sqrt(lmin.size)
        e_mean = float(np.mean(energies))
        ns.append(n)
        lmins.append(lmin.mean())
        print(
            f"{n:>5} {len(lmin):>4} {e_mean:9.5f} | {np.mean(ks):7.4f} +- {np.std(ks, ddof=1) / math.sqrt(len(ks)):.4f} "
            f"{np.mean(ks_c):7.4f} +- {np.std(ks_c, ddof=1) / math.sqrt(len(ks_c)):.4f} {floor:9.4f} | "
            f"{lmin.mean():8.5f} +- {err:.5f} {-P * e_mean - radius:9.4f} {np.mean(l2):9.5f} {np.mean(soft):6.1f} "
            f"{time.perf_counter() - t0:5.0f}",
            flush=True,
        )
    if len(ns) >= 3:
        x, a = power_fit(ns, lmins)
        print()
        print(
            f"fit <lambda_min> = A n^-x over n = {ns}: x = {x:.3f}, A = {a:.3f} (Tracy-Widom scale: x = 2/3)"
        )
    for n in args.large:
        t0 = time.perf_counter()
        m = pspin.SphericalPSpin(n, P, seed=np.random.SeedSequence([n, 4]), dtype=args.large_dtype)
        gd = pspin.minimize(
            m,
            1,
            method="gd",
            step=STEP,
            gtol=GTOL,
            max_iter=200_000,
            seed=np.random.SeedSequence([n, 5]),
        )
        s = gd.states[0]
        low = smallest_hessian_eigenvalues(m, s, k=3)
        print(
            f"large n = {n} ({args.large_dtype}): one GD endpoint, e = {gd.energy_per_spin[0]:.5f} (e/c_n = {gd.energy_per_spin[0] / distinct_scale(n):.5f}), "
            f"converged {bool(gd.converged[0])}, iterations {int(gd.iterations[0])}; "
            f"3 smallest eigenvalues (Lanczos) {np.array2string(low, precision=5)}; {time.perf_counter() - t0:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
