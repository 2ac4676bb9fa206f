"""Spinning sidebands tied to the MAS rate: recipe expansion, recovery on a synthetic 7Li MAS
spectrum, batched engine against lmfit."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Spectrum
from specssb.errors import ConfigError
from specssb.fitting.engine import fit
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.nmr.sidebands import expand_sidebands, manifold_areas, sideband_offset_ppm
from specssb.fitting.recipe import Recipe

MAS_HZ, SF_MHZ = 10_000.0, 155.5  # 7Li at 9.4 T
SPACING = MAS_HZ / SF_MHZ  # 64.309 ppm
VOIGT = get_lineshape("pseudo_voigt")
# site -> centre height, shift (ppm), fwhm (ppm), eta, sideband heights relative to the centre
SITES = {
    "li2s": (1000.0, 2.30, 1.1, 0.4, {1: 0.30, -1: 0.35, 2: 0.06, -2: 0.08}),
    "argyrodite": (700.0, 1.20, 1.6, 0.4, {1: 0.20, -1: 0.22, 2: 0.03, -2: 0.04}),
}


def centre_recipe() -> Recipe:
    components = []
    for name, (_, shift, _, _, _) in SITES.items():
        components.append({
            "species": name, "shape": "pseudo_voigt",
            "height": {"value": "guess", "min": 0.0},
            "center": {"value": shift + 0.2, "min": shift - 0.6, "max": shift + 0.6},
            "fwhm": {"value": 1.3, "min": 0.3, "max": 4.0},
            "eta": {"value": 0.5, "min": 0.0, "max": 1.0},
        })
    return Recipe.from_dict({"name": "li-mas", "technique": "nmr", "component": components})


def synthetic_mas(seed: int = 3, noise: float = 2.0) -> tuple[Spectrum, dict[str, float]]:
    """Two 7Li sites with ±2 orders of sidebands, pseudo-Voigt lines, white noise; true areas."""
    x = np.linspace(160.0, -160.0, 4096)
    y = np.zeros_like(x)
    areas = {}
    for name, (height, shift, fwhm, eta, sidebands) in SITES.items():
        total = 0.0
        for order, ratio in {0: 1.0, **sidebands}.items():
            y += VOIGT.evaluate(x, height * ratio, shift + order * SPACING, fwhm, eta)
            total += float(VOIGT.area(height * ratio, shift, fwhm, eta))
        areas[name] = total
    y += np.random.default_rng(seed).normal(0.0, noise, x.size)
    spectrum = Spectrum(Axis("chemical_shift", "ppm", x), y, technique="nmr", signal="intensity",
                        meta={"nucleus": "7Li", "sf_mhz": SF_MHZ, "mas_rate_hz": MAS_HZ})
    return spectrum, areas


def test_offset_is_rate_over_frequency():
    assert sideband_offset_ppm(-2, mas_rate_hz=MAS_HZ, sf_mhz=SF_MHZ) == pytest.approx(-128.6174, abs=1e-4)


def test_expansion_ties_centres_by_offsets_and_widths_equal():
    recipe = expand_sidebands(centre_recipe(), mas_rate_hz=MAS_HZ, sf_mhz=SF_MHZ, orders=2)
    specs = {s.name: s for s in recipe.parameter_specs()}
    assert len(recipe.components()) == 2 * 5
    for order, name in ((1, "li2s_ssbp1"), (-2, "argyrodite_ssbm2")):
        centre = name.split("_ssb")[0]
        assert specs[f"{name}_center"].tie.source == f"{centre}_center"
        assert specs[f"{name}_center"].tie.offset == pytest.approx(order * SPACING)
        assert specs[f"{name}_fwhm"].tie.source == f"{centre}_fwhm"
        assert specs[f"{name}_eta"].tie.factor == 1.0
        assert specs[f"{name}_height"].vary and specs[f"{name}_height"].tie is None
    assert "MAS 10000 Hz, SF 155.5 MHz" in recipe.description
    assert recipe.hash != centre_recipe().hash


def test_height_ratio_and_window():
    recipe = expand_sidebands(centre_recipe(), mas_rate_hz=MAS_HZ, sf_mhz=SF_MHZ, orders=2,
                              species=["li2s"], height_ratio={1: 0.3, -1: 0.3, 2: 0.1, -2: 0.1},
                              window=(-100.0, 100.0))
    names = [c.name for c in recipe.components()]
    assert names == ["li2s", "li2s_ssbp1", "li2s_ssbm1", "argyrodite"]  # ±2 at ±128 ppm are outside
    tie = next(s for s in recipe.parameter_specs() if s.name == "li2s_ssbp1_height").tie
    assert (tie.source, tie.factor) == ("li2s_height", 0.3)


@pytest.mark.parametrize("bad", [dict(orders=0), dict(orders=[1, 0]), dict(species=["li3ps4"]),
                                 dict(mas_rate_hz=-1.0), dict(height_ratio={1: 0.2})])
def test_bad_options(bad):
    options = {"mas_rate_hz": MAS_HZ, "sf_mhz": SF_MHZ, "orders": 2} | bad
    with pytest.raises(ConfigError):
        expand_sidebands(centre_recipe(), **options)


def test_recovers_shifts_and_manifold_areas_and_engines_agree():
    spectrum, true_areas = synthetic_mas()
    recipe = expand_sidebands(centre_recipe(), mas_rate_hz=spectrum.meta["mas_rate_hz"],
                              sf_mhz=spectrum.meta["sf_mhz"], orders=2)
    batched = fit(spectrum, recipe, engine="batched")
    reference = fit(spectrum, recipe, engine="lmfit")
    assert batched.frame["converged"].all() and reference.frame["converged"].all()
    centres = batched.values("center").iloc[0]
    for name, (_, shift, _, _, _) in SITES.items():
        assert centres[name] == pytest.approx(shift, abs=0.01)
        assert centres[f"{name}_ssbm1"] == pytest.approx(centres[name] - SPACING, abs=1e-9)
    totals = manifold_areas(batched).frame.set_index(["species", "quantity"])
    for name, area in true_areas.items():
        row = totals.loc[(name, "manifold_area")]
        assert row["value"] == pytest.approx(area, rel=0.01)
        assert abs(row["value"] - area) < 4 * row["stderr"]
    share = true_areas["li2s"] / sum(true_areas.values())
    assert totals.loc[("li2s", "manifold_fraction"), "value"] == pytest.approx(share, abs=0.005)
    # both engines: same parameters to 1e-5 relative (DESIGN §5)
    a = batched.frame.set_index(["species", "quantity"])["value"]
    b = reference.frame.set_index(["species", "quantity"])["value"]
    np.testing.assert_allclose(a.to_numpy(), b.loc[a.index].to_numpy(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(manifold_areas(reference).frame["value"],
                               manifold_areas(batched).frame["value"], rtol=1e-5)


def test_centre_only_fit_misses_the_sideband_intensity():
    """Without sidebands the centre-band area misses ~40 % of li2s's intensity: why this exists."""
    spectrum, true_areas = synthetic_mas()
    narrow = Recipe.from_dict({**centre_recipe().to_dict(), "select": {"window": [-20.0, 20.0]}})
    areas = fit(spectrum, narrow).values("area").iloc[0]
    assert areas["li2s"] < 0.75 * true_areas["li2s"]
