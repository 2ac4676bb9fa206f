"""The compiled Whitaker–Hayes screening makes the numpy path's spike decisions."""

from __future__ import annotations

import numpy as np
import pytest

from specssb.fitting.raman import _despike

pytest.importorskip("numba")


def both_paths(monkeypatch, y2, threshold=7.0, window=3, stabilize=False):
    assert _despike._compiled_screen() is not None
    fused = _despike.whitaker_hayes_mask(y2, threshold, window, stabilize=stabilize)
    fused_screen = _despike._difference_outliers(y2, threshold, stabilize)
    monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "0")
    plain = _despike.whitaker_hayes_mask(y2, threshold, window, stabilize=stabilize)
    plain_screen = _despike._difference_outliers(y2, threshold, stabilize)
    monkeypatch.delenv("SPECSSB_FUSED_KERNELS")
    np.testing.assert_array_equal(fused_screen[0], plain_screen[0])
    np.testing.assert_array_equal(fused_screen[1], plain_screen[1])  # same bits, NaN included
    np.testing.assert_array_equal(fused, plain)
    return fused


@pytest.mark.parametrize("stabilize", [True, False])
@pytest.mark.parametrize("threshold", [4.0, 7.0])
def test_same_spikes_on_a_spiked_count_map(stabilize, threshold, monkeypatch):
    # Poisson counts with a band and fluorescence, spikes on 0.2 % of the points; odd and
    # even numbers of differences (the median is one value or the mean of two)
    rng = np.random.default_rng(11)
    for n in (999, 1000):
        x = np.linspace(150.0, 1250.0, n)
        truth = 800 / (1 + (2 * (x - 425.0) / 8.0) ** 2) + 400 * np.exp(-(x - 150) / 500) + 80
        counts = rng.poisson(truth, (300, n)).astype(float)
        hit = rng.random(counts.shape) < 0.002
        counts[hit] += rng.uniform(300, 3000, hit.sum())
        mask = both_paths(monkeypatch, counts, threshold, stabilize=stabilize)
        assert mask.sum() >= 0.8 * hit.sum()


def test_spectra_the_kernel_hands_back_to_numpy(monkeypatch):
    rng = np.random.default_rng(3)
    y2 = rng.normal(100.0, 2.0, (6, 200))
    y2[0] = 5.0  # constant: MAD 0 and mean deviation 0
    y2[1, ::2] = 5.0  # more than half the differences equal: MAD 0, mean deviation > 0
    y2[1, 1::2] = 5.0
    y2[1, 50] = 500.0
    y2[2, 10] = np.nan
    y2[3, 20] = np.inf
    y2[4, 30] += 400.0  # an ordinary spike next to these
    with np.errstate(invalid="ignore"):  # inf × 0 in the local means (both paths)
        assert both_paths(monkeypatch, y2)[4, 30]
        both_paths(monkeypatch, y2 - 50.0, stabilize=True)  # negative inside the transform
