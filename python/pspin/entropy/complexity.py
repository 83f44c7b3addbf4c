"""Complexity from counting: critical points by energy over disorder samples, beside theory."""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any, Callable, Sequence

import numpy as np

from .. import _seed, _validate, theory
from .._results import Result, axes, result_type
from ..landscape._progress import progress_bar
from ..models import IsingPSpin, PSpinModel, SphericalPSpin
from .census import Census, census

# The exact finite-n Kac-Rice expectation costs ~1 s at n = 20 and ~20 s at n = 40.
_FINITE_N_THEORY_MAX = 30


def _spec(model: PSpinModel) -> tuple[Any, ...]:
    """What must agree between disorder samples of one ensemble."""
    return (type(model).__name__, model.n, tuple(model.degrees), tuple(sorted(model.coefficients.items())),
            getattr(model, "ensemble", None), np.dtype(model.dtype).name)


def theory_spec(model: PSpinModel) -> Any:
    """The model's degrees in the theory module's form: an int when pure, else {degree: c_p}."""
    coeffs = dict(model.coefficients)
    if len(coeffs) == 1 and next(iter(coeffs.values())) == 1.0:
        return next(iter(coeffs))
    return coeffs


def _sample_seed(seq: np.random.SeedSequence, sample: int, purpose: int) -> np.random.SeedSequence:
    """Seed of one use in one disorder sample: the same for a sample whatever the others do."""
    return np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (sample, purpose), pool_size=seq.pool_size)


