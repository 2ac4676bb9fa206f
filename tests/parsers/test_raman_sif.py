"""Andor Solis SIF reader: synthetic files of every header variant, damaged input.

No real ``.sif`` file is available. The files are written by ``sample_data/writers/sif.py``,
whose layout was checked by reading its files with ``sif_parser`` 0.3.6 (outside the project:
same data, wavelength axis, exposure, Raman wavelength and time for versions 65547-65567).
These tests check the reader against the values the writer put in and against calibration
values computed by hand.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.parsers._common import make_source
from specssb.parsers.raman_sif import parse_sif

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("sif_writer", REPO / "sample_data/writers/sif.py")
sif_writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sif_writer)  # type: ignore[union-attr]

UTC = dt.timezone.utc
#: 785 nm laser, detector from 800.5 to 831.6 nm: Stokes Raman shifts 247-714 cm-1.
RAMAN = dict(coefficients=(800.0, 0.5, -1e-4, 0.0), laser_wavelength_nm=785.0,
             x_text="Raman Shift", exposure_s=10.0, n_accumulations=5, time_t=1690545064)


def _counts(frames: int = 1, rows: int = 1, width: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.poisson(400, (frames, rows, width)) + 0.25).astype(np.float32)


def _parse(data: bytes, **options):
    return parse_sif(data, source=make_source("s.sif", "andor-sif", sha256="0" * 64), **options)


# ------------------------------------------------------------------------------ physics
def test_raman_spectrum_axis_meta_and_history(tmp_path):
    counts = _counts()
    path = sif_writer.write_sif(tmp_path / "si.sif", counts, **RAMAN)
    [s] = specssb.read(path)
    assert s.source.format == "andor-sif" and s.dims == () and s.shape == (64,)
    assert np.array_equal(s.data, counts[0, 0])
    # polynomial at pixel 1 and 64: 800 + 0.5 p - 1e-4 p^2 = 800.4999 and 831.5904 nm;
    # 1e7/785 - 1e7/nm by hand = 246.6596 and 713.7027 cm-1
    assert s.axis.name == "raman_shift" and s.axis.unit == "cm-1"
    assert s.axis.values[0] == pytest.approx(246.65956, abs=1e-4)
    assert s.axis.values[-1] == pytest.approx(713.70266, abs=1e-4)
    [step] = s.history
    assert step.operation == "wavelength_to_raman_shift"
    assert step.parameters["laser_wavelength_nm"] == 785.0
    assert s.meta["laser_wavelength_nm"] == 785.0 and s.meta["exposure_time_s"] == 10.0
    assert s.meta["n_accumulations"] == 5 and s.meta["instrument"] == "DU420_OE"
    # time_t 1690545064 is 2023-07-28 11:51:04 UTC
    assert s.meta["acquired_at"] == dt.datetime(2023, 7, 28, 11, 51, 4, tzinfo=UTC)
    assert s.raw_meta["detector_temperature_c"] == -70.0
    assert s.raw_meta["sif_version"] == 65567 and s.raw_meta["spectrograph"] == "SR303i"
    assert s.raw_meta["gate_delay_s"] == pytest.approx(480e-6)
    assert s.raw_meta["solis_version"] == "4.30.30013.0"
    [nm] = specssb.read(path, axis="wavelength")
    assert nm.axis.name == "wavelength" and not nm.history
    assert nm.axis.values[[0, -1]] == pytest.approx([800.4999, 831.5904])
    [px] = specssb.read(path, axis="channel")
    assert px.axis.values.tolist() == list(range(1, 65))


def test_wavelength_label_keeps_nm_even_with_a_rayleigh_value():
    # a luminescence file (x label "Wavelength") whose Rayleigh field holds 422 nm
    data = sif_writer.sif_bytes(_counts(width=20), x_text="Wavelength", laser_wavelength_nm=422.0,
                                coefficients=(405.184510498139, 0.0486615559015733,
                                              -3.17780657750795e-07, -1.1864020166803e-10))
    [s] = _parse(data)
    assert s.axis.name == "wavelength" and s.meta["laser_wavelength_nm"] == 422.0
    assert s.axis.values[0] == pytest.approx(405.233172, abs=1e-6)
    [shift] = _parse(data, axis="raman_shift")
    assert shift.axis.values[0] == pytest.approx(1e7 / 422.0 - 1e7 / 405.233172, abs=1e-3)


def test_kinetic_series_has_frames_and_a_time_coordinate():
    counts = _counts(frames=4, width=32)
    stamps = (0, 3_022_100, 2**32 - 10, 5)  # the µs counter wraps at 2**32
    [s] = _parse(sif_writer.sif_bytes(counts, frame_times_us=stamps, **RAMAN))
    assert s.dims == ("frame",) and s.shape == (4, 32)
    assert np.array_equal(s.data, counts[:, 0])
    assert s.coords["time"].dim == "frame" and s.coords["time"].unit == "s"
    assert s.coords["time"].values == pytest.approx([0.0, 3.0221, (2**32 - 10) * 1e-6,
                                                     (2**32 + 5) * 1e-6])


def test_image_and_multitrack_rows():
    counts = _counts(frames=2, rows=3, width=16)
    [image] = _parse(sif_writer.sif_bytes(counts, **RAMAN))
    [tracks] = _parse(sif_writer.sif_bytes(counts, tracks=3, **RAMAN))
    for s in (image, tracks):
        assert s.dims == ("frame", "row") and s.shape == (2, 3, 16)
        assert np.array_equal(s.data, counts)
    assert image.raw_meta["n_subimages"] == 1 and tracks.raw_meta["n_subimages"] == 3
    [one] = _parse(sif_writer.sif_bytes(counts[:1], **RAMAN))
    assert one.dims == ("row",) and one.shape == (3, 16)


# the "1" line and per-frame list after the time stamps is known from version 65567 only
VARIANTS = [(v, flag) for v in (65547, 65550, 65558, 65559, 65564, 65565, 65567)
            for flag in ("zero", "none")] + [(65567, "list")]


@pytest.mark.parametrize(("version", "frame_flag"), VARIANTS)
@pytest.mark.parametrize("calibration_version", [65539, 65540])
def test_every_header_variant_reads_the_same(version, calibration_version, frame_flag):
    counts = _counts(frames=2, width=24, seed=version)
    data = sif_writer.sif_bytes(counts, version=version, calibration_version=calibration_version,
                                frame_flag=frame_flag, **RAMAN)
    [s] = _parse(data)
    assert np.array_equal(s.data, counts[:, 0])
    assert s.axis.values[0] == pytest.approx(246.65956, abs=1e-4)
    assert s.meta["exposure_time_s"] == 10.0 and s.raw_meta["sif_version"] == version


def test_uncalibrated_file_gives_pixels_and_refuses_a_raman_axis():
    data = sif_writer.sif_bytes(_counts(width=8), x_text="Pixel number")
    [s] = _parse(data)
    assert s.axis.name == "channel" and s.axis.values.tolist() == list(range(1, 9))
    assert "laser_wavelength_nm" not in s.meta
    with pytest.raises(ParseError, match="needs a wavelength calibration"):
        _parse(data, axis="wavelength")
    calibrated = sif_writer.sif_bytes(_counts(width=8), coefficients=(500.0, 0.1, 0.0, 0.0))
    with pytest.raises(ParseError, match="excitation wavelength"):
        _parse(calibrated, axis="raman_shift")
    with pytest.raises(ConfigError):
        _parse(calibrated, axis="energy")


def test_per_frame_calibrations_in_the_user_text():
    counts = _counts(frames=2, width=10)
    text = (b"Calibration data for frame 1: 500,0.1,0,0\n"
            b"Calibration data for frame 2: 510,0.1,0,0")
    spectra = _parse(sif_writer.sif_bytes(counts, user_text=text))
    assert [s.raw_meta["frame"] for s in spectra] == [0, 1]
    assert [s.axis.values[0] for s in spectra] == pytest.approx([500.1, 510.1])
    assert all(s.dims == () for s in spectra)
    assert np.array_equal(spectra[1].data, counts[1, 0])
    assert "title" not in spectra[0].meta
    same = text.replace(b"510", b"500")
    [s] = _parse(sif_writer.sif_bytes(counts, user_text=same))
    assert s.dims == ("frame",) and s.axis.values[0] == pytest.approx(500.1)


def test_user_text_unstabilised_temperature_and_trailing_bytes():
    data = sif_writer.sif_bytes(_counts(), user_text=b"LPSCl pellet, spot 3",
                                temperature_c=-999, unstabilised_c=-41.5,
                                trailing=b"\x00" * 12, **RAMAN)
    [s] = _parse(data)
    assert s.meta["title"] == "LPSCl pellet, spot 3"
    assert s.raw_meta["detector_temperature_c"] == -41.5
    assert s.raw_meta["temperature_stabilised"] is False
    assert s.raw_meta["trailing_bytes"] == 12
    assert "temperature_k" not in s.meta  # the CCD temperature is not the sample's


def test_mechelle_line_is_not_a_pixel_polynomial():
    data = sif_writer.sif_bytes(_counts(width=8), version=65559, spectrograph="Mechelle",
                                coefficients=(200.0, 975.0, 7.0, 0.0))
    [s] = _parse(data)
    assert s.axis.name == "channel" and s.raw_meta["pixel_calibration"] == [200.0, 975.0, 7.0, 0.0]


def test_sniffed_by_magic(tmp_path):
    path = sif_writer.write_sif(tmp_path / "spectrum.dat", _counts(), **RAMAN)
    assert specssb.sniff(path).name == "andor-sif"


# ------------------------------------------------------------------------------ bad input
def test_every_truncation_raises_parse_error_with_the_byte():
    data = sif_writer.sif_bytes(_counts(frames=2, rows=2, width=4), tracks=2, **RAMAN)
    data_start = len(data) - 2 * 2 * 4 * 4
    cuts = list(range(0, data_start + 1)) + [data_start + 1, data_start + 17, len(data) - 1]
    for cut in cuts:
        with pytest.raises(ParseError) as info:
            _parse(data[:cut])
        assert info.value.position and info.value.position.startswith("byte"), cut


@pytest.mark.parametrize(("old", "new", "message"), [
    (b"65567 0 0 1 1690545064 -70 ", b"65567 0 0 1 yesterday -70 ", "acquisition time"),
    (b"\n65539 800.0", b"\n12345 800.0", "calibration structure version"),
    (b"65541 1 1 64 1 1 1 64 64\n", b"65541 1 1 64 1 1 1 65 64\n", "inconsistent image header"),
    (b"65541 1 1 64 1 1 1 64 64\n", b"65541 1 1 64 1 1 1 6400 6400\n", "do not fit"),
    (b"65538 1 1 64 1 1 1 0\n", b"65538 1 1 32 1 1 1 0\n", "do not make the image length"),
    (b"65538 1 1 64 1 1 1 0\n", b"65538 1 1 64 1 1 x 0\n", "six integers"),
    (b"11\nRaman Shift", b"1x\nRaman Shift", "length of the x-axis label"),
])
def test_garbled_headers(old, new, message):
    data = sif_writer.sif_bytes(_counts(), **RAMAN)
    assert data.count(old) == 1
    with pytest.raises(ParseError, match=message) as info:
        _parse(data.replace(old, new))
    assert info.value.position.startswith("byte")


def test_not_sif_nan_data_and_bad_calibration():
    with pytest.raises(ParseError, match="not an Andor SIF file"):
        _parse(b"Andor Technology Multi-Channel Fil\n")
    rng = np.random.default_rng(1)
    with pytest.raises(ParseError):
        _parse(sif_writer.MAGIC + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    counts = _counts(width=8)
    counts[0, 0, 5] = np.nan
    with pytest.raises(ParseError, match="NaN") as info:
        _parse(sif_writer.sif_bytes(counts, **RAMAN))
    data = sif_writer.sif_bytes(_counts(width=8), **RAMAN)
    assert info.value.position == f"byte {len(data) - 8 * 4 + 5 * 4}"
    snan = sif_writer.sif_bytes(_counts(width=8), **RAMAN)[:-4] + b"\x01\x00\x80\x7f"
    with pytest.raises(ParseError, match="NaN"):  # a signalling NaN
        _parse(snan)
    folded = sif_writer.sif_bytes(_counts(width=64), coefficients=(800.0, 1.0, -0.01, 0.0))
    with pytest.raises(ParseError, match="not strictly monotonic"):
        _parse(folded)
