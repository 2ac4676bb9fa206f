"""PHI MultiPak ``.spe`` reader: three instrument generations, the vendor's own CSV export as an
oracle, synthetic files built in memory, and damaged inputs."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers import get_format, sniff
from specssb.parsers.xps_phi_spe import parse_phi_spe, read_phi_spe
from specssb.spectrum import Source

_spec = importlib.util.spec_from_file_location(
    "_phi_synthetic", Path(__file__).with_name("_phi_synthetic.py"))
synthetic = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(synthetic)

SOURCE = Source(path="synthetic.spe", sha256="0" * 64, format="phi-spe")
UTC = dt.timezone.utc


def _parse(phi_file, **options):
    return parse_phi_spe(phi_file.to_bytes(), source=SOURCE, **options)


# ------------------------------------------------------------------------------ real files
REAL = {
    # file: (regions, points, (first, last) binding energy per region)
    ("nims-mdac", "XPS_PHI_QUANTERA_narrow.spe"): (
        ["Cu 2p", "Cu LMM", "O 1s", "C 1s"], [501, 801, 201, 201],
        [(974.0, 924.0), (620.0, 540.0), (543.0, 523.0), (298.0, 278.0)]),
    ("nims-mdac", "XPS_PHI_QUANTERA_survey.spe"): (["Survey"], [2801], [(1380.0, -20.0)]),
    ("pynxtools-xps", "SnO2_10nm.spe"): (["Survey"], [1751], [(1400.0, 0.0)]),
    ("yadg", "test0.spe"): (["Survey", "F 1s"], [3401, 161], [(1355.0, -5.0), (695.0, 675.0)]),
}


@pytest.mark.shared_data
@pytest.mark.parametrize("parts", list(REAL), ids=lambda p: p[-1])
def test_real_files(shared_data, parts):
    regions, points, energies = REAL[parts]
    path = shared_data("xps", *parts)
    assert sniff(path).name == "phi-spe"
    spectra = specssb.read(path)
    assert [s.meta["region"] for s in spectra] == regions
    assert [s.axis.size for s in spectra] == points
    for spectrum, (first, last) in zip(spectra, energies):
        assert spectrum.axis.name == "binding_energy" and spectrum.axis.unit == "eV"
        assert spectrum.axis.values[0] == pytest.approx(first, abs=1e-9)
        assert spectrum.axis.values[-1] == pytest.approx(last, abs=1e-9)
        assert np.all(np.diff(spectrum.axis.values) < 0)  # recorded from high to low BE
        assert spectrum.signal == "cps" and spectrum.signal_unit == "counts/s"
        assert spectrum.meta["excitation_energy_ev"] == 1486.6
        assert spectrum.history == ()  # stored in binding energy: nothing converted
    assert len({s.source.block for s in spectra}) == len(spectra)


def _half_up(value: float) -> str:
    """Four decimals, ties away from zero, as the vendor export prints them."""
    return str(Decimal(float(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["narrow", "survey"])
def test_reproduces_the_vendor_csv_digit_for_digit(shared_data, name):
    """The ULVAC-PHI MPExport -> M-DaC CSV is the stored float32 c/s printed with 4 decimals.

    Every energy and intensity of every region agrees in all printed digits (the numbers
    themselves differ by at most 5e-5 c/s, the CSV's rounding)."""
    spectra = specssb.read(shared_data("xps", "nims-mdac", f"XPS_PHI_QUANTERA_{name}.spe"))
    text = shared_data("xps", "nims-mdac", f"XPS_PHI_QUANTERA_{name}.csv").read_text()
    assert "#y,Intensity,cps" in text and "#x,Binding Energy,eV,reverse" in text
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    legend = next(line for line in text.splitlines() if line.startswith("#legend"))
    assert len(legend.split(",")) - 1 == len(spectra)
    compared = 0
    for k, spectrum in enumerate(spectra):
        column = [(row[2 * k], row[2 * k + 1]) for row in rows if row[2 * k]]
        assert len(column) == spectrum.axis.size
        printed = [(_half_up(e), _half_up(i)) for e, i in zip(spectrum.axis.values, spectrum.data)]
        assert printed == column, spectrum.meta["region"]
        exported = [float(i) for _, i in column]
        np.testing.assert_allclose(spectrum.data, exported, rtol=0, atol=5.001e-5)
        compared += len(column)
    assert compared == {"narrow": 501 + 801 + 201 + 201, "survey": 2801}[name]


@pytest.mark.shared_data
def test_quantera_metadata(shared_data):
    cu2p, cu_lmm, o1s, c1s = specssb.read(
        shared_data("xps", "nims-mdac", "XPS_PHI_QUANTERA_narrow.spe"))
    assert (cu2p.meta["element"], cu2p.meta["transition"]) == ("Cu", "2p")
    assert (cu_lmm.meta["element"], cu_lmm.meta["transition"]) == ("Cu", "LMM")
    assert cu2p.meta["pass_energy_ev"] == 55.0 and cu2p.meta["dwell_time_s"] == 0.431136
    assert cu2p.meta["n_scans"] == 2 and o1s.meta["n_scans"] == 5  # SpectralRegDef2 sweeps
    assert cu2p.meta["instrument"] == "PHI Quantera SXM" and cu2p.meta["sample"] == "#3 Cu foil"
    assert cu2p.meta["acquired_at"] == dt.datetime(2017, 6, 6, tzinfo=UTC)
    assert cu2p.raw_meta["intensity_calibration_coefficients"] == (14.371, 0.143)
    assert cu2p.raw_meta["IntensityCalCoeff"] == "14.371 0.143"
    assert len(cu2p.raw_meta["SpectralRegDefFull"]) == 10  # repeated keys kept as lists
    assert c1s.raw_meta["region name"] == "C1s" and c1s.raw_meta["data type"] == "<f4"
    # Cu 2p3/2 of a Cu foil: the strongest point lies at 932.6 ± 0.5 eV (ISO 15472: 932.62).
    assert cu2p.axis.values[np.argmax(cu2p.data)] == pytest.approx(932.6, abs=0.5)


@pytest.mark.shared_data
def test_compass_quantum_2000_file(shared_data):
    """Compass V6.4: LF line ends, ' 2021 10 5' date with a leading space, float64 data."""
    path = shared_data("xps", "yadg", "test0.spe")
    raw = path.read_bytes()
    assert raw.startswith(b"SOFH\nPlatform") and b"FileDate:  2021 10 5" in raw
    survey, f1s = read_phi_spe(path)
    assert survey.meta["acquired_at"] == dt.datetime(2021, 10, 5, tzinfo=UTC)
    assert survey.raw_meta["data type"] == "<f8"
    # values are counts / dwell time: multiples of 1 / 0.08 s and 1 / 0.16 s
    assert survey.data[:3].tolist() == [13712.5, 14000.0, 13675.0]
    assert f1s.data[0] == 1793.75 and f1s.data[-1] == 1181.25
    np.testing.assert_allclose(f1s.data * 0.16, np.round(f1s.data * 0.16), atol=1e-9)
    assert f1s.meta["dwell_time_s"] == 0.16 and f1s.meta["pass_energy_ev"] == 29.35
    assert "n_scans" not in f1s.meta  # Compass writes no SpectralRegDef2
    # F 1s (uncorrected charge: two maxima near 685 and 681 eV) also shows in the survey
    assert 680.0 < f1s.axis.values[np.argmax(f1s.data)] < 687.0
    window = (survey.axis.values > 680.0) & (survey.axis.values < 687.0)
    assert survey.data[window].mean() > 1.5 * survey.data[survey.axis.values < 675.0][:20].mean()


@pytest.mark.shared_data
def test_versaprobe_file(shared_data):
    (survey,) = specssb.read(shared_data("xps", "pynxtools-xps", "SnO2_10nm.spe"))
    assert survey.meta["sample"] == "SnO2_10nm" and survey.meta["instrument"] == "VersaProbe 4"
    assert survey.meta["dwell_time_s"] == 0.12 and survey.meta["pass_energy_ev"] == 224.0
    assert survey.data[0] == pytest.approx(54866.668, rel=1e-7)
    assert survey.data[-1] == pytest.approx(191.66667, rel=1e-7)
    # Sn 3d5/2 dominates an SnO2 survey: maximum near 485-487 eV (uncorrected charge)
    assert 484.0 < survey.axis.values[np.argmax(survey.data)] < 488.0


@pytest.mark.shared_data
def test_kinetic_energy_option(shared_data):
    path = shared_data("xps", "nims-mdac", "XPS_PHI_QUANTERA_narrow.spe")
    binding = specssb.read(path)[0]
    kinetic = specssb.read(path, energy="kinetic")[0]
    assert kinetic.axis.name == "kinetic_energy"
    np.testing.assert_allclose(kinetic.axis.values, 1486.6 - binding.axis.values, atol=1e-9)
    assert kinetic.history[0].operation == "binding_to_kinetic_energy"
    assert kinetic.meta["work_function_ev"] == 0.0
    shifted = specssb.read(path, energy="kinetic", subtract_work_function=True)[0]
    np.testing.assert_allclose(shifted.axis.values, kinetic.axis.values - 4.25, atol=1e-9)
    np.testing.assert_array_equal(kinetic.data, binding.data)


# ------------------------------------------------------------------------------ synthetic
def test_synthetic_round_trip_float32_and_float64():
    region = synthetic.s2p_region()
    for dtype in ("f4", "f8"):
        for eol in (b"\r\n", b"\n"):
            phi_file = synthetic.PhiFile([region, synthetic.Region(
                "Cu LMM", 29, 620.0, -0.5, np.full((1, 11), 7.25))], dtype=dtype, eol=eol)
            s2p, lmm = _parse(phi_file)
            np.testing.assert_allclose(s2p.data, region.values[0].astype(dtype), rtol=0)
            assert s2p.axis.values[0] == 170.0 and s2p.axis.values[-1] == pytest.approx(160.0)
            assert (s2p.meta["region"], s2p.meta["element"], s2p.meta["transition"]) == \
                ("S 2p", "S", "2p")
            assert lmm.meta["region"] == "Cu LMM" and lmm.axis.size == 11  # name with a space
            assert s2p.meta["n_scans"] == 4 and s2p.meta["sample"] == "cathode side"
            # doublet recovered: maximum at the 2p3/2 position
            assert s2p.axis.values[np.argmax(s2p.data)] == pytest.approx(162.0)


def test_several_analysis_areas_give_an_area_dimension():
    phi_file = synthetic.PhiFile([synthetic.s2p_region(n_slow=3)])
    (spectrum,) = _parse(phi_file)
    assert spectrum.shape == (3, 101) and spectrum.dims == ("area",)
    assert spectrum.coords["area"].values.tolist() == [1, 2, 3]


def test_time_zone_option_places_the_date_in_utc():
    (spectrum,) = _parse(synthetic.PhiFile([synthetic.s2p_region()], date="2017 6 6"),
                         timezone="Asia/Tokyo")
    assert spectrum.meta["acquired_at"] == dt.datetime(2017, 6, 5, 15, tzinfo=UTC)
    with pytest.raises(ConfigError, match="time zone"):
        _parse(synthetic.PhiFile([synthetic.s2p_region()]), timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="energy"):
        _parse(synthetic.PhiFile([synthetic.s2p_region()]), energy="photon")


def test_unreadable_date_warns_and_reading_goes_on():
    with pytest.warns(MetadataWarning, match="acquisition date"):
        (spectrum,) = _parse(synthetic.PhiFile([synthetic.s2p_region()], date="2024 13 40"))
    assert "acquired_at" not in spectrum.meta and spectrum.axis.size == 101


def test_sniffer_claims_phi_spectra_only(tmp_path):
    info = get_format("phi-spe")
    phi_spe = synthetic.PhiFile([synthetic.s2p_region()]).to_bytes()
    assert info.matches_content(tmp_path / "a.spe", phi_spe[:4096])
    # A Princeton Instruments WinView/LightField .spe: a 4100-byte binary header, no SOFH
    princeton = bytearray(4100)
    princeton[108:110] = (3).to_bytes(2, "little")  # datatype
    princeton[42:44] = (1340).to_bytes(2, "little")  # xdim
    assert not info.matches_content(tmp_path / "b.spe", bytes(princeton))
    depth_profile = synthetic.PhiFile([synthetic.s2p_region()], file_type="DEPTHPRO").to_bytes()
    assert not info.matches_content(tmp_path / "c.spe", depth_profile[:4096])


# ------------------------------------------------------------------------------ bad input
def _damaged(transform) -> bytes:
    return transform(synthetic.PhiFile([synthetic.s2p_region()]).to_bytes())


@pytest.mark.parametrize(("transform", "message"), [
    (lambda b: b"\x00" * 4100, "expected 'SOFH'"),
    (lambda b: b[:200], "no 'EOFH'"),
    (lambda b: b.replace(b"NoSpectralReg: 1", b"NoSpectralReg: 2"), "is 2 but the header holds 1"),
    (lambda b: b.replace(b"NoSpectralReg: 1", b"NoSpectralReg: one"), "not an integer"),
    (lambda b: b.replace(b" 101 -0.1000", b" 102 -0.1000"), "102 points"),
    (lambda b: b.replace(b" 101 -0.1000", b" 101 0.0000"), "no energy axis"),
    (lambda b: b.replace(b"f4\x00\x00", b"i2\x00\x00"), "value type 'i2'"),
    (lambda b: b[:b.index(b"EOFH") + 6 + 40], "ends inside"),
    (lambda b: b[:-10], "truncated"),
    (lambda b: b.replace(b"FileType: SPECTRUM", b"FileType: DEPTHPRO"), "phi-pro"),
], ids=["princeton", "no-eofh", "count", "count-text", "points", "zero-step", "dtype",
        "directory", "data", "depth-profile"])
def test_bad_input_raises_parse_error(transform, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_phi_spe(_damaged(transform), source=SOURCE)
    assert info.value.path == "synthetic.spe" and info.value.position


def test_all_nan_region_is_refused():
    region = synthetic.s2p_region()
    region.values = np.full_like(region.values, np.nan)
    with pytest.raises(ParseError, match="no finite value"):
        _parse(synthetic.PhiFile([region]))


def test_read_names_the_file(tmp_path):
    path = tmp_path / "broken.spe"
    path.write_bytes(_damaged(lambda b: b[:-10]))
    with pytest.raises(ParseError, match="broken.spe"):
        specssb.read(path)
