"""Tempering checkpoints: SIGTERM, save timing, append-only series, crash safety, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pspin
import pytest
from _tempering_checks import same_run as _same
from pspin.sampling import ParallelTempering, geometric_temperatures
from pspin.sampling import checkpoint as ckpt


@pytest.fixture(autouse=True)
def _python_sigint_handler():
    """These tests send SIGINT to this process. Under a background job (a CI runner, nohup)
    SIGINT starts ignored and Python keeps it so; give it Python's usual handler meanwhile."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs POSIX signals")

_MODEL = pspin.IsingPSpin(16, 3, seed=4)
_TEMPS = geometric_temperatures(0.4, 1.5, 4)
_KW = {"burn_in": 200, "sample_every": 3, "snapshot_every": 50}


def _pt(model=_MODEL) -> ParallelTempering:
    return ParallelTempering(model, _TEMPS, seed=9, adaptive=True)


class _Engine:
    """Stands in for the engine: calls ``hook(call_number)`` after each chunk, where a
    signal raised at once would separate the engine's sweeps from their measurements."""

    def __init__(self, engine, hook) -> None:
        self._engine, self._hook, self.calls = engine, hook, 0

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def run(self, n_sweeps, sample_every):
        self.calls += 1
        out = self._engine.run(n_sweeps, sample_every)
        self._hook(self.calls)
        return out


