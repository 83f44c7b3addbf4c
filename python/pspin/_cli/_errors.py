"""The one exception the command line turns into a one-line message."""

from __future__ import annotations


class CLIError(Exception):
    """Bad input to a command: printed as ``pspin <command>: error: <message>``, exit status 2."""
