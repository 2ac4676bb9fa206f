"""XPS quantification: each correction factor against hand values, and the CasaXPS FeO report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from specssb import Axis, Source, Spectrum
from specssb.errors import ConfigError, PhysicsWarning
from specssb.fitting.engine import fit
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.recipe import Recipe
from specssb.parsers.xps_vamas import read_vamas
from specssb.fitting.xps.quantify import (
    GENERIC_MATRIX,
    Line,
    Material,
    angular_factor,
    asymmetry_parameter,
    imfp_tpp2m,
    quantify,
    quantify_casaxps,
    sensitivity_factor,
    transmission_curve,
)

AL_KA = 1486.6

# CasaXPS report (FeO_analyzed_results.csv): Position (BE), Raw Area, Area/(RSF*T*MFP), %At Conc
CASA_CORRECTED = [1430.56, 671.00, 958.37, 355.03]
CASA_PERCENT = [41.89, 19.65, 28.06, 10.40]


def casa_table(shared_data) -> pd.DataFrame:
    path = shared_data("xps", "pynxtools-xps", "FeO_analyzed_results.csv")
    report = pd.read_csv(path, sep="\t", skiprows=2, nrows=4, encoding="latin-1")
    assert list(report["Name"]) == ["Fe 2p"] * 4
    np.testing.assert_allclose(report["%At Conc"], CASA_PERCENT)
    return report.rename(columns={"Name": "species", "Raw Area": "area", "Position": "binding_energy"})


# ---------------------------------------------------------------- acceptance: CasaXPS FeO
@pytest.mark.shared_data
def test_casaxps_report_reproduced_with_the_file_transmission(shared_data):
    table = casa_table(shared_data)
    block = read_vamas(shared_data("xps", "pynxtools-xps", "FeO_analyzed.vms"))[0]
    # the block stores "MFP Exponent" 0: CasaXPS divides by RSF x T(KE) only
    mfp = block.raw_meta["additional numerical parameters"][0]
    assert mfp == {"label": "MFP Exponent", "unit": "d", "value": 0}
    result = quantify_casaxps(table, photon_energy_ev=1486.61, rsf={"Fe 2p": 16.42}, transmission_curve=block)
    np.testing.assert_allclose(result["kinetic_energy"], [777.58, 770.88, 764.43, 756.39])
    np.testing.assert_allclose(result["transmission"], [2.69906, 2.71083, 2.72231, 2.73683], atol=2e-5)
    np.testing.assert_allclose(result["corrected_area"], CASA_CORRECTED, rtol=2e-5)
    np.testing.assert_allclose(result["atomic_percent"], CASA_PERCENT, atol=0.006)
    assert (result["rsf"] == 16.42).all() and (result["imfp"] == 1.0).all()


@pytest.mark.shared_data
def test_casaxps_report_reproduced_with_the_combined_ke_power_law(shared_data):
    table = casa_table(shared_data)
    result = quantify_casaxps(table, photon_energy_ev=1486.61, rsf={"Fe 2p": 16.42}, combined_exponent=-0.5)
    np.testing.assert_allclose(result["atomic_percent"], CASA_PERCENT, atol=0.5)
    np.testing.assert_allclose(result["atomic_percent"], CASA_PERCENT, atol=0.01)  # in fact
    # corrected areas match up to one constant (CasaXPS's T is KE^-0.5 x 75.27 on this file)
    ratio = result["corrected_area"] / np.array(CASA_CORRECTED)
    np.testing.assert_allclose(ratio / ratio.mean(), 1.0, atol=2e-4)
    np.testing.assert_allclose(result["transmission"], np.array([777.58, 770.88, 764.43, 756.39]) ** -0.5)


@pytest.mark.shared_data
def test_xraylib_rsf_equals_the_casaxps_rsf_for_fe_2p(shared_data):
    table = casa_table(shared_data)
    result = quantify_casaxps(table, photon_energy_ev=1486.61, rsf="xraylib")
    np.testing.assert_allclose(result["rsf"], 16.42, atol=0.01)
    np.testing.assert_allclose(result["atomic_percent"], CASA_PERCENT, atol=0.02)


# ---------------------------------------------------------------- each factor
def test_sensitivity_factors_match_scofield_at_al_ka():
    # Scofield values relative to C 1s: Fe 2p 16.42 (CasaXPS RSF in FeO_analyzed.vms); O 1s 2.93,
    # S 2p3/2 1.11, Li 1s 0.0568 (LG4X-V2 Scofield table, ../shared/notes/xps.md section 4)
    assert sensitivity_factor("C 1s", AL_KA) == pytest.approx(1.0)
    assert sensitivity_factor("Fe 2p", AL_KA) == pytest.approx(16.42, abs=0.01)
    assert sensitivity_factor("O 1s", AL_KA) == pytest.approx(2.93, abs=0.01)
    assert sensitivity_factor("S 2p3/2", AL_KA) == pytest.approx(1.11, abs=0.01)
    assert sensitivity_factor("Li1s", AL_KA) == pytest.approx(0.0568, abs=0.0005)
    doublet = sensitivity_factor("S 2p1/2", AL_KA) + sensitivity_factor("S 2p3/2", AL_KA)
    assert sensitivity_factor("S 2p", AL_KA) == pytest.approx(doublet)
    # cross-sections fall more slowly for deeper levels: Fe 2p / C 1s drops at Mg Ka
    assert sensitivity_factor("Fe 2p", 1253.6) == pytest.approx(15.97, abs=0.01)


def test_line_labels():
    assert Line.parse("Fe2p3").label == "Fe 2p3/2"
    assert Line.parse("La 3d").twice_j == (3, 5)
    assert Line.parse("Au 4f7/2").label == "Au 4f7/2"
    for bad in ("Xx 2p", "Fe 2q", "C 1p", "Fe 2p5/2", "carbon"):
        with pytest.raises(ConfigError):
            Line.parse(bad)


def test_angular_factor_hand_values():
    # Reilman et al. 1976, unpolarized: L = 1 + beta/2 (3/2 sin^2 t - 1)
    assert angular_factor(1.5, 54.7356) == pytest.approx(1.0, abs=1e-5)
    assert angular_factor(2.0, 90.0) == pytest.approx(1.5)
    assert angular_factor(2.0, 0.0) == pytest.approx(0.0)
    assert angular_factor(1.0, 45.0) == pytest.approx(1 + 0.5 * (1.5 * 0.5 - 1))  # 0.875
    # linear polarization: L = 1 + beta/2 (3 cos^2 t - 1)
    assert angular_factor(2.0, 0.0, polarization="linear") == pytest.approx(3.0)
    assert angular_factor(2.0, 90.0, polarization="linear") == pytest.approx(0.0)
    with pytest.raises(ConfigError):
        angular_factor(1.0, 45.0, polarization="circular")


def test_asymmetry_parameter_hand_values():
    # s levels: beta = 2 in the dipole approximation (Cant et al. 2022 fit gives 1.99 for C 1s)
    assert asymmetry_parameter(Line.parse("C 1s"), AL_KA) == pytest.approx(1.989, abs=0.001)
    # Fe 2p3/2 (Cant Table 2): a = 1.55, m = 34.9 k^-0.785, b = 0.237 k^0.457, q = 0.0107 k,
    # s = 0.525 + 0.00331/k, r = 60.9 + 25.1 k, k = 1.4866; BE 708.1 eV (xraylib L3 edge)
    k, x = AL_KA / 1000, 0.26
    m, b, q = 34.9 * k**-0.785, 0.237 * k**0.457, 0.0107 * k
    s, r = 0.525 + 0.00331 / k, 60.9 + 25.1 * k
    hand = 1.55 - m * (x - b) ** 2 * x**q - 1.31 * math.exp(-(((AL_KA - 708.1) / r) ** s))
    assert hand == pytest.approx(1.4689, abs=1e-4)
    assert asymmetry_parameter(Line.parse("Fe 2p3/2"), AL_KA) == pytest.approx(hand, abs=1e-6)
    unresolved = asymmetry_parameter(Line.parse("Fe 2p"), AL_KA)
    assert 1.40 < unresolved < 1.47  # cross-section-weighted mean of 2p1/2 and 2p3/2
    with pytest.warns(PhysicsWarning, match="extrapolated"):
        asymmetry_parameter(Line.parse("C 1s"), 600.0)


def test_tpp2m_hand_value():
    # Generic matrix: U = Nv rho / M = 0.23050, Ep^2 = 28.8^2 U = 191.19, beta = 0.051810,
    # gamma = 0.073424, C = 1.7602, D = 48.606 -> lambda(1000 eV) = 23.680 A
    e = 1000.0
    hand = e / (191.19 * (0.051810 * math.log(0.073424 * e) - 1.7602 / e + 48.606 / e**2)) / 10
    assert hand == pytest.approx(2.368, abs=0.001)
    assert float(imfp_tpp2m(e)) == pytest.approx(hand, rel=2e-4)
    energies = np.array([500.0, 1400.0])
    slope = np.diff(np.log(imfp_tpp2m(energies))) / np.diff(np.log(energies))
    assert 0.7 < slope[0] < 0.8  # TPP-2M behaves as KE^0.74 here
    with pytest.raises(ConfigError):
        Material(-1.0, 4.0, 0.0, 100.0)


def test_every_factor_switches_and_multiplies():
    table = pd.DataFrame({"species": ["C 1s", "O 1s"], "area": [1000.0, 2000.0],
                          "binding_energy": [284.8, 531.0]})
    bare = quantify(table, photon_energy_ev=AL_KA, rsf={"C 1s": 1.0, "O 1s": 1.0},
                    imfp=None, asymmetry=False)
    assert (bare[["transmission", "imfp", "angular_factor"]] == 1.0).all().all()
    np.testing.assert_allclose(bare["atomic_percent"], [100 / 3, 200 / 3])
    full = quantify(table, photon_energy_ev=AL_KA, transmission="power_law", transmission_exponent=-1.0,
                    imfp="power_law", imfp_exponent=0.75, asymmetry=True, analyser_angle_deg=90.0)
    ke = AL_KA - np.array([284.8, 531.0])
    np.testing.assert_allclose(full["kinetic_energy"], ke)
    np.testing.assert_allclose(full["transmission"], 1 / ke)
    np.testing.assert_allclose(full["imfp"], ke**0.75)
    product = full["rsf"] * full["transmission"] * full["imfp"] * full["angular_factor"]
    np.testing.assert_allclose(full["corrected_area"], table["area"] / product)
    np.testing.assert_allclose(full["angular_factor"], 1 + full["beta"] / 4)
    assert full["atomic_percent"].sum() == pytest.approx(100.0)
    tpp = quantify(table, photon_energy_ev=AL_KA, asymmetry=False)
    np.testing.assert_allclose(tpp["imfp"], imfp_tpp2m(ke, GENERIC_MATRIX))
    fixed = quantify(table, photon_energy_ev=AL_KA, beta={"O 1s": 0.0, "C 1s": 0.0}, analyser_angle_deg=0.0)
    np.testing.assert_allclose(fixed["angular_factor"], 1.0)


def test_uncertainty_propagation_hand_value():
    table = pd.DataFrame({"species": ["a", "b"], "line": ["C 1s", "C 1s"], "area": [100.0, 300.0],
                          "area_stderr": [10.0, 20.0], "binding_energy": [285.0, 285.0]})
    result = quantify(table, photon_energy_ev=AL_KA, rsf={"C 1s": 2.0}, imfp=None)
    np.testing.assert_allclose(result["corrected_area_stderr"], [5.0, 10.0])
    # x = 1/4; sigma^2 = [(3/4)^2 5^2 + (1/4)^2 10^2] / 200^2
    expected = 100 * math.sqrt(0.75**2 * 25 + 0.25**2 * 100) / 200
    assert result["atomic_percent_stderr"].iloc[0] == pytest.approx(expected)
    assert result["atomic_percent_stderr"].iloc[1] == pytest.approx(expected)  # two rows: equal


def test_groups_sum_to_100_separately():
    table = pd.DataFrame({"level": [0, 0, 1, 1], "species": ["C 1s", "O 1s"] * 2,
                          "area": [1.0, 1.0, 1.0, 3.0], "binding_energy": [285.0, 531.0] * 2})
    result = quantify(table, photon_energy_ev=AL_KA, rsf={"C 1s": 1, "O 1s": 1}, imfp=None, group_by="level")
    assert list(result.columns[:2]) == ["level", "species"]
    np.testing.assert_allclose(result["atomic_percent"], [50, 50, 25, 75])


def test_transmission_from_file_curves():
    be = np.linspace(700.0, 300.0, 81)
    spectrum = Spectrum(axis=Axis("binding_energy", "eV", be), data=np.ones_like(be), technique="xps",
                        signal="counts", meta={"excitation_energy_ev": AL_KA},
                        raw_meta={"corresponding_variables": {"Transmission": 2.0 + be / 1000}},
                        source=Source("t.vms", "0" * 64, "vamas", block="1"))
    energies, values = transmission_curve(spectrum)
    assert energies[0] == pytest.approx(AL_KA - 700.0) and values[0] == pytest.approx(2.7)
    table = pd.DataFrame({"species": ["C 1s", "O 1s"], "area": [1.0, 1.0], "binding_energy": [285.0, 531.0]})
    with pytest.raises(ConfigError, match="covers"):  # C 1s lies outside the curve
        quantify(table, photon_energy_ev=AL_KA, transmission="file", transmission_curve=spectrum)
    pair = (np.array([900.0, 1300.0]), np.array([1.0, 0.5]))
    result = quantify(table, photon_energy_ev=AL_KA, transmission="file", transmission_curve=[spectrum, pair])
    np.testing.assert_allclose(result["transmission"], [1.0 - 0.5 * (AL_KA - 285 - 900) / 400, 2.531])
    column = table.assign(transmission=[0.5, 2.0])
    result = quantify(column, photon_energy_ev=AL_KA, transmission="file")
    np.testing.assert_allclose(result["transmission"], [0.5, 2.0])
    with pytest.raises(ConfigError, match="holds no transmission"):
        transmission_curve(spectrum.replace(raw_meta={"x": 1}))


def test_a_fit_table_is_quantified_with_doublets_summed():
    gl = get_lineshape("gl")
    be = np.linspace(170.0, 155.0, 300)
    y = 100.0 + gl.evaluate(be, 3000.0, 161.7, 1.0, 30.0) + gl.evaluate(be, 1500.0, 162.88, 1.0, 30.0)
    spectrum = Spectrum(axis=Axis("binding_energy", "eV", be), data=np.random.default_rng(0).poisson(y) * 1.0,
                        technique="xps", signal="counts", meta={"region": "S 2p"},
                        source=Source("s.vms", "0" * 64, "vamas", block="S 2p"))
    recipe = Recipe.from_text("""
