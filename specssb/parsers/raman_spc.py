"""Thermo/Galactic SPC files (``.spc``): Raman exports of WiRE, WITec Project and LabSpec.

Layout (Galactic Industries "SPC file format", GRAMS SDK ``SPC.H``), as checked on the real
files of ``../shared/data/raman``:

* byte 0 ``ftflgs``: ``0x01`` 16-bit integer Y, ``0x04`` multifile, ``0x08``/``0x10`` random or
  ordered Z values, ``0x40`` XYXY (every subfile has its own X), ``0x80`` one X array
  (float32, ``fnpts`` values) follows the header;
* byte 1 ``fversn``: ``0x4B`` new format little-endian (512-byte header), ``0x4C`` the same
  big-endian, ``0x4D`` the old (LabCalc) format (256-byte header, 32-bit Y stored high word
  first);
* new header: ``fexp`` (int8 at 3; ``-128`` = IEEE float32 Y), ``fnpts`` (int32 at 4; for XYXY
  files the byte offset of the subfile directory), ``ffirst``/``flast`` (float64 at 8/16,
  evenly spaced X when there is no X array), ``fnsub`` (int32 at 24), ``fxtype``/``fytype``/
  ``fztype`` (28/29/30), ``fdate`` (packed minute/hour/day/month/year at 32), ``fsource``
  (9 chars at 45), ``fcmnt`` (130 chars at 88), ``flogoff`` (int32 at 248);
* each subfile: a 32-byte subheader (``subexp`` int8 at 1, ``subindx`` int16 at 2,
  ``subtime``/``subnext`` float32 at 4/8, ``subnpts`` int32 at 16), for XYXY files a float32 X
  array, then Y: float32, or int32 / int16 scaled by ``2**(exp - 32)`` / ``2**(exp - 16)``
  (``subexp`` for multifiles, ``fexp`` for single spectra);
* the log block at ``flogoff``: 64-byte ``LOGSTC`` (``logsizd``, ``logsizm``, ``logtxto``,
  ``logbins`` …) then ``key=value`` text lines ending at a NUL (Renishaw WiRE writes its
  measurement settings there).

Axis: ``fxtype`` 13 (Raman shift) and 1 (wavenumber, which Raman exporters use for the shift)
-> ``raman_shift`` (cm-1); 3 (nm) and 2 (µm, ×1000) -> ``wavelength`` (nm); 16/17/22 (diode,
channel, data points) and 0 (arbitrary) with integer values -> ``channel``; anything else is a
ParseError naming the type. Values stay in file order (LabSpec and WiRE write decreasing shift).

Shapes: a single spectrum is 1-D. A multifile with one X is one Spectrum with dims
``("scan",)`` and the coordinate ``subfile_z`` (each subheader's ``subtime``, unit from
``fztype``). SPC carries no map grid: WITec's 2×3 image export
(``Witec_image2x3_SPC_Data_1_F.spc``) says nothing about its shape in the header, the
subheaders or a log, so it reads as 6 scans; pass ``map_shape=(ny, nx)`` to get dims
``("y", "x")`` (subfiles fill rows, x fastest; no stage coordinates exist in the file). XYXY
multifiles whose subfiles have different X give one Spectrum per subfile (``source.block`` =
subfile index).

Metadata: ``title`` (``fcmnt``), ``acquired_at`` (``fdate``, local time read in the
``timezone`` option, default UTC). From a WiRE log: ``laser_wavelength_nm`` (``Laser=Laser:
785 nm edge``), ``exposure_time_s`` (``Exposure_time=Time: 10s``; a bare number is in ms, as
WiRE writes ``Time: 3000`` for 3 s), ``n_accumulations``, ``grating``, ``operator``,
``measurement_type`` (``SingleScan`` -> ``single``). ``raw_meta``: every header field, the
flags decoded, the per-subfile subheaders, the log as a dict (``log``) and its other lines
(``log_lines``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import ConfigError, ParseError
from specssb.parsers._common import make_source, read_bytes, time_zone
from specssb.parsers._raman_axis import check_axis, laser_nm_from_text
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Coord, Source, Spectrum

__all__ = ["parse_spc", "read_spc", "sniff_spc"]

FORMAT = "spc"
NEW_LSB, NEW_MSB, OLD = 0x4B, 0x4C, 0x4D
HEADER_NEW, HEADER_OLD, SUBHEADER, LOGSTC = 512, 256, 32, 64
#: Refuse headers that claim more than this many values (before allocating anything).
MAX_VALUES = 200_000_000

TSPREC, TCGRAM, TMULTI, TRANDM, TORDRD, TALABS, TXYXYS, TXVALS = (1 << i for i in range(8))
_FLAG_NAMES = ("TSPREC", "TCGRAM", "TMULTI", "TRANDM", "TORDRD", "TALABS", "TXYXYS", "TXVALS")

#: ``fxtype``/``fztype`` codes: label and unit text.
X_TYPES = {
    0: ("arbitrary", ""), 1: ("wavenumber", "cm-1"), 2: ("micrometers", "um"),
    3: ("nanometers", "nm"), 4: ("seconds", "s"), 5: ("minutes", "min"), 6: ("hertz", "Hz"),
    7: ("kilohertz", "kHz"), 8: ("megahertz", "MHz"), 9: ("mass", "m/z"), 10: ("ppm", "ppm"),
    11: ("days", "d"), 12: ("years", "a"), 13: ("raman shift", "cm-1"), 14: ("eV", "eV"),
    15: ("text labels", ""), 16: ("diode number", "1"), 17: ("channel", "1"),
    18: ("degrees", "deg"), 19: ("temperature", "degF"), 20: ("temperature", "degC"),
    21: ("temperature", "K"), 22: ("data points", "1"), 23: ("milliseconds", "ms"),
    24: ("microseconds", "us"), 25: ("nanoseconds", "ns"), 26: ("gigahertz", "GHz"),
    27: ("centimeters", "cm"), 28: ("meters", "m"), 29: ("millimeters", "mm"),
    30: ("hours", "h"), 255: ("double interferogram", ""),
}
#: ``fytype`` codes used to pick the signal (others are "intensity").
_Y_COUNTS = {4}
_Y_LABELS = {0: "arbitrary intensity", 2: "absorbance", 4: "counts", 11: "percent",
             12: "intensity", 13: "relative intensity", 128: "transmission",
             129: "reflectance", 131: "emission"}

_NEW = struct.Struct("<BBBbiddiBBBBI9s9sH32s130s30siiBBHf48sfifB187s")
_NEW_FIELDS = ("ftflgs", "fversn", "fexper", "fexp", "fnpts", "ffirst", "flast", "fnsub",
               "fxtype", "fytype", "fztype", "fpost", "fdate", "fres", "fsource", "fpeakpt",
               "fspare", "fcmnt", "fcatxt", "flogoff", "fmods", "fprocs", "flevel", "fsampin",
               "ffactor", "fmethod", "fzinc", "fwplanes", "fwinc", "fwtype", "freserv")
_OLD = struct.Struct("<BBhfffBBhBBBB8shh28s130s30s32s")
_OLD_FIELDS = ("ftflgs", "fversn", "fexp", "fnpts", "ffirst", "flast", "fxtype", "fytype",
               "oyear", "omonth", "oday", "ohour", "ominute", "fres", "fpeakpt", "onscans",
               "ospare", "fcmnt", "fcatxt", "osubh1")
_SUB_FIELDS = ("subflgs", "subexp", "subindx", "subtime", "subnext", "subnois", "subnpts",
               "subscan", "subwlevel")


# ------------------------------------------------------------------------------ sniffing
def sniff_spc(path: Path, head: bytes) -> bool:
    """True when the first bytes are a plausible SPC header (no magic string exists)."""
    if len(head) < HEADER_OLD or head[1] not in (NEW_LSB, NEW_MSB, OLD):
        return False
    if head[1] == OLD:
        fields = dict(zip(_OLD_FIELDS, _OLD.unpack_from(head), strict=True))
        npts = fields["fnpts"]
        return (1 <= npts <= MAX_VALUES and float(npts).is_integer()
                and fields["fxtype"] in X_TYPES and np.isfinite([fields["ffirst"],
                                                                 fields["flast"]]).all())
    if len(head) < HEADER_NEW:
        return False
    fields = _new_header(head, "<" if head[1] == NEW_LSB else ">")
    return (0 <= fields["fnpts"] <= MAX_VALUES and 0 <= fields["fnsub"] <= MAX_VALUES
            and fields["fxtype"] in X_TYPES and fields["fztype"] in X_TYPES
            and bool(np.isfinite([fields["ffirst"], fields["flast"]]).all())
            and fields["flogoff"] >= 0)


# ------------------------------------------------------------------------------ headers
def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def _new_header(data: bytes, order: str) -> dict[str, Any]:
    fmt = struct.Struct(order + _NEW.format[1:])
    return dict(zip(_NEW_FIELDS, fmt.unpack_from(data), strict=True))


def _subheader(data: bytes, offset: int, order: str, path: str) -> dict[str, Any]:
    if offset + SUBHEADER > len(data):
        raise ParseError(path, f"truncated file: subfile header needs {SUBHEADER} bytes, "
                               f"{max(len(data) - offset, 0)} left", position=f"byte {offset}")
    values = struct.unpack_from(order + "BbhfffiifI", data, offset)
    return dict(zip(_SUB_FIELDS, values[:9], strict=True))


def _flags(value: int) -> list[str]:
    return [name for i, name in enumerate(_FLAG_NAMES) if value & (1 << i)]


def _need(data: bytes, offset: int, size: int, path: str, what: str) -> None:
    if size < 0 or offset < 0 or offset + size > len(data):
        raise ParseError(path, f"truncated file: {what} needs {size} bytes at byte {offset}, "
                               f"the file has {len(data)}", position=f"byte {offset}")


def _y_values(data: bytes, offset: int, n: int, exponent: int, *, order: str, sixteen: bool,
              old: bool, path: str) -> np.ndarray:
    """Decode one subfile's Y (float32, or scaled int32/int16)."""
    if exponent == -128:
        _need(data, offset, 4 * n, path, "float Y data")
        return np.frombuffer(data, order + "f4", n, offset).astype(np.float64)
    if not -127 <= exponent <= 127:
        raise ParseError(path, f"invalid Y exponent {exponent}", position=f"byte {offset}")
    if sixteen:
        _need(data, offset, 2 * n, path, "16-bit Y data")
        raw = np.frombuffer(data, order + "i2", n, offset).astype(np.float64)
        return raw * 2.0 ** (exponent - 16)
    _need(data, offset, 4 * n, path, "32-bit Y data")
    if old:  # LabCalc stores the high 16-bit word first
        words = np.frombuffer(data, order + "u2", 2 * n, offset).astype(np.uint32)
        raw = ((words[0::2] << 16) | words[1::2]).view(np.int32).astype(np.float64)
    else:
        raw = np.frombuffer(data, order + "i4", n, offset).astype(np.float64)
    return raw * 2.0 ** (exponent - 32)


