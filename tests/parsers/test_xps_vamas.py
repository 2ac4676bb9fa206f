"""ISO 14976 VAMAS reader: real files from four vendors, a CasaXPS oracle, synthetic edge cases,
damaged copies, and a round trip through the sample-data writer."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers.xps_vamas import parse_vamas, read_vamas
from specssb.spectrum import Source

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "vamas_writer", REPO / "sample_data" / "writers" / "vamas.py")
writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(writer)

SOURCE = Source(path="synthetic.vms", sha256="0" * 64, format="vamas")
UTC = dt.timezone.utc


def _block(region="S 2p", element="S", transition="2p", n=51, **changes):
    block = {
        "region": region, "element": element, "transition": transition, "sample": "cell01",
        "acquired_at": dt.datetime(2026, 3, 2, 8, 5, 0, tzinfo=UTC),
        "excitation_energy_ev": 1486.6, "source_label": "Al Ka mono", "analyser_mode": "FAT",
        "pass_energy_ev": 20.0, "work_function_ev": 4.5, "kinetic_energy_start_ev": 1316.6,
        "step_ev": 0.1, "counts": np.arange(n, dtype=float) * 3.0 + 800.0,
        "dwell_time_s": 0.1, "n_scans": 10, "comment": "cycle 0\nCASA region (*S 2p*) (*Shirley*)",
    }
    block.update(changes)
    return block


def _written(tmp_path: Path, blocks=None, **options) -> Path:
    path = tmp_path / "sample.vms"
    blocks = blocks or [_block(), _block("C 1s", "C", "1s", n=31)]
    return writer.write_vamas(path, blocks, **options)


def _lines(tmp_path: Path) -> list[str]:
    return _written(tmp_path).read_bytes().decode("latin-1").split("\r\n")


def _parse(lines: list[str], **options):
    return parse_vamas("\r\n".join(lines), source=SOURCE, **options)


# ------------------------------------------------------------------------------ real files
_TI = [(500.2, 446.2) if i in (3, 6, 11) else (500.0, 446.0) for i in range(12)]
REAL = {
    # file: (regions, points per block, (first, last) binding energy per block, signal)
    ("pynxtools-xps", "regular.vms"): (["Survey"], [1351], [(1350.0, 0.0)], "counts"),
    ("pynxtools-xps", "irregular.vms"): (["Survey"], [1351], [(1350.0, 0.0)], "cps"),
    ("pynxtools-xps", "FeO_analyzed.vms"): (["Fe 2p"], [1121], [(750.0, 694.0)], "counts"),
    ("lg4x", "0-150W.vms"): (
        ["wide", "Ni 2p", "O 1s", "C 1s", "W 4f"], [1206, 601, 251, 301, 251],
        [(1200.0, -5.0), (900.0, 840.0), (545.0, 520.0), (300.0, 270.0), (50.0, 25.0)], "counts"),
    ("lg4x", "Mutlipak_vms.npl"): (
        ["C 1s", "O 1s", "S 2p", "N 1s", "Mo 3d"], [601, 601, 501, 401, 401],
        [(305.0, 275.0), (555.0, 525.0), (180.0, 155.0), (410.0, 390.0), (240.0, 220.0)], "cps"),
    ("xpsdeeplearning", "Ti_references_irregular.vms"): (
        ["Ti 2p"] * 4 + ["Ti 2p LS"] * 4 + ["Ti 2p fit"] * 4, [802] * 12, _TI, "counts"),
}


def _read(path: Path, **options):
    if path.name == "Mutlipak_vms.npl":  # a date but hours, minutes, seconds, GMT offset = -1
        with pytest.warns(MetadataWarning, match="no valid acquisition date"):
            return read_vamas(path, **options)
    return read_vamas(path, **options)  # CasaXPS's all-zero date means "not recorded": silent


@pytest.mark.shared_data
@pytest.mark.parametrize("parts", list(REAL), ids=lambda p: p[-1])
def test_real_files(shared_data, parts):
    regions, points, energies, signal = REAL[parts]
    spectra = _read(shared_data("xps", *parts))
    assert [s.meta["region"] for s in spectra] == regions
    assert [s.axis.size for s in spectra] == points
    assert all(s.axis.name == "binding_energy" and s.signal == signal for s in spectra)
    ends = [tuple(s.axis.values[[0, -1]]) for s in spectra]
    np.testing.assert_allclose(ends, energies, atol=1e-9)
    assert all(s.history[0].operation == "kinetic_to_binding_energy" for s in spectra
               if parts[-1] != "Mutlipak_vms.npl")
    assert len({s.source.block for s in spectra}) == len(spectra)
    dated = parts[-1] in ("regular.vms", "0-150W.vms")
    assert all(("acquired_at" in s.meta) == dated for s in spectra)


@pytest.mark.shared_data
def test_kratos_leading_blank_lines_and_experimental_variables(shared_data):
    path = shared_data("xps", "lg4x", "0-150W.vms")
    assert path.read_bytes().startswith(b"\r\n\r\n")
    wide, ni, o1s, c1s, w4f = specssb.read(path)
    assert wide.meta["acquired_at"] == dt.datetime(2020, 8, 27, 7, 5, 46, tzinfo=UTC)  # 14:05:46 +7
    assert wide.raw_meta["experimental variables"][1] == {
        "label": "PositionX [mm]", "unit": "n", "value": 21.19525}
    assert len(wide.raw_meta["experimental variables"]) == 4
    assert (c1s.meta["element"], c1s.meta["transition"], c1s.meta["n_scans"]) == ("C", "1s", 10)
    assert c1s.meta["pass_energy_ev"] == 20.0 and c1s.meta["excitation_energy_ev"] == 1486.69
    assert wide.meta["source_label"] == "Al (mono)" and "element" not in wide.meta
    assert w4f.data[-1] == 107.0 and wide.data[:3].tolist() == [2106, 2115, 2073]
    assert wide.raw_meta["corresponding_variables"]["Transmission"][0] == 58.598017086263
    assert "Charge Neutraliser : On" in wide.raw_meta["comment"]


@pytest.mark.shared_data
def test_phi_multipak_nul_labels_binding_abscissa(shared_data):
    path = shared_data("xps", "lg4x", "Mutlipak_vms.npl")
    assert b"1s\x00" in path.read_bytes()
    with pytest.warns(MetadataWarning):
        spectra = specssb.read(path)  # sniffed by magic despite the .npl extension
    c1s, s2p = spectra[0], spectra[2]
    assert c1s.meta["transition"] == "1s" and c1s.raw_meta["species label"] == "C"
    assert "acquired_at" not in c1s.meta and c1s.history == ()  # BE abscissa kept as is
    assert c1s.signal == "cps" and c1s.signal_unit == "counts/s"
    assert c1s.axis.values[1] - c1s.axis.values[0] == pytest.approx(-0.05)
    assert s2p.data[:3].tolist() == [528.75, 542.5, 515.0] and spectra[-1].data[-1] == 537.5
    assert c1s.meta["pass_energy_ev"] == 46.95 and c1s.meta["dwell_time_s"] == 0.4
    assert "IntensityCalCoeff: 180.254000 0.348000" in c1s.raw_meta["comment"]
    with pytest.warns(MetadataWarning):
        kinetic = read_vamas(path, energy="kinetic")[0]
    assert kinetic.axis.name == "kinetic_energy" and kinetic.axis.values[0] == pytest.approx(1181.6)
    assert kinetic.history[0].parameters["formula"] == "KE = hv - BE - phi"


@pytest.mark.shared_data
def test_regular_and_irregular_hold_the_same_survey(shared_data):
    """irregular.vms is the same survey in counts per second (dwell 0.1 s) with explicit KE."""
    regular = _read(shared_data("xps", "pynxtools-xps", "regular.vms"))[0]
    irregular = _read(shared_data("xps", "pynxtools-xps", "irregular.vms"))[0]
    np.testing.assert_allclose(irregular.axis.values, regular.axis.values, atol=1e-9)
    assert regular.meta["dwell_time_s"] == 0.1
    np.testing.assert_allclose(irregular.data, regular.data / 0.1, rtol=1e-5)
    np.testing.assert_allclose(irregular.raw_meta["corresponding_variables"]["transmission"],
                               regular.raw_meta["corresponding_variables"]["Transmission"],
                               rtol=1e-5)
    assert regular.meta["acquired_at"] == dt.datetime(2023, 8, 24, 14, 19, 47, tzinfo=UTC)
    assert regular.raw_meta["analyser work function or acceptance energy of atom or ion"] == 4.1082


@pytest.mark.shared_data
def test_binding_energy_agrees_with_prodigy_xy_export(shared_data):
    """Prodigy's own BE export: BE = hv - KE although the VAMAS work-function field says 4.1 eV."""
    regular = _read(shared_data("xps", "pynxtools-xps", "regular.vms"))[0]
    text = shared_data("xps", "pynxtools-xps", "MgFe2O4_small.xy").read_text("latin-1")
    first = text.split("# Cycle: 0, Curve: 0, Scan: 0")[1].split("\n\n")[0]
    rows = np.array([line.split() for line in first.splitlines()
                     if line.strip() and not line.startswith("#")], dtype=float)
    assert rows.shape == (1351, 2)
    np.testing.assert_allclose(regular.axis.values, rows[:, 0], atol=1e-9)
    np.testing.assert_allclose(regular.data / regular.meta["dwell_time_s"], rows[:, 1], rtol=1e-5)
    path = shared_data("xps", "pynxtools-xps", "regular.vms")
    shifted = read_vamas(path, subtract_work_function=True)
    assert shifted[0].axis.values[0] == pytest.approx(1350.0 - 4.1082)


