"""Every result type leaves the process: HDF5 save/load, pickle, repr, tables, plots; models pickle."""

from __future__ import annotations

import concurrent.futures
import pickle

import numpy as np
import pspin
import pytest
from pspin._results import metadata
from pspin.sampling.checkpoint import seal

h5py = pytest.importorskip("h5py")
pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def _minima_spherical():
    return pspin.minimize(pspin.SphericalPSpin(16, 3, seed=1), 6, seed=2, record_every=5)


def _minima_ising():
    return pspin.minimize(pspin.IsingPSpin(20, 2, seed=1), 6, seed=2)


def _critical():
    return pspin.critical_points(pspin.SphericalPSpin(10, 3, seed=1), 4, index=1, seed=3)


def _local_minima():
    return pspin.enumerate_local_minima(pspin.IsingPSpin(12, 2, seed=4))


def _anneal():
    return pspin.anneal(pspin.IsingPSpin(16, 3, seed=1), np.geomspace(2.0, 0.1, 20), n_starts=3, seed=5)


def _tempering():
    model = pspin.SphericalPSpin(12, 3, seed=6, ensemble="isotropic")
    return pspin.ParallelTempering(model, [0.6, 1.0, 2.0], seed=7).run(60, burn_in=10, snapshot_every=25)


def _tempering_from_tensors():
    model = pspin.IsingPSpin.from_tensors(pspin.IsingPSpin(10, 2, seed=8).tensors())
    return pspin.ParallelTempering(model, [0.5, 1.5], seed=9).run(40)


MAKERS = {
    "minima_spherical": _minima_spherical,
    "minima_ising": _minima_ising,
    "critical_points": _critical,
    "local_minima": _local_minima,
    "anneal": _anneal,
    "tempering": _tempering,
    "tempering_from_tensors": _tempering_from_tensors,
}


@pytest.fixture(scope="module", params=sorted(MAKERS))
def result(request):
    return MAKERS[request.param]()


def test_save_load_round_trip(result, tmp_path):
    path = result.save(tmp_path / "r.h5")
    back = pspin.load(path)
    assert type(back) is type(result)
    assert back == result
    assert back.run_info == result.run_info
    info = metadata(path)
    assert info["pspin_type"] == type(result).__name__
    assert info["pspin_version"] == pspin.__version__
    assert isinstance(info["model_seed_entropy"], str)


def test_pickle_round_trip(result):
    back = pickle.loads(pickle.dumps(result))
    assert back == result


def test_short_repr(result):
    text = repr(result)
    assert len(text) < 1000 and text.startswith(type(result).__name__)


def test_to_dataframe(result):
    table = result.to_dataframe()
    assert len(table) > 0 and len(table.columns) >= 1


def test_plot_runs(result):
    import matplotlib.pyplot as plt

    ax = result.plot()
    assert ax is not None
    plt.close("all")


def test_file_carries_seeds_and_times(tmp_path):
    r = _minima_spherical()
    info = metadata(r.save(tmp_path / "m.h5"))
    assert info["seed_entropy"] == "2" and info["seed_spawn_key"] == "()"
    assert info["model_seed_entropy"] == "1"
    for key in ("started_at", "finished_at", "wall_seconds", "run_host", "host", "saved_at"):
        assert key in info
    assert info["wall_seconds"] >= 0


def test_tempering_loads_without_the_live_model(tmp_path):
    r = _tempering()
    path = r.save(tmp_path / "pt.h5")
    del r
    back = pspin.load(path)
    fresh = pspin.SphericalPSpin(12, 3, seed=6, ensemble="isotropic")
    for degree in fresh.degrees:
        assert back.model.packed_couplings(degree).tobytes() == fresh.packed_couplings(degree).tobytes()
    assert back.gaussian_identity()["lhs"].shape == (3,)


def test_equal_ignores_run_info_but_not_values():
    a, b = _anneal(), _anneal()
    assert {"started_at", "finished_at", "wall_seconds", "host", "pspin_version"} <= set(a.run_info)
    assert a == b  # run_info (when, where) is not compared
    c = pspin.anneal(pspin.IsingPSpin(16, 3, seed=1), np.geomspace(2.0, 0.1, 20), n_starts=3, seed=6)
    assert a != c


def test_truncated_file_names_the_path(tmp_path):
    path = _local_minima().save(tmp_path / "r.h5")
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.h5"):
        pspin.load(cut)


