"""Crash-safe checkpoints of a parallel-tempering run.

Layout
------
A checkpoint named ``run.h5`` is one small HDF5 file and up to two append-only series
files beside it:

``run.h5``
    The sampler's state: configurations, auxiliary data (HMC steps, cached fields),
    temperature labels, the ladder, the cumulative counters, the run's identity and
    parameters (attributes), and for each series the number of records this state
    covers (group ``series/<name>``, attributes ``count``, ``token``, ``dtype``, ``offset``,
    ``file``).
    Small (O(R K n)); rewritten whole on every save, atomically: temporary file, flush,
    fsync, rename over the old one, fsync of the directory.
``run.h5.samples``
    One record per measurement after burn-in: ``energies`` (R, K) and ``overlaps``
    (R, K(K-1)/2), by temperature.
``run.h5.snapshots``
    One record per snapshot: ``sweep`` and ``state`` (R, K, n).

A series file is a 64-byte-aligned header (magic ``PSPINSER``, then JSON with the numpy
record dtype and a random token) followed by fixed-size little-endian records, so
``numpy.fromfile(path, dtype, offset=header)`` reads it anywhere. Each save appends only
the records produced since the previous one.

Why not resizable HDF5 datasets
-------------------------------
Appending to an HDF5 dataset rewrites the file's chunk index, object headers and
superblock in place. HDF5 has no journal: a crash (or SIGKILL after a scheduler's grace
period) in the middle of such a write can leave the whole file unreadable, the state
included. Keeping the atomic rename for the small state and raw append-only files for
the series keeps the guarantee that a crash at any moment leaves a complete, consistent
checkpoint:

1. a save first appends the new records to each series and fsyncs them;
2. only then replaces the state file, which records how many records it covers.

A crash during 1 leaves the previous state, whose records all precede the torn tail; a
crash during 2 leaves the previous or the new state, whose records were made durable
before it. On resume only the recorded number of records is read, and the next save
truncates each series there before appending, so a torn tail is dropped. The token,
stored in both the state and the series header, ties them together: a series file left
by another run is refused instead of being read.

Format 1 (everything rewritten in the HDF5 file on every save) is still read; the next
save writes format 2.

Signals
-------
While a run is under way, :class:`SignalGuard` turns SIGINT into ``KeyboardInterrupt``
and SIGTERM (what batch schedulers send before killing a job) into :class:`Terminated`, a
subclass of ``KeyboardInterrupt``. Either is raised between chunks of sweeps (every
~0.2 s), never in the middle of a chunk's bookkeeping or of a save; the run saves and
re-raises it, so ``except KeyboardInterrupt`` catches both and the caller chooses the
exit status (``128 + exc.signum`` is the shell's convention for SIGTERM).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import secrets
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

FORMAT_VERSION = 2
#: Formats this module reads (format 1 kept the series inside the HDF5 file).
READABLE_FORMATS = (1, 2)

_MAGIC = b"PSPINSER"
_ALIGN = 64


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError("checkpoints need h5py: pip install 'pspin[io]'") from exc
    return h5py


def require_h5py() -> None:
    """Raise ImportError now, before a run starts, if checkpoints could not be written."""
    _h5py()


def couplings_fingerprint(model: Any) -> str:
    """SHA-256 of the model's packed couplings: identifies the disorder sample exactly."""
    digest = hashlib.sha256()
    for degree in model.degrees:
        digest.update(str(degree).encode())
        digest.update(np.ascontiguousarray(model.packed_couplings(degree)).data)
    return digest.hexdigest()


