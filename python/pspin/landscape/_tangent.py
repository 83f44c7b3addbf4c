"""Orthonormal coordinates on the tangent space of the sphere at s."""

from __future__ import annotations

import numpy as np


def householder_vector(s: np.ndarray) -> np.ndarray:
    """Unit u with (I - 2uu^T) s / |s| = -sign(s_0) e_0: its last n-1 columns span s's tangent space."""
    unit = s / np.linalg.norm(s)
    u = unit.copy()
    u[0] += 1.0 if unit[0] >= 0 else -1.0  # avoids cancellation
    return u / np.linalg.norm(u)


def tangent_basis(s: np.ndarray) -> np.ndarray:
    """(n, n-1) orthonormal basis of the tangent space at s."""
    u = householder_vector(s)
    q = np.eye(s.shape[0]) - 2.0 * np.outer(u, u)
    return q[:, 1:]
