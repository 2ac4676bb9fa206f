"""Cosmic-ray spike detection and repair on arrays (private: :mod:`.preprocess` wraps these).

Two tests, both over every spectrum at once (the screening of the Whitaker–Hayes test runs
compiled, spectrum by spectrum, when numba is available: see :func:`_difference_outliers`):

* :func:`whitaker_hayes_mask`, per spectrum: modified z-scores of the first difference
  (Whitaker & Hayes, *Chemometr. Intell. Lab. Syst.* 179, 82 (2018)). A difference whose
  robust z-score exceeds the threshold marks both of its end points as candidates; a candidate
  is kept when it also stands more than ``threshold`` point-noise units above or below the
  mean of the clean points around it, so the ordinary neighbours of a one-point spike are not
  touched (Whitaker & Hayes replace them too).
* :func:`neighbour_mask`, for maps: a point is an outlier when it exceeds the median of the
  8 surrounding pixels at the same wavenumber by more than ``threshold`` robust standard
  deviations. A real band is present in the neighbouring pixels and survives; a cosmic ray
  hits one pixel.

:func:`replace_by_local_mean` repairs the flagged points spectrum by spectrum from the mean of
the clean points within ``window`` channels, and interpolates linearly where a run of spikes
is wider than the window.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from scipy import ndimage

from specssb.fitting._kernels import fused_kernels_enabled

#: MAD -> standard deviation of a normal distribution (1 / Φ⁻¹(3/4)).
MAD_TO_SIGMA = 1.482602218505602
#: mean absolute deviation -> standard deviation of a normal distribution (sqrt(π / 2)).
MEAN_AD_TO_SIGMA = 1.2533141373155001


def robust_sigma(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Robust standard deviation along ``axis``: 1.4826 MAD, or 1.2533 × the mean absolute
    deviation where the MAD is zero (more than half the values equal); keeps ``axis`` as 1."""
    centre = np.median(values, axis=axis, keepdims=True)
    deviation = np.abs(values - centre)
    mad = np.median(deviation, axis=axis, keepdims=True)
    mean_ad = deviation.mean(axis=axis, keepdims=True)
    return np.where(mad > 0, MAD_TO_SIGMA * mad, MEAN_AD_TO_SIGMA * mean_ad)


