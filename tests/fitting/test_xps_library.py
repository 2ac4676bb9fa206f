"""XPS reference tables: spin-orbit doublets and SSB interphase species."""

from __future__ import annotations

import pytest

from specssb.errors import ConfigError
from specssb.library import xps_tables
from specssb.library.xps_tables import (
    load_orbitals,
    load_species,
    orbital,
    orbitals,
    species,
    species_for,
    species_ranges,
)

REQUIRED_LEVELS = ["S 2p", "P 2p", "Ti 2p", "Zr 3d", "La 3d", "Co 2p", "Fe 2p", "Ni 2p", "Mn 2p",
                   "Cl 2p", "Si 2p", "Sn 3d", "Au 4f", "W 4f", "Mo 3d", "Nb 3d"]


def test_every_required_level_is_tabulated_with_a_source():
    regions = {o.region for o in orbitals()}
    assert set(REQUIRED_LEVELS) <= regions
    assert all(o.source and isinstance(o.verified, bool) for o in orbitals())


def test_notes_values_and_the_general_area_ratio():
    s2p, p2p, ti2p = orbital("S", "2p"), orbital("P", "2p"), orbital("ti", "2P")
    assert (s2p.split_ev, s2p.split_bounds_ev, s2p.area_ratio) == (1.18, (1.16, 1.2), 0.5)
    assert p2p.split_ev == 0.87 and p2p.main_line == "P 2p3/2" and p2p.partner_line == "P 2p1/2"
    assert ti2p.split_bounds_ev == (5.7, 6.1) and ti2p.coster_kronig and ti2p.width_ratio > 1
    assert ti2p.width_verified is False  # a candidate value, flagged as such
    assert orbital("Zr", "3d").area_ratio == pytest.approx(2 / 3)
    assert orbital("Au", "4f").area_ratio == 0.75 and orbital("Au", "4f").partner_line == "Au 4f5/2"
    for entry in orbitals():
        assert entry.coster_kronig or entry.width_ratio == 1.0


def test_splittings_agree_with_xraylib_edge_energies():
    xraylib = pytest.importorskip("xraylib")
    shells = {"2p": ("L2", "L3"), "3d": ("M4", "M5"), "4f": ("N6", "N7")}
    for entry in orbitals():
        upper, lower = shells[entry.level]
        z = xraylib.SymbolToAtomicNumber(entry.element)
        split = 1000 * (xraylib.EdgeEnergy(z, getattr(xraylib, f"{upper}_SHELL"))
                        - xraylib.EdgeEnergy(z, getattr(xraylib, f"{lower}_SHELL")))
        if split < 0.05:  # xraylib does not resolve the level (As 3d)
            continue
        low, high = entry.split_bounds_ev
        # element edges at 0.1 eV; oxides differ by a few tenths (Ti 2p: 5.7 oxide, 6.0 edge)
        assert low - 0.35 <= split <= high + 0.35, (entry.region, split)
        if "xraylib 4.3.0 edges (" in entry.source:  # the table's own value is the xraylib one
            assert entry.split_ev == pytest.approx(round(split, 1)), entry.region


def test_species_of_the_interphase_regions():
    names = {region: [s.name for s in species_for(region)] for region in
             ("S 2p", "P 2p", "C 1s", "O 1s", "Li 1s", "Ti 2p", "Zr 3d", "La 3d", "Co 2p")}
    assert {"ps4", "p2s7", "li2s", "polysulfide", "sulfite", "sulfate"} <= set(names["S 2p"])
    assert {"ps4", "p2s7", "li3p", "phosphate"} <= set(names["P 2p"])
    assert {"c_c", "c_o", "carbonyl", "o_c_o", "li2co3"} <= set(names["C 1s"])
    assert {"lattice_oxide", "li2o", "lioh", "li2co3"} <= set(names["O 1s"])
    assert {"ti4", "ti3", "ti2", "ti0"} <= set(names["Ti 2p"])
    assert names["Zr 3d"] and names["La 3d"] and "lco" in names["Co 2p"] and names["Li 1s"]
    assert species_for("s2p") == species_for("S 2p") and species_for("Survey") == []
    assert all(s.line.startswith(s.region) for s in species_for("S 2p"))


