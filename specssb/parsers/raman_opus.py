"""Bruker OPUS files (``.0``, ``.1`` …): FT-Raman spectra.

Layout (as documented by the MIT-licensed brukeropus package and checked on
``ramanchada2/test_opus.0``), little-endian:

* a 24-byte header: magic ``0A 0A FE FE``, program version (float64), directory offset,
  maximum and actual number of blocks (int32 each);
* the directory: one 12-byte entry per block, ``type`` (uint32), ``length`` (int32, in 4-byte
  words) and ``offset`` (int32, bytes). The type packs six fields: bits 0-1 complex/real/
  amplitude, bits 2-3 sample/reference/ratioed, bits 4-9 parameter kind (1 = data status
  parameters, 2 instrument, 3 acquisition, 4 Fourier transform, 6 optics, 10 sample …),
  bits 10-16 data kind (1 single channel, 2 interferogram, 10 **Raman**, 13 directory …),
  bits 17-18 derivative, bits 19-21 extended;
* parameter blocks: records ``KEY\\0`` (3 ASCII letters), type (int16: 0 int32, 1 float64,
  2 string, 3 enum, 4 senum), size (int16, in 2-byte words), value; ``END`` closes the block;
* a data block holds ``NPT`` values (float32 for ``DPF`` = 1, int32 for 2), its data-status
  block (same type with parameter kind 1) gives ``FXV``/``LXV`` (first/last x), ``NPT``,
  ``CSF`` (y scaling factor), ``DXU`` (x unit: ``WN`` wavenumber, ``MI`` µm, ``LGW``,
  ``MIN``, ``PNT`` …), ``DAT``/``TIM`` (``dd/mm/yyyy``, ``hh:mm:ss.sss (GMT+1)``).

Only Raman blocks (data kind 10, OPUS "AB" of a Raman measurement) are returned, one Spectrum
each, with an evenly spaced ``raman_shift`` axis FXV → LXV (cm-1, file order) and data × CSF.
A file with no Raman block is a ParseError listing the blocks it has.

Laser: in FT-Raman files ``LWN`` (instrument block) is the interferometer's **HeNe reference
laser** (15798.9 cm-1 = 632.9 nm in ``test_opus.0``), not the excitation; the Raman laser is
``RLW`` (9394.9 cm-1 = 1064.4 nm there), so ``laser_wavelength_nm = 1e7 / RLW``. LWN is
used only when RLW is absent and LWN is not the HeNe line (e.g. dispersive Raman units writing
the excitation there). Both stay in ``raw_meta``.

``meta``: ``laser_wavelength_nm``, ``acquired_at`` (``SRT`` Unix time, else DAT + TIM as UTC:
TIM is written on the UTC clock whatever its ``(GMT+1)`` label says), ``n_scans``
(``NSS``), ``instrument`` (``INS``), ``sample`` (``SNM``), ``operator`` (``CNM``). ``raw_meta``:
every parameter block by name (``instrument``, ``acquisition``, ``optics``, ``sample`` …), the
data-status parameters, the directory and the history text.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._raman_axis import check_axis
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_opus", "read_opus"]

FORMAT = "opus"
MAGIC = b"\x0a\x0a\xfe\xfe"
HEADER = 24
DIRECTORY_ENTRY = 12
MAX_BLOCKS = 10_000
RAMAN = 10
HENE_WAVENUMBER = 15798.0  # cm-1, the reference laser line (632.99 nm), ±10
_PARAM_KINDS = {1: "data_status", 2: "instrument", 3: "acquisition", 4: "fourier_transform",
                5: "plot", 6: "optics", 7: "gc", 8: "library_search", 9: "communication",
                10: "sample", 11: "lab_and_process"}
_DATA_KINDS = {0: "undefined", 1: "single channel", 2: "interferogram", 3: "phase",
               4: "absorbance", 5: "transmittance", 6: "Kubelka-Munk", 7: "trace",
               10: "Raman", 11: "emission", 12: "reflectance", 13: "directory", 14: "power"}


def _decode_type(value: int) -> tuple[int, int, int, int, int, int]:
    return (value & 0x3, (value >> 2) & 0x3, (value >> 4) & 0x3F, (value >> 10) & 0x7F,
            (value >> 17) & 0x3, (value >> 19) & 0x7)


def _directory(data: bytes, path: str) -> list[tuple[tuple[int, ...], int, int, int]]:
    """``(decoded type, raw type, size in bytes, offset)`` for every block."""
    if len(data) < HEADER:
        raise ParseError(path, f"truncated file: the OPUS header needs {HEADER} bytes",
                         position=f"byte {len(data)}")
    if data[:4] != MAGIC:
        raise ParseError(path, "not a Bruker OPUS file (magic 0A 0A FE FE missing)",
                         position="byte 0")
    _version, start, _maximum, count = struct.unpack_from("<diii", data, 4)
    if not 0 < count <= MAX_BLOCKS or start < HEADER or start + count * DIRECTORY_ENTRY > len(data):
        raise ParseError(path, f"directory of {count} blocks at byte {start} does not fit the "
                               f"{len(data)}-byte file", position="byte 12")
    blocks = []
    for index in range(count):
        raw_type, words, offset = struct.unpack_from("<Iii", data, start + index * DIRECTORY_ENTRY)
        size = 4 * words
        if words < 0 or offset < 0 or offset + size > len(data):
            raise ParseError(path, f"block {index} (type 0x{raw_type:x}, {size} bytes at byte "
                                   f"{offset}) runs past the end of the file",
                             position=f"byte {start + index * DIRECTORY_ENTRY}")
        blocks.append((_decode_type(raw_type), raw_type, size, offset))
    return blocks


def _parameters(data: bytes, offset: int, size: int, path: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    position, end = offset, offset + size
    while position + 8 <= end:
        key = data[position:position + 3].decode("latin-1")
        if key == "END":
            return values
        if not re.fullmatch(r"[A-Z0-9_]{3}", key):
            raise ParseError(path, f"parameter block holds an invalid key {key!r}",
                             position=f"byte {position}")
        kind, words = struct.unpack_from("<hh", data, position + 4)
        length = 2 * words
        if words < 0 or position + 8 + length > end:
            raise ParseError(path, f"parameter {key} runs past its block",
                             position=f"byte {position}")
        if kind == 0 and length >= 4:
            value: Any = struct.unpack_from("<i", data, position + 8)[0]
        elif kind == 1 and length >= 8:
            value = struct.unpack_from("<d", data, position + 8)[0]
        else:
            value = data[position + 8:position + 8 + length].split(b"\0", 1)[0].decode("latin-1")
        values.setdefault(key, value)
        position += 8 + length
    return values


def _acquired_at(status: dict[str, Any], instrument: dict[str, Any]) -> _dt.datetime | None:
    """Measurement start: ``SRT`` (Unix seconds) when present, else DAT + TIM read as UTC.

    In ``test_opus.0`` TIM says ``16:59:10.608 (GMT+1)`` while SRT is 16:59:10.6 UTC and the
    history line says ``18:59:14 (GMT+2)``: TIM is the UTC clock and its ``GMT`` label is the
    zone setting, not an offset to apply.
    """
    start = instrument.get("SRT")
    if isinstance(start, (int, float)) and 6e8 < start < 4.2e9:
        return _dt.datetime.fromtimestamp(float(start), tz=_dt.timezone.utc)
    date, time = str(status.get("DAT", "")), str(status.get("TIM", ""))
    day = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", date.strip())
    clock = re.match(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?", time.strip())
    if not day or not clock:
        return None
    fraction = int(((clock.group(4) or "0") + "000000")[:6])
    try:
        return _dt.datetime(int(day.group(3)), int(day.group(2)), int(day.group(1)),
                            int(clock.group(1)), int(clock.group(2)), int(clock.group(3)),
                            fraction, tzinfo=_dt.timezone.utc)
    except ValueError:
        return None


def _laser_nm(instrument: dict[str, Any]) -> float | None:
    for key in ("RLW", "LWN"):
        value = instrument.get(key)
        if not isinstance(value, (int, float)) or value <= 0:
            continue
        if key == "LWN" and abs(value - HENE_WAVENUMBER) < 10:
            continue  # the interferometer's HeNe reference, not the Raman excitation
        return 1e7 / float(value)
    return None


def _plain(value: Any) -> Any:
    return value if not isinstance(value, float) or np.isfinite(value) else None


def parse_opus(data: bytes, *, source: Source) -> list[Spectrum]:
    """Parse the bytes of a Bruker OPUS file into its Raman spectra.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance.

    Returns
    -------
    list of Spectrum
        One 1-D Spectrum per Raman data block (``source.block`` is the directory index).

    Raises
    ------
    ParseError
        Wrong magic, a directory or block running past the end of the file, a malformed
        parameter block, a data block without its status block, NPT/size disagreements,
        no Raman block at all, non-finite values.
    """
    path = source.path
    blocks = _directory(data, path)
    parameters: dict[str, dict[str, Any]] = {}
    statuses: dict[tuple[int, ...], dict[str, Any]] = {}
    history: list[str] = []
    for kind, _raw, size, offset in blocks:
        complex_kind, sample_kind, param, dkind, deriv, ext = kind
        if param == 1:
            statuses[(complex_kind, sample_kind, dkind, deriv, ext)] = _parameters(
                data, offset, size, path)
        elif param in _PARAM_KINDS and dkind == 0 and param != 1:
            parameters.setdefault(_PARAM_KINDS[param], _parameters(data, offset, size, path))
        elif ext == 5 or (param == 0 and dkind == 0 and data[offset:offset + 3] == b"\0\0\0"):
            text = data[offset:offset + size].replace(b"\0", b"\n").decode("latin-1")
            history.extend(line for line in (t.strip() for t in text.splitlines()) if line)
    instrument = parameters.get("instrument", {})
    laser = _laser_nm(instrument)
    spectra = []
    for index, (kind, raw_type, size, offset) in enumerate(blocks):
        complex_kind, sample_kind, param, dkind, deriv, ext = kind
        if param != 0 or dkind != RAMAN:
            continue
        status = statuses.get((complex_kind, sample_kind, dkind, deriv, ext))
        where = f"block {index} (byte {offset})"
        if status is None:
            raise ParseError(path, "Raman data block has no data-status parameter block",
                             position=where)
        try:
            npoints, first, last = int(status["NPT"]), float(status["FXV"]), float(status["LXV"])
        except (KeyError, TypeError, ValueError):
            raise ParseError(path, "data-status block lacks NPT, FXV or LXV",
                             position=where) from None
        dtype = "<i4" if status.get("DPF") == 2 else "<f4"
        if npoints < 1 or 4 * npoints > size:
            raise ParseError(path, f"NPT={npoints} does not fit the {size}-byte data block",
                             position=where)
        values = np.frombuffer(data, dtype, npoints, offset).astype(np.float64)
        scale = status.get("CSF", 1.0)
        values = values * (float(scale) if isinstance(scale, (int, float)) and scale else 1.0)
        if not np.all(np.isfinite(values)):
            raise ParseError(path, "Raman data hold NaN or infinite values", position=where)
        unit = str(status.get("DXU", "WN"))
        if unit != "WN":
            raise ParseError(path, f"Raman block x unit {unit!r} is not wavenumber (WN)",
                             position=where)
        axis = Axis("raman_shift", "cm-1",
                    check_axis(np.linspace(first, last, npoints), path, where))
        meta: dict[str, Any] = {}
        if laser:
            meta["laser_wavelength_nm"] = laser
        when = _acquired_at(status, instrument)
        if when is not None:
            meta["acquired_at"] = when
        scans = parameters.get("acquisition", {}).get("NSS")
        if isinstance(scans, int) and scans > 0:
            meta["n_scans"] = scans
        for key, block, name in (("INS", "instrument", "instrument"), ("SNM", "sample", "sample"),
                                 ("CNM", "sample", "operator")):
            value = parameters.get(block, {}).get(key)
            if isinstance(value, str) and value.strip():
                meta[name] = value.strip()
        raw: dict[str, Any] = {name: {k: _plain(v) for k, v in values_.items()}
                               for name, values_ in parameters.items()}
        raw["data_status"] = {k: _plain(v) for k, v in status.items()}
        raw["block_type"] = f"0x{raw_type:08x}"
        raw["data_kind"] = _DATA_KINDS.get(dkind, str(dkind))
        raw["directory"] = [{"type": f"0x{t:08x}", "bytes": s, "offset": o,
                             "data_kind": _DATA_KINDS.get(k[3], str(k[3])),
                             "parameters": _PARAM_KINDS.get(k[2])}
                            for k, t, s, o in blocks]
        if history:
            raw["history"] = history[:200]
        spectra.append(Spectrum(axis=axis, data=values, technique="raman", signal="intensity",
                                meta=meta, raw_meta=raw,
                                source=dataclasses.replace(source, block=index)))
    if not spectra:
        kinds = sorted({_DATA_KINDS.get(k[3], str(k[3])) for k, _t, _s, _o in blocks
                        if k[2] == 0 and k[3] not in (0, 13)})
        raise ParseError(path, f"no Raman data block (data blocks present: {kinds or 'none'})")
    return spectra


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".0", ".1", ".2", ".opus"),
    magic=(MAGIC,),
    description="Bruker OPUS binary (FT-Raman spectrum blocks, data-status scaling, "
                "excitation laser from RLW)",
)
def read_opus(path: Path) -> list[Spectrum]:
    """Read the Raman spectra of a Bruker OPUS file (see :func:`parse_opus`).

    Parameters
    ----------
    path : Path
        The file (OPUS numbers its files ``name.0``, ``name.1`` …).

    Returns
    -------
    list of Spectrum

    Examples
    --------
    >>> [s] = read_opus(Path("test_opus.0"))  # doctest: +SKIP
    >>> s.axis.size, round(s.meta["laser_wavelength_nm"], 1)  # doctest: +SKIP
    (4096, 1064.4)
    """
    data = read_bytes(path)
    return parse_opus(data, source=make_source(path, FORMAT, data=data))
