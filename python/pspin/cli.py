"""Command line: ``pspin <command>`` (also ``python -m pspin``).

The subcommands live in :mod:`pspin._cli`, one module each; this module is the stable
entry point (``pspin = "pspin.cli:main"`` in pyproject.toml).
"""

from __future__ import annotations

import sys

from ._cli import CLIError, build_parser, main

__all__ = ["CLIError", "build_parser", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
