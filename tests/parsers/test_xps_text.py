"""Plain two-column / CSV XPS spectra: real files, synthetic tables, damaged input."""

from __future__ import annotations

import numpy as np
import pytest

import specssb
from specssb import ConfigError, MetadataWarning, ParseError, UnknownFormatError
from specssb.parsers import get_format, sniff
from specssb.parsers.xps_text import parse_xps_text
from specssb.spectrum import Source

SOURCE = Source("spectrum.csv", "", "xps-text")


def _parse(text: str, **options):
    return parse_xps_text(text, source=SOURCE, **options)[0]


# --------------------------------------------------------------------------- real files
def test_c1s_csv_binding_energy_from_its_header(shared_data):
    path = shared_data("xps", "lg4x", "C1s_sample.csv")
    assert sniff(path).name == "xps-text"
    (s,) = specssb.read(path)
    assert s.axis.name == "binding_energy" and s.axis.size == 351
    assert s.axis.values[0] == 301.5 and s.axis.values[-1] == 266.5
    assert s.data[0] == 1709 and s.data[-1] == 393
    assert s.raw_meta["header"] == ["BE/eV,InC1s_sample"]
    assert s.raw_meta["axis_from"] == "header" and s.raw_meta["delimiter"] == ","
    assert s.raw_meta["columns"] == (0, 1)
    assert s.signal == "intensity" and "excitation_energy_ev" not in s.meta and s.history == ()
    # C 1s (~284.8 eV) lies inside and is the maximum
    assert 283.5 < s.axis.values[np.argmax(s.data)] < 286.5


def test_c1s_csv_kinetic_needs_an_excitation_energy(shared_data):
    path = shared_data("xps", "lg4x", "C1s_sample.csv")
    with pytest.warns(MetadataWarning, match="no excitation energy"):
        (s,) = specssb.read(path, energy="kinetic")
    assert s.axis.name == "binding_energy"
    (k,) = specssb.read(path, energy="kinetic", excitation_energy_ev=1486.6)
    assert k.axis.name == "kinetic_energy"
    np.testing.assert_allclose(k.axis.values, 1486.6 - s.axis.values)
    assert k.history[0].operation == "binding_to_kinetic_energy"


def test_au_4f_csv_kinetic_header_and_hv_from_the_header(shared_data):
    path = shared_data("xps", "lmfitxps", "clean_Au_4f.csv")
    assert sniff(path).name == "xps-text"
    (s,) = specssb.read(path)
    assert s.raw_meta["header_axis"] == "kinetic_energy"
    assert s.raw_meta["header_excitation_energy_ev"] == 180.0
    assert s.meta["excitation_energy_ev"] == 180.0 and s.axis.size == 294
    assert s.axis.name == "binding_energy"
    assert s.axis.values[0] == pytest.approx(180.0 - 84.0)
    assert s.axis.values[-1] == pytest.approx(180.0 - 95.9984)
    assert s.data[0] == 9616.0 and s.data[-1] == 3203.0
    (k,) = specssb.read(path, energy="kinetic")
    assert k.axis.name == "kinetic_energy" and k.axis.values[0] == 84.0 and k.history == ()


def test_au_4f_doublet_lands_on_the_tabulated_binding_energies(shared_data):
    """With the spectrometer work function the 4f7/2 peak sits at 84.0 eV (ISO 15472: 83.96)."""
    (s,) = specssb.read(shared_data("xps", "lmfitxps", "clean_Au_4f.csv"), work_function_ev=3.69)
    be = s.axis.values
    f72 = be[np.argmax(s.data)]
    window = (be > 86.5) & (be < 89.0)
    f52 = be[window][np.argmax(s.data[window])]
    assert f72 == pytest.approx(83.96, abs=0.06)
    assert f52 - f72 == pytest.approx(3.67, abs=0.08)  # Au 4f spin-orbit splitting
    assert s.history[0].parameters["work_function_ev"] == 3.69


def test_au_4f_axis_option_that_contradicts_the_header_is_refused(shared_data):
    path = shared_data("xps", "lmfitxps", "clean_Au_4f.csv")
    with pytest.raises(ConfigError, match="contradicts the header"):
        specssb.read(path, axis="binding_energy")
    (s,) = specssb.read(path, axis="kinetic_energy")
    assert s.raw_meta["axis_from"] == "option"


def test_au_4f_excitation_option_overrides_the_header_with_a_warning(shared_data):
    path = shared_data("xps", "lmfitxps", "clean_Au_4f.csv")
    with pytest.warns(MetadataWarning, match="differs from the header"):
        (s,) = specssb.read(path, excitation_energy_ev=200.0)
    assert s.meta["excitation_energy_ev"] == 200.0
    assert s.axis.values[0] == pytest.approx(116.0)


def test_headerless_xy_defaults_to_binding_energy(shared_data):
    path = shared_data("xps", "gxps", "Al-NE-FeCr-S02p6-Fe2p-3.xy")
    (s,) = specssb.read(path, format="xps-text")
    assert s.raw_meta["header"] == [] and s.raw_meta["axis_from"] == "default"
    assert s.axis.name == "binding_energy" and s.axis.size == 701
    assert s.axis.values[0] == 750.0 and s.axis.values[-1] == 680.0
    assert s.data[0] == 19595 and s.data[-1] == 7691
    # Fe 2p3/2 (~707-711 eV) is the strongest feature
    assert 705.0 < s.axis.values[np.argmax(s.data)] < 713.0


def test_no_content_sniffer_so_other_formats_win():
    info = get_format("xps-text")
    assert info.magic == () and info.sniff is None
    assert set(info.extensions) == {".csv", ".xy"}


