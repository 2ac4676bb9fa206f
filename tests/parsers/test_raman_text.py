"""Generic Raman text: Renishaw two-column and long map tables, LightNovo TSV, sniffing limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError, UnknownFormatError
from specssb.parsers import sniff
from specssb.parsers.raman_text import parse_raman_text
from specssb.spectrum import Source


def _parse(text: str, **options):
    return parse_raman_text(text, source=Source("r.txt", "", "raman-text"), **options)[0]


# ------------------------------------------------------------------------------ real files
def test_renishaw_two_column_export_keeps_decreasing_order(shared_data):
    (s,) = specssb.read(shared_data("raman", "datalab", "raman_example.txt"))
    assert s.source.format == "raman-text" and s.axis.name == "raman_shift"
    assert s.axis.size == 1011
    assert s.axis.values[0] == pytest.approx(1879.449219) and s.axis.values[-1] == pytest.approx(0.380859)
    assert s.data[0] == pytest.approx(381.030365) and s.data[-1] == pytest.approx(137.074356)
    assert s.raw_meta["column_names"] == ["wave", "intensity"]
    assert s.raw_meta["axis_from"] == "assumed" and "laser_wavelength_nm" not in s.meta


def test_text_matches_the_wdf_of_the_same_measurement(shared_data):
    (text,) = specssb.read(shared_data("raman", "datalab", "raman_example.txt"))
    (wdf,) = specssb.read(shared_data("raman", "datalab", "raman_example.wdf"))
    np.testing.assert_allclose(text.axis.values, wdf.axis.values, atol=1e-4)
    np.testing.assert_allclose(text.data, wdf.data, rtol=1e-6)


def test_headerless_stitched_paracetamol_merges_its_seven_repeated_shifts(shared_data):
    path = shared_data("raman", "hyperspec", "txt.Renishaw", "paracetamol.txt")
    (s,) = specssb.read(path)
    assert s.axis.size == 4064 - 7
    assert s.axis.values[0] == pytest.approx(3200.07) and s.axis.values[-1] == pytest.approx(96.7865)
    (step,) = s.history
    assert step.operation == "merge_repeated_axis_points"
    assert 2590.77 in step.parameters["repeated_values"]
    # rows "2590.77 952.332" and "2590.77 971.597" become their mean
    index = int(np.flatnonzero(s.axis.values == 2590.77)[0])
    assert s.data[index] == pytest.approx((952.332 + 971.597) / 2)
    with pytest.raises(ParseError, match="not strictly monotonic"):
        specssb.read(path, duplicates="error")


def test_lightnovo_tsv_header_becomes_laser_and_exposure(shared_data):
    (s,) = specssb.read(shared_data("raman", "ramanchada2", "LightNovo",
                                    "polystyrene_aritficially_worsened.tsv"))
    assert s.axis.size == 2290 and s.axis.values[0] == 100 and s.axis.values[-1] == 2389
    assert s.meta["laser_wavelength_nm"] == 785.0
    assert s.meta["exposure_time_s"] == pytest.approx(0.111)
    assert s.meta["laser_power_mw"] == pytest.approx(11.1111111)
    assert s.raw_meta["header_values"]["RepetitionCount"] == "5"
    # polystyrene ring-breathing band (1001 cm-1) confirms the axis is a Raman shift
    window = (s.axis.values > 950) & (s.axis.values < 1050)
    assert s.axis.values[window][np.argmax(s.data[window])] == pytest.approx(1001, abs=2)


def test_wire_experiment_file_is_refused_with_the_reason(shared_data):
    path = shared_data("raman", "ramanchada2", "InViaReflex", "PST_Reflex532_Z050_010_10000msx2.wxd")
    with pytest.raises(ParseError, match="experiment file.*not spectra"):
        specssb.read(path)


def test_no_non_raman_shared_text_file_is_claimed(shared_data):
    root = shared_data()
    for path in sorted(p for p in root.rglob("*.txt") if "raman" not in p.parts):
        try:
            name = sniff(path).name
        except (UnknownFormatError, ParseError):
            continue
        assert name not in {"raman-text", "labspec-txt", "witec-table", "witec-graph",
                            "witec-truematch"}, path


# ------------------------------------------------------------------------------- synthetic
def _long_map(xs, ys, shifts):
    rows = ["#X\t\t#Y\t\t#Wave\t\t#Intensity"]
    for y in ys:
        for x in xs:
            for shift in shifts:
                rows.append(f"{x}\t{y}\t{shift}\t{x * 100 + y * 10 + shift / 1000}")
    return "\n".join(rows) + "\n"


def test_long_table_with_x_y_columns_becomes_a_y_x_map():
    s = _parse(_long_map([0.0, 2.0, 4.0], [1.0, 3.0], [1002.0, 1001.0, 1000.0]))
    assert s.dims == ("y", "x") and s.shape == (2, 3, 3)
    assert s.coords["x"].values.tolist() == [0, 2, 4] and s.coords["y"].unit == "um"
    assert s.data[1, 2, 0] == pytest.approx(4 * 100 + 3 * 10 + 1.002)
    assert s.meta["measurement_type"] == "map"


def test_long_table_with_a_missing_position_keeps_points():
    text = _long_map([0.0, 2.0], [1.0, 3.0], [100.0, 101.0, 102.0])
    lines = text.splitlines()
    text = "\n".join(lines[:-3]) + "\n"  # drop the last position (3 rows)
    s = _parse(text)
    assert s.dims == ("point",) and s.shape == (3, 3)
    assert s.coords["x"].values.tolist() == [0, 2, 0]


def test_time_series_table_has_a_scan_dimension_in_seconds():
    text = "#Time\t#Wave\t#Intensity\n" + "".join(
        f"{t}\t{w}\t{t + w}\n" for t in (0.0, 30.0) for w in (500.0, 501.0, 502.0))
    s = _parse(text)
    assert s.dims == ("scan",) and s.coords["time"].unit == "s"
    assert s.coords["time"].values.tolist() == [0, 30]


def test_axis_and_laser_options():
    text = "540\t1\n541\t2\n542\t3\n"
    s = _parse(text, axis="wavelength", laser_wavelength_nm=532.0)
    assert s.axis.name == "wavelength" and s.meta["laser_wavelength_nm"] == 532.0
    with pytest.raises(ConfigError, match="axis must be"):
        _parse(text, axis="energy")
    with pytest.raises(ConfigError, match="laser_wavelength_nm"):
        _parse(text, laser_wavelength_nm=-1.0)


@pytest.mark.parametrize(("text", "message"), [
    ("#Wave\t#Intensity\n", "no data rows"),
    ("100\t1\n101\n102\t3\n", "found 1 fields"),
    ("100\t1\n102\t2\n101\t3\n", "not strictly monotonic"),
    ("100\t1\n101\tnan\n102\t3\n", "non-finite"),
    ("#X\t#Y\t#Wave\t#Intensity\n0\t0\t1\t1\n0\t0\t2\t1\n1\t0\t1\t1\n", "spectrum 2 has 1 rows"),
    ("#X\t#Y\t#Wave\t#Intensity\n0\t0\t1\t1\n0\t0\t2\t1\n1\t0\t1\t1\n1\t0\t3\t1\n",
     "another spectral axis"),
    ("1\t2\t3\t4\t5\n2\t2\t3\t4\t5\n", "expected 2"),
])
def test_bad_text_raises_parse_error(text, message):
    with pytest.raises(ParseError, match=message):
        _parse(text)


def test_sniffer_takes_headerless_txt_but_not_csv_or_short_files(tmp_path):
    rows = "".join(f"{100 + i}\t{i}\n" for i in range(8))
    as_txt = tmp_path / "a.txt"
    as_txt.write_text(rows)
    as_csv = tmp_path / "a.csv"
    as_csv.write_text(rows.replace("\t", ","))
    short = tmp_path / "short.txt"
    short.write_text("1\t2\n2\t3\n")
    assert sniff(as_txt).name == "raman-text"
    assert sniff(as_csv).name == "xps-text"  # the XPS plain-text fallback keeps .csv
    with pytest.raises(UnknownFormatError):
        sniff(short)


def test_sniffer_defers_to_formats_that_recognise_the_content(tmp_path):
    labspec = tmp_path / "l.txt"
    labspec.write_text("#Laser=\t532nm\n#AxisUnit[1]=1/cm\n#Title=\tx\n"
                       + "".join(f"{100 + i}\t{i}\n" for i in range(8)))
    assert sniff(labspec).name == "labspec-txt"


def test_sniffed_file_reads_end_to_end(tmp_path: Path):
    path = tmp_path / "renishaw_map.txt"
    path.write_text(_long_map([0.0, 1.0], [0.0, 1.0], [300.0, 301.0, 302.0]))
    (s,) = specssb.read(path)
    assert s.source.format == "raman-text" and s.dims == ("y", "x")
