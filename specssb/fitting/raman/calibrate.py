"""Raman axis calibration: wavelength ↔ Raman shift, silicon band offset, neon-lamp lines.

Conversions (``laser`` and ``λ`` in nm, air wavelengths as spectrometers report them)::

    absolute wavenumber / cm-1 = 1e7 / λ
    Raman shift / cm-1         = 1e7 / λ_laser − 1e7 / λ        (Stokes side > 0)

Recommended order: a neon lamp fixes the detector's wavelength scale (:func:`calibrate_neon`),
then the silicon band fixes what is left, mostly the laser wavelength (:func:`calibrate_si`).

Silicon references (``notes/raman.md`` §2): the common laboratory value 520.7 cm-1 (default)
and the certified NMIJ CRM 5606-a value 520.45 ± 0.28 cm-1 (k = 2; Itoh & Shirono,
*J. Raman Spectrosc.* 51, 2496 (2020), doi:10.1002/jrs.6003) with ``reference="certified"``.
Li₂O (≈523 cm-1) overlaps the Si band: calibrate on a clean Si wafer, not on a Si anode.

Neon lines: :data:`NEON_LINES_NM`, Ne I air wavelengths from the NIST Atomic Spectra
Database (A. Kramida, Yu. Ralchenko, J. Reader and NIST ASD Team, NIST ASD version 5,
https://physics.nist.gov/asd), strong lines between 533 and 967 nm (532, 633 and 785 nm
lasers), with lines closer than ≈0.25 nm to another listed or stronger line left out so every
line fits as a single peak. The values agree with two independent public copies of the ASD
list (ramanchada2 ``misc/constants.py``; kspecdr ``data/arc_tables/ne.arc``) to 1e-4 nm.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from specssb.errors import FitError, PhysicsWarning
from specssb.spectrum import Axis, Spectrum

__all__ = [
    "NEON_LINES_NM",
    "SI_REFERENCES",
    "NeonCalibration",
    "SiCalibration",
    "apply_neon_calibration",
    "apply_si_calibration",
    "calibrate_neon",
    "calibrate_si",
    "fit_neon_lines",
    "fit_si_band",
    "raman_shift_from_wavelength",
    "to_raman_shift",
    "to_wavelength",
    "wavelength_from_raman_shift",
]

#: Si references: name -> (centre cm-1, standard uncertainty cm-1).
SI_REFERENCES: dict[str, tuple[float, float]] = {
    "conventional": (520.7, 0.0),  # laboratory convention; no stated uncertainty
    "certified": (520.45, 0.14),  # NMIJ CRM 5606-a, 0.28 at k = 2
}

#: Ne I lines: (air wavelength in nm, NIST ASD relative intensity).
NEON_LINES_NM: tuple[tuple[float, float], ...] = (
    (533.07775, 60), (540.05618, 200), (576.44188, 70), (582.01558, 50), (585.24878, 200),
    (588.18950, 100), (594.48340, 50), (602.99968, 100), (607.43376, 100), (609.61630, 30),
    (614.30627, 100), (616.35937, 100), (621.72812, 100), (626.64952, 100), (630.47893, 10),
    (633.44276, 100), (638.29914, 100), (640.22480, 200), (650.65277, 150), (653.28824, 10),
    (659.89528, 100), (667.82766, 50), (671.70430, 7), (692.94672, 1000), (702.40500, 300),
    (703.24128, 800), (705.91079, 100), (717.39380, 800), (724.51665, 800), (747.24383, 30),
    (748.88712, 300), (753.57739, 300), (754.40439, 130), (794.31805, 80), (811.85492, 40),
    (813.64061, 170), (830.03248, 300), (837.76070, 800), (849.53591, 700), (859.12584, 400),
    (863.46470, 350), (885.38668, 300), (914.86716, 120), (920.17591, 90), (930.08527, 80),
    (932.65068, 70), (953.41629, 60), (966.54197, 180),
)


# -------------------------------------------------------------------------- conversions
def raman_shift_from_wavelength(wavelength_nm: Any, laser_wavelength_nm: float) -> np.ndarray:
    """Raman shift (cm-1) of absolute wavelengths (nm): ``1e7/λ_laser − 1e7/λ``.

    Examples
    --------
    >>> round(float(raman_shift_from_wavelength(547.3, 532.0)), 2)
    525.48
    """
    laser = _laser(laser_wavelength_nm)
    return 1e7 / laser - 1e7 / np.asarray(wavelength_nm, dtype=float)


def wavelength_from_raman_shift(shift_cm1: Any, laser_wavelength_nm: float) -> np.ndarray:
    """Absolute wavelength (nm) of Raman shifts (cm-1): ``1e7 / (1e7/λ_laser − shift)``.

    Examples
    --------
    >>> round(float(wavelength_from_raman_shift(525.48, 532.0)), 2)
    547.3
    """
    laser = _laser(laser_wavelength_nm)
    return 1e7 / (1e7 / laser - np.asarray(shift_cm1, dtype=float))


def _laser(value: float | None) -> float:
    if value is None or not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"the laser wavelength must be a positive number of nm, got {value!r}")
    return float(value)


def _laser_of(spectrum: Spectrum, laser_wavelength_nm: float | None) -> float:
    value = laser_wavelength_nm if laser_wavelength_nm is not None else spectrum.meta.get(
        "laser_wavelength_nm")
    if value is None:
        raise ValueError("no laser wavelength: pass laser_wavelength_nm= (the spectrum's meta "
                         "has no 'laser_wavelength_nm')")
    return _laser(value)


def to_raman_shift(spectrum: Spectrum, laser_wavelength_nm: float | None = None) -> Spectrum:
    """Convert a ``wavelength`` axis (nm) to ``raman_shift`` (cm-1); data are unchanged.

    Counts per detector pixel stay counts per pixel (no Jacobian is applied). The laser
    wavelength defaults to ``meta["laser_wavelength_nm"]`` and is stored there.

    Returns
    -------
    Spectrum
        Step ``"wavelength_to_raman_shift"`` with the laser wavelength and the formula.
    """
    if spectrum.axis.name != "wavelength":
        raise ValueError(f"expected a wavelength axis, got {spectrum.axis.name!r}")
    laser = _laser_of(spectrum, laser_wavelength_nm)
    axis = Axis("raman_shift", "cm-1", raman_shift_from_wavelength(spectrum.axis.values, laser))
    return spectrum.with_step(
        "wavelength_to_raman_shift",
        {"laser_wavelength_nm": laser, "formula": "1e7/laser_nm - 1e7/wavelength_nm"},
        axis=axis, meta={**spectrum.meta, "laser_wavelength_nm": laser},
    )


def to_wavelength(spectrum: Spectrum, laser_wavelength_nm: float | None = None) -> Spectrum:
    """Convert a ``raman_shift`` axis (cm-1) to absolute ``wavelength`` (nm); the inverse of
    :func:`to_raman_shift` (step ``"raman_shift_to_wavelength"``)."""
    if spectrum.axis.name != "raman_shift":
        raise ValueError(f"expected a raman_shift axis, got {spectrum.axis.name!r}")
    laser = _laser_of(spectrum, laser_wavelength_nm)
    values = wavelength_from_raman_shift(spectrum.axis.values, laser)
    if np.any(values <= 0):
        raise ValueError(f"shifts beyond 1e7/{laser} cm-1 have no wavelength")
    return spectrum.with_step(
        "raman_shift_to_wavelength",
        {"laser_wavelength_nm": laser, "formula": "1e7 / (1e7/laser_nm - shift_cm1)"},
        axis=Axis("wavelength", "nm", values), meta={**spectrum.meta, "laser_wavelength_nm": laser},
    )


# ------------------------------------------------------------------------------- silicon
@dataclass(frozen=True)
class SiCalibration:
    """The silicon band found by :func:`fit_si_band` and the axis offset it implies.

    Attributes
    ----------
    center_cm1, center_stderr_cm1 : float
        Fitted band centre and its standard error (scaled covariance of the fit).
    fwhm_cm1 : float
        Fitted FWHM.
    reference_cm1, reference_uncertainty_cm1 : float
        The value the band should have and its standard uncertainty (0 for the convention).
    offset_cm1 : float
        ``center − reference``: the amount the axis reads too high; calibrating subtracts it.
    offset_uncertainty_cm1 : float
        Fit error and reference uncertainty added in quadrature.
    shape : str
        Line shape fitted (with a linear background fitted in the model).
    window : (float, float)
        Axis range fitted; ``points`` of the axis lie in it.
    converged : bool
    redchi : float
        Reduced χ² of the fit (unweighted: in counts²).
    """

    center_cm1: float
    center_stderr_cm1: float
    fwhm_cm1: float
    reference_cm1: float
    reference_uncertainty_cm1: float
    offset_cm1: float
    offset_uncertainty_cm1: float
    shape: str
    window: tuple[float, float]
    points: int
    converged: bool
    redchi: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-safe) of every attribute."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


_SI_SHAPE_EXTRA = {
    "lorentzian": {},
    "gaussian": {},
    "pseudo_voigt": {"eta": {"value": 0.5, "min": 0.0, "max": 1.0}},
    "voigt": {"lorentz_fwhm": {"value": 3.0, "min": 0.05, "max": 60.0}},
}


def _reference(reference: str | float) -> tuple[float, float]:
    if isinstance(reference, str):
        if reference not in SI_REFERENCES:
            raise ValueError(f"unknown Si reference {reference!r}; use a number (cm-1) or one of "
                             f"{list(SI_REFERENCES)}")
        return SI_REFERENCES[reference]
    return float(reference), 0.0


def fit_si_band(
    spectrum: Spectrum,
    *,
    reference: str | float = "conventional",
    window: tuple[float, float] = (480.0, 560.0),
    shape: str = "pseudo_voigt",
) -> SiCalibration:
    """Fit the c-Si band (≈520 cm-1) and report its offset from the reference.

    One ``shape`` peak plus a linear background fitted inside the model, through
    :func:`specssb.fitting.engine.fit` (batched engine). A map or series is averaged first.

    Parameters
    ----------
    spectrum : Spectrum
        A Raman-shift spectrum of crystalline silicon.
    reference : {"conventional", "certified"} or float
        520.7 cm-1, 520.45 ± 0.14 cm-1 (NMIJ CRM 5606-a), or any value in cm-1.
    window : (float, float)
        Axis range fitted, cm-1.
    shape : {"pseudo_voigt", "voigt", "lorentzian", "gaussian"}

    Returns
    -------
    SiCalibration

    Raises
    ------
    FitError
        Fewer than 6 points in the window, or the fit did not converge.

    Warns
    -----
    PhysicsWarning
        When the band is more than 5 cm-1 from the reference (a strained or heated sample,
        amorphous Si, or the Li₂O band at ≈523 cm-1 rather than Si).
    """
    from specssb.fitting.engine import fit
    from specssb.fitting.recipe import Recipe

    if spectrum.axis.name != "raman_shift":
        raise ValueError(f"the Si band is fitted on a raman_shift axis, got {spectrum.axis.name!r}")
    if shape not in _SI_SHAPE_EXTRA:
        raise ValueError(f"shape must be one of {list(_SI_SHAPE_EXTRA)}, got {shape!r}")
    ref, ref_uncertainty = _reference(reference)
    lo, hi = sorted(float(v) for v in window)
    single = _mean_spectrum(spectrum)
    points = int(np.count_nonzero((single.axis.values >= lo) & (single.axis.values <= hi)))
    if points < 6:
        raise FitError(f"only {points} axis points in the Si window {lo}–{hi} cm-1; need 6")
    recipe = Recipe.from_dict({
        "name": "si-calibration", "technique": "raman",
        "select": {"window": [lo, hi]},
        "background": {"kind": "linear", "fitted": True},
        "component": [{
            "species": "si", "shape": shape, "height": {"value": "guess", "min": 0.0},
            "center": {"value": min(max(ref, lo + 1.0), hi - 1.0), "min": lo, "max": hi},
            "fwhm": {"value": 6.0, "min": 0.3, "max": hi - lo},
            **_SI_SHAPE_EXTRA[shape],
        }],
    })
    frame = fit(single, recipe, engine="batched").frame
    rows = frame[frame["species"] == "si"].set_index("quantity")
    if not bool(rows.loc["center", "converged"]):
        raise FitError("the Si band fit did not converge; check the window and the spectrum")
    center = float(rows.loc["center", "value"])
    stderr = float(rows.loc["center", "stderr"])
    offset = center - ref
    if abs(offset) > 5.0:
        warnings.warn(f"the Si band is at {center:.2f} cm-1, {offset:+.2f} cm-1 from {ref}: "
                      "strain, laser heating, amorphous Si or Li2O (≈523 cm-1)?",
                      PhysicsWarning, stacklevel=2)
    return SiCalibration(
        center_cm1=center, center_stderr_cm1=stderr, fwhm_cm1=float(rows.loc["fwhm", "value"]),
        reference_cm1=ref, reference_uncertainty_cm1=ref_uncertainty, offset_cm1=offset,
        offset_uncertainty_cm1=math.hypot(stderr, ref_uncertainty), shape=shape,
        window=(lo, hi), points=points, converged=True,
        redchi=float(rows.loc["center", "redchi"]),
    )


def _mean_spectrum(spectrum: Spectrum) -> Spectrum:
    if spectrum.data.ndim == 1:
        return spectrum
    return Spectrum(axis=spectrum.axis, data=np.asarray(spectrum.data, float).reshape(
        -1, spectrum.axis.size).mean(axis=0), technique=spectrum.technique,
        signal=spectrum.signal, signal_unit=spectrum.signal_unit, meta=dict(spectrum.meta))


def apply_si_calibration(spectrum: Spectrum, calibration: SiCalibration) -> Spectrum:
    """Shift the Raman-shift axis by ``−offset`` (step ``"calibrate_raman_shift"``).

    The step records the method, the offset and its uncertainty, the reference and the fit.
    """
    if spectrum.axis.name != "raman_shift":
        raise ValueError(f"expected a raman_shift axis, got {spectrum.axis.name!r}")
    axis = Axis("raman_shift", "cm-1", spectrum.axis.values - calibration.offset_cm1)
    return spectrum.with_step("calibrate_raman_shift",
                              {"method": "silicon", "shift_cm1": -calibration.offset_cm1,
                               **calibration.to_dict()}, axis=axis)


def calibrate_si(
    spectrum: Spectrum,
    *,
    si: Spectrum | None = None,
    reference: str | float = "conventional",
    window: tuple[float, float] = (480.0, 560.0),
    shape: str = "pseudo_voigt",
) -> Spectrum:
    """Fit the Si band of ``si`` (default: ``spectrum`` itself) and shift ``spectrum``'s axis
    so that the band sits at the reference. See :func:`fit_si_band` for the options.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb import Axis, Spectrum
    >>> x = np.linspace(450.0, 600.0, 301)
    >>> s = Spectrum(axis=Axis("raman_shift", "cm-1", x), technique="raman", signal="counts",
    ...              data=100 + 5000 / (1 + ((x - 521.3) / 2.0) ** 2))
    >>> round(float(calibrate_si(s).history[-1].parameters["offset_cm1"]), 2)
    0.6
    """
    calibration = fit_si_band(spectrum if si is None else si, reference=reference,
                              window=window, shape=shape)
    return apply_si_calibration(spectrum, calibration)


# ---------------------------------------------------------------------------------- neon
@dataclass(frozen=True)
class NeonCalibration:
    """Neon lines matched by :func:`fit_neon_lines` and the axis correction they give.

    Attributes
    ----------
    axis_name : str
        ``"raman_shift"`` or ``"wavelength"``: the axis the positions are on.
    laser_wavelength_nm : float or None
        Used to place the lines on a Raman-shift axis.
    reference : ndarray
        Line positions from :data:`NEON_LINES_NM`, on the axis (cm-1 or nm).
    measured, measured_stderr : ndarray
        Fitted line centres on the uncalibrated axis and their standard errors.
    coefficients : ndarray
        Polynomial ``true = Σ c_k measured^k`` (increasing powers, numpy.polynomial order).
    residual_rms : float
        RMS of ``reference − polynomial(measured)`` over the matched lines, axis units.
    """

    axis_name: str
    laser_wavelength_nm: float | None
    reference: np.ndarray
    measured: np.ndarray
    measured_stderr: np.ndarray
    coefficients: np.ndarray
    residual_rms: float
    degree: int = field(default=1)

    def correct(self, values: Any) -> np.ndarray:
        """Calibrated axis values of uncalibrated ones."""
        return np.polynomial.polynomial.polyval(np.asarray(values, float), self.coefficients)


def _line_positions(spectrum: Spectrum, laser: float | None,
                    lines: Sequence[tuple[float, float]]) -> np.ndarray:
    wavelengths = np.array([line[0] for line in lines], dtype=float)
    if spectrum.axis.name == "wavelength":
        return wavelengths
    if spectrum.axis.name == "raman_shift":
        return raman_shift_from_wavelength(wavelengths, _laser_of(spectrum, laser))
    raise ValueError(f"neon calibration needs a wavelength or raman_shift axis, got "
                     f"{spectrum.axis.name!r}")


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Centre and standard error of one Lorentzian + constant, or None when it fails."""
    top = int(np.argmax(y))
    start = [float(y[top] - y.min()), float(x[top]), float(abs(x[-1] - x[0]) / 6), float(y.min())]

    def model(xv, height, center, fwhm, level):
        return level + height / (1 + (2 * (xv - center) / fwhm) ** 2)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            values, covariance = optimize.curve_fit(model, x, y, p0=start, maxfev=2000)
    except (RuntimeError, ValueError):
        return None
    error = float(np.sqrt(covariance[1, 1])) if np.isfinite(covariance[1, 1]) else math.inf
    if not (min(x) <= values[1] <= max(x)) or values[0] <= 0 or not math.isfinite(error):
        return None
    return float(values[1]), error


