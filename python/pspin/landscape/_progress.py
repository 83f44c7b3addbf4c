"""Optional tqdm progress bars (a silent stand-in when tqdm is absent or not asked for)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class _Silent:
    def update(self, n: int = 1) -> None:
        pass


@contextlib.contextmanager
def progress_bar(enabled: bool, **kwargs: Any) -> Iterator[Any]:
    if not enabled:
        yield _Silent()
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _Silent()
        return
    with tqdm(**kwargs) as bar:
        yield bar
