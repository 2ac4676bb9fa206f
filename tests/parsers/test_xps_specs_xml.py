"""SpecsLab 2 XML reader: the real PBTTT file (channel alignment checked from the raw counts),
a synthetic multi-channel detector with a known peak, and damaged or hostile documents."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import specssb
from specssb.errors import ConfigError, ParseError
from specssb.parsers.xps_specs_xml import parse_specs_xml, sniff_specs_xml
from specssb.spectrum import Source

SOURCE = Source(path="synthetic.xml", sha256="0" * 64, format="specs-xml")
XML = ("xps", "pynxtools-xps", "In-situ_PBTTT_XPS_SPECS.xml")


# ------------------------------------------------------------------------------ real file
def test_real_file_regions_axes_and_meta(shared_data):
    survey, c1s = specssb.read(shared_data(*XML))
    assert (survey.meta["region"], c1s.meta["region"]) == ("Survey", "C1s")
    assert survey.shape == (1403,) and c1s.shape == (201,)
    assert survey.axis.name == "binding_energy" and c1s.signal == "counts"
    # KE start 553.6 / 963.6 eV, steps 0.5 / 0.05 eV, hv 1253.6 eV (Mg K-alpha)
    np.testing.assert_allclose(survey.axis.values[[0, -1]], [700.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(c1s.axis.values[[0, -1]], [290.0, 280.0], atol=1e-9)
    assert survey.meta["excitation_energy_ev"] == 1253.6
    assert (survey.meta["pass_energy_ev"], c1s.meta["pass_energy_ev"]) == (50.0, 20.0)
    assert (c1s.meta["element"], c1s.meta["transition"]) == ("C", "1s")
    assert c1s.meta["sample"] == "PBTTT 1.2 V" and c1s.meta["analyser_mode"] == "FAT"
    assert survey.meta["acquired_at"] == dt.datetime.fromtimestamp(1643391325, dt.UTC)
    # the file's C1s scan sequence declares 15 scans but holds 2
    assert c1s.meta["n_scans"] == 2
    assert c1s.raw_meta["cycle"]["scans_declared"] == 15
    assert c1s.raw_meta["region"]["num_scans"] == 15
    assert survey.raw_meta["transmission"].shape == (1403,)
    assert survey.raw_meta["transmission"][0] == 15.0861312194335
    assert [step.operation for step in c1s.history] == ["mcd_channel_sum",
                                                        "kinetic_to_binding_energy"]


def _raw_channels(path, region_index):
    """Raw counts (summed over scans) as (steps, channels), shifts and geometry, read directly."""
    root = ET.parse(path).getroot()
    region = [e for e in root.iter("struct") if e.get("type_name") == "RegionData"][region_index]
    shifts = np.array([float(d.find("double[@name='shift']").text)
                       for d in region.iter("struct") if d.get("type_name") == "Detector"])
    scans = region.find("sequence[@name='cycles']/struct/sequence[@name='scans']")
    total = sum(np.array(s.find("sequence[@name='counts']")[0].text.split(), float) for s in scans)
    definition = region.find("struct[@name='region']")

    def number(name):
        return float(definition.find(f"*[@name='{name}']").text)

    head = int(region.find("ulong[@name='mcd_head']").text)
    return total.reshape(-1, shifts.size), shifts, head, number


def test_channel_shifts_align_the_c1s_peak_of_every_channel(shared_data):
    counts, shifts, head, number = _raw_channels(shared_data(*XML), 1)
    steps = number("kinetic_energy") + (np.arange(counts.shape[0]) - head) * number("scan_delta")
    peaks = steps[np.argmax(counts, axis=0)] + shifts * number("pass_energy")
    assert np.ptp(peaks) < 0.2  # channel j sees KE + shift_j * Epass: the maxima coincide
    assert np.ptp(steps[np.argmax(counts, axis=0)]) > 2.5  # without the shift they do not
    c1s = specssb.read(shared_data(*XML))[1]
    assert c1s.axis.values[np.argmax(c1s.data)] == pytest.approx(1253.6 - np.mean(peaks), abs=0.2)


@pytest.mark.parametrize("region_index", [0, 1])
def test_channel_sum_conserves_counts(shared_data, region_index):
    counts, shifts, head, number = _raw_channels(shared_data(*XML), region_index)
    spectrum = specssb.read(shared_data(*XML))[region_index]
    n = spectrum.axis.size
    offsets = np.rint(shifts * number("pass_energy") / number("scan_delta")).astype(int)
    window = sum(counts[head - o: head - o + n, j].sum() for j, o in enumerate(offsets))
    assert spectrum.data.sum() == pytest.approx(window, rel=0.01)


def test_separate_scans_sum_to_the_default(shared_data):
    summed = specssb.read(shared_data(*XML))[1]
    separate = specssb.read(shared_data(*XML), scans="separate")[1]
    assert separate.dims == ("scan",) and separate.shape == (2, 201)
    np.testing.assert_allclose(separate.data.sum(axis=0), summed.data)


# ------------------------------------------------------------------------------ synthetic
def _document(scans, *, n, head, tail, shifts, pass_energy=20.0, delta=0.1, ke0=1000.0,
              hv=1486.6, interpolation=True, doctype="") -> bytes:
    def seq(name, items, type_name, body):
        return (f'<sequence name="{name}" length="{items}" type_id="x" type_name="{type_name}">'
                f"{body}</sequence>")

    detectors = "".join(
        f'<struct type_id="x" type_name="Detector"><double name="position">0</double>'
        f'<double name="shift">{s!r}</double><double name="gain">1</double>'
        f'{seq("parameters", 0, "ParameterSeq", "")}</struct>' for s in shifts)
    scan_xml = "".join(
        '<struct type_id="x" type_name="ScanData">'
        + seq("counts", c.size, "CountsSeq",
              '<ulong type_name="Counts">' + " ".join(str(int(v)) for v in c) + "</ulong>")
        + seq("scaling_factors", 0, "DoubleSeq", "") + "</struct>" for c in scans)
    parameter = ('<struct type_id="x" type_name="Parameter"><string name="name">Interpolation'
                 f'</string><any name="value"><boolean>{int(interpolation)}</boolean></any>'
                 "</struct>")
    region = (
        '<struct type_id="x" type_name="RegionData"><string name="name">Li1s</string>'
        '<struct name="region" type_id="x" type_name="RegionDef">'
        '<struct name="scan_mode" type_id="x" type_name="ScanMode"><string name="name">'
        'FixedAnalyzerTransmission</string></struct>'
        f'<ulong name="num_scans">{len(scans)}</ulong><ulong name="curves_per_scan">1</ulong>'
        f'<ulong name="values_per_curve">{n}</ulong><double name="dwell_time">0.1</double>'
        f'<double name="scan_delta">{delta}</double><double name="excitation_energy">{hv}</double>'
        f'<double name="kinetic_energy">{ke0}</double><double name="pass_energy">{pass_energy}'
        '</double></struct>'
        f'<ulong name="mcd_head">{head}</ulong><ulong name="mcd_tail">{tail}</ulong>'
        '<struct name="analyzer_info" type_id="x" type_name="AnalyzerInfo"><string name="name">'
        f'PHOIBOS 150</string>{seq("detectors", len(shifts), "DetectorSeq", detectors)}</struct>'
        + seq("cycles", 1, "CycleSeq", '<struct type_id="x" type_name="Cycle"><ulong name="time">'
              f'1772438400</ulong>{seq("scans", len(scans), "ScanSeq", scan_xml)}</struct>')
        + seq("transmission", 0, "DoubleSeq", "")
        + seq("parameters", 1, "ParameterSeq", parameter) + "</struct>")
    group = ('<struct type_id="x" type_name="RegionGroup"><string name="name">cell 1</string>'
             + seq("regions", 1, "RegionDataSeq", region) + "</struct>")
    return ('<?xml version="1.0"?>\n<!-- CORBA XML document created by XMLSerializer2 1.6 '
            f'from SL 2.81 -->\n{doctype}<any version="1.6">'
            + seq("", 1, "RegionGroupSeq", group).replace(' name=""', "") + "</any>").encode()


def _gaussian_channels(*, n=201, shifts=(-0.0512, 0.0, 0.0487), pass_energy=20.0, delta=0.1,
                       ke0=1000.0, peak_ke=1010.0, amplitude=1e5):
    steps = np.rint(np.array(shifts) * pass_energy / delta)
    head, tail = int(max(steps.max(), 0)), int(max(-steps.min(), 0))
    ke_steps = ke0 + (np.arange(n + head + tail) - head) * delta
    seen = ke_steps[:, None] + np.array(shifts) * pass_energy  # channel j: KE_k + shift_j Epass
    counts = np.rint(amplitude * np.exp(-0.5 * ((seen - peak_ke) / 1.0) ** 2) + 50)
    return counts.reshape(-1), head, tail


def test_synthetic_detector_sum_recovers_the_peak():
    counts, head, tail = _gaussian_channels()
    data = _document([counts, counts], n=201, head=head, tail=tail, shifts=(-0.0512, 0.0, 0.0487))
    (spectrum,) = parse_specs_xml(data, source=SOURCE, energy="kinetic")
    kinetic = 1000.0 + 0.1 * np.arange(201)
    expected = 2 * 3 * (1e5 * np.exp(-0.5 * (kinetic - 1010.0) ** 2) + 50)
    np.testing.assert_allclose(spectrum.data, expected, atol=2e-3 * expected.max())
    assert spectrum.meta["n_scans"] == 2 and spectrum.meta["element"] == "Li"
    assert spectrum.meta["acquired_at"] == dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    (binding,) = parse_specs_xml(data, source=SOURCE)
    assert binding.axis.values[np.argmax(binding.data)] == pytest.approx(1486.6 - 1010.0)


def test_nearest_step_summation_when_interpolation_is_off():
    counts, head, tail = _gaussian_channels()
    data = _document([counts], n=201, head=head, tail=tail, shifts=(-0.0512, 0.0, 0.0487),
                     interpolation=False)
    (spectrum,) = parse_specs_xml(data, source=SOURCE, energy="kinetic")
    assert spectrum.history[0].parameters["method"] == "nearest step"
    assert spectrum.axis.values[np.argmax(spectrum.data)] == pytest.approx(1010.0, abs=0.1)


def test_options_are_checked():
    counts, head, tail = _gaussian_channels()
    data = _document([counts], n=201, head=head, tail=tail, shifts=(-0.0512, 0.0, 0.0487))
    with pytest.raises(ConfigError):
        parse_specs_xml(data, source=SOURCE, scans="mean")
    with pytest.raises(ConfigError):
        parse_specs_xml(data, source=SOURCE, energy="photon")


# ------------------------------------------------------------------------------ bad input
def _good() -> tuple[bytes, np.ndarray, int, int]:
    counts, head, tail = _gaussian_channels(n=21, peak_ke=1001.0)
    data = _document([counts], n=21, head=head, tail=tail, shifts=(-0.0512, 0.0, 0.0487))
    return data, counts, head, tail


def test_entity_declarations_are_refused():
    bomb = b'<!DOCTYPE any [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    data = _good()[0].replace(b'<any version="1.6">', bomb + b'<any version="1.6">&b;')
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_specs_xml(data, source=SOURCE)


def test_malformed_xml_names_line_and_column():
    data = _good()[0]
    with pytest.raises(ParseError, match=r"line \d+, column \d+: malformed XML"):
        parse_specs_xml(data[: len(data) // 2], source=SOURCE)


def test_counts_that_do_not_fit_the_detector_geometry():
    _, counts, head, tail = _good()
    data = _document([counts[:-3]], n=21, head=head, tail=tail, shifts=(-0.0512, 0.0, 0.0487))
    with pytest.raises(ParseError, match=r"holds \d+ counts, expected \d+ = \(21 values"):
        parse_specs_xml(data, source=SOURCE)


def test_declared_and_present_counts_differ():
    data = _good()[0].replace(b'name="counts" length="', b'name="counts" length="9', 1)
    with pytest.raises(ParseError, match="sequence declares"):
        parse_specs_xml(data, source=SOURCE)


def test_other_xml_is_not_specslab():
    other = b'<?xml version="1.0"?><any><sequence length="0" type_name="Other"></sequence></any>'
    with pytest.raises(ParseError, match="not a SpecsLab 2 XML"):
        parse_specs_xml(other, source=SOURCE)
    assert not sniff_specs_xml(None, b'<?xml version="1.0"?><spectrum/>')
    assert sniff_specs_xml(None, _good()[0][:4096])


def test_non_numeric_counts():
    data = _good()[0].replace(b'<ulong type_name="Counts">', b'<ulong type_name="Counts">x ', 1)
    with pytest.raises(ParseError, match="non-numeric"):
        parse_specs_xml(data, source=SOURCE)
