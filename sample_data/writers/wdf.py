"""Write small, deterministic Renishaw WiRE ``.wdf`` files (sample data and round-trip tests).

Not part of the specssb package. The block layout follows what WiRE 4.4-5.5 writes in the real
files under ``../shared/data/raman`` and Renishaw's ``WdfHeader``/``WdfMapArea`` structures (as
published in Gwyddion's ``renishaw.c``):

=======  ==============================================================================
block    content
=======  ==============================================================================
``WDF1`` 512-byte header: counts, WiRE version, scan and measurement type, FILETIME start and
         end, spectral unit (counts), laser wavenumber (cm-1, float32), user, title
``DATA`` float32 spectra, ``count × npoints``; maps in row-major order (y outer, x fastest)
``YLST`` one float32 (detector row, unit pixels), as WiRE writes for a single-track CCD
``XLST`` data type *Frequency*, unit *RamanShift* (1) or *Nanometre* (3), float32 axis
``ORGN`` origin lists X, Y (µm, float64; primary for maps), Time (int64 FILETIME), Flags
``WMAP`` maps only: flags 0 (raster, x fastest), origin, step and size of the grid
``WXDM`` property set with a *Scan* set holding ``Exposure Time`` (ms) and ``Accumulations``
``TEXT`` a comment naming this generator
=======  ==============================================================================

Every byte depends only on the arguments (the file UUID is a hash of them), so the same call
always writes the same file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import struct
from os import PathLike
from pathlib import Path

import numpy as np

__all__ = ["write_wdf"]

_HEADER = struct.Struct("<4sIQQ4IQIIIIQQIIII24s4HIIQQIf48s32s160s48s32s32s")
_FILETIME_EPOCH = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)
_AXIS_UNITS = {"raman_shift": 1, "wavelength": 3}  # WdfDataUnits RamanShift, Nanometre
_SCAN_STATIC = 1
_TYPE_SINGLE, _TYPE_MAPPING = 1, 3
_UNIT_COUNTS, _UNIT_MICRON, _UNIT_PIXELS, _UNIT_FILETIME = 6, 5, 16, 24
_DATATYPE_FREQUENCY, _DATATYPE_X, _DATATYPE_Y, _DATATYPE_TIME, _DATATYPE_FLAGS = 1, 3, 4, 11, 17
_PRIMARY = 1 << 31


def _block(name: bytes, payload: bytes, uid: int = 0) -> bytes:
    return struct.pack("<4sIQ", name, uid, 16 + len(payload)) + payload


def _filetime(when: _dt.datetime) -> int:
    delta = when - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def _text(value: str, size: int) -> bytes:
    raw = value.encode("utf-8")[: size - 1]
    return raw + b"\0" * (size - len(raw))


def _pset(items: list[bytes]) -> bytes:
    body = b"".join(items)
    return b"PSET" + struct.pack("<I", len(body)) + body


def _pset_key(key: int, name: str) -> bytes:
    raw = name.encode("utf-8")
    return struct.pack("<cBHI", b"k", 0, key, len(raw)) + raw


def _pset_int(key: int, value: int) -> bytes:
    return struct.pack("<cBHi", b"i", 0, key, value)


def _pset_nested(key: int, items: list[bytes]) -> bytes:
    body = b"".join(items)
    return struct.pack("<cBHI", b"p", 0, key, len(body)) + body


def _origin(data_type: int, unit: int, label: str, values: bytes) -> bytes:
    return struct.pack("<II", data_type, unit) + _text(label, 16) + values


def _check_step(values: np.ndarray, name: str) -> float:
    if values.size == 1:
        return 1.0
    steps = np.diff(values)
    if not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-9) or steps[0] == 0:
        raise ValueError(f"{name} must be evenly spaced (a WMAP grid has one step per axis)")
    return float(steps[0])


def write_wdf(
    path: str | PathLike[str],
    data: np.ndarray,
    axis_values: np.ndarray,
    *,
    axis_unit: str,
    laser_wavelength_nm: float,
    x_um: np.ndarray | None = None,
    y_um: np.ndarray | None = None,
    title: str,
    acquired_at: _dt.datetime,
    exposure_time_s: float = 1.0,
    n_accumulations: int = 1,
) -> Path:
    """Write a single spectrum or a rectangular map as a Renishaw WiRE ``.wdf`` file.

    Parameters
    ----------
    path : str or PathLike
        File to write (overwritten).
    data : ndarray of shape (n,) or (ny, nx, n), counts
        One spectrum, or a map with y as the first and x as the second axis.
    axis_values : ndarray of shape (n,)
        Spectral axis in measured order (cm-1 for ``raman_shift``, nm for ``wavelength``);
        strictly monotonic, written as float32.
    axis_unit : {"raman_shift", "wavelength"}
        Unit of ``axis_values``.
    laser_wavelength_nm : float
        Excitation wavelength, nm; stored as the header laser wavenumber ``1e7 / λ`` in cm-1.
    x_um, y_um : ndarray of shape (nx,) and (ny,), µm, optional
        Map grid (evenly spaced; required for a map). For a single spectrum, optional
        one-element stage position (default 0).
    title : str
        Measurement title (at most 159 bytes of UTF-8 are kept).
    acquired_at : datetime
        Collection start, timezone-aware; the spectra are spaced by
        ``exposure_time_s × n_accumulations``.
    exposure_time_s : float, default 1.0
        Exposure per accumulation, s (stored in whole ms, as WiRE does).
    n_accumulations : int, default 1
        Accumulations per spectrum.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        For inconsistent shapes, an unknown axis unit, a naive datetime, a non-positive laser
        wavelength or exposure, or a map grid that is not evenly spaced.

    Examples
    --------
    >>> import datetime as dt, numpy as np
    >>> p = write_wdf("/tmp/one.wdf", np.ones(3), np.array([300.0, 200.0, 100.0]),
    ...               axis_unit="raman_shift", laser_wavelength_nm=532.0, title="test",
    ...               acquired_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    >>> p.read_bytes()[:4]
    b'WDF1'
    """
    data = np.asarray(data, dtype=np.float64)
    axis = np.asarray(axis_values, dtype=np.float64)
    if axis.ndim != 1 or axis.size == 0 or data.ndim not in (1, 3) or data.shape[-1] != axis.size:
        raise ValueError(f"data {data.shape} must be (n,) or (ny, nx, n) with n = {axis.size}")
    if axis_unit not in _AXIS_UNITS:
        raise ValueError(f"axis_unit must be one of {sorted(_AXIS_UNITS)}, not {axis_unit!r}")
    if acquired_at.utcoffset() is None:
        raise ValueError("acquired_at must be timezone-aware")
    if not laser_wavelength_nm > 0 or not exposure_time_s > 0 or n_accumulations < 1:
        raise ValueError("laser wavelength, exposure time and accumulations must be positive")
    is_map = data.ndim == 3
    ny, nx = data.shape[:2] if is_map else (1, 1)
    count, npoints = nx * ny, axis.size
    if is_map:
        if x_um is None or y_um is None:
            raise ValueError("a map needs x_um and y_um")
        xs, ys = np.asarray(x_um, dtype=np.float64), np.asarray(y_um, dtype=np.float64)
        if xs.shape != (nx,) or ys.shape != (ny,):
            raise ValueError(f"x_um {xs.shape} and y_um {ys.shape} must be ({nx},) and ({ny},)")
        dx, dy = _check_step(xs, "x_um"), _check_step(ys, "y_um")
    else:
        xs = np.atleast_1d(np.asarray(0.0 if x_um is None else x_um, dtype=np.float64))
        ys = np.atleast_1d(np.asarray(0.0 if y_um is None else y_um, dtype=np.float64))
        if xs.shape != (1,) or ys.shape != (1,):
            raise ValueError("for a single spectrum x_um and y_um are one stage position")
    x_per_spectrum = np.tile(xs, ny)  # row-major: x fastest
    y_per_spectrum = np.repeat(ys, nx)

    start = _filetime(acquired_at)
    period = int(round(exposure_time_s * n_accumulations * 1e7))
    times = start + period * np.arange(count, dtype=np.int64)
    exposure_ms = int(round(exposure_time_s * 1000))

    spectra = data.reshape(count, npoints).astype("<f4").tobytes()
    digest = hashlib.sha256(spectra + axis.astype("<f8").tobytes() + title.encode() +
                            struct.pack("<dqdi", laser_wavelength_nm, start, exposure_time_s,
                                        n_accumulations)).digest()
    uuid = struct.unpack("<4I", digest[:16])
    header = _HEADER.pack(
        b"WDF1", 1, 512, 0, *uuid, 0, 0, 0, 0,
        npoints, count, count, n_accumulations, 1, npoints, 4,
        _text("WiRE", 24), 5, 5, 0, 0,
        _SCAN_STATIC, _TYPE_MAPPING if is_map else _TYPE_SINGLE,
        start, start + period * count,
        _UNIT_COUNTS, 1e7 / laser_wavelength_nm,
        b"\0" * 48, _text("specssb", 32), _text(title, 160), b"\0" * 48, b"\0" * 32, b"\0" * 32,
    )
    primary = _PRIMARY if is_map else 0
    origins = struct.pack("<I", 4) + b"".join([
        _origin(_DATATYPE_X | primary, _UNIT_MICRON, "X", x_per_spectrum.astype("<f8").tobytes()),
        _origin(_DATATYPE_Y | primary, _UNIT_MICRON, "Y", y_per_spectrum.astype("<f8").tobytes()),
        _origin(_DATATYPE_TIME, _UNIT_FILETIME, "Time", times.astype("<i8").tobytes()),
        _origin(_DATATYPE_FLAGS, 0, "Flags", np.zeros(count, "<f8").tobytes()),
    ])
    measurement = _pset([
        _pset_key(0x8001, "Scan"),
        _pset_key(0x8002, "Exposure Time"),
        _pset_key(0x8003, "Accumulations"),
        _pset_nested(0x8001, [_pset_int(0x8002, exposure_ms), _pset_int(0x8003, n_accumulations)]),
    ])
    parts = [
        header,
        _block(b"DATA", spectra),
        _block(b"YLST", struct.pack("<II", _DATATYPE_Y, _UNIT_PIXELS) + struct.pack("<f", 0.0)),
        _block(b"XLST", struct.pack("<II", _DATATYPE_FREQUENCY, _AXIS_UNITS[axis_unit])
               + axis.astype("<f4").tobytes()),
        _block(b"ORGN", origins),
    ]
    if is_map:
        parts.append(_block(b"WMAP", struct.pack(
            "<II3f3f3II", 0, 0, xs[0], ys[0], 0.0, dx, dy, 1.0, nx, ny, 1, 0)))
    parts.append(_block(b"WXDM", measurement))
    parts.append(_block(b"TEXT", b"Synthetic data written by specssb sample_data/writers/wdf.py"))
    target = Path(path)
    target.write_bytes(b"".join(parts))
    return target
