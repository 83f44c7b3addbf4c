"""``python -m pspin`` runs the command line."""

import sys

from .cli import main

# The guard matters under ``python -m mpi4py.futures -m pspin``: the worker ranks import
# this module (under another name) to find what rank 0's __main__ defines.
if __name__ == "__main__":
    sys.exit(main())
