"""Princeton Instruments SPE files (``.spe``): WinSpec 2.x and LightField 3.0.

Layout (Princeton Instruments "WinSpec/32 file format" 2.5 and "SPE 3.0 File Format
Specification"), as checked on the three real files of ``../shared/data/raman``:

* a 4100-byte little-endian header: ``exp_sec`` (float32 at 10), ``date`` (``"23Jun2015"`` at
  20), ``xdim`` (uint16 at 42), ``datatype`` (int16 at 108: 0 float32, 1 int32, 2 int16,
  3 uint16, 5 float64, 6 uint8, 8 uint32), local and UTC time (``"hhmmss"`` at 172 and 179),
  comments (5 × 80 chars at 200), ``ydim`` (uint16 at 656), ``lavgexp`` (accumulations, int32
  at 668), the XML footer offset (uint64 at 678, 3.0 only), ``NumFrames`` (int32 at 1446),
  ``file_header_ver`` (float32 at 1992: 2.2, 3.0 …), the x-calibration structure at 3000 and
  the check value ``0x5555`` at 4098;
* the x-calibration (2.x): ``current_unit`` (uint8 at 3016), ``calib_valid`` (3098),
  ``polynom_unit`` (3100), ``polynom_order`` (3101), ``calib_count`` (3102), 10 pixel
  positions and 10 values (float64 at 3103 and 3183), 6 polynomial coefficients (float64 at
  3263, lowest order first) and ``laser_position`` (float64 at 3311, nm). Unit codes: 0/1
  pixel, 2 data, 3 user, 4 nm, 5 cm-1 (absolute), 6 Raman shift. The polynomial takes the
  **1-based** pixel number: on ``polystyrene.SPE`` the band maxima of the nine polystyrene
  lines listed in the header then sit on average 0.7 cm-1 from their values (0-based: -2.1,
  2-based: +3.6). The file's cubic itself misses its calibration points by up to 7 cm-1 (the
  1001.4 cm-1 band lands at 997.0), which is the file's calibration, kept as is;
* the data: ``NumFrames × ydim × xdim`` values right after the header;
* 3.0 only: the XML footer (``<SpeFormat>``) holding ``DataFormat/DataBlock`` (pixel format,
  frame stride, region width/height), ``Calibrations/WavelengthMapping`` (one wavelength in nm
  per pixel, attribute ``laserLine`` in nm) and the LightField experiment (exposure in ms,
  spectrometer, grating). A ``<name>.SPE_metadata.xml`` beside a file is a copy of this footer,
  not a data file; it is not read.

Axis (option ``axis``):

* ``"file"`` (default): what the file calibrates in. LightField stores nm -> ``wavelength``.
  WinSpec evaluates its polynomial (``polynom_unit``: nm -> wavelength, absolute cm-1 ->
  wavelength ``1e7 / x``, Raman shift as is); when the header's display unit is Raman shift
  (``current_unit`` 6) and the laser is known, the nm values are converted to ``raman_shift``.
* ``"wavelength"``: nm (Raman-shift calibrations are converted back with the laser).
* ``"raman_shift"``: ``1e7/laser_nm - 1e7/wavelength_nm`` with the file's laser wavelength
  (WinSpec ``laser_position`` or LightField ``laserLine``); a ParseError when the file has none.
* ``"channel"``: pixel numbers 1 … xdim.

Every nm -> cm-1 conversion is recorded as a ``wavelength_to_raman_shift`` history Step.
Uncalibrated files (no valid polynomial, no XML wavelengths) get a ``channel`` axis.

Shapes: 1-D for one frame of one row; dims ``("frame",)``, ``("row",)`` or
``("frame", "row")`` otherwise.

Metadata: ``laser_wavelength_nm``, ``exposure_time_s`` (``exp_sec``; LightField
``ExposureTime`` ms / 1000), ``n_accumulations`` (``lavgexp`` when > 0), ``acquired_at`` (2.x
date + UTC time; 3.0 ``Origin@created``, which carries its offset), ``instrument``
(spectrometer and camera models), ``grating`` and ``title`` (comments). ``raw_meta``: the
header fields, the calibration structure, the XML data format and calibration attributes and
the experiment's leaf settings (at most 2000, long arrays summarised).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import ConfigError, ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._raman_axis import AXIS_CHOICES, check_axis, shift_step
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum, Step

__all__ = ["parse_spe", "read_spe", "sniff_spe"]

FORMAT = "princeton-spe"
HEADER = 4100
CHECK_OFFSET, CHECK_VALUE = 4098, 0x5555
MAX_VALUES = 500_000_000
DTYPES = {0: "<f4", 1: "<i4", 2: "<i2", 3: "<u2", 5: "<f8", 6: "u1", 8: "<u4"}
UNITS = {0: "pixel", 1: "pixel", 2: "data", 3: "user units", 4: "nm", 5: "cm-1",
         6: "raman shift"}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_RAW_XML_LIMIT = 2000


def sniff_spe(path: Path, head: bytes) -> bool:
    """True for a 4100-byte SPE header: valid datatype and sizes, ``0x5555`` at byte 4098."""
    if len(head) < 1996:
        return False
    xdim, = struct.unpack_from("<H", head, 42)
    datatype, = struct.unpack_from("<h", head, 108)
    if xdim < 1 or datatype not in DTYPES:
        return False
    with open(path, "rb") as handle:
        handle.seek(CHECK_OFFSET)
        check = handle.read(2)
    return len(check) == 2 and struct.unpack("<H", check)[0] == CHECK_VALUE


# ------------------------------------------------------------------------------ header
def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def _header(data: bytes) -> dict[str, Any]:
    u = struct.unpack_from
    calib = 3000
    return {
        "exp_sec": u("<f", data, 10)[0], "date": _text(data[20:30]), "xdim": u("<H", data, 42)[0],
        "datatype": u("<h", data, 108)[0], "time_local": _text(data[172:179]),
        "time_utc": _text(data[179:186]),
        "comments": [c for c in (_text(data[200 + 80 * i:280 + 80 * i]) for i in range(5)) if c],
        "ydim": u("<H", data, 656)[0], "lavgexp": u("<i", data, 668)[0],
        "xml_offset": u("<Q", data, 678)[0], "num_frames": u("<i", data, 1446)[0],
        "file_header_ver": round(float(u("<f", data, 1992)[0]), 4),
        "calib_offset": u("<d", data, calib)[0], "calib_factor": u("<d", data, calib + 8)[0],
        "current_unit": data[calib + 16], "calib_string": _text(data[calib + 18:calib + 58]),
        "calib_valid": data[calib + 98], "input_unit": data[calib + 99],
        "polynom_unit": data[calib + 100], "polynom_order": data[calib + 101],
        "calib_count": data[calib + 102],
        "pixel_position": list(u("<10d", data, calib + 103)),
        "calib_value": list(u("<10d", data, calib + 183)),
        "polynom_coeff": list(u("<6d", data, calib + 263)),
        "laser_position": u("<d", data, calib + 311)[0],
        "calib_label": _text(data[calib + 321:calib + 402]),
    }


# ------------------------------------------------------------------------------ XML footer
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first(root: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in root.iter() if _local(e.tag) == name), None)


def _xml(data: bytes, offset: int, path: str) -> ET.Element:
    if offset < HEADER or offset >= len(data):
        raise ParseError(path, f"SPE 3.0 XML footer offset {offset} lies outside the file "
                               f"({len(data)} bytes)", position="byte 678")
    try:
        return ET.fromstring(data[offset:])
    except (ET.ParseError, LookupError, ValueError) as exc:  # also a bad encoding declaration
        raise ParseError(path, f"SPE 3.0 XML footer is not well-formed XML ({exc})",
                         position=f"byte {offset}") from None


def _xml_leaves(root: ET.Element) -> dict[str, str]:
    leaves: dict[str, str] = {}

    def walk(element: ET.Element, prefix: str) -> None:
        for child in element:
            name = f"{prefix}/{_local(child.tag)}"
            if child.get("id") is not None:
                name += f"[{child.get('id')}]"
            if len(child):
                walk(child, name)
            elif len(leaves) < _RAW_XML_LIMIT:
                text = (child.text or "").strip()
                leaves[name] = text if len(text) <= 200 else f"<{len(text)} characters>"
            for key, value in child.attrib.items():
                if len(leaves) < _RAW_XML_LIMIT and len(value) <= 200:
                    leaves[f"{name}@{_local(key)}"] = value

    walk(root, "")
    return leaves


def _iso(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(_dt.timezone.utc) if moment.utcoffset() is not None else None


def _xml_info(root: ET.Element, xdim: int, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the reader uses, raw attributes) from the SPE 3.0 footer."""
    info: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    frame = _first(root, "DataBlock")
    if frame is not None:
        raw["data_block"] = dict(frame.attrib)
        region = next((e for e in frame if _local(e.tag) == "DataBlock"), None)
        if region is not None:
            raw["region"] = dict(region.attrib)
    mapping = _first(root, "WavelengthMapping")
    if mapping is not None:
        raw["wavelength_mapping"] = dict(mapping.attrib)
        laser = mapping.get("laserLine")
        try:
            if laser is not None and float(laser) > 0:
                info["laser_nm"] = float(laser)
        except ValueError:
            pass
        values = next((e for e in mapping if _local(e.tag) in ("Wavelength", "WavelengthError")),
                      None)
        if values is not None and (values.text or "").strip():
            try:
                numbers = np.array([float(v) for v in values.text.replace(";", ",").split(",")
                                    if v.strip()])
            except ValueError:
                raise ParseError(path, "XML wavelength calibration holds a non-number") from None
            if _local(values.tag) == "WavelengthError":  # pairs (wavelength, error)
                numbers = numbers[0::2]
            info["wavelength_nm"] = numbers
    exposure = _first(root, "ExposureTime")
    try:
        if exposure is not None and float(exposure.text or "") > 0:
            info["exposure_s"] = float(exposure.text) / 1000.0
    except ValueError:
        pass
    origin = _first(root, "Origin")
    if origin is not None:
        info["acquired_at"] = _iso(origin.get("created"))
        raw["origin"] = dict(origin.attrib)
    spectrometer, camera = _first(root, "Spectrometer"), _first(root, "Camera")
    models = [e.get("model") for e in (spectrometer, camera) if e is not None and e.get("model")]
    if models:
        info["instrument"] = " + ".join(models)
    grating = next((e for e in root.iter() if _local(e.tag) == "Selected"
                    and (e.text or "").startswith("[")), None)
    if grating is not None:
        match = re.match(r"\[([^,\]]*),\s*(\d+)\]", grating.text)
        if match:
            info["grating"] = f"{match.group(2)} l/mm ({match.group(1)} blaze)"
    return info, raw


