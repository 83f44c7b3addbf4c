"""What the benchmarks run: the cases, pspin's call, the dense baselines and the checks.

Shared by the pytest-benchmark suite (``test_bench_gradient.py``) and ``report.py`` so that
both time exactly the same functions.

Conventions (pspin's): for p=3, H = -sum_{i<j<k} K_ijk s_i s_j s_k. The dense symmetric
tensor T has T[perm(i,j,k)] = K_ijk (zero on repeated indices), so H = -(1/6) T(s,s,s) and
grad_i = -(1/2) sum_jk T_ijk s_j s_k. For p=2, H = -(1/2) s^T T s and grad = -T s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

P3_SIZES = (200, 400, 800)
P2_SIZE = 4096
BATCHES = (1, 32)
DTYPES = ("float64", "float32")
THREADS = (1, 2)
# report.py's batch sweep (issue 9): no b dearer per configuration than b=1
SWEEP_N = 400
SWEEP_BATCHES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
SEED = 20240601

# Relative tolerances of a gradient check, scaled by the largest |component| of the reference
# (gradients have components near zero, so a pure rtol would be meaningless there). float32
# sums of ~n^2 terms carry ~sqrt(n^2) * 6e-8 relative error: 2e-4 leaves a margin of ~5 at n=800.
TOLERANCE = {"float64": 1e-10, "float32": 2e-4}

# Keep this many bytes free for pspin, the states and the BLAS workspaces besides a dense tensor.
MEMORY_MARGIN = 3 * 2**30


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    p: int
    n: int
    b: int
    dtype: str

    @property
    def label(self) -> str:
        return f"p{self.p} n={self.n} b={self.b} {self.dtype}"

    @property
    def ident(self) -> str:
        return f"p{self.p}-n{self.n}-b{self.b}-{self.dtype}"


def all_cases(sizes: tuple[int, ...] = P3_SIZES, p2: bool = True) -> list[Case]:
    cases = [Case(3, n, b, dt) for n in sizes for dt in DTYPES for b in BATCHES]
    if p2:
        cases += [Case(2, P2_SIZE, b, dt) for dt in DTYPES for b in BATCHES]
    return cases


# --------------------------------------------------------------------------- memory
def available_memory() -> int:
    """MemAvailable from /proc/meminfo (bytes); a large number if it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def dense_bytes(p: int, n: int, dtype: str) -> int:
    return n**p * np.dtype(dtype).itemsize


def dense_fits(p: int, n: int, dtype: str, extra_copies: float = 0.0) -> tuple[bool, str]:
    """Whether a dense tensor (plus ``extra_copies`` of its size, e.g. a library's internal
    permuted copy) fits in the available memory with the margin. Returns (ok, reason)."""
    need = int(dense_bytes(p, n, dtype) * (1.0 + extra_copies)) + MEMORY_MARGIN
    have = available_memory()
    if need <= have:
        return True, ""
    return (
        False,
        f"not run (memory: needs {need / 2**30:.1f} GiB, {have / 2**30:.1f} GiB available)",
    )


# --------------------------------------------------------------------------- models
def make_model(p: int, n: int, dtype: str) -> Any:
    import pspin

    return pspin.SphericalPSpin(n, p=p, seed=SEED, dtype=dtype)


MAX_BATCH = max(BATCHES)


def make_states(model: Any, b: int, pool: int = MAX_BATCH) -> np.ndarray:
    """(b, n) random states on the sphere, in the model's dtype, C-contiguous: the first b
    of ``pool`` states, so one reference (for the pool) serves every batch size."""
    if b > pool:
        raise ValueError(f"b <= {pool}")
    return np.ascontiguousarray(model.random_state(pool, seed=SEED)[:b])


