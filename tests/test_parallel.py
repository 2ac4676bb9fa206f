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


def test_a_failed_chunk_on_dask_keeps_the_other_results():
    pytest.importorskip("distributed")
    chunks = [1, 2, -3, 4] + list(range(5, 25))  # more chunks than the in-flight window of 8
    with pytest.raises(FitError, match="1 of 24 chunks failed: chunk 2: ValueError") as caught:
        map_chunks(fail_on_negative, chunks, workers=2, scheduler="local")
    assert caught.value.results == [10, 20, None] + [10 * c for c in chunks[3:]]


def test_dask_sends_chunks_a_window_at_a_time():
    """At most IN_FLIGHT_PER_WORKER chunks per worker are out before results come back (a map
    on disk is read a few chunks at a time); submitting all 40 at once fails this test."""
    distributed = pytest.importorskip("distributed")
    from specssb.parallel import IN_FLIGHT_PER_WORKER, _gather

    futures: list = []
    most_out = [0]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        real_submit, real_map = client.submit, client.map

        def count(new: list) -> list:
            out = sum(future.status == "pending" for future in futures)
            most_out[0] = max(most_out[0], out + len(new))
            futures.extend(new)
            return new

        client.submit = lambda *args, **kwargs: count([real_submit(*args, **kwargs)])[0]
        client.map = lambda *args, **kwargs: count(real_map(*args, **kwargs))
        outcomes = _gather(client, fail_on_negative, list(range(40)))
    assert [result for result, _ in outcomes] == [10 * i for i in range(40)]
    assert len(futures) == 40
    assert most_out[0] <= IN_FLIGHT_PER_WORKER  # one worker thread


def test_zero_workers_is_a_config_error():
    with pytest.raises(ConfigError):
        map_chunks(square_sum, [np.ones(2)], workers=0)


def test_workers_on_this_host_share_its_files():
    """Chunks of a map on disk go as their place in the file only to workers on this host."""
    distributed = pytest.importorskip("distributed")
    from specssb.parallel import _all_local, shares_files

    assert shares_files() and shares_files(2) and shares_files(2, "local")
    assert not _all_local(["tcp://192.0.2.7:40000"])  # TEST-NET-1: never this machine
    assert not _all_local([])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert shares_files(1, cluster.scheduler_address)  # through a Client opened for it
        with distributed.Client(cluster):
            assert shares_files(1, cluster.scheduler_address)  # through the session's Client


def test_workers_of_another_cluster_are_asked_whether_they_see_a_file(tmp_path):
    """A worker on this host may still have its own /dev/shm (a container): it is asked."""
    distributed = pytest.importorskip("distributed")
    from specssb.parallel import workers_see

    here = tmp_path / "here.bin"
    here.write_bytes(b"\0")
    assert workers_see(tmp_path / "anything") and workers_see(here, 2, "local")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        assert workers_see(here, 1, cluster.scheduler_address)
        other = tmp_path / "elsewhere" / "gone.bin"  # another folder: asked again
        assert not workers_see(other, 1, cluster.scheduler_address)
