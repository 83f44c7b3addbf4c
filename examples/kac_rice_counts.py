"""Exhaustive small-n counts of minima and index-1 saddles vs the exact Kac-Rice expectation.

Spherical pure p = 3, ISOTROPIC ensemble (repeated indices included so that
E[H(s) H(s')] = n q^p / 2 exactly at finite n), for which
pspin.theory.expected_critical_points(n, 3, index=k) is the exact finite-n expectation of
the number of critical points of index k (reference/theory.md b.7). For odd p, s and -s are
different critical points (H(-s) = -H(s)), so nothing is identified up to a flip.

Per disorder sample:
- minima: Riemannian L-BFGS from B0 random starts (gtol 1e-10), each endpoint polished by
  Newton (critical_points(index=0, initial=...)), plus an independent search with
  eigenvector-following Newton to index 0 from random starts; the count is the number of
  distinct index-0 points (unique_states, tol 1e-8 on 1 - q) in the union of both;
- index-1 saddles: eigenvector-following Newton (critical_points(index=1)) from B1 random
  starts plus one start at the normalised midpoint of every pair of minima found (a saddle
  typically sits between two minima); distinct converged points of index 1.
Exhaustiveness is shown by saturation curves: the mean number of distinct points found
among the first m starts, as a fraction of the final count, and by the agreement of the two
independent minima searches (how often one found a minimum the other missed).

Run:  python examples/kac_rice_counts.py          (about 5 minutes on 2 cores)
      python examples/kac_rice_counts.py --quick
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pspin
from pspin.theory import expected_critical_points

P = 3
SEED = 8128
TOL = 1e-8
PLAN = {8: 40, 10: 40, 12: 30}  # n -> disorder samples
B0 = 300  # L-BFGS starts per sample (minima)
B0_CP = 150  # eigenvector-following starts to index 0 (independent minima search)
B1 = 400  # eigenvector-following starts to index 1
CHECKPOINTS0 = (5, 10, 20, 50, 100, 200, 300)
CHECKPOINTS1 = (10, 25, 50, 100, 200, 400)


def first_seen_counts(states: np.ndarray, checkpoints) -> np.ndarray:
    """Number of distinct states among the first m rows, for each m in checkpoints."""
    if len(states) == 0:
        return np.zeros(len(checkpoints))
    _, rows = pspin.unique_states(states, tol=TOL, return_index=True)
    return np.array([np.sum(rows < m) for m in checkpoints], dtype=float)


def one_sample(n: int, k: int, b0: int, b0cp: int, b1: int) -> dict:
    m = pspin.SphericalPSpin(n, P, seed=np.random.SeedSequence([SEED, n, k]), ensemble="isotropic")
    # minima, search 1: L-BFGS then Newton polish (keeps start order for the saturation curve)
    lb = pspin.minimize(
        m, b0, method="lbfgs", gtol=1e-10, seed=np.random.SeedSequence([SEED, n, k, 0])
    )
    pol = pspin.critical_points(m, initial=lb.states, index=0, max_iter=50)
    ok = lb.converged & pol.converged & (pol.index == 0)
    min_lb = pol.states[ok]
    sat0 = first_seen_counts(min_lb, [c for c in CHECKPOINTS0 if c <= b0])
    # minima, search 2: eigenvector following to index 0 from random starts
    cp0 = pspin.critical_points(m, b0cp, index=0, seed=np.random.SeedSequence([SEED, n, k, 1]))
    min_cp = cp0.states[cp0.converged & (cp0.index == 0)]
    u_lb = pspin.unique_states(min_lb, tol=TOL) if len(min_lb) else np.empty((0, n))
    u_cp = pspin.unique_states(min_cp, tol=TOL) if len(min_cp) else np.empty((0, n))
    minima = pspin.unique_states(np.vstack([u_lb, u_cp]), tol=TOL)
    # index-1 saddles: random starts, then midpoints of pairs of minima
    cp1 = pspin.critical_points(m, b1, index=1, seed=np.random.SeedSequence([SEED, n, k, 2]))
    sad_rand = cp1.states[cp1.converged & (cp1.index == 1)]
    sat1 = first_seen_counts(sad_rand, [c for c in CHECKPOINTS1 if c <= b1])
    pairs = [(a, b) for a in range(len(minima)) for b in range(a + 1, len(minima))]
    if pairs:
        mid = np.array([minima[a] + minima[b] for a, b in pairs])
        mid = mid[np.linalg.norm(mid, axis=1) > 1e-6 * math.sqrt(n)]
        cpm = pspin.critical_points(m, initial=mid, index=1)
        sad_mid = cpm.states[cpm.converged & (cpm.index == 1)]
    else:
        sad_mid = np.empty((0, n))
    u_rand = pspin.unique_states(sad_rand, tol=TOL) if len(sad_rand) else np.empty((0, n))
    saddles = (
        pspin.unique_states(np.vstack([u_rand, sad_mid]), tol=TOL)
        if len(u_rand) + len(sad_mid)
        else u_rand
    )
    return {
        "minima": len(minima),
        "minima_lbfgs": len(u_lb),
        "minima_cp": len(u_cp),
        "saddles": len(saddles),
        "saddles_random": len(u_rand),
        "sat0": sat0,
        "sat1": sat1,
        "fail_minimize": int(np.sum(~ok)),
        "fail_cp1": int(np.sum(~cp1.converged)),
        "wrong_index_cp1": int(np.sum(cp1.converged & (cp1.index != 1))),
    }


def mean_se(x) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        pspin.set_num_threads(args.threads)
    plan, b0, b0cp, b1 = ({8: 6, 10: 6}, 100, 50, 100) if args.quick else (PLAN, B0, B0_CP, B1)

    print(
        f"Critical points at small n vs exact finite-n Kac-Rice, spherical p = {P}, isotropic ensemble (pspin {pspin.__version__})"
    )
    print(
        f"per sample: minima = union of {b0} L-BFGS starts (Newton-polished) and {b0cp} eigenvector-following starts to index 0;"
    )
    print(
        f"index-1 saddles = {b1} eigenvector-following starts to index 1 + midpoints of all pairs of minima; distinct by 1 - q < {TOL}"
    )
    print("mean +- standard error over disorder samples; z = (mean - theory) / se")
    print()
    head = f"{'n':>3} {'S':>3} | {'minima':>15} {'theory':>7} {'z':>5} | {'index-1':>15} {'theory':>7} {'z':>5} | {'sec':>4}"
    print(head)
    print("-" * len(head))
    results = {}
    for n, samples in plan.items():
        t0 = time.perf_counter()
        rs = [one_sample(n, k, b0, b0cp, b1) for k in range(samples)]
        results[n] = rs
        m0, e0 = mean_se([r["minima"] for r in rs])
        m1, e1 = mean_se([r["saddles"] for r in rs])
        t_0 = expected_critical_points(n, P, index=0).value
        t_1 = expected_critical_points(n, P, index=1).value
        print(
            f"{n:>3} {samples:>3} | {m0:7.3f} +- {e0:5.3f} {t_0:7.3f} {(m0 - t_0) / e0:+5.1f} | "
            f"{m1:7.3f} +- {e1:5.3f} {t_1:7.3f} {(m1 - t_1) / e1:+5.1f} | {time.perf_counter() - t0:4.0f}",
            flush=True,
        )
    print()
    print("Exhaustiveness")
    for n, rs in results.items():
        tot0 = np.array([r["minima"] for r in rs], dtype=float)
        c0 = [c for c in CHECKPOINTS0 if c <= b0]
        sat0 = np.mean([r["sat0"] / max(t, 1) for r, t in zip(rs, tot0)], axis=0)
        tot1 = np.array([r["saddles"] for r in rs], dtype=float)
        c1 = [c for c in CHECKPOINTS1 if c <= b1]
        sat1 = np.mean([r["sat1"] / max(t, 1) for r, t in zip(rs, tot1)], axis=0)
        miss_lb = sum(r["minima"] - r["minima_lbfgs"] for r in rs)
        miss_cp = sum(r["minima"] - r["minima_cp"] for r in rs)
        miss_rand = sum(r["saddles"] - r["saddles_random"] for r in rs)
        print(
            f" n = {n}: minima found by L-BFGS among the first m starts / final count (mean over samples):"
        )
        print("   m:    " + " ".join(f"{c:>6}" for c in c0))
        print("   frac: " + " ".join(f"{v:6.3f}" for v in sat0))
        print(
            f"   minima missed by L-BFGS ({b0} starts) but found by index-0 following: {miss_lb} in {len(rs)} samples;"
            f" missed by index-0 following ({b0cp} starts): {miss_cp}"
        )
        print("   index-1 saddles among the first m random starts / final count:")
        print("   m:    " + " ".join(f"{c:>6}" for c in c1))
        print("   frac: " + " ".join(f"{v:6.3f}" for v in sat1))
        print(
            f"   saddles found only from midpoints of minima pairs: {miss_rand} in {len(rs)} samples;"
            f" index-1 runs not converged: {sum(r['fail_cp1'] for r in rs)}, converged to another index:"
            f" {sum(r['wrong_index_cp1'] for r in rs)}; L-BFGS+polish failures: {sum(r['fail_minimize'] for r in rs)}"
        )


if __name__ == "__main__":
    main()