def pspin_gradient(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The timed pspin call: the public batched gradient (one pass over packed couplings)."""
    return model.gradient


# --------------------------------------------------------------------------- dense tensors
def dense_tensor(model: Any, dtype: str | None = None) -> np.ndarray:
    """Dense symmetric tensor of the model's (single) degree, in ``dtype`` (default: model's).

    ``model.tensors()`` refuses tensors above 2 GiB and goes through int64 index arrays, so
    for p=3 the tensor is built here from the packed couplings, slab by slab (first-touching
    4 GB on this VM takes ~10 s; that is the cost of having a dense tensor at all).
    Checked against ``model.tensors()`` by ``test_bench_gradient.py::test_dense_builder``.
    """
    dtype = dtype or model.dtype.name
    (p,) = model.degrees
    if p not in (2, 3):
        raise ValueError("the benchmarks only use p=2 and p=3")
    if model.ensemble != "distinct":
        raise ValueError("dense_tensor expects the 'distinct' ensemble (i<j<k)")
    n = model.n
    vals = model.packed_couplings(p)
    if p == 2:  # packed i<j row by row: the strict upper triangle in C order
        T2 = np.zeros((n, n), dtype=dtype)
        T2[np.triu(np.ones((n, n), dtype=bool), 1)] = vals
        return T2 + T2.T
    T = np.zeros((n, n, n), dtype=dtype)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    off = 0
    # Stage 1: B[i, j, k] = K_ijk for i < j, k with j != k (symmetric in j, k).
    for i in range(n - 2):
        m = n - i - 1
        count = m * (m - 1) // 2
        blk = T[i, i + 1 :, i + 1 :]
        blk[upper[i + 1 :, i + 1 :]] = vals[off : off + count]
        np.add(blk, blk.T, out=blk)
        off += count
    assert off == vals.size, (off, vals.size)
    # Stage 2: T[x, y, z] = B[min, ., .]: slab x gets B[y, x, z] (y < x) as rows and as
    # columns. Going down from x = n-1 keeps the rows y < x untouched while they are read.
    for x in range(n - 1, 0, -1):
        C = T[:x, x, :]
        T[x, :x, :] += C
        T[x, :, :x] += C.T
    return T


def packed_reference(model: Any, S: np.ndarray) -> np.ndarray:
    """float64 gradient from the packed couplings with numpy only, slab by slab (no dense
    tensor, so it works at any n): for each i<j<k, dH/ds_i = -K s_j s_k etc.

    Runs its many small BLAS calls on one thread: with two, each can cost a scheduler slice
    (8-16 ms) whenever another process holds a core (perf.md)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return _packed_reference(model, S)
    with threadpool_limits(1, user_api="blas"):
        return _packed_reference(model, S)


def _packed_reference(model: Any, S: np.ndarray) -> np.ndarray:
    (p,) = model.degrees
    n = model.n
    S64 = np.asarray(S, dtype=np.float64)
    vals = np.asarray(model.packed_couplings(p), dtype=np.float64)
    G = np.zeros_like(S64)
    if p == 2:
        T = np.zeros((n, n))
        T[np.triu_indices(n, 1)] = vals
        T += T.T
        return -(S64 @ T)
    assert p == 3
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    # Slab i's couplings K[i, j, k] (j < k) are the strict upper triangle of the trailing
    # (m x m) block; one buffer serves all slabs (its lower triangle stays zero).
    U_all = np.zeros((n, n))
    off = 0
    for i in range(n - 2):
        m = n - i - 1
        count = m * (m - 1) // 2
        U = U_all[i + 1 :, i + 1 :]
        U[upper[i + 1 :, i + 1 :]] = vals[off : off + count]
        off += count
        sub = S64[:, i + 1 :]  # (b, m)
        US = sub @ U.T  # (b, m): sum_k U[j,k] s_k
        UtS = sub @ U  # (b, m): sum_j U[j,k] s_j
        G[:, i] -= np.einsum("bj,bj->b", sub, US)
        G[:, i + 1 :] -= S64[:, i : i + 1] * (US + UtS)
    return G


# --------------------------------------------------------------------------- baselines
def numpy_forms(T: np.ndarray, p: int, b: int) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """numpy formulations of the batched gradient on the dense tensor; the report times all
    and keeps the fastest ("numpy best"). S has shape (b, n); results have shape (b, n)."""
    n = T.shape[0]
    if p == 2:
        if b == 1:
            return {"T@s (gemv)": lambda S: -(T @ S[0])[None, :]}
        return {"S@T (gemm)": lambda S: -(S @ T)}
    J1 = T.reshape(n * n, n)
    J2 = T.reshape(n, n * n)
    if b == 1:
        return {
            "2 matvecs": lambda S: (-0.5 * ((J1 @ S[0]).reshape(n, n) @ S[0]))[None, :],
            "J@kron(s,s)": lambda S: (-0.5 * (J2 @ np.outer(S[0], S[0]).ravel()))[None, :],
        }

    def gemm_bmm(S: np.ndarray) -> np.ndarray:
        Y = (S @ J2).reshape(S.shape[0], n, n)  # Y[b, j, k] = sum_i s_bi T_ijk
        return -0.5 * np.matmul(Y, S[:, :, None])[:, :, 0]

    def kron_gemm(S: np.ndarray) -> np.ndarray:
        K = (S[:, :, None] * S[:, None, :]).reshape(S.shape[0], n * n)
        return -0.5 * (K @ J2.T)

    def gemm_einsum(S: np.ndarray) -> np.ndarray:
        X = (J1 @ S.T).reshape(n, n, S.shape[0])  # X[i, j, b] = sum_k T_ijk s_bk
        return -0.5 * np.einsum("ijb,bj->bi", X, S)

    return {"GEMM+bmm": gemm_bmm, "kron GEMM": kron_gemm, "GEMM+einsum": gemm_einsum}


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except Exception:  # noqa: BLE001 - torch absent or broken (ImportError, OSError, ...)
        return False
    return True


