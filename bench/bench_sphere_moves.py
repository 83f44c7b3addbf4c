"""Spherical-model Monte Carlo moves: speed and effective samples per second (issue 5).

    python bench/bench_sphere_moves.py                     # full: ~2.5 min on an idle machine
    python bench/bench_sphere_moves.py --quick             # smaller runs
    python bench/bench_sphere_moves.py --skip-a --threads 1,2,4,8
    (the output is also written to results/sphere_moves[-LEVEL].md / .json)

Results on an idle 16-core Intel Xeon (the device machine, 2026-11-30; the 2-core dev box
was loaded by 1-2 foreign CPUs, so its timings were contaminated; the tau values, being
deterministic, came out identical there):
  A, n = 128, 16 chains, 1 thread, ESS/s of the energy:
                 T = 1.0 (tau, ESS/s)     T = 0.7 (tau, ESS/s)
    HMC L=4      6.0    1276              35.3    282
    HMC L=5      4.9    1477              33.7    246
    HMC L=8      4.5    1027              33.9    157
    pairs a=1.3  25.5    351              94.5    139  (a = 1.09 at T = 0.7)
    pairs a=2.0  28.3    330             130.7     94
  B, n = 256, 32 x 2 slots, L = 5, step 0.25: 7.3-8.9 sweeps/s on 1 thread; 2-thread
    speed-up 1.93, 1.60, 1.73, 1.81 in four runs; 4 threads 2.7-3.0x, 8 threads 5.8-6.6x;
    PT series tau ~2 sweeps at T = 0.99 and ~4 at T = 0.70 (400 sweeps, rough).

Part A (move choice, p = 3 isotropic, one temperature per engine so no swaps): the
integrated autocorrelation time tau of the energy (in sweeps, Sokal window c = 5,
averaged autocorrelation of independent chains) for
  - geodesic HMC (the engine: pspin._core.SphericalTemperingF64, one sweep = one
    trajectory of L leapfrog steps), at several (L, step), 1 thread, measured wall time;
  - pair rotations with cached fields (pspin._core.SphericalPairTemperingF64: Metropolis
    on a uniform angle in [-a, a] in the (i, j) plane, one sweep = n/2 disjoint random
    pairs shared by the batch, fields updated exactly from a dense n^3 tensor), measured
    the same way, plus a cost model (the measured time of its dominant work, two dense
    (n x n) @ (n x B) products per move with one BLAS thread) as a check that the pair
    implementation is not merely slow.
  ESS/s = chains * sweeps/s / tau.

Part B (the issue's figure): p = 3, n = 256, 32 temperatures (geometric 0.6 .. 2.0) x 2
replicas, parallel tempering: sweeps/s at OMP_NUM_THREADS = 1 and 2 (subprocesses), the
speed-up, and ESS/s of the energy at the temperatures nearest 1.0 and 0.7 (series by
temperature, so swaps help). The foreign load (CPU used by other processes, from
bench/foreign_load.py) is printed with each timing: the 2-core machine is shared, and a
2-thread figure taken with foreign load > 0.2 CPUs is contaminated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import levels
from foreign_load import ForeignLoad, contaminated


def tau_int(series: np.ndarray, c: float = 5.0) -> float:
    """Integrated autocorrelation time of a (samples, chains) series, in samples."""
    x = np.asarray(series, dtype=np.float64)
    x = x - x.mean(axis=0)
    m = x.shape[0]
    f = np.fft.rfft(x, n=2 * m, axis=0)
    acov = np.fft.irfft(f * np.conj(f), axis=0)[:m].mean(axis=1) / np.arange(m, 0, -1)
    rho = acov / acov[0]
    tau = 1.0
    for w in range(1, m):
        tau += 2.0 * rho[w]
        if w >= c * tau:
            break
    return max(tau, 1.0)


def _single_temperature(eng, T, chains, sweeps, burn, label):
    """Burn in, time `sweeps` sweeps of `chains` chains at T, report tau and ESS/s."""
    eng.run(burn, 1)
    before = eng.acceptance()
    t0 = time.perf_counter()
    E, _ = eng.run(sweeps, 1)
    wall = time.perf_counter() - t0
    acc = eng.acceptance()
    rate = float((acc["accepts"] - before["accepts"]).sum() / (acc["attempts"] - before["attempts"]).sum())
    tau = tau_int(E[:, 0, :])
    return {"move": label(eng), "T": T, "tau": tau, "accept": rate,
            "sweeps_per_s": sweeps / wall, "ess_per_s": chains * sweeps / wall / tau}


def hmc_single_temperature(model, T, chains, sweeps, burn, L, step, seed=1):
    from pspin import _core

    eng = _core.SphericalTemperingF64(model._couplings, model.random_state(chains, seed=seed), [1.0 / T],
                                      chains, 3, 4, L, step)
    return _single_temperature(eng, T, chains, sweeps, burn, lambda e: f"HMC L={L} eps={e.step_sizes()[0]:.3f}")


def pairs_single_temperature(model, T, chains, sweeps, burn, angle, seed=1):
    from pspin import _core

    eng = _core.SphericalPairTemperingF64(model._couplings, model.random_state(chains, seed=seed), [1.0 / T],
                                          chains, 3, 4, angle)
    return _single_temperature(eng, T, chains, sweeps, burn, lambda e: f"pairs a={e.step_sizes()[0]:.2f}")


def dense_move_seconds(n, chains, reps=50):
    """Measured time of the dominant work of one batched pair-rotation move (1 BLAS thread)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n))
    B = rng.standard_normal((chains, n))
    C = rng.standard_normal((chains, n))
    for _ in range(3):
        B @ A.T
    t0 = time.perf_counter()
    for _ in range(reps):
        B @ A.T
        C @ A.T
    return (time.perf_counter() - t0) / reps


