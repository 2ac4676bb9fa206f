"""Integrals of processed NMR spectra over named ppm ranges, with a noise-based uncertainty.

The integral of range :math:`R` is the sum of the points inside it times each point's width
on the axis (the rectangle rule; on a uniform axis every width is the spacing
:math:`\\Delta\\delta` in ppm)

.. math::

    I_R = \\sum_{i \\in R} y_i\\, w_i , \\qquad w_i = |\\delta_{i+1} - \\delta_{i-1}| / 2 ,

so its unit is the signal's unit × ppm and it does not depend on zero filling, unlike the bare
sum of points that nmrglue's integration example reports (nmrglue issue #44).

Uncertainty. With white noise of standard deviation :math:`\\sigma_\\mathrm{rms}` on every point,
independent between points, linear propagation of errors (Bevington & Robinson 2003, eq.
3.13) gives

.. math::

    \\sigma_{I_R} = \\sigma_\\mathrm{rms} \\sqrt{\\textstyle\\sum_{i\\in R} w_i^2}
                 = \\sigma_\\mathrm{rms}\\, \\Delta\\delta\\, \\sqrt{n_R}

on a uniform axis (:math:`n_R` points in the range). The same expression is the basis of the
signal-to-noise criteria of quantitative NMR (Malz & Jancke 2005). The noise RMS is measured
on signal-free regions of the same spectrum (given, or found automatically: see
:func:`estimate_noise`). Apodization and zero filling correlate neighbouring points; the
formula then *underestimates* the error (by about the square root of the zero-filling factor
for a zero-filled spectrum), so integrate spectra without extra zero filling when the error bar
matters. Baseline and phase errors are not included: they are systematic.

Relative integrals (:func:`relative_integrals`): the fraction of range :math:`k` in a sum of
non-overlapping ranges, :math:`f_k = I_k / S` with :math:`S = \\sum_j I_j`, carries

.. math::

    \\sigma_{f_k}^2 = \\frac{(S - I_k)^2 \\sigma_k^2 + I_k^2 \\sum_{j \\ne k} \\sigma_j^2}{S^4} ,

and a ratio to a reference range :math:`r_k = I_k / I_\\mathrm{ref}` carries
:math:`\\sigma_{r_k} = |r_k| \\sqrt{(\\sigma_k/I_k)^2 + (\\sigma_\\mathrm{ref}/I_\\mathrm{ref})^2}`
(independent integrals: the ranges must not overlap).

Results come as a :class:`~specssb.fitting.result.FitTable` (one row per spectrum × range ×
quantity; ``species`` is the range name, ``quantity`` ``integral`` or ``fraction``, engine
``integrate``), so reports treat them like the areas of a fit. Extra columns: ``low_ppm``,
``high_ppm``, ``n_points``, ``noise_rms``, and one column per numeric coordinate of the
spectrum's leading dimensions (e.g. ``delay`` of a saturation-recovery series).

References
----------
P. R. Bevington and D. K. Robinson, *Data Reduction and Error Analysis for the Physical
Sciences*, 3rd ed., McGraw-Hill (2003), ch. 3 (propagation of errors).

F. Malz and H. Jancke, "Validation of quantitative NMR", *J. Pharm. Biomed. Anal.* 38 (2005)
813–823 (integration ranges, signal-to-noise and integral precision).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.result import COLUMNS, FitTable
from specssb.spectrum import Spectrum

__all__ = ["estimate_noise", "integrate", "integrate_arrays", "relative_integrals"]

ENGINE = "integrate"

#: Axis segments the automatic noise estimate splits a spectrum into.
NOISE_SEGMENTS = 32

#: History operations after which a complex spectrum is phased: its real part is integrated.
PHASED = ("nmr_phase", "nmr_autophase", "nmr_process")


def _ranges(ranges: Mapping[str, Sequence[float]], what: str = "ranges") -> dict[str, tuple[float, float]]:
    """Named ranges as ``name -> (low, high)``; either order accepted, names unique."""
    if not ranges:
        raise ConfigError(f"give at least one named ppm range in {what}", key=what)
    out = {}
    for name, bounds in ranges.items():
        values = [float(v) for v in bounds]
        if len(values) != 2 or not all(math.isfinite(v) for v in values) or values[0] == values[1]:
            raise ConfigError(f"range {name!r} must be two different finite ppm values, got {bounds!r}",
                              key=what)
        out[str(name)] = (min(values), max(values))
    return out


def _point_widths(x: np.ndarray) -> np.ndarray:
    """Width of each point on the axis: half the distance between its neighbours (the end
    points: the distance to their one neighbour)."""
    if x.size < 2:
        raise FitError("an axis of one point cannot be integrated")
    edges = np.empty(x.size + 1)
    edges[1:-1] = 0.5 * (x[1:] + x[:-1])
    edges[0] = x[0] - 0.5 * (x[1] - x[0])
    edges[-1] = x[-1] + 0.5 * (x[-1] - x[-2])
    return np.abs(np.diff(edges))


def _detrended_rms(y: np.ndarray) -> np.ndarray:
    """RMS about a straight line fitted to each row of ``y`` (m, n): noise on a sloping baseline."""
    n = y.shape[-1]
    t = np.linspace(-1.0, 1.0, n)
    design = np.column_stack([np.ones(n), t])
    coef, *_ = np.linalg.lstsq(design, y.T, rcond=None)
    residual = y - (design @ coef).T
    return np.sqrt((residual**2).sum(axis=-1) / max(n - 2, 1))


def estimate_noise(
    x: np.ndarray,
    y: np.ndarray,
    *,
    regions: Sequence[Sequence[float]] | None = None,
    exclude: Sequence[Sequence[float]] = (),
) -> np.ndarray:
    """Noise RMS of each spectrum, on signal-free regions.

    Parameters
    ----------
    x : ndarray of shape (n,), ppm
        The axis.
    y : ndarray of shape (..., n)
        Real spectra.
    regions : sequence of (low, high), ppm, optional
        Signal-free regions. Each is detrended (a straight line removed) and the noise is the
        root of the points-weighted mean square over them.
    exclude : sequence of (low, high), ppm
        Ranges that hold signal, for the automatic search (ignored when ``regions`` is given).

    Returns
    -------
    ndarray of shape (...)
        Noise standard deviation, in the signal's unit.

    Notes
    -----
    Automatic search (``regions=None``): the axis is cut into :data:`NOISE_SEGMENTS` equal
    segments; segments touching an ``exclude`` range are dropped; the detrended RMS of each
    remaining segment is computed, and segments above twice the median are dropped
    repeatedly (they hold signal or sidebands). The result is the root mean square of the
    kept segments' RMS. It needs at least a few segments free of signal.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.linspace(10, -10, 4000)
    >>> y = 100 * np.exp(-x**2) + rng.normal(0, 0.5, x.size)
    >>> round(float(estimate_noise(x, y)), 1)
    0.5
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    flat = y.reshape(-1, x.size)
    if regions is not None:
        chosen = _ranges({f"noise {i}": r for i, r in enumerate(regions)}, "noise_regions")
        squares, counts = np.zeros(flat.shape[0]), 0
        for low, high in chosen.values():
            inside = (x >= low) & (x <= high)
            if inside.sum() < 8:
                raise ConfigError(f"noise region [{low}, {high}] ppm holds {int(inside.sum())} points; "
                                  "give at least 8", key="noise_regions")
            squares += _detrended_rms(flat[:, inside]) ** 2 * inside.sum()
            counts += int(inside.sum())
        return np.sqrt(squares / counts).reshape(y.shape[:-1])
    bounds = np.array_split(np.arange(x.size), NOISE_SEGMENTS)
    segments = [s for s in bounds if s.size >= 8 and not any(
        x[s].min() <= high and x[s].max() >= low for low, high in (sorted(map(float, e)) for e in exclude))]
    if len(segments) < 3:
        raise FitError("too few signal-free segments to estimate the noise; give noise_regions")
    rms = np.stack([_detrended_rms(flat[:, s]) for s in segments], axis=1)  # (m, n_segments)
    keep = np.ones(rms.shape, bool)
    for _ in range(10):
        median = np.nanmedian(np.where(keep, rms, np.nan), axis=1, keepdims=True)
        new = rms <= 2.0 * median
        if np.array_equal(new, keep):
            break
        keep = new
    noise = np.sqrt((np.where(keep, rms, 0.0) ** 2).sum(axis=1) / keep.sum(axis=1))
    return noise.reshape(y.shape[:-1])


