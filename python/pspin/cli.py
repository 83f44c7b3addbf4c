"""Command line: ``pspin <command>`` (also ``python -m pspin``)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Sequence

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
    sk = pspin.IsingPSpin(256, 2, seed=args.seed)
    spins = sk.random_state(8, seed=args.seed)
    print(f"\nSK model n=256: random-state energies per spin {np.round(sk.energy(spins) / 256, 4)}")
    try:
        from . import theory
    except ImportError:
        return 0
    print(
        f"\nTheory, p=3 (CC convention): e_th = {theory.threshold_energy(3):.7f}, "
        f"e_gs = {theory.ground_state_energy(3):.7f}, T_d = {theory.dynamical_temperature(3):.7f}, "
        f"T_s = {theory.static_temperature(3):.7f}"
    )
    return 0


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
