"""Scienta SES Igor binary waves (``.ibw``): one XPS Spectrum per file.

SES can save each region as an Igor Pro binary wave. The reader here is written from the
layout in WaveMetrics Technical Note PTN003 ("Igor Binary Wave Format"); it handles file
versions 2 and 5, either byte order, and numeric waves (float32/64, signed and unsigned
8/16/32-bit integers). The layout as verified on ``Ag_0001Ag__001.ibw`` (version 5,
little-endian, float64, 361 points):

Version 5 (all structures 2-byte packed)::

    offset  size  BinHeader5
    0       2     version (5); byte order: little-endian when the first byte is non-zero
    2       2     checksum
    4       4     wfmSize: WaveHeader5 up to wData (320) + data bytes
    8       4     formulaSize      12  noteSize       16  dataEUnitsSize
    20      16    dimEUnitsSize[4] 36  dimLabelsSize[4]
    52      4     sIndicesSize     56  optionsSize1, optionsSize2 (reserved)
    64      320   WaveHeader5: npnts @+12, type @+16, bname[32] @+28, nDim[4] @+68,
                  sfA[4] @+84, sfB[4] @+116, dataUnits[4] @+148, dimUnits[4][4] @+152,
                  creationDate @+4, modDate @+8 (seconds since 1904-01-01, local time)
    384     ...   data (column-major: dimension 0 varies fastest), then the formula, the
                  note, the extended data units, the extended dimension units, the labels

Version 2: BinHeader2 (16 bytes: version, wfmSize, noteSize, pictSize, checksum), WaveHeader2
(110 bytes before wData: type @0, bname[20] @6, dataUnits @34, xUnits @38, npnts @42,
hsA @48, hsB @56, creationDate @96, modDate @102), the data, 16 bytes of padding
(``wfmSize = 110 + data bytes + 16``), then the note.

The checksum is the 16-bit sum of the header shorts: over BinHeader5 + WaveHeader5 up to
wData (384 bytes) for version 5, over BinHeader2 + the whole WaveHeader2 (142 bytes, so the
first 16 data bytes) for version 2; it must be 0. A failing checksum, an unknown version or
wave type, and a file shorter than its header declares raise ParseError.

Dimension ``d`` runs ``x = sfB[d] + i * sfA[d]`` (version 2: ``hsB + i * hsA``). Dimension 0
is the energy axis; its kind (kinetic/binding) comes from the extended dimension unit that SES
writes (``"Binding Energy [eV]"``), else the note's ``Energy Scale``. Further dimensions
(angle, sweep) become leading dimensions with their scale as coordinate, so a 2-D wave gives
data of shape ``(n_dim1, n_energy)``. On ``Ag_0001Ag__001.ibw`` ``sfA`` is
-0.05000000000001137 eV (not exactly the 0.05 eV step), so the axis differs from the ``.txt``
export's decimal values by up to 4e-12 eV; the counts are the same float64 numbers that the
``.txt`` prints with 15 significant digits.

The wave note is the region's SES ``[Info]`` block (``[SES]`` heading, CR line ends); it gives
``meta`` and ``raw_meta`` exactly as the ``[Info n]`` section of the ``.txt`` export (see
:mod:`specssb.parsers._scienta_info`). ``raw_meta["igor"]`` holds the wave header: version,
wave name, type, units, dimension sizes and scaling, creation and modification dates.
"""

from __future__ import annotations

import datetime as _dt
import struct
import warnings as _warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import make_source, read_bytes, time_zone
from specssb.parsers._registry import register_parser
from specssb.parsers._scienta_info import SECTION, axis_kind, dimension, key_values, make_spectrum
from specssb.spectrum import Source, Spectrum

__all__ = ["parse_scienta_ibw", "read_scienta_ibw"]

#: Igor number types (TN003 ``NT_*``) -> numpy dtype character; NT_CMPLX (1) is refused.
_TYPES = {0x02: "f4", 0x04: "f8", 0x08: "i1", 0x10: "i2", 0x20: "i4",
          0x48: "u1", 0x50: "u2", 0x60: "u4"}
_CMPLX = 0x01
_BIN5, _WAVE5 = 64, 320   # BinHeader5, WaveHeader5 up to wData
_BIN2, _WAVE2 = 16, 110   # BinHeader2, WaveHeader2 up to wData (then 16 bytes wData[4])
_MAC_EPOCH = _dt.datetime(1904, 1, 1)


