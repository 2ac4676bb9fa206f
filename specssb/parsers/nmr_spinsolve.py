"""Magritek Spinsolve (benchtop NMR) data folders: ``acqu.par`` + ``data.1d``.

A Spinsolve measurement is a folder::

    <folder>/acqu.par                 acquisition parameters, "name = value" lines
    <folder>/data.1d  (or fid.1d)     the FID
    <folder>/spectrum.1d, spectrum_processed.1d   Fourier-transformed spectra (optional)

``.1d`` files are Prospa binary files (as nmrglue 0.12 reads them, and as verified on an
nmrpy reaction-monitoring data set), all little-endian:

- header, 32 bytes: 8 uint32 ``owner`` ("PROS"), ``format`` ("DATA"), ``version`` ("V1.1"),
  ``dataType`` (504: an x axis and complex data), ``xDim``, ``yDim``, ``zDim``, ``qDim``;
- ``xDim`` float32 x values (time in s for ``data.1d``/``fid.1d``, ppm for spectra);
- ``xDim`` complex points as interleaved float32 real, imaginary.

``acqu.par`` lines are parsed with nmrglue's ``parse_spinsolve_par_line`` (quoted values are
strings, others int or float); the binary file is decoded here after its header and size are
checked. The FID's ``time`` axis is ``i / (bandwidth * 1000)`` (kHz), checked against the axis
stored in the file; a spectrum's ``chemical_shift`` axis is the stored ppm axis.

What ``acqu.par`` becomes in ``meta``:

==============================  ==========================================
``rxChannel`` (``"1H"``)        ``nucleus``
``b1Freq`` (MHz)                ``sfo1_mhz``
``bandwidth`` (kHz)             ``spectral_width_hz`` (× 1000)
``nrPnts``                      ``n_points``
``nrScans``                     ``n_scans``
``startTime`` (local ISO)       ``acquired_at`` (read in ``timezone``)
``Sample``                      ``sample``
``UserName``                    ``operator``
``InstrumentType``              ``instrument``
``expName`` / ``Protocol``      ``pulse_program`` (``"1D"``)
``graphTitle``                  ``title``
==============================  ==========================================

References
----------
Magritek, "Spinsolve user manual" (data folder layout); J. J. Helmus, C. P. Jaroniec,
J. Biomol. NMR 55 (2013) 355-367 (nmrglue ``fileio.spinsolve``).
"""

from __future__ import annotations

import datetime as _dt
import struct
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._nmr_meta import check_finite, local_to_utc, nucleus_label
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_spinsolve", "read_spinsolve", "sniff_spinsolve"]

FORMAT = "spinsolve"
HEADER_BYTES = 32
PROSPA_MAGIC = b"SORPATAD"  # "PROS" "DATA" as little-endian uint32

#: Prospa data types read here: x axis + complex data, or complex data alone.
XY_COMPLEX, COMPLEX = 504, 501

_RAW_FILES = ("data.1d", "fid.1d")
_PROCESSED_FILES = ("spectrum_processed.1d", "spectrum.1d")
_KINDS = ("raw", "processed")


def sniff_spinsolve(path: Path, head: bytes) -> bool:
    """True for a folder with ``acqu.par`` and a ``.1d`` file, or a ``.1d`` file beside an
    ``acqu.par``."""
    path = Path(path)
    if path.is_dir():
        return (path / "acqu.par").is_file() and any(
            (path / n).is_file() for n in (*_RAW_FILES, *_PROCESSED_FILES))
    return (path.name in (*_RAW_FILES, *_PROCESSED_FILES)
            and (path.parent / "acqu.par").is_file())


