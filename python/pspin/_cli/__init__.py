"""The ``pspin`` command line (``pspin.cli:main``; also ``python -m pspin``).

One module per subcommand; :mod:`._runfile` holds the run-file keys and their checks,
:mod:`._jobs` what every job shares (seeds per disorder sample, files, resuming, logs).

Errors: bad input (run files, flags, paths, results files) prints one line,
``pspin <command>: error: ...``, and exits with status 2; a failure inside a computation
exits with 1; Ctrl-C exits with 130 and SIGTERM with 143, after the job has saved what
it can resume from. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._farm import FarmError
from ._errors import CLIError

__all__ = ["CLIError", "build_parser", "main"]


# Raised in place of KeyboardInterrupt when SIGTERM arrives, so that the same saving
# path runs (finished samples are kept) and the exit status tells them apart.
class _Terminated(KeyboardInterrupt):
    signum = signal.SIGTERM


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the usage text is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``pspin`` parser with every subcommand."""
    from . import anneal, census, demo, enumerate, files, minimize, sample, theory

    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback on errors")
    parser = _Parser(
        prog="pspin", parents=[common],
        description="Energy landscapes of mean-field spin glasses. Job commands take a TOML run file "
                    "and flags (flags override the file) and write HDF5 results files.",
        epilog="pspin COMMAND --help lists each command's options and run-file keys.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents: list[argparse.ArgumentParser] = [common]
    minimize.register(sub, parents)
    census.register(sub, parents)
    sample.register(sub, parents)
    anneal.register(sub, parents)
    enumerate.register(sub, parents)
    files.register(sub, parents)
    theory.register(sub, parents)
    demo.register(sub, parents)
    config = sub.add_parser("config", parents=[common], help="how the compiled core was built (SIMD level, OpenMP)")
    config.add_argument("--json", action="store_true", help="print the configuration as JSON")
    config.set_defaults(func=_config)
    return parser


def _config(args: argparse.Namespace) -> int:
    import json

    import pspin

    if args.json:
        import io

        info = pspin.show_config(file=io.StringIO())
        print(json.dumps(info, indent=2, default=str))
    else:
        pspin.show_config()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pspin`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``pspin`` (default: ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    command = args.command
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (main() called from a worker): no handler
        pass
    try:
        return int(args.func(args))
    except KeyboardInterrupt as exc:
        if debug:
            raise
        # Ours or the tempering checkpoint's Terminated: both carry the signal number.
        signum = int(getattr(exc, "signum", signal.SIGINT))
        what = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted"
        print(f"pspin {command}: {what}; finished work is saved: rerun the same command to resume", file=sys.stderr)
        return 128 + signum
    except CLIError as exc:
        if debug:
            raise
        print(f"pspin {command}: error: {exc}", file=sys.stderr)
        return 2
    except FarmError as exc:
        # A sample's work raised: the message names the sample; the cause decides the status
        # as if the work had run here (bad input 2, a failed computation 1).
        if debug:
            raise
        cause = exc.__cause__
        text = " ".join(str(exc).split())
        print(f"pspin {command}: error: {text} (--debug for the traceback)", file=sys.stderr)
        return 2 if isinstance(cause, (CLIError, ValueError, TypeError)) else 1
    except (ValueError, TypeError, OSError, ImportError, MemoryError) as exc:
        # What the library raises for bad arguments or resources says what is allowed.
        if debug:
            raise
        text = " ".join(str(exc).split()) or type(exc).__name__
        print(f"pspin {command}: error: {text} (--debug for the traceback)", file=sys.stderr)
        return 2 if isinstance(exc, (ValueError, TypeError)) else 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
