"""`specssb fit` and `specssb recipes` on the sample session."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from specssb.cli import app

REPO = Path(__file__).resolve().parents[1]
XPS = [REPO / "sample_data" / "xps" / f"cell01_cycle{c:02d}.vms" for c in (0, 10)]
runner = CliRunner()


def test_fit_writes_the_table_and_figures(tmp_path):
    result = runner.invoke(app, ["fit", *map(str, XPS), "--recipe", "xps-s2p-argyrodite",
                                 "--out", str(tmp_path), "--plots", "1"])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(tmp_path / "fits.parquet")
    assert set(frame["source"]) == {str(p) for p in XPS} and frame["converged"].all()
    fractions = frame[frame.quantity == "fraction"].pivot(index="source", columns="species", values="value")
    li2s = fractions["li2s"] + fractions["li2s_2p12"]
    assert li2s[str(XPS[1])] > li2s[str(XPS[0])]  # the interphase grew with cycling
    assert len(pd.read_csv(tmp_path / "fits.csv")) == len(frame)
    assert (tmp_path / "fit_0000.png").stat().st_size > 10_000 and not (tmp_path / "fit_0001.png").exists()
    assert (tmp_path / "overview.png").exists()


def test_fit_with_no_matching_spectrum_is_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["fit", str(XPS[0]), "--recipe", "raman-ps4-band", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("SpecssbError: no spectrum in the inputs matches")


def test_fit_with_an_unknown_recipe_is_a_config_error(tmp_path):
    result = runner.invoke(app, ["fit", str(XPS[0]), "--recipe", "no-such-recipe", "--out", str(tmp_path)])
    assert result.exit_code == 1 and result.stderr.startswith("ConfigError")


def test_recipes_lists_the_built_ins():
    result = runner.invoke(app, ["recipes", "--json"])
    assert result.exit_code == 0
    names = {item["name"] for item in json.loads(result.stdout)}
    assert {"xps-s2p-argyrodite", "xps-p2p-argyrodite", "raman-ps4-band"} <= names


def test_fit_charge_corrects_each_file_from_its_own_c1s(tmp_path):
    result = runner.invoke(app, ["fit", *map(str, XPS), "--recipe", "xps-s2p-argyrodite",
                                 "--out", str(tmp_path), "--plots", "0"])
    assert result.exit_code == 0, result.output
    assert "PhysicsWarning" in result.stderr and "284.08-286.74" in result.stderr
    corrections = pd.read_csv(tmp_path / "charge_corrections.csv")
    assert list(corrections["file"]) == [str(p) for p in XPS]
    assert (corrections["line"] == "C 1s").all() and (corrections["reference_ev"] == 284.8).all()
    # the sample session's C 1s lines sit at 284.8 eV (sample_data/truth.json): small shifts
    assert (corrections["shift_ev"].abs() < 3 * corrections["measured_stderr_ev"] + 0.02).all()
    assert pd.read_csv(tmp_path / "checks.csv").empty  # good fits of charge-corrected doublets
    skipped = runner.invoke(app, ["fit", *map(str, XPS), "--recipe", "xps-s2p-argyrodite",
                                  "--out", str(tmp_path / "raw"), "--plots", "0", "--no-calibrate"])
    assert skipped.exit_code == 0 and not (tmp_path / "raw" / "charge_corrections.csv").exists()


def test_fit_processes_nmr_fids_before_an_nmr_peak_recipe(tmp_path):
    folder = REPO / "sample_data" / "nmr" / "cell01_7Li" / "11"   # a raw FID, after 10 cycles
    result = runner.invoke(app, ["fit", str(folder), "-r", "nmr-7li-metal", "-o", str(tmp_path),
                                 "--plots", "0"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "fits.csv").set_index(["species", "quantity"])
    assert abs(frame.loc[("li_metal", "center"), "value"] - 258.0) < 0.5   # Knight shift, ppm
    assert abs(frame.loc[("electrolyte", "center"), "value"] - 1.2) < 0.5
