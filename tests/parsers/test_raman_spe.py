"""Princeton SPE reader: WinSpec 2.2 and LightField 3.0 real files, synthetic headers, damage."""

from __future__ import annotations

import datetime as dt
import struct

import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.parsers import sniff
from specssb.parsers._common import make_source
from specssb.parsers.raman_spe import parse_spe


# ------------------------------------------------------------------------------ writer
def write_spe(frames: np.ndarray, *, dtype: int = 3, coeffs=(500.0, 0.1), poly_unit: int = 4,
              display_unit: int = 4, laser: float = 532.0, version: float = 2.2,
              xml: str | None = None, date: bytes = b"06May2024", time_local: bytes = b"010203",
              time_utc: bytes = b"230203", exposure: float = 0.5, accumulations: int = 3) -> bytes:
    """Bytes of an SPE file; ``frames`` has shape (frames, rows, xdim)."""
    n_frames, ydim, xdim = frames.shape
    head = bytearray(4100)
    struct.pack_into("<f", head, 10, exposure)
    head[20:20 + len(date)] = date
    struct.pack_into("<H", head, 42, xdim)
    struct.pack_into("<h", head, 108, dtype)
    head[172:178], head[179:185] = time_local, time_utc
    head[200:212] = b"LPSCl pellet"
    struct.pack_into("<H", head, 656, ydim)
    struct.pack_into("<i", head, 668, accumulations)
    struct.pack_into("<i", head, 1446, n_frames)
    struct.pack_into("<f", head, 1992, version)
    head[3016], head[3098], head[3100], head[3101] = display_unit, 1, poly_unit, len(coeffs) - 1
    struct.pack_into("<6d", head, 3263, *(list(coeffs) + [0.0] * (6 - len(coeffs))))
    struct.pack_into("<d", head, 3311, laser)
    struct.pack_into("<H", head, 4098, 0x5555)
    numpy_type = {0: "<f4", 1: "<i4", 2: "<i2", 3: "<u2", 8: "<u4"}[dtype]
    body = frames.astype(numpy_type).tobytes()
    if xml is not None:
        struct.pack_into("<Q", head, 678, 4100 + len(body))
        return bytes(head) + body + xml.encode()
    return bytes(head) + body


def _xml(wavelengths: np.ndarray, laser: str = "785", exposure_ms: float = 2000.0) -> str:
    values = ",".join(f"{v:.6f}" for v in wavelengths)
    return (
        '<SpeFormat version="3.0" xmlns="http://www.princetoninstruments.com/spe/2009">'
        '<DataFormat><DataBlock type="Frame" count="1" pixelFormat="MonochromeFloating32" '
        f'size="{4 * wavelengths.size}" stride="{4 * wavelengths.size}">'
        f'<DataBlock type="Region" width="{wavelengths.size}" height="1"/></DataBlock>'
        f'</DataFormat><Calibrations><WavelengthMapping id="1" laserLine="{laser}">'
        f'<Wavelength xml:space="preserve">{values}</Wavelength></WavelengthMapping>'
        '</Calibrations><DataHistories><DataHistory><Origin created="2024-05-06T10:00:00.1234567+02:00">'
        '<Experiment xmlns="http://www.princetoninstruments.com/experiment/2009"><Devices>'
        f'<ShutterTiming><ExposureTime type="Double">{exposure_ms}</ExposureTime></ShutterTiming>'
        '</Devices></Experiment></Origin></DataHistory></DataHistories></SpeFormat>'
    )


def _parse(data: bytes, **options):
    return parse_spe(data, source=make_source("synthetic.spe", "princeton-spe", sha256="0" * 64),
                     **options)


