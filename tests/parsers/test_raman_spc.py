"""Galactic SPC reader: real WiRE / WITec / LabSpec exports, synthetic files of every layout,
damaged input."""

from __future__ import annotations

import datetime as dt
import struct

import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.parsers._common import make_source
from specssb.parsers.raman_spc import parse_spc

# ------------------------------------------------------------------------------ writer
SUB = struct.Struct("<BbhfffiifI")


def _header(flags: int, npts: int, first: float, last: float, nsub: int, *, exp: int = -128,
            xtype: int = 13, ytype: int = 4, ztype: int = 0, date: int = 0,
            comment: bytes = b"", logoff: int = 0, order: str = "<", version: int = 0x4B) -> bytes:
    fmt = struct.Struct(order + "BBBbiddiBBBBI9s9sH32s130s30siiBBHf48sfifB187s")
    return fmt.pack(flags, version, 0, exp, npts, first, last, nsub, xtype, ytype, ztype, 0,
                    date, b"", b"test", 0, b"", comment, b"", logoff, 0, 0, 0, 0, 0.0, b"",
                    0.0, 0, 0.0, 0, b"")


def _y_bytes(y: np.ndarray, exp: int, order: str = "<", sixteen: bool = False) -> bytes:
    if exp == -128:
        return y.astype(order + "f4").tobytes()
    if sixteen:
        return np.round(y / 2.0 ** (exp - 16)).astype(order + "i2").tobytes()
    return np.round(y / 2.0 ** (exp - 32)).astype(order + "i4").tobytes()


def write_spc(ys: list[np.ndarray], *, x: np.ndarray | None = None, first: float = 100.0,
              last: float = 1000.0, exp: int = -128, sixteen: bool = False,
              z: list[float] | None = None, log: str = "", xyxy_x: list[np.ndarray] | None = None,
              order: str = "<", date: int = 0, comment: bytes = b"") -> bytes:
    """Bytes of a new-format SPC file (LSB or MSB) with the given subfiles."""
    multi = len(ys) > 1 or xyxy_x is not None
    flags = (0x04 if multi else 0) | (0x01 if sixteen else 0)
    flags |= 0x80 if x is not None or xyxy_x is not None else 0
    flags |= 0x40 if xyxy_x is not None else 0
    npts = 0 if xyxy_x is not None else len(ys[0])
    body = b"" if x is None else x.astype(order + "f4").tobytes()
    sub = struct.Struct(order + SUB.format[1:])
    for i, y in enumerate(ys):
        n = len(y) if xyxy_x is not None else 0
        body += sub.pack(0, exp, i, (z or [0.0] * len(ys))[i], 0.0, 0.0, n, 0, 0.0, 0)
        if xyxy_x is not None:
            body += xyxy_x[i].astype(order + "f4").tobytes()
        body += _y_bytes(y, exp, order, sixteen)
    logoff = 0
    if log:
        logoff = 512 + len(body)
        text = log.encode("latin-1") + b"\0"
        body += struct.pack(order + "5i44s", 64 + len(text), 4096, 64, 0, 0, b"") + text
    head = _header(flags, npts, first, last, len(ys), exp=exp, logoff=logoff, order=order,
                   version=0x4B if order == "<" else 0x4C, date=date, comment=comment)
    return head + body


def write_old_spc(y: np.ndarray, *, exp: int = 20, first: float = 200.0,
                  last: float = 300.0) -> bytes:
    """Bytes of an old-format (0x4D) single spectrum, 32-bit Y with the high word first."""
    raw = np.round(y / 2.0 ** (exp - 32)).astype("<i4")
    swapped = raw.view("<u2").reshape(-1, 2)[:, ::-1].copy().tobytes()
    head = struct.pack("<BBhfffBBhBBBB8shh28s130s30s32s", 0, 0x4D, exp, float(len(y)), first,
                       last, 13, 4, 2001, 2, 3, 4, 5, b"", 0, 1, b"", b"old", b"",
                       b"\0" * 32)
    return head + swapped


def _parse(data: bytes, **options):
    return parse_spc(data, source=make_source("synthetic.spc", "spc", sha256="0" * 64), **options)


# ------------------------------------------------------------------------------ real files
@pytest.mark.parametrize(("parts", "n", "first", "last"), [
    (("hyperspec", "spc.LabRam", "LabRam-1.spc"), 1023, 3722.26904296875, 550.3054809570312),
    (("hyperspec", "spc", "Witec_image2x3_SPC_Data_1_F.spc"), 1024, 28.670397, 3891.3201),
    (("ramanchada2", "InViaReflex", "PST_Reflex532_Z050_010_10000msx2.spc"), 2578, 3501.0625,
     100.26548),
    (("ramanchada2", "Witec", "PST_WITEcAlpha532_100x_075_10000ms_000_Spec.Data_1.spc"), 1600,
     -37.885609, 3731.9321),
])
def test_real_files_axis(shared_data, parts, n, first, last):
    [spectrum] = specssb.read(shared_data("raman", *parts))
    assert spectrum.source.format == "spc"
    assert spectrum.axis.name == "raman_shift" and spectrum.axis.size == n
    assert spectrum.axis.values[0] == pytest.approx(first, abs=1e-4)
    assert spectrum.axis.values[-1] == pytest.approx(last, abs=1e-4)


