"""Varian / Agilent VnmrJ experiment folders: ``fid`` + ``procpar`` (time domain).

A VnmrJ data set is a folder, usually named ``<name>.fid``::

    <name>.fid/fid       binary FIDs
    <name>.fid/procpar   all parameters, text
    <name>.fid/text      the experiment's text (title), optional
    <name>.fid/log       acquisition log, optional (not read)

:func:`read_varian` accepts the folder or its ``fid``/``procpar`` file. ``procpar`` is parsed by
nmrglue's own record reader (``nmrglue.fileio.varian.get_parameter``) from memory, so
``raw_meta["procpar"]`` is exactly nmrglue's ``dic["procpar"]``; a record it cannot parse is a
ParseError naming the line. The ``fid`` file is decoded here after its size has been checked
against its header, and gives the same values as ``nmrglue.varian.read`` (checked in the tests
on every real data set).

``fid`` layout (VnmrJ User Programming manual, "Data file structures"; as verified on an Inova
``s2pul`` and a VNMRS ``relax`` data set), big-endian throughout:

- file header, 32 bytes: ``nblocks, ntraces, np, ebytes, tbytes, bbytes`` (int32),
  ``vers_id, status`` (int16), ``nbheaders`` (int32). ``status`` bit 0x8 float32 data, else bit
  0x4 int32, else int16.
- ``nblocks`` blocks of ``bbytes = nbheaders * 28 + ntraces * tbytes`` bytes: 28-byte block
  header(s), then ``ntraces`` traces of ``np`` values (``tbytes = np * ebytes``), real and
  imaginary interleaved. A trace is one FID of ``np / 2`` complex points.

Shape: one trace gives a 1-D FID. Several traces from an arrayed 1-D experiment
(``arraydim`` traces, ``ni`` ≤ 1, procpar ``array`` names one parameter or a joint array
``(a,b)``) get a leading dimension named after the arrayed parameter, with its values as
coordinate: subtype 3 (delay) in ``s``, 5 (frequency) ``Hz``, 6 (pulse, stored in µs) converted
to ``s``, 7 (integer) ``1``, other reals unitless. Everything else (2-D ``ni``/``phase``, nested
arrays ``a,b``) gets a leading ``("increment",)`` dimension without coordinate.

``t = 0`` is the first stored point, dwell ``1 / sw``.

What procpar becomes in ``meta``:

================  ==============================================================
``tn``            ``nucleus`` (``P31`` -> ``"31P"``)
``sfrq``          ``sfo1_mhz``
``reffrq``        ``sf_mhz`` (reference frequency of the ppm scale)
``sw``            ``spectral_width_hz``
``np``            ``n_points`` = ``np / 2`` complex points
``ct`` (``nt``)   ``n_scans`` (completed transients; ``nt`` when ``ct`` is absent)
``temp``          ``temperature_k`` (°C + 273.15), only when active (VT on)
``srate``         ``mas_rate_hz``: only a frequency-type (subtype 5), active, nonzero
                  ``srate`` (the solids MAS controller's rate); Inova liquids consoles
                  carry an integer ``srate`` that is not a MAS rate
``seqfil``        ``pulse_program``
``console``       ``instrument``
``operator_``     ``operator``
``samplename``    ``sample``
``time_run``      ``acquired_at`` (local ``YYYYMMDDTHHMMSS`` read in ``timezone``)
``text`` file     ``title``
================  ==============================================================

References
----------
Agilent Technologies, "VnmrJ 4 User Programming", chapter "Data file structures".
J. J. Helmus, C. P. Jaroniec, J. Biomol. NMR 55 (2013) 355-367 (nmrglue).
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import struct
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import make_source, read_bytes, time_zone
from specssb.parsers._nmr_meta import check_finite, local_to_utc, nucleus_label
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Coord, Source, Spectrum

__all__ = ["parse_procpar", "parse_varian", "read_varian", "sniff_varian"]

FORMAT = "varian"

#: File header and block header sizes of a VnmrJ ``fid`` (bytes).
FILE_HEADER_BYTES = 32
BLOCK_HEADER_BYTES = 28

#: procpar files larger than this are not procpar files.
MAX_PROCPAR_BYTES = 16 * 1024 * 1024

#: procpar subtype -> (unit, factor to that unit) of an arrayed parameter's coordinate.
SUBTYPE_UNITS: Mapping[str, tuple[str, float]] = {
    "3": ("s", 1.0), "5": ("Hz", 1.0), "6": ("s", 1e-6), "7": ("1", 1.0), "1": ("", 1.0),
}


# --------------------------------------------------------------------------- sniffing
def sniff_varian(path: Path, head: bytes) -> bool:
    """True for a folder holding ``fid`` and ``procpar`` (and no Bruker ``acqus``), or for a
    ``fid``/``procpar`` file with its partner beside it."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if not path.is_dir() and path.name not in ("fid", "procpar"):
        return False
    return ((folder / "fid").is_file() and (folder / "procpar").is_file()
            and not (folder / "acqus").exists())


