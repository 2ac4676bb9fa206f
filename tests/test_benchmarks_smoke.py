"""The fit benchmark runs end to end on tiny sizes and reports every target (speeds unchecked)."""

from __future__ import annotations

import importlib
import importlib.util
import io
from dataclasses import replace

import pytest


@pytest.fixture
def bench(import_benchmark):
    """``benchmarks.fit``, imported with single-threaded BLAS."""
    return import_benchmark("fit")


def test_quick_run_reports_every_figure_and_target(bench):
    has_dask = importlib.util.find_spec("distributed") is not None
    sizes = replace(bench.QUICK, s2p_spectra=6, s2p_lmfit=2, s2p_scipy=3, map_rows=2,
                    map_columns=3, map_lmfit=3, dask=has_dask)
    out = io.StringIO()
    results = bench.run(sizes, seed=1, out=out)

    assert {"s2p_vs_lmfit", "s2p_vs_scipy", "s2p_max_rel_diff", "batched_per_second",
            "lmfit_per_second", "scipy_per_second"} <= results["s2p"].keys()
    assert {"raman_vs_lmfit", "raman_max_rel_diff"} <= results["raman"].keys()
    assert results["s2p"]["batched_spectra"] == 6 and results["raman"]["batched_spectra"] == 6
    keys = [row["key"] for row in results["targets"]]
    assert keys == [key for key, *_ in bench.TARGETS]
    statuses = {row["key"]: row["status"] for row in results["targets"]}
    assert set(statuses.values()) <= {"PASS", "FAIL", "SKIP"}
    if has_dask:
        assert {"warm_seconds_1", "warm_seconds_2", "local_seconds_1", "local_seconds_2",
                "dask_speedup", "disk_dask_speedup", "dask_tables_equal"} <= results["dask"].keys()
        assert results["dask"]["dask_tables_equal"] is True
    else:
        assert statuses["dask_speedup"] == "SKIP"
    # the same model on the same data: the engines agree whatever the speed
    assert results["s2p"]["s2p_max_rel_diff"] < 1e-4
    assert results["raman"]["raman_max_rel_diff"] < 1e-4
    report = out.getvalue()
    assert "batched / lmfit" in report and "result" in report
    assert all(row["description"] in report for row in results["targets"])


def test_list_and_unknown_name(capsys, import_benchmark):
    entry = import_benchmark("__main__")
    assert entry.main([]) == 0
    assert "fit" in capsys.readouterr().out
    assert entry.main(["nope"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err
