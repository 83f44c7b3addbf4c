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

Integrity (format 3)
--------------------
Every save records checksums that a resume verifies before anything is restored:

- the state file is *sealed* (:func:`seal`): its HDF5 user block (the first
  ``SEAL_SIZE`` bytes, which HDF5 ignores) holds the file's size, the SHA-256 of all the
  bytes after it and the offset, size and SHA-256 of each dataset's bytes. A resume checks
  the seal with plain reads before HDF5 opens the file, because HDF5 is not robust to
  damaged metadata (a flipped byte there can crash the process rather than raise); a
  mismatch names the dataset whose bytes changed, or says the metadata changed;
- each dataset of the state file carries the attribute ``sha256``: SHA-256 of its dtype,
  shape and bytes;
- the root attributes (identity, parameters, ``sweeps_done``, the list of datasets) carry
  ``attrs_sha256``, a SHA-256 of all the others (their names, types and values), and each
  ``series/<name>`` group the same over its own attributes;
- each series group records ``sha256``, the SHA-256 of the bytes of its first ``count``
  records: one digest per save of the prefix that save covers (kept as a running hash,
  so a save still costs O(new records); a resume reads and hashes the prefix anyway).

Records beyond ``count`` (a torn or extended tail) are outside the digest and are dropped
by the next save, so they are harmless. The sampler then validates what the state means
(:meth:`pspin.sampling.ParallelTempering.run`): spins, norms, caches recomputed from the
states, ladder, counters and the sweep count against the series. Any failure raises
:class:`CheckpointDamaged` (a ``ValueError``) naming the file and what is wrong; nothing
is restored and nothing is written.

The previous good state is kept: each save first hard-links the current state file to
``run.h5.prev`` (atomically replacing the older one), then renames the new state over
``run.h5``. When ``run.h5`` is damaged the error says whether ``run.h5.prev`` passes its
checksums and how many sweeps it holds; resuming from it is an explicit step (move it
over ``run.h5``), never a silent fallback. It shares the series files, of which it covers
a prefix.

Formats 1 (everything rewritten in the HDF5 file on every save) and 2 (no checksums) are
still read, with the sampler's validation of the state but without checksums; the next
save writes format 3. A file that claims format 1 or 2 but carries checksums (a format
edited down) is refused.

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
import shutil
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

FORMAT_VERSION = 3
#: Formats this module reads (format 1 kept the series inside the HDF5 file; format 2
#: had no checksums).
READABLE_FORMATS = (1, 2, 3)
#: The first format with checksums.
CHECKSUM_FORMAT = 3

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


class CheckpointDamaged(ValueError):
    """A checkpoint failed its checksums or the validation of its state.

    The message names the file and what is wrong, and says whether the previous save
    (``<checkpoint>.prev``) is intact. Nothing was restored or written.
    """


def array_digest(value: Any) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    a = np.asarray(value)
    digest = hashlib.sha256()
    digest.update(a.dtype.str.encode())
    digest.update(repr(a.shape).encode())
    if a.dtype.kind == "O":
        digest.update(repr(a.tolist()).encode())
    else:
        digest.update(np.ascontiguousarray(a).reshape(-1).view(np.uint8).data)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _attribute_digest(value: Any) -> str:
    """SHA-256 of one attribute's type and value, as h5py reads it back."""
    value = _plain(value)
    if isinstance(value, np.ndarray):
        return array_digest(value)
    if isinstance(value, bytes):
        return hashlib.sha256(b"bytes:" + value).hexdigest()
    return hashlib.sha256(f"{type(value).__name__}:{value!r}".encode()).hexdigest()


_ATTRS_DIGEST = "attrs_sha256"


def _attribute_digests(attrs: Mapping[str, Any]) -> str:
    """JSON of {name: SHA-256} over every attribute but the digests themselves."""
    return json.dumps({k: _attribute_digest(v) for k, v in sorted(attrs.items()) if k != _ATTRS_DIGEST})


