"""The XAS LCF benchmark runs end to end on tiny sizes and reports every target (speed unchecked)."""

from __future__ import annotations

import io

import pytest


@pytest.fixture
def bench(import_benchmark):
    """``benchmarks.xas_lcf``, imported with single-threaded BLAS."""
    return import_benchmark("xas_lcf")


def test_tiny_run_reports_every_figure_and_target(bench):
    out = io.StringIO()
    results = bench.run_lcf(12, 3, seed=1, repeats=1, out=out)
    figures = results["lcf"]
    assert figures["spectra"] == 12 and figures["larch_spectra"] == 3
    assert figures["windows_equal"] is True
    # the same problem in both tools: identical weights whatever the speed
    assert figures["lcf_max_weight_diff"] < 1e-6
    assert figures["max_fraction_error"] < 0.05
    assert [row["key"] for row in results["targets"]] == [key for key, *_ in bench.TARGETS]
    assert {row["status"] for row in results["targets"]} <= {"PASS", "FAIL"}
    report = out.getvalue()
    assert "batched / Larch loop" in report
    assert all(row["description"] in report for row in results["targets"])


def test_registered_in_the_benchmark_list(import_benchmark, capsys):
    entry = import_benchmark("__main__")
    assert entry.main([]) == 0
    assert "xas-lcf" in capsys.readouterr().out