# ------------------------------------------------------------------------------ real files
def test_winspec_polystyrene_polynomial_and_laser(shared_data):
    path = shared_data("raman", "hyperspec", "spe", "polystyrene.SPE")
    [s] = specssb.read(path)
    assert sniff(path).name == "princeton-spe"
    assert s.raw_meta["spe_version"] == "2.2" and s.shape == (1340,)
    # display unit is Raman shift: nm polynomial converted with the 785 nm laser
    assert s.axis.name == "raman_shift" and s.meta["laser_wavelength_nm"] == 785.0
    assert [h.operation for h in s.history] == ["wavelength_to_raman_shift"]
    [nm] = specssb.read(path, axis="wavelength")
    # x(p) = c0 + c1 p + c2 p^2 + c3 p^3 at 1-based pixel p
    c = [803.0778738558118, 0.20379713727145127, 6.887903572308325e-05, -4.7387088380066874e-08]
    assert nm.axis.values[0] == pytest.approx(sum(ci for ci in c))
    assert nm.axis.values[-1] == pytest.approx(sum(ci * 1340**i for i, ci in enumerate(c)))
    assert s.axis.values[0] == pytest.approx(1e7 / 785 - 1e7 / nm.axis.values[0])
    assert nm.data[:3].tolist() == [585.0, 590.0, 593.0]
    # the nine polystyrene bands of the header's calibration table, at their band maxima
    # (0-based indices read off the data): 1-based pixels give the smallest mean residual
    # (2904.5 is left out: too weak to place in this spectrum)
    known = [620.9, 795.8, 1001.4, 1031.8, 1155.3, 1450.5, 1602.3, 3054.3]
    maxima = [106, 159, 223, 233, 273, 370, 424, 1022]
    for index in maxima:
        assert s.data[index] == s.data[index - 2:index + 3].max()
    residual = s.axis.values[maxima] - np.array(known)
    assert abs(residual.mean()) < 1.5 and np.abs(residual).max() < 8.0
    assert s.meta["acquired_at"] == dt.datetime(2015, 6, 23, 13, 14, 26, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("parts", "first_nm", "last_nm", "laser", "first_y"), [
    (("hyperspec", "spe", "spe_format_3.0.SPE"), 782.17025070933232, 1073.25418999, 785.0, 38.0),
    (("ramanchada2", "PrincetonInstruments", "S0N_50x.spe"), 534.00047611653622, 557.35494206,
     531.988, 630.0),
])
def test_lightfield_xml_wavelengths_and_laser_line(shared_data, parts, first_nm, last_nm, laser,
                                                   first_y):
    path = shared_data("raman", *parts)
    [s] = specssb.read(path)
    assert s.raw_meta["spe_version"] == "3.0" and s.shape == (1340,)
    assert s.axis.name == "wavelength" and s.history == ()
    assert s.axis.values[0] == pytest.approx(first_nm, abs=1e-8)
    assert s.axis.values[-1] == pytest.approx(last_nm, abs=1e-6)
    assert s.meta["laser_wavelength_nm"] == laser and s.data[0] == first_y
    [shift] = specssb.read(path, axis="raman_shift")
    assert shift.axis.values[0] == pytest.approx(1e7 / laser - 1e7 / first_nm)
    assert shift.history[0].parameters["laser_wavelength_nm"] == laser


def test_lightfield_experiment_metadata(shared_data):
    [s] = specssb.read(shared_data("raman", "ramanchada2", "PrincetonInstruments", "S0N_50x.spe"))
    assert s.meta["exposure_time_s"] == pytest.approx(30.0)
    assert s.meta["grating"] == "1800 l/mm (500nm blaze)"
    assert s.meta["instrument"] == "SP-2-500i + PyLoN: 400BR eXcelon"
    assert s.meta["acquired_at"] == dt.datetime(2024, 10, 1, 9, 32, 24, 657962,
                                                tzinfo=dt.timezone.utc)
    assert s.raw_meta["data_block"]["pixelFormat"] == "MonochromeUnsigned32"


def test_metadata_xml_companion_is_not_claimed(shared_data):
    xml = shared_data("raman", "hyperspec", "spe", "spe_format_3.0.SPE_metadata.xml")
    info = specssb.parsers.get_format("princeton-spe")
    assert not info.matches_content(xml, xml.read_bytes()[:4096])
    assert not info.matches_extension(xml)


# ------------------------------------------------------------------------------ synthetic
FRAME = np.arange(1, 9, dtype=np.float64).reshape(1, 1, 8) * 100


def test_v2_nm_polynomial_is_wavelength_by_default():
    [s] = _parse(write_spe(FRAME, coeffs=(540.0, 0.5)))
    np.testing.assert_allclose(s.axis.values, 540.0 + 0.5 * np.arange(1, 9))
    assert s.axis.name == "wavelength" and s.meta["exposure_time_s"] == 0.5
    assert s.meta["n_accumulations"] == 3 and s.meta["title"] == "LPSCl pellet"
    # local 01:02:03 on 6 May, UTC 23:02:03 -> the previous day in UTC
    assert s.meta["acquired_at"] == dt.datetime(2024, 5, 5, 23, 2, 3, tzinfo=dt.timezone.utc)