def integrate_arrays(
    x: np.ndarray,
    y: np.ndarray,
    ranges: Mapping[str, Sequence[float]],
    *,
    noise_regions: Sequence[Sequence[float]] | None = None,
) -> dict[str, np.ndarray]:
    """Integrals and their noise errors, on plain arrays.

    Parameters
    ----------
    x : ndarray of shape (n,), ppm
    y : ndarray of shape (..., n)
        Real spectra.
    ranges : mapping of str to (low, high), ppm
        Named integration ranges (both ends included; either order).
    noise_regions : sequence of (low, high), ppm, optional
        Signal-free regions for the noise; found automatically when omitted (outside every
        integration range, see :func:`estimate_noise`).

    Returns
    -------
    dict
        ``names`` (k,), ``integral`` and ``stderr`` (..., k) in signal unit × ppm,
        ``noise_rms`` (...), ``n_points`` (k,), ``low``, ``high`` (k,) ppm.

    Raises
    ------
    ConfigError
        For a range with fewer than 2 points on the axis.

    Warns
    -----
    PhysicsWarning
        When a range reaches past the end of the axis (its integral is cut).

    Examples
    --------
    >>> x = np.linspace(10, -10, 2001)
    >>> y = np.exp(-x**2 / 2) + np.random.default_rng(1).normal(0, 1e-3, x.size)
    >>> out = integrate_arrays(x, y, {"peak": (-5, 5)})
    >>> round(float(out["integral"][0]), 2)  # sqrt(2 pi)
    2.51
    >>> round(float(out["stderr"][0]), 4)  # 1e-3 ppm-1 x 0.01 ppm x sqrt(1001 points)
    0.0003
    """
    x = np.asarray(x, float)
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise FitError("complex data (an FID, or an unphased spectrum?) must be processed to a real "
                       "spectrum before integration")
    y = y.astype(float)
    named = _ranges(ranges)
    widths = _point_widths(x)
    lows, highs, masks = [], [], []
    for name, (low, high) in named.items():
        inside = (x >= low) & (x <= high)
        if inside.sum() < 2:
            raise ConfigError(f"range {name!r} [{low}, {high}] ppm holds {int(inside.sum())} points of "
                              f"the axis ({x.min():g} to {x.max():g} ppm)", key="ranges")
        if low < x.min() or high > x.max():
            warnings.warn(f"range {name!r} [{low}, {high}] ppm reaches past the axis ({x.min():g} to "
                          f"{x.max():g} ppm): its integral is cut", PhysicsWarning, stacklevel=3)
        lows.append(low)
        highs.append(high)
        masks.append(inside)
    weights = np.stack([np.where(m, widths, 0.0) for m in masks])  # (k, n)
    rms = estimate_noise(x, y, regions=noise_regions, exclude=list(named.values()))
    integral = y @ weights.T
    stderr = rms[..., None] * np.sqrt((weights**2).sum(axis=1))
    return {"names": np.array(list(named)), "integral": integral, "stderr": stderr, "noise_rms": rms,
            "n_points": np.array([int(m.sum()) for m in masks]), "low": np.array(lows),
            "high": np.array(highs)}


