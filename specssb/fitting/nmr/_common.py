"""Shared checks and small helpers of the NMR processing steps (private).

Every step of the chain takes a :class:`~specssb.spectrum.Spectrum` whose last axis is either
``time`` (s, an FID) or ``chemical_shift``/``frequency`` (a spectrum), checks it here, and
returns a new Spectrum with one history Step. Data of any leading shape ``(*leading, n)``
(pseudo-2D series, 2D ``ser``, CSI rows) are processed in one vectorized call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Spectrum

#: Axis names of a spectrum (frequency domain).
FREQUENCY_AXES = ("chemical_shift", "frequency")

#: History operation that leaves a whole echo rotated to its top (see :mod:`.echo`).
WHOLE_ECHO = "nmr_whole_echo"


def require_nmr(spectrum: Any, operation: str) -> Spectrum:
    """Return ``spectrum`` if it is an NMR Spectrum with finite data, else raise FitError."""
    if not isinstance(spectrum, Spectrum):
        raise FitError(f"{operation}: expected a Spectrum, got {type(spectrum).__name__}")
    if spectrum.technique != "nmr":
        raise FitError(f"{operation}: expected an NMR spectrum, got technique "
                       f"{spectrum.technique!r}")
    if np.isfinite(spectrum.data.sum()):  # one cheap pass: a NaN or inf makes the sum one
        return spectrum
    bad = ~np.isfinite(spectrum.data)
    if bad.any():
        index = np.unravel_index(int(np.flatnonzero(bad)[0]), spectrum.data.shape)
        raise FitError(f"{operation}: {int(bad.sum())} non-finite values (NaN or inf) in the "
                       f"data, first at index {tuple(int(i) for i in index)}")
    return spectrum


def require_time(spectrum: Any, operation: str) -> Spectrum:
    """An FID (``time`` axis, complex data, uniform dwell), else FitError."""
    spectrum = require_nmr(spectrum, operation)
    if spectrum.axis.name != "time":
        raise FitError(f"{operation} works on an FID (time axis); this spectrum is already in "
                       f"the frequency domain (axis {spectrum.axis.name!r})")
    if not np.iscomplexobj(spectrum.data):
        raise FitError(f"{operation}: the FID must be complex (quadrature) data, found "
                       f"{spectrum.data.dtype}")
    return spectrum


def require_frequency(spectrum: Any, operation: str) -> Spectrum:
    """A spectrum (``chemical_shift`` or ``frequency`` axis), else FitError."""
    spectrum = require_nmr(spectrum, operation)
    if spectrum.axis.name not in FREQUENCY_AXES:
        raise FitError(f"{operation} works on a spectrum (chemical_shift or frequency axis); "
                       f"this one has axis {spectrum.axis.name!r}: run fft first")
    return spectrum


def dwell_time(spectrum: Spectrum, operation: str) -> float:
    """Dwell time (s) of an FID from its time axis; FitError if it is not uniform."""
    t = spectrum.axis.values
    if t.size < 2:
        raise FitError(f"{operation}: an FID needs at least 2 points, found {t.size}")
    steps = np.diff(t)
    dwell = float(steps[0])
    if dwell <= 0 or not np.allclose(steps, dwell, rtol=1e-6, atol=0):
        raise FitError(f"{operation}: the time axis is not uniformly increasing")
    return dwell


def whole_echo_state(spectrum: Spectrum) -> Mapping[str, Any] | None:
    """Parameters of a whole-echo rotation still in force (no FFT since), else None."""
    for step in reversed(spectrum.history):
        if step.operation == "nmr_fft":
            return None
        if step.operation == WHOLE_ECHO:
            return step.parameters
    return None


def echo_times(spectrum: Spectrum, dwell: float) -> np.ndarray:
    """Time of each point from t = 0 (s): the axis, or for a whole echo the signed distance
    from the echo top (points after the rotation's wrap are negative times)."""
    state = whole_echo_state(spectrum)
    if state is None:
        return spectrum.axis.values
    n = spectrum.axis.size
    half = int(state["points_after_top"])
    index = np.arange(n, dtype=np.float64)
    return np.where(index <= half, index, index - n) * dwell


def real_number(value: Any, name: str, *, minimum: float | None = None,
                maximum: float | None = None) -> float:
    """``value`` as a finite float within bounds, else ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number, got {value!r}", key=name)
    number = float(value)
    if not np.isfinite(number):
        raise ConfigError(f"{name} must be finite, got {value!r}", key=name)
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be >= {minimum:g}, got {number:g}", key=name)
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name} must be <= {maximum:g}, got {number:g}", key=name)
    return number


def whole_number(value: Any, name: str, *, minimum: int = 0) -> int:
    """``value`` as an int >= minimum, else ConfigError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{name} must be an integer, got {value!r}", key=name)
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}", key=name)
    return int(value)
