"""Turning the user's ``seed`` into reproducible keys for the C++ generator."""

from __future__ import annotations

import numbers
from typing import Union

import numpy as np

SeedLike = Union[None, int, np.random.SeedSequence, np.random.Generator]


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise ``seed`` (None, a non-negative int, a SeedSequence or a Generator).

    ``None`` draws fresh entropy; the returned SeedSequence records it, so any result
    can be reproduced from ``seed_sequence.entropy``.
    """
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        seq = getattr(seed.bit_generator, "seed_seq", None) or getattr(seed.bit_generator, "_seed_seq", None)
        if not isinstance(seq, np.random.SeedSequence):
            raise TypeError("this Generator's bit generator has no SeedSequence; pass an int seed instead")
        return seq
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be None, a non-negative int, a numpy SeedSequence or Generator; got {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.SeedSequence(int(seed))


def key64(seq: np.random.SeedSequence, purpose: int) -> int:
    """A 64-bit key for one use of the seed (``purpose`` separates couplings, states, ...)."""
    child = np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (purpose,), pool_size=seq.pool_size)
    return int(child.generate_state(1, np.uint64)[0])


def child_generator(seq: np.random.SeedSequence, purpose: int) -> np.random.Generator:
    """A numpy Generator for one use of the seed, independent of the others."""
    child = np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (purpose,), pool_size=seq.pool_size)
    return np.random.default_rng(child)


# Purposes: fixed forever, since results depend on them.
COUPLINGS = 0
STATES = 1
