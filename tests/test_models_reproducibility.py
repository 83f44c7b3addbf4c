"""Same seed -> bit-identical couplings and results, whatever the thread count.

The parallel paths are only taken above ~2e5 coupling-state products and split into
several tasks above 2^17 couplings per degree, so the thread checks use n = 200, p = 3
(1.3e6 couplings) and a mixed model with a degree-4 block at n = 60 (4.9e5 couplings).
"""

from __future__ import annotations

import numpy as np
import pspin
import pytest

MODELS = {
    "sph_p3_f64": lambda seed: pspin.SphericalPSpin(200, 3, seed=seed),
    "sph_p3_f32": lambda seed: pspin.SphericalPSpin(200, 3, seed=seed, dtype="float32"),
    "sph_iso_f64": lambda seed: pspin.SphericalPSpin(200, 3, seed=seed, ensemble="isotropic"),
    "sph_mixed_f64": lambda seed: pspin.SphericalPSpin(60, {2: 0.5, 3: 1.0, 4: 0.3}, seed=seed),
    "ising_p3_f64": lambda seed: pspin.IsingPSpin(200, 3, seed=seed),
    "ising_p2_f32": lambda seed: pspin.IsingPSpin(600, 2, seed=seed, dtype="float32"),
}


def _results(model, batch_seed=123):
    """Everything a model computes, for a fixed batch: {name: ndarray}."""
    out = {f"K{p}": model.packed_couplings(p) for p in model.degrees}
    states = model.random_state(13, seed=batch_seed)
    v = np.random.default_rng(batch_seed).standard_normal(states.shape)
    out["E"] = model.energy(states)
    out["E1"] = np.array(model.energy(states[0]))
    out["G"] = model.gradient(states)
    out["G1"] = model.gradient(states[0])
    out["HV"] = model.hessian_vector_product(states, v)
    out["H"] = model.hessian(states[0])
    if isinstance(model, pspin.SphericalPSpin):
        out["RG"] = model.riemannian_gradient(states)
        out["RHV"] = model.riemannian_hessian_vector_product(states, v)
        out["SPEC"] = model.hessian_spectrum(states[0])
    return out


def _assert_bitwise(a: dict, b: dict, what: str):
    assert a.keys() == b.keys()
    for key, value in a.items():
        x, y = np.asarray(value), np.asarray(b[key])
        assert x.dtype == y.dtype and x.shape == y.shape, f"{what}: {key} dtype/shape differ"
        assert x.tobytes() == y.tobytes(), (
            f"{what}: {key} not bit-identical (max diff {np.abs(x - y).max():.3g})"
        )


@pytest.mark.parametrize("name", list(MODELS))
def test_same_seed_same_bits(name):
    a = _results(MODELS[name](5))
    b = _results(MODELS[name](5))
    _assert_bitwise(a, b, name)


@pytest.mark.parametrize("name", list(MODELS))
def test_threads_1_and_2_bit_identical_in_process(name):
    with pspin.threads(1):
        assert pspin.get_num_threads() == 1
        one = _results(MODELS[name](8))
    with pspin.threads(2):
        assert pspin.get_num_threads() == 2
        two = _results(MODELS[name](8))
        # the same model object used under different thread counts
        model = MODELS[name](8)
    with pspin.threads(1):
        again = _results(model)
    with pspin.threads(3):  # more threads than tasks or cores: still the same bits
        three = _results(model)
    _assert_bitwise(one, two, f"{name}: threads 1 vs 2")
    _assert_bitwise(one, three, f"{name}: threads 1 vs 3")
    _assert_bitwise(one, again, f"{name}: built with 2 threads, used with 1")


_SUBPROCESS = """
import os
import numpy as np
import pspin
assert pspin.get_num_threads() == int(os.environ["OMP_NUM_THREADS"]), pspin.get_num_threads()
out = {}
models = {
    "sph": pspin.SphericalPSpin(200, 3, seed=5),
    "sph32": pspin.SphericalPSpin(200, 3, seed=5, dtype="float32"),
    "iso": pspin.SphericalPSpin(200, 3, seed=5, ensemble="isotropic"),
    "mix": pspin.SphericalPSpin(60, {2: 0.5, 3: 1.0, 4: 0.3}, seed=5),
    "ising": pspin.IsingPSpin(200, 3, seed=5),
}
for name, m in models.items():
    S = m.random_state(13, seed=1)
    V = np.random.default_rng(2).standard_normal(S.shape)
    for p in m.degrees:
        out[f"{name}_K{p}"] = m.packed_couplings(p)
    out[name + "_S"] = S
    out[name + "_E"] = m.energy(S)
    out[name + "_G"] = m.gradient(S)
    out[name + "_G1"] = m.gradient(S[0])
    out[name + "_HV"] = m.hessian_vector_product(S, V)
    out[name + "_H"] = m.hessian(S[0])
np.savez(os.environ["PSPIN_TEST_OUT"], **out)
"""


