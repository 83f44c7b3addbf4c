"""Command line: ``pspin <command>`` (also ``python -m pspin``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Callable

import numpy as np


def _median_time(fn: Callable[[], object], repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _demo(args: argparse.Namespace) -> int:
    import pspin

    print(f"pspin {pspin.__version__}: self-check of the models and kernels\n")
    pspin.show_config()
    n, b = args.n, args.batch
    print(f"\nSpherical p=3, n={n}, seed={args.seed}:")
    for dtype in ("float64", "float32"):
        start = time.perf_counter()
        model = pspin.SphericalPSpin(n, 3, seed=args.seed, dtype=dtype)
        built = time.perf_counter() - start
        states = model.random_state(b, seed=args.seed)
        energies = model.energy(states) / n
        t1 = _median_time(lambda: model.gradient(states[:1]))
        tb = _median_time(lambda: model.gradient(states))
        print(
            f"  {dtype}: {model.nbytes / 2**20:7.1f} MiB of couplings built in {built:.2f} s; "
            f"random-state energies per spin {energies.mean():+.4f} +- {energies.std():.4f} "
            f"(expected 0 +- {np.sqrt(0.5 / n):.4f})"
        )
        print(
            f"           gradient: {t1 * 1e3:.2f} ms for b=1, {tb / b * 1e3:.3f} ms per configuration "
            f"for b={b} ({pspin.get_num_threads()} threads)"
        )
    _demo_landscape(args.seed)
    _demo_sampling(args.seed)
    return 0


def _demo_landscape(seed: int) -> None:
    import pspin
    from pspin import theory

    n = 200
    print(f"\nLandscape, spherical p=3, n={n}: 32 L-BFGS descents from random starts")
    model = pspin.SphericalPSpin(n, 3, seed=seed)
    start = time.perf_counter()
    minima = pspin.minimize(model, 32, seed=seed)
    took = time.perf_counter() - start
    e = minima.energy_per_spin
    spectrum = model.hessian_spectrum(minima.states[int(np.argmin(e))])
    print(
        f"  {int(minima.converged.sum())}/32 converged in {took:.1f} s; minima energies {e.mean():.4f} +- "
        f"{e.std(ddof=1) / np.sqrt(e.size):.4f} (lowest {e.min():.4f}); theory: threshold "
        f"{theory.threshold_energy(3):.4f}, ground state {theory.ground_state_energy(3):.4f}"
    )
    print(f"  Hessian at the lowest minimum: smallest eigenvalue {spectrum[0]:.4f} (> 0: a minimum; -> 0 at threshold)")
    sk = pspin.IsingPSpin(16, 2, seed=seed)
    found = pspin.enumerate_local_minima(sk)
    print(
        f"  SK n=16: {found.count} one-flip-stable states by exact enumeration "
        f"(disorder average {theory.expected_one_flip_stable(16):.2f})"
    )


def _demo_sampling(seed: int) -> None:
    import pspin

    temps = np.array([1.0, 1.5, 2.0])
    model = pspin.SphericalPSpin(64, 3, seed=seed, ensemble="isotropic")
    print("\nParallel tempering, spherical p=3, n=64 (isotropic), 3 temperatures x 2 replicas, 2000 sweeps:")
    result = pspin.ParallelTempering(model, temps, seed=seed).run(2000, burn_in=200)
    for t, e, err in zip(temps, result.mean_energy_per_spin, result.energy_error):
        print(f"  T={t:.1f}: e = {e:+.4f} +- {err:.4f}   paramagnet -1/(2T) = {-0.5 / t:+.4f}")


def _config(args: argparse.Namespace) -> int:
    import pspin

    pspin.show_config()
    return 0


def _theory(argv: Sequence[str]) -> int:
    from .theory.__main__ import main as theory_main

    return int(theory_main(list(argv)) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pspin`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["theory"]:  # its options are the theory module's own
        return _theory(argv[1:])
    parser = argparse.ArgumentParser(prog="pspin", description="Energy landscapes of mean-field spin glasses.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build models, print energies and kernel timings")
    demo.add_argument("--n", type=int, default=400, help="number of spins (default 400)")
    demo.add_argument("--batch", type=int, default=32, help="batch size for the timing (default 32)")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=_demo)
    config = sub.add_parser("config", help="show how the compiled core was built")
    config.set_defaults(func=_config)
    sub.add_parser("theory", help="landmark values of the theory (pspin theory --p 3; --help for options)")
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