# ------------------------------------------------------------------------------ axis
def _acquired_at_v2(header: dict[str, Any]) -> _dt.datetime | None:
    match = re.fullmatch(r"(\d{1,2})([A-Za-z]{3})(\d{4})", header["date"])
    local, utc = header["time_local"], header["time_utc"]
    if not match or not re.fullmatch(r"\d{6}", local) or not re.fullmatch(r"\d{6}", utc):
        return None
    try:
        day = _dt.date(int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1)))
        moment = _dt.datetime.combine(day, _dt.time(int(local[:2]), int(local[2:4]),
                                                    int(local[4:])))
        utc_time = _dt.time(int(utc[:2]), int(utc[2:4]), int(utc[4:]))
    except (KeyError, ValueError):
        return None
    # the local date is known; the UTC date is the one nearest to the local moment
    candidates = [_dt.datetime.combine(day + _dt.timedelta(days=d), utc_time) for d in (-1, 0, 1)]
    best = min(candidates, key=lambda c: abs(c - moment))
    return best.replace(tzinfo=_dt.timezone.utc)


def _polynomial_axis(header: dict[str, Any], xdim: int) -> tuple[np.ndarray, str] | None:
    order = header["polynom_order"]
    coeffs = header["polynom_coeff"][: order + 1]
    if not header["calib_valid"] or not 1 <= order <= 5 or not any(coeffs[1:]):
        return None
    pixels = np.arange(1, xdim + 1, dtype=np.float64)
    values = np.polynomial.polynomial.polyval(pixels, coeffs)
    unit = UNITS.get(header["polynom_unit"], "user units")
    if unit == "cm-1":
        return 1e7 / values, "nm"
    if unit in ("nm", "raman shift"):
        return values, unit
    return None


