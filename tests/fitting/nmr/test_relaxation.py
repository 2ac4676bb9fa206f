"""T1 / T2 fits: recovery of known constants from noisy synthetic series (issue 6: within 2 %),
error bars that cover the truth, lmfit as the oracle, and the real 29Si saturation recovery."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Coord, Spectrum
from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.nmr.relaxation import fit_t1, fit_t2, relaxation_curves, relaxation_model

T1_DELAYS = np.array([0.005, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2, 1.8, 2.5, 4.0])  # s


def noisy(curve: np.ndarray, level: float, seed: int) -> np.ndarray:
    return curve + np.random.default_rng(seed).normal(0.0, level, curve.shape)


@pytest.mark.parametrize("experiment, alpha", [("inversion_recovery", 0.95), ("saturation_recovery", 1.0)])
def test_t1_recovered_within_2_percent(experiment, alpha):
    truth = 0.42  # s
    curve = relaxation_model(experiment, T1_DELAYS, m0=1000.0, t1=truth, efficiency=alpha)
    table = fit_t1(noisy(curve, 5.0, seed=11), T1_DELAYS, experiment=experiment, names=["li"])
    row = table.frame.set_index("quantity").loc["t1"]
    assert row["value"] == pytest.approx(truth, rel=0.02)
    assert row["unit"] == "s" and row["converged"]
    assert 0 < row["stderr"] < 0.02 * truth
    assert table.frame.set_index("quantity").loc["efficiency", "value"] == pytest.approx(alpha, abs=0.02)


def test_t1_error_bars_cover_the_truth():
    """Over 60 noise draws the 1-sigma interval holds the true T1 about 68 % of the time."""
    truth = 0.42
    curve = relaxation_model("inversion_recovery", T1_DELAYS, m0=1.0, t1=truth, efficiency=1.0)
    draws = np.stack([noisy(curve, 0.01, seed) for seed in range(60)])
    frame = fit_t1(draws, T1_DELAYS).frame
    rows = frame[frame["quantity"] == "t1"]
    inside = (np.abs(rows["value"] - truth) < rows["stderr"]).mean()
    assert 0.5 < inside < 0.85
    assert rows["value"].std() == pytest.approx(rows["stderr"].mean(), rel=0.3)


def test_fixed_efficiency_two_parameter_fit():
    curve = relaxation_model("saturation_recovery", T1_DELAYS, m0=2.0, t1=0.3, efficiency=1.0)
    frame = fit_t1(noisy(curve, 0.01, 2), T1_DELAYS, experiment="saturation_recovery",
                   fixed_efficiency=True).frame.set_index("quantity")
    assert frame.loc["efficiency", "value"] == 1.0 and frame.loc["efficiency", "stderr"] == 0.0
    assert frame.loc["t1", "value"] == pytest.approx(0.3, rel=0.02)


def test_t2_mono_and_bi_exponential_within_2_percent():
    echo = np.linspace(0.0004, 0.16, 64)  # CPMG, 2 tau = 0.4 ms … 160 ms
    mono = noisy(relaxation_model("t2_decay", echo, amplitude=100.0, t2=0.018), 0.3, 5)
    row = fit_t2(mono, echo).frame.set_index("quantity").loc["t2"]
    assert row["value"] == pytest.approx(0.018, rel=0.02)
    bi = noisy(relaxation_model("t2_biexponential", echo, amplitude_short=60.0, t2_short=0.004,
                                amplitude_long=40.0, t2_long=0.035), 0.1, 6)
    frame = fit_t2(bi, echo, components=2).frame.set_index("quantity")
    assert frame.loc["t2_short", "value"] == pytest.approx(0.004, rel=0.02)
    assert frame.loc["t2_long", "value"] == pytest.approx(0.035, rel=0.02)
    assert frame.loc["fraction_short", "value"] == pytest.approx(0.6, abs=0.01)
    assert 0 < frame.loc["fraction_short", "stderr"] < 0.01


def test_agrees_with_lmfit():
    """Same model, same data: lmfit's values and (scaled-covariance) errors."""
    lmfit = pytest.importorskip("lmfit")
    t = T1_DELAYS
    y = noisy(relaxation_model("inversion_recovery", t, m0=50.0, t1=0.6, efficiency=0.9), 0.4, 3)
    ours = fit_t1(y, t).frame.set_index("quantity")
    model = lmfit.Model(lambda t, m0, t1, efficiency: m0 * (1 - 2 * efficiency * np.exp(-t / t1)))
    result = model.fit(y, t=t, m0=40.0, t1=1.0, efficiency=1.0)
    for name in ("m0", "t1", "efficiency"):
        assert ours.loc[name, "value"] == pytest.approx(result.params[name].value, rel=1e-5)
        assert ours.loc[name, "stderr"] == pytest.approx(result.params[name].stderr, rel=1e-3)


