"""Recipes: TOML syntax, expansion to engine-ready tables, errors with line and key, built-ins."""

from __future__ import annotations

import pickle
from importlib import resources

import numpy as np
import pytest

from specssb.errors import ConfigError
from specssb.fitting.lineshapes import LINESHAPES, get_lineshape
from specssb.fitting.recipe import (
    ComponentSpec,
    ParameterSpec,
    Recipe,
    Tie,
    list_recipes,
    load_recipe,
)
from specssb.spectrum import Axis, Source, Spectrum

# Line numbers below refer to this text (line 12 is the 'center' of ps4).
BASE = """\
name = "s2p-test"
description = "S 2p test recipe"
technique = "xps"

[background]
kind = "shirley"

[[component]]
species = "ps4"
shape = "gl"
height = {value = 3000, min = 0}
center = {value = 161.7, min = 161.2, max = 162.2}
fwhm = {value = 1.0, min = 0.5, max = 2.0}
m = 30
doublet = {split = 1.18, ratio = 0.5, partner = "ps4_2p12"}

[[component]]
species = "li2s"
shape = "gl"
height = {value = "guess", min = 0}
center = {tie = "ps4", offset = -1.5}
fwhm = {tie = "ps4.fwhm", factor = 1.2}
m = {tie = "ps4"}
doublet = {split = 1.18, ratio = 0.5}
"""

BUILTINS = sorted(
    f.name.removesuffix(".toml")
    for f in (resources.files("specssb.library") / "recipes").iterdir()
    if f.name.endswith(".toml")
)


def specs_by_name(recipe: Recipe) -> dict[str, ParameterSpec]:
    return {spec.name: spec for spec in recipe.parameter_specs()}


# ---------------------------------------------------------------------- expansion
def test_doublets_and_ties_expand_to_exact_parameter_specs():
    specs = specs_by_name(Recipe.from_text(BASE))
    assert specs["ps4_center"] == ParameterSpec(
        "ps4_center", "ps4", "center", 161.7, 161.2, 162.2, True, None
    )
    assert specs["ps4_m"] == ParameterSpec("ps4_m", "ps4", "m", 30.0, -np.inf, np.inf, False)
    # 2p1/2 partner: higher binding energy by the split, half the area, same width.
    assert specs["ps4_2p12_center"].tie == Tie("ps4_center", 1.0, 1.18)
    assert specs["ps4_2p12_center"].value == pytest.approx(162.88, abs=1e-12)
    assert specs["ps4_2p12_height"].tie == Tie("ps4_height", 0.5, 0.0)
    assert specs["ps4_2p12_height"].value == 1500.0
    assert specs["ps4_2p12_fwhm"].tie == Tie("ps4_fwhm", 1.0, 0.0)
    assert specs["ps4_2p12_m"].tie == Tie("ps4_m", 1.0, 0.0)
    # User ties, kept as written; starting values follow the chain.
    assert specs["li2s_center"].tie == Tie("ps4_center", 1.0, -1.5)
    assert specs["li2s_center"].value == pytest.approx(160.2, abs=1e-12)
    assert specs["li2s_fwhm"].tie == Tie("ps4_fwhm", 1.2, 0.0)
    assert specs["li2s_b_fwhm"].tie == Tie("li2s_fwhm", 1.0, 0.0)
    assert specs["li2s_b_fwhm"].value == pytest.approx(1.2)
    # A guessed height stays None, also through ties; tied parameters are not free.
    assert specs["li2s_height"].value is None and specs["li2s_height"].vary
    assert specs["li2s_b_height"].value is None
    assert all(not s.vary and s.min == -np.inf and s.max == np.inf
               for s in specs.values() if s.tie is not None)


def test_components_and_parameter_order():
    recipe = Recipe.from_text(BASE)
    assert recipe.components() == [
        ComponentSpec("ps4", "ps4", "gl", None),
        ComponentSpec("ps4_2p12", "ps4", "gl", "ps4"),
        ComponentSpec("li2s", "li2s", "gl", None),
        ComponentSpec("li2s_b", "li2s", "gl", "li2s"),  # default partner name
    ]
    names = [s.name for s in recipe.parameter_specs()]
    assert names[:8] == [
        "ps4_height", "ps4_center", "ps4_fwhm", "ps4_m",
        "ps4_2p12_height", "ps4_2p12_center", "ps4_2p12_fwhm", "ps4_2p12_m",
    ]
    assert len(names) == 16


