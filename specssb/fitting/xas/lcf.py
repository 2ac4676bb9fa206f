"""Linear combination fitting (LCF) of normalized XAS spectra against reference spectra.

A spectrum :math:`y(E)` is modelled as :math:`\\sum_j w_j r_j(E)` over the references
:math:`r_j` in a fit window, with the weights optionally non-negative and summing to one
(Athena's defaults; Larch's ``lincombo_fit`` has ``sum_to_one=True`` and unbounded weights
unless ``minvals`` is given). A whole series is solved at once: the exact active-set solver of
:mod:`specssb.fitting.xas._linear` factorizes one small bordered matrix per subset of references
and applies it to every spectrum, so 10,000 spectra cost a few matrix products.

Grid and window
    The fit runs on the data's own energy points inside ``[emin, emax]`` (inclusive), given
    relative to ``e0`` when ``e0`` is passed and in absolute eV otherwise. Each reference is
    interpolated onto those points (``interpolation="linear"`` by default, ``"cubic"`` for a
    not-a-knot cubic spline as Larch's ``interp(kind='cubic')`` uses); references are never
    extrapolated, so every reference must span the window. Larch's ``groups2matrix`` instead
    starts the window at the last grid point at or below ``xmin`` (one point earlier when
    ``xmin`` falls between points); pass grid energies to get identical windows.
Statistics (as Athena and Larch define them)
    ``chisqr`` = :math:`\\sum (y - \\hat y)^2` (unweighted), ``redchi`` = chisqr / (n_points −
    n_varys) with n_varys = the number of non-zero weights minus one under ``sum_to_one``, and
    ``rfactor`` = :math:`\\sum (y - \\hat y)^2 / \\sum y^2`.
Uncertainties
    ``stderr`` is the square root of the diagonal of ``redchi`` × the covariance of the
    equality-constrained linear least squares on the active references (the top-left block of
    the inverse KKT matrix, i.e. :math:`Z (Z^T G Z)^{-1} Z^T` for a null-space basis ``Z`` of the
    sum constraint). This is what lmfit reports in Larch's ``lincombo_fit``: the last weight is
    an expression ``1 - sum(others)`` there, and its stderr is propagated from the covariance of
    the others, which gives the same matrix; the two differ only by lmfit's finite-difference
    Jacobian (relative 1e-6 or less). A weight held at its bound 0 has no stderr (NaN) and
    ``at_bound=True``; lmfit reports a number from its bound transformation there.

Energy shifts per reference (Larch ``vary_e0``) are not implemented; align spectra first.

References
----------
Ravel, B. & Newville, M., J. Synchrotron Rad. 12 (2005) 537 (Athena LCF: combinatorics,
R-factor). Newville, M., J. Phys.: Conf. Ser. 430 (2013) 012007 (Larch). Lawson, C. L. &
Hanson, R. J., *Solving Least Squares Problems* (1974), ch. 20–23 (NNLS, equality constraints).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.xas._linear import (
    all_subsets,
    best_subsets,
    check_basis_size,
    check_finite,
    energy_window,
    interpolate_references,
    leading_labels,
    solve_subset,
    sorted_energy,
)
from specssb.spectrum import Spectrum

__all__ = ["LCFResult", "combinations", "fit_lcf"]

SORT_KEYS = ("redchi", "chisqr", "rfactor")


@dataclass(frozen=True, eq=False)
class LCFResult:
    """Weights and statistics of an LCF run over one spectrum or a stack, with the curves.

    Attributes
    ----------
    references : tuple of str
        Reference labels, in the column order of ``weights``.
    energy : ndarray of shape (n,), eV
        Data energies inside the fit window (increasing).
    data : ndarray of shape (m, n)
        The fitted spectra on ``energy`` (m = number of spectra, C order of the stack).
    basis : ndarray of shape (k, n)
        The references interpolated onto ``energy``.
    weights, stderr : ndarray of shape (m, k)
        Best weights and their standard errors (NaN for a weight at its bound 0).
    at_bound : ndarray of shape (m, k) of bool
        Weights held at 0 by the non-negativity constraint.
    chisqr, redchi, rfactor : ndarray of shape (m,)
    n_varys : ndarray of shape (m,) of int
    leading_shape : tuple of int
        Shape of the stack's leading dims (``()`` for one spectrum).
    parameters : dict
        The options of the fit (window in eV, constraints, interpolation), for provenance.
    table : pandas.DataFrame
        Tidy: one row per spectrum × reference with columns ``spectrum``, one per leading dim
        and coordinate, ``reference``, ``weight``, ``stderr``, ``at_bound``, ``chisqr``,
        ``redchi``, ``rfactor``, ``n_points``, ``n_varys``.
    """

    references: tuple[str, ...]
    energy: np.ndarray
    data: np.ndarray
    basis: np.ndarray
    weights: np.ndarray
    stderr: np.ndarray
    at_bound: np.ndarray
    chisqr: np.ndarray
    redchi: np.ndarray
    rfactor: np.ndarray
    n_varys: np.ndarray
    leading_shape: tuple[int, ...]
    parameters: dict[str, Any]
    table: pd.DataFrame = field(repr=False)

    @property
    def n_spectra(self) -> int:
        """Number of spectra fitted."""
        return int(self.weights.shape[0])

    def fitted(self) -> np.ndarray:
        """Best-fit curves, shape (m, n): ``weights @ basis``."""
        return self.weights @ self.basis

    def fractions(self) -> pd.DataFrame:
        """Wide table of weights: one row per spectrum, one column per reference."""
        return pd.DataFrame(self.weights, columns=list(self.references))

    def curves(self, spectrum: int = 0) -> dict[str, Any]:
        """The curves of one spectrum, for plots.

        Parameters
        ----------
        spectrum : int
            Flat index of the spectrum (the ``spectrum`` column of :attr:`table`).

        Returns
        -------
        dict
            ``energy`` (n,), ``data`` (n,), ``fit`` (n,), ``residual`` (n,: data − fit) and
            ``components`` (dict reference -> (n,): weight × reference).
        """
        if not -self.n_spectra <= spectrum < self.n_spectra:
            raise IndexError(f"no spectrum {spectrum} in this result of {self.n_spectra}")
        weights = self.weights[spectrum]
        fit = weights @ self.basis
        return {
            "energy": self.energy,
            "data": self.data[spectrum],
            "fit": fit,
            "residual": self.data[spectrum] - fit,
            "components": {label: w * row
                           for label, w, row in zip(self.references, weights, self.basis)},
        }


def fit_lcf(
    spectrum: Spectrum,
    references: Mapping[str, Spectrum],
    *,
    emin: float | None = None,
    emax: float | None = None,
    e0: float | None = None,
    nonnegative: bool = True,
    sum_to_one: bool = True,
    interpolation: str = "linear",
) -> LCFResult:
    """Fit every spectrum of ``spectrum`` as a linear combination of ``references``.

    Parameters
    ----------
    spectrum : Spectrum
        Normalized XAS (``signal`` "norm" or "flat"), one spectrum or a stack with leading dims,
        on an ``energy`` axis (eV).
    references : Mapping of str to Spectrum
        Label -> one normalized reference spectrum; any energy grid that spans the window.
    emin, emax : float, optional
        Fit window in eV, relative to ``e0`` when given, else absolute; None = end of the data.
        Athena's usual XANES window is ``emin=-20, emax=30`` around e0.
    e0 : float, optional
        Edge energy (eV) the window is relative to (one value for the whole stack).
    nonnegative : bool, default True
        Constrain every weight to ``>= 0`` (exact, by active-set enumeration).
    sum_to_one : bool, default True
        Constrain the weights of each spectrum to sum to 1.
    interpolation : {"linear", "cubic"}
        How references are put on the data grid.

    Returns
    -------
    LCFResult

    Raises
    ------
    FitError
        For data or references with NaN in the window, references that do not span the window
        (or do not overlap the data at all), too few points, or a non-energy axis.
    ConfigError
        For an empty window, an unknown interpolation or more than 12 references.

    Warns
    -----
    PhysicsWarning
        When the data are un-normalized ``mu``, or when a reference is (nearly) a linear
        combination of the others.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> energy = np.linspace(7100.0, 7160.0, 121)
    >>> a = 1 / (1 + np.exp(-(energy - 7120) / 2))
    >>> b = 1 / (1 + np.exp(-(energy - 7128) / 2)) + np.exp(-((energy - 7132) / 3) ** 2)
    >>> ref = lambda y: Spectrum(Axis("energy", "eV", energy), y, "xas", "norm")
    >>> result = fit_lcf(ref(0.3 * a + 0.7 * b), {"a": ref(a), "b": ref(b)})
    >>> np.round(result.weights, 6).tolist()
    [[0.3, 0.7]]
    """
    energy, rows = sorted_energy(spectrum, label="LCF data")
    if spectrum.signal == "mu":
        warnings.warn("LCF of un-normalized mu: normalize the data and the references first "
                      "(weights of mu spectra are not fractions)", PhysicsWarning, stacklevel=2)
    keep, low, high = energy_window(energy, emin=emin, emax=emax, e0=e0)
    grid, data = energy[keep], rows[:, keep]
    labels, basis = _prepare(grid, data, references, interpolation, low, high, energy)
    k, n = basis.shape
    if n <= k:
        raise FitError(f"LCF: the window {low:.2f}–{high:.2f} eV holds {n} data points, "
                       f"fewer than needed for {k} references plus one")
    weights, choice, solutions = _solve(basis, data, nonnegative=nonnegative, sum_to_one=sum_to_one)
    if np.any(choice < 0):
        raise FitError(f"LCF: no solution for {int(np.sum(choice < 0))} spectra (the references "
                       "are singular in the window)")
    sizes = np.array([len(solution.members) for solution in solutions])
    stats = _statistics(data, basis, weights, sizes[choice] - int(sum_to_one))
    stderr, at_bound = _stderr(weights, choice, solutions, stats["redchi"], k)
    parameters = {
        "emin": emin, "emax": emax, "e0": e0, "window_ev": (float(grid[0]), float(grid[-1])),
        "nonnegative": nonnegative, "sum_to_one": sum_to_one, "interpolation": interpolation,
        "references": labels,
    }
    table = _table(spectrum, labels, weights, stderr, at_bound, stats, n)
    return LCFResult(
        references=tuple(labels), energy=grid, data=data, basis=basis, weights=weights,
        stderr=stderr, at_bound=at_bound, chisqr=stats["chisqr"], redchi=stats["redchi"],
        rfactor=stats["rfactor"], n_varys=stats["n_varys"], leading_shape=spectrum.leading_shape,
        parameters=parameters, table=table,
    )


def combinations(
    spectrum: Spectrum,
    references: Mapping[str, Spectrum],
    *,
    emin: float | None = None,
    emax: float | None = None,
    e0: float | None = None,
    nonnegative: bool = True,
    sum_to_one: bool = True,
    interpolation: str = "linear",
    min_size: int = 1,
    max_size: int | None = None,
    sort_by: str = "redchi",
    index: int = 0,
) -> pd.DataFrame:
    """Rank every combination of references for one spectrum (Athena's combinatorial LCF).

    Each subset of ``min_size`` to ``max_size`` references is fitted with exactly those
    references. With ``nonnegative`` a subset whose best weights include a negative one is
    left out: its non-negative optimum is a smaller subset, ranked on its own (Larch's
    ``lincombo_fitall`` likewise keeps one result per set of non-zero weights).

    Parameters
    ----------
    spectrum, references, emin, emax, e0, nonnegative, sum_to_one, interpolation
        As :func:`fit_lcf`.
    min_size, max_size : int
        Sizes of the combinations (Larch's ``lincombo_fitall`` uses 2 to all).
    sort_by : {"redchi", "chisqr", "rfactor"}
        Ranking statistic, best (smallest) first; ``redchi`` as Larch sorts.
    index : int
        Flat index of the spectrum when ``spectrum`` is a stack.

    Returns
    -------
    pandas.DataFrame
        One row per combination: ``rank`` (1 = best), ``combination`` ("a + b"),
        ``n_references``, ``chisqr``, ``redchi``, ``rfactor``, then ``weight_<label>`` and
        ``stderr_<label>`` per reference (NaN when the reference is not in the combination).
    """
    if sort_by not in SORT_KEYS:
        raise ConfigError(f"unknown sort_by {sort_by!r}; choose one of {SORT_KEYS}", key="sort_by")
    energy, rows = sorted_energy(spectrum, label="LCF data")
    if not -rows.shape[0] <= index < rows.shape[0]:
        raise IndexError(f"no spectrum {index} in a stack of {rows.shape[0]}")
    keep, low, high = energy_window(energy, emin=emin, emax=emax, e0=e0)
    grid, data = energy[keep], rows[[index]][:, keep]
    labels, basis = _prepare(grid, data, references, interpolation, low, high, energy)
    k, n = basis.shape
    if min_size < 1 or (max_size is not None and max_size < min_size):
        raise ConfigError(f"bad combination sizes min_size={min_size}, max_size={max_size}",
                          key="min_size")
    gram, projections, norms = basis @ basis.T, data @ basis.T, np.einsum("ij,ij->i", data, data)
    records = []
    for members in all_subsets(k, min_size=min_size, max_size=max_size):
        solution = solve_subset(gram, projections, norms, members, sum_to_one=sum_to_one)
        w = solution.weights[0]
        if not np.all(np.isfinite(w)) or (nonnegative and np.any(w < -1e-10)):
            continue
        full = np.zeros(k)
        full[list(members)] = np.maximum(w, 0.0) if nonnegative else w
        residual = data[0] - full @ basis
        chisqr = float(residual @ residual)
        n_varys = len(members) - int(sum_to_one)
        redchi = chisqr / (n - n_varys)
        record = {"combination": " + ".join(labels[i] for i in members),
                  "n_references": len(members), "chisqr": chisqr, "redchi": redchi,
                  "rfactor": chisqr / float(norms[0])}
        errors = np.sqrt(np.maximum(np.diag(solution.covariance), 0.0) * redchi)
        for j, label in enumerate(labels):
            position = members.index(j) if j in members else None
            record[f"weight_{label}"] = full[j] if position is not None else np.nan
            record[f"stderr_{label}"] = errors[position] if position is not None else np.nan
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    frame = frame.sort_values(sort_by, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


# --------------------------------------------------------------------------- helpers
def _prepare(
    grid: np.ndarray, data: np.ndarray, references: Mapping[str, Spectrum], interpolation: str,
    low: float, high: float, energy: np.ndarray,
) -> tuple[list[str], np.ndarray]:
    if grid.size == 0:
        raise FitError(f"LCF: no data point in the window {low:.2f}–{high:.2f} eV; the data span "
                       f"{energy[0]:.2f}–{energy[-1]:.2f} eV")
    check_finite(data, label="LCF data", energy=grid)
    if isinstance(references, Mapping):
        check_basis_size(len(references), what="LCF")
    labels, basis = interpolate_references(references, grid, interpolation=interpolation, what="LCF")
    if len(labels) > 1:
        singular = np.linalg.svd(basis, compute_uv=False)
        if singular[-1] <= 1e-8 * singular[0]:
            warnings.warn(f"LCF references {labels} are (nearly) linearly dependent in the window "
                          "(their weights are not determined)", PhysicsWarning, stacklevel=3)
    return labels, basis


def _solve(basis: np.ndarray, data: np.ndarray, *, nonnegative: bool, sum_to_one: bool):
    gram = basis @ basis.T
    projections = data @ basis.T
    norms = np.einsum("ij,ij->i", data, data)
    return best_subsets(gram, projections, norms, sum_to_one=sum_to_one, nonnegative=nonnegative)


def _statistics(data: np.ndarray, basis: np.ndarray, weights: np.ndarray, n_varys: np.ndarray):
    """chisqr from explicit residuals (not the normal equations), in chunks of rows."""
    m, n = data.shape
    chisqr = np.empty(m)
    step = max(1, 2_000_000 // max(n, 1))
    for start in range(0, m, step):
        residual = data[start : start + step] - weights[start : start + step] @ basis
        chisqr[start : start + step] = np.einsum("ij,ij->i", residual, residual)
    norms = np.einsum("ij,ij->i", data, data)
    with np.errstate(divide="ignore", invalid="ignore"):
        rfactor = np.where(norms > 0, chisqr / norms, np.nan)
    return {"chisqr": chisqr, "redchi": chisqr / (n - n_varys), "rfactor": rfactor,
            "n_varys": n_varys}


def _stderr(weights, choice, solutions, redchi, k):
    m = weights.shape[0]
    stderr = np.full((m, k), np.nan)
    at_bound = np.ones((m, k), dtype=bool)
    for number, solution in enumerate(solutions):
        rows = choice == number
        if not rows.any():
            continue
        members = np.asarray(solution.members)
        variance = np.maximum(np.diag(solution.covariance), 0.0)
        stderr[np.ix_(rows, members)] = np.sqrt(redchi[rows, None] * variance[None, :])
        at_bound[np.ix_(rows, members)] = False
    return stderr, at_bound


def _table(spectrum, labels, weights, stderr, at_bound, stats, n_points) -> pd.DataFrame:
    m, k = weights.shape
    columns: dict[str, Any] = {"spectrum": np.repeat(np.arange(m), k)}
    for name, values in leading_labels(spectrum).items():
        if name not in ("spectrum", "reference"):
            columns[name] = np.repeat(values, k)
    columns.update({
        "reference": np.tile(np.asarray(labels, dtype=object), m),
        "weight": weights.ravel(),
        "stderr": stderr.ravel(),
        "at_bound": at_bound.ravel(),
        "chisqr": np.repeat(stats["chisqr"], k),
        "redchi": np.repeat(stats["redchi"], k),
        "rfactor": np.repeat(stats["rfactor"], k),
        "n_points": np.full(m * k, n_points),
        "n_varys": np.repeat(stats["n_varys"], k),
    })
    return pd.DataFrame(columns)