PT_CODE = """
import json, sys, time, numpy as np, pspin
from pspin import _core
sys.path.insert(0, {bench_dir!r})
from foreign_load import ForeignLoad
n, R, K, sweeps, L, step = {n}, 32, 2, {sweeps}, {L}, {step}
m = pspin.SphericalPSpin(n, 3, seed=1, ensemble="isotropic")
T = np.geomspace(0.6, 2.0, R)
eng = _core.SphericalTemperingF64(m._couplings, m.random_state(R * K, seed=2), list(1 / T), K, 11, 12, L, step)
eng.run({burn}, 1)
with ForeignLoad() as load:  # measured in this process: its own threads are not foreign
    t0 = time.perf_counter()
    E, Q = eng.run(sweeps, 1)
    wall = time.perf_counter() - t0
acc = eng.acceptance()
np.save("{out}", E)
print("RESULT", json.dumps(dict(wall=wall, sweeps=sweeps, T=T.tolist(), foreign_cpus=load.sample.foreign_cpus,
      accept=(acc["accepts"] / acc["attempts"]).tolist())))
"""


def pt_run(threads, n, sweeps, burn, L, step, out):
    code = PT_CODE.format(n=n, sweeps=sweeps, burn=burn, L=L, step=step, out=out,
                          bench_dir=os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-a", action="store_true", help="only part B")
    ap.add_argument("--skip-b", action="store_true", help="only part A")
    ap.add_argument("--leapfrog", type=int, default=5, help="part B: leapfrog steps per trajectory")
    ap.add_argument("--step", type=float, default=0.25, help="part B: step size at T = 1")
    ap.add_argument("--threads", default="1,2", help="part B: thread counts, comma separated (first = reference)")
    args = ap.parse_args(argv)
    counts = [int(t) for t in args.threads.split(",")]
    with levels.Recorder("sphere_moves", sorted({1, *counts})) as rec:
        return run(args, rec)


def run(args: argparse.Namespace, rec: levels.Recorder) -> int:
    import pspin

    print(f"# pspin {getattr(pspin, '__version__', '?')}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f} at start")
    if not args.skip_a:
        n, chains = 128, 16
        sweeps, burn = (500, 100) if args.quick else (2500, 300)
        m = pspin.SphericalPSpin(n, 3, seed=1, ensemble="isotropic")
        print(f"\n## A. move choice: p = 3 isotropic, n = {n}, {chains} chains at one temperature (no swaps), "
              f"1 thread, {sweeps} sweeps after {burn}")
        print(f"{'move':<24}{'T':>5}{'accept':>8}{'tau(sw)':>9}{'sweeps/s':>10}{'ESS/s':>9}{'foreign':>9}")
        hmc = [(4, 0.3), (5, 0.25), (8, 0.2)] if not args.quick else [(5, 0.25)]
        pair_angles = [1.3, 2.0] if not args.quick else [1.3]
        t_move = dense_move_seconds(n, chains)
        for T in (1.0, 0.7):
            rows = []
            for L, step in hmc:
                with ForeignLoad() as load:
                    rows.append((hmc_single_temperature(m, T, chains, sweeps, burn, L, step), load))
            for a in pair_angles:
                with ForeignLoad() as load:
                    rows.append((pairs_single_temperature(m, T, chains, sweeps, burn, a), load))
            for r, load in rows:
                print(f"{r['move']:<24}{T:>5.2f}{r['accept']:>8.3f}{r['tau']:>9.2f}{r['sweeps_per_s']:>10.1f}"
                      f"{r['ess_per_s']:>9.1f}{load.sample.foreign_cpus:>9.2f}")
            best_pair_tau = min(r["tau"] for r, _ in rows if r["move"].startswith("pairs"))
            ideal = chains / (t_move * n / 2) / best_pair_tau
            print(f"{'pairs, BLAS-cost model':<24}{T:>5.2f}{'':>8}{best_pair_tau:>9.2f}{1 / (t_move * n / 2):>10.1f}"
                  f"{ideal:>9.1f}   (cost = the two ({n}x{n})@({n}x{chains}) numpy/BLAS products per move)")
        print(f"dense n^3 tensor the pair moves need: {n ** 3 * 8 / 2 ** 20:.0f} MiB at n = {n}, "
              f"{256 ** 3 * 8 / 2 ** 20:.0f} MiB at n = 256, {1024 ** 3 * 8 / 2 ** 30:.0f} GiB at n = 1024 "
              f"(HMC uses the packed couplings, n^3/6)")
    if not args.skip_b:
        n = 256
        L, step = args.leapfrog, args.step
        counts = [int(t) for t in args.threads.split(",")]
        plan = {t: ((30, 5) if args.quick else ((400, 50) if i == 0 else (120, 20))) for i, t in enumerate(counts)}
        print(f"\n## B. parallel tempering: p = 3 isotropic, n = {n}, 32 temperatures (0.6 .. 2.0) x 2 replicas, "
              f"HMC L = {L}, step {step}")
        res = {}
        for threads in counts:
            out = f"/tmp/pspin_bench_sphere_E_{os.getpid()}_{threads}.npy"
            sweeps, burn = plan[threads]
            res[threads] = r = pt_run(threads, n, sweeps, burn, L, step, out)
            r["E"] = np.load(out)
            os.remove(out)
            print(f"threads {threads}: {r['sweeps'] / r['wall']:.3f} sweeps/s "
                  f"({r['sweeps'] / r['wall'] * 64:.1f} trajectories/s, {r['sweeps']} sweeps), foreign load "
                  f"{r['foreign_cpus']:.2f} CPUs{' (CONTAMINATED)' if contaminated(r['foreign_cpus'], threads) else ''}")
        ref = counts[0]
        for threads in counts[1:]:
            speedup = res[threads]["sweeps"] / res[threads]["wall"] / (res[ref]["sweeps"] / res[ref]["wall"])
            print(f"{threads}-thread speed-up over {ref}: {speedup:.2f}x" + (" (target >= 1.7x)" if threads == 2 else ""))
            if threads == 2 and ref == 1:
                loaded = contaminated(max(res[1]["foreign_cpus"], res[2]["foreign_cpus"]), 2)
                rec.headline.append(levels.headline(
                    "PT n=256 32x2 HMC: 2-thread / 1-thread sweeps/s", speedup, f"{speedup:.2f}×", "≥ 1.7×",
                    "n/a (load)" if loaded else "PASS" if speedup >= 1.7 else "MISS"))
        T = np.array(res[ref]["T"])
        E = res[ref]["E"]
        for target in (1.0, 0.7):
            r = int(np.argmin(np.abs(T - target)))
            tau = tau_int(E[:, r, :])
            sps = res[ref]["sweeps"] / res[ref]["wall"]
            print(f"T = {T[r]:.3f}: HMC acceptance {res[ref]['accept'][r]:.3f}, tau {tau:.2f} sweeps "
                  f"({E.shape[0]} sweeps, 2 replicas: rough), ESS/s ({ref} thread) {2 * sps / tau:.2f} per temperature")
    return 0


if __name__ == "__main__":
    sys.exit(main())
