"""Module-level jobs for tests/test_farm.py: they pickle, so process and MPI workers get them,
and a subprocess and the test describe them the same way (a resumed farm checks that)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pspin


def _index(seed: np.random.SeedSequence) -> int:
    return int(seed.spawn_key[-2])  # the farm's run seed of sample i has the spawn key (..., i, 1)


def descend(model: Any, *, seed: np.random.SeedSequence) -> Any:
    """minimize with 4 starts; notes each call in $PSPIN_FARM_CALLS and hangs at sample
    $PSPIN_FARM_HANG_AT (the killed-farm test)."""
    calls = os.environ.get("PSPIN_FARM_CALLS")
    if calls:
        (Path(calls) / f"called-{_index(seed)}").touch()
    if os.environ.get("PSPIN_FARM_HANG_AT") == str(_index(seed)):
        time.sleep(600)
    return pspin.minimize(model, 4, seed=seed)


def boom(model: Any, *, seed: np.random.SeedSequence) -> Any:
    """Fails at sample 2."""
    if _index(seed) == 2:
        raise ValueError("boom")
    return pspin.minimize(model, 4, seed=seed)


def sleepy(model: Any, *, seed: np.random.SeedSequence) -> Any:
    """Far longer than any test's timeout."""
    time.sleep(60)
    return pspin.minimize(model, 4, seed=seed)


def nap(model: Any, *, seed: np.random.SeedSequence) -> Any:
    """Longer than the pool test's timeout, short enough for the pool to wind down."""
    time.sleep(1)
    return pspin.minimize(model, 4, seed=seed)
