"""Energy alignment: known shifts of real foils, and the NiO.prj reference channels vs Athena."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import specssb
from specssb import Axis, Spectrum, stack
from specssb.errors import ConfigError
from specssb.fitting.xas.align import align, align_to_reference_channel, find_shift, shift_energy

SHIFTS = [0.5, 1.0, 3.0, 5.0, 8.0, -0.5, -1.0, -3.0, -5.0, -8.0]
# Athena's stored bkg.eshift of d_Ref_NiO_nnn minus that of d_Ref_NiO_000 (EXPECTED.md §5)
ATHENA_NIO = {"001": 3.659, "002": 4.174, "003": 4.422, "004": 4.624, "006": 4.754,
              "007": 5.170, "008": 5.302, "009": 5.377, "010": 5.333}


def xas(energy, mu, **kw) -> Spectrum:
    return Spectrum(axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal="mu",
                    **kw)


def moved(spectrum: Spectrum, delta: float) -> Spectrum:
    """The spectrum with every feature moved up by ``delta`` eV, re-interpolated (cubic spline)
    onto the original grid points it still covers."""
    e = spectrum.axis.values
    keep = (e >= e[0] + max(delta, 0.0)) & (e <= e[-1] + min(delta, 0.0))
    return xas(e[keep], CubicSpline(e + delta, spectrum.data)(e[keep]))


def nio_groups(shared_data):
    from larch.io import read_athena

    project = read_athena(str(shared_data("xas", "larch", "athena", "NiO.prj")),
                          do_preedge=False, do_bkg=False, do_fft=False)
    return project.groups


@pytest.fixture
def references(shared_data):
    groups = nio_groups(shared_data)
    out = {name: specssb.read(shared_data("xas", "xdi", "data", f"{name}.xdi"))[0]
           for name in ("cu_metal_rt", "fe_metal_rt")}
    for key in ("000", "004", "010"):
        g = groups[f"d_Ref_NiO_{key}"]
        out[f"d_Ref_NiO_{key}"] = xas(g.energy, g.mu)
    return out


@pytest.mark.parametrize("name", ["cu_metal_rt", "fe_metal_rt", "d_Ref_NiO_000",
                                  "d_Ref_NiO_004", "d_Ref_NiO_010"])
def test_known_shifts_of_real_references_are_recovered(references, name):
    reference = references[name]
    for delta in SHIFTS:
        result = align(moved(reference, delta), reference)
        assert result.shift_ev == pytest.approx(-delta, abs=0.05), delta
        assert result.coarse_shift_ev == pytest.approx(-delta, abs=0.1)
        assert 0 < result.stderr_ev < 0.02
        # the returned spectrum sits on the reference's energies again
        np.testing.assert_allclose(result.spectrum.axis.values,
                                   moved(reference, delta).axis.values + result.shift_ev)
        step = result.spectrum.history[-1]
        assert step.operation == "energy_shift" and step.parameters["array"] == "norm"
        assert step.parameters["shift_ev"] == result.shift_ev


def test_nio_reference_channels_match_athena(shared_data):
    groups = nio_groups(shared_data)
    standard = xas(groups["d_Ref_NiO_000"].energy, groups["d_Ref_NiO_000"].mu)
    for key, athena in ATHENA_NIO.items():
        g = groups[f"d_Ref_NiO_{key}"]
        result = align(xas(g.energy, g.mu), standard)
        assert result.shift_ev == pytest.approx(athena, abs=0.07), key


def test_nio_data_tied_to_reference_channel_and_stacked(shared_data):
    groups = nio_groups(shared_data)
    standard = xas(groups["d_Ref_NiO_000"].energy, groups["d_Ref_NiO_000"].mu)
    keys = ["002", "007", "010"]
    energy = groups["NiO_002"].energy
    data = stack([xas(energy, np.interp(energy, groups[f"NiO_{k}"].energy, groups[f"NiO_{k}"].mu))
                  for k in keys])
    refs = stack([xas(energy, np.interp(energy, groups[f"d_Ref_NiO_{k}"].energy,
                                        groups[f"d_Ref_NiO_{k}"].mu)) for k in keys])
    tied = align_to_reference_channel(data, refs, standard)
    np.testing.assert_allclose(tied.shift_ev, [ATHENA_NIO[k] for k in keys], atol=0.07)
    assert tied.data.shape[0] == 3 and tied.data.axis == tied.reference.axis
    assert tied.data.history[-1].parameters["tied_to"] == "reference channel"
    # one scan: the data axis moves by exactly the reference-channel shift, data untouched
    g, r = groups["NiO_007"], groups["d_Ref_NiO_007"]
    single = align_to_reference_channel(xas(g.energy, g.mu), xas(r.energy, r.mu), standard)
    np.testing.assert_allclose(single.data.axis.values, g.energy + single.shift_ev)
    np.testing.assert_array_equal(single.data.data, g.mu)


def test_synthetic_edge_shift_of_twelve_ev_and_errors():
    e = np.arange(8800.0, 9300.0, 0.5)
    rng = np.random.default_rng(1)

    def edge(center):
        white_line = 0.1 * np.exp(-(((e - center - 8.0) / 3.0) ** 2))
        return 0.5 + np.arctan((e - center) / 1.5) / np.pi + white_line

    result = find_shift(e, edge(8992.0) + rng.normal(0, 1e-3, e.size), e, edge(8980.0), 8980.0)
    assert result["shift_ev"] == pytest.approx(-12.0, abs=0.02)
    assert result["stderr_ev"] < 0.01
    s = xas(e, edge(8980.0))
    with pytest.raises(ConfigError, match="array"):
        align(s, s, array="dmude")
    with pytest.raises(ConfigError, match="single spectrum"):
        align(s, stack([s, s]))
    two = shift_energy(stack([s, s]), np.array([1.0, -1.0]))
    assert two.axis.values[0] == e[0] + 1.0 and two.axis.values[-1] == e[-1] - 1.0
