"""Point-wise deglitching of XAS spectra: automatic detection and explicit removal.

A *glitch* is one or a few points (monochromator crystal glitches, beam dumps, detector
spikes) that stand off the smooth μ(E) curve. Two detectors are offered:

``"loo"`` (default)
    Leave-one-out local polynomial prediction. Each point is predicted from its ``2·half_window``
    neighbours (not itself) by a least-squares polynomial of degree ``order`` in the real
    energy offsets, so uneven grids (5 eV pre-edge, 0.3 eV XANES, constant-k EXAFS steps) are
    handled. The standardized residual ``(μᵢ − μ̂ᵢ) / sqrt(1 + Σ wᵢⱼ²)`` is compared with a local
    robust noise level, ``1.4826 × median |residual|`` over ``scale_window`` points (the MAD of a
    zero-median residual). The worst point of each spectrum is *proposed* when it exceeds
    ``threshold`` noise levels, the noise taken without the residuals of its own neighbours
    (which a glitch disturbs); it is *confirmed* when, with itself replaced by a cubic spline
    through the other points, it still exceeds ``threshold`` full-window noise levels (a sharp
    real feature whose neighbours also deviate is rejected). The search repeats with the
    confirmed points cleaned, as a sequential outlier test, so a glitch neither hides a second
    one nor is blamed on its neighbours. The prediction is a fixed linear filter, so it runs on
    any number of spectra at once.
``"wallace"``
    Wallace, Alsina & Gaillard (2021): a Savitzky–Golay smooth (in point index), residuals divided
    by their rolling median, outliers by the generalized ESD test (Rosner 1983) at significance
    ``alpha``; a second stage re-smooths with the first-stage outliers interpolated and keeps only
    outliers that lie within half a filter window of a first-stage one. One spectrum at a time.

Behaviour on the real spectra of ``data/xas`` (``"loo"``, defaults): nothing is flagged on the
Cu, Fe, Ni and V foils, the 20 groups of NiO.prj except NiO_002 (9391.55 eV, a visible one-point
step seen in other NiO scans too), or the Fe compounds except FeO (7436.4 and 7549.7 eV, visible
kinks). At threshold 8 the V foil edge, the NiO pre-edge peak (8327 eV) and FeN 7660 eV are
flagged, so 10 is the default. Limits: in nearly noise-free data a sharp edge can still be taken
for a glitch (Cu 10 K: 8977.1 eV, one point below e0, up to threshold 14), so restrict the search
with ``energy_range`` there; single-point glitches of 3–5 % of the edge step are found on the
foils, adjacent two-point glitches only from about 10 %. The ``"wallace"`` detector flags 1–2
points on most clean spectra at ``alpha=0.025`` (its published setting) and is offered for
comparison.

:func:`deglitch` and :func:`remove_energies` return a new Spectrum without the points
(``mode="remove"``) or with them replaced by interpolation from the remaining points
(``mode="interpolate"``, which keeps a common grid for a stack of spectra; ``"remove"`` on a stack
drops the union of the flagged energies from every spectrum). A ``deglitch`` or
``remove_energies`` step in ``history`` lists the method, its parameters and the energies.

References
----------
S. M. Wallace, M. A. Alsina, J.-F. Gaillard, J. Synchrotron Rad. 28, 1180 (2021),
doi:10.1107/S1600577521003611.
B. Rosner, Technometrics 25, 165 (1983) (generalized ESD many-outlier procedure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats
from scipy.interpolate import CubicSpline
from scipy.signal import savgol_filter

from specssb.errors import ConfigError
from specssb.spectrum import Axis, Spectrum

__all__ = ["deglitch", "find_glitches", "remove_energies"]

_METHODS = ("loo", "wallace")
_MODES = ("remove", "interpolate")
_MAD_TO_SIGMA = 1.4826


# ---------------------------------------------------------------------------- public API
def find_glitches(
    energy: np.ndarray,
    mu: np.ndarray,
    *,
    method: str = "loo",
    threshold: float = 10.0,
    half_window: int = 4,
    order: int = 3,
    scale_window: int = 25,
    alpha: float = 0.025,
    max_glitches: int | None = None,
    max_glitch_length: int = 4,
    energy_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Flag glitch points of one or many spectra on one energy grid.

    Parameters
    ----------
    energy : ndarray of shape (n,), eV
        Strictly monotonic energies.
    mu : ndarray of shape (..., n)
        μ(E) (or any smooth signal); leading dimensions are independent spectra.
    method : {"loo", "wallace"}
        Detector (see the module docstring).
    threshold : float, default 10
        ``"loo"``: flag points whose standardized residual exceeds this many robust noise levels.
    half_window : int, default 4
        ``"loo"``: neighbours on each side used for the prediction; ``"wallace"``: the
        Savitzky–Golay window is ``2·half_window + 1`` points.
    order : int, default 3
        Polynomial degree of the prediction / Savitzky–Golay filter.
    scale_window : int, default 25
        ``"loo"``: points in the rolling window of the robust noise level (odd); the
        ``2·half_window + 1`` central points, whose residuals a glitch at the centre disturbs,
        are left out of it.
    alpha : float, default 0.025
        ``"wallace"``: significance level of the generalized ESD test.
    max_glitches : int, optional
        Most glitch points flagged per spectrum (``"wallace"``: outliers tested); default
        ``n // 10``.
    max_glitch_length : int, default 4
        ``"wallace"``: longest glitch in points (sets the rolling-median windows).
    energy_range : (float, float), optional, eV
        Flag only points inside this range (the whole spectrum is still used for prediction).

    Returns
    -------
    ndarray of bool, shape (..., n)
        True at glitch points.

    Raises
    ------
    ConfigError
        Unknown method, too few points for the window, or bad option values.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(8900.0, 9300.0, 401)
    >>> noise = np.random.default_rng(0).normal(0.0, 0.002, e.size)
    >>> mu = np.arctan((e - 8980.0) / 3.0) + 0.01 * np.sin(e / 7.0) + noise
    >>> mu[250] += 0.05
    >>> np.flatnonzero(find_glitches(e, mu)).tolist()
    [250]
    """
    energy = np.asarray(energy, dtype=float)
    mu = np.asarray(mu, dtype=float)
    _check_inputs(energy, mu, method, half_window, order, scale_window)
    if method == "loo":
        limit = energy.size // 10 if max_glitches is None else max_glitches
        flags = _find_loo(energy, mu, threshold, half_window, order, scale_window, limit,
                          energy_range)
    else:
        flat = mu.reshape(-1, energy.size)
        flags = np.zeros(flat.shape, dtype=bool)
        for row in range(flat.shape[0]):
            flags[row] = _find_wallace(energy, flat[row], half_window, order, alpha,
                                       max_glitches, max_glitch_length, energy_range)
        flags = flags.reshape(mu.shape)
    return flags


