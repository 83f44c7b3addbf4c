"""The small base every result type shares: HDF5 save/load, equality, a short repr, tables.

A result is a frozen dataclass of numpy arrays, scalars, a ``params`` dict and, where it
helps, nested results. :func:`result_type` makes one and registers it so that
:func:`load` can rebuild it from a file. The HDF5 layout (format 1):

- root attributes ``pspin_type`` (the registered class name), ``pspin_format``,
  ``pspin_version``, ``host``, ``saved_at`` (UTC, ISO 8601) and, copied there so that
  ``h5dump -A`` or :func:`metadata` shows them without pspin: ``seed_entropy`` and
  ``seed_spawn_key`` of the run, ``model_seed_entropy`` and ``model_seed_spawn_key``,
  ``started_at``, ``finished_at``, ``wall_seconds`` and ``run_host`` (from ``run_info``);
  every parameter is in the JSON attribute ``params``;
- ``run_info`` (every result has it; not compared by ``==``): when and where the run
  happened, a JSON attribute;
- each array field a dataset of the same name, each scalar or string field an attribute,
  ``None`` fields listed in the attribute ``none_fields``;
- dict fields of JSON-able values (``params``) a JSON attribute (numpy arrays and scalars
  tagged so that they come back as they were); dict fields of arrays a group of datasets;
- a nested result a group with its own ``pspin_type``; a tuple of results a group of
  groups ``0``, ``1``, ... with the attribute ``pspin_sequence``;
- a model (``PTResult.model``, or a file of its own from ``model.save``) a group with the
  JSON attribute ``pspin_model`` (``model.spec()``: class, n, coefficients, dtype, ensemble,
  seed, couplings fingerprint) from which :func:`load` regenerates bit-identical couplings,
  and the datasets ``couplings_<p>`` only for a model built from tensors (no seed).

Files are written to a temporary name and renamed, so a crash leaves no half file.

Every file is sealed (:func:`pspin.sampling.checkpoint.seal`): its HDF5 user block (the
first 64 KiB, which HDF5 ignores) holds the file's size and the SHA-256 of the bytes after
it and of each dataset's bytes. :func:`load` and :func:`metadata` check the seal with plain
reads before HDF5 opens the file (HDF5 can crash, not only raise, on damaged metadata).
Every dataset also carries the attribute ``sha256``, the SHA-256 of its dtype, shape and
bytes (:func:`pspin.sampling.checkpoint.array_digest`), verified as it is read. A changed
dataset raises ``ValueError`` naming the file and the dataset. Files written before
checksums existed (no seal, no ``sha256``) are still read, unchecked.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import _seed

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # only type checkers read it; typing has it from Python 3.11 only

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


FORMAT = 1
# The HDF5 user block that holds the file's seal (pspin.sampling.checkpoint.seal): room for
# the SHA-256 of a few hundred datasets.
_SEAL_SIZE = 1 << 16
_REGISTRY: dict[str, type] = {}
T = TypeVar("T")


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("saving and loading results needs h5py: pip install 'pspin[io]'") from exc
    return h5py


# The field every result ends with: when and where it ran; not compared, not in the repr.
RUN_INFO: Any = dataclasses.field(default_factory=dict, compare=False, repr=False)


@dataclass_transform(frozen_default=True, eq_default=False, field_specifiers=(dataclasses.field,))
def result_type(cls: type[T]) -> type[T]:
    """Class decorator: a frozen dataclass with array-aware equality, registered for :func:`load`.

    Adds the last field ``run_info`` (start and end time, wall time, host, version:
    see :class:`RunClock`), which ``==`` ignores: two runs with equal numbers are equal
    whenever they ran.
    """
    if cls.__name__ in _REGISTRY and _REGISTRY[cls.__name__] is not cls:
        raise TypeError(f"result type {cls.__name__} is registered twice")
    if "run_info" not in cls.__dict__.get("__annotations__", {}):
        # Classes that pass run_info themselves declare it (``run_info: dict[str, Any] =
        # RUN_INFO``) so that type checkers see it; the others get it here.
        cls.__annotations__ = {**cls.__dict__.get("__annotations__", {}), "run_info": "dict[str, Any]"}
        cls.run_info = RUN_INFO  # type: ignore[attr-defined]
    out = dataclasses.dataclass(frozen=True, eq=False, repr=False)(cls)
    _REGISTRY[cls.__name__] = out
    return out


class RunClock:
    """Times one run for its result's ``run_info``: start on creation, end at :meth:`info`."""

    def __init__(self) -> None:
        self._started = _now()
        self._t0 = time.perf_counter()

    def info(self) -> dict[str, Any]:
        """``started_at``, ``finished_at`` (UTC, ISO 8601), ``wall_seconds``, ``host``, ``pspin_version``."""
        import pspin

        return {
            "started_at": self._started,
            "finished_at": _now(),
            "wall_seconds": time.perf_counter() - self._t0,
            "host": socket.gethostname(),
            "pspin_version": pspin.__version__,
        }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _is_model(value: Any) -> bool:
    from .models import PSpinModel

    return isinstance(value, PSpinModel)