def _check_attribute_digests(attrs: Mapping[str, Any], where: str) -> str | None:
    """What is wrong with the attributes of ``where`` (None: they match their digests)."""
    if _ATTRS_DIGEST not in attrs:
        return f"{where} lacks the checksums of its attributes ({_ATTRS_DIGEST})"
    try:
        stored = json.loads(str(_plain(attrs[_ATTRS_DIGEST])))
        if not isinstance(stored, dict):
            raise ValueError("not a mapping")
    except ValueError as exc:
        return f"the checksums of the attributes of {where} are unreadable ({exc})"
    actual = {k: v for k, v in attrs.items() if k != _ATTRS_DIGEST}
    missing = sorted(set(stored) - set(actual))
    if missing:
        return f"{where} lacks the attribute(s) {missing}"
    extra = sorted(set(actual) - set(stored))
    if extra:
        return f"{where} has attribute(s) {extra} that no save wrote"
    edited = sorted(k for k in stored if stored[k] != _attribute_digest(actual[k]))
    if edited:
        return f"attribute(s) {edited} of {where} fail their SHA-256 checksum (edited or damaged)"
    return None


# ---------------------------------------------------------------------- file seal
#: The HDF5 user block (ignored by HDF5) that holds the seal of a state file.
SEAL_SIZE = 8192
_SEAL_MAGIC = b"PSPINSHA"


def _sha256_range(raw: Any, start: int, size: int | None = None) -> str:
    digest = hashlib.sha256()
    raw.seek(start)
    left = size
    while left is None or left > 0:
        block = raw.read(1 << 20 if left is None else min(1 << 20, left))
        if not block:
            break
        digest.update(block)
        if left is not None:
            left -= len(block)
    return digest.hexdigest()


def seal(path: Path) -> None:
    """Write the seal of an HDF5 file created with a user block (``userblock_size``, e.g.
    ``SEAL_SIZE``): in the user block, its size, the file's size, the SHA-256 of every byte
    after it and the offset, size and SHA-256 of each contiguous dataset's bytes (only the
    whole-file digest if they do not fit).

    :func:`verify_seal` checks it with plain reads, before HDF5 parses anything: HDF5
    itself is not robust to damaged metadata (a flipped byte there can crash the process,
    not only raise), so a damaged file must never reach it.
    """
    h5py = _h5py()
    ranges: list[tuple[str, int, int]] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            offset, size = obj.id.get_offset(), obj.id.get_storage_size()
            if offset is not None and size:
                ranges.append((name, int(offset), int(size)))

    with h5py.File(path, "r") as f:
        block = int(f.userblock_size)
        f.visititems(visit)
    if block < 512:
        raise ValueError(f"{path} has no user block to seal")
    with open(path, "r+b") as raw:
        size = os.fstat(raw.fileno()).st_size
        whole = _sha256_range(raw, block)
        datasets = [[name, offset, length, _sha256_range(raw, offset, length)] for name, offset, length in ranges]
        for entries in (datasets, []):  # without the datasets if they do not fit
            manifest = json.dumps({"size": size, "sha256": whole, "datasets": entries}).encode()
            blob = _SEAL_MAGIC + block.to_bytes(4, "little") + len(manifest).to_bytes(4, "little") + manifest
            if len(blob) <= block:
                break
        raw.seek(0)
        raw.write(blob.ljust(block, b"\0"))
        raw.flush()


class _SealBroken(ValueError):
    pass


