"""2D exchange spectroscopy (EXSY): peak volumes per mixing time and the two-site exchange rate.

Volumes. A 2D spectrum is a :class:`~specssb.spectrum.Spectrum` whose spectral axis is F2
(``chemical_shift``, ppm) and whose last leading dimension is F1 (a coordinate in ppm); a
mixing-time series adds a leading dimension whose coordinate is the mixing time (s, ms, µs).
Each site is a ppm range, the same in F1 and F2 (homonuclear exchange), and the volume of the
peak from site :math:`j` (F1, where the magnetization was labelled) to site :math:`i` (F2,
where it is detected) is the box sum

.. math::

    V_{j\\to i} = \\sum_{F_1 \\in j}\\sum_{F_2 \\in i} y\\; \\Delta_1 \\Delta_2 ,
    \\qquad \\sigma_V = \\sigma_\\mathrm{rms}\\, \\Delta_1 \\Delta_2 \\sqrt{n_1 n_2}

(white noise, as in :mod:`specssb.fitting.nmr.integrate`; :math:`\\sigma_\\mathrm{rms}` from a
signal-free part of the plane).

Two-site model. During the mixing time :math:`\\tau_m` the longitudinal magnetizations of sites
a and b relax and exchange (McConnell 1958):

.. math::

    \\frac{d\\,\\Delta \\mathbf M}{dt} = -\\mathbf L\\, \\Delta \\mathbf M, \\qquad
    \\mathbf L = \\begin{pmatrix} R_{1a} + k_{ab} & -k_{ba} \\\\ -k_{ab} & R_{1b} + k_{ba}
    \\end{pmatrix},\\qquad k_{ab} M_a^0 = k_{ba} M_b^0 ,

with :math:`k_{ab}` the rate constant from a to b (s⁻¹) and detailed balance fixing
:math:`k_{ba}`. The 2D peak volumes are (Jeener et al. 1979; Perrin & Dwyer 1990)

.. math::

    V_{j \\to i}(\\tau_m) = \\left[e^{-\\mathbf L \\tau_m}\\right]_{ij} M_j^0 ,

evaluated in closed form: with :math:`s = (L_{11}+L_{22})/2`, :math:`d = (L_{11}-L_{22})/2`,
:math:`q = \\sqrt{d^2 + k_{ab}k_{ba}}`,
:math:`e^{-\\mathbf L\\tau} = e^{-s\\tau}[\\cosh(q\\tau)\\,\\mathbf 1 - \\sinh(q\\tau)/q\\,(\\mathbf L - s\\mathbf 1)]`.
The cross peaks are equal, :math:`V_{a\\to b} = V_{b\\to a}`. :func:`fit_exchange` fits the four
build-up/decay curves together for :math:`M_a^0, M_b^0, k_{ab}, R_{1a}, R_{1b}` (options: equal
populations, :math:`M_a^0 = M_b^0`; equal relaxation, :math:`R_{1a} = R_{1b}`).
:func:`initial_rate` gives the short-mixing-time approximation
:math:`V_{a\\to b}/V_{a\\to a} \\approx k_{ab}\\tau_m`, valid while :math:`k\\tau_m \\ll 1`.

This is how Li exchange between Li2S and an argyrodite solid electrolyte was quantified by
6Li 2D EXSY (Yu et al. 2017) and across grain boundaries of Li6PS5Br (Ganapathy et al. 2019).

References
----------
H. M. McConnell, "Reaction rates by nuclear magnetic resonance", *J. Chem. Phys.* 28 (1958) 430.

J. Jeener, B. H. Meier, P. Bachmann and R. R. Ernst, "Investigation of exchange processes by
two-dimensional NMR spectroscopy", *J. Chem. Phys.* 71 (1979) 4546.

C. L. Perrin and T. J. Dwyer, "Application of two-dimensional NMR to kinetics of chemical
exchange", *Chem. Rev.* 90 (1990) 935.

C. Yu, S. Ganapathy, E. R. H. van Eck, H. Wang, S. Basak, Z. Li and M. Wagemaker, "Accessing
the bottleneck in all-solid state batteries, lithium-ion transport over the
solid-electrolyte-electrode interface", *Nat. Commun.* 8 (2017) 1086.

S. Ganapathy, C. Yu, E. R. H. van Eck and M. Wagemaker, "Peeking across grain boundaries in a
solid-state ionic conductor", *ACS Energy Lett.* 4 (2019) 1092.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, ConvergenceWarning, FitError
from specssb.fitting.result import COLUMNS, FitTable
from specssb.spectrum import Spectrum

__all__ = ["exchange_volumes", "exsy_volumes", "fit_exchange", "initial_rate"]

ENGINE = "exsy"
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
_PARAMETERS = ("m0_a", "m0_b", "k_ab", "r1_a", "r1_b")


# ---------------------------------------------------------------------- model
def exchange_volumes(
    mixing_times: np.ndarray | Sequence[float],
    *,
    m0_a: float,
    m0_b: float,
    k_ab: float,
    r1_a: float,
    r1_b: float,
) -> np.ndarray:
    """Peak volumes of the two-site exchange model (see the module documentation).

    Parameters
    ----------
    mixing_times : array_like of shape (t,), s
    m0_a, m0_b : float
        Equilibrium magnetizations (volumes at zero mixing time), proportional to populations.
    k_ab : float
        Rate constant from site a to site b, s⁻¹ (:math:`k_{ba} = k_{ab} M_a^0 / M_b^0`).
    r1_a, r1_b : float
        Longitudinal relaxation rates 1/T1, s⁻¹.

    Returns
    -------
    ndarray of shape (t, 2, 2)
        ``V[:, j, i]``: from site j (F1) to site i (F2); index 0 is a, 1 is b.

    Examples
    --------
    >>> v = exchange_volumes([0.0, 0.01], m0_a=1.0, m0_b=1.0, k_ab=2.0, r1_a=0.0, r1_b=0.0)
    >>> v[0].tolist(), round(float(v[1, 0, 1]), 4)   # cross peak ~ k t at short times
    ([[1.0, 0.0], [0.0, 1.0]], 0.0196)
    """
    t = np.asarray(mixing_times, float)[:, None, None]
    k_ba = k_ab * m0_a / m0_b
    l11, l22 = r1_a + k_ab, r1_b + k_ba
    s, d = 0.5 * (l11 + l22), 0.5 * (l11 - l22)
    q = np.sqrt(d * d + k_ab * k_ba)
    slow, fast = np.exp(-(s - q) * t), np.exp(-(s + q) * t)  # q <= s: no overflow
    cosh = 0.5 * (slow + fast)
    sinh_over_q = 0.5 * (slow - fast) / q if q > 1e-12 * max(s, 1e-300) else t * np.exp(-s * t)
    e = np.empty((t.shape[0], 2, 2))
    e[:, 0, 0] = (cosh - d * sinh_over_q)[:, 0, 0]
    e[:, 1, 1] = (cosh + d * sinh_over_q)[:, 0, 0]
    e[:, 0, 1] = (k_ba * sinh_over_q)[:, 0, 0]  # [exp(-L t)]_ab
    e[:, 1, 0] = (k_ab * sinh_over_q)[:, 0, 0]
    m0 = np.array([m0_a, m0_b])
    # V[t, j, i] = E[t, i, j] * M_j
    return np.transpose(e, (0, 2, 1)) * m0[None, :, None]


# ---------------------------------------------------------------------- volumes
def exsy_volumes(
    spectrum: Spectrum,
    sites: Mapping[str, Sequence[float]],
    *,
    indirect_dim: str | None = None,
    mixing_dim: str | None = None,
    noise_box: tuple[Sequence[float], Sequence[float]] | None = None,
) -> dict[str, Any]:
    """Diagonal and cross-peak volumes of 2D EXSY spectra, per mixing time.

    Parameters
    ----------
    spectrum : Spectrum
        Processed 2D spectra: axis ``chemical_shift`` (F2, ppm), real data, leading
        dimensions ``(mixing, F1)`` (or just F1 for one spectrum).
    sites : mapping of str to (low, high), ppm
        Each site's range, used in both F1 and F2 (at least two, not overlapping).
    indirect_dim : str, optional
        The F1 dimension; default: the last leading dimension. Its coordinate must be in ppm.
    mixing_dim : str, optional
        The mixing-time dimension; default: the other leading dimension (coordinate in s, ms
        or µs).
    noise_box : ((f1_low, f1_high), (f2_low, f2_high)), ppm, optional
        A signal-free box for the noise RMS. Default: every point whose F1 *and* F2 lie
        outside all sites (so the t1-noise ridges through the peaks are excluded).

    Returns
    -------
    dict
        ``mixing_times`` (t,) in s (``[nan]`` for a single spectrum); ``volumes`` and
        ``stderr`` (t, s, s) indexed ``[origin (F1), destination (F2)]``; ``names`` (s,);
        ``noise_rms`` (t,); ``unit``.

    Raises
    ------
    ConfigError
        Missing or malformed coordinates or sites.
    """
    if spectrum.axis.name != "chemical_shift" or np.iscomplexobj(spectrum.data):
        raise FitError("EXSY volumes need processed 2D spectra (chemical_shift axis, real data)")
    if not spectrum.dims:
        raise ConfigError("a 2D spectrum needs a leading F1 dimension with a ppm coordinate", key="indirect_dim")
    indirect_dim = indirect_dim or spectrum.dims[-1]
    f1 = _coordinate(spectrum, indirect_dim, ("ppm",))
    others = [d for d in spectrum.dims if d != indirect_dim]
    if len(others) > 1 and mixing_dim is None:
        raise ConfigError(f"name the mixing-time dimension with mixing_dim=, one of {others}", key="mixing_dim")
    mixing_dim = mixing_dim or (others[0] if others else None)
    if mixing_dim is not None:
        times = _coordinate(spectrum, mixing_dim, tuple(_TIME_UNITS))
        unit = next(c.unit for c in spectrum.coords.values() if c.dim == mixing_dim and c.unit in _TIME_UNITS)
        times = times * _TIME_UNITS[unit]
        data = np.moveaxis(spectrum.data, [spectrum.dims.index(mixing_dim), spectrum.dims.index(indirect_dim)],
                           [0, 1])
    else:
        times = np.array([np.nan])
        data = spectrum.data[None]
    if data.ndim != 3:
        raise ConfigError(f"expected (mixing, F1, F2) data, got leading dims {spectrum.dims}", key="dims")
    f2 = spectrum.axis.values
    named = {str(k): (min(map(float, v)), max(map(float, v))) for k, v in sites.items()}
    if len(named) < 2:
        raise ConfigError("give at least two sites", key="sites")
    masks1, masks2 = [], []
    for name, (low, high) in named.items():
        in1, in2 = (f1 >= low) & (f1 <= high), (f2 >= low) & (f2 <= high)
        if in1.sum() < 1 or in2.sum() < 2:
            raise ConfigError(f"site {name!r} [{low}, {high}] ppm holds {int(in1.sum())} F1 and "
                              f"{int(in2.sum())} F2 points", key="sites")
        masks1.append(in1)
        masks2.append(in2)
    spans = sorted(named.values())
    if any(b[0] <= a[1] for a, b in zip(spans, spans[1:])):
        raise ConfigError("site ranges overlap", key="sites")
    d1, d2 = _spacing(f1), _spacing(f2)
    if noise_box is None:
        free1 = ~np.any(masks1, axis=0)
        free2 = ~np.any(masks2, axis=0)
    else:
        (a1, b1), (a2, b2) = (sorted(map(float, r)) for r in noise_box)
        free1, free2 = (f1 >= a1) & (f1 <= b1), (f2 >= a2) & (f2 <= b2)
    if free1.sum() * free2.sum() < 16:
        raise ConfigError("too few signal-free points for the noise; give noise_box", key="noise_box")
    block = data[:, free1][:, :, free2]
    noise = np.sqrt(((block - block.mean(axis=(1, 2), keepdims=True)) ** 2).mean(axis=(1, 2)))
    k = len(named)
    volumes = np.empty((data.shape[0], k, k))
    stderr = np.empty_like(volumes)
    for j, m1 in enumerate(masks1):
        rows = data[:, m1]  # (t, n1_j, n2)
        for i, m2 in enumerate(masks2):
            volumes[:, j, i] = rows[:, :, m2].sum(axis=(1, 2)) * d1 * d2
            stderr[:, j, i] = noise * d1 * d2 * np.sqrt(m1.sum() * m2.sum())
    return {"mixing_times": times, "volumes": volumes, "stderr": stderr, "names": np.array(list(named)),
            "noise_rms": noise, "unit": f"{spectrum.signal_unit}·ppm²"}


def _coordinate(spectrum: Spectrum, dim: str, units: tuple[str, ...]) -> np.ndarray:
    if dim not in spectrum.dims:
        raise ConfigError(f"no leading dimension {dim!r}; the spectrum has {spectrum.dims}", key="dims")
    for coord in spectrum.coords.values():
        if coord.dim == dim and coord.unit in units and np.asarray(coord.values).dtype.kind in "iuf":
            return np.asarray(coord.values, float)
    raise ConfigError(f"dimension {dim!r} has no coordinate in {' or '.join(units)}", key="coords")


def _spacing(values: np.ndarray) -> float:
    steps = np.abs(np.diff(values))
    if steps.size == 0 or not np.allclose(steps, steps[0], rtol=1e-6):
        raise ConfigError("EXSY volumes need uniform ppm axes in F1 and F2", key="axis")
    return float(steps[0])


# ---------------------------------------------------------------------- rates
def initial_rate(
    mixing_times: np.ndarray | Sequence[float],
    volumes: np.ndarray,
    *,
    max_mixing_time: float | None = None,
) -> dict[str, float]:
    """Exchange rate constants from the initial build-up of the cross peaks.

    For :math:`k\\tau_m \\ll 1`, :math:`V_{a\\to b}/V_{a\\to a} = k_{ab}\\tau_m + O(\\tau_m^2)`;
    the slope through the origin of that ratio against :math:`\\tau_m` is :math:`k_{ab}`
    (likewise :math:`k_{ba}` from site b's row). It underestimates k as the build-up curves
    bend: keep :math:`k\\tau_m \\lesssim 0.1`, or use :func:`fit_exchange`.

    Parameters
    ----------
    mixing_times : array_like of shape (t,), s
    volumes : ndarray of shape (t, 2, 2)
        ``[origin, destination]`` volumes (:func:`exsy_volumes`).
    max_mixing_time : float, optional, s
        Use mixing times up to this value only.

    Returns
    -------
    dict
        ``k_ab``, ``k_ba`` (s⁻¹) and their standard errors ``k_ab_stderr``, ``k_ba_stderr``
        (from the scatter about the line).
    """
    t = np.asarray(mixing_times, float)
    v = np.asarray(volumes, float)
    keep = t > 0 if max_mixing_time is None else (t > 0) & (t <= max_mixing_time)
    if keep.sum() < 2:
        raise FitError("the initial-rate estimate needs at least two non-zero mixing times")
    out = {}
    for label, (j, i) in (("k_ab", (0, 1)), ("k_ba", (1, 0))):
        ratio = v[keep, j, i] / v[keep, j, j]
        tk = t[keep]
        slope = float(tk @ ratio / (tk @ tk))
        scatter = ratio - slope * tk
        out[label] = slope
        out[f"{label}_stderr"] = float(np.sqrt(scatter @ scatter / (tk.size - 1) / (tk @ tk)))
    return out


def fit_exchange(
    mixing_times: np.ndarray | Sequence[float],
    volumes: np.ndarray,
    stderr: np.ndarray | None = None,
    *,
    names: Sequence[str] = ("a", "b"),
    equal_populations: bool = False,
    equal_relaxation: bool = False,
    source: str = "<memory>",
    volume_unit: str = "arb. units·ppm²",
) -> FitTable:
    """Fit the two-site exchange model to the four EXSY build-up/decay curves.

    Parameters
    ----------
    mixing_times : array_like of shape (t,), s
    volumes : ndarray of shape (t, 2, 2)
        ``[origin (F1), destination (F2)]`` volumes, from :func:`exsy_volumes`.
    stderr : ndarray of shape (t, 2, 2), optional
        Volume errors (weights); unweighted when omitted.
    names : (str, str)
        Site names (the table's species).
    equal_populations : bool
        Fit one :math:`M^0` for both sites (then :math:`k_{ab} = k_{ba}`).
    equal_relaxation : bool
        Fit one :math:`R_1` for both sites.
    source : str
        The ``source`` column of the table.
    volume_unit : str
        Unit of the volumes (``exsy_volumes(...)["unit"]``), the unit of ``m0``.

    Returns
    -------
    FitTable
        Per site: ``k_exchange`` (rate constant out of the site, s⁻¹: :math:`k_{ab}` for a,
        :math:`k_{ba}` for b), ``m0`` (volume unit), ``population`` (1), ``r1`` (s⁻¹), ``t1``
        (s). Errors: covariance of the fit scaled by the reduced chi-square, propagated
        through gradients for :math:`k_{ba}`, the populations and T1.

    Raises
    ------
    FitError
        For fewer data than parameters, non-finite volumes or a shape other than (t, 2, 2).

    Warns
    -----
    ConvergenceWarning
        When the solver did not converge (``converged=False``).
    """
    from scipy.optimize import least_squares

    t = np.asarray(mixing_times, float)
    v = np.asarray(volumes, float)
    if v.shape != (t.size, 2, 2):
        raise FitError(f"volumes of shape {v.shape} do not match (t, 2, 2) with t = {t.size}")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(t))):
        raise FitError("the EXSY volumes or mixing times hold NaN or infinite values")
    w = np.ones_like(v) if stderr is None else 1.0 / np.asarray(stderr, float)
    scale = float(np.max(np.abs(v)))
    free = _free_parameters(equal_populations, equal_relaxation)
    if v.size <= len(free):
        raise FitError(f"{v.size} volumes cannot fit {len(free)} parameters")

    def full(theta: np.ndarray) -> np.ndarray:
        p = dict(zip(free, theta))
        p.setdefault("m0_b", p["m0_a"])
        p.setdefault("r1_b", p["r1_a"])
        return np.array([p[name] for name in _PARAMETERS])

    def residual(theta: np.ndarray) -> np.ndarray:
        model = exchange_volumes(t, **dict(zip(_PARAMETERS, full(theta))))
        return ((model - v / scale) * w * scale).ravel()

    start = _start(t, v / scale)
    theta0 = np.array([start[name] for name in free])
    result = least_squares(residual, theta0, bounds=(0.0, np.inf), method="trf", jac="3-point",
                           x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=5000)
    dof = v.size - len(free)
    redchi = float(result.fun @ result.fun) / dof
    try:
        covariance = np.linalg.inv(result.jac.T @ result.jac) * redchi
    except np.linalg.LinAlgError:
        covariance = np.full((len(free), len(free)), np.nan)
    if not result.success:
        warnings.warn("the two-site exchange fit did not converge; marked converged=False",
                      ConvergenceWarning, stacklevel=2)
    rows = _rows(result.x, covariance, free, full, scale)
    a, b = (str(n) for n in names)
    frame = pd.DataFrame([
        {"spectrum": 0, "source": source, "block": "", "index": "", "species": a if site == "a" else b,
         "quantity": quantity, "value": value, "stderr": error,
         "unit": volume_unit if unit == "volume" else unit,
         "converged": bool(result.success), "redchi": redchi, "recipe": "", "engine": ENGINE,
         "model": "two_site_exchange", "n_mixing_times": int(t.size)}
        for site, quantity, value, error, unit in rows])
    return FitTable.from_frame(frame[[*COLUMNS, "model", "n_mixing_times"]])


def _free_parameters(equal_populations: bool, equal_relaxation: bool) -> list[str]:
    free = ["m0_a", "m0_b", "k_ab", "r1_a", "r1_b"]
    if equal_populations:
        free.remove("m0_b")
    if equal_relaxation:
        free.remove("r1_b")
    return free


def _start(t: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """Documented starting values: M0 and R1 from a log-linear fit of each site's total
    (diagonal + cross) volume against the mixing time; k_ab from :func:`initial_rate` on the
    shortest third of the mixing times (at least two)."""
    start: dict[str, float] = {}
    for j, site in enumerate("ab"):
        total = np.clip(v[:, j, :].sum(axis=1), 1e-12, None)
        if np.ptp(t) > 0:
            slope, intercept = np.polyfit(t, np.log(total), 1)
        else:
            slope, intercept = 0.0, np.log(total.mean())
        start[f"m0_{site}"] = float(np.exp(intercept))
        start[f"r1_{site}"] = float(max(-slope, 1e-6 / max(t.max(), 1e-12)))
    positive = np.sort(t[t > 0])
    short = positive[: max(2, positive.size // 3)]
    try:
        rate = initial_rate(t, v, max_mixing_time=float(short[-1]))["k_ab"]
    except (FitError, IndexError):
        rate = 1.0 / max(float(np.median(t)), 1e-12)
    start["k_ab"] = float(max(rate, 1e-3 / max(t.max(), 1e-12)))
    return start


def _rows(theta: np.ndarray, covariance: np.ndarray, free: list[str], full: Any,
          scale: float) -> list[tuple[str, str, float, float, str]]:
    """Site quantities with errors propagated by numerical gradients over the free parameters."""

    def derived(x: np.ndarray) -> np.ndarray:
        m0_a, m0_b, k_ab, r1_a, r1_b = full(x)
        return np.array([k_ab, k_ab * m0_a / m0_b, m0_a * scale, m0_b * scale, m0_a / (m0_a + m0_b),
                         m0_b / (m0_a + m0_b), r1_a, r1_b, 1.0 / r1_a if r1_a > 0 else np.inf,
                         1.0 / r1_b if r1_b > 0 else np.inf])

    values = derived(theta)
    gradient = np.zeros((values.size, theta.size))
    for n in range(theta.size):
        step = 1e-6 * max(abs(theta[n]), 1e-9)
        up, down = theta.copy(), theta.copy()
        up[n] += step
        down[n] = max(down[n] - step, 0.0)
        gradient[:, n] = (derived(up) - derived(down)) / (up[n] - down[n])
    with np.errstate(invalid="ignore"):
        errors = np.sqrt(np.clip(np.einsum("qi,ij,qj->q", gradient, covariance, gradient), 0.0, None))
    layout = [("a", "k_exchange", "s-1"), ("b", "k_exchange", "s-1"), ("a", "m0", "volume"),
              ("b", "m0", "volume"), ("a", "population", "1"), ("b", "population", "1"),
              ("a", "r1", "s-1"), ("b", "r1", "s-1"), ("a", "t1", "s"), ("b", "t1", "s")]
    return [(site, quantity, float(value), float(error), unit)
            for (site, quantity, unit), value, error in zip(layout, values, errors)]
