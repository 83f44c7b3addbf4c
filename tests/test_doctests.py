"""The ``Examples`` of pspin's docstrings run, so that they cannot go stale.

Every module under ``pspin`` is imported and its doctests are run, except the compiled
core and its loaders (``_core*``, ``_cpu*``, ``_dispatch``: importing another SIMD level
than the one in use is not allowed) and the command line (``cli``, ``_cli``,
``__main__``: entry points, whose examples are the ``pspin --help`` texts). The
examples print rounded numbers, so they hold at every SIMD level.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pspin
import pytest

_SKIP_PARTS = {"cli", "_cli", "__main__", "_dispatch"}
_SKIP_PREFIXES = ("_core", "_cpu")

#: Docstrings whose examples need an optional extra: their name -> the module needed.
_NEEDS = {
    "pspin._results.load": "h5py",
}


def _modules() -> list[str]:
    names = ["pspin"]
    for info in pkgutil.walk_packages(pspin.__path__, prefix="pspin."):
        parts = info.name.split(".")[1:]
        if any(part in _SKIP_PARTS or part.startswith(_SKIP_PREFIXES) for part in parts):
            continue
        names.append(info.name)
    return sorted(names)


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    # The finder also visits objects re-exported from other modules; each runs once,
    # in the module whose file holds the docstring.
    found = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    here = getattr(module, "__file__", None)
    return sorted((t for t in found if t.examples and t.filename == here), key=lambda t: t.name)


MODULES = _modules()
WITH_EXAMPLES = [name for name in MODULES if _examples(name)]


def test_the_walk_finds_the_public_modules():
    # A change of layout that hid modules from the walk would pass every case below.
    for name in ("pspin.theory.spherical_landscape", "pspin.landscape._critical",
                 "pspin.entropy.thermodynamics", "pspin.analysis.binning", "pspin._config"):
        assert name in WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    skipped = []
    for test in _examples(name):
        need = _NEEDS.get(test.name)
        if need is not None and importlib.util.find_spec(need) is None:
            skipped.append(f"{test.name} (needs {need})")
            continue
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
    if skipped:
        pytest.skip(f"ran {result.attempted} examples; not run: " + "; ".join(skipped))
