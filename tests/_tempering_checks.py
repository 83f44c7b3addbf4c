"""Assertions shared by the tempering checkpoint tests."""

from __future__ import annotations

import numpy as np
import pspin


def same_run(a: pspin.PTResult, b: pspin.PTResult) -> None:
    """Two tempering results are the same run, bit for bit."""
    assert a.sweeps == b.sweeps
    assert a.energies.tobytes() == b.energies.tobytes()
    assert a.overlaps.tobytes() == b.overlaps.tobytes()
    assert a.snapshots.tobytes() == b.snapshots.tobytes()
    assert np.array_equal(a.snapshot_sweeps, b.snapshot_sweeps)
    assert np.array_equal(a.swap_attempts, b.swap_attempts) and np.array_equal(a.temperatures, b.temperatures)
