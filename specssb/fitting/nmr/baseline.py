"""Polynomial baseline correction of NMR spectra on signal-free regions.

The polynomial (in the point index scaled to [-1, 1], for conditioning) is fitted by least
squares to the points of the signal-free regions only and subtracted from the whole spectrum;
real and imaginary parts are fitted alike (complex coefficients), so the real part is what
TopSpin's ``abs`` gives when it uses the same regions. The regions are given in axis units
(ppm) or found automatically: iteratively, points farther than ``threshold`` noise standard
deviations from the current baseline are called signal, the signal regions are widened by
``margin`` points, and the fit is repeated until the regions stop changing. The noise is the
scaled median absolute deviation of the residual on the current baseline points (robust, and
right for the correlated noise of an apodized spectrum, unlike point-to-point differences).

With several leading rows the same regions serve every row (auto mode finds them on the row
with the strongest signal) and all rows are fitted in one least-squares solve.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Spectrum

from ._common import real_number, require_frequency, whole_number

__all__ = ["baseline_correct", "signal_free_mask"]


def _vandermonde(size: int, degree: int) -> np.ndarray:
    x = np.linspace(-1.0, 1.0, size)
    return np.polynomial.legendre.legvander(x, degree)


def signal_free_mask(values: np.ndarray, degree: int = 3, *, threshold: float = 3.0,
                     margin: int | None = None, iterations: int = 30) -> np.ndarray:
    """Points of a real spectrum that carry no signal (for the baseline fit).

    Parameters
    ----------
    values : ndarray of shape (n,)
        Real spectrum.
    degree : int, default 3
        Degree of the baseline polynomial used while searching.
    threshold : float, default 3
        Points beyond this many noise standard deviations from the baseline are signal.
    margin : int, optional
        Points added either side of every signal region; default ``n // 200`` (at least 2).
    iterations : int, default 30
        Maximum number of refits.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the spectrum is baseline.

    Raises
    ------
    FitError
        When fewer than ``degree + 1`` baseline points remain.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    margin = max(n // 200, 2) if margin is None else margin
    basis = _vandermonde(n, degree)
    mask = np.ones(n, dtype=bool)
    kernel = np.ones(2 * margin + 1)
    for _ in range(iterations):
        if mask.sum() <= degree:
            break
        coefficients, *_ = np.linalg.lstsq(basis[mask], values[mask], rcond=None)
        residual = values - basis @ coefficients
        inside = residual[mask]
        sigma = 1.4826 * float(np.median(np.abs(inside - np.median(inside))))
        signal = np.abs(residual) > threshold * sigma
        new_mask = ~(np.convolve(signal.astype(float), kernel, mode="same") > 0)
        if np.array_equal(new_mask, mask):
            break
        mask = new_mask
    if mask.sum() <= degree:
        raise FitError(f"baseline: fewer than {degree + 1} signal-free points found; give the "
                       "regions explicitly")
    return mask


def _regions_mask(axis: np.ndarray, regions: Sequence[Sequence[float]]) -> np.ndarray:
    mask = np.zeros(axis.size, dtype=bool)
    for region in regions:
        if len(region) != 2:
            raise ConfigError(f"each region is a (start, end) pair, got {region!r}",
                              key="regions")
        low, high = sorted(real_number(v, "regions") for v in region)
        mask |= (axis >= low) & (axis <= high)
    return mask


def _mask_to_regions(axis: np.ndarray, mask: np.ndarray) -> list[list[float]]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [[float(axis[a]), float(axis[b - 1])] for a, b in zip(edges[::2], edges[1::2])]


def baseline_correct(spectrum: Spectrum, regions: Sequence[Sequence[float]] | None = None, *,
                     degree: int = 3, threshold: float = 3.0, real_only: bool = False) -> Spectrum:
    """Subtract a polynomial fitted on signal-free regions.

    Parameters
    ----------
    spectrum : Spectrum
        Phased spectrum (real or complex) of shape ``(*leading, n)``.
    regions : sequence of (start, end) pairs, optional
        Signal-free regions in axis units (ppm); default: found automatically
        (:func:`signal_free_mask`).
    degree : int, default 3
        Polynomial degree (TopSpin ABSG; 0 = constant offset).
    threshold : float, default 3
        Auto mode: noise standard deviations that make a point signal.
    real_only : bool, default False
        Correct only the real part of complex data, as TopSpin's ``abs`` does with ``1r``
        (``1i`` is left as it is).

    Returns
    -------
    Spectrum
        The corrected spectrum; the Step records the regions used (axis units) and the
        polynomial's coefficients per row (Legendre basis on the index scaled to [-1, 1]).

    Raises
    ------
    FitError
        Time-domain or NaN input, or too few baseline points.
    ConfigError
        A bad region, degree or threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> ppm = np.linspace(10, 0, 101)
    >>> s = Spectrum(axis=Axis("chemical_shift", "ppm", ppm), data=0.5 + 0.1 * ppm,
    ...              technique="nmr", signal="spectrum")
    >>> float(np.abs(baseline_correct(s, [(10, 6), (4, 0)], degree=1).data).max()) < 1e-12
    True
    """
    operation = "nmr_baseline"
    spectrum = require_frequency(spectrum, operation)
    degree = whole_number(degree, "degree", minimum=0)
    threshold = real_number(threshold, "threshold", minimum=0.0)
    axis = spectrum.axis.values
    n = axis.size
    rows = spectrum.data.reshape(-1, n)
    if regions is None:
        strongest = int(np.argmax(np.abs(rows.real).max(axis=1)))
        mask = signal_free_mask(rows[strongest].real, degree, threshold=threshold)
        mode = "auto"
    else:
        mask = _regions_mask(axis, regions)
        mode = "given"
    if mask.sum() <= degree:
        raise FitError(f"{operation}: {int(mask.sum())} points in the regions are too few for "
                       f"a degree-{degree} polynomial")
    basis = _vandermonde(n, degree)
    coefficients, *_ = np.linalg.lstsq(basis[mask], rows[:, mask].T, rcond=None)
    if real_only and np.iscomplexobj(rows):
        coefficients = coefficients.real
    corrected = rows - (basis @ coefficients).T
    parameters = {"degree": degree, "mode": mode, "real_only": real_only,
                  "regions": _mask_to_regions(axis, mask),
                  "coefficients": np.round(coefficients.T, 12).tolist()}
    if mode == "auto":
        parameters["threshold"] = threshold
    return spectrum.with_step(operation, parameters,
                              data=corrected.reshape(spectrum.data.shape))
