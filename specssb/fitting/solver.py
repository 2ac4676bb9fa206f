"""A vectorized Levenberg–Marquardt solver for many small least-squares problems at once.

Every spectrum of a batch has its own parameters, damping and convergence state; the normal
equations of all spectra are stacked into one ``(m, p, p)`` array and solved together, which is
what makes fitting a 10,000-pixel map fast (``../shared/notes/performance.md``).

Algorithm (Marquardt 1963, with the scaled damping of Moré 1978)::

    A = JᵀW J,  g = JᵀW r
    (A + λ diag(A)) δ = g
    θ' = clip(θ + δ, lower, upper)           # bounds by projection (active set, below)
    ρ = (χ²(θ) − χ²(θ')) / (2δ·g − δᵀAδ)     # actual over predicted reduction
    accept if χ²(θ') < χ²(θ): θ = θ', λ *= max(1/3, 1 − (2ρ − 1)³), ν = 2
    else:                     λ *= ν, ν *= 2  # Nielsen's update

A parameter at a bound is left out of the step (held) when the gradient, or the coupled step
itself, would move it outward. On the sample Raman maps this rule and Nielsen's update took
the spectra left unconverged after 200 iterations from 5–19 % to 0.1–1.7 % (the old fixed
factor of 10 alternated a rejected and a barely accepted step in narrow curved valleys).

A spectrum has converged when an accepted step lowers χ² by less than ``ftol·χ²`` or moves
every parameter by less than ``xtol·(|θ| + xtol)``. The covariance is ``(JᵀW J)⁻¹`` scaled by
the reduced χ² (as lmfit's ``scale_covar=True``).

References
----------
K. Levenberg, Q. Appl. Math. 2, 164 (1944); D. W. Marquardt, J. SIAM 11, 431 (1963);
J. J. Moré, "The Levenberg–Marquardt algorithm: implementation and theory", Lecture Notes in
Mathematics 630, 105 (1978); K. Madsen, H. B. Nielsen, O. Tingleff, *Methods for non-linear
least squares problems*, 2nd ed., IMM, DTU (2004), §3.2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from specssb.fitting._kernels import fused_damped_step, normal_equations

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
    p = np.size(lower)
    theta = np.clip(np.broadcast_to(np.asarray(start, float), (m, p)).copy(), lower, upper)
    w = None if weights is None else np.broadcast_to(np.asarray(weights, float), (m, n))
    out = _Outcome.empty(m, p)
    state = _State.start(jacobian, y, w, theta, damping)
    for _ in range(max_iterations):
        if state.rows.size == 0:
            break
        state.refresh(jacobian)
        normal, gradient = normal_equations(state.jac, state.y - state.model, state.w)
        diagonal = np.einsum("mpp->mp", normal)
        held = ((state.theta <= lower) & (gradient < 0)) | ((state.theta >= upper) & (gradient > 0))
        norms = np.sqrt(diagonal) * np.sqrt(np.maximum(state.chisqr, 1e-300))[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            cosine = np.where(held | (norms == 0), 0.0, np.abs(gradient) / norms)
        stationary = np.all(cosine <= gtol, axis=1)
        if stationary.any():
            out.retire(state, stationary, True, normal=normal[stationary])
            keep = ~stationary
            state.compact(keep)
            if state.rows.size == 0:
                break
            normal, gradient, held = normal[keep], gradient[keep], held[keep]
        step = _bounded_step(normal, gradient, held, state.lam, state.theta, lower, upper)
        trial = np.clip(state.theta + step, lower, upper)
        if evaluate is not None:
            trial_model, trial_jac = evaluate(trial), None
        else:  # keep the trial Jacobian: most steps are accepted, and then it is the next one
            trial_model, trial_jac = jacobian(trial)
        trial_chisqr = _chisqr(state.y, trial_model, state.w)
        state.iterations += 1
        better = np.isfinite(trial_chisqr) & (trial_chisqr <= state.chisqr)
        small_step = np.all(np.abs(trial - state.theta) <= xtol * (np.abs(state.theta) + xtol), axis=1)
        small_gain = (state.chisqr - trial_chisqr) <= ftol * state.chisqr
        moved = trial - state.theta  # the step as clipped to the bounds
        predicted = (2.0 * np.einsum("mp,mp->m", moved, gradient)
                     - np.einsum("mp,mpq,mq->m", moved, normal, moved))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (state.chisqr - trial_chisqr) / predicted
        state.accept(better, trial, trial_model, trial_jac, trial_chisqr, ratio)
        done = (better & (small_gain | small_step)) | (~better & small_step)
        done |= state.lam > 1e16  # no step along the gradient lowers chi-square: a minimum
        if done.any():
            state.refresh(jacobian)
            out.retire(state, done, True)
            state.compact(~done)
    if state.rows.size:
        state.refresh(jacobian)
        out.retire(state, np.ones(state.rows.size, bool), False)
    return out.result(n, p)


def _bounded_step(normal: np.ndarray, gradient: np.ndarray, held: np.ndarray, lam: np.ndarray,
                  theta: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The damped step with every parameter at a bound that it would leave outward held too.

    A parameter at a bound whose gradient points inward is free, but the coupled step may
    still push it outward; clipping that component afterwards spoils the others' step (they
    were solved assuming it moves), and such fits crawl for hundreds of iterations. So those
    parameters are held as well and the step is solved again, until no free parameter at a
    bound steps outward (at most p passes, each on the spectra concerned only).
    """
    step = damped_step(normal, gradient, held, lam)
    at_lower, at_upper = theta <= lower, theta >= upper
    held = held.copy()
    for _ in range(theta.shape[1]):
        outward = ~held & ((at_lower & (step < 0)) | (at_upper & (step > 0)))
        rows = np.flatnonzero(outward.any(axis=1))
        if rows.size == 0:
            break
        held[rows] |= outward[rows]
        step[rows] = damped_step(normal[rows], gradient[rows], held[rows], lam[rows])
    return step


