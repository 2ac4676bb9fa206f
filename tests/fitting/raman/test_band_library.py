"""The Raman band table (specssb/library/raman_bands.toml), its overlap check, and the built-in
Raman recipes that name their components after it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from specssb.cli import app
from specssb.errors import ConfigError, PhysicsWarning
from specssb.fitting.raman.bands import fit_band_maps, integrate_bands
from specssb.fitting.recipe import Recipe, load_recipe
from specssb.library.raman_bands import band, bands, bands_in, check_overlaps, load_bands
from specssb.spectrum import Axis, Spectrum

RAMAN_RECIPES = ("raman-argyrodite-interphase", "raman-lco-soc", "raman-ps4-band")


def test_table_holds_every_species_the_issue_asks_for():
    names = {b.name for b in bands()}
    assert {"ps4", "p2s7", "p2s6", "li2s", "s8", "polysulfide", "p2s5", "lco_eg", "lco_a1g",
            "nmc_eg", "nmc_a1g", "li2co3", "llzo_cubic", "llzo_tetragonal", "li2o", "graphite_d",
            "graphite_g", "si"} <= names
    assert all(b.source and b.range_cm1[0] <= b.range_cm1[1] for b in bands())


def test_positions_are_the_cited_values():
    # notes/raman.md section 1 and 2: the bold default centres
    expected = {"ps4": (418, 430), "li2s": (370, 378), "p2s7": (403, 412), "p2s6": (383, 392),
                "lco_eg": (480, 490), "lco_a1g": (585, 600), "li2co3": (1085, 1095),
                "li2o": (519, 527), "graphite_g": (1570, 1605)}
    for name, (low, high) in expected.items():
        assert low <= band(name).position_cm1 <= high, name
    assert band("si").position_cm1 == 520.7
    # the PS4(3-) stretch lies above P2S7(4-), above P2S6(4-), above Li2S
    order = [band(n).position_cm1 for n in ("li2s", "p2s6", "p2s7", "ps4")]
    assert order == sorted(order)
    assert [b.name for b in bands_in(515.0, 525.0)] == ["si", "li2o"]


def test_unknown_band_names_the_close_ones():
    with pytest.raises(ConfigError, match="lco_a1g"):
        band("lco_alg")


def test_bad_table_names_file_line_and_key(tmp_path):
    bad = tmp_path / "bands.toml"
    bad.write_text('[[band]]\nname = "x"\nspecies = "X"\nmaterial = "m"\nmode = "m"\n'
                   'position_cm1 = 700.0\nrange_cm1 = [400.0, 450.0]\nsource = "s"\nverified = true\n')
    with pytest.raises(ConfigError, match="position_cm1 700.0 lies outside") as error:
        load_bands(bad)
    assert error.value.line is not None and "bands.toml" in str(error.value)
    bad.write_text(bad.read_text().replace("700.0", "420.0") + 'overlaps = ["nothing"]\n')
    with pytest.raises(ConfigError, match="unknown band 'nothing'"):
        load_bands(bad)


def test_li2o_near_si_warns_and_far_from_it_does_not():
    with pytest.warns(PhysicsWarning, match="Li2O .* crystalline Si"):
        check_overlaps({"li2o": (515.0, 530.0)})
    with pytest.warns(PhysicsWarning, match="c-Si"):
        check_overlaps({"si": (518.0, 525.0)})
    assert check_overlaps({"li2o": (522.0, 530.0), "ps4": (380.0, 600.0), "unknown": (0, 1e4)}) == []


def _si_li2o_map() -> Spectrum:
    x = np.linspace(480.0, 560.0, 321)
    centers = np.array([[520.7, 523.0]])
    data = 10.0 + 500.0 / (1 + ((x - centers[..., None]) / 2.0) ** 2)
    return Spectrum(axis=Axis("raman_shift", "cm-1", x), data=data, technique="raman",
                    signal="counts", dims=("y", "x"))


def test_band_maps_with_li2o_near_520_warn():
    recipe = Recipe.from_text(
        'name = "li2o"\ntechnique = "raman"\n[select]\nwindow = [490.0, 550.0]\n'
        '[background]\nkind = "linear"\nfitted = true\n'
        '[[component]]\nspecies = "li2o"\nshape = "lorentzian"\nheight = {value = "guess", min = 0.0}\n'
        'center = {value = 523.0, min = 515.0, max = 530.0}\nfwhm = {value = 4.0, min = 1.0, max = 20.0}\n')
    with pytest.warns(PhysicsWarning, match="li2o"):
        maps = fit_band_maps(_si_li2o_map(), recipe)
    # the warning is the point: the fit itself happily puts a "Li2O" band on pure Si
    assert maps["li2o", "center"].values[0, 0] == pytest.approx(520.7, abs=0.01)
    with pytest.warns(PhysicsWarning, match="li2o"):
        integrate_bands(_si_li2o_map(), {"li2o": (510.0, 535.0)})


@pytest.mark.parametrize("name", RAMAN_RECIPES)
def test_raman_recipes_bound_their_centres_around_the_table(name):
    recipe = load_recipe(name)
    assert recipe.technique == "raman"
    table = {b.name: b for b in bands()}
    for spec in recipe.parameter_specs():
        if spec.parameter != "center" or spec.tie is not None:
            continue
        entry = table[spec.component]  # every component is named after a band of the table
        low, high = entry.range_cm1
        assert spec.min <= entry.reference_cm1 <= spec.max, spec.name
        assert spec.min <= high and spec.max >= low, spec.name  # bounds meet the cited range
        assert math.isfinite(spec.min) and math.isfinite(spec.max)


def test_recipes_command_lists_the_raman_recipes():
    result = CliRunner().invoke(app, ["recipes", "--json"])
    assert result.exit_code == 0
    listed = result.output
    for name in RAMAN_RECIPES:
        assert name in listed
