"""Time-domain steps of the NMR chain: digital-filter removal, DC offset, truncation, zero fill.

All functions take an FID Spectrum (``time`` axis, complex data of shape ``(*leading, n)``) and
return a new one with one history Step; every leading row is treated the same way in one
vectorized call.

Digital filter
--------------
A Bruker digital (oversampling) filter delays the signal by a *group delay* of ``GRPDLY``
points (DSPFVS >= 20), or a value tabulated against DSPFVS and DECIM for older data (XWIN-NMR,
DSPFVS 10-13: the table nmrglue ships as ``bruker.bruker_dsp_table``; the reader puts the value
in ``meta["digital_filter"]``). :func:`remove_digital_filter` does not cut or rotate the data:
it moves the time origin, so the FID's points sit at ``t_k = (k - GRPDLY) * dwell``. Windows
are then evaluated at the true time of each point and :func:`~specssb.fitting.nmr.transform.fft`
removes the delay exactly as the first-order phase ``360 * GRPDLY * i / SI`` degrees (zero at
the first, left-most point), which is how TopSpin does it: with this, ``1r`` from TopSpin is
reproduced to correlation 1.000000 on the XWIN-NMR and TopSpin 3 test sets, intensity included
(TopSpin's exponential window also starts at the group delay). nmrglue's
``remove_digital_filter`` instead rounds GRPDLY down (67.97 -> 67) and moves a few points.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Axis, Spectrum, owned

from ._common import dwell_time, real_number, require_time, whole_echo_state, whole_number

__all__ = ["dc_offset", "group_delay", "remove_digital_filter", "truncate", "zero_fill"]

#: DC-offset modes: TopSpin BC_mod "single" (one constant for real and imaginary parts, the
#: mean of both) and "quad" (real and imaginary parts corrected separately).
DC_MODES = ("quad", "single")


def group_delay(spectrum: Spectrum) -> float:
    """The digital-filter group delay in points, from the reader's ``meta["digital_filter"]``.

    Parameters
    ----------
    spectrum : Spectrum
        A Bruker FID as :func:`specssb.read` returns it.

    Returns
    -------
    float
        GRPDLY (points); 0.0 when the data carry no digital filter (other vendors, DIGMOD 0).

    Raises
    ------
    FitError
        When the data have a digital filter whose delay is unknown (DSPFVS/DECIM pair not in
        the table and no GRPDLY).
    """
    info = spectrum.meta.get("digital_filter")
    if not info:
        return 0.0
    value = info.get("grpdly")
    if value is None:
        raise FitError("the digital-filter group delay is unknown "
                       f"({info.get('grpdly_source', 'no GRPDLY')}); pass group_delay=")
    return float(value)


def remove_digital_filter(spectrum: Spectrum, group_delay_points: float | None = None) -> Spectrum:
    """Move the FID's time origin to the end of the digital filter's group delay.

    Parameters
    ----------
    spectrum : Spectrum
        FID, ``time`` axis starting at 0 s.
    group_delay_points : float, optional
        Group delay in points; default from ``meta["digital_filter"]`` (GRPDLY, or the
        DSPFVS/DECIM table for old data). 0 leaves the data as they are (a Step is recorded).

    Returns
    -------
    Spectrum
        Same data; time axis ``t_k = (k - group_delay) * dwell`` (the first points get
        negative times). :func:`~specssb.fitting.nmr.transform.fft` turns the shifted origin
        into TopSpin's first-order phase.

    Raises
    ------
    FitError
        Frequency-domain input, NaN data, unknown group delay, or a time origin already moved.
    ConfigError
        A negative or non-numeric ``group_delay_points``.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> fid = Spectrum(axis=Axis("time", "s", np.arange(4) * 1e-3), data=np.ones(4, complex),
    ...                technique="nmr", signal="fid")
    >>> remove_digital_filter(fid, 1.5).axis.values.tolist()
    [-0.0015, -0.0005, 0.0005, 0.0015]
    """
    operation = "nmr_remove_digital_filter"
    spectrum = require_time(spectrum, operation)
    dwell = dwell_time(spectrum, operation)
    if spectrum.axis.values[0] != 0.0:
        raise FitError(f"{operation}: the FID's time origin was already moved (first point at "
                       f"{spectrum.axis.values[0]:g} s)")
    if group_delay_points is None:
        points = group_delay(spectrum)
        source = (spectrum.meta.get("digital_filter") or {}).get("grpdly_source", "none")
    else:
        points = real_number(group_delay_points, "group_delay_points", minimum=0.0)
        source = "given"
    axis = Axis("time", "s", (np.arange(spectrum.axis.size) - points) * dwell)
    return spectrum.with_step(operation, {"group_delay_points": points, "source": source},
                              axis=axis)


def dc_offset(spectrum: Spectrum, fraction: float = 0.25, mode: str = "quad") -> Spectrum:
    """Subtract the FID's constant (DC) offset, measured on its last points.

    Parameters
    ----------
    spectrum : Spectrum
        FID of shape ``(*leading, n)``.
    fraction : float, default 0.25
        Fraction of the FID, from its end, whose mean is the offset (0 < fraction <= 1).
    mode : {"quad", "single"}, default "quad"
        ``"quad"``: real and imaginary offsets separately (TopSpin BC_mod quad); ``"single"``:
        one real constant, the mean of both, subtracted from both parts (BC_mod single).

    Returns
    -------
    Spectrum
        Corrected FID; the offsets (one per row) are in the history Step as ``offset``.

    Raises
    ------
    FitError
        Frequency-domain or NaN input.
    ConfigError
        Bad ``fraction`` or ``mode``.
    """
    operation = "nmr_dc_offset"
    spectrum = require_time(spectrum, operation)
    fraction = real_number(fraction, "fraction", minimum=1e-9, maximum=1.0)
    if mode not in DC_MODES:
        raise ConfigError(f"mode must be one of {DC_MODES}, not {mode!r}", key="mode")
    n = spectrum.axis.size
    count = max(1, int(round(fraction * n)))
    offset = spectrum.data[..., n - count:].mean(axis=-1, keepdims=True)
    if mode == "single":
        offset = ((offset.real + offset.imag) / 2) * (1 + 1j)
    parameters = {"fraction": fraction, "mode": mode, "points": count,
                  "offset": np.round(offset[..., 0], 12).tolist()}
    return spectrum.with_step(operation, parameters, data=owned(spectrum.data - offset))


def truncate(spectrum: Spectrum, size: int) -> Spectrum:
    """Keep the first ``size`` points of the FID (TopSpin TDeff, or SI smaller than TD/2).

    Parameters
    ----------
    spectrum : Spectrum
        FID.
    size : int
        Number of complex points kept, 1 <= size <= n.

    Returns
    -------
    Spectrum
        The shortened FID.

    Raises
    ------
    FitError
        Frequency-domain or NaN input, or a whole-echo FID (truncating it would break the
        rotation).
    ConfigError
        ``size`` out of range.
    """
    operation = "nmr_truncate"
    spectrum = require_time(spectrum, operation)
    size = whole_number(size, "size", minimum=1)
    if size > spectrum.axis.size:
        raise ConfigError(f"size={size} exceeds the FID's {spectrum.axis.size} points; use "
                          "zero_fill to extend it", key="size")
    if whole_echo_state(spectrum) is not None:
        raise FitError(f"{operation}: cannot truncate a whole-echo FID; truncate before "
                       "whole_echo")
    axis = Axis("time", "s", spectrum.axis.values[:size])
    return spectrum.with_step(operation, {"size": size, "from": spectrum.axis.size}, axis=axis,
                              data=spectrum.data[..., :size])


def zero_fill(spectrum: Spectrum, size: int) -> Spectrum:
    """Append zeros to the FID up to ``size`` complex points (TopSpin SI).

    Parameters
    ----------
    spectrum : Spectrum
        FID of shape ``(*leading, n)``.
    size : int
        Final number of points, ``size >= n`` (TopSpin's SI; powers of two make the FFT
        fastest but are not required). For a whole echo the zeros go between the echo's
        positive- and negative-time halves, keeping it symmetric about the top.

    Returns
    -------
    Spectrum
        FID of shape ``(*leading, size)``; its time axis continues with the same dwell.

    Raises
    ------
    FitError
        Frequency-domain or NaN input.
    ConfigError
        ``size`` smaller than the FID (use :func:`truncate`).

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> fid = Spectrum(axis=Axis("time", "s", [0.0, 1.0]), data=np.ones(2, complex),
    ...                technique="nmr", signal="fid")
    >>> zero_fill(fid, 4).data.tolist()
    [(1+0j), (1+0j), 0j, 0j]
    """
    operation = "nmr_zero_fill"
    spectrum = require_time(spectrum, operation)
    size = whole_number(size, "size", minimum=1)
    n = spectrum.axis.size
    if size < n:
        raise ConfigError(f"size={size} is smaller than the FID's {n} points; use truncate",
                          key="size")
    dwell = dwell_time(spectrum, operation)
    data = np.zeros((*spectrum.data.shape[:-1], size), dtype=np.complex128)
    echo = whole_echo_state(spectrum)
    parameters: dict[str, Any] = {"size": size, "from": n}
    if echo is None:
        data[..., :n] = spectrum.data
    else:
        split = int(echo["points_after_top"]) + 1
        data[..., :split] = spectrum.data[..., :split]
        data[..., size - (n - split):] = spectrum.data[..., split:]
        parameters["zeros_inserted_at"] = split
    axis = Axis("time", "s", spectrum.axis.values[0] + np.arange(size) * dwell)
    return spectrum.with_step(operation, parameters, axis=axis, data=owned(data))