@pytest.mark.shared_data
def test_feo_binding_energy_matches_casaxps_export(shared_data):
    spectrum = _read(shared_data("xps", "pynxtools-xps", "FeO_analyzed.vms"))[0]
    kinetic = _read(shared_data("xps", "pynxtools-xps", "FeO_analyzed.vms"), energy="kinetic")[0]
    path = shared_data("xps", "pynxtools-xps", "FeO_analyzed_lineshapes_cols.txt")
    table = np.array([line.split("\t") for line in path.read_text("latin-1").splitlines()[8:]])
    ke, counts, be, cps = (table[:, i].astype(float) for i in (0, 1, 9, 10))
    np.testing.assert_allclose(spectrum.axis.values, be, atol=1e-6)  # Casa's BE column
    np.testing.assert_allclose(kinetic.axis.values, ke, atol=1e-6)
    np.testing.assert_allclose(spectrum.data, counts, rtol=1e-6)
    np.testing.assert_allclose(spectrum.data / spectrum.meta["dwell_time_s"], cps, rtol=1e-6)
    step = spectrum.history[0].parameters
    assert dict(step) == {"excitation_energy_ev": 1486.61, "work_function_ev": 0.0,
                          "formula": "BE = hv - KE - phi"}
    # PROVENANCE: the first component's position 777.56313 KE is 709.05 eV BE.
    assert 1486.61 - 777.56313 - step["work_function_ev"] == pytest.approx(709.05, abs=0.005)
    comment = spectrum.raw_meta["comment"].split("\n")
    assert len(comment) == 17 and comment[0] == "Casa Info Follows"
    assert comment[6].startswith("CASA region (*Fe 2p*) (*U 3 Tougaard*) 737.52081 786.7632 16.42")
    assert sum(line.startswith("CASA comp") for line in comment) == 4
    assert spectrum.meta["element"] == "Fe" and spectrum.meta["sample"] == "FeO"


