"""The checked-in type stubs of the compiled modules (python/pspin/_core.pyi, _cpu.pyi) are not stale."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
from pspin import _core, _cpu, _dispatch

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "python" / "pspin"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_core_stub", ROOT / "tools" / "gen_core_stub.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_core_stub", module)
    spec.loader.exec_module(module)
    return module


def _stub_names(module: str) -> set[str]:
    tree = ast.parse((STUBS / f"{module}.pyi").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names - {"__all__"}


def test_stubs_declare_every_name_of_the_modules():
    """Without the generator: each stub and its loaded module have the same top-level names."""
    runtime = {k for k in vars(_core._module) if not k.startswith("__")} | {"__version__"}
    assert _stub_names("_core") == runtime
    assert _stub_names("_cpu") == {k for k in vars(_cpu) if not k.startswith("__")}


def _levels() -> list[str]:
    return [lv for lv in _dispatch.built_levels() if lv in _dispatch.cpu_levels() or lv == "native"]


def _need_stubgen(gen) -> None:
    version = gen.stubgen_version()
    if version is None:
        pytest.skip("pybind11-stubgen is not installed")
    if version != gen.STUBGEN_VERSION:
        pytest.skip(f"the stub is made with pybind11-stubgen {gen.STUBGEN_VERSION}, installed {version}")


@pytest.mark.parametrize("level", _levels())
def test_core_stub_matches_a_fresh_generation_at_every_level(level):
    gen = _generator()
    _need_stubgen(gen)
    fresh = gen.generate("_core", level)
    assert (STUBS / "_core.pyi").read_text(encoding="utf-8") == fresh, \
        "python/pspin/_core.pyi is stale: run python tools/gen_core_stub.py"


def test_cpu_stub_matches_a_fresh_generation():
    gen = _generator()
    _need_stubgen(gen)
    assert (STUBS / "_cpu.pyi").read_text(encoding="utf-8") == gen.generate("_cpu"), \
        "python/pspin/_cpu.pyi is stale: run python tools/gen_core_stub.py"