# --------------------------------------------------------------------------- reader
@register_parser(
    name=FORMAT, technique="nmr", extensions=(), magic=(), sniff=sniff_varian,
    description="Varian/Agilent VnmrJ experiment folder (fid + procpar), arrayed series too",
)
def read_varian(path: Path, *, timezone: str = "UTC") -> list[Spectrum]:
    """Read a VnmrJ experiment folder: the raw FID(s) with their parameters.

    Parameters
    ----------
    path : Path
        The ``<name>.fid`` folder, or its ``fid`` or ``procpar`` file.
    timezone : str, default "UTC"
        IANA zone of the spectrometer clock (``time_run`` is local time without a zone).

    Returns
    -------
    list of Spectrum
        One Spectrum: complex FID(s) on a ``time`` axis (s), ``signal="fid"``; arrayed data
        have a leading dimension named after the arrayed parameter (see the module docstring).

    Raises
    ------
    ParseError
        Missing files, a procpar record that cannot be parsed, required parameters missing,
        a ``fid`` whose size or header disagrees with itself or with procpar.
    ConfigError
        An unknown ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> series, = specssb.read("ssnake/satrec2D.fid")       # doctest: +SKIP
    >>> series.dims, series.coords["tau_recovery"].unit     # doctest: +SKIP
    (('tau_recovery',), 's')
    """
    path = Path(path)
    time_zone(timezone)
    folder = path.parent if path.is_file() else path
    if path.is_file() and path.name not in ("fid", "procpar"):
        raise ParseError(path, "not a Varian data file (expected fid or procpar)")
    for name in ("procpar", "fid"):
        if not (folder / name).is_file():
            raise ParseError(folder, f"not a Varian/Agilent data folder: no {name} file")
    procpar_path = folder / "procpar"
    if procpar_path.stat().st_size > MAX_PROCPAR_BYTES:
        raise ParseError(procpar_path, "too large for a procpar file")
    procpar = parse_procpar(read_bytes(procpar_path), path=procpar_path)
    header, data = _read_fid(folder / "fid")
    dic: dict[str, Any] = {**header, "procpar": procpar}
    text = _optional_text(folder / "text")
    if text is not None:
        dic["text"] = text
    source = make_source(folder, FORMAT, library=f"nmrglue {_nmrglue().__version__}")
    return parse_varian(dic, data, source=source, timezone=timezone)


def _nmrglue() -> Any:
    import nmrglue

    return nmrglue


def _optional_text(path: Path) -> str | None:
    if not path.is_file():
        return None
    raw = read_bytes(path)
    if b"\x00" in raw:
        warnings.warn(f"{path}: binary data in the text file; ignored", MetadataWarning,
                      stacklevel=3)
        return None
    return raw.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- procpar
