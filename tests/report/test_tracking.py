"""Tracking: cycles for every row, species versus cycle with uncertainties, trends, correlation
with the capacity, and one species across techniques — on the sample session against truth.json
and on synthetic frames with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from specssb.errors import ConfigError
from specssb.report.echem import cycle_summary, read_cycler_table
from specssb.report.session import SessionResult
from specssb.report.tracking import (
    assign_cycles,
    capacity_correlation,
    cross_technique,
    default_aliases,
    species_vs_cycle,
    technique_of,
    trends,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
START = pd.Timestamp("2026-03-02 08:03", tz="UTC")  # first record of cell01_GCPL.mpt


# ---------------------------------------------------------------------- the sample session
@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def cycler() -> pd.DataFrame:
    return read_cycler_table(SAMPLE / "echem" / "cell01_GCPL.mpt")


@pytest.fixture(scope="module")
def placed(cycler: pd.DataFrame, sample_result: SessionResult) -> pd.DataFrame:
    """The sample session (run once for the test run) and every row given its cycle."""
    return assign_cycles(sample_result.frame(), cycler)


@pytest.fixture(scope="module")
def table(placed: pd.DataFrame) -> pd.DataFrame:
    return species_vs_cycle(placed)


def _value(table: pd.DataFrame, analysis: str, species: str, quantity: str, cycle: int) -> pd.Series:
    rows = table[(table["analysis"] == analysis) & (table["species"] == species)
                 & (table["quantity"] == quantity) & (table["cycle"] == cycle)]
    assert len(rows) == 1, (analysis, species, quantity, cycle)
    return rows.iloc[0]


def test_sample_rows_get_the_cycle_truth_gives(placed: pd.DataFrame, truth: dict) -> None:
    by_file = placed.drop_duplicates("file").set_index("file")
    for name, expected in truth.items():
        if name not in by_file.index or "cycle" not in expected or not name.startswith(("xps", "nmr/cell01_7Li/", "xas/cell01_S")):
            continue
        assert by_file.loc[name, "cycle"] == expected["cycle"], name
        assert by_file.loc[name, "cycle_source"] == "cycler"
    # the "after 20 cycles" spectra were taken after the record ends: cycle 20, said so
    assert "after the cycler record ends" in by_file.loc["xps/cell01_cycle20.vms", "cycle_note"]
    assert np.isnan(by_file.loc["xps/cell01_cycle20.vms", "potential_v"])
    # a spectrum taken during a cycle gets the cycler's potential and state of charge
    assert 3.0 < by_file.loc["nmr/cell01_7Li/5", "potential_v"] < 4.3
    assert 0.0 <= by_file.loc["nmr/cell01_7Li/5", "state_of_charge"] <= 1.0
    # the JCAMP export has no acquisition time; cell02 files are not put on cell01's cycles
    jdx = by_file.loc["nmr/cell01_7Li_cycle10.jdx"]
    assert np.isnan(jdx["cycle"]) and jdx["cycle_source"] == "none"
    assert jdx["cycle_note"] == "no acquisition time"
    for name in ("nmr/cell02_7Li_csi/2", "raman/cell02_lco_lpscl_map_after.wdf"):
        assert by_file.loc[name, "cycle_source"] == "none"
        assert "another cell" in by_file.loc[name, "cycle_note"]


def test_s2p_li2s_fraction_of_sulfur_grows_beyond_its_errors(table: pd.DataFrame, truth: dict) -> None:
    """The Li2S share of S 2p, main line and its 2p1/2 partner folded together, one value per
    cycle; every cycle against truth is tests/report/test_sample_truth.py."""
    for cycle in (0, 10, 20):
        row = _value(table, "xps-s2p-argyrodite", "li2s", "fraction", cycle)
        assert row["components"] == "li2s+li2s_2p12"
        assert row["n_spectra"] == 1 and row["unit"] == "1"
    first = _value(table, "xps-s2p-argyrodite", "li2s", "fraction", 0)
    last = _value(table, "xps-s2p-argyrodite", "li2s", "fraction", 20)
    expected = truth["xps/cell01_cycle20.vms"]["li2s_fraction_of_S"] - truth["xps/cell01_cycle00.vms"]["li2s_fraction_of_S"]
    growth = last["value"] - first["value"]
    assert growth > 3 * np.hypot(first["stderr"], last["stderr"])  # Li2S grows, beyond error
    assert abs(growth - expected) < 0.03


def test_li_metal_fraction_grows_as_truth(table: pd.DataFrame, truth: dict) -> None:
    """truth gives the Li metal line's FID amplitude relative to the electrolyte line's, and a
    line's area is proportional to its FID amplitude whatever its width, so the metal's share of
    the 7Li signal is a / (1 + a). Tolerance 2e-3 (1.2 % of the cycle-10 share): the fit's
    stderr (~1.5e-4) counts only the noise; the Lorentzian wings the fit window cuts and the
    linear baseline under them move the share by up to ~1.1e-3 (cycle 2)."""
    expected = {}
    for name, item in truth.items():
        if name.startswith("nmr/cell01_7Li/"):
            a = item["li_metal_relative_amplitude"]
            expected[item["cycle"]] = a / (1 + a)
    assert sorted(expected) == list(range(21))
    for cycle, share in expected.items():
        row = _value(table, "nmr-7li-metal", "li_metal", "fraction", cycle)
        assert abs(row["value"] - share) < 2e-3, (cycle, row["value"], share)


def test_li_metal_trend_positive_with_its_stderr(table: pd.DataFrame, truth: dict) -> None:
    found = trends(table)
    row = found[(found["analysis"] == "nmr-7li-metal") & (found["species"] == "li_metal")
                & (found["quantity"] == "fraction")].iloc[0]
    assert row["n_cycles"] == 21 and row["weighted"]
    assert row["slope_per_cycle"] > 20 * row["slope_stderr"] > 0
    # the same weighted line through the true shares
    sub = table[(table["analysis"] == "nmr-7li-metal") & (table["species"] == "li_metal")
                & (table["quantity"] == "fraction")]
    true_share = np.array([0.02 * c / (1 + 0.02 * c) for c in sub["cycle"]])
    reference = trends(sub.assign(value=true_share)).iloc[0]
    assert abs(row["slope_per_cycle"] - reference["slope_per_cycle"]) < 3 * row["slope_stderr"]
    # a/(1+a) bends away from a line: redchi says the points scatter beyond their error bars,
    # and the stderr is widened by sqrt(redchi)
    assert row["redchi"] > 10


def test_li_metal_correlates_with_capacity_fade(table: pd.DataFrame, cycler: pd.DataFrame) -> None:
    summary = cycle_summary(cycler)
    found = capacity_correlation(table, summary)
    row = found[(found["analysis"] == "nmr-7li-metal") & (found["species"] == "li_metal")
                & (found["quantity"] == "fraction")].iloc[0]
    assert row["n"] == 20  # cycles 0-19 have a capacity; cycle 20 is after the record
    assert row["pearson_r"] < -0.99 and row["pearson_p"] < 1e-6
    assert row["spearman_rho"] == pytest.approx(-1.0)
    retention = capacity_correlation(table, summary, capacity="capacity_retention")
    same = retention[(retention["analysis"] == "nmr-7li-metal") & (retention["species"] == "li_metal")
                     & (retention["quantity"] == "fraction")].iloc[0]
    assert same["pearson_r"] == pytest.approx(row["pearson_r"], abs=1e-9)  # scale-free
    # Li2S grows as the capacity fades (it saturates, so rank correlation is the measure)
    xps = found[(found["analysis"] == "xps-s2p-argyrodite") & (found["species"] == "li2s")
                & (found["quantity"] == "fraction")].iloc[0]
    assert xps["n"] == 20 and xps["spearman_rho"] < -0.8


def test_li2s_across_techniques_on_the_sample(table: pd.DataFrame) -> None:
    found = cross_technique(table)
    li2s = found[found["chemical"] == "li2s"]
    assert set(li2s["technique"]) == {"xps", "raman"}
    raman = li2s[(li2s["technique"] == "raman") & (li2s["quantity"] == "fraction")].iloc[0]
    assert raman["cycle"] == 10 and raman["n_values"] > 1  # a map: the mean of its pixels
    assert "c_c" not in set(found["species"])  # seen by XPS only


# ---------------------------------------------------------------------- cycles (synthetic)
def test_tags_beat_the_cycler(cycler: pd.DataFrame) -> None:
    during_cycle_0 = START + pd.Timedelta(hours=1)
    frame = pd.DataFrame({
        "file": ["a.vms", "b.vms"], "value": [1.0, 2.0],
        "acquired_at": pd.to_datetime([during_cycle_0, during_cycle_0]),
        "cycle": pd.Series([7, None], dtype=object),
        "state_of_charge": pd.Series([0.5, None], dtype=object),
    })
    out = assign_cycles(frame, cycler)
    assert out["cycle"].tolist() == [7.0, 0.0]
    assert out["cycle_source"].tolist() == ["tag", "cycler"]
    assert out["state_of_charge"].iloc[0] == 0.5
    assert 0 < out["state_of_charge"].iloc[1] < 1
    again = assign_cycles(out, cycler)  # idempotent: a joined cycle does not become a tag
    assert again["cycle_source"].tolist() == ["tag", "cycler"]


def test_rows_that_cannot_be_placed(cycler: pd.DataFrame) -> None:
    frame = pd.DataFrame({
        "file": ["a", "b", "c", "d"], "value": 1.0,
        "acquired_at": pd.to_datetime([None, START - pd.Timedelta(days=1),
                                       START + pd.Timedelta(days=30), START], utc=True),
    })
    out = assign_cycles(frame, cycler)
    assert out["cycle"].isna().tolist() == [True, True, True, False]
    assert out["cycle_source"].tolist() == ["none", "none", "none", "cycler"]
    assert out["cycle_note"].iloc[0] == "no acquisition time"
    assert "before the cycler record starts" in out["cycle_note"].iloc[1]
    assert "beyond after_end_s" in out["cycle_note"].iloc[2]
    alone = assign_cycles(frame, None)
    assert alone["cycle_source"].eq("none").all()
    assert alone["cycle_note"].iloc[3] == "no cycler table"
    with pytest.raises(ConfigError, match="whole number"):
        assign_cycles(frame.assign(cycle=[1.5, None, None, None]), None)


# -------------------------------------------------------------- values per cycle (synthetic)
def _rows(**columns: object) -> pd.DataFrame:
    base = {"species": "li2s", "quantity": "fraction", "unit": "1", "converged": True,
            "recipe": "xps-test 0000", "block": ""}
    return pd.DataFrame({**base, **columns})


def test_inverse_variance_mean_and_scatter() -> None:
    consistent = species_vs_cycle(_rows(cycle=1, file=["a", "b"], value=[1.0, 1.05],
                                        stderr=[0.1, 0.1]))
    assert consistent["value"].iloc[0] == pytest.approx(1.025)
    assert consistent["stderr"].iloc[0] == pytest.approx(0.1 / np.sqrt(2))  # internal error
    weighted = species_vs_cycle(_rows(cycle=1, file=["a", "b"], value=[1.0, 2.0],
                                      stderr=[0.1, 0.2]))
    assert weighted["value"].iloc[0] == pytest.approx((100 * 1.0 + 25 * 2.0) / 125)
    # the two disagree by 4.5 sigma: the scatter's error sqrt(20 / 125) = 0.4 wins
    assert weighted["stderr"].iloc[0] == pytest.approx(0.4)
    plain = species_vs_cycle(_rows(cycle=1, file=["a", "b", "c"], value=[1.0, 2.0, 3.0],
                                   stderr=[0.1, np.nan, 0.1]))
    assert plain["value"].iloc[0] == pytest.approx(2.0)
    assert plain["stderr"].iloc[0] == pytest.approx(1.0 / np.sqrt(3))
    assert plain["technique"].iloc[0] == "xps" and plain["n_spectra"].iloc[0] == 3


def test_a_map_is_one_measurement_its_spatial_mean() -> None:
    pixels = _rows(cycle=2, file="map.wdf", index=["0,0", "0,1", "1,0", "1,1"],
                   value=[0.0, 0.0, 0.0, 0.4], stderr=[0.001, 0.001, 0.001, 0.05])
    single = _rows(cycle=2, file="spot.wdf", index="", value=[0.1], stderr=[0.05])
    out = species_vs_cycle(pd.concat([pixels, single], ignore_index=True))
    row = out.iloc[0]
    assert row["n_spectra"] == 2 and row["n_values"] == 5
    map_mean, map_error = 0.1, np.std([0, 0, 0, 0.4], ddof=1) / 2  # plain mean, spatial scatter
    w = np.array([1 / map_error**2, 1 / 0.05**2])
    assert row["value"] == pytest.approx((w[0] * map_mean + w[1] * 0.1) / w.sum())
    assert row["stderr"] == pytest.approx(1 / np.sqrt(w.sum()))


def test_doublet_partners_are_folded_in() -> None:
    rows = _rows(cycle=0, file="a.vms", species=["ps4", "ps4_2p12", "li2s", "li2s_b", "s8_3d"],
                 value=[0.4, 0.2, 0.2, 0.1, 0.1], stderr=[0.02, 0.01, 0.04, 0.02, 0.01])
    centres = _rows(cycle=0, file="a.vms", species=["li2s", "li2s_b"], quantity="center",
                    value=[160.2, 161.38], stderr=[0.01, 0.01])
    out = species_vs_cycle(pd.concat([rows, centres]), quantities=("fraction", "center"))
    got = out.set_index(["species", "quantity"])
    assert got.loc[("li2s", "fraction"), "value"] == pytest.approx(0.3)
    assert got.loc[("li2s", "fraction"), "stderr"] == pytest.approx(0.06)  # tied: linear sum
    assert got.loc[("li2s", "fraction"), "components"] == "li2s+li2s_b"
    assert got.loc[("ps4", "fraction"), "value"] == pytest.approx(0.6)
    assert got.loc[("li2s", "center"), "value"] == pytest.approx(160.2)  # partner's dropped
    assert ("s8_3d", "fraction") in got.index  # not a partner pattern: kept as it is
    assert set(out["species"]) == {"ps4", "li2s", "s8_3d"}


def test_builtin_recipe_partners_are_read_from_the_recipe() -> None:
    from specssb.fitting.recipe import load_recipe

    recipe = load_recipe("xps-s2p-argyrodite")
    rows = _rows(cycle=0, file="a.vms", recipe=f"{recipe.name} {recipe.hash}",
                 species=["li2s", "li2s_2p12"], value=[0.2, 0.1], stderr=[0.02, 0.01])
    out = species_vs_cycle(rows)
    assert out["value"].tolist() == pytest.approx([0.3])


def test_unconverged_values_left_out_unless_nothing_else() -> None:
    rows = _rows(cycle=[1, 1, 2], file=["a", "b", "c"], value=[0.1, 0.9, 0.5],
                 stderr=[0.01, 0.01, 0.01], converged=[True, False, False])
    out = species_vs_cycle(rows).set_index("cycle")
    assert out.loc[1, "value"] == pytest.approx(0.1) and out.loc[1, "n_unconverged"] == 1
    assert out.loc[1, "converged"]
    assert out.loc[2, "value"] == pytest.approx(0.5) and not out.loc[2, "converged"]


def test_technique_mapping() -> None:
    frame = pd.DataFrame({
        "recipe": ["xps-s2p x", "mine x", "mine x", "raman-ps4-band x", "odd x"],
        "engine": ["batched", "xas", "csi", "batched", "batched"],
        "technique": [None, None, None, None, "nmr"],
    })
    assert technique_of(frame).tolist() == ["xps", "xas", "nmr", "raman", "nmr"]
    assert technique_of(frame.drop(columns="technique")).tolist()[-1] == "unknown"


# -------------------------------------------------------------------- trends (synthetic)
def _series(cycles: np.ndarray, values: np.ndarray, errors: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"technique": "xps", "analysis": "a", "species": "li2s",
                         "quantity": "fraction", "unit": "1", "cycle": cycles, "value": values,
                         "stderr": errors})


def test_trend_recovers_a_known_slope() -> None:
    rng = np.random.default_rng(7)
    cycles = np.arange(21)
    sigma = np.where(cycles % 2, 0.004, 0.008)
    values = 0.05 + 0.012 * cycles + rng.normal(0, sigma)
    row = trends(_series(cycles, values, sigma)).iloc[0]
    assert row["weighted"] and row["n_cycles"] == 21
    assert abs(row["slope_per_cycle"] - 0.012) < 3 * row["slope_stderr"]
    assert abs(row["intercept"] - 0.05) < 3 * row["intercept_stderr"]
    assert 0.4 < row["redchi"] < 2.0
    w = 1 / sigma**2
    propagated = 1 / np.sqrt(np.sum(w * (cycles - np.sum(w * cycles) / w.sum()) ** 2))
    assert row["slope_stderr"] == pytest.approx(propagated * np.sqrt(max(1.0, row["redchi"])))
    # stderrs ten times too small: the fit says so (redchi ~100) and widens the slope's error
    tight = trends(_series(cycles, values, sigma / 10)).iloc[0]
    assert tight["redchi"] > 30
    assert tight["redchi"] == pytest.approx(100 * row["redchi"])
    assert tight["slope_stderr"] == pytest.approx(propagated / 10 * np.sqrt(tight["redchi"]))


def test_trend_without_errors_and_with_few_cycles() -> None:
    unweighted = trends(_series(np.arange(5), 2.0 - 0.5 * np.arange(5.0), np.full(5, np.nan)))
    row = unweighted.iloc[0]
    assert not row["weighted"] and np.isnan(row["redchi"])
    assert row["slope_per_cycle"] == pytest.approx(-0.5) and row["slope_stderr"] == pytest.approx(0.0, abs=1e-12)
    two = trends(_series(np.array([0, 10]), np.array([0.1, 0.3]), np.array([0.03, 0.04]))).iloc[0]
    assert two["slope_per_cycle"] == pytest.approx(0.02)
    assert two["slope_stderr"] == pytest.approx(0.05 / 10)  # hypot(0.03, 0.04) over 10 cycles
    one = trends(_series(np.array([3]), np.array([0.2]), np.array([0.01]))).iloc[0]
    assert np.isnan(one["slope_per_cycle"]) and one["n_cycles"] == 1


# --------------------------------------------------------------- correlation (synthetic)
def test_correlation_recovers_a_known_r() -> None:
    rng = np.random.default_rng(3)
    cycles = np.arange(12)
    capacity = 1.0 - 0.01 * cycles + rng.normal(0, 0.002, cycles.size)
    species = rng.normal(0, 1, cycles.size) + 3 * (1 - capacity) * 50
    summary = pd.DataFrame({"cycle": cycles, "discharge_capacity_mah": capacity,
                            "complete": True})
    table = _series(cycles, species, np.full(cycles.size, 0.1))
    row = capacity_correlation(table, summary).iloc[0]
    expected = np.corrcoef(species, capacity)[0, 1]
    assert row["pearson_r"] == pytest.approx(expected, abs=1e-12) and row["n"] == 12
    exact = capacity_correlation(_series(cycles, 2.0 * cycles, np.ones(12)), summary.assign(
        discharge_capacity_mah=1 - 0.01 * cycles)).iloc[0]
    assert exact["pearson_r"] == pytest.approx(-1.0) and exact["spearman_rho"] == pytest.approx(-1.0)
    # offset -1 pairs cycle c with the capacity of cycle c - 1: cycle 0 has no partner
    shifted = capacity_correlation(table, summary, cycle_offset=-1).iloc[0]
    assert shifted["n"] == 11
    few = capacity_correlation(table[table["cycle"] < 2], summary).iloc[0]
    assert few["n"] == 2 and np.isnan(few["pearson_r"]) and np.isnan(few["spearman_p"])
    incomplete = capacity_correlation(table, summary.assign(complete=cycles < 2)).iloc[0]
    assert incomplete["n"] == 2 and np.isnan(incomplete["pearson_r"])
    with pytest.raises(ConfigError, match="no column"):
        capacity_correlation(table, summary, capacity="retention")


# ---------------------------------------------------------- across techniques (synthetic)
def test_cross_technique_with_aliases() -> None:
    table = pd.DataFrame({
        "technique": ["xps", "xas", "raman", "xps"],
        "analysis": ["s2p", "s-k lcf", "bands", "c1s"],
        "species": ["li2s", "Li2S", "li2s_band", "c_c"],
        "quantity": ["fraction", "fraction", "area", "fraction"],
        "cycle": [5, 5, 5, 5], "value": [0.2, 0.25, 900.0, 0.7],
    })
    found = cross_technique(table, {"li2s": ["LI2S", "li2s_band"]})
    assert found["chemical"].unique().tolist() == ["li2s"]
    assert set(found["technique"]) == {"xps", "xas", "raman"}
    assert found.columns[0] == "chemical"
    assert cross_technique(table, {"c_c": []}).empty  # one technique only
    assert len(cross_technique(table, {"c_c": []}, min_techniques=1)) == 1
    aliases = default_aliases()
    assert {"li2s", "Li2S", "li2s_band"} <= set(aliases["li2s"])
    assert {"lco_eg", "lco_a1g"} <= set(aliases["licoo2"])
    assert "Li2Sx" in aliases["polysulfide"] and "li2sx" not in aliases
    assert len(cross_technique(table)) == 3  # the default table knows Li2S as well
