"""Atomic HDF5 checkpoints of a parallel-tempering run."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("checkpoints need h5py: pip install 'pspin[io]'") from exc
    return h5py


def couplings_fingerprint(model: Any) -> str:
    """SHA-256 of the model's packed couplings: identifies the disorder sample exactly."""
    digest = hashlib.sha256()
    for degree in model.degrees:
        digest.update(str(degree).encode())
        digest.update(np.ascontiguousarray(model.packed_couplings(degree)))
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


def save(path: Path, attrs: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write a checkpoint atomically: temp file, flush, fsync, rename, fsync the directory.

    A crash at any moment leaves either the previous complete checkpoint or the new one.
    """
    h5py = _h5py()
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format_version"] = FORMAT_VERSION
        for key, value in attrs.items():
            f.attrs[key] = value
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
        f.flush()
    with open(tmp, "rb+") as raw:
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Attributes and arrays of a checkpoint."""
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        if int(f.attrs.get("format_version", -1)) != FORMAT_VERSION:
            raise ValueError(f"{path} is not a pspin checkpoint of format {FORMAT_VERSION}")
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
        arrays: dict[str, np.ndarray] = {}
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return attrs, arrays
