"""The compiled core at the level chosen by :mod:`pspin._dispatch`.

Every other module reaches the kernels as ``pspin._core.<name>``, whichever
``pspin._core_<level>`` was imported.
"""

from __future__ import annotations

from ._dispatch import load_core

_module = load_core()
globals().update({k: v for k, v in vars(_module).items() if not k.startswith("__")})
__version__: str = _module.__version__
