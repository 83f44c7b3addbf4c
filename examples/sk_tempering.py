"""Parallel tempering on the Sherrington-Kirkpatrick model: thermodynamic validation.

SK: H = -sum_{i<j} J_ij s_i s_j with J_ij ~ N(0, 1/n) (pspin.IsingPSpin(n, 2)), T_c = 1,
ground-state energy per spin e_inf = -0.7632 (Parisi; Crisanti & Rizzo, PRE 65 (2002) 046137).
For n = 32, 64, 128, 256 and several disorder samples each (fixed seeds), a geometric ladder
T = 0.2 ... 1.5 with two replicas per temperature, this script checks

(a) the Gaussian integration-by-parts identity U/n = -(beta/2)(1 - [<q^2>]), exact after the
    disorder average at any n and T: both sides disorder-averaged, with errors, and their
    difference (per-sample differences are strongly correlated, so that error is smaller);
(b) the ground-state energy: the lowest energy seen at T_min by either replica, disorder-averaged,
    fitted to e_N = e_inf + A n^(-2/3) (Boettcher 2005; A fitted, not assumed), e_inf against -0.7632;
(c) Binder ratios g(T) = (3 - [<q^4>]/[<q^2>]^2)/2 for the sizes, and where consecutive sizes
    cross (near T_c = 1 expected, with sizeable corrections for SK);
(d) equilibration: swap acceptance per neighbour pair, replica round trips, the log-binning
    test at T_min (last three windows [2^k, 2^(k+1)) of samples agree), tau_int at T_min,
    and whether both replicas at T_min found the same lowest energy (ground state reached).

Run (about 3-4 minutes on one idle core, 1 thread; --quick under a minute)::

    python examples/sk_tempering.py            | tee examples/results/sk_tempering.txt
    python examples/sk_tempering.py --quick

Errors are one standard error over disorder samples (thermal noise is included in each
sample's value); Binder ratio errors by jackknife over disorder samples.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pspin

E_INF_PARISI = -0.7632  # (-0.763166 high-precision, Crisanti-Rizzo / Oppermann et al.)
T_MIN, T_MAX, N_TEMPS = 0.2, 1.5, 24

# n -> (disorder samples, burn-in sweeps, measured sweeps)
FULL = {32: (32, 1000, 5000), 64: (24, 2000, 8000), 128: (16, 3000, 12000), 256: (8, 6000, 18000)}
QUICK = {32: (12, 500, 2000), 64: (8, 1000, 3000), 128: (6, 1500, 4500), 256: (4, 2000, 6000)}


def run_sample(n: int, index: int, temps: np.ndarray, burn_in: int, measure: int, threads: int) -> dict:
    model = pspin.IsingPSpin(n, 2, seed=1000 * n + index)
    pt = pspin.ParallelTempering(model, temps, replicas=2, seed=1000 * n + index + 500)
    with pspin.threads(threads):
        res = pt.run(burn_in + measure, burn_in=burn_in, sample_every=1)
    gi = res.gaussian_identity()
    # Control variate with exact zero disorder mean: c = -(beta/n) (sum_{i<j} J_ij^2 - (n-1)/2).
    # At high T, U ~ -beta sum J^2 sample by sample, so lhs - rhs - c has a much smaller
    # sample-to-sample spread than lhs - rhs while [lhs - rhs - c] = [lhs - rhs] = 0.
    J = model.tensors()[2]
    sum_j2 = float(np.sum(np.triu(J, 1) ** 2))
    cv = -(1.0 / temps) / n * (sum_j2 - (n - 1) / 2.0)
    q = res.overlaps[:, 0, :]  # (R, samples), one pair for 2 replicas
    e_low = res.energies[0] / n  # (K, samples) at T_min
    mins = e_low.min(axis=1)
    eq = res.equilibration()
    return {
        "lhs": gi["lhs"], "rhs": gi["rhs"], "cv": cv,
        "q2": (q**2).mean(axis=1), "q4": (q**4).mean(axis=1),
        "e_min": float(mins.min()), "same_min": bool(abs(mins[0] - mins[1]) < 1e-9),
        "e_tmin": float(res.mean_energy_per_spin[0]),
        "swap": res.swap_acceptance, "round_trips": res.round_trips,
        "equilibrated_tmin": bool(eq["equilibrated"][0]),
        "logbin_tmin": (eq["report"].mean[0], eq["report"].error[0]),
        "tau_tmin": float(res.autocorrelation_time[0]),
        "binder_sample": res.binder,
    }


def mean_err(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    m = x.mean(axis=axis)
    return m, x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def binder_jackknife(q2: np.ndarray, q4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """g = (3 - [q4]/[q2]^2)/2 from disorder-averaged moments, jackknife over samples. q2, q4: (S, R)."""
    S = q2.shape[0]

    def g(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 0.5 * (3.0 - b.mean(axis=0) / a.mean(axis=0) ** 2)

    full = g(q2, q4)
    leave = np.array([g(np.delete(q2, i, 0), np.delete(q4, i, 0)) for i in range(S)])
    err = np.sqrt((S - 1) / S * ((leave - leave.mean(axis=0)) ** 2).sum(axis=0))
    return full, err


def crossing(temps: np.ndarray, g1: np.ndarray, g2: np.ndarray) -> list[float]:
    """Temperatures where g1 - g2 changes sign (linear interpolation)."""
    d = g1 - g2
    out = []
    for r in range(len(temps) - 1):
        if d[r] == 0:
            out.append(float(temps[r]))
        elif d[r] * d[r + 1] < 0:
            out.append(float(temps[r] - d[r] * (temps[r + 1] - temps[r]) / (d[r + 1] - d[r])))
    return out


def weighted_fit(n: np.ndarray, e: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """e = e_inf + A n^(-2/3), weighted least squares: (params, errors, chi2/dof)."""
    X = np.column_stack([np.ones_like(n, dtype=float), n ** (-2.0 / 3.0)])
    w = 1.0 / err**2
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    params = cov @ (X.T @ (w * e))
    chi2 = float(np.sum(w * (e - X @ params) ** 2))
    dof = max(len(n) - 2, 1)
    return params, np.sqrt(np.diag(cov)), chi2 / dof


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="pspin threads (OpenMP over the 48 slots; 1 is faster on a loaded box)")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    sizes = args.sizes or sorted(plan)
    temps = np.geomspace(T_MIN, T_MAX, N_TEMPS)
    t_start = time.perf_counter()
    print(f"# SK parallel tempering validation (pspin {pspin.__version__}); {'quick' if args.quick else 'full'} run, "
          f"{args.threads} threads")
    print(f"# ladder: {N_TEMPS} temperatures geometric {T_MIN} ... {T_MAX}; 2 replicas; Metropolis sweeps; "
          "one sample per sweep after burn-in")
    print(f"# model seeds 1000 n + i, PT seeds 1000 n + i + 500; command: python examples/sk_tempering.py"
          f"{' --quick' if args.quick else ''}")
    data: dict[int, list[dict]] = {}
    for n in sizes:
        samples, burn, meas = plan[n]
        t0 = time.perf_counter()
        data[n] = [run_sample(n, i, temps, burn, meas, args.threads) for i in range(samples)]
        print(f"# n={n}: {samples} samples x ({burn} + {meas}) sweeps in {time.perf_counter() - t0:.1f} s", flush=True)

    # (a) Gaussian identity --------------------------------------------------------------
    print("\n## (a) Gaussian identity U/n = -(beta/2)(1 - [<q^2>]), disorder-averaged (+- standard error)")
    for n in sizes:
        lhs = np.array([d["lhs"] for d in data[n]])
        rhs = np.array([d["rhs"] for d in data[n]])
        q2 = np.array([d["q2"] for d in data[n]])
        ml, el = mean_err(lhs)
        mr, er = mean_err(rhs)
        cv = np.array([d["cv"] for d in data[n]])
        md, ed = mean_err(lhs - rhs)
        mc, ec = mean_err(lhs - rhs - cv)
        z = md / np.where(ed > 0, ed, np.inf)
        zc = mc / np.where(ec > 0, ec, np.inf)
        print(f"\n### n = {n} ({lhs.shape[0]} samples); max |diff|/err = {np.max(np.abs(z)):.2f}, "
              f"with the control variate {np.max(np.abs(zc)):.2f}; chi2/dof over T (correlated) "
              f"{np.mean(z**2):.2f} / {np.mean(zc**2):.2f}")
        print("| T | U/n (lhs) | -(beta/2)(1-[<q^2>]) (rhs) | lhs - rhs | z | lhs - rhs - c (control variate) | z | [<q^2>] |")
        print("|---|---|---|---|---|---|---|---|")
        for r, T in enumerate(temps):
            print(f"| {T:.3f} | {ml[r]:.5f} +- {el[r]:.5f} | {mr[r]:.5f} +- {er[r]:.5f} | "
                  f"{md[r]:+.5f} +- {ed[r]:.5f} | {z[r]:+.2f} | {mc[r]:+.5f} +- {ec[r]:.5f} | {zc[r]:+.2f} | "
                  f"{q2[:, r].mean():.4f} |")

    # (b) ground-state energy --------------------------------------------------------------
    print("\n## (b) lowest energy at T_min (min over both replicas and all measured sweeps), disorder-averaged")
    print("| n | samples | [e_min] | std over samples | both replicas found the same e_min | [<e>] at T=0.2 |")
    print("|---|---|---|---|---|---|")
    ns, es, errs = [], [], []
    for n in sizes:
        emin = np.array([d["e_min"] for d in data[n]])
        same = np.mean([d["same_min"] for d in data[n]])
        etm = np.array([d["e_tmin"] for d in data[n]])
        m, e = mean_err(emin)
        mt, et = mean_err(etm)
        ns.append(n)
        es.append(m)
        errs.append(e)
        print(f"| {n} | {emin.size} | {m:.5f} +- {e:.5f} | {emin.std(ddof=1):.4f} | {same:.0%} | {mt:.5f} +- {et:.5f} |")
    if len(ns) >= 3:
        params, perr, chi2 = weighted_fit(np.array(ns, float), np.array(es), np.array(errs))
        dev = (params[0] - E_INF_PARISI) / perr[0]
        print(f"\nfit e_N = e_inf + A n^(-2/3) (weighted, n = {ns}): e_inf = {params[0]:.4f} +- {perr[0]:.4f}, "
              f"A = {params[1]:.3f} +- {perr[1]:.3f}, chi2/dof = {chi2:.2f}")
        print(f"e_inf - (-0.7632) = {params[0] - E_INF_PARISI:+.4f} ({dev:+.1f} sigma)")

    # (c) Binder ratios -----------------------------------------------------------------------
    print("\n## (c) Binder ratio g = (3 - [<q^4>]/[<q^2>]^2)/2 (jackknife over samples)")
    gs = {}
    header = "| T | " + " | ".join(f"n={n}" for n in sizes) + " |"
    print(header)
    print("|---|" + "---|" * len(sizes))
    for n in sizes:
        q2 = np.array([d["q2"] for d in data[n]])
        q4 = np.array([d["q4"] for d in data[n]])
        gs[n] = binder_jackknife(q2, q4)
    for r, T in enumerate(temps):
        print(f"| {T:.3f} | " + " | ".join(f"{gs[n][0][r]:.4f} +- {gs[n][1][r]:.4f}" for n in sizes) + " |")
    print("\ncrossings of consecutive sizes (T where g_n1 - g_n2 changes sign; T_c = 1):")
    for a, b in zip(sizes[:-1], sizes[1:]):
        xs = crossing(temps, gs[a][0], gs[b][0])
        near = [x for x in xs if 0.6 < x < 1.4]
        print(f"  n={a} / n={b}: {', '.join(f'{x:.3f}' for x in xs) or 'none'}"
              f"{'' if near or not xs else ' (none in 0.6..1.4)'}")

    # (d) equilibration ---------------------------------------------------------------------------
    print("\n## (d) equilibration")
    print("| n | swap acceptance min / median (mean over samples) | round trips per sample min / median | "
          "log-binning equilibrated at T_min | tau_int(E) at T_min (sweeps) median / max | last 3 log-bins of e(T_min), sample 0 |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        swap = np.array([d["swap"] for d in data[n]]).mean(axis=0)
        rt = np.array([d["round_trips"] for d in data[n]])
        eq = np.mean([d["equilibrated_tmin"] for d in data[n]])
        tau = np.array([d["tau_tmin"] for d in data[n]])
        mean, err = data[n][0]["logbin_tmin"]
        bins = ", ".join(f"{m:.4f}+-{e:.4f}" for m, e in zip(mean[-3:], err[-3:]))
        print(f"| {n} | {swap.min():.3f} / {np.median(swap):.3f} | {rt.min()} / {np.median(rt):.0f} | {eq:.0%} | "
              f"{np.median(tau):.1f} / {tau.max():.1f} | {bins} |")
    for n in sizes:
        swap = np.array([d["swap"] for d in data[n]]).mean(axis=0)
        print(f"swap acceptance per pair, n={n}: " + " ".join(f"{a:.2f}" for a in swap))
    print(f"\n# total wall time {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
