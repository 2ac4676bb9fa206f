"""PHI MultiPak ``.pro`` depth-profile reader: the VersaProbe 4 SnO2 profile checked against
MultiPak's own stored peak areas, synthetic profiles, and damaged inputs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb.errors import ParseError
from specssb.parsers import get_format, sniff
from specssb.parsers.xps_phi_pro import parse_phi_pro
from specssb.spectrum import Source

_spec = importlib.util.spec_from_file_location(
    "_phi_synthetic", Path(__file__).with_name("_phi_synthetic.py"))
synthetic = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(synthetic)

SOURCE = Source(path="synthetic.pro", sha256="0" * 64, format="phi-pro")


def _profile(n_levels: int = 5, regions=None, times=True, areas=True, **options):
    regions = regions or [synthetic.s2p_region(n_slow=n_levels),
                          synthetic.Region("Li1s", 3, 60.0, -0.2, np.full((n_levels, 51), 40.0))]
    tables = []
    if times:
        tables.append(synthetic.Table("s", np.tile(np.arange(n_levels) * 60.0, (len(regions), 1))))
    if areas:
        tables.append(synthetic.Table("c/s * eV",
                                      np.arange(len(regions) * n_levels).reshape(len(regions), -1)))
    return synthetic.PhiFile(regions, file_type="DEPTHPRO", tables=tables,
                             extra=[f"NoDPDataCyc: {n_levels}"], slow_label="cyc", **options)


# ------------------------------------------------------------------------------ real file
@pytest.fixture
def sno2_profile(shared_data):
    path = shared_data("xps", "pynxtools-xps", "SnO2_10nm_1.pro")
    return path, specssb.read(path)


@pytest.mark.shared_data
def test_real_profile_structure(sno2_profile):
    path, spectra = sno2_profile
    assert sniff(path).name == "phi-pro"
    assert [s.meta["region"] for s in spectra] == ["Survey", "C 1s", "Si 2p", "Sn 3d5"]
    assert [s.shape for s in spectra] == [(21, 1751), (21, 101), (21, 101), (21, 101)]
    ends = [tuple(s.axis.values[[0, -1]]) for s in spectra]
    np.testing.assert_allclose(ends, [(1400.0, 0.0), (298.0, 278.0), (114.0, 94.0),
                                      (500.0, 480.0)], atol=1e-9)
    for spectrum in spectra:
        assert spectrum.dims == ("level",) and spectrum.axis.name == "binding_energy"
        assert spectrum.signal == "cps" and spectrum.meta["excitation_energy_ev"] == 1486.6
        assert spectrum.coords["level"].values.tolist() == list(range(21))
        times = spectrum.coords["sputter_time_s"]
        assert times.unit == "s" and times.dim == "level"
        np.testing.assert_array_equal(times.values, np.arange(21) * 30.0)  # 0.5 min steps
        assert not np.signbit(times.values[0])  # the file stores -0.0
    sn = spectra[3]
    assert (sn.meta["element"], sn.meta["transition"]) == ("Sn", "3d5")
    assert sn.meta["n_scans"] == 10 and sn.meta["dwell_time_s"] == 0.8
    assert sn.raw_meta["NoDPDataCyc"] == "21" and sn.raw_meta["levels"] == 21
    assert spectra[1].data[0, :3] == pytest.approx([3325.0002, 3322.5002, 3325.0002], rel=1e-7)


@pytest.mark.shared_data
def test_real_profile_agrees_with_multipak_peak_areas(sno2_profile):
    """MultiPak's stored area of every level equals the level's spectrum integrated over a
    linear background within 3 % (Sn 3d5): the levels and regions are where the reader says."""
    _, spectra = sno2_profile
    sn = spectra[3]
    area = sn.raw_meta["profile_area_cps_ev"]
    assert area.shape == (21,) and not area.flags.writeable
    x = sn.axis.values
    background = np.linspace(sn.data[:, :5].mean(1), sn.data[:, -5:].mean(1), x.size).T
    integral = -np.trapezoid(sn.data - background, x, axis=1)
    np.testing.assert_allclose(integral, area, rtol=0.03)
    # Physics of a 10 nm SnO2 film on Si: Sn falls and Si rises with sputter time
    si = spectra[2].raw_meta["profile_area_cps_ev"]
    assert si[0] == 0.0 and si[-1] > 10_000 and area[-1] < 0.5 * area[1]
    # Sn 3d5/2 maximum stays within 1.5 eV at every level (charging drifts with depth)
    positions = x[np.argmax(sn.data, axis=1)]
    assert np.ptp(positions) <= 1.5 and 484.0 < positions.mean() < 487.0


@pytest.mark.shared_data
def test_real_profile_kinetic_axis_and_level_selection(shared_data):
    path = shared_data("xps", "pynxtools-xps", "SnO2_10nm_1.pro")
    c1s = specssb.read(path, energy="kinetic")[1]
    np.testing.assert_allclose(c1s.axis.values[[0, -1]], [1188.6, 1208.6], atol=1e-9)
    last = c1s.isel(level=20)
    assert last.shape == (101,) and last.history[-1].parameters["coords"]["sputter_time_s"] == 600


# ------------------------------------------------------------------------------ synthetic
def test_synthetic_profile_levels_and_coordinates():
    s2p, li1s = parse_phi_pro(_profile().to_bytes(), source=SOURCE)
    assert s2p.shape == (5, 101) and li1s.shape == (5, 51)
    # level k holds (k + 1) times the doublet: the layout is level-major
    peak = s2p.data[:, np.argmax(s2p.data[0])] - 1000.0
    np.testing.assert_allclose(peak / peak[0], np.arange(1, 6), rtol=1e-6)
    np.testing.assert_array_equal(s2p.coords["sputter_time_s"].values, np.arange(5) * 60.0)
    np.testing.assert_array_equal(li1s.raw_meta["profile_area_cps_ev"], [5, 6, 7, 8, 9])
    assert li1s.meta["region"] == "Li 1s" and li1s.meta["element"] == "Li"


def test_profile_without_tables_keeps_the_level_coordinate():
    (s2p, _) = parse_phi_pro(_profile(times=False, areas=False).to_bytes(), source=SOURCE)
    assert set(s2p.coords) == {"level"} and "profile_area_cps_ev" not in s2p.raw_meta


def test_sniffer_claims_depth_profiles_only(tmp_path):
    info = get_format("phi-pro")
    assert info.matches_content(tmp_path / "a.pro", _profile().to_bytes()[:4096])
    spectrum = synthetic.PhiFile([synthetic.s2p_region()]).to_bytes()
    assert not info.matches_content(tmp_path / "b.pro", spectrum[:4096])


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("data", "message"), [
    (synthetic.PhiFile([synthetic.s2p_region()]).to_bytes(), "not DEPTHPRO"),
    (_profile().to_bytes().replace(b"NoDPDataCyc: 5", b"NoDPDataCyc: 6"), "NoDPDataCyc is 6"),
    (_profile().to_bytes().replace(b"NoDPDataCyc: 5", b"NoDPDataCyc: x"), "not an integer"),
    (_profile(regions=[synthetic.s2p_region(n_slow=5),
                       synthetic.Region("Li1s", 3, 60.0, -0.2, np.ones((4, 51)))]).to_bytes(),
     "different numbers of levels"),
    (_profile().to_bytes()[:-500], "truncated"),
], ids=["spectrum", "level-count", "level-text", "ragged", "truncated"])
def test_bad_profiles_raise_parse_error(data, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_phi_pro(data, source=SOURCE)
    assert info.value.position
