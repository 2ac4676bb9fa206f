"""Scienta SES ``.txt`` reader: three real SES 1.3.1 files (R3000, R4000), the KE -> BE
convention checked on an Ag 3d calibration region, synthetic multi-region and 2-D files, and
damaged inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import specssb
from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers import sniff
from specssb.parsers.xps_scienta_txt import parse_scienta_txt
from specssb.spectrum import Source

SOURCE = Source(path="synthetic.txt", sha256="0" * 64, format="scienta-txt")
UTC = dt.timezone.utc


# ------------------------------------------------------------------------------ real files
# file: (region, meta region, n points, first and last axis value as written, axis kind in
#        the file, hv, pass energy, sweeps, step time in s, first and last counts)
REAL = {
    ("pynxtools-xps", "Ag_0001.txt"): (
        "Ag3d", "Ag 3d", 361, (382.0, 364.0), "binding_energy", 520.0, 50.0, 2, 0.203,
        (15.7494897842407, 13.1949939727783)),
    ("pynxtools-xps", "Ag_0002.txt"): (
        "VB", "VB", 801, (30.0, -10.0), "binding_energy", 153.0, 50.0, 10, 0.203,
        (3.66266550123692, 0.57149662)),
    ("gxps", "Ru02_0063.txt"): (
        "Cu3pRu4s", "Cu3pRu4s", 601, (530.0, 590.0), "kinetic_energy", 650.0, 100.0, 10, 0.2,
        (27628.0, 33042.0)),
}


@pytest.mark.parametrize("parts", REAL, ids=[p[1] for p in REAL])
def test_real_files_read_with_values_from_the_file(parts, shared_data):
    (name, region, n, (first, last), kind, hv, pass_energy, sweeps, dwell,
     (count0, count1)) = REAL[parts]
    path = shared_data("xps", *parts)
    assert sniff(path).name == "scienta-txt"
    [spectrum] = specssb.read(path)
    assert spectrum.source.block == name
    assert spectrum.axis.name == "binding_energy" and spectrum.axis.unit == "eV"
    assert spectrum.shape == (n,) and spectrum.dims == ()
    # binding energy = hv - kinetic energy, point order kept
    expected = (first, last) if kind == "binding_energy" else (hv - first, hv - last)
    assert spectrum.axis.values[[0, -1]] == pytest.approx(expected, abs=1e-9)
    assert spectrum.data[[0, -1]] == pytest.approx((count0, count1), rel=1e-8)
    meta = spectrum.meta
    assert meta["region"] == region
    assert meta["excitation_energy_ev"] == hv and meta["work_function_ev"] == 0.0
    assert meta["pass_energy_ev"] == pass_energy and meta["n_scans"] == sweeps
    assert meta["dwell_time_s"] == pytest.approx(dwell)
    assert meta["acquired_at"].tzinfo == UTC
    assert spectrum.raw_meta["Acquisition Mode"] == "Swept"
    assert spectrum.raw_meta["Lens Mode"] in ("Transmission", "Angular30")
    converted = [s.operation for s in spectrum.history]
    assert converted == (["kinetic_to_binding_energy"] if kind == "kinetic_energy" else [])


def test_ag3d_kinetic_axis_is_the_analyser_window_and_be_is_hv_minus_ke(shared_data):
    # SES's own binding-energy export must equal hv - KE with no work function: read it back
    # as kinetic energy and compare with the analyser window written in [Info 1].
    path = shared_data("xps", "pynxtools-xps", "Ag_0001.txt")
    [kinetic] = specssb.read(path, energy="kinetic")
    raw = kinetic.raw_meta
    assert raw["Energy Unit"] == "Kinetic"
    assert kinetic.axis.name == "kinetic_energy"
    assert kinetic.axis.values[[0, -1]] == pytest.approx(
        (float(raw["Low Energy"]), float(raw["High Energy"])), abs=1e-9)
    assert kinetic.history[0].parameters["work_function_ev"] == 0.0


def test_ag3d_doublet_lands_near_the_metallic_ag_position(shared_data):
    # Ag 3d5/2 of metallic Ag is 368.2 eV with a 6.0 eV spin-orbit splitting. In this file the
    # doublet sits at 369.95 / 375.95 eV: the splitting is right and the offset (+1.75 eV) is
    # not the ~4.5 eV analyser work function, so the conversion is BE = hv - KE and the shift
    # belongs to the sample or the beamline photon-energy calibration, not to the reader.
    [ag] = specssb.read(shared_data("xps", "pynxtools-xps", "Ag_0001.txt"))
    be, counts = ag.axis.values, np.convolve(ag.data, np.ones(5) / 5, mode="same")
    low, high = be < 372.5, be > 372.5
    peak_52 = be[low][np.argmax(counts[low])]
    peak_32 = be[high][np.argmax(counts[high])]
    assert peak_52 == pytest.approx(369.95, abs=0.15)
    assert peak_32 - peak_52 == pytest.approx(6.0, abs=0.15)
    assert abs(peak_52 - 368.2) < 2.5  # a 4.5 eV work-function error would exceed this


# ------------------------------------------------------------------------------ synthetic
def _region(n: int, name: str, axis, counts, *, kind="Kinetic", dim2=None, info=None) -> str:
    lines = [f"[Region {n}]", f"Region Name={name}",
             f"Dimension 1 name={kind} Energy [eV]", f"Dimension 1 size={len(axis)}",
             "Dimension 1 scale=" + " ".join(f"{v:g}" for v in axis)]
    if dim2 is not None:
        label, values = dim2
        lines += [f"Dimension 2 name={label}", f"Dimension 2 size={len(values)}",
                  "Dimension 2 scale=" + " ".join(f"{v:g}" for v in values)]
    fields = {"Region Name": name, "Lens Mode": "Transmission", "Pass Energy": "20",
              "Number of Sweeps": "3", "Excitation Energy": "1486.6",
              "Energy Scale": kind, "Acquisition Mode": "Fixed", "Step Time": "150",
              "Sample": "LPSCl cell 1", "Date": "2026-01-02", "Time": "10:15:30",
              "Comments": "after cycle 3"}
    fields.update(info or {})
    lines += ["", f"[Info {n}]", *(f"{k}={v}" for k, v in fields.items() if v is not None),
              "", f"[Run Mode Information {n}]", "Name=Normal", "", f"[Data {n}]"]
    for energy, row in zip(axis, np.asarray(counts, float).reshape(len(axis), -1)):
        lines.append(f" {energy: .14E}" + "".join(f" {c: .14E}" for c in row))
    return "\r\n".join(lines) + "\r\n"


def _file(*regions: str, declared: int | None = None) -> str:
    count = len(regions) if declared is None else declared
    header = f"[Info]\r\nNumber of Regions={count:04d}\r\nVersion=1.3.1\r\n\r\n"
    return header + "\r\n".join(regions)


S2P_KE = np.round(1486.6 - np.linspace(170.0, 155.0, 151), 6)  # increasing kinetic energy
S2P_COUNTS = 1000.0 + 50.0 * np.exp(-((1486.6 - S2P_KE - 161.5) / 0.6) ** 2)


def test_two_regions_convert_kinetic_to_binding_with_their_metadata():
    text = _file(_region(1, "S2p", S2P_KE, S2P_COUNTS),
                 _region(2, "Li 1s", np.arange(1428.0, 1436.0, 0.5), np.arange(16.0),
                         info={"Excitation Energy": "1486.6"}))
    s2p, li1s = parse_scienta_txt(text, source=SOURCE)
    assert s2p.axis.name == "binding_energy"
    np.testing.assert_allclose(s2p.axis.values, 1486.6 - S2P_KE, atol=1e-9)
    assert s2p.axis.values[0] == pytest.approx(170.0)  # order kept: BE decreases
    assert 1486.6 - S2P_KE[np.argmax(s2p.data)] == pytest.approx(161.5, abs=0.05)
    assert (s2p.meta["region"], s2p.meta["element"], s2p.meta["transition"]) == ("S 2p", "S", "2p")
    assert (li1s.meta["region"], li1s.meta["element"]) == ("Li 1s", "Li")
    assert s2p.meta["dwell_time_s"] == 0.15 and s2p.meta["n_scans"] == 3
    assert s2p.meta["sample"] == "LPSCl cell 1" and s2p.meta["title"] == "after cycle 3"
    assert s2p.meta["acquired_at"] == dt.datetime(2026, 1, 2, 10, 15, 30, tzinfo=UTC)
    assert s2p.raw_meta["Run Mode Information"] == ["Name=Normal"]
    assert s2p.raw_meta["Acquisition Mode"] == "Fixed" and s2p.raw_meta["region number"] == 1
    assert [s.source.block for s in (s2p, li1s)] == ["S2p", "Li 1s"]


def test_kinetic_option_keeps_the_file_axis_and_timezone_shifts_to_utc():
    text = _file(_region(1, "S2p", S2P_KE, S2P_COUNTS))
    [s] = parse_scienta_txt(text, source=SOURCE, energy="kinetic", timezone="Europe/Berlin")
    assert s.axis.name == "kinetic_energy" and s.history == ()
    np.testing.assert_array_equal(s.axis.values, S2P_KE)
    # 10:15:30 CET (UTC+1 in January) is 09:15:30 UTC
    assert s.meta["acquired_at"] == dt.datetime(2026, 1, 2, 9, 15, 30, tzinfo=UTC)


def test_two_dimensional_region_keeps_the_angle_as_leading_dimension():
    axis = np.arange(100.0, 102.0, 0.5)
    angles = np.array([-5.0, 0.0, 5.0])
    counts = np.arange(12.0).reshape(4, 3) + 100.0  # rows: energies, columns: angles
    text = _file(_region(1, "Au4f", axis, counts, dim2=("Y-Scale [deg]", angles)))
    [s] = parse_scienta_txt(text, source=SOURCE, energy="kinetic")
    assert s.shape == (3, 4) and s.dims == ("angle",)
    np.testing.assert_array_equal(s.coords["angle"].values, angles)
    assert s.coords["angle"].unit == "deg"
    np.testing.assert_array_equal(s.data, counts.T)
    assert (s.meta["element"], s.meta["transition"]) == ("Au", "4f")


def test_missing_excitation_energy_keeps_the_axis_and_warns():
    text = _file(_region(1, "S2p", S2P_KE, S2P_COUNTS, info={"Excitation Energy": None}))
    with pytest.warns(MetadataWarning, match="no excitation energy"):
        [s] = parse_scienta_txt(text, source=SOURCE)
    assert s.axis.name == "kinetic_energy" and "excitation_energy_ev" not in s.meta


def test_bad_optional_fields_warn_and_reading_goes_on():
    text = _file(_region(1, "S2p", S2P_KE, S2P_COUNTS,
                         info={"Pass Energy": "twenty", "Date": "someday"}))
    with pytest.warns(MetadataWarning) as record:
        [s] = parse_scienta_txt(text, source=SOURCE)
    messages = " ".join(str(w.message) for w in record)
    assert "Pass Energy" in messages and "Date/Time" in messages
    assert "pass_energy_ev" not in s.meta and "acquired_at" not in s.meta


def test_sniffer_claims_ses_text_and_not_other_text(tmp_path):
    ses = tmp_path / "ses.txt"
    ses.write_text(_file(_region(1, "S2p", S2P_KE, S2P_COUNTS)))
    two_columns = tmp_path / "xy.txt"
    two_columns.write_text("# BE counts\n170.0 1000\n169.9 1001\n")
    ini = tmp_path / "ini.txt"
    ini.write_text("[Info]\nAuthor=me\n")
    info = specssb.parsers.get_format("scienta-txt")
    assert info.matches_content(ses, ses.read_bytes())
    assert not info.matches_content(two_columns, two_columns.read_bytes())
    assert not info.matches_content(ini, ini.read_bytes())


# ------------------------------------------------------------------------------ bad input
def _bad(text: str, match: str, **options) -> None:
    with pytest.raises(ParseError, match=match) as info:
        parse_scienta_txt(text, source=SOURCE, **options)
    assert info.value.path == "synthetic.txt"


GOOD = _file(_region(1, "S2p", S2P_KE, S2P_COUNTS))


def test_not_ses_text_is_refused_at_line_one():
    _bad("170.0 1000\n169.9 1001\n", r"line 1: not a Scienta SES text file")
    _bad("", r"not a Scienta SES text file")


def test_fewer_regions_than_declared_is_truncation():
    _bad(_file(_region(1, "S2p", S2P_KE, S2P_COUNTS), declared=2),
         r"Number of Regions is 2 but the file holds 1")


def test_missing_rows_and_cut_rows_name_the_section_or_line():
    lines = GOOD.split("\r\n")
    _bad("\r\n".join(lines[:-20]), r"\[Data 1\] holds 132 rows but Dimension 1 size is 151")
    cut = lines[:-2] + [lines[-2].split()[0]]
    _bad("\r\n".join(cut), rf"line {len(cut)}: expected 2 numbers")


def test_unreadable_number_and_unreadable_size():
    _bad(GOOD.replace(" 1.31660000000000E+03", " 1.3166O000000000E+03", 1), r"not a number")
    _bad(GOOD.replace("Dimension 1 size=151", "Dimension 1 size=lots"),
         r"Dimension 1 size is not an integer")


def test_non_monotonic_or_nan_axis_is_refused():
    ke = S2P_KE.copy()
    ke[[10, 11]] = ke[[11, 10]]
    _bad(_file(_region(1, "S2p", ke, S2P_COUNTS)), r"not strictly monotonic")
    counts = S2P_COUNTS.copy()
    counts[3] = np.nan
    _bad(_file(_region(1, "S2p", S2P_KE, counts)), r"non-finite")


def test_unknown_energy_kind_and_three_dimensions_are_refused():
    text = GOOD.replace("Dimension 1 name=Kinetic Energy [eV]", "Dimension 1 name=Energy [eV]")
    _bad(text.replace("Energy Scale=Kinetic", "Energy Scale=?"), r"cannot tell kinetic")
    three = GOOD.replace("[Info 1]", "Dimension 2 name=a\r\nDimension 2 size=1\r\n"
                         "Dimension 3 name=b\r\nDimension 3 size=1\r\n\r\n[Info 1]")
    _bad(three, r"3-D regions are not supported")


def test_invalid_options_are_config_errors():
    with pytest.raises(ConfigError, match="energy"):
        parse_scienta_txt(GOOD, source=SOURCE, energy="photon")
    with pytest.raises(ConfigError, match="time zone"):
        parse_scienta_txt(GOOD, source=SOURCE, timezone="Mars/Olympus")
