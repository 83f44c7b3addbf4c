"""Ising p-spin model: s_i = +-1. With p = 2 it is the SK model (T_c = 1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import _seed, _validate
from ._base import PSpinModel


class IsingPSpin(PSpinModel):
    """Ising (pure or mixed) p-spin model with s_i = +-1.

    Parameters
    ----------
    n : int
        Number of spins (>= the largest degree).
    p : int or mapping {int: float}, default 3
        Degree of a pure model, or {p: c_p} for a mixed one. p = 2 is the SK model.
    seed : None, int, numpy SeedSequence or Generator
        Seed of the couplings (bit-identical for any thread count).
    dtype : {'float64', 'float32'}
        Storage and arithmetic type of the couplings.

    Notes
    -----
    Couplings use distinct indices i1<...<ip with Var J = p!/(2 n^(p-1)); for SK that
    is J_ij ~ N(0, 1/n).
    """

    kind: ClassVar[str] = "ising"

    def __init__(
        self,
        n: int,
        p: int | Mapping[int, float] = 3,
        *,
        seed: _seed.SeedLike = None,
        dtype: Any = "float64",
    ) -> None:
        super().__init__(n, p, seed=seed, dtype=dtype, ensemble="distinct")

    def _check_domain(self, arr: np.ndarray, what: str) -> None:
        _validate.ising_spins(arr, what)

    def _draw_states(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return (2 * rng.integers(0, 2, size=shape, dtype=np.int8) - 1).astype(self._dtype)