def test_cited_values_and_single_value_widening():
    assert species("phosphate").be_range_ev == (133.2, 134.0)
    assert species("li2co3", "O 1s").be_range_ev == (531.4, 531.6)  # 531.5 +/- 0.1 eV
    lif = species("lif")
    assert lif.be_ev == 56.1 and lif.be_range_ev == pytest.approx((55.9, 56.3)) and lif.verified
    assert species("ti4").be_range_ev == (458.2, 459.3)
    assert not species("ps4", "S 2p").verified  # papers located, numbers not seen
    ranges = species_ranges("P 2p")
    assert ranges["li3p"] == (126.0, 127.5) and ranges["ps4"] == (131.8, 132.2)


def test_lookups_name_the_problem():
    with pytest.raises(ConfigError, match="several regions.*'S 2p'.*'P 2p'"):
        species("ps4")
    with pytest.raises(ConfigError, match="did you mean 'li2s'"):
        species("li2z")
    with pytest.raises(ConfigError, match="no species 'li3p' in region 'S 2p'"):
        species("li3p", "S 2p")
    with pytest.raises(ConfigError, match="no spin-orbit data for C 1s"):
        orbital("C", "1s")
    with pytest.raises(ConfigError, match="did you mean 'Ti 2p'"):
        orbital("Ti", "3p")


ORBITAL = """
[[orbital]]
element = "S"
level = "2p"
split_ev = 1.18
area_ratio = 0.5
coster_kronig = false
source = "test"
verified = true
"""

SPECIES = """
single_value_halfwidth_ev = 0.2

[[species]]
name = "li2s"
region = "S 2p"
line = "S 2p3/2"
description = "Li2S"
be_range_ev = [159.8, 160.8]
charge_reference = "C 1s"
source = "test"
verified = false
"""


@pytest.mark.parametrize(("old", "new", "message"), [
    ("area_ratio = 0.5", "area_ratio = 0.6667", r"line 6 key 'area_ratio': area_ratio 0.6667 of a 2p level must be"),
    ("split_ev = 1.18", 'split_ev = "1.18"', r"line 5 key 'split_ev': .*valid number"),
    ("coster_kronig = false", "coster_kronig = false\nwidth_ratio = 1.3", "coster_kronig is false"),
    ("verified = true", "verified = true\nsplitt = 1", r"line 10 key 'splitt': Extra inputs"),
    ('level = "2p"', 'level = "1s"', "is not a split level"),
])
def test_bad_orbital_files_name_file_line_and_key(tmp_path, old, new, message):
    path = tmp_path / "orbitals.toml"
    path.write_text(ORBITAL.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_orbitals(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("[159.8, 160.8]", "[160.8, 159.8]", r"line 9 key 'be_range_ev': be_range_ev \[160.8, 159.8\] must be \[low, high\]"),
    ("[159.8, 160.8]", "[159.8]", r"line 9 key 'be_range_ev'"),
    ('line = "S 2p3/2"', 'line = "P 2p3/2"', "not a line of region 'S 2p'"),
    ('name = "li2s"', 'name = "Li2S-x"', r"line 5 key 'name'"),
    ("be_range_ev = [159.8, 160.8]", "be_ev = 160.8", None),  # widened, valid
    ("verified = false", "verified = 'no'", r"line 12 key 'verified': Input should be a valid boolean"),
])
def test_bad_species_files_name_file_line_and_key(tmp_path, old, new, message):
    path = tmp_path / "species.toml"
    path.write_text(SPECIES.replace(old, new), encoding="utf-8")
    if message is None:
        assert load_species(path)[0].be_range_ev == pytest.approx((160.6, 161.0))
        return
    with pytest.raises(ConfigError, match=message):
        load_species(path)


def test_duplicates_and_missing_files(tmp_path):
    path = tmp_path / "species.toml"
    path.write_text(SPECIES + SPECIES.split("\n", 2)[2], encoding="utf-8")
    with pytest.raises(ConfigError, match="'li2s' is given twice for region 'S 2p'"):
        load_species(path)
    with pytest.raises(ConfigError, match="table file not found"):
        load_orbitals(tmp_path / "absent.toml")
    assert xps_tables.ORBITALS_FILE == "xps_orbitals.toml"
