"""Plots of the theory curves (needs matplotlib, the ``plot`` extra; imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import ModelSpec, as_mixture, as_real_array
from .spherical_landscape import complexity, ground_state_energy, threshold_energy

__all__ = ["plot_complexity"]


def plot_complexity(
    p: ModelSpec,
    ax: Any | None = None,
    *,
    indices: tuple[int, ...] = (0, 1, 2),
    energies: Any | None = None,
    num: int = 400,
) -> Any:
    """Draw the complexity densities ``Sigma_k(e)`` (k in ``indices``) and ``Sigma(e)`` (all indices).

    The ground-state and threshold energies are marked by vertical lines.

    Parameters
    ----------
    p : int or mapping
        Spherical model.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when None.
    indices : tuple of int
        Morse indices to draw.
    energies : array, optional
        Energies per spin to draw; by default the bottom of the landscape,
        ``[e_gs - 0.6 (e_th - e_gs), e_th + 0.6 (e_th - e_gs)]``, where the layers are.
    num : int
        Number of energies in the default range.

    Returns
    -------
    matplotlib.axes.Axes
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plot_complexity needs matplotlib: pip install 'pspin[plot]'") from exc
    model = as_mixture(p)
    e_gs, e_th = ground_state_energy(model), threshold_energy(model)
    if ax is None:
        _, ax = plt.subplots()
    span = e_th - e_gs
    if energies is None:
        e = (
            np.linspace(e_gs - 0.6 * span, e_th + 0.6 * span, num)
            if span > 0
            else np.linspace(e_gs - 0.5, 0.5, num)
        )
    else:
        e = np.sort(np.ravel(as_real_array(energies, "energies")))
    total = np.asarray(complexity(e, model), dtype=float)
    ax.plot(e, total, color="k", label="all indices")
    lowest = [float(total.min())]
    for k in indices:
        sigma = np.asarray(complexity(e, model, k), dtype=float)
        ax.plot(e, np.where(np.isfinite(sigma), sigma, np.nan), label=f"index {k}")
        lowest.append(float(np.min(sigma[np.isfinite(sigma)], initial=0.0)))
    top = float(total.max())
    bottom = max(min(lowest), -top)  # the index-k curves plunge below e_gs
    ax.set_ylim(bottom - 0.05 * (top - bottom), top + 0.05 * (top - bottom))
    ax.axvline(e_gs, color="grey", ls="--", lw=0.8)
    ax.axvline(e_th, color="grey", ls=":", lw=0.8)
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.annotate("$e_{gs}$", (e_gs, 0.0), textcoords="offset points", xytext=(2, 4))
    ax.annotate("$e_{th}$", (e_th, 0.0), textcoords="offset points", xytext=(2, 4))
    ax.set_xlabel("energy per spin $e$")
    ax.set_ylabel(r"complexity $\Sigma(e)$")
    ax.set_title(f"annealed complexity, spherical {model.label}")
    ax.legend(loc="best", fontsize="small")
    return ax