# ------------------------------------------------------------------------------ log block
def _log(data: bytes, offset: int, order: str, path: str) -> tuple[dict[str, str], list[str]]:
    if offset <= 0:
        return {}, []
    _need(data, offset, LOGSTC, path, "log block header")
    sizd, _sizm, txto, _bins, _dsks = struct.unpack_from(order + "5i", data, offset)
    start, end = offset + txto, offset + sizd
    if txto < LOGSTC or sizd < txto:
        raise ParseError(path, f"log block sizes inconsistent (text offset {txto}, size {sizd})",
                         position=f"byte {offset}")
    _need(data, start, end - start, path, "log text")
    text = data[start:end].split(b"\0", 1)[0].decode("latin-1")
    entries: dict[str, str] = {}
    others: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.strip().startswith("["):
            entries.setdefault(key.strip(), value.strip())
        elif line.strip():
            others.append(line.strip())
    return entries, others


# ------------------------------------------------------------------------------ subfiles
def _read_new(data: bytes, head: dict[str, Any], order: str, path: str) -> tuple[
        list[np.ndarray], list[np.ndarray], list[dict[str, Any]]]:
    flags, npts = head["ftflgs"], head["fnpts"]
    multi = bool(flags & TMULTI)
    nsub = max(head["fnsub"], 1) if multi else 1
    if head["fnsub"] > MAX_VALUES or npts > MAX_VALUES:
        raise ParseError(path, f"header claims {head['fnsub']} subfiles of {npts} points")
    xyxy = bool(flags & TXYXYS)
    offset = HEADER_NEW
    common_x: np.ndarray | None = None
    if not xyxy:
        if npts < 1:
            raise ParseError(path, f"header claims {npts} points", position="byte 4")
        if nsub * (SUBHEADER + 4 * npts) > len(data):
            raise ParseError(path, f"truncated file: {nsub} subfiles of {npts} points need "
                                   f"more than the {len(data)} bytes present",
                             position=f"byte {HEADER_NEW}")
        if flags & TXVALS:
            _need(data, offset, 4 * npts, path, "X array")
            common_x = np.frombuffer(data, order + "f4", npts, offset).astype(np.float64)
            offset += 4 * npts
        else:
            common_x = np.linspace(head["ffirst"], head["flast"], npts)
    if not xyxy:
        check_array((nsub, npts), "intensities of every subfile", path=path)
    xs, ys, subs = [], [], []
    for index in range(nsub):
        sub = _subheader(data, offset, order, path)
        exponent = sub["subexp"] if multi else head["fexp"]
        offset += SUBHEADER
        if xyxy:
            n = sub["subnpts"]
            if not 1 <= n <= MAX_VALUES:
                raise ParseError(path, f"subfile {index} claims {n} points",
                                 position=f"byte {offset - SUBHEADER + 16}")
            _need(data, offset, 4 * n, path, f"subfile {index} X array")
            x = np.frombuffer(data, order + "f4", n, offset).astype(np.float64)
            offset += 4 * n
        else:
            n, x = npts, common_x
        step = 2 if flags & TSPREC and exponent != -128 else 4
        ys.append(_y_values(data, offset, n, exponent, order=order, sixteen=step == 2,
                            old=False, path=path))
        xs.append(x)
        subs.append(sub)
        offset += step * n
    return xs, ys, subs


