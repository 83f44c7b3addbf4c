"""Old argument names that keep working, with a DeprecationWarning, for one release."""

from __future__ import annotations

import warnings
from typing import Any

# The release after which the old names in docs/conventions.md ("Deprecations") go.
REMOVED_IN = "0.2"


def renamed(old_value: Any, new_value: Any, old: str, new: str, where: str, *, stacklevel: int = 3) -> Any:
    """The value of argument ``new``, taking ``old`` (warning) when only that is given.

    Parameters
    ----------
    old_value, new_value : Any
        What the caller passed under each name (None when not passed).
    old, new : str
        The names.
    where : str
        The function, for the messages.
    stacklevel : int
        Frames up to the user's call (3: the caller of the function that calls this).

    Raises
    ------
    TypeError
        If both names are given.
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        raise TypeError(f"{where}: give {new}= only ({old}= is its deprecated old name)")
    warnings.warn(
        f"{where}: {old}= is deprecated, use {new}= (docs/conventions.md); the old name goes in pspin {REMOVED_IN}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return old_value
