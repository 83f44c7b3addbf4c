"""Dense symmetric tensors <-> packed couplings (one value per index multiset)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import _core


def tuple_count(n: int, p: int, multiset: bool) -> int:
    """Number of stored couplings of degree p: C(n, p), or C(n+p-1, p) with repeats."""
    return math.comb(n + p - 1, p) if multiset else math.comb(n, p)


def repeat_factor(idx: np.ndarray) -> np.ndarray:
    """prod_i m_i! over the multiplicities m_i of each sorted index tuple (rows of idx)."""
    factor = np.ones(idx.shape[0], dtype=np.float64)
    run = np.ones(idx.shape[0], dtype=np.float64)
    for col in range(1, idx.shape[1]):
        run = np.where(idx[:, col] == idx[:, col - 1], run + 1.0, 1.0)
        factor *= run
    return factor


def dense_from_packed(values: np.ndarray, n: int, p: int, multiset: bool) -> np.ndarray:
    """T with H = -(1/p!) sum_{all indices} T[i..] s_i..: T[perm(t)] = K_t prod m_i!."""
    idx = _core.tuple_indices(n, p, multiset)
    entries = values.astype(np.float64) * repeat_factor(idx)
    tensor = np.zeros((n,) * p, dtype=np.float64)
    for perm in itertools.permutations(range(p)):
        tensor[tuple(idx[:, list(perm)].T)] = entries
    return tensor


def packed_from_dense(tensor: np.ndarray, p: int, multiset: bool) -> np.ndarray:
    """Inverse of dense_from_packed (entries with repeated indices dropped unless multiset)."""
    n = tensor.shape[0]
    idx = _core.tuple_indices(n, p, multiset)
    return tensor[tuple(idx.T)] / repeat_factor(idx)


def has_repeated_index_entries(tensor: np.ndarray) -> bool:
    """Whether any entry with two equal indices is non-zero."""
    n, p = tensor.shape[0], tensor.ndim
    grids = np.indices((n,) * p, sparse=True)
    repeated = np.zeros((1,) * p, dtype=bool)
    for a, b in itertools.combinations(range(p), 2):
        repeated = repeated | (grids[a] == grids[b])
    return bool(np.any(tensor[np.broadcast_to(repeated, tensor.shape)] != 0))


def is_symmetric(tensor: np.ndarray) -> bool:
    """Invariant under adjacent index swaps (which generate all permutations)."""
    scale = max(float(np.max(np.abs(tensor))), np.finfo(np.float64).tiny)
    for a in range(tensor.ndim - 1):
        if np.max(np.abs(tensor - np.swapaxes(tensor, a, a + 1))) > 1e-12 * scale:
            return False
    return True
