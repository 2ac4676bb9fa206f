"""NMR processing chain: TopSpin's 1r from the raw FID, each step against nmrglue, autophase."""

from __future__ import annotations

import warnings

import nmrglue as ng
import numpy as np
import pytest
from scipy.signal import find_peaks

import specssb
from specssb.errors import ConfigError, FitError
from specssb.fitting.nmr import processing as P
from specssb.spectrum import Axis, Spectrum

SW_HZ = 10_000.0
LINES = ((2500.0, 1.0, 20.0), (600.0, 0.6, 15.0), (-800.0, 0.8, 30.0), (-3100.0, 0.5, 10.0))


def synthetic_fid(n: int = 4096, *, rows: int = 0, seed: int = 0) -> Spectrum:
    """Lorentzian lines (Hz from the carrier, amplitude, FWHM Hz) in Bruker's sense: a line at
    +f rotates as exp(+2 pi i f t) and lands at the higher ppm; first point halved."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SW_HZ
    fid = sum(a * np.exp(2j * np.pi * f * t - np.pi * w * t) for f, a, w in LINES)
    fid[0] *= 0.5
    shape = (rows, n) if rows else (n,)
    scales = np.linspace(1.0, 0.2, rows)[:, None] if rows else 1.0
    data = fid * scales + 0.002 * (rng.normal(size=shape) + 1j * rng.normal(size=shape))
    return Spectrum(axis=Axis("time", "s", t), data=data, technique="nmr", signal="fid",
                    dims=("delay",) if rows else (), meta={"sfo1_mhz": 100.0, "bf1_mhz": 100.0})


def read_pair(shared_data, *parts):
    folder = shared_data("nmr", *parts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the stale-MASR MetadataWarning of datalab
        raw, = specssb.read(folder)
        topspin, = specssb.read(folder, data="processed")
    return raw, topspin


def prominent_peaks(values):
    return find_peaks(values, prominence=0.05 * values.max())[0]


# ------------------------------------------------------------------ TopSpin 1r reproduction
@pytest.mark.parametrize("dataset", [("datalab", "71"), ("datalab", "1"),
                                     ("nmrpy", "bruker2", "1"), ("nmrpy", "bruker2", "2")])
def test_process_reproduces_topspin_1r(shared_data, dataset):
    raw, topspin = read_pair(shared_data, *dataset)
    spectrum = P.process(raw)
    ours, theirs = spectrum.data, topspin.data
    assert spectrum.axis.name == "chemical_shift"
    np.testing.assert_allclose(spectrum.axis.values, topspin.axis.values, rtol=0, atol=1e-9)
    assert np.corrcoef(ours.real, theirs.real)[0, 1] >= 0.999
    assert np.corrcoef(ours.imag, theirs.imag)[0, 1] >= 0.9999
    # absolute intensity: 2**NC (acqus) and the window starting at the group delay
    scale = (ours.real @ theirs.real) / (ours.real @ ours.real)
    assert scale == pytest.approx(1.0, abs=5e-3)
    expected = prominent_peaks(theirs.real)
    found = prominent_peaks(ours.real)
    assert expected.size >= 1
    assert max(np.abs(found - e).min() for e in expected) <= 1
    assert [s.operation for s in spectrum.history][-1] == "nmr_process"


def test_datalab_71_baseline_is_topspin_abs_on_1r_only(shared_data):
    """71's 1r differs from the chain by a smooth baseline in the real part only (TopSpin
    ``abs``, not recorded in procs); 1i agrees to 1e-6."""
    raw, topspin = read_pair(shared_data, "datalab", "71")
    spectrum = P.process(raw)
    assert np.corrcoef(spectrum.data.imag, topspin.data.imag)[0, 1] > 0.999999
    assert 0.999 < np.corrcoef(spectrum.data.real, topspin.data.real)[0, 1] < 0.99999
    corrected = P.process(raw, baseline=True)
    assert (np.corrcoef(corrected.data.real, topspin.data.real)[0, 1]
            > np.corrcoef(spectrum.data.real, topspin.data.real)[0, 1])


def test_old_digital_filter_delay_from_table(shared_data):
    raw, _ = read_pair(shared_data, "nmrpy", "bruker2", "1")
    assert "GRPDLY" not in raw.raw_meta["acqus"]
    assert P.group_delay(raw) == pytest.approx(ng.bruker.bruker_dsp_table[10][6])


# ------------------------------------------------------------------ steps against nmrglue
@pytest.fixture
def fid():
    return synthetic_fid()


def test_exponential_matches_nmrglue_em(fid):
    lb = 7.5
    ours = P.exponential(fid, lb).data
    np.testing.assert_allclose(ours, ng.proc_base.em(fid.data, lb / SW_HZ), rtol=1e-12)


def test_gaussian_is_topspin_gm_and_nmrglue_gm_shape(fid):
    lb, gb, n = -5.0, 0.2, fid.axis.size
    ours = P.gaussian(fid, lb, gb).data / fid.data
    points = -lb / SW_HZ
    g2 = np.sqrt(np.pi * points / (2 * gb * (n - 1))) / (0.6 * np.pi)
    theirs = ng.proc_base.gm(np.ones(n, complex), 0.0, g2, gb)
    ratio = (ours / theirs).real
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert ours[0].real == pytest.approx(1.0)
    assert int(np.argmax(ours.real)) == round(gb * (n - 1))


@pytest.mark.parametrize(("ssb", "squared"), [(2.0, False), (3.0, True), (0.0, False)])
def test_sine_bell_matches_nmrglue_sp(fid, ssb, squared):
    ours = P.sine_bell(fid, ssb, squared=squared).data
    theirs = ng.proc_base.sp(fid.data, off=1 / max(ssb, 1.0), end=1.0, pow=2 if squared else 1)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_zero_fill_fft_phase_match_nmrglue(fid):
    ours = P.phase(P.fft(P.zero_fill(fid, 8192)), 33.0, -71.0).data
    theirs = ng.proc_base.ps(ng.proc_base.fft(ng.proc_base.zf_size(np.conj(fid.data), 8192)),
                             p0=33.0, p1=-71.0)
    np.testing.assert_allclose(ours, theirs, atol=1e-9 * np.abs(theirs).max())


def test_fft_puts_lines_at_their_frequency_with_ppm_decreasing(fid):
    spectrum = P.fft(P.exponential(fid, 2.0))
    ppm = spectrum.axis.values
    assert np.all(np.diff(ppm) < 0)
    top = ppm[np.argmax(spectrum.data.real)]
    assert top == pytest.approx(25.0, abs=abs(ppm[1] - ppm[0]))   # +2500 Hz at 100 MHz
    assert spectrum.meta["offset_ppm"] == pytest.approx(ppm[0])


def test_steps_are_vectorized_over_leading_rows():
    series = synthetic_fid(1024, rows=3)
    chain = P.fft(P.zero_fill(P.exponential(series, 5.0), 2048))
    assert chain.data.shape == (3, 2048) and chain.dims == ("delay",)
    single = P.fft(P.zero_fill(P.exponential(series.replace(data=series.data[1], dims=(),
                                                            coords={}), 5.0), 2048))
    np.testing.assert_allclose(chain.data[1], single.data, atol=1e-12)
    phased = P.autophase(chain, "acme")
    assert phased.history[-1].parameters["row"] == 0


def test_digital_filter_shift_is_a_first_order_phase():
    """A signal delayed by g points and transformed with the delay removed equals the
    undelayed one up to TopSpin's constant 180*g degrees (edge pivot)."""
    n, g = 2048, 12.0
    t = np.arange(n) / SW_HZ
    clean = np.exp(2j * np.pi * 700 * t - np.pi * 30 * t)
    delayed = np.concatenate([np.zeros(int(g), complex), clean[:n - int(g)]])
    base = synthetic_fid(n)
    a = P.fft(base.replace(data=clean))
    b = P.fft(P.remove_digital_filter(base.replace(data=delayed), g))
    np.testing.assert_allclose(b.data, a.data * np.exp(1j * np.pi * g), atol=1e-6 * n)


