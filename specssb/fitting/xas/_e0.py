"""Edge energy e0 as Larch's ``find_e0`` finds it, for many spectra on one energy grid at once.

This is a numpy re-implementation (no Larch at run time) of ``larch.xafs.pre_edge.find_e0`` and
its helpers ``_finde0``, ``find_energy_step``, ``larch.math.remove_dups`` and
``larch.math.smooth`` in xraylarch 2026.3.1, read in that release's source. What Larch does,
step by step, for one spectrum on the energy grid ``E`` (already without repeated energies):

1. **Coarse pass.** ``remove_dups(E)``; keep the points where ``diff(argsort(E)) == 1``, which on
   a sorted grid drops the *last* point; ``dmu = gradient(mu) / gradient(E)``; non-finite values
   become -1; ``dmu`` is rescaled to [0, 1] by its minimum and range over the interior
   ``[nmin:-nmin]``, ``nmin = max(3, int(0.02 n))``. Candidate points have ``dmu > 0.6``
   (0.3 for 20 points or fewer); with fewer than 3 candidates the threshold is halved (kept at
   the half when that gives more than 3 points), then halved again, then every point is a
   candidate. ``ie0`` is the first point with the largest ``dmu > 0`` among candidates whose
   two neighbours are candidates too, with ``nmin <= i <= n - nmin`` (0 when there is none).
   The energy step ``estep1`` is the mean of the 10 smallest steps after dropping the smallest
   1 % (``find_energy_step``; it is NaN for fewer than 100 points, which then counts as 1 eV).
2. **Window.** ``[max(3, ie0 - 75), min(ie0 + 75, n - 3))``; when ``ie0`` lies in the first 5 %
   of the points (a glitch), ``[max(3, ie0 - 20), n - 3)`` and ``e1`` = mean energy.
3. **Fine pass** on the window with ``dmu`` smoothed by a Lorentzian of ``sigma = estep`` on a
   uniform grid of step ``estep = (clip(estep1) + clip(e1 / 25000)) / 2`` (each clipped to
   0.01–1 eV), mirror-padded. e0 is the grid energy of the chosen point, or the third point of
   the window when the choice is the window's first point.

Batching: the coarse pass is elementwise over rows. The smoothing is linear in ``dmu``, so for
every distinct window (rows sharing ``ie0`` on a shared grid share it) it is one matrix
``S`` built once and applied to all those rows as a matrix product. Results equal Larch's up to
floating-point rounding of that product (~1e-16 relative), which can only matter for exact ties.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TINY_ENERGY", "find_e0_rows", "index_nearest", "index_of", "remove_dups"]

#: Larch's ``xafsutils.TINY_ENERGY``: the smallest tolerated energy step, eV.
TINY_ENERGY = 0.0005

_LORENTZ_TINY = 1.0e-15  # lmfit.lineshapes.tiny


def remove_dups(energy: np.ndarray, tiny: float = TINY_ENERGY) -> np.ndarray:
    """Make repeated successive energies distinct, exactly as ``larch.math.remove_dups``.

    A point closer than ``tiny`` to its predecessor gets ``tiny`` added, plus the offset its
    predecessor got (so a run of k repeats gets tiny, 2 tiny, … k tiny). Vectorized: the run
    lengths come from a cumulative maximum and the offsets from a cumulative sum (the same
    sequential float additions Larch's loop makes).

    Parameters
    ----------
    energy : ndarray of shape (n,), eV
        Finite energies, expected non-decreasing.
    tiny : float, default :data:`TINY_ENERGY`, eV

    Returns
    -------
    ndarray of shape (n,), eV
        ``energy`` itself when every step exceeds ``10 * tiny`` (as Larch returns it), else a
        new array.

    Examples
    --------
    >>> remove_dups(np.array([1.0, 2.0, 2.0, 2.0, 3.0]), tiny=0.5).tolist()
    [1.0, 2.0, 2.5, 3.0, 3.0]
    """
    work = np.asarray(energy, dtype=np.float64).ravel()
    if work.size <= 1 or float(np.min(np.diff(work))) > 10 * tiny:
        return work
    close = np.abs(np.diff(work)) < tiny
    index = np.arange(1, work.size)
    last_reset = np.maximum.accumulate(np.where(close, 0, index))
    run = np.where(close, index - last_reset, 0)
    offsets = np.concatenate(([0.0], np.cumsum(np.full(int(run.max()), tiny))))
    return work + np.concatenate(([0.0], offsets[run]))


def index_of(grid: np.ndarray, value: np.ndarray | float) -> np.ndarray:
    """Larch's ``index_of`` on a sorted grid: the last index with ``grid <= value``, else 0."""
    found = np.searchsorted(grid, value, side="right") - 1
    return np.maximum(found, 0)


def index_of_shifted(grid: np.ndarray, e0: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Larch's ``index_of(grid - e0, value)`` per row, with the same float subtraction.

    ``grid - e0 <= value`` and ``grid <= value + e0`` can disagree by one point through
    rounding, so the guess from :func:`numpy.searchsorted` is corrected against the exact test.
    """
    n = grid.size
    j = np.searchsorted(grid, e0 + value, side="right") - 1
    for _ in range(2):
        up = (j + 1 < n) & (grid[np.minimum(j + 1, n - 1)] - e0 <= value)
        j = np.where(up, j + 1, j)
        down = (j >= 0) & (grid[np.maximum(j, 0)] - e0 > value)
        j = np.where(down, j - 1, j)
    return np.maximum(j, 0)


def index_nearest(grid: np.ndarray, value: np.ndarray | float) -> np.ndarray:
    """Larch's ``index_nearest`` (first ``argmin |grid - value|``) on a sorted grid."""
    value = np.asarray(value, dtype=np.float64)
    right = np.clip(np.searchsorted(grid, value, side="left"), 0, grid.size - 1)
    left = np.maximum(right - 1, 0)
    return np.where(np.abs(grid[left] - value) <= np.abs(grid[right] - value), left, right)


def _python_clip(value: float) -> float:
    """``max(0.01, min(1.0, value))`` with Python's min/max (NaN gives 1.0, as in Larch)."""
    return max(0.01, min(1.0, value))


def _ordered(energy: np.ndarray) -> np.ndarray:
    """Larch's ``where(diff(argsort(E)) == 1)``: on a sorted grid, every index but the last."""
    return np.where(np.diff(np.argsort(energy)) == 1)[0]


def find_energy_step(energy: np.ndarray, frac_ignore: float = 0.01, nave: int = 10) -> float:
    """Larch's ``find_energy_step``: mean of the ``nave`` smallest steps after skipping some.

    For fewer than 100 points nothing is skipped at either end of ``energy[nskip:-nskip]``,
    which is then empty, and the result is NaN as in Larch.
    """
    nskip = int(frac_ignore * len(energy))
    ordered = _ordered(energy)
    steps = np.diff(energy[ordered][nskip:-nskip])
    if steps.size == 0:
        return math.nan
    return float(np.sort(steps)[nskip:nskip + nave].mean())


def smoothing_operator(x: np.ndarray, xstep: float, sigma: float) -> np.ndarray:
    """The matrix ``S`` with ``S @ y == larch.math.smooth(x, y, sigma=sigma, xstep=xstep)``.

    Larch's smooth (Lorentzian form): ``y`` is interpolated onto a uniform grid ``x0`` of step
    ``xstep`` padded by 5 steps, mirror-padded to ``[y0[n-1:0:-1], y0, y0[::-1]]``, convolved
    (``'valid'``) with a normalized Lorentzian of ``2 n`` points centred at ``n`` with
    ``sigma / xstep`` points half width, and interpolated back onto ``x``. Every stage is
    linear in ``y``; this builds their product.

    Parameters
    ----------
    x : ndarray of shape (m,), eV
        Strictly increasing energies.
    xstep, sigma : float, eV

    Returns
    -------
    ndarray of shape (m, m)
    """
    if xstep < 1.0e-12:
        raise ValueError("cannot smooth: the energy step must be positive")
    npad = 5
    xmin = xstep * int((x.min() - npad * xstep) / xstep)
    xmax = xstep * int((x.max() + npad * xstep) / xstep)
    npts = min(1 + int(abs(xmax - xmin + xstep * 0.1) / xstep), 50 * len(x))
    x0 = np.linspace(xmin, xmax, npts)
    width = sigma * (1.0 / xstep)
    offsets = 1.0 * np.arange(2 * npts) - npts
    window = (1.0 / (1 + (offsets / max(_LORENTZ_TINY, width)) ** 2)) / max(
        _LORENTZ_TINY, math.pi * width
    )
    window = window / window.sum()
    n_window = window.size
    # back-interpolation x0 -> x (scipy interp1d 'linear'): two weights per output point
    hi = np.clip(np.searchsorted(x0, x), 1, npts - 1)
    lo = hi - 1
    weight_hi = (x - x0[lo]) / (x0[hi] - x0[lo])
    # rows of (back-interpolation @ convolution) over the padded signal y1 (3 npts - 1 values)
    padded = np.arange(3 * npts - 1)
    rows = np.zeros((x.size, padded.size))
    for index, weight in ((lo, 1.0 - weight_hi), (hi, weight_hi)):
        tap = index[:, None] + n_window - 1 - padded[None, :]
        inside = (tap >= 0) & (tap < n_window)
        rows += weight[:, None] * np.where(inside, window[np.clip(tap, 0, n_window - 1)], 0.0)
    # fold the mirror padding back onto y0 (npts values)
    folded = rows[:, npts - 1:2 * npts - 1].copy()
    folded[:, 1:] += rows[:, npts - 2::-1]
    folded += rows[:, 3 * npts - 2:2 * npts - 2:-1]
    # forward interpolation x -> x0 (numpy.interp, constant beyond the ends)
    forward = np.zeros((npts, x.size))
    j = np.clip(np.searchsorted(x, x0, side="right") - 1, 0, x.size - 2)
    t = np.clip((x0 - x[j]) / (x[j + 1] - x[j]), 0.0, 1.0)
    forward[np.arange(npts), j] = 1.0 - t
    forward[np.arange(npts), j + 1] += t
    return folded @ forward


def _derivative(grid: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``np.gradient(mu, axis=1) / np.gradient(grid)`` with numpy's arithmetic, in fewer passes."""
    out = np.empty(mu.shape)
    middle = out[:, 1:-1]
    np.subtract(mu[:, 2:], mu[:, :-2], out=middle)
    middle /= 2.0
    np.subtract(mu[:, 1], mu[:, 0], out=out[:, 0])
    np.subtract(mu[:, -1], mu[:, -2], out=out[:, -1])
    out /= np.gradient(grid)
    return out


def _columns(mu: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``mu[:, keep]``, as a view when ``keep`` is a leading run of indices (the usual case)."""
    if keep.size and keep[-1] == keep.size - 1 and np.all(np.diff(keep) == 1):
        return mu[:, : keep.size]
    return mu[:, keep]


def _pick_edge(energy: np.ndarray, dmu: np.ndarray) -> np.ndarray:
    """Index of the edge per row from ``dmu`` (rows × points), Larch's ``_finde0`` selection.

    ``dmu`` is overwritten.
    """
    n = energy.size
    if not np.isfinite(dmu.sum()):
        dmu[~np.isfinite(dmu)] = -1.0
    nmin = max(3, int(n * 0.02))
    interior = dmu[:, nmin:-nmin]
    low = interior.min(axis=1)
    span = np.maximum(1.0e-10, interior.max(axis=1) - low)
    dmu -= low[:, None]
    dmu /= span[:, None]
    base = 0.60 if n > 20 else 0.30
    threshold = np.full(dmu.shape[0], base)
    few = np.flatnonzero(np.count_nonzero(dmu > base, axis=1) < 3)
    every = np.zeros(dmu.shape[0], dtype=bool)
    if few.size:  # Larch halves the threshold (twice at most), then takes every point
        half = np.count_nonzero(dmu[few] > base / 2, axis=1) > 3
        quarter = np.count_nonzero(dmu[few] > base / 4, axis=1) < 3
        threshold[few] = np.where(half, base / 2, base / 4)
        every[few] = ~half & quarter
    candidate = dmu > threshold[:, None]
    if every.any():
        candidate[every] = True
    valid = np.zeros_like(candidate)
    inner = valid[:, 1:-1]
    np.logical_and(candidate[:, 1:-1], candidate[:, :-2], out=inner)
    inner &= candidate[:, 2:]
    inner &= dmu[:, 1:-1] > 0
    valid[:, :nmin] = False
    valid[:, n - nmin + 1:] = False
    score = np.where(valid, dmu, -np.inf)
    best = np.argmax(score, axis=1)
    return np.where(np.isfinite(score[np.arange(score.shape[0]), best]), best, 0)


def _coarse_pass(energy: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``_finde0(energy, mu, estep=None, use_smooth=False)`` for every row: (e1, ie0, estep1)."""
    grid = remove_dups(energy)
    keep = _ordered(grid)
    grid = grid[keep]
    estep = find_energy_step(grid)
    index = _pick_edge(grid, _derivative(grid, _columns(mu, keep)))
    return grid[index], index, estep


def _fine_pass(
    energy: np.ndarray, mu: np.ndarray, estep: float, operators: dict
) -> tuple[np.ndarray, np.ndarray]:
    """``_finde0(energy, mu, estep, use_smooth=True)`` for rows sharing one window."""
    grid = remove_dups(energy)
    keep = _ordered(grid)
    grid = grid[keep]
    key = (grid[0], grid[-1], grid.size, estep)
    if key not in operators:
        operators[key] = smoothing_operator(grid, estep, estep).T
    smoothed = _derivative(grid, _columns(mu, keep)) @ operators[key]
    index = _pick_edge(grid, smoothed)
    return grid[index], index


#: Spectra per chunk: the working arrays of a chunk stay in the processor cache.
CHUNK_ROWS = 256


def find_e0_rows(energy: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Larch's ``find_e0`` for every row of ``mu`` on the shared grid ``energy``.

    Parameters
    ----------
    energy : ndarray of shape (n,), eV
        Finite, sorted energies (after Larch's ``remove_dups``), n >= 12.
    mu : ndarray of shape (m, n)
        Finite absorption.

    Returns
    -------
    ndarray of shape (m,), eV
        e0 per row; always a grid energy.
    """
    e0 = np.empty(mu.shape[0])
    operators: dict = {}
    for first in range(0, mu.shape[0], CHUNK_ROWS):
        rows = slice(first, first + CHUNK_ROWS)
        e0[rows] = _find_e0_chunk(energy, mu[rows], operators)
    return e0


def _find_e0_chunk(energy: np.ndarray, mu: np.ndarray, operators: dict) -> np.ndarray:
    n = energy.size
    e1, ie0, estep1 = _coarse_pass(energy, mu)
    glitch = ie0 < 0.05 * n
    e1 = np.where(glitch, energy.mean(), e1)
    start = np.where(glitch, np.maximum(3, ie0 - 20), np.maximum(3, ie0 - 75))
    stop = np.where(glitch, n - 3, np.minimum(ie0 + 75, n - 3))
    estep = 0.5 * (_python_clip(estep1) + np.clip(e1 / 25000.0, 0.01, 1.0))
    e0 = np.empty(mu.shape[0])
    keys = np.stack([start, stop, estep], axis=1)
    unique, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    for g, (first, last, step) in enumerate(unique):
        rows = np.flatnonzero(group == g)
        first, last = int(first), int(last)
        found, index = _fine_pass(energy[first:last], mu[rows, first:last], float(step), operators)
        e0[rows] = np.where(index < 1, energy[first + 2], found)
    return e0
