"""JEOL Delta ``.jdf`` files (also gzip-compressed ``.jdf.gz``, decompressed in memory).

Layout (JEOL Delta "JDF file format"; as nmrglue 0.12 decodes it and as verified on an ECZ500R
19F file and a 500 MHz 1H file)::

    byte 0       "JEOL.NMR" (8 bytes), endianness (0 big, 1 little), versions
    byte 12..    dimension count, data type (float64/float32) and format (one_d, two_d ...),
                 axis types (real, complex ...), units, title (124 bytes), points per axis,
                 offsets, axis start/stop, base frequencies, zero points ...
    param_start  parameter block: size, low/high index, then 64-byte records
                 (unit, value of type string/integer/float/complex, 28-byte name)
    data_start   the points: for a complex 1-D FID all real parts, then all imaginary parts,
                 stored in submatrices of 8 points

The header and parameters are decoded by nmrglue (``nmrglue.fileio.jeol.parse_jeol``) from
memory, after the offsets they rely on have been checked against the file size; the data by
nmrglue's ``read_bin_data``/``reorganize``/``truncate_data``. nmrglue forms the complex FID as
``real - 1j * imaginary``: with it the HDO line of the 1H file falls at 4.66 ppm (the other sign
would put it at 13.3 ppm). Only 1-D data are read; 2-D and higher files raise ParseError.

Axis: header unit ``second`` gives a ``time`` axis ``t_i = i / x_sweep`` (the header's axis
stop equals ``(n - 1) / x_sweep``); unit ``ppm`` gives a ``chemical_shift`` axis from the
header's axis start and stop.

What the parameters become in ``meta`` (``raw_meta`` is nmrglue's ``{"header", "parameters"}``):

=====================================  =================================================
``x_domain`` (``Fluorine19``, ``Proton``)  ``nucleus`` (``"19F"``, ``"1H"``)
``x_freq`` (Hz)                         ``sfo1_mhz``
``x_sweep`` (Hz)                        ``spectral_width_hz``
points along the axis                   ``n_points``
``total_scans`` (``scans``)             ``n_scans``
``temp_get`` (°C)                       ``temperature_k``
``mas_spin_get`` (Hz), when > 0         ``mas_rate_hz``
``experiment``                          ``pulse_program``
``inst_model_number`` (else header)     ``instrument``
``sample_id``                           ``sample``
header ``title``                        ``title``
=====================================  =================================================

The acquisition time (``actual_start_time``) is kept in ``raw_meta`` only: its epoch and zone
are not documented.

References
----------
J. J. Helmus, C. P. Jaroniec, J. Biomol. NMR 55 (2013) 355-367 (nmrglue; JEOL reader by
nmrglue PR #228).
"""

from __future__ import annotations

import gzip
import struct
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._nmr_meta import check_finite, nucleus_label
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_jeol", "read_jeol"]

FORMAT = "jeol"
MAGIC = b"JEOL.NMR"
GZIP_MAGIC = b"\x1f\x8b"

#: Bytes of one parameter record and of the parameter-block preamble.
PARAMETER_BYTES = 64
PARAMETER_PREAMBLE = 16

_ITEMSIZE = {"float64": 8, "float32": 4}


def _sniff_gzip(path: Path, head: bytes) -> bool:
    """A gzip file whose name ends in ``.jdf.gz`` and whose content starts with the magic."""
    if not (head.startswith(GZIP_MAGIC) and path.name.lower().endswith(".jdf.gz")):
        return False
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except (OSError, EOFError, zlib.error):
        return False


