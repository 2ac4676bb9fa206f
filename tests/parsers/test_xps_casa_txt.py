"""CasaXPS text exports: real exports from pynxtools-xps, synthetic blocks, damaged input."""

from __future__ import annotations

import numpy as np
import pytest

import specssb
from specssb import ConfigError, MetadataWarning, ParseError
from specssb.parsers import sniff
from specssb.parsers.xps_casa_txt import casa_curves, parse_casa_txt, sniff_casa_txt
from specssb.spectrum import Source

HV = 1486.61
SOURCE = Source("export.txt", "", "casa-txt")


@pytest.fixture
def ni_export(shared_data):
    return shared_data("xps", "pynxtools-xps", "vms_txt_export.txt")


@pytest.fixture
def feo_export(shared_data):
    return shared_data("xps", "pynxtools-xps", "FeO_analyzed_lineshapes_cols.txt")


def _file_columns(path) -> np.ndarray:
    """Independent read: every numeric row of a single-block export, empty fields dropped."""
    rows = [line.split("\t") for line in path.read_text().splitlines()[8:]]
    return np.array([[float(x) for x in row if x.strip()] for row in rows])


# --------------------------------------------------------------------------- real files
def test_ni_export_gives_four_blocks_without_components(ni_export):
    assert sniff(ni_export).name == "casa-txt"
    spectra = specssb.read(ni_export)
    assert [(s.meta["sample"], s.meta["region"], s.axis.size) for s in spectra] == [
        ("Ni", "Survey", 1201), ("Ni", "Ni 2p", 501), ("NiO", "Survey", 1201), ("NiO", "Ni 2p", 501)
    ]
    assert [s.source.block for s in spectra] == [
        "Cycle 3:Ni:Survey", "Cycle 4:Ni:Ni2p", "Cycle 15:NiO:Survey", "Cycle 14:NiO:Ni2p"
    ]
    survey, ni2p = spectra[0], spectra[1]
    assert ni2p.meta["element"] == "Ni" and ni2p.meta["transition"] == "2p"
    assert "element" not in survey.meta
    for s in spectra:
        assert s.axis.name == "binding_energy" and s.axis.unit == "eV"
        assert s.meta["excitation_energy_ev"] == HV
        assert s.signal == "counts"
        assert "casa_components" not in s.raw_meta and "casa_background" not in s.raw_meta
        assert s.history[0].operation == "kinetic_to_binding_energy"
        ke = s.raw_meta["casa_columns"]["K.E."]
        np.testing.assert_allclose(s.axis.values + ke, HV, atol=1e-9)
        np.testing.assert_allclose(s.axis.values, s.raw_meta["casa_columns"]["B.E."], atol=1e-6)
    # values read off the file: first row 2.866100e+002 4.699450e+003 ... 1.200000e+003
    assert survey.axis.values[0] == pytest.approx(1200.0)
    assert survey.axis.values[-1] == pytest.approx(0.0, abs=1e-9)
    assert survey.data[0] == 4699.45
    assert ni2p.axis.values[0] == pytest.approx(890.0) and ni2p.axis.values[-1] == pytest.approx(840.0)
    assert spectra[3].data[-1] == 3362.27
    assert [s.raw_meta["Acquisition Time s"] for s in spectra] == [0.1, 0.3, 0.1, 0.3]


def test_ni_export_cps_is_counts_over_acquisition_time(ni_export):
    counts = specssb.read(ni_export)
    cps = specssb.read(ni_export, signal="cps")
    for c, r in zip(counts, cps):
        assert r.signal == "cps" and r.signal_unit == "counts/s"
        np.testing.assert_allclose(r.data, c.data / c.raw_meta["Acquisition Time s"], rtol=1e-6)