@dataclass
class _Wave:
    version: int
    order: str
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]        # Igor order: (n0, n1, ...), dimension 0 fastest
    scale: list[tuple[float, float]]  # (sfA, sfB) per dimension
    data_units: str
    dim_units: list[str]
    data: np.ndarray              # shape (..., n1, n0)
    note: str
    created: float
    modified: float


def _fail(path: str, reason: str, offset: int | None = None) -> ParseError:
    return ParseError(path, reason, position=None if offset is None else f"byte {offset}")


def _byte_order(data: bytes, path: str) -> tuple[str, int]:
    if len(data) < 2:
        raise _fail(path, "empty or 1-byte file: no Igor binary wave header (truncated?)", 0)
    order = "<" if data[0] != 0 else ">"
    version = struct.unpack_from(order + "h", data, 0)[0]
    if version not in (2, 5):
        raise _fail(path, f"not a supported Igor binary wave: version field {version} "
                    "(versions 2 and 5 are read)", 0)
    return order, version


def _checksum(data: bytes, order: str, size: int) -> int:
    return int(np.frombuffer(data[:size], dtype=order + "i2").astype(np.int64).sum()) & 0xFFFF


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def _dtype(code: int, order: str, path: str, offset: int) -> np.dtype:
    if code == 0:
        raise _fail(path, "text waves are not spectra (wave type 0)", offset)
    if code & _CMPLX:
        raise _fail(path, f"complex waves are not supported (wave type {code:#x})", offset)
    if code not in _TYPES:
        raise _fail(path, f"unknown Igor wave type {code:#x}", offset)
    return np.dtype(order + _TYPES[code])


def _need(data: bytes, end: int, path: str, what: str) -> None:
    if end > len(data):
        raise _fail(path, f"the file ends at byte {len(data)} but {what} needs {end} bytes "
                    "(truncated file?)", len(data))


def _values(data: bytes, offset: int, dtype: np.dtype, shape: tuple[int, ...],
            path: str) -> np.ndarray:
    count = int(np.prod(shape))
    _need(data, offset + count * dtype.itemsize, path, f"the wave data ({count} points)")
    check_array(tuple(shape), "wave data", path=path)
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.astype(np.float64).reshape(shape[::-1])


def _parse_v5(data: bytes, order: str, path: str) -> _Wave:
    _need(data, _BIN5 + _WAVE5, path, "the version 5 headers")
    if _checksum(data, order, _BIN5 + _WAVE5) != 0:
        raise _fail(path, "Igor header checksum mismatch (corrupt file, or not an .ibw)", 2)
    (wfm, formula, note, data_eunits, *rest) = struct.unpack_from(order + "15i", data, 4)
    dim_eunits, sindices = rest[:4], rest[8]
    sizes = {"wfmSize": wfm, "formulaSize": formula, "noteSize": note,
             "dataEUnitsSize": data_eunits, "sIndicesSize": sindices,
             **{f"dimEUnitsSize[{d}]": s for d, s in enumerate(dim_eunits)},
             **{f"dimLabelsSize[{d}]": s for d, s in enumerate(rest[4:8])}}
    bad = [f"{k}={v}" for k, v in sizes.items() if v < 0]
    if bad or wfm < _WAVE5:
        raise _fail(path, f"impossible header sizes ({', '.join(bad) or f'wfmSize={wfm}'})", 4)
    w = _BIN5
    created, modified, npnts = struct.unpack_from(order + "IIi", data, w + 4)
    dtype = _dtype(struct.unpack_from(order + "h", data, w + 16)[0], order, path, w + 16)
    n_dim = [n for n in struct.unpack_from(order + "4i", data, w + 68)]
    if any(n < 0 for n in n_dim):
        raise _fail(path, f"negative dimension size in nDim {n_dim}", w + 68)
    shape = tuple(n_dim[: next((d for d, n in enumerate(n_dim) if n == 0), 4)])
    if not shape or int(np.prod(shape)) != npnts:
        raise _fail(path, f"nDim {n_dim} does not multiply to npnts {npnts}", w + 68)
    if npnts * dtype.itemsize > wfm - _WAVE5:
        raise _fail(path, f"wfmSize {wfm} is too small for {npnts} points of {dtype.name}", 4)
    sf_a = struct.unpack_from(order + "4d", data, w + 84)
    sf_b = struct.unpack_from(order + "4d", data, w + 116)
    dim_units = [_text(data[w + 152 + 4 * d: w + 156 + 4 * d]) for d in range(4)]
    data_units = _text(data[w + 148: w + 152])
    values = _values(data, _BIN5 + _WAVE5, dtype, shape, path)

    offset = _BIN5 + wfm + formula
    _need(data, offset + note + data_eunits + sum(dim_eunits), path, "the note and units")
    note_text = data[offset: offset + note].decode("latin-1")
    offset += note
    if data_eunits:
        data_units = _text(data[offset: offset + data_eunits]) or data_units
    offset += data_eunits
    for d, size in enumerate(dim_eunits):
        if size:
            dim_units[d] = _text(data[offset: offset + size]) or dim_units[d]
        offset += size
    return _Wave(5, order, _text(data[w + 28: w + 60]), dtype, shape,
                 [(sf_a[d], sf_b[d]) for d in range(len(shape))], data_units,
                 dim_units[: len(shape)], values, note_text, created, modified)


