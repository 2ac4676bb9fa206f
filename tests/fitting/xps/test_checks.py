"""Physics checks of XPS fits: each fires on the mistake it names, and not on a good fit."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Source, Spectrum
from specssb.errors import PhysicsWarning
from specssb.fitting.engine import fit
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.recipe import Recipe
from specssb.fitting.xps.checks import check_fit, doublet_ratio_of

GL = get_lineshape("gl")
BE = np.linspace(168.0, 156.0, 400)

DOUBLET = """
name = "t-s2p"
technique = "xps"
[background]
kind = "shirley"
average = 5
[[component]]
species = "ps4"
shape = "gl"
height = {value = "guess", min = 0}
center = {value = 161.7, min = 161.0, max = 162.4}
fwhm = {value = 1.1, min = 0.2, max = 6.0}
m = 30
doublet = {split = 1.18, ratio = 0.5}
"""


def spectrum(partner_share: float = 0.5, fwhm: float = 1.0, center: float = 161.7, seed: int = 0) -> Spectrum:
    rng = np.random.default_rng(seed)
    peaks = GL.evaluate(BE, 3000.0, center, fwhm, 30.0) + GL.evaluate(BE, 3000.0 * partner_share,
                                                                      center + 1.18, fwhm, 30.0)
    step = np.cumsum(peaks[::-1])[::-1]  # Shirley-shaped: the peaks' integral from the low-BE end
    y = 300.0 + peaks + 300.0 * step / step[0]
    return Spectrum(axis=Axis("binding_energy", "eV", BE), data=rng.poisson(y).astype(float),
                    technique="xps", signal="counts", meta={"region": "S 2p"},
                    source=Source("s.vms", "0" * 64, "vamas", block="S 2p"))


def checks_of(recipe_text: str, data: Spectrum, **options) -> set[str]:
    table = fit(data, Recipe.from_text(recipe_text))
    return set(check_fit(table, [data], warn=False, **options)["check"])


def test_the_doublet_ratio_of_a_level():
    assert doublet_ratio_of("S 2p") == 0.5 and doublet_ratio_of("Zr 3d") == pytest.approx(2 / 3)
    assert doublet_ratio_of("Au 4f") == 0.75 and doublet_ratio_of("C 1s") is None
    assert doublet_ratio_of("Survey") is None and doublet_ratio_of("Ti 2p3/2") == 0.5


def test_a_good_fit_only_lacks_its_charge_reference():
    assert checks_of(DOUBLET, spectrum()) == {"no_charge_reference"}


def test_a_singlet_in_a_doublet_region_and_its_residual_are_reported():
    singlet = DOUBLET.replace("doublet = {split = 1.18, ratio = 0.5}\n", "")
    found = checks_of(singlet, spectrum())
    assert {"singlet_in_doublet_region", "residual_structure"} <= found


def test_a_freed_ratio_that_left_its_value_is_reported():
    free = DOUBLET.replace("ratio = 0.5}", "ratio = 0.5, free_ratio = true}")
    assert "doublet_ratio" in checks_of(free, spectrum(partner_share=0.35))
    assert "doublet_ratio" not in checks_of(free, spectrum(partner_share=0.5))


def test_fwhm_and_species_range():
    assert "fwhm_range" in checks_of(DOUBLET, spectrum(fwhm=4.5))
    found = checks_of(DOUBLET, spectrum(center=162.2), species_ranges={"ps4": (161.2, 161.9)})
    assert "species_range" in found


def test_findings_are_warned_with_the_file_named():
    data = spectrum()
    table = fit(data, Recipe.from_text(DOUBLET.replace("doublet = {split = 1.18, ratio = 0.5}\n", "")))
    with pytest.warns(PhysicsWarning) as record:
        findings = check_fit(table, [data])
    messages = [str(w.message) for w in record]
    assert len(messages) == len(findings)
    assert any(m.startswith("s.vms block S 2p: ps4 is fitted as a singlet") for m in messages)


def test_species_ranges_come_from_the_table_by_default():
    # PS4 S 2p3/2 lies in 161.5-161.9 eV in xps_species.toml; a fit at 162.3 eV is outside
    found = checks_of(DOUBLET, spectrum(center=162.3))
    assert "species_range" in found
    assert "species_range" not in checks_of(DOUBLET, spectrum(center=161.7))