def test_feo_export_structure_and_header_values(feo_export):
    (fe,) = specssb.read(feo_export)
    assert fe.axis.size == 1121
    assert fe.meta["region"] == "Fe 2p" and fe.meta["sample"] == "FeO"
    assert fe.raw_meta["Acquisition Time s"] == 2.0
    # the B.E. values as written, so crop(700, 750) keeps the first channel
    assert fe.axis.values[0] == 750.0 and fe.axis.values[-1] == 694.0
    ke = fe.raw_meta["casa_columns"]["K.E."]
    assert ke[0] == 736.61 and ke[-1] == 792.61
    np.testing.assert_allclose(fe.axis.values + ke, HV, atol=1e-9)
    assert fe.data[0] == 12516.9 and fe.data[-1] == 2884.3
    components = fe.raw_meta["casa_components"]
    assert [c["name"] for c in components] == ["Fe 2p"] * 4
    assert [c["position_ev"] for c in components] == [709.05, 716.00, 722.13, 729.89]
    assert [c["fwhm_ev"] for c in components] == [3.86, 8.00, 4.87, 7.83]
    assert [c["area"] for c in components] == [63507.37, 35837.06, 49042.13, 17705.16]
    assert [c["lineshape"] for c in components] == ["LF(0.54,10,80,100,6)", "SGL(30)"] * 2
    assert {c["position_axis"] for c in components} == {"binding_energy"}
    assert fe.raw_meta["casa_curve_signal"] == "counts"
    for c in components:
        assert c["curve"].shape == (1121,) and not c["curve"].flags.writeable
    assert not fe.raw_meta["casa_background"].flags.writeable


def test_feo_columns_match_an_independent_read(feo_export):
    (fe,) = specssb.read(feo_export)
    table = _file_columns(feo_export)
    assert table.shape == (1121, 16)
    np.testing.assert_array_equal(fe.data, table[:, 1])
    for i, c in enumerate(fe.raw_meta["casa_components"]):
        np.testing.assert_array_equal(c["curve"], table[:, 2 + i])
    np.testing.assert_array_equal(fe.raw_meta["casa_background"], table[:, 6])
    np.testing.assert_array_equal(fe.raw_meta["casa_envelope"], table[:, 7])


def test_feo_cps_is_half_the_counts(feo_export):
    (counts,) = specssb.read(feo_export)
    (cps,) = specssb.read(feo_export, signal="cps")
    np.testing.assert_allclose(cps.data, counts.data * 0.5, rtol=1e-6)
    assert cps.raw_meta["casa_curve_signal"] == "cps"
    for c_cps, c_counts in zip(cps.raw_meta["casa_components"], counts.raw_meta["casa_components"]):
        np.testing.assert_allclose(c_cps["curve"], c_counts["curve"] * 0.5, atol=0.006)
    np.testing.assert_allclose(cps.raw_meta["casa_envelope"], counts.raw_meta["casa_envelope"] / 2,
                               atol=0.006)


def test_feo_envelope_is_background_plus_bare_components(feo_export):
    (fe,) = specssb.read(feo_export)
    curves = casa_curves(fe)
    assert curves["components"].shape == (4, 1121) and curves["signal"] == "counts"
    residual = curves["envelope"] - curves["background"] - curves["components"].sum(axis=0)
    assert np.max(np.abs(residual)) <= 0.03 + 1e-9


def test_feo_curves_belong_to_their_components(feo_export):
    """Column alignment: each bare curve peaks where its line shape does (notes/xps.md §7)."""
    (fe,) = specssb.read(feo_export, signal="cps")
    curves = casa_curves(fe)
    peaks = [fe.axis.values[np.argmax(c)] for c in curves["components"]]
    # LF components peak 0.95 / 1.22 eV above their Position; SGL at their Position.
    np.testing.assert_allclose(peaks, [710.0, 716.0, 723.35, 729.9], atol=1e-6)
    # Header areas are CPS·eV: the first (LF) component integrates to its Area within 0.05 %.
    area = -np.trapezoid(curves["components"][0], fe.axis.values)
    assert area == pytest.approx(curves["areas"][0], rel=5e-4)


