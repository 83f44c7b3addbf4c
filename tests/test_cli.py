"""The `pspin` command line: each subcommand runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pspin.cli import main


def test_config_prints_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "openmp" in out and "simd_width_bits" in out


def test_theory_prints_landmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "--p", "3"]) == 0
    out = capsys.readouterr().out
    # e_th = -sqrt(2(p-1)/p) = -1.1547005 (Crisanti-Sommers convention), theory.md §c.6
    assert "-1.1547005" in out


def test_demo_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--n", "40", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "gradient:" in out and "float32" in out


def test_module_entry_point_and_unknown_command() -> None:
    done = subprocess.run([sys.executable, "-m", "pspin", "nonsense"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
