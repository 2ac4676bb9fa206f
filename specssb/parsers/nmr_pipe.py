"""NMRPipe 1-D files: time-domain ``.fid`` and frequency-domain ``.ft`` (``.ft1``).

Layout (NMRPipe ``fdatap.h``, as nmrglue 0.12 reads it and as verified on the two nmrglue
example files): a 2048-byte header of 512 float32 words, then float32 data.

- word 0 ``FDMAGIC`` = 0, word 1 ``FDFLTFORMAT`` = 0xEEEEEEEE as a float (4.0086e9),
  word 2 ``FDFLTORDER`` = 2.345: read in the byte order that makes it 2.345 (the sniffer tests
  both words);
- ``FDDIMCOUNT`` (word 9) = 1 for the files read here; ``FDSIZE`` (word 99) points;
  ``FDF2QUADFLAG`` (word 56) 1 real, 0 complex: a complex vector is stored as ``FDSIZE`` real
  values followed by ``FDSIZE`` imaginary values; ``FDF2FTFLAG`` (word 220) 0 time domain,
  1 frequency domain.
- ``FDF2SW`` (Hz), ``FDF2OBS`` (MHz), ``FDF2ORIG`` (Hz of the last point), ``FDF2TDSIZE``
  (acquired complex points), ``FDF2LABEL`` (8 characters, e.g. ``C13``).

The header and data are decoded by nmrglue (``nmrglue.pipe.read`` on the bytes) after the file
size has been checked against ``FDSIZE``; multi-dimensional files are refused.

Axes: a time-domain file gets a ``time`` axis ``t_i = i / FDF2SW`` (complex FID,
``signal="fid"``); a frequency-domain file a ``chemical_shift`` axis, decreasing, as NMRPipe
defines it: ``ppm_i = (FDF2ORIG + FDF2SW * (FDSIZE - 1 - i) / FDSIZE) / FDF2OBS`` (equal to
nmrglue's ``make_uc(...).ppm_scale()``).

``meta``: ``nucleus`` from ``FDF2LABEL`` when it names one (``C13`` -> ``"13C"``), ``sfo1_mhz``
and, for spectra, ``sf_mhz`` = ``FDF2OBS``; ``spectral_width_hz`` = ``FDF2SW``; ``n_points`` =
``FDF2TDSIZE`` (else the points in the file); ``offset_ppm`` = shift of the first point
(spectra); ``operator`` = ``FDOPERNAME``; ``title`` = ``FDTITLE``. ``raw_meta`` is nmrglue's
header dictionary.

References
----------
F. Delaglio et al., "NMRPipe: a multidimensional spectral processing system based on UNIX
pipes", J. Biomol. NMR 6 (1995) 277-293.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._nmr_meta import check_finite, nucleus_label
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_pipe", "read_pipe", "sniff_pipe"]

FORMAT = "nmrpipe"
HEADER_BYTES = 2048
FLOAT_ORDER = 2.345
FLOAT_FORMAT = 4008636160.0  # 0xEEEEEEEE read as an IEEE float32


def _byte_order(head: bytes) -> str | None:
    """``"<"`` or ``">"`` when the header's FDFLTORDER word reads 2.345, else None."""
    if len(head) < 12:
        return None
    for order in "<>":
        fmt, order_word = struct.unpack_from(f"{order}2f", head, 4)
        if abs(order_word - FLOAT_ORDER) < 1e-6 and abs(fmt - FLOAT_FORMAT) < 1e3:
            return order
    return None


def sniff_pipe(path: Path, head: bytes) -> bool:
    """True when the header words FDFLTFORMAT and FDFLTORDER have NMRPipe's values."""
    return path.is_file() and _byte_order(head) is not None


@register_parser(
    name=FORMAT, technique="nmr", extensions=(".fid", ".ft", ".ft1"), sniff=sniff_pipe,
    description="NMRPipe 1-D file, time domain (.fid) or frequency domain (.ft) via nmrglue",
)
def read_pipe(path: Path) -> list[Spectrum]:
    """Read a 1-D NMRPipe file.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    list of Spectrum
        One Spectrum: complex FID on a ``time`` axis (s), or a spectrum (real, or complex when
        the imaginary part was kept) on a ``chemical_shift`` axis (ppm).

    Raises
    ------
    ParseError
        Not an NMRPipe file, truncated, multi-dimensional, or with invalid SW/OBS.

    Examples
    --------
    >>> import specssb
    >>> spectrum, = specssb.read("integrate_1d/1d_data.ft")    # doctest: +SKIP
    >>> spectrum.axis.name, spectrum.meta["nucleus"]           # doctest: +SKIP
    ('chemical_shift', '13C')
    """
    path = Path(path)
    raw = read_bytes(path)
    return parse_pipe(raw, source=make_source(path, FORMAT, data=raw,
                                              library=f"nmrglue {_nmrglue().__version__}"))


