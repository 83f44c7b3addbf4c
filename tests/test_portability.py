"""The core compiles for aarch64 (NEON): no x86-only code outside the dispatch layer.

Every binding translation unit (which instantiates every kernel the package uses) is
cross-compiled with Debian's ``aarch64-linux-gnu-g++`` (package g++-aarch64-linux-gnu,
installed by ``.ci/run``), with warnings as errors. Skipped where no cross compiler or
no pybind11 headers are installed; running the aarch64 build needs an ARM machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CROSS = shutil.which("aarch64-linux-gnu-g++")
pybind11 = pytest.importorskip("pybind11", reason="pybind11 headers are needed to compile the bindings")

pytestmark = pytest.mark.skipif(CROSS is None, reason="no aarch64 cross compiler (g++-aarch64-linux-gnu)")


def _compile(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(CROSS), "-std=c++17", "-O0", "-Wall", "-Wextra", "-Werror", "-fno-math-errno",
        "-fopenmp", "-fPIC", f"-I{ROOT / 'cpp' / 'include'}", f"-I{pybind11.get_include()}",
        f"-I{sysconfig.get_paths()['include']}", "-DPSPIN_MODULE_NAME=_core_baseline",
        '-DPSPIN_SIMD_LEVEL="baseline"', "-c", str(source), "-o", str(out),
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)


def test_bindings_compile_for_aarch64(tmp_path):
    sources = sorted((ROOT / "cpp" / "bindings").glob("*.cpp"))
    assert len(sources) >= 7
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: _compile(s, tmp_path / f"{s.stem}.o"), sources))
    failed = {s.name: r.stderr[-3000:] for s, r in zip(sources, results) if r.returncode != 0}
    assert not failed, f"aarch64 compile failed: {failed}"
    # The simd header picks 16-byte vectors and 32 registers there.
    probe = tmp_path / "probe.cpp"
    probe.write_text(
        '#include "pspin/dispatch/simd.hpp"\n'
        "static_assert(pspin::kSimdBytes == 16 && pspin::kSimdRegisters == 32);\n"
        "static_assert(pspin::Simd<double>::width == 2 && pspin::Simd<float>::width == 4);\n"
    )
    r = _compile(probe, tmp_path / "probe.o")
    assert r.returncode == 0, r.stderr