def integrate(
    spectrum: Spectrum,
    ranges: Mapping[str, Sequence[float]],
    *,
    noise_regions: Sequence[Sequence[float]] | None = None,
) -> FitTable:
    """Integrate named ppm ranges of a spectrum or of every spectrum of a series.

    Parameters
    ----------
    spectrum : Spectrum
        Processed NMR spectrum (axis ``chemical_shift`` in ppm, real data), any leading
        dimensions (a pseudo-2D series, a CSI profile …).
    ranges : mapping of str to (low, high), ppm
        Named ranges, e.g. ``{"li2s": (3.5, 1.8), "argyrodite": (1.8, 0.0)}``.
    noise_regions : sequence of (low, high), ppm, optional
        Signal-free regions for the noise RMS (default: found automatically).

    Returns
    -------
    FitTable
        Rows ``integral`` (unit ``<signal unit>·ppm``) and ``fraction`` (of the sum of all
        ranges, unit ``1``; see :func:`relative_integrals`) per spectrum × range, each with its
        ``stderr``. See the module documentation for the formulas and the extra columns.

    Raises
    ------
    FitError
        For complex data that were never phased (an FID, or an unphased spectrum; a spectrum
        phased by :mod:`specssb.fitting.nmr` has its real part integrated), or an axis that is
        not a chemical shift.
    ConfigError
        For an empty or malformed range.

    Examples
    --------
    >>> from specssb import Axis
    >>> x = np.linspace(10, -10, 2001)
    >>> s = Spectrum(Axis("chemical_shift", "ppm", x), np.exp(-x**2 / 2), technique="nmr",
    ...              signal="intensity")
    >>> table = integrate(s, {"peak": (-5, 5)}, noise_regions=[(6, 10)])
    >>> table.values("integral").round(3)["peak"].tolist()
    [2.507]
    """
    if spectrum.axis.name != "chemical_shift":
        raise FitError(f"integrate() needs a chemical_shift axis in ppm, not {spectrum.axis.name!r}; "
                       "process the FID to a spectrum first")
    data = spectrum.data
    if np.iscomplexobj(data) and any(step.operation in PHASED for step in spectrum.history):
        data = data.real  # a phased spectrum: its real part is the absorption spectrum
    result = integrate_arrays(spectrum.axis.values, data, ranges, noise_regions=noise_regions)
    m, k = spectrum.n_spectra, result["names"].size
    indices = list(np.ndindex(*spectrum.leading_shape)) if spectrum.leading_shape else [()]
    unit = f"{spectrum.signal_unit}·ppm"
    frame = pd.DataFrame({
        "spectrum": np.repeat(np.arange(m), k),
        "source": spectrum.source.path if spectrum.source is not None else "<memory>",
        "block": "" if spectrum.source is None or spectrum.source.block is None else str(spectrum.source.block),
        "index": np.repeat([",".join(map(str, i)) for i in indices], k),
        "species": np.tile(result["names"], m),
        "quantity": "integral",
        "value": result["integral"].reshape(m * k),
        "stderr": result["stderr"].reshape(m * k),
        "unit": unit,
        "converged": True,
        "redchi": np.nan,
        "recipe": "",
        "engine": ENGINE,
        "low_ppm": np.tile(result["low"], m),
        "high_ppm": np.tile(result["high"], m),
        "n_points": np.tile(result["n_points"], m),
        "noise_rms": np.repeat(result["noise_rms"].reshape(m), k),
    })
    for name, coord in spectrum.coords.items():
        values = np.asarray(coord.values)
        if values.dtype.kind not in "iuf" or name in frame.columns:
            continue
        axis = spectrum.dims.index(coord.dim)
        per_spectrum = np.broadcast_to(
            values.reshape([-1 if d == axis else 1 for d in range(len(spectrum.dims))]),
            spectrum.leading_shape).reshape(m)
        frame[name] = np.repeat(per_spectrum, k)
    integrals = FitTable.from_frame(frame)
    fractions = relative_integrals(integrals)
    return FitTable.from_frame(pd.concat([frame, fractions.frame], ignore_index=True)
                               .sort_values(["spectrum"], kind="stable"))


