"""p-spin models: couplings and their energy, gradient and Hessian."""

from __future__ import annotations

from ._base import PSpinModel, from_spec
from .ising import IsingPSpin
from .spherical import SphericalPSpin

__all__ = ["IsingPSpin", "PSpinModel", "SphericalPSpin", "from_spec"]
