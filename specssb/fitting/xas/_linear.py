"""Shared linear algebra for LCF and MCR-ALS: exact batched non-negative least squares with an
optional sum-to-one constraint, and the data-matrix helpers (fit window, reference
interpolation) that put spectra and references on one energy grid.

The solver enumerates active sets. For ``k`` basis vectors there are ``2**k - 1`` non-empty
subsets ``S``; on each, the equality-constrained least-squares problem

.. math:: \\min_w \\lVert y - A_S w \\rVert^2 \\quad\\text{s.t.}\\quad \\mathbf 1^T w = 1

has the bordered (KKT) normal equations

.. math:: \\begin{pmatrix} G_S & \\mathbf 1 \\\\ \\mathbf 1^T & 0 \\end{pmatrix}
          \\begin{pmatrix} w \\\\ \\lambda \\end{pmatrix} =
          \\begin{pmatrix} A_S^T y \\\\ 1 \\end{pmatrix}, \\qquad G_S = A_S^T A_S,

whose matrix is the same for every spectrum, so one factorization solves all spectra at once.
The non-negative optimum is the feasible (all ``w >= 0``) subset solution of least
chi-square: the optimum's support ``S*`` gives an interior equality-constrained optimum on
``S*``, and every feasible subset solution is a feasible point of the full problem. This is
exact (no iterations, no tolerance) and also yields the ranking of every combination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations as _subsets_of_size
from typing import Any

import numpy as np

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Spectrum

#: Largest number of basis vectors for the exact subset enumeration (2**k - 1 subsets).
MAX_BASIS = 12

#: Weights above ``-FEASIBLE_TOLERANCE`` count as non-negative (rounding of exact zeros).
FEASIBLE_TOLERANCE = 1e-10

INTERPOLATIONS = ("linear", "cubic")


@dataclass(frozen=True)
class SubsetSolution:
    """Solution of one active subset for every row of the data.

    Attributes
    ----------
    members : tuple of int
        Indices of the basis vectors in the subset.
    weights : ndarray of shape (m, len(members))
    chisqr : ndarray of shape (m,)
        Sum of squared residuals (from the normal equations).
    covariance : ndarray of shape (len(members), len(members))
        Unscaled covariance of the weights: the top-left block of the inverse KKT matrix (or
        ``G_S^-1`` without the sum constraint); multiply by the reduced chi-square.
    """

    members: tuple[int, ...]
    weights: np.ndarray
    chisqr: np.ndarray
    covariance: np.ndarray


def all_subsets(k: int, *, min_size: int = 1, max_size: int | None = None) -> list[tuple[int, ...]]:
    """Every subset of ``range(k)`` with ``min_size <= size <= max_size``, smallest first."""
    top = k if max_size is None else min(max_size, k)
    return [s for size in range(min_size, top + 1) for s in _subsets_of_size(range(k), size)]


def solve_subset(
    gram: np.ndarray, projections: np.ndarray, norms: np.ndarray, members: tuple[int, ...],
    *, sum_to_one: bool,
) -> SubsetSolution:
    """Least squares on one subset of the basis for all rows at once.

    Parameters
    ----------
    gram : ndarray of shape (k, k)
        ``A^T A`` of the whole basis.
    projections : ndarray of shape (m, k)
        ``A^T y`` for each of the ``m`` rows.
    norms : ndarray of shape (m,)
        ``y . y`` of each row.
    members : tuple of int
    sum_to_one : bool

    Returns
    -------
    SubsetSolution
        Rows whose subset matrix is singular get weights and chi-square NaN.
    """
    index = np.asarray(members)
    size = index.size
    g = gram[np.ix_(index, index)]
    b = projections[:, index]
    if sum_to_one:
        kkt = np.zeros((size + 1, size + 1))
        kkt[:size, :size] = g
        kkt[:size, size] = kkt[size, :size] = 1.0
        rhs = np.concatenate([b, np.ones((b.shape[0], 1))], axis=1)
    else:
        kkt, rhs = g, b
    try:
        inverse = np.linalg.inv(kkt)
        if not np.all(np.isfinite(inverse)) or np.linalg.cond(kkt) > 1e14:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        nan = np.full(b.shape[0], np.nan)
        return SubsetSolution(members, np.full(b.shape, np.nan), nan, np.full((size, size), np.nan))
    weights = (rhs @ inverse.T)[:, :size]
    chisqr = norms - 2.0 * np.einsum("mi,mi->m", weights, b) + np.einsum(
        "mi,ij,mj->m", weights, g, weights
    )
    return SubsetSolution(members, weights, np.maximum(chisqr, 0.0), inverse[:size, :size])


def best_subsets(
    gram: np.ndarray, projections: np.ndarray, norms: np.ndarray,
    *, sum_to_one: bool, nonnegative: bool,
) -> tuple[np.ndarray, np.ndarray, list[SubsetSolution]]:
    """The least-squares (optionally non-negative) optimum of every row.

    Returns
    -------
    weights : ndarray of shape (m, k)
        Zero outside the chosen subset.
    choice : ndarray of shape (m,) of int
        Index into ``solutions`` of the subset each row uses (-1: no feasible subset).
    solutions : list of SubsetSolution
    """
    m, k = projections.shape
    subsets = all_subsets(k) if nonnegative else [tuple(range(k))]
    weights = np.zeros((m, k))
    best = np.full(m, np.inf)
    choice = np.full(m, -1)
    # a larger subset must beat a smaller one by more than rounding to be chosen
    margin = 1e-12 * np.maximum(norms, np.finfo(float).tiny)
    solutions = []
    for number, members in enumerate(subsets):
        solution = solve_subset(gram, projections, norms, members, sum_to_one=sum_to_one)
        solutions.append(solution)
        ok = np.isfinite(solution.chisqr) & (solution.chisqr < best - margin)
        if nonnegative:
            ok &= np.all(solution.weights >= -FEASIBLE_TOLERANCE, axis=1)
        if ok.any():
            best[ok] = solution.chisqr[ok]
            choice[ok] = number
            weights[ok] = 0.0
            weights[np.ix_(ok, np.asarray(members))] = solution.weights[ok]
    if nonnegative:
        weights = np.maximum(weights, 0.0)
    return weights, choice, solutions


def check_basis_size(k: int, *, what: str) -> None:
    """Refuse empty bases and bases too large for the exact subset enumeration."""
    if k < 1:
        raise ConfigError(f"{what}: at least one reference is needed", key="references")
    if k > MAX_BASIS:
        raise ConfigError(
            f"{what}: {k} references; the exact non-negative solver enumerates 2**k - 1 subsets "
            f"and accepts at most {MAX_BASIS}", key="references")


# ------------------------------------------------------------------ data matrix helpers
def energy_window(
    energy: np.ndarray, *, emin: float | None, emax: float | None, e0: float | None,
) -> tuple[np.ndarray, float, float]:
    """Boolean mask of the points of ``energy`` inside the fit window, and the window in eV.

    ``emin``/``emax`` are relative to ``e0`` when it is given, absolute otherwise; ``None``
    means the end of the data. The window is inclusive.
    """
    offset = 0.0 if e0 is None else float(e0)
    if e0 is not None and not np.isfinite(offset):
        raise ConfigError(f"e0 must be a finite energy in eV, got {e0!r}", key="e0")
    low = -np.inf if emin is None else float(emin) + offset
    high = np.inf if emax is None else float(emax) + offset
    if not low < high:
        raise ConfigError(f"the fit window is empty: emin={emin!r} >= emax={emax!r}"
                          + (f" (relative to e0={e0})" if e0 is not None else ""), key="emin")
    keep = (energy >= low) & (energy <= high)
    return keep, low, high


def sorted_energy(spectrum: Spectrum, *, label: str) -> tuple[np.ndarray, np.ndarray]:
    """``(energy, rows)`` with energy increasing; rows of shape (n_spectra, n)."""
    if not isinstance(spectrum, Spectrum):
        raise FitError(f"{label}: expected a Spectrum, got {type(spectrum).__name__}")
    if spectrum.axis.name != "energy":
        raise FitError(f"{label}: the axis is {spectrum.axis.name!r}; XAS analysis needs 'energy' (eV)")
    if np.iscomplexobj(spectrum.data):
        raise FitError(f"{label}: complex data cannot be analysed as XAS")
    energy = spectrum.axis.values
    rows = np.asarray(spectrum.data, dtype=float).reshape(-1, energy.size)
    if energy.size > 1 and np.any(np.diff(energy) <= 0):
        order = np.argsort(energy, kind="stable")
        energy, rows = energy[order], rows[:, order]
    if energy.size > 1 and np.any(np.diff(energy) <= 0):
        raise FitError(f"{label}: the energy axis has repeated values; remove duplicates first")
    return energy, rows


def check_finite(rows: np.ndarray, *, label: str, energy: np.ndarray) -> None:
    """FitError naming the first spectrum and energy holding NaN or inf."""
    bad = ~np.isfinite(rows)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        where = f"spectrum {row}, " if rows.shape[0] > 1 else ""
        raise FitError(
            f"{label}: {int(bad.sum())} NaN or infinite value(s) in the fit window "
            f"(first at {where}{energy[column]:.2f} eV); remove or interpolate them first")


def interpolate_references(
    references: Mapping[str, Spectrum], grid: np.ndarray, *, interpolation: str, what: str,
) -> tuple[list[str], np.ndarray]:
    """Put each reference on ``grid`` (no extrapolation). Returns labels and (k, n) basis."""
    if interpolation not in INTERPOLATIONS:
        raise ConfigError(f"unknown interpolation {interpolation!r}; choose one of {INTERPOLATIONS}",
                          key="interpolation")
    if not isinstance(references, Mapping):
        raise ConfigError(f"{what}: references must be a mapping label -> Spectrum, "
                          f"got {type(references).__name__}", key="references")
    labels, basis = [], []
    for label, reference in references.items():
        energy, rows = sorted_energy(reference, label=f"reference {label!r}")
        if rows.shape[0] != 1:
            raise FitError(f"reference {label!r} holds {rows.shape[0]} spectra; pass one per label")
        tolerance = 1e-9 * max(1.0, float(np.abs(grid).max()))
        if grid[0] < energy[0] - tolerance or grid[-1] > energy[-1] + tolerance:
            overlap = min(grid[-1], energy[-1]) - max(grid[0], energy[0])
            hint = ("the energy ranges do not overlap" if overlap <= 0
                    else "narrow the window with emin/emax")
            raise FitError(
                f"{what}: reference {label!r} covers {energy[0]:.2f}–{energy[-1]:.2f} eV but the fit "
                f"window needs {grid[0]:.2f}–{grid[-1]:.2f} eV; {hint} (references are not "
                f"extrapolated)")
        values = rows[0]
        inside = (energy >= grid[0] - 50.0) & (energy <= grid[-1] + 50.0)
        check_finite(values[inside][None, :], label=f"reference {label!r}", energy=energy[inside])
        basis.append(_interpolate(energy, values, grid, interpolation))
        labels.append(str(label))
    return labels, np.array(basis).reshape(len(labels), grid.size)


def _interpolate(x: np.ndarray, y: np.ndarray, grid: np.ndarray, kind: str) -> np.ndarray:
    if x.size == grid.size and np.array_equal(x, grid):
        return y.copy()
    if kind == "linear":
        return np.interp(grid, x, y)
    from scipy.interpolate import make_interp_spline

    return make_interp_spline(x, y, k=3)(np.clip(grid, x[0], x[-1]))


def leading_labels(spectrum: Spectrum) -> dict[str, np.ndarray]:
    """Columns naming each spectrum of a stack, flattened in C order.

    One column per leading dim (its coordinate of the same name when there is one, else the
    integer index) and one per other coordinate.
    """
    shape = spectrum.leading_shape
    columns: dict[str, Any] = {}
    if not shape:
        return columns
    grids = np.unravel_index(np.arange(int(np.prod(shape))), shape)
    for dim, values in zip(spectrum.dims, grids):
        columns[dim] = values
    for name, coord in spectrum.coords.items():
        columns[name] = coord.values[grids[spectrum.dims.index(coord.dim)]]
    return columns