def damped_step(normal: np.ndarray, gradient: np.ndarray, held: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Levenberg–Marquardt step ``δ`` of every spectrum, shape (m, p).

    Solves ``(A + (λ + 10⁻¹²) D) δ = g``, ``D = diag(A)`` (Marquardt's scaled damping), with the
    active-set rule: a parameter held at a bound by the gradient (``held``) takes no part in the
    step (its row and column are replaced by the identity), so the others' step is not spoiled
    by a component that clipping would throw away. ``D`` is floored at ``10⁻¹²·max(D)`` so a
    parameter without effect does not make the matrix singular. The system is solved in Jacobi
    scaling (``D^-½ A D^-½`` has a unit diagonal), so parameters of very different size (a peak
    height of 10⁸ beside a centre of 1 ppm) keep full precision: an absolute floor added to
    every diagonal element used to freeze the small ones and made such fits crawl. The matrix
    is symmetric positive definite: the compiled path
    (:func:`specssb.fitting._kernels.fused_damped_step`) solves it by Cholesky factorization,
    this numpy path by LU; they agree to rounding.
    """
    kernel = fused_damped_step()
    if kernel is not None:
        step = np.empty(gradient.shape)
        kernel(np.ascontiguousarray(normal), np.ascontiguousarray(gradient),
               np.ascontiguousarray(held), np.ascontiguousarray(lam, dtype=np.float64), step)
        return step
    free = ~held
    diagonal = np.einsum("mpp->mp", normal)
    largest = np.where(free, diagonal, 0.0).max(axis=1, keepdims=True)
    d = np.where(free, np.maximum(diagonal, 1e-12 * np.maximum(largest, 1e-300)), 1.0)
    scale = 1.0 / np.sqrt(d)
    scaled = normal * free[:, :, None] * free[:, None, :] * scale[:, :, None] * scale[:, None, :]
    eye = np.eye(normal.shape[1])
    scaled = scaled * (1.0 - eye) + eye * (np.where(free, np.einsum("mpp->mp", scaled), 1.0)
                                          + lam[:, None] + 1e-12)[:, :, None]
    solution = np.linalg.solve(scaled, (gradient * free * scale)[..., None])[..., 0]
    return solution * scale


def _covariance(normal: np.ndarray) -> np.ndarray:
    """``(JᵀW²J)⁻¹`` of one spectrum whose matrix may be singular.

    A parameter without effect at the solution (the centre and width of a peak whose height sits
    at its bound 0) has an empty row and column: it gets NaN errors, and the others are computed
    from the rest of the matrix, as if it were fixed. NaN everywhere when that is still singular.
    """
    p = normal.shape[0]
    covariance = np.full((p, p), np.nan)
    diagonal = np.diag(normal)
    alive = np.flatnonzero(diagonal > 1e-12 * max(float(diagonal.max(initial=0.0)), 1e-300))
    if alive.size:
        try:
            covariance[np.ix_(alive, alive)] = np.linalg.inv(normal[np.ix_(alive, alive)])
        except np.linalg.LinAlgError:
            pass
    return covariance


@dataclass
class _State:
    """The spectra still iterating, compacted: row ``i`` is spectrum ``rows[i]`` of the batch.

    Keeping only active rows means an iteration never copies the Jacobians of converged
    spectra, and an accepted step takes the trial arrays whole (only the few rejected rows are
    copied back from the current ones).
    """

    rows: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    theta: np.ndarray
    model: np.ndarray
    jac: np.ndarray
    fresh: np.ndarray  # jac holds the Jacobian at theta
    chisqr: np.ndarray
    lam: np.ndarray
    nu: np.ndarray  # λ's factor at the next rejected step
    iterations: np.ndarray

    @classmethod
    def start(cls, jacobian: JacobianFunction, y: np.ndarray, w: np.ndarray | None,
              theta: np.ndarray, damping: float) -> _State:
        m = y.shape[0]
        model, jac = jacobian(theta)
        return cls(np.arange(m), y, w, theta, model, jac, np.ones(m, bool),
                   _chisqr(y, model, w), np.full(m, damping), np.full(m, 2.0), np.zeros(m, int))

    def refresh(self, jacobian: JacobianFunction) -> None:
        """Recompute the Jacobian where an accepted step left it stale."""
        stale = np.flatnonzero(~self.fresh)
        if stale.size:
            self.model[stale], self.jac[stale] = jacobian(self.theta[stale])
            self.fresh[stale] = True

    def accept(self, better: np.ndarray, trial: np.ndarray, model: np.ndarray,
               jac: np.ndarray | None, chisqr: np.ndarray, ratio: np.ndarray) -> None:
        """Take the trial point where it lowered χ²; adapt the damping to how well the
        quadratic model predicted the gain (``ratio``, actual over predicted reduction).

        Nielsen's rule (Madsen, Nielsen & Tingleff, *Methods for non-linear least squares
        problems*, 2nd ed., DTU 2004, eq. 3.16): an accepted step scales λ by
        ``max(1/3, 1 − (2ρ − 1)³)``, a rejected one by ν, which doubles at each rejection in a
        row. Dividing and multiplying by a fixed 10 instead made fits in a narrow curved valley
        alternate between a rejected and a barely accepted step for hundreds of iterations.
        """
        worse = ~better
        if jac is None:
            self.model[better] = model[better]
            self.fresh[better] = False
        else:
            if worse.any():
                model[worse], jac[worse] = self.model[worse], self.jac[worse]
            self.model, self.jac = model, jac
        self.theta = np.where(better[:, None], trial, self.theta)
        self.chisqr = np.where(better, chisqr, self.chisqr)
        rho = np.where(np.isfinite(ratio), ratio, 1.0)
        shrink = np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.clip(rho, 0.0, 1.0) - 1.0) ** 3)
        self.lam = np.where(better, np.maximum(self.lam * shrink, 1e-15), self.lam * self.nu)
        self.nu = np.where(better, 2.0, 2.0 * self.nu)

    def compact(self, keep: np.ndarray) -> None:
        """Drop the rows that left the iteration."""
        for name in ("rows", "y", "theta", "model", "jac", "fresh", "chisqr", "lam", "nu",
                     "iterations"):
            setattr(self, name, getattr(self, name)[keep])
        if self.w is not None:
            self.w = self.w[keep]


@dataclass
class _Outcome:
    """Per-spectrum results, filled as spectra leave the iteration."""

    free: np.ndarray
    normal: np.ndarray
    chisqr: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray

    @classmethod
    def empty(cls, m: int, p: int) -> _Outcome:
        return cls(np.empty((m, p)), np.empty((m, p, p)), np.empty(m), np.zeros(m, int),
                   np.zeros(m, bool))

    def retire(self, state: _State, leaving: np.ndarray, converged: bool,
               normal: np.ndarray | None = None) -> None:
        """Store the rows ``leaving`` of ``state`` (their Jacobian must be fresh)."""
        rows = state.rows[leaving]
        if normal is None:
            w = None if state.w is None else state.w[leaving]
            normal = normal_equations(state.jac[leaving], state.y[leaving] - state.model[leaving], w)[0]
        self.free[rows] = state.theta[leaving]
        self.normal[rows] = normal
        self.chisqr[rows] = state.chisqr[leaving]
        self.iterations[rows] = state.iterations[leaving]
        self.converged[rows] = converged

    def result(self, n: int, p: int) -> SolverResult:
        """The covariance ``(JᵀW²J)⁻¹·χ²/(n − p)`` of every spectrum, and the solver result."""
        redchi = self.chisqr / max(n - p, 1)
        try:
            covariance = np.linalg.inv(self.normal) * redchi[:, None, None]
        except np.linalg.LinAlgError:  # a singular matrix: a parameter without effect
            covariance = np.stack([_covariance(normal) for normal in self.normal])
            covariance *= redchi[:, None, None]
        return SolverResult(self.free, covariance, self.chisqr, redchi, self.iterations,
                            self.converged)