def test_width_ratio_keeps_the_area_ratio():
    """A d-level doublet with a broader partner (Coster–Kronig): area ratio 2/3 exactly."""
    text = BASE.replace(
        'doublet = {split = 1.18, ratio = 0.5, partner = "ps4_2p12"}',
        "doublet = {split = 2.4, ratio = 0.6667, width_ratio = 1.25}",
    )
    specs = specs_by_name(Recipe.from_text(text))
    assert specs["ps4_b_height"].tie == Tie("ps4_height", 0.6667 / 1.25, 0.0)
    assert specs["ps4_b_fwhm"].tie == Tie("ps4_fwhm", 1.25, 0.0)
    shape = get_lineshape("gl")
    x = np.linspace(100.0, 220.0, 120_001)

    def area(name: str) -> float:
        values = [specs[f"{name}_{p}"].value for p in shape.parameters]
        return float(np.trapezoid(shape.evaluate(x, *values), x))

    assert area("ps4_b") / area("ps4") == pytest.approx(0.6667, rel=1e-3)


@pytest.mark.parametrize("shape_name", sorted(LINESHAPES))
def test_every_line_shape_takes_a_doublet(shape_name):
    shape = get_lineshape(shape_name)
    own = "\n".join(
        f"{p} = {{value = {d[0]!r}, min = {d[1]!r}, max = {d[2]!r}}}"
        for p, d in shape.shape_defaults.items()
        if p in shape.parameters
    )
    text = f"""technique = "xps"
[[component]]
species = "a"
shape = "{shape_name}"
height = {{value = 10.0, min = 0.0}}
center = 5.0
fwhm = {{value = 1.0, min = 0.1}}
{own}
doublet = {{split = 1.0, ratio = 0.5}}
"""
    recipe = Recipe.from_text(text, path="a.toml")
    specs = specs_by_name(recipe)
    assert [s.parameter for s in recipe.parameter_specs()] == list(shape.parameters) * 2
    assert all(specs[f"a_b_{p}"].tie.source == f"a_{p}" for p in shape.parameters)


# ---------------------------------------------------------------------- round trip and hash
FULL = BASE.replace(
    '[background]\nkind = "shirley"',
    '[select]\nregion = "S 2p"\nwindow = [157.0, 168.0]\n\n'
    '[calibrate]\nreference = "C 1s"\nvalue = 284.8\nlimits = {low = 280, high = 290}\n\n'
    '[background]\nkind = "shirley"\nfitted = true',
) + '\n[steps]\nquantify = {rsf = [1.11, 0.789], note = "Scofield \\"Al Ka\\""}\n'


@pytest.mark.parametrize("text", [BASE, FULL])
def test_round_trip_through_toml(text):
    recipe = Recipe.from_text(text)
    again = Recipe.from_text(recipe.to_toml())
    assert again == recipe
    assert again.hash == recipe.hash
    assert again.to_dict() == recipe.to_dict()
    assert Recipe.from_dict(recipe.to_dict()) == recipe
    assert pickle.loads(pickle.dumps(recipe)) == recipe  # recipes travel to worker processes


def test_hash_is_stable_and_follows_content():
    recipe = Recipe.from_text(BASE)
    assert len(recipe.hash) == 64 and int(recipe.hash, 16) >= 0
    assert Recipe.from_text(BASE).hash == recipe.hash
    # Same content, other spelling: comments, key order, long form of a fixed value.
    respelled = BASE.replace("m = 30\n", "m = {vary = false, value = 30.0}  # GL(30)\n")
    respelled = respelled.replace('name = "s2p-test"\ndescription = "S 2p test recipe"',
                                  'description = "S 2p test recipe"\nname = "s2p-test"')
    assert Recipe.from_text(respelled).hash == recipe.hash
    # Registry names are case-insensitive and stored in the registry's spelling.
    shouting = BASE.replace('shape = "gl"', 'shape = "GL"').replace('"shirley"', '"Shirley"')
    assert Recipe.from_text(shouting).hash == recipe.hash
    for changed in (BASE.replace("161.7", "161.8"), BASE.replace("split = 1.18, ratio = 0.5}",
                                                                 "split = 1.16, ratio = 0.5}")):
        assert Recipe.from_text(changed).hash != recipe.hash


