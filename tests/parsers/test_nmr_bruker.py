"""Bruker TopSpin reader: real folders against nmrglue, the pure parse, damage, the writer."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sys
import warnings
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import MetadataWarning, ParseError
from specssb.parsers import sniff
from specssb.parsers.nmr_bruker import (
    parse_bruker,
    parse_bruker_parameters,
    parse_list_file,
    read_bruker,
)
from specssb.spectrum import Source

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bruker_writer", REPO / "sample_data/writers/bruker.py")
bruker_writer = importlib.util.module_from_spec(_spec)
sys.modules["bruker_writer"] = bruker_writer
_spec.loader.exec_module(bruker_writer)

SOURCE = Source("memory", "0" * 64, "bruker")
UTC = dt.timezone.utc
REAL = ["spectrochempy_data/cadmium/100", "spectrochempy_data/relax/100",
        "spectrochempy_data/topspin_2d/1", "datalab/71", "datalab/1", "nmrpy/bruker2/1",
        "nmrpy/bruker2/2", "nmrpy/bruker1/1"]
PROCESSED = ["datalab/71", "datalab/1", "nmrpy/bruker2/1", "nmrpy/bruker2/2"]


def _nmr(shared_data, relative: str) -> Path:
    return shared_data("nmr", *relative.split("/"))


def _quiet_read(path: Path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetadataWarning)
        return read_bruker(path, **options)


def _nmrglue(path: Path, processed: bool = False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if processed:
            return ng.bruker.read_pdata(str(path / "pdata" / "1"), scale_data=True)
        return ng.bruker.read(str(path))


# ------------------------------------------------------------------------ real files
@pytest.mark.parametrize("relative", REAL)
def test_raw_data_and_parameters_match_nmrglue(shared_data, relative):
    path = _nmr(shared_data, relative)
    fid, = _quiet_read(path)
    dic, data = _nmrglue(path)
    td = dic["acqus"]["TD"] // 2
    expected = data[:td] if data.ndim == 1 else data[: dic["acqu2s"]["TD"], :td]
    np.testing.assert_array_equal(fid.data, expected)  # padding points and spare FIDs dropped
    for name in ("acqus", "acqu2s", "procs"):
        if name in dic:
            assert fid.raw_meta[name] == dic[name], name
    sw = dic["acqus"]["SW_h"]
    assert fid.axis.values[1] == pytest.approx(1 / sw, rel=1e-12)
    assert fid.axis.values[-1] == pytest.approx((td - 1) / sw, rel=1e-12)


def test_cadmium_1d_fid(shared_data):
    fid, = read_bruker(_nmr(shared_data, "spectrochempy_data/cadmium/100"))
    assert fid.shape == (956,) and fid.signal == "fid" and np.iscomplexobj(fid.data)
    assert fid.data[0] == 72286 - 26942j and fid.data[-1] == -203 + 407j
    assert "nucleus" not in fid.meta  # NUC1 is NONE in this WSolids export
    assert fid.meta["sfo1_mhz"] == 110.998058 and fid.meta["bf1_mhz"] == 110.994728
    assert fid.meta["spectral_width_hz"] == pytest.approx(81300.8130081301)
    assert fid.axis.values[-1] == pytest.approx(955 / 81300.8130081301)
    assert "acquired_at" not in fid.meta  # DATE = 0
    assert fid.meta["digital_filter"]["grpdly"] is None  # GRPDLY -1, DSPFVS 0: not in the table
    assert fid.meta["digital_filter"]["grpdly_source"].startswith("unknown")
    with pytest.raises(ParseError, match="no processed spectrum"):
        read_bruker(_nmr(shared_data, "spectrochempy_data/cadmium/100"), data="processed")


def test_relax_pseudo_2d_with_vdlist(shared_data):
    ser, = read_bruker(_nmr(shared_data, "spectrochempy_data/relax/100"))
    assert ser.shape == (9, 2048) and ser.dims == ("delay",)
    assert ser.coords["delay"].unit == "s"
    assert ser.coords["delay"].values.tolist() == [1, 2, 3, 5, 7, 10, 15, 20, 50]
    assert ser.meta["nucleus"] == "29Si" and ser.meta["sfo1_mhz"] == 158.84896602
    assert ser.meta["spectral_width_hz"] == 156250 and ser.meta["n_points"] == 2048
    assert ser.axis.values[-1] == pytest.approx(2047 / 156250)
    assert ser.meta["acquired_at"] == dt.datetime(2019, 5, 24, 3, 1, 28, tzinfo=UTC)
    assert ser.meta["digital_filter"] == {"decim": 128, "dspfvs": 20, "grpdly": 67.9814453125,
                                          "grpdly_source": "acqus GRPDLY"}
    assert ser.meta["mas_rate_hz"] == 5000 and ser.meta["title"].endswith("DNP On")


def test_topspin_2d_keeps_td1_fids(shared_data):
    ser, = read_bruker(_nmr(shared_data, "spectrochempy_data/topspin_2d/1"))
    assert ser.raw_meta["FILE_SIZE"] == 192 * 2048 * 4  # TopSpin allocated 192 FIDs, 147 acquired
    assert ser.shape == (147, 1024) and ser.dims == ("increment",)
    assert ser.meta["nucleus"] == "27Al" and ser.meta["sfo1_mhz"] == 104.310818
    assert ser.axis.values[1] == pytest.approx(1 / 20833.3333333333)
    with pytest.raises(ParseError, match="2D processed data"):
        read_bruker(_nmr(shared_data, "spectrochempy_data/topspin_2d/1"), data="processed")


def test_datalab_7li_raw_keeps_group_delay_points(shared_data):
    path = _nmr(shared_data, "datalab/71")
    with pytest.warns(MetadataWarning, match="MASR=7000 Hz but .* cnst31=40000 Hz"):
        fid, = read_bruker(path)
    assert fid.shape == (9949,)  # TD 19898; the fid file is padded to 9984 complex points
    assert np.all(fid.data[:13].real == 0) and abs(fid.data[69]) > 1e7  # filter delay kept
    assert fid.meta["nucleus"] == "7Li" and fid.meta["sfo1_mhz"] == 77.78745037404
    assert fid.meta["spectral_width_hz"] == 1_000_000 and fid.meta["mas_rate_hz"] == 7000
    assert fid.meta["digital_filter"]["grpdly"] == 67.96875
    assert fid.meta["acquired_at"] == dt.datetime(2022, 3, 1, 11, 8, 49, tzinfo=UTC)
    assert fid.meta["title"].startswith("7Li 40 kHz")


@pytest.mark.parametrize("relative", PROCESSED)
def test_processed_axis_and_intensities_match_topspin_and_nmrglue(shared_data, relative):
    path = _nmr(shared_data, relative)
    spectrum, = _quiet_read(path, data="processed")
    dic, real = _nmrglue(path, processed=True)
    procs = dic["procs"]
    si = procs["SI"]
    assert spectrum.shape == (si,) and spectrum.axis.name == "chemical_shift"
    assert spectrum.axis.values[0] == procs["OFFSET"]
    assert spectrum.axis.values[-1] == pytest.approx(
        procs["OFFSET"] - (si - 1) * procs["SW_p"] / procs["SF"] / si, abs=1e-9)
    assert np.all(np.diff(spectrum.axis.values) < 0)
    ppm = ng.fileiobase.uc_from_udic(ng.bruker.guess_udic(dic, real)).ppm_scale()
    assert np.abs(ppm - spectrum.axis.values).max() < 5e-4  # OFFSET is stored to ~7 digits
    np.testing.assert_array_equal(spectrum.data.real, real)
    imag = ng.bruker.read_pdata(str(path / "pdata/1"), bin_files=["1i"], scale_data=True)[1]
    np.testing.assert_array_equal(spectrum.data.imag, imag)
    assert spectrum.meta["sf_mhz"] == procs["SF"] and spectrum.meta["offset_ppm"] == procs["OFFSET"]


def test_big_endian_xwinnmr_and_group_delay_from_table(shared_data):
    path = _nmr(shared_data, "nmrpy/bruker2/1")
    fid, = read_bruker(path)
    assert fid.raw_meta["acqus"]["BYTORDA"] == 1 and fid.meta["nucleus"] == "13C"
    assert fid.meta["digital_filter"]["grpdly"] == pytest.approx(59.0833333333)
    assert "bruker_dsp_table" in fid.meta["digital_filter"]["grpdly_source"]
    processed, = read_bruker(path / "pdata" / "1")  # a pdata/N folder reads processed data
    assert processed.axis.values[0] == 200.547 and processed.source.block == 1


def test_path_forms_and_sniffing(shared_data):
    path = _nmr(shared_data, "nmrpy/bruker2/2")
    assert sniff(path).name == "bruker"
    assert sniff(path / "fid").name == "bruker"
    assert sniff(path / "pdata" / "1").name == "bruker"
    np.testing.assert_array_equal(read_bruker(path / "fid")[0].data, read_bruker(path)[0].data)
    varian = _nmr(shared_data, "nmrpy/test1.fid")
    info = specssb.parsers.get_format("bruker")
    for other in (varian, varian / "fid", path / "acqus", path / "pdata"):
        assert not info.matches_content(other, b""), other


# ------------------------------------------------------------------------ pure parse
def _dic(td: int = 16, **acqus) -> dict:
    return {"acqus": {"TD": td, "SW_h": 1000.0, "AQ_mod": 3, "NUC1": "7Li", "SFO1": 77.78,
                      "BF1": 77.77, "DTYPA": 0, **acqus}}


def test_parse_raw_trims_padding_and_checks_size():
    padded = np.arange(128, dtype=float) * (1 + 1j)  # TD 16 int32 padded to one 1024-byte block
    fid, = parse_bruker(_dic(DATE=1646132929), padded, source=SOURCE, kind="raw")
    assert fid.shape == (8,) and fid.axis.values.tolist() == [i / 1000 for i in range(8)]
    assert fid.meta["acquired_at"] == dt.datetime(2022, 3, 1, 11, 8, 49, tzinfo=UTC)
    with pytest.raises(ParseError, match="holds 5 points; acqus TD=16 declares 8"):
        parse_bruker(_dic(), padded[:5], source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="holds 300 points"):
        parse_bruker(_dic(), np.zeros(300, complex), source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="non-finite"):
        parse_bruker(_dic(), np.full(8, np.nan, complex), source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="TD must be a positive integer"):
        parse_bruker(_dic(td="abc"), padded, source=SOURCE, kind="raw")
    with pytest.raises(ParseError, match="no acqus"):
        parse_bruker({}, padded, source=SOURCE, kind="raw")


def test_parse_real_acquisition_uses_half_dwell():
    fid, = parse_bruker(_dic(td=4, AQ_mod=0), np.arange(4.0), source=SOURCE, kind="raw")
    assert fid.axis.values.tolist() == [0, 0.0005, 0.001, 0.0015] and fid.meta["n_points"] == 4


def _dic_2d(td1: int, **lists) -> dict:
    return {**_dic(), "acqu2s": {"TD": td1, "FnMODE": 1}, **lists}


def test_parse_pseudo_2d_lists_and_fid_count():
    ser = np.ones((4, 8), complex)
    s, = parse_bruker(_dic_2d(3, vdlist="10m\n5u\n2\n1s\n"), ser, source=SOURCE, kind="raw")
    assert s.shape == (3, 8) and s.dims == ("delay",)  # spare 4th FID dropped
    np.testing.assert_allclose(s.coords["delay"].values, [0.01, 5e-6, 2.0])
    s, = parse_bruker(_dic_2d(3, vclist="1\n2\n4\n"), ser, source=SOURCE, kind="raw")
    assert s.dims == ("loop",) and s.coords["loop"].values.tolist() == [1, 2, 4]
    with pytest.warns(MetadataWarning, match="increment"):
        s, = parse_bruker(_dic_2d(3, vdlist="1\n2x\n3\n"), ser, source=SOURCE, kind="raw")
    assert s.dims == ("increment",) and not s.coords
    with pytest.raises(ParseError, match="acqu2s TD=5 needs 5 FIDs"):
        parse_bruker(_dic_2d(5), ser, source=SOURCE, kind="raw")


def test_parse_list_file_units():
    assert parse_list_file("1.0\n10m\n5u\n20n\n# comment\n\n2e-3s\n").tolist() == pytest.approx(
        [1.0, 0.01, 5e-6, 2e-8, 2e-3])
    for bad in ("", "abc\n", "1 2\n", "5k\n"):
        with pytest.raises(ValueError):
            parse_list_file(bad)
    with pytest.raises(ValueError, match="integer"):
        parse_list_file("1.5\n", name="vclist")


def test_parse_processed_axis_and_checks():
    dic = {"procs": {"SI": 4, "SW_p": 400.0, "SF": 100.0, "OFFSET": 10.0, "AXNUC": "31P"}}
    s, = parse_bruker(dic, np.arange(4.0), source=SOURCE, kind="processed")
    assert s.axis.values.tolist() == [10.0, 9.0, 8.0, 7.0] and s.meta["nucleus"] == "31P"
    with pytest.raises(ParseError, match="hold 3 points; procs SI=4"):
        parse_bruker(dic, np.arange(3.0), source=SOURCE, kind="processed")
    with pytest.raises(ParseError, match="2D processed data"):
        parse_bruker({**dic, "proc2s": {}}, np.ones((4, 4)), source=SOURCE, kind="processed")
    with pytest.raises(ParseError, match="OFFSET"):
        parse_bruker({"procs": {**dic["procs"], "OFFSET": "x"}}, np.arange(4.0), source=SOURCE,
                     kind="processed")


def test_mas_rate_and_digital_filter_rules():
    program = ";cnst31 : =MAS spin rate (or =1e6 for static)\n1 ze\n"
    constants = [1] * 31 + [25000] + [1] * 32
    fid, = parse_bruker({**_dic(MASR=0, CNST=constants, DECIM=32, DSPFVS=12, GRPDLY=-1),
                         "pulseprogram": program}, np.ones(8, complex), source=SOURCE, kind="raw")
    assert fid.meta["mas_rate_hz"] == 25000
    assert fid.meta["digital_filter"]["grpdly"] == ng.bruker.bruker_dsp_table[12][32]
    fid, = parse_bruker(_dic(MASR=0, DIGMOD=0, DECIM=1, DSPFVS=0), np.ones(8, complex),
                        source=SOURCE, kind="raw")
    assert "mas_rate_hz" not in fid.meta and fid.meta["digital_filter"]["grpdly"] == 0.0


def test_parameter_file_parser():
    text = ("##TITLE= Parameter file, TopSpin 4.1.4\n$$ comment\n##$PROBHD= <3.2 mm MAS\n>\n"
            "##$CPDPRG= (0..2)\n<> <> <spinal64>\n##$D= (0..3)\n0 1.5\n2e-05 0\n"
            "##$LOCKED= no\n##$NS= 16\n##END=\n")
    p = parse_bruker_parameters(text)
    assert p["PROBHD"] == "3.2 mm MAS\n" and p["CPDPRG"] == ["", "", "spinal64"]
    assert p["D"] == [0, 1.5, 2e-05, 0] and p["LOCKED"] is False and p["NS"] == 16
    assert p["_comments"] == ["$$ comment"]
    with pytest.raises(ParseError, match="no '##END='"):
        parse_bruker_parameters(text[: text.index("2e-05")])  # nmrglue would loop for ever
    with pytest.raises(ParseError, match="not a JCAMP-DX"):
        parse_bruker_parameters("\x93garbage\n##$TD= 5\n##END=\n")
    with pytest.warns(MetadataWarning, match="declares 8 values, found 2"):
        parse_bruker_parameters("##TITLE= x\n##$D= (0..7)\n1 2\n##END=\n")


# ------------------------------------------------------------------------ writer and damage
def _write(folder: Path, **changes) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n, bf1, o1 = 2000, 155.5, 15550.0
    fid = np.round(rng.normal(0, 1e4, n)) + 1j * np.round(rng.normal(0, 1e4, n))
    spectrum = np.fft.fftshift(np.fft.fft(fid, 2048)).real[::-1]
    settings = dict(sfo1_mhz=bf1 + o1 * 1e-6, bf1_mhz=bf1, sw_hz=100_000.0, o1_hz=o1,
                    acquired_at=dt.datetime(2026, 3, 2, 9, 10, tzinfo=UTC), title="cell01 7Li",
                    grpdly=76.0, mas_rate_hz=0.0, spectrum=spectrum)
    settings.update(changes)
    return bruker_writer.write_bruker_1d(folder, fid, **settings), fid, spectrum


def test_writer_round_trip_and_nmrglue_agreement(tmp_path):
    folder, fid, spectrum = _write(tmp_path / "exp" / "1")
    raw, = specssb.read(folder)
    np.testing.assert_array_equal(raw.data, fid)  # float64 FID (DTYPA=2): lossless
    assert raw.raw_meta["acqus"]["DTYPA"] == 2 and raw.raw_meta["FILE_SIZE"] == 32768
    assert raw.meta["nucleus"] == "7Li" and raw.meta["sfo1_mhz"] == 155.51555
    assert raw.meta["acquired_at"] == dt.datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    assert raw.meta["digital_filter"]["grpdly"] == 76 and raw.meta["title"] == "cell01 7Li"
    processed, = specssb.read(folder, data="processed")
    nc = processed.raw_meta["procs"]["NC_proc"]
    np.testing.assert_allclose(processed.data, spectrum, rtol=0, atol=2.0**nc / 2 + 1e-9)
    assert processed.axis.values[1024] == pytest.approx(100.0, abs=1e-9)  # carrier O1/BF1
    dic, data = ng.bruker.read(str(folder))
    np.testing.assert_array_equal(data[:2000], fid)  # nmrglue keeps the block padding
    assert data.shape == (2048,) and not data[2000:].any()
    dic, real = ng.bruker.read_pdata(str(folder / "pdata/1"))
    ppm = ng.fileiobase.uc_from_udic(ng.bruker.guess_udic(dic, real)).ppm_scale()
    assert np.abs(ppm - processed.axis.values).max() < 1e-9
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == ["acqu", "acqus", "fid", "pdata/1/1r", "pdata/1/proc", "pdata/1/procs",
                     "pdata/1/title", "pulseprogram"]


def test_writer_is_deterministic(tmp_path):
    first, _, _ = _write(tmp_path / "a" / "1")
    second, _, _ = _write(tmp_path / "b" / "1")
    for file in (p for p in first.rglob("*") if p.is_file()):
        assert file.read_bytes() == (second / file.relative_to(first)).read_bytes(), file


@pytest.mark.parametrize("cut", [0, 1, 7, 1000, 16000, 31999])
def test_truncated_fid_is_a_parse_error(tmp_path, cut):
    folder, _, _ = _write(tmp_path / "1")
    (folder / "fid").write_bytes((folder / "fid").read_bytes()[:cut])
    with pytest.raises(ParseError, match=f"fid holds {cut} bytes; acqus TD=4000 .* needs 32000"):
        specssb.read(folder)


@pytest.mark.parametrize("cut", [0, 40, 900, 1500])
def test_truncated_or_random_parameters_are_parse_errors(tmp_path, cut):
    folder, _, _ = _write(tmp_path / "1")
    (folder / "acqus").write_bytes((folder / "acqus").read_bytes()[:cut])
    with pytest.raises(ParseError):
        specssb.read(folder)
    (folder / "acqus").write_bytes(np.random.default_rng(cut).bytes(2000))
    with pytest.raises(ParseError):
        specssb.read(folder)


def test_missing_wrong_length_and_damaged_binaries(tmp_path):
    folder, _, _ = _write(tmp_path / "1")
    good = (folder / "fid").read_bytes()
    (folder / "fid").write_bytes(good + b"\0" * 1024)
    with pytest.raises(ParseError, match="fid holds 33792 bytes"):
        specssb.read(folder)
    (folder / "fid").write_bytes(good[:8] + b"\xff" * 8 + good[16:])  # a NaN in a float64 FID
    with pytest.raises(ParseError, match="non-finite"):
        specssb.read(folder)
    (folder / "fid").unlink()
    with pytest.raises(ParseError, match="no fid or ser"):
        read_bruker(folder)
    (folder / "pdata/1/1r").write_bytes((folder / "pdata/1/1r").read_bytes()[:100])
    with pytest.raises(ParseError, match="1r holds 100 bytes; procs SI=2048"):
        read_bruker(folder, data="processed")


def test_random_int32_fid_of_the_right_size_reads_as_noise(shared_data, tmp_path):
    copy = tmp_path / "100"
    shutil.copytree(_nmr(shared_data, "spectrochempy_data/cadmium/100"), copy)
    (copy / "fid").write_bytes(np.random.default_rng(1).bytes(7648))
    fid, = read_bruker(copy)  # any 4 bytes are a valid int32: indistinguishable from noise
    assert fid.shape == (956,)


@pytest.mark.parametrize("cut", [100, 16384, 16384 * 5, 147455])
def test_truncated_ser_is_a_parse_error(shared_data, tmp_path, cut):
    copy = tmp_path / "100"
    shutil.copytree(_nmr(shared_data, "spectrochempy_data/relax/100"), copy)
    (copy / "ser").write_bytes((copy / "ser").read_bytes()[:cut])
    with pytest.raises(ParseError, match="acqu2s TD=9 needs 147456 bytes"):
        read_bruker(copy)


def test_big_endian_float64_fid(tmp_path):
    folder, fid, _ = _write(tmp_path / "1", spectrum=None)
    acqus = (folder / "acqus").read_text().replace("##$BYTORDA= 0", "##$BYTORDA= 1")
    (folder / "acqus").write_text(acqus)
    raw = np.frombuffer((folder / "fid").read_bytes(), "<f8").astype(">f8")
    (folder / "fid").write_bytes(raw.tobytes())
    np.testing.assert_array_equal(read_bruker(folder)[0].data, fid)


def test_options_are_checked(tmp_path):
    folder, _, _ = _write(tmp_path / "1")
    with pytest.raises(specssb.ConfigError, match="data must be"):
        read_bruker(folder, data="fid")
    with pytest.raises(specssb.ConfigError, match="procno=2"):
        read_bruker(folder / "pdata" / "1", procno=2)
    with pytest.raises(ParseError, match="no processed data set 3"):
        read_bruker(folder, data="processed", procno=3)


def test_mutated_parameter_files_raise_only_parse_errors(tmp_path):
    """Damaged acqus/procs records: a ParseError, or a read with MetadataWarnings, never a crash."""
    folder, _, _ = _write(tmp_path / "1")
    pristine = {n: (folder / n).read_text() for n in ("acqus", "pdata/1/procs")}
    rng = np.random.default_rng(11)
    tokens = ["(0..3)", "(0..999999999)", "<x", "abc", "1e999", "-1", "nan", "", "(0..", "yes"]
    for trial in range(60):
        name = ("acqus", "pdata/1/procs")[trial % 2]
        lines = pristine[name].splitlines()
        for _ in range(3):
            i = int(rng.integers(9, len(lines) - 1))
            key = lines[i].split("=")[0] if lines[i].startswith("##$") else "##$X"
            lines[i] = f"{key}= {tokens[int(rng.integers(len(tokens)))]}"
        (folder / name).write_text("\n".join(lines) + "\n")
        for kind in ("raw", "processed"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MetadataWarning)
                try:
                    read_bruker(folder, data=kind)
                except ParseError:
                    pass
        (folder / name).write_text(pristine[name])