def _equal(a: Any, b: Any) -> bool:
    if _is_model(a) or _is_model(b):
        # Models compare by what they are (class, parameters, seed) and their couplings.
        return a is b or (type(a) is type(b) and a.spec() == b.spec())
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{list(value.shape)}"
    if isinstance(value, Result):
        return type(value).__name__
    if _is_model(value):
        return f"{type(value).__name__}(n={value.n}, p={list(value.degrees)})"
    if isinstance(value, dict):
        return "{...}" if value else "{}"
    if isinstance(value, (list, tuple)):
        return f"[{len(value)} items]"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Result:
    """Mixin of every result type: ``save``, equality, a short repr, ``to_dataframe``."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _equal(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self) if f.compare  # type: ignore[arg-type]
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = [f"{f.name}={_describe(getattr(self, f.name))}" for f in dataclasses.fields(self) if f.name != "params" and f.repr]  # type: ignore[arg-type]
        return f"{type(self).__name__}({', '.join(parts)})"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to an HDF5 file (atomically); :func:`pspin.load` reads it back.

        Parameters
        ----------
        path : str or path-like
            The file to write; its directory must exist. An existing file is replaced.

        Returns
        -------
        Path
            The path written.
        """
        return _save(path, self)

    def to_dataframe(self) -> Any:
        """A pandas DataFrame of the per-row arrays (one column each); needs pandas."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe needs pandas: pip install pandas") from exc
        columns = self._table()
        if not columns:
            raise TypeError(f"{type(self).__name__} has no per-row table")
        return pd.DataFrame(columns)

    def _table(self) -> dict[str, np.ndarray]:
        """Columns of ``to_dataframe``: by default every 1-D array field of the most common length."""
        arrays = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        one_d = {k: v for k, v in arrays.items() if isinstance(v, np.ndarray) and v.ndim == 1}
        if not one_d:
            return {}
        lengths = [v.shape[0] for v in one_d.values()]
        rows = max(set(lengths), key=lengths.count)
        return {k: v for k, v in one_d.items() if v.shape[0] == rows}


def _provenance(result: Any) -> dict[str, Any]:
    """The root attributes that repeat the run's seeds and times (see the module docstring)."""
    if _is_model(result):
        return _seed.model_record(result)
    params = getattr(result, "params", None) or {}
    out = {k: params[k] for k in ("seed_entropy", "seed_spawn_key", "model_seed_entropy", "model_seed_spawn_key") if k in params}
    model = getattr(result, "model", None)
    if _is_model(model):
        out.update(_seed.model_record(model))
    info = getattr(result, "run_info", None) or {}
    out.update({k: info[k] for k in ("started_at", "finished_at", "wall_seconds") if k in info})
    if "host" in info:
        out["run_host"] = info["host"]
    return {k: (str(v) if not isinstance(v, (int, float, str)) else v) for k, v in out.items()}