# ---------------------------------------------------------------------- errors
def _swap(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


ERRORS = {
    "typo": (_swap("center = {value = 161.7", "centre = {value = 161.7"), 12, "centre",
             "did you mean 'center'"),
    "typo_in_inline_table": (_swap("max = 162.2}", "mx = 162.2}"), 12, "mx", "did you mean 'max'"),
    "typo_top_level": (_swap("description =", "descripton ="), 2, "descripton",
                       "did you mean 'description'"),
    "typo_in_doublet": (_swap("ratio = 0.5, partner", "ration = 0.5, partner"), 15, "ration",
                        "did you mean 'ratio'"),
    "wrong_type": (_swap("m = 30", 'm = "thirty"'), 14, "m", "got 'thirty'"),
    "wrong_type_inside": (_swap("fwhm = {value = 1.0", 'fwhm = {value = "1.0"'), 13, "value",
                          'expected a number or "guess"'),
    "min_above_max": (_swap("min = 0.5, max = 2.0", "min = 2.5, max = 2.0"), 13, "fwhm",
                      "min 2.5 is larger than max 2.0"),
    "value_outside_bounds": (_swap("161.7", "163.0"), 12, "center",
                             "value 163.0 lies outside the bounds [161.2, 162.2]"),
    "no_value": (_swap("value = 161.7, ", ""), 12, "center", "missing 'value'"),
    "guess_not_height": (_swap("value = 161.7", 'value = "guess"'), 12, "center",
                         'only height may start from "guess"'),
    "tie_with_bounds": (_swap('{tie = "ps4", offset = -1.5}', '{tie = "ps4", min = 1}'), 21,
                        "center", "takes no min"),
    "unknown_shape": (_swap('shape = "gl"', 'shape = "gll"'), 10, "shape", "gll"),
    "missing_shape_parameter": (_swap("m = 30\n", ""), 8, "m", "add m = "),
    "unknown_background": (_swap('kind = "shirley"', 'kind = "shirly"'), 6, "kind", "shirly"),
    "background_option_typo": (_swap('kind = "shirley"', 'kind = "shirley"\navrage = 2'), 7,
                               "avrage", "unknown option of background 'shirley'; did you mean"),
    "fitted_background_options": (_swap('kind = "shirley"', 'kind = "linear"\nfitted = true\n'
                                        'average = 2'), 8, "average", "takes no options"),
    "background_not_fittable": (_swap('kind = "shirley"', 'kind = "snip"\nfitted = true'), 6,
                                "kind", "cannot be optimized inside the model"),
    "unknown_technique": (_swap('"xps"', '"xsp"'), 3, "technique", "did you mean 'xps'"),
    "tie_unknown_component": (_swap('{tie = "ps4", offset', '{tie = "ps5", offset'), 21,
                              "center", "unknown component 'ps5'; did you mean 'ps4'"),
    "tie_parameter_missing": (_swap('{tie = "ps4.fwhm"', '{tie = "ps4.eta"'), 22, "fwhm",
                              "has no parameter 'eta'"),
    "tie_cycle": (_swap("center = {value = 161.7, min = 161.2, max = 162.2}",
                        'center = {tie = "li2s"}'), 12, "center",
                  "tie cycle: ps4_center -> li2s_center -> ps4_center"),
    "tie_cycle_through_partner": (_swap("center = {value = 161.7, min = 161.2, max = 162.2}",
                                        'center = {tie = "ps4_2p12"}'), 12, "center",
                                  "ps4_center -> ps4_2p12_center -> ps4_center"),
    "duplicate_species": (_swap('species = "li2s"', 'species = "ps4"'), 18, "species",
                          "already used"),
    "partner_clash": (_swap('ratio = 0.5, partner = "ps4_2p12"', 'ratio = 0.5, partner = "li2s"'),
                      15, "partner", "already used"),
    "bad_species": (_swap('species = "li2s"', 'species = "Li-2S"'), 18, "species",
                    "must start with a letter"),
    "zero_split": (_swap("split = 1.18, ratio = 0.5, partner", "split = 0, ratio = 0.5, partner"),
                   15, "doublet", "split = 0"),
    "toml_syntax": (_swap("m = 30", "m = = 30"), 14, None, "TOML syntax error"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_name_file_line_and_key(case, tmp_path):
    text, line, key, fragment = ERRORS[case]
    path = tmp_path / "s2p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Recipe.from_toml(path)
    message = str(info.value)
    assert message.startswith(f"{path} line {line}")
    assert f"line {line}" in message and fragment in message
    assert info.value.line == line and info.value.path == str(path)
    if key is not None:
        assert f"key '{key}'" in message and info.value.key == key


def test_error_lines_in_dotted_and_table_forms():
    text = BASE.replace(
        "center = {value = 161.7, min = 161.2, max = 162.2}",
        "center.value = 161.7\ncenter.mni = 161.2",
    )
    with pytest.raises(ConfigError, match=r"line 13 key 'mni': unknown key; did you mean 'min'"):
        Recipe.from_text(text, path="r.toml")
    inline = 'technique = "xps"\ncomponent = [\n  {species = "a", shape = "gl"},\n' \
             '  {species = "b", shape = "gl", hieght = 1},\n]\n'
    with pytest.raises(ConfigError, match=r"line 4 key 'hieght'.*did you mean 'height'"):
        Recipe.from_text(inline, path="r.toml")


def test_several_errors_are_all_listed_first_by_line():
    text = _swap("m = 30", 'm = "x"').replace('kind = "shirley"', "kind = 3")
    with pytest.raises(ConfigError) as info:
        Recipe.from_text(text, path="r.toml")
    assert info.value.line == 6 and info.value.key == "kind"
    assert "and 1 more" in str(info.value) and "line 14 key 'm'" in str(info.value)


def test_name_defaults_to_file_stem_but_text_needs_one(tmp_path):
    path = tmp_path / "my-s2p.toml"
    path.write_text(BASE.replace('name = "s2p-test"\n', ""), encoding="utf-8")
    assert Recipe.from_toml(path).name == "my-s2p"
    assert load_recipe(path).name == "my-s2p"
    with pytest.raises(ConfigError, match="key 'name': missing required key"):
        Recipe.from_text(BASE.replace('name = "s2p-test"\n', ""))


def test_load_recipe_names_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'xps-s2p-argyrodite'"):
        load_recipe("xps-s2p-argyrodit")
    with pytest.raises(ConfigError, match="recipe file not found"):
        load_recipe(str(tmp_path / "absent.toml"))


# ---------------------------------------------------------------------- built-ins
@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_recipe_loads_and_is_complete(name):
    recipe = load_recipe(name)
    assert recipe.name == name and recipe.description
    specs = recipe.parameter_specs()
    for spec in specs:
        if spec.tie is None and spec.value is not None:
            assert spec.min <= spec.value <= spec.max, spec.name
        if spec.value is None:
            assert spec.parameter == "height" or spec.tie is not None
    assert {c.name for c in recipe.components()} == {s.component for s in specs}
    assert Recipe.from_text(recipe.to_toml()).hash == recipe.hash


def test_builtins_encode_the_spin_orbit_physics():
    assert [r.name for r in list_recipes()] == BUILTINS
    expected = {"xps-s2p-argyrodite": 1.18, "xps-p2p-argyrodite": 0.87}
    for name, split in expected.items():
        recipe = load_recipe(name)
        partners = [c for c in recipe.components() if c.partner_of is not None]
        assert partners, name
        for partner in partners:
            specs = specs_by_name(recipe)
            assert specs[f"{partner.name}_center"].tie.offset == split  # 2p1/2 at higher BE
            assert specs[f"{partner.name}_height"].tie.factor == 0.5  # area 1 : 2
    p2p = specs_by_name(load_recipe("xps-p2p-argyrodite"))
    assert (p2p["ps4_center"].value, p2p["li3p_center"].value) == (132.0, 127.0)
    nmr = specs_by_name(load_recipe("nmr-7li-metal"))
    assert 245.0 <= nmr["li_metal_center"].value <= 270.0


def test_applies_to_matches_technique_and_select():
    recipe = load_recipe("xps-s2p-argyrodite")

    def spectrum(technique: str, region: str) -> Spectrum:
        axis = Axis("binding_energy", "eV", np.linspace(170.0, 155.0, 16))
        return Spectrum(axis=axis, data=np.ones(16), technique=technique, signal="counts",
                        signal_unit="counts", meta={"region": region},
                        source=Source(path="run/cycle3_S2p.vms", sha256="0" * 64, format="vamas"))

    assert recipe.applies_to(spectrum("xps", "s2p"))
    assert not recipe.applies_to(spectrum("xps", "P 2p"))
    assert not recipe.applies_to(spectrum("raman", "S 2p"))
    select = '[select]\nglob = "*S2p*"\n\n[background]'
    globbed = Recipe.from_text(BASE.replace("[background]", select))
    assert globbed.applies_to(spectrum("xps", "anything"))
