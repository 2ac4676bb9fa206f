"""Raman preprocessing on synthetic maps: spikes, smoothing, baselines, normalization."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from specssb import Axis, Spectrum
from specssb.errors import PhysicsWarning
from specssb.fitting.backgrounds import get_background
from specssb.fitting.raman.preprocess import (
    crop,
    despike,
    despike_neighbours,
    normalize,
    smooth,
    subtract_baseline,
    whittaker_smooth,
)

SHIFT = np.linspace(150.0, 1250.0, 1000)  # 1.1 cm-1 steps: 7 points per FWHM of PS4


def lorentz(x, height, center, fwhm):
    return height / (1 + (2 * (x - center) / fwhm) ** 2)


@pytest.fixture(scope="module")
def spiked_map():
    """20 x 20 map: PS4 band (varying height) + fluorescence + Poisson noise + 40 spikes."""
    rng = np.random.default_rng(7)
    height = rng.uniform(300, 900, (20, 20, 1))
    truth = lorentz(SHIFT, height, 425.0, 8.0) + 400 * np.exp(-(SHIFT - 150) / 500) + 80
    counts = rng.poisson(truth).astype(float)
    spikes = np.zeros_like(counts)
    flat = rng.choice(20 * 20 * SHIFT.size, 40, replace=False)
    spikes.flat[flat] = rng.uniform(400, 3000, 40)
    raw = Spectrum(axis=Axis("raman_shift", "cm-1", SHIFT), data=counts + spikes,
                   technique="raman", signal="counts", dims=("y", "x"))
    return raw, truth, spikes > 0


def test_despike_finds_every_spike_and_leaves_bands(spiked_map):
    raw, truth, is_spike = spiked_map
    clean = despike(raw)
    changed = clean.data != raw.data
    # all 40 found, no band point touched (a band sampled by < 5 points per FWHM can be: see
    # the neighbour test below)
    assert np.array_equal(changed, is_spike)
    noise = np.sqrt(truth)
    assert np.all(np.abs(clean.data - truth)[is_spike] < 6 * noise[is_spike] + 60)
    step = clean.history[-1]
    assert step.operation == "despike" and step.parameters["points_replaced"] == 40
    assert step.parameters["stabilize"] is True


def test_despike_without_variance_stabilisation_flags_the_band(spiked_map):
    # shot noise is larger on the band: plain Whitaker-Hayes takes band points for spikes
    raw, _, is_spike = spiked_map
    plain = despike(raw, threshold=5.0, stabilize=False)
    assert np.count_nonzero((plain.data != raw.data) & ~is_spike) > 0


def test_despike_two_point_spike_and_edge_spike():
    y = 100 + 10 * np.sin(np.arange(300) / 15.0)
    spiked = y.copy()
    spiked[100:102] += 800  # a 2-channel cosmic ray
    spiked[0] += 900  # on the first channel
    s = Spectrum(axis=Axis("raman_shift", "cm-1", np.arange(300.0)), data=spiked,
                 technique="raman", signal="intensity")
    out = despike(s, threshold=6.0, window=3).data
    np.testing.assert_allclose(out[100:102], y[100:102], atol=2.0)
    assert out[0] == pytest.approx(y[0], abs=3.0)
    np.testing.assert_array_equal(out[2:99], y[2:99])


def test_neighbour_test_keeps_sharp_bands_that_per_spectrum_test_hits():
    rng = np.random.default_rng(1)
    x = np.arange(400.0)
    band = lorentz(x, 2000, 200.0, 1.2)  # sharp band, ~1 point per FWHM, in every pixel
    data = rng.poisson(band + 100, (12, 12, 400)).astype(float)
    data[5, 6, 80] += 1500
    data[0, 0, 300] += 1500  # corner pixel: 3 neighbours
    s = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=data, technique="raman",
                 signal="counts", dims=("y", "x"))
    per_spectrum = despike(s, threshold=4.0)
    assert np.any((per_spectrum.data != data)[..., 195:206])  # the band taken for a spike
    spatial = despike_neighbours(s)
    changed = spatial.data != data
    assert changed[5, 6, 80] and changed[0, 0, 300]
    assert np.count_nonzero(changed) == 2
    assert abs(spatial.data[5, 6, 80] - 100) < 40


def test_neighbour_test_needs_a_map():
    one = Spectrum(axis=Axis("raman_shift", "cm-1", SHIFT), data=np.ones(SHIFT.size),
                   technique="raman", signal="counts")
    with pytest.raises(ValueError, match="map"):
        despike_neighbours(one)


@pytest.mark.parametrize("method", ["savgol", "whittaker"])
def test_smoothing_never_mixes_pixels(method):
    data = np.zeros((5, 6, 200))
    data[2, 3, 100] = 1.0
    s = Spectrum(axis=Axis("raman_shift", "cm-1", np.arange(200.0)), data=data,
                 technique="raman", signal="intensity", dims=("y", "x"))
    out = smooth(s, method).data
    others = np.ones((5, 6), dtype=bool)
    others[2, 3] = False
    assert np.all(out[others] == 0.0)
    assert out[2, 3, 100] < 1.0 and out[2, 3, 99] > 0.0
    assert s.data[2, 3, 100] == 1.0  # input untouched


def test_savgol_equals_scipy_and_whittaker_solves_its_system():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 4, 150))
    s = Spectrum(axis=Axis("raman_shift", "cm-1", np.arange(150.0)), data=data,
                 technique="raman", signal="intensity", dims=("y", "x"))
    np.testing.assert_allclose(smooth(s, window_length=11, polyorder=2).data,
                               savgol_filter(data, 11, 2, axis=-1, mode="interp"), atol=1e-13)
    z = whittaker_smooth(data, lam=50.0)
    d = np.diff(np.eye(150), 2, axis=0)
    dense = np.linalg.solve(np.eye(150) + 50.0 * d.T @ d, data.reshape(-1, 150).T).T
    np.testing.assert_allclose(z.reshape(-1, 150), dense, atol=1e-10)
    with pytest.raises(ValueError, match="odd"):
        smooth(s, window_length=10)


def test_baseline_is_the_registry_result_for_every_pixel(spiked_map):
    raw, truth, _ = spiked_map
    clean = despike(raw)
    corrected = subtract_baseline(clean, "asls", lam=1e6, p=0.01)
    baseline, _ = get_background("asls")(SHIFT, clean.data, lam=1e6, p=0.01)
    np.testing.assert_allclose(corrected.data, clean.data - baseline)
    one, _ = get_background("asls")(SHIFT, clean.data[3, 4], lam=1e6, p=0.01)
    np.testing.assert_allclose(baseline[3, 4], one, rtol=1e-7)  # batched vs LAPACK rounding
    step = corrected.history[-1]
    assert step.parameters == {"method": "asls", "lam": 1e6, "p": 0.01, "unconverged": 0}
    # the fluorescence (480 -> 90 counts) is gone: away from the band the corrected map is
    # nearly flat, a little above zero (AsLS follows the lower edge of the noise, σ ≈ 10–20)
    low, high = np.median(corrected.data[..., SHIFT < 300]), np.median(corrected.data[..., SHIFT > 900])
    assert 0 < low < 50 and 0 < high < 50 and abs(low - high) < 20


def test_normalizations():
    x = np.linspace(0.0, 10.0, 101)
    y = np.stack([2.0 + lorentz(x, 8.0, 5.0, 1.0), 3.0 * (2.0 + lorentz(x, 8.0, 5.0, 1.0))])
    s = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=y, technique="raman",
                 signal="counts", dims=("x",))
    for method in ("vector", "max", "area", "band_height", "band_area"):
        out = normalize(s, method, band=(4.0, 6.0))
        np.testing.assert_allclose(out.data[0], out.data[1])  # scale-free
        assert out.signal == "norm" and out.history[-1].parameters["method"] == method
    assert np.linalg.norm(normalize(s, "vector").data[1]) == pytest.approx(1.0)
    mm = normalize(s, "minmax").data
    assert mm.min() == 0.0 and mm.max() == 1.0
    assert np.trapezoid(normalize(s, "area").data[0], x) == pytest.approx(1.0)
    assert normalize(s, "band_height", band=(4, 6)).data[0].max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="band"):
        normalize(s, "band_area")
    with pytest.warns(PhysicsWarning, match="zero"):
        empty = normalize(s.replace(data=np.vstack([y[0], np.zeros(101)])), "vector")
    assert np.all(np.isnan(empty.data[1]))


def test_crop_and_pipeline_history(spiked_map):
    raw, _, _ = spiked_map
    out = normalize(subtract_baseline(smooth(despike(crop(raw, 300, 600))), "snip",
                                      max_half_window=40), "band_area", band=(400, 450))
    assert out.axis.values.min() >= 300 and out.axis.values.max() <= 600
    assert [step.operation for step in out.history] == [
        "crop", "despike", "smooth", "subtract_baseline", "normalize"]
    assert out.shape[:2] == (20, 20) and out.dims == ("y", "x")