name = "s2p"
technique = "xps"
[background]
kind = "linear"
[[component]]
species = "ps4"
shape = "gl"
height = {value = "guess", min = 0}
center = {value = 161.7, min = 161.2, max = 162.2}
fwhm = {value = 1.0, min = 0.6, max = 2.0}
m = 30
doublet = {split = 1.18, ratio = 0.5}
""")
    table = fit(spectrum, recipe)
    result = quantify(table, photon_energy_ev=AL_KA, lines={"ps4": "S 2p"}, imfp=None)
    assert list(result["species"]) == ["ps4"] and list(result["line"]) == ["S 2p"]
    areas = table.frame[table.frame["quantity"] == "area"]
    assert result["area"].iloc[0] == pytest.approx(areas["value"].sum())
    assert result["area_stderr"].iloc[0] == pytest.approx(areas["stderr"].sum())
    assert result["binding_energy"].iloc[0] == pytest.approx(161.7, abs=0.02)  # the main line
    assert result["rsf"].iloc[0] == pytest.approx(1.675, abs=0.005)
    assert result["atomic_percent"].iloc[0] == pytest.approx(100.0)
    with pytest.raises(ConfigError, match="core level"):
        quantify(table, photon_energy_ev=AL_KA)  # 'ps4' is not a line: lines= needed


@pytest.mark.parametrize(("change", "message"), [
    ({"area": [-1.0, 1.0]}, "negative"),
    ({"area": [math.nan, 1.0]}, "not finite"),
    ({"binding_energy": [1500.0, 531.0]}, "cannot be excited"),
    ({"species": ["C 1s", "Zz 1s"]}, "unknown element"),
])
def test_bad_rows_raise_config_error(change, message):
    table = pd.DataFrame({"species": ["C 1s", "O 1s"], "area": [1.0, 1.0], "binding_energy": [285.0, 531.0]})
    with pytest.raises(ConfigError, match=message):
        quantify(table.assign(**change), photon_energy_ev=AL_KA)


def test_bad_options_raise_config_error():
    table = pd.DataFrame({"species": ["C 1s"], "area": [1.0]})
    for options in ({"photon_energy_ev": -1.0}, {"photon_energy_ev": 100.0},
                    {"photon_energy_ev": AL_KA, "rsf": {"O 1s": 1.0}},
                    {"photon_energy_ev": AL_KA, "rsf": "wagner"},
                    {"photon_energy_ev": AL_KA, "rsf": "column"},
                    {"photon_energy_ev": AL_KA, "transmission": "file"},
                    {"photon_energy_ev": AL_KA, "imfp": "seah"},
                    {"photon_energy_ev": AL_KA, "analyser_angle_deg": 200.0}):
        with pytest.raises(ConfigError):
            quantify(table, **options)
    with pytest.raises(ConfigError, match="lacks column"):
        quantify(table.drop(columns="area"), photon_energy_ev=AL_KA)
    with pytest.raises(ConfigError, match="DataFrame or a FitTable"):
        quantify([1, 2], photon_energy_ev=AL_KA)
