"""Write small Andor Solis ``.sif`` files (round-trip tests of the SIF reader).

Not part of the specssb package. No real ``.sif`` file was available; the layout follows the
public descriptions of the format (Leutenegger's ``sifread.m`` 2006, the ImageJ SIF reader's
structure names, ``sif_parser`` 0.3.6 and the SIFKit.jl field list) and is checked by reading
the written files with ``sif_parser`` (see ``tests/parsers/test_raman_sif.py``). Text lines end
in ``\\n``; ``<n>\\n<text>`` is a length-prefixed string; ``…`` are fields with fixed dummy values::

    Andor Technology Multi-Channel File
    65538 1
    <version> 0 0 1 <time_t> <temp> 0 0 0 0 0 0 <exposure> <cycle> <acc cycle> <n acc> NUL <kinetic>
        <readout> 0 1 <gain> … (58 fields, field 48 = unstabilised temperature, 55-58 = Solis
        version) <len(head model)>
    <head model>
    <width> <height> <len(file name)>
    <file name> SP
    65538 <len(user text)>
    <user text>
    65538 <8 bytes> <shutter open> <shutter close>
    <version-dependent lines: 65548-65557: 2; 65558: 5; 65559/65564: 8 + spectrograph;
     65565: 15; >65565: 8 + spectrograph + intensifier + 8 numbers (gate gain 4th, gate delay and
     width in ps 7th and 8th) + 8 lines>
    <65539 | 65540 …\\n> <c0> <c1> <c2> <c3>          (wavelength polynomial, lowest order first)
    0 1 0 0
    0 1 0 0
    <Raman excitation wavelength in nm, or empty>
    13
    13
    1
    <len>\\n<x text><len>\\n<y text><len>\\n<z text>65541 <left> <top> <right> <bottom> <frames>
        <subimages> <total length> <image length>
    65538 <left> <top> <right> <bottom> <vbin> <hbin> <offset>     (one line per subimage)
    <frame time stamp, µs>                                           (one line per frame)
    0            (or "1" and one more line per frame, version 65567; or nothing)
    <frames × rows × width float32, little-endian>
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

__all__ = ["MAGIC", "sif_bytes", "write_sif"]

MAGIC = b"Andor Technology Multi-Channel File\n"


def _num(value: float) -> bytes:
    return repr(float(value)).removesuffix(".0").encode() if float(value).is_integer() \
        else repr(float(value)).encode()


def _insta_line(version: int, time_t: int, temperature_c: float, exposure_s: float,
                n_accumulations: int, unstabilised_c: float | None, head: bytes) -> bytes:
    cycle = exposure_s + 0.0221
    fields = [str(version).encode(), b"0", b"0", b"1", str(time_t).encode(), _num(temperature_c),
              b"0 0 0 0 0", b"0", _num(exposure_s), _num(cycle), _num(cycle * n_accumulations),
              str(n_accumulations).encode(), b"\x00", _num(cycle), b"1e-06", b"0", b"1",
              b"2500", b"0", b"0", b"1e-08"]
    fields += [b"0"] * 16 + [b"6.5e-06"]          # fields 26-41, 42
    fields += [b"0"] * 5                           # 43-47
    fields += [_num(unstabilised_c if unstabilised_c is not None else temperature_c)]  # 48
    fields += [b"1", b"0", b"1", b"100", b"0", b"0", b"4", b"30", b"30013", b"0"]  # 49-58
    return b" ".join(fields) + b" " + str(len(head)).encode() + b"\n"


def _version_block(version: int, spectrograph: str) -> bytes:
    spec = f"65539 {spectrograph} 1 0\n".encode()
    if 65548 <= version <= 65557:
        return b"65538 0 0\n0\n"
    if version == 65558:
        return b"65538 0 0\n0\n0\n0\n0\n"
    if version in (65559, 65564):
        return b"".join(b"65538 0 %d\n" % i for i in range(8)) + spec
    if version == 65565:
        return b"".join(b"65538 0 %d\n" % i for i in range(15))
    if version > 65565:
        intensifier = b"0 1 0 4095 0 0 480000000 2000000 0 0\n"
        return (b"".join(b"65538 0 %d\n" % i for i in range(8)) + spec + b"65538 1 0\n"
                + intensifier + b"".join(b"0 %d\n" % i for i in range(7)))
    return b""


def sif_bytes(
    counts: np.ndarray,
    *,
    coefficients: tuple[float, ...] = (0.0, 1.0, 0.0, 0.0),
    laser_wavelength_nm: float | None = None,
    x_text: str = "Wavelength",
    version: int = 65567,
    calibration_version: int = 65539,
    time_t: int = 1_714_979_289,
    temperature_c: float = -70.0,
    unstabilised_c: float | None = None,
    exposure_s: float = 1.0,
    n_accumulations: int = 1,
    head_model: str = "DU420_OE",
    spectrograph: str = "SR303i",
    file_name: str = r"C:\data\sample.sif",
    user_text: bytes = b"",
    tracks: int = 1,
    frame_flag: str = "zero",
    frame_times_us: tuple[int, ...] | None = None,
    trailing: bytes = b"",
) -> bytes:
    """The bytes of a SIF file holding ``counts``.

    Parameters
    ----------
    counts : ndarray of shape (frames, rows, width)
        Intensities, written as float32.
    coefficients : tuple of float
        Wavelength polynomial in the 1-based pixel number, lowest order first (nm).
    laser_wavelength_nm : float, optional
        Raman excitation wavelength; None writes an empty line.
    x_text : str
        Frame-axis label (``"Wavelength"``, ``"Raman Shift"``, ``"Pixel number"`` …).
    version, calibration_version : int
        TInstaImage and TCalibImage structure versions.
    time_t : int
        Acquisition start, seconds since 1970-01-01 UTC.
    tracks : int
        Rows are written as one subimage of ``rows`` rows (1) or as ``rows`` one-row subimages
        (multi-track, ``tracks == rows``).
    frame_flag : {"zero", "list", "none"}
        What follows the frame time stamps: a ``0`` line, a ``1`` line and one line per frame
        (as version 65567 files), or nothing.
    trailing : bytes
        Bytes after the data.
    """
    frames, rows, width = counts.shape
    head = head_model.encode()
    name = file_name.encode("latin-1")
    out = [MAGIC, b"65538 1\n",
           _insta_line(version, time_t, temperature_c, exposure_s, n_accumulations,
                       unstabilised_c, head),
           head + b"\n", b"%d %d %d\n" % (max(width, 1024), 255, len(name)), name + b" \n",
           b"65538 %d\n" % len(user_text), user_text + b"\n",
           b"65538 \x01 \x00 \x02 \x00 0.027 0\n", _version_block(version, spectrograph)]
    coefficient_line = b" ".join(repr(float(c)).encode() for c in coefficients) + b"\n"
    if calibration_version == 65540:
        out.append(b"65540 1 0 0\n" + coefficient_line)
    else:
        out.append(b"%d " % calibration_version + coefficient_line)
    laser = b"" if laser_wavelength_nm is None else _num(laser_wavelength_nm)
    out += [b"0 1 0 0\n0 1 0 0\n", laser + b"\n", b"13\n13\n1\n"]
    for text in (x_text, "Counts", "Pixel number"):
        out.append(b"%d\n%s" % (len(text), text.encode()))
    n_sub = rows if tracks > 1 else 1
    sub_height = 1 if tracks > 1 else rows
    image_length = rows * width
    out.append(b"65541 1 %d %d 1 %d %d %d %d\n"
               % (rows, width, frames, n_sub, frames * image_length, image_length))
    for index in range(n_sub):
        bottom = 1 + index * sub_height
        out.append(b"65538 1 %d %d %d 1 1 %d\n"
                   % (bottom + sub_height - 1, width, bottom, index * sub_height * width))
    stamps = frame_times_us or tuple(int(i * 1_000_000 * (exposure_s + 0.0221))
                                     for i in range(frames))
    out += [b"%d\n" % t for t in stamps]
    if frame_flag == "zero":
        out.append(b"0\n")
    elif frame_flag == "list":
        out.append(b"1\n" + b"".join(b"%d\n" % (10**12 + i) for i in range(frames)))
    out.append(np.ascontiguousarray(counts, dtype="<f4").tobytes())
    out.append(trailing)
    return b"".join(out)


def write_sif(path: str | PathLike[str], counts: np.ndarray, **options) -> Path:
    """Write :func:`sif_bytes` to ``path`` and return the path."""
    path = Path(path)
    path.write_bytes(sif_bytes(np.asarray(counts), **options))
    return path
