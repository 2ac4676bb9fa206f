"""T1 and T2 from pseudo-2D relaxation series: integrals (or heights) per delay, exponential fits.

Models (``t`` the variable delay or echo time, s):

============================ ======================================================================
``inversion_recovery``       :math:`S(t) = M_0 \\left[1 - 2\\alpha\\, e^{-t/T_1}\\right]`
``saturation_recovery``      :math:`S(t) = M_0 \\left[1 - \\alpha\\, e^{-t/T_1}\\right]`
T2 decay, one component      :math:`S(t) = A\\, e^{-t/T_2} \\; [+\\, c]`
T2 decay, two components     :math:`S(t) = A_s\\, e^{-t/T_{2,s}} + A_l\\, e^{-t/T_{2,l}} \\; [+\\, c]`
============================ ======================================================================

:math:`\\alpha` is the inversion (saturation) efficiency, 1 for a perfect pulse; leaving it free is
the usual three-parameter fit that absorbs imperfect pulses (Levitt, *Spin Dynamics*, 2nd ed.,
§11.9; Vold et al. 1968). Hahn-echo and CPMG series (Carr & Purcell 1954; Meiboom & Gill 1958)
are fitted with the decay; ``t`` is then the total echo time (for CPMG the loop count × the echo
spacing 2τ, which the caller supplies when the coordinate holds loop counts). A bi-exponential
decay reports ``t2_short`` < ``t2_long`` and ``fraction_short`` = :math:`A_s/(A_s + A_l)`.

Fitting. Starting values are not defaults: every model is linear in its amplitudes once the
time constants are fixed, so the time constants are first found on a logarithmic grid
(``t_max``/1000 … 10 ``t_max``; for two components every pair with
:math:`T_{2,l} > 1.5\\,T_{2,s}`) with the amplitudes solved by linear least squares at each
grid point (variable projection, Golub & Pereyra 2003); that best grid point starts
:func:`scipy.optimize.least_squares` (trust-region reflective, analytic Jacobian, bounds:
time constants > 0, efficiencies in [0, 1.5], two-component amplitudes ≥ 0). Standard errors
come from :math:`(J^T W J)^{-1}` scaled by the reduced chi-square (lmfit's default
``scale_covar``), so they hold for unknown as well as known point errors; derived quantities
(``fraction_short``) are propagated through their gradients.

Results are a :class:`~specssb.fitting.result.FitTable` (engine ``relaxation``): one row per
curve × quantity, ``species`` the range name, quantities ``t1``, ``m0``, ``efficiency`` (T1) or
``t2``, ``amplitude`` [, ``offset``] (one component), ``t2_short``, ``t2_long``,
``amplitude_short``, ``amplitude_long``, ``fraction_short`` [, ``offset``] (two); the table also
has a ``model`` column and ``n_delays``.

References
----------
H. Y. Carr and E. M. Purcell, *Phys. Rev.* 94 (1954) 630; S. Meiboom and D. Gill, *Rev. Sci.
Instrum.* 29 (1958) 688.

R. L. Vold, J. S. Waugh, M. P. Klein and D. E. Phelps, "Measurement of spin relaxation in
complex systems", *J. Chem. Phys.* 48 (1968) 3831 (inversion recovery).

M. H. Levitt, *Spin Dynamics*, 2nd ed., Wiley (2008), ch. 11 (relaxation experiments).

G. Golub and V. Pereyra, "Separable nonlinear least squares: the variable projection method
and its applications", *Inverse Problems* 19 (2003) R1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, ConvergenceWarning, FitError, PhysicsWarning
from specssb.fitting.nmr.integrate import integrate_arrays
from specssb.fitting.result import COLUMNS, FitTable
from specssb.spectrum import Spectrum

__all__ = ["MODELS", "fit_t1", "fit_t2", "relaxation_curves", "relaxation_model"]

ENGINE = "relaxation"
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}


@dataclass(frozen=True)
class _Model:
    """A relaxation model: parameter names, units ("time", "signal", "1"), function, Jacobian."""

    name: str
    parameters: tuple[str, ...]
    units: tuple[str, ...]
    function: Callable[..., np.ndarray]
    jacobian: Callable[..., np.ndarray]


def _recovery(factor: float) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    def function(t: np.ndarray, m0: float, t1: float, efficiency: float) -> np.ndarray:
        return m0 * (1.0 - factor * efficiency * np.exp(-t / t1))

    def jacobian(t: np.ndarray, m0: float, t1: float, efficiency: float) -> np.ndarray:
        decay = np.exp(-t / t1)
        return np.column_stack([1.0 - factor * efficiency * decay,
                                -m0 * factor * efficiency * decay * t / t1**2,
                                -m0 * factor * decay])

    return function, jacobian


def _decay(n: int, offset: bool) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    def function(t: np.ndarray, *p: float) -> np.ndarray:
        out = sum(p[2 * i] * np.exp(-t / p[2 * i + 1]) for i in range(n))
        return out + (p[-1] if offset else 0.0)

    def jacobian(t: np.ndarray, *p: float) -> np.ndarray:
        columns = []
        for i in range(n):
            decay = np.exp(-t / p[2 * i + 1])
            columns += [decay, p[2 * i] * decay * t / p[2 * i + 1] ** 2]
        if offset:
            columns.append(np.ones_like(t))
        return np.column_stack(columns)

    return function, jacobian


def _models() -> dict[str, _Model]:
    models = {}
    for name, factor in (("inversion_recovery", 2.0), ("saturation_recovery", 1.0)):
        models[name] = _Model(name, ("m0", "t1", "efficiency"), ("signal", "time", "1"), *_recovery(factor))
    for offset in (False, True):
        suffix = "_offset" if offset else ""
        extra, extra_unit = (("offset",), ("signal",)) if offset else ((), ())
        models[f"t2_decay{suffix}"] = _Model(
            f"t2_decay{suffix}", ("amplitude", "t2", *extra), ("signal", "time", *extra_unit), *_decay(1, offset))
        models[f"t2_biexponential{suffix}"] = _Model(
            f"t2_biexponential{suffix}", ("amplitude_short", "t2_short", "amplitude_long", "t2_long", *extra),
            ("signal", "time", "signal", "time", *extra_unit), *_decay(2, offset))
    return models


#: Every relaxation model by name (see the module documentation for the formulas).
MODELS: Mapping[str, _Model] = _models()


def relaxation_model(model: str, t: np.ndarray, **parameters: float) -> np.ndarray:
    """Evaluate a relaxation model (to redraw a fit from the table's values).

    Parameters
    ----------
    model : str
        A key of :data:`MODELS` (``inversion_recovery``, ``saturation_recovery``,
        ``t2_decay``, ``t2_biexponential``, the last two also with ``_offset``).
    t : ndarray, s
        Delays or echo times.
    **parameters : float
        Every parameter of the model by name (``m0``, ``t1``, ``efficiency`` …).

    Examples
    --------
    >>> relaxation_model("inversion_recovery", np.array([0.0, np.log(2)]), m0=1.0, t1=1.0,
    ...                  efficiency=1.0).round(6).tolist()
    [-1.0, 0.0]
    """
    spec = _model(model)
    missing = [p for p in spec.parameters if p not in parameters]
    if missing:
        raise ConfigError(f"model {model!r} needs the parameters {missing}", key="parameters")
    return spec.function(np.asarray(t, float), *(parameters[p] for p in spec.parameters))


def _model(name: str) -> _Model:
    if name not in MODELS:
        raise ConfigError(f"unknown relaxation model {name!r}; choose one of {list(MODELS)}", key="model")
    return MODELS[name]


# ---------------------------------------------------------------------- curves from spectra
def relaxation_curves(
    spectrum: Spectrum,
    ranges: Mapping[str, Sequence[float]],
    *,
    measure: str = "integral",
    dim: str | None = None,
    noise_regions: Sequence[Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Integrals (or peak heights) per delay of a pseudo-2D series.

    Parameters
    ----------
    spectrum : Spectrum
        Processed spectra (axis ``chemical_shift``, real) with a leading dimension whose
        coordinate is the delay list (Bruker ``vdlist``: dim and coordinate ``delay``, s).
        Other leading dimensions (a CSI position …) give one curve each.
    ranges : mapping of str to (low, high), ppm
        Named integration ranges.
    measure : {"integral", "height"}
        ``integral``: :func:`~specssb.fitting.nmr.integrate.integrate_arrays` with its noise
        error. ``height``: the signal at the point of largest magnitude in the range of the
        longest-delay spectrum, at that same point in every spectrum (error: the noise RMS).
    dim : str, optional
        The delay dimension; default: the only leading dimension, or the only one with a
        coordinate in s, ms or µs.
    noise_regions : sequence of (low, high), ppm, optional

    Returns
    -------
    dict
        ``delays`` (d,) in s; ``values``, ``stderr`` of shape (p, k, d) (p curves per range:
        the product of the other leading dimensions, k ranges); ``names`` (k,); ``index``
        (p,) labels ``"i,j"`` of the other dimensions; ``unit`` of the values.
    """
    if spectrum.axis.name != "chemical_shift" or np.iscomplexobj(spectrum.data):
        raise FitError("relaxation curves need processed spectra (chemical_shift axis, real data); "
                       "process the FIDs first")
    if measure not in ("integral", "height"):
        raise ConfigError(f"measure must be 'integral' or 'height', got {measure!r}", key="measure")
    dim, delays = _delay_dim(spectrum, dim)
    axis = spectrum.dims.index(dim)
    data = np.moveaxis(spectrum.data, axis, -2)  # (..., d, n)
    others = data.shape[:-2]
    data = data.reshape(-1, *data.shape[-2:])  # (p, d, n)
    x = spectrum.axis.values
    result = integrate_arrays(x, data, ranges, noise_regions=noise_regions)
    if measure == "integral":
        values, errors = result["integral"], result["stderr"]  # (p, d, k)
        unit = f"{spectrum.signal_unit}·ppm"
    else:
        longest = int(np.argmax(delays))
        values = np.empty(result["integral"].shape)
        for j, (low, high) in enumerate(zip(result["low"], result["high"])):
            inside = np.flatnonzero((x >= low) & (x <= high))
            peak = inside[np.argmax(np.abs(data[:, longest, inside]), axis=1)]  # (p,)
            values[:, :, j] = np.take_along_axis(data, peak[:, None, None], axis=2)[:, :, 0]
        errors = np.broadcast_to(result["noise_rms"][..., None], values.shape).copy()
        unit = spectrum.signal_unit
    index = [",".join(map(str, i)) for i in np.ndindex(*others)] if others else [""]
    return {"delays": delays, "values": np.moveaxis(values, -1, 1), "stderr": np.moveaxis(errors, -1, 1),
            "names": result["names"], "index": index, "unit": unit}


def _delay_dim(spectrum: Spectrum, dim: str | None) -> tuple[str, np.ndarray]:
    if not spectrum.dims:
        raise FitError("a relaxation series needs a leading dimension of delays (a pseudo-2D "
                       "Spectrum); a single spectrum has none")
    timed = {c.dim: c for c in spectrum.coords.values() if c.unit in _TIME_UNITS
             and np.asarray(c.values).dtype.kind in "iuf"}
    if dim is None:
        if len(spectrum.dims) == 1:
            dim = spectrum.dims[0]
        elif len(timed) == 1:
            dim = next(iter(timed))
        else:
            raise ConfigError(f"name the delay dimension with dim=, one of {spectrum.dims}", key="dim")
    if dim not in spectrum.dims:
        raise ConfigError(f"no leading dimension {dim!r}; the spectrum has {spectrum.dims}", key="dim")
    if dim not in timed:
        raise ConfigError(f"dimension {dim!r} has no coordinate in s, ms or µs; pass the delays "
                          "explicitly (fit_t1(values, delays))", key="dim")
    coord = timed[dim]
    return dim, np.asarray(coord.values, float) * _TIME_UNITS[coord.unit]


# ---------------------------------------------------------------------- public fits
def fit_t1(
    data: Spectrum | np.ndarray | Sequence[float],
    delays: np.ndarray | Sequence[float] | None = None,
    *,
    experiment: str = "inversion_recovery",
    ranges: Mapping[str, Sequence[float]] | None = None,
    measure: str = "integral",
    sigma: np.ndarray | Sequence[float] | None = None,
    names: Sequence[str] | None = None,
    fixed_efficiency: bool = False,
    dim: str | None = None,
    noise_regions: Sequence[Sequence[float]] | None = None,
) -> FitTable:
    """Fit T1 to inversion- or saturation-recovery curves.

    Parameters
    ----------
    data : Spectrum or array_like of shape (d,) or (k, d)
        A pseudo-2D series of processed spectra (then ``ranges`` is required, see
        :func:`relaxation_curves`), or the integrals / heights per delay (k curves).
    delays : array_like of shape (d,), s
        The variable delays (for arrays; a Spectrum's come from its coordinate).
    experiment : {"inversion_recovery", "saturation_recovery"}
    ranges : mapping of str to (low, high), ppm
        Integration ranges (with a Spectrum).
    measure : {"integral", "height"}
    sigma : array_like of shape (d,) or (k, d), optional
        Point errors (arrays). For a Spectrum the integrals' noise errors are used.
    names : sequence of str, optional
        Curve names for arrays (default ``curve0``, ``curve1`` …).
    fixed_efficiency : bool
        Fix α = 1 (perfect inversion/saturation; two-parameter fit).
    dim : str, optional
        The delay dimension of a Spectrum with several leading dimensions.
    noise_regions : sequence of (low, high), ppm, optional

    Returns
    -------
    FitTable
        Quantities ``t1`` (s), ``m0`` (signal unit), ``efficiency`` (1) per curve.

    Raises
    ------
    ConfigError
        Unknown experiment, missing ranges or delays, mismatched shapes.
    FitError
        Fewer delays than parameters, or non-finite values.

    Warns
    -----
    PhysicsWarning
        When the longest delay is below 3 T1 (M0 and T1 are then poorly separated).
    ConvergenceWarning
        When a fit did not converge (``converged=False`` in the table).

    Examples
    --------
    >>> t = np.array([0.01, 0.1, 0.3, 0.7, 1.5, 3.0, 6.0])
    >>> table = fit_t1(1 - 2 * np.exp(-t / 0.8), t)
    >>> round(float(table.values("t1").iloc[0, 0]), 4)
    0.8
    """
    if experiment not in ("inversion_recovery", "saturation_recovery"):
        raise ConfigError(f"experiment must be 'inversion_recovery' or 'saturation_recovery', got "
                          f"{experiment!r}", key="experiment")
    curves = _curves(data, delays, ranges, measure, sigma, names, dim, noise_regions)
    fixed = {"efficiency": 1.0} if fixed_efficiency else {}
    return _fit_all(curves, experiment, fixed)


def fit_t2(
    data: Spectrum | np.ndarray | Sequence[float],
    times: np.ndarray | Sequence[float] | None = None,
    *,
    components: int = 1,
    offset: bool = False,
    ranges: Mapping[str, Sequence[float]] | None = None,
    measure: str = "integral",
    sigma: np.ndarray | Sequence[float] | None = None,
    names: Sequence[str] | None = None,
    dim: str | None = None,
    noise_regions: Sequence[Sequence[float]] | None = None,
) -> FitTable:
    """Fit T2 to a Hahn-echo or CPMG decay, with one or two exponential components.

    Parameters
    ----------
    data : Spectrum or array_like of shape (d,) or (k, d)
        As :func:`fit_t1`.
    times : array_like of shape (d,), s
        Total echo times (arrays; a Spectrum's come from its coordinate, which must then be
        the echo time in s, ms or µs, not a loop count).
    components : {1, 2}
    offset : bool
        Add a constant :math:`c` (a baseline, or a component too slow for the time range).
    ranges, measure, sigma, names, dim, noise_regions
        As :func:`fit_t1`.

    Returns
    -------
    FitTable
        ``t2``, ``amplitude`` (one component) or ``t2_short``, ``t2_long``,
        ``amplitude_short``, ``amplitude_long``, ``fraction_short`` (two), plus ``offset``.

    Warns
    -----
    PhysicsWarning
        When the longest echo time is below 2 × the (longest) T2.
    ConvergenceWarning
        When a fit did not converge.

    Examples
    --------
    >>> t = np.linspace(0.001, 0.1, 30)
    >>> round(float(fit_t2(5 * np.exp(-t / 0.02), t).values("t2").iloc[0, 0]), 5)
    0.02
    """
    if components not in (1, 2):
        raise ConfigError(f"components must be 1 or 2, got {components!r}", key="components")
    model = ("t2_decay" if components == 1 else "t2_biexponential") + ("_offset" if offset else "")
    curves = _curves(data, times, ranges, measure, sigma, names, dim, noise_regions)
    return _fit_all(curves, model, {})


def _curves(data: Any, delays: Any, ranges: Any, measure: str, sigma: Any, names: Any, dim: Any,
            noise_regions: Any) -> dict[str, Any]:
    if isinstance(data, Spectrum):
        if ranges is None:
            raise ConfigError("give ranges={name: (low, high)} to integrate a Spectrum series", key="ranges")
        if delays is not None:
            raise ConfigError("a Spectrum carries its delays in its coordinate; do not pass delays",
                              key="delays")
        curves = relaxation_curves(data, ranges, measure=measure, dim=dim, noise_regions=noise_regions)
        curves["source"] = data.source.path if data.source is not None else "<memory>"
        curves["block"] = "" if data.source is None or data.source.block is None else str(data.source.block)
        return curves
    if delays is None:
        raise ConfigError("give the delays (s) with plain arrays", key="delays")
    t = np.asarray(delays, float).ravel()
    values = np.atleast_2d(np.asarray(data, float))
    if values.shape[-1] != t.size or values.ndim != 2:
        raise ConfigError(f"values of shape {np.shape(data)} do not match {t.size} delays", key="delays")
    k = values.shape[0]
    errors = None if sigma is None else np.broadcast_to(np.asarray(sigma, float), values.shape)
    labels = [f"curve{i}" for i in range(k)] if names is None else [str(n) for n in names]
    if len(labels) != k:
        raise ConfigError(f"{len(labels)} names for {k} curves", key="names")
    return {"delays": t, "values": values[None], "stderr": None if errors is None else errors[None],
            "names": np.array(labels), "index": [""], "unit": "arb. units", "source": "<memory>",
            "block": ""}


def _fit_all(curves: dict[str, Any], model_name: str, fixed: Mapping[str, float]) -> FitTable:
    model = _model(model_name)
    t = curves["delays"]
    values = curves["values"]
    rows = []
    failed = 0
    spans = []
    for p, index in enumerate(curves["index"]):
        for k, name in enumerate(curves["names"]):
            sigma = None if curves["stderr"] is None else curves["stderr"][p, k]
            fitted = _fit_curve(model, t, values[p, k], sigma, fixed)
            failed += not fitted["converged"]
            spans.append(fitted)
            for quantity, value, error, unit in fitted["rows"]:
                unit = {"time": "s", "signal": curves["unit"]}.get(unit, unit)
                rows.append({"spectrum": p, "source": curves["source"], "block": curves["block"],
                             "index": index, "species": str(name), "quantity": quantity, "value": value,
                             "stderr": error, "unit": unit, "converged": fitted["converged"],
                             "redchi": fitted["redchi"], "recipe": "", "engine": ENGINE,
                             "model": model_name, "n_delays": int(t.size)})
    _physics_checks(model_name, t, spans)
    if failed:
        warnings.warn(f"{failed} of {len(spans)} relaxation fits did not converge; they are marked "
                      "converged=False", ConvergenceWarning, stacklevel=3)
    frame = pd.DataFrame(rows)
    return FitTable.from_frame(frame[[*COLUMNS, "model", "n_delays"]])


def _physics_checks(model_name: str, t: np.ndarray, fits: list[dict[str, Any]]) -> None:
    longest = float(np.max(t))
    for fitted in fits:
        values = fitted["values"]
        if "t1" in values and longest < 3.0 * values["t1"]:
            warnings.warn(f"the longest delay {longest:g} s is below 3 T1 = {3 * values['t1']:.3g} s: M0 "
                          "and T1 are poorly separated; measure longer delays", PhysicsWarning, stacklevel=4)
        slowest = max((v for k, v in values.items() if k.startswith("t2")), default=None)
        if slowest is not None and longest < 2.0 * slowest:
            warnings.warn(f"the longest echo time {longest:g} s is below 2 T2 = {2 * slowest:.3g} s: the "
                          "decay is poorly sampled", PhysicsWarning, stacklevel=4)


# ---------------------------------------------------------------------- one curve
def _grid(t: np.ndarray) -> np.ndarray:
    span = float(np.max(t) - min(float(np.min(t)), 0.0))
    return np.geomspace(span / 1000.0, span * 10.0, 121)


def _bases(model: _Model, t: np.ndarray, constants: Sequence[float]) -> np.ndarray:
    """Columns the model is linear in, for fixed time constants."""
    columns = [np.exp(-t / tc) for tc in constants]
    if model.name.endswith("recovery") or model.name.endswith("_offset"):
        columns.append(np.ones_like(t))
    return np.column_stack(columns)


def _start(model: _Model, t: np.ndarray, y: np.ndarray, w: np.ndarray, fixed: Mapping[str, float]) -> np.ndarray:
    """Starting values by variable projection on a grid of time constants."""
    grid = _grid(t)
    if model.name.startswith("t2_biexponential"):
        candidates = [(a, b) for i, a in enumerate(grid[::2]) for b in grid[::2][i + 1:] if b > 1.5 * a]
    else:
        candidates = [(tc,) for tc in grid]
    best, best_cost, best_coef = candidates[0], math.inf, None
    for constants in candidates:
        basis = _bases(model, t, constants)
        coef, *_ = np.linalg.lstsq(basis * w[:, None], y * w, rcond=None)
        if model.name.startswith("t2_biexponential") and np.any(coef[:2] < 0):
            continue
        cost = float((((basis @ coef) - y) * w) @ (((basis @ coef) - y) * w))
        if cost < best_cost:
            best, best_cost, best_coef = constants, cost, coef
    if best_coef is None:  # no non-negative pair: start from equal halves
        best_coef = np.array([0.5 * y.max(), 0.5 * y.max(), 0.0])
    if model.name.endswith("recovery"):
        decay, m0 = best_coef
        factor = 2.0 if model.name == "inversion_recovery" else 1.0
        efficiency = fixed.get("efficiency", float(np.clip(-decay / (factor * m0) if m0 else 1.0, 0.05, 1.45)))
        return np.array([m0, best[0], efficiency])
    start = []
    for i, tc in enumerate(best):
        start += [best_coef[i], tc]
    if model.name.endswith("_offset"):
        start.append(best_coef[-1])
    return np.array(start, float)


def _bounds(model: _Model) -> tuple[np.ndarray, np.ndarray]:
    lower, upper = [], []
    for name in model.parameters:
        if name.startswith(("t1", "t2")):
            lower.append(1e-12), upper.append(np.inf)
        elif name == "efficiency":
            lower.append(0.0), upper.append(1.5)
        elif name.startswith("amplitude_"):
            lower.append(0.0), upper.append(np.inf)
        else:
            lower.append(-np.inf), upper.append(np.inf)
    return np.array(lower), np.array(upper)


def _fit_curve(model: _Model, t: np.ndarray, y: np.ndarray, sigma: np.ndarray | None,
               fixed: Mapping[str, float]) -> dict[str, Any]:
    from scipy.optimize import least_squares

    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(t))):
        raise FitError("the relaxation curve holds NaN or infinite values")
    names = model.parameters
    free = [i for i, n in enumerate(names) if n not in fixed]
    if t.size <= len(free):
        raise FitError(f"{t.size} delays cannot fit the {len(free)} parameters of {model.name}")
    w = np.ones_like(y) if sigma is None else 1.0 / np.asarray(sigma, float)
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise FitError("point errors (sigma) must be finite and positive")
    scale = float(np.max(np.abs(y))) or 1.0  # fit in units of the largest point: well conditioned
    start = _start(model, t, y / scale, w * scale, fixed)
    lower, upper = _bounds(model)
    start = np.clip(start, lower, upper)

    def full(theta: np.ndarray) -> np.ndarray:
        p = start.copy()
        p[free] = theta
        return p

    def residual(theta: np.ndarray) -> np.ndarray:
        return (model.function(t, *full(theta)) - y / scale) * w * scale

    def jacobian(theta: np.ndarray) -> np.ndarray:
        return model.jacobian(t, *full(theta))[:, free] * (w * scale)[:, None]

    result = least_squares(residual, start[free], jac=jacobian, bounds=(lower[free], upper[free]),
                           method="trf", x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=2000)
    params = full(result.x)
    dof = t.size - len(free)
    chi2 = float(result.fun @ result.fun)
    redchi = chi2 / dof
    jac = result.jac
    try:
        covariance = np.linalg.inv(jac.T @ jac) * redchi
    except np.linalg.LinAlgError:
        covariance = np.full((len(free), len(free)), np.nan)
    # back to the signal's units: amplitudes scale, time constants and efficiencies do not
    signal = np.array([u == "signal" for u in model.units])
    params = np.where(signal, params * scale, params)
    errors = np.zeros(len(names))
    errors[free] = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    errors = np.where(signal, errors * scale, errors)
    cov_full = np.zeros((len(names), len(names)))
    cov_full[np.ix_(free, free)] = covariance
    cov_full *= np.outer(np.where(signal, scale, 1.0), np.where(signal, scale, 1.0))
    values = dict(zip(names, params))
    order = list(range(len(names)))
    if model.name.startswith("t2_biexponential") and values["t2_short"] > values["t2_long"]:
        order = [2, 3, 0, 1, *order[4:]]  # keep t2_short < t2_long
    rows = [(names[i], float(params[j]), float(errors[j]), model.units[i]) for i, j in enumerate(order)]
    if model.name.startswith("t2_biexponential"):
        s, l_ = order[0], order[2]
        total = params[s] + params[l_]
        fraction = params[s] / total
        gradient = np.zeros(len(names))
        gradient[s], gradient[l_] = params[l_] / total**2, -params[s] / total**2
        rows.append(("fraction_short", float(fraction), float(np.sqrt(gradient @ cov_full @ gradient)), "1"))
    return {"rows": rows, "values": {r[0]: r[1] for r in rows}, "converged": bool(result.success),
            "redchi": redchi, "covariance": cov_full}
