"""Damaged checkpoints and results files: every variant is refused with a ValueError that
names the file and the fault, or is provably harmless (the resumed run is bit-identical to
the uninterrupted one). Never a silent wrong resume, never h5py's raw OSError, RuntimeError
("Object visitation failed") or a KeyError.

The variants (issue 12's audit, extended): bytes flipped on disk in every dataset, in the
series files and in the HDF5 metadata; values edited with and without the checksums
recomputed (so the validation of the state is tested on its own); truncated files; missing
datasets; wrong types and shapes; edited attributes; series files truncated, extended,
swapped, missing or from another run or save. Also: the previous save (run.h5.prev), the
checksums of results files, the lock on run() and the memory check.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pspin
import pytest
from _tempering_checks import same_run as _same
from pspin.sampling import ParallelTempering, geometric_temperatures, tempering
from pspin.sampling import checkpoint as ckpt

_MODEL = pspin.IsingPSpin(16, 3, seed=4)
_SPHERE = pspin.SphericalPSpin(12, 3, seed=2)
_TEMPS = geometric_temperatures(0.4, 1.5, 4)
_KW = {"burn_in": 200, "sample_every": 3, "snapshot_every": 50}
_HELD, _TARGET = 600, 900
_FILES = ("run.h5", "run.h5.prev", "run.h5.samples", "run.h5.snapshots")


def _pt(model=_MODEL, seed: int = 9) -> ParallelTempering:
    return ParallelTempering(model, _TEMPS, seed=seed, adaptive=True)


def _build(directory: Path, model, seed: int = 9, stops=(300, 450, _HELD)) -> Path:
    """A checkpoint saved at each of ``stops`` (so run.h5.prev exists)."""
    path = directory / "run.h5"
    pt = _pt(model, seed)
    for stop in stops:
        pt.run(stop, checkpoint=path, **_KW)
    return path


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("bases")
    out = {}
    for name, model in (("ising", _MODEL), ("sphere", _SPHERE)):
        (root / name).mkdir()
        out[name] = _build(root / name, model)
        out[name + "_reference"] = _pt(model).run(_TARGET, **_KW)
    # The same run saved later (same series token, more records), an earlier save of it
    # (fewer records) and the series of another run.
    (root / "later").mkdir()
    later = root / "later" / "run.h5"
    for f in _FILES:
        shutil.copy(out["ising"].with_name(f), later.with_name(f))
    _pt().run(_HELD + 150, checkpoint=later, **_KW)
    out["later"] = later
    (root / "earlier").mkdir()
    out["earlier"] = _build(root / "earlier", _MODEL, stops=(300, 450))
    (root / "other").mkdir()
    out["other"] = _build(root / "other", _MODEL, seed=10)
    return out


# ---------------------------------------------------------------------- damage tools
def _flip(path: Path, offset: int, mask: int = 0xFF) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ mask]))


def _data_range(path: Path, name: str) -> tuple[int, int]:
    with h5py.File(path, "r") as f:
        ds = f[name]
        return int(ds.id.get_offset()), int(ds.id.get_storage_size())


def _flip_dataset(name: str, where: float) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        start, size = _data_range(path, name)
        _flip(path, start + min(size - 1, int(where * size)), 0x10)

    return _resealable(damage)


def _series(path: Path, name: str) -> tuple[Path, np.dtype, int, int]:
    """Series file, record dtype, header size and committed count."""
    file = path.with_name(f"{path.name}.{name}")
    dtype, _, offset = ckpt._read_header(file)
    with h5py.File(path, "r") as f:
        count = int(f[f"series/{name}"].attrs["count"])
    return file, dtype, offset, count


def _flip_series(name: str, record: int, byte: int = 3) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        file, dtype, offset, count = _series(path, name)
        _flip(file, offset + (record % count) * dtype.itemsize + byte, 0x04)

    return damage


def _resign(path: Path) -> None:
    """Recompute every checksum, as a tool that edits the file knowingly would: what is
    left to catch an edit is the validation of the state."""
    with h5py.File(path, "a") as f:
        names = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                names.append(name)
                obj.attrs["sha256"] = ckpt.array_digest(obj[()])

        f.visititems(visit)
        series = sorted(f["series"]) if "series" in f else []
        for name in series:
            group = f[f"series/{name}"]
            file = path.with_name(f"{path.name}.{name}")
            dtype, _, offset = ckpt._read_header(file)
            records = np.fromfile(file, dtype=dtype, offset=offset, count=int(group.attrs["count"]))
            group.attrs["sha256"] = hashlib.sha256(ckpt._record_bytes(records)).hexdigest()
            del group.attrs["attrs_sha256"]
            group.attrs["attrs_sha256"] = ckpt._attribute_digests({k: group.attrs[k] for k in group.attrs})
        f.attrs["datasets"] = json.dumps(sorted(names))
        f.attrs["series"] = json.dumps(series)
        del f.attrs["attrs_sha256"]
        f.attrs["attrs_sha256"] = ckpt._attribute_digests({k: f.attrs[k] for k in f.attrs})
    ckpt.seal(path)


def _resealable(damage: Callable[[Path], None]) -> Callable[[Path], None]:
    """Marks a damage that leaves the inner checksums stale: it is tested twice, as it is
    (the seal catches it) and with the seal recomputed (the inner checksums catch it)."""
    damage.resealable = True  # type: ignore[attr-defined]
    return damage


def _edit(name: str, change: Callable[[np.ndarray], np.ndarray], resign: bool = False) -> Callable[[Path], None]:
    """Rewrite dataset ``name`` with ``change(value)`` (its attributes kept)."""

    def damage(path: Path) -> None:
        with h5py.File(path, "a") as f:
            value, attrs = f[name][()], dict(f[name].attrs)
            del f[name]
            f[name] = change(np.array(value))
            for k, v in attrs.items():
                f[name].attrs[k] = v
        if resign:
            _resign(path)

    return damage if resign else _resealable(damage)


def _set(array: np.ndarray, index, value) -> np.ndarray:
    array = array.copy()
    array[index] = value
    return array


def _attr(name: str, value, resign: bool = False) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with h5py.File(path, "a") as f:
            if value is None:
                del f.attrs[name]
            else:
                f.attrs[name] = value(f.attrs[name]) if callable(value) else value
        if resign:
            _resign(path)

    return damage if resign else _resealable(damage)


def _attr_group(group: str, name: str, delta: int) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with h5py.File(path, "a") as f:
            f[f"series/{group}"].attrs[name] = int(f[f"series/{group}"].attrs[name]) + delta
        _resign(path)

    return damage


def _drop_dataset_digest(dataset: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with h5py.File(path, "a") as f:
            del f[dataset].attrs["sha256"]

    return _resealable(damage)


def _delete(name: str, resign: bool = False) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with h5py.File(path, "a") as f:
            del f[name]
        if resign:
            _resign(path)

    return damage if resign else _resealable(damage)


def _edit_series(name: str, field: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """Change the committed records of a series and recompute every checksum."""

    def damage(path: Path) -> None:
        file, dtype, offset, count = _series(path, name)
        records = np.fromfile(file, dtype=dtype, offset=offset, count=count)
        records[field] = change(records[field].copy())
        with open(file, "r+b") as f:
            f.seek(offset)
            f.write(records.tobytes())
        _resign(path)

    return damage


def _truncate(file: str, keep: Callable[[int], int]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        target = path.with_name(file)
        with open(target, "r+b") as f:
            f.truncate(keep(target.stat().st_size))

    return damage


def _truncate_series(name: str, size: Callable[[np.dtype, int, int], int]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        file, dtype, offset, count = _series(path, name)
        with open(file, "r+b") as f:
            f.truncate(size(dtype, offset, count))

    return damage


def _append(name: str, data: Callable[[bytes, int], bytes]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        file, dtype, offset, count = _series(path, name)
        raw = file.read_bytes()
        with open(file, "ab") as f:
            f.write(data(raw[offset:], dtype.itemsize))

    return damage


def _write_at(offset: int | None, data: bytes) -> Callable[[Path], None]:
    """Overwrite bytes of the state file at ``offset`` (None: append)."""

    def damage(path: Path) -> None:
        with open(path, "ab" if offset is None else "r+b") as f:
            if offset is not None:
                f.seek(offset)
            f.write(data)

    return damage


def _flip_beyond_count(path: Path) -> None:
    """A record appended after the committed ones, then damaged: outside the checkpoint."""
    _append("samples", lambda raw, size: raw[:size])(path)
    file = path.with_name("run.h5.samples")
    _flip(file, file.stat().st_size - 3)


def _replace_series(name: str, source: str) -> Callable[..., None]:
    """Replace a series file by that of another checkpoint (``bases[source]``)."""

    def damage(path: Path, bases) -> None:
        src = bases[source]
        shutil.copy(src.with_name(f"{src.name}.{name}"), path.with_name(f"{path.name}.{name}"))

    damage.needs_bases = True  # type: ignore[attr-defined]
    return damage


def _swap_series(path: Path) -> None:
    a, b = path.with_name("run.h5.samples"), path.with_name("run.h5.snapshots")
    tmp = a.with_name("swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)


def _remove(file: str) -> Callable[[Path], None]:
    return lambda path: path.with_name(file).unlink()


def _metadata_offsets(path: Path, count: int) -> list[int]:
    """``count`` offsets spread over the bytes of the state file that hold no dataset values."""
    ranges: list[tuple[int, int]] = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            ranges.append((obj.id.get_offset(), obj.id.get_storage_size()))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    data = np.zeros(path.stat().st_size, bool)
    for start, length in ranges:
        data[start:start + length] = True
    candidates = np.flatnonzero(~data)
    return [int(c) for c in candidates[np.linspace(0, candidates.size - 1, count).astype(int)]]


ERROR, HARMLESS, EITHER = "error", "harmless", "either"
_R, _K, _N = len(_TEMPS), 2, _MODEL.n
_SN = _R * _K * _N

# (id, damage, expected outcome, words the message must contain)
VARIANTS: list[tuple[str, Callable[..., None], str, str]] = [
    # --- bytes flipped on disk in the datasets of the state file
    *[(f"flip-{name}-{where}", _flip_dataset(name, where), ERROR, f"dataset '{name}' fails its SHA-256")
      for name in ("states", "aux") for where in (0.0, 0.5, 0.999)],
    *[(f"flip-{name}", _flip_dataset(name, 0.0), ERROR, f"dataset '{name}' fails its SHA-256")
      for name in ("temp_of_slot", "stats/attempts", "stats/accepts", "stats/round_trips", "stats/phase",
                   "stats_at_burn_in/attempts", "last_tune/accepts")],
    ("flip-betas-first", _flip_dataset("betas", 0.0), ERROR, "dataset 'betas' fails its SHA-256"),
    ("flip-betas-last", _flip_dataset("betas", 0.999), ERROR, "dataset 'betas' fails its SHA-256"),
    # --- bytes flipped in the series files
    ("flip-samples-first-record", _flip_series("samples", 0), ERROR, "run.h5.samples fails its SHA-256"),
    ("flip-samples-last-record", _flip_series("samples", -1, 40), ERROR, "run.h5.samples fails its SHA-256"),
    ("flip-samples-overlap", _flip_series("samples", 7, 8 * _R * _K + 5), ERROR, "run.h5.samples fails"),
    ("flip-snapshots-state", _flip_series("snapshots", 1, 8 + 20), ERROR, "run.h5.snapshots fails"),
    ("flip-snapshots-sweep", _flip_series("snapshots", 0, 0), ERROR, "run.h5.snapshots fails"),
    ("flip-samples-header", lambda p: _flip(p.with_name("run.h5.samples"), 40, 0x01), ERROR, "run.h5.samples"),
    ("flip-snapshots-magic", lambda p: _flip(p.with_name("run.h5.snapshots"), 2, 0x01), ERROR, "run.h5.snapshots"),
    ("flip-samples-beyond-count", _flip_beyond_count, HARMLESS, ""),
    # --- the audit's silent ones, edited without recomputing the checksums
    ("ising-spin-0.5", _edit("states", lambda s: _set(s, (3, 5), 0.5)), ERROR, "'states'"),
    ("nan-field-cache", _edit("aux", lambda a: _set(a, 7, np.nan)), ERROR, "'aux'"),
    ("nan-beta", _edit("betas", lambda b: _set(b, 1, np.nan)), ERROR, "'betas'"),
    ("sweeps-plus-1000", _attr("sweeps_done", lambda v: v + 1000), ERROR, "sweeps_done"),
    ("sweeps-minus-1000", _attr("sweeps_done", lambda v: v - 1000), ERROR, "sweeps_done"),
    # --- the same and more, with every checksum recomputed: the validation must catch them
    ("resigned-ising-spin-0.5", _edit("states", lambda s: _set(s, (3, 5), 0.5), True), ERROR, "not +-1"),
    ("resigned-ising-spin-0", _edit("states", lambda s: _set(s, (0, 0), 0.0), True), ERROR, "not +-1"),
    ("resigned-spin-flipped", _edit("states", lambda s: _set(s, (2, 4), -s[2, 4]), True), ERROR, "recomputed"),
    ("resigned-nan-field-cache", _edit("aux", lambda a: _set(a, 7, np.nan), True), ERROR, "non-finite"),
    ("resigned-inf-energy-cache", _edit("aux", lambda a: _set(a, _SN + 1, np.inf), True), ERROR, "non-finite"),
    ("resigned-field-cache-off", _edit("aux", lambda a: _set(a, 9, a[9] + 1.0), True), ERROR, "local fields"),
    ("resigned-energy-cache-off", _edit("aux", lambda a: _set(a, _SN + 2, a[_SN + 2] - 0.5), True), ERROR,
     "energies"),
    ("resigned-nan-beta", _edit("betas", lambda b: _set(b, 1, np.nan), True), ERROR, "finite"),
    ("resigned-negative-beta", _edit("betas", lambda b: _set(b, 3, -b[3]), True), ERROR, "positive"),
    ("resigned-beta-end-moved", _edit("betas", lambda b: _set(b, 0, b[0] * 1.01), True), ERROR, "end points"),
    ("resigned-betas-unsorted", _edit("betas", lambda b: b[::-1].copy(), True), ERROR, "decrease"),
    ("resigned-sweeps-plus-1000", _attr("sweeps_done", lambda v: v + 1000, True), ERROR, "swap attempts"),
    ("resigned-sweeps-minus-1000", _attr("sweeps_done", lambda v: v - 1000, True), ERROR, "sweeps_done"),
    ("resigned-sweeps-plus-3", _attr("sweeps_done", lambda v: v + 3, True), ERROR, "sweeps_done"),
    ("resigned-sweeps-minus-100", _attr("sweeps_done", lambda v: v - 100, True), ERROR, "sweeps_done"),
    ("resigned-labels-not-permutation", _edit("temp_of_slot", lambda t: _set(t, 0, t[1]), True), ERROR,
     "permutation"),
    ("resigned-labels-swapped", _edit("temp_of_slot", lambda t: _set(t, [0, 1], t[[1, 0]]), True), ERROR,
     "energies"),
    ("resigned-attempts-plus-1", _edit("stats/attempts", lambda a: a + np.uint64(1), True), ERROR, "attempts"),
    ("resigned-accepts-above-attempts", _edit("stats/accepts", lambda a: a + np.uint64(10**6), True), ERROR,
     "accepted"),
    ("resigned-phase-7", _edit("stats/phase", lambda a: _set(a, 0, 7), True), ERROR, "phase"),
    ("resigned-no-burn-in-stats", _delete("stats_at_burn_in", True), ERROR, "burn-in"),
    ("resigned-nan-samples-energy", _edit_series("samples", "energies", lambda e: _set(e, (4, 1, 1), np.nan)),
     ERROR, "non-finite"),
    ("resigned-last-sample-energy",
     _edit_series("samples", "energies", lambda e: _set(e, (-1, 0, 0), e[-1, 0, 0] + 1)), ERROR,
     "last recorded energies"),
    ("resigned-overlap-2", _edit_series("samples", "overlaps", lambda q: _set(q, (3, 0, 0), 2.0)), ERROR, "overlap"),
    ("resigned-snapshot-spin-0", _edit_series("snapshots", "state", lambda s: _set(s, (0, 1, 1, 3), 0)), ERROR,
     "+-1"),
    ("resigned-snapshot-sweep", _edit_series("snapshots", "sweep", lambda s: _set(s, 0, s[0] + 1)), ERROR,
     "snapshots"),
    ("resigned-samples-count-minus-1", _attr_group("samples", "count", -1), ERROR, "samples"),
    # --- truncated state file
    ("truncate-to-0", _truncate("run.h5", lambda n: 0), ERROR, "not a readable HDF5 file"),
    ("truncate-to-1k", _truncate("run.h5", lambda n: 1024), ERROR, "truncated"),
    ("truncate-to-half", _truncate("run.h5", lambda n: n // 2), ERROR, "truncated"),
    ("truncate-to-90pc", _truncate("run.h5", lambda n: n * 9 // 10), ERROR, "truncated"),
    ("truncate-last-byte", _truncate("run.h5", lambda n: n - 1), ERROR, "truncated"),
    ("extended-by-garbage", _write_at(None, b"\0" * 100), ERROR, "truncated"),
    ("seal-manifest-flipped", lambda p: _flip(p, 30, 0x01), ERROR, "seal"),
    ("seal-removed", _write_at(0, bytes(ckpt.SEAL_SIZE)), ERROR, "lacks the seal"),
    ("seal-padding-flipped", lambda p: _flip(p, ckpt.SEAL_SIZE - 1), HARMLESS, ""),
    # --- missing datasets (the list of datasets left as it was, then also recomputed)
    *[(f"missing-{name}", _delete(name), ERROR, "lacks") for name in
      ("states", "aux", "betas", "temp_of_slot", "stats/attempts")],
    ("missing-series/samples", _delete("series/samples"), ERROR, "series groups ['snapshots']"),
    *[(f"resigned-missing-{name}", _delete(name, True), ERROR, f"lacks the dataset '{name}'") for name in
      ("states", "aux", "betas", "stats/phase")],
    # --- wrong types and shapes (checksums recomputed)
    ("resigned-states-float32", _edit("states", lambda s: s.astype(np.float32), True), ERROR, "type"),
    ("resigned-labels-float", _edit("temp_of_slot", lambda t: t.astype(np.float64), True), ERROR, "type"),
    ("resigned-betas-float32", _edit("betas", lambda b: b.astype(np.float32), True), ERROR, "type"),
    ("resigned-aux-int", _edit("aux", lambda a: a.astype(np.int64), True), ERROR, "type"),
    ("resigned-states-flat", _edit("states", lambda s: s.ravel(), True), ERROR, "shape"),
    ("resigned-aux-short", _edit("aux", lambda a: a[:-1], True), ERROR, "shape"),
    ("resigned-sweeps-string", _attr("sweeps_done", "six hundred", True), ERROR, "sweeps_done"),
    # --- edited attributes (checksums left as they were)
    *[(f"attr-{name}", _attr(name, value), ERROR, name) for name, value in (
        ("temperatures_requested", lambda t: t * 1.01), ("replicas", 3), ("seed_entropy", "10"),
        ("couplings_sha256", "0" * 64), ("update", "heat_bath"), ("burn_in", 100), ("sample_every", 2),
        ("snapshot_every", 25), ("pspin_version", "0.0.0"), ("adaptive", False))],
    ("attr-added", _attr("note", "hello"), ERROR, "no save wrote"),
    ("attr-deleted", _attr("model", None), ERROR, "lacks"),
    ("attr-format-2", _attr("format_version", 2), ERROR, "checksums"),
    ("attr-format-99", _attr("format_version", 99), ERROR, "format"),
    ("attr-digests-garbage", _attr("attrs_sha256", "{not json"), ERROR, "unreadable"),
    ("dataset-digest-deleted", _drop_dataset_digest("states"), ERROR, "lacks its checksum"),
    # --- edited attributes with the checksums recomputed: the identity checks catch them
    ("resigned-temperatures", _attr("temperatures_requested", lambda t: t * 1.01, True), ERROR, "temperatures"),
    ("resigned-replicas", _attr("replicas", 3, True), ERROR, "replicas"),
    ("resigned-seed", _attr("seed_entropy", "10", True), ERROR, "seed_entropy"),
    ("resigned-burn-in", _attr("burn_in", 100, True), ERROR, "burn_in"),
    ("resigned-sample-every", _attr("sample_every", 2, True), ERROR, "sample_every"),
    # --- series files truncated, extended, swapped, missing, of another run or save
    ("samples-minus-1-record", _truncate_series("samples", lambda d, o, c: o + (c - 1) * d.itemsize), ERROR,
     "truncated"),
    ("samples-minus-half-record",
     _truncate_series("samples", lambda d, o, c: o + c * d.itemsize - d.itemsize // 2), ERROR, "truncated"),
    ("samples-header-only", _truncate_series("samples", lambda d, o, c: o), ERROR, "truncated"),
    ("samples-empty", _truncate_series("samples", lambda d, o, c: 0), ERROR, "run.h5.samples"),
    ("snapshots-minus-1-record", _truncate_series("snapshots", lambda d, o, c: o + (c - 1) * d.itemsize), ERROR,
     "truncated"),
    ("samples-extended-garbage", _append("samples", lambda raw, size: b"\x7f" * (3 * size + 5)), HARMLESS, ""),
    ("samples-extended-copy", _append("samples", lambda raw, size: raw), HARMLESS, ""),
    ("snapshots-extended", _append("snapshots", lambda raw, size: raw[:size]), HARMLESS, ""),
    ("series-swapped", _swap_series, ERROR, "another checkpoint"),
    ("samples-of-another-run", _replace_series("samples", "other"), ERROR, "another checkpoint"),
    ("snapshots-of-another-run", _replace_series("snapshots", "other"), ERROR, "another checkpoint"),
    ("samples-of-an-earlier-save", _replace_series("samples", "earlier"), ERROR, "run.h5.samples"),
    ("samples-of-a-later-save", _replace_series("samples", "later"), HARMLESS, ""),
    ("samples-missing", _remove("run.h5.samples"), ERROR, "missing"),
    ("snapshots-missing", _remove("run.h5.snapshots"), ERROR, "missing"),
]


def _resealed(damage: Callable[[Path], None]) -> Callable[[Path], None]:
    def damage_and_reseal(path: Path) -> None:
        damage(path)
        ckpt.seal(path)

    return damage_and_reseal


# Each damage that leaves the inner checksums stale is tested as it is (the file's seal
# catches it before HDF5 opens the file) and with the seal recomputed (the checksums of
# the datasets and attributes, or the identity checks, catch it).
VARIANTS = [
    variant
    for name, damage, expected, words in VARIANTS
    for variant in (
        [(name, damage, expected, words if name.startswith("flip-") else "SHA-256"),
         (f"resealed-{name}", _resealed(damage), expected, words)]
        if getattr(damage, "resealable", False) else [(name, damage, expected, words)]
    )
]


def _copy(base: Path, directory: Path) -> Path:
    for name in _FILES:
        shutil.copy(base.with_name(name), directory / name)
    return directory / "run.h5"


def _contents(path: Path) -> dict[str, bytes | None]:
    return {name: (path.with_name(name).read_bytes() if path.with_name(name).exists() else None) for name in _FILES}


def _check(path: Path, expected: str, words: str, reference, model=_MODEL) -> str:
    """Resume from the damaged checkpoint; returns what happened ('error' or 'harmless')."""
    before = _contents(path)
    try:
        result = _pt(model).run(_TARGET, checkpoint=path, **_KW)
    except ValueError as exc:
        message = str(exc)
        assert expected in (ERROR, EITHER), f"refused a harmless change: {message}"
        assert str(path) in message, message
        assert words in message, message
        assert _contents(path) == before  # nothing written: the damaged files stay for inspection
        return ERROR
    assert expected in (HARMLESS, EITHER), "a damaged checkpoint resumed without an error"
    _same(result, reference)  # provably harmless: bit-identical to the uninterrupted run
    return HARMLESS


@pytest.mark.parametrize("variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_damaged_checkpoint_is_refused_or_harmless(variant, bases, tmp_path):
    _, damage, expected, words = variant
    path = _copy(bases["ising"], tmp_path)
    if getattr(damage, "needs_bases", False):
        damage(path, bases)
    else:
        damage(path)
    _check(path, expected, words, bases["ising_reference"])


_METADATA_FLIPS = 24


def test_flipped_metadata_bytes_are_refused_or_harmless(bases, tmp_path):
    """Bytes flipped at 24 places of the HDF5 metadata (superblock, object headers, B-trees,
    heaps, attributes): each is refused with a clear error or changes nothing."""
    outcomes = []
    offsets = _metadata_offsets(bases["ising"], _METADATA_FLIPS)
    for k, offset in enumerate(offsets):
        directory = tmp_path / str(k)
        directory.mkdir()
        path = _copy(bases["ising"], directory)
        _flip(path, offset)
        outcomes.append(_check(path, EITHER, "", bases["ising_reference"]))
    assert outcomes.count(ERROR) >= len(offsets) // 2, outcomes


_SPHERE_SN = _R * _K * _SPHERE.n
SPHERE_VARIANTS = [
    ("flip-states", _flip_dataset("states", 0.3), "dataset 'states' fails its SHA-256"),
    ("resigned-norm-off", _edit("states", lambda s: _set(s, 2, s[2] * 1.001), True), "|s|^2"),
    ("resigned-nan-state", _edit("states", lambda s: _set(s, (1, 1), np.nan), True), "|s|^2"),
    ("resigned-nan-field", _edit("aux", lambda a: _set(a, 3, np.nan), True), "non-finite"),
    ("resigned-step-size-0", _edit("aux", lambda a: _set(a, _SPHERE_SN + _R * _K, 0.0), True), "step sizes"),
    ("resigned-trajectories", _edit("aux", lambda a: _set(a, _SPHERE_SN + _R * _K + _R, 1.0), True),
     "trajectory"),
    ("resigned-sweeps-plus-1000", _attr("sweeps_done", lambda v: v + 1000, True), "sweeps_done"),
]


@pytest.mark.parametrize("variant", SPHERE_VARIANTS, ids=[v[0] for v in SPHERE_VARIANTS])
def test_damaged_spherical_checkpoint_is_refused(variant, bases, tmp_path):
    _, damage, words = variant
    path = _copy(bases["sphere"], tmp_path)
    damage(path)
    _check(path, ERROR, words, bases["sphere_reference"], model=_SPHERE)


def test_intact_checkpoint_resumes_bit_identically(bases, tmp_path):
    for name in ("ising", "sphere"):
        directory = tmp_path / name
        directory.mkdir()
        path = _copy(bases[name], directory)
        _check(path, HARMLESS, "", bases[name + "_reference"], model=_MODEL if name == "ising" else _SPHERE)


# ---------------------------------------------------------------------- the previous save
def test_damaged_state_names_the_previous_save_which_resumes(bases, tmp_path):
    path = _copy(bases["ising"], tmp_path)
    _flip_dataset("states", 0.5)(path)
    prev = path.with_name("run.h5.prev")
    with h5py.File(prev, "r") as f:
        assert int(f.attrs["sweeps_done"]) == 450
    with pytest.raises(ckpt.CheckpointDamaged,
                       match=r"previous save .*run.h5.prev passes its checksums \(450 sweeps\).*mv .*run.h5.prev"):
        _pt().run(_TARGET, checkpoint=path, **_KW)
    prev.replace(path)  # what the message says to do
    _same(_pt().run(_TARGET, checkpoint=path, **_KW), bases["ising_reference"])


def test_damaged_state_and_previous_save_both_reported(bases, tmp_path):
    path = _copy(bases["ising"], tmp_path)
    _truncate("run.h5", lambda n: n // 2)(path)
    _truncate("run.h5.prev", lambda n: n // 3)(path)
    with pytest.raises(ckpt.CheckpointDamaged, match="previous save .* is damaged too"):
        _pt().run(_TARGET, checkpoint=path, **_KW)


def test_each_save_keeps_the_previous_one(tmp_path):
    path = tmp_path / "run.h5"
    pt = _pt()
    pt.run(300, checkpoint=path, **_KW)
    assert not path.with_name("run.h5.prev").exists()
    first = path.read_bytes()
    pt.run(400, checkpoint=path, **_KW)
    assert path.with_name("run.h5.prev").read_bytes() == first
    assert ckpt.Checkpoint(path).files() == [path.with_name(name) for name in _FILES]


def test_a_stale_previous_save_of_another_run_is_dropped(tmp_path):
    path = tmp_path / "run.h5"
    path.with_name("run.h5.prev").write_bytes(b"stale")
    _pt().run(300, checkpoint=path, **_KW)
    assert not path.with_name("run.h5.prev").exists()


# ---------------------------------------------------------------------- results files
def _result_files(tmp_path: Path) -> list[Path]:
    res = _pt().run(400, **_KW)
    minima = pspin.minimize(pspin.SphericalPSpin(16, 3, seed=1), 4, seed=2)
    unseeded = pspin.SphericalPSpin.from_tensors(pspin.SphericalPSpin(6, 3, seed=1).tensors())
    return [res.save(tmp_path / "pt.h5"), minima.save(tmp_path / "minima.h5"), unseeded.save(tmp_path / "model.h5")]


def test_flipped_byte_in_any_results_dataset_names_it(tmp_path):
    checked = 0
    for original in _result_files(tmp_path):
        names: list[str] = []

        def visit(name, obj, names=names):
            if isinstance(obj, h5py.Dataset) and obj.size:
                names.append(name)

        with h5py.File(original, "r") as f:
            f.visititems(visit)
        assert names, original
        for name in names:
            start, size = _data_range(original, name)
            for where in (0, size - 1):
                copy = tmp_path / f"damaged-{checked}.h5"
                shutil.copy(original, copy)
                _flip(copy, start + where, 0x01)
                with pytest.raises(ValueError, match=rf"{copy.name}.*dataset '/?{name}' fails its SHA-256 checksum"):
                    pspin.load(copy)
                checked += 1
    assert checked >= 20


def test_results_written_before_checksums_still_load(tmp_path):
    path = _result_files(tmp_path)[0]
    expected = pspin.load(path)

    def strip(name, obj):
        if "sha256" in obj.attrs:
            del obj.attrs["sha256"]

    with h5py.File(path, "a") as f:
        f.visititems(strip)
    with open(path, "r+b") as raw:  # no seal either
        raw.write(bytes(8192))
    assert pspin.load(path) == expected


@pytest.mark.parametrize("cut", [0, 100, 0.5, 0.9])
def test_truncated_results_file_is_a_value_error(tmp_path, cut):
    path = _result_files(tmp_path)[0]
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(int(cut * size) if isinstance(cut, float) else cut)
    with pytest.raises(ValueError, match="pt.h5"):
        pspin.load(path)


# ---------------------------------------------------------------------- concurrent run()
def test_concurrent_run_on_one_engine_is_refused():
    pt = _pt()
    started, release = threading.Event(), threading.Event()
    engine = pt._engine

    class Slow:
        def __getattr__(self, name):
            return getattr(engine, name)

        def run(self, n, every):
            started.set()
            release.wait(10)
            return engine.run(n, every)

    pt._engine = Slow()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            pt.run(80)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    first = threading.Thread(target=lambda: pt.run(50))
    first.start()
    assert started.wait(10)
    other = threading.Thread(target=second)
    other.start()
    other.join(10)
    release.set()
    first.join(10)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError), errors
    assert "already running in another thread" in str(errors[0])
    pt._engine = engine
    # The first run was not disturbed and the engine is free again.
    assert pt.sweeps_done == 50
    assert pt.run(120).energies.tobytes() == _pt().run(120).energies.tobytes()


# ---------------------------------------------------------------------- memory
_GB = 10**9


def test_memory_check_refuses_the_audit_case(monkeypatch):
    """IsingPSpin(1500, 3) with 64 temperatures x 2 replicas passed the old check (13.6 GB
    against 14.5 GB free) and was OOM-killed at 17.8 GB: the margin refuses it now."""
    import pspin._memory

    monkeypatch.setattr(pspin._memory, "available_memory", lambda: int(14.5 * _GB))
    tables = tempering.engine_memory(1500, (3,), np.float64, 64, 2, ising=True, threads=pspin.get_num_threads())
    needed = sum(tables.values())
    assert 13.6 * _GB < needed < 14.0 * _GB  # the triangles, n^2 (n-1)/2 values, dominate
    assert tables["degree-3 coupling triangles"] >= 1500 * 1500 * 1499 // 2 * 8
    with pytest.raises(MemoryError) as info:
        tempering.require_engine_memory(1500, (3,), np.float64, 64, 2, ising=True)
    message = str(info.value)
    assert f"{needed:,} bytes" in message and f"{int(14.5 * _GB):,} bytes" in message
    assert "80%" in message and "safety margin" in message
    monkeypatch.setattr(pspin._memory, "available_memory", lambda: int(needed / 0.8) + 2)
    tempering.require_engine_memory(1500, (3,), np.float64, 64, 2, ising=True)


def test_memory_check_runs_in_the_constructor(monkeypatch):
    import pspin._memory

    model = pspin.IsingPSpin(40, 3, seed=1)
    temps = geometric_temperatures(0.5, 2.0, 64)
    needed = sum(tempering.engine_memory(40, (3,), np.float64, 64, 2, ising=True,
                                         threads=pspin.get_num_threads()).values())
    monkeypatch.setattr(pspin._memory, "available_memory", lambda: int(needed / 0.9))  # fits, not with the margin
    with pytest.raises(MemoryError, match=rf"needs {needed:,} bytes.*safety margin"):
        ParallelTempering(model, temps)
    monkeypatch.setattr(pspin._memory, "available_memory", lambda: int(needed / 0.79))
    ParallelTempering(model, temps)


def test_memory_check_counts_the_series_of_a_run(monkeypatch):
    import pspin._memory

    pt = ParallelTempering(pspin.IsingPSpin(8, 2, seed=1), geometric_temperatures(0.5, 2.0, 16), seed=1)
    monkeypatch.setattr(pspin._memory, "available_memory", lambda: 10**8)
    # 10^6 samples of 16 x 2 energies and 16 overlaps, held three times: 1.15 GB.
    with pytest.raises(MemoryError, match="measurements of this run"):
        pt.run(10**6)
    assert pt.sweeps_done == 0


def test_chunks_are_capped_and_results_unchanged(monkeypatch):
    per_sample = _R * _K * 8 + _R * 8 + _R * _K * _N * 8
    assert _pt()._chunk_cap(1) * per_sample <= tempering._CHUNK_BUFFER_BYTES
    monkeypatch.setattr(tempering, "_CHUNK_BUFFER_BYTES", 3 * per_sample)
    pt = _pt()
    calls: list[int] = []
    engine = pt._engine

    class Spy:
        def __getattr__(self, name):
            return getattr(engine, name)

        def run(self, n, every):
            calls.append(n)
            return engine.run(n, every)

    pt._engine = Spy()
    res = pt.run(500, **_KW)
    assert max(calls) <= 3 * _KW["sample_every"]
    monkeypatch.undo()
    _same(res, _pt().run(500, **_KW))


def test_a_verified_resume_costs_little(bases, tmp_path):
    """Checksums, validation and the caches recomputed: well under a second at this size."""
    path = _copy(bases["ising"], tmp_path)
    start = time.perf_counter()
    _pt().run(_HELD, checkpoint=path, **_KW)
    assert time.perf_counter() - start < 5.0


def test_flipped_metadata_bytes_of_a_results_file_are_refused_or_harmless(tmp_path):
    """Bytes flipped at 32 places outside the datasets of a results file (user block,
    superblock, object headers, attributes): a ValueError naming the file, or the same result."""
    original = _result_files(tmp_path)[0]
    expected = pspin.load(original)
    outcomes = []
    # The user block is 64 KiB, mostly padding: 4 flips in its manifest, 28 in the HDF5 metadata after it.
    after = [o for o in _metadata_offsets(original, 4000) if o >= 1 << 16]
    offsets = [3, 20, 200, 600] + [after[i] for i in np.linspace(0, len(after) - 1, 28).astype(int)]
    for k, offset in enumerate(offsets):
        copy = tmp_path / f"meta-{k}.h5"
        shutil.copy(original, copy)
        _flip(copy, offset)
        try:
            loaded = pspin.load(copy)
        except ValueError as exc:
            assert copy.name in str(exc)
            outcomes.append(ERROR)
        else:
            assert loaded == expected
            outcomes.append(HARMLESS)
    assert outcomes.count(ERROR) >= 16, outcomes
