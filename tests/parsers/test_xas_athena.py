"""Athena project reader: every real project against Larch, metadata, safety, bad input."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.errors import MetadataWarning
from specssb.parsers import sniff
from specssb.parsers._perl_data import UnsupportedPerl, iter_statements
from specssb.parsers.xas_athena import parse_athena, sniff_athena
from specssb.spectrum import Source

SOURCE = Source("test.prj", "0" * 64, "athena")

#: project -> (groups, first block, its points, first energy eV, element, edge, stored bkg_e0)
PROJECTS = {
    "Mn.prj": (14, "Mn foil", 2207, 6380.0961, "Mn", "K", 6539.0),
    "NiO.prj": (24, "NiO.000", 522, 8133.00072, "Ni", "K", 8344.00143),
    "Ni_FeNiS20_RT.prj": (8, "fenis_ni_rt_xafs_003", 351, 8227.951, "Ni", "K", 8338.493),
    "align_merge.prj": (3, "Fe/Ga alloy scan 1", 341, 6911.98862, "Fe", "K", 7112.0),
    "athena4.prj": (21, "cufoil.001", 469, 8830.0, "Cu", "K", 8981.0),
    "cyanobacteria.prj": (17, "0.12", 325, 11719.78254372, "Au", "L3", 11919.006181370001),
    "danger.prj": (1, "Fe/Ga alloy scan 1", 341, 6911.98862, "Fe", "K", 7112.0),
    "fe_athena.prj": (3, "fe2o3_rt1.xmu", 412, 6911.8277, "Fe", "K", 7125.6176),
    "json_unzipped.prj": (4, "FeXANES_DebbysSample.001", 442, 7011.996606, "Fe", "K", 7121.693057),
    "per-Bruce.prj": (7, "VST1-LiTDI_000.corr", 494, 2272.0001, "S", "K", 2471.803383),
}


def _read(path):
    if path.name == "danger.prj":
        with pytest.warns(MetadataWarning, match=r"@journal is not a data literal"):
            return specssb.read(path)
    return specssb.read(path)


def _larch_name(label: str) -> str:
    """The key larch.io.read_athena gives a group (fix_varname; 'd_' for a leading blank)."""
    from larch.utils import fix_varname

    name = "d_" + fix_varname(label.strip()) if label.startswith(" ") else fix_varname(label)
    return "d" + name if name.startswith("_") else name


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_real_projects_read_with_stored_parameters(name, shared_data):
    path = shared_data("xas", "larch", "athena", name)
    assert sniff(path).name == "athena"
    spectra = _read(path)
    groups, block, points, first_energy, element, edge, e0 = PROJECTS[name]
    assert len(spectra) == groups
    first = spectra[0]
    assert first.source.block == block and first.axis.size == points
    assert (first.axis.name, first.axis.unit, first.signal) == ("energy", "eV", "mu")
    assert first.axis.values[0] == pytest.approx(first_energy, abs=1e-9)
    assert (first.meta["element"], first.meta["edge"]) == (element, edge)
    assert first.meta["e0_ev"] == pytest.approx(e0)
    assert first.raw_meta["athena_parameters"]["e0"] == pytest.approx(e0)
    blocks = [s.source.block for s in spectra]
    assert len(set(blocks)) == len(blocks)
    for spectrum in spectra:
        assert np.all(np.diff(spectrum.axis.values) >= 0)
        assert spectrum.raw_meta["athena"]  # every Athena parameter kept


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_energy_and_mu_equal_larch_for_every_group(name, shared_data):
    from larch.io import read_athena

    path = shared_data("xas", "larch", "athena", name)
    spectra = _read(path)
    project = read_athena(str(path), do_preedge=False, do_bkg=False, do_fft=False)
    ours = {_larch_name(s.raw_meta["label"]): s for s in spectra}  # Larch keeps the last copy
    assert set(project.groups) <= set(ours)
    for key, group in project.groups.items():
        np.testing.assert_array_equal(ours[key].axis.values, group.energy, err_msg=key)
        np.testing.assert_array_equal(ours[key].data, group.mu, err_msg=key)


def test_nio_keeps_the_duplicated_labels_larch_drops(shared_data):
    spectra = specssb.read(shared_data("xas", "larch", "athena", "NiO.prj"))
    blocks = [s.source.block for s in spectra]
    assert blocks[:4] == ["NiO.000", "Ref NiO.000", "NiO.000 (2)", "Ref NiO.000 (2)"]
    ref = {s.source.block: s for s in spectra}["Ref NiO.000 (2)"]
    # Athena's stored E0 of the reference channel lies on the stored grid; + eshift = Ni K
    params = ref.raw_meta["athena_parameters"]
    assert params["e0"] == pytest.approx(8331.74758)
    assert params["e0"] + params["eshift"] == pytest.approx(8333.0, abs=1e-3)
    assert ref.raw_meta["reference_channel"] is True and ref.raw_meta["label"] == "  Ref NiO.000"
    # Demeter stored the beamline XDI header: acquisition time and monochromator
    assert ref.meta["acquired_at"].isoformat() == "2014-08-30T15:47:40+00:00"
    assert ref.meta["monochromator"] == "Si(311)"
    assert ref.raw_meta["arrays"]["i0"].shape == (522,)


def test_mn3o4_stored_e0_differs_from_larch_auto_e0(shared_data):
    """EXPECTED.md hard case: Athena's stored e0 is 19 eV above Larch's automatic one."""
    spectra = specssb.read(shared_data("xas", "larch", "athena", "Mn.prj"))
    mn3o4 = {s.source.block: s for s in spectra}["Mn3O4"]
    assert mn3o4.meta["e0_ev"] == pytest.approx(6547.106)
    assert mn3o4.axis.size == 373


def test_timezone_option_converts_xdi_start_time(shared_data):
    path = shared_data("xas", "larch", "athena", "NiO.prj")
    [first, *_] = specssb.read(path, timezone="America/New_York")
    assert first.meta["acquired_at"].isoformat() == "2014-08-30T19:47:40+00:00"


# ------------------------------------------------------------------------------- synthetic
def _perl_project(*groups: str, tail: str = "@journal = ('a note');\n1;\n") -> bytes:
    head = "# Athena project file -- Demeter version 0.9.26\n# comment\n\n"
    return (head + "".join(groups) + tail).encode()


def _group(label="Cu foil", x="'8970','8980','8990'", y="'0.1','0.6','1.0'", extra="") -> str:
    return (f"$old_group = 'abcd';\n@args = ('label','{label}','bkg_z','Cu','fft_edge','k',"
            f"'bkg_e0',8979,'bkg_eshift','0.5','bkg_pre1',-150,'bkg_nor2','500','is_xmu',1"
            f"{extra});\n@x = ({x});\n@y = ({y});\n[record]   # create object\n\n")


def test_synthetic_perl_project_gzipped_and_plain_give_the_same():
    plain = _perl_project(_group(), _group("  Ref Cu foil", y="'0.2','0.7','1.1'"))
    for data in (plain, gzip.compress(plain)):
        spectra = parse_athena(data, source=SOURCE)
        assert [s.source.block for s in spectra] == ["Cu foil", "Ref Cu foil"]
        assert spectra[1].data.tolist() == [0.2, 0.7, 1.1]
        assert spectra[0].raw_meta["athena_parameters"] == {
            "e0": 8979.0, "eshift": 0.5, "pre1": -150.0, "nor2": 500.0, "element": "Cu",
            "edge": "k"}
        assert spectra[0].raw_meta["journal"] == ["a note"]
        assert spectra[0].raw_meta["format_dialect"] == "perl"


def test_synthetic_json_project():
    document = {
        "_____header1": "# Athena project file -- Demeter version 0.9.26",
        "_____journal": ["j"], "_____order": ["g1"],
        "g1": {"args": {"label": "Fe foil", "bkg_z": "Fe", "fft_edge": "k", "is_xmu": "1",
                        "bkg_e0": "7112"},
               "x": ["7100", "7110", "7120"], "y": [0.1, 0.5, 1.0]},
    }  # fmt: skip
    [spectrum] = parse_athena(json.dumps(document).encode(), source=SOURCE)
    assert spectrum.source.block == "Fe foil" and spectrum.meta["element"] == "Fe"
    assert spectrum.axis.values.tolist() == [7100.0, 7110.0, 7120.0]
    assert spectrum.raw_meta["format_dialect"] == "json"


def test_perl_strings_follow_perl_quoting_rules():
    text = (r"""$a = 'it\'s \\ \n';""" + "\n" + r"""$b = "tab\there \x{e9} \$x";""" + "\n"
            + "%h = ('k' => [1, -2.5e3, undef], bare => 'v');\n$c = bless( {'m' => 1}, 'X::Y' );\n")
    values = {s.name: s.value for s in iter_statements(text)}
    assert values["a"] == "it's \\ \\n"
    assert values["b"] == "tab\there \u00e9 $x"
    assert values["h"] == {"k": [1, -2500.0, None], "bare": "v"}
    assert values["c"] == {"m": 1}


@pytest.mark.parametrize("code", ['system("rm -rf /")', "`ls`", "$x + 1", "exec('x')",
                                  "open(F, '>x')", "eval { 1 }"])
def test_perl_code_is_never_run_and_is_skipped_in_metadata(code):
    data = _perl_project(_group(), tail=f"@journal = {code};\n1;\n")
    with pytest.warns(MetadataWarning, match="not a data literal"):
        [spectrum] = parse_athena(data, source=SOURCE)
    assert spectrum.raw_meta["skipped_statements"] == ["@journal (line 10)"]


def test_perl_code_in_the_data_is_a_parse_error():
    data = _perl_project(_group(x='system("hephaestus")'))
    with pytest.raises(ParseError, match=r"@x is not a data literal.*system"):
        parse_athena(data, source=SOURCE)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "not an Athena project"),
        (b"# some other file\n1 2\n", "not an Athena project"),
        (gzip.compress(_perl_project(_group()))[:60], "truncated"),
        (b"\x1f\x8b\x08\x00garbage-garbage", "corrupt gzip"),
        (_perl_project(_group())[:150], "ends inside|before the closing"),
        (_perl_project(_group(), tail="")[:-30], "file ends before"),
        (_perl_project(_group(x="'8970','abc','8990'")), "not a number"),
        (_perl_project(_group(x="'8970','8980'")), "@x has 2 values but @y has 3"),
        (_perl_project(_group(x="'8970','8960','8990'")), "not increasing"),
        (_perl_project(_group(y="'0.1','nan','1.0'")), "not a finite number"),
        (_perl_project(_group(extra=",'odd'")), "odd number"),
        (_perl_project(tail="1;\n"), "no groups"),
        (_perl_project(_group(extra=",'is_chi',1")), "no group of the project holds mu"),
        (b'{"_____header1": "# Athena project file -- Demeter", "_____order": ["g"]}',
         "missing or not an object"),
        (b'{"_____header1": "# Athena project file -- Demeter", ', "invalid JSON"),
    ],
)
def test_bad_input_raises_parse_error(data, says, recwarn):
    with pytest.raises(ParseError, match=says):
        parse_athena(data, source=SOURCE)


def test_chi_groups_are_skipped_with_a_warning():
    data = _perl_project(_group(), _group("chi data", extra=",'is_chi',1"))
    with pytest.warns(MetadataWarning, match="is_chi group skipped"):
        spectra = parse_athena(data, source=SOURCE)
    assert [s.source.block for s in spectra] == ["Cu foil"]


def test_deeply_nested_perl_is_refused_not_a_recursion_error():
    [statement] = iter_statements("$a = " + "[" * 200 + "]" * 200 + ";")
    assert statement.kind == "unsupported" and "nesting deeper" in str(statement.error)
    with pytest.raises(UnsupportedPerl, match="truncated"):
        list(iter_statements("$a = " + "[" * 10))


def test_sniffer_reads_inside_gzip_and_rejects_other_gzip():
    plain = _perl_project(_group())
    assert sniff_athena(None, plain[:4096]) and sniff_athena(None, gzip.compress(plain)[:4096])
    assert not sniff_athena(None, gzip.compress(b"# XDI/1.0\n1 2\n"))
    assert not sniff_athena(None, b"# energy i0 it\n1 2 3\n")
