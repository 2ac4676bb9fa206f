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

The node spacing is chosen from a fixed ladder (powers of two) so that it resolves the narrowest
feature of ``f`` (``spacing · sigma ≤ feature/8``); it changes only at ladder steps, which keeps
the result piecewise constant in the discretisation and smooth for fitting.

Unit-height normalization divides by the maximum ``C(t*)``, found by a safeguarded Newton
iteration on ``dC/dt = 0``. Because ``dC/dt(t*) = 0`` the derivative of the maximum with respect
to any parameter is the partial derivative at ``t*`` (envelope theorem).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__: list[str] = []

_Z_MAX = 7.0  # Gaussian nodes span ±7 σ (exp(-24.5) ≈ 2e-11 of the centre weight)
_SPACING_MAX = 0.25
_SPACING_MIN = 2.0**-9
_BLOCK_ELEMENTS = 1 << 18  # nodes are summed in blocks of at most this many array elements


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


def gaussian_nodes(sigma: np.ndarray, max_step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes ``z`` (in units of σ) and normalized weights for every row at once.

    Parameters
    ----------
    sigma : ndarray
        Gaussian standard deviations (≥ 0), any shape.
    max_step : ndarray
        Largest node step of the raw profile (``RawProfile.max_step``), broadcastable.

    Returns
    -------
    z, w : ndarray of shape (k,)
    """
    sigma = np.asarray(sigma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sigma > 0, np.asarray(max_step, float) / sigma, np.inf)
    wanted = float(np.min(ratio)) if ratio.size else _SPACING_MAX
    wanted = min(max(wanted, _SPACING_MIN), _SPACING_MAX)
    spacing = 2.0 ** np.floor(np.log2(wanted))
    half = int(np.ceil(_Z_MAX / spacing))
    z = np.arange(-half, half + 1) * spacing
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


def convolve(
    raw: RawProfile,
    t: np.ndarray,
    sigma: np.ndarray,
    theta: Sequence[np.ndarray],
    nodes: tuple[np.ndarray, np.ndarray],
    *,
    derivatives: bool = False,
    second: bool = False,
) -> dict[str, object]:
    """Gaussian-convolved profile and (optionally) its derivatives at ``t``.

    Returns a dict with ``value``; with ``derivatives``: ``d_t``, ``d_sigma`` and ``d_theta``
    (a list); with ``second``: ``d_tt``. Arrays have the broadcast shape of the inputs.
    """
    z, w = nodes
    shape = np.broadcast_shapes(np.shape(t), np.shape(sigma), *(np.shape(p) for p in theta))
    value = np.zeros(shape)
    d_t = np.zeros(shape) if derivatives or second else None
    d_sigma = np.zeros(shape) if derivatives else None
    d_tt = np.zeros(shape) if second else None
    d_theta = [np.zeros(shape) for _ in theta] if derivatives else []
    size = max(int(np.prod(shape)), 1)
    block = max(1, min(z.size, _BLOCK_ELEMENTS // size))
    pad = (1,) * len(shape)
    for start in range(0, z.size, block):
        zj = z[start : start + block].reshape((-1,) + pad)
        wj = w[start : start + block].reshape((-1,) + pad)
        s = t - sigma * zj
        value += np.sum(wj * raw.value(s, *theta), axis=0)
        if d_t is not None:
            slope = wj * raw.d_t(s, *theta)
            d_t += np.sum(slope, axis=0)
            if d_sigma is not None:
                d_sigma -= np.sum(zj * slope, axis=0)
        if d_tt is not None:
            d_tt += np.sum(wj * raw.d_tt(s, *theta), axis=0)
        if derivatives:
            for acc, part in zip(d_theta, raw.d_theta(s, *theta), strict=True):
                acc += np.sum(wj * part, axis=0)
    return {"value": value, "d_t": d_t, "d_sigma": d_sigma, "d_tt": d_tt, "d_theta": d_theta}


def peak_position(
    raw: RawProfile,
    sigma: np.ndarray,
    theta: Sequence[np.ndarray],
    nodes: tuple[np.ndarray, np.ndarray],
    span: np.ndarray,
) -> np.ndarray:
    """Position ``t*`` of the maximum of the convolved profile, one per parameter set.

    A coarse scan over ``[-span, span]`` brackets the maximum, then a Newton iteration on
    ``dC/dt = 0``, kept inside the bracket by bisection, converges to machine precision.
    """
    shape = np.broadcast_shapes(np.shape(sigma), np.shape(span), *(np.shape(p) for p in theta))
    span = np.broadcast_to(span, shape)
    grid = np.linspace(-1.0, 1.0, 49).reshape((49,) + (1,) * len(shape)) * span
    scan = convolve(raw, grid, sigma, theta, nodes)["value"]
    best = np.argmax(scan, axis=0)
    step = 2.0 * span / 48.0
    t = np.take_along_axis(grid * np.ones(scan.shape), best[None], axis=0)[0]
    low, high = t - step, t + step
    for _ in range(60):
        out = convolve(raw, t, sigma, theta, nodes, second=True)
        slope, curvature = out["d_t"], out["d_tt"]
        low = np.where(slope > 0, t, low)
        high = np.where(slope < 0, t, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = t - slope / curvature
        ok = (curvature < 0) & (newton > low) & (newton < high)
        t_new = np.where(ok, newton, 0.5 * (low + high))
        done = np.all(np.abs(t_new - t) <= 1e-11 * np.abs(span))
        t = t_new
        if done:
            break
    return t


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

    Returns ``value`` (P), ``peak`` (C(t*)), ``area_scale`` (1/C(t*)); with ``derivatives``:
    ``d_t`` (∂P/∂t), ``d_sigma`` (∂P/∂σ), ``d_theta`` (list of ∂P/∂θ).
    """
    nodes = gaussian_nodes(sigma, raw.max_step(*theta))
    t_star = peak_position(raw, sigma, theta, nodes, span)
    top = convolve(raw, t_star, sigma, theta, nodes, derivatives=derivatives)
    here = convolve(raw, t, sigma, theta, nodes, derivatives=derivatives)
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
    nodes = gaussian_nodes(sigma, raw.max_step(*theta))
    t_star = peak_position(raw, sigma, theta, nodes, span)
    return convolve(raw, t_star, sigma, theta, nodes)["value"]
