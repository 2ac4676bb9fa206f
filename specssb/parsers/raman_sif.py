"""Andor Solis binary spectra and images (``.sif``, "Andor Technology Multi-Channel File").

No real ``.sif`` file was available. The layout below is the one the public readers agree on
(M. Leutenegger's ``sifread.m`` 2006, the ImageJ ``MySIF_Reader`` structure names, ``sif_parser``
0.3.6 and its tests on real files, the SIFKit.jl field list); synthetic files written to it are
read identically by ``sif_parser`` (data, wavelength axis, exposure, Raman wavelength, time).

A SIF file is text lines (``\\n``) and length-prefixed strings (``<n>\\n`` then ``n`` bytes, the
next length following the bytes on the same line), then float32 data:

1. ``Andor Technology Multi-Channel File`` (the magic), then ``65538 1``;
2. TInstaImage, one line: structure version (65547 … 65567), three flags, the acquisition time
   (``time_t``, seconds since 1970-01-01 UTC), the detector temperature (°C; -999 when it was
   not stabilised, the measured value is then field 48), 10 bytes of one-character fields, the
   trigger level, exposure (s), cycle time, accumulated cycle time, number of accumulations, a
   NUL and a space, kinetic cycle time, pixel readout time (s), … the gain (field 22) …, the
   Solis version (fields 55-58); the head model on the next line; the detector size and the
   original file name;
3. TUserText ``65538 <n>`` and ``n`` bytes; TShutter ``65538``, 8 bytes, shutter times;
4. lines whose number depends on the version (65548-65557: 2; 65558: 5; 65559/65564: 8, then
   the spectrograph line; 65565: 15; above 65565: 8, spectrograph, intensifier line, eight
   numbers (gate gain 4th, gate delay and width in ps 7th and 8th), 8 lines);
5. TCalibImage: version 65539 (or 65540 and one more line) with the x-calibration polynomial
   on the rest of its line (lowest order first, evaluated at the 1-based pixel number, in nm),
   two ``0 1 0 0`` lines (y, z), **the Raman excitation wavelength** (nm, empty when unset),
   three lines, then the x, y and z axis labels (``Wavelength``/``Raman Shift``/``Pixel
   number``, ``Counts``, ``Pixel number``). Older files put the polynomial on the next line;
   a user text starting ``Calibration data for frame 1:`` holds one polynomial per frame;
6. TImage ``65541 left top right bottom frames subimages total_length image_length`` and one
   ``65538 left top right bottom vbin hbin offset`` line per subimage (tracks);
7. one time stamp per frame (µs after the first, wrapping at 2**32), then optionally ``0`` or
   (65567) ``1`` and one more number per frame;
8. ``frames × image_length`` float32 little-endian values; each frame is the subimages' rows
   of ``width = (right - left + 1) / hbin`` pixels. Bytes after them are counted, not read.

Axis (option ``axis``): ``"file"`` (default) gives ``wavelength`` in nm from the polynomial,
``raman_shift`` when the x label says Raman shift and the file gives the excitation
wavelength, and ``channel`` (pixels 1 … width) when the file has no calibration (identity
polynomial ``0 1 0 0``, a pixel label, or a Mechelle echelle spectrograph, whose line is
kept as ``raw_meta["pixel_calibration"]``); ``"wavelength"``, ``"raman_shift"`` (needs the
excitation wavelength) and ``"channel"`` force one. nm -> cm-1 is a ``wavelength_to_raman_shift``
history Step. Per-frame polynomials that differ give one Spectrum per frame.

Shapes: 1-D for one frame of one row (full vertical binning); dims ``("frame",)``,
``("row",)`` (an image, or several tracks) or ``("frame", "row")``; a ``time`` coordinate (s)
along ``frame`` from the frame time stamps.

``meta``: ``laser_wavelength_nm`` (when set), ``exposure_time_s``, ``n_accumulations``,
``acquired_at`` (the ``time_t`` read as UTC), ``instrument`` (head model), ``title`` (a user
text that is not calibration data). The detector temperature is not the sample temperature:
it goes to ``raw_meta["detector_temperature_c"]``. ``raw_meta``: every other header value.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import ConfigError, ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._raman_axis import AXIS_CHOICES, check_axis, shift_step
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Coord, Source, Spectrum, Step

__all__ = ["parse_sif", "read_sif"]

FORMAT = "andor-sif"
MAGIC = b"Andor Technology Multi-Channel File"
_INT = re.compile(rb"\s*[-+]?\d+\s*")
_FRAME_CALIBRATION = re.compile(rb"Calibration data for frame (\d+):\s*([^\n]*)")
#: TInstaImage fields after the pixel readout time, 1-based as in the SIFKit.jl list.
_TAIL_NAMES = {22: "gain", 42: "vertical_shift_speed", 44: "preamp_gain", 45: "serial",
               48: "unstabilised_temperature_c", 51: "em_real_gain"}


class _Cursor:
    """Reads the text part of a SIF header, naming the byte offset in every error."""

    def __init__(self, data: bytes, path: str, pos: int = 0):
        self.data, self.path, self.pos = data, path, pos

    def fail(self, reason: str, pos: int | None = None) -> ParseError:
        return ParseError(self.path, reason, position=f"byte {self.pos if pos is None else pos}")

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail(f"truncated file: {what} needs {n} bytes, "
                            f"{len(self.data) - self.pos} left", len(self.data))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def line(self, what: str) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise self.fail(f"truncated file: no end of line after {what}", len(self.data))
        text, self.pos = self.data[self.pos:end], end + 1
        return text.rstrip(b"\r")

    def token(self, what: str) -> bytes:
        """The next word (leading blanks and line ends skipped; a blank or line end ends it)."""
        while self.pos < len(self.data) and self.data[self.pos] in b" \n\r":
            self.pos += 1
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] not in b" \n":
            self.pos += 1
        if self.pos >= len(self.data):
            raise self.fail(f"truncated file while reading {what}", len(self.data))
        self.pos += 1
        return self.data[start:self.pos - 1]

    def number(self, what: str, kind: type = float) -> Any:
        start = self.pos
        word = self.token(what)
        try:
            return kind(word.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise self.fail(f"expected {what}, found {word[:40]!r}", start) from None

    def string(self, what: str) -> bytes:
        start = self.pos
        length = self.line(f"the length of {what}")
        if not _INT.fullmatch(length) or not 0 <= int(length) < 1_000_000:
            raise self.fail(f"expected the length of {what}, found {length[:40]!r}", start)
        return self.take(int(length), what)


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").strip().strip("\x00").strip()


def _floats(line: bytes) -> list[float] | None:
    try:
        return [float(v) for v in line.split()] or None
    except ValueError:
        return None


def _insta_image(cur: _Cursor) -> dict[str, Any]:
    """Line 3 (TInstaImage) and the head model, detector size and original file name."""
    head: dict[str, Any] = {"sif_version": cur.number("the SIF structure version", int)}
    head["flags"] = [cur.number("a TInstaImage flag", int) for _ in range(3)]
    head["time_t"] = cur.number("the acquisition time (time_t)", int)
    head["detector_temperature_c"] = cur.number("the detector temperature")
    head["mode_fields"] = _text(cur.take(10, "the one-character mode fields"))
    head["trigger_level"] = cur.number("the trigger level")
    head["exposure_time_s"] = cur.number("the exposure time")
    head["cycle_time_s"] = cur.number("the cycle time")
    head["accumulated_cycle_time_s"] = cur.number("the accumulated cycle time")
    head["n_accumulations"] = cur.number("the number of accumulations", int)
    cur.take(2, "the sync field")
    head["kinetic_cycle_time_s"] = cur.number("the kinetic cycle time")
    head["pixel_readout_time_s"] = cur.number("the pixel readout time")
    tail = cur.line("the TInstaImage line").split()
    head["instaimage_tail"] = [_text(t) for t in tail]
    for field, name in _TAIL_NAMES.items():
        value = _floats(tail[field - 20]) if field - 20 < len(tail) else None
        if value:
            head[name] = value[0]
    if len(tail) >= 39:
        head["solis_version"] = ".".join(_text(t) for t in tail[35:39])
    head["head_model"] = _text(cur.line("the head model"))
    head["detector_size"] = [cur.number("the detector width", int),
                             cur.number("the detector height", int)]
    head["original_filename"] = _text(cur.string("the original file name"))
    cur.take(2, "the end of the file-name line")
    return head


def _versioned_lines(cur: _Cursor, version: int, head: dict[str, Any]) -> None:
    """Skip the version-dependent lines between TShutter and TCalibImage."""
    def skip(n: int) -> None:
        for _ in range(n):
            cur.line("a version-dependent header line")

    if 65548 <= version <= 65557:
        skip(2)
    elif version == 65558:
        skip(5)
    elif version in (65559, 65564):
        skip(8)
        words = cur.line("the spectrograph line").split()
        head["spectrograph"] = _text(words[1]) if len(words) > 1 else ""
    elif version == 65565:
        skip(15)
    elif version > 65565:
        skip(8)
        words = cur.line("the spectrograph line").split()
        head["spectrograph"] = _text(words[1]) if len(words) > 1 else ""
        cur.line("the intensifier line")
        gate = [cur.number("an intensifier value") for _ in range(8)]
        head["gate_gain"] = gate[3]
        head["gate_delay_s"], head["gate_width_s"] = gate[6] * 1e-12, gate[7] * 1e-12
        skip(8)


def _calibration(cur: _Cursor, head: dict[str, Any]) -> list[float] | None:
    """TCalibImage: the x polynomial, the Raman excitation wavelength and the axis labels."""
    start = cur.pos
    version = cur.number("the calibration structure version", int)
    if not 65536 < version < 65600:
        raise cur.fail(f"expected the calibration structure version (65539/65540), found "
                       f"{version} (unsupported SIF version {head['sif_version']}?)", start)
    head["calibration_version"] = version
    if version == 65540:
        cur.line("the calibration header")
    lines = [cur.line("the calibration lines") for _ in range(7)]
    head["calibration_lines"] = [_text(x) for x in lines]
    coefficients = _floats(lines[0])
    if coefficients is None:  # older files: the polynomial is on the next line
        coefficients = _floats(lines[1])
    raman = _floats(lines[3])
    if raman and np.isfinite(raman[0]) and 150.0 <= raman[0] <= 2000.0:
        head["raman_ex_wavelength_nm"] = raman[0]
    head["x_text"] = _text(cur.string("the x-axis label"))
    head["y_text"] = _text(cur.string("the data label"))
    head["z_text"] = _text(cur.string("the image-axis label"))
    return coefficients


def _image_structure(cur: _Cursor, size: int) -> dict[str, Any]:
    """TImage and its subimages; checks that the lengths agree and fit in the file."""
    start = cur.pos
    image = {"image_version": cur.number("the image structure version", int),
             "image_area": [cur.number("the image area", int) for _ in range(4)],
             "n_frames": cur.number("the number of frames", int),
             "n_subimages": cur.number("the number of subimages", int),
             "total_length": cur.number("the total length", int),
             "image_length": cur.number("the image length", int)}
    n_frames, n_sub = image["n_frames"], image["n_subimages"]
    if not 65536 < image["image_version"] < 65600:
        raise cur.fail(f"expected the image structure version (65538/65541), found "
                       f"{image['image_version']}", start)
    if n_frames < 1 or n_sub < 1 or image["total_length"] != n_frames * image["image_length"]:
        raise cur.fail(f"inconsistent image header: {n_frames} frame(s), {n_sub} subimage(s), "
                       f"total length {image['total_length']}, image length "
                       f"{image['image_length']}", start)
    if image["total_length"] * 4 > size:
        raise cur.fail(f"truncated file: {image['total_length']} float32 values do not fit in "
                       f"{size} bytes", size)
    subimages = []
    for _ in range(n_sub):
        line_start = cur.pos
        cur.number("the subimage structure version", int)
        words = cur.line("a subimage line").split()
        try:
            left, top, right, bottom, vbin, hbin = (int(w) for w in words[:6])
        except ValueError:
            raise cur.fail(f"expected six integers (left top right bottom vbin hbin), found "
                           f"{b' '.join(words)[:60]!r}", line_start) from None
        if len(words) < 6 or vbin < 1 or hbin < 1 or right < left or top < bottom:
            raise cur.fail(f"bad subimage {b' '.join(words)[:60]!r}", line_start)
        subimages.append({"left": left, "top": top, "right": right, "bottom": bottom,
                          "vbin": vbin, "hbin": hbin, "width": (right - left + 1) // hbin,
                          "height": (top - bottom + 1) // vbin})
    widths = {s["width"] for s in subimages}
    rows = sum(s["height"] for s in subimages)
    if len(widths) != 1 or min(widths) * rows != image["image_length"]:
        raise cur.fail(f"subimages ({len(subimages)}, widths {sorted(widths)}, {rows} rows) do "
                       f"not make the image length {image['image_length']}", start)
    image.update(subimages=subimages, width=widths.pop(), rows=rows)
    return image


def _frame_stamps(cur: _Cursor, n_frames: int, version: int) -> list[int]:
    """Frame time stamps and the optional ``0`` / ``1 + list`` lines before the data."""
    while cur.pos < len(cur.data) and cur.data[cur.pos] in b" \n\r":
        cur.pos += 1
    stamps = []
    for _ in range(n_frames):
        start = cur.pos
        line = cur.line("the frame time stamps")
        if not _INT.fullmatch(line):
            raise cur.fail(f"expected a frame time stamp, found {line[:40]!r}", start)
        stamps.append(int(line))
    end = cur.data.find(b"\n", cur.pos, cur.pos + 24)
    if end >= 0 and _INT.fullmatch(cur.data[cur.pos:end]):
        flag = int(cur.data[cur.pos:end])
        if flag == 0:
            cur.pos = end + 1
        elif flag == 1 and version >= 65567:
            cur.pos = end + 1
            for _ in range(n_frames):
                cur.line("the per-frame numbers after the time stamps")
    return stamps


def _pixel_axis(coefficients: list[float] | None, width: int) -> np.ndarray | None:
    if not coefficients or coefficients[:2] == [0.0, 1.0] and not any(coefficients[2:]):
        return None
    pixels = np.arange(1, width + 1, dtype=np.float64)
    return np.polynomial.polynomial.polyval(pixels, coefficients)


def _axis(nm: np.ndarray | None, head: dict[str, Any], choice: str, width: int,
          path: str) -> tuple[Axis, list[Step]]:
    laser = head.get("raman_ex_wavelength_nm")
    label = head["x_text"].lower()
    if choice == "channel" or (choice == "file" and (nm is None or "pixel" in label)):
        return Axis("channel", "1", np.arange(1, width + 1, dtype=np.float64)), []
    if nm is None:
        raise ParseError(path, f"axis={choice!r} needs a wavelength calibration, and the file "
                               "has none (identity polynomial 0 1 0 0)")
    wavelength = Axis("wavelength", "nm", check_axis(nm, path, "x calibration"))
    wants_shift = choice == "raman_shift" or (choice == "file" and "raman" in label and laser)
    if not wants_shift:
        return wavelength, []
    if not laser:
        raise ParseError(path, "axis='raman_shift' needs the Raman excitation wavelength, which "
                               "the file does not give")
    shifted, step = shift_step(wavelength, laser)
    return shifted, [step]


def _frame_polynomials(user_text: bytes, n_frames: int) -> list[list[float]] | None:
    found = {int(m.group(1)): _floats(m.group(2).replace(b",", b" "))
             for m in _FRAME_CALIBRATION.finditer(user_text)}
    if not found:
        return None
    if sorted(found) != list(range(1, n_frames + 1)) or any(v is None for v in found.values()):
        return None
    return [found[i] for i in range(1, n_frames + 1)]  # type: ignore[misc]


def _meta(head: dict[str, Any], user_text: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if head.get("raman_ex_wavelength_nm"):
        meta["laser_wavelength_nm"] = float(head["raman_ex_wavelength_nm"])
    if head["exposure_time_s"] > 0:
        meta["exposure_time_s"] = float(head["exposure_time_s"])
    if head["n_accumulations"] > 0:
        meta["n_accumulations"] = int(head["n_accumulations"])
    if 0 < head["time_t"] < 2**33:
        meta["acquired_at"] = _dt.datetime.fromtimestamp(head["time_t"], _dt.timezone.utc)
    if head["head_model"]:
        meta["instrument"] = head["head_model"]
    if user_text and not user_text.startswith("Calibration data for"):
        meta["title"] = user_text
    return meta


def parse_sif(data: bytes, *, source: Source, axis: str = "file") -> list[Spectrum]:
    """Parse the bytes of an Andor Solis ``.sif`` file.

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
        One Spectrum (1-D, or dims ``("frame",)``, ``("row",)``, ``("frame", "row")``); one per
        frame when the frames carry different calibrations.

    Raises
    ------
    ParseError
        No magic, a header field that is missing or not a number, lengths that disagree, data
        running past the end of the file, NaN intensities, a non-monotonic calibration, a
        Raman-shift request without an excitation wavelength. The message gives the byte.
    """
    path = source.path
    if axis not in AXIS_CHOICES:
        raise ConfigError(f"axis must be one of {AXIS_CHOICES}, got {axis!r}", key="axis")
    if not data.startswith(MAGIC + b"\n"):
        raise ParseError(path, "not an Andor SIF file (no 'Andor Technology Multi-Channel "
                               "File' line)", position="byte 0")
    cur = _Cursor(data, path, len(MAGIC) + 1)
    file_line = _text(cur.line("the file version line"))
    head = _insta_image(cur)
    head["file_version_line"] = file_line
    cur.number("the user-text structure version", int)
    user_raw = cur.string("the user text")
    cur.take(1, "the end of the user text")
    cur.number("the shutter structure version", int)
    cur.take(8, "the shutter fields")
    shutter = _floats(cur.line("the shutter times"))
    head["shutter_time_s"] = shutter[:2] if shutter else []
    _versioned_lines(cur, head["sif_version"], head)
    coefficients = _calibration(cur, head)
    if "mechelle" in head.get("spectrograph", "").lower():  # echelle: not a pixel polynomial
        head["pixel_calibration"], coefficients = coefficients, None
    image = _image_structure(cur, len(data))
    stamps = _frame_stamps(cur, image["n_frames"], head["sif_version"])
    n_frames, rows, width = image["n_frames"], image["rows"], image["width"]
    end = cur.pos + image["total_length"] * 4
    if end > len(data):
        raise ParseError(path, f"truncated file: {n_frames} frame(s) of {rows}×{width} float32 "
                               f"values need {end} bytes, the file has {len(data)}",
                         position=f"byte {len(data)}")
    check_array((n_frames, rows, width), "frames", path=path)
    with np.errstate(invalid="ignore"):  # signalling NaNs are reported just below
        values = np.frombuffer(data, "<f4", image["total_length"], cur.pos).astype(np.float64)
    if not np.all(np.isfinite(values)):
        bad = int(np.argmin(np.isfinite(values)))
        raise ParseError(path, "intensities hold NaN or infinite values",
                         position=f"byte {cur.pos + 4 * bad}")
    values = values.reshape(n_frames, rows, width)

    if head["detector_temperature_c"] == -999 and "unstabilised_temperature_c" in head:
        head["detector_temperature_c"] = head["unstabilised_temperature_c"]
        head["temperature_stabilised"] = False
    user_text = _text(user_raw)
    raw: dict[str, Any] = {k: v for k, v in head.items() if k != "raman_ex_wavelength_nm"}
    raw.update({k: v for k, v in image.items()}, user_text=user_text, data_offset=cur.pos,
               trailing_bytes=len(data) - end, frame_times_us=stamps,
               calibration_coefficients=coefficients)
    meta = _meta(head, user_text)
    frame_time = np.asarray(stamps, dtype=np.float64)
    frame_time += np.concatenate([[0.0], np.cumsum(np.diff(frame_time) < 0)]) * 2.0**32
    frame_time = (frame_time - frame_time[0]) * 1e-6

    polynomials = _frame_polynomials(user_raw, n_frames)
    if polynomials and any(p != polynomials[0] for p in polynomials) and axis != "channel":
        groups = [(i, _axis(_pixel_axis(p, width), head, axis, width, path))
                  for i, p in enumerate(polynomials)]
    else:
        if polynomials:
            coefficients = polynomials[0]
        groups = [(None, _axis(_pixel_axis(coefficients, width), head, axis, width, path))]
    spectra = []
    for frame, (spectral_axis, steps) in groups:
        block = values if frame is None else values[frame:frame + 1]
        dims = tuple(n for n, size in (("frame", block.shape[0]), ("row", rows)) if size > 1)
        coords = {"time": Coord("frame", frame_time, "s")} if "frame" in dims else {}
        frame_raw = dict(raw) if frame is None else {**raw, "frame": frame,
                                                     "calibration_coefficients": polynomials[frame]}
        spectrum = Spectrum(axis=spectral_axis, data=block.reshape(*(s for s in block.shape[:2]
                                                                    if s > 1), width),
                            technique="raman", signal="counts", dims=dims, coords=coords,
                            meta=meta, raw_meta=frame_raw, source=source)
        spectra.append(dataclasses.replace(spectrum, history=tuple(steps)) if steps else spectrum)
    return spectra


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".sif",),
    magic=(MAGIC,),
    description="Andor Solis SIF (binary spectra, kinetic series and images; wavelength "
                "polynomial, Raman excitation wavelength)",
)
def read_sif(path: Path, *, axis: str = "file") -> list[Spectrum]:
    """Read an Andor Solis ``.sif`` file (see :func:`parse_sif`).

    Parameters
    ----------
    path : Path
        The file.
    axis : {"file", "wavelength", "raman_shift", "channel"}, default "file"
        Spectral axis: as the file labels it, nm, Raman shift (needs the excitation wavelength
        in the file) or pixel number.

    Returns
    -------
    list of Spectrum

    Examples
    --------
    >>> [s] = read_sif(Path("silicon_785.sif"), axis="raman_shift")  # doctest: +SKIP
    >>> s.axis.name, s.meta["laser_wavelength_nm"]  # doctest: +SKIP
    ('raman_shift', 785.0)
    """
    data = read_bytes(path)
    return parse_sif(data, source=make_source(path, FORMAT, data=data), axis=axis)