def local_clean_mean(y2: np.ndarray, clean: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the clean points within ``window`` channels of each point, and their count.

    ``y2`` and ``clean`` are (m, n); the window is truncated at the spectrum ends.
    """
    size = 2 * window + 1
    weights = clean.astype(float)
    total = ndimage.uniform_filter1d(y2 * weights, size, axis=-1, mode="constant") * size
    count = ndimage.uniform_filter1d(weights, size, axis=-1, mode="constant") * size
    count = np.rint(count)  # the running sum of 0/1 values, exact up to rounding
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def anscombe(y: np.ndarray) -> np.ndarray:
    """Variance-stabilizing transform ``2 sqrt(y + 3/8)`` of counts (negative inside → 0)."""
    return 2.0 * np.sqrt(np.maximum(y + 0.375, 0.0))


def whitaker_hayes_mask(
    y2: np.ndarray, threshold: float, window: int, stabilize: bool = False
) -> np.ndarray:
    """Spike mask (m, n) of spectra ``y2`` (m, n) by the Whitaker–Hayes test (see module).

    Parameters
    ----------
    y2 : ndarray of shape (m, n)
    threshold : float
        Modified z-score above which a first difference is an outlier (Whitaker & Hayes use
        6–8); also the confirmation threshold in point-noise units.
    window : int
        Half-width (channels) of the neighbourhood used for the confirmation.
    stabilize : bool
        Test the :func:`anscombe` transform of ``y2`` instead of ``y2``.

    Notes
    -----
    The screening of the first differences (two medians per spectrum, the costly part) runs
    in a compiled loop, one spectrum at a time, when numba is available (see
    :func:`_difference_outliers`); the few spectra with a candidate are confirmed here.
    """
    candidate, sigma_difference = _difference_outliers(y2, threshold, stabilize)
    rows = np.flatnonzero(candidate.any(axis=-1))
    mask = np.zeros(y2.shape, dtype=bool)
    if rows.size == 0:
        return mask
    sub, cand = y2[rows], candidate[rows]
    if stabilize:
        sub = anscombe(sub)
    mean, _ = local_clean_mean(sub, ~cand, window)
    # the noise of one point: differences of independent points have sqrt(2) x its sigma
    point_sigma = sigma_difference[rows] / np.sqrt(2.0)
    with np.errstate(invalid="ignore"):
        confirmed = cand & ~(np.abs(sub - mean) <= threshold * point_sigma)  # NaN mean: keep
    mask[rows] = confirmed
    return mask


def _difference_outliers(
    y2: np.ndarray, threshold: float, stabilize: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates (m, n): both end points of each first difference whose modified z-score
    ``|Δ − median Δ| / robust_sigma(Δ)`` exceeds ``threshold``; and robust_sigma(Δ) (m, 1).

    The compiled kernel computes, per spectrum while it is in cache, the same quantities
    with the same operations (numba's median, like numpy's, is the exact middle order
    statistic, or the mean of the two); spectra it cannot treat the same way (a zero MAD,
    whose fallback is numpy's pairwise mean, or a non-finite difference) are redone by the
    numpy code, so the decisions are the same on both paths.
    """
    kernel = _compiled_screen() if fused_kernels_enabled() else None
    if kernel is None or y2.shape[-1] < 2:
        return _difference_outliers_numpy(y2, threshold, stabilize)
    values = np.ascontiguousarray(y2, dtype=float)
    candidate = np.zeros(values.shape, dtype=bool)
    sigma = np.empty(values.shape[0])
    redo = np.zeros(values.shape[0], dtype=bool)
    kernel(values, bool(stabilize), float(threshold), candidate, sigma, redo)
    rows = np.flatnonzero(redo)
    if rows.size:
        candidate[rows], sigma_rows = _difference_outliers_numpy(values[rows], threshold, stabilize)
        sigma[rows] = sigma_rows[:, 0]
    return candidate, sigma[:, None]


def _difference_outliers_numpy(y2, threshold, stabilize):
    difference = np.diff(anscombe(y2) if stabilize else y2, axis=-1)
    sigma_difference = robust_sigma(difference)
    centre = np.median(difference, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sigma_difference > 0, np.abs(difference - centre) / sigma_difference, 0.0)
    outlier = z > threshold
    candidate = np.zeros(y2.shape, dtype=bool)
    candidate[:, :-1] |= outlier
    candidate[:, 1:] |= outlier
    return candidate, sigma_difference


@cache
def _compiled_screen() -> Any:
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def screen(y2, stabilize, threshold, candidate, sigma, redo):  # pragma: no cover - compiled
        m, n = y2.shape
        tested = np.empty(n)
        difference = np.empty(n - 1)
        deviation = np.empty(n - 1)
        for s in range(m):
            for j in range(n):
                value = y2[s, j]
                tested[j] = 2.0 * np.sqrt(max(value + 0.375, 0.0)) if stabilize else value
            finite = True
            for j in range(n - 1):
                difference[j] = tested[j + 1] - tested[j]
                finite &= np.isfinite(difference[j])
            if not finite or n < 2:
                redo[s] = True
                continue
            centre = np.median(difference)
            for j in range(n - 1):
                deviation[j] = abs(difference[j] - centre)
            mad = np.median(deviation)
            if not mad > 0:
                redo[s] = True
                continue
            scale = MAD_TO_SIGMA * mad
            sigma[s] = scale
            for j in range(n - 1):
                if deviation[j] / scale > threshold:
                    candidate[s, j] = True
                    candidate[s, j + 1] = True

    return screen


def neighbour_mask(
    cube: np.ndarray, threshold: float, two_sided: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Outliers against the median of the neighbouring pixels at the same wavenumber.

    Parameters
    ----------
    cube : ndarray of shape (..., ny, nx, n)
        The last two leading dimensions are the map; earlier ones are separate maps.
    threshold : float
        In robust standard deviations of the residual ``y − median of neighbours``; the
        deviation used is the larger of the pixel's (over wavenumbers) and the wavenumber's
        (over pixels), so a strong band with more shot noise does not trigger the test.
    two_sided : bool
        Also flag points far *below* the neighbours (cosmic rays are positive: default off).

    Returns
    -------
    mask : bool ndarray of cube's shape
    median : ndarray of cube's shape
        The neighbour median (the replacement value).

    Notes
    -----
    At the map edges ``scipy.ndimage.median_filter`` with ``mode="mirror"`` reflects the
    inner neighbours across the edge (the pixel itself is never its own neighbour), so an
    edge pixel is compared with its 5 (corner: 3) real neighbours, some counted twice.
    """
    ny, nx = cube.shape[-3], cube.shape[-2]
    footprint = np.ones((3 if ny > 1 else 1, 3 if nx > 1 else 1, 1), dtype=bool)
    footprint[footprint.shape[0] // 2, footprint.shape[1] // 2, 0] = False
    if not footprint.any():
        raise ValueError("the neighbour test needs a map with more than one pixel")
    flat = cube.reshape((-1, ny, nx, cube.shape[-1]))
    median = np.empty_like(flat)
    for k in range(flat.shape[0]):
        median[k] = ndimage.median_filter(flat[k], footprint=footprint, mode="mirror")
    residual = flat - median
    sigma_pixel = robust_sigma(residual, axis=-1)  # (k, ny, nx, 1)
    sigma_channel = robust_sigma(residual.reshape(flat.shape[0], ny * nx, -1), axis=1)
    sigma = np.maximum(sigma_pixel, sigma_channel.reshape(flat.shape[0], 1, 1, -1))
    limit = threshold * sigma
    mask = (np.abs(residual) if two_sided else residual) > limit
    mask &= limit > 0
    return mask.reshape(cube.shape), median.reshape(cube.shape)


def replace_by_local_mean(y2: np.ndarray, mask: np.ndarray, window: int) -> np.ndarray:
    """Copy of ``y2`` (m, n) with the masked points replaced by the mean of the clean points
    within ``window`` channels; linear interpolation between the nearest clean points where
    none is that close (a spectrum with no clean point is left as it is)."""
    out = y2.copy()
    rows = np.flatnonzero(mask.any(axis=-1))
    if rows.size == 0:
        return out
    sub, flagged = y2[rows], mask[rows]
    mean, count = local_clean_mean(sub, ~flagged, window)
    repaired = np.where(flagged, mean, sub)
    channels = np.arange(y2.shape[-1])
    for r in np.flatnonzero((flagged & (count == 0)).any(axis=-1)):
        clean = ~flagged[r]
        if clean.any():
            gap = flagged[r] & (count[r] == 0)
            repaired[r, gap] = np.interp(channels[gap], channels[clean], sub[r, clean])
        else:
            repaired[r] = sub[r]
    out[rows] = repaired
    return out
