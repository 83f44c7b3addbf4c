"""Make ``import pspin.theory`` load this source tree's theory package in any build state.

* ``pspin/__init__.py`` imports the compiled ``pspin._core``. When that fails (package
  not built yet), register a bare ``pspin`` package pointing at the source tree; the
  theory subpackage is pure Python and imports nothing else from pspin.
* An editable install made before ``pspin/theory/__init__.py`` existed maps
  ``pspin.theory`` to a namespace package (its static module table predates the file).
  Then load the real ``__init__.py`` explicitly. Re-installing the package removes the
  need; once ``pspin.theory`` imports normally this file does nothing.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import types

_SRC = pathlib.Path(__file__).resolve().parents[2] / "python" / "pspin"

try:  # pragma: no cover - depends on the build state
    import pspin
except ImportError:  # pragma: no cover
    for _name in [m for m in sys.modules if m == "pspin" or m.startswith("pspin.")]:
        del sys.modules[_name]
    _stub = types.ModuleType("pspin")
    _stub.__path__ = [str(_SRC)]
    sys.modules["pspin"] = _stub

import pspin.theory

if getattr(pspin.theory, "__file__", None) is None:  # pragma: no cover - stale editable install
    _spec = importlib.util.spec_from_file_location(
        "pspin.theory",
        _SRC / "theory" / "__init__.py",
        submodule_search_locations=[str(_SRC / "theory")],
    )
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["pspin.theory"] = _module
    _spec.loader.exec_module(_module)
    sys.modules["pspin"].theory = _module