def _annealed(counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(1/n) ln mean_s N_s and its delete-one jackknife error over the samples (axis 0).

    -inf (error NaN) where no sample has a point: there is no estimate, not a zero one.
    """
    S = counts.shape[0]
    total = counts.sum(axis=0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(total / S) / n
        if S < 2:
            return value, np.full_like(value, np.nan)
        loo = np.log((total - counts) / (S - 1)) / n  # (S, bins): with sample s left out
        err = np.sqrt((S - 1) / S * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    err = np.where(np.isfinite(value) & np.all(np.isfinite(loo), axis=0), err, np.nan)
    return value, err


def _quenched(counts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(1/n) mean_s ln N_s with its standard error; -inf where some sample has no point."""
    S = counts.shape[0]
    with np.errstate(divide="ignore"):
        logs = np.log(counts.astype(np.float64)) / n
    value = logs.mean(axis=0)
    finite = np.all(np.isfinite(logs), axis=0)
    err = np.full(value.shape, np.nan)
    if S >= 2:
        err[finite] = logs[:, finite].std(axis=0, ddof=1) / math.sqrt(S)
    return np.where(finite, value, -np.inf), err


@result_type
class ComplexityResult(Result):
    """Counts of critical points by energy over disorder samples, and the complexity they give.

    Counts include both s and -s when they are distinct points of equal energy (models
    with only even degrees). ``annealed`` is ``(1/n) ln E[N]``, ``quenched`` is
    ``(1/n) E[ln N]`` (``-inf`` where some sample has no point); errors are delete-one
    jackknife errors over samples (annealed) and standard errors (quenched).

    Attributes
    ----------
    n, index : int
        Size and Morse index counted.
    model : str
        The ensemble (repr of the first sample's model).
    bin_edges : ndarray (bins+1,)
        Energy per spin bins.
    counts, cumulative : ndarray (samples, bins)
        N_s(e) per bin and N_s(< upper edge).
    totals : ndarray (samples,)
        Points found per sample.
    estimated_totals, estimated_totals_error : ndarray (samples,)
        Chao1 estimate per sample of the points there are (the count when exact).
    exact : ndarray (samples,) of bool
        Whether each sample's list is complete (enumeration).
    energies_per_spin, hits, sample_of : ndarray (points,)
        Every distinct point found, its basin size in starts and its sample.
    annealed, annealed_error, quenched, quenched_error : ndarray (bins,)
    annealed_cumulative, annealed_cumulative_error, quenched_cumulative, quenched_cumulative_error : ndarray (bins,)
    annealed_total, annealed_total_error, quenched_total, quenched_total_error : float
    theory_expected, theory_expected_cumulative : ndarray (bins,)
        Exact finite-n Kac-Rice expectation E[N] per bin and below each upper edge
        (spherical, n <= 30; exact for the isotropic ensemble, the n -> infinity-equivalent
        approximation for the distinct one); NaN where not computed.
    theory_expected_total : float
        E[N] at this n: finite-n Kac-Rice (spherical) or the exact SK expectation of
        one-flip-stable states (Ising p = 2); NaN otherwise.
    theory_complexity : ndarray (bins,)
        n -> infinity annealed complexity density at the bin centres (spherical).
    theory_complexity_total : float
        n -> infinity complexity of all points counted: max_e Sigma_k(e) (spherical) or
        Tanaka-Edwards 0.19923 (Ising p = 2); NaN otherwise.
    params : dict
    """

    n: int
    index: int
    model: str
    bin_edges: np.ndarray
    counts: np.ndarray
    cumulative: np.ndarray
    totals: np.ndarray
    estimated_totals: np.ndarray
    estimated_totals_error: np.ndarray
    exact: np.ndarray
    energies_per_spin: np.ndarray
    hits: np.ndarray
    sample_of: np.ndarray
    annealed: np.ndarray
    annealed_error: np.ndarray
    quenched: np.ndarray
    quenched_error: np.ndarray
    annealed_cumulative: np.ndarray
    annealed_cumulative_error: np.ndarray
    quenched_cumulative: np.ndarray
    quenched_cumulative_error: np.ndarray
    annealed_total: float
    annealed_total_error: float
    quenched_total: float
    quenched_total_error: float
    theory_expected: np.ndarray
    theory_expected_cumulative: np.ndarray
    theory_expected_total: float
    theory_complexity: np.ndarray
    theory_complexity_total: float
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        """Number of disorder samples."""
        return int(self.counts.shape[0])

    @property
    def bin_centres(self) -> np.ndarray:
        return 0.5 * (self.bin_edges[1:] + self.bin_edges[:-1])

    @property
    def mean_counts(self) -> np.ndarray:
        """E[N(e)] per bin, averaged over samples."""
        return self.counts.mean(axis=0)

    def _table(self) -> dict[str, np.ndarray]:
        return {
            "e_lo": self.bin_edges[:-1], "e_hi": self.bin_edges[1:], "mean_count": self.mean_counts,
            "annealed": self.annealed, "annealed_error": self.annealed_error, "quenched": self.quenched,
            "quenched_error": self.quenched_error, "theory_expected": self.theory_expected,
            "theory_complexity": self.theory_complexity,
        }

    def plot(self, ax: Any = None) -> Any:
        """Cumulative annealed complexity (1/n) ln E[N(<e)] against the finite-n and n -> inf theory."""
        ax = axes(ax)
        e = self.bin_edges[1:]
        ok = np.isfinite(self.annealed_cumulative)
        ax.errorbar(e[ok], self.annealed_cumulative[ok], yerr=np.nan_to_num(self.annealed_cumulative_error[ok]),
                    fmt="o", label=f"counted, n = {self.n}, {self.samples} samples")
        with np.errstate(divide="ignore"):
            finite_n = np.log(self.theory_expected_cumulative) / self.n
        if np.any(np.isfinite(finite_n)):
            ax.plot(e, finite_n, "-", label="Kac-Rice, exact at this n")
        if np.any(np.isfinite(self.theory_complexity)):
            ax.plot(self.bin_centres, np.maximum.accumulate(np.where(np.isfinite(self.theory_complexity),
                    self.theory_complexity, -np.inf)), "--", label="n -> inf")
        ax.set_xlabel("energy per spin e")
        ax.set_ylabel("(1/n) ln N(< e)")
        ax.legend()
        return ax


def _models_and_checks(models: Any, samples: int | None, seq: np.random.SeedSequence) -> tuple[list[Any], str]:
    """The per-sample inputs (models, censuses, or seeds for a factory), checked to be one ensemble."""
    if callable(models) and not isinstance(models, (SphericalPSpin, IsingPSpin)):
        if samples is None:
            raise ValueError("with a model factory, give samples (the number of disorder samples)")
        samples = _validate.positive_int(samples, "samples")
        factory: Callable[..., PSpinModel] = models
        built = [factory(seed=_sample_seed(seq, s, 0)) for s in range(samples)]
        items: list[Any] = built
    else:
        if isinstance(models, (SphericalPSpin, IsingPSpin, Census)):
            raise TypeError("complexity needs several disorder samples: a sequence of models or censuses, or a factory")
        items = list(models)
        if samples is not None and samples != len(items):
            raise ValueError(f"samples = {samples} but {len(items)} models were given")
        if not items:
            raise ValueError("no disorder samples given")
    specs = set()
    for item in items:
        if isinstance(item, Census):
            specs.add(("census", item.n, item.params.get("model", "").split("nbytes")[0]))
        elif isinstance(item, (SphericalPSpin, IsingPSpin)):
            specs.add(_spec(item))
        else:
            raise TypeError(f"disorder samples must be SphericalPSpin, IsingPSpin or Census, got {type(item).__name__}")
    if len(specs) > 1:
        raise ValueError(f"disorder samples from different ensembles (n, degrees, type, ensemble or dtype differ): {sorted(map(str, specs))}")
    first = items[0]
    return items, first.params.get("model", "") if isinstance(first, Census) else repr(first)


def _theory(first: Any, n: int, index: int, edges: np.ndarray, finite_n: bool) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    bins = edges.size - 1
    expected = np.full(bins, np.nan)
    cumulative = np.full(bins, np.nan)
    total = math.nan
    density = np.full(bins, np.nan)
    density_total = math.nan
    if isinstance(first, IsingPSpin):
        if tuple(first.degrees) == (2,):
            total = theory.expected_one_flip_stable(n)
            density_total = theory.one_flip_stable_complexity()
        return expected, cumulative, total, density, density_total
    if not isinstance(first, SphericalPSpin):
        return expected, cumulative, total, density, density_total
    p = theory_spec(first)
    centres = 0.5 * (edges[1:] + edges[:-1])
    density = np.asarray(theory.complexity(centres, p, index), dtype=np.float64)
    density_total = float(theory.complexity_peak(p, index)[1])
    if finite_n and 2 <= n <= _FINITE_N_THEORY_MAX:
        expected = np.array([float(theory.expected_critical_points(n, p, index, energy_range=(lo, hi)))
                             for lo, hi in zip(edges[:-1], edges[1:])])
        cumulative = np.array([float(theory.expected_critical_points(n, p, index, energy_range=(-np.inf, hi)))
                               for hi in edges[1:]])
        total = float(theory.expected_critical_points(n, p, index))
    return expected, cumulative, total, density, density_total


def complexity(
    models: Sequence[Any] | Callable[..., PSpinModel],
    n_starts: int | None = None,
    *,
    samples: int | None = None,
    index: int = 0,
    bins: int | Sequence[float] = 20,
    seed: _seed.SeedLike = None,
    finite_n_theory: bool = True,
    theory_model: PSpinModel | None = None,
    progress: bool = False,
    **census_options: Any,
) -> ComplexityResult:
    """Critical points counted by energy over disorder samples, and the complexity they give.

    Runs :func:`census` on every disorder sample (or takes the censuses given), bins the
    distinct points by energy per spin, and forms the annealed complexity
    ``(1/n) ln E[N(e)]`` and the quenched ``(1/n) E[ln N(e)]`` per bin, cumulatively and
    in total, with errors from the spread over samples. Beside them: the exact finite-n
    Kac-Rice expectation (spherical, isotropic ensemble exactly; n <= 30), the
    n -> infinity complexity, and for the SK model the exact finite-n expectation of
    one-flip-stable states and the Tanaka-Edwards complexity.

    Parameters
    ----------
    models : sequence of models or of Census results, or a factory
        The disorder samples. A factory ``make(seed=SeedSequence) -> model`` is called
        ``samples`` times with seeds spawned from ``seed``. All samples must be one
        ensemble (type, n, degrees, coefficients, ensemble, dtype).
    n_starts : int, optional
        Starts per sample (not needed for Ising enumerations or given censuses).
    samples : int, optional
        Number of samples (with a factory).
    index : int
        Morse index to count.
    bins : int or sequence of floats
        Number of equal energy-per-spin bins spanning the points found, or the edges.
    seed : None, int, SeedSequence or Generator
        Seeds the samples (with a factory) and their searches, one independent stream
        per sample.
    finite_n_theory : bool
        Compute the exact finite-n Kac-Rice counts (about 1 s per bin at n = 20).
    theory_model : model, optional
        A model of the ensemble, of any size: its type and degrees choose the theory
        columns when ``models`` are censuses (which do not carry a model). Without it,
        the theory columns of censuses are NaN.
    progress : bool
        Progress bar over samples (if tqdm is installed).
    **census_options
        Passed to :func:`census` (``method``, ``gtol``, ``polish``, ...).

    Returns
    -------
    ComplexityResult

    Examples
    --------
    >>> import pspin
    >>> r = pspin.entropy.complexity(lambda seed: pspin.IsingPSpin(10, 2, seed=seed), samples=20, seed=1)
    >>> round(r.theory_expected_total, 4)  # exact SK expectation at n = 10
    7.7657
    """
    index = _validate.positive_int(index, "index", minimum=0)
    seq = _seed.as_seed_sequence(seed)
    items, model_repr = _models_and_checks(models, samples, seq)
    if isinstance(bins, (int, np.integer)):
        n_bins = _validate.positive_int(int(bins), "bins")
        edges = None
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0) or not np.all(np.isfinite(edges)):
            raise ValueError("bins must be a positive int or increasing finite edges (at least two)")
    needs_search = any(not isinstance(it, Census) for it in items)
    if needs_search and n_starts is None and not all(isinstance(it, IsingPSpin) for it in items):
        raise ValueError("give n_starts: the starts per disorder sample")
    results: list[Census] = []
    with progress_bar(progress, total=len(items), desc="samples") as bar:
        for s, item in enumerate(items):
            if isinstance(item, Census):
                results.append(item)
            else:
                results.append(census(item, n_starts, index=index, seed=_sample_seed(seq, s, 1), **census_options))
            bar.update(1)
    if any(int(c.params.get("index", index)) != index for c in results):
        raise ValueError(f"the censuses given count another index than {index}")
    n = results[0].n
    energies = np.concatenate([c.energy_per_spin for c in results])
    weights = np.concatenate([np.full(len(c), c.symmetry_factor) for c in results])
    sample_of = np.concatenate([np.full(len(c), s) for s, c in enumerate(results)]).astype(np.int64)
    if energies.size == 0:
        raise ValueError("no critical point was found in any sample: more starts, or check convergence (gtol, max_iter)")
    if edges is None:
        lo, hi = float(energies.min()), float(energies.max())
        pad = 1e-9 * max(1.0, abs(lo), abs(hi)) + (1e-6 if hi == lo else 0.0)
        edges = np.linspace(lo - pad, hi + pad, n_bins + 1)
    inside = (energies >= edges[0]) & (energies < edges[-1])
    if not np.any(inside):
        raise ValueError(f"no point found lies in the bins [{edges[0]:.6g}, {edges[-1]:.6g}); "
                         f"found energies per spin span [{energies.min():.6g}, {energies.max():.6g}]")
    which = np.clip(np.searchsorted(edges, energies, side="right") - 1, 0, edges.size - 2)
    counts = np.zeros((len(results), edges.size - 1), dtype=np.int64)
    np.add.at(counts, (sample_of[inside], which[inside]), weights[inside])
    below = energies < edges[0]
    base = np.bincount(sample_of[below], weights=weights[below], minlength=len(results)).astype(np.int64)
    cumulative = np.cumsum(counts, axis=1) + base[:, None]
    totals = np.array([c.count for c in results], dtype=np.int64)
    ann, ann_err = _annealed(counts, n)
    que, que_err = _quenched(counts, n)
    annc, annc_err = _annealed(cumulative, n)
    quec, quec_err = _quenched(cumulative, n)
    annt, annt_err = _annealed(totals[:, None], n)
    quet, quet_err = _quenched(totals[:, None], n)
    first = items[0] if not isinstance(items[0], Census) else theory_model
    if theory_model is not None and not isinstance(theory_model, (SphericalPSpin, IsingPSpin)):
        raise TypeError(f"theory_model must be a SphericalPSpin or IsingPSpin, got {type(theory_model).__name__}")
    expected, expected_cum, expected_total, density, density_total = _theory(first, n, index, edges, finite_n_theory)
    return ComplexityResult(
        n=n, index=index, model=model_repr, bin_edges=edges, counts=counts, cumulative=cumulative, totals=totals,
        estimated_totals=np.array([c.estimated_count for c in results]),
        estimated_totals_error=np.array([c.estimated_count_error for c in results]),
        exact=np.array([c.exact for c in results]), energies_per_spin=energies,
        hits=np.concatenate([c.hits for c in results]).astype(np.int64), sample_of=sample_of,
        annealed=ann, annealed_error=ann_err, quenched=que, quenched_error=que_err,
        annealed_cumulative=annc, annealed_cumulative_error=annc_err, quenched_cumulative=quec,
        quenched_cumulative_error=quec_err, annealed_total=float(annt[0]), annealed_total_error=float(annt_err[0]),
        quenched_total=float(quet[0]), quenched_total_error=float(quet_err[0]), theory_expected=expected,
        theory_expected_cumulative=expected_cum, theory_expected_total=expected_total, theory_complexity=density,
        theory_complexity_total=density_total,
        params={"n_starts": n_starts, "samples": len(results), "seed_entropy": str(seq.entropy),
                "seed_spawn_key": repr(tuple(seq.spawn_key)), "census_options": repr(sorted(census_options.items())),
                "census_params": [c.params for c in results]},
    )


