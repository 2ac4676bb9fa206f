"""Raman preprocessing: spikes, smoothing, baselines, normalization and cropping of maps.

Every function takes a :class:`~specssb.spectrum.Spectrum` (one spectrum, a series or a map
with leading ``y``/``x`` dims), works on all its spectra at once (no Python loop over pixels),
and returns a new Spectrum with one :class:`~specssb.spectrum.Step` appended to ``history``.
Nothing here mixes pixels except :func:`despike_neighbours`, which only *tests* a point
against the neighbouring pixels and replaces the outliers it finds.

==========================  =============================================================
function                    what it does
==========================  =============================================================
:func:`despike`             Whitaker–Hayes spike removal, spectrum by spectrum
:func:`despike_neighbours`  cosmic rays found against the 8 neighbouring pixels of a map
:func:`smooth`              Savitzky–Golay or Whittaker smoothing along the spectral axis
:func:`subtract_baseline`   a baseline of :mod:`specssb.fitting.backgrounds`, whole map
:func:`normalize`           vector (L2), min-max, max, area, band height or band area
:func:`crop`                keep an axis range
==========================  =============================================================

A typical map pipeline::

    cleaned = despike_neighbours(despike(raw))
    corrected = subtract_baseline(smooth(cleaned, "savgol"), "asls", lam=1e6, p=0.01)
    unit = normalize(corrected, "band_area", band=(400.0, 450.0))

Speed (100 × 100 × 1,000 map, one core; ``python -m benchmarks raman`` prints the current
figures): despike ≈ 0.35 s (compiled screening; ≈ 0.9 s without numba), despike_neighbours
≈ 2 s, Savitzky–Golay ≈ 0.07 s, Whittaker smoothing ≈ 0.2 s (one banded Cholesky
factorization shared by all pixels, since the system ``I + λDᵀD`` does not depend on the
data), AsLS baseline ≈ 0.6–1 s (the AsLS weights differ per pixel, so no factorization can
be shared: :mod:`specssb.fitting._whittaker_fused` iterates each pixel to convergence in a
compiled loop; ≈ 2.7 s with the numpy block solver of :mod:`specssb.fitting._whittaker`
when numba is missing).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import linalg, signal

from specssb.errors import PhysicsWarning
from specssb.fitting.backgrounds import get_background
from specssb.fitting.raman._despike import (
    neighbour_mask,
    replace_by_local_mean,
    whitaker_hayes_mask,
)
from specssb.spectrum import Spectrum

__all__ = [
    "NORMALIZATIONS",
    "crop",
    "despike",
    "despike_neighbours",
    "normalize",
    "smooth",
    "subtract_baseline",
    "whittaker_smooth",
]

#: Names accepted by :func:`normalize`.
NORMALIZATIONS = ("vector", "minmax", "max", "area", "band_height", "band_area")
#: Columns per banded solve in :func:`whittaker_smooth` (bounds the temporary copy).
_SMOOTH_BLOCK = 4096


def _flat(spectrum: Spectrum) -> np.ndarray:
    """The spectra as a float (m, n) array (a view where possible)."""
    data = np.asarray(spectrum.data, dtype=float)
    return data.reshape(-1, spectrum.axis.size)


def _real(spectrum: Spectrum, operation: str) -> None:
    if np.iscomplexobj(spectrum.data):
        raise ValueError(f"{operation} needs real data, got complex values")


# ----------------------------------------------------------------------------- spikes
def despike(
    spectrum: Spectrum,
    *,
    threshold: float = 7.0,
    window: int = 3,
    stabilize: bool | None = None,
) -> Spectrum:
    """Remove cosmic-ray spikes spectrum by spectrum (Whitaker–Hayes, modified z-scores).

    Each spectrum's first differences get robust z-scores ``|Δy − median| / (1.4826 MAD)``;
    a difference above ``threshold`` makes both its points candidates, and a candidate is a
    spike when it also lies more than ``threshold`` point-noise units from the mean of the
    clean points within ``window`` channels. Spikes are replaced by that mean (linear
    interpolation when a spike run is wider than the window).

    Shot noise grows with the signal, so on raw counts the top of a strong band is noisier
    than the baseline the robust scale comes from, and plain Whitaker–Hayes flags it (on a
    100 × 100 synthetic map with a 800-count band: 5,800 false points at ``threshold=7``).
    The test therefore runs on the Anscombe transform ``2 sqrt(y + 3/8)`` of count data,
    whose noise is ≈1 everywhere (same map: 0 false points, 200/200 spikes found); the
    replacement values come from the untransformed data.

    Parameters
    ----------
    spectrum : Spectrum
        Real data, any leading shape.
    threshold : float
        Modified z-score limit (Whitaker & Hayes suggest 6–8; lower finds weaker spikes and
        risks flagging sharp bands, e.g. c-Si at 520 cm-1 sampled at 1 point per FWHM).
    window : int
        Half-width of the replacement neighbourhood in channels (``2 * window + 1`` points).
    stabilize : bool, optional
        Test on the Anscombe transform. Default: when ``signal`` is ``"counts"`` and no
        value is below −3/8 (raw detector counts); pass False for processed data.

    Returns
    -------
    Spectrum
        Step ``"despike"`` with the parameters and ``points_replaced`` / ``spectra_affected``.

    References
    ----------
    D. A. Whitaker & K. Hayes, *Chemometr. Intell. Lab. Syst.* 179, 82–84 (2018),
    doi:10.1016/j.chemolab.2018.06.009.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb import Axis, Spectrum
    >>> y = 100 + np.sin(np.arange(200) / 10.0)
    >>> y[50] += 500
    >>> s = Spectrum(axis=Axis("raman_shift", "cm-1", np.arange(200.0)), data=y,
    ...              technique="raman", signal="counts")
    >>> clean = despike(s)
    >>> bool(abs(clean.data[50] - 100 - np.sin(5.0)) < 0.1), clean.history[-1].parameters["points_replaced"]
    (True, 1)
    """
    _real(spectrum, "despike")
    if threshold <= 0 or window < 1:
        raise ValueError(f"threshold must be > 0 and window >= 1, got {threshold}, {window}")
    y2 = _flat(spectrum)
    if stabilize is None:
        stabilize = spectrum.signal == "counts" and bool(np.all(y2 >= -0.375))
    mask = whitaker_hayes_mask(y2, float(threshold), int(window), stabilize=bool(stabilize))
    repaired = replace_by_local_mean(y2, mask, int(window))
    return spectrum.with_step(
        "despike",
        {"method": "whitaker_hayes", "threshold": float(threshold), "window": int(window),
         "stabilize": bool(stabilize),
         "points_replaced": int(mask.sum()), "spectra_affected": int(mask.any(axis=-1).sum())},
        data=repaired.reshape(spectrum.shape),
    )


def despike_neighbours(
    spectrum: Spectrum, *, threshold: float = 8.0, two_sided: bool = False
) -> Spectrum:
    """Remove cosmic rays from a map by comparing each pixel with its 8 neighbours.

    A point is a spike when ``y − median(8 neighbouring pixels, same wavenumber)`` exceeds
    ``threshold`` robust standard deviations (the larger of that pixel's, over wavenumbers,
    and that wavenumber's, over the map); it is replaced by the neighbour median. Bands that
    the neighbouring pixels also show are kept, including sharp ones the per-spectrum test
    of :func:`despike` can mistake for spikes. Pixels at the map edge use their 5 (corners
    3) neighbours; a line scan uses its 2.

    Parameters
    ----------
    spectrum : Spectrum
        A map: the last two leading dimensions are the image (``("y", "x")``); a single
        leading dimension is treated as a line scan.
    threshold : float
        Limit in robust standard deviations.
    two_sided : bool
        Also replace points far below the neighbours (dead pixels); cosmic rays are positive.

    Returns
    -------
    Spectrum
        Step ``"despike_neighbours"`` with ``points_replaced`` and ``spectra_affected``.

    Raises
    ------
    ValueError
        For a single spectrum, or complex data.
    """
    _real(spectrum, "despike_neighbours")
    if spectrum.data.ndim < 2 or spectrum.n_spectra < 2:
        raise ValueError("despike_neighbours needs a map or a line scan (leading dims), "
                         f"got shape {spectrum.shape}")
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    data = np.asarray(spectrum.data, dtype=float)
    cube = data[None] if data.ndim == 2 else data  # a line scan is a 1 × nx map
    mask, median = neighbour_mask(cube, float(threshold), bool(two_sided))
    repaired = np.where(mask, median, cube).reshape(spectrum.shape)
    return spectrum.with_step(
        "despike_neighbours",
        {"threshold": float(threshold), "two_sided": bool(two_sided),
         "points_replaced": int(mask.sum()),
         "spectra_affected": int(mask.reshape(-1, spectrum.axis.size).any(axis=-1).sum())},
        data=repaired,
    )


# -------------------------------------------------------------------------- smoothing
def whittaker_smooth(y: np.ndarray, lam: float, diff_order: int = 2) -> np.ndarray:
    """Whittaker smoother of every row of ``y`` (..., n) with one shared factorization.

    Solves ``(I + λ DᵀD) z = y`` (Eilers, *Anal. Chem.* 75, 3631 (2003)) for all spectra:
    the matrix is the same for every spectrum, so it is factored once
    (:func:`scipy.linalg.cholesky_banded`) and solved for many right-hand sides.

    Parameters
    ----------
    y : ndarray of shape (..., n)
    lam : float
        Smoothing parameter λ > 0 (in channel units: the penalty ignores the axis spacing).
    diff_order : int
        Order of the difference penalty (2: penalizes curvature).

    Returns
    -------
    ndarray of shape (..., n)

    Examples
    --------
    >>> import numpy as np
    >>> z = whittaker_smooth(np.array([[0.0, 0, 3, 0, 0]]), lam=1.0)
    >>> bool(abs(z.sum() - 3.0) < 1e-12)   # the smoother keeps the sum (DᵀD annihilates ones)
    True
    """
    from specssb.fitting._whittaker import penalty_bands

    values = np.asarray(y, dtype=float)
    n = values.shape[-1]
    bands = penalty_bands(n, int(diff_order), float(lam))
    bands[0] += 1.0
    factor = linalg.cholesky_banded(bands, lower=True)
    flat = values.reshape(-1, n)
    out = np.empty_like(flat)
    for start in range(0, flat.shape[0], _SMOOTH_BLOCK):
        block = slice(start, start + _SMOOTH_BLOCK)
        out[block] = linalg.cho_solve_banded((factor, True), flat[block].T,
                                             check_finite=False).T
    return out.reshape(values.shape)


def smooth(
    spectrum: Spectrum,
    method: Literal["savgol", "whittaker"] = "savgol",
    *,
    window_length: int = 9,
    polyorder: int = 3,
    lam: float = 10.0,
    diff_order: int = 2,
) -> Spectrum:
    """Smooth along the spectral axis only; pixels are never mixed.

    Parameters
    ----------
    spectrum : Spectrum
    method : {"savgol", "whittaker"}
        ``"savgol"``: Savitzky–Golay (:func:`scipy.signal.savgol_filter`, ``mode="interp"``),
        ``window_length`` odd points, polynomial ``polyorder``. ``"whittaker"``: penalized
        least squares :func:`whittaker_smooth` with ``lam`` and ``diff_order``.
        Both treat the channels as equally spaced (true to a few % on CCD axes).
    window_length, polyorder : int
        Savitzky–Golay window (odd, > polyorder) and polynomial order.
    lam : float
        Whittaker λ (channel units).
    diff_order : int
        Whittaker difference order.

    Returns
    -------
    Spectrum
        Step ``"smooth"`` with the method and its parameters.

    References
    ----------
    A. Savitzky & M. J. E. Golay, *Anal. Chem.* 36, 1627 (1964); P. H. C. Eilers, *Anal.
    Chem.* 75, 3631 (2003).
    """
    _real(spectrum, "smooth")
    data = np.asarray(spectrum.data, dtype=float)
    if method == "savgol":
        if window_length % 2 == 0 or window_length <= polyorder:
            raise ValueError(f"window_length must be odd and > polyorder, got {window_length}, "
                             f"{polyorder}")
        if window_length > spectrum.axis.size:
            raise ValueError(f"window_length {window_length} exceeds the {spectrum.axis.size} "
                             "points of the axis")
        smoothed = signal.savgol_filter(data, int(window_length), int(polyorder), axis=-1,
                                        mode="interp")
        parameters = {"method": "savgol", "window_length": int(window_length),
                      "polyorder": int(polyorder)}
    elif method == "whittaker":
        smoothed = whittaker_smooth(data, float(lam), int(diff_order))
        parameters = {"method": "whittaker", "lam": float(lam), "diff_order": int(diff_order)}
    else:
        raise ValueError(f"unknown smoothing method {method!r}; choose 'savgol' or 'whittaker'")
    return spectrum.with_step("smooth", parameters, data=smoothed)


# -------------------------------------------------------------------------- baselines
def subtract_baseline(spectrum: Spectrum, method: str = "asls", **options: object) -> Spectrum:
    """Subtract a baseline of the backgrounds registry, computed for every spectrum at once.

    Parameters
    ----------
    spectrum : Spectrum
    method : str
        A name of :data:`specssb.fitting.backgrounds.BACKGROUNDS` (``asls``, ``arpls``,
        ``airpls``, ``snip``, ``modpoly``, ``polynomial`` …). The Whittaker family
        (asls/arpls/airpls) and snip/modpoly are batched over all spectra and agree with
        ``pybaselines`` spectrum by spectrum.
    **options
        That background's keyword options (``lam``, ``p``, ``max_half_window`` …).

    Returns
    -------
    Spectrum
        ``data − baseline``; step ``"subtract_baseline"`` with ``method``, the options and
        ``unconverged`` (spectra that stopped at ``max_iter``, when the method iterates).

    Warns
    -----
    ConvergenceWarning
        From the background function, when spectra stopped unconverged.
    """
    _real(spectrum, "subtract_baseline")
    function = get_background(method)
    baseline, info = function(spectrum.axis.values, np.asarray(spectrum.data, dtype=float),
                              **options)
    parameters: dict[str, object] = {"method": method, **{k: _plain(v) for k, v in options.items()}}
    if "converged" in info:
        parameters["unconverged"] = int(np.size(info["converged"]) - np.count_nonzero(info["converged"]))
    return spectrum.with_step("subtract_baseline", parameters,
                              data=np.asarray(spectrum.data, dtype=float) - baseline)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------- normalization
def _band_index(axis: np.ndarray, band: Sequence[float] | None) -> np.ndarray:
    if band is None or len(band) != 2:
        raise ValueError("this normalization needs band=(low, high) in axis units")
    lo, hi = sorted(float(v) for v in band)
    inside = np.flatnonzero((axis >= lo) & (axis <= hi))
    if inside.size < 2:
        raise ValueError(f"the band {lo}–{hi} holds {inside.size} axis point(s); need 2")
    return inside


def normalize(
    spectrum: Spectrum,
    method: str = "vector",
    *,
    band: Sequence[float] | None = None,
) -> Spectrum:
    """Scale every spectrum by one number of its own.

    ==================  ==========================================================
    ``vector``          divide by the L2 norm ``sqrt(Σ y²)``
    ``minmax``          ``(y − min) / (max − min)``
    ``max``             divide by the maximum
    ``area``            divide by ``|∫ y dx|`` over the whole axis (trapezoids)
    ``band_height``     divide by the maximum inside ``band``
    ``band_area``       divide by ``|∫ y dx|`` over ``band`` (trapezoids)
    ==================  ==========================================================

    Parameters
    ----------
    spectrum : Spectrum
    method : str
        One of :data:`NORMALIZATIONS`.
    band : (float, float), optional
        Axis range (cm-1) for the band methods, e.g. ``(400, 450)`` around PS₄³⁻.

    Returns
    -------
    Spectrum
        ``signal = "norm"`` (unit ``"1"``); step ``"normalize"`` with the method, the band
        and ``zero_norm`` (spectra whose divisor was 0: they become NaN).

    Warns
    -----
    PhysicsWarning
        When some spectra have a zero divisor (empty pixels); they are set to NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb import Axis, Spectrum
    >>> s = Spectrum(axis=Axis("raman_shift", "cm-1", [1.0, 2.0]), data=[[3.0, 4.0]],
    ...              technique="raman", signal="counts", dims=("x",))
    >>> normalize(s, "vector").data.tolist()
    [[0.6, 0.8]]
    """
    _real(spectrum, "normalize")
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {method!r}; choose one of {NORMALIZATIONS}")
    data = np.asarray(spectrum.data, dtype=float)
    x = spectrum.axis.values
    offset: np.ndarray | float = 0.0
    if method == "vector":
        divisor = np.sqrt(np.einsum("...i,...i->...", data, data))
    elif method == "minmax":
        offset = data.min(axis=-1)
        divisor = data.max(axis=-1) - offset
    elif method == "max":
        divisor = data.max(axis=-1)
    elif method == "area":
        divisor = np.abs(np.trapezoid(data, x, axis=-1))
    else:
        inside = _band_index(x, band)
        window = data[..., inside]
        divisor = (window.max(axis=-1) if method == "band_height"
                   else np.abs(np.trapezoid(window, x[inside], axis=-1)))
    zero = ~(divisor != 0)
    if zero.any():
        warnings.warn(f"normalize({method!r}): {int(np.count_nonzero(zero))} spectra have a "
                      "zero divisor and become NaN", PhysicsWarning, stacklevel=2)
    safe = np.where(zero, np.nan, divisor)
    scaled = (data - np.asarray(offset)[..., None]) / safe[..., None]
    parameters: dict[str, object] = {"method": method, "zero_norm": int(np.count_nonzero(zero))}
    if band is not None:
        parameters["band"] = [float(v) for v in band]
    return spectrum.with_step("normalize", parameters, data=scaled, signal="norm", signal_unit="1")


def crop(spectrum: Spectrum, low: float, high: float) -> Spectrum:
    """Keep the points with ``low <= axis <= high`` (cm-1 for a Raman-shift axis).

    The same as :meth:`Spectrum.crop` (step ``"crop"``), here so pipelines read as one list
    of functions.
    """
    return spectrum.crop(low, high)
