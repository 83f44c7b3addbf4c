"""``pspin theory``: landmark values of spherical models, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ._errors import CLIError


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    from pspin.theory.__main__ import _parse_mix

    parser = sub.add_parser(
        "theory", parents=parents, help="landmark values of the theory (threshold, ground state, T_d, T_s, ...)",
        description="Landmark values of spherical p-spin models (energies per spin, the library's convention).")
    parser.add_argument("--p", type=int, action="append", default=None, metavar="P",
                        help="pure degree p >= 2 (repeatable; default 3)")
    parser.add_argument("--mix", type=_parse_mix, action="append", default=None, metavar="D:C,...",
                        help="mixed model, e.g. 3:0.7,4:0.3 (repeatable)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON: one object per model (a list when several), null where a value does not exist")
    parser.set_defaults(func=run)


def _plain(value: Any) -> Any:
    # JSON has no NaN: a landmark that does not exist (no transition) is null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    from pspin.theory.landmarks import format_landmarks, landmarks

    models: list[Any] = list(args.p or []) + list(args.mix or []) or [3]
    try:
        if args.json:
            rows = [{k: _plain(v) for k, v in landmarks(m).items()} for m in models]
            print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2))
        else:
            print("\n\n".join(format_landmarks(m) for m in models))
    except (TypeError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    return 0