def deglitch(
    spectrum: Spectrum,
    *,
    method: str = "loo",
    threshold: float = 10.0,
    half_window: int = 4,
    order: int = 3,
    scale_window: int = 25,
    alpha: float = 0.025,
    max_glitches: int | None = None,
    max_glitch_length: int = 4,
    energy_range: tuple[float, float] | None = None,
    mode: str = "remove",
    interpolation: str = "cubic",
) -> Spectrum:
    """Find glitches with :func:`find_glitches` and remove or interpolate them.

    Parameters
    ----------
    spectrum : Spectrum
        μ(E) (or normalized μ), 1-D or with leading dimensions.
    method, threshold, half_window, order, scale_window, alpha, max_glitches, max_glitch_length, \
energy_range
        As for :func:`find_glitches`.
    mode : {"remove", "interpolate"}
        Drop the points (for a stack: the union of every spectrum's glitch energies), or replace
        each spectrum's glitch points by interpolation from its other points (common grid kept).
    interpolation : {"cubic", "linear"}
        Interpolation used by ``mode="interpolate"``.

    Returns
    -------
    Spectrum
        A new Spectrum with a ``deglitch`` history step whose parameters hold the method and its
        options, ``n_glitches`` and ``glitch_energies_ev`` (a list for one spectrum; for a stack a
        dict from the flat spectrum index to its list, spectra without glitches left out).

    Raises
    ------
    ConfigError
        Bad options, or fewer than ``2·half_window + 1`` points would remain.
    """
    energy = spectrum.axis.values
    flags = find_glitches(energy, np.asarray(spectrum.data.real, dtype=float), method=method,
                          threshold=threshold, half_window=half_window, order=order,
                          scale_window=scale_window, alpha=alpha,
                          max_glitches=max_glitches, max_glitch_length=max_glitch_length,
                          energy_range=energy_range)
    options: dict[str, Any] = {"method": method, "half_window": half_window, "order": order}
    if method == "loo":
        options.update(threshold=threshold, scale_window=scale_window,
                       noise="1.4826*rolling median |residual|")
    else:
        options.update(alpha=alpha, max_glitch_length=max_glitch_length,
                       test="generalized ESD")
    options["max_glitches"] = max_glitches
    options["energy_range_ev"] = None if energy_range is None else [float(v) for v in energy_range]
    return _apply_flags(spectrum, flags, "deglitch", options, mode, interpolation)