@register_parser(
    name=FORMAT, technique="nmr", extensions=(), sniff=sniff_spinsolve,
    description="Magritek Spinsolve folder (acqu.par + data.1d or spectrum.1d)",
)
def read_spinsolve(path: Path, *, data: str = "raw", timezone: str = "UTC") -> list[Spectrum]:
    """Read a Spinsolve measurement folder.

    Parameters
    ----------
    path : Path
        The folder, or one of its ``.1d`` files (then that file is read).
    data : {"raw", "processed"}, default "raw"
        For a folder: ``"raw"`` reads ``data.1d`` (or ``fid.1d``); ``"processed"`` reads
        ``spectrum_processed.1d`` (or ``spectrum.1d``).
    timezone : str, default "UTC"
        IANA zone of the instrument clock (``startTime`` has no zone).

    Returns
    -------
    list of Spectrum
        One Spectrum: complex FID on a ``time`` axis (s), or a complex spectrum on a
        ``chemical_shift`` axis (ppm).

    Raises
    ------
    ParseError
        Missing files, a malformed ``acqu.par`` line, a ``.1d`` file whose header or size is
        wrong.
    ConfigError
        Unknown ``data`` or ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> fid, = specssb.read("nmrpy/spinsolve1/00000")     # doctest: +SKIP
    >>> fid.meta["nucleus"], fid.meta["spectral_width_hz"]  # doctest: +SKIP
    ('1H', 5000.0)
    """
    path = Path(path)
    if data not in _KINDS:
        raise ConfigError(f"data must be 'raw' or 'processed', not {data!r}", key="data")
    time_zone(timezone)
    folder = path.parent if path.is_file() else path
    if path.is_file():
        binary = path
    else:
        names = _RAW_FILES if data == "raw" else _PROCESSED_FILES
        binary = next((folder / n for n in names if (folder / n).is_file()), folder / names[0])
        if not binary.is_file():
            raise ParseError(folder, f"no {' or '.join(names)} in the Spinsolve folder")
    parameters = folder / "acqu.par"
    if not parameters.is_file():
        raise ParseError(folder, "not a Spinsolve folder: no acqu.par")
    text = decode_text(read_bytes(parameters), parameters, "utf-8")
    kind = "raw" if binary.name in _RAW_FILES else "processed"
    source = make_source(folder if path.is_dir() else path, FORMAT,
                         library=f"nmrglue {_nmrglue().__version__}")
    return parse_spinsolve(text, read_bytes(binary), source=source, kind=kind,
                           timezone=timezone)


def _nmrglue() -> Any:
    import nmrglue

    return nmrglue


def parse_acqu_par(text: str, *, path: str | Path = "<text>") -> dict[str, Any]:
    """Parse ``acqu.par`` lines with nmrglue's line parser.

    Parameters
    ----------
    text : str
        The file's text.
    path : str or Path, optional
        Used in error messages.

    Returns
    -------
    dict
        name -> value (str for quoted values, else int or float, else str).

    Raises
    ------
    ParseError
        For a non-blank line without ``=`` or without a value, or an empty file.

    Examples
    --------
    >>> parse_acqu_par('rxChannel = "7Li"\\nnrPnts = 1024\\nb1Freq = 23.9\\n')
    {'rxChannel': '7Li', 'nrPnts': 1024, 'b1Freq': 23.9}
    """
    parse_line = _nmrglue().fileio.spinsolve.parse_spinsolve_par_line
    params: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            name, value = parse_line(line)
        except (ValueError, IndexError) as exc:
            raise ParseError(path, f"expected 'name = value', found {line.strip()[:40]!r}",
                             position=f"line {number}") from exc
        params[name] = value
    if not params:
        raise ParseError(path, "empty acqu.par", position="line 1")
    return params


def parse_spinsolve(acqu_par: str, data: bytes, *, source: Source, kind: str = "raw",
                    timezone: str = "UTC") -> list[Spectrum]:
    """Turn the text of ``acqu.par`` and the bytes of a ``.1d`` file into Spectra.

    Parameters
    ----------
    acqu_par : str
        Text of ``acqu.par`` (kept parsed as ``raw_meta["acqu"]``).
    data : bytes
        The ``.1d`` file (its 32-byte header goes to ``raw_meta["spectrum"]``).
    source : Source
        Provenance.
    kind : {"raw", "processed"}
        FID (``data.1d``) or spectrum (``spectrum*.1d``).
    timezone : str, default "UTC"
        Zone of ``startTime``.

    Returns
    -------
    list of Spectrum
        One Spectrum (see :func:`read_spinsolve`).

    Raises
    ------
    ParseError
        See :func:`read_spinsolve`; also missing ``bandwidth`` for a FID.
    """
    path = source.path
    if kind not in _KINDS:
        raise ConfigError(f"kind must be 'raw' or 'processed', not {kind!r}", key="kind")
    acqu = parse_acqu_par(acqu_par, path=path)
    header, x_values, values = _decode_1d(data, path)
    n = values.size
    check_finite(values, path)
    meta = _meta(acqu, path, timezone)
    if kind == "raw":
        bandwidth = acqu.get("bandwidth")
        if not (isinstance(bandwidth, (int, float)) and np.isfinite(bandwidth) and bandwidth > 0):
            raise ParseError(path, f"acqu.par bandwidth must be a positive number of kHz, found "
                                   f"{bandwidth!r}")
        dwell = 1.0 / (bandwidth * 1e3)
        if x_values is not None and n > 1 and not np.isclose(x_values[1] - x_values[0], dwell,
                                                              rtol=1e-3):
            warnings.warn(f"{path}: stored time axis step {x_values[1] - x_values[0]:g} s "
                          f"disagrees with 1/bandwidth = {dwell:g} s; the latter is used",
                          MetadataWarning, stacklevel=2)
        axis = Axis("time", "s", np.arange(n) * dwell)
        signal = "fid"
    else:
        if x_values is None:
            raise ParseError(path, "a spectrum file must hold its ppm axis (dataType 504)",
                             position="byte 12")
        check_finite(x_values, path)
        axis = Axis("chemical_shift", "ppm", x_values.astype(np.float64))
        signal = "spectrum"
    if "n_points" not in meta:
        meta["n_points"] = n
    return [Spectrum(axis=axis, data=values, technique="nmr", signal=signal, meta=meta,
                     raw_meta={"acqu": acqu, "spectrum": header}, source=source)]


