"""The `pspin` command line: each subcommand on tiny sizes, run files and flags, sample
arrays, merge, resume, the demo report, and bad input through a subprocess."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pspin
import pytest
from pspin.cli import main

pytest.importorskip("h5py")

CENSUS_TOML = """
n = 12
p = 3
ensemble = "isotropic"
seed = 5
samples = 3
n_starts = 60
bins = 6
finite_n_theory = false
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _fields_equal(a: object, b: object, skip: tuple[str, ...] = ("params",)) -> bool:
    return all(
        pspin._results._equal(getattr(a, f.name), getattr(b, f.name))
        for f in dataclasses.fields(a)  # type: ignore[arg-type]
        if f.compare and f.name not in skip
    )


# ---------------------------------------------------------------- small commands
def test_config_prints_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "openmp" in out and "simd_width_bits" in out
    assert main(["config", "--json"]) == 0
    assert "max_threads" in json.loads(capsys.readouterr().out)


def test_theory_prints_landmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "--p", "3"]) == 0
    out = capsys.readouterr().out
    # e_th = -sqrt(2(p-1)/p) = -1.1547005 (Crisanti-Sommers convention), theory.md §c.6
    assert "-1.1547005" in out


def test_theory_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["theory", "--p", "3", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["e_th"] == pytest.approx(-np.sqrt(4 / 3), abs=1e-12)
    assert main(["theory", "--p", "2", "--p", "3", "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert [m["model"] for m in both] == ["p=2", "p=3"]
    assert both[0]["T_d"] is None  # p = 2 has no dynamical transition: null, not NaN


def test_demo_quick_writes_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "gradient:" in text and "paramagnet" in text and "ground state" in text
    report = (out / "report.md").read_text()
    for name in ("minima_energies.png", "hessian_spectrum.png", "tempering_energies.png"):
        assert (out / name).stat().st_size > 1000
        assert name in report
    assert "| quantity | measured | theory |" in report


def test_module_entry_point_and_unknown_command() -> None:
    done = subprocess.run([sys.executable, "-m", "pspin", "nonsense"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


# ---------------------------------------------------------------- run files
def test_flags_override_the_run_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = _write(tmp_path / "run.toml", CENSUS_TOML.replace("samples = 3", "samples = 1"))
    assert main(["census", str(run), "--n-starts", "20", "--bins", "4", "--quiet"]) == 0
    census = pspin.load(tmp_path / "run.h5")  # default output: the run file's name
    config = census.params["run"]["config"]
    assert config["n_starts"] == 20 and config["bins"] == 4 and config["n"] == 12 and config["seed"] == 5
    assert census.saturation.shape == (20,)  # one entry per start: the flag reached the run


def test_unknown_key_lists_the_allowed_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _write(tmp_path / "run.toml", "n = 12\nn_start = 10\n")
    assert main(["census", str(run)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'n_start'" in err and "allowed:" in err and "n_starts" in err


def test_mixed_degrees_from_toml_table(tmp_path: Path) -> None:
    run = _write(tmp_path / "run.toml", "n = 10\np = {2 = 0.6, 3 = 0.8}\nseed = 1\nn_starts = 4\n")
    assert main(["minimize", str(run), "-o", str(tmp_path / "m.h5"), "--quiet"]) == 0
    assert pspin.load(tmp_path / "m.h5").params["run"]["config"]["p"] == {"2": 0.6, "3": 0.8}


# ---------------------------------------------------------------- sample arrays, merge, resume
def test_sample_index_is_deterministic_and_independent_of_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _write(tmp_path / "run.toml", CENSUS_TOML)
    files = {}
    for where, extra in (("a", ["--sample-index", "1"]), ("b", ["--sample-index", "1"]), ("c", []),
                         ("d", ["--sample-index", "2"])):
        (tmp_path / where).mkdir()
        monkeypatch.chdir(tmp_path / where)
        assert main(["census", str(run), "-o", "c.h5", "--quiet", *extra]) == 0
        files[where] = sorted(Path().glob("c.sample-*.h5"))
    assert [p.name for p in files["a"]] == ["c.sample-00001.h5"]
    a, b = (pspin.load(tmp_path / w / "c.sample-00001.h5") for w in "ab")
    assert a == b  # same seed and index: the same file contents
    full = pspin.load(tmp_path / "c" / "c.sample-00001.h5")  # from the run of all three samples
    assert _fields_equal(a, full)
    other = pspin.load(tmp_path / "d" / "c.sample-00002.h5")
    assert not np.array_equal(np.sort(a.energy_per_spin), np.sort(other.energy_per_spin))
    assert a.params["run"]["sample"] == 1 and other.params["run"]["sample"] == 2
    # The seeds are SeedSequence(seed).spawn(...)[i]: couplings from the child (i, 0).
    expected = pspin.SphericalPSpin(12, 3, seed=np.random.SeedSequence(5).spawn(3)[2].spawn(1)[0], ensemble="isotropic")
    assert other.params["model"].split("nbytes")[0] == repr(expected).split("nbytes")[0]


def test_merge_equals_complexity_of_the_censuses(tmp_path: Path) -> None:
    run = _write(tmp_path / "run.toml", CENSUS_TOML)
    out = tmp_path / "c.h5"
    assert main(["census", str(run), "-o", str(out), "--samples", "0:2", "--quiet"]) == 0
    paths = [tmp_path / "c.sample-00000.h5", tmp_path / "c.sample-00001.h5"]
    c1, c2 = (pspin.load(p) for p in paths)
    # Files in reverse order: merge sorts by sample index.
    assert main(["merge", str(paths[1]), str(paths[0]), "-o", str(tmp_path / "bare.h5"), "--no-theory"]) == 0
    merged = pspin.load(tmp_path / "bare.h5")
    direct = pspin.entropy.complexity([c1, c2], bins=6)
    assert type(merged).__name__ == "ComplexityResult"
    assert _fields_equal(merged, direct)
    assert main(["merge", *map(str, paths)]) == 0  # default output c.h5, theory beside
    with_theory = pspin.load(out)
    assert _fields_equal(with_theory, direct, skip=("params", "theory_complexity", "theory_complexity_total",
                                                     "theory_expected", "theory_expected_cumulative",
                                                     "theory_expected_total"))
    assert np.isfinite(with_theory.theory_complexity_total)


def test_entropy_is_census_then_merge(tmp_path: Path) -> None:
    run = _write(tmp_path / "run.toml", CENSUS_TOML)
    assert main(["entropy", str(run), "-o", str(tmp_path / "e.h5"), "--quiet"]) == 0
    assert main(["census", str(run), "-o", str(tmp_path / "c.h5"), "--quiet"]) == 0
    assert main(["merge", *map(str, sorted(tmp_path.glob("c.sample-*.h5")))]) == 0
    e, m = pspin.load(tmp_path / "e.h5"), pspin.load(tmp_path / "c.h5")
    assert _fields_equal(e, m) and e.samples == 3


def test_census_array_resumes_after_a_finished_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _write(tmp_path / "run.toml", CENSUS_TOML)
    out = tmp_path / "c.h5"
    assert main(["census", str(run), "-o", str(out), "--sample-index", "0"]) == 0
    first = tmp_path / "c.sample-00000.h5"
    stamp = first.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["census", str(run), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 of 3 sample(s) already done" in err
    assert first.stat().st_mtime_ns == stamp  # not redone
    assert sorted(p.name for p in tmp_path.glob("c.sample-*.h5")) == [f"c.sample-0000{i}.h5" for i in range(3)]
    # A file from another run is refused, not overwritten or reused.
    assert main(["census", str(run), "-o", str(out), "--seed", "6", "--sample-index", "0"]) == 2
    assert "holds another run (seed: 5 there, 6 here)" in capsys.readouterr().err


# ---------------------------------------------------------------- the other jobs, show, plot
def test_minimize_anneal_enumerate_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    assert main(["minimize", "--n", "16", "--seed", "1", "--n-starts", "6", "-o", f"{d}/m.h5", "--quiet"]) == 0
    assert main(["anneal", "--model", "ising", "--n", "16", "--p", "2", "--seed", "1", "--n-starts", "3",
                 "--steps", "20", "-o", f"{d}/a.h5", "--quiet"]) == 0
    assert main(["enumerate", "--n", "12", "--p", "2", "--seed", "2", "-o", f"{d}/e.h5", "--quiet"]) == 0
    _write(tmp_path / "pt.toml", "n = 16\ntemperatures = [1.0, 1.5, 2.0]\nsweeps = 200\nseed = 3\n")
    assert main(["sample", str(tmp_path / "pt.toml"), "-o", f"{d}/pt.h5", "--quiet"]) == 0
    kinds = {name: type(pspin.load(tmp_path / name)).__name__ for name in ("m.h5", "a.h5", "e.h5", "pt.h5")}
    assert kinds == {"m.h5": "Minima", "a.h5": "AnnealResult", "e.h5": "LocalMinima", "pt.h5": "PTResult"}
    pt = pspin.load(tmp_path / "pt.h5")
    assert pt.params["run"]["config"]["burn_in"] == 20 and pt.sweeps == 200
    assert sorted(p.name for p in tmp_path.glob("pt*")) == ["pt.h5", "pt.toml"]  # checkpoint removed
    enum = pspin.load(tmp_path / "e.h5")
    assert enum.count == pspin.enumerate_local_minima(
        pspin.IsingPSpin(12, 2, seed=np.random.SeedSequence(2, spawn_key=(0, 0)))).count
    capsys.readouterr()
    assert main(["show", f"{d}/pt.h5"]) == 0
    shown = capsys.readouterr().out
    assert "PTResult" in shown and "run: pspin sample" in shown and "summary: 3 temperatures" in shown
    assert main(["enumerate", "--n", "12", "--model", "spherical"]) == 2


def test_plot_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    assert main(["census", "--n", "10", "--n-starts", "30", "--seed", "1", "-o", str(tmp_path / "c.h5"), "--quiet"]) == 0
    assert main(["plot", str(tmp_path / "c.h5")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_sigterm_saves_and_the_same_command_resumes(tmp_path: Path) -> None:
    run = _write(tmp_path / "pt.toml", "n = 24\nmodel = 'ising'\nt_min = 0.5\nt_max = 3.0\nn_temperatures = 8\n"
                 "sweeps = 100000000\nburn_in = 100\nseed = 3\ncheckpoint_every = 0.1\n")
    cmd = [sys.executable, "-m", "pspin", "sample", str(run), "-o", str(tmp_path / "pt.h5")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / "pt.checkpoint.h5"
    deadline = time.monotonic() + 30
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "rerun the same command to resume" in err and "Traceback" not in err
    assert checkpoint.exists() and not (tmp_path / "pt.h5").exists()
    import h5py

    with h5py.File(checkpoint, "r") as f:
        held = int(f.attrs["sweeps_done"])
    # The same run with a budget just past the checkpoint (sweeps does not change what a
    # sweep computes; the tempering tests cover bit-identical resume).
    done = subprocess.run([*cmd, "--sweeps", str(held + 100)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"resuming from {checkpoint} at sweep {held}" in done.stderr
    assert pspin.load(tmp_path / "pt.h5").sweeps == held + 100
    assert not list(tmp_path.glob("pt.checkpoint*"))


# ---------------------------------------------------------------- bad input, through a subprocess
def _bad_cases(tmp: Path) -> dict[str, list[str]]:
    import h5py

    _write(tmp / "malformed.toml", "n = [1,\n")
    _write(tmp / "wrong_type.toml", 'n = "twelve"\nn_starts = 10\n')
    _write(tmp / "unknown.toml", "n = 12\nn_starts = 10\nstarts = 3\n")
    _write(tmp / "good.toml", "n = 8\nn_starts = 10\nseed = 1\n")
    _write(tmp / "a_file", "not a directory")
    _write(tmp / "foreign.txt", "hello")
    with h5py.File(tmp / "foreign.h5", "w") as f:
        f["x"] = np.arange(3)
    good = tmp / "good.h5"
    pspin.entropy.census(pspin.SphericalPSpin(8, 3, seed=1), 10, seed=1).save(good)
    pspin.minimize(pspin.SphericalPSpin(8, 3, seed=1), 2, seed=1).save(tmp / "minima.h5")
    (tmp / "truncated.h5").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return {
        "malformed_toml": ["census", str(tmp / "malformed.toml")],
        "wrong_type": ["census", str(tmp / "wrong_type.toml")],
        "unknown_key": ["census", str(tmp / "unknown.toml")],
        "missing_run_file": ["census", str(tmp / "absent.toml")],
        "unwritable_output": ["census", str(tmp / "good.toml"), "-o", str(tmp / "a_file" / "out.h5")],
        "missing_results_file": ["show", str(tmp / "absent.h5")],
        "truncated_results_file": ["show", str(tmp / "truncated.h5")],
        "foreign_hdf5_file": ["show", str(tmp / "foreign.h5")],
        "merge_of_other_types": ["merge", str(tmp / "minima.h5"), str(good), "-o", str(tmp / "m.h5")],
        "debug_shows_traceback": ["--debug", "census", str(tmp / "absent.toml")],
    }


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every bad-input case in its own process, all started at once (imports dominate)."""
    tmp = tmp_path_factory.mktemp("bad")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = {name: subprocess.Popen([sys.executable, "-m", "pspin", *args], cwd=tmp, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, args in _bad_cases(tmp).items()}
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        out[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return out


@pytest.mark.parametrize("case", ["malformed_toml", "wrong_type", "unknown_key", "missing_run_file",
                                  "unwritable_output", "missing_results_file", "truncated_results_file",
                                  "foreign_hdf5_file", "merge_of_other_types"])
def test_bad_input_is_one_line(bad_runs: dict[str, subprocess.CompletedProcess[str]], case: str) -> None:
    done = bad_runs[case]
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if not line.startswith("[pspin ")]
    assert len(lines) == 1, done.stderr
    assert "error:" in lines[0] and "Traceback" not in done.stderr
    hint = {"malformed_toml": "not valid TOML", "wrong_type": "must be an integer", "unknown_key": "allowed:",
            "missing_run_file": "does not exist", "unwritable_output": "not a directory",
            "missing_results_file": "does not exist", "truncated_results_file": "truncated.h5",
            "foreign_hdf5_file": "not a pspin results file", "merge_of_other_types": "Minima"}[case]
    assert hint in lines[0]


@pytest.mark.parametrize("args, hint", [
    (["census", "--n", "abc"], "invalid int value: 'abc'"),
    (["minimize", "--n", "8", "--method", "newton"], "newton"),
    (["sample", "--n", "8", "--sweeps", "10", "--burn-in", "20"], "burn_in (20) must be smaller"),
    (["sample", "--n", "8", "--sweeps", "10", "--temperatures", "1,2", "--t-min", "1"], "not both"),
    (["census", "--n", "8"], "n_starts is required"),
    (["census", "--n", "8", "--n-starts", "4", "--sample-index", "0"], "needs a fixed seed"),
])
def test_bad_flags_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], hint: str) -> None:
    try:
        status = main([*args, "-o", str(tmp_path / "x.h5")])
    except SystemExit as exc:  # argparse's own errors
        status = int(exc.code or 0)
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[pspin ")]
    assert status == 2 and len(err) == 1 and hint in err[0], err


def test_plot_of_a_foreign_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "notes.txt", "hello")
    assert main(["plot", str(tmp_path / "notes.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.txt" in err[0]


def test_debug_shows_the_traceback(bad_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = bad_runs["debug_shows_traceback"]
    assert done.returncode != 0 and "Traceback" in done.stderr
