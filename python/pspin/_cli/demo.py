"""``pspin demo``: a self-check against theory that writes a short report with figures.

Four measurements, each beside its theory value: kernel timings; minima of a spherical
p = 3 sample against the band [e_gs, e_th]; the Hessian spectrum at the lowest minimum
against the semicircle at its energy; SK one-flip-stable states by exact enumeration
against their exact expectation; tempering energies against the paramagnetic energy
-1/(2T) above T_d. The full demo takes seconds on 2 cores; ``--quick`` is the smaller
version the test suite runs.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import _jobs


@dataclass(frozen=True)
class Sizes:
    kernel_n: int
    batch: int
    landscape_n: int
    starts: int
    sk_n: int
    pt_n: int
    temperatures: tuple[float, ...]
    sweeps: int


FULL = Sizes(400, 32, 200, 64, 16, 64, (0.8, 1.0, 1.25, 1.6, 2.0), 3000)
QUICK = Sizes(64, 4, 40, 16, 10, 24, (1.0, 1.5, 2.0), 400)


@dataclass
class Report:
    """Lines of the markdown report, filled as the demo goes."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo", parents=parents, help="self-check against theory; writes a report with figures",
        description="Build models, time the kernels, descend to minima, enumerate SK minima and run "
                    "parallel tempering, each beside its theory value; writes report.md and PNG "
                    "figures into --out.")
    parser.add_argument("--out", default="pspin-demo", metavar="DIR", help="report folder (default ./pspin-demo)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a few seconds (used by the tests)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every model and run (default 1)")
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads")
    parser.add_argument("--n", type=int, default=None, help="spins of the kernel timing (default 400)")
    parser.add_argument("--batch", type=int, default=None, help="batch of the kernel timing (default 32)")
    parser.set_defaults(func=run)