def parse_procpar(data: bytes, *, path: str | Path = "<bytes>") -> dict[str, dict[str, Any]]:
    """Parse a VnmrJ ``procpar`` file with nmrglue's record reader.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    path : str or Path, optional
        Used in error messages.

    Returns
    -------
    dict
        name -> nmrglue's record: ``{"name", "subtype", "basictype", "active", "values",
        "enumerable", ...}`` (all strings, ``values`` a list of strings).

    Raises
    ------
    ParseError
        For an empty file, binary data, or a record nmrglue cannot parse (with its line).

    Examples
    --------
    >>> p = parse_procpar(b'sw 1 1 1e9 0 0 2 1 0 1 64\\n1 5000\\n0\\n')
    >>> p["sw"]["values"]
    ['5000']
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParseError(path, "binary data in a procpar file", position=f"byte {nul}")
    if not data.strip():
        raise ParseError(path, "empty procpar file", position="line 1")
    stream = io.BytesIO(data)
    params: dict[str, dict[str, Any]] = {}
    ng = _nmrglue()
    while stream.tell() < len(data):
        start = stream.tell()
        if not data[start:].strip():
            break
        try:
            record = ng.fileio.varian.get_parameter(stream)
        except (IndexError, ValueError, UnicodeDecodeError) as exc:
            line = data.count(b"\n", 0, start) + 1
            raise ParseError(path, f"malformed procpar record ({type(exc).__name__}: {exc})",
                             position=f"line {line}") from exc
        params[record["name"]] = record
    return params


# --------------------------------------------------------------------------- fid
def _read_fid(path: Path) -> tuple[dict[str, Any], np.ndarray]:
    raw = read_bytes(path)
    return decode_fid(raw, path=path)


def decode_fid(raw: bytes, *, path: str | Path = "<bytes>") -> tuple[dict[str, Any], np.ndarray]:
    """Decode a VnmrJ ``fid`` file: its header (nmrglue's dictionary) and complex traces.

    Parameters
    ----------
    raw : bytes
        The whole file.
    path : str or Path, optional
        Used in error messages.

    Returns
    -------
    header : dict
        nmrglue's ``fileheader2dic``: nblocks, ntraces, np, ebytes, tbytes, bbytes, vers_id,
        status, nbheaders and the ``S_*`` status flags.
    traces : ndarray of shape (nblocks * ntraces, np // 2), complex128

    Raises
    ------
    ParseError
        If the header is inconsistent or the file size disagrees with it.
    """
    if len(raw) < FILE_HEADER_BYTES:
        raise ParseError(path, f"{len(raw)} bytes is shorter than the 32-byte fid file header",
                         position=f"byte {len(raw)}")
    header = _nmrglue().fileio.varian.fileheader2dic(struct.unpack(">6lhhl", raw[:32]))
    nblocks, ntraces, points = header["nblocks"], header["ntraces"], header["np"]
    ebytes, tbytes, bbytes, nbheaders = (header[k] for k in ("ebytes", "tbytes", "bbytes",
                                                            "nbheaders"))
    dtype = ">f4" if header["S_FLOAT"] else (">i4" if header["S_32"] else ">i2")
    problems = []
    if not (nblocks > 0 and ntraces > 0 and points > 0 and points % 2 == 0):
        problems.append(f"nblocks={nblocks}, ntraces={ntraces}, np={points} (np must be even)")
    if ebytes != np.dtype(dtype).itemsize:
        problems.append(f"ebytes={ebytes} but status {header['status']:#x} says {dtype[1:]}")
    if tbytes != points * ebytes:
        problems.append(f"tbytes={tbytes} != np*ebytes={points * ebytes}")
    if nbheaders < 0 or bbytes != nbheaders * BLOCK_HEADER_BYTES + ntraces * tbytes:
        problems.append(f"bbytes={bbytes} != nbheaders*28 + ntraces*tbytes")
    if problems:
        raise ParseError(path, "inconsistent fid file header: " + "; ".join(problems),
                         position="byte 0")
    expected = FILE_HEADER_BYTES + nblocks * bbytes
    if len(raw) != expected:
        raise ParseError(path, f"fid holds {len(raw)} bytes; its header declares {nblocks} "
                               f"block(s) of {bbytes} bytes = {expected} bytes"
                               f"{' (truncated)' if len(raw) < expected else ''}",
                         position=f"byte {min(len(raw), expected)}")
    check_array((nblocks * ntraces, points), "FIDs (and their complex copy)", itemsize=16, path=path)
    blocks = np.frombuffer(raw, dtype=np.uint8, offset=FILE_HEADER_BYTES).reshape(nblocks, bbytes)
    body = np.ascontiguousarray(blocks[:, nbheaders * BLOCK_HEADER_BYTES:])
    values = body.view(dtype).astype(np.float64).reshape(nblocks * ntraces, points)
    return header, values[:, 0::2] + 1j * values[:, 1::2]


# --------------------------------------------------------------------------- pure parse
def parse_varian(dic: Mapping[str, Any], data: np.ndarray, *, source: Source,
                 timezone: str = "UTC") -> list[Spectrum]:
    """Turn a VnmrJ data set (nmrglue's ``dic`` layout, decoded traces) into Spectra.

    Parameters
    ----------
    dic : Mapping
        ``dic["procpar"]`` as :func:`parse_procpar` returns it (needs ``np``, ``sw``), the fid
        header keys, and optionally ``dic["text"]``. Kept whole as ``raw_meta``.
    data : ndarray of shape (n_traces, np // 2) or (np // 2,), complex
        The FID traces in file order.
    source : Source
        Provenance.
    timezone : str, default "UTC"
        Zone of ``time_run``.

    Returns
    -------
    list of Spectrum
        One Spectrum (see :func:`read_varian`).

    Raises
    ------
    ParseError
        Missing or invalid ``np``/``sw``, or data that disagree with them.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Source
    >>> rec = lambda v, sub="1": {"values": [str(v)], "subtype": sub, "basictype": "1",
    ...                           "active": "1"}
    >>> dic = {"procpar": {"np": rec(8), "sw": rec(1000.0), "tn": {**rec("Li7"),
    ...        "basictype": "2"}}}
    >>> s, = parse_varian(dic, np.ones((1, 4), complex), source=Source("x", "0" * 64, "varian"))
    >>> s.axis.values.tolist(), s.meta["nucleus"]
    ([0.0, 0.001, 0.002, 0.003], '7Li')
    """
    path = source.path
    procpar = dic.get("procpar")
    if not isinstance(procpar, Mapping):
        raise ParseError(path, "no procpar parameters")
    points = _required_number(procpar, "np", path)
    sw = _required_number(procpar, "sw", path)
    if points != int(points) or points < 2 or points % 2:
        raise ParseError(path, f"procpar np={points:g} must be an even positive integer")
    n = int(points) // 2
    traces = np.asarray(data)
    if traces.dtype.kind != "c":
        raise ParseError(path, f"FID data must be complex, found dtype {traces.dtype}")
    traces = traces.reshape(-1, traces.shape[-1]) if traces.ndim else traces.reshape(1, 1)
    if traces.shape[-1] != n:
        raise ParseError(path, f"FID traces hold {traces.shape[-1]} complex points; procpar "
                               f"np={int(points)} declares {n}",
                         position=f"point {min(traces.shape[-1], n)}")
    check_finite(traces, path)
    dims: tuple[str, ...] = ()
    coords: dict[str, Coord] = {}
    values: np.ndarray = traces[0]
    if traces.shape[0] > 1:
        dims, coords = _leading(procpar, traces.shape[0], path)
        values = traces
    meta = _meta(procpar, dic, path, timezone)
    meta["spectral_width_hz"] = sw
    meta["n_points"] = n
    return [Spectrum(axis=Axis("time", "s", np.arange(n) / sw), data=values, technique="nmr",
                     signal="fid", dims=dims, coords=coords, meta=meta, raw_meta=dict(dic),
                     source=source)]


def _value(procpar: Mapping[str, Any], name: str) -> str | None:
    record = procpar.get(name)
    if not isinstance(record, Mapping) or not record.get("values"):
        return None
    return str(record["values"][0])


def _number(procpar: Mapping[str, Any], name: str) -> float | None:
    text = _value(procpar, name)
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and np.isfinite(value) else None


def _required_number(procpar: Mapping[str, Any], name: str, path: str) -> float:
    value = _number(procpar, name)
    if value is None or value <= 0:
        raise ParseError(path, f"procpar {name} must be a positive number, found "
                               f"{_value(procpar, name)!r}")
    return value


def _active(procpar: Mapping[str, Any], name: str) -> bool:
    record = procpar.get(name)
    return isinstance(record, Mapping) and record.get("active") == "1"


def _leading(procpar: Mapping[str, Any], n_traces: int,
             path: str) -> tuple[tuple[str, ...], dict[str, Coord]]:
    """The arrayed parameter(s) as dimension and coordinates, else ``("increment",)``."""
    array = (_value(procpar, "array") or "").replace(" ", "")
    ni = _number(procpar, "ni") or 1
    if not array or ni > 1 or "phase" in array:
        return ("increment",), {}
    joint = re.fullmatch(r"\(([^()]+)\)", array)
    if joint is None and ("," in array or "(" in array):
        warnings.warn(f"{path}: nested arrays ({array}) are not mapped to dimensions; leading "
                      "dimension left as 'increment'", MetadataWarning, stacklevel=4)
        return ("increment",), {}
    names = (joint.group(1) if joint else array).split(",")
    coords: dict[str, Coord] = {}
    for name in names:
        record = procpar.get(name)
        if not isinstance(record, Mapping) or len(record.get("values", [])) != n_traces:
            found = len(record["values"]) if isinstance(record, Mapping) else "no"
            warnings.warn(f"{path}: arrayed parameter {name!r} has {found} values for "
                          f"{n_traces} FIDs; leading dimension left as 'increment'",
                          MetadataWarning, stacklevel=4)
            return ("increment",), {}
        coords[name] = _coordinate(names[0], record)
    return (names[0],), coords


def _coordinate(dim: str, record: Mapping[str, Any]) -> Coord:
    texts = [str(v) for v in record["values"]]
    if record.get("basictype") != "1":
        return Coord(dim, np.asarray(texts), "")
    unit, factor = SUBTYPE_UNITS.get(str(record.get("subtype")), ("", 1.0))
    try:
        numbers = np.asarray([float(t) for t in texts]) * factor
    except ValueError:
        return Coord(dim, np.asarray(texts), "")
    if unit == "1" and np.all(numbers == np.round(numbers)):
        numbers = numbers.astype(np.int64)
    return Coord(dim, numbers, unit)


def _meta(procpar: Mapping[str, Any], dic: Mapping[str, Any], path: str,
          timezone: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    nucleus = nucleus_label(_value(procpar, "tn"))
    if nucleus:
        meta["nucleus"] = nucleus
    for key, name in (("sfrq", "sfo1_mhz"), ("reffrq", "sf_mhz")):
        value = _number(procpar, key)
        if value is not None and value > 0:
            meta[name] = value
    scans = _number(procpar, "ct") or _number(procpar, "nt")
    if scans is not None and scans == int(scans) and scans >= 0:
        meta["n_scans"] = int(scans)
    temp = _number(procpar, "temp")
    if temp is not None and _active(procpar, "temp") and temp > -273.15:
        meta["temperature_k"] = temp + 273.15
    srate = _number(procpar, "srate")
    if (srate and srate > 0 and _active(procpar, "srate")
            and procpar["srate"].get("subtype") == "5"):
        meta["mas_rate_hz"] = srate
    for key, name in (("seqfil", "pulse_program"), ("console", "instrument"),
                      ("operator_", "operator"), ("samplename", "sample")):
        text = (_value(procpar, key) or "").strip()
        if text:
            meta[name] = text
    title = dic.get("text")
    if isinstance(title, str) and title.strip():
        meta["title"] = title.strip()
    run = _value(procpar, "time_run")
    if run:
        try:
            meta["acquired_at"] = local_to_utc(_dt.datetime.strptime(run, "%Y%m%dT%H%M%S"),
                                               timezone)
        except ValueError:
            warnings.warn(f"{path}: procpar time_run={run!r} is not YYYYMMDDTHHMMSS; "
                          "acquired_at left unset", MetadataWarning, stacklevel=4)
    return meta
