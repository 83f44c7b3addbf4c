"""What spherical and Ising p-spin models share: couplings, energies, derivatives."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .. import _core, _seed, _validate
from .._memory import require_memory
from ._packing import (
    dense_from_packed,
    has_repeated_index_entries,
    is_symmetric,
    packed_from_dense,
    tuple_count,
)


def _rebuild(
    cls: type[PSpinModel],
    n: int,
    coefficients: dict[int, float],
    dtype: str,
    ensemble: str,
    seed: np.random.SeedSequence,
    couplings: Mapping[int, np.ndarray] | None,
    state_rng: dict[str, Any] | None = None,
) -> PSpinModel:
    """A model from its parameters and seed, or from its packed couplings (unpickling, loading)."""
    model = cls.__new__(cls)
    model._setup(n, coefficients, dtype, ensemble, seed, generate=couplings is None)
    if couplings is not None:
        if sorted(couplings) != list(model.degrees):
            raise ValueError(f"couplings of degrees {sorted(couplings)} for a model of degrees {model.degrees}")
        for block, degree in enumerate(model.degrees):
            values = np.ascontiguousarray(couplings[degree], dtype=model._dtype)
            expected = tuple_count(n, degree, ensemble == "isotropic")
            if values.shape != (expected,):
                raise ValueError(f"degree {degree} needs {expected} packed couplings, got shape {values.shape}")
            model._couplings.set_values(block, values)
    if state_rng is not None:
        model._state_rng.bit_generator.state = state_rng
    return model


def from_spec(spec: Mapping[str, Any], couplings: Mapping[int, np.ndarray] | None = None) -> PSpinModel:
    """Rebuild a model from :meth:`PSpinModel.spec` (and its couplings if it has no seed).

    Parameters
    ----------
    spec : mapping
        As returned by ``model.spec()``.
    couplings : mapping {degree: ndarray}, optional
        Packed couplings; required when ``spec`` has no seed (a ``from_tensors`` model).

    Returns
    -------
    PSpinModel
        With couplings bit-identical to the original's.

    Raises
    ------
    ValueError
        If the spec is incomplete, or the rebuilt couplings do not match its
        ``couplings_sha256`` (e.g. a file written by a pspin whose generator differs).
    """
    classes = {cls.__name__: cls for cls in PSpinModel.__subclasses__()}
    try:
        cls = classes[spec["class"]]
        seeded = spec.get("seed_entropy") is not None
        # A model from tensors gets a fresh, unused seed, as from_tensors gives it.
        seed = _seed.from_record(dict(spec)) if seeded else np.random.SeedSequence()
        if seeded and spec.get("seed_pool_size", 4) != seed.pool_size:
            seed = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=int(spec["seed_pool_size"]))
        coefficients = {int(d): float(c) for d, c in spec["coefficients"]}
        args = (int(spec["n"]), coefficients, str(spec["dtype"]), str(spec["ensemble"]))
    except (KeyError, TypeError, ValueError, SyntaxError) as exc:
        raise ValueError(f"incomplete model description {dict(spec)!r}: {exc}") from exc
    if not seeded and couplings is None:
        raise ValueError("a model built from tensors has no seed: its couplings are needed to rebuild it")
    model = _rebuild(cls, *args, seed, None if seeded else couplings)
    expected = spec.get("couplings_sha256")
    if expected is not None and model.couplings_sha256() != expected:
        raise ValueError(
            f"the couplings rebuilt from the seed of {spec['class']}(n={spec['n']}) do not match the stored "
            "fingerprint (written by another pspin version?)"
        )
    return model


def _tensor_scale(arr: np.ndarray, degree: int, dtype: np.dtype) -> None:
    """Refuse tensors whose energies ``dtype`` cannot hold (the rule of coefficient_scale).

    By Cauchy-Schwarz, |H_p(s)| <= ||T_p||_F n^(p/2) / p! on the sphere |s|^2 = n (and
    for +-1 spins); that bound must stay below 1e-3 sqrt(finfo(dtype).max).
    """
    n = arr.shape[0]
    big = float(np.max(np.abs(arr))) if arr.size else 0.0
    if big == 0.0:
        return
    frob = big * float(np.linalg.norm(arr / big))
    log_bound = np.log(frob) + 0.5 * degree * np.log(n) - float(np.sum(np.log(np.arange(1, degree + 1))))
    limit = _validate._SCALE_MARGIN * np.sqrt(float(np.finfo(dtype).max))
    if log_bound > np.log(limit):
        raise ValueError(
            f"tensor of degree {degree} is too large for {np.dtype(dtype).name}: its energy bound "
            f"||T||_F n^(p/2)/p! = {np.exp(log_bound):.3g} must be <= {limit:.3g}; rescale the tensor"
        )


# Dense tensors beyond this are refused by .tensors(): they are for checks at small n.
_MAX_DENSE_BYTES = 2**31


class PSpinModel:
    """Base class of the p-spin models (use SphericalPSpin or IsingPSpin).

    The Hamiltonian is ``H(s) = -sum_p c_p sum_{i1<...<ip} J_{i1..ip} s_i1...s_ip``
    with ``J ~ N(0, p!/(2 n^(p-1)))``, so ``E[H(s)H(s')] = n xi(q)/2``,
    ``xi(q) = sum_p c_p^2 q^p``. The couplings are stored once per index tuple
    (packed), with ``c_p`` folded in, and generated in parallel by a counter-based
    generator: the same seed gives bit-identical couplings for any thread count.
    """

    kind: ClassVar[str] = ""
    _ensembles: ClassVar[tuple[str, ...]] = ("distinct",)

    def __init__(
        self,
        n: int,
        p: int | Mapping[int, float] = 3,
        *,
        seed: _seed.SeedLike = None,
        dtype: Any = "float64",
        ensemble: str = "distinct",
    ) -> None:
        self._setup(n, p, dtype, ensemble, seed, generate=True)

    def _setup(self, n: Any, p: Any, dtype: Any, ensemble: Any, seed: _seed.SeedLike, *, generate: bool) -> None:
        spec = _validate.degree_spec(p)
        self._n = _validate.spin_count(n, list(spec))
        self._dtype = _validate.real_dtype(dtype)
        _validate.coefficient_scale(spec, self._n, self._dtype)
        self._ensemble = _validate.ensemble_name(ensemble, self._ensembles)
        self._coefficients = spec
        self._seed_sequence = _seed.as_seed_sequence(seed)
        # A generated model is rebuilt from its seed; one set from tensors only by its values.
        self._seeded = generate
        multiset = self._ensemble == "isotropic"
        self._couplings = self._allocate_couplings(spec, multiset)
        if generate:
            self._generate_couplings(_seed.key64(self._seed_sequence, _seed.COUPLINGS))
        else:
            for block, degree in enumerate(spec):
                self._couplings.set_values(block, np.zeros(tuple_count(self._n, degree, multiset), self._dtype))
        self._state_rng = _seed.child_generator(self._seed_sequence, _seed.STATES)

    def _allocate_couplings(self, spec: dict[int, float], multiset: bool) -> Any:
        """Uninitialised packed storage for the couplings, after the memory check."""
        n_values = sum(tuple_count(self._n, d, multiset) for d in spec)
        nbytes = n_values * self._dtype.itemsize
        require_memory(nbytes, f"the couplings of this model (n = {self._n}, degrees {list(spec)}, {self._dtype})")
        return self._couplings_class()(self._n, list(spec), list(spec.values()), multiset)

    def _couplings_class(self) -> Any:
        return _core.CouplingsF64 if self._dtype == np.float64 else _core.CouplingsF32

    def _generate_couplings(self, key: int) -> None:
        # Slices of about one task per thread keep each GIL-free call short, so
        # Ctrl-C interrupts a multi-gigabyte build within about a second.
        first, last = self._couplings.own_tasks
        step = max(1, _core.max_threads())
        for begin in range(first, last, step):
            self._couplings.generate(key, begin, min(last, begin + step))

    @classmethod
    def from_tensors(
        cls, tensors: np.ndarray | Mapping[int, np.ndarray], *, dtype: Any = "float64", **kwargs: Any
    ) -> PSpinModel:
        """Build a model from dense symmetric coupling tensors.

        Parameters
        ----------
        tensors : ndarray or mapping {degree: ndarray}
            ``H(s) = -sum_p (1/p!) sum_{i1..ip} T_p[i1..ip] s_i1...s_ip`` over all index
            tuples. Each ``T_p`` is symmetric with ``p`` axes of length ``n``. Entries with
            repeated indices must be zero, except for a spherical model in the
            isotropic ensemble.
        dtype : {'float64', 'float32'}
        **kwargs
            ``ensemble`` for spherical models (default: 'isotropic' if any
            repeated-index entry is non-zero, else 'distinct').

        Returns
        -------
        model
            The couplings are the tensors' entries; ``coefficients`` are all 1.
        """
        if isinstance(tensors, np.ndarray):
            tensors = {tensors.ndim: tensors}
        if not isinstance(tensors, Mapping) or not tensors:
            raise TypeError("tensors must be an ndarray or a non-empty mapping {degree: ndarray}")
        dense: dict[int, np.ndarray] = {}
        n = None
        for degree, t in tensors.items():
            arr = _validate.real_array(t, f"tensor of degree {degree}").astype(np.float64)
            if arr.ndim != degree:
                raise ValueError(f"tensor for degree {degree} must have {degree} axes, got {arr.ndim}")
            if len(set(arr.shape)) != 1 or (n is not None and arr.shape[0] != n):
                raise ValueError(f"all tensor axes must have the same length n, got shape {arr.shape}")
            n = arr.shape[0]
            if not np.isfinite(arr).all():
                raise ValueError(f"tensor of degree {degree} contains NaN or infinite entries")
            _tensor_scale(arr, int(degree), _validate.real_dtype(dtype))
            if not is_symmetric(arr):
                raise ValueError(f"tensor of degree {degree} is not symmetric under index permutations")
            dense[int(degree)] = arr
        repeats = any(has_repeated_index_entries(t) for t in dense.values())
        ensemble = kwargs.pop("ensemble", None)
        if kwargs:
            raise TypeError(f"unexpected arguments: {sorted(kwargs)}")
        if ensemble is None:
            ensemble = "isotropic" if repeats and "isotropic" in cls._ensembles else "distinct"
        if repeats and ensemble != "isotropic":
            raise ValueError(
                "entries with repeated indices must be zero for "
                + ("Ising models" if cls.kind == "ising" else "the 'distinct' ensemble")
            )
        model = cls.__new__(cls)
        model._setup(n, {d: 1.0 for d in dense}, dtype, ensemble, None, generate=False)
        multiset = ensemble == "isotropic"
        for block, (degree, arr) in enumerate(sorted(dense.items())):
            model._couplings.set_values(block, packed_from_dense(arr, degree, multiset).astype(model._dtype))
        return model

    # ------------------------------------------------------------------ metadata
    @property
    def n(self) -> int:
        """Number of spins."""
        return self._n

    @property
    def degrees(self) -> tuple[int, ...]:
        """Interaction degrees p, ascending."""
        return tuple(self._coefficients)

    @property
    def coefficients(self) -> dict[int, float]:
        """Mixture coefficients {p: c_p}; xi(q) = sum_p c_p^2 q^p."""
        return dict(self._coefficients)

    @property
    def dtype(self) -> np.dtype:
        """Storage and arithmetic type of the couplings."""
        return self._dtype

    @property
    def ensemble(self) -> str:
        """'distinct' (i1<...<ip) or 'isotropic' (repeated indices included)."""
        return self._ensemble

    @property
    def nbytes(self) -> int:
        """Bytes held by the packed couplings."""
        return int(self._couplings.nbytes)

    @property
    def seed_sequence(self) -> np.random.SeedSequence:
        """The SeedSequence the couplings came from (its entropy reproduces them)."""
        return self._seed_sequence

    @property
    def seeded(self) -> bool:
        """Whether the couplings came from ``seed_sequence`` (False for ``from_tensors``)."""
        return self._seeded

    def spec(self) -> dict[str, Any]:
        """What rebuilds the model: class, n, coefficients, dtype, ensemble and seed.

        JSON-able: ``coefficients`` as ``[[p, c_p], ...]``, the seed as the strings of
        ``pspin._seed.record`` (``seed_entropy`` and ``seed_spawn_key``), or None for a
        model built with ``from_tensors``, whose couplings must then be stored with it.
        ``couplings_sha256`` identifies the couplings exactly. :func:`pspin.models.from_spec`
        inverts it.
        """
        seed = _seed.record(self._seed_sequence) if self._seeded else {"seed_entropy": None, "seed_spawn_key": None}
        return {
            "class": type(self).__name__,
            "n": self._n,
            "coefficients": [[int(d), float(c)] for d, c in self._coefficients.items()],
            "dtype": self._dtype.name,
            "ensemble": self._ensemble,
            **seed,
            "seed_pool_size": int(self._seed_sequence.pool_size),
            # A rank of a model split over MPI ranks cannot hash couplings it does not hold.
            "couplings_sha256": self.couplings_sha256() if self._couplings.complete else None,
        }

    def couplings_sha256(self) -> str:
        """SHA-256 of the packed couplings of every degree: identifies the disorder sample."""
        digest = hashlib.sha256()
        for degree in self.degrees:
            digest.update(str(degree).encode())
            digest.update(np.ascontiguousarray(self.packed_couplings(degree)).data)
        return digest.hexdigest()

    def save(self, path: Any) -> Any:
        """Write the model to HDF5: its spec and seed (couplings only if built from tensors).

        ``pspin.load(path)`` rebuilds it with bit-identical couplings (checked against the
        stored SHA-256). Returns the path written.
        """
        from .._results import save_model

        return save_model(self, path)

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled couplings cannot be pickled: a seeded model travels as its seed and
        # regenerates bit-identical couplings (a few bytes instead of C(n, p) values); a
        # model from tensors travels with its packed couplings. The stream of
        # ``random_state`` continues where it was.
        couplings = None if self._seeded else {d: self.packed_couplings(d) for d in self.degrees}
        state = self._state_rng.bit_generator.state
        return (_rebuild, (type(self), self._n, self.coefficients, self._dtype.name, self._ensemble,
                           self._seed_sequence, couplings, state))

    def xi(self, q: Any) -> Any:
        """Covariance function xi(q) = sum_p c_p^2 q^p, E[H(s)H(s')] = n xi(q)/2."""
        q = np.asarray(q, dtype=np.float64)
        return sum(c * c * q**d for d, c in self._coefficients.items())

    def __repr__(self) -> str:
        p = self.degrees[0] if len(self.degrees) == 1 and self._coefficients[self.degrees[0]] == 1.0 else self._coefficients
        return (
            f"{type(self).__name__}(n={self._n}, p={p}, dtype='{self._dtype.name}', "
            f"ensemble='{self._ensemble}', nbytes={self.nbytes})"
        )

    # ------------------------------------------------------------------ states
    def _states(self, s: Any, what: str = "states") -> tuple[np.ndarray, bool]:
        arr, single = _validate.batch(s, self._n, what)
        self._check_domain(arr, what)
        return np.ascontiguousarray(arr, dtype=self._dtype), single

    def _check_domain(self, arr: np.ndarray, what: str) -> None:
        raise NotImplementedError

    def random_state(self, size: int | None = None, seed: _seed.SeedLike = None) -> np.ndarray:
        """Random configurations: shape (n,) if ``size`` is None, else (size, n).

        Without ``seed`` they come from the model's own stream (derived from the model
        seed, so a script is reproducible); with ``seed`` from that seed alone.
        """
        if size is not None:
            size = _validate.positive_int(size, "size")
        rng = self._state_rng if seed is None else np.random.default_rng(_seed.as_seed_sequence(seed))
        shape = (self._n,) if size is None else (size, self._n)
        return self._draw_states(rng, shape)

    def _draw_states(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ contractions
    def energy(self, s: Any) -> Any:
        """Total energy H(s): a float for s of shape (n,), an array (b,) for (b, n).

        One configuration goes through the bandwidth-bound single kernel, a batch
        through the batched kernel; their summation orders differ, so the two agree
        to rounding (~1e-15 relative), not bitwise. Each is bit-identical for any
        thread count, and a configuration's batched result does not depend on the
        rest of the batch.
        """
        arr, single = self._states(s)
        e, _ = self._couplings.energy_and_fields(arr, False)
        return float(e[0]) if single else e

    def energy_and_gradient(self, s: Any) -> tuple[Any, np.ndarray]:
        """Energy and Euclidean gradient dH/ds, from one pass over the couplings."""
        arr, single = self._states(s)
        e, fields = self._couplings.energy_and_fields(arr, True)
        g = np.negative(fields)
        return (float(e[0]), g[0]) if single else (e, g)

    def gradient(self, s: Any) -> np.ndarray:
        """Euclidean gradient dH/ds, same shape as s, in the model's dtype."""
        return self.energy_and_gradient(s)[1]

    def local_fields(self, s: Any) -> np.ndarray:
        """Local fields h = -dH/ds, same shape as s."""
        arr, single = self._states(s)
        _, fields = self._couplings.energy_and_fields(arr, True)
        return fields[0] if single else fields

    def hessian(self, s: Any) -> np.ndarray:
        """Euclidean Hessian d^2H/ds ds^T (n, n), float64, at one configuration."""
        arr, single = self._states(s, "state")
        if not single:
            raise ValueError("hessian takes one configuration of shape (n,); loop over a batch")
        return np.negative(self._couplings.fields_jacobian(arr[0]))

    def hessian_vector_product(self, s: Any, v: Any) -> np.ndarray:
        """Euclidean Hessian times v, batched: s and v of shape (n,) or (b, n)."""
        arr, single = self._states(s)
        vec, vsingle = _validate.batch(v, self._n, "vectors")
        if vec.shape != arr.shape or vsingle != single:
            raise ValueError(f"v must have the same shape as s, got {np.shape(v)} and {np.shape(s)}")
        _validate.vector_range(vec, self._dtype, "vectors")
        jvp, _ = self._couplings.fields_jvp(arr, np.ascontiguousarray(vec, dtype=self._dtype), False)
        out = np.negative(jvp)
        return out[0] if single else out

    def tensors(self) -> dict[int, np.ndarray]:
        """Dense symmetric tensors {p: T_p} (float64), as taken by ``from_tensors``.

        For checks at small n only; refuses tensors above 2 GiB.
        """
        out: dict[int, np.ndarray] = {}
        multiset = self._ensemble == "isotropic"
        for block, degree in enumerate(self.degrees):
            nbytes = 8 * self._n**degree
            if nbytes > _MAX_DENSE_BYTES:
                raise ValueError(
                    f"the dense degree-{degree} tensor would take {nbytes:,} bytes (limit {_MAX_DENSE_BYTES:,}); "
                    "tensors() is meant for small n"
                )
            out[degree] = dense_from_packed(self._couplings.values(block), self._n, degree, multiset)
        return out

    def packed_couplings(self, degree: int) -> np.ndarray:
        """Copy of the stored couplings of one degree (c_p included), in storage order."""
        if degree not in self._coefficients:
            raise ValueError(f"the model has no degree {degree}; degrees are {self.degrees}")
        return self._couplings.values(self.degrees.index(degree))
