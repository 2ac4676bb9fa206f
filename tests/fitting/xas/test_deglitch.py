"""Deglitching: glitches injected into real foils are found, clean foils lose nothing."""

from __future__ import annotations

import numpy as np
import pytest

import specssb
from specssb import Axis, Spectrum, stack
from specssb.errors import ConfigError
from specssb.fitting.xas.deglitch import deglitch, find_glitches, remove_energies

# (folder, file, Larch e0 from EXPECTED.md §3, Larch edge step)
FOILS = [
    (("xdi", "data", "cu_metal_rt.xdi"), 8980.5, 2.7294),
    (("xdi", "data", "fe_metal_rt.xdi"), 7111.0, 3.0023),
    (("xdi", "data", "ni_metal_rt.xdi"), 8331.5, 2.5261),
    (("larch", "xafsdata", "v_foil.xdi"), 5465.507, 2.3865),
]


def read(shared_data, parts) -> Spectrum:
    return specssb.read(shared_data("xas", *parts))[0]


@pytest.mark.parametrize(("parts", "e0", "step"), FOILS, ids=[f[0][-1] for f in FOILS])
def test_clean_foils_lose_nothing(shared_data, parts, e0, step):
    foil = read(shared_data, parts)
    assert not find_glitches(foil.axis.values, foil.data).any()
    out = deglitch(foil)
    assert out.axis == foil.axis and out.history[-1].parameters["glitch_energies_ev"] == []


def test_clean_nickel_reference_channels_lose_nothing(shared_data):
    from larch.io import read_athena

    project = read_athena(str(shared_data("xas", "larch", "athena", "NiO.prj")),
                          do_preedge=False, do_bkg=False, do_fft=False)
    for name, group in project.groups.items():
        if name.startswith("d_Ref"):
            assert not find_glitches(group.energy, group.mu).any(), name


@pytest.mark.parametrize(("parts", "e0", "step"), FOILS, ids=[f[0][-1] for f in FOILS])
def test_injected_glitches_are_found(shared_data, parts, e0, step):
    foil = read(shared_data, parts)
    energy, mu = foil.axis.values, np.array(foil.data)
    at = [int(np.argmin(np.abs(energy - (e0 + offset)))) for offset in (-60.0, 45.0, 150.0, 400.0)]
    mu[at[0]] += 0.04 * step          # pre-edge
    mu[at[1]] -= 0.05 * step          # XANES/EXAFS, downwards
    mu[at[2]:at[2] + 2] += 0.10 * step  # a two-point glitch
    mu[at[3]] += 0.03 * step          # far EXAFS
    expected = sorted([at[0], at[1], at[2], at[2] + 1, at[3]])
    glitched = foil.replace(data=mu)
    assert np.flatnonzero(find_glitches(energy, mu)).tolist() == expected
    removed = deglitch(glitched)
    step_record = removed.history[-1]
    assert step_record.operation == "deglitch" and step_record.parameters["method"] == "loo"
    assert step_record.parameters["threshold"] == 10.0
    assert step_record.parameters["glitch_energies_ev"] == pytest.approx(energy[expected].tolist())
    assert removed.axis.size == energy.size - 5
    np.testing.assert_array_equal(removed.data, np.delete(foil.data, expected))
    # interpolation keeps the grid and puts the points back near the clean values
    filled = deglitch(glitched, mode="interpolate")
    assert filled.axis == foil.axis
    assert np.max(np.abs(filled.data - foil.data)) < 0.02 * step


def test_real_glitch_in_feo_and_wallace_method(shared_data):
    feo = read(shared_data, ("xdi", "data", "feo_rt1.xdi"))
    flagged = feo.axis.values[find_glitches(feo.axis.values, feo.data)]
    np.testing.assert_allclose(flagged, [7436.3831, 7549.7434])  # two visible kinks
    wallace = find_glitches(feo.axis.values, feo.data, method="wallace")
    assert set(np.round(flagged, 4)) <= set(np.round(feo.axis.values[wallace], 4))


def test_stack_is_vectorized_and_union_removed():
    rng = np.random.default_rng(3)
    energy = np.concatenate([np.arange(8800.0, 8960.0, 5.0), np.arange(8960.0, 9010.0, 0.4),
                             8979.0 + 3.81 * np.arange(2.8, 14.0, 0.05) ** 2])
    k = np.sqrt(np.maximum(energy - 8979.0, 0.0) / 3.81)
    mu = np.arctan((energy - 8980.0) / 2.0) + 0.05 * np.sin(2.0 * k)
    rows = mu + rng.normal(0.0, 0.002, (3, energy.size))
    rows[0, 40] += 0.1
    rows[2, 200] -= 0.1
    spectra = stack([Spectrum(axis=Axis("energy", "eV", energy), data=r, technique="xas",
                              signal="mu") for r in rows])
    flags = find_glitches(energy, spectra.data)
    assert [np.flatnonzero(f).tolist() for f in flags] == [[40], [], [200]]
    for index, row in enumerate(rows):  # same answer one spectrum at a time
        assert np.array_equal(find_glitches(energy, row), flags[index])
    removed = deglitch(spectra)
    assert removed.shape == (3, energy.size - 2)
    listed = removed.history[-1].parameters["glitch_energies_ev"]
    assert listed == {0: [energy[40]], 2: [energy[200]]}
    kept = deglitch(spectra, mode="interpolate")
    assert kept.shape == spectra.shape and kept.data[1].tolist() == rows[1].tolist()


def test_explicit_energies_and_ranges():
    energy = np.arange(7000.0, 7100.0, 1.0)
    s = Spectrum(axis=Axis("energy", "eV", energy), data=np.sqrt(energy), technique="xas",
                 signal="mu")
    out = remove_energies(s, energies=[7010.2], ranges=[(7050.0, 7052.0)])
    assert out.axis.size == 96 and 7010.0 not in out.axis.values
    assert out.history[-1].parameters["glitch_energies_ev"] == [7010.0, 7050.0, 7051.0, 7052.0]
    filled = remove_energies(s, ranges=[(7050.0, 7052.0)], mode="interpolate")
    np.testing.assert_allclose(filled.data, s.data, rtol=1e-7)
    with pytest.raises(ConfigError, match="no grid point within 0.5 eV of 6990.0"):
        remove_energies(s, energies=[6990.0])
    with pytest.raises(ConfigError, match="unknown deglitch method"):
        deglitch(s, method="median")
    with pytest.raises(ConfigError, match="unknown mode"):
        deglitch(s, mode="drop")