def _axis(calibrated: tuple[np.ndarray, str] | None, laser: float | None, choice: str,
          display_shift: bool, xdim: int, path: str) -> tuple[Axis, list[Step]]:
    if choice == "channel" or calibrated is None:
        if choice not in ("file", "channel"):
            raise ParseError(path, f"axis={choice!r} needs a wavelength calibration, and the "
                                   "file has none")
        return Axis("channel", "1", np.arange(1, xdim + 1, dtype=np.float64)), []
    values, unit = calibrated
    values = check_axis(values, path, "x calibration")
    if unit == "raman shift":
        if choice in ("file", "raman_shift"):
            return Axis("raman_shift", "cm-1", values), []
        if not laser:
            raise ParseError(path, "axis='wavelength' needs the laser wavelength, which the "
                                   "file does not give")
        nm = 1e7 / (1e7 / laser - values)
        return Axis("wavelength", "nm", check_axis(nm, path)), [Step(
            "raman_shift_to_wavelength", {"laser_wavelength_nm": laser})]
    axis = Axis("wavelength", "nm", values)
    if choice == "raman_shift" or (choice == "file" and display_shift and laser):
        if not laser:
            raise ParseError(path, "axis='raman_shift' needs the laser wavelength, which the "
                                   "file does not give (no laserLine / laser_position)")
        shifted, step = shift_step(axis, laser)
        return shifted, [step]
    return axis, []


