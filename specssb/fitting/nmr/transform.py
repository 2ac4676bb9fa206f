"""Fourier transform of FIDs with TopSpin's conventions.

TopSpin's spectrum (``1r + i*1i``) of a complex FID ``z`` of SI points is::

    S[i] = fftshift(fft(conj(z)))[i] * exp(1j * 2*pi * GRPDLY * i / SI),   i = 0 … SI-1

(numpy's ``fft``; the conjugate is the Bruker quadrature sense). Point ``i = 0`` is the
highest frequency, so the ppm axis decreases, ``ppm[i] = OFFSET - i * SW / (SF * SI)``; no
array reversal is needed (nmrglue's ``fft`` followed by ``rev``, the usual recipe, lands one
point off). The digital filter's group delay comes out as a first-order phase that is zero at
the first point, so TopSpin's PHC0/PHC1 apply unchanged afterwards
(:func:`~specssb.fitting.nmr.phase.phase`). Verified on the four Bruker sets with ``1r`` in
``../shared/data/nmr`` (correlation 1.000000 for real and imaginary parts).

The axis is ``chemical_shift`` (ppm) when the observe frequency is known (``meta["sfo1_mhz"]``),
referenced to ``meta["sf_mhz"]`` if set, else to BF1 (TopSpin's SF before any SR), else to the
carrier; ``frequency`` (Hz from the carrier) otherwise. :mod:`.reference` re-references it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft

from specssb.errors import ConfigError
from specssb.spectrum import Axis, Spectrum, owned

from ._common import dwell_time, require_time, whole_echo_state, whole_number

__all__ = ["fft", "frequency_offsets_hz"]


def frequency_offsets_hz(size: int, dwell_s: float) -> np.ndarray:
    """Frequency of each point of an ``fft`` output from the carrier (Hz), decreasing.

    Parameters
    ----------
    size : int
        Number of points SI.
    dwell_s : float
        Dwell time (s); the spectral width is ``1 / dwell_s``.

    Returns
    -------
    ndarray of shape (size,), Hz
        ``SW/2 - i * SW / SI``: the carrier sits at point ``SI // 2``.
    """
    width = 1.0 / dwell_s
    return width / 2.0 - np.arange(size) * (width / size)


def fft(spectrum: Spectrum, size: int | None = None) -> Spectrum:
    """Fourier transform an FID into a spectrum, as TopSpin does (``ft``).

    Parameters
    ----------
    spectrum : Spectrum
        FID of shape ``(*leading, n)``; a time origin moved by
        :func:`~specssb.fitting.nmr.timedomain.remove_digital_filter` is applied as the
        first-order phase ``360 * GRPDLY * i / SI`` degrees.
    size : int, optional
        Transform size SI: the FID is zero filled to it on the fly (as TopSpin's ``ft`` does
        with SI; the same result as :func:`~specssb.fitting.nmr.timedomain.zero_fill` first,
        without the intermediate array). Default ``n``. Not for a whole echo (zero fill it
        with ``zero_fill``, which keeps it symmetric).

    Returns
    -------
    Spectrum
        Complex spectrum (``signal="spectrum"``) on a decreasing ``chemical_shift`` (ppm) or
        ``frequency`` (Hz) axis; ``meta`` gains ``sf_mhz`` and ``offset_ppm`` for a ppm axis.

    Raises
    ------
    FitError
        Input already in the frequency domain, NaN data, or a non-uniform time axis.
    ConfigError
        ``size`` smaller than the FID, or given for a whole echo.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> t = np.arange(8) * 1e-3
    >>> fid = Spectrum(axis=Axis("time", "s", t), data=np.exp(2j * np.pi * 250 * t),
    ...                technique="nmr", signal="fid")
    >>> s = fft(fid)
    >>> s.axis.name, float(s.axis.values[np.argmax(abs(s.data))])
    ('frequency', 250.0)
    """
    operation = "nmr_fft"
    spectrum = require_time(spectrum, operation)
    dwell = dwell_time(spectrum, operation)
    n = spectrum.axis.size
    echo = whole_echo_state(spectrum) is not None
    if size is None:
        size = n
    else:
        size = whole_number(size, "size", minimum=1)
        if size < n:
            raise ConfigError(f"size={size} is smaller than the FID's {n} points; use "
                              "truncate", key="size")
        if echo and size != n:
            raise ConfigError("zero fill a whole echo with zero_fill (it keeps the echo "
                              "symmetric), not with fft(size=)", key="size")
    group_delay = 0.0 if echo else -spectrum.axis.values[0] / dwell
    # fftshift(fft(x)) == fft(x * (-1)**k) for an even size: one pass less over the output
    data = np.zeros((*spectrum.data.shape[:-1], size), dtype=np.complex128)
    np.conjugate(spectrum.data, out=data[..., :n])
    even = size % 2 == 0
    if even:
        data[..., 1:n:2] *= -1.0
    data = scipy.fft.fft(data, axis=-1, overwrite_x=True)
    if not even:
        data = np.fft.fftshift(data, axes=-1)
    if group_delay != 0.0:
        data *= np.exp(2j * np.pi * group_delay / size * np.arange(size))
    offsets = frequency_offsets_hz(size, dwell)
    axis, meta, reference = _axis(spectrum, offsets)
    parameters: dict[str, Any] = {"size": size, "from": n,
                                  "convention": "topspin: fftshift(fft(conj(fid)))",
                                  "group_delay_points": group_delay, "reference": reference}
    return spectrum.with_step(operation, parameters, versions={"scipy": scipy.__version__},
                              axis=axis, data=owned(data), signal="spectrum", meta=meta)


def _axis(spectrum: Spectrum, offsets: np.ndarray) -> tuple[Axis, dict[str, Any], str]:
    """The spectrum's axis and updated meta: ppm from SFO1 and a reference frequency, or Hz."""
    meta = dict(spectrum.meta)
    sfo1 = meta.get("sfo1_mhz")
    if not sfo1:
        return Axis("frequency", "Hz", offsets), meta, "carrier (no sfo1_mhz)"
    for key, label in (("sf_mhz", "meta sf_mhz"), ("bf1_mhz", "BF1 (SR = 0)"),
                       ("sfo1_mhz", "carrier SFO1")):
        sf = meta.get(key)
        if sf:
            break
    ppm = ((float(sfo1) - float(sf)) * 1e6 + offsets) / float(sf)
    meta.update(sf_mhz=float(sf), offset_ppm=float(ppm[0]))
    return Axis("chemical_shift", "ppm", ppm), meta, label