def _median_time(fn: Callable[[], object], repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _gradient_call(model: Any, states: np.ndarray) -> Callable[[], object]:
    return lambda: model.gradient(states)


def _kernels(sizes: Sizes, seed: int, report: Report) -> None:
    import pspin

    n, b = sizes.kernel_n, sizes.batch
    print(f"\nSpherical p=3, n={n}, seed={seed}:")
    for dtype in ("float64", "float32"):
        start = time.perf_counter()
        model = pspin.SphericalPSpin(n, 3, seed=seed, dtype=dtype)
        built = time.perf_counter() - start
        states = model.random_state(b, seed=seed)
        energies = model.energy(states) / n
        t1 = _median_time(_gradient_call(model, states[:1]))
        tb = _median_time(_gradient_call(model, states))
        print(f"  {dtype}: {model.nbytes / 2**20:7.1f} MiB of couplings built in {built:.2f} s; "
              f"random-state energies per spin {energies.mean():+.4f} +- {energies.std():.4f} "
              f"(expected 0 +- {np.sqrt(0.5 / n):.4f})")
        print(f"           gradient: {t1 * 1e3:.2f} ms for b=1, {tb / b * 1e3:.3f} ms per configuration "
              f"for b={b} ({pspin.get_num_threads()} threads)")
        report.rows.append((f"gradient p=3 n={n} {dtype}, per configuration at b={b}", f"{tb / b * 1e3:.3f} ms",
                            f"b=1: {t1 * 1e3:.2f} ms"))


def _save(result: Any, path: Path, report: Report) -> None:
    try:
        result.save(path)
    except (AttributeError, TypeError, ImportError) as exc:
        report.notes.append(f"{path.name} not written: {exc}")
        return
    report.files.append(path.name)


def _landscape(sizes: Sizes, seed: int, out: Path, plt: Any, report: Report) -> None:
    import pspin
    from pspin import theory

    n, k = sizes.landscape_n, sizes.starts
    e_th, e_gs = theory.threshold_energy(3), theory.ground_state_energy(3)
    print(f"\nLandscape, spherical p=3, n={n}: {k} L-BFGS descents from random starts")
    model = pspin.SphericalPSpin(n, 3, seed=seed)
    start = time.perf_counter()
    minima = pspin.minimize(model, k, seed=seed)
    took = time.perf_counter() - start
    ok = np.asarray(minima.converged, dtype=bool)
    e = np.asarray(minima.energies, dtype=np.float64)[ok] / n
    mean, err = e.mean(), e.std(ddof=1) / np.sqrt(e.size)
    lowest = int(np.flatnonzero(ok)[np.argmin(e)])
    spectrum = model.hessian_spectrum(minima.states[lowest])
    e_low = float(e.min())
    grid = np.linspace(spectrum.min() - 2.0, spectrum.max() + 2.0, 4001)
    support = grid[np.asarray(theory.hessian_density(grid, e_low, 3)) > 0]
    print(f"  {int(ok.sum())}/{k} converged in {took:.1f} s; minima energies {mean:.4f} +- {err:.4f} "
          f"(lowest {e_low:.4f}); theory: threshold {e_th:.4f}, ground state {e_gs:.4f}")
    print(f"  Hessian at the lowest minimum: eigenvalues in [{spectrum[0]:.3f}, {spectrum[-1]:.3f}]; "
          f"semicircle at that energy [{support[0]:.3f}, {support[-1]:.3f}] (its edge reaches 0 at e_th)")
    report.rows += [
        (f"minima energy per spin, n={n}, {int(ok.sum())} descents", f"{mean:.4f} ± {err:.4f}",
         f"band [e_gs, e_th] = [{e_gs:.4f}, {e_th:.4f}] (n → ∞; finite n sits above by O(n^-2/3))"),
        ("Hessian eigenvalues at the lowest minimum", f"[{spectrum[0]:.3f}, {spectrum[-1]:.3f}]",
         f"semicircle at e = {e_low:.4f}: [{support[0]:.3f}, {support[-1]:.3f}]"),
    ]
    _save(minima, out / "minima.h5", report)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(e, bins=max(5, int(np.sqrt(e.size)) + 2), color="C0", alpha=0.8, label=f"minima found, n = {n}")
    ax.axvspan(e_gs, e_th, color="C2", alpha=0.2, label="[e_gs, e_th] (n → ∞)")
    ax.axvline(e_th, color="C2", ls="--")
    ax.axvline(e_gs, color="C2", ls=":")
    ax.set_xlabel("energy per spin e")
    ax.set_ylabel("minima")
    ax.legend(fontsize=8)
    _figure(fig, out / "minima_energies.png", "Minima energies against the band [e_gs, e_th]", report, plt)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(spectrum, bins=max(10, n // 8), density=True, color="C0", alpha=0.7, label="Hessian spectrum")
    lam = np.linspace(min(0.0, spectrum.min()) - 0.5, spectrum.max() + 0.5, 400)
    ax.plot(lam, theory.hessian_density(lam, e_low, 3), "C3-", label=f"semicircle at e = {e_low:.3f}")
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel("eigenvalue of the Riemannian Hessian")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    _figure(fig, out / "hessian_spectrum.png", "Hessian spectrum at the lowest minimum against the semicircle",
            report, plt)

    sk = pspin.IsingPSpin(sizes.sk_n, 2, seed=seed)
    found = pspin.enumerate_local_minima(sk)
    expected = theory.expected_one_flip_stable(sizes.sk_n)
    print(f"  SK n={sizes.sk_n}: {found.count} one-flip-stable states by exact enumeration "
          f"(disorder average {expected:.2f})")
    report.rows.append((f"SK n={sizes.sk_n}: one-flip-stable states of one sample (exact enumeration)",
                        f"{found.count}", f"disorder average {expected:.2f}"))


def _tempering(sizes: Sizes, seed: int, out: Path, plt: Any, report: Report) -> None:
    import pspin
    from pspin import theory

    temps = np.array(sizes.temperatures)
    n = sizes.pt_n
    model = pspin.SphericalPSpin(n, 3, seed=seed, ensemble="isotropic")
    print(f"\nParallel tempering, spherical p=3, n={n} (isotropic), {temps.size} temperatures x 2 replicas, "
          f"{sizes.sweeps} sweeps:")
    result = pspin.ParallelTempering(model, temps, seed=seed).run(sizes.sweeps, burn_in=sizes.sweeps // 10)
    para = np.asarray(theory.paramagnetic_energy(temps, 3), dtype=np.float64)
    t_d = theory.dynamical_temperature(3)
    for t, e, err, th in zip(temps, result.mean_energy_per_spin, result.energy_error, para):
        print(f"  T={t:.2f}: e = {e:+.4f} +- {err:.4f}   paramagnet -1/(2T) = {th:+.4f}")
        report.rows.append((f"tempering e(T = {t:.2f}), n={n}", f"{e:+.4f} ± {err:.4f}", f"{th:+.4f} (paramagnet)"))
    _save(result, out / "tempering.h5", report)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    grid = np.linspace(min(t_d, temps.min()) * 0.9, temps.max() * 1.05, 200)
    ax.plot(grid, theory.paramagnetic_energy(grid, 3), "C3-", label="paramagnet -1/(2T)")
    ax.errorbar(temps, result.mean_energy_per_spin, yerr=result.energy_error, fmt="o", label=f"tempering, n = {n}")
    ax.axvline(t_d, color="k", ls=":", label=f"T_d = {t_d:.3f}")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("energy per spin")
    ax.legend(fontsize=8)
    _figure(fig, out / "tempering_energies.png", "Tempering energies against the paramagnetic energy", report, plt)


def _figure(fig: Any, path: Path, title: str, report: Report, plt: Any) -> None:
    if isinstance(fig, _Sink):
        return
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    report.figures.append((title, path.name))


def _write_report(out: Path, report: Report, header: str, took: float) -> Path:
    lines = ["# pspin demo\n", header + "\n", f"Wall time: {took:.1f} s.\n", "| quantity | measured | theory |",
             "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in report.rows]
    lines.append("")
    for title, name in report.figures:
        lines += [f"## {title}\n", f"![{title}]({name})\n"]
    if report.files:
        lines.append("Results files (open with `pspin show FILE` or `pspin.load`): "
                     + ", ".join(f"`{f}`" for f in report.files) + "\n")
    for note in report.notes:
        lines.append(f"- {note}")
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> int:
    import pspin

    sizes = QUICK if args.quick else FULL
    if args.n is not None or args.batch is not None:
        sizes = Sizes(args.n or sizes.kernel_n, args.batch or sizes.batch, *list(vars(sizes).values())[2:])
    out = Path(args.out)
    _jobs.check_writable(out)
    plt: Any
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    start = time.perf_counter()
    with _jobs.threads_context({"threads": args.threads}):
        header = f"pspin {pspin.__version__}, {pspin.get_num_threads()} threads, seed {args.seed}" + (
            " (--quick sizes)" if args.quick else "")
        print(f"pspin {pspin.__version__}: self-check of the models and kernels against theory\n")
        pspin.show_config()
        report = Report()
        _kernels(sizes, args.seed, report)
        if plt is None:
            report.notes.append("no figures: matplotlib is not installed (pip install 'pspin[plot]')")
            plt = _NoPlot()
        _landscape(sizes, args.seed, out, plt, report)
        _tempering(sizes, args.seed, out, plt, report)
    took = time.perf_counter() - start
    path = _write_report(out, report, header, took)
    print(f"\nReport: {path} ({len(report.figures)} figures), {took:.1f} s")
    return 0


class _NoPlot:
    """Stands in for pyplot without matplotlib: the demo still measures and reports."""

    def subplots(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return _Sink(), _Sink()

    def close(self, fig: Any) -> None:
        pass


class _Sink:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None
