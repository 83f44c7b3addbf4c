"""Kernel levels: dispatch, the kernel tests at every level, agreement across levels.

One install holds the core compiled for several instruction-set levels (x86-64:
baseline, v3 = AVX2 + FMA, v4 = AVX-512) and imports the best the CPU runs;
``PSPIN_SIMD`` forces a lower one. The tests below run the kernel test files once
per level this machine can run (in subprocesses, since the level is chosen at
import), and compare what each level computes.

What may differ between levels, and the tolerance tested: the vector width sets
the order of the lane sums and FMA (v3, v4) rounds once where baseline rounds
twice, so float64 energies, gradients and Hessian products agree to a few units
in the last place of the largest term (tested at 1e-12 relative), float32 to
1e-4 relative. Couplings come from integer random streams and agree bit for bit.
Descents to one-flip-stable Ising states follow the same path (their fields
differ by rounding only, far below the smallest gap of a Gaussian model).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pspin
import pytest
from pspin import _dispatch

HERE = Path(__file__).resolve().parent
LEVELS = _dispatch.available_levels()
LOADED = pspin.show_config(file=io.StringIO())["simd_level"]
OTHER_LEVELS = [lv for lv in LEVELS if lv != LOADED]

# The files that exercise the compiled kernels (the theory and pure-Python analysis
# tests do not depend on the level).
KERNEL_TESTS = [
    "test_models_contractions.py",
    "test_models_reproducibility.py",
    "test_landscape_spherical.py",
    "test_landscape_ising.py",
    "test_sampling_tempering.py",
    "test_sampling_spherical_moves.py",
    "test_sampling_thresholds.py",
]


def _env(level: str) -> dict[str, str]:
    return {**os.environ, _dispatch.ENV_VAR: level}


def test_loaded_level_is_the_best_available_or_the_forced_one():
    forced = os.environ.get(_dispatch.ENV_VAR)
    assert LOADED == (forced or LEVELS[-1])
    assert pspin._core.SIMD_LEVEL == LOADED


def test_width_matches_the_level():
    info = pspin.show_config(file=io.StringIO())
    expected = {"baseline": 128, "v3": 256, "v4": 512}
    if LOADED in expected and info["simd_width_bits"] != 0:
        assert info["simd_width_bits"] == expected[LOADED]
    assert info["simd_levels"] == LEVELS
    assert isinstance(info["cpu_model"], str) and info["cpu_model"]


@pytest.mark.parametrize(
    "value, message",
    [("v5", "is not a SIMD level"), ("AVX512", "is not a SIMD level")],
)
def test_bad_forced_level_is_a_clear_import_error(value, message):
    proc = subprocess.run(
        [sys.executable, "-c", "import pspin"],
        env=_env(value),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert message in proc.stderr and "PSPIN_SIMD" in proc.stderr


def test_level_the_cpu_cannot_run_is_refused(monkeypatch):
    # The CPU check itself is the compiled _cpu module; here only the choice
    # between levels is exercised, for a CPU that runs the baseline alone.
    monkeypatch.setattr(_dispatch, "cpu_levels", lambda: ["baseline"])
    assert _dispatch.choose_level("baseline") == "baseline"
    if "v3" in _dispatch.built_levels():
        with pytest.raises(ImportError, match="this CPU cannot run it"):
            _dispatch.choose_level("v3")
    assert _dispatch.choose_level(None if not os.environ.get(_dispatch.ENV_VAR) else "baseline") == (
        "native" if "native" in _dispatch.built_levels() else "baseline"
    )


@pytest.mark.parametrize("level", OTHER_LEVELS)
def test_kernel_tests_pass_at_level(level):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *KERNEL_TESTS],
        cwd=HERE,
        env=_env(level),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert proc.returncode == 0, f"kernel tests failed at {level}:\n{proc.stdout[-4000:]}"
    assert " passed" in proc.stdout


_COMPUTE = """
import json, sys
import numpy as np
import pspin
out = {}
for name, model in {
    "sph3_f64": pspin.SphericalPSpin(70, 3, seed=11),
    "sph3_f32": pspin.SphericalPSpin(70, 3, seed=11, dtype="float32"),
    "mixed_f64": pspin.SphericalPSpin(40, {2: 0.6, 3: 1.0, 4: 0.4}, seed=12),
    "ising23_f64": pspin.IsingPSpin(64, {2: 1.0, 3: 1.0}, seed=13),
}.items():
    for b in (1, 5, 37):
        s = model.random_state(b, seed=7)
        v = np.random.default_rng(3).standard_normal(s.shape)
        for p in model.degrees:
            out[f"{name}/K{p}"] = model.packed_couplings(p).astype(np.float64).tolist()
        out[f"{name}/{b}/E"] = np.asarray(model.energy(s), dtype=np.float64).tolist()
        out[f"{name}/{b}/G"] = np.asarray(model.gradient(s), dtype=np.float64).tolist()
        out[f"{name}/{b}/HV"] = np.asarray(model.hessian_vector_product(s, v), dtype=np.float64).tolist()
ising = pspin.IsingPSpin(64, {2: 1.0, 3: 1.0}, seed=13)
lm = pspin.minimize(ising, n_starts=16, seed=5)
out["ising/minima"] = np.asarray(lm.states, dtype=np.float64).tolist()
sph = pspin.SphericalPSpin(60, 3, seed=14)
mn = pspin.minimize(sph, n_starts=8, seed=5)
out["sph/minima_energy"] = np.asarray(mn.energies, dtype=np.float64).tolist()
json.dump(out, sys.stdout)
"""


def _compute_at(level: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _COMPUTE],
        env=_env(level),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(len(LEVELS) < 2, reason="this machine runs one kernel level only")
def test_levels_agree_to_rounding():
    results = {lv: _compute_at(lv) for lv in LEVELS}
    ref_level, ref = LEVELS[0], results[LEVELS[0]]
    for level in LEVELS[1:]:
        got = results[level]
        assert got.keys() == ref.keys()
        for key, value in ref.items():
            a, b = np.asarray(value), np.asarray(got[key])
            assert a.shape == b.shape, key
            if "/K" in key or key == "ising/minima":
                assert np.array_equal(a, b), f"{key} differs between {ref_level} and {level}"
                continue
            rtol = 1e-4 if "_f32" in key else 1e-12
            scale = max(np.abs(a).max(), 1e-300)
            err = np.abs(a - b).max() / scale
            assert err <= rtol, f"{key}: {ref_level} vs {level} differ by {err:.2e} (tolerance {rtol})"
