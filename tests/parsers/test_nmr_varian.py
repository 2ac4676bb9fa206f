"""Varian/Agilent VnmrJ reader: real folders against nmrglue and PROVENANCE, synthetic folders,
arrayed parameters, damaged input."""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import warnings
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import MetadataWarning, ParseError
from specssb.parsers import sniff
from specssb.parsers.nmr_varian import decode_fid, parse_procpar, read_varian

UTC = dt.timezone.utc
REAL = ["nmrpy/test1.fid", "nmrpy/test2.fid", "ssnake/satrec2D.fid"]


def _nmr(shared_data, relative: str) -> Path:
    return shared_data("nmr", *relative.split("/"))


# ------------------------------------------------------------------------ synthetic writer
def _record(name: str, values, *, subtype: int = 1, basictype: int = 1, active: int = 1) -> str:
    if basictype == 2:
        body = f"{len(values)} " + "\n".join(f'"{v}"' for v in values)
    else:
        body = f"{len(values)} " + " ".join(str(v) for v in values)
    return f"{name} {subtype} {basictype} 1e9 -1e9 0 2 1 0 {active} 64\n{body} \n0 \n"


def _procpar(**extra: str) -> str:
    records = {
        "np": _record("np", [8], subtype=7), "sw": _record("sw", [1000.0]),
        "sfrq": _record("sfrq", [155.5]), "tn": _record("tn", ["Li7"], subtype=2, basictype=2),
        "array": _record("array", [""], subtype=2, basictype=2),
        "time_run": _record("time_run", ["20240102T030405"], subtype=2, basictype=2),
    }
    records.update(extra)
    return "".join(records.values())


def _fid(traces: np.ndarray, dtype: str = ">f4") -> bytes:
    """A VnmrJ fid: one block per trace, 28-byte zero block headers."""
    traces = np.atleast_2d(traces)
    status = {">f4": 0x9, ">i4": 0x5, ">i2": 0x1}[dtype]
    n_values = traces.shape[1] * 2
    ebytes = np.dtype(dtype).itemsize
    header = struct.pack(">6lhhl", traces.shape[0], 1, n_values, ebytes, n_values * ebytes,
                         28 + n_values * ebytes, 0, status, 1)
    body = b""
    for trace in traces:
        interleaved = np.empty(n_values)
        interleaved[0::2], interleaved[1::2] = trace.real, trace.imag
        body += b"\0" * 28 + interleaved.astype(dtype).tobytes()
    return header + body


def _folder(tmp_path: Path, traces, procpar: str, dtype: str = ">f4") -> Path:
    folder = tmp_path / "synthetic.fid"
    folder.mkdir(parents=True)
    (folder / "procpar").write_text(procpar)
    (folder / "fid").write_bytes(_fid(np.asarray(traces), dtype))
    (folder / "text").write_text("7Li test\n")
    return folder


# ------------------------------------------------------------------------ real files
@pytest.mark.parametrize("relative", REAL)
def test_real_data_match_nmrglue(shared_data, relative):
    path = _nmr(shared_data, relative)
    fid, = specssb.read(path)
    dic, data = ng.varian.read(str(path))
    assert fid.source.format == "varian" and fid.signal == "fid"
    np.testing.assert_array_equal(fid.data, data)
    assert fid.raw_meta["procpar"] == dic["procpar"]
    sw = float(dic["procpar"]["sw"]["values"][0])
    assert fid.axis.name == "time" and fid.axis.unit == "s"
    assert fid.axis.values[-1] == pytest.approx((fid.shape[-1] - 1) / sw, rel=1e-12)


def test_arrayed_31p_time_series(shared_data):
    fid, = read_varian(_nmr(shared_data, "nmrpy/test1.fid"))
    # PROVENANCE: 31P, SF 161.895 MHz, SW 9.71 kHz, (24, 15542) complex
    assert fid.shape == (24, 15542) and fid.dims == ("nt",)
    assert fid.coords["nt"].unit == "1" and fid.coords["nt"].values.tolist() == [12] * 24
    assert fid.meta["nucleus"] == "31P" and fid.meta["sfo1_mhz"] == pytest.approx(161.895, abs=1e-3)
    assert fid.meta["spectral_width_hz"] == pytest.approx(9713.45313259)
    assert fid.meta["n_points"] == 15542 and fid.meta["n_scans"] == 12
    assert fid.meta["temperature_k"] == pytest.approx(269.15)  # temp -4 °C, VT active
    assert fid.meta["acquired_at"] == dt.datetime(2015, 12, 6, 14, 15, 9, tzinfo=UTC)
    assert "mas_rate_hz" not in fid.meta  # liquids probe, no srate


