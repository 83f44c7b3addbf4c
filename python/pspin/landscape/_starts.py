"""Initial states for batched runs: validated user input or draws from the seed."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _seed, _validate
from ..models import PSpinModel


def initial_states(model: PSpinModel, n_starts: Any, initial: Any, seed: _seed.SeedLike) -> tuple[np.ndarray, np.random.SeedSequence]:
    """(n_starts, n) float64 starting states and the SeedSequence used.

    With ``initial`` given, ``n_starts`` must be None or match its number of rows;
    otherwise states are drawn from ``seed`` (uniform on the sphere / uniform +-1).
    """
    seq = _seed.as_seed_sequence(seed)
    if initial is None:
        if n_starts is None:
            raise ValueError("give n_starts (>= 1) or initial states")
        n_starts = _validate.positive_int(n_starts, "n_starts")
        states = model.random_state(n_starts, seed=_seed.child_generator(seq, _seed.STATES))
        return np.asarray(states, dtype=np.float64), seq
    arr, _ = _validate.batch(initial, model.n, "initial")
    if n_starts is not None and _validate.positive_int(n_starts, "n_starts") != arr.shape[0]:
        raise ValueError(f"n_starts = {n_starts} does not match the {arr.shape[0]} initial states")
    if model.kind == "spherical":
        # Normalised onto the sphere by the callers: no overflow of |s|^2 for huge entries.
        return _validate.sphere_safe(arr), seq
    return np.array(arr, dtype=np.float64), seq
