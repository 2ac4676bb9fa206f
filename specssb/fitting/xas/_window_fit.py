"""Least-squares polynomials fitted over one index window per spectrum, many spectra at once.

Larch's ``pre_edge`` fits ``numpy.polynomial.Polynomial.fit(E[p1:p2], y[p1:p2], degree)`` for
each spectrum. Here every row of ``y`` has its own Python-style slice ``[start:stop]`` and
degree; the fitted polynomial is returned evaluated on the whole grid. Two paths:

* **shared design** — every row has the same window and degree: one Vandermonde matrix (in
  the window mapped onto [-1, 1], as ``Polynomial.fit`` does) and one :func:`numpy.linalg.lstsq`
  with all rows as right-hand sides;
* **masked** — windows differ (each spectrum has its own e0): the normal equations of every
  row, from 0/1 window masks, in one shared coordinate ``u`` mapped onto [-1, 1] over the union
  of the windows. Moments of ``u`` over a window are differences of prefix sums, the
  right-hand sides one matrix product of the masked data with the Vandermonde matrix, and the
  (degree + 1)² systems are solved together after Jacobi scaling. A row whose degree is below
  the largest keeps identity rows for the unused coefficients.

Both agree with ``Polynomial.fit`` to rounding (about 1e-12 relative for degree ≤ 2 on the
windows Larch uses); the masked path loses accuracy only for high degrees on windows much
narrower than the union.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_windows", "python_slice_bounds"]


def python_slice_bounds(
    start: np.ndarray, stop: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``[first, last)`` indices that Python's ``a[start:stop]`` selects in ``n`` items."""
    start = np.where(start < 0, np.maximum(start + n, 0), np.minimum(start, n))
    stop = np.where(stop < 0, np.maximum(stop + n, 0), np.minimum(stop, n))
    return start, np.maximum(stop, start)


def _mapped(grid: np.ndarray, first: int, last: int) -> np.ndarray:
    """``grid`` mapped linearly so that ``grid[first]`` -> -1 and ``grid[last - 1]`` -> +1."""
    low, high = grid[first], grid[last - 1]
    if high == low:
        return grid - low
    return (2.0 * grid - (low + high)) / (high - low)


def _shared(grid: np.ndarray, y: np.ndarray, first: int, last: int, degree: int) -> np.ndarray:
    u = _mapped(grid, first, last)
    design = np.vander(u[first:last], degree + 1, increasing=True)
    coefficients = np.linalg.lstsq(design, y[:, first:last].T, rcond=None)[0]
    return (np.vander(u, degree + 1, increasing=True) @ coefficients).T


def _masked(
    grid: np.ndarray, y: np.ndarray, first: np.ndarray, last: np.ndarray, degree: np.ndarray
) -> np.ndarray:
    lo, hi = int(first.min()), int(last.max())
    u = _mapped(grid, lo, hi)
    top = int(degree.max())
    size = top + 1
    powers = np.vander(u, 2 * top + 1, increasing=True)
    prefix = np.vstack([np.zeros(2 * top + 1), np.cumsum(powers, axis=0)])
    moments = prefix[last] - prefix[first]  # (m, 2 top + 1)
    columns = np.arange(lo, hi)
    inside = (columns >= first[:, None]) & (columns < last[:, None])
    rhs = np.where(inside, y[:, lo:hi], 0.0) @ powers[lo:hi, :size]  # (m, size)
    order = np.add.outer(np.arange(size), np.arange(size))
    gram = moments[:, order]  # (m, size, size)
    unused = np.arange(size)[None, :] > degree[:, None]  # (m, size)
    either = unused[:, :, None] | unused[:, None, :]
    gram = np.where(either, 0.0, gram)
    gram[:, np.arange(size), np.arange(size)] = np.where(
        unused, 1.0, gram[:, np.arange(size), np.arange(size)]
    )
    rhs = np.where(unused, 0.0, rhs)
    scale = 1.0 / np.sqrt(gram[:, np.arange(size), np.arange(size)])
    scaled = gram * scale[:, :, None] * scale[:, None, :]
    solution = np.linalg.solve(scaled, (rhs * scale)[:, :, None])[:, :, 0] * scale
    return solution @ powers[:, :size].T


def fit_windows(
    grid: np.ndarray, y: np.ndarray, start: np.ndarray, stop: np.ndarray, degree: np.ndarray
) -> np.ndarray:
    """Fit a polynomial of ``degree[r]`` to ``y[r, start[r]:stop[r]]`` against ``grid``.

    Parameters
    ----------
    grid : ndarray of shape (n,), eV
        Sorted abscissa shared by every row.
    y : ndarray of shape (m, n)
    start, stop : ndarray of int, shape (m,)
        Python slice bounds (negative values count from the end, as in Larch's slices).
    degree : ndarray of int, shape (m,)
        Polynomial degree per row, >= 0.

    Returns
    -------
    ndarray of shape (m, n)
        Each row's fitted polynomial evaluated on the whole grid.

    Raises
    ------
    ValueError
        If a window is empty.
    """
    n = grid.size
    first, last = python_slice_bounds(np.asarray(start), np.asarray(stop), n)
    degree = np.asarray(degree)
    if np.any(last <= first):
        bad = int(np.flatnonzero(last <= first)[0])
        raise ValueError(
            f"empty fit window [{int(start[bad])}:{int(stop[bad])}] for spectrum {bad}"
        )
    if np.all(first == first[0]) and np.all(last == last[0]) and np.all(degree == degree[0]):
        return _shared(grid, y, int(first[0]), int(last[0]), int(degree[0]))
    return _masked(grid, y, first, last, degree)
