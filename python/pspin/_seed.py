"""Turning the user's ``seed`` into reproducible keys for the C++ generator."""

from __future__ import annotations

import ast
import numbers
from typing import Any, Union

import numpy as np

SeedLike = Union[None, int, np.random.SeedSequence, np.random.Generator]


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise ``seed`` (None, a non-negative int, a SeedSequence or a Generator).

    ``None`` draws fresh entropy; the returned SeedSequence records it, so any result
    can be reproduced from ``seed_sequence.entropy``. A Generator is consumed: two
    models seeded from the same Generator differ, and a Generator created with the
    same seed reproduces both.
    """
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        # A Generator is a stream (Scientific Python SPEC 7): each use draws fresh
        # entropy from it, so a loop over disorder samples gets new couplings.
        return np.random.SeedSequence(seed.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
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


def record(seq: np.random.SeedSequence, prefix: str = "seed") -> dict[str, str]:
    """The full seed as result parameters: ``{prefix}_entropy`` and ``{prefix}_spawn_key``.

    Both are strings (Python literals: the entropy an int or a list of ints, the spawn key
    a tuple) so that every result stores them the same way; :func:`from_record` reads
    them back. See docs/conventions.md.
    """
    return {f"{prefix}_entropy": str(seq.entropy), f"{prefix}_spawn_key": repr(tuple(int(k) for k in seq.spawn_key))}


def model_record(model: Any) -> dict[str, str]:
    """The model's seed as ``model_seed_entropy``/``model_seed_spawn_key``; "None" for a
    model built from tensors, which has no seed."""
    if not model.seeded:
        return {"model_seed_entropy": "None", "model_seed_spawn_key": "None"}
    return record(model.seed_sequence, "model_seed")


def from_record(params: dict[str, Any], prefix: str = "seed") -> np.random.SeedSequence:
    """The SeedSequence written by :func:`record` (older int or tuple values are accepted)."""
    entropy, key = params[f"{prefix}_entropy"], params.get(f"{prefix}_spawn_key", ())
    entropy = ast.literal_eval(entropy) if isinstance(entropy, str) else entropy
    key = ast.literal_eval(key) if isinstance(key, str) else key
    return np.random.SeedSequence(entropy, spawn_key=tuple(key))


def sample_seeds(root: np.random.SeedSequence, index: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """(model seed, run seed) of disorder sample ``index`` of a run seeded by ``root``.

    Sample ``i`` owns ``root.spawn(i + 1)[i]`` (spawn key ``root.spawn_key + (i,)``); its
    couplings use that key's child ``(i, 0)`` and its run the child ``(i, 1)``. The
    command line (``--sample-index``, ``--samples A:B``), :func:`pspin.farm` and
    :func:`pspin.entropy.complexity` all use this, so a sample's numbers depend only on
    the root seed and its index, never on how many samples a job runs or on which worker.
    """
    key = tuple(root.spawn_key) + (int(index),)
    return (np.random.SeedSequence(root.entropy, spawn_key=key + (0,), pool_size=root.pool_size),
            np.random.SeedSequence(root.entropy, spawn_key=key + (1,), pool_size=root.pool_size))


# Purposes: fixed forever, since results depend on them. Others in use:
# 10-12 parallel tempering (sampling/tempering.py), 16 Ising sweep orders (landscape/_ising.py).
COUPLINGS = 0
STATES = 1
