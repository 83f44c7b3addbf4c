"""Minimisation on the sphere (C++ batched gradient descent and L-BFGS)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core, _seed, _validate
from .._memory import require_memory
from .._results import RunClock
from ..models import SphericalPSpin
from ._progress import progress_bar
from ._results import Minima
from ._starts import initial_states

# The allowed method names (their only list) and the core's enum for each.
_CORE_METHODS = {"lbfgs": _core.SphereMethod.LBFGS, "gd": _core.SphereMethod.GradientDescent}
METHODS = tuple(_CORE_METHODS)


def minimize_spherical(
    model: SphericalPSpin,
    n_starts: int | None = None,
    *,
    method: str = "lbfgs",
    gtol: float = 1e-6,
    max_iter: int | None = None,
    seed: _seed.SeedLike = None,
    initial: Any = None,
    record_every: int = 0,
    progress: bool = False,
    step: float = 0.1,
    memory: int = 10,
) -> Minima:
    """Descend from many starts at once on the sphere |s|^2 = n.

    Parameters
    ----------
    model : SphericalPSpin
    n_starts : int, optional
        Number of random starts (uniform on the sphere, from ``seed``).
    method : {'lbfgs', 'gd'}
        'gd': Riemannian gradient descent s <- R(s - step grad_sph H), the discretised
        gradient flow of the theory (R is the retraction s -> sqrt(n) s/|s|).
        'lbfgs': Riemannian L-BFGS (vector transport by projection, ``memory``
        pairs) with an Armijo backtracking line search; much faster to a minimum.
    gtol : float
        Stop a start when |grad_sph H| / sqrt(n) < gtol.
    max_iter : int, optional
        Iterations per start (default 10000 for 'lbfgs', 10^6 for 'gd').
    seed, initial
        Seed of the random starts, or explicit starting states (b, n).
    record_every : int
        Record the energy per spin every this many iterations (0: no trajectory).
    progress : bool
        Show a tqdm progress bar of the starts that have stopped (if tqdm is installed).
    step : float
        Step of 'gd' (stable below 2/lambda_max of the Riemannian Hessian, about 0.28
        for p = 3); the size of the first L-BFGS move per spin.
    memory : int
        L-BFGS history length.

    Returns
    -------
    Minima
        States, energies, Riemannian gradient norm per spin, converged flags (a start
        that hit ``max_iter`` or stalled is reported as not converged), iterations; all
        float64 (int64, bool) whatever the model's dtype (docs/conventions.md).

    Examples
    --------
    >>> import pspin
    >>> m = pspin.landscape.minimize_spherical(pspin.SphericalPSpin(16, 3, seed=1), 4, seed=2)
    >>> m.energies.shape, m.states.shape
    ((4,), (4, 16))
    """
    clock = RunClock()
    if not isinstance(model, SphericalPSpin):
        raise TypeError(f"minimize_spherical needs a SphericalPSpin, got {type(model).__name__}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} for spherical models; allowed: {METHODS}")
    gtol = _validate.positive_float(gtol, "gtol")
    step = _validate.positive_float(step, "step")
    memory = _validate.positive_int(memory, "memory")
    record_every = _validate.positive_int(record_every, "record_every", minimum=0)
    if max_iter is None:
        max_iter = 10_000 if method == "lbfgs" else 1_000_000
    max_iter = _validate.positive_int(max_iter, "max_iter")
    states, seq = initial_states(model, n_starts, initial, seed)
    if not np.all(np.linalg.norm(states, axis=1) > 0):
        raise ValueError("initial states must be non-zero (they are normalised onto the sphere)")
    history = 2 * memory if method == "lbfgs" else 0
    require_memory(8 * states.size * (6 + history), "the optimiser state")
    # Any: the kernel's precision follows the couplings' (F64 with F64), which the types
    # cannot express; both kernels share one interface.
    cls: Any = _core.SphereDescentF64 if model.dtype == np.float64 else _core.SphereDescentF32
    run = cls(model._couplings, states, _CORE_METHODS[method], step, memory, gtol, record_every)
    done = 0
    chunk = 10 if method == "lbfgs" else 100
    b = states.shape[0]
    stopped = 0
    # Counting starts that stopped, not iterations of the budget: most runs stop far
    # below max_iter, and a bar over max_iter promised hours for a job of seconds.
    with progress_bar(progress, total=b, desc=f"minimize ({method})", unit="start") as bar:
        while done < max_iter:
            todo = min(chunk, max_iter - done)
            active = run.run(todo)
            done += todo
            bar.update(b - active - stopped)
            stopped = b - active
            if active == 0:
                break
    trajectory = None
    if record_every:
        rows = run.trajectory()
        width = max(len(r) for r in rows)
        trajectory = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            trajectory[i, : len(r)] = r
    return Minima(
        states=run.states(),
        energies=run.energies(),
        grad_norm=run.grad_norm(),
        converged=run.converged(),
        iterations=run.iterations().astype(np.int64),
        trajectory=trajectory,
        method=method,
        params={
            "model": repr(model),
            "method": method,
            "n_starts": b,
            "gtol": gtol,
            "max_iter": max_iter,
            "iteration_unit": "iteration",
            "record_every": record_every,
            "step": step,
            "memory": memory,
            "initial_given": initial is not None,
            **_seed.record(seq),
            **_seed.model_record(model),
        },
        run_info=clock.info(),
    )
