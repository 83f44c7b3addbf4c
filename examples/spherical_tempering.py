"""Spherical p = 3 spin glass: paramagnetic energy e(T) and dynamical slowing near T_d.

Model: pspin.SphericalPSpin(n, 3) (CC convention, E[H(s)H(t)] ~ n q^3/2). Theory (Crisanti-Sommers
1992; Crisanti-Horner-Sommers 1993; see the project's theory reference §c.1, §c.3, §F):

* paramagnet, n -> infinity: e(T) = -1/(2T) for all T > T_s = 0.586;
* dynamical transition T_d = sqrt(3/8) = 0.6124 (p = 3, plateau q_d = 1/2): relaxation times
  grow sharply as T -> T_d (at finite n the divergence is rounded);
* isotropic ensemble (repeated indices, E[H(s)H(t)] = n q^3/2 exactly): the annealed energy is
  -1/(2T) at any n, and Gaussian integration by parts gives the exact identity
  [<e>] = -(beta/2)(1 - [<q^3>]) at any n and T (q: overlap of two replicas);
* distinct ensemble (i<j<k, Var J = 3/n^2): to leading order in beta,
  e(T) = -beta c_n with c_n = (1/2)(n-1)(n-2)/((n+2)(n+4)) (0.435 at n = 64, not 0.5).

Two finite-n corrections are computed here (my derivation, not from the reference; both small
for T >= 0.8):

* annealed energy of the distinct ensemble beyond leading order in beta: with V(s) = Var_J H(s)
  = (3/n^2) e_3(s o s) = n/2 - 3 P2/(2n) + P3/n^2 (P_k = sum s_i^(2k)), E Z = E_s exp(beta^2 V/2),
  so e_ann = -(beta/n) E_s[V w]/E_s[w], w = exp(beta^2 V/2); E_s by Monte Carlo over the
  uniform sphere (isotropic: V = n/2, e_ann = -beta/2 exactly);
* quenched minus annealed (replica-pair, second cumulant): E ln Z = ln E Z - v/2 + ...,
  v = E Z^2/(E Z)^2 - 1 = E_q exp(beta^2 n q^3/2) - 1 with q the overlap of two uniform points
  (density ~ (1-q^2)^((n-3)/2)); so e = e_ann + v'(beta)/(2n). Exact covariance for the
  isotropic ensemble, approximate for the distinct one. It is an expansion in v; shown where
  v < 0.2 (it fails as T approaches T_d, where E Z^2 is dominated by q near 1).

Control variate (as in sk_tempering.py): to leading order in beta, <e> = -(beta/n) Var_0 H sample by
sample, Var_0 H = E_s H(s)^2 over the uniform sphere, computed exactly from the coupling tensor,
with disorder mean n/2 (isotropic) or n c_n (distinct); subtracting c = -(beta/n)(Var_0 H - E Var_0 H)
leaves the disorder mean unchanged and removes most of the sample-to-sample spread at high T.

Part 1: parallel tempering (geodesic HMC, L = 5, step 0.25 sqrt(T); label swaps), 14 temperatures
0.62 ... 2.0, 2 replicas, several disorder samples per n (fixed seeds). Disorder mean +- standard
error over samples (thermal noise included) against theory, z-scores.
Part 2: plain HMC, no swaps: one ParallelTempering per temperature with temperatures=[T],
replicas=8 (independent chains); tau_int of the energy from the replica-averaged
autocorrelation function (Sokal window c = 5, Madras-Sokal error / sqrt(replicas)), and the
per-replica tau spread. The leapfrog step eps = 0.25 sqrt(T) makes one trajectory a fixed
Langevin-equivalent time (eps^2/(2T) per step), so tau in sweeps is comparable across T.

Run (about 6-8 minutes on two idle cores: two worker processes, OMP_NUM_THREADS=1 each)::

    OMP_NUM_THREADS=1 python examples/spherical_tempering.py | tee examples/results/spherical_tempering.txt
    OMP_NUM_THREADS=1 python examples/spherical_tempering.py --quick
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import time

import numpy as np

T_D = math.sqrt(3.0 / 8.0)  # theory reference §c.3, [lit]
T_S = 0.5860540  # theory reference §c.4, [lit 0.586]
LADDER = np.array([0.62, 0.65, 0.70, 0.75, 0.80, 0.87, 0.94, 1.00, 1.10, 1.20, 1.35, 1.50, 1.75, 2.00])
SLOW_T = (2.0, 1.5, 1.0, 0.8, 0.7, 0.65, 0.62)

# Part 1: (ensemble, n) -> (disorder samples, burn-in, measured sweeps)
PT_FULL = {("isotropic", 64): (8, 500, 3000), ("isotropic", 128): (6, 500, 2500),
           ("isotropic", 256): (3, 300, 1000), ("distinct", 64): (8, 500, 3000)}
PT_QUICK = {("isotropic", 64): (4, 200, 800), ("isotropic", 128): (3, 200, 600),
            ("isotropic", 256): (2, 100, 300), ("distinct", 64): (4, 200, 800)}
# Part 2: n -> (disorder samples, replicas, temperatures, {T: (burn-in, measured sweeps)})
_LONG = {2.0: (500, 3000), 1.5: (500, 3000), 1.0: (500, 3000), 0.8: (1000, 5000),
         0.7: (1000, 5000), 0.65: (1500, 8000), 0.62: (1500, 8000)}
SLOW_FULL = {64: (2, 8, SLOW_T, _LONG), 128: (2, 8, SLOW_T, _LONG),
             256: (1, 4, (2.0, 1.0, 0.8, 0.7, 0.65, 0.62), {T: (500, 2500) for T in SLOW_T})}
SLOW_QUICK = {64: (1, 8, SLOW_T, {T: (300, 1500) for T in SLOW_T}),
              128: (1, 8, SLOW_T, {T: (300, 1500) for T in SLOW_T})}


# ----------------------------------------------------------------------------- workers
def pt_job(ensemble: str, n: int, index: int, burn: int, meas: int) -> dict:
    import pspin

    base = 7000 * n + index + (0 if ensemble == "isotropic" else 500)
    model = pspin.SphericalPSpin(n, 3, seed=base, ensemble=ensemble)
    pt = pspin.ParallelTempering(model, LADDER, replicas=2, seed=base + 100000)
    t0 = time.perf_counter()
    with pspin.threads(1):
        res = pt.run(burn + meas, burn_in=burn)
    beta = 1.0 / res.temperatures
    q3 = res.overlap_moment(3)
    acc = pt._engine.acceptance()  # no public accessor for the HMC acceptance (whole run)
    return {"v0": uniform_variance(model),"kind": "pt", "ensemble": ensemble, "n": n, "index": index,
            "e": res.mean_energy_per_spin, "e_err": res.energy_error, "q3": q3,
            "rhs": -0.5 * beta * (1.0 - q3), "tau_pt": res.autocorrelation_time,
            "swap": res.swap_acceptance, "round_trips": res.round_trips,
            "hmc_acc": np.asarray(acc["accept_prob_sum"]) / np.asarray(acc["attempts"]),
            "equil": res.equilibration()["equilibrated"], "seconds": time.perf_counter() - t0}


def slow_job(n: int, index: int, T: float, replicas: int, burn: int, meas: int) -> dict:
    import pspin

    seed = 9000 * n + index
    model = pspin.SphericalPSpin(n, 3, seed=seed, ensemble="isotropic")
    pt = pspin.ParallelTempering(model, [T], replicas=replicas, seed=seed + 100000 + int(round(1000 * T)))
    t0 = time.perf_counter()
    with pspin.threads(1):
        pt.run(burn + 1, burn_in=burn)
        a0 = pt._engine.acceptance()
        a0 = {k: np.asarray(v, dtype=float).copy() for k, v in a0.items()}
        res = pt.run(burn + meas, burn_in=burn)
    a1 = pt._engine.acceptance()
    acc = (np.asarray(a1["accept_prob_sum"]) - a0["accept_prob_sum"]) / (np.asarray(a1["attempts"]) - a0["attempts"])
    e = res.energies[0] / n  # (K, samples)
    return {"kind": "slow", "n": n, "index": index, "T": T, "series": e, "acc": float(acc[0]),
            "seconds": time.perf_counter() - t0}


def _run(job: tuple) -> dict:
    name, args = job
    return pt_job(*args) if name == "pt" else slow_job(*args)


# ----------------------------------------------------------------------------- theory
def uniform_variance(model) -> float:
    """Var_0 H = E_s H(s)^2 over s uniform on the sphere, exactly, for this disorder sample.

    H = -(1/6) sum_ijk T_ijk s_i s_j s_k (T = model.tensors()[3], symmetric); with the
    sphere moments E[s_i..s_n] = n^3/(n(n+2)(n+4)) x (15 pairings):
    Var_0 H = n^2/((n+2)(n+4)) (6 |T|^2 + 9 |t|^2)/36, t_k = sum_i T_iik.
    To leading order in beta, <e> = -(beta/n) Var_0 H sample by sample, and E_J Var_0 H = n/2
    (isotropic) or n c_n (distinct) exactly: -(beta/n)(Var_0 H - E Var_0 H) is a control variate.
    """
    n = model.n
    T = model.tensors()[3]
    t = np.einsum("iik->k", T)
    return float(n * n / ((n + 2) * (n + 4)) * (6.0 * np.sum(T * T) + 9.0 * np.sum(t * t)) / 36.0)


def c_n(n: int) -> float:
    """§F: E[H(s)^2]/n = (1/2) n(n-1)(n-2)/(n(n+2)(n+4)) for the distinct ensemble, p = 3."""
    return 0.5 * (n - 1) * (n - 2) / ((n + 2) * (n + 4))


def annealed_distinct(n: int, betas: np.ndarray, draws: int = 400_000, seed: int = 1) -> tuple[np.ndarray, float]:
    """e_ann(beta) of the distinct ensemble by Monte Carlo over s uniform on the sphere; also E_s[V]/n."""
    rng = np.random.default_rng(seed)
    V = np.empty(draws)
    for start in range(0, draws, 20000):
        x = rng.standard_normal((min(20000, draws - start), n))
        x *= np.sqrt(n) / np.linalg.norm(x, axis=1, keepdims=True)
        y = x * x
        p2, p3 = (y**2).sum(1), (y**3).sum(1)
        V[start:start + len(x)] = n / 2.0 - 1.5 * p2 / n + p3 / n**2
    out = []
    for b in betas:
        a = 0.5 * b * b * (V - V.mean())
        w = np.exp(a - a.max())
        out.append(-(b / n) * np.sum(V * w) / np.sum(w))
    return np.array(out), float(V.mean() / n)


def pair_correction(n: int, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """v(beta) = E_q exp(beta^2 n q^3/2) - 1 and the energy shift v'(beta)/(2n), by quadrature."""
    q = np.linspace(-1.0, 1.0, 400_001)[1:-1]
    logd = 0.5 * (n - 3) * np.log1p(-q * q)
    dens = np.exp(logd - logd.max())
    dens /= np.trapezoid(dens, q)
    v, shift = [], []
    for b in betas:
        g = np.exp(0.5 * b * b * n * q**3)
        v.append(np.trapezoid(dens * g, q) - 1.0)
        shift.append(np.trapezoid(dens * b * n * q**3 * g, q) / (2.0 * n))
    return np.array(v), np.array(shift)


