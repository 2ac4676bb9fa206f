"""Chemical-shift referencing: from the file (TopSpin SF/OFFSET) or to a named reference shift.

TopSpin's scale: ``delta = (nu - SF) / SF * 1e6`` ppm, ``nu`` the absolute frequency of a point
and SF the reference frequency (``SF = BF1 + SR``); the first point is at ``OFFSET`` and the
points are ``SW / (SF * SI)`` ppm apart. Re-referencing keeps every point's absolute frequency
and changes SF only; the data are untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from specssb.errors import FitError
from specssb.spectrum import Axis, Spectrum

from ._common import real_number, require_frequency

__all__ = ["reference_from_file", "reference_to"]


def _absolute_mhz(spectrum: Spectrum, operation: str) -> np.ndarray:
    """Absolute frequency of each point (MHz) from a ppm axis and ``meta["sf_mhz"]``."""
    if spectrum.axis.name != "chemical_shift" or not spectrum.meta.get("sf_mhz"):
        raise FitError(f"{operation} needs a ppm axis with meta['sf_mhz'] (a spectrum from fft "
                       "of an FID with a known observe frequency)")
    sf = float(spectrum.meta["sf_mhz"])
    return sf * (1.0 + spectrum.axis.values * 1e-6)


def _relabel(spectrum: Spectrum, operation: str, ppm: np.ndarray, sf: float,
             parameters: dict[str, Any]) -> Spectrum:
    meta = dict(spectrum.meta)
    meta.update(sf_mhz=sf, offset_ppm=float(ppm[0]))
    bf1 = meta.get("bf1_mhz")
    if bf1:
        parameters["sr_hz"] = (sf - float(bf1)) * 1e6
    parameters["sf_mhz"] = sf
    return spectrum.with_step(operation, parameters, axis=Axis("chemical_shift", "ppm", ppm),
                              meta=meta)


def reference_from_file(spectrum: Spectrum, procs: Mapping[str, Any] | None = None) -> Spectrum:
    """Reference as TopSpin did: ``ppm[i] = OFFSET - i * SW_p / (SF * SI)`` from ``procs``.

    Parameters
    ----------
    spectrum : Spectrum
        Spectrum from :func:`~specssb.fitting.nmr.transform.fft` (ppm axis).
    procs : Mapping, optional
        TopSpin processing parameters (SF, OFFSET, SW_p); default ``raw_meta["procs"]``.

    Returns
    -------
    Spectrum
        Same data; the axis of TopSpin's ``1r``. ``meta`` sf_mhz and offset_ppm updated.

    Raises
    ------
    FitError
        No procs, or a spectrum whose width disagrees with SW_p (by more than 1e-6).
    """
    operation = "nmr_reference_from_file"
    spectrum = require_frequency(spectrum, operation)
    procs = procs if procs is not None else spectrum.raw_meta.get("procs")
    if not isinstance(procs, Mapping) or not all(k in procs for k in ("SF", "OFFSET", "SW_p")):
        raise FitError(f"{operation}: no TopSpin procs (SF, OFFSET, SW_p) to reference from")
    sf, offset, width = (float(procs[k]) for k in ("SF", "OFFSET", "SW_p"))
    absolute = _absolute_mhz(spectrum, operation)
    size = spectrum.axis.size
    own_width = abs(absolute[0] - absolute[-1]) * 1e6 * size / (size - 1)
    if abs(own_width - width) > 1e-6 * width:
        raise FitError(f"{operation}: the spectrum spans {own_width:.6g} Hz but procs SW_p is "
                       f"{width:.6g} Hz")
    ppm = offset - np.arange(size) * (width / sf) / size
    expected = ((absolute[0] - sf) / sf) * 1e6
    return _relabel(spectrum, operation, ppm, sf,
                    {"offset_ppm": offset, "sw_hz": width,
                     "offset_minus_computed_ppm": float(offset - expected)})


def reference_to(spectrum: Spectrum, shift_ppm: float, *, near_ppm: float,
                 window_ppm: float = 1.0) -> Spectrum:
    """Put the top of the peak near ``near_ppm`` at ``shift_ppm`` (e.g. LiCl(aq) at 0 ppm).

    Parameters
    ----------
    spectrum : Spectrum
        Phased spectrum on a ppm axis with ``meta["sf_mhz"]``; for several leading rows the
        peak is found on the sum of their real parts.
    shift_ppm : float
        The reference compound's shift (ppm).
    near_ppm : float
        Where the reference peak is now (ppm).
    window_ppm : float, default 1
        Half-width of the search window around ``near_ppm`` (ppm).

    Returns
    -------
    Spectrum
        Same data; axis and ``meta["sf_mhz"]`` changed so the peak maximum (parabolic
        interpolation over three points) reads ``shift_ppm``. The Step records SF, SR and the
        peak's position before.

    Raises
    ------
    FitError
        No ppm axis or no point in the window.
    ConfigError
        Non-numeric values or a non-positive window.
    """
    operation = "nmr_reference_to"
    spectrum = require_frequency(spectrum, operation)
    shift_ppm = real_number(shift_ppm, "shift_ppm")
    near_ppm = real_number(near_ppm, "near_ppm")
    window_ppm = real_number(window_ppm, "window_ppm", minimum=1e-12)
    absolute = _absolute_mhz(spectrum, operation)
    ppm = spectrum.axis.values
    inside = np.flatnonzero(np.abs(ppm - near_ppm) <= window_ppm)
    if inside.size == 0:
        raise FitError(f"{operation}: no point within {window_ppm:g} ppm of {near_ppm:g} ppm")
    real = spectrum.data.real.reshape(-1, ppm.size).sum(axis=0)
    top = int(inside[np.argmax(real[inside])])
    position = float(top)
    if 0 < top < ppm.size - 1:
        left, mid, right = real[top - 1:top + 2]
        curvature = left - 2 * mid + right
        if curvature < 0:
            position += 0.5 * (left - right) / curvature
    nu = float(np.interp(position, np.arange(ppm.size), absolute))
    sf = nu / (1.0 + shift_ppm * 1e-6)
    new_ppm = (absolute - sf) / sf * 1e6
    peak_before = float(np.interp(position, np.arange(ppm.size), ppm))
    return _relabel(spectrum, operation, new_ppm, sf,
                    {"shift_ppm": shift_ppm, "peak_was_ppm": peak_before, "near_ppm": near_ppm,
                     "window_ppm": window_ppm})