def fit_neon_lines(
    neon: Spectrum,
    *,
    laser_wavelength_nm: float | None = None,
    lines: Sequence[tuple[float, float]] = NEON_LINES_NM,
    tolerance: float | None = None,
    half_width: int = 6,
    min_snr: float = 10.0,
    degree: int = 1,
) -> NeonCalibration:
    """Find the neon lines in a lamp spectrum and fit the axis correction polynomial.

    Every line of ``lines`` inside the axis range is looked for within ``tolerance`` of its
    expected position: the highest point there, if it stands ``min_snr`` robust noise units
    above the median, is fitted with a Lorentzian + constant over ``±half_width`` channels.
    A polynomial of ``degree`` then maps the measured centres to the line positions.

    Parameters
    ----------
    neon : Spectrum
        Neon lamp spectrum on a ``wavelength`` (nm) or ``raman_shift`` (cm-1) axis; maps are
        averaged.
    laser_wavelength_nm : float, optional
        Places the lines on a Raman-shift axis (default: ``meta["laser_wavelength_nm"]``).
    lines : sequence of (nm, intensity)
        Line list, default :data:`NEON_LINES_NM`.
    tolerance : float, optional
        Search half-window in axis units (default 15 × the median axis step).
    half_width : int
        Channels each side of the maximum fitted.
    min_snr : float
        Peak height over 1.4826 × MAD of the spectrum for a line to count as found.
    degree : int
        Polynomial degree (0 = offset only, 1 = offset and stretch).

    Returns
    -------
    NeonCalibration

    Raises
    ------
    FitError
        Fewer than ``degree + 2`` lines found.
    """
    single = _mean_spectrum(neon)
    x = single.axis.values
    y = np.asarray(single.data, float)
    order = np.argsort(x)
    x, y = x[order], y[order]
    laser = None
    if single.axis.name == "raman_shift":
        laser = _laser_of(single, laser_wavelength_nm)
    expected = _line_positions(single, laser, lines)
    step = float(np.median(np.abs(np.diff(x))))
    tolerance = 15.0 * step if tolerance is None else float(tolerance)
    noise = 1.482602218505602 * float(np.median(np.abs(y - np.median(y)))) or float(np.std(y))
    reference, measured, errors = [], [], []
    for position in expected:
        near = np.flatnonzero(np.abs(x - position) <= tolerance)
        if near.size < 3 or position - tolerance < x[0] or position + tolerance > x[-1]:
            continue
        top = near[np.argmax(y[near])]
        if y[top] - np.median(y) < min_snr * max(noise, 1e-300):
            continue
        part = slice(max(top - half_width, 0), min(top + half_width + 1, x.size))
        found = _fit_line(x[part], y[part])
        if found is not None:
            reference.append(position)
            measured.append(found[0])
            errors.append(found[1])
    if len(reference) < degree + 2:
        raise FitError(f"found {len(reference)} neon lines in {single.axis!r}; a degree-{degree} "
                       f"correction needs {degree + 2} (check laser_wavelength_nm and tolerance)")
    ref, meas, err = np.array(reference), np.array(measured), np.array(errors)
    weights = 1.0 / np.maximum(err, 1e-6 * step)
    coefficients = np.polynomial.polynomial.polyfit(meas, ref, degree, w=weights)
    residual = ref - np.polynomial.polynomial.polyval(meas, coefficients)
    return NeonCalibration(axis_name=single.axis.name, laser_wavelength_nm=laser, reference=ref,
                           measured=meas, measured_stderr=err, coefficients=coefficients,
                           residual_rms=float(np.sqrt(np.mean(residual ** 2))), degree=degree)