def test_foreign_hdf5_names_the_path(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(ValueError, match="other.h5"):
        pspin.load(path)
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(ValueError, match="notes.h5"):
        pspin.load(text)


def test_missing_field_names_the_path(tmp_path):
    path = _critical().save(tmp_path / "cp.h5")
    with h5py.File(path, "a") as f:
        del f["index"]
    # The file's seal catches the edit before HDF5 opens it ...
    with pytest.raises(ValueError, match="cp.h5 is damaged.*SHA-256"):
        pspin.load(path)
    # ... and with the seal recomputed (a tool that edits knowingly), the reader names the field.
    seal(path)
    with pytest.raises(ValueError, match="cp.h5.*index"):
        pspin.load(path)


# ---------------------------------------------------------------- models
MODELS = [
    lambda: pspin.SphericalPSpin(14, 3, seed=1),
    lambda: pspin.SphericalPSpin(12, {2: 0.6, 4: 0.8}, seed=np.random.SeedSequence(5).spawn(2)[1], ensemble="isotropic"),
    lambda: pspin.SphericalPSpin(10, 3, seed=2, dtype="float32"),
    lambda: pspin.IsingPSpin(20, 2, seed=np.random.default_rng(3)),
    lambda: pspin.IsingPSpin(9, {2: 0.5, 3: 1.0}, seed=4, dtype="float32"),
    lambda: pspin.SphericalPSpin.from_tensors(pspin.SphericalPSpin(7, 3, seed=5, ensemble="isotropic").tensors()),
    lambda: pspin.IsingPSpin.from_tensors(pspin.IsingPSpin(8, 2, seed=6).tensors()),
]


@pytest.mark.parametrize("make", MODELS)
def test_model_pickles_bit_identically(make):
    model = make()
    model.random_state(3)  # the stream continues where it was after unpickling
    back = pickle.loads(pickle.dumps(model))
    assert type(back) is type(model) and back.spec() == model.spec()
    for degree in model.degrees:
        assert back.packed_couplings(degree).tobytes() == model.packed_couplings(degree).tobytes()
    assert back.random_state(2).tobytes() == model.random_state(2).tobytes()
    if model.seeded:  # a seeded model travels as its seed, not its couplings
        assert len(pickle.dumps(model)) < 2000


@pytest.mark.parametrize("make", MODELS)
def test_model_saves_and_loads(make, tmp_path):
    model = make()
    back = pspin.load(model.save(tmp_path / "model.h5"))
    assert back.spec() == model.spec()
    for degree in model.degrees:
        assert back.packed_couplings(degree).tobytes() == model.packed_couplings(degree).tobytes()


def test_model_with_a_changed_fingerprint_is_refused(tmp_path):
    path = pspin.SphericalPSpin(10, 3, seed=1).save(tmp_path / "m.h5")
    with h5py.File(path, "a") as f:
        f.attrs["pspin_model"] = f.attrs["pspin_model"].replace('"seed_entropy": "1"', '"seed_entropy": "2"')
    with pytest.raises(ValueError, match="m.h5 is damaged.*SHA-256"):
        pspin.load(path)
    seal(path)
    with pytest.raises(ValueError, match="m.h5.*fingerprint"):
        pspin.load(path)


def _minimize_sample(seed: np.random.SeedSequence) -> tuple[float, ...]:
    model_seed, run_seed = seed.spawn(2)
    model = pspin.SphericalPSpin(24, 3, seed=model_seed)
    return tuple(pspin.minimize(model, 4, seed=run_seed).energies.tolist())


def test_process_pool_farm_equals_loop():
    seeds = np.random.SeedSequence(1).spawn(4)
    loop = [_minimize_sample(s) for s in np.random.SeedSequence(1).spawn(4)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        farmed = list(pool.map(_minimize_sample, seeds))
    assert farmed == loop


def test_models_cross_process_boundaries():
    model = pspin.IsingPSpin(16, 2, seed=3)
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        energies = pool.submit(pspin.minimize, model, 3, seed=4).result().energies
    assert energies.tobytes() == pspin.minimize(model, 3, seed=4).energies.tobytes()


def test_tempering_result_records_its_run_and_reloads_to_the_same_observables(tmp_path):
    model = pspin.IsingPSpin(10, 2, seed=3)
    res = pspin.ParallelTempering(model, [0.5, 1.0, 2.0], seed=4).run(200, burn_in=50)
    assert res.run_info["wall_seconds"] > 0 and res.run_info["started_at"] <= res.run_info["finished_at"]
    back = pspin.load(res.save(tmp_path / "pt.h5"))
    assert back == res
    np.testing.assert_array_equal(back.mean_energy_per_spin, res.mean_energy_per_spin)
    assert back.run_info["wall_seconds"] == res.run_info["wall_seconds"]