def remove_energies(
    spectrum: Spectrum,
    *,
    energies: Sequence[float] = (),
    ranges: Sequence[tuple[float, float]] = (),
    tolerance_ev: float | None = None,
    mode: str = "remove",
    interpolation: str = "cubic",
) -> Spectrum:
    """Remove (or interpolate over) given energies and energy ranges.

    Parameters
    ----------
    spectrum : Spectrum
        1-D or with leading dimensions; the same points go from every spectrum.
    energies : sequence of float, eV
        Each removes the grid point nearest to it.
    ranges : sequence of (float, float), eV
        Each removes every point with ``low <= E <= high``.
    tolerance_ev : float, optional
        Largest allowed distance between a given energy and its nearest grid point; default half
        the local grid step there.
    mode : {"remove", "interpolate"}
        As for :func:`deglitch`.
    interpolation : {"cubic", "linear"}
        As for :func:`deglitch`.

    Returns
    -------
    Spectrum
        With a ``remove_energies`` history step listing the requests and the removed energies.

    Raises
    ------
    ConfigError
        A given energy has no grid point within the tolerance, or too few points remain.
    """
    energy = spectrum.axis.values
    mask = np.zeros(energy.size, dtype=bool)
    step = np.abs(np.gradient(energy)) if energy.size > 1 else np.ones(1)
    for value in energies:
        index = int(np.argmin(np.abs(energy - value)))
        allowed = 0.5 * step[index] if tolerance_ev is None else tolerance_ev
        if abs(energy[index] - value) > allowed + 1e-9:
            raise ConfigError(
                f"no grid point within {allowed:g} eV of {value} eV (nearest {energy[index]:g} eV)",
                key="energies")
        mask[index] = True
    for low, high in ranges:
        lo, hi = min(low, high), max(low, high)
        mask |= (energy >= lo) & (energy <= hi)
    flags = np.broadcast_to(mask, spectrum.shape)
    options = {"energies_ev": [float(v) for v in energies],
               "ranges_ev": [[float(min(r)), float(max(r))] for r in ranges],
               "tolerance_ev": tolerance_ev}
    return _apply_flags(spectrum, flags, "remove_energies", options, mode, interpolation)


# ------------------------------------------------------------------------- LOO detector
def _check_inputs(energy: np.ndarray, mu: np.ndarray, method: str, half_window: int,
                  order: int, scale_window: int) -> None:
    if method not in _METHODS:
        raise ConfigError(f"unknown deglitch method {method!r}; choose one of {_METHODS}",
                          key="method")
    if energy.ndim != 1 or mu.shape[-1:] != energy.shape:
        raise ConfigError(f"mu of shape {mu.shape} does not end with the energy length "
                          f"{energy.size}", key="mu")
    if half_window < 1 or order < 0 or order >= 2 * half_window:
        raise ConfigError(f"need half_window >= 1 and 0 <= order < 2*half_window, got "
                          f"half_window={half_window}, order={order}", key="half_window")
    if energy.size < 2 * half_window + 2:
        raise ConfigError(f"{energy.size} points are too few for half_window={half_window}",
                          key="half_window")
    if scale_window < 3 or scale_window % 2 == 0:
        raise ConfigError(f"scale_window must be odd and >= 3, got {scale_window}",
                          key="scale_window")
    if not np.all(np.isfinite(mu)):
        raise ConfigError("mu holds NaN or infinite values; remove them first", key="mu")


def _neighbour_index(n: int, half_window: int) -> np.ndarray:
    """(n, 2·half_window) indices of each point's neighbours (window shifted inside at ends)."""
    start = np.clip(np.arange(n) - half_window, 0, n - 2 * half_window - 1)
    window = start[:, None] + np.arange(2 * half_window + 1)
    keep = window != np.arange(n)[:, None]
    return window[keep].reshape(n, 2 * half_window)