def verify_seal(path: Path) -> bool:
    """Check the seal of :func:`seal` with plain reads: True if the file is sealed and
    intact, False if it carries no seal (written before seals existed). Raises ValueError
    saying what is wrong: size changed, a named dataset's bytes changed, or the HDF5
    metadata (structure, attributes) changed."""
    with open(path, "rb") as raw:
        head = raw.read(len(_SEAL_MAGIC) + 8)
        if len(head) < len(_SEAL_MAGIC) + 8 or head[: len(_SEAL_MAGIC)] != _SEAL_MAGIC:
            return False
        block = int.from_bytes(head[len(_SEAL_MAGIC) : len(_SEAL_MAGIC) + 4], "little")
        length = int.from_bytes(head[len(_SEAL_MAGIC) + 4 :], "little")
        try:
            if block < 512 or block & (block - 1) or length > block - len(head):
                raise ValueError(f"user block {block}, manifest of {length} bytes")
            text = raw.read(length)
            if len(text) < length:
                raise _SealBroken(f"it has {os.fstat(raw.fileno()).st_size} bytes, less than its seal: truncated")
            manifest = json.loads(text.decode())
            expected_size, expected = int(manifest["size"]), str(manifest["sha256"])
            datasets = [(str(n), int(o), int(k), str(d)) for n, o, k, d in manifest["datasets"]]
        except _SealBroken:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise _SealBroken(f"its seal (the SHA-256 manifest at its start) is unreadable ({exc})") from exc
        size = os.fstat(raw.fileno()).st_size
        if size != expected_size:
            raise _SealBroken(
                f"it has {size} bytes, the save wrote {expected_size}: truncated, extended or rewritten since "
                "(its SHA-256 seal fails)"
            )
        if _sha256_range(raw, block) == expected:
            return True
        changed = [name for name, offset, count, digest in datasets if _sha256_range(raw, offset, count) != digest]
    if changed:
        names = ", ".join(repr(n) for n in changed)
        raise _SealBroken(f"dataset {names} fails its SHA-256 checksum (its bytes changed on disk)")
    raise _SealBroken("its HDF5 metadata (structure or attributes) fails the file's SHA-256 checksum (changed on disk)")


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


def _record_bytes(records: np.ndarray) -> memoryview:
    return np.ascontiguousarray(records).reshape(-1).view(np.uint8).data


class _Series:
    """One append-only series file and the number of its records the state on disk covers.

    ``hasher`` is the running SHA-256 of the committed records (None until they are read
    or written by this object); ``pending`` that of the records a save is committing.
    """

    def __init__(self, path: Path, dtype: np.dtype, token: str, offset: int, committed: int,
                 digest: str | None = None) -> None:
        self.path, self.dtype, self.token, self.offset = path, dtype, token, offset
        self.committed = committed
        self.digest = digest  # the state file's SHA-256 of the committed records (format 3)
        self.hasher: Any = None
        self.pending: Any = None

    @classmethod
    def create(cls, path: Path, dtype: np.dtype) -> _Series:
        token = secrets.token_hex(16)
        series = cls(path, dtype, token, _write_header(path, dtype, token), 0)
        series.hasher = hashlib.sha256()
        return series

    def append(self, records: np.ndarray) -> int:
        """Write ``records`` after the committed ones (dropping any torn tail), fsync;
        returns the new record count, which the caller commits once the state names it.
        ``pending`` is then the SHA-256 of the records up to that count."""
        if records.dtype != self.dtype:
            raise ValueError(f"series {self.path}: records of dtype {records.dtype}, file holds {self.dtype}")
        if self.hasher is None:
            self.hasher = hashlib.sha256(_record_bytes(self.read()))
        with open(self.path, "r+b") as f:
            f.seek(self.offset + self.committed * self.dtype.itemsize)
            f.truncate()
            f.write(np.ascontiguousarray(records).tobytes())
            f.flush()
            os.fsync(f.fileno())
        self.pending = self.hasher.copy()
        self.pending.update(_record_bytes(records))
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


_SERIES_KEYS = ("count", "token", "dtype", "offset", "file")
_PREVIOUS = ".prev"


