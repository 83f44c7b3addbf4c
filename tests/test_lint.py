"""ruff and mypy, as configured in pyproject.toml, find nothing in the whole tree."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What ``ruff check`` covers: every folder of the repository that holds Python.
RUFF_ALL = ["python", "tests", "bench", "examples", "tools"]
RUFF_CLEAN = RUFF_ALL
#: Files whose mypy errors fail the test (mypy itself checks all of python/pspin, as
#: configured, since errors in one module can come from another's types); None: all.
MYPY_CLEAN: list[str] | None = None


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install '.[lint]')")


def test_ruff_finds_nothing():
    _need("ruff")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *RUFF_CLEAN],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_nothing():
    _need("mypy")
    # No cache: an incremental run can miss a stub added since the cache was written.
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (configuration, crash)
        pytest.fail(proc.stdout + proc.stderr)
    errors = [line for line in proc.stdout.splitlines() if re.match(r"^[^:]+:\d+: error:", line)]
    if MYPY_CLEAN is not None:
        errors = [line for line in errors if line.split(":", 1)[0] in MYPY_CLEAN]
    assert not errors, "\n".join(errors)
