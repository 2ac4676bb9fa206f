"""Gaussian convolution of a peak profile, with exact parameter derivatives (private).

The convolution of a profile ``f(t)`` with a normalized Gaussian of standard deviation ``sigma``
is computed as a fixed quadrature over the Gaussian variable:

.. math::

    C(t) = \\int f(t - \\sigma z)\\,\\phi(z)\\,dz \\approx \\sum_j w_j\\, f(t - \\sigma z_j),

with nodes ``z_j`` on a uniform grid over [-7, 7] and weights ``w_j ∝ exp(-z_j²/2)`` normalized
to sum to one (a trapezoid rule, spectrally accurate for the Gaussian). Because the weights do not
depend on ``sigma`` the quadrature is an exact, smooth function of every parameter, and every
derivative is the same quadrature applied to an analytic derivative of ``f``:

* ``dC/dt = Σ w_j f'(t - σ z_j)``,
* ``dC/dσ = -Σ w_j z_j f'(t - σ z_j)``,
* ``dC/dθ = Σ w_j ∂f/∂θ (t - σ z_j)`` for a shape parameter θ of ``f``.

So derivatives of a convolved shape are the convolution of the analytic derivatives of the
unconvolved profile, evaluated exactly at the requested points (no interpolation). Each shifted
copy of ``f`` has the same integral, so the quadrature preserves the area of ``f`` exactly.

The node spacing is chosen per parameter set from a fixed ladder (powers of two) so that the step
``spacing · sigma`` does not exceed ``RawProfile.max_step``; it changes only at ladder steps.
Every output element is computed from its own parameters only, with the node axis reduced last
(numpy's pairwise sum over a contiguous axis), so a spectrum's curve does not depend on which
other spectra are evaluated with it: batched, chunked and parallel runs give identical numbers.

Unit-height normalization divides by the maximum ``C(t*)``, found by a safeguarded Newton
iteration on ``dC/dt = 0``. Because ``dC/dt(t*) = 0`` the derivative of the maximum with respect
to any parameter is the partial derivative at ``t*`` (envelope theorem).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__: list[str] = []

_Z_MAX = 7.0  # Gaussian nodes span ±7 σ (exp(-24.5) ≈ 2e-11 of the centre weight)
_SPACING_MAX = 0.25
_SPACING_MIN = 2.0**-9
_BUDGET = 1 << 20  # elements per temporary (points × nodes) array


@dataclass(frozen=True)
class RawProfile:
    """An unconvolved profile ``f(t, *theta)`` and its analytic derivatives.

    Every callable takes ``(t, *theta)`` with broadcastable arrays.

    Attributes
    ----------
    value, d_t, d_tt : callable
        ``f``, ``∂f/∂t`` and ``∂²f/∂t²``.
    d_theta : callable
        Returns a tuple ``(∂f/∂θ_1, ...)``, one per shape parameter.
    max_step : callable
        Largest node step (same units as ``t``) that still integrates ``f`` accurately.
    """

    value: Callable[..., np.ndarray]
    d_t: Callable[..., np.ndarray]
    d_tt: Callable[..., np.ndarray]
    d_theta: Callable[..., tuple[np.ndarray, ...]]
    max_step: Callable[..., np.ndarray]


def node_spacing(sigma: np.ndarray, max_step: np.ndarray) -> np.ndarray:
    """Node spacing (in units of σ) for every parameter set, from the power-of-two ladder.

    Parameters
    ----------
    sigma : ndarray
        Gaussian standard deviations (≥ 0).
    max_step : ndarray
        Largest node step of the raw profile (``RawProfile.max_step``), broadcastable.

    Returns
    -------
    ndarray
        The broadcast shape of the inputs; ``spacing · sigma ≤ max_step`` unless clipped to
        [2⁻⁹, 2⁻²].
    """
    sigma = np.asarray(sigma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        wanted = np.where(sigma > 0, np.asarray(max_step, float) / sigma, _SPACING_MAX)
    wanted = np.clip(wanted, _SPACING_MIN, _SPACING_MAX)
    return 2.0 ** np.floor(np.log2(wanted))


@lru_cache(maxsize=16)
def _nodes(spacing: float) -> tuple[np.ndarray, np.ndarray]:
    half = int(np.ceil(_Z_MAX / spacing))
    z = np.arange(-half, half + 1) * spacing
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


def convolve(
    raw: RawProfile,
    t: np.ndarray,
    sigma: np.ndarray,
    theta: Sequence[np.ndarray],
    spacing: np.ndarray,
    *,
    derivatives: bool = False,
    second: bool = False,
) -> dict[str, object]:
    """Gaussian-convolved profile and (optionally) its derivatives at ``t``.

    Returns a dict with ``value``; with ``derivatives``: ``d_t``, ``d_sigma`` and ``d_theta``
    (a list); with ``second``: ``d_t`` and ``d_tt``. Arrays have the broadcast shape of the
    inputs; each element depends only on its own inputs.
    """
    shape = np.broadcast_shapes(
        np.shape(t), np.shape(sigma), np.shape(spacing), *(np.shape(p) for p in theta)
    )

    def flat(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(a, dtype=float), shape).reshape(-1)

    t_f, sigma_f, spacing_f = flat(t), flat(sigma), flat(spacing)
    theta_f = [flat(p) for p in theta]
    names = ["value"]
    if derivatives or second:
        names.append("d_t")
    if derivatives:
        names += ["d_sigma"] + [f"theta{i}" for i in range(len(theta))]
    if second:
        names.append("d_tt")
    out = {name: np.empty(t_f.size) for name in names}
    for level in np.unique(spacing_f):
        z, w = _nodes(float(level))
        index = np.flatnonzero(spacing_f == level)
        step = max(1, _BUDGET // z.size)
        for start in range(0, index.size, step):
            rows = index[start : start + step]
            s = t_f[rows, None] - sigma_f[rows, None] * z
            args = [p[rows, None] for p in theta_f]
            out["value"][rows] = (raw.value(s, *args) * w).sum(axis=1)
            if "d_t" in out:
                slope = raw.d_t(s, *args) * w
                out["d_t"][rows] = slope.sum(axis=1)
                if derivatives:
                    out["d_sigma"][rows] = -(slope * z).sum(axis=1)
            if second:
                out["d_tt"][rows] = (raw.d_tt(s, *args) * w).sum(axis=1)
            if derivatives:
                for i, part in enumerate(raw.d_theta(s, *args)):
                    out[f"theta{i}"][rows] = (part * w).sum(axis=1)
    result: dict[str, object] = {
        name: values.reshape(shape) for name, values in out.items() if not name.startswith("theta")
    }
    n_theta = len(theta) if derivatives else 0
    result["d_theta"] = [out[f"theta{i}"].reshape(shape) for i in range(n_theta)]
    return result


def peak_position(
    raw: RawProfile,
    sigma: np.ndarray,
    theta: Sequence[np.ndarray],
    spacing: np.ndarray,
    span: np.ndarray,
) -> np.ndarray:
    """Position ``t*`` of the maximum of the convolved profile, one per parameter set.

    A scan of 49 points over ``[-span, span]`` brackets the maximum, then a Newton iteration
    on ``dC/dt = 0``, kept inside the bracket by bisection, converges; each element stops on
    its own criterion, so its result does not depend on the others.
    """
    shape = np.broadcast_shapes(
        np.shape(sigma), np.shape(span), np.shape(spacing), *(np.shape(p) for p in theta)
    )
    span = np.broadcast_to(np.asarray(span, dtype=float), shape)
    grid = np.linspace(-1.0, 1.0, 49).reshape((49,) + (1,) * len(shape)) * span
    scan = convolve(raw, grid, sigma, theta, spacing)["value"]
    best = np.argmax(scan, axis=0)
    t = np.take_along_axis(np.broadcast_to(grid, scan.shape), best[None], axis=0)[0]
    low, high = t - span / 24.0, t + span / 24.0
    active = np.ones(shape, dtype=bool)
    for _ in range(60):
        out = convolve(raw, t, sigma, theta, spacing, second=True)
        slope, curvature = out["d_t"], out["d_tt"]
        low = np.where(active & (slope > 0), t, low)
        high = np.where(active & (slope < 0), t, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = t - slope / curvature
        ok = (curvature < 0) & (newton > low) & (newton < high)
        t_new = np.where(ok, newton, 0.5 * (low + high))
        moved = np.abs(t_new - t)
        t = np.where(active, t_new, t)
        active &= (moved > 1e-11 * span) & (slope != 0)
        if not active.any():
            break
    return t


def _prepare(raw, sigma, theta, span):
    spacing = node_spacing(sigma, raw.max_step(*theta))
    return spacing, peak_position(raw, sigma, theta, spacing, span)


def normalized(
    raw: RawProfile,
    t: np.ndarray,
    sigma: np.ndarray,
    theta: Sequence[np.ndarray],
    span: np.ndarray,
    *,
    derivatives: bool = False,
) -> dict[str, object]:
    """Unit-height convolved profile ``P = C(t)/C(t*)`` and its derivatives.

    Returns ``value`` (P) and ``peak`` (C(t*)); with ``derivatives``: ``d_t`` (∂P/∂t),
    ``d_sigma`` (∂P/∂σ) and ``d_theta`` (list of ∂P/∂θ).
    """
    spacing, t_star = _prepare(raw, sigma, theta, span)
    top = convolve(raw, t_star, sigma, theta, spacing, derivatives=derivatives)
    here = convolve(raw, t, sigma, theta, spacing, derivatives=derivatives)
    peak = top["value"]
    value = here["value"] / peak
    out: dict[str, object] = {"value": value, "peak": peak}
    if derivatives:
        out["d_t"] = here["d_t"] / peak
        out["d_sigma"] = (here["d_sigma"] - value * top["d_sigma"]) / peak
        out["d_theta"] = [
            (part - value * at_top) / peak
            for part, at_top in zip(here["d_theta"], top["d_theta"], strict=True)
        ]
    return out


def peak_value(
    raw: RawProfile, sigma: np.ndarray, theta: Sequence[np.ndarray], span: np.ndarray
) -> np.ndarray:
    """Maximum ``C(t*)`` of the convolved (not normalized) profile."""
    spacing, t_star = _prepare(raw, sigma, theta, span)
    return convolve(raw, t_star, sigma, theta, spacing)["value"]