def apply_neon_calibration(spectrum: Spectrum, calibration: NeonCalibration) -> Spectrum:
    """Replace the axis by the neon-corrected one (step ``"calibrate_axis_neon"``).

    Raises
    ------
    ValueError
        The spectrum's axis is not the one calibrated, or the correction is not monotonic.
    """
    if spectrum.axis.name != calibration.axis_name:
        raise ValueError(f"the calibration is for a {calibration.axis_name} axis, not "
                         f"{spectrum.axis.name}")
    values = calibration.correct(spectrum.axis.values)
    steps = np.diff(values) * np.sign(np.diff(spectrum.axis.values))
    if np.any(steps <= 0):
        raise ValueError("the neon correction is not monotonic over this axis")
    return spectrum.with_step("calibrate_axis_neon", {
        "method": "neon", "degree": calibration.degree,
        "coefficients": calibration.coefficients.tolist(),
        "laser_wavelength_nm": calibration.laser_wavelength_nm,
        "lines_used": int(calibration.reference.size),
        "residual_rms": calibration.residual_rms,
        "line_list": "NIST ASD Ne I (air)"}, axis=Axis(spectrum.axis.name, spectrum.axis.unit, values))


def calibrate_neon(spectrum: Spectrum, neon: Spectrum, **options: Any) -> Spectrum:
    """Fit the lines of the lamp spectrum ``neon`` (options of :func:`fit_neon_lines`) and
    apply the correction to ``spectrum`` (both recorded on the same uncalibrated axis)."""
    return apply_neon_calibration(spectrum, fit_neon_lines(neon, **options))
