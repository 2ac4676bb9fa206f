"""Raman axis calibration: nm <-> cm-1, the Si band offset (real WITec file), neon lines."""

from __future__ import annotations

import numpy as np
import pytest

import specssb
from specssb import Axis, Spectrum
from specssb.errors import FitError, PhysicsWarning
from specssb.fitting.raman.calibrate import (
    NEON_LINES_NM,
    SI_REFERENCES,
    apply_neon_calibration,
    calibrate_neon,
    calibrate_si,
    fit_neon_lines,
    fit_si_band,
    raman_shift_from_wavelength,
    to_raman_shift,
    to_wavelength,
    wavelength_from_raman_shift,
)

WITEC = ("raman", "hyperspec", "txt.Witec")


def raman(x, y, **kw):
    return Spectrum(axis=Axis("raman_shift", "cm-1", x), data=y, technique="raman",
                    signal="counts", **kw)


def lorentz(x, height, center, fwhm):
    return height / (1 + (2 * (x - center) / fwhm) ** 2)


# ------------------------------------------------------------------------ conversions
def test_shift_formula_and_inverse():
    # 785 nm laser, 1000 cm-1 Stokes: 1e7/785 - 1000 = 11738.85 cm-1 -> 851.87 nm
    assert wavelength_from_raman_shift(1000.0, 785.0) == pytest.approx(1e7 / (1e7 / 785 - 1000))
    assert float(wavelength_from_raman_shift(1000.0, 785.0)) == pytest.approx(851.87, abs=0.01)
    shifts = np.linspace(-200, 3500, 50)
    back = raman_shift_from_wavelength(wavelength_from_raman_shift(shifts, 532.0), 532.0)
    np.testing.assert_allclose(back, shifts, atol=1e-9)
    with pytest.raises(ValueError, match="laser"):
        raman_shift_from_wavelength(600.0, 0.0)


def test_spectrum_round_trip_records_laser_and_history():
    nm = Spectrum(axis=Axis("wavelength", "nm", np.linspace(533, 600, 100)), data=np.arange(100.0),
                  technique="raman", signal="counts", meta={"laser_wavelength_nm": 532.0})
    shifted = to_raman_shift(nm)
    assert shifted.axis.name == "raman_shift"
    assert shifted.axis.values[0] == pytest.approx(1e7 / 532 - 1e7 / 533)
    assert shifted.history[-1].operation == "wavelength_to_raman_shift"
    np.testing.assert_array_equal(shifted.data, nm.data)
    back = to_wavelength(shifted)
    np.testing.assert_allclose(back.axis.values, nm.axis.values, rtol=1e-12)
    with pytest.raises(ValueError, match="laser"):
        to_raman_shift(nm.replace(meta={}))


# -------------------------------------------------------------------------------- silicon
def read_witec_silicon(shared_data):
    """The WITec Graph ASCII Si spectrum through specssb.read, checked against numpy."""
    header = shared_data(*WITEC, "nofilename_Header.txt")
    x = np.loadtxt(shared_data(*WITEC, "nofilename_X-Axis.txt"))
    y = np.loadtxt(shared_data(*WITEC, "nofilename_Y-Axis.txt"))
    [spectrum] = specssb.read(header)
    np.testing.assert_allclose(spectrum.axis.values, x)
    np.testing.assert_allclose(spectrum.data, y)
    return spectrum


def test_si_offset_of_the_uncalibrated_witec_spectrum(shared_data):
    si = read_witec_silicon(shared_data)
    found = fit_si_band(si)
    # PROVENANCE / notes §2: pseudo-Voigt + line over 480-560 -> 521.01 +- 0.09, 17 points
    assert found.points == 17
    assert found.center_cm1 == pytest.approx(521.01, abs=0.02)
    assert 0.05 < found.center_stderr_cm1 < 0.15
    assert found.offset_cm1 == pytest.approx(0.31, abs=0.02)
    assert found.fwhm_cm1 == pytest.approx(16.0, abs=0.3)
    # another line shape moves the centre by less than its (larger) error
    lorentz_fit = fit_si_band(si, shape="lorentzian")
    assert abs(lorentz_fit.center_cm1 - found.center_cm1) < lorentz_fit.center_stderr_cm1
    certified = fit_si_band(si, reference="certified")
    assert certified.offset_cm1 == pytest.approx(found.center_cm1 - 520.45)
    assert certified.offset_uncertainty_cm1 == pytest.approx(
        np.hypot(found.center_stderr_cm1, SI_REFERENCES["certified"][1]))