@pytest.mark.shared_data
def test_ti_references_irregular_spliced_axis(shared_data):
    spectra = _read(shared_data("xps", "xpsdeeplearning", "Ti_references_irregular.vms"))
    assert len(spectra) == 12
    assert [s.meta["sample"] for s in spectra[:4]] == ["Ti metal", "TiO", "Ti2O3", "TiO2"]
    assert spectra[0].meta["analyser_angle_deg"] == 56.5  # CasaXPS SourceAnalyserAngle comment
    assert spectra[0].data[0] == 1380.79 and spectra[3].axis.values[0] == pytest.approx(500.2)
    assert spectra[0].source.block == "Ti2p [block 1]" and spectra[4].source.block == "&TiO"


# --------------------------------------------------------------------------- writer round trip
def test_writer_round_trip(tmp_path):
    blocks = [_block(), _block("C 1s", "C", "1s", n=31, comment="")]
    path = _written(tmp_path, blocks, comment_lines=("specssb sample",))
    data = path.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") and data.endswith(b"end of experiment\r\n")
    (tmp_path / "again").mkdir()
    again = _written(tmp_path / "again", blocks, comment_lines=("specssb sample",))
    assert again.read_bytes() == data
    spectra = read_vamas(path)
    kinetic = read_vamas(path, energy="kinetic")
    for spectrum, ke, block in zip(spectra, kinetic, blocks):
        channels = np.arange(block["counts"].size)
        expected_ke = block["kinetic_energy_start_ev"] + block["step_ev"] * channels
        np.testing.assert_allclose(ke.axis.values, expected_ke, rtol=0, atol=1e-9)
        np.testing.assert_allclose(spectrum.axis.values, 1486.6 - expected_ke, atol=1e-9)
        np.testing.assert_array_equal(spectrum.data, block["counts"])
        for key in ("region", "element", "transition", "sample", "acquired_at",
                    "excitation_energy_ev", "source_label", "analyser_mode", "pass_energy_ev",
                    "dwell_time_s", "n_scans"):
            assert spectrum.meta[key] == block[key], key
        assert spectrum.raw_meta["comment"] == block["comment"]
        work_function = "analyser work function or acceptance energy of atom or ion"
        assert spectrum.raw_meta[work_function] == 4.5
    assert spectra[0].raw_meta["file comment"] == "specssb sample"
    assert spectra[0].meta["region"] == "S 2p" and spectra[0].axis.values[0] == pytest.approx(170.0)