def test_dc_offset_removes_constant():
    fid = synthetic_fid()
    shifted = fid.replace(data=fid.data + (0.3 - 0.1j))
    corrected = P.dc_offset(shifted, fraction=0.25)
    assert np.mean(corrected.data[-1024:]) == pytest.approx(0, abs=1e-3)


def test_whole_echo_gives_pure_absorption():
    n, top = 2048, 300
    t = (np.arange(n) - top) / SW_HZ
    echo = np.exp(2j * np.pi * 900 * t - np.pi * 40 * np.abs(t))
    fid = synthetic_fid(n).replace(data=echo)
    spectrum = P.fft(P.zero_fill(P.exponential(P.whole_echo(fid), 20.0), 4096))
    assert spectrum.history[-4].parameters["top"] == top
    assert np.abs(spectrum.data.imag).max() < 1e-6 * np.abs(spectrum.data.real).max()
    assert spectrum.data.real.min() > -1e-6 * spectrum.data.real.max()


# ------------------------------------------------------------------ autophase, baseline, ref
@pytest.mark.parametrize(("p0", "p1"), [(40.0, -30.0), (-120.0, 60.0), (10.0, 200.0)])
def test_acme_recovers_phase_error(fid, p0, p1):
    spectrum = P.fft(P.zero_fill(P.exponential(fid, 5.0), 8192))
    fixed = P.autophase(P.phase(spectrum, p0, p1), "acme")
    found = fixed.history[-1].parameters
    assert (found["p0"] + p0 + 180) % 360 - 180 == pytest.approx(0, abs=2)
    assert found["p1"] + p1 == pytest.approx(0, abs=2)