def test_calibrated_si_spectrum_refits_at_the_reference(shared_data):
    si = read_witec_silicon(shared_data)
    calibrated = calibrate_si(si)
    step = calibrated.history[-1]
    assert step.operation == "calibrate_raman_shift"
    assert step.parameters["shift_cm1"] == pytest.approx(-0.31, abs=0.02)
    np.testing.assert_allclose(calibrated.axis.values, si.axis.values + step.parameters["shift_cm1"])
    assert fit_si_band(calibrated).center_cm1 == pytest.approx(520.7, abs=0.01)
    np.testing.assert_array_equal(calibrated.data, si.data)


def test_si_shift_applies_to_another_spectrum_and_map():
    x = np.linspace(100, 1200, 1101)
    si = raman(x, 50 + lorentz(x, 4000, 519.9, 4.0))  # reads 0.8 too low
    sample = raman(x, np.ones((2, 3, x.size)), dims=("y", "x"))
    calibrated = calibrate_si(sample, si=si)
    np.testing.assert_allclose(calibrated.axis.values, x + 0.8, atol=1e-3)
    assert calibrated.shape == sample.shape
    # a map of Si is averaged before the fit
    si_map = raman(x, np.broadcast_to(si.data, (2, 2, x.size)), dims=("y", "x"))
    assert fit_si_band(si_map).offset_cm1 == pytest.approx(-0.8, abs=1e-3)


def test_si_far_from_reference_warns_and_empty_window_raises():
    x = np.linspace(400, 650, 251)
    with pytest.warns(PhysicsWarning, match="Li2O"):
        fit_si_band(raman(x, 10 + lorentz(x, 1000, 528.0, 5.0)))
    with pytest.raises(FitError, match="points"):
        fit_si_band(raman(np.linspace(600, 900, 50), np.ones(50)))
    with pytest.raises(ValueError, match="reference"):
        fit_si_band(raman(x, np.ones(x.size)), reference="nist")


# ------------------------------------------------------------------------------------ neon
def neon_lamp(true_to_measured, laser=785.0, n=1340, seed=3):
    """A Ne lamp spectrum on a Raman-shift axis whose readings are ``true_to_measured(true)``."""
    rng = np.random.default_rng(seed)
    measured_axis = np.linspace(100.0, 1900.0, n)
    wavelengths = np.array([w for w, _ in NEON_LINES_NM])
    intensities = np.array([i for _, i in NEON_LINES_NM])
    true_positions = raman_shift_from_wavelength(wavelengths, laser)
    y = np.full(n, 100.0)
    for position, intensity in zip(true_to_measured(true_positions), intensities):
        y += lorentz(measured_axis, 50 * intensity, position, 3.0)
    y = rng.poisson(y).astype(float)
    return raman(measured_axis, y, meta={"laser_wavelength_nm": laser})


def test_neon_recovers_offset_and_stretch():
    # the spectrometer reads 1.002 x true + 3.5 cm-1
    lamp = neon_lamp(lambda t: 1.002 * t + 3.5)
    calibration = fit_neon_lines(lamp, degree=1)
    assert calibration.reference.size >= 10
    assert calibration.residual_rms < 0.05
    truth = np.array([100.0, 1000.0, 1800.0])
    np.testing.assert_allclose(calibration.correct(1.002 * truth + 3.5), truth, atol=0.05)
    corrected = apply_neon_calibration(lamp, calibration)
    assert corrected.history[-1].operation == "calibrate_axis_neon"
    assert corrected.history[-1].parameters["lines_used"] == calibration.reference.size
    # the same correction through calibrate_neon, on another spectrum
    other = raman(lamp.axis.values, np.zeros(lamp.axis.size))
    np.testing.assert_allclose(calibrate_neon(other, lamp).axis.values, corrected.axis.values)


def test_neon_without_laser_or_lines_raises():
    lamp = neon_lamp(lambda t: t)
    with pytest.raises(ValueError, match="laser"):
        fit_neon_lines(lamp.replace(meta={}))
    flat = raman(lamp.axis.values, np.random.default_rng(0).normal(100, 3, lamp.axis.size),
                 meta={"laser_wavelength_nm": 785.0})
    with pytest.raises(FitError, match="neon lines"):
        fit_neon_lines(flat)