# ---------------------------------------------------------------------- SIGTERM
_SIGTERM_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np, pspin
    from pspin.sampling import ParallelTempering, geometric_temperatures
    from pspin.sampling.checkpoint import Terminated

    model = pspin.IsingPSpin(16, 3, seed=4)
    pt = ParallelTempering(model, geometric_temperatures(0.4, 1.5, 4), seed=9, adaptive=True)
    try:
        pt.run(10**8, burn_in=200, sample_every=3, snapshot_every=5000,
               checkpoint=sys.argv[1], checkpoint_every=0.1)
    except Terminated as exc:
        print(pt.sweeps_done, flush=True)
        sys.exit(128 + exc.signum)
    """
)


def test_sigterm_saves_and_the_resumed_run_is_bit_identical(tmp_path):
    path = tmp_path / "run.h5"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", _SIGTERM_SCRIPT, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        # The first periodic save shows that the run (and its handler) is under way.
        while not path.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.02)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signal.SIGTERM, err
    done = int(out.strip())
    with h5py.File(path, "r") as f:
        assert int(f.attrs["sweeps_done"]) == done
    assert done > 200
    kwargs = {"burn_in": 200, "sample_every": 3, "snapshot_every": 5000}
    resumed = _pt().run(done + 700, checkpoint=path, **kwargs)
    straight = _pt().run(done + 700, **kwargs)
    _same(resumed, straight)


def test_handlers_are_restored_and_ignored_signals_stay_ignored(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    seen = []
    pt = _pt()
    pt._engine = _Engine(pt._engine, lambda _: seen.append((signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))))
    pt.run(400, checkpoint=tmp_path / "run.h5", **_KW)
    assert seen and all(callable(a) and a not in before and b not in before for a, b in seen)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        seen.clear()
        pt.run(600, checkpoint=tmp_path / "run.h5", **_KW)
        assert seen and all(b == signal.SIG_IGN for _, b in seen)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("where", ["chunk", "save"])
def test_sigint_is_raised_between_chunks_only(tmp_path, monkeypatch, where):
    """SIGINT in the middle of a chunk or of a periodic save: the chunk's bookkeeping and
    the save complete, the run saves and raises KeyboardInterrupt, and resuming gives the
    uninterrupted run."""
    path = tmp_path / "run.h5"
    sent = []

    def interrupt_once():
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)  # the handler has run by now: it must only note the signal

    if where == "save":
        append = ckpt._Series.append
        monkeypatch.setattr(ckpt._Series, "append", lambda self, records: (interrupt_once(), append(self, records))[1])
        hook = lambda _: time.sleep(0.01)  # noqa: E731
    else:
        hook = lambda calls: interrupt_once() if calls == 40 else None  # noqa: E731
    pt = _pt()
    pt._engine = _Engine(pt._engine, hook)
    with pytest.raises(KeyboardInterrupt) as info:
        pt.run(10**7, checkpoint=path, checkpoint_every=0.05 if where == "save" else 60.0, **_KW)
    assert type(info.value) is KeyboardInterrupt and sent
    monkeypatch.undo()
    with h5py.File(path, "r") as f:
        assert int(f.attrs["sweeps_done"]) == pt.sweeps_done
    _same(_pt().run(pt.sweeps_done + 300, checkpoint=path, **_KW), _pt().run(pt.sweeps_done + 300, **_KW))


def test_signal_guard_notes_and_raises_terminated():
    with ckpt.SignalGuard() as guard:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        with pytest.raises(ckpt.Terminated) as info:
            guard.check()
        assert info.value.signum == signal.SIGTERM and isinstance(info.value, KeyboardInterrupt)
        guard.check()  # the first signal decides; the second was only noted


# ---------------------------------------------------------------------- save timing
def test_first_save_comes_after_checkpoint_every(tmp_path):
    for every, expect_mid_run_file in ((0.05, True), (60.0, False)):
        path = tmp_path / f"run{every}.h5"
        exists: list[bool] = []

        def look(_, path=path, exists=exists):
            exists.append(path.exists())
            time.sleep(0.01)

        pt = _pt()
        pt._engine = _Engine(pt._engine, look)
        pt.run(2000, checkpoint=path, checkpoint_every=every, burn_in=200)
        assert any(exists) == expect_mid_run_file and path.exists()


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), float("nan"), "10", True, None])
def test_bad_checkpoint_every(tmp_path, bad):
    pt = _pt()
    with pytest.raises((ValueError, TypeError), match="checkpoint_every"):
        pt.run(100, checkpoint=tmp_path / "run.h5", checkpoint_every=bad)
    assert pt.sweeps_done == 0 and not (tmp_path / "run.h5").exists()


# ---------------------------------------------------------------------- append-only series
def test_series_are_appended_once_and_the_state_file_stays_small(tmp_path, monkeypatch):
    path = tmp_path / "run.h5"
    written: dict[str, int] = {}
    append = ckpt._Series.append

    def counting_append(self, records):
        written[self.path.name] = written.get(self.path.name, 0) + records.shape[0]
        return append(self, records)

    monkeypatch.setattr(ckpt._Series, "append", counting_append)
    pt = _pt()
    pt._engine = _Engine(pt._engine, lambda _: time.sleep(0.005))
    saves = []
    save = pt._save
    pt._save = lambda store: (saves.append(1), save(store))
    res = pt.run(3000, checkpoint=path, checkpoint_every=0.02, **_KW)
    assert len(saves) > 3
    # Every measurement and snapshot was written exactly once, not once per save.
    assert written == {"run.h5.samples": res.energies.shape[-1], "run.h5.snapshots": res.snapshots.shape[2]}
    with h5py.File(path, "r") as f:
        assert "energies" not in f and "snapshots" not in f
        assert int(f["series/samples"].attrs["count"]) == res.energies.shape[-1]
    records = np.fromfile(path.with_name("run.h5.samples"), dtype=ckpt._read_header(path.with_name("run.h5.samples"))[0],
                          offset=ckpt._read_header(path.with_name("run.h5.samples"))[2])
    assert np.array_equal(np.moveaxis(records["energies"], 0, -1), res.energies)


def test_crash_between_append_and_state_leaves_a_consistent_checkpoint(tmp_path, monkeypatch):
    """A crash after the series were appended but before the state was replaced (plus a
    torn half record): resume reads the old state's records only and the torn tail goes."""
    path = tmp_path / "run.h5"
    _pt().run(1000, checkpoint=path, **_KW)

    class Crash(BaseException):
        pass

    def crash(*args):
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(os, "replace", crash)
        with pytest.raises(Crash):
            _pt().run(1600, checkpoint=path, **_KW)
    samples = path.with_name("run.h5.samples")
    with open(samples, "ab") as f:
        f.write(b"\x7f" * 37)
    with h5py.File(path, "r") as f:
        assert int(f.attrs["sweeps_done"]) == 1000
        count, itemsize = int(f["series/samples"].attrs["count"]), ckpt._read_header(samples)[0].itemsize
    assert samples.stat().st_size > ckpt._read_header(samples)[2] + count * itemsize
    resumed = _pt().run(2000, checkpoint=path, **_KW)
    _same(resumed, _pt().run(2000, **_KW))
    assert samples.stat().st_size == ckpt._read_header(samples)[2] + resumed.energies.shape[-1] * itemsize


