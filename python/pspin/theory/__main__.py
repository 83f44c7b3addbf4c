"""``python -m pspin.theory --p 3``: print the landmark table of a spherical model.

Mixtures: ``--mix 3:0.7,4:0.3`` (degree:c_p pairs, ``xi(q) = sum c_p^2 q^p``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .landmarks import format_landmarks


def _parse_mix(text: str) -> dict[int, float]:
    out: dict[int, float] = {}
    try:
        for item in text.split(","):
            degree, coeff = item.split(":")
            out[int(degree)] = float(coeff)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--mix expects degree:c_p pairs like 3:0.7,4:0.3, got {text!r}"
        ) from exc
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so a parent CLI can reuse it)."""
    parser = argparse.ArgumentParser(
        prog="pspin theory",
        description="Landmark values of spherical p-spin models (threshold, ground state, T_d, T_s, ...).",
    )
    parser.add_argument(
        "--p",
        type=int,
        action="append",
        default=None,
        metavar="P",
        help="pure degree p >= 2 (repeatable)",
    )
    parser.add_argument(
        "--mix",
        type=_parse_mix,
        action="append",
        default=None,
        metavar="D:C,...",
        help="mixed model, e.g. 3:0.7,4:0.3 (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 on success, 2 on a bad model)."""
    args = build_parser().parse_args(argv)
    models: list = list(args.p or []) + list(args.mix or [])
    if not models:
        models = [3]
    tables = []
    for model in models:
        try:
            tables.append(format_landmarks(model))
        except (TypeError, ValueError) as exc:
            print(f"pspin theory: error: {exc}", file=sys.stderr)
            return 2
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