# ------------------------------------------------------------------------------ parse
def parse_spe(data: bytes, *, source: Source, axis: str = "file") -> list[Spectrum]:
    """Parse the bytes of a Princeton Instruments SPE 2.x or 3.0 file.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance.
    axis : {"file", "wavelength", "raman_shift", "channel"}
        Spectral axis (see the module docstring).

    Returns
    -------
    list of Spectrum
        One Spectrum (1-D, or dims ``("frame",)``, ``("row",)``, ``("frame", "row")``).

    Raises
    ------
    ParseError
        Short or corrupt header, unknown datatype, data or footer running past the end of the
        file, a calibration that is not monotonic, a Raman-shift request without a laser.
    """
    path = source.path
    if axis not in AXIS_CHOICES:
        raise ConfigError(f"axis must be one of {AXIS_CHOICES}, got {axis!r}", key="axis")
    if len(data) < HEADER:
        raise ParseError(path, f"truncated file: the SPE header needs {HEADER} bytes, the file "
                               f"has {len(data)}", position=f"byte {len(data)}")
    if struct.unpack_from("<H", data, CHECK_OFFSET)[0] != CHECK_VALUE:
        raise ParseError(path, "not a Princeton SPE file (no 0x5555 check value)",
                         position=f"byte {CHECK_OFFSET}")
    header = _header(data)
    if header["datatype"] not in DTYPES:
        raise ParseError(path, f"unknown SPE datatype {header['datatype']}", position="byte 108")
    xdim, ydim, frames = header["xdim"], header["ydim"] or 1, header["num_frames"] or 1
    if xdim < 1 or frames < 1 or xdim * ydim * frames > MAX_VALUES:
        raise ParseError(path, f"implausible sizes xdim={xdim}, ydim={ydim}, frames={frames}",
                         position="byte 42")
    dtype = np.dtype(DTYPES[header["datatype"]])
    frame_bytes = xdim * ydim * dtype.itemsize
    version3 = header["file_header_ver"] >= 3.0 and header["xml_offset"] > 0
    info: dict[str, Any] = {}
    raw_xml: dict[str, Any] = {}
    root = None
    stride = frame_bytes
    if version3:
        root = _xml(data, header["xml_offset"], path)
        info, raw_xml = _xml_info(root, xdim, path)
        stride = int(raw_xml.get("data_block", {}).get("stride", frame_bytes) or frame_bytes)
        if stride < frame_bytes:
            raise ParseError(path, f"frame stride {stride} is smaller than a frame "
                                   f"({frame_bytes} bytes)")
    end = HEADER + stride * (frames - 1) + frame_bytes
    limit = header["xml_offset"] if version3 else len(data)
    if end > limit:
        raise ParseError(path, f"truncated file: {frames} frame(s) of {xdim}×{ydim} "
                               f"{dtype.name} values need {end} bytes, "
                               f"{'the XML footer starts at' if version3 else 'the file has'} "
                               f"{limit}", position=f"byte {limit}")
    check_array((frames, ydim, xdim), "intensities", path=path)
    frames_data = [np.frombuffer(data, dtype, xdim * ydim, HEADER + i * stride)
                   for i in range(frames)]
    values = np.stack(frames_data).astype(np.float64).reshape(frames, ydim, xdim)
    if not np.all(np.isfinite(values)):
        raise ParseError(path, "intensities hold NaN or infinite values")

    laser = info.get("laser_nm") or (header["laser_position"]
                                     if 150.0 <= header["laser_position"] <= 2000.0 else None)
    if version3 and "wavelength_nm" in info:
        wavelengths = info["wavelength_nm"]
        if wavelengths.size != xdim:
            raise ParseError(path, f"XML wavelength calibration has {wavelengths.size} values "
                                   f"for {xdim} pixels")
        calibrated: tuple[np.ndarray, str] | None = (wavelengths, "nm")
    else:
        calibrated = _polynomial_axis(header, xdim)
    spectral_axis, steps = _axis(calibrated, laser, axis,
                                 UNITS.get(header["current_unit"]) == "raman shift", xdim, path)

    meta: dict[str, Any] = {}
    if laser:
        meta["laser_wavelength_nm"] = float(laser)
    exposure = info.get("exposure_s") or (header["exp_sec"] if 0 < header["exp_sec"] < 1e6
                                          else None)
    if exposure:
        meta["exposure_time_s"] = float(exposure)
    if header["lavgexp"] > 0:
        meta["n_accumulations"] = int(header["lavgexp"])
    when = info.get("acquired_at") if version3 else _acquired_at_v2(header)
    if when is not None:
        meta["acquired_at"] = when
    for key in ("instrument", "grating"):
        if info.get(key):
            meta[key] = info[key]
    if header["comments"]:
        meta["title"] = " ".join(header["comments"])
    raw = {k: v for k, v in header.items()}
    raw["spe_version"] = "3.0" if version3 else f"{header['file_header_ver']:g}"
    raw["calibration_units"] = {"current": UNITS.get(header["current_unit"]),
                                "polynomial": UNITS.get(header["polynom_unit"]),
                                "input": UNITS.get(header["input_unit"])}
    raw.update(raw_xml)
    if root is not None:
        raw["xml"] = _xml_leaves(root)
    if steps and spectral_axis.name == "raman_shift":
        raw["axis_conversion"] = "wavelength_to_raman_shift with the file's laser wavelength"

    dims: tuple[str, ...] = tuple(n for n, size in (("frame", frames), ("row", ydim)) if size > 1)
    array = values.reshape(*(s for s in (frames, ydim) if s > 1), xdim)
    spectrum = Spectrum(axis=spectral_axis, data=array, technique="raman", signal="counts",
                        dims=dims, meta=meta, raw_meta=raw, source=source)
    if steps:
        spectrum = dataclasses.replace(spectrum, history=tuple(steps))
    return [spectrum]


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".spe",),
    sniff=sniff_spe,
    description="Princeton Instruments SPE 2.x (WinSpec, polynomial calibration) and 3.0 "
                "(LightField, XML footer with wavelengths and laser line)",
)
def read_spe(path: Path, *, axis: str = "file") -> list[Spectrum]:
    """Read a Princeton Instruments ``.spe`` file (see :func:`parse_spe`).

    Parameters
    ----------
    path : Path
        The file.
    axis : {"file", "wavelength", "raman_shift", "channel"}, default "file"
        Spectral axis: as the file calibrates it, nm, Raman shift (needs the laser
        wavelength in the file) or pixel number.

    Returns
    -------
    list of Spectrum

    Examples
    --------
    >>> [s] = read_spe(Path("S0N_50x.spe"), axis="raman_shift")  # doctest: +SKIP
    >>> s.axis.name, round(s.meta["laser_wavelength_nm"], 3)  # doctest: +SKIP
    ('raman_shift', 531.988)
    """
    data = read_bytes(path)
    return parse_spe(data, source=make_source(path, FORMAT, data=data), axis=axis)


def _sniff_lightfield_metadata(path: Path, head: bytes) -> bool:
    """LightField writes ``<name>.SPE_metadata.xml`` beside an SPE 3.0 file."""
    return path is not None and Path(path).name.lower().endswith(".spe_metadata.xml")


@register_parser(
    name="lightfield-metadata",
    technique="raman",
    extensions=(),
    sniff=_sniff_lightfield_metadata,
    description="LightField's .SPE_metadata.xml companion: settings, not spectra; recognised only "
                "to explain",
)
def read_lightfield_metadata(path: Path) -> list[Spectrum]:
    """Refuse LightField's metadata companion with a message saying what to read instead.

    Raises
    ------
    ParseError
        Always: the XML repeats the SPE 3.0 file's footer (settings and calibration); the
        spectra are in the ``.SPE`` file beside it, whose reader uses the same footer.
    """
    raise ParseError(path, "a LightField metadata companion (.SPE_metadata.xml): it holds the "
                     "settings of the .SPE file beside it, not spectra; read that .SPE file",
                     position="byte 0")
