"""The Raman benchmark runs end to end on tiny sizes and reports every target (speeds unchecked:
speed lives in ``python -m benchmarks raman``)."""

from __future__ import annotations

import io

import numpy as np
import pytest


@pytest.fixture
def bench(import_benchmark):
    """``benchmarks.raman``, imported with single-threaded BLAS."""
    pytest.importorskip("ramanspy")
    pytest.importorskip("pybaselines")
    return import_benchmark("raman")


def test_tiny_run_reports_every_figure_and_target(bench):
    out = io.StringIO()
    results = bench.run(bench.QUICK, seed=1, out=out)
    assert [row["key"] for row in results["targets"]] == [key for key, *_ in bench.TARGETS]
    assert {row["status"] for row in results["targets"]} <= {"PASS", "FAIL"}
    # the same algorithm in both tools: the baselines agree whatever the speed
    assert results["baseline"]["baseline_max_rel_diff"] <= bench.BASELINE_RTOL
    stream = results["stream"]
    assert stream["pixels"] == bench.QUICK.stream_rows * bench.QUICK.stream_columns
    assert stream["area_map_finite"] and stream["stream_peak_gb"] > 0
    assert results["pipeline"]["converged"] == bench.QUICK.rows * bench.QUICK.columns
    report = out.getvalue()
    assert all(row["description"] in report for row in results["targets"])


def test_synthetic_rows_are_deterministic_per_chunk(bench):
    a = bench.synthetic_rows(2, 3, 50, seed=4, first_row=10)[1]
    b = bench.synthetic_rows(2, 3, 50, seed=4, first_row=10)[1]
    c = bench.synthetic_rows(2, 3, 50, seed=4, first_row=12)[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_registered_in_the_benchmark_list(import_benchmark, capsys):
    entry = import_benchmark("__main__")
    assert entry.main([]) == 0
    assert "raman" in capsys.readouterr().out