def test_peak_minima_recovers_zero_order_phase(fid):
    spectrum = P.fft(P.zero_fill(P.exponential(fid, 5.0), 8192))
    found = P.autophase(P.phase(spectrum, 75.0), "peak_minima").history[-1].parameters
    assert (found["p0"] + 75.0 + 180) % 360 - 180 == pytest.approx(0, abs=2)


def test_baseline_removes_polynomial_on_given_and_auto_regions(fid):
    spectrum = P.fft(P.zero_fill(P.exponential(fid, 5.0), 8192))
    x = np.linspace(-1, 1, spectrum.axis.size)
    drift = 50.0 * (1 + 0.5 * x - 0.8 * x**2 + 0.3 * x**3)
    tilted = spectrum.replace(data=spectrum.data + drift)
    auto = P.baseline_correct(tilted, degree=3)
    given = P.baseline_correct(tilted, [(48, 30), (20, 10), (3, -5), (-12, -28), (-35, -48)],
                               degree=3)
    for corrected in (auto, given):
        error = corrected.data.real - spectrum.data.real
        assert np.abs(error).max() < 0.01 * spectrum.data.real.max()


def test_reference_to_named_shift(fid):
    spectrum = P.phase(P.fft(P.zero_fill(P.exponential(fid, 5.0), 8192)), 0.0)
    referenced = P.reference_to(spectrum, 0.0, near_ppm=25.0, window_ppm=2.0)
    ppm = referenced.axis.values
    assert abs(ppm[np.argmax(referenced.data.real)]) <= abs(ppm[1] - ppm[0])
    assert referenced.meta["sf_mhz"] == pytest.approx(100.0 * (1 + 25e-6), rel=1e-9)
    # the other lines keep their distance in Hz
    assert np.diff(ppm).mean() * referenced.meta["sf_mhz"] == pytest.approx(
        np.diff(spectrum.axis.values).mean() * 100.0, rel=1e-9)


# ------------------------------------------------------------------ bad input
def test_nan_fid_is_refused(fid):
    bad = fid.data.copy()
    bad[10] = np.nan
    with pytest.raises(FitError, match="non-finite"):
        P.exponential(fid.replace(data=bad), 5.0)


def test_fft_of_a_spectrum_is_refused(fid):
    spectrum = P.fft(fid)
    with pytest.raises(FitError, match="frequency domain"):
        P.fft(spectrum)
    with pytest.raises(FitError, match="run fft first"):
        P.phase(fid, 10.0)


@pytest.mark.parametrize("call", [
    lambda s: P.exponential(s, "5"),
    lambda s: P.zero_fill(s, 10),
    lambda s: P.gaussian(s, 5.0, 0.2),
    lambda s: P.dc_offset(s, mode="triple"),
    lambda s: P.process(s, {"WDW": 5}),
    lambda s: P.process(s, "topspin"),
])
def test_bad_options_raise_config_error(fid, call):
    with pytest.raises(ConfigError):
        call(fid)


def test_process_without_procs_is_a_fit_error(fid):
    with pytest.raises(FitError, match="procs"):
        P.process(fid)


def test_inputs_are_not_modified_and_history_grows(fid):
    before = fid.data.copy()
    out = P.fft(P.exponential(fid, 3.0))
    np.testing.assert_array_equal(fid.data, before)
    assert [s.operation for s in out.history] == ["nmr_exponential", "nmr_fft"]
