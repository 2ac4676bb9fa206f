"""Horiba LabSpec text and LabSpec 6 XML exports; the .l6s native file is refused clearly."""

from __future__ import annotations

import datetime as dt

import pytest

import specssb
from specssb import MetadataWarning, ParseError
from specssb.parsers.raman_labspec import parse_jobinyvon_xml, parse_labspec_txt
from specssb.spectrum import Source

JY = ("raman", "rosettasciio", "jobinyvon")


def _txt(text: str, **options):
    return parse_labspec_txt(text, source=Source("l.txt", "", "labspec-txt"), **options)[0]


def _xml(data: bytes):
    return parse_jobinyvon_xml(data, source=Source("l.xml", "", "jobinyvon-xml"))[0]


# ------------------------------------------------------------------------------ real files
def test_labspec_single_spectrum_with_latin1_header(shared_data):
    (s,) = specssb.read(shared_data("raman", "datalab", "labspec_raman_example.txt"))
    assert s.source.format == "labspec-txt"
    assert s.axis.name == "raman_shift" and s.axis.size == 341
    assert s.axis.values[0] == pytest.approx(201.795) and s.axis.values[-1] == pytest.approx(798.317)
    assert s.data[0] == pytest.approx(45.0984) and s.data[-1] == pytest.approx(286.154)
    assert s.signal == "counts"
    assert s.meta["laser_wavelength_nm"] == 532.0  # "#Laser=\t532nm_Edge"
    assert s.meta["exposure_time_s"] == 300.0 and s.meta["n_accumulations"] == 12
    assert s.meta["instrument"] == "LabRAM HR Evol" and s.meta["title"] == "ZnF2_1"
    assert s.meta["acquired_at"] == dt.datetime(2023, 10, 23, 16, 11, 12, tzinfo=dt.timezone.utc)
    assert ("Range (cm-¹)", "200...800") in s.raw_meta["header"]
    assert [v for k, v in s.raw_meta["header"] if k == "Base:Sub"] == [
        "23.10.2023 17:07:17", "23.10.2023 17:07:50"]  # repeated keys all kept


def test_labspec_timezone_option_shifts_acquired_at(shared_data):
    (s,) = specssb.read(shared_data("raman", "datalab", "labspec_raman_example.txt"),
                        timezone="Europe/Berlin")
    assert s.meta["acquired_at"] == dt.datetime(2023, 10, 23, 14, 11, 12, tzinfo=dt.timezone.utc)


def test_labspec_map_with_off_grid_points_keeps_every_point(shared_data):
    (m,) = specssb.read(shared_data("raman", "hyperspec", "txt.HoribaJobinYvon", "map.txt"))
    assert m.dims == ("point",) and m.shape == (398, 616)
    assert m.axis.values[0] == 50.0 and m.axis.values[-1] == 3500.0
    x, y = m.coords["x"].values, m.coords["y"].values
    assert m.coords["x"].unit == "um" and m.coords["x"].dim == "point"
    assert (x[0], y[0]) == (-60.6119, -40.8551) and (x[-1], y[-1]) == (43.2338, 48.4894)
    assert m.data[83, 0] == pytest.approx(861.783) and m.data[-1, -1] == pytest.approx(898.605)
    # 380 points fill a 19 x 20 grid, 18 are off it: no full grid, so no (y, x) map
    assert m.raw_meta["map_placement"] == "points" and m.raw_meta["axis_unit_from"] == "assumed"


def test_jobinyvon_xml_single_spectrum(shared_data):
    (s,) = specssb.read(shared_data(*JY, "jobinyvon_test_spec.xml"))
    assert s.source.format == "jobinyvon-xml" and s.shape == (34,)
    assert s.axis.name == "wavelength"  # PL data recorded in nm; order kept (decreasing)
    assert s.axis.values[0] == pytest.approx(537.361) and s.axis.values[-1] == pytest.approx(522.574)
    assert s.data[0] == 1496 and s.data[-1] == 760
    assert s.signal == "cps"
    assert s.meta["laser_wavelength_nm"] == pytest.approx(632.817)
    assert s.meta["n_accumulations"] == 2 and s.meta["objective"] == "x100"
    assert s.meta["grating"] == "1800 gr/mm" and s.meta["sample"] == "test"
    assert s.raw_meta["settings"]["Laser (nm)"] == {"value": "633", "exact": "632.817"}


