"""CasaXPS models in VAMAS comments: parsing, import as a Recipe, and CasaXPS's own curves."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from specssb import Axis, Source, Spectrum
from specssb.errors import ConfigError, MetadataWarning, PhysicsWarning
from specssb.fitting.engine import fit
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.recipe import Recipe
from specssb.fitting.xps import recipe_from_casa
from specssb.fitting.xps.casa import (
    casa_definitions,
    casa_parameters,
    evaluate_recipe,
    parse_casa_comments,
)
from specssb.parsers.xps_vamas import read_vamas

HV = 1486.61
#: FeO_analyzed.vms, as written (kinetic energy): Area, MFWHM, Position of the 4 components.
FEO = [
    ("LF(0.54,10,80,100,6)", 63507.374, 3.8576238, 777.56313),
    ("SGL(30)", 35837.064, 8.0, 770.61),
    ("LF(0.54,10,80,100,6)", 49042.126, 4.8730051, 764.48234),
    ("SGL(30)", 17705.155, 7.8295407, 756.72212),
]
SPECIES = ["fe_2p", "fe_2p_2", "fe_2p_3", "fe_2p_4"]


def feo_block(shared_data) -> Spectrum:
    (block,) = read_vamas(shared_data("xps", "pynxtools-xps", "FeO_analyzed.vms"))
    return block


def casa_export(shared_data) -> dict[str, np.ndarray]:
    """``FeO_analyzed_lineshapes_cols.txt``: counts columns, header positions (notes §7)."""
    path = shared_data("xps", "pynxtools-xps", "FeO_analyzed_lineshapes_cols.txt")
    lines = path.read_text(encoding="latin-1").splitlines()
    rows = [[float(v) for v in line.split("\t") if v.strip()] for line in lines[8:] if line.strip()]
    table = np.array(rows)
    return {
        "be": table[:, 8], "counts": table[:, 1], "components": table[:, 2:6],
        "background": table[:, 6], "envelope": table[:, 7],
        "positions": [float(v) for v in lines[3].split("\t")[2:6]],
    }


# ------------------------------------------------------------------- (a) the FeO comments
@pytest.mark.shared_data
def test_feo_comment_lines_give_the_region_and_four_components(shared_data) -> None:
    casa = casa_definitions(feo_block(shared_data))
    (region,) = casa.regions
    assert (region.name, region.background) == ("Fe 2p", "U 3 Tougaard")
    assert (region.start, region.end) == (737.52081, 786.7632)
    assert region.limits == pytest.approx((HV - 786.7632, HV - 737.52081), abs=1e-12)
    assert region.rsf == 16.42 and region.average_width == 2.0
    assert (region.start_offset, region.end_offset) == (0.0, 0.0)
    assert region.cross_section == (335.44588, 551.0, 436.0, 3.0)
    assert region.tag == "Fe 2p" and region.trailing == ("55.8458", "0", "16.42")
    assert casa.calibrations == ()
    export = casa_export(shared_data)
    assert [c.lineshape for c in casa.components] == [shape for shape, *_ in FEO]
    for comp, (_, area, fwhm, ke), rounded in zip(casa.components, FEO, export["positions"]):
        assert (comp.area.value, comp.fwhm.value, comp.stored_position.value) == (area, fwhm, ke)
        assert comp.position.value == pytest.approx(HV - ke, abs=1e-12)
        # the export's header (B.E.) agrees with BE = hv - KE
        assert comp.position.value == pytest.approx(rounded, abs=0.006)
        assert (comp.rsf, comp.uncorrected_rsf, comp.mass) == (16.42, 16.42, 55.8458)
        assert comp.area.lower == 1e-20 and comp.area.upper == 6383903.5
        assert comp.area.link is comp.fwhm.link is comp.position.link is None
    first = casa.components[0]
    # KE bounds 738.01-782.59919 become BE bounds, swapped
    assert (first.position.lower, first.position.upper) == pytest.approx(
        (HV - 782.59919, HV - 738.01), abs=1e-12)
    assert (first.fwhm.lower, first.fwhm.upper) == (1.07, 26.75)
    # the unlinked Fe 2p1/2 keeps a stale -13 eV KE offset: +13 eV on binding energy
    third = casa.components[2]
    assert third.stored_position.link_constant == -13.0 and third.position.link_constant == 13.0
    assert [c.index for c in casa.components] == [0, 1, 0, 1]


@pytest.mark.shared_data
def test_feo_recipe_has_window_background_shapes_bounds_and_rsf(shared_data) -> None:
    recipe = recipe_from_casa(feo_block(shared_data))
    assert recipe.name == "casa-fe-2p" and recipe.technique == "xps"
    assert [c.species for c in recipe.component] == SPECIES
    assert [c.shape for c in recipe.component] == ["lf", "sgl", "lf", "sgl"]
    assert recipe.select.window == pytest.approx([HV - 786.7632, HV - 737.52081])
    assert recipe.background.kind == "tougaard"
    options = recipe.background.options
    assert {k: options[k] for k in ("family", "b", "c", "d", "t0", "average", "fit_b")} == {
        "family": "U3", "b": 335.44588, "c": 551.0, "d": 436.0, "t0": 3.0, "average": 1,
        "fit_b": True}
    assert recipe.steps["rsf"] == dict.fromkeys(SPECIES, 16.42)
    assert recipe.steps["casa"]["region_rsf"] == 16.42
    assert recipe.steps["casa"]["intensity_scale"] == 2.0  # 2 s dwell, 1 scan: CPS = counts/2
    specs = {s.name: s for s in recipe.parameter_specs()}
    # the SGL satellite sits on CasaXPS's bounds: FWHM at its maximum 8, BE at its maximum
    assert specs["fe_2p_2_fwhm"].value == specs["fe_2p_2_fwhm"].max == 8.0
    assert specs["fe_2p_2_center"].value == pytest.approx(716.0) == specs["fe_2p_2_center"].max
    assert specs["fe_2p_2_m"].value == 30.0 and not specs["fe_2p_2_m"].vary
    assert specs["fe_2p_alpha"].value == 0.54 and specs["fe_2p_beta"].value == 10.0
    # the recipe survives TOML
    assert Recipe.from_text(recipe.to_toml()).hash == recipe.hash


# -------------------------------------------------------------- (b) CasaXPS's own curves
@pytest.mark.shared_data
def test_imported_model_reproduces_casaxps_components_and_tougaard(shared_data) -> None:
    block, export = feo_block(shared_data), casa_export(shared_data)
    np.testing.assert_allclose(block.axis.values, export["be"], atol=1e-9)
    recipe = recipe_from_casa(block)
    curves = evaluate_recipe(recipe, block)
    inside = curves["inside"]
    assert inside.sum() == 985  # the region's channels, as CasaXPS
    scale = block.data[inside].max()
    background_error = np.abs(curves["background"] - export["background"])[inside].max()
    assert background_error < 0.01 * scale
    assert background_error < 2e-4 * scale  # reached 1.1e-4 (2.8 counts)
    for k, species in enumerate(SPECIES):
        bare = export["components"][:, k] - export["background"]
        error = np.abs(curves["components"][species] - bare)[inside].max()
        assert error < 0.01 * scale, species
        assert error < 1.5e-3 * scale, species  # reached 1.4e-3 (LF), 4.3e-4 (SGL)
    envelope_error = np.abs(curves["envelope"] - export["envelope"])[inside].max()
    assert envelope_error < 0.01 * scale
    # back-converted start values are CasaXPS's numbers
    start = {s.name: s.value for s in recipe.parameter_specs()}
    for (_, area, fwhm, ke), values in zip(FEO, casa_parameters(recipe, start).values()):
        assert values == pytest.approx({"area": area, "fwhm": fwhm, "position": HV - ke},
                                       rel=1e-12)


# ------------------------------------------------------------------ (c) refit converges
def perturbed(recipe: Recipe) -> Recipe:
    """Heights +6 %, FWHMs -5 %, centers ±0.15 eV (clipped to the bounds)."""
    document = recipe.to_dict()
    for i, component in enumerate(document["component"]):
        for key, change in (("height", 1.06), ("fwhm", 0.95), ("center", 0.15 * (-1) ** i)):
            param = component[key]
            value = param["value"] * change if key != "center" else param["value"] + change
            param["value"] = float(np.clip(value, param["min"], param["max"]))
    return Recipe.from_dict(document)


@pytest.mark.shared_data
@pytest.mark.parametrize("engine", ["batched", "lmfit"])
def test_refit_from_perturbed_start_returns_to_casaxps_parameters(shared_data, engine) -> None:
    block = feo_block(shared_data)
    recipe = recipe_from_casa(block)
    start = perturbed(recipe)
    truth = casa_parameters(recipe, {s.name: s.value for s in recipe.parameter_specs()})
    assert casa_parameters(start, {s.name: s.value for s in start.parameter_specs()}) != truth
    table = fit(block, start, engine=engine)
    assert table.frame["converged"].all()
    found = casa_parameters(start, table)
    for species, casa in truth.items():
        got = found[species]
        assert got["position"] == pytest.approx(casa["position"], abs=0.02), species
        assert got["fwhm"] == pytest.approx(casa["fwhm"], rel=0.01), species
        assert got["area"] == pytest.approx(casa["area"], rel=0.015), species
    # the two main lines much closer (reached: 0.002 eV, 0.1 %, 0.33 %)
    for species in ("fe_2p", "fe_2p_3"):
        assert found[species]["position"] == pytest.approx(truth[species]["position"], abs=0.005)
        assert found[species]["area"] == pytest.approx(truth[species]["area"], rel=0.005)


# --------------------------------------------------------------- (d) synthetic comments
def comp_line(name: str, shape: str, area: str, fwhm: str, position: str) -> str:
    return (f"CASA comp (*{name}*) (*{shape}*) Area {area} MFWHM {fwhm} Position {position} "
            f"RSF 0.296 MASS 32.06 INDEX 0 (*S 2p*) CONST (**) UNCORRECTEDRSF 0.67")


REGION = "CASA region (*S 2p*) (*Shirley*) 1318 1331 0.296 2 0 0 0 0 0 0 (*S 2p*) 32.06 0 0.67"
MAIN = comp_line("S 2p3/2", "GL(30)", "1000 1 1e6 -1 1", "1.1 0.5 2 -1 1", "1325.5 1323 1328 -1 1")
#: the 2p1/2 partner: half the area, same FWHM, 1.18 eV higher BE (-1.18 on kinetic energy)
PARTNER = comp_line("S 2p1/2", "GL(30)", "500 1 1e6 0 0.5", "1.1 0.5 2 0 1",
                    "1324.32 1320 1330 0 -1.18")


def kinetic_block(comment: str, *, hv: float = 1486.6, name: str = "S 2p") -> Spectrum:
    """A binding-energy block as the VAMAS reader makes it from a kinetic-energy file."""
    ke = np.arange(1315.0, 1335.0, 0.05)
    be = hv - ke
    y = 200.0 + 50.0 * (be > 161.5)
    gl = get_lineshape("gl")
    y = y + gl.evaluate(be, 500.0, hv - 1325.5, 1.1, 30.0) + gl.evaluate(be, 250.0, hv - 1324.32,
                                                                          1.1, 30.0)
    spectrum = Spectrum(axis=Axis("kinetic_energy", "eV", ke), data=y, technique="xps",
                        signal="counts", meta={"region": "S 2p", "dwell_time_s": 0.1},
                        raw_meta={"comment": comment},
                        source=Source("mem.vms", "0" * 64, "vamas", block=name))
    return spectrum.with_step(
        "kinetic_to_binding_energy",
        {"excitation_energy_ev": hv, "work_function_ev": 0.0, "formula": "BE = hv - KE - phi"},
        axis=Axis("binding_energy", "eV", be))


def test_links_become_ties_on_binding_energy() -> None:
    block = kinetic_block("\n".join(["Casa Info Follows", "0", "0", "1", REGION, "2", MAIN,
                                     PARTNER]))
    recipe = recipe_from_casa(block, name="s2p")
    specs = {s.name: s for s in recipe.parameter_specs()}
    assert [c.species for c in recipe.component] == ["s_2p3_2", "s_2p1_2"]
    assert specs["s_2p1_2_center"].tie.source == "s_2p3_2_center"
    assert specs["s_2p1_2_center"].tie.offset == pytest.approx(1.18)  # higher binding energy
    assert specs["s_2p1_2_height"].tie.factor == pytest.approx(0.5)  # same shape and FWHM
    assert specs["s_2p1_2_fwhm"].tie.factor == 1.0
    assert specs["s_2p3_2_center"].value == pytest.approx(1486.6 - 1325.5)
    assert recipe.background.kind == "shirley" and recipe.background.options["average"] == 1
    assert recipe.select.window == pytest.approx([1486.6 - 1331, 1486.6 - 1318])
    # Area 1000 CPS·eV at 0.1 s dwell: 100 counts·eV
    gl = get_lineshape("gl")
    height = specs["s_2p3_2_height"].value
    assert height * gl.area(1.0, 0.0, 1.1, 30.0) == pytest.approx(100.0)
    curves = evaluate_recipe(recipe, block)
    partner = curves["components"]["s_2p1_2"]
    assert block.axis.values[np.argmax(partner)] == pytest.approx(1486.6 - 1324.32, abs=0.03)
    expected = gl.evaluate(block.axis.values, 0.5 * height, 1486.6 - 1325.5 + 1.18, 1.1, 30.0)
    np.testing.assert_allclose(partner, expected, rtol=1e-9, atol=1e-9)


def test_area_link_without_width_link_warns() -> None:
    partner = PARTNER.replace("MFWHM 1.1 0.5 2 0 1", "MFWHM 1.3 0.5 2 -1 1")
    block = kinetic_block("\n".join([REGION, MAIN, partner]))
    with pytest.warns(PhysicsWarning, match="starting widths only"):
        recipe = recipe_from_casa(block)
    tie = next(s for s in recipe.parameter_specs() if s.name == "s_2p1_2_height").tie
    assert tie.factor == pytest.approx(0.5 * 1.1 / 1.3)  # area ratio 0.5 at the start widths


def test_malformed_lines_warn_with_block_and_line_and_the_rest_is_read() -> None:
    comment = "\n".join([REGION, MAIN.replace("Position 1325.5", "Position abc"),
                         "CASA comp (*x*) (*GL(30)*) Area 1 2",
                         PARTNER.replace(" 0 -1.18", " -1 1"),
                         "Calib M = 284.2 A"])
    with pytest.warns(MetadataWarning) as caught:
        casa = parse_casa_comments(comment, block="S 2p", excitation_energy_ev=1486.6)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert "block 'S 2p', comment line 2" in messages[0] and "Position value 1" in messages[0]
    assert "comment line 3" in messages[1] and "no Position field" in messages[1]
    assert "comment line 5" in messages[2] and "calibration" in messages[2]
    assert len(casa.regions) == 1 and [c.name for c in casa.components] == ["S 2p1/2"]


def test_calibration_lines_are_parsed_and_recorded_not_applied() -> None:
    casa = parse_casa_comments("Calib M = 286.1 A = 284.8 BE ADD\nCalib M = 280,290 A = 285 BE ADD")
    single, ranged = casa.calibrations
    assert (single.measured, single.aligned, single.energy, single.operation) == (
        (286.1,), 284.8, "binding", "ADD")
    assert single.shift_ev == pytest.approx(-1.3)
    assert ranged.measured == (280.0, 290.0) and ranged.shift_ev is None
    assert casa.energy == "stored"
    block = kinetic_block("\n".join([REGION, MAIN, "Calib M = 286.1 A = 284.8 BE ADD"]))
    with pytest.warns(PhysicsWarning, match="not applied"):
        recipe = recipe_from_casa(block)
    assert recipe.steps["casa"]["calibrations"] == [
        {"measured": [286.1], "aligned": 284.8, "energy": "binding", "operation": "ADD"}]
    specs = {s.name: s for s in recipe.parameter_specs()}
    assert specs["s_2p3_2_center"].value == pytest.approx(1486.6 - 1325.5)  # unshifted


def test_block_without_casa_lines_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="holds no CasaXPS region or component"):
        recipe_from_casa(kinetic_block("Casa Info Follows\n0\n0\n0\n0"))
    with pytest.raises(ConfigError, match="no CASA comp line"):
        recipe_from_casa(kinetic_block(REGION))
    with pytest.raises(ConfigError, match="no CASA region line"):
        recipe_from_casa(kinetic_block(MAIN))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("GL(30)", "LA(1.53,243)"),
         "'LA\\(1.53,243\\)' is not supported.*LF\\(0.54,10,80,100,6\\)"),
        (("GL(30)", "LF(0.5,10,80,100,6)"), "'LF\\(0.5,10,80,100,6\\)' is not supported"),
        (("GL(30)", "&TI_MET"), "reference-spectrum shape"),
        (("GL(30)", "GL(30)T(2)"), "'GL\\(30\\)T\\(2\\)' has no specssb equivalent"),
        (("Shirley", "U 4 Tougaard"), "'U 4 Tougaard' has no specssb equivalent"),
        (("Shirley", "Step Up"), "'Step Up' has no specssb equivalent"),
        (("2 0 0 0 0 0 0", "2 10 0 0 0 0 0"), "Start/End Offset 10/0 %"),
    ],
)
def test_what_specssb_lacks_is_named_in_a_config_error(change, message) -> None:
    comment = "\n".join([REGION, MAIN]).replace(*change)
    with pytest.raises(ConfigError, match=message):
        recipe_from_casa(kinetic_block(comment))


def test_bad_links_several_regions_and_kinetic_axes_are_refused() -> None:
    bad_link = PARTNER.replace("Position 1324.32 1320 1330 0", "Position 1324.32 1320 1330 5")
    with pytest.raises(ConfigError, match="link to component index 5"):
        recipe_from_casa(kinetic_block("\n".join([REGION, MAIN, bad_link])))
    second = REGION.replace("(*S 2p*) (*Shirley*)", "(*S 2p wide*) (*Linear*)")
    two = kinetic_block("\n".join([REGION, second, MAIN]))
    with pytest.raises(ConfigError, match="2 CASA regions"):
        recipe_from_casa(two)
    assert recipe_from_casa(two, region="S 2p wide").background.kind == "linear"
    assert recipe_from_casa(two, region=0).background.kind == "shirley"
    ke = Spectrum(axis=Axis("kinetic_energy", "eV", np.arange(10.0)), data=np.ones(10),
                  technique="xps", signal="counts", raw_meta={"comment": MAIN})
    with pytest.raises(ConfigError, match="energy='binding'"):
        recipe_from_casa(ke)


def test_species_labels_are_identifiers_and_unique() -> None:
    names = ["Fe 2p", "Fe 2p", "2p sat", "", "Fe 2p 2"]
    lines = [REGION] + [MAIN.replace("(*S 2p3/2*)", f"(*{n}*)") for n in names]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recipe = recipe_from_casa(kinetic_block("\n".join(lines)))
    assert [c.species for c in recipe.component] == [
        "fe_2p", "fe_2p_2", "c_2p_sat", "component", "fe_2p_2_2"]


# ------------------------------------------------------------ other real CasaXPS files
@pytest.mark.shared_data
def test_ti_reference_fits_use_reference_shapes_and_are_refused(shared_data) -> None:
    blocks = read_vamas(shared_data("xps", "xpsdeeplearning", "Ti_references_irregular.vms"))
    assert len(blocks) == 12
    fits = blocks[8:]
    for block, shape in zip(fits, ["&TI_MET", "&TIO", "&TI2O3", "&TIO2"]):
        casa = casa_definitions(block)
        assert [c.lineshape for c in casa.components] == [shape]
        assert casa.regions[0].background == "Min Limits"
        assert casa.regions[0].limits == pytest.approx((HV - 1039.26, HV - 987.96))
        with pytest.raises(ConfigError, match=f"'{shape}' is a reference-spectrum shape"):
            recipe_from_casa(block)
    for block in blocks[:8]:
        with pytest.raises(ConfigError, match="holds no CasaXPS region or component"):
            recipe_from_casa(block)


@pytest.mark.shared_data
def test_vamas_files_without_a_casa_model_are_refused(shared_data) -> None:
    for name in ("regular.vms", "irregular.vms"):
        for block in read_vamas(shared_data("xps", "pynxtools-xps", name)):
            with pytest.raises(ConfigError, match="holds no CasaXPS region or component"):
                recipe_from_casa(block)