def test_omp_num_threads_1_and_2_bit_identical(tmp_path, run_python):
    files = {}
    for k in ("1", "2"):
        files[k] = tmp_path / f"threads{k}.npz"
        run_python(
            _SUBPROCESS, {"OMP_NUM_THREADS": k, "PSPIN_TEST_OUT": str(files[k])}, timeout=300
        )
    with np.load(files["1"]) as one, np.load(files["2"]) as two:
        assert sorted(one.files) == sorted(two.files) and len(one.files) > 20
        for key in one.files:
            assert one[key].tobytes() == two[key].tobytes(), f"{key}: OMP_NUM_THREADS=1 vs 2 differ"
    # and the subprocess results equal the in-process ones (same seed, any thread count)
    with np.load(files["2"]) as two:
        here = pspin.SphericalPSpin(200, 3, seed=5)
        assert here.packed_couplings(3).tobytes() == two["sph_K3"].tobytes()
        assert here.energy(two["sph_S"]).tobytes() == two["sph_E"].tobytes()


# --------------------------------------------------------------------------- seed forms
@pytest.mark.parametrize("cls", [pspin.SphericalPSpin, pspin.IsingPSpin])
def test_seed_forms_int_seedsequence_agree(cls):
    """numpy's convention: 5, np.int64(5) and SeedSequence(5) are the same seed."""
    ref = cls(20, {2: 1.0, 3: 0.5}, seed=5)
    for seed in (np.random.SeedSequence(5), np.int64(5)):
        other = cls(20, {2: 1.0, 3: 0.5}, seed=seed)
        for p in ref.degrees:
            assert ref.packed_couplings(p).tobytes() == other.packed_couplings(p).tobytes(), type(
                seed
            )


@pytest.mark.parametrize("cls", [pspin.SphericalPSpin, pspin.IsingPSpin])
def test_generator_seed_is_a_stream(cls):
    """SPEC 7: a Generator is consumed, so a loop over disorder samples gets new couplings
    each time, and the same fresh Generator reproduces the whole sequence."""
    rng = np.random.default_rng(5)
    first, second = (cls(20, 3, seed=rng).packed_couplings(3) for _ in range(2))
    assert not np.array_equal(first, second)
    again = np.random.default_rng(5)
    assert cls(20, 3, seed=again).packed_couplings(3).tobytes() == first.tobytes()
    assert cls(20, 3, seed=again).packed_couplings(3).tobytes() == second.tobytes()


def test_different_seeds_differ():
    seeds = [0, 1, 2, 2**32, 2**32 + 1, 2**63, 2**64 + 1, 2**100]
    packed = [pspin.SphericalPSpin(12, 3, seed=s).packed_couplings(3) for s in seeds]
    for i in range(len(seeds)):
        for j in range(i):
            assert not np.any(packed[i] == packed[j]), (
                f"seeds {seeds[i]} and {seeds[j]} share couplings"
            )


def test_spawned_seed_sequences_differ():
    parent = np.random.SeedSequence(11)
    kids = parent.spawn(3)
    packed = [pspin.SphericalPSpin(12, 3, seed=s).packed_couplings(3) for s in [parent, *kids]]
    for i in range(len(packed)):
        for j in range(i):
            assert not np.array_equal(packed[i], packed[j])
    # a spawned child is reproducible from its (entropy, spawn_key)
    again = np.random.SeedSequence(11, spawn_key=kids[1].spawn_key)
    np.testing.assert_array_equal(
        pspin.SphericalPSpin(12, 3, seed=again).packed_couplings(3), packed[2]
    )


def test_seed_none_is_fresh_and_recorded():
    a = pspin.SphericalPSpin(12, 3)
    b = pspin.SphericalPSpin(12, 3)
    assert not np.array_equal(a.packed_couplings(3), b.packed_couplings(3))
    assert isinstance(a.seed_sequence, np.random.SeedSequence)
    for seed in (a.seed_sequence, np.random.SeedSequence(a.seed_sequence.entropy)):
        c = pspin.SphericalPSpin(12, 3, seed=seed)
        assert c.packed_couplings(3).tobytes() == a.packed_couplings(3).tobytes()


def test_distinct_degree_blocks_differ():
    m = pspin.SphericalPSpin(12, {2: 1.0, 3: 1.0, 4: 1.0}, seed=3)
    k2, k3, k4 = (m.packed_couplings(p) for p in (2, 3, 4))
    # no block is a rescaled copy of the start of another
    for a, b in ((k2, k3), (k3, k4), (k2, k4)):
        m_ = min(a.size, b.size)
        assert abs(np.corrcoef(a[:m_], b[:m_])[0, 1]) < 0.5


# --------------------------------------------------------------------------- states
def test_random_state_streams_reproducible():
    a = pspin.SphericalPSpin(15, 3, seed=4)
    b = pspin.SphericalPSpin(15, 3, seed=4)
    first = a.random_state(5)
    np.testing.assert_array_equal(first, b.random_state(5))
    assert not np.array_equal(first, a.random_state(5)), "the model's state stream must advance"
    np.testing.assert_array_equal(a.random_state(3, seed=9), b.random_state(3, seed=9))
    np.testing.assert_array_equal(a.random_state(seed=9), a.random_state(seed=9))
    assert not np.array_equal(a.random_state(3, seed=9), a.random_state(3, seed=10))
    c = pspin.SphericalPSpin(15, 3, seed=5)
    assert not np.array_equal(
        c.random_state(5), pspin.SphericalPSpin(15, 3, seed=4).random_state(5)
    )


def test_repeated_calls_are_deterministic():
    m = pspin.SphericalPSpin(200, 3, seed=1, dtype="float32")
    s = m.random_state(9, seed=0)
    g = m.gradient(s)
    for _ in range(3):
        assert m.gradient(s).tobytes() == g.tobytes()