@register_parser(
    name=FORMAT, technique="nmr", extensions=(".jdf", ".jdf.gz"), magic=(MAGIC,),
    sniff=_sniff_gzip, description="JEOL Delta JDF (1-D; .jdf.gz read in memory) via nmrglue",
)
def read_jeol(path: Path) -> list[Spectrum]:
    """Read a JEOL Delta ``.jdf`` file, or a gzip-compressed ``.jdf.gz``.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    list of Spectrum
        One Spectrum: a complex FID on a ``time`` axis (s), or a spectrum on a
        ``chemical_shift`` axis (ppm).

    Raises
    ------
    ParseError
        Not a JDF file, a corrupt gzip stream, a header whose offsets point outside the file,
        multi-dimensional data.

    Examples
    --------
    >>> import specssb
    >>> fid, = specssb.read("cheminfo_jeol/fluorine.jdf")      # doctest: +SKIP
    >>> fid.meta["nucleus"], fid.meta["sfo1_mhz"]              # doctest: +SKIP
    ('19F', 470.3635083723063)
    """
    path = Path(path)
    raw = read_bytes(path)
    digest_source = make_source(path, FORMAT, data=raw,
                                library=f"nmrglue {_nmrglue().__version__}")
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ParseError(path, f"corrupt or truncated gzip stream: {exc}") from exc
    return parse_jeol(raw, source=digest_source)


def _nmrglue() -> Any:
    import nmrglue

    return nmrglue