def _read_old(data: bytes, head: dict[str, Any], path: str) -> tuple[
        list[np.ndarray], list[np.ndarray], list[dict[str, Any]]]:
    npts = head["fnpts"]
    if not (1 <= npts <= MAX_VALUES and float(npts).is_integer()):
        raise ParseError(path, f"header claims {npts} points", position="byte 4")
    n = int(npts)
    x = np.linspace(head["ffirst"], head["flast"], n)
    xs, ys, subs = [], [], []
    offset = HEADER_OLD - SUBHEADER  # the first subheader is the header's last 32 bytes
    while offset + SUBHEADER <= len(data):
        sub = _subheader(data, offset, "<", path)
        offset += SUBHEADER
        step = 2 if head["ftflgs"] & TSPREC else 4
        ys.append(_y_values(data, offset, n, head["fexp"], order="<", sixteen=step == 2,
                            old=True, path=path))
        xs.append(x)
        subs.append(sub)
        offset += step * n
        if not head["ftflgs"] & TMULTI:
            break
    if not ys:
        raise ParseError(path, "truncated file: no data after the header",
                         position=f"byte {HEADER_OLD}")
    return xs, ys, subs


# ------------------------------------------------------------------------------ building
def _axis(x: np.ndarray, xtype: int, path: str) -> Axis:
    x = check_axis(x, path, "X values")
    if xtype in (1, 13):
        return Axis("raman_shift", "cm-1", x)
    if xtype == 3:
        return Axis("wavelength", "nm", x)
    if xtype == 2:
        return Axis("wavelength", "nm", x * 1000.0)
    if xtype in (16, 17, 22) or (xtype == 0 and np.allclose(x, np.round(x))):
        return Axis("channel", "1", x)
    label = X_TYPES.get(xtype, ("unknown", ""))[0]
    raise ParseError(path, f"X axis type {xtype} ({label}) is not a Raman axis "
                           "(Raman shift, wavenumber, nm, µm or channel)", position="byte 28")