def test_ambiguous_xy_names_the_generic_reader(tmp_path):
    path = tmp_path / "bare.xy"
    path.write_text("750.0 10\n749.9 11\n749.8 12\n")
    try:
        assert sniff(path).name == "xps-text"
    except UnknownFormatError as exc:  # another .xy reader is registered: both are named
        assert "xps-text" in exc.candidates


# --------------------------------------------------------------------------- synthetic
@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("BE;Int\n290,0;5\n", None),  # decimal commas are not read (see below)
        ("290.0;5\n289.9;6\n289.8;7\n", ";"),
        ("290.0\t5\n289.9\t6\n289.8\t7\n", "\t"),
        ("  290.0   5\n 289.9  6\n289.8 7\n", "whitespace"),
        ("290.0, 5\n289.9, 6\n289.8, 7\n", ","),
    ],
)
def test_delimiters_are_detected(text, delimiter):
    if delimiter is None:
        with pytest.raises(ParseError, match="decimal commas are not read"):
            _parse(text)
        return
    s = _parse(text)
    assert s.raw_meta["delimiter"] == delimiter
    np.testing.assert_array_equal(s.axis.values, [290.0, 289.9, 289.8])
    np.testing.assert_array_equal(s.data, [5, 6, 7])


def test_columns_option_and_header_names():
    text = "# exported\nindex\tKinetic Energy (eV)\tCounts/s\n0\t100.0\t7\n1\t100.5\t8\n2\t101.0\t9\n"
    s = _parse(text, columns=(1, 2), excitation_energy_ev=150.0)
    assert s.raw_meta["header_axis"] == "kinetic_energy"
    assert s.raw_meta["column_names"] == ("Kinetic Energy (eV)", "Counts/s")
    assert s.signal == "cps"
    np.testing.assert_allclose(s.axis.values, [50.0, 49.5, 49.0])
    np.testing.assert_array_equal(s.data, [7, 8, 9])
    assert s.raw_meta["header"] == ["# exported", "index\tKinetic Energy (eV)\tCounts/s"]
    assert s.raw_meta["n_fields"] == 3


@pytest.mark.parametrize(
    ("header", "kind"),
    [("B.E.,counts", "binding_energy"), ("Binding energy [eV],I", "binding_energy"),
     ("E_bin,I", "binding_energy"), ("KE,I", "kinetic_energy"), ("Ekin/eV,I", "kinetic_energy"),
     ("Energy,I", None), ("x,y", None)],
)
def test_axis_kind_from_header_names(header, kind):
    s = _parse(f"{header}\n10,1\n11,2\n12,3\n", excitation_energy_ev=1486.6)
    assert s.raw_meta["header_axis"] == kind
    assert s.raw_meta["axis_from"] == ("header" if kind else "default")


def test_free_text_header_line_never_decides_the_axis():
    s = _parse("spectrum to be fitted\n10 1\n11 2\n12 3\n")
    assert s.raw_meta["header_axis"] is None


def test_declared_kinetic_axis_on_headerless_file():
    s = _parse("96.0,1\n95.0,2\n94.0,3\n", axis="kinetic", excitation_energy_ev=180.0)
    np.testing.assert_allclose(s.axis.values, [84.0, 85.0, 86.0])
    assert s.raw_meta["axis_from"] == "option"


@pytest.mark.parametrize(
    ("text", "match", "where"),
    [
        ("", "no data rows", "line 1"),
        ("BE/eV,Int\n", "no data rows", "line 1"),
        ("BE,Int\n290.0,5\n289.9\n289.8,7\n", "one field", "line 3"),
        ("290.0,5\n289.9,abc\n289.8,7\n", "found 'abc'", "line 2"),
        ("290.0,5\n289.9,6\n", "only 2 data rows", None),
        ("290.0,5\n289.9,6\n290.0,7\n", "not finite and strictly monotonic", None),
        ("290.0,5\n290.0,6\n289.8,7\n", "not finite and strictly monotonic", None),
        ("290.0,5\nnan,6\n289.8,7\n", "not finite and strictly monotonic", None),
        ("290.0,5\n289.9,inf\n289.8,7\n", "non-finite", None),
        ("BE/keV,Int\n1.0,5\n0.9,6\n0.8,7\n", "not eV", "line 1"),
    ],
)
def test_bad_input_raises_parse_error(text, match, where):
    with pytest.raises(ParseError, match=match) as info:
        _parse(text)
    if where:
        assert info.value.position == where


def test_too_few_fields_for_the_requested_columns():
    with pytest.raises(ParseError, match=r"columns=\(0, 2\) needs 3"):
        _parse("290.0,5\n289.9,6\n289.8,7\n", columns=(0, 2))


@pytest.mark.parametrize(
    "options",
    [{"axis": "photon"}, {"energy": "total"}, {"columns": (1, 1)}, {"columns": (0,)},
     {"columns": (-1, 0)}, {"signal": "volts"}, {"delimiter": ""},
     {"excitation_energy_ev": -5.0}, {"work_function_ev": float("nan")}],
)
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        _parse("290.0,5\n289.9,6\n289.8,7\n", **options)


def test_read_refuses_bad_options_before_reading(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("290.0,5\n289.9,6\n289.8,7\n")
    with pytest.raises(ConfigError):
        specssb.read(path, columns=(2, 2))
    (s,) = specssb.read(path, signal="counts", delimiter=",")
    assert s.signal == "counts" and s.source.format == "xps-text" and s.source.block is None