def test_labram_multifile_is_a_series_with_z_values(shared_data):
    [s] = specssb.read(shared_data("raman", "hyperspec", "spc.LabRam", "LabRam-1.spc"))
    assert s.dims == ("scan",) and s.shape == (18, 1023)
    assert s.coords["subfile_z"].values[:3].tolist() == [-40.0, -30.0, -20.0]
    assert s.coords["subfile_z"].values[-1] == 9.0
    assert s.raw_meta["flags"] == ["TMULTI", "TORDRD", "TXVALS"]


def test_witec_image_reads_as_six_scans_or_a_declared_map(shared_data):
    path = shared_data("raman", "hyperspec", "spc", "Witec_image2x3_SPC_Data_1_F.spc")
    [series] = specssb.read(path)
    assert series.dims == ("scan",) and series.shape == (6, 1024)
    # first intensities of subfiles 0 and 1, read off the file
    assert series.data[0, :4].tolist() == [631.0, 625.0, 626.0, 627.0]
    assert series.data[1, :4].tolist() == [627.0, 628.0, 626.0, 623.0]
    [image] = specssb.read(path, map_shape=(2, 3))
    assert image.dims == ("y", "x") and image.shape == (2, 3, 1024)
    np.testing.assert_array_equal(image.data[1, 0], series.data[3])
    assert image.meta["measurement_type"] == "map"
    with pytest.raises(ParseError, match="does not match the 6 subfiles"):
        specssb.read(path, map_shape=(4, 2))


def test_inVia_log_gives_laser_exposure_and_date(shared_data):
    [s] = specssb.read(shared_data("raman", "ramanchada2", "InViaReflex",
                                   "PST_Reflex532_Z050_010_10000msx2.spc"))
    assert s.meta["laser_wavelength_nm"] == 532.0
    assert s.meta["exposure_time_s"] == 10.0 and s.meta["n_accumulations"] == 2
    assert s.meta["grating"] == "1800 l/mm (vis)"
    assert s.meta["acquired_at"] == dt.datetime(2021, 11, 18, 11, 30, tzinfo=dt.timezone.utc)
    assert s.raw_meta["log"]["Serial_number"] == "H18509"
    # polystyrene: the ring-breathing band at 1001.4 cm-1
    window = (s.axis.values > 980) & (s.axis.values < 1020)
    peak = s.axis.values[window][np.argmax(s.data[window])]
    assert peak == pytest.approx(1001.4, abs=2.0)


def test_renishaw_spc_is_the_wdf_resampled_on_an_even_axis(shared_data):
    """WiRE writes the .spc on an evenly spaced axis between the .wdf end points, linearly
    interpolated: same end points, same spectrum within float32 rounding."""
    stem = "nCal_Qontor785_z005H12_100_1x3s"
    [spc] = specssb.read(shared_data("raman", "ramanchada2", "Renishaw", stem + ".spc"))
    [wdf] = specssb.read(shared_data("raman", "ramanchada2", "Renishaw", stem + ".wdf"))
    assert spc.axis.size == wdf.axis.size == 1021
    assert spc.axis.values[[0, -1]] == pytest.approx(wdf.axis.values[[0, -1]], abs=1e-4)
    assert spc.data[[0, -1]] == pytest.approx(wdf.data[[0, -1]], rel=1e-6)
    np.testing.assert_allclose(np.diff(spc.axis.values), np.diff(spc.axis.values)[0], rtol=1e-9)
    resampled = np.interp(spc.axis.values[::-1], wdf.axis.values[::-1], wdf.data[::-1])[::-1]
    np.testing.assert_allclose(spc.data, resampled, rtol=0, atol=2e-5 * wdf.data.max())
    assert spc.meta["laser_wavelength_nm"] == 785.0
    assert wdf.meta["laser_wavelength_nm"] == pytest.approx(785.0, abs=0.1)
    assert spc.meta["exposure_time_s"] == wdf.meta["exposure_time_s"] == 3.0
    assert "acquired_at" not in spc.meta  # fdate holds no valid date in this file
    assert spc.raw_meta["acquired_at_problem"]


# ------------------------------------------------------------------------------ synthetic
Y = np.array([10.0, 250.5, 3000.25, 12.0, 7.0])


