"""Shared fixtures for the model tests: reference tensors, states, subprocess runner.

Everything here is an independent reference (numpy only), never pspin's own code.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest


def _symmetric_tensor(
    rng: np.random.Generator, n: int, p: int, *, repeated: bool = False
) -> np.ndarray:
    """A random symmetric tensor with p axes of length n (float64).

    One standard normal value per index set, written to all p! orderings. Entries with
    a repeated index are zero unless ``repeated`` (the isotropic ensemble).
    """
    combos = itertools.combinations_with_replacement if repeated else itertools.combinations
    idx = np.array(list(combos(range(n), p)), dtype=np.intp).reshape(-1, p)
    values = rng.standard_normal(idx.shape[0])
    tensor = np.zeros((n,) * p)
    for perm in itertools.permutations(range(p)):
        tensor[tuple(idx[:, list(perm)].T)] = values
    return tensor


@pytest.fixture
def symmetric_tensor():
    """Factory: symmetric_tensor(rng, n, p, repeated=False) -> ndarray."""
    return _symmetric_tensor


def _sphere_states(rng: np.random.Generator, n: int, b: int | None = None) -> np.ndarray:
    shape = (n,) if b is None else (b, n)
    x = rng.standard_normal(shape)
    return x * np.sqrt(n) / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def sphere_states():
    """Factory: sphere_states(rng, n, b=None) -> states with |s|^2 = n (float64)."""
    return _sphere_states


def _run_python(code: str, env_update: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter; return stdout, fail the test on error."""
    env = dict(os.environ)
    env.update(env_update or {})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(f"subprocess failed (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@pytest.fixture
def run_python():
    """Factory: run_python(code, env_update=None, timeout=120) -> stdout of a fresh interpreter."""
    return _run_python
