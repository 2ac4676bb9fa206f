"""Echo processing for solid-state NMR: shift to the echo top, whole-echo processing.

A Hahn or solid echo acquired with pre-echo points has its top ``k`` points after the start.

- :func:`shift_to_echo_top` drops the points before the top (a left shift, TopSpin ``ls``),
  so the FID starts at the echo maximum, t = 0.
- :func:`whole_echo` keeps both halves: the ``M`` points either side of the top (``M`` the
  shorter half) are rotated so the top is the first point and the pre-top half sits at the
  end (negative times, periodic). Windows applied afterwards are symmetric about the top
  (:mod:`.apodize` evaluates them at ``|t|``), zero filling inserts the zeros between the two
  halves, and the Fourier transform of such a symmetric echo is in pure absorption with no
  first-order phase, at twice the signal-to-noise of half an echo for the same noise per point
  (ssNake's "whole echo" processing; van Meerten et al., J. Magn. Reson. 301 (2019) 56).

The echo top is the point of largest magnitude of the summed leading rows, unless given.
"""

from __future__ import annotations

import numpy as np

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Axis, Spectrum

from ._common import WHOLE_ECHO, dwell_time, require_time, whole_echo_state, whole_number

__all__ = ["echo_top", "shift_to_echo_top", "whole_echo"]


def echo_top(spectrum: Spectrum) -> int:
    """Index of the echo top: the largest ``|FID|`` summed over leading rows.

    Parameters
    ----------
    spectrum : Spectrum
        FID.

    Returns
    -------
    int
        Point index.
    """
    spectrum = require_time(spectrum, "echo_top")
    envelope = np.abs(spectrum.data.reshape(-1, spectrum.axis.size)).sum(axis=0)
    return int(np.argmax(envelope))


def _top(spectrum: Spectrum, top: int | None, operation: str) -> int:
    if whole_echo_state(spectrum) is not None:
        raise FitError(f"{operation}: the FID is already a whole echo")
    index = echo_top(spectrum) if top is None else whole_number(top, "top")
    if index >= spectrum.axis.size - 1:
        raise ConfigError(f"echo top at point {index} leaves no points after it", key="top")
    return index


def shift_to_echo_top(spectrum: Spectrum, top: int | None = None) -> Spectrum:
    """Drop the points before the echo top (left shift); the top becomes t = 0.

    Parameters
    ----------
    spectrum : Spectrum
        FID of shape ``(*leading, n)``.
    top : int, optional
        Index of the echo top; default :func:`echo_top`.

    Returns
    -------
    Spectrum
        FID of ``n - top`` points on a time axis starting at 0.

    Raises
    ------
    FitError
        Frequency-domain, NaN or whole-echo input.
    ConfigError
        A top index at or beyond the last point.
    """
    operation = "nmr_shift_to_echo_top"
    spectrum = require_time(spectrum, operation)
    index = _top(spectrum, top, operation)
    dwell = dwell_time(spectrum, operation)
    kept = spectrum.axis.size - index
    return spectrum.with_step(operation, {"top": index, "dropped_points": index},
                              axis=Axis("time", "s", np.arange(kept) * dwell),
                              data=spectrum.data[..., index:])


def whole_echo(spectrum: Spectrum, top: int | None = None) -> Spectrum:
    """Rotate a whole echo so its top is the first point and both halves are kept symmetric.

    Parameters
    ----------
    spectrum : Spectrum
        FID with pre-echo points, shape ``(*leading, n)``.
    top : int, optional
        Index of the echo top; default :func:`echo_top`.

    Returns
    -------
    Spectrum
        ``2M + 1`` points, ``M = min(top, n - 1 - top)``: the top, ``M`` points after it, then
        the ``M`` points before it (times ``-M … -1`` dwell, stored periodically). The Step
        records ``top`` and ``points_after_top = M``; later windows, zero filling and the FFT
        read it.

    Raises
    ------
    FitError
        Frequency-domain, NaN or already-rotated input; an echo top at the first point.
    ConfigError
        A top index at or beyond the last point.
    """
    operation = WHOLE_ECHO
    spectrum = require_time(spectrum, operation)
    index = _top(spectrum, top, operation)
    half = min(index, spectrum.axis.size - 1 - index)
    if half == 0:
        raise FitError(f"{operation}: the echo top is the first point (no pre-echo points); "
                       "use the FID as it is or shift_to_echo_top")
    dwell = dwell_time(spectrum, operation)
    segment = spectrum.data[..., index - half:index + half + 1]
    rotated = np.roll(segment, -half, axis=-1)
    return spectrum.with_step(operation, {"top": index, "points_after_top": half},
                              axis=Axis("time", "s", np.arange(2 * half + 1) * dwell),
                              data=rotated)
