"""The NMR benchmark runs end to end on tiny sizes and reports every target (speed unchecked)."""

from __future__ import annotations

import io

import pytest


@pytest.fixture
def bench(import_benchmark):
    """``benchmarks.nmr``, imported with single-threaded BLAS."""
    return import_benchmark("nmr")


def test_quick_run_agrees_with_nmrglue_and_reports_targets(bench):
    out = io.StringIO()
    results = bench.run(bench.QUICK, seed=3, out=out)
    assert results["shape"] == (bench.QUICK.rows, bench.QUICK.points)
    # identical results whatever the speed
    assert results["max_rel_diff"] < 1e-10
    assert results["specssb_seconds"] > 0 and results["nmrglue_seconds"] > 0
    keys = [row["key"] for row in results["targets"]]
    assert keys == [key for key, *_ in bench.TARGETS]
    assert {row["status"] for row in results["targets"]} <= {"PASS", "FAIL"}
    report = out.getvalue()
    assert "nmrglue / specssb" in report
    assert all(row["description"] in report for row in results["targets"])


def test_listed_by_the_entry_point(capsys, import_benchmark):
    entry = import_benchmark("__main__")
    assert entry.main([]) == 0
    assert "nmr" in capsys.readouterr().out
