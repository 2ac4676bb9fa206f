"""Beamline multi-column XAS reader: every real file against larch.io.read_ascii, roles, options,
the e0 sanity check, and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.errors import MetadataWarning, PhysicsWarning
from specssb.parsers import sniff
from specssb.parsers.xas_columns import parse_xas_columns, sniff_xas_columns
from specssb.parsers.xas_xdi import HC_EV_ANGSTROM
from specssb.spectrum import Source

SOURCE = Source("test.dat", "0" * 64, "xas-columns")


def _ln(a, b):
    return lambda d: np.log(d[a] / d[b])


def _ratio(a, b):
    return lambda d: d[a] / d[b]


def _col(a):
    return lambda d: d[a]


def _sum_over(first, last, i0):
    return lambda d: d[first:last + 1].sum(axis=0) / d[i0]


#: file -> (options, spectra, mu expression, mode, energy: Larch column index and factor,
#: mu from Larch's data rows (0-based columns), reference mu or None, warns)
#: The Larch oracle reads the same file with read_ascii and applies the same expression.
CASES = {
    "larch/beamlines/APS10BM_2019.dat": ({}, 2, "ln(io/it)", "transmission", (0, 1.0),
                                         _ln(1, 2), _ln(2, 3), False),
    "larch/beamlines/APS12BM_2019.dat": ({}, 1, "flatot/i0", "fluorescence", (0, 1000.0),
                                         _ratio(10, 3), None, True),
    "larch/beamlines/APS13ID_2008.dat": ({}, 1, "ln(i0/i1)", "transmission", (0, 1.0),
                                         _ln(2, 3), None, False),
    "larch/beamlines/APS20BM_2001.dat": ({}, 1, "ln(i0/i1)", "transmission", (0, 1.0),
                                         _ln(2, 3), None, False),
    "larch/beamlines/APS20ID_2018.dat": ({"columns": "mu=xmap4_aska_sum/prekb_i0"}, 1,
                                         "xmap4_aska_sum/prekb_i0", None, (0, 1.0),
                                         _ratio(8, 5), None, False),
    "larch/beamlines/APS9BM_2006.dat": ({}, 1, "lytle/i0", "fluorescence", (0, 1.0),
                                        _ratio(9, 6), None, True),
    "larch/beamlines/APS9BM_2019.dat": ({}, 2, "ln(i0_32/it_32)", "transmission", (0, 1.0),
                                        _ln(4, 5), _ln(5, 6), False),
    "larch/beamlines/CLSHXMA.dat": ({"columns": "mu=ln(detector1/detector2)"}, 1,
                                    "ln(detector1/detector2)", None, (3, 1.0), _ln(4, 5), None,
                                    False),
    "larch/beamlines/ESRF_SNBL_2013.dat": ({"columns": "mu=ln(ion1/ion2)"}, 2, "ln(ion1/ion2)",
                                           None, (15, 1000.0), _ln(7, 9), None, False),
    "larch/beamlines/FDMNES_2022_Mo2C_out.dat": ({}, 1, "xanes", None, (0, 1.0), _col(1), None,
                                                 False),
    "larch/beamlines/FDMNES_2022_Mo2C_out_conv.dat": ({}, 1, "xanes", None, (0, 1.0), _col(1),
                                                      None, False),
    "larch/beamlines/NSLS8ID_2019.dat": ({}, 2, "ln(i0/it)", "transmission", (0, 1.0),
                                         _ln(1, 3), _ln(3, 2), False),
    "larch/beamlines/NSLS_XDAC_2011.dat": ({}, 2, "ln(i0/it)", "transmission", (0, 1.0),
                                           _ln(1, 2), _ln(2, 15), False),
    "larch/beamlines/PF9A_2022.dat": ({"columns": "mu=col5/col4"}, 1, "col5/col4", None,
                                      ("angle", 0), _ratio(4, 3), None, False),
    "larch/beamlines/PFBL12C_2005.dat": ({"columns": "mu=ln(col4/col5)"}, 1, "ln(col4/col5)",
                                         None, ("angle", 0), _ln(3, 4), None, False),
    "larch/beamlines/SSRL1_2006.dat": ({}, 2, "ln(i0/i1)", "transmission", (2, 1.0),
                                       _ln(3, 4), _ln(4, 5), False),
    "larch/beamlines/SSRLmicro_2008.dat": ({}, 1, None, "fluorescence", (1, 1.0),
                                           _sum_over(5, 36, 2), None, True),
    "larch/beamlines/generic_columns_no_header.dat": ({"columns": "mu=ln(col2/col3)"}, 1,
                                                      "ln(col2/col3)", None, (0, 1.0), _ln(1, 2),
                                                      None, False),
    "larch/xafsdata/EMG003.txt": ({}, 1, "mu", None, (0, 1.0), _col(1), None, False),
    "larch/xafsdata/cu_10k.xmu": ({}, 1, "mu", None, (0, 1.0), _col(1), None, False),
    "larch/xafsdata/cu_50k.xmu": ({}, 1, "mu", None, (0, 1.0), _col(1), None, False),
    "larch/xafsdata/cu_150k.xmu": ({}, 1, "mu", None, (0, 1.0), _col(1), None, False),
    "larch/xafsdata/cu_rt01.xmu": ({}, 1, "mu", None, (0, 1.0), _col(1), None, False),
    "larch/xafsdata/fe2o3_rt1.xmu": ({}, 1, "mu", None, (0, 1.0), _col(1), None, False),
    "larch/xafsdata/mn_cpmnco3.dat": ({}, 1, "xmu_trans", "transmission", (0, 1.0), _col(1),
                                      None, False),
    "larch/xafsdata/znse_zn_xafs.001": ({}, 1, "ln(i0/i1)", "transmission", (0, 1.0),
                                        _ln(2, 3), None, False),
    "araucaria/dnd_testfile1.dat": ({"columns": "mu=col18; reference=col19"}, 2, "col18", None,
                                    (0, 1.0), _col(17), _col(18), False),
    "araucaria/dnd_testfile2.dat": ({"columns": "mu=col18; reference=col19"}, 2, "col18", None,
                                    (0, 1.0), _col(17), _col(18), False),
    "araucaria/dnd_testfile3.dat": ({"columns": "mu=col18; reference=col19"}, 2, "col18", None,
                                    (0, 1.0), _col(17), _col(18), False),
}  # fmt: skip


def _path(shared_data, relative):
    return shared_data("xas", *relative.split("/"))


def _read(path, options, warns):
    if warns:
        with pytest.warns(MetadataWarning, match="not finite"):
            return specssb.read(path, format="xas-columns", **options)
    return specssb.read(path, format="xas-columns", **options)


@pytest.mark.parametrize("relative", sorted(CASES))
def test_every_real_file_reads_and_equals_larch(relative, shared_data):
    from larch.io import read_ascii

    options, count, expression, mode, (energy_column, factor), mu_of, ref_of, warns = CASES[relative]
    path = _path(shared_data, relative)
    spectra = _read(path, options, warns)
    assert len(spectra) == count
    sample = spectra[-1] if "ESRF" in relative else spectra[0]  # Larch reads the last spec scan
    assert (sample.axis.name, sample.axis.unit, sample.signal) == ("energy", "eV", "mu")
    if expression is not None:
        assert sample.meta["mu_expression"] == expression
    assert sample.meta.get("mode") == mode
    data = read_ascii(str(path)).data
    if energy_column == "angle":  # KEK-PF: angle (deg) with D = 3.13551 A in the header
        expected_energy = HC_EV_ANGSTROM / (2 * 3.13551 * np.sin(np.radians(data[0])))
        assert sample.history[0].operation == "angle_to_energy"
    else:
        expected_energy = data[energy_column] * factor
    np.testing.assert_allclose(sample.axis.values, expected_energy, rtol=1e-13)
    np.testing.assert_allclose(sample.data, mu_of(data), rtol=1e-12)
    assert np.all(np.isfinite(sample.data))
    if ref_of is not None:
        reference = spectra[1]
        assert reference.source.block == "reference"
        np.testing.assert_allclose(reference.data, ref_of(data), rtol=1e-12)


@pytest.mark.parametrize("relative", sorted(CASES))
def test_sniffer_takes_real_files_and_xdi_keeps_its_own(relative, shared_data):
    assert sniff(_path(shared_data, relative)).name == "xas-columns"


@pytest.mark.parametrize("relative", ["larch/beamlines/APS13ID_2019.dat",
                                      "larch/beamlines/NSLS6BM_2019.dat",
                                      "larch/xafsdata/fexanes_a.001"])
def test_xdi_content_with_other_extensions_goes_to_the_xdi_reader(relative, shared_data):
    assert sniff(_path(shared_data, relative)).name == "xdi"


@pytest.mark.parametrize(
    ("relative", "mu", "e0_expected"),
    [  # EXPECTED.md section 3: Larch pre_edge() defaults on the same mu
        ("larch/xafsdata/mn_cpmnco3.dat", 0, 6541.690),
        ("larch/xafsdata/cu_10k.xmu", 0, 8977.580),
        ("larch/beamlines/APS10BM_2019.dat", 0, 6556.980),
        ("larch/beamlines/APS10BM_2019.dat", 1, 6537.611),
    ],
)
def test_larch_pre_edge_on_our_mu_gives_expected_e0(relative, mu, e0_expected, shared_data):
    from larch import Group
    from larch.xafs import pre_edge

    spectrum = specssb.read(_path(shared_data, relative), format="xas-columns")[mu]
    group = Group(energy=np.array(spectrum.axis.values), mu=np.array(spectrum.data))
    pre_edge(group)
    assert group.e0 == pytest.approx(e0_expected, abs=1e-3)


def test_metadata_from_headers(shared_data):
    [cu] = specssb.read(_path(shared_data, "larch/xafsdata/cu_rt01.xmu"))
    assert (cu.meta["element"], cu.meta["edge"]) == ("Cu", "K")
    assert cu.meta["acquired_at"].isoformat() == "2001-06-26T22:27:31+00:00"
    assert cu.raw_meta["e0_max_derivative_ev"] == pytest.approx(8980, abs=5)
    [fe2o3] = specssb.read(_path(shared_data, "larch/xafsdata/fe2o3_rt1.xmu"))
    assert "element" not in fe2o3.meta  # '#%atom: Fe2O3' is a compound: never guessed
    mrcat, _ = specssb.read(_path(shared_data, "larch/beamlines/APS10BM_2019.dat"),
                            timezone="America/Chicago")  # 'CDT' in the header
    assert mrcat.meta["acquired_at"].isoformat() == "2019-07-09T20:35:15+00:00"
    assert mrcat.meta["e0_ev"] == 6540.0
    xdac = specssb.read(_path(shared_data, "larch/beamlines/NSLS_XDAC_2011.dat"))[0]
    assert "element" not in xdac.meta  # 'Diffraction element= Si (311)' is the mono crystal
    with pytest.warns(MetadataWarning, match=r"reference ln\(i1/i2\) is not finite"):
        keV = specssb.read(_path(shared_data, "larch/beamlines/APS12BM_2019.dat"),
                           columns="mu=mu01")
    assert keV[0].axis.values[0] == pytest.approx(6339.0)
    assert keV[0].history[0].parameters["reason"] == "label"


def test_multichannel_fluorescence_is_summed_and_recorded(shared_data):
    with pytest.warns(MetadataWarning):
        [micro] = specssb.read(_path(shared_data, "larch/beamlines/SSRLmicro_2008.dat"))
    channels = micro.raw_meta["fluorescence_channels"]
    assert channels[0] == "sca1_1" and len(channels) == 32


# ------------------------------------------------------------------------------- synthetic
def _text(header: str, rows: list[list[float]]) -> str:
    return header + "".join(" ".join(f"{v:.10g}" for v in row) + "\n" for row in rows)


def _edge_rows(e0=8979.0, n=121, keV=False):
    energy = np.linspace(e0 - 60, e0 + 60, n)
    mu = 0.1 + 1.0 / (1 + np.exp(-(energy - e0) / 1.5))
    i0 = np.full(n, 1e5)
    it = i0 * np.exp(-mu)
    iref = it * np.exp(-0.5 * mu)
    scale = 1e-3 if keV else 1.0
    return [[e * scale, a, b, c] for e, a, b, c in zip(energy, i0, it, iref)], energy, mu


def test_synthetic_transmission_and_reference_recover_mu():
    rows, energy, mu = _edge_rows()
    sample, reference = parse_xas_columns(_text("# Energy  I0  It  Iref\n", rows), source=SOURCE)
    np.testing.assert_allclose(sample.data, mu, rtol=1e-7)
    np.testing.assert_allclose(reference.data, 0.5 * mu, rtol=1e-7)
    assert sample.raw_meta["e0_max_derivative_ev"] == pytest.approx(8979.0, abs=1.0)


def test_kev_by_magnitude_becomes_ev_with_a_step():
    rows, energy, _ = _edge_rows(keV=True)
    [sample, _] = parse_xas_columns(_text("# energy i0 it iref\n", rows), source=SOURCE)
    np.testing.assert_allclose(sample.axis.values, energy, rtol=1e-9)
    assert sample.history[0].parameters == {"from": "keV", "to": "eV", "factor": 1000.0,
                                            "reason": "magnitude"}


def test_e0_far_from_the_tabulated_edge_is_a_physics_warning():
    rows, _, _ = _edge_rows(e0=9100.0)  # 121 eV above Cu K
    text = _text("# Element.symbol: Cu\n# Element.edge: K\n# energy i0 it\n",
                 [r[:3] for r in rows])
    with pytest.warns(PhysicsWarning, match=r"\+121\.0 eV from the tabulated Cu K edge"):
        parse_xas_columns(text, source=SOURCE)
    rows, _, _ = _edge_rows(e0=8979.0)
    text = _text("# Element.symbol: Cu\n# Element.edge: K\n# energy i0 it\n",
                 [r[:3] for r in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [spectrum] = parse_xas_columns(text, source=SOURCE)
    assert (spectrum.meta["element"], spectrum.meta["edge"]) == ("Cu", "K")


def test_angle_needs_a_d_spacing():
    theta = np.linspace(14.0, 13.0, 20)
    rows = [[t, 1e5, 5e4] for t in theta]
    with pytest.raises(ParseError, match="no d-spacing"):
        parse_xas_columns(_text("# angle i0 it\n", rows), source=SOURCE)
    [spectrum] = parse_xas_columns(_text("# angle i0 it\n", rows), source=SOURCE,
                                   d_spacing_angstrom=3.13551)
    assert spectrum.axis.values[0] == pytest.approx(
        HC_EV_ANGSTROM / (2 * 3.13551 * np.sin(np.radians(14.0))))


def test_columns_option_energy_and_mu():
    rows = [[1.0, 7000 + k, 100.0, 50.0 + k] for k in range(5)]
    [s] = parse_xas_columns(_text("# clock mono_e i0 ifl\n", rows), source=SOURCE,
                            columns="energy=mono_e; mu=ifl/i0")
    assert s.axis.values.tolist() == [7000, 7001, 7002, 7003, 7004]
    assert s.data.tolist() == [0.5, 0.51, 0.52, 0.53, 0.54]


@pytest.mark.parametrize(
    ("columns", "error", "says"),
    [
        ("mu=__import__('os').system('echo')", ConfigError, "unexpected character"),
        ("mu=i0.__class__", ConfigError, "unexpected character '.'"),
        ("mu=ifluor/i0", ConfigError, "'ifluor', which the file does not have"),
        ("mu=ln(i0-i0)", ParseError, "not finite"),
        ("energy=i0", ParseError, "not monotonic"),
    ],
)
def test_bad_columns_option(columns, error, says):
    rows, _, _ = _edge_rows()
    rows[5][1] = 2e5  # i0 not monotonic
    with pytest.raises(error, match=says):
        parse_xas_columns(_text("# energy i0 it iref\n", rows), source=SOURCE, columns=columns)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no table of numbers"),
        ("# energy i0 it\n", "no table of numbers"),
        ("# energy i0 it\n8970 1 2\n", "no table of numbers"),
        ("# energy i0 it\n8970 1 2\n8980 1 2\n8990 1 2\n9000 1\n", "line 5: expected 3 values"),
        ("# energy i0 it\n8970 1 2\n8980 1 2 3\n8990 1 2\n9000 1 2\n", "expected 3 values"),
        ("# energy i0 it\n8970 1 2\n8960 1 2\n8990 1 2\n", "line 3: energy is not monotonic"),
        ("# energy i0 it\n8970 1 2\nnan 1 2\n8990 1 2\n", "not a finite number.*|line 3"),
        ("# energy\n8970\n8980\n", "one value per row"),
    ],
)
def test_bad_input_raises_parse_error(text, says, recwarn):
    with pytest.raises(ParseError, match=says):
        parse_xas_columns(text, source=SOURCE)


def test_no_roles_gives_intensity_spectra_with_a_warning():
    rows = [[7000 + k, 3.0 + k, 4.0] for k in range(4)]
    with pytest.warns(MetadataWarning, match="intensity"):
        spectra = parse_xas_columns(_text("# energy alpha beta\n", rows), source=SOURCE)
    assert [s.source.block for s in spectra] == ["energy", "alpha", "beta"]
    assert {s.signal for s in spectra} == {"intensity"}


def test_sniffer_is_conservative():
    assert sniff_xas_columns(None, b"# energy i0 it\n1 2 3\n")
    assert sniff_xas_columns(None, b"; Epics Scan 1 dimensional scan\n")
    assert not sniff_xas_columns(None, b"# XDI/1.0\n# energy i0 it\n1 2 3\n")
    assert not sniff_xas_columns(None, b"BE/eV,Intensity\n284.5,100\n")
    assert not sniff_xas_columns(None, b"# Raman shift  intensity\n100 5\n")