def test_writer_rejects_naive_time(tmp_path):
    with pytest.raises(ValueError, match="timezone-aware"):
        _written(tmp_path, [_block(acquired_at=dt.datetime(2026, 1, 1))])


# ------------------------------------------------------------------------- synthetic layouts
def test_leading_blank_lines_lf_and_nul_labels(tmp_path):
    lines = _lines(tmp_path)
    lines[lines.index("2p")] = "2p\x00"
    spectra = parse_vamas("\n\n" + "\n".join(lines), source=SOURCE)
    assert spectra[0].meta["transition"] == "2p" and spectra[0].meta["region"] == "S 2p"


def test_exclusion_list_takes_parameters_from_first_block(tmp_path):
    lines = _lines(tmp_path)
    header_end = lines.index("NORM") + 4  # regions, exp. variables, inclusion list
    assert lines[header_end] == "0"
    lines[header_end:header_end + 1] = ["-2", "21", "22"]  # analyser mode, pass energy
    second = [i for i, line in enumerate(lines) if line == "FAT"][1]
    del lines[second:second + 2]
    first, second = _parse(lines)
    assert second.meta["analyser_mode"] == "FAT" and second.meta["pass_energy_ev"] == 20.0
    assert second.raw_meta["parameter inclusion or exclusion list"] == {
        "kind": "exclusion", "prefix numbers": [21, 22]}


def test_future_upgrade_entries(tmp_path):
    lines = _lines(tmp_path)
    at = lines.index("NORM") + 6
    assert lines[at:at + 2] == ["0", "0"]
    lines[at:at + 2] = ["1", "2", "experiment entry"]
    for index in reversed([i for i, line in enumerate(lines) if line in ("51", "31")]):
        lines[index:index] = ["future a", "future b"]  # before the number of ordinate values
    spectra = _parse(lines)
    assert spectra[1].raw_meta["future upgrade block entries"] == ["future a", "future b"]
    assert spectra[0].raw_meta["future upgrade experiment entries"] == ["experiment entry"]


def test_depth_profile_mode_sdp(tmp_path):
    """SDP adds sputtering-ion fields after the source label and 7 sputter-source fields."""
    lines = _lines(tmp_path)
    lines[lines.index("NORM")] = "SDP"
    for index in reversed([i for i, line in enumerate(lines) if line == "Al Ka mono"]):
        lines[index + 1:index + 1] = ["18", "1", "+1"]
    for index in reversed([i for i, line in enumerate(lines) if line == "pulse counting"]):
        lines[index + 4:index + 4] = ["3000", "1E-6", "1000", "1000", "45", "0", "continuous"]
    spectra = _parse(lines)
    assert spectra[1].raw_meta["sputtering source energy"] == 3000
    assert spectra[1].raw_meta["sputtering mode"] == "continuous"
    assert spectra[1].meta["n_scans"] == 10 and spectra[1].data[0] == 800.0


