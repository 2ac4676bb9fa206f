"""NMRPipe reader: real 1-D files against nmrglue and PROVENANCE, files written by nmrglue,
damaged input."""

from __future__ import annotations

from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.parsers import sniff
from specssb.parsers.nmr_pipe import parse_pipe, read_pipe
from specssb.spectrum import Source

SOURCE = Source("memory", "0" * 64, "nmrpipe")


def _example(shared_data, *parts: str) -> Path:
    return shared_data("nmr", "nmrglue_examples", *parts)


def test_frequency_domain_spectrum_matches_nmrglue(shared_data):
    path = _example(shared_data, "integrate_1d", "1d_data.ft")
    spectrum, = specssb.read(path)
    dic, data = ng.pipe.read(str(path))
    np.testing.assert_array_equal(spectrum.data, data)
    # PROVENANCE: 13C, 125.681 MHz, 50 kHz, 16384 real points (frequency)
    assert spectrum.axis.name == "chemical_shift" and spectrum.signal == "spectrum"
    assert spectrum.shape == (16384,) and spectrum.data.dtype == np.float64
    np.testing.assert_allclose(spectrum.axis.values, ng.pipe.make_uc(dic, data).ppm_scale(),
                               atol=1e-9)
    assert spectrum.axis.values[0] == pytest.approx(300.1903, abs=1e-4)
    assert spectrum.axis.values[-1] == pytest.approx(dic["FDF2ORIG"] / dic["FDF2OBS"])
    assert spectrum.meta["nucleus"] == "13C"
    assert spectrum.meta["sfo1_mhz"] == pytest.approx(125.681, abs=1e-3)
    assert spectrum.meta["spectral_width_hz"] == 50000 and spectrum.meta["n_points"] == 1500
    assert spectrum.meta["offset_ppm"] == spectrum.axis.values[0]


def test_integration_limits_of_the_example_hold_peaks(shared_data):
    """limits.in brackets real peaks: each window's maximum stands well above the noise."""
    path = _example(shared_data, "integrate_1d", "1d_data.ft")
    spectrum, = read_pipe(path)
    limits = np.loadtxt(_example(shared_data, "integrate_1d", "limits.in"), usecols=(1, 2))
    ppm, y = spectrum.axis.values, spectrum.data
    noise = np.std(y[(ppm > 200) & (ppm < 250)])
    for low, high in limits:
        window = y[(ppm >= min(low, high)) & (ppm <= max(low, high))]
        assert window.size and window.max() > 20 * noise


def test_time_domain_fid_matches_nmrglue(shared_data):
    path = _example(shared_data, "coadd_1d_pipe", "test-run01.fid")
    fid, = specssb.read(path)
    _, data = ng.pipe.read(str(path))
    np.testing.assert_array_equal(fid.data, data)
    assert fid.shape == (1500,) and np.iscomplexobj(fid.data) and fid.signal == "fid"
    assert fid.axis.name == "time" and fid.axis.values[1] == pytest.approx(2e-5)
    assert fid.meta["nucleus"] == "13C" and fid.meta["n_points"] == 1500
    assert sniff(path).name == "nmrpipe"


def _write(tmp_path: Path, data: np.ndarray, *, time: bool, label: str = "Li7") -> Path:
    udic = ng.fileiobase.create_blank_udic(1)
    udic[0].update(size=data.size, complex=np.iscomplexobj(data), sw=2000.0, obs=155.5,
                   car=0.0, label=label, time=time, freq=not time)
    path = tmp_path / ("x.fid" if time else "x.ft")
    ng.pipe.write(str(path), ng.pipe.create_dic(udic), data.astype(
        np.complex64 if np.iscomplexobj(data) else np.float32), overwrite=True)
    return path


def test_files_written_by_nmrglue(tmp_path):
    fid, = read_pipe(_write(tmp_path, np.array([1 + 2j, 3 - 4j, 5j, -1]), time=True))
    assert fid.data.tolist() == [1 + 2j, 3 - 4j, 5j, -1] and fid.meta["nucleus"] == "7Li"
    assert fid.axis.values.tolist() == [0, 0.0005, 0.001, 0.0015]
    spectrum, = read_pipe(_write(tmp_path, np.arange(8.0), time=False))
    step = 2000.0 / 8 / 155.5
    np.testing.assert_allclose(np.diff(spectrum.axis.values), -step)
    assert spectrum.axis.values[4] == pytest.approx(0, abs=1e-6)  # carrier (0 ppm) at point n/2


def test_damaged_and_unsupported_files(tmp_path, shared_data):
    raw = _example(shared_data, "coadd_1d_pipe", "test-run01.fid").read_bytes()
    for cut in (0, 10, 2047, 2048, len(raw) - 4):
        with pytest.raises(ParseError):
            parse_pipe(raw[:cut], source=SOURCE)
    with pytest.raises(ParseError, match="truncated") as info:
        parse_pipe(raw[:-4], source=SOURCE)
    assert info.value.position == f"byte {len(raw) - 4}"
    two_d = bytearray(raw)
    two_d[36:40] = np.float32(2).tobytes()  # FDDIMCOUNT
    with pytest.raises(ParseError, match="2-D NMRPipe data are not supported"):
        parse_pipe(bytes(two_d), source=SOURCE)
    with pytest.raises(ParseError, match="not an NMRPipe file"):
        parse_pipe(b"\0" * 4096, source=SOURCE)
    nan = bytearray(raw)
    nan[2048:2052] = np.float32(np.nan).tobytes()
    with pytest.raises(ParseError, match="non-finite"):
        parse_pipe(bytes(nan), source=SOURCE)
