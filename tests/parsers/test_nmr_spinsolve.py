"""Spinsolve reader: the real folder against nmrglue and PROVENANCE, synthetic folders
(FID and spectrum), damaged input."""

from __future__ import annotations

import datetime as dt
import shutil
import struct
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.parsers import sniff
from specssb.parsers.nmr_spinsolve import parse_acqu_par, read_spinsolve

UTC = dt.timezone.utc
ACQU = ('rxChannel = "7Li"\nb1Freq = 23.3\nbandwidth = 2\nnrPnts = 4\nnrScans = 8\n'
        'startTime = "2024-06-01T12:00:00.000"\nSample = "Li cell"\n')


def _real(shared_data) -> Path:
    return shared_data("nmr", "nmrpy", "spinsolve1", "00000")


def _one_d(x: np.ndarray, values: np.ndarray, data_type: int = 504) -> bytes:
    header = b"SORPATAD" + struct.pack("<6I", 0x56312E31, data_type, values.size, 1, 1, 1)
    pairs = np.empty(2 * values.size, "<f4")
    pairs[0::2], pairs[1::2] = values.real, values.imag
    body = (x.astype("<f4").tobytes() if data_type == 504 else b"") + pairs.tobytes()
    return header + body


def _folder(tmp_path: Path, acqu: str = ACQU, **files: bytes) -> Path:
    folder = tmp_path / "00001"
    folder.mkdir()
    (folder / "acqu.par").write_text(acqu)
    for name, data in files.items():
        (folder / name.replace("_1d", ".1d")).write_bytes(data)
    return folder


def test_real_folder_matches_nmrglue_and_provenance(shared_data):
    path = _real(shared_data)
    fid, = specssb.read(path)
    dic, data = ng.spinsolve.read(str(path))
    np.testing.assert_array_equal(fid.data, data)
    assert fid.raw_meta["acqu"] == dic["acqu"]
    # PROVENANCE: 1H, 61.49 MHz, 5 kHz, 32768 complex
    assert fid.shape == (32768,) and fid.signal == "fid" and fid.axis.name == "time"
    assert fid.meta["nucleus"] == "1H" and fid.meta["sfo1_mhz"] == pytest.approx(61.49, abs=5e-3)
    assert fid.meta["spectral_width_hz"] == 5000 and fid.meta["n_points"] == 32768
    assert fid.axis.values[-1] == pytest.approx(32767 / 5000)  # acqu.par dwellTime 200 us
    np.testing.assert_allclose(fid.axis.values, dic["spectrum"]["xaxis"], atol=1e-6)
    assert fid.meta["acquired_at"] == dt.datetime(2025, 8, 5, 10, 39, 36, 371000, tzinfo=UTC)
    assert fid.meta["sample"] == "PPD-PhProp-ch2cl2" and fid.meta["n_scans"] == 1
    assert sniff(path).name == "spinsolve" and sniff(path / "data.1d").name == "spinsolve"


def test_synthetic_fid_and_processed_spectrum(tmp_path):
    values = np.array([4 + 1j, 2 - 1j, 1 + 0.5j, 0.5j])
    ppm = np.array([10.0, 5.0, 0.0, -5.0])
    folder = _folder(tmp_path, data_1d=_one_d(np.arange(4) * 5e-4, values),
                     spectrum_1d=_one_d(ppm, values[::-1]))
    fid, = read_spinsolve(folder, timezone="Europe/Berlin")
    np.testing.assert_array_equal(fid.data, values)
    assert fid.axis.values.tolist() == [0, 0.0005, 0.001, 0.0015]
    assert fid.meta["nucleus"] == "7Li" and fid.meta["spectral_width_hz"] == 2000
    assert fid.meta["acquired_at"] == dt.datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    spectrum, = read_spinsolve(folder, data="processed")
    assert spectrum.axis.name == "chemical_shift" and spectrum.axis.values.tolist() == ppm.tolist()
    np.testing.assert_array_equal(spectrum.data, values[::-1])
    with pytest.raises(ConfigError):
        read_spinsolve(folder, data="both")


def test_acqu_par_parser():
    assert parse_acqu_par(ACQU)["nrPnts"] == 4
    with pytest.raises(ParseError, match="expected 'name = value'") as info:
        parse_acqu_par('rxChannel = "7Li"\nno equals sign here\n')
    assert info.value.position == "line 2"
    with pytest.raises(ParseError, match="empty acqu.par"):
        parse_acqu_par("\n\n")


def test_damaged_binary_and_parameters(tmp_path, shared_data):
    copy = tmp_path / "real"
    shutil.copytree(_real(shared_data), copy)
    raw = (copy / "data.1d").read_bytes()
    (copy / "data.1d").write_bytes(raw[:-6])
    with pytest.raises(ParseError, match="truncated") as info:
        read_spinsolve(copy)
    assert info.value.position == f"byte {len(raw) - 6}"
    (copy / "data.1d").write_bytes(raw[:12] + struct.pack("<I", 500) + raw[16:])
    with pytest.raises(ParseError, match="unsupported Prospa dataType 500"):
        read_spinsolve(copy)
    (copy / "data.1d").write_bytes(b"NOTPROSPA" + raw[9:])
    with pytest.raises(ParseError, match="not a Prospa"):
        read_spinsolve(copy)
    folder = _folder(tmp_path, ACQU.replace("bandwidth = 2\n", ""),
                     data_1d=_one_d(np.arange(4.0), np.ones(4, complex)))
    with pytest.raises(ParseError, match="bandwidth"):
        read_spinsolve(folder)
    (folder / "data.1d").unlink()
    with pytest.raises(ParseError, match="no data.1d or fid.1d"):
        read_spinsolve(folder)
