"""Zero-temperature landscape: minimisers, critical points, minima statistics."""

from __future__ import annotations

from ._results import Minima

__all__ = ["Minima"]
