"""examples/entropy_picture.py --quick runs end to end and writes its figures and table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "entropy_picture.py"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/ not in this checkout")
def test_entropy_picture_quick(tmp_path):
    pytest.importorskip("matplotlib")
    out = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--p", "3", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr[-3000:]
    table = (tmp_path / "entropy_picture_quick.txt").read_text()
    for row in ("mean number of minima", "gradient descent endpoints", "zero crossing", "Sigma_conf at T="):
        assert row in table
    pngs = sorted(p.name for p in tmp_path.glob("entropy_picture_*_p3.png"))
    assert pngs == [f"entropy_picture_{k}_p3.png" for k in ("band", "counting", "crisis", "index")]