def _decode_1d(data: bytes, path: str) -> tuple[dict[str, int], np.ndarray | None, np.ndarray]:
    """Header, x axis (or None) and complex128 values of a Prospa ``.1d`` file."""
    if len(data) < HEADER_BYTES or not data.startswith(PROSPA_MAGIC):
        raise ParseError(path, "not a Prospa .1d file (no 'SORPATAD' header)", position="byte 0")
    keys = ("owner", "format", "version", "dataType", "xDim", "yDim", "zDim", "qDim")
    header = dict(zip(keys, struct.unpack_from("<8I", data, 0)))
    kind, n = header["dataType"], header["xDim"]
    if kind not in (XY_COMPLEX, COMPLEX):
        raise ParseError(path, f"unsupported Prospa dataType {kind} (504 or 501 expected)",
                         position="byte 12")
    if n < 1 or header["yDim"] * header["zDim"] * header["qDim"] != 1:
        raise ParseError(path, f"only 1-D data are supported; dimensions {n} x {header['yDim']}"
                               f" x {header['zDim']} x {header['qDim']}", position="byte 16")
    words = n * (3 if kind == XY_COMPLEX else 2)
    expected = HEADER_BYTES + 4 * words
    if len(data) != expected:
        raise ParseError(path, f"file holds {len(data)} bytes; {n} points of dataType {kind} "
                               f"need {expected}{' (truncated)' if len(data) < expected else ''}",
                         position=f"byte {min(len(data), expected)}")
    floats = np.frombuffer(data, dtype="<f4", offset=HEADER_BYTES).astype(np.float64)
    x_values = floats[:n] if kind == XY_COMPLEX else None
    pairs = floats[n:] if kind == XY_COMPLEX else floats
    return header, x_values, pairs[0::2] + 1j * pairs[1::2]


def _meta(acqu: Mapping[str, Any], path: str, timezone: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    nucleus = nucleus_label(acqu.get("rxChannel"))
    if nucleus:
        meta["nucleus"] = nucleus
    numbers = {"b1Freq": ("sfo1_mhz", 1.0), "bandwidth": ("spectral_width_hz", 1e3)}
    for key, (name, factor) in numbers.items():
        value = acqu.get(key)
        if isinstance(value, (int, float)) and np.isfinite(value) and value > 0:
            meta[name] = float(value) * factor
    for key, name in (("nrPnts", "n_points"), ("nrScans", "n_scans")):
        value = acqu.get(key)
        if isinstance(value, int) and value > 0:
            meta[name] = value
    for key, name in (("Sample", "sample"), ("UserName", "operator"),
                      ("InstrumentType", "instrument"), ("graphTitle", "title")):
        value = acqu.get(key)
        if isinstance(value, str) and value.strip():
            meta[name] = value.strip()
    program = acqu.get("expName") or acqu.get("experiment")
    if isinstance(program, str) and program.strip():
        meta["pulse_program"] = program.strip()
    start = acqu.get("startTime")
    if isinstance(start, str) and start:
        try:
            meta["acquired_at"] = local_to_utc(_dt.datetime.fromisoformat(start), timezone)
        except ValueError:
            warnings.warn(f"{path}: acqu.par startTime={start!r} is not an ISO time; "
                          "acquired_at left unset", MetadataWarning, stacklevel=3)
    return meta
