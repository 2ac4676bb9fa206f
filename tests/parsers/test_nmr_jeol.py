"""JEOL Delta reader: real .jdf and .jdf.gz against nmrglue and PROVENANCE, damaged input."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.parsers import sniff
from specssb.parsers.nmr_jeol import parse_jeol, read_jeol
from specssb.spectrum import Source

SOURCE = Source("memory", "0" * 64, "jeol")


def _fluorine(shared_data) -> Path:
    return shared_data("nmr", "cheminfo_jeol", "fluorine.jdf")


def _proton(shared_data) -> Path:
    return shared_data("nmr", "datalab", "SW20AP_proton.jdf.gz")


def test_fluorine_matches_nmrglue_and_provenance(shared_data):
    path = _fluorine(shared_data)
    fid, = specssb.read(path)
    dic, data = ng.jeol.read(str(path))
    np.testing.assert_array_equal(fid.data, data)
    assert fid.raw_meta["header"] == dic["header"]
    # PROVENANCE: 19F, 470.364 MHz, SW 120.2 kHz, 32768 complex
    assert fid.shape == (32768,) and fid.signal == "fid" and fid.axis.name == "time"
    assert fid.meta["nucleus"] == "19F" and fid.meta["sfo1_mhz"] == pytest.approx(470.364, abs=1e-3)
    assert fid.meta["spectral_width_hz"] == pytest.approx(120192.30769230769)
    assert fid.meta["n_points"] == 32768 and fid.meta["n_scans"] == 16
    assert fid.meta["temperature_k"] == pytest.approx(22.1 + 273.15)
    assert fid.meta["instrument"] == "JNM-ECZ500R/S3"
    # the header's axis stop is (n - 1) dwell times
    assert fid.axis.values[-1] == pytest.approx(dic["header"]["data_axis_stop"][0], rel=1e-9)
    assert "mas_rate_hz" not in fid.meta  # mas_spin_get = 0 (solution probe)


def test_gzip_is_read_in_memory_and_matches_nmrglue_on_the_unpacked_file(shared_data, tmp_path):
    path = _proton(shared_data)
    fid, = specssb.read(path)
    unpacked = tmp_path / "proton.jdf"
    unpacked.write_bytes(gzip.decompress(path.read_bytes()))
    _, data = ng.jeol.read(str(unpacked))
    np.testing.assert_array_equal(fid.data, data)
    assert fid.source.sha256 == specssb.parsers.sha256_of(path)  # hash of the .gz as stored
    # PROVENANCE: 1H, 500.160 MHz, SW 20.7 kHz, 65536 complex
    assert fid.meta["nucleus"] == "1H" and fid.meta["sfo1_mhz"] == pytest.approx(500.160, abs=1e-3)
    assert fid.meta["spectral_width_hz"] == pytest.approx(20695.364238410595)
    assert fid.shape == (65536,) and fid.meta["n_points"] == 65536
    assert sniff(path).name == "jeol" and sniff(unpacked).name == "jeol"


def test_sign_convention_puts_hdo_near_4_7_ppm(shared_data):
    """The FFT of the D2O sample's FID has its largest line at the HDO shift, not its mirror."""
    fid, = read_jeol(_proton(shared_data))
    spectrum = np.abs(np.fft.fftshift(np.fft.fft(fid.data)))
    n, sw = fid.shape[0], fid.meta["spectral_width_hz"]
    offset = fid.raw_meta["parameters"]["x_offset"]  # ppm at the carrier
    ppm = offset + (np.arange(n) - n // 2) * sw / n / fid.meta["sfo1_mhz"]
    assert 4.5 < ppm[np.argmax(spectrum)] < 4.9


@pytest.mark.parametrize("fraction", [0.001, 0.02, 0.5, 0.99])
def test_truncated_files_raise_parse_error(shared_data, tmp_path, fraction):
    raw = _fluorine(shared_data).read_bytes()
    with pytest.raises(ParseError):
        parse_jeol(raw[: int(len(raw) * fraction)], source=SOURCE)
    packed = tmp_path / "cut.jdf.gz"
    packed.write_bytes(gzip.compress(raw)[: int(len(raw) * fraction) // 2 + 10])
    with pytest.raises(ParseError):
        specssb.read(packed)


def test_header_offsets_past_the_end_and_wrong_magic(shared_data):
    raw = bytearray(_fluorine(shared_data).read_bytes())
    where = raw.find(struct.pack(">I", 1360), 0, 1360)  # param_start, big-endian header
    assert where > 0
    raw[where:where + 4] = struct.pack(">I", len(raw) + 100)
    with pytest.raises(ParseError, match="past the end"):
        parse_jeol(bytes(raw), source=SOURCE)
    with pytest.raises(ParseError, match="not a JEOL Delta file"):
        parse_jeol(b"JUNK" + bytes(raw[4:]), source=SOURCE)


def test_corrupt_gzip_stream(tmp_path):
    path = tmp_path / "bad.jdf.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 60)
    with pytest.raises(ParseError, match="gzip"):
        specssb.read(path)
