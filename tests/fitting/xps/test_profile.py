"""Species fractions along a depth profile and across cycles."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Coord, Source, Spectrum
from specssb.errors import ConfigError
from specssb.fitting.engine import fit
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.recipe import Recipe
from specssb.fitting.xps.profile import plot_profile, species_profile

GL = get_lineshape("gl")
RECIPE = Recipe.from_text("""
name = "test-s2p-profile"
technique = "xps"
[background]
kind = "shirley"
[[component]]
species = "ps4"
shape = "gl"
height = {value = "guess", min = 0}
center = {value = 161.7, min = 161.2, max = 162.2}
fwhm = {value = 1.1, min = 0.6, max = 2.0}
m = 30
doublet = {split = 1.18, ratio = 0.5}
[[component]]
species = "li2s"
shape = "gl"
height = {value = "guess", min = 0}
center = {value = 160.2, min = 159.7, max = 160.7}
fwhm = {tie = "ps4"}
m = 30
doublet = {split = 1.18, ratio = 0.5}
""")
BE = np.linspace(168.0, 156.0, 300)


def s2p(li2s_share: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """S 2p spectra whose Li2S share of the total peak area is ``li2s_share``."""
    total = 4000.0
    out = []
    for share in li2s_share:
        y = 250.0 + np.zeros_like(BE)
        for center, height in ((161.7, total * (1 - share)), (160.2, total * share)):
            y = y + GL.evaluate(BE, height, center, 1.0, 30.0) + GL.evaluate(BE, height / 2, center + 1.18, 1.0, 30.0)
        out.append(rng.poisson(y).astype(float))
    return np.array(out)


def test_a_depth_profile_gives_fractions_against_sputter_time(tmp_path):
    rng = np.random.default_rng(3)
    share = np.linspace(0.6, 0.05, 8)  # Li2S at the surface, PS4 in the bulk
    times = np.arange(8) * 30.0
    profile_spectrum = Spectrum(
        axis=Axis("binding_energy", "eV", BE), data=s2p(share, rng), technique="xps",
        signal="counts", dims=("level",), meta={"region": "S 2p"},
        coords={"sputter_time_s": Coord("level", times, "s")},
        source=Source("profile.pro", "0" * 64, "phi-pro", block="S2p"),
    )
    table = fit(profile_spectrum, RECIPE)
    profile = species_profile(table, [profile_spectrum], along="sputter_time_s")
    li2s = profile[profile["species"] == "li2s"]
    np.testing.assert_allclose(li2s["sputter_time_s"], times)
    assert (li2s["unit"] == "s").all()
    np.testing.assert_allclose(li2s["fraction"], share, atol=0.02)  # equal widths: area share
    assert (li2s["fraction_stderr"] > 0).all() and (li2s["fraction_stderr"] < 0.02).all()
    both = profile.groupby("spectrum")["fraction"].sum()
    np.testing.assert_allclose(both, 1.0, atol=1e-9)  # doublet partners summed into species
    figure = plot_profile(table, profile, along="sputter_time_s", title="S 2p depth profile")
    figure.savefig(tmp_path / "profile.png")
    assert (tmp_path / "profile.png").stat().st_size > 10_000


def test_a_series_of_files_gives_fractions_against_cycle():
    rng = np.random.default_rng(4)
    spectra = []
    for k, cycle in enumerate((0, 10, 50)):
        spectra.append(Spectrum(
            axis=Axis("binding_energy", "eV", BE), data=s2p(np.array([0.1 + 0.2 * k]), rng)[0],
            technique="xps", signal="counts", meta={"region": "S 2p", "cycle": cycle},
            source=Source(f"cycle{cycle}.vms", "0" * 64, "vamas", block="S 2p"),
        ))
    table = fit(spectra, RECIPE)
    profile = species_profile(table, spectra, along="cycle")
    li2s = profile[profile["species"] == "li2s"]
    assert list(li2s["cycle"]) == [0, 10, 50]
    np.testing.assert_allclose(li2s["fraction"], [0.1, 0.3, 0.5], atol=0.02)
    with pytest.raises(ConfigError, match="potential_v"):
        species_profile(table, spectra, along="potential_v")