def _parse_v2(data: bytes, order: str, path: str) -> _Wave:
    _need(data, _BIN2 + _WAVE2 + 16, path, "the version 2 headers")
    if _checksum(data, order, _BIN2 + _WAVE2 + 16) != 0:
        raise _fail(path, "Igor header checksum mismatch (corrupt file, or not an .ibw)", 14)
    wfm, note, _pict = struct.unpack_from(order + "3i", data, 2)
    if wfm < _WAVE2 + 16 or note < 0:
        raise _fail(path, f"impossible header sizes (wfmSize={wfm}, noteSize={note})", 2)
    w = _BIN2
    dtype = _dtype(struct.unpack_from(order + "h", data, w)[0], order, path, w)
    npnts = struct.unpack_from(order + "i", data, w + 42)[0]
    if npnts <= 0 or npnts * dtype.itemsize > wfm - _WAVE2 - 16:
        raise _fail(path, f"npnts {npnts} does not fit wfmSize {wfm}", w + 42)
    hs_a, hs_b = struct.unpack_from(order + "2d", data, w + 48)
    created = struct.unpack_from(order + "I", data, w + 96)[0]
    modified = struct.unpack_from(order + "I", data, w + 102)[0]
    values = _values(data, _BIN2 + _WAVE2, dtype, (npnts,), path)
    offset = _BIN2 + wfm
    _need(data, offset + note, path, "the note")
    return _Wave(2, order, _text(data[w + 6: w + 26]), dtype, (npnts,), [(hs_a, hs_b)],
                 _text(data[w + 34: w + 38]), [_text(data[w + 38: w + 42])], values,
                 data[offset: offset + note].decode("latin-1"), created, modified)