def _acquired_at(head: dict[str, Any], old: bool, timezone: str) -> _dt.datetime | None:
    try:
        if old:
            year, month, day = head["oyear"] & 0x0FFF, head["omonth"], head["oday"]
            hour, minute = head["ohour"], head["ominute"]
        else:
            packed = head["fdate"]
            year, month, day = packed >> 20, (packed >> 16) & 0xF, (packed >> 11) & 0x1F
            hour, minute = (packed >> 6) & 0x1F, packed & 0x3F
        if year < 1900:
            return None
        local = _dt.datetime(year, month, day, hour, minute, tzinfo=time_zone(timezone))
    except ValueError:
        return None
    return local.astimezone(_dt.timezone.utc)


def _number_in(text: str | None) -> tuple[float, str] | None:
    match = re.search(r"([-+]?\d+(?:\.\d+)?)\s*([a-zA-Zµ]*)", text.split(":", 1)[-1]) if text else None
    return (float(match.group(1)), match.group(2).lower()) if match else None


def _log_meta(log: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    laser = laser_nm_from_text(log.get("Laser"))
    if laser:
        meta["laser_wavelength_nm"] = laser
    exposure = _number_in(log.get("Exposure_time"))
    if exposure:
        value, unit = exposure
        meta["exposure_time_s"] = value / 1000.0 if unit in ("", "ms") else (
            value * 60.0 if unit in ("min", "m") else value)
    accumulations = _number_in(log.get("Accumulations"))
    if accumulations and accumulations[0].is_integer():
        meta["n_accumulations"] = int(accumulations[0])
    grating = log.get("Grating_grooves", "").split(":", 1)[-1].strip()
    if grating:
        meta["grating"] = grating
    if log.get("Operator"):
        meta["operator"] = log["Operator"]
    kind = log.get("Measurement_type", "")
    if kind:
        meta["measurement_type"] = {"SingleScan": "single"}.get(kind, kind.lower())
    return meta


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return _text(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def parse_spc(data: bytes, *, source: Source, map_shape: tuple[int, int] | None = None,
              timezone: str = "UTC") -> list[Spectrum]:
    """Parse the bytes of a Galactic SPC file.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance (its ``path`` names the file in errors).
    map_shape : (int, int), optional
        ``(ny, nx)`` of a map whose spectra are stored as subfiles in raster order (SPC has no
        field for it); ``ny * nx`` must equal the number of subfiles.
    timezone : str, default "UTC"
        IANA zone of the instrument clock that wrote ``fdate``.

    Returns
    -------
    list of Spectrum
        One Spectrum (1-D, dims ``("scan",)`` or ``("y", "x")``), or one per subfile for XYXY
        files whose subfiles have different X.

    Raises
    ------
    ParseError
        Unknown version byte, truncated header or data, impossible counts, a non-Raman X type,
        a non-monotonic or non-finite axis, non-finite data, a ``map_shape`` that does not fit.
    """
    path = source.path
    time_zone(timezone)
    if len(data) < 2 or data[1] not in (NEW_LSB, NEW_MSB, OLD):
        version = f"0x{data[1]:02X}" if len(data) > 1 else "missing"
        raise ParseError(path, f"not a Galactic SPC file (version byte {version}; expected "
                               "0x4B, 0x4C or 0x4D)", position="byte 1")
    old = data[1] == OLD
    size = HEADER_OLD if old else HEADER_NEW
    _need(data, 0, size, path, "file header")
    if old:
        head = dict(zip(_OLD_FIELDS, _OLD.unpack_from(data), strict=True))
        head["fnsub"], head["flogoff"], head["fztype"] = 0, 0, 0
        xs, ys, subs = _read_old(data, head, path)
        order = "<"
    else:
        order = "<" if data[1] == NEW_LSB else ">"
        head = _new_header(data, order)
        xs, ys, subs = _read_new(data, head, order, path)
    log, log_lines = _log(data, head["flogoff"], order, path)
    for index, y in enumerate(ys):
        if not np.all(np.isfinite(y)):
            raise ParseError(path, f"subfile {index} holds NaN or infinite intensities")
    meta: dict[str, Any] = _log_meta(log)
    title = _text(head["fcmnt"])
    if title:
        meta["title"] = title
    when = _acquired_at(head, old, timezone)
    raw: dict[str, Any] = {k: _plain(v) for k, v in head.items()
                           if k not in ("freserv", "fspare", "ospare", "osubh1")}
    if when is not None:
        meta["acquired_at"] = when
    elif head.get("fdate") or head.get("oyear"):
        raw["acquired_at_problem"] = "the packed date is not a valid date (ignored)"
    raw["format_version"] = {NEW_LSB: "new LSB", NEW_MSB: "new MSB", OLD: "old"}[data[1]]
    raw["flags"] = _flags(head["ftflgs"])
    raw["x_type"] = X_TYPES.get(head["fxtype"], ("unknown", ""))[0]
    raw["y_type"] = _Y_LABELS.get(head["fytype"], f"code {head['fytype']}")
    raw["z_type"] = X_TYPES.get(head["fztype"], ("unknown", ""))[0]
    raw["subfiles"] = [{k: _plain(v) for k, v in s.items()} for s in subs[:1000]]
    if log:
        raw["log"] = log
    if log_lines:
        raw["log_lines"] = log_lines
    signal = ("counts", "counts") if head["fytype"] in _Y_COUNTS else ("intensity", "arb. units")
    same_x = all(x.shape == xs[0].shape and np.array_equal(x, xs[0]) for x in xs)
    if not same_x:
        if map_shape is not None:
            raise ParseError(path, "map_shape needs subfiles sharing one X axis")
        return [Spectrum(axis=_axis(x, head["fxtype"], path), data=y, technique="raman",
                         signal=signal[0], signal_unit=signal[1], meta=meta,
                         raw_meta={**raw, "subfile": i},
                         source=dataclasses.replace(source, block=i))
                for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    axis = _axis(xs[0], head["fxtype"], path)
    stack = np.vstack(ys)
    dims: tuple[str, ...] = ()
    coords: dict[str, Coord] = {}
    if map_shape is not None:
        ny, nx = _check_shape(map_shape, len(ys), path)
        stack, dims = stack.reshape(ny, nx, axis.size), ("y", "x")
        meta["measurement_type"] = "map"
    elif len(ys) > 1:
        dims = ("scan",)
        z_unit = X_TYPES.get(head["fztype"], ("", ""))[1]
        coords["subfile_z"] = Coord("scan", np.array([s["subtime"] for s in subs]), z_unit)
        meta.setdefault("measurement_type", "series")
    else:
        stack = stack[0]
    return [Spectrum(axis=axis, data=stack, technique="raman", signal=signal[0],
                     signal_unit=signal[1], dims=dims, coords=coords, meta=meta,
                     raw_meta=raw, source=source)]


def _check_shape(map_shape: Any, count: int, path: str) -> tuple[int, int]:
    try:
        ny, nx = (int(v) for v in map_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"map_shape must be (ny, nx), got {map_shape!r}",
                          key="map_shape") from None
    if ny < 1 or nx < 1 or ny * nx != count:
        raise ParseError(path, f"map_shape {ny}x{nx} does not match the {count} subfiles")
    return ny, nx


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".spc",),
    sniff=sniff_spc,
    description="Thermo/Galactic SPC (new and old format; WiRE, WITec, LabSpec exports; "
                "multifile series)",
)
def read_spc(path: Path, *, map_shape: tuple[int, int] | None = None,
             timezone: str = "UTC") -> list[Spectrum]:
    """Read a Galactic ``.spc`` file (see :func:`parse_spc`).

    Parameters
    ----------
    path : Path
        The file.
    map_shape : (int, int), optional
        ``(ny, nx)`` when the subfiles are a raster map (e.g. ``(2, 3)``).
    timezone : str, default "UTC"
        IANA zone of the instrument clock.

    Returns
    -------
    list of Spectrum

    Examples
    --------
    >>> [s] = read_spc(Path("LabRam-1.spc"))  # doctest: +SKIP
    >>> s.dims, s.shape  # doctest: +SKIP
    (('scan',), (18, 1023))
    """
    data = read_bytes(path)
    return parse_spc(data, source=make_source(path, FORMAT, data=data), map_shape=map_shape,
                     timezone=timezone)