def test_v2_raman_shift_and_absolute_wavenumber_polynomials():
    [s] = _parse(write_spe(FRAME, coeffs=(100.0, 10.0), poly_unit=6, display_unit=6))
    np.testing.assert_allclose(s.axis.values, 100 + 10.0 * np.arange(1, 9))
    [back] = _parse(write_spe(FRAME, coeffs=(100.0, 10.0), poly_unit=6), axis="wavelength")
    np.testing.assert_allclose(back.axis.values, 1e7 / (1e7 / 532 - s.axis.values))
    [wn] = _parse(write_spe(FRAME, coeffs=(18000.0, -10.0), poly_unit=5))
    np.testing.assert_allclose(wn.axis.values, 1e7 / (18000 - 10.0 * np.arange(1, 9)))


def test_frames_and_rows_become_leading_dims():
    cube = np.arange(2 * 3 * 8, dtype=np.float64).reshape(2, 3, 8)
    [s] = _parse(write_spe(cube, dtype=0))
    assert s.dims == ("frame", "row") and s.shape == (2, 3, 8)
    np.testing.assert_array_equal(s.data, cube)


def test_uncalibrated_file_gets_channel_axis():
    [s] = _parse(write_spe(FRAME, coeffs=(0.0, 0.0)))
    assert s.axis.name == "channel" and s.axis.values.tolist() == list(range(1, 9))
    with pytest.raises(ParseError, match="needs a wavelength calibration"):
        _parse(write_spe(FRAME, coeffs=(0.0, 0.0)), axis="raman_shift")


def test_v3_xml_footer():
    wavelengths = np.linspace(800.0, 900.0, 8)
    [s] = _parse(write_spe(FRAME, dtype=0, version=3.0, xml=_xml(wavelengths), laser=0.0))
    np.testing.assert_allclose(s.axis.values, wavelengths, atol=1e-6)
    assert s.meta["laser_wavelength_nm"] == 785.0 and s.meta["exposure_time_s"] == 2.0
    assert s.meta["acquired_at"] == dt.datetime(2024, 5, 6, 8, 0, 0, 123456,
                                                tzinfo=dt.timezone.utc)


def test_raman_shift_without_laser_is_an_error():
    data = write_spe(FRAME, dtype=0, version=3.0, xml=_xml(np.linspace(800, 900, 8), laser="0"),
                     laser=0.0)
    with pytest.raises(ParseError, match="needs the laser wavelength"):
        _parse(data, axis="raman_shift")
    with pytest.raises(ConfigError):
        _parse(data, axis="kelvin")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d[:4000], "SPE header needs 4100 bytes"),
    (lambda d: d[:4100 + 5], "truncated file"),
    (lambda d: d[:4098] + b"\0\0" + d[4100:], "no 0x5555"),
    (lambda d: d[:108] + struct.pack("<h", 4) + d[110:], "unknown SPE datatype 4"),
])
def test_damaged_v2_files(damage, message):
    with pytest.raises(ParseError, match=message):
        _parse(damage(write_spe(FRAME)))


def test_damaged_v3_footer():
    data = write_spe(FRAME, dtype=0, version=3.0, xml=_xml(np.linspace(800, 900, 8)))
    with pytest.raises(ParseError, match="not well-formed XML"):
        _parse(data[:-40])
    seven = _xml(np.linspace(800, 900, 7)).replace('"28"', '"32"')
    with pytest.raises(ParseError, match="frame stride 28 is smaller than a frame"):
        _parse(write_spe(FRAME, dtype=0, version=3.0, xml=_xml(np.linspace(800, 900, 7))))
    short = write_spe(FRAME, dtype=0, version=3.0, xml=seven)
    with pytest.raises(ParseError, match="7 values for 8 pixels"):
        _parse(short)
    with pytest.raises(ParseError, match="not strictly monotonic"):
        _parse(write_spe(FRAME, dtype=0, version=3.0,
                         xml=_xml(np.array([800, 801, 802, 802, 803, 804, 805, 806.0]))))
