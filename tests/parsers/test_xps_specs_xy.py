"""SPECS Prodigy XY reader: real Prodigy exports (cross-checked against the VAMAS export of the
same survey), synthetic files for separate scans, kinetic axes and time zones, damaged input."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

import specssb
from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.fitting.xps.quantify import transmission_curve
from specssb.parsers.xps_specs_xy import parse_specs_xy, sniff_specs_xy
from specssb.spectrum import Source

SOURCE = Source(path="synthetic.xy", sha256="0" * 64, format="specs-xy")
UTC = dt.UTC

_HEADER = """# Created by:        SpecsLab Prodigy, Version 4.100.1-r111001
#
# XY-Serializer Export Settings:
#   Comment Prefix:           #
#   Energy Axis:              {axis}
#   Count Rate:               {rate}
#   Separate Scan Data:       {separate}
#   Transmission Function:    no
#   Time Zone Format:         UTC
#
# Group:                        cell 7, cycle 3
#
# Region:                       S 2p
# Acquisition Date:             03/02/26 08:05:00 UTC
# Scan Mode:                    FixedAnalyzerTransmission
# Curves/Scan:                  1
# Values/Curve:                 {n}
# Dwell Time:                   0.2
# Excitation Energy:            1486.61
# Kinetic Energy:               1316.61
# Pass Energy:                  20
# Source:                       XR 50
# Comment:                      after charge
"""


def _xy(blocks: dict[tuple[int, int], np.ndarray], energies: np.ndarray, *, axis="Binding Energy",
        rate="Counts per Second", date="03/02/26 08:06:00 UTC", labels="energy counts/s") -> str:
    """A Prodigy XY text; blocks maps (cycle, scan) -> signal (scan -1: no scan index)."""
    separate = "yes" if any(scan >= 0 for _, scan in blocks) else "no"
    text = _HEADER.format(axis=axis, rate=rate, separate=separate, n=energies.size)
    cycles = sorted({c for c, _ in blocks})
    for cycle in cycles:
        scans = sorted(s for c, s in blocks if c == cycle)
        text += f"\n# Cycle: {cycle}\n#\n# Number of Scans: {max(len(scans), 1)}\n"
        for scan in scans:
            title = f"# Cycle: {cycle}, Curve: 0" + (f", Scan: {scan}" if scan >= 0 else "")
            text += f"\n{title}\n#\n# Acquisition Date:             {date}\n"
            text += f"# ColumnLabels:                 {labels}\n#\n"
            text += "".join(f"{e:g}  {v:g}\n" for e, v in zip(energies, blocks[(cycle, scan)]))
    return text


ENERGIES = np.arange(170.0, 160.0 - 0.05, -0.5)  # BE, 21 points


# ------------------------------------------------------------------------------ real files
def test_small_file_regions_axes_and_header(shared_data):
    survey, fe2p = specssb.read(shared_data("xps", "pynxtools-xps", "MgFe2O4_small.xy"))
    assert [s.meta["region"] for s in (survey, fe2p)] == ["Survey", "Fe2p"]
    assert survey.axis.name == "binding_energy" and survey.axis.unit == "eV"
    assert survey.shape == (1351,) and fe2p.shape == (56,)
    # first and last rows as written in the file
    assert survey.axis.values[[0, -1]].tolist() == [1350.0, 0.0]
    assert survey.data[[0, -1]].tolist() == [15598.679, 181.52882]
    assert fe2p.axis.values[[0, -1]].tolist() == [750.0, 695.0]
    assert fe2p.data[[0, -1]].tolist() == [5913.3234, 4013.8297]
    assert survey.signal == "cps" and survey.history == ()  # binding energy already
    assert (fe2p.meta["element"], fe2p.meta["transition"]) == ("Fe", "2p")
    assert "element" not in survey.meta
    assert survey.meta["excitation_energy_ev"] == 1486.61
    assert (survey.meta["pass_energy_ev"], fe2p.meta["pass_energy_ev"]) == (100.0, 20.0)
    assert (survey.meta["dwell_time_s"], fe2p.meta["dwell_time_s"]) == (0.1, 0.3)
    assert survey.meta["analyser_mode"] == "FAT" and survey.meta["sample"] == "1 as-loaded"
    assert survey.meta["acquired_at"] == dt.datetime(2023, 8, 24, 14, 19, 47, tzinfo=UTC)
    assert fe2p.meta["acquired_at"] == dt.datetime(2023, 8, 24, 14, 11, 36, tzinfo=UTC)
    assert survey.raw_meta["Eff. Workfunction"] == "4.1082"
    assert survey.source.block == "1 as-loaded / Survey"


def test_survey_equals_the_vamas_export_of_the_same_measurement(shared_data):
    survey = specssb.read(shared_data("xps", "pynxtools-xps", "MgFe2O4_small.xy"))[0]
    vamas = specssb.read(shared_data("xps", "pynxtools-xps", "regular.vms"))[0]
    np.testing.assert_allclose(survey.axis.values, vamas.axis.values, rtol=0, atol=1e-9)
    # VAMAS holds counts = cps x dwell time (0.1 s), written with 6 significant digits
    np.testing.assert_allclose(survey.data * survey.meta["dwell_time_s"], vamas.data, rtol=5e-6)
    assert survey.meta["acquired_at"] == vamas.meta["acquired_at"]
    assert survey.meta["sample"] == vamas.meta["sample"]


def test_kinetic_energy_option(shared_data):
    path = shared_data("xps", "pynxtools-xps", "MgFe2O4_small.xy")
    fe2p = specssb.read(path, energy="kinetic")[1]
    assert fe2p.axis.name == "kinetic_energy"
    np.testing.assert_allclose(fe2p.axis.values[[0, -1]], [736.61, 791.61])
    assert fe2p.history[0].operation == "binding_to_kinetic_energy"


def test_transmission_file_groups_cycles_and_transmission(shared_data):
    path = shared_data("xps", "pynxtools-xps", "MgFe2O4_with_transmission_function.xy")
    spectra = specssb.read(path)
    text = path.read_text(encoding="latin-1")
    # one Spectrum per data block (this file has no separate scans)
    assert len(spectra) == len(re.findall(r"^# Cycle: \d+, Curve", text, re.M)) == 118
    regions = {(s.meta["sample"], s.raw_meta["Spectrum ID"]) for s in spectra}
    assert len(regions) == text.count("# Region:") == 30
    groups = re.findall(r"^# Group:\s+(.*?)\s*$", text, re.M)
    assert len(groups) == 4 and {s.meta["sample"] for s in spectra} == set(groups)
    align = spectra[0]
    assert align.axis.name == "channel" and align.axis.size == 3000 and align.history == ()
    assert len({s.source.block for s in spectra}) == len(spectra)  # names are unique
    survey = spectra[2]
    assert survey.meta["region"] == "Survey" and survey.raw_meta["transmission"][0] == 78.810315
    assert not survey.raw_meta["transmission"].flags.writeable
    fe2p = next(s for s in spectra if s.source.block.endswith("Fe2p / cycle 0")
                and s.meta["sample"].startswith("2 "))
    assert fe2p.meta["n_scans"] == 3 and fe2p.shape == (1501,) and fe2p.dims == ()
    assert fe2p.raw_meta["Cycle parameters"] == {"Loop": "1"}
    assert fe2p.meta["acquired_at"] == dt.datetime(2023, 8, 24, 15, 31, 55, tzinfo=UTC)
    assert fe2p.data[0] == 6035.1788 and fe2p.axis.values[0] == 770.0
    # the quantification code finds the transmission on a rising kinetic-energy axis
    kinetic, transmission = transmission_curve(fe2p)
    assert np.all(np.diff(kinetic) > 0) and kinetic[0] == pytest.approx(1486.61 - 770.0)
    assert transmission[0] == fe2p.raw_meta["transmission"][0]


def test_transmission_matches_the_vamas_corresponding_variable(shared_data):
    path = shared_data("xps", "pynxtools-xps", "MgFe2O4_with_transmission_function.xy")
    survey = specssb.read(path)[2]
    vamas = specssb.read(shared_data("xps", "pynxtools-xps", "regular.vms"))[0]
    np.testing.assert_allclose(survey.raw_meta["transmission"],
                               vamas.raw_meta["corresponding_variables"]["Transmission"], rtol=5e-6)


def test_headerless_two_column_xy_is_not_claimed(shared_data):
    path = shared_data("xps", "gxps", "Al-NE-FeCr-S02p6-Fe2p-3.xy")
    assert not sniff_specs_xy(path, path.read_bytes()[:4096])
    with pytest.raises(ParseError, match="not a SPECS Prodigy XY"):
        specssb.read(path, format="specs-xy")


# ------------------------------------------------------------------------------ synthetic
def test_separate_scans_become_a_leading_scan_dimension():
    scans = {(0, s): 100.0 * (s + 1) + ENERGIES for s in range(3)}
    scans[(1, 0)] = 5.0 + ENERGIES
    first, second = parse_specs_xy(_xy(scans, ENERGIES), source=SOURCE)
    assert first.dims == ("scan",) and first.shape == (3, ENERGIES.size)
    assert first.coords["scan"].values.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(first.data[2], 300.0 + ENERGIES)
    assert first.meta["n_scans"] == 3
    assert second.dims == () and second.shape == (ENERGIES.size,)  # one scan: 1-D
    assert first.source.block == "cell 7, cycle 3 / S 2p / cycle 0"
    assert (first.meta["element"], first.meta["transition"]) == ("S", "2p")
    assert first.meta["title"] == "after charge"


def test_kinetic_axis_in_counts_is_converted_to_binding_energy():
    kinetic = 1486.61 - ENERGIES
    text = _xy({(0, -1): np.full(ENERGIES.size, 42.0)}, kinetic, axis="Kinetic Energy",
               rate="Counts", labels="energy counts")
    (spectrum,) = parse_specs_xy(text, source=SOURCE)
    assert spectrum.signal == "counts" and spectrum.axis.name == "binding_energy"
    np.testing.assert_allclose(spectrum.axis.values, ENERGIES, atol=1e-9)
    assert spectrum.history[0].parameters["excitation_energy_ev"] == 1486.61
    (kept,) = parse_specs_xy(text, source=SOURCE, energy="kinetic")
    np.testing.assert_array_equal(kept.axis.values, kinetic)


def test_dates_without_zone_use_the_timezone_option():
    text = _xy({(0, -1): ENERGIES}, ENERGIES, date="07/01/25 12:00:00")
    (spectrum,) = parse_specs_xy(text, source=SOURCE, timezone="Europe/Berlin")
    assert spectrum.meta["acquired_at"] == dt.datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
    assert spectrum.raw_meta["acquired_at_timezone"] == {"zone": "Europe/Berlin", "assumed": True}
    text = _xy({(0, -1): ENERGIES}, ENERGIES, date="07/01/25 12:00:00 +02:00")
    assert parse_specs_xy(text, source=SOURCE)[0].meta["acquired_at"].hour == 10


def test_unreadable_date_warns_and_is_left_out():
    text = _xy({(0, -1): ENERGIES}, ENERGIES, date="yesterday")
    text = text.replace("03/02/26 08:05:00 UTC", "yesterday")
    with pytest.warns(MetadataWarning, match="Acquisition Date 'yesterday'"):
        (spectrum,) = parse_specs_xy(text, source=SOURCE)
    assert "acquired_at" not in spectrum.meta


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError):
        parse_specs_xy(_xy({(0, -1): ENERGIES}, ENERGIES), source=SOURCE, energy="photon")
    with pytest.raises(ConfigError):
        parse_specs_xy(_xy({(0, -1): ENERGIES}, ENERGIES), source=SOURCE, timezone="Mars/Olympus")


# ------------------------------------------------------------------------------ bad input
GOOD = _xy({(0, -1): 10.0 + ENERGIES}, ENERGIES)


@pytest.mark.parametrize("damage, message", [
    (lambda t: "170  12\n169.5  13\n", "not a SPECS Prodigy XY"),
    (lambda t: "", "empty file"),
    (lambda t: t.replace("169.5  179.5\n", "169.5\n"), r"line \d+: expected 2 columns"),
    (lambda t: t.replace("169.5  179.5\n", "169.5  abc\n"), "expected a number, found 'abc'"),
    (lambda t: t.replace("169.5  179.5\n", "169.5  nan\n"), "non-finite"),
    (lambda t: t.replace("169.5  179.5\n", "171  179.5\n"), "not strictly monotonic"),
    (lambda t: t.rsplit("\n", 4)[0] + "\n", "Values/Curve is 21"),
    (lambda t: t.replace("# Cycle: 0, Curve: 0", "# Note"), "data row outside a data block"),
    (lambda t: t.replace("Binding Energy", "Photon Energy"), "cannot tell kinetic from binding"),
    (lambda t: t.replace("Curve: 0", "Curve: x"), "unreadable data-block title"),
])
def test_damaged_text_raises_parse_error(damage, message):
    with pytest.raises(ParseError, match=message):
        parse_specs_xy(damage(GOOD), source=SOURCE)


def test_inconsistent_scan_blocks_raise_parse_error():
    scans = {(0, 0): ENERGIES, (0, 1): ENERGIES}
    text = _xy(scans, ENERGIES).replace("Scan: 1", "Scan: 0")
    with pytest.raises(ParseError, match="do not fill"):
        parse_specs_xy(text, source=SOURCE)
    shifted = _xy(scans, ENERGIES)
    last = shifted.rfind("\n160  ")  # the second scan's last energy 160 -> 160.25
    shifted = shifted[:last] + "\n160.25  " + shifted[last + len("\n160  "):]
    with pytest.raises(ParseError, match="different abscissae"):
        parse_specs_xy(shifted, source=SOURCE)


def test_sniffer_reads_content_not_the_extension(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(GOOD)
    assert specssb.parsers.sniff(path).name == "specs-xy"
    assert not sniff_specs_xy(path, b"# Created by: someone else\n1 2\n")
    assert not sniff_specs_xy(path, b"Created by: SpecsLab Prodigy\n")  # no comment prefix
