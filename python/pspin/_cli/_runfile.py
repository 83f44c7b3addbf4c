"""Run files: the keys each job accepts, their types, TOML loading, and flags that override them.

A run file is flat TOML: one ``key = value`` per setting, the same names as the flags
(``n_starts`` in the file is ``--n-starts`` on the command line). Resolution order:
defaults, then the file, then flags. Unknown keys and values of the wrong type are errors
naming the key and what is allowed, raised before any work starts.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ._errors import CLIError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None


# ---------------------------------------------------------------- value checks
def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CLIError(f"{key} must be an integer, got {value!r}")
    return value


def _nonneg_int(value: Any, key: str) -> int:
    value = _int(value, key)
    if value < 0:
        raise CLIError(f"{key} must be >= 0, got {value}")
    return value


def _pos_int(value: Any, key: str) -> int:
    value = _int(value, key)
    if value < 1:
        raise CLIError(f"{key} must be >= 1, got {value}")
    return value


def _float(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CLIError(f"{key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise CLIError(f"{key} must be finite, got {value!r}")
    return float(value)


def _pos_float(value: Any, key: str) -> float:
    value = _float(value, key)
    if value <= 0:
        raise CLIError(f"{key} must be > 0, got {value}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise CLIError(f"{key} must be true or false, got {value!r}")
    return value


def _str(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise CLIError(f"{key} must be a string, got {value!r}")
    return value


def _floats(value: Any, key: str) -> list[float]:
    if not isinstance(value, list) or not value:
        raise CLIError(f"{key} must be a non-empty list of numbers, got {value!r}")
    return [_pos_float(v, f"each of {key}") for v in value]


def _degrees(value: Any, key: str) -> int | dict[str, float]:
    """A pure degree (int) or a mixture {degree: c_p}; TOML table keys are strings."""
    if isinstance(value, dict):
        if not value:
            raise CLIError(f"{key} must not be an empty table")
        out: dict[str, float] = {}
        for degree, coeff in value.items():
            try:
                d = int(degree)
            except ValueError:
                raise CLIError(f"{key}: degree {degree!r} is not an integer") from None
            if d < 2:
                raise CLIError(f"{key}: degrees must be >= 2, got {d}")
            out[str(d)] = _float(coeff, f"{key}.{degree}")
        return out
    value = _int(value, key)
    if value < 2:
        raise CLIError(f"{key} must be >= 2, got {value}")
    return value


# ---------------------------------------------------------------- flag parsers (strings)
def _parse_degrees(text: str) -> int | dict[str, float]:
    if ":" not in text:
        return int(text)
    out: dict[str, float] = {}
    for item in text.split(","):
        degree, coeff = item.split(":")
        out[str(int(degree))] = float(coeff)
    return out


def _parse_floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


@dataclass(frozen=True)
class Key:
    """One setting of a run file: its checker, default and help."""

    name: str
    check: Callable[[Any, str], Any]
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    required: bool = False
    flag_type: Callable[[str], Any] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def validate(self, value: Any) -> Any:
        value = self.check(value, self.name)
        if self.choices is not None and value not in self.choices:
            raise CLIError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
        return value


def _flag_type(key: Key) -> Callable[[str], Any]:
    if key.flag_type is not None:
        return key.flag_type
    parsers: dict[Any, Callable[[str], Any]] = {
        _int: int, _nonneg_int: int, _pos_int: int, _float: float, _pos_float: float, _bool: _parse_bool,
        _str: str, _floats: _parse_floats, _degrees: _parse_degrees}
    return parsers.get(key.check, str)


# Keys every job shares: the model, the disorder samples, where the output goes.
MODEL_KEYS = (
    Key("model", _str, "spherical", "model family", choices=("spherical", "ising")),
    Key("n", _pos_int, None, "number of spins", required=True),
    Key("p", _degrees, 3, "degree p, or a mixture like 3:0.7,4:0.3 (TOML: p = {3 = 0.7, 4 = 0.3})"),
    Key("ensemble", _str, "distinct", "coupling ensemble (spherical only)", choices=("distinct", "isotropic")),
    Key("dtype", _str, "float64", "coupling dtype", choices=("float64", "float32")),
)
RUN_KEYS = (
    Key("seed", _nonneg_int, None, "root seed of the run; sample i uses SeedSequence(seed).spawn(...)[i] "
        "(drawn and recorded when absent)"),
    Key("samples", _pos_int, 1, "number of disorder samples of the run"),
    Key("output", _str, None, "results file (HDF5); per-sample files are <stem>.sample-NNNNN.h5 beside it "
        "(default: the run file's name with .h5, else <command>.h5)"),
    Key("threads", _pos_int, None, "OpenMP threads (default: OMP_NUM_THREADS or all cores)"),
)
# Keys that do not change what a job computes: a file written under other values of
# these still counts as done when a job is resumed.
NOT_IDENTITY = frozenset({"output", "threads", "samples", "checkpoint_every"})


def keys_by_name(keys: Sequence[Key]) -> dict[str, Key]:
    return {k.name: k for k in keys}


def load_toml(path: str | Path) -> dict[str, Any]:
    """The run file as a dict; a one-line error when it is missing or malformed."""
    path = Path(path)
    if tomllib is None:  # pragma: no cover - Python < 3.11 without tomli
        raise CLIError("reading run files needs Python >= 3.11 or the tomli package")
    if not path.is_file():
        raise CLIError(f"run file {path} does not exist" if not path.exists() else f"run file {path} is not a file")
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise CLIError(f"run file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise CLIError(f"cannot read run file {path}: {exc.strerror or exc}") from None


def add_key_flags(parser: argparse.ArgumentParser, keys: Sequence[Key]) -> None:
    """One flag per key; absent flags leave the file's value (argparse.SUPPRESS)."""
    group = parser.add_argument_group("run-file keys (each flag overrides the key of the same name)")
    for key in keys:
        extra = f" [{'|'.join(key.choices)}]" if key.choices else ""
        default = "" if key.default is None else f" (default {key.default})"
        if key.check is _bool:
            group.add_argument(key.flag, dest=key.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=f"{key.help}{default}")
        else:
            group.add_argument(key.flag, dest=key.name, type=_flag_type(key), default=argparse.SUPPRESS,
                               metavar=key.name.upper(), help=f"{key.help}{extra}{default}")


def resolve(keys: Sequence[Key], file_values: Mapping[str, Any], flag_values: Mapping[str, Any],
            source: str, command: str) -> dict[str, Any]:
    """Defaults, then the run file, then flags; every value checked.

    Raises
    ------
    CLIError
        An unknown key (naming the allowed ones), a value of the wrong type or out of
        range, or a required key with no value.
    """
    table = keys_by_name(keys)
    unknown = sorted(set(file_values) - set(table))
    if unknown:
        raise CLIError(f"{source}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                       f"for pspin {command}; allowed: {', '.join(table)}")
    config: dict[str, Any] = {}
    for key in keys:
        if key.name in flag_values:
            where, value = "flag " + key.flag, flag_values[key.name]
        elif key.name in file_values:
            where, value = source, file_values[key.name]
        else:
            if key.required:
                raise CLIError(f"{key.name} is required: put it in the run file or pass {key.flag}")
            config[key.name] = key.default
            continue
        try:
            config[key.name] = key.validate(value)
        except CLIError as exc:
            raise CLIError(f"{where}: {exc}") from None
    return config


def identity(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a resolved configuration that decides the numbers a job produces."""
    return {k: v for k, v in config.items() if k not in NOT_IDENTITY}