# ----------------------------------------------------------------------------- analysis
def mean_err(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def disorder_mean(x: np.ndarray, thermal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over samples; error = max(SEM over samples, thermal error of the mean): with 2-8
    samples the SEM alone is sometimes accidentally tiny."""
    m, e = mean_err(x)
    return m, np.maximum(e, thermal)


def pooled_tau(series: np.ndarray, c: float = 5.0) -> tuple[float, float, int, bool]:
    """tau_int from the autocorrelation averaged over independent chains (K, N); Sokal window."""
    from pspin.analysis import autocorrelation_function

    K, N = series.shape
    rho = autocorrelation_function(series, axis=-1)
    var = series.var(axis=1)
    rho = np.sum(rho * var[:, None], axis=0) / var.sum()  # pooled autocovariance / pooled variance
    taus = np.cumsum(rho) - 0.5
    w = np.arange(N)
    ok = (w >= 1) & (w <= N // 2) & (w >= c * taus)
    W = int(np.argmax(ok)) if ok.any() else N // 2
    tau = float(taus[W])
    err = tau * math.sqrt((4 * W + 2) / (N * K))
    return tau, err, W, bool(ok.any() and N * K >= 50 * tau)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2, help="processes, one pspin thread each")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"
    import pspin
    from pspin.analysis import integrated_autocorrelation_time

    pt_plan = PT_QUICK if args.quick else PT_FULL
    slow_plan = SLOW_QUICK if args.quick else SLOW_FULL
    jobs = []
    for (ens, n), (S, burn, meas) in pt_plan.items():
        jobs += [(("pt", (ens, n, i, burn, meas)), n**3 * len(LADDER) * 2 * (burn + meas)) for i in range(S)]
    for n, (S, K, temps, sweeps) in slow_plan.items():
        for i in range(S):
            jobs += [(("slow", (n, i, T, K, *sweeps[T])), n**3 * K * sum(sweeps[T])) for T in temps]
    jobs.sort(key=lambda j: -j[1])  # longest first: balances the workers
    t_start = time.perf_counter()
    print(f"# spherical p=3 tempering validation (pspin {pspin.__version__}); {'quick' if args.quick else 'full'} run; "
          f"{args.workers} worker processes x OMP_NUM_THREADS=1")
    print(f"# command: OMP_NUM_THREADS=1 python examples/spherical_tempering.py{' --quick' if args.quick else ''}")
    print(f"# PT ladder ({len(LADDER)}): {' '.join(f'{t:g}' for t in LADDER)}; 2 replicas; HMC L=5, step 0.25 sqrt(T); "
          "one sample per sweep after burn-in")
    print("# seeds: PT model 7000 n + i (+500 distinct), PT seed model seed + 100000; plain-HMC model 9000 n + i")
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers) as pool:
        out = list(pool.imap_unordered(_run, [j[0] for j in jobs]))
    cpu = sum(o["seconds"] for o in out)
    print(f"# wall {time.perf_counter() - t_start:.0f} s, sampling CPU {cpu:.0f} s")

    # ---------------------------------------------------------------- part 1
    print("\n## 1. Energy per spin vs theory (parallel tempering); disorder mean +- standard error over samples")
    print("theory: -1/(2T) (§c.1); errors: max(SEM over samples, thermal); c: control variate (below); 'corr' adds the replica-pair finite-n shift v'(beta)/(2n) (shown where v < 0.2);")
    print("identity (isotropic, exact at any n): [<e>] = -(beta/2)(1 - [<q^3>]); z = (sim - theory)/err")
    betas = 1.0 / LADDER
    summary = []
    for (ens, n) in pt_plan:
        rows = sorted((o for o in out if o["kind"] == "pt" and o["ensemble"] == ens and o["n"] == n), key=lambda o: o["index"])
        S = len(rows)
        e = np.array([o["e"] for o in rows])
        therr = np.sqrt(np.mean(np.array([o["e_err"] for o in rows]) ** 2, axis=0) / S)
        v, shift = pair_correction(n, betas)
        good = v < 0.2
        print(f"\n### {ens}, n = {n}: {S} disorder samples x ({rows[0]['e'].size} T); "
              f"{pt_plan[(ens, n)][1]} + {pt_plan[(ens, n)][2]} sweeps")
        v0 = np.array([o["v0"] for o in rows])
        ev0 = n / 2.0 if ens == "isotropic" else n * c_n(n)
        cv = -(betas[None, :] / n) * (v0[:, None] - ev0)  # control variate, exact disorder mean 0
        mc, ec = disorder_mean(e - cv, therr)
        me, ee = disorder_mean(e, therr)
        print(f"control variate c = -(beta/n)(Var_0 H - E Var_0 H): per-sample Var_0 H/n = "
              f"{' '.join(f'{x / n:.4f}' for x in v0)} (disorder mean {ev0 / n:.5f})")
        if ens == "isotropic":
            rhs = np.array([o["rhs"] for o in rows])
            q3 = np.array([o["q3"] for o in rows])
            mq, eq = mean_err(q3)
            md, ed = disorder_mean(e - rhs - cv, therr)
            th = -0.5 * betas
            thc = th + shift
            print("| T | [<e>] | z vs -1/(2T) | [<e> - c] | -1/(2T) | z | corr theory | z_corr | [<q^3>] | "
                  "[lhs - rhs - c] (identity) | z_id |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            for r, T in enumerate(LADDER):
                z0 = (me[r] - th[r]) / ee[r]
                z = (mc[r] - th[r]) / ec[r]
                zc = (mc[r] - thc[r]) / ec[r] if good[r] else np.nan
                zi = md[r] / ed[r]
                cs = f"{thc[r]:.5f}" if good[r] else "-"
                print(f"| {T:.2f} | {me[r]:.5f} +- {ee[r]:.5f} | {z0:+.2f} | {mc[r]:.5f} +- {ec[r]:.5f} | {th[r]:.5f} | "
                      f"{z:+.2f} | {cs} | {zc:+.2f} | {mq[r]:.5f} +- {eq[r]:.5f} | {md[r]:+.5f} +- {ed[r]:.5f} | {zi:+.2f} |")
            hi = LADDER >= 0.8
            summary.append((ens, n, np.max(np.abs((mc - th) / ec)[hi]), np.max(np.abs(((mc - thc) / ec)[hi & good])),
                            np.max(np.abs(md / ed)), np.max(np.abs(md / ed)[hi])))
        else:
            ann, ev = annealed_distinct(n, betas)
            lead = -betas * c_n(n)
            thc = ann + shift
            print(f"c_n = {c_n(n):.5f} (§F); Monte Carlo E_s[V(s)]/n = {ev:.5f} (check)")
            print("| T | [<e>] | [<e> - c] | -1/(2T) | z | -beta c_n (§F) | z | annealed e_ann | z | "
                  "e_ann + pair corr | z |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            for r, T in enumerate(LADDER):
                z0 = (mc[r] + 0.5 * betas[r]) / ec[r]
                z1 = (mc[r] - lead[r]) / ec[r]
                z2 = (mc[r] - ann[r]) / ec[r]
                z3 = (mc[r] - thc[r]) / ec[r] if good[r] else np.nan
                cs = f"{thc[r]:.5f}" if good[r] else "-"
                print(f"| {T:.2f} | {me[r]:.5f} +- {ee[r]:.5f} | {mc[r]:.5f} +- {ec[r]:.5f} | {-0.5 * betas[r]:.5f} | "
                      f"{z0:+.1f} | {lead[r]:.5f} | {z1:+.2f} | {ann[r]:.5f} | {z2:+.2f} | {cs} | {z3:+.2f} |")
            hi = LADDER >= 0.8
            summary.append((ens, n, np.max(np.abs(((mc - lead) / ec)[hi])), np.max(np.abs(((mc - thc) / ec)[hi & good])),
                            np.nan, np.nan))
        swap = np.mean([o["swap"] for o in rows], axis=0)
        acc = np.mean([o["hmc_acc"] for o in rows], axis=0)
        tau = np.mean([o["tau_pt"] for o in rows], axis=0)
        eqf = np.mean([o["equil"] for o in rows], axis=0)
        rt = [o["round_trips"] for o in rows]
        print(f"swap acceptance (mean over samples, pairs low->high): {' '.join(f'{a:.2f}' for a in swap)}")
        print(f"HMC acceptance: {' '.join(f'{a:.2f}' for a in acc)}")
        print(f"tau_int of the energy WITH swaps (sweeps, mean over samples): {' '.join(f'{t:.1f}' for t in tau)}")
        print(f"log-binning equilibrated fraction: {' '.join(f'{f:.2f}' for f in eqf)}; round trips per sample: {rt}")
    print("\nsummary for T >= 0.8 (max |z|): ensemble, n, vs leading theory, vs corrected theory, identity all T, identity T>=0.8")
    for s in summary:
        print(f"  {s[0]:9s} n={s[1]:3d}: {s[2]:.2f}  {s[3]:.2f}  {s[4]:.2f}  {s[5]:.2f}")

    # ---------------------------------------------------------------- part 2
    print(f"\n## 2. Dynamical slowing: plain geodesic HMC, no swaps (temperatures=[T]); T_d = sqrt(3/8) = {T_D:.4f} (§c.3)")
    print("tau_int of the energy in sweeps (1 sweep = one L=5 trajectory): pooled over replicas (Sokal c=5, "
          "Madras-Sokal err/sqrt(K)); per-replica tau mean +- sem; <e> vs -1/(2T); acceptance after burn-in")
    for n, (S, K, temps, sweeps) in slow_plan.items():
        print(f"\n### n = {n}, isotropic, {S} disorder sample(s) x {K} replicas")
        print("| T | sample | sweeps | tau_int (pooled) | window | converged | per-replica tau | <e> | -1/(2T) | HMC acc |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for T in temps:
            for i in range(S):
                o = next(o for o in out if o["kind"] == "slow" and o["n"] == n and o["index"] == i and o["T"] == T)
                x = o["series"]
                tau, err, W, conv = pooled_tau(x)
                per = np.asarray(integrated_autocorrelation_time(x, axis=-1).tau)
                pm, pe = float(per.mean()), float(per.std(ddof=1) / np.sqrt(per.size))
                em = x.mean()
                eerr = x.mean(axis=1).std(ddof=1) / np.sqrt(x.shape[0])
                print(f"| {T:.2f} | {i} | {sweeps[T][0]}+{sweeps[T][1]} | {tau:.2f} +- {err:.2f} | {W} | {conv} | "
                      f"{pm:.2f} +- {pe:.2f} (max {per.max():.1f}) | {em:.4f} +- {eerr:.4f} | {-0.5 / T:.4f} | {o['acc']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
