"""The XAS normalize benchmark runs end to end on tiny sizes and reports every target (speeds
unchecked: speed lives in ``python -m benchmarks xas``)."""

from __future__ import annotations

import importlib
import io
from pathlib import Path

import pytest


@pytest.fixture
def bench(import_benchmark):
    """``benchmarks.xas``, imported with single-threaded BLAS."""
    return import_benchmark("xas")


def test_normalize_job_reports_figures_and_agrees_with_larch(bench):
    sizes = bench.NormalizeSizes(spectra=8, larch_spectra=4, repeats=1)
    out = io.StringIO()
    results = bench.run_normalize(sizes, seed=2, out=out)
    assert results["spectra"] == 8 and results["larch_spectra"] == 4
    assert {"vs_larch", "vs_larch_default", "larch_ms_per_spectrum", "seconds",
            "first_call_seconds", "given_seconds"} <= results.keys()
    keys = [row["key"] for row in results["targets"]]
    assert keys == [key for key, *_ in bench.NORMALIZE_TARGETS]
    assert {row["status"] for row in results["targets"]} <= {"PASS", "FAIL"}
    # the same computation as Larch's, whatever the speed
    assert results["e0_max_diff"] <= 0.01 and results["given_e0_max_diff"] <= 0.01
    assert results["step_max_rel_diff"] < 1e-6 and results["given_step_max_rel_diff"] < 1e-6
    assert results["ranges_equal"] and results["given_ranges_equal"]
    assert "ratio specssb / Larch" in out.getvalue()


def test_jobs_registry_and_cli_listing(bench, capsys, monkeypatch):
    assert "normalize" in bench.JOBS and bench.JOBS["normalize"].run is bench.run_normalize
    entry = importlib.import_module("benchmarks.__main__")
    assert entry.main([]) == 0
    assert "xas " in capsys.readouterr().out
