"""A vectorized Levenberg–Marquardt solver for many small least-squares problems at once.

Every spectrum of a batch has its own parameters, damping and convergence state; the normal
equations of all spectra are stacked into one ``(m, p, p)`` array and solved together, which is
what makes fitting a 10,000-pixel map fast (``../shared/notes/performance.md``).

Algorithm (Marquardt 1963, with the scaled damping of Moré 1978)::

    A = JᵀW J,  g = JᵀW r
    (A + λ diag(A)) δ = g
    θ' = clip(θ + δ, lower, upper)           # bounds by projection
    accept if χ²(θ') < χ²(θ): θ = θ', λ /= 10;  else λ *= 10

A spectrum has converged when an accepted step lowers χ² by less than ``ftol·χ²`` or moves
every parameter by less than ``xtol·(|θ| + xtol)``. The covariance is ``(JᵀW J)⁻¹`` scaled by
the reduced χ² (as lmfit's ``scale_covar=True``).

References
----------
K. Levenberg, Q. Appl. Math. 2, 164 (1944); D. W. Marquardt, J. SIAM 11, 431 (1963);
J. J. Moré, "The Levenberg–Marquardt algorithm: implementation and theory", Lecture Notes in
Mathematics 630, 105 (1978).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["SolverResult", "levenberg_marquardt"]

#: ``jacobian(free) -> (model, J)`` with shapes (m, n) and (m, p, n).
JacobianFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
#: ``evaluate(free) -> model`` with shape (m, n).
ModelFunction = Callable[[np.ndarray], np.ndarray]


def _chisqr(y: np.ndarray, model: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    residual = y - model
    if weights is not None:
        residual = residual * weights
    return np.einsum("mn,mn->m", residual, residual)


@dataclass(frozen=True)
class SolverResult:
    """Outcome of :func:`levenberg_marquardt` for a batch of ``m`` spectra.

    Attributes
    ----------
    free : ndarray of shape (m, p)
        Best-fit free parameters.
    covariance : ndarray of shape (m, p, p)
        Scaled covariance (NaN where the normal matrix is singular).
    chisqr : ndarray of shape (m,)
        Weighted sum of squared residuals.
    redchi : ndarray of shape (m,)
        ``chisqr / (n - p)``.
    iterations : ndarray of shape (m,)
        Accepted plus rejected steps taken.
    converged : ndarray of bool, shape (m,)
    """

    free: np.ndarray
    covariance: np.ndarray
    chisqr: np.ndarray
    redchi: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def levenberg_marquardt(
    jacobian: JacobianFunction,
    y: np.ndarray,
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    evaluate: ModelFunction | None = None,
    weights: np.ndarray | None = None,
    max_iterations: int = 200,
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-12,
    damping: float = 1e-3,
) -> SolverResult:
    """Minimize ``Σ w (y − f(θ))²`` for every row of ``y`` at once.

    Parameters
    ----------
    jacobian : callable
        ``jacobian(free)`` with ``free`` of shape (m, p) returns the model (m, n) and its
        Jacobian (m, p, n) (one contiguous row per parameter).
    y : ndarray of shape (m, n)
        Data.
    start : ndarray of shape (p,) or (m, p)
        Starting parameters.
    lower, upper : ndarray of shape (p,)
        Bounds (``±inf`` for none).
    evaluate : callable, optional
        ``evaluate(free) -> model`` without the Jacobian, for trial steps; the Jacobian is
        then computed only where a step was accepted. Without it, trial steps call
        ``jacobian`` and an accepted step's Jacobian is kept for the next iteration, which is
        faster when most steps are accepted and the Jacobian costs less than twice the model
        (the fused line-shape kernels: ``specssb.fitting._kernels``).
    weights : ndarray of shape (m, n) or (n,), optional
        Residual weights ``w`` (``1/σ`` per point); χ² uses ``w²``.
    max_iterations : int
        Steps per spectrum before giving up (``converged=False``).
    ftol, xtol : float
        Relative χ² and step tolerances. The defaults (1e-12, like the lmfit reference path)
        matter for parameters that are statistically zero: a background slope of 1 % of its
        standard error agreed with lmfit to 3e-5 (relative) at 1e-10 and to 2e-6 at 1e-12, at
        the same speed (``benchmarks/``).
    gtol : float
        Converged when, for every parameter not held at a bound by the gradient, the cosine
        between its weighted Jacobian column and the residual is below ``gtol`` (MINPACK's
        test, with bounds).
    damping : float
        Initial λ.

    Returns
    -------
    SolverResult
    """
    y = np.atleast_2d(np.asarray(y, float))
    m, n = y.shape
    theta = np.clip(np.broadcast_to(np.asarray(start, float), (m, np.size(lower))).copy(), lower, upper)
    p = theta.shape[1]
    w = None if weights is None else np.broadcast_to(np.asarray(weights, float), (m, n))
    lam = np.full(m, damping)
    iterations = np.zeros(m, int)
    converged = np.zeros(m, bool)
    active = np.ones(m, bool)
    model, jac = jacobian(theta)
    fresh = np.ones(m, bool)  # jac holds the Jacobian at theta
    chisqr = _chisqr(y, model, w)
    eye = np.eye(p)
    for _ in range(max_iterations):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        stale = idx[~fresh[idx]]
        if stale.size:
            model[stale], jac[stale] = jacobian(theta[stale])
            fresh[stale] = True
        every = idx.size == m  # no copies while every spectrum is still iterating
        j_active = jac if every else jac[idx]
        r_active = (y - model) if every else (y[idx] - model[idx])
        if w is not None:
            w_active = w if every else w[idx]
            j_active = j_active * w_active[:, None, :]
            r_active = r_active * w_active
        normal = j_active @ j_active.transpose(0, 2, 1)
        gradient = (j_active @ r_active[:, :, None])[:, :, 0]
        diagonal = np.einsum("mpp->mp", normal)
        held = ((theta[idx] <= lower) & (gradient < 0)) | ((theta[idx] >= upper) & (gradient > 0))
        norms = np.sqrt(diagonal) * np.sqrt(np.maximum(chisqr[idx], 1e-300))[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            cosine = np.where(held | (norms == 0), 0.0, np.abs(gradient) / norms)
        stationary = np.all(cosine <= gtol, axis=1)
        converged[idx[stationary]] = True
        active[idx[stationary]] = False
        if stationary.all():
            break
        keep = ~stationary
        idx, normal, gradient, diagonal, held = (
            idx[keep], normal[keep], gradient[keep], diagonal[keep], held[keep]
        )
        # Active set: a parameter held at a bound by the gradient takes no part in the step,
        # so the others' step is not spoiled by a component that clipping would throw away.
        free = ~held
        normal = normal * free[:, :, None] * free[:, None, :]
        gradient = gradient * free
        diagonal = np.where(free, diagonal, 1.0)
        floor = 1e-12 * np.maximum(diagonal.max(axis=1, keepdims=True), 1e-300)
        shift = lam[idx, None] * np.maximum(diagonal, floor) + held + floor
        damped = normal + shift[:, :, None] * eye
        step = np.linalg.solve(damped, gradient[..., None])[..., 0]
        trial = np.clip(theta[idx] + step, lower, upper)
        trial_jac = None
        if evaluate is not None:
            trial_model = evaluate(trial)
        else:  # keep the trial Jacobian: most steps are accepted, and then it is the next one
            trial_model, trial_jac = jacobian(trial)
        trial_chisqr = _chisqr(y[idx], trial_model, None if w is None else w[idx])
        iterations[idx] += 1
        better = np.isfinite(trial_chisqr) & (trial_chisqr <= chisqr[idx])
        moved = np.abs(trial - theta[idx])
        small_step = np.all(moved <= xtol * (np.abs(theta[idx]) + xtol), axis=1)
        small_gain = (chisqr[idx] - trial_chisqr) <= ftol * chisqr[idx]
        accept = idx[better]
        if better.all() and idx.size == m:  # every spectrum stepped: take the new arrays whole
            theta[:], model = trial, trial_model
            if trial_jac is not None:
                jac = trial_jac
        else:
            theta[accept], model[accept] = trial[better], trial_model[better]
            if trial_jac is not None:
                jac[accept] = trial_jac if better.all() else trial_jac[better]
        if trial_jac is None:
            fresh[accept] = False
        chisqr[accept] = trial_chisqr[better]
        lam[accept] = np.maximum(lam[accept] / 10.0, 1e-15)
        reject = idx[~better]
        lam[reject] *= 10.0
        done = (better & (small_gain | small_step)) | (~better & small_step)
        stuck = lam[idx] > 1e16  # no step along the gradient lowers chi-square: a minimum
        converged[idx[done | stuck]] = True
        active[idx[done | stuck]] = False
    stale = np.flatnonzero(~fresh)
    if stale.size:
        model[stale], jac[stale] = jacobian(theta[stale])
    dof = max(n - p, 1)
    redchi = chisqr / dof
    wj = jac if w is None else jac * w[:, None, :]
    normal = wj @ wj.transpose(0, 2, 1)
    try:
        covariance = np.linalg.inv(normal) * redchi[:, None, None]
    except np.linalg.LinAlgError:  # one singular matrix (a parameter without effect): go one by one
        covariance = np.full((m, p, p), np.nan)
        for i in range(m):
            try:
                covariance[i] = np.linalg.inv(normal[i]) * redchi[i]
            except np.linalg.LinAlgError:
                pass
    return SolverResult(theta, covariance, chisqr, redchi, iterations, converged)