def test_even_float_single():
    [s] = _parse(write_spc([Y], first=100.0, last=500.0, comment=b"Li6PS5Cl"))
    np.testing.assert_allclose(s.axis.values, [100, 200, 300, 400, 500])
    np.testing.assert_allclose(s.data, Y.astype(np.float32))
    assert s.dims == () and s.meta["title"] == "Li6PS5Cl" and s.signal == "counts"


@pytest.mark.parametrize(("exp", "sixteen"), [(15, False), (20, False), (13, True)])
def test_integer_y_with_exponent(exp, sixteen):
    values = np.array([1.0, 2.5, 1000.0, 3.75, 0.0]) if not sixteen else np.array([1, 2, 3, 4, 5.])
    [s] = _parse(write_spc([values], exp=exp, sixteen=sixteen))
    step = 2.0 ** (exp - 16 if sixteen else exp - 32)
    np.testing.assert_allclose(s.data, np.round(values / step) * step)


def test_explicit_x_multifile_big_endian_and_log():
    x = np.array([1800.0, 1500.0, 1200.0, 900.0, 600.0])
    log = "Laser=Laser: 633 nm\r\nExposure_time=Time: 500ms\r\nMeasurement_type=Mapping\r\n[X]\r\n"
    for order in "<>":
        [s] = _parse(write_spc([Y, 2 * Y, 3 * Y], x=x, z=[0.0, 5.0, 10.0], log=log, order=order))
        assert s.dims == ("scan",) and s.shape == (3, 5)
        np.testing.assert_allclose(s.axis.values, x)
        np.testing.assert_allclose(s.data[2], 3 * Y.astype(np.float32), rtol=1e-6)
        assert s.coords["subfile_z"].values.tolist() == [0.0, 5.0, 10.0]
        assert s.meta["laser_wavelength_nm"] == 633.0 and s.meta["exposure_time_s"] == 0.5
        assert s.meta["measurement_type"] == "mapping"
        assert s.raw_meta["log_lines"] == ["[X]"]


def test_xyxy_subfiles_with_their_own_axes():
    xs = [np.array([100.0, 200.0, 300.0]), np.array([150.0, 250.0, 350.0, 450.0])]
    ys = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0, 7.0])]
    spectra = _parse(write_spc(ys, xyxy_x=xs))
    assert [s.axis.size for s in spectra] == [3, 4]
    np.testing.assert_allclose(spectra[1].axis.values, xs[1])
    assert [s.source.block for s in spectra] == [0, 1]


def test_old_format_word_swapped_int32_and_date():
    values = np.array([1.0, 2.0, 40.0, 8.0])
    [s] = _parse(write_old_spc(values, exp=20))
    np.testing.assert_allclose(s.data, values)
    np.testing.assert_allclose(s.axis.values, np.linspace(200, 300, 4))
    assert s.meta["acquired_at"] == dt.datetime(2001, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def test_packed_date_and_timezone():
    packed = (2024 << 20) | (5 << 16) | (6 << 11) | (7 << 6) | 8
    [s] = _parse(write_spc([Y], date=packed), timezone="Europe/Berlin")
    assert s.meta["acquired_at"] == dt.datetime(2024, 5, 6, 5, 8, tzinfo=dt.timezone.utc)


def test_nanometre_axis():
    data = bytearray(write_spc([Y], first=540.0, last=560.0))
    data[28] = 3
    [s] = _parse(bytes(data))
    assert s.axis.name == "wavelength" and s.axis.values[0] == 540.0


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d[:300], "truncated file: file header"),
    (lambda d: d[:530], "truncated"),
    (lambda d: b"\x00\x55" + d[2:], "not a Galactic SPC file"),
    (lambda d: d[:28] + bytes([4]) + d[29:], "X axis type 4 \\(seconds\\)"),
    (lambda d: d[:4] + struct.pack("<i", 10**9) + d[8:], "claims"),
])
def test_damaged_files_raise_parse_error(damage, message):
    with pytest.raises(ParseError, match=message):
        _parse(damage(write_spc([Y, Y])))


def test_non_monotonic_axis_and_nan_data_are_refused():
    with pytest.raises(ParseError, match="not strictly monotonic"):
        _parse(write_spc([Y], x=np.array([1.0, 2.0, 2.0, 3.0, 4.0])))
    with pytest.raises(ParseError, match="NaN"):
        _parse(write_spc([np.array([1.0, np.nan, 2.0, 3.0, 4.0])]))


def test_log_block_past_the_end_is_refused():
    data = bytearray(write_spc([Y], log="Laser=Laser: 532 nm\r\n"))
    struct.pack_into("<i", data, 248, len(data) + 100)
    with pytest.raises(ParseError, match="log block header"):
        _parse(bytes(data))