def test_feo_background_equals_counts_outside_the_region(feo_export):
    (fe,) = specssb.read(feo_export)
    ke = fe.raw_meta["casa_columns"]["K.E."]
    inside = (ke >= 737.52081) & (ke <= 786.7632)  # CASA region limits in FeO_analyzed.vms
    assert inside.sum() == 985
    background = fe.raw_meta["casa_background"]
    np.testing.assert_array_equal(background[~inside], fe.data[~inside])
    assert np.all(background[inside] != fe.data[inside])


def test_kinetic_energy_option_keeps_the_ke_column(feo_export):
    (fe,) = specssb.read(feo_export, energy="kinetic")
    assert fe.axis.name == "kinetic_energy" and fe.history == ()
    assert fe.axis.values[0] == 736.61
    assert casa_curves(fe)["components"].shape == (4, 1121)


def test_casa_curves_follow_a_crop_and_refuse_a_shift(feo_export):
    (fe,) = specssb.read(feo_export)
    cropped = fe.crop(700.0, 720.0)
    curves = casa_curves(cropped)
    full = casa_curves(fe)
    keep = (fe.axis.values >= 700.0) & (fe.axis.values <= 720.0)
    np.testing.assert_array_equal(curves["components"], full["components"][:, keep])
    shifted = fe.replace(axis=type(fe.axis)("binding_energy", "eV", fe.axis.values + 0.013))
    with pytest.raises(ValueError, match="no longer matches"):
        casa_curves(shifted)


def test_casa_curves_refuse_a_spectrum_without_fit(ni_export):
    with pytest.raises(ValueError, match="no CasaXPS fit curves"):
        casa_curves(specssb.read(ni_export)[1])


# --------------------------------------------------------------------------- synthetic
def _export(*, title="Cycle 0:S:S2p", n=5, newline="\n", positions=("162.0", "163.2"),
            hv="1.486610e+003", be_shift=0.0) -> str:
    """A small two-component CasaXPS export built the way CasaXPS writes it."""
    names = ["S 2p3/2", "S 2p1/2"]
    lines = [
        title,
        f"\tCharacteristic Energy eV\t{hv}\tAcquisition Time s\t5.000000e-001",
        "Name\t\t" + "\t".join(names) + "\t",
        "Position\t\t" + "\t".join(positions) + "\t",
        "FWHM\t\t1.00\t1.00\t",
        "Area\t\t100.00\t50.00\t",
        "Lineshape\t\tGL(30)\tGL(30)\t",
        "K.E.\tCounts\t" + "\t".join(names) + "\tBackground\tEnvelope\t\tB.E.\tCPS\t"
        + "\t".join(names) + "\tBackground CPS\tEnvelope CPS",
    ]
    for i in range(n):
        ke = 1486.61 - 166.0 + i * 0.5
        background = 100.0 + i
        comps = [background + 10.0 * (i + 1), background + 5.0 * (i + 1)]
        envelope = background + sum(c - background for c in comps)
        counts = envelope + 1.0
        left = [ke, counts, *comps, background, envelope]
        right = [1486.61 - ke + be_shift, counts * 2, *(c * 2 for c in comps), background * 2,
                 envelope * 2]
        lines.append("\t".join(f"{v:.6e}" for v in left) + "\t\t"
                     + "\t".join(f"{v:.6e}" for v in right))
    return newline.join(lines) + newline


def test_synthetic_block_round_trips():
    (s,) = parse_casa_txt(_export(newline="\r\n"), source=SOURCE)
    assert s.meta["region"] == "S 2p" and s.meta["sample"] == "S"
    assert s.axis.size == 5 and s.axis.values[0] == pytest.approx(166.0)
    curves = casa_curves(s)
    assert curves["names"] == ["S 2p3/2", "S 2p1/2"]
    np.testing.assert_allclose(curves["components"][1], 5.0 * np.arange(1, 6), rtol=1e-6)
    np.testing.assert_allclose(curves["background"], 100.0 + np.arange(5), rtol=1e-6)
    (cps,) = parse_casa_txt(_export(), source=SOURCE, signal="cps")
    np.testing.assert_allclose(cps.data, 2 * s.data, rtol=1e-6)
    np.testing.assert_allclose(casa_curves(cps)["components"], 2 * curves["components"], rtol=1e-5)