def test_missing_or_foreign_series_file_is_refused(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    _pt().run(600, checkpoint=a, **_KW)
    _pt().run(600, checkpoint=b, **_KW)
    os.replace(b.with_name("b.h5.samples"), a.with_name("a.h5.samples"))
    with pytest.raises(ValueError, match="another checkpoint"):
        _pt().run(900, checkpoint=a, **_KW)
    os.remove(a.with_name("a.h5.samples"))
    with pytest.raises(ValueError, match="missing"):
        _pt().run(900, checkpoint=a, **_KW)


def _unseal(path: Path) -> None:
    """Drop the seal (format 3's SHA-256 manifest in the HDF5 user block), as older formats had none."""
    with open(path, "r+b") as raw:
        raw.write(bytes(ckpt.SEAL_SIZE))


def _strip_checksums(f) -> None:
    """Make a current state file look like one of format 1 or 2: no checksums, no lists."""
    for key in ("attrs_sha256", "datasets", "series"):
        if key in f.attrs:
            del f.attrs[key]
    def strip(name, obj) -> None:
        for key in ("sha256", "attrs_sha256"):
            if key in obj.attrs:
                del obj.attrs[key]

    f.visititems(strip)


def test_format_2_checkpoint_still_resumes(tmp_path):
    """Format 2 had no checksums: it resumes (with the validation of its state) and is saved as format 3."""
    path = tmp_path / "run.h5"
    _pt().run(900, checkpoint=path, **_KW)
    with h5py.File(path, "a") as f:
        _strip_checksums(f)
        f.attrs["format_version"] = 2
    _unseal(path)
    _same(_pt().run(1500, checkpoint=path, **_KW), _pt().run(1500, **_KW))
    with h5py.File(path, "r") as f:
        assert int(f.attrs["format_version"]) == ckpt.FORMAT_VERSION == 3 and "attrs_sha256" in f.attrs


def test_format_1_checkpoint_still_resumes(tmp_path):
    """Format 1 kept the series inside the HDF5 file; it resumes and is saved as format 3."""
    path = tmp_path / "run.h5"
    first = _pt()
    res = first.run(900, checkpoint=path, **_KW)
    with h5py.File(path, "a") as f:
        _strip_checksums(f)
        f.attrs["format_version"] = 1
        del f["series"]
        f["energies"] = np.moveaxis(res.energies, -1, 0)
        f["overlaps"] = np.moveaxis(res.overlaps, -1, 0)
        f["snapshots"] = np.moveaxis(res.snapshots, 2, 0)
        f["snapshot_sweeps"] = res.snapshot_sweeps
    _unseal(path)
    for name in ("run.h5.samples", "run.h5.snapshots"):
        os.remove(tmp_path / name)
    _same(_pt().run(1500, checkpoint=path, **_KW), _pt().run(1500, **_KW))
    with h5py.File(path, "r") as f:
        assert int(f.attrs["format_version"]) == ckpt.FORMAT_VERSION and "energies" not in f


def test_spherical_float32_resume_through_the_series(tmp_path):
    model = pspin.SphericalPSpin(12, 3, seed=2, dtype="float32")
    path = tmp_path / "run.h5"
    ParallelTempering(model, _TEMPS, seed=3).run(300, checkpoint=path, checkpoint_every=1e-9, **_KW)
    resumed = ParallelTempering(model, _TEMPS, seed=3).run(700, checkpoint=path, **_KW)
    _same(resumed, ParallelTempering(model, _TEMPS, seed=3).run(700, **_KW))
    assert resumed.snapshots.dtype == np.float32


# ---------------------------------------------------------------------- bad input
def test_fewer_sweeps_than_the_checkpoint_holds_is_an_error(tmp_path):
    path = tmp_path / "run.h5"
    pt = _pt()
    pt.run(600, checkpoint=path, **_KW)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="has 600 sweeps, asked for 400"):
        _pt().run(400, checkpoint=path, **_KW)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="has 600 sweeps done, asked for 400"):
        pt.run(400, **_KW)
    # As many sweeps as it holds gives the checkpoint's result back.
    _same(_pt().run(600, checkpoint=path, **_KW), _pt().run(600, **_KW))


def test_missing_h5py_fails_before_the_run(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    pt = _pt()
    with pytest.raises(ImportError, match="h5py"):
        pt.run(100, checkpoint=tmp_path / "run.h5")
    assert pt.sweeps_done == 0 and not any(Path(tmp_path).iterdir())