def _save(path: str | os.PathLike[str], value: Any) -> Path:
    h5py = _h5py()
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"directory {path.parent} does not exist")
    if path.is_dir():
        raise ValueError(f"{path} is a directory")
    import pspin

    tmp = path.with_name(path.name + ".tmp")
    try:
        with h5py.File(tmp, "w", userblock_size=_SEAL_SIZE) as f:
            f.attrs["pspin_format"] = FORMAT
            f.attrs["pspin_version"] = pspin.__version__
            f.attrs["host"] = socket.gethostname()
            f.attrs["saved_at"] = _now()
            for key, item in _provenance(value).items():
                f.attrs[key] = item
            if _is_model(value):
                _write_model(f, value)
            else:
                _write(f, value)
        from .sampling.checkpoint import seal

        seal(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def save_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write a model to an HDF5 file: its spec (seed) or, built from tensors, its couplings."""
    return _save(path, model)


# ---------------------------------------------------------------- JSON for params
def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return {"__npscalar__": value.item(), "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return {"__items__": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a results file")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return np.array(value["__ndarray__"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
    if "__npscalar__" in value:
        return np.dtype(value["dtype"]).type(value["__npscalar__"])
    if "__tuple__" in value:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {_from_json(k): _from_json(v) for k, v in value["__items__"]}
    return {k: _from_json(v) for k, v in value.items()}


def _is_array_mapping(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in value.items()
    )


# ---------------------------------------------------------------- write / read
def _digest(value: Any) -> str:
    from .sampling.checkpoint import array_digest

    return array_digest(value)


def _create_dataset(group: Any, name: str, value: Any) -> None:
    """A dataset with its SHA-256 (of what h5py reads back) in the attribute ``sha256``."""
    group.create_dataset(name, data=value)
    group[name].attrs["sha256"] = _digest(group[name][()])


def _dataset(node: Any, where: str) -> Any:
    """A dataset's value, after checking it against its SHA-256 (when it has one)."""
    value = node[()]
    stored = node.attrs.get("sha256")
    if stored is not None:
        stored = stored.decode() if isinstance(stored, bytes) else str(stored)
        if stored != _digest(value):
            raise ValueError(f"{where}: dataset {node.name!r} fails its SHA-256 checksum (damaged or edited)")
    return value


def _write(group: Any, result: Result) -> None:
    group.attrs["pspin_type"] = type(result).__name__
    none_fields = []
    for f in dataclasses.fields(result):  # type: ignore[arg-type]
        value = getattr(result, f.name)
        if value is None:
            none_fields.append(f.name)
        elif isinstance(value, np.ndarray):
            _create_dataset(group, f.name, value)
        elif isinstance(value, Result):
            _write(group.create_group(f.name), value)
        elif _is_model(value):
            _write_model(group.create_group(f.name), value)
        elif isinstance(value, tuple) and value and all(isinstance(v, Result) for v in value):
            sub = group.create_group(f.name)
            sub.attrs["pspin_sequence"] = len(value)
            for i, item in enumerate(value):
                _write(sub.create_group(str(i)), item)
        elif _is_array_mapping(value):
            sub = group.create_group(f.name)
            sub.attrs["pspin_mapping"] = json.dumps(list(value))  # keeps the order
            for key, arr in value.items():
                _create_dataset(sub, key, arr)
        elif isinstance(value, (dict, list, tuple)):
            group.attrs[f.name] = "json:" + json.dumps(_to_json(value))
        elif isinstance(value, (bool, np.bool_)):
            group.attrs[f.name] = "json:" + json.dumps(bool(value))
        elif isinstance(value, (int, float, str, np.integer, np.floating)):
            group.attrs[f.name] = value
        else:
            raise TypeError(f"cannot store field {f.name} ({type(value).__name__}) of {type(result).__name__}")
    group.attrs["none_fields"] = json.dumps(none_fields)


def _write_model(group: Any, model: Any) -> None:
    group.attrs["pspin_model"] = json.dumps(model.spec())
    group.attrs["state_rng"] = json.dumps(model._state_rng.bit_generator.state)
    if not model.seeded:
        for degree in model.degrees:
            _create_dataset(group, f"couplings_{degree}", model.packed_couplings(degree))


def _read_model(group: Any, where: str) -> Any:
    from .models import from_spec

    spec = json.loads(group.attrs["pspin_model"])
    couplings = {int(k.split("_", 1)[1]): _dataset(group[k], where) for k in group if k.startswith("couplings_")}
    try:
        model = from_spec(spec, couplings or None)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if "state_rng" in group.attrs:
        model._state_rng.bit_generator.state = json.loads(group.attrs["state_rng"])
    return model


def _read(group: Any, where: str) -> Result:
    name = group.attrs.get("pspin_type")
    if isinstance(name, bytes):
        name = name.decode()
    cls = _REGISTRY.get(str(name))
    if cls is None:
        raise ValueError(f"{where} holds no pspin result (type {name!r}); known: {sorted(_REGISTRY)}")
    none_fields = set(json.loads(group.attrs.get("none_fields", "[]")))
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in none_fields:
            values[f.name] = None
        elif f.name in group:
            node = group[f.name]
            if not hasattr(node, "keys"):  # a dataset
                values[f.name] = _dataset(node, where)
            elif "pspin_model" in node.attrs:
                values[f.name] = _read_model(node, f"{where}/{f.name}")
            elif "pspin_type" in node.attrs:
                values[f.name] = _read(node, f"{where}/{f.name}")
            elif "pspin_sequence" in node.attrs:
                values[f.name] = tuple(_read(node[str(i)], f"{where}/{f.name}/{i}") for i in range(int(node.attrs["pspin_sequence"])))
            else:
                keys = json.loads(node.attrs["pspin_mapping"])
                values[f.name] = {k: _dataset(node[k], where) for k in keys}
        elif f.name in group.attrs:
            raw = group.attrs[f.name]
            if isinstance(raw, str) and raw.startswith("json:"):
                values[f.name] = _from_json(json.loads(raw[5:]))
            elif isinstance(raw, np.generic):
                values[f.name] = raw.item()
            else:
                values[f.name] = raw
        elif f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue  # a field added after the file was written keeps its default
        else:
            raise ValueError(f"{where} lacks the field {f.name!r} of {cls.__name__}: truncated or foreign file")
    return cls(**values)


def _check_seal(path: Path) -> None:
    """The file's seal, checked with plain reads before HDF5 parses it (HDF5 can crash on
    damaged metadata): ValueError naming the file and the dataset or part that changed."""
    from .sampling.checkpoint import verify_seal

    try:
        verify_seal(path)
    except ValueError as exc:
        raise ValueError(f"{path} is damaged: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from exc


def load(path: str | os.PathLike[str]) -> Any:
    """Read a result written by ``result.save(path)``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    The result, of the type that was saved, equal to it; or the model of ``model.save``,
    rebuilt with bit-identical couplings.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        Naming the file, if it is not HDF5, truncated, or not a pspin results file.

    Examples
    --------
    >>> import os, tempfile, pspin
    >>> m = pspin.minimize(pspin.SphericalPSpin(16, 3, seed=1), 4, seed=2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = m.save(os.path.join(tmp, "minima.h5"))
    ...     bool((pspin.load(path).energies == m.energies).all())
    True
    """
    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file {path}")
    _check_seal(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file (truncated or foreign?): {exc}") from exc
    with f:
        if int(f.attrs.get("pspin_format", -1)) != FORMAT:
            raise ValueError(f"{path} is not a pspin results file of format {FORMAT}")
        try:
            if "pspin_model" in f.attrs:
                return _read_model(f, str(path))
            return _read(f, str(path))
        except ValueError as exc:
            if str(path) in str(exc):
                raise
            raise ValueError(f"{path}: {exc}") from exc
        except (OSError, RuntimeError, KeyError, TypeError, json.JSONDecodeError) as exc:
            # Damaged datasets and attributes surface as these from h5py and json (RuntimeError:
            # "Object visitation failed" and the like from damaged metadata).
            raise ValueError(f"{path} is damaged or not a pspin results file: {exc}") from exc


_METADATA = (
    "pspin", "host", "saved_at", "seed_", "model_seed_", "started_at", "finished_at", "wall_seconds", "run_host",
)


def metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file-level attributes of a results file: type, format, version, host, seeds, times."""
    h5py = _h5py()
    _check_seal(Path(path))
    try:
        f = h5py.File(Path(path), "r")
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file (truncated or foreign?): {exc}") from exc
    with f:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items() if k.startswith(_METADATA)}


def axes(ax: Any = None) -> Any:
    """The matplotlib axes to draw on: ``ax`` or a new figure's; a clear error without matplotlib."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'pspin[plot]'") from exc
    return plt.subplots()[1]