_FORMS = {"1/n": (lambda n: 1.0 / n, "Sigma_n = Sigma_inf + a/n"),
          "n^-2/3": (lambda n: n ** (-2.0 / 3.0), "Sigma_n = Sigma_inf + a n^(-2/3)")}


@result_type
class Extrapolation(Result):
    """Complexity at several n extrapolated to n -> infinity.

    Attributes
    ----------
    sizes : ndarray (k,)
    values, errors : ndarray (k,)
        The finite-n complexities fitted (annealed totals by default).
    limit, limit_error : float
        Sigma_inf from the weighted least-squares fit, and its error.
    slope : float
        The fitted a of the correction term.
    chi2 : float
        Chi-squared of the fit (k - 2 degrees of freedom).
    form : str
    theory : float
        The n -> infinity value from theory (NaN if none).
    theory_finite_n : ndarray (k,)
        (1/n) ln E[N] from the exact finite-n theory at the same sizes (NaN if none).
    theory_finite_n_limit : float
        The same fit applied to ``theory_finite_n``: how far this form and these sizes
        can reach, separated from the counting errors (NaN if none).
    """

    sizes: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    limit: float
    limit_error: float
    slope: float
    chi2: float
    form: str
    theory: float
    theory_finite_n: np.ndarray
    theory_finite_n_limit: float
    params: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Any = None) -> Any:
        """Sigma_n against the correction variable with the fit and the theory values."""
        ax = axes(ax)
        basis = _FORMS[self.params["form"]][0]
        x = basis(self.sizes)
        ax.errorbar(x, self.values, yerr=self.errors, fmt="o", label="counted")
        grid = np.linspace(0.0, x.max() * 1.05, 50)
        ax.plot(grid, self.limit + self.slope * grid, "-", label=self.form)
        if np.all(np.isfinite(self.theory_finite_n)):
            ax.plot(x, self.theory_finite_n, "s", mfc="none", label="exact finite-n theory")
        if np.isfinite(self.theory):
            ax.plot([0.0], [self.theory], "k*", ms=12, label="theory n -> inf")
        ax.set_xlabel(self.params["form"])
        ax.set_ylabel("complexity")
        ax.legend()
        return ax