def check_writable(path: Path) -> None:
    """Fail before the run starts if the checkpoint cannot be written there."""
    directory = path.parent  # Path("run.h5").parent is Path(".")
    if not directory.is_dir():
        raise ValueError(f"checkpoint directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"checkpoint directory {directory} is not writable")
    if path.exists() and path.is_dir():
        raise ValueError(f"checkpoint path {path} is a directory")


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- series files
def _encode_dtype(dtype: np.dtype) -> str:
    return repr(np.lib.format.dtype_to_descr(dtype))


def _decode_dtype(text: str) -> np.dtype:
    return np.dtype(np.lib.format.descr_to_dtype(ast.literal_eval(text)))


def _write_header(path: Path, dtype: np.dtype, token: str) -> int:
    """Create (or empty) a series file with its header; returns the header's size."""
    meta = json.dumps({"dtype": _encode_dtype(dtype), "token": token}).encode()
    size = -(-(len(_MAGIC) + 4 + len(meta)) // _ALIGN) * _ALIGN
    head = _MAGIC + len(meta).to_bytes(4, "little") + meta
    with open(path, "wb") as f:
        f.write(head.ljust(size, b" "))
        f.flush()
        os.fsync(f.fileno())
    # The directory entry must be durable before a state file that names it is.
    _fsync_directory(path.parent)
    return size


def _read_header(path: Path) -> tuple[np.dtype, str, int]:
    """Record dtype, token and header size of a series file."""
    with open(path, "rb") as f:
        head = f.read(len(_MAGIC) + 4)
        if len(head) < len(_MAGIC) + 4 or head[: len(_MAGIC)] != _MAGIC:
            raise ValueError(f"{path} is not a pspin series file")
        length = int.from_bytes(head[len(_MAGIC) :], "little")
        meta = json.loads(f.read(length).decode())
    size = -(-(len(_MAGIC) + 4 + length) // _ALIGN) * _ALIGN
    return _decode_dtype(meta["dtype"]), str(meta["token"]), size


class _Series:
    """One append-only series file and the number of its records the state on disk covers."""

    def __init__(self, path: Path, dtype: np.dtype, token: str, offset: int, committed: int) -> None:
        self.path, self.dtype, self.token, self.offset = path, dtype, token, offset
        self.committed = committed

    @classmethod
    def create(cls, path: Path, dtype: np.dtype) -> _Series:
        token = secrets.token_hex(16)
        return cls(path, dtype, token, _write_header(path, dtype, token), 0)

    def append(self, records: np.ndarray) -> int:
        """Write ``records`` after the committed ones (dropping any torn tail), fsync;
        returns the new record count, which the caller commits once the state names it."""
        if records.dtype != self.dtype:
            raise ValueError(f"series {self.path}: records of dtype {records.dtype}, file holds {self.dtype}")
        with open(self.path, "r+b") as f:
            f.seek(self.offset + self.committed * self.dtype.itemsize)
            f.truncate()
            f.write(np.ascontiguousarray(records).tobytes())
            f.flush()
            os.fsync(f.fileno())
        return self.committed + records.shape[0]

    def read(self) -> np.ndarray:
        """The committed records."""
        expected = self.offset + self.committed * self.dtype.itemsize
        size = self.path.stat().st_size
        if size < expected:
            raise ValueError(
                f"series file {self.path} is truncated: {(size - self.offset) // max(self.dtype.itemsize, 1)} "
                f"records, the checkpoint names {self.committed}"
            )
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return np.fromfile(f, dtype=self.dtype, count=self.committed)


# ---------------------------------------------------------------------- checkpoint
class Checkpoint:
    """The state file ``path`` and its series files ``path.<name>``.

    Parameters
    ----------
    path : Path
        The state file (HDF5). Nothing is read or written until :meth:`load_state`,
        :meth:`load_series` or :meth:`save`.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._series: dict[str, _Series] = {}

    def series_path(self, name: str) -> Path:
        """Where the series ``name`` lives: beside the state file, ``<state>.<name>``."""
        return self.path.with_name(f"{self.path.name}.{name}")

    def committed(self, name: str) -> int:
        """Records of series ``name`` that the state on disk covers (0 if none yet)."""
        series = self._series.get(name)
        return 0 if series is None else series.committed

    def load_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Attributes and arrays of the state file (format 1: with its series arrays).

        Reads nothing else, so a checkpoint of another run can be refused before its
        series are touched.
        """
        h5py = _h5py()
        with h5py.File(self.path, "r") as f:
            version = int(f.attrs.get("format_version", -1))
            if version not in READABLE_FORMATS:
                raise ValueError(f"{self.path} is not a pspin checkpoint of format {READABLE_FORMATS}")
            attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
            arrays: dict[str, np.ndarray] = {}
            series: dict[str, dict[str, Any]] = {}

            def visit(name: str, obj: Any) -> None:
                if isinstance(obj, h5py.Dataset):
                    arrays[name] = obj[()]
                elif name.startswith("series/"):
                    series[name.split("/", 1)[1]] = dict(obj.attrs)

            f.visititems(visit)
        self._series = {}
        for name, meta in series.items():
            dtype = _decode_dtype(str(meta["dtype"]))
            self._series[name] = _Series(
                self.series_path(name), dtype, str(meta["token"]), int(meta["offset"]), int(meta["count"])
            )
        return attrs, arrays

    def load_series(self) -> dict[str, np.ndarray]:
        """The committed records of every series the state names (after :meth:`load_state`)."""
        out: dict[str, np.ndarray] = {}
        for name, series in self._series.items():
            if not series.path.exists():
                raise ValueError(
                    f"checkpoint {self.path} names the series file {series.path.name}, which is missing "
                    "(a checkpoint is the .h5 file together with its series files)"
                )
            dtype, token, offset = _read_header(series.path)
            if token != series.token or dtype != series.dtype or offset != series.offset:
                raise ValueError(f"series file {series.path} belongs to another checkpoint than {self.path}")
            out[name] = series.read()
        return out

    def save(self, attrs: Mapping[str, Any], arrays: Mapping[str, np.ndarray], new_records: Mapping[str, np.ndarray]) -> None:
        """Append ``new_records`` to the series, then replace the state atomically.

        ``new_records[name]`` are the records after :meth:`committed` ``(name)``. A series
        without a file yet (or whose file this object has not committed to) starts a new
        one. A crash at any moment leaves the previous checkpoint or this one.
        """
        counts: dict[str, int] = {}
        for name, records in new_records.items():
            series = self._series.get(name)
            if series is None and records.shape[0] == 0:
                continue
            if series is None:
                series = self._series[name] = _Series.create(self.series_path(name), records.dtype)
            counts[name] = series.append(records)
        h5py = _h5py()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with h5py.File(tmp, "w") as f:
            f.attrs["format_version"] = FORMAT_VERSION
            for key, value in attrs.items():
                f.attrs[key] = value
            for key, value in arrays.items():
                f.create_dataset(key, data=value)
            for name, series in self._series.items():
                group = f.create_group(f"series/{name}")
                group.attrs["count"] = counts.get(name, series.committed)
                group.attrs["token"] = series.token
                group.attrs["dtype"] = _encode_dtype(series.dtype)
                group.attrs["offset"] = series.offset
                group.attrs["file"] = series.path.name
            f.flush()
        with open(tmp, "rb+") as raw:
            os.fsync(raw.fileno())
        os.replace(tmp, self.path)
        _fsync_directory(self.path.parent)
        for name, count in counts.items():
            self._series[name].committed = count


# ---------------------------------------------------------------------- signals
class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a checkpointed run; the checkpoint was saved first.

    A subclass of ``KeyboardInterrupt``, so code that handles Ctrl-C handles it too.

    Attributes
    ----------
    signum : int
        The signal received (``signal.SIGTERM``).
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signum = int(signum)


class SignalGuard:
    """Context manager: SIGINT and SIGTERM are noted and raised at safe points only.

    On entry (in the main thread only: Python runs signal handlers there) the handlers
    of SIGINT and SIGTERM are replaced by one that only notes the signal; on exit the
    previous ones come back. A signal that was ignored (``SIG_IGN``, e.g. SIGINT of a
    background job) stays ignored, and one whose handler was not set from Python is
    left alone. :meth:`check` raises the first noted signal: ``KeyboardInterrupt`` for
    SIGINT, :class:`Terminated` for SIGTERM.

    Raising from the handler itself could land anywhere, e.g. after the engine ran a
    chunk but before its measurements were kept, or in the middle of a save; the
    sampler then holds sweeps without their samples, and so would its checkpoint.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self._pending: int | None = None

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in self._SIGNALS:
            previous = signal.getsignal(signum)
            if previous is None or previous == signal.SIG_IGN:
                continue
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # The first signal decides the exception; repeating Ctrl-C must not cut a save short.
        if self._pending is None:
            self._pending = signum

    def check(self) -> None:
        """Raise the first signal noted since the last check, if any."""
        signum, self._pending = self._pending, None
        if signum is not None:
            raise Terminated(signum) if signum == signal.SIGTERM else KeyboardInterrupt()
