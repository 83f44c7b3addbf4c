"""Let the theory tests run before the compiled package exists.

``pspin/__init__.py`` imports the compiled ``pspin._core``. When that import fails
(package not built or installed yet), register a bare ``pspin`` package pointing at
the source tree so that ``import pspin.theory`` -- which is pure Python and imports
nothing else from pspin -- still works. Once ``import pspin`` succeeds this is inert.
"""

from __future__ import annotations

import pathlib
import sys
import types

try:  # pragma: no cover - depends on the build state
    import pspin  # noqa: F401
except ImportError:  # pragma: no cover
    for name in [m for m in sys.modules if m == "pspin" or m.startswith("pspin.")]:
        del sys.modules[name]
    _src = pathlib.Path(__file__).resolve().parents[2] / "python" / "pspin"
    _stub = types.ModuleType("pspin")
    _stub.__path__ = [str(_src)]
    sys.modules["pspin"] = _stub