def test_jobinyvon_xml_map_is_2_by_3_in_micrometres(shared_data):
    (m,) = specssb.read(shared_data(*JY, "jobinyvon_test_map_x3-y2.xml"))
    assert m.dims == ("y", "x") and m.shape == (2, 3, 34)
    assert m.coords["x"].values.tolist() == [-2, 0, 2] and m.coords["y"].values.tolist() == [-1, 1]
    assert m.coords["x"].unit == "um"
    # rows are lexicographic with x fastest: row 3 is (y=1, x=-2)
    assert m.data[:, :, 0].tolist() == [[275.5, 295.5, 257.5], [257.0, 262.0, 254.5]]
    assert m.axis.values[0] == pytest.approx(771.797)
    assert m.meta["laser_wavelength_nm"] == pytest.approx(632.817)
    assert m.meta["measurement_type"] == "map"


def test_labspec6_native_file_is_refused_with_the_fix(shared_data):
    path = shared_data("raman", "ramanchada2", "Horiba", "PST10_iR785_OP01_8000msx8.l6s")
    with pytest.raises(ParseError, match=r"LabSpec 6 native binary.*\.txt or \.xml"):
        specssb.read(path)


# ------------------------------------------------------------------------------- synthetic
def test_text_map_on_a_full_grid_becomes_y_x():
    rows = ["\t\t100\t101\t102"]
    for y in (0.0, 5.0):
        for x in (10.0, 20.0, 30.0):
            rows.append(f"{x}\t{y}\t{x + y}\t1\t2")
    m = _txt("\n".join(rows) + "\n")
    assert m.dims == ("y", "x") and m.shape == (2, 3, 3)
    assert m.coords["x"].values.tolist() == [10, 20, 30]
    assert m.data[1, 2, 0] == 35.0  # x=30, y=5


def test_text_series_with_one_leading_cell():
    s = _txt("\t100\t101\t102\n0\t1\t2\t3\n10\t4\t5\t6\n")
    assert s.dims == ("scan",) and s.coords["value"].values.tolist() == [0, 10]


def test_nm_axis_unit_and_cps_are_taken_from_the_header():
    s = _txt("#AxisType[0]=Intens\n#AxisUnit[0]=Cnt/sec\n#AxisType[1]=Spectr\n#AxisUnit[1]=nm\n"
             "540\t1\n541\t2\n542\t3\n")
    assert s.axis.name == "wavelength" and s.signal == "cps"


def test_bad_optional_metadata_warns_and_reading_goes_on():
    with pytest.warns(MetadataWarning, match="Accumulations"):
        s = _txt("#Accumulations=\tmany\n#Laser=\t633nm\n#AxisUnit[1]=1/cm\n1\t1\n2\t2\n3\t3\n")
    assert "n_accumulations" not in s.meta and s.meta["laser_wavelength_nm"] == 633.0


@pytest.mark.parametrize(("text", "message"), [
    ("#Laser=\t532nm\n", "no data rows"),
    ("\t\t100\t101\t102\n1\t2\t3\t4\n", "found 4 fields"),
    ("#AxisUnit[1]=1/cm\n1\t1\n2\tx\n3\t3\n", "found 'x'"),
    ("#AxisUnit[1]=1/cm\n1\t1\n1\t2\n3\t3\n", "not strictly monotonic"),
])
def test_bad_text_raises_parse_error(text, message):
    with pytest.raises(ParseError, match=message):
        _txt(text)


_MINIMAL_XML = (b'<?xml version="1.0"?><LSX_Data><LSX_Tree><LSX ID="0x7A74D9D6">'
                b'<LSX ID="0x7B697861"><LSX ID="0x1"><LSX ID="0x7D6CD4DB" Size="3">100 101 102'
                b'</LSX><LSX ID="0x7C696E75">1/cm</LSX></LSX></LSX></LSX></LSX_Tree>'
                b'<LSX_Matrix><LSX_Row Size="3">5 6 7</LSX_Row></LSX_Matrix></LSX_Data>')


def test_minimal_xml_reads_as_raman_shift():
    s = _xml(_MINIMAL_XML)
    assert s.axis.name == "raman_shift" and s.data.tolist() == [5, 6, 7]


@pytest.mark.parametrize(("data", "message"), [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><LSX_Data/>', "DOCTYPE"),
    (_MINIMAL_XML.replace(b"</LSX_Data>", b""), "malformed XML"),
    (_MINIMAL_XML.replace(b"5 6 7", b"5 6"), "LSX_Row 0 holds 2 values but Size=3"),
    (_MINIMAL_XML.replace(b"<LSX_Row Size=\"3\">5 6 7", b"<LSX_Row>5 6"), "LSX_Row 0 has 2 values"),
    (_MINIMAL_XML.replace(b"100 101 102", b"100 99 102"), "not strictly monotonic"),
    (_MINIMAL_XML.replace(b'ID="0x1"', b'ID="0x9"'), "no spectral axis"),
])
def test_bad_xml_raises_parse_error(data, message):
    with pytest.raises(ParseError, match=message):
        _xml(data)
