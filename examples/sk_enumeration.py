"""Exact enumeration of one-flip-stable states of the SK model versus theory.

For each n, enumerates every one-flip-stable state (s and -s both counted) of many
independent SK samples (J_ij ~ N(0, 1/n)) and compares the disorder average with the
exact finite-n expectation (Tanaka-Edwards 1980, Bray-Moore 1980; exact finite-N form
from the gauge transform, theory reference f.3):

    E N_s(n) = 2^n int dw N(0, 1/n)(w) Phi(w / sqrt(1 - 2/n))^n,

and (1/n) ln E N_s(n) with its n -> infinity limit, the Tanaka-Edwards complexity
ln 2 + max_w [ln Phi(w) - w^2/2] = 0.1992285.

Run:  python examples/sk_enumeration.py            (n = 8 ... 24, about a minute)
      python examples/sk_enumeration.py --scale 0.2  (fewer samples, quicker)
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pspin
from pspin.landscape._ising import enumerate_local_minima
from scipy import integrate, optimize, special

SAMPLES = {8: 4000, 10: 4000, 12: 4000, 14: 2000, 16: 2000, 18: 1000, 20: 600, 22: 300, 24: 200}


def log_expected_count(n: int) -> float:
    """ln E N_s(n) by quadrature around the peak in log space (independent of pspin.theory)."""
    sd, a = math.sqrt(1.0 / n), math.sqrt(1.0 - 2.0 / n)

    def log_f(w: float) -> float:
        return (
            n * math.log(2.0)
            + n * float(special.log_ndtr(w / a))
            - 0.5 * w * w / sd**2
            - math.log(math.sqrt(2 * math.pi) * sd)
        )

    peak = optimize.minimize_scalar(lambda w: -log_f(w), bounds=(-5.0, 5.0), method="bounded")
    w0, top = float(peak.x), -float(peak.fun)
    width = min(sd, 1.0)
    value, _ = integrate.quad(
        lambda w: math.exp(log_f(w) - top),
        w0 - 14 * width,
        w0 + 14 * width,
        points=[w0],
        limit=400,
        epsrel=1e-12,
    )
    return top + math.log(value)


def tanaka_edwards() -> float:
    """ln 2 + max_w [ln Phi(w) - w^2/2]."""
    res = optimize.minimize_scalar(
        lambda w: -(float(special.log_ndtr(w)) - 0.5 * w * w), bounds=(-3, 3), method="bounded"
    )
    return math.log(2.0) - float(res.fun)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the number of disorder samples"
    )
    parser.add_argument("--seed", type=int, default=2024, help="root seed of the disorder samples")
    args = parser.parse_args()
    theory = getattr(pspin, "theory", None)
    te = tanaka_edwards()
    print(
        f"pspin {pspin.__version__}, {pspin.get_num_threads()} thread(s); Tanaka-Edwards (1/n) ln E N_s -> {te:.7f}"
    )
    print(
        f"{'n':>3} {'samples':>7} {'mean N_s':>10} {'+-':>7} {'exact E N_s':>12} {'z':>6} {'(1/n)ln mean':>13} {'(1/n)ln exact':>14} {'walk Ms/s':>10}"
    )
    root = np.random.SeedSequence(args.seed)
    worst = 0.0
    for n, samples in SAMPLES.items():
        samples = max(20, int(samples * args.scale))
        seeds = root.spawn(samples)
        counts = np.empty(samples)
        visited, busy = 0, 0.0
        start = time.perf_counter()
        for k, seq in enumerate(seeds):
            res = enumerate_local_minima(pspin.IsingPSpin(n, 2, seed=seq))
            counts[k] = res.count
            visited += res.visited
            busy += res.seconds
        wall = time.perf_counter() - start
        exact = math.exp(log_expected_count(n))
        if theory is not None and hasattr(theory, "expected_one_flip_stable"):
            assert abs(theory.expected_one_flip_stable(n) / exact - 1) < 1e-9, (
                "quadratures disagree"
            )
        mean, err = counts.mean(), counts.std(ddof=1) / math.sqrt(samples)
        z = (mean - exact) / err
        worst = max(worst, abs(z))
        print(
            f"{n:3d} {samples:7d} {mean:10.4f} {err:7.4f} {exact:12.4f} {z:6.2f} "
            f"{math.log(mean) / n:13.5f} {math.log(exact) / n:14.5f} {visited / busy / 1e6:10.1f}"
            f"   ({wall:.1f} s)"
        )
    print(
        f"largest |z| = {worst:.2f} over {len(SAMPLES)} sizes (|z| < 3 expected for all but ~1% of runs)"
    )
    print("(1/n) ln E N_s(n) from the exact formula at larger n, approaching Tanaka-Edwards:")
    for n in (50, 100, 1000, 10000, 100000):
        print(f"  n = {n:6d}: {log_expected_count(n) / n:.7f}   (limit {te:.7f})")


if __name__ == "__main__":
    main()