def test_unknown_modes_and_options(tmp_path):
    lines = _lines(tmp_path)
    with pytest.raises(ConfigError, match="energy"):
        _parse(lines, energy="photon")
    lines[lines.index("REGULAR")] = "MAPPING"
    with pytest.raises(ParseError, match="MAPPING"):
        _parse(lines)


def test_invalid_date_warns_and_is_omitted(tmp_path):
    lines = _lines(tmp_path)
    lines[lines.index("2026") + 1] = "13"  # month 13
    with pytest.warns(MetadataWarning, match="acquired_at omitted"):
        spectra = _parse(lines)
    assert "acquired_at" not in spectra[0].meta and "acquired_at" in spectra[1].meta


def test_count_mismatch_names_the_line(tmp_path):
    lines = _lines(tmp_path)
    count = lines.index("51")
    lines[count] = "52"  # one value more than present: the C 1s block header is read as data
    with pytest.raises(ParseError, match=r"line \d+: .*expected ordinate value 52 of 52"):
        _parse(lines)
    lines[count] = "50"  # one fewer: a stray value before the next block
    with pytest.raises(ParseError):
        _parse(lines)
    lines = _lines(tmp_path)
    lines[lines.index("31")] = "30"  # last block: extra value before the terminator
    with pytest.raises(ParseError, match="end of experiment"):
        _parse(lines)


def test_absurd_counts_fail_before_allocating(tmp_path):
    for target in ("51", "1"):  # ordinate values; corresponding variables
        lines = _lines(tmp_path)
        lines[lines.index(target)] = "1000000000000"
        with pytest.raises(ParseError, match="1000000000000"):
            _parse(lines)


def test_bad_number_in_data(tmp_path):
    lines = _lines(tmp_path)
    bad = lines.index("51") + 10
    lines[bad] = "12x"
    with pytest.raises(ParseError, match=rf"line {bad + 1}: .*'12x'"):
        _parse(lines)


# --------------------------------------------------------------------------- damaged files
def test_truncated_copies_raise(tmp_path):
    data = _written(tmp_path).read_bytes()
    target = tmp_path / "cut.vms"
    offsets = sorted({*range(0, len(data) - 2, max(1, len(data) // 97)), len(data) - 3,
                      *(m.end() for m in re.finditer(rb"\r\n", data[:-20]))})
    for offset in offsets:
        target.write_bytes(data[:offset])
        with pytest.raises(ParseError, match=r"cut\.vms line \d+: "):
            read_vamas(target)  # the reader itself, not the registry's safety net


@pytest.mark.shared_data
def test_truncated_real_file_raises(shared_data, tmp_path):
    data = shared_data("xps", "lg4x", "0-150W.vms").read_bytes()
    target = tmp_path / "cut.vms"
    for fraction in np.linspace(0.0, 0.999, 23):
        target.write_bytes(data[: int(fraction * len(data))])
        with pytest.raises(ParseError):
            read_vamas(target)


def test_garbage_raises(tmp_path):
    rng = np.random.default_rng(7)
    garbage = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    for name, content in [("random.vms", garbage), ("random.npl", garbage),
                          ("magic.vms", writer.FORMAT_IDENTIFIER.encode() + b"\r\n" + garbage),
                          ("empty.vms", b"\r\n\r\n")]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ParseError):
            read_vamas(path)
        with pytest.raises(ParseError):
            specssb.read(path)


def test_registration():
    info = specssb.parsers.get_format("vamas")
    assert info.technique == "xps" and info.extensions == (".vms", ".npl")
    assert info.magic == (b"VAMAS Surface Chemical Analysis Standard",)
    assert set(info.options) == {"encoding", "energy", "subtract_work_function"}


def test_overflowing_axis_and_missing_work_function(tmp_path):
    lines = _lines(tmp_path)
    start = lines.index("1316.6")
    lines[start:start + 2] = ["1e308", "1e308"]
    with pytest.raises(ParseError, match="energy axis"):
        _parse(lines)
    lines = _lines(tmp_path)
    lines[lines.index("4.5")] = "1E+37"  # ISO null: no analyser work function in block 1
    with pytest.warns(MetadataWarning, match="phi = 0"):
        spectra = _parse(lines, subtract_work_function=True)
    assert spectra[0].axis.values[0] == pytest.approx(170.0)
    assert spectra[1].axis.values[0] == pytest.approx(170.0 - 4.5)
    assert spectra[1].meta["work_function_ev"] == 4.5
