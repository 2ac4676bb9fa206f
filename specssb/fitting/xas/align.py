"""Energy alignment of XAS spectra to a reference spectrum or through a reference-foil channel.

The shift ``s`` returned is the energy to *add* to the spectrum's energies so that it matches
the reference (Larch's ``eshift`` and Athena's ``bkg.eshift`` convention). It is found in two
steps, both on normalized μ from :func:`specssb.fitting.xas.normalize.normalize` (Larch's
``pre_edge`` defaults, so the arrays are Larch's ``norm``):

1. **Coarse search.** The derivatives of both normalized spectra are taken from cubic splines on
   a fine common grid (``grid_step_ev``, default 0.05 eV) over the window ``[e0 + emin,
   e0 + emax]`` around the reference e0, and the Pearson correlation of the reference derivative
   with the shifted spectrum derivative is computed for every shift on that grid within
   ``±search_ev`` (default 15 eV). The best one starts the fit. This is what makes shifts of
   several eV safe: Larch's ``energy_align`` starts a local fit from zero and, with its default
   ``array='dmude'``, returns −0.2 to −3.9 eV for the 4.2–5.3 eV shifts of the NiO.prj
   reference channels (``notes/xas.md`` §3).
2. **Least-squares refinement.** ``scale · norm(E − s) − norm_ref(E)`` at the reference's own
   energies inside the window is minimized over ``s`` and ``scale`` (a cubic spline of the
   spectrum, analytic Jacobian), ``s`` bounded to ±1 eV around the coarse value. The standard
   error of ``s`` comes from the Jacobian and the residual variance; it reflects noise and the
   mismatch of the two shapes, not the systematic effect of the window choice.

Note: Larch 2026.3.1 computes its window start as ``e0 − emin`` (so ``emin=−15`` gives a window
from e0 + 15 eV, not e0 − 15 eV); this module uses ``[e0 + emin, e0 + emax]`` as documented.

:func:`align_to_reference_channel` finds the shift of a reference-foil channel against a
standard and applies the same shift to the sample data measured with it (Athena ties data and
reference through one shift). Every shifted Spectrum records an ``energy_shift`` history step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.interpolate import CubicSpline
from scipy.optimize import least_squares

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Axis, Spectrum

__all__ = [
    "Alignment",
    "ChannelAlignment",
    "align",
    "align_to_reference_channel",
    "find_shift",
    "shift_energy",
]

_ARRAYS = ("norm", "flat", "mu")
_REFINE_RANGE_EV = 1.0


@dataclass(frozen=True, eq=False)
class Alignment:
    """Result of :func:`align`.

    Attributes
    ----------
    shift_ev : float or ndarray of the leading shape, eV
        Energy to add to the spectrum's energies to match the reference.
    stderr_ev : float or ndarray, eV
        Standard error of ``shift_ev`` from the least-squares fit.
    coarse_shift_ev : float or ndarray, eV
        Shift from the cross-correlation search that started the fit.
    scale : float or ndarray
        Fitted amplitude ratio of the reference to the shifted spectrum.
    reference_e0_ev : float, eV
        The reference e0 the window is placed around.
    spectrum : Spectrum
        The shifted input (``energy_shift`` step in its history).
    """

    shift_ev: float | np.ndarray
    stderr_ev: float | np.ndarray
    coarse_shift_ev: float | np.ndarray
    scale: float | np.ndarray
    reference_e0_ev: float
    spectrum: Spectrum


@dataclass(frozen=True, eq=False)
class ChannelAlignment:
    """Result of :func:`align_to_reference_channel`.

    Attributes
    ----------
    shift_ev, stderr_ev : float or ndarray, eV
        Shift of the reference channel against the standard (applied to both) and its error.
    data : Spectrum
        The sample data shifted by ``shift_ev``.
    reference : Spectrum
        The reference channel shifted by ``shift_ev``.
    alignment : Alignment
        The full alignment of the reference channel.
    """

    shift_ev: float | np.ndarray
    stderr_ev: float | np.ndarray
    data: Spectrum
    reference: Spectrum
    alignment: Alignment


# ---------------------------------------------------------------------------- public API
def find_shift(
    energy: np.ndarray,
    values: np.ndarray,
    reference_energy: np.ndarray,
    reference_values: np.ndarray,
    reference_e0: float,
    *,
    emin: float = -15.0,
    emax: float = 35.0,
    search_ev: float = 15.0,
    grid_step_ev: float = 0.05,
    fit_offset: bool = False,
) -> dict[str, float]:
    """Shift that aligns one spectrum to a reference (coarse correlation search + fit).

    Parameters
    ----------
    energy : ndarray of shape (n,), eV
        Strictly increasing energies of the spectrum.
    values : ndarray of shape (n,)
        Its normalized μ (or μ with ``fit_offset=True``).
    reference_energy : ndarray of shape (m,), eV
        Strictly increasing energies of the reference.
    reference_values : ndarray of shape (m,)
        The reference's values, same kind as ``values``.
    reference_e0 : float, eV
        Edge energy of the reference; the window is ``[e0 + emin, e0 + emax]``.
    emin, emax : float, eV
        Window relative to ``reference_e0``.
    search_ev : float, eV
        Largest shift tried by the coarse search.
    grid_step_ev : float, eV
        Step of the coarse search grid.
    fit_offset : bool, default False
        Also fit a constant offset (for raw μ).

    Returns
    -------
    dict
        ``shift_ev``, ``stderr_ev``, ``coarse_shift_ev``, ``scale``, ``offset``, ``n_points``
        (reference points in the fit) and ``rms`` (root-mean-square residual).

    Raises
    ------
    ConfigError
        A window with fewer than 5 reference points, or bad options.
    FitError
        The spectrum does not cover the window at the coarse shift.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8900.0, 9100.0, 0.5)
    >>> ref = 0.5 + np.arctan((e - 8980.0) / 2.0) / np.pi
    >>> moved = 0.5 + np.arctan((e - 8986.0) / 2.0) / np.pi
    >>> round(find_shift(e, moved, e, ref, 8980.0)["shift_ev"], 3)
    -6.0
    """
    if emax <= emin or search_ev <= 0 or grid_step_ev <= 0:
        raise ConfigError(f"need emin < emax, search_ev > 0 and grid_step_ev > 0; got "
                          f"emin={emin}, emax={emax}, search_ev={search_ev}, "
                          f"grid_step_ev={grid_step_ev}", key="emin")
    energy, values = _increasing(energy, values)
    reference_energy, reference_values = _increasing(reference_energy, reference_values)
    spline = CubicSpline(energy, values)
    reference_spline = CubicSpline(reference_energy, reference_values)
    low = max(reference_e0 + emin, reference_energy[0])
    high = min(reference_e0 + emax, reference_energy[-1])
    coarse = _coarse_shift(spline, energy, reference_spline, low, high, search_ev, grid_step_ev)
    inside = (reference_energy >= low) & (reference_energy <= high)
    inside &= (reference_energy - coarse - _REFINE_RANGE_EV >= energy[0])
    inside &= (reference_energy - coarse + _REFINE_RANGE_EV <= energy[-1])
    if inside.sum() < 5:
        raise FitError(f"only {inside.sum()} reference points of the window {low:.1f}–{high:.1f} "
                       f"eV are covered by the spectrum shifted by {coarse:+.2f} eV")
    e_fit, r_fit = reference_energy[inside], reference_values[inside]
    derivative = spline.derivative()

    def residual(p: np.ndarray) -> np.ndarray:
        shifted = spline(e_fit - p[0])
        return p[1] * shifted + (p[2] if fit_offset else 0.0) - r_fit

    def jacobian(p: np.ndarray) -> np.ndarray:
        columns = [-p[1] * derivative(e_fit - p[0]), spline(e_fit - p[0])]
        if fit_offset:
            columns.append(np.ones_like(e_fit))
        return np.column_stack(columns)

    start = [coarse, 1.0] + ([0.0] if fit_offset else [])
    lower = [coarse - _REFINE_RANGE_EV, 0.0] + ([-np.inf] if fit_offset else [])
    upper = [coarse + _REFINE_RANGE_EV, np.inf] + ([np.inf] if fit_offset else [])
    fit = least_squares(residual, start, jac=jacobian, bounds=(lower, upper), x_scale="jac")
    dof = max(e_fit.size - len(start), 1)
    variance = float(np.sum(fit.fun**2)) / dof
    try:
        covariance = np.linalg.inv(fit.jac.T @ fit.jac) * variance
        stderr = float(np.sqrt(max(covariance[0, 0], 0.0)))
    except np.linalg.LinAlgError:
        stderr = float("nan")
    return {
        "shift_ev": float(fit.x[0]),
        "stderr_ev": stderr,
        "coarse_shift_ev": float(coarse),
        "scale": float(fit.x[1]),
        "offset": float(fit.x[2]) if fit_offset else 0.0,
        "n_points": int(e_fit.size),
        "rms": float(np.sqrt(np.mean(fit.fun**2))),
    }


def align(
    spectrum: Spectrum,
    reference: Spectrum,
    *,
    emin: float = -15.0,
    emax: float = 35.0,
    search_ev: float = 15.0,
    grid_step_ev: float = 0.05,
    array: str = "norm",
    reference_e0: float | None = None,
) -> Alignment:
    """Align a spectrum (or each spectrum of a stack) to a reference spectrum.

    Parameters
    ----------
    spectrum : Spectrum
        XAS μ(E) on an ``energy`` axis; leading dimensions are aligned one by one.
    reference : Spectrum
        One XAS μ(E) spectrum (a standard, or the first scan).
    emin, emax : float, eV
        Fit window relative to the reference e0 (default −15, +35 eV, as Larch).
    search_ev : float, eV
        Largest shift the coarse search tries (default ±15 eV).
    grid_step_ev : float, eV
        Step of the coarse search.
    array : {"norm", "flat", "mu"}
        Compare normalized μ (default), flattened μ, or raw μ (then an offset is fitted too).
    reference_e0 : float, optional, eV
        Reference edge energy; default the e0 that :func:`normalize` finds.

    Returns
    -------
    Alignment
        Shift(s), errors, and the shifted Spectrum (see :func:`shift_energy` for stacks).

    Raises
    ------
    ConfigError
        Unknown ``array``, or a reference with leading dimensions.
    FitError
        The spectrum does not cover the window.
    """
    from specssb.fitting.xas.normalize import normalize

    if array not in _ARRAYS:
        raise ConfigError(f"unknown array {array!r}; choose one of {_ARRAYS}", key="array")
    if reference.n_spectra != 1:
        raise ConfigError("the reference must be a single spectrum", key="reference")
    reference = _single(reference)
    ref_norm = normalize(reference)
    ref_e0 = float(ref_norm.e0) if reference_e0 is None else float(reference_e0)
    ref_values = _curve(ref_norm, reference, array)
    data_norm = normalize(spectrum)
    values = _curve(data_norm, spectrum, array).reshape(-1, spectrum.axis.size)
    options = {"emin": emin, "emax": emax, "search_ev": search_ev, "grid_step_ev": grid_step_ev,
               "fit_offset": array == "mu"}
    results = [find_shift(data_norm.energy, row, ref_norm.energy, ref_values, ref_e0, **options)
               for row in values]
    shaped = {key: _shaped([r[key] for r in results], spectrum.leading_shape)
              for key in ("shift_ev", "stderr_ev", "coarse_shift_ev", "scale")}
    record = {
        "method": "coarse derivative cross-correlation, then least squares of scale*y(E-s)",
        "array": array, **{k: v for k, v in options.items() if k != "fit_offset"},
        "reference_e0_ev": ref_e0, "reference_source": _source_label(reference),
        "stderr_ev": _listed(shaped["stderr_ev"]),
        "coarse_shift_ev": _listed(shaped["coarse_shift_ev"]),
    }
    return Alignment(
        shift_ev=shaped["shift_ev"], stderr_ev=shaped["stderr_ev"],
        coarse_shift_ev=shaped["coarse_shift_ev"], scale=shaped["scale"],
        reference_e0_ev=ref_e0,
        spectrum=shift_energy(spectrum, shaped["shift_ev"], details=record),
    )


def align_to_reference_channel(
    data: Spectrum,
    reference_channel: Spectrum,
    standard: Spectrum,
    **options: Any,
) -> ChannelAlignment:
    """Align sample data through its reference-foil channel (one shared shift, as Athena).

    Parameters
    ----------
    data : Spectrum
        Sample μ(E), measured at the same time as ``reference_channel``; same leading shape.
    reference_channel : Spectrum
        The reference-foil μ(E) recorded with ``data`` (e.g. ln(I2/Iref)).
    standard : Spectrum
        One spectrum of the same foil on the energy scale to align to.
    **options
        Passed to :func:`align` (``emin``, ``emax``, ``search_ev``, ``grid_step_ev``, ``array``,
        ``reference_e0``).

    Returns
    -------
    ChannelAlignment
        The shift found for the reference channel, applied to it and to ``data``.

    Raises
    ------
    ConfigError
        The leading shapes of ``data`` and ``reference_channel`` differ.
    """
    if data.leading_shape != reference_channel.leading_shape:
        raise ConfigError(f"data {data.leading_shape} and reference channel "
                          f"{reference_channel.leading_shape} must have the same leading shape",
                          key="reference_channel")
    alignment = align(reference_channel, standard, **options)
    details = {"tied_to": "reference channel", "reference_source": _source_label(reference_channel),
               "standard_source": _source_label(standard),
               "stderr_ev": _listed(alignment.stderr_ev)}
    return ChannelAlignment(
        shift_ev=alignment.shift_ev,
        stderr_ev=alignment.stderr_ev,
        data=shift_energy(data, alignment.shift_ev, details=details),
        reference=alignment.spectrum,
        alignment=alignment,
    )


def shift_energy(
    spectrum: Spectrum,
    shift_ev: float | np.ndarray,
    *,
    details: dict[str, Any] | None = None,
) -> Spectrum:
    """Add an energy shift to a spectrum's axis.

    Parameters
    ----------
    spectrum : Spectrum
        Any XAS Spectrum on an ``energy`` axis.
    shift_ev : float or ndarray of the leading shape, eV
        One shift (the axis values move, the data are untouched) or one per spectrum (each
        spectrum ``y(E)`` becomes ``y(E − s)`` by a cubic spline, on the original grid points
        that every shifted spectrum covers).
    details : dict, optional
        Extra history parameters (how the shift was found).

    Returns
    -------
    Spectrum
        With an ``energy_shift`` step (``shift_ev`` as a float or a nested list).
    """
    shifts = np.asarray(shift_ev, dtype=float)
    parameters = {"shift_ev": _listed(shifts), **(details or {})}
    axis = spectrum.axis
    if shifts.ndim == 0 or np.all(shifts == shifts.flat[0]):
        value = float(shifts.flat[0])
        parameters["method"] = "axis moved"
        return spectrum.with_step("energy_shift", parameters,
                                  axis=Axis(axis.name, axis.unit, axis.values + value))
    if shifts.shape != spectrum.leading_shape:
        raise ConfigError(f"shift of shape {shifts.shape} for spectra of leading shape "
                          f"{spectrum.leading_shape}", key="shift_ev")
    energy, data = _increasing(axis.values, spectrum.data)
    keep = (energy >= energy[0] + shifts.max()) & (energy <= energy[-1] + shifts.min())
    target = energy[keep]
    flat = data.reshape(-1, energy.size)
    out = np.empty((flat.shape[0], target.size), dtype=flat.dtype)
    for row, shift in enumerate(shifts.ravel()):
        out[row] = CubicSpline(energy, flat[row])(target - shift)
    parameters["method"] = "cubic spline onto the common grid points covered by every spectrum"
    return spectrum.with_step("energy_shift", parameters,
                              axis=Axis(axis.name, axis.unit, target),
                              data=out.reshape(*spectrum.leading_shape, target.size))


# ------------------------------------------------------------------------------ helpers
def _coarse_shift(spline: CubicSpline, energy: np.ndarray, reference_spline: CubicSpline,
                  low: float, high: float, search_ev: float, step: float) -> float:
    """Shift maximizing the correlation of the derivatives on a fine grid."""
    grid = np.arange(low, high + 0.5 * step, step)
    n_shift = int(round(search_ev / step))
    extended = low - n_shift * step + step * np.arange(grid.size + 2 * n_shift)
    reference_slope = reference_spline.derivative()(grid)
    slope = spline.derivative()(np.clip(extended, energy[0], energy[-1]))
    slope[(extended < energy[0]) | (extended > energy[-1])] = 0.0
    windows = sliding_window_view(slope, grid.size)  # window m holds y'(grid - (n_shift - m)·step)
    centred = windows - windows.mean(axis=1, keepdims=True)
    ref_centred = reference_slope - reference_slope.mean()
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(ref_centred)
    correlation = centred @ ref_centred / np.where(norms > 0, norms, np.inf)
    best = int(np.argmax(correlation))
    return float((n_shift - best) * step)


def _increasing(energy: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    energy = np.asarray(energy, dtype=float)
    values = np.asarray(values)
    order = np.argsort(energy, kind="stable")
    energy, values = energy[order], values[..., order]
    if np.any(np.diff(energy) <= 0):
        raise ConfigError("energies must be distinct; remove repeated energies first",
                          key="energy")
    return energy, values


def _curve(result: Any, spectrum: Spectrum, array: str) -> np.ndarray:
    if array == "mu":
        return _increasing(spectrum.axis.values, np.asarray(spectrum.data, dtype=float))[1]
    return np.asarray(getattr(result, array), dtype=float)


def _single(spectrum: Spectrum) -> Spectrum:
    if spectrum.dims:
        return spectrum.replace(data=spectrum.data.reshape(spectrum.axis.size), dims=(),
                                coords={})
    return spectrum


def _shaped(values: list[float], leading: tuple[int, ...]) -> float | np.ndarray:
    return float(values[0]) if not leading else np.asarray(values).reshape(leading)


def _listed(value: Any) -> Any:
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()


def _source_label(spectrum: Spectrum) -> str | None:
    if spectrum.source is None:
        return None
    block = f" [{spectrum.source.block}]" if spectrum.source.block is not None else ""
    return f"{spectrum.source.path}{block}"
