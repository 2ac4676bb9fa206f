"""A chunk's results packed into rows of float64 and back, exactly."""

from __future__ import annotations

import numpy as np

from specssb.fitting._chunk_results import ResultLayout


def _results(m: int, layout: ResultLayout, seed: int = 0):
    rng = np.random.default_rng(seed)
    covariance = rng.normal(size=(m, layout.n_free, layout.n_free))
    covariance[1, -1, :] = np.nan  # a parameter with unknown errors
    statistics = {"std_full": rng.normal(size=(m, layout.n_full)),
                  **{name: rng.normal(size=(m, layout.n_areas))
                     for name in ("area", "area_std", "fraction", "fraction_std")}}
    return (rng.normal(size=(m, layout.n_full)), covariance, rng.random(m) > 0.5,
            rng.normal(size=m), statistics)


def test_packed_rows_unpack_to_the_same_arrays():
    layout = ResultLayout(n_full=7, n_free=4, n_areas=2)
    results = _results(6, layout)
    rows = layout.pack(results)
    assert rows.shape == (6, layout.width) == (6, 7 + 16 + 1 + 1 + 7 + 4 * 2)
    back = layout.unpack(rows)
    for before, after in zip(results[:4], back[:4]):
        assert after.dtype == before.dtype and after.flags.c_contiguous
        np.testing.assert_array_equal(after, before)  # NaN where NaN
    assert back[4].keys() == results[4].keys()
    for key, values in results[4].items():
        np.testing.assert_array_equal(back[4][key], values)


def test_rows_of_several_chunks_unpack_as_one():
    layout = ResultLayout(n_full=3, n_free=2, n_areas=1)
    first, second = _results(4, layout, seed=1), _results(5, layout, seed=2)
    whole = layout.unpack(np.concatenate([layout.pack(first), layout.pack(second)]))
    np.testing.assert_array_equal(whole[0], np.concatenate([first[0], second[0]]))
    np.testing.assert_array_equal(whole[2], np.concatenate([first[2], second[2]]))
