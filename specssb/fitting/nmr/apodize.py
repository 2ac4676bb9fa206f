"""Apodization (window functions) of FIDs, with TopSpin's definitions and parameter names.

Each window is evaluated at the true time of every point: after
:func:`~specssb.fitting.nmr.timedomain.remove_digital_filter` the first points have negative
times (TopSpin's exponential also starts at the group delay, which is what makes the absolute
intensity of ``1r`` come out right), and after
:func:`~specssb.fitting.nmr.echo.whole_echo` the window is symmetric about the echo top (the
time is the distance from the top). ``AQ`` below is the time of the last acquired point
(zeros added by zero filling are not counted).

=========  ==========================================================  ======================
TopSpin    window w(t)                                                  function
=========  ==========================================================  ======================
EM         ``exp(-pi * LB * t)``                                        :func:`exponential`
GM         ``exp(-a t - b t**2)``, ``a = pi*LB``, ``b = -a/(2*GB*AQ)``   :func:`gaussian`
SINE       ``sin(pi/SSB + (pi - pi/SSB) * t/AQ)`` (SSB < 1: SSB = 1)    :func:`sine_bell`
QSINE      the square of SINE                                           ``sine_bell(squared)``
=========  ==========================================================  ======================

References
----------
Bruker BioSpin, "TopSpin Processing Commands and Parameters": em, gm, sinm, qsin; parameters
LB, GB, SSB. nmrglue ``proc_base.em``, ``gm``, ``sp`` (used as the oracle in the tests; they
count time in points from the first stored point).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from specssb.errors import ConfigError
from specssb.spectrum import Spectrum, owned

from ._common import (
    dwell_time,
    echo_times,
    real_number,
    require_time,
    whole_echo_state,
)

__all__ = ["exponential", "gaussian", "sine_bell"]


def _times(spectrum: Spectrum, operation: str) -> tuple[np.ndarray, float, float]:
    """(time of each point from t = 0 or the echo top, acquisition time AQ, dwell), seconds."""
    dwell = dwell_time(spectrum, operation)
    t = echo_times(spectrum, dwell)
    acquired = spectrum.axis.size
    for step in reversed(spectrum.history):
        if step.operation == "nmr_zero_fill":
            acquired = int(step.parameters["from"])
            break
    echo = whole_echo_state(spectrum)
    if echo is not None:
        after = int(echo["points_after_top"])
        aq = max(after, acquired - after - 1) * dwell
        return np.abs(t), aq, dwell
    return t, float(spectrum.axis.values[acquired - 1]), dwell


def _apply(spectrum: Spectrum, window: np.ndarray, operation: str,
           parameters: dict[str, Any]) -> Spectrum:
    return spectrum.with_step(operation, parameters, data=owned(spectrum.data * window))


def exponential(spectrum: Spectrum, lb_hz: float) -> Spectrum:
    """Exponential line broadening (TopSpin ``em``): multiply by ``exp(-pi * LB * t)``.

    Parameters
    ----------
    spectrum : Spectrum
        FID of shape ``(*leading, n)``.
    lb_hz : float
        Line broadening LB (Hz): the Lorentzian FWHM it adds. Negative values narrow lines.

    Returns
    -------
    Spectrum
        The apodized FID.

    Raises
    ------
    FitError
        Frequency-domain or NaN input.
    ConfigError
        A non-numeric ``lb_hz``.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> fid = Spectrum(axis=Axis("time", "s", [0.0, 1.0]), data=np.ones(2, complex),
    ...                technique="nmr", signal="fid")
    >>> round(float(exponential(fid, 1.0).data[1].real), 6)
    0.043214
    """
    operation = "nmr_exponential"
    spectrum = require_time(spectrum, operation)
    lb_hz = real_number(lb_hz, "lb_hz")
    t, _, _ = _times(spectrum, operation)
    return _apply(spectrum, np.exp(-np.pi * lb_hz * t), operation, {"lb_hz": lb_hz})


def gaussian(spectrum: Spectrum, lb_hz: float, gb: float) -> Spectrum:
    """Lorentz-to-Gauss resolution enhancement (TopSpin ``gm``).

    ``w(t) = exp(-a t - b t**2)`` with ``a = pi * LB`` and ``b = -a / (2 * GB * AQ)``: with a
    negative LB the window rises from 1 at t = 0 to its maximum at ``t = GB * AQ``.

    Parameters
    ----------
    spectrum : Spectrum
        FID.
    lb_hz : float
        LB (Hz), negative (the Lorentzian width removed).
    gb : float
        GB, position of the window maximum as a fraction of the acquisition time, 0 < GB < 1.

    Returns
    -------
    Spectrum
        The apodized FID.

    Raises
    ------
    FitError
        Frequency-domain or NaN input.
    ConfigError
        LB >= 0 or GB outside (0, 1).
    """
    operation = "nmr_gaussian"
    spectrum = require_time(spectrum, operation)
    lb_hz = real_number(lb_hz, "lb_hz")
    gb = real_number(gb, "gb")
    if lb_hz >= 0:
        raise ConfigError(f"gaussian (TopSpin gm) needs a negative LB, got {lb_hz:g} Hz",
                          key="lb_hz")
    if not 0 < gb < 1:
        raise ConfigError(f"GB must lie in (0, 1), got {gb:g}", key="gb")
    t, aq, _ = _times(spectrum, operation)
    a = np.pi * lb_hz
    b = -a / (2.0 * gb * aq)
    return _apply(spectrum, np.exp(-a * t - b * t * t), operation,
                  {"lb_hz": lb_hz, "gb": gb, "aq_s": aq})


def sine_bell(spectrum: Spectrum, ssb: float = 2.0, *, squared: bool = False) -> Spectrum:
    """Sine-bell window (TopSpin ``sinm``; ``qsin`` with ``squared=True``).

    ``w(t) = sin(pi/SSB + (pi - pi/SSB) * t / AQ)``, raised to the power 2 for QSINE. SSB = 2
    is a cosine (maximum at t = 0), SSB = 1 (and, as in TopSpin, SSB < 1) a pure sine starting
    at zero; larger SSB start closer to zero. Points before t = 0 (the digital filter's
    group delay) get the window's value at t = 0.

    Parameters
    ----------
    spectrum : Spectrum
        FID.
    ssb : float, default 2
        TopSpin SSB (>= 0).
    squared : bool, default False
        Square the window (QSINE).

    Returns
    -------
    Spectrum
        The apodized FID; the last acquired point gets ``sin(pi) = 0``.

    Raises
    ------
    FitError
        Frequency-domain or NaN input.
    ConfigError
        Negative SSB.
    """
    operation = "nmr_sine_bell"
    spectrum = require_time(spectrum, operation)
    ssb = real_number(ssb, "ssb", minimum=0.0)
    t, aq, _ = _times(spectrum, operation)
    start = np.pi / max(ssb, 1.0)
    fraction = np.clip(t / aq, 0.0, None)
    window = np.sin(start + (np.pi - start) * fraction)
    window = np.where(fraction > 1.0, 0.0, window)
    if squared:
        window = window * window
    return _apply(spectrum, window, operation, {"ssb": ssb, "squared": squared, "aq_s": aq})