def test_saturation_recovery_series_has_tau_coordinate(shared_data):
    fid, = read_varian(_nmr(shared_data, "ssnake/satrec2D.fid"))
    assert fid.shape == (12, 1923) and fid.dims == ("tau_recovery",)
    tau = fid.coords["tau_recovery"]
    assert tau.unit == "s"
    assert tau.values.tolist() == [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    assert fid.meta["nucleus"] == "87Rb" and fid.meta["sfo1_mhz"] == 196.3444528
    assert fid.meta["spectral_width_hz"] == pytest.approx(192307.692308)
    assert fid.meta["pulse_program"] == "relax" and fid.meta["instrument"] == "vnmrs"
    assert "temperature_k" not in fid.meta  # temp parameter inactive (no VT)
    assert "mas_rate_hz" not in fid.meta  # srate = 0
    # recovery: the first point grows from the shortest to the longest delay
    assert abs(fid.data[-1, 0]) > 3 * abs(fid.data[0, 0])


def test_single_fid_and_timezone(shared_data):
    path = _nmr(shared_data, "nmrpy/test2.fid")
    fid, = read_varian(path, timezone="Europe/Paris")
    assert fid.shape == (16384,) and fid.dims == ()
    assert fid.meta["nucleus"] == "31P" and fid.meta["sfo1_mhz"] == 242.8758083
    assert fid.meta["n_scans"] == 1000 and fid.meta["title"] == "STANDARD PHOSPHORUS PARAMETERS"
    assert fid.meta["acquired_at"] == dt.datetime(2016, 4, 5, 13, 57, 39, tzinfo=UTC)
    assert "mas_rate_hz" not in fid.meta  # Inova integer srate=25 is not a MAS rate
    assert read_varian(path / "fid")[0].data.tobytes() == fid.data.tobytes()
    assert sniff(path).name == "varian" and sniff(path / "procpar").name == "varian"


# ------------------------------------------------------------------------ synthetic
@pytest.mark.parametrize("dtype", [">f4", ">i4", ">i2"])
def test_synthetic_single_fid_in_every_sample_type(tmp_path, dtype):
    trace = np.array([100 - 50j, -3 + 7j, 0 + 1j, 2 - 2j])
    folder = _folder(tmp_path, trace[None, :], _procpar(), dtype)
    fid, = specssb.read(folder)
    np.testing.assert_array_equal(fid.data, trace)
    assert fid.axis.values.tolist() == [0, 0.001, 0.002, 0.003]
    assert fid.meta["nucleus"] == "7Li" and fid.meta["title"] == "7Li test"
    assert fid.meta["acquired_at"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    header, traces = decode_fid((folder / "fid").read_bytes())
    assert header["nblocks"] == 1 and traces.shape == (1, 4)


def test_joint_array_with_pulse_in_microseconds_and_mas(tmp_path):
    traces = np.arange(12).reshape(3, 4) * (1 + 1j)
    procpar = _procpar(
        array=_record("array", ["(d2,pw)"], subtype=2, basictype=2),
        d2=_record("d2", [0.001, 0.01, 0.1], subtype=3),
        pw=_record("pw", [2.5, 5, 10], subtype=6),
        srate=_record("srate", [12500], subtype=5),
        temp=_record("temp", [25], active=0),
    )
    fid, = read_varian(_folder(tmp_path, traces, procpar))
    assert fid.dims == ("d2",) and fid.shape == (3, 4)
    assert fid.coords["d2"].unit == "s" and fid.coords["d2"].values.tolist() == [0.001, 0.01, 0.1]
    assert fid.coords["pw"].unit == "s"
    np.testing.assert_allclose(fid.coords["pw"].values, [2.5e-6, 5e-6, 10e-6])
    assert fid.meta["mas_rate_hz"] == 12500 and "temperature_k" not in fid.meta


def test_nested_or_short_arrays_fall_back_to_increment(tmp_path):
    traces = np.ones((4, 4), complex)
    procpar = _procpar(array=_record("array", ["d2,pw"], subtype=2, basictype=2),
                       d2=_record("d2", [1, 2], subtype=3), pw=_record("pw", [1, 2], subtype=6))
    with pytest.warns(MetadataWarning, match="nested arrays"):
        fid, = read_varian(_folder(tmp_path / "a", traces, procpar))
    assert fid.dims == ("increment",) and not fid.coords
    procpar = _procpar(array=_record("array", ["d2"], subtype=2, basictype=2),
                       d2=_record("d2", [1, 2, 3], subtype=3))
    with pytest.warns(MetadataWarning, match="3 values for 4 FIDs"):
        fid, = read_varian(_folder(tmp_path / "b", traces, procpar))
    assert fid.dims == ("increment",)


def test_parse_procpar_reads_strings_over_several_lines():
    text = _record("tn", ["C13"], subtype=2, basictype=2) + (
        'names 2 2 8 0 0 2 1 0 1 64\n2 "first"\n"second"\n0 \n')
    params = parse_procpar(text.encode())
    assert params["tn"]["values"] == ["C13"]
    assert params["names"]["values"] == ["first", "second"]


# ------------------------------------------------------------------------ bad input
def test_truncated_and_inconsistent_fid(tmp_path):
    folder = _folder(tmp_path, np.ones((1, 4), complex), _procpar())
    raw = (folder / "fid").read_bytes()
    (folder / "fid").write_bytes(raw[:-5])
    with pytest.raises(ParseError, match=r"fid holds 87 bytes.*\(truncated\)") as info:
        read_varian(folder)
    assert info.value.position == "byte 87"
    bad = bytearray(raw)
    bad[12:16] = struct.pack(">l", 2)  # ebytes 2 but status says float32
    (folder / "fid").write_bytes(bytes(bad))
    with pytest.raises(ParseError, match="inconsistent fid file header"):
        read_varian(folder)
    (folder / "fid").write_bytes(raw[:20])
    with pytest.raises(ParseError, match="shorter than the 32-byte"):
        read_varian(folder)


def test_procpar_defects(tmp_path):
    folder = _folder(tmp_path, np.ones((1, 4), complex), _procpar())
    (folder / "procpar").write_text(_procpar() + "broken 1 1\n")
    with pytest.raises(ParseError, match="malformed procpar record") as info:
        read_varian(folder)
    assert info.value.position.startswith("line ")
    (folder / "procpar").write_text(_procpar(np=_record("np", [10], subtype=7)))
    with pytest.raises(ParseError, match="5 complex points; procpar np=10 declares 5|declares 5"):
        read_varian(folder)
    text = _procpar()
    text = text.replace(_record("sw", [1000.0]), "")
    (folder / "procpar").write_text(text)
    with pytest.raises(ParseError, match="procpar sw must be a positive number"):
        read_varian(folder)
    (folder / "procpar").write_bytes(b"\x00\x01binary")
    with pytest.raises(ParseError, match="binary data"):
        read_varian(folder)


def test_missing_files_and_real_copy_damage(shared_data, tmp_path):
    copy = tmp_path / "satrec2D.fid"
    shutil.copytree(_nmr(shared_data, "ssnake/satrec2D.fid"), copy)
    data = (copy / "fid").read_bytes()
    (copy / "fid").write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError, match="truncated"):
        read_varian(copy)
    (copy / "fid").unlink()
    with pytest.raises(ParseError, match="no fid file"):
        read_varian(copy)


def test_nan_in_float_fid_is_a_parse_error(tmp_path):
    folder = _folder(tmp_path, np.array([[1, np.nan, 3, 4]], complex), _procpar())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ParseError, match="non-finite") as info:
            read_varian(folder)
    assert info.value.position == "point 1"