# ---------------------------------------------------------------------- checkpoint
class Checkpoint:
    """The state file ``path``, its series files ``path.<name>`` and the previous state
    ``path.prev``.

    Parameters
    ----------
    path : Path
        The state file (HDF5). Nothing is read or written until :meth:`load_state`,
        :meth:`load_series` or :meth:`save`.
    series_of : Path, optional
        The state file whose series files this one uses (for ``run.h5.prev``: those of
        ``run.h5``); default ``path``.
    """

    def __init__(self, path: Path, series_of: Path | None = None) -> None:
        self.path = Path(path)
        self._series_of = Path(series_of) if series_of is not None else self.path
        self._series: dict[str, _Series] = {}

    def series_path(self, name: str) -> Path:
        """Where the series ``name`` lives: beside the state file, ``<state>.<name>``."""
        return self._series_of.with_name(f"{self._series_of.name}.{name}")

    @property
    def previous_path(self) -> Path:
        """The state of the save before the latest one (``<state>.prev``), kept by :meth:`save`."""
        return self.path.with_name(self.path.name + _PREVIOUS)

    def files(self) -> list[Path]:
        """Every file of this checkpoint that exists: state, previous state, series."""
        names = [self.path, self.previous_path] + [self.series_path(n) for n in ("samples", "snapshots")]
        return [p for p in names if p.exists()]

    def committed(self, name: str) -> int:
        """Records of series ``name`` that the state on disk covers (0 if none yet)."""
        series = self._series.get(name)
        return 0 if series is None else series.committed

    def damaged(self, problem: str) -> CheckpointDamaged:
        """The error for a damaged checkpoint: names the file, the fault and the previous save."""
        message = f"checkpoint {self.path} is damaged: {problem}"
        previous = self.previous_path
        if self._series_of == self.path and previous.exists():
            try:
                attrs, _ = Checkpoint(previous, series_of=self.path).load_state()
            except ValueError:
                message += f". The previous save {previous} is damaged too"
            else:
                message += (
                    f". The previous save {previous} passes its checksums ({attrs.get('sweeps_done')} sweeps): "
                    f"to resume from it, move it over the damaged file (mv {previous} {self.path})"
                )
        return CheckpointDamaged(message)

    def load_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Attributes and arrays of the state file (format 1: with its series arrays),
        after checking the checksums (format 3).

        Reads nothing else, so a checkpoint of another run can be refused before its
        series are touched. Raises :class:`CheckpointDamaged` naming the file and the
        fault if it is unreadable, truncated or fails a checksum.
        """
        h5py = _h5py()
        arrays: dict[str, np.ndarray] = {}
        dataset_attrs: dict[str, dict[str, Any]] = {}
        groups: dict[str, dict[str, Any]] = {}
        try:
            sealed = verify_seal(self.path)  # plain reads: nothing damaged reaches HDF5
        except _SealBroken as exc:
            raise self.damaged(str(exc)) from exc
        except OSError as exc:
            raise self.damaged(f"it cannot be read ({exc})") from exc
        try:
            with h5py.File(self.path, "r") as f:
                raw_attrs = {k: f.attrs[k] for k in f.attrs}

                def visit(name: str, obj: Any) -> None:
                    if isinstance(obj, h5py.Dataset):
                        arrays[name] = obj[()]
                        dataset_attrs[name] = {k: obj.attrs[k] for k in obj.attrs}
                    else:
                        groups[name] = {k: obj.attrs[k] for k in obj.attrs}

                f.visititems(visit)
        except Exception as exc:  # h5py raises OSError, RuntimeError, KeyError, ... on damage
            raise self.damaged(f"it is not a readable HDF5 file (truncated or damaged: {type(exc).__name__}: {exc})") from exc
        attrs = {k: _plain(v) for k, v in raw_attrs.items()}
        try:
            version = int(attrs.get("format_version", -1))
        except (TypeError, ValueError) as exc:
            raise self.damaged(f"its format_version {attrs.get('format_version')!r} is unreadable") from exc
        if version not in READABLE_FORMATS:
            raise ValueError(f"{self.path} is not a pspin checkpoint of format {READABLE_FORMATS}")
        series_groups = {k.split("/", 1)[1]: v for k, v in groups.items() if k.startswith("series/")}
        if version >= CHECKSUM_FORMAT:
            if not sealed:
                raise self.damaged(f"it lacks the seal of format {version} (its first {SEAL_SIZE} bytes were changed)")
            self._verify(raw_attrs, arrays, dataset_attrs, series_groups)
        elif _ATTRS_DIGEST in attrs or any("sha256" in a for a in dataset_attrs.values()):
            raise self.damaged(f"it says format {version} but carries the checksums of format {CHECKSUM_FORMAT}")
        self._series = {}
        for name, meta in series_groups.items():
            missing = [k for k in _SERIES_KEYS if k not in meta]
            if missing:
                raise self.damaged(f"the series group {name!r} lacks {missing}")
            try:
                dtype = _decode_dtype(str(_plain(meta["dtype"])))
                series = _Series(
                    self.series_path(name), dtype, str(_plain(meta["token"])), int(meta["offset"]), int(meta["count"]),
                    str(_plain(meta["sha256"])) if "sha256" in meta else None,
                )
            except (TypeError, ValueError, SyntaxError) as exc:
                raise self.damaged(f"the series group {name!r} is unreadable ({exc})") from exc
            if series.committed < 0 or series.offset < len(_MAGIC) + 4:
                raise self.damaged(f"the series group {name!r} names {series.committed} records at offset {series.offset}")
            self._series[name] = series
        attrs["format_version"] = version
        return attrs, arrays

    def _verify(self, raw_attrs: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                dataset_attrs: Mapping[str, Mapping[str, Any]], series_groups: Mapping[str, Mapping[str, Any]]) -> None:
        """The checksums of format 3: attributes, each dataset, each series group."""
        problem = _check_attribute_digests(raw_attrs, "the root")
        if problem:
            raise self.damaged(problem)
        try:
            listed = set(json.loads(str(_plain(raw_attrs["datasets"]))))
            listed_series = set(json.loads(str(_plain(raw_attrs["series"]))))
        except (KeyError, ValueError, TypeError) as exc:
            raise self.damaged(f"its list of datasets is unreadable ({exc})") from exc
        missing = sorted(listed - set(arrays))
        if missing:
            raise self.damaged(f"it lacks the dataset(s) {missing}")
        extra = sorted(set(arrays) - listed)
        if extra:
            raise self.damaged(f"it has dataset(s) {extra} that no save wrote")
        for name in sorted(arrays):
            stored = dataset_attrs[name].get("sha256")
            if stored is None:
                raise self.damaged(f"dataset {name!r} lacks its checksum")
            if str(_plain(stored)) != array_digest(arrays[name]):
                raise self.damaged(f"dataset {name!r} fails its SHA-256 checksum (its values were changed)")
        if set(series_groups) != listed_series:
            raise self.damaged(f"it has the series groups {sorted(series_groups)}, its list says {sorted(listed_series)}")
        for name, meta in series_groups.items():
            problem = _check_attribute_digests(meta, f"the series group {name!r}")
            if problem:
                raise self.damaged(problem)
            if "sha256" not in meta:
                raise self.damaged(f"the series group {name!r} lacks the checksum of its records")

    def load_series(self) -> dict[str, np.ndarray]:
        """The committed records of every series the state names (after :meth:`load_state`),
        checked against their SHA-256 (format 3)."""
        out: dict[str, np.ndarray] = {}
        for name, series in self._series.items():
            if not series.path.exists():
                raise self.damaged(
                    f"it names the series file {series.path.name}, which is missing "
                    "(a checkpoint is the .h5 file together with its series files)"
                )
            try:
                dtype, token, offset = _read_header(series.path)
            except (ValueError, OSError, KeyError, SyntaxError, TypeError) as exc:
                raise self.damaged(f"the header of the series file {series.path.name} is unreadable ({exc})") from exc
            if token != series.token or dtype != series.dtype or offset != series.offset:
                raise self.damaged(f"series file {series.path} belongs to another checkpoint than {self.path}")
            try:
                records = series.read()
            except ValueError as exc:
                raise self.damaged(str(exc)) from exc
            hasher = hashlib.sha256(_record_bytes(records))
            if series.digest is not None and hasher.hexdigest() != series.digest:
                raise self.damaged(
                    f"the series file {series.path.name} fails its SHA-256 checksum: its first {series.committed} "
                    "records were changed (or it is the series of another save)"
                )
            series.hasher = hasher
            out[name] = records
        return out

    def save(self, attrs: Mapping[str, Any], arrays: Mapping[str, np.ndarray], new_records: Mapping[str, np.ndarray]) -> None:
        """Append ``new_records`` to the series, then replace the state atomically,
        keeping the state it replaces as ``<state>.prev``.

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
        with h5py.File(tmp, "w", userblock_size=SEAL_SIZE) as f:
            f.attrs["format_version"] = FORMAT_VERSION
            for key, value in attrs.items():
                f.attrs[key] = value
            f.attrs["datasets"] = json.dumps(sorted(arrays))
            f.attrs["series"] = json.dumps(sorted(self._series))
            for key, value in arrays.items():
                f.create_dataset(key, data=value)
                # The digest of what h5py reads back, so that a load compares like with like.
                f[key].attrs["sha256"] = array_digest(f[key][()])
            for name, series in self._series.items():
                group = f.create_group(f"series/{name}")
                group.attrs["count"] = counts.get(name, series.committed)
                group.attrs["token"] = series.token
                group.attrs["dtype"] = _encode_dtype(series.dtype)
                group.attrs["offset"] = series.offset
                group.attrs["file"] = series.path.name
                hasher = series.pending if name in counts else series.hasher
                if hasher is None:  # a series read by load_state only: hash its committed records
                    hasher = series.hasher = hashlib.sha256(_record_bytes(series.read()))
                group.attrs["sha256"] = hasher.hexdigest()
                group.attrs[_ATTRS_DIGEST] = _attribute_digests({k: group.attrs[k] for k in group.attrs})
            f.attrs[_ATTRS_DIGEST] = _attribute_digests({k: f.attrs[k] for k in f.attrs})
            f.flush()
        seal(tmp)
        with open(tmp, "rb+") as raw:
            os.fsync(raw.fileno())
        self._keep_previous()
        os.replace(tmp, self.path)
        _fsync_directory(self.path.parent)
        for name, count in counts.items():
            series = self._series[name]
            series.committed, series.hasher, series.pending = count, series.pending, None

    def _keep_previous(self) -> None:
        """The current state becomes ``<state>.prev`` (a hard link, or a copy where links
        fail), atomically; with no current state, a stale ``.prev`` of another run goes."""
        previous = self.previous_path
        if not self.path.exists():
            previous.unlink(missing_ok=True)
            return
        staged = previous.with_name(previous.name + ".tmp")
        staged.unlink(missing_ok=True)
        try:
            os.link(self.path, staged)
        except OSError:  # pragma: no cover - file systems without hard links
            shutil.copy2(self.path, staged)
        os.replace(staged, previous)


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

    def take(self) -> int | None:
        """The first signal noted since the last check or take, if any (and forget it)."""
        signum, self._pending = self._pending, None
        return signum

    def check(self) -> None:
        """Raise the first signal noted since the last check, if any."""
        raise_signal(self.take())


def raise_signal(signum: int | None) -> None:
    """Raise what :meth:`SignalGuard.check` raises for ``signum`` (nothing for None)."""
    if signum is not None:
        raise Terminated(signum) if signum == signal.SIGTERM else KeyboardInterrupt()