def relative_integrals(table: FitTable, *, reference: str | None = None) -> FitTable:
    """Fractions (or ratios to a reference range) of the integrals of each spectrum.

    Parameters
    ----------
    table : FitTable
        A table with ``integral`` rows (from :func:`integrate`), ranges not overlapping.
    reference : str, optional
        A range name: ratios :math:`I_k / I_\\mathrm{ref}` (quantity ``ratio``). Default: fractions
        of the sum of every range (quantity ``fraction``).

    Returns
    -------
    FitTable
        The same row layout (and extra columns) as the ``integral`` rows, unit ``1``, with
        errors propagated as in the module documentation.

    Raises
    ------
    ConfigError
        For an unknown reference, or overlapping ranges (their integrals are not independent).
    """
    rows = table.frame[table.frame["quantity"] == "integral"]
    if rows.empty:
        raise ConfigError("the table holds no 'integral' rows", key="quantity")
    names = list(dict.fromkeys(rows["species"]))
    if reference is not None and reference not in names:
        raise ConfigError(f"unknown reference range {reference!r}; the table has {names}", key="reference")
    if {"low_ppm", "high_ppm"} <= set(rows.columns):
        spans = sorted(rows.drop_duplicates("species")[["low_ppm", "high_ppm", "species"]].itertuples(index=False))
        for (low_a, high_a, a), (low_b, _, b) in zip(spans, spans[1:]):
            if low_b < high_a:
                raise ConfigError(f"ranges {a!r} and {b!r} overlap: their integrals are not independent",
                                  key="ranges")
    value = rows.pivot(index="spectrum", columns="species", values="value")[names].to_numpy()
    error = rows.pivot(index="spectrum", columns="species", values="stderr")[names].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        if reference is None:
            total = value.sum(axis=1, keepdims=True)
            ratio = value / total
            others = (error**2).sum(axis=1, keepdims=True) - error**2
            ratio_err = np.sqrt((total - value) ** 2 * error**2 + value**2 * others) / total**2
            quantity = "fraction"
        else:
            j = names.index(reference)
            ratio = value / value[:, [j]]
            ratio_err = np.abs(ratio) * np.sqrt((error / value) ** 2 + (error[:, [j]] / value[:, [j]]) ** 2)
            ratio_err[:, j] = 0.0
            quantity = "ratio"
    order = {name: i for i, name in enumerate(names)}
    spectra = {s: i for i, s in enumerate(sorted(rows["spectrum"].unique()))}
    rows_i = rows["spectrum"].map(spectra).to_numpy()
    cols_i = rows["species"].map(order).to_numpy()
    out = rows.copy()
    out["quantity"] = quantity
    out["value"] = ratio[rows_i, cols_i]
    out["stderr"] = ratio_err[rows_i, cols_i]
    out["unit"] = "1"
    return FitTable.from_frame(out[[*COLUMNS, *[c for c in rows.columns if c not in COLUMNS]]])
