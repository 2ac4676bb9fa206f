"""Chunked execution: identical results serially and in processes; failures lose nothing."""

from __future__ import annotations

import numpy as np
import pytest

from specssb.errors import ConfigError, FitError
from specssb.parallel import CHUNK_VALUES, map_chunks, plan_chunks


def square_sum(chunk: np.ndarray) -> float:
    return float(np.sum(chunk**2))


def fail_on_negative(chunk: int) -> int:
    if chunk < 0:
        raise ValueError(f"bad chunk {chunk}")
    return chunk * 10


def test_plan_chunks_cover_every_item_once():
    slices = plan_chunks(103, workers=2)
    covered = np.concatenate([np.arange(103)[s] for s in slices])
    np.testing.assert_array_equal(covered, np.arange(103))
    assert len(slices) == 8
    assert plan_chunks(10, workers=1) == [slice(0, 10)]
    # at most CHUNK_VALUES values a chunk
    assert len(plan_chunks(2000, workers=1, points=CHUNK_VALUES // 500)) == 4
    assert plan_chunks(2000, workers=1, points=10) == [slice(0, 2000)]
    assert plan_chunks(10, chunk_size=4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert plan_chunks(0) == []


def test_processes_give_the_serial_results_in_order():
    chunks = [np.arange(i, i + 50, dtype=float) for i in range(6)]
    assert map_chunks(square_sum, chunks, workers=2) == map_chunks(square_sum, chunks)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failed_chunk_keeps_the_other_results(workers):
    with pytest.raises(FitError, match="1 of 4 chunks failed: chunk 2: ValueError") as caught:
        map_chunks(fail_on_negative, [1, 2, -3, 4], workers=workers)
    assert caught.value.results == [10, 20, None, 40]


def test_zero_workers_is_a_config_error():
    with pytest.raises(ConfigError):
        map_chunks(square_sum, [np.ones(2)], workers=0)