def recovery_series(t1: float = 0.42, noise: float = 0.005, seed: int = 4) -> Spectrum:
    """Pseudo-2D inversion-recovery series: two Lorentzian lines, vdlist coordinate in s."""
    x = np.linspace(20.0, -20.0, 1601)
    lines = []
    for delay in T1_DELAYS:
        a = relaxation_model("inversion_recovery", np.array([delay]), m0=1.0, t1=t1, efficiency=1.0)[0]
        b = relaxation_model("inversion_recovery", np.array([delay]), m0=0.5, t1=3 * t1 / 4, efficiency=1.0)[0]
        lines.append(a / (1 + ((x - 6.0) / 0.15) ** 2) + b / (1 + ((x + 6.0) / 0.15) ** 2))
    data = noisy(np.array(lines), noise, seed)
    return Spectrum(Axis("chemical_shift", "ppm", x), data, technique="nmr", signal="intensity",
                    dims=("delay",), coords={"delay": Coord("delay", T1_DELAYS * 1e3, "ms")})


def test_t1_from_spectrum_series_integrals_and_heights():
    series = recovery_series()
    ranges = {"site_a": (2.0, 10.0), "site_b": (-10.0, -2.0)}
    curves = relaxation_curves(series, ranges)
    assert curves["values"].shape == (1, 2, T1_DELAYS.size)
    np.testing.assert_allclose(curves["delays"], T1_DELAYS)  # ms coordinate converted to s
    frame = fit_t1(series, ranges=ranges).frame
    t1 = frame[frame["quantity"] == "t1"].set_index("species")["value"]
    assert t1["site_a"] == pytest.approx(0.42, rel=0.02)
    assert t1["site_b"] == pytest.approx(0.315, rel=0.02)
    heights = fit_t1(series, ranges=ranges, measure="height").frame
    assert heights.query("quantity == 't1' and species == 'site_a'")["value"].item() == pytest.approx(0.42, rel=0.02)


def test_bad_inputs():
    with pytest.raises(ConfigError, match="delays"):
        fit_t1(np.ones(5))
    with pytest.raises(ConfigError, match="ranges"):
        fit_t1(recovery_series())
    with pytest.raises(ConfigError, match="experiment"):
        fit_t1(np.ones(5), np.arange(5.0), experiment="cpmg")
    with pytest.raises(FitError, match="delays cannot fit"):
        fit_t1(np.ones(3), np.arange(3.0))
    with pytest.raises(PhysicsWarning, match="below 3 T1"):
        t = np.linspace(0.01, 0.5, 8)
        fit_t1(relaxation_model("inversion_recovery", t, m0=1.0, t1=1.0, efficiency=1.0), t)


def _process_satrec(path):
    """The relax/100 ser processed simply with nmrglue: digital filter, 100 Hz EM, zero fill to
    4096, FFT, reversed (Bruker order), magnitude, minus the median of the magnitude outside
    the signal (the magnitude's noise floor)."""
    ng = pytest.importorskip("nmrglue")
    dic, data = ng.bruker.read(str(path))
    data = ng.bruker.remove_digital_filter(dic, data)
    data = ng.proc_base.em(data, 100.0 / dic["acqus"]["SW_h"])
    spectra = ng.proc_base.fft(ng.proc_base.zf_size(data, 4096))[:, ::-1]
    ppm = ng.fileiobase.uc_from_udic(ng.bruker.guess_udic(dic, spectra), dim=1).ppm_scale()
    magnitude = np.abs(spectra)
    outside = (ppm > 0) | (ppm < -200)
    magnitude -= np.median(magnitude[:, outside], axis=1, keepdims=True)
    return ppm, magnitude


@pytest.mark.shared_data
def test_real_29si_saturation_recovery(shared_data):
    import specssb

    folder = shared_data("nmr", "spectrochempy_data", "relax", "100")
    raw = specssb.read(folder)[0]
    ppm, magnitude = _process_satrec(folder)
    series = Spectrum(Axis("chemical_shift", "ppm", ppm), magnitude, technique="nmr", signal="intensity",
                      dims=raw.dims, coords=raw.coords, meta=dict(raw.meta))
    ranges = {"si": (-51.38, -135.80)}  # TopSpin's intrng for this experiment
    row = fit_t1(series, ranges=ranges, experiment="saturation_recovery",
                 noise_regions=[(100.0, 300.0), (-250.0, -450.0)]).frame.set_index("quantity").loc["t1"]
    assert np.isfinite(row["value"]) and 0 < row["stderr"] < 0.1 * row["value"]
    # TopSpin's own integrals of the same region (pdata/1/t1ints.txt) give the same T1
    topspin = np.array([2.01355, 3.24506, 4.02835, 4.87769, 5.20264, 5.39868, 5.46867, 5.49015, 5.53594])
    reference = fit_t1(topspin, raw.coords["delay"].values, experiment="saturation_recovery"
                       ).frame.set_index("quantity").loc["t1"]
    assert reference["value"] == pytest.approx(2.3, abs=0.1)  # t1par PARM lists 2.28–2.32 s
    assert row["value"] == pytest.approx(reference["value"], rel=0.05)