def loo_weights(energy: np.ndarray, half_window: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out prediction weights of a local polynomial.

    Parameters
    ----------
    energy : ndarray of shape (n,), eV
    half_window : int
        Neighbours on each side.
    order : int
        Polynomial degree.

    Returns
    -------
    index : ndarray of int, shape (n, 2·half_window)
        Neighbour indices of each point.
    weights : ndarray of shape (n, 2·half_window)
        ``μ̂ᵢ = Σⱼ weights[i, j] · μ[index[i, j]]``, the least-squares polynomial through the
        neighbours evaluated at ``energy[i]``.
    """
    index = _neighbour_index(energy.size, half_window)
    offset = energy[index] - energy[:, None]
    offset = offset / np.abs(offset).max(axis=1, keepdims=True)
    design = offset[..., None] ** np.arange(order + 1)
    normal = np.einsum("nkp,nkq->npq", design, design)
    unit = np.zeros((energy.size, order + 1, 1))
    unit[:, 0, 0] = 1.0
    coef = np.linalg.solve(normal, unit)[..., 0]
    return index, np.einsum("nkp,np->nk", design, coef)


def _rolling_median(values: np.ndarray, window: int, exclude: int = 0) -> np.ndarray:
    """Rolling median along the last axis (reflected ends), leaving out the ``exclude`` points
    on each side of the centre and the centre itself when ``exclude > 0``."""
    half = window // 2
    width = [(0, 0)] * (values.ndim - 1) + [(half, half)]
    padded = np.pad(values, width, mode="reflect")
    windows = sliding_window_view(padded, window, axis=-1)
    if exclude > 0:
        offsets = np.abs(np.arange(window) - half)
        windows = windows[..., offsets > exclude]
    return np.median(windows, axis=-1)


def _find_loo(energy: np.ndarray, mu: np.ndarray, threshold: float, half_window: int,
              order: int, scale_window: int, max_glitches: int,
              energy_range: tuple[float, float] | None) -> np.ndarray:
    """Propose the worst point of each spectrum, confirm it with its neighbours cleaned, repeat."""
    index, weights = loo_weights(energy, half_window, order)
    spread = np.sqrt(1.0 + np.sum(weights**2, axis=1))
    scale_window = min(scale_window, energy.size - (1 - energy.size % 2))
    if scale_window < 2 * half_window + 5:
        raise ConfigError(f"scale_window={scale_window} leaves fewer than 4 points outside the "
                          f"prediction window of {2 * half_window + 1} points", key="scale_window")
    searchable = np.ones(energy.size, dtype=bool)
    if energy_range is not None:
        lo, hi = min(energy_range), max(energy_range)
        searchable = (energy >= lo) & (energy <= hi)
    flat = mu.reshape(-1, energy.size)
    flags = np.zeros(flat.shape, dtype=bool)
    rejected = np.zeros(flat.shape, dtype=bool)
    tiny = 1e-12 * (np.max(np.abs(flat), axis=-1) + 1e-300)

    def scores(values: np.ndarray, mask: np.ndarray, rows: np.ndarray, exclude: int):
        cleaned = _fill(energy, values, mask, "cubic")
        predicted = np.sum(cleaned[:, index] * weights, axis=-1)
        noise = _MAD_TO_SIGMA * _rolling_median(np.abs(cleaned - predicted) / spread,
                                                scale_window, exclude)
        floor = np.maximum(0.25 * np.median(noise, axis=-1), tiny[rows])
        noise = np.maximum(noise, floor[:, None])
        return np.abs(values - predicted) / spread / noise

    active = np.arange(flat.shape[0])
    for _ in range(4 * max_glitches):
        values = flat[active]
        rows = np.arange(active.size)
        # 1. candidate: worst point against a noise level its own neighbours do not inflate
        score = scores(values, flags[active], active, half_window)
        score[flags[active] | rejected[active] | ~searchable] = 0.0
        worst = np.argmax(score, axis=-1)
        proposed = score[rows, worst] > threshold
        if not proposed.any():
            break
        active, values, worst, rows = (active[proposed], values[proposed], worst[proposed],
                                       np.arange(proposed.sum()))
        # 2. confirmation with the candidate cleaned, against the full-window noise level
        trial = flags[active].copy()
        trial[rows, worst] = True
        confirmed = scores(values, trial, active, 0)[rows, worst] > threshold
        flags[active[confirmed], worst[confirmed]] = True
        rejected[active[~confirmed], worst[~confirmed]] = True
        done = flags[active].sum(axis=-1) >= max_glitches
        active = active[~done]
        if active.size == 0:
            break
    return flags.reshape(mu.shape)


# --------------------------------------------------------------------- Wallace detector
def _generalized_esd(values: np.ndarray, max_outliers: int, alpha: float) -> np.ndarray:
    """Indices of outliers by Rosner's generalized ESD test."""
    remaining = np.arange(values.size)
    candidates: list[int] = []
    n_outliers = 0
    for i in range(1, min(max_outliers, values.size - 2) + 1):
        sample = values[remaining]
        spread = sample.std(ddof=1)
        if spread == 0:
            break
        deviation = np.abs(sample - sample.mean())
        worst = int(np.argmax(deviation))
        statistic = deviation[worst] / spread
        n = values.size
        p = 1.0 - alpha / (2.0 * (n - i + 1))
        t = stats.t.ppf(p, n - i - 1)
        critical = (n - i) * t / np.sqrt((n - i - 1 + t**2) * (n - i + 1))
        candidates.append(int(remaining[worst]))
        remaining = np.delete(remaining, worst)
        if statistic > critical:
            n_outliers = i
    return np.array(candidates[:n_outliers], dtype=int)


def _find_wallace(energy: np.ndarray, mu: np.ndarray, half_window: int, order: int,
                  alpha: float, max_glitches: int | None, max_glitch_length: int,
                  energy_range: tuple[float, float] | None) -> np.ndarray:
    window = 2 * half_window + 1
    search = np.arange(energy.size)
    if energy_range is not None:
        lo, hi = min(energy_range), max(energy_range)
        search = np.flatnonzero((energy >= lo) & (energy <= hi))
    flags = np.zeros(energy.size, dtype=bool)
    if search.size < 3:
        return flags
    limit = energy.size // 10 if max_glitches is None else max_glitches

    def normalized_residual(values: np.ndarray, median_window: int) -> np.ndarray:
        residual = mu - savgol_filter(values, window, order)
        median_window = min(median_window, energy.size - 1 + energy.size % 2)
        return residual / np.maximum(_rolling_median(np.abs(residual), median_window), 1e-300)

    first_stage = normalized_residual(mu, 2 * (window + max_glitch_length - 1) + 1)
    first = search[_generalized_esd(first_stage[search], limit, alpha)]
    if first.size == 0:
        return flags
    mask = np.zeros(energy.size, dtype=bool)
    mask[first] = True
    second = search[_generalized_esd(
        normalized_residual(_fill(energy, mu, mask, "cubic"), 2 * max_glitch_length + 1)[search],
        limit, alpha)]
    if second.size:
        near = np.abs(second[:, None] - first[None, :]).min(axis=1) <= half_window
        flags[second[near]] = True
    return flags


# ------------------------------------------------------------------------------ helpers
def _fill(energy: np.ndarray, mu: np.ndarray, flags: np.ndarray, interpolation: str) -> np.ndarray:
    """Copy of ``mu`` with flagged points interpolated from the unflagged ones, per spectrum."""
    out = np.array(mu, dtype=float, copy=True)
    flat_out = out.reshape(-1, energy.size)
    flat_flags = np.broadcast_to(flags, mu.shape).reshape(-1, energy.size)
    order = np.argsort(energy)
    for row in np.flatnonzero(flat_flags.any(axis=1)):
        good = ~flat_flags[row][order]
        x, y = energy[order][good], flat_out[row][order][good]
        bad_x = energy[flat_flags[row]]
        if interpolation == "cubic" and x.size >= 4:
            flat_out[row, flat_flags[row]] = CubicSpline(x, y)(bad_x)
        else:
            flat_out[row, flat_flags[row]] = np.interp(bad_x, x, y)
    return out


def _apply_flags(spectrum: Spectrum, flags: np.ndarray, operation: str,
                 options: dict[str, Any], mode: str, interpolation: str) -> Spectrum:
    if mode not in _MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose one of {_MODES}", key="mode")
    if interpolation not in ("cubic", "linear"):
        raise ConfigError(f"unknown interpolation {interpolation!r}; choose 'cubic' or 'linear'",
                          key="interpolation")
    energy = spectrum.axis.values
    flags = np.broadcast_to(flags, spectrum.shape)
    union = flags.reshape(-1, energy.size).any(axis=0)
    if energy.size - union.sum() < 4:
        raise ConfigError(f"only {energy.size - union.sum()} points would remain", key=operation)
    if spectrum.n_spectra == 1:
        listed: Any = [float(e) for e in energy[union]]
    else:
        listed = {int(i): [float(e) for e in energy[row]]
                  for i, row in enumerate(flags.reshape(-1, energy.size)) if row.any()}
    parameters = {**options, "mode": mode, "n_glitches": int(flags.sum()),
                  "glitch_energies_ev": listed}
    if mode == "interpolate":
        parameters["interpolation"] = interpolation
        data = _fill(energy, np.asarray(spectrum.data, dtype=float), flags, interpolation)
        return spectrum.with_step(operation, parameters, data=data)
    keep = ~union
    return spectrum.with_step(
        operation, parameters,
        axis=Axis(spectrum.axis.name, spectrum.axis.unit, energy[keep]),
        data=spectrum.data[..., keep],
    )
