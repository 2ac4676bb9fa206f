"""RamanSPy interoperability: send a Spectrum to RamanSPy, apply its steps, come back.

:func:`to_ramanspy` and :func:`from_ramanspy` are the conversions behind
:meth:`Spectrum.to_ramanspy <specssb.spectrum.Spectrum.to_ramanspy>` and
:meth:`Spectrum.from_ramanspy <specssb.spectrum.Spectrum.from_ramanspy>` (one implementation,
in :mod:`specssb._interop`); the ``template`` restores what RamanSPy does not keep (axis name
and unit, dims, µm coordinates, metadata, measured axis order). :func:`apply_ramanspy` applies
a RamanSPy preprocessing step or pipeline to a Spectrum and returns a Spectrum with one history
step per RamanSPy step, working around the defects of RamanSPy 0.2.10 on numpy 2.4 / scipy
1.17 / matplotlib 3.11 (project notes ``notes/raman.md`` §3):

==============================  =====================================================  ==========================================
RamanSPy 0.2.10                 defect                                                 here
==============================  =====================================================  ==========================================
``denoise.Gaussian`` on a map   scipy ``gaussian_filter`` over *all* axes: blurs       filtered along the spectral axis only
                                across pixels (silently wrong)                         (``sigma = 0`` on the map axes)
``normalise.AUC``               ``np.trapz`` (removed in numpy 2.4): AttributeError    computed with ``np.trapezoid`` (same
                                                                                       formula, both ``pixelwise`` modes)
``protocols.georgiev2023_P1``   holds both of the above                                pipelines run step by step through here
``despike.WhitakerHayes``       MAD of the differences = 0 (flat or low-count,         those spectra use the mean absolute
                                integer-valued data): division by zero, every          deviation (× 0.8453, its normal-consistent
                                non-zero difference flagged, many points altered       ratio to the MAD) as the scale
``baseline.FABC``               passes ``x_data`` twice: TypeError                     ConfigError naming the defect and the
                                                                                       alternatives
``unmix.NFINDR/PPI/FIPPI``      pysptools on scipy ≥ 1.13 / wrong call signature       ConfigError: use
                                                                                       :mod:`specssb.fitting.raman.decompose`
``load.renishaw``               nm axes returned as cm-1 (silently wrong)              ``from_ramanspy(..., template=...)``
                                                                                       keeps the template's axis name
``load.labspec`` on WITec text  NaN axis, no error                                     ``from_ramanspy`` refuses a non-finite axis
axis-alignment checks           ``ValueError`` built but not raised                    ``from_ramanspy`` checks axis and data
``plot.*``                      ``matplotlib.cm.get_cmap`` removed                     not wrapped: plot with specssb/matplotlib
==============================  =====================================================  ==========================================

Every other RamanSPy preprocessing step (SavGol, Whittaker, ASLS and the other pybaselines
correctors, MinMax, Vector, Cropper …) runs unchanged. A step that leaves NaN or infinite
values where the input was finite (e.g. an area normalization of an all-zero pixel) is refused
with a :class:`~specssb.errors.ConfigError` naming the step.

Examples
--------
>>> import numpy as np
>>> from specssb.spectrum import Axis, Spectrum
>>> import ramanspy
>>> x = np.linspace(200.0, 800.0, 601)
>>> s = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=1 + np.exp(-((x - 425) / 5) ** 2),
...              technique="raman", signal="counts")
>>> out = apply_ramanspy(s, ramanspy.preprocessing.normalise.AUC())
>>> round(float(np.trapezoid(out.data, x)), 6)
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

from specssb import _interop
from specssb.errors import ConfigError
from specssb.spectrum import Spectrum

__all__ = ["apply_ramanspy", "from_ramanspy", "to_ramanspy"]

#: Normal-consistent ratio MAD / mean absolute deviation (0.6745 / 0.7979).
_MEAN_AD_TO_MAD = 0.8453


def to_ramanspy(spectrum: Spectrum) -> Any:
    """A RamanSPy container of the spectrum (``Spectrum``, ``SpectralImage`` for 3-D data,
    ``SpectralContainer`` otherwise).

    Raises
    ------
    ValueError
        For an axis other than Raman shift (RamanSPy assumes cm-1).
    """
    return _interop.to_ramanspy(spectrum)


def from_ramanspy(container: Any, *, template: Spectrum | None = None) -> Spectrum:
    """A Spectrum from a RamanSPy container (see :func:`specssb._interop.from_ramanspy`).

    Raises
    ------
    ValueError
        A non-finite axis, an axis whose length differs from the data, or data whose leading
        shape differs from the template's.
    """
    return _interop.from_ramanspy(container, template=template)


def apply_ramanspy(spectrum: Spectrum, step: Any) -> Spectrum:
    """Apply a RamanSPy preprocessing step, pipeline or list of steps to a Spectrum.

    Parameters
    ----------
    spectrum : Spectrum
        On a Raman-shift axis; any leading shape (a map keeps its dims and coordinates).
    step : ramanspy.preprocessing.PreprocessingStep, Pipeline or sequence of them
        Run in order; each through the workarounds in the module docstring.

    Returns
    -------
    Spectrum
        With one ``ramanspy`` history step per RamanSPy step (its class, keyword arguments and
        the workaround used, if any; RamanSPy's version in ``versions``).

    Raises
    ------
    ConfigError
        A step with a known RamanSPy 0.2.10 defect that cannot be worked around (FABC,
        NFINDR/PPI/FIPPI), an analysis step, an object that is not a RamanSPy step, or a step
        that produced NaN/infinite values from finite data.
    ValueError
        A spectrum not on a Raman-shift axis.
    """
    from ramanspy.preprocessing import Pipeline

    if isinstance(step, Pipeline):
        steps: Sequence[Any] = list(step.pipeline)
    elif isinstance(step, (list, tuple)):
        steps = list(step)
    else:
        steps = [step]
    for one in steps:
        if isinstance(one, Pipeline):
            spectrum = apply_ramanspy(spectrum, one)
        else:
            spectrum = _apply_one(spectrum, one)
    return spectrum


def _version() -> str:
    try:
        return metadata.version("ramanspy")
    except metadata.PackageNotFoundError:  # pragma: no cover - ramanspy is a core dependency
        return "unknown"


def _plain_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (bool, int, float, str, type(None))) else repr(v))
            for k, v in kwargs.items()}


def _apply_one(spectrum: Spectrum, step: Any) -> Spectrum:
    from ramanspy.analysis.Step import AnalysisStep
    from ramanspy.preprocessing import PreprocessingStep, baseline, denoise, despike, normalise

    name = type(step).__name__
    if isinstance(step, AnalysisStep):
        if name in ("NFINDR", "PPI", "FIPPI"):
            reason = ("pysptools calls scipy.linalg._flinalg, gone since scipy 1.13" if name == "NFINDR"
                      else "the wrapper passes (n, B) where pysptools wants (x, y, B)")
            raise ConfigError(f"RamanSPy 0.2.10 unmix.{name} fails ({reason}); use "
                              "specssb.fitting.raman.decompose.nmf, or unmix.VCA through "
                              "to_ramanspy()", key="step")
        raise ConfigError(f"RamanSPy {name} is an analysis step, not a preprocessing step: run it on "
                          "to_ramanspy(spectrum) directly, or use specssb.fitting.raman.decompose",
                          key="step")
    if not isinstance(step, PreprocessingStep):
        raise ConfigError(f"{type(step).__name__} is not a RamanSPy preprocessing step", key="step")
    if isinstance(step, baseline.FABC):
        raise ConfigError("RamanSPy 0.2.10 baseline.FABC passes x_data twice to "
                          "np.apply_along_axis (TypeError on any data); use a background from "
                          "specssb.fitting.backgrounds (asls, arpls, airpls, snip …) or "
                          "pybaselines' Baseline(x).fabc directly", key="step")
    kwargs = dict(step.kwargs)
    x = spectrum.axis.values
    workaround = None
    if isinstance(step, denoise.Gaussian):
        data, workaround = _gaussian_spectral_only(spectrum, kwargs)
    elif isinstance(step, normalise.AUC):
        data, workaround = _auc(spectrum, kwargs["pixelwise"]), "np.trapezoid (np.trapz removed in numpy 2.4)"
    elif isinstance(step, despike.WhitakerHayes):
        data, workaround = _whitaker_hayes(spectrum, step, kwargs)
    else:
        container = step.apply(to_ramanspy(spectrum))
        back = from_ramanspy(container, template=spectrum)
        data, x = back.data, back.axis.values
    before = np.isfinite(spectrum.data)
    after = np.isfinite(data)
    if data.shape == spectrum.data.shape and np.any(before & ~after):
        bad = int(np.any(before & ~after, axis=-1).sum())
        raise ConfigError(f"RamanSPy {name} turned finite data into NaN or infinity in {bad} "
                          "spectra (a zero area or range?)", key="step")
    parameters = {"step": name, "kwargs": _plain_kwargs(kwargs)}
    if workaround:
        parameters["workaround"] = workaround
    axis = spectrum.axis if np.array_equal(x, spectrum.axis.values) else \
        type(spectrum.axis)(spectrum.axis.name, spectrum.axis.unit, x)
    return spectrum.with_step("ramanspy", parameters, versions={"ramanspy": _version()},
                              data=data, axis=axis)


def _gaussian_spectral_only(spectrum: Spectrum, kwargs: dict[str, Any]) -> tuple[np.ndarray, str | None]:
    """RamanSPy's Gaussian filter, with sigma 0 on every leading (map) axis."""
    from scipy.ndimage import gaussian_filter

    options = {k: v for k, v in kwargs.items() if k != "sigma"}
    order = np.argsort(spectrum.axis.values)  # RamanSPy filters on its sorted axis
    data = np.asarray(spectrum.data, float)[..., order]
    sigma = [0.0] * (data.ndim - 1) + [float(kwargs["sigma"])]
    filtered = gaussian_filter(data, sigma=sigma, **options)
    restored = np.empty_like(filtered)
    restored[..., order] = filtered
    note = "sigma 0 on the map axes (RamanSPy blurs across pixels)" if data.ndim > 1 else None
    return restored, note


def _auc(spectrum: Spectrum, pixelwise: bool) -> np.ndarray:
    """RamanSPy's AUC normalization on the increasing axis, with ``np.trapezoid``."""
    order = np.argsort(spectrum.axis.values)
    data = np.asarray(spectrum.data, float)
    areas = np.trapezoid(data[..., order], spectrum.axis.values[order], axis=-1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return data / areas if pixelwise else data / np.nanmax(areas)


def _whitaker_hayes(spectrum: Spectrum, step: Any, kwargs: dict[str, Any]) -> tuple[np.ndarray, str | None]:
    """RamanSPy's Whitaker–Hayes on spectra whose difference MAD is > 0; the others with the
    mean absolute deviation as the scale."""
    rows = np.array(spectrum.data, float).reshape(-1, spectrum.axis.size)
    order = np.argsort(spectrum.axis.values)
    differences = np.diff(rows[:, order], axis=1)
    mad = np.median(np.abs(differences - np.median(differences, axis=1, keepdims=True)), axis=1)
    regular = mad > 0
    out = rows.copy()
    if regular.any():
        part = spectrum.replace(data=rows[regular], dims=("pixel",), coords={})
        out[regular] = from_ramanspy(step.apply(to_ramanspy(part)), template=part).data
    flat = np.flatnonzero(~regular & np.isfinite(rows).all(axis=1))
    for i in flat:
        out[i, order] = _whitaker_hayes_row(rows[i, order], int(kwargs["kernel_size"]),
                                            float(kwargs["threshold"]))
    note = None
    if flat.size:
        note = f"{flat.size} spectra with zero MAD of differences used the mean absolute deviation"
    return out.reshape(spectrum.shape), note


def _whitaker_hayes_row(y: np.ndarray, kernel_size: int, threshold: float) -> np.ndarray:
    """Whitaker & Hayes (2018) on one spectrum, scale = 0.8453 × mean absolute deviation of the
    differences (the usual fallback of the modified z-score when the MAD is zero)."""
    d = np.diff(y)
    deviation = np.abs(d - np.median(d))
    scale = _MEAN_AD_TO_MAD * deviation.mean()
    if scale == 0:
        return y.copy()
    spikes = 0.6745 * deviation / scale > threshold
    spikes = np.append(spikes, False)  # RamanSPy's indexing: difference i flags point i
    fixed = y.copy()
    for i in np.flatnonzero(spikes):
        neighbours = np.arange(max(0, i - kernel_size), min(y.size - 1, i + 1 + kernel_size))
        good = neighbours[~spikes[neighbours]]
        if good.size:
            fixed[i] = fixed[good].mean()
    return fixed
