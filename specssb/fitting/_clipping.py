"""Batched ModPoly and SNIP baselines that reproduce pybaselines 1.2.

Private: :mod:`specssb.fitting.backgrounds` registers these.

Both run on all spectra at once (one pseudo-inverse shared by every spectrum for ModPoly; the
SNIP clipping loop on a 2-D block), with pybaselines' padding, iteration and stopping rules,
so each row equals ``pybaselines.Baseline(x_data=x).<method>(y_i)`` to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pybaselines.utils import optimize_window
from scipy.ndimage import uniform_filter1d

from specssb.fitting._bg_common import as_spectra, restore, warn_unconverged

#: Spectra per SNIP block: the clipping loop's arrays stay in cache.
SNIP_BLOCK = 256
#: Spectra per ModPoly block.
MODPOLY_BLOCK = 512
_MIN_FLOAT = np.finfo(float).eps


# ------------------------------------------------------------------------------ ModPoly
def modpoly(
    x: np.ndarray,
    y: np.ndarray,
    *,
    poly_order: int = 2,
    tol: float = 1e-3,
    max_iter: int = 250,
    use_original: bool = False,
    mask_initial_peaks: bool = False,
) -> tuple[np.ndarray, dict]:
    """Modified polynomial (ModPoly) baseline, batched; equals pybaselines ``modpoly``.

    Fits a polynomial of ``poly_order`` in ``x`` mapped to [-1, 1], clips the data to the fit,
    and refits until the relative change of the baseline is below ``tol`` (Lieber &
    Mahadevan-Jansen, *Appl. Spectrosc.* 57, 1363 (2003)).

    Parameters
    ----------
    x : ndarray of shape (n,)
    y : ndarray of shape (..., n)
    poly_order, tol, max_iter, use_original, mask_initial_peaks
        As pybaselines ``modpoly``.

    Returns
    -------
    baseline : ndarray of shape (..., n)
    info : dict
        ``"iterations"`` int array (...,); ``"converged"`` bool array (...,);
        ``"tolerance"`` float; ``"weights"`` array (..., n) (ones unless
        ``mask_initial_peaks``).

    Warns
    -----
    ConvergenceWarning
        When a spectrum reaches ``max_iter`` unconverged.
    """
    x_arr, y2, lead = as_spectra(x, y)
    if poly_order < 0 or max_iter < 1:
        raise ValueError("poly_order must be >= 0 and max_iter >= 1")
    order = x_arr.argsort(kind="mergesort")
    sort = not np.all(order[1:] > order[:-1])
    xs, data = (x_arr[order], y2[:, order]) if sort else (x_arr, y2)
    domain = np.polynomial.polyutils.getdomain(xs)
    mapped = np.polynomial.polyutils.mapdomain(xs, domain, np.array([-1.0, 1.0]))
    vander = np.polynomial.polynomial.polyvander(mapped, poly_order)
    pinv = np.linalg.pinv(vander)

    weights = np.ones_like(data)
    baseline = np.empty_like(data)
    iterations = np.zeros(data.shape[0], dtype=int)
    converged = np.zeros(data.shape[0], dtype=bool)
    for start in range(0, data.shape[0], MODPOLY_BLOCK):
        rows = slice(start, start + MODPOLY_BLOCK)
        block = data[rows]
        first = (block @ pinv.T) @ vander.T
        pinvs = sqrt_w = None
        if mask_initial_peaks:
            std = np.std(block - first, axis=1, keepdims=True)
            weights[rows][first + std < block] = 0
            sqrt_w = np.sqrt(weights[rows])
            pinvs = np.linalg.pinv(sqrt_w[:, :, None] * vander[None])  # (m, k, n)
        baseline[rows], iterations[rows], converged[rows] = _modpoly_block(
            block, first, pinv, vander, pinvs, sqrt_w, tol, max_iter, use_original
        )
    if sort:
        inverse = np.argsort(order)
        baseline, weights = baseline[:, inverse], weights[:, inverse]
    warn_unconverged("ModPoly", converged, max_iter)
    info = {
        "iterations": restore(iterations, lead),
        "converged": restore(converged, lead),
        "tolerance": float(tol),
        "weights": restore(weights, lead),
    }
    return restore(baseline, lead), info


def _modpoly_block(y0, baseline, pinv, vander, pinvs, sqrt_w, tol, max_iter, use_original):
    """ModPoly iterations on a block of rows; rows are stored and dropped when they finish."""
    m = y0.shape[0]
    out = np.empty_like(y0)
    iterations = np.full(m, max_iter, dtype=int)
    converged = np.zeros(m, dtype=bool)
    ids = np.arange(m)
    current, start = y0.copy(), y0
    for i in range(max_iter):
        old = baseline
        current = np.minimum(start if use_original else current, old)
        if pinvs is None:
            baseline = (current @ pinv.T) @ vander.T
        else:
            coef = np.einsum("mkn,mn->mk", pinvs, sqrt_w * current)
            baseline = coef @ vander.T
        difference = np.linalg.norm(baseline - old, axis=1) / np.maximum(
            np.linalg.norm(old, axis=1), _MIN_FLOAT
        )
        done = (difference < tol) | (i == max_iter - 1)
        if done.any():
            out[ids[done]] = baseline[done]
            iterations[ids[done]] = i + 1
            converged[ids[done]] = difference[done] < tol
            keep = ~done
            ids, baseline, current, start = ids[keep], baseline[keep], current[keep], start[keep]
            if pinvs is not None:
                pinvs, sqrt_w = pinvs[keep], sqrt_w[keep]
            if ids.size == 0:
                break
    return out, iterations, converged


# --------------------------------------------------------------------------------- SNIP
def _pad_extrapolate(data: np.ndarray, pad: int, window: int, exact: bool) -> np.ndarray:
    """pybaselines' ``pad_edges(mode="extrapolate")`` on each row: straight-line fits.

    With ``exact`` each row is fitted on its own with the arithmetic of
    ``numpy.polynomial.Polynomial.fit`` (bitwise what pybaselines gets; slower). Otherwise one
    least-squares call fits all rows, which differs by rounding (~1e-13 relative).
    """
    m, n = data.shape
    grid = np.arange(n + 2 * pad, dtype=float)
    inner = grid[pad : pad + n]
    out = np.empty((m, n + 2 * pad))
    out[:, pad : pad + n] = data
    if window == 1:
        out[:, :pad] = data[:, :1]
        out[:, pad + n :] = data[:, -1:]
        return out
    polynomial = np.polynomial.polynomial
    for fit_x, fit_y, target in (
        (inner[:window], data[:, :window], slice(0, pad)),
        (inner[-window:], data[:, -window:], slice(pad + n, None)),
    ):
        domain = np.polynomial.polyutils.getdomain(fit_x)
        offset, scale = np.polynomial.polyutils.mapparms(domain, [-1.0, 1.0])
        mapped = offset + scale * fit_x
        if exact:
            coef = np.stack([polynomial.polyfit(mapped, row, 1) for row in fit_y], axis=1)
        else:
            coef = polynomial.polyfit(mapped, fit_y.T, 1)  # (2, m)
        at = offset + scale * grid[target]
        out[:, target] = (coef[0][:, None] + coef[1][:, None] * at[None, :])
    return out


def _snip_block(
    padded: np.ndarray,
    half_windows: tuple[int, int],
    decreasing: bool,
    smooth_window: int | None,
    filter_order: int,
) -> np.ndarray:
    """The SNIP clipping loop of pybaselines on a (m, n + 2h) block, along the last axis."""
    baseline = padded.copy()
    size = baseline.shape[1]
    top = max(half_windows)
    steps = range(top, 0, -1) if decreasing else range(1, top + 1)
    left_w, right_w = half_windows
    for i in steps:
        il, ir = min(i, left_w), min(i, right_w)

        def pair(fl: int, fr: int) -> np.ndarray:
            return baseline[:, i - fl : size - i - fl] + baseline[:, i + fr : size - i + fr]

        outer = pair(il, ir)
        filters = outer / 2
        if filter_order > 2:
            filters = np.maximum(filters, (-outer + 4 * pair(il // 2, ir // 2)) / 6)
        if filter_order > 4:
            new = outer - 6 * pair(2 * il // 3, 2 * ir // 3) + 15 * pair(il // 3, ir // 3)
            filters = np.maximum(filters, new / 20)
        if filter_order > 6:
            new = (
                -outer + 8 * pair(3 * il // 4, 3 * ir // 4) - 28 * pair(il // 2, ir // 2)
                + 56 * pair(il // 4, ir // 4)
            )
            filters = np.maximum(filters, new / 70)
        if smooth_window:
            previous = uniform_filter1d(baseline, smooth_window, axis=1)[:, i:-i]
        else:
            previous = baseline[:, i:-i]
        baseline[:, i:-i] = np.where(baseline[:, i:-i] > filters, filters, previous)
    return baseline


def snip(
    x: np.ndarray,
    y: np.ndarray,
    *,
    max_half_window: int | Sequence[int] | None = None,
    decreasing: bool = False,
    smooth_half_window: int | None = None,
    filter_order: int = 2,
    extrapolate_window: int | None = None,
) -> tuple[np.ndarray, dict]:
    """Statistics-sensitive non-linear iterative peak clipping (SNIP), batched.

    At half window ``i = 1 … h`` every point is replaced by the mean of its neighbours ``±i``
    channels away when that is lower (Ryan et al., *Nucl. Instrum. Methods B* 34, 396 (1988);
    Morháč et al., *Nucl. Instrum. Methods A* 401, 113 (1997)). Data are padded by straight-line
    extrapolation as pybaselines does; equals pybaselines ``snip`` row by row (to ~1e-15).
    With ``smooth_half_window`` a point switches between the clipped and the smoothed value on
    a strict comparison, so rounding in the padding could flip it: the padding is then fitted
    row by row with pybaselines' exact arithmetic (slower).

    Parameters
    ----------
    x : ndarray of shape (n,)
    y : ndarray of shape (..., n)
    max_half_window : int or (int, int), optional, channels
        Largest half window (left, right). None estimates it per spectrum with
        :func:`pybaselines.utils.optimize_window`, as pybaselines does.
    decreasing, smooth_half_window, filter_order
        As pybaselines ``snip``.
    extrapolate_window : int, optional
        Points fitted at each end for the padding (default: the padding length).

    Returns
    -------
    baseline : ndarray of shape (..., n)
    info : dict
        ``"half_window"`` int array (..., 2): the (left, right) half windows used.
    """
    x_arr, y2, lead = as_spectra(x, y)
    if filter_order not in (2, 4, 6, 8):
        raise ValueError(f"filter_order must be 2, 4, 6 or 8, got {filter_order}")
    order = x_arr.argsort(kind="mergesort")
    sort = not np.all(order[1:] > order[:-1])
    data = y2[:, order] if sort else y2
    n = data.shape[1]
    if max_half_window is None:
        per_row = np.array([[optimize_window(row)] * 2 for row in data], dtype=int)
    else:
        pair = np.broadcast_to(np.asarray(max_half_window, dtype=int), (2,))
        if np.any(pair < 1):
            raise ValueError(f"max_half_window must be >= 1, got {max_half_window}")
        per_row = np.broadcast_to(pair, (data.shape[0], 2)).copy()
    per_row = np.minimum(per_row, (n - 1) // 2)  # pybaselines caps it (and warns)
    smooth = None
    if smooth_half_window is not None and smooth_half_window > 0:
        smooth = 2 * int(smooth_half_window) + 1

    baseline = np.empty_like(data)
    keys, groups = np.unique(per_row, axis=0, return_inverse=True)
    for g, (left, right) in enumerate(keys):
        rows = np.flatnonzero(groups.ravel() == g)
        pad = int(max(left, right))
        for start in range(0, rows.size, SNIP_BLOCK):
            block = rows[start : start + SNIP_BLOCK]
            padded = _pad_extrapolate(
                data[block], pad, extrapolate_window or pad, exact=smooth is not None
            )
            clipped = _snip_block(padded, (int(left), int(right)), decreasing, smooth, filter_order)
            baseline[block] = clipped[:, pad : pad + n]
    if sort:
        baseline = baseline[:, np.argsort(order)]
    return restore(baseline, lead), {"half_window": restore(per_row, lead)}