def test_two_blocks_with_the_same_title_get_numbered_sources():
    text = _export() + _export(title="Cycle 0:S:S2p", n=4)
    spectra = parse_casa_txt(text, source=SOURCE)
    assert [s.axis.size for s in spectra] == [5, 4]
    assert [s.source.block for s in spectra] == ["Cycle 0:S:S2p [block 1]", "Cycle 0:S:S2p [block 2]"]


def test_sniffer_claims_casa_and_nothing_like_it():
    assert sniff_casa_txt(None, _export().encode())
    scienta = b"[Info]\r\nNumber of Regions=1\r\nVersion=1.3.1\r\n\r\n[Region 1]\r\n"
    two_column = b"BE/eV,Int\r\n301.5,1709\r\n301.4,1798\r\n"
    specs = b"# Created by:        SpecsLab Prodigy, Version 4.100\n# Group: x\n"
    rows_of_tables = b"\tCharacteristic Energy eV\t1486.61\tAcquisition Time s\t1\nName\t\t\n"
    for head in (scienta, two_column, specs, rows_of_tables, b""):
        assert not sniff_casa_txt(None, head)


def test_be_column_that_disagrees_with_hv_warns():
    with pytest.warns(MetadataWarning, match="differs from hv - K.E."):
        (s,) = parse_casa_txt(_export(be_shift=0.3), source=SOURCE)
    assert s.axis.values[0] == pytest.approx(166.0)  # the axis stays hv - KE


def test_missing_characteristic_energy_uses_the_be_column():
    with pytest.warns(MetadataWarning, match="no Characteristic Energy"):
        (s,) = parse_casa_txt(_export(hv="n/a"), source=SOURCE)
    assert s.history == () and "excitation_energy_ev" not in s.meta
    assert s.axis.values[0] == pytest.approx(166.0)


def test_unreadable_component_position_warns_and_is_none():
    with pytest.warns(MetadataWarning, match="Position"):
        (s,) = parse_casa_txt(_export(positions=("162.0", "??")), source=SOURCE)
    assert [c["position_ev"] for c in s.raw_meta["casa_components"]] == [162.0, None]


@pytest.mark.parametrize(
    ("text", "match", "where"),
    [
        ("", "no CasaXPS block", "line 1"),
        (_export()[:-40], "expected 13 tab-separated fields", "line 13"),
        (_export().replace("1.320000e+02", "x1.0", 1), "expected a number, found 'x1.0'",
         "line 10"),
        (_export().replace("1.320000e+02", "nan", 1), "non-finite", "line 10"),
        ("Cycle 0:S:S2p\nName\t\t\n", "Characteristic Energy", "line 2"),
        ("\tCharacteristic Energy eV\t1486.61\tAcquisition Time s\t1\n", "Rows of Tables",
         "line 1"),
        (_export().split("K.E.")[0], "ends before the column header", None),
        (_export().replace("Lineshape", "Comment"), "expected a component row", "line 7"),
        (_export(n=1), "1 data rows", None),
    ],
)
def test_bad_input_raises_parse_error(text, match, where):
    with pytest.raises(ParseError, match=match) as info:
        parse_casa_txt(text, source=SOURCE)
    if where:
        assert info.value.position == where


def test_non_monotonic_kinetic_energy_is_refused():
    lines = _export().split("\n")
    lines[9], lines[10] = lines[10], lines[9]
    with pytest.raises(ParseError, match="not monotonic"):
        parse_casa_txt("\n".join(lines), source=SOURCE)


@pytest.mark.parametrize(("option", "value"), [("energy", "photon"), ("signal", "volts")])
def test_bad_options_are_config_errors(option, value):
    with pytest.raises(ConfigError):
        parse_casa_txt(_export(), source=SOURCE, **{option: value})