def _nmrglue() -> Any:
    import nmrglue

    return nmrglue


def parse_pipe(data: bytes, *, source: Source) -> list[Spectrum]:
    """Decode the bytes of a 1-D NMRPipe file into Spectra.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance.

    Returns
    -------
    list of Spectrum
        One Spectrum (see :func:`read_pipe`).

    Raises
    ------
    ParseError
        See :func:`read_pipe`.
    """
    path = source.path
    order = _byte_order(data[:12])
    if len(data) < HEADER_BYTES or order is None:
        raise ParseError(path, "not an NMRPipe file (no 2048-byte header with FDFLTORDER=2.345)"
                               if order is None else f"{len(data)} bytes is shorter than the "
                               "2048-byte NMRPipe header", position=f"byte {min(len(data), 8)}")
    words = np.frombuffer(data, dtype=f"{order}f4", count=512)
    dims, size, quad = words[9], words[99], words[56]
    if dims != 1:
        raise ParseError(path, f"{dims:g}-D NMRPipe data are not supported yet (1-D only)",
                         position="byte 36")
    if not (np.isfinite(size) and size >= 1 and size == int(size)) or quad not in (0, 1):
        raise ParseError(path, f"invalid header: FDSIZE={size!r}, FDF2QUADFLAG={quad!r}",
                         position="byte 396")
    expected = HEADER_BYTES + 4 * int(size) * (1 if quad == 1 else 2)
    if len(data) != expected:
        raise ParseError(path, f"file holds {len(data)} bytes; FDSIZE={int(size)} "
                               f"{'real' if quad == 1 else 'complex'} points need {expected}"
                               f"{' (truncated)' if len(data) < expected else ''}",
                         position=f"byte {min(len(data), expected)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dic, values = _nmrglue().pipe.read(bytes(data))
    except (UnicodeDecodeError, ValueError, struct.error) as exc:
        raise ParseError(path, f"corrupt NMRPipe header ({type(exc).__name__}: {exc})",
                         position="byte 0") from exc
    values = np.asarray(values)
    values = values.astype(np.complex128 if values.dtype.kind == "c" else np.float64)
    check_finite(values, path)
    return [_spectrum(dic, values, source)]


def _positive(dic: Mapping[str, Any], key: str, path: str) -> float:
    value = dic.get(key)
    if not (isinstance(value, float) and np.isfinite(value) and value > 0):
        raise ParseError(path, f"header {key} must be positive, found {value!r}")
    return value


def _spectrum(dic: Mapping[str, Any], values: np.ndarray, source: Source) -> Spectrum:
    path = source.path
    n = values.shape[-1]
    sw = _positive(dic, "FDF2SW", path)
    meta: dict[str, Any] = {}
    frequency_domain = dic.get("FDF2FTFLAG") == 1.0
    if frequency_domain:
        obs = _positive(dic, "FDF2OBS", path)
        origin = dic.get("FDF2ORIG", 0.0)
        ppm = (origin + sw * (n - 1 - np.arange(n)) / n) / obs
        axis = Axis("chemical_shift", "ppm", ppm)
        meta.update(sf_mhz=obs, offset_ppm=float(ppm[0]))
    else:
        axis = Axis("time", "s", np.arange(n) / sw)
    nucleus = nucleus_label(dic.get("FDF2LABEL"))
    if nucleus:
        meta["nucleus"] = nucleus
    obs = dic.get("FDF2OBS")
    if isinstance(obs, float) and obs > 0:
        meta["sfo1_mhz"] = obs
    meta["spectral_width_hz"] = sw
    acquired = dic.get("FDF2TDSIZE", 0.0)
    meta["n_points"] = int(acquired) if acquired and acquired == int(acquired) and acquired > 0 \
        else n
    for key, name in (("FDOPERNAME", "operator"), ("FDTITLE", "title")):
        text = dic.get(key)
        if isinstance(text, str) and text.strip():
            meta[name] = text.strip()
    return Spectrum(axis=axis, data=values, technique="nmr",
                    signal="spectrum" if frequency_domain else "fid", meta=meta,
                    raw_meta=dict(dic), source=source)
