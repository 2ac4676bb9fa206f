"""The report benchmark runs end to end on a tiny session and reports every stage (speed unchecked:
speed lives in ``python -m benchmarks report``)."""

from __future__ import annotations

import io
import shutil

import pytest


@pytest.fixture
def bench(import_benchmark):
    """``benchmarks.report``."""
    return import_benchmark("report")


def test_tiny_session_times_every_stage_and_writes_the_report(bench, tmp_path):
    session = tmp_path / "session"
    for name in ("echem/cell01_GCPL.mpt", "xps/cell01_cycle10.vms"):
        (session / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(bench.SAMPLE / name, session / name)
    out = io.StringIO()
    results = bench.run(session, repeats=2, cli=False, keep=tmp_path / "report", out=out)
    cold, warm = results["cold"], results["warm_best"]
    assert len(results["passes"]) == 2 and warm is results["passes"][1]
    for stage in (*bench.STAGES, "tracking"):
        assert cold[stage] >= 0 and warm[stage] >= 0
    assert cold["total"] == pytest.approx(sum(cold[stage] for stage in bench.STAGES))
    # the five XPS regions of the file are analysed, on the cycles of the cycler file
    assert cold["analysed"] == cold["analyses"] == 5 and cold["failed"] == 0
    assert cold["species_rows"] > 0
    assert cold["report"] == tmp_path / "report" / "report.html" and cold["report"].is_file()
    assert results["command"] is None
    assert [row["key"] for row in results["targets"]] == ["cold_total"]
    assert results["targets"][0]["status"] in ("PASS", "FAIL")
    report = out.getvalue()
    assert all(stage in report for stage in bench.STAGES) and "of which tracking" in report


def test_quick_subset_is_part_of_the_sample_session(bench, tmp_path):
    folder = bench.quick_session(tmp_path / "quick")
    for name in bench.QUICK_FILES:
        assert (folder / name).exists(), name
    assert (folder / "nmr/cell01_7Li/11/fid").is_file()  # Bruker folders copied whole


def test_listed_by_the_entry_point(capsys, import_benchmark):
    entry = import_benchmark("__main__")
    assert entry.main([]) == 0
    assert "report" in capsys.readouterr().out