def _fit(x: np.ndarray, values: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    design = np.stack([np.ones_like(x), x], axis=1) / errors[:, None]
    coef, *_ = np.linalg.lstsq(design, values / errors, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    chi2 = float(np.sum(((values - (coef[0] + coef[1] * x)) / errors) ** 2))
    return coef, cov, chi2


def extrapolate(results: Sequence[ComplexityResult], *, quantity: str = "annealed_total", form: str = "n^-2/3") -> Extrapolation:
    """Fit the complexity counted at several sizes and extrapolate it to n -> infinity.

    Two forms: ``'1/n'`` (``Sigma_n = Sigma_inf + a/n``: an n-independent prefactor of
    E[N] ~ C exp(n Sigma)) and ``'n^-2/3'`` (the default: for minima of the spherical
    model the count at finite n includes points within the O(n^(-2/3)) edge region above
    e_th, and the exact finite-n Kac-Rice values at n = 8..30 follow this form more closely
    than 1/n). Neither is exact at the sizes a census reaches, so the same fit is applied
    to the exact finite-n theory at the same sizes when it is available
    (``theory_finite_n_limit``): the distance between that and ``theory`` is the bias of
    the form, the distance between ``limit`` and ``theory_finite_n_limit`` the counting
    error. Weighted least squares with the counted errors.

    Parameters
    ----------
    results : sequence of ComplexityResult
        At least two different n, same model family and index.
    quantity : {'annealed_total', 'quenched_total'}
    form : {'n^-2/3', '1/n'}

    Returns
    -------
    Extrapolation
    """
    if quantity not in ("annealed_total", "quenched_total"):
        raise ValueError(f"quantity must be 'annealed_total' or 'quenched_total', got {quantity!r}")
    if form not in _FORMS:
        raise ValueError(f"form must be one of {sorted(_FORMS)}, got {form!r}")
    results = list(results)
    if any(not isinstance(r, ComplexityResult) for r in results):
        raise TypeError("extrapolate takes ComplexityResult objects")
    sizes = np.array([r.n for r in results], dtype=np.float64)
    if np.unique(sizes).size < 2:
        raise ValueError("extrapolation needs results at two or more different n")
    if len({r.index for r in results}) > 1:
        raise ValueError("the results count different indices")
    values = np.array([getattr(r, quantity) for r in results])
    errors = np.array([getattr(r, quantity + "_error") for r in results])
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(errors)) and np.all(errors > 0)):
        raise ValueError(f"every result needs a finite {quantity} with a positive error (two or more samples)")
    basis, text = _FORMS[form]
    x = basis(sizes)
    coef, cov, chi2 = _fit(x, values, errors)
    with np.errstate(divide="ignore", invalid="ignore"):
        finite_n = np.log(np.array([r.theory_expected_total for r in results])) / sizes
    theory_limit = float(_fit(x, finite_n, errors)[0][0]) if np.all(np.isfinite(finite_n)) else math.nan
    theories = {r.theory_complexity_total for r in results}
    return Extrapolation(
        sizes=sizes, values=values, errors=errors, limit=float(coef[0]), limit_error=float(np.sqrt(cov[0, 0])),
        slope=float(coef[1]), chi2=chi2, form=text,
        theory=float(theories.pop()) if len(theories) == 1 else math.nan, theory_finite_n=finite_n,
        theory_finite_n_limit=theory_limit, params={"quantity": quantity, "form": form},
    )
