"""The command line: exit codes, one-line errors, JSON output, conversions, demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import specssb
from specssb.cli import app, formats_markdown

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_data"
VAMAS = SAMPLES / "xps" / "cell01_cycle10.vms"
MPT = SAMPLES / "echem" / "cell01_GCPL.mpt"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"specssb {specssb.__version__}"


def test_no_arguments_is_a_usage_error():
    assert invoke("info").exit_code == 2
    assert invoke("convert", VAMAS, "--to", "xlsx").exit_code == 2


def test_formats_lists_every_registered_format():
    result = invoke("formats", "--json")
    assert result.exit_code == 0
    listed = {item["name"] for item in json.loads(result.stdout)}
    assert listed == {f.name for f in specssb.formats()}


def test_docs_formats_page_is_the_generated_table():
    page = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")
    assert page.strip() == formats_markdown().strip(), "run 'make docs' to regenerate docs/formats.md"


def test_info_json_describes_every_spectrum():
    result = invoke("info", "--json", VAMAS)
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    spectra = specssb.read(VAMAS)
    assert len(items) == len(spectra)
    for item, spectrum in zip(items, spectra):
        assert item["technique"] == "xps" and item["format"] == "vamas"
        assert item["axis"]["name"] == spectrum.axis.name and item["axis"]["unit"] == "eV"
        assert item["axis"]["size"] == spectrum.axis.size
        assert item["shape"] == list(spectrum.shape) and item["dims"] == ["binding_energy"]
        assert item["source"]["path"] == str(VAMAS) and len(item["source"]["sha256"]) == 64
        assert item["meta"]["region"] == spectrum.meta["region"]


def test_info_on_cycler_data_summarises_the_table():
    result = invoke("info", "--json", MPT)
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert item["technique"] == "echem" and item["rows"] == len(specssb.read_cycler(MPT))
    assert item["start"].startswith("2026-03-02")


def test_bad_file_is_one_line_and_exit_1(tmp_path):
    broken = tmp_path / "broken.vms"
    broken.write_bytes(VAMAS.read_bytes()[:2000])
    result = invoke("info", broken)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ParseError: ") and "broken.vms" in lines[0]


def test_batch_with_a_bad_file_goes_on_and_exits_3(tmp_path):
    broken = tmp_path / "random.vms"
    broken.write_bytes(np.random.default_rng(3).integers(0, 256, 500, dtype=np.uint8).tobytes())
    result = invoke("info", VAMAS, broken)
    assert result.exit_code == 3
    assert "cell01_cycle10.vms" in result.stdout
    assert "random.vms" in result.stderr and "1 of 2 inputs skipped" in result.stderr


@pytest.mark.parametrize("to", ["csv", "parquet", "json"])
def test_convert_writes_one_file_per_spectrum(to, tmp_path):
    result = invoke("convert", VAMAS, "--to", to, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    spectra = specssb.read(VAMAS)
    written = sorted(tmp_path.glob(f"*.{to}"))
    assert len(written) == len(spectra)
    first = written[0]
    if to == "csv":
        frame = pd.read_csv(first, comment="#")
    elif to == "parquet":
        import pyarrow.parquet as pq

        frame = pd.read_parquet(first)
        provenance = json.loads(pq.read_schema(first).metadata[b"specssb"])
        assert provenance["source"]["sha256"] == spectra[0].source.sha256
    else:
        document = json.loads(first.read_text())
        frame = pd.DataFrame({"binding_energy": document["axis"]["values"], "counts": document["data"]})
    np.testing.assert_allclose(frame["binding_energy"], spectra[0].axis.values)
    np.testing.assert_allclose(frame["counts"], spectra[0].data)
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


def test_convert_cycler_table_to_csv(tmp_path):
    result = invoke("convert", MPT, "--to", "csv", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "cell01_GCPL.csv", comment="#")
    assert "Voltage / V" in frame.columns and len(frame) == len(specssb.read_cycler(MPT))


def test_demo_reads_every_sample_and_writes_a_report(tmp_path):
    data = tmp_path / "samples"
    shutil.copytree(SAMPLES, data, ignore=shutil.ignore_patterns("__pycache__"))
    result = invoke("demo", "--data", data, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "inventory.json").read_text())
    assert not report["failed"]
    techniques = {item["technique"] for item in report["spectra"]}
    assert techniques >= {"xps", "xas", "nmr", "echem"}
    assert (tmp_path / "out" / "inventory.md").read_text().startswith("# specssb demo report")