def parse_jeol(data: bytes, *, source: Source) -> list[Spectrum]:
    """Decode the bytes of a (decompressed) JDF file into Spectra.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance.

    Returns
    -------
    list of Spectrum
        One Spectrum (see :func:`read_jeol`).

    Raises
    ------
    ParseError
        See :func:`read_jeol`.
    """
    path = source.path
    if not data.startswith(MAGIC):
        raise ParseError(path, "not a JEOL Delta file (no 'JEOL.NMR' at the start)",
                         position="byte 0")
    jeol = _nmrglue().fileio.jeol
    buffer = jeol.IOBuffer(data, conversion_table=jeol.ConversionTable)
    try:
        _, header = jeol.read_header(buffer)
    except (struct.error, KeyError, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise ParseError(path, f"corrupt JDF header ({type(exc).__name__}: {exc})",
                         position="byte 0") from exc
    _check_header(header, data, path)
    dic = {"header": header}
    try:
        _, dic["parameters"] = jeol.read_parameters(buffer, header["param_start"],
                                                    header["endian"])
    except (struct.error, KeyError, IndexError, UnicodeDecodeError, ValueError, TypeError,
            OverflowError, MemoryError) as exc:
        raise ParseError(path, f"corrupt JDF parameter block ({type(exc).__name__}: {exc})",
                         position=f"byte {header['param_start']}") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            values = jeol.truncate_data(dic, jeol.reorganize(dic, jeol.read_bin_data(dic, data)))
        except (struct.error, ValueError, IndexError) as exc:
            raise ParseError(path, f"corrupt JDF data block ({type(exc).__name__}: {exc})",
                             position=f"byte {header['data_start']}") from exc
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype.kind not in "fc":
        raise ParseError(path, f"JDF data decoded to shape {values.shape}; only 1-D data are "
                               "supported")
    check_finite(values, path)
    return [_spectrum(dic, values, source)]


def _check_header(header: Mapping[str, Any], data: bytes, path: str) -> None:
    """Refuse what nmrglue would read past the end of the file or not as 1-D data."""
    size = len(data)
    if size < header["total_size"]:
        raise ParseError(path, f"file holds {size} bytes; its header declares "
                               f"{header['total_size']} (truncated)", position=f"byte {size}")
    axes = [t for t in header["data_axis_type"] if t]
    if header["data_dimension_number"] != 1 or len(axes) != 1:
        raise ParseError(path, f"{header['data_dimension_number']}-D JDF data are not "
                               "supported yet (1-D only)", position="byte 12")
    if header["data_format"] != "one_d" or header["data_type"] not in _ITEMSIZE:
        raise ParseError(path, f"unsupported JDF data format {header['data_format']!r} / type "
                               f"{header['data_type']!r}", position="byte 13")
    if axes[0] not in ("real", "complex"):
        raise ParseError(path, f"unsupported JDF axis type {axes[0]!r}", position="byte 24")
    start = header["param_start"]
    if start + PARAMETER_PREAMBLE > size:
        raise ParseError(path, f"the parameter block at byte {start} lies past the end of the "
                               f"{size}-byte file (truncated?)", position=f"byte {size}")
    order = "<" if header["endian"] == "little_endian" else ">"
    record_bytes, _, high, _ = struct.unpack_from(f"{order}4I", data, start)
    end = start + PARAMETER_PREAMBLE + high * PARAMETER_BYTES
    if record_bytes != PARAMETER_BYTES or end > size:
        raise ParseError(path, f"parameter block at byte {start} declares {high} records of "
                               f"{record_bytes} bytes, ending at byte {end} of a {size}-byte "
                               "file (truncated or corrupt)", position=f"byte {start}")
    points = header["data_points"][0]
    sections = 2 if axes[0] == "complex" else 1
    end = header["data_start"] + points * sections * _ITEMSIZE[header["data_type"]]
    if points < 1 or end > size:
        raise ParseError(path, f"data of {points} {axes[0]} points from byte "
                               f"{header['data_start']} end at byte {end}, past the end of the "
                               f"{size}-byte file (truncated?)", position=f"byte {size}")
    first, last = header["data_offset_start"][0], header["data_offset_stop"][0]
    if not 0 <= first <= last < points:
        raise ParseError(path, f"data offsets {first}..{last} do not fit {points} points",
                         position="byte 12")


def _param(params: Mapping[str, Any], name: str, base: str | None = None) -> Any:
    """A parameter value, converted to its base unit (None when absent or of another unit)."""
    if name not in params:
        return None
    value = params[name]
    info = params.get("info", {}).get(name, {})
    units = info.get("units") or []
    if base is None:
        return value
    if not isinstance(value, (int, float)) or not np.isfinite(value):
        return None
    prefix, _, unit_base = units[0] if units else ("none", 1, None)
    if unit_base != base:
        return None
    exponent = {k.lower(): v for k, v in _nmrglue().fileio.jeol.ConversionTable
                .unit_prefix_table.items()}.get(str(prefix).lower(), 0)
    return float(value) * 10.0 ** exponent


def _spectrum(dic: Mapping[str, Any], values: np.ndarray, source: Source) -> Spectrum:
    path = source.path
    header, params = dic["header"], dic["parameters"]
    n = values.size
    unit = header["units"][0][2]
    meta: dict[str, Any] = {}
    sweep = _param(params, "x_sweep", "hertz")
    if unit == "second":
        if sweep is None or sweep <= 0:
            raise ParseError(path, f"x_sweep must be a positive frequency in Hz, found "
                                   f"{params.get('x_sweep')!r}")
        axis = Axis("time", "s", np.arange(n) / sweep)
        signal = "fid"
    elif unit == "ppm":
        start, stop = header["data_axis_start"][0], header["data_axis_stop"][0]
        if not (np.isfinite(start) and np.isfinite(stop)) or start == stop:
            raise ParseError(path, f"invalid ppm axis {start!r}..{stop!r}", position="byte 0")
        axis = Axis("chemical_shift", "ppm", np.linspace(start, stop, n))
        signal = "spectrum"
    else:
        raise ParseError(path, f"unsupported JDF axis unit {unit!r} (second or ppm expected)")
    nucleus = nucleus_label(params.get("x_domain")) or nucleus_label(
        header["data_axis_titles"][0])
    if nucleus:
        meta["nucleus"] = nucleus
    frequency = _param(params, "x_freq", "hertz")
    if frequency and frequency > 0:
        meta["sfo1_mhz"] = frequency / 1e6
    if sweep and sweep > 0:
        meta["spectral_width_hz"] = sweep
    meta["n_points"] = n
    scans = _param(params, "total_scans")
    scans = scans if isinstance(scans, int) else _param(params, "scans")
    if isinstance(scans, int) and scans >= 0:
        meta["n_scans"] = scans
    temperature = _param(params, "temp_get", "celsius")
    if temperature is not None and temperature > -273.15:
        meta["temperature_k"] = temperature + 273.15
    mas = _param(params, "mas_spin_get", "hertz")
    if mas and mas > 0:
        meta["mas_rate_hz"] = mas
    model = _param(params, "inst_model_number")
    for name, value in (("pulse_program", _param(params, "experiment")),
                        ("instrument", model if model else header.get("instrument")),
                        ("sample", _param(params, "sample_id")), ("title", header.get("title"))):
        if isinstance(value, str) and value.strip():
            meta[name] = value.strip()
    return Spectrum(axis=axis, data=values, technique="nmr", signal=signal, meta=meta,
                    raw_meta=dict(dic), source=source)