def torch_einsum(T: np.ndarray, p: int, b: int) -> Callable[[np.ndarray], np.ndarray]:
    """torch.einsum on the CPU, on the same memory as T (torch.from_numpy: no copy), written
    the way a user would: 'ijk,bj,bk->bi' (b=1: 'ijk,j,k->i'). Returns numpy arrays."""
    import torch

    Tt = torch.from_numpy(T)
    if p == 2:
        if b == 1:
            return lambda S: -torch.einsum("ij,j->i", Tt, torch.from_numpy(S[0])).numpy()[None, :]
        return lambda S: -torch.einsum("ij,bj->bi", Tt, torch.from_numpy(S)).numpy()
    if b == 1:

        def f1(S: np.ndarray) -> np.ndarray:
            s = torch.from_numpy(S[0])
            return (-0.5 * torch.einsum("ijk,j,k->i", Tt, s, s)).numpy()[None, :]

        return f1

    def fb(S: np.ndarray) -> np.ndarray:
        s = torch.from_numpy(S)
        return (-0.5 * torch.einsum("ijk,bj,bk->bi", Tt, s, s)).numpy()

    return fb


# torch.einsum materialises a permuted copy of T for the first contraction (perf.md: 1.1 GB/s)
TORCH_EXTRA_COPIES = 1.0


# --------------------------------------------------------------------------- checks
def check(got: np.ndarray, ref: np.ndarray, dtype: str, what: str) -> float:
    """Assert got ~ ref within the dtype's tolerance; returns the scaled max error.

    ``ref`` may hold more rows (a b=32 reference for a b=1 result: the states are nested) or
    fewer (a reference computed for the first few states only): the common rows are compared.
    """
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    rows = min(got.shape[0], ref.shape[0])
    got, ref = got[:rows], ref[:rows]
    scale = float(np.max(np.abs(ref))) or 1.0
    err = float(np.max(np.abs(got - ref))) / scale
    tol = TOLERANCE[dtype]
    if not (err <= tol):  # also catches NaN
        raise AssertionError(f"{what}: max |error| / max |ref| = {err:.3g} > {tol:.1g}")
    return err


# --------------------------------------------------------------------------- threads
class Threads:
    """Sets pspin's OpenMP threads, numpy's BLAS threads (threadpoolctl) and torch's intra-op
    threads to k for the duration of the block."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __enter__(self) -> Threads:  # noqa: PYI034
        import pspin

        self._stack: list[Any] = []
        ctx = pspin.threads(self.k)
        ctx.__enter__()
        self._stack.append(ctx)
        try:
            from threadpoolctl import threadpool_limits

            self._stack.append(threadpool_limits(self.k, user_api="blas"))
        except ImportError:
            if self.k != os.cpu_count():
                raise RuntimeError(
                    "threadpoolctl is needed to run numpy's BLAS with a given thread count "
                    "(pip install threadpoolctl)"
                ) from None
        if torch_available():
            import torch

            self._torch_prev = torch.get_num_threads()
            torch.set_num_threads(self.k)
        return self

    def __exit__(self, *exc: object) -> None:
        if torch_available():
            import torch

            torch.set_num_threads(self._torch_prev)
        for ctx in reversed(self._stack):
            if hasattr(ctx, "__exit__"):
                ctx.__exit__(None, None, None)
            else:  # threadpool_limits object without a with-block
                ctx.restore_original_limits()


def packed_bytes(model: Any) -> int:
    return int(model.nbytes)
