"""Distinct states among many search endpoints, in O(k log k): bucket by energy, then compare overlaps."""

from __future__ import annotations

import numpy as np


def _first_occurrence_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber classes 0, 1, ... in order of their first row; also return those first rows."""
    _, first = np.unique(labels, return_index=True)
    first = np.sort(first)
    renumber = np.empty(labels.max() + 1 if labels.size else 0, dtype=np.int64)
    renumber[labels[first]] = np.arange(first.size)
    return renumber[labels], first


def classes_by_overlap(
    states: np.ndarray, energies_per_spin: np.ndarray, *, flip_symmetric: bool, q_tol: float, e_tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Class label of every row, and the first row of every class, for continuous (spherical) states.

    Two rows are the same state when their energies per spin differ by at most ``e_tol``
    and their overlap q = s.t / |s||t| has ``1 - q < q_tol`` (``1 - |q|`` when
    ``flip_symmetric``: then s and -s are one class). Rows are sorted by energy and cut
    where consecutive energies differ by more than ``e_tol``; overlaps are compared only
    within a cut, so the cost is a sort plus the (few) comparisons among near-degenerate
    energies, not all pairs. Classes are numbered in order of their first row.
    """
    b = states.shape[0]
    if b == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    unit = states.astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    order = np.argsort(energies_per_spin, kind="stable")
    cuts = np.flatnonzero(np.diff(energies_per_spin[order]) > e_tol) + 1
    labels = np.empty(b, dtype=np.int64)
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [b]])
    single = ends - starts == 1
    labels[order[starts[single]]] = order[starts[single]]  # a lone energy is its own class
    for lo, hi in zip(starts[~single], ends[~single]):
        rows = np.sort(order[lo:hi])
        reps: list[int] = []
        for r in rows:
            if reps:
                q = unit[reps] @ unit[r]
                if flip_symmetric:
                    q = np.abs(q)
                j = int(np.argmax(q))
                if 1.0 - q[j] < q_tol:
                    labels[r] = labels[reps[j]]
                    continue
            reps.append(int(r))
            labels[r] = r
    return _first_occurrence_labels(labels)


def classes_by_equality(states: np.ndarray, *, flip_symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Class label of every row, and the first row of every class, for discrete (Ising) states.

    Rows are equal states when identical (or opposite, with ``flip_symmetric``); found by
    sorting the rows (``np.unique``), so the cost is O(k log k).
    """
    if states.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    canon = np.ascontiguousarray(states, dtype=np.int8)
    if flip_symmetric:
        canon = canon * canon[:, -1:]  # the representative of {s, -s} with s_{n-1} = +1
    _, labels = np.unique(canon, axis=0, return_inverse=True)
    return _first_occurrence_labels(labels.reshape(-1).astype(np.int64))