def _note_sections(note: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The SES fields of the note (first section) and the other sections' lines."""
    info_lines: list[str] = []
    others: dict[str, list[str]] = {}
    current: list[str] = info_lines
    for line in note.replace("\r\n", "\r").replace("\n", "\r").split("\r"):
        match = SECTION.match(line.strip())
        if match and (info_lines or others or match["name"].strip() != "SES"):
            current = others.setdefault(match["name"].strip(), [])
        elif not match:
            current.append(line)
    return key_values(info_lines), others


def _mac_date(seconds: int | float) -> str | None:
    if not seconds:
        return None
    return (_MAC_EPOCH + _dt.timedelta(seconds=int(seconds))).isoformat()


def parse_scienta_ibw(
    data: bytes, *, source: Source, energy: str = "binding", timezone: str = "UTC"
) -> list[Spectrum]:
    """Parse the bytes of an SES Igor binary wave (``.ibw``) into one XPS Spectrum.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance; ``block`` is set to the wave name.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return (``BE = hv - KE``, eV, no work function; see
        :mod:`specssb.parsers._scienta_info`).
    timezone : str, default "UTC"
        IANA zone of the instrument clock; the note's ``Date``/``Time`` are local time.

    Returns
    -------
    list of Spectrum
        One Spectrum: data ``(n,)`` for a 1-D wave, ``(n_dim1, n)`` (and so on) for more
        dimensions, with their scales as coordinates.

    Raises
    ------
    ParseError
        Unknown version, checksum mismatch, truncated file, text or complex wave, a dimension-0
        unit that is not an energy in eV, non-finite values, a non-monotonic axis.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Warns
    -----
    MetadataWarning
        Unreadable optional note fields, no excitation energy.
    """
    _check_options(energy, timezone)
    path = source.path
    order, version = _byte_order(data, path)
    wave = _parse_v5(data, order, path) if version == 5 else _parse_v2(data, order, path)
    info, sections = _note_sections(wave.note)
    where = f"wave {wave.name!r}"
    kind = axis_kind(wave.dim_units[0], info.get("Energy Scale"))
    if kind is None or dimension(wave.dim_units[0])[1].lower() not in ("", "ev"):
        raise ParseError(path, f"dimension 0 is not an energy axis in eV (unit "
                         f"{wave.dim_units[0]!r}, Energy Scale {info.get('Energy Scale')!r})",
                         position=where)
    (step, start), *others = wave.scale
    axis_values = start + step * np.arange(wave.shape[0], dtype=np.float64)
    leading = []
    used: set[str] = set()
    for d in range(len(others), 0, -1):  # data are (..., n1, n0): outermost dimension first
        name, unit = dimension(wave.dim_units[d]) if wave.dim_units[d] else (f"dim_{d}", "")
        name = name if name not in used else f"{name}_{d}"
        used.add(name)
        a, b = wave.scale[d]
        leading.append((name, unit, b + a * np.arange(wave.shape[d], dtype=np.float64)))
    raw_meta: dict[str, Any] = dict(info)
    for section, lines in sections.items():
        raw_meta[section] = [line.strip() for line in lines if line.strip()]
    raw_meta["igor"] = {
        "version": wave.version, "byte order": "little" if wave.order == "<" else "big",
        "wave name": wave.name, "type": wave.dtype.name, "data units": wave.data_units,
        "dimension units": wave.dim_units, "dimension sizes": list(wave.shape),
        "scaling (delta, offset)": wave.scale,
        "creation date (local)": _mac_date(wave.created),
        "modification date (local)": _mac_date(wave.modified),
    }
    warnings: list[str] = []
    spectrum = make_spectrum(
        kind=kind, axis_values=axis_values, data=wave.data, leading=leading, info=info,
        raw_meta=raw_meta, source=_with_block(source, wave.name or None), where=where,
        energy=energy, timezone=timezone, warnings=warnings,
    )
    for message in dict.fromkeys(warnings):
        _warnings.warn(f"{path}: {message}", MetadataWarning, stacklevel=2)
    return [spectrum]


def _with_block(source: Source, block: str | None) -> Source:
    return Source(path=source.path, sha256=source.sha256, format=source.format, block=block,
                  parser_version=source.parser_version)


def _check_options(energy: str, timezone: str) -> None:
    if energy not in ("binding", "kinetic"):
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")
    time_zone(timezone)


def _sniff(path: Path, head: bytes) -> bool:
    """A valid Igor wave header (version 2 or 5, checksum 0) whose note or units are SES's."""
    if len(head) < _BIN5 + _WAVE5:
        return False
    order = "<" if head[0] != 0 else ">"
    version = struct.unpack_from(order + "h", head, 0)[0]
    size = {2: _BIN2 + _WAVE2 + 16, 5: _BIN5 + _WAVE5}.get(version)
    if size is None or _checksum(head, order, size) != 0:
        return False
    wave = (_parse_v5 if version == 5 else _parse_v2)(Path(path).read_bytes(), order, str(path))
    return "[SES]" in wave.note or "Region Name=" in wave.note or \
        axis_kind(wave.dim_units[0], None) is not None


@register_parser(
    name="scienta-ibw",
    technique="xps",
    extensions=(".ibw",),
    description="Scienta SES Igor binary wave (versions 2 and 5; SES [Info] in the wave note)",
    sniff=_sniff,
)
def read_scienta_ibw(
    path: Path, *, energy: str = "binding", timezone: str = "UTC"
) -> list[Spectrum]:
    """Read a Scienta SES Igor binary wave (``.ibw``): one Spectrum.

    Parameters
    ----------
    path : Path
        The file.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_scienta_ibw`.
    timezone : str, default "UTC"
        IANA zone of the instrument clock (SES writes local time without a zone).

    Returns
    -------
    list of Spectrum
        See :func:`parse_scienta_ibw`.

    Raises
    ------
    ParseError
        Missing, unreadable, truncated, corrupt (checksum) or unsupported file.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> [ag3d] = specssb.read("Ag_0001Ag__001.ibw")  # doctest: +SKIP
    >>> ag3d.meta["excitation_energy_ev"], ag3d.axis.size  # doctest: +SKIP
    (520.0, 361)
    """
    _check_options(energy, timezone)
    data = read_bytes(path)
    return parse_scienta_ibw(data, source=make_source(path, "scienta-ibw", data=data),
                             energy=energy, timezone=timezone)
