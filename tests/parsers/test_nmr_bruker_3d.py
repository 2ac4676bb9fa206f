"""Bruker 3D raw data (``ser`` + acqus, acqu2s, acqu3s): 2D phase-encoded CSI.

No public 3D CSI data set exists (NMR notes §2), so the inputs are written by
``sample_data/writers/bruker.py`` into temporary folders (both loop orders, a TD whose FIDs are
block-padded) and checked against the array written, against nmrglue, and on damage.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import warnings
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import MetadataWarning, ParseError
from specssb.parsers.nmr_bruker import parse_bruker, read_bruker
from specssb.spectrum import Source

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bruker_writer_3d",
                                               REPO / "sample_data/writers/bruker.py")
bruker_writer = importlib.util.module_from_spec(_spec)
sys.modules["bruker_writer_3d"] = bruker_writer
_spec.loader.exec_module(bruker_writer)

SOURCE = Source("memory", "0" * 64, "bruker")
BF1, SW = 155.5, 100_000.0
SFO1 = BF1 + 100.0 * BF1 * 1e-6
N_Y, N_X, N_POINTS = 5, 3, 100  # 100 complex float64 = 1600 bytes: padded to 2048 per FID
G_Y = np.array([-6.0, -3.0, 0.0, 3.0, 6.0])
G_X = np.array([-2.5, 0.0, 2.5])


def _ser(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (N_Y, N_X, N_POINTS)
    return np.round(rng.normal(size=shape) + 1j * rng.normal(size=shape), 6)


def _write(folder: Path, ser: np.ndarray, *, aqseq: int = 0) -> Path:
    return bruker_writer.write_bruker_csi_2d(
        folder, ser, gradients_y_g_per_cm=G_Y, gradients_x_g_per_cm=G_X,
        gradient_duration_s=0.5e-3, gradient_max_g_per_cm=150.0, sfo1_mhz=SFO1, bf1_mhz=BF1,
        sw_hz=SW, o1_hz=100.0 * BF1, title="2D CSI test",
        acquired_at=dt.datetime(2026, 3, 6, 12, tzinfo=dt.timezone.utc), aqseq=aqseq)


# ------------------------------------------------------------------------ written folders
@pytest.mark.parametrize("aqseq", [0, 1])
def test_written_2d_csi_reads_with_both_gradient_lists(tmp_path, aqseq):
    ser = _ser()
    folder = _write(tmp_path / "1", ser, aqseq=aqseq)
    assert (folder / "ser").stat().st_size == N_Y * N_X * 2048  # every FID block-padded
    fid, = specssb.read(folder)
    assert fid.shape == (N_Y, N_X, N_POINTS)
    assert fid.dims == ("phase_encode_y", "phase_encode_x")
    np.testing.assert_array_equal(fid.data, ser)  # (y, x) order whatever the loop order
    y, x = fid.coords["phase_encode_y"], fid.coords["phase_encode_x"]
    assert (y.unit, x.unit) == ("G/cm", "G/cm")
    np.testing.assert_array_equal(y.values, G_Y)
    np.testing.assert_array_equal(x.values, G_X)
    assert fid.axis.name == "time" and fid.axis.values[1] == pytest.approx(1 / SW, rel=1e-12)
    assert fid.meta["nucleus"] == "7Li" and fid.meta["n_points"] == N_POINTS
    assert fid.raw_meta["acqu3s"]["TD"] == N_Y and fid.raw_meta["acqu2s"]["TD"] == N_X
    assert fid.raw_meta["acqus"]["AQSEQ"] == aqseq
    assert {"gradlist", "gradlist3"} <= set(fid.raw_meta)


def test_loop_order_changes_the_file_not_the_data(tmp_path):
    ser = _ser()
    first = _write(tmp_path / "a", ser, aqseq=0)
    second = _write(tmp_path / "b", ser, aqseq=1)
    assert (first / "ser").read_bytes() != (second / "ser").read_bytes()
    # 312: the second FID in the file is (y=1, x=0); in 321 it is (y=0, x=1)
    row = 2 * N_POINTS
    raw = np.frombuffer((second / "ser").read_bytes(), "<f8").reshape(N_X * N_Y, -1)[:, :row]
    assert raw[1, 0] == ser[1, 0, 0].real and raw[1, 1] == ser[1, 0, 0].imag
    np.testing.assert_array_equal(specssb.read(first)[0].data, specssb.read(second)[0].data)


def test_agrees_with_nmrglue(tmp_path):
    folder = _write(tmp_path / "1", _ser(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dic, data = ng.bruker.read(str(folder))
    assert data.shape == (N_Y, N_X, 128)  # nmrglue keeps the padding: TD/2 rounded up to 64
    fid, = read_bruker(folder)
    np.testing.assert_array_equal(fid.data, data[..., :N_POINTS])
    for name in ("acqus", "acqu2s", "acqu3s"):
        assert fid.raw_meta[name] == dic[name], name


def test_writer_is_deterministic(tmp_path):
    first = _write(tmp_path / "a" / "1", _ser())
    second = _write(tmp_path / "b" / "1", _ser())
    for file in (p for p in first.rglob("*") if p.is_file()):
        assert file.read_bytes() == (second / file.relative_to(first)).read_bytes(), file


def test_writer_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match="3-D complex"):
        _write(tmp_path / "1", _ser()[0])
    with pytest.raises(ValueError, match="5 finite y gradients"):
        bruker_writer.write_bruker_csi_2d(
            tmp_path / "2", _ser(), gradients_y_g_per_cm=G_Y[:4], gradients_x_g_per_cm=G_X,
            gradient_duration_s=0.5e-3, gradient_max_g_per_cm=150.0, sfo1_mhz=SFO1,
            bf1_mhz=BF1, sw_hz=SW, o1_hz=100.0 * BF1, title="t",
            acquired_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))


def test_list_files_decide_each_dim(tmp_path):
    folder = _write(tmp_path / "1", _ser())
    (folder / "gradlist3").unlink()
    fid, = specssb.read(folder)
    assert fid.dims == ("increment_f1", "phase_encode_x") and set(fid.coords) == {
        "phase_encode_x"}
    (folder / "gradlist").write_text("# unit: T/m\n-0.025\n0\n0.025\n")
    (folder / "gradlist3").write_text("1\n2\n")  # 2 entries for 5 FIDs
    with pytest.warns(MetadataWarning, match="gradlist3 has 2 entries for 5 FIDs"):
        fid, = specssb.read(folder)
    assert fid.dims == ("increment_f1", "phase_encode_x")
    assert fid.coords["phase_encode_x"].unit == "T/m"
    (folder / "gradlist").unlink()
    (folder / "gradlist3").unlink()
    fid, = specssb.read(folder)
    assert fid.dims == ("increment_f1", "increment_f2") and not fid.coords


# ------------------------------------------------------------------------ pure parse
def _dic3(td2: int = 3, td3: int = 2, **acqus) -> dict:
    return {"acqus": {"TD": 8, "SW_h": 1000.0, "AQ_mod": 3, "NUC1": "7Li", "DTYPA": 0,
                      **acqus},
            "acqu2s": {"TD": td2, "FnMODE": 1}, "acqu3s": {"TD": td3, "FnMODE": 1}}


def test_parse_3d_rows_cube_and_spare_fids():
    rows = np.arange(7 * 128).reshape(7, 128) * (1 + 1j)  # 6 FIDs + 1 spare, padded
    s, = parse_bruker(_dic3(), rows, source=SOURCE, kind="raw")
    assert s.shape == (2, 3, 4) and s.dims == ("increment_f1", "increment_f2")
    assert s.data[1, 0, 0] == rows[3, 0] and s.data[0, 2, 3] == rows[2, 3]
    cube, = parse_bruker(_dic3(), rows[:6].reshape(2, 3, 128), source=SOURCE, kind="raw")
    np.testing.assert_array_equal(cube.data, s.data)  # nmrglue's 3D shape reads the same
    swapped, = parse_bruker(_dic3(AQSEQ=1), rows, source=SOURCE, kind="raw")
    assert swapped.data[1, 0, 0] == rows[1, 0] and swapped.data[0, 1, 0] == rows[2, 0]
    coded = {**_dic3(), "gradlist": "1\n2\n3\n", "gradlist3": "# unit: mT/m\n-5\n5\n"}
    s, = parse_bruker(coded, rows, source=SOURCE, kind="raw")
    assert s.dims == ("phase_encode_y", "phase_encode_x")
    assert s.coords["phase_encode_y"].unit == "mT/m"
    assert s.coords["phase_encode_y"].values.tolist() == [-5.0, 5.0]
    states = {**coded, "acqu3s": {"TD": 2, "FnMODE": 5}}  # a true 3D: no gradient coordinate
    assert parse_bruker(states, rows, source=SOURCE, kind="raw")[0].dims[0] == "increment_f1"


def test_parse_3d_refuses_inconsistent_data():
    rows = np.ones((5, 4), complex)
    with pytest.raises(ParseError, match="acqu2s TD=3 x acqu3s TD=2 needs 6 FIDs"):
        parse_bruker(_dic3(), rows, source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="AQSEQ must be 0 .* or 1"):
        parse_bruker(_dic3(AQSEQ=4), np.ones((6, 4), complex), source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="acqu3s TD must be a positive integer"):
        parse_bruker(_dic3(td3=0), np.ones((6, 4), complex), source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="FID holds 3 points"):
        parse_bruker(_dic3(), np.ones((6, 3), complex), source=SOURCE, kind="raw")


# ------------------------------------------------------------------------ damage
@pytest.mark.parametrize("cut", [0, 100, 2048, 2048 * 14, 2048 * 15 - 1])
def test_truncated_ser_is_a_parse_error_naming_the_file(tmp_path, cut):
    folder = _write(tmp_path / "1", _ser())
    (folder / "ser").write_bytes((folder / "ser").read_bytes()[:cut])
    with pytest.raises(ParseError, match="acqu2s TD=3 x acqu3s TD=5 needs 30720 bytes") as info:
        specssb.read(folder)
    assert info.value.path == str(folder / "ser")
    assert info.value.position == f"byte {cut // 2048 * 2048}"


def test_damaged_parameter_files(tmp_path):
    folder = _write(tmp_path / "1", _ser())
    text = (folder / "acqu3s").read_text()
    (folder / "acqu3s").write_text(text.replace("##$TD= 5", "##$TD= 6"))
    with pytest.raises(ParseError, match="acqu3s TD=6 needs"):
        specssb.read(folder)
    (folder / "acqu3s").write_text(text[:200])
    with pytest.raises(ParseError, match="acqu3s"):
        specssb.read(folder)
    (folder / "acqu3s").write_text(text)
    (folder / "acqu2s").unlink()
    with pytest.raises(ParseError, match="acqu3s without acqu2s"):
        specssb.read(folder)
    (folder / "acqu2s").write_text(text)
    (folder / "acqu4s").write_text(text)
    with pytest.raises(ParseError, match="4D"):
        specssb.read(folder)
