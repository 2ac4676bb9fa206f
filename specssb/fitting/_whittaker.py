"""Batched Whittaker-smoother baselines (AsLS, arPLS, airPLS) that reproduce pybaselines.

Private: :mod:`specssb.fitting.backgrounds` registers these.

Each iteration of these algorithms solves ``(W + λ DᵀD) z = W y`` for every spectrum, with
``D`` the difference matrix of order ``diff_order`` and ``W`` the spectrum's weights. The
penalty is the same for every spectrum and only the diagonal changes, so here the banded
Cholesky factorisation runs along the spectral axis once for a whole block of spectra, each
row operation vectorised across the block ("across pixels"). Its arithmetic follows LAPACK's
``dpbtf2``/``dpbtrs`` that pybaselines calls through :func:`scipy.linalg.solveh_banded`,
and the weighting and stopping rules are pybaselines 1.2's, so results agree with
``pybaselines.Baseline(x_data=x).<method>(y_i)`` spectrum by spectrum to ~1e-8 relative
(rounding in an ill-conditioned system, cond ~ λ/min(w)) with the same iteration counts.

When numba is available (and ``SPECSSB_FUSED_KERNELS`` is not ``0``) the whole iteration —
solve, weight update, stopping test — runs compiled, a few spectra at a time while they are
in cache (:mod:`specssb.fitting._whittaker_fused`): the same operations in the same order
for AsLS (equal bits to the block path below with its vectorised solver), libm's ``exp``
for arPLS/airPLS (≤ 1e-10 / 1e-9 relative from it), same iteration counts and flags. The
block path of this module stays the reference and the fallback.

Measured on the 2-core reference machine (one BLAS thread; other jobs were running, so
±15 %, and ±50 % for the last column, timed beside the block path under heavy load), a
100 × 100 × 1000 map, seconds per map:

=========  =====================  =======================  ===========  ==============  ========
algorithm  pybaselines loop [1]_  stacked solveh_banded    block path   loop + pentapy  compiled
=========  =====================  =======================  ===========  ==============  ========
AsLS       4.5–4.7                3.7                      2.7–2.9      2.3             0.6–1.0
arPLS      7.5–7.8                –                        4.3–6.1      4.7             ≈2.5
airPLS     3.1–3.3                –                        1.9–2.2      1.8             ≈0.6
=========  =====================  =======================  ===========  ==============  ========

.. [1] one ``pybaselines.Baseline(x_data=x)`` reused (it caches the banded penalty). The
   stacked variant puts all spectra in one block-banded system for one LAPACK call: LAPACK's
   unblocked band Cholesky costs ~47 ns per unknown and holds the GIL, so threads do not
   help either. pybaselines with the optional pentapy 1.4.1 (not a specssb dependency) is as
   fast as the block path and, like it, differs from pybaselines' LAPACK path by ~5e-9
   relative.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np
from scipy import sparse
from scipy.linalg import solveh_banded
from scipy.special import expit

from specssb.fitting._bg_common import as_spectra, restore, warn_unconverged
from specssb.fitting._whittaker_fused import RULES, fused_whittaker

#: Spectra solved together; ~2,000 keeps the per-row numpy calls cheap relative to their work.
BLOCK = 2048
#: Below this many unfinished spectra in a block, each is solved by LAPACK on its own
#: (~50 µs per 1000-point solve), cheaper than ~20,000 vectorised row operations.
LAPACK_BELOW = 256
_MIN_FLOAT = np.finfo(float).eps  # pybaselines.utils._MIN_FLOAT


def penalty_bands(n: int, diff_order: int, lam: float) -> np.ndarray:
    """Lower bands of ``λ DᵀD``: row ``r`` holds the ``r``-th sub-diagonal (LAPACK form)."""
    if diff_order < 1:
        raise ValueError(f"diff_order must be >= 1, got {diff_order}")
    if n <= diff_order:
        raise ValueError(f"need more than diff_order={diff_order} points, got {n}")
    if not lam > 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    coefficients = np.diff(np.eye(diff_order + 1), diff_order, axis=0)[0]
    diff = sparse.diags(
        coefficients, offsets=np.arange(diff_order + 1), shape=(n - diff_order, n)
    )
    gram = (diff.T @ diff).todia()
    bands = np.zeros((diff_order + 1, n))
    for r in range(diff_order + 1):
        bands[r, : n - r] = gram.diagonal(-r)
    return lam * bands


def banded_cholesky_solve(ab: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve many symmetric positive-definite banded systems at once, in place.

    Parameters
    ----------
    ab : ndarray of shape (kd + 1, n, m)
        Lower bands, ``ab[r, j, s] = A_s[j + r, j]``; overwritten by the Cholesky factor.
    rhs : ndarray of shape (n, m)
        Right-hand sides, one column per system; overwritten by the solutions.

    Returns
    -------
    ndarray of shape (n, m)
        ``rhs``, now holding the solutions.

    Notes
    -----
    Column by column as in LAPACK ``dpbtf2`` (square root of the pivot, scale the column by
    its reciprocal, rank-1 update of the trailing ``kd × kd`` block) with the forward
    substitution of ``dpbtrs`` fused in, then the backward substitution. When numba is
    available (and ``SPECSSB_FUSED_KERNELS`` is not ``0``) a compiled loop does the same
    operations in the same order in one pass per row instead of ~20 numpy calls: the same
    bits as the numpy path, a solve of 2048 × 1000 points in 40 ms instead of 65 ms, AsLS on
    a 100 × 100 × 1000 map in 2.7 s instead of ≈3.7 s (pybaselines loop 4.4 s; 2-core
    machine, one thread, other jobs running).
    """
    compiled = _compiled_solve() if os.environ.get("SPECSSB_FUSED_KERNELS", "1") != "0" else None
    if compiled is not None and ab.flags.c_contiguous and rhs.flags.c_contiguous:
        return compiled(ab, rhs)
    kd, n = ab.shape[0] - 1, ab.shape[1]
    tmp = np.empty_like(rhs[0])
    for j in range(n):
        pivot = ab[0, j]
        np.sqrt(pivot, out=pivot)
        kn = min(kd, n - 1 - j)
        if kn:
            np.divide(1.0, pivot, out=tmp)
            for r in range(1, kn + 1):
                ab[r, j] *= tmp
            for s in range(1, kn + 1):
                column = ab[s, j]
                for q in range(s, kn + 1):
                    np.multiply(ab[q, j], column, out=tmp)
                    ab[q - s, j + s] -= tmp
        row = rhs[j]
        row /= pivot
        for r in range(1, kn + 1):
            np.multiply(row, ab[r, j], out=tmp)
            rhs[j + r] -= tmp
    for j in range(n - 1, -1, -1):
        row = rhs[j]
        for r in range(min(kd, n - 1 - j), 0, -1):
            np.multiply(ab[r, j], rhs[j + r], out=tmp)
            row -= tmp
        row /= ab[0, j]
    return rhs


@cache
def _compiled_solve():
    """The numba version of :func:`banded_cholesky_solve`, or None (numba missing)."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def solve(ab, rhs):  # pragma: no cover - compiled
        kd, n, m = ab.shape[0] - 1, ab.shape[1], ab.shape[2]
        for j in range(n):
            kn = min(kd, n - 1 - j)
            for c in range(m):
                ab[0, j, c] = np.sqrt(ab[0, j, c])
            for r in range(1, kn + 1):
                for c in range(m):
                    ab[r, j, c] *= 1.0 / ab[0, j, c]
            for s in range(1, kn + 1):
                for q in range(s, kn + 1):
                    for c in range(m):
                        ab[q - s, j + s, c] -= ab[q, j, c] * ab[s, j, c]
            for c in range(m):
                rhs[j, c] /= ab[0, j, c]
            for r in range(1, kn + 1):
                for c in range(m):
                    rhs[j + r, c] -= rhs[j, c] * ab[r, j, c]
        for j in range(n - 1, -1, -1):
            for r in range(min(kd, n - 1 - j), 0, -1):
                for c in range(m):
                    rhs[j, c] -= ab[r, j, c] * rhs[j + r, c]
            for c in range(m):
                rhs[j, c] /= ab[0, j, c]
        return rhs

    return solve


def _relative_difference(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """pybaselines' ``relative_difference`` per column: ``‖new − old‖ / max(‖old‖, ε)``."""
    change = new - old
    numerator = np.sqrt(np.einsum("ij,ij->j", change, change))
    return numerator / np.maximum(np.sqrt(np.einsum("ij,ij->j", old, old)), _MIN_FLOAT)


def _asls_weights(y, baseline, iteration, p):
    weights = np.where(y > baseline, p, 1 - p)
    return weights, np.zeros(y.shape[1], dtype=bool), None


def _arpls_weights(y, baseline, iteration, _):
    residual = y - baseline
    negative = residual < 0
    count = negative.sum(axis=0)
    exit_early = count < 2
    neg = np.where(negative, residual, 0.0)
    mean = neg.sum(axis=0) / np.maximum(count, 1)
    spread = np.where(negative, residual - mean, 0.0)
    std = np.sqrt((spread * spread).sum(axis=0) / np.maximum(count - 1, 1))
    std = np.where(std == 0, _MIN_FLOAT, std)
    weights = expit(-(2 / std) * (residual - (2 * std - mean)))
    return weights, exit_early, None


def _airpls_weights(y, baseline, iteration, normalize):
    residual = y - baseline
    negative = residual < 0
    count = negative.sum(axis=0)
    exit_early = count < 2
    l1 = np.where(negative, residual, 0.0).sum(axis=0)  # signed (negative) sum
    safe_l1 = np.where(l1 != 0, l1, -1.0)
    log_max = np.log(np.finfo(float).max)
    inner = np.clip((min(iteration, 50) / safe_l1) * residual, 0, log_max - np.spacing(log_max))
    weights = np.where(negative, np.exp(np.where(negative, inner, 0.0)), 0.0)
    if normalize:
        peak = np.max(weights, axis=0)
        weights = np.where(negative, weights / np.where(peak > 0, peak, 1.0), 0.0)
    return weights, exit_early, np.abs(l1)


def _whittaker_block(y, bands, max_iter, tol, rule, extra, airpls):
    """Run one block (n, m) to pybaselines' stopping rule.

    A spectrum's result is stored when it finishes; finished columns are dropped from the
    working arrays once they make up an eighth of them (gathers cost a solve's fraction).
    Fewer than :data:`LAPACK_BELOW` columns are solved one by one with
    :func:`scipy.linalg.solveh_banded`, exactly pybaselines' solve, so a straggler that needs
    many iterations does not pay for a vectorised pass per iteration.
    """
    n, m = y.shape
    baseline = np.empty_like(y)
    weights_out = np.empty_like(y)
    iterations = np.zeros(m, dtype=int)
    converged = np.zeros(m, dtype=bool)
    ab_buffer = np.empty((bands.shape[0], n, m)) if m >= LAPACK_BELOW else None
    ids = np.arange(m)  # original column of each working column
    live = np.ones(m, dtype=bool)  # working columns still iterating
    y_w, w_w = y, np.ones_like(y)
    y_l1 = np.abs(y).sum(axis=0)
    first, last = (1, max_iter + 2) if airpls else (0, max_iter + 1)
    for i in range(first, last):
        k = ids.size
        if k < LAPACK_BELOW:  # few columns: LAPACK per spectrum, as pybaselines
            z = np.empty((n, k))
            rhs = w_w * y_w
            for c in range(k):
                ab = bands.copy()
                ab[0] += w_w[:, c]
                z[:, c] = solveh_banded(
                    ab, rhs[:, c], lower=True, overwrite_ab=True, check_finite=False
                )
        else:
            ab = ab_buffer[:, :, :k]
            ab[1:] = bands[1:, :, None]
            np.add(bands[0][:, None], w_w, out=ab[0])
            z = banded_cholesky_solve(ab, w_w * y_w)
        new_w, exit_early, l1 = rule(y_w, z, i, extra)
        if airpls:
            difference = l1 / np.maximum(y_l1[ids], _MIN_FLOAT)
            count = np.where(exit_early, i - 1, i)
        else:
            difference = _relative_difference(w_w, new_w)
            count = np.where(exit_early, i, i + 1)
        ok = ~exit_early & (difference < tol)
        finished = live & (exit_early | ok | (i == last - 1))
        if finished.any():
            cols = ids[finished]
            baseline[:, cols] = z[:, finished]
            iterations[cols] = count[finished]
            converged[cols] = ok[finished]
            # pybaselines keeps the weights of the last solve when it stops on the tolerance
            # or early, and has already moved on to the new weights when max_iter ran out
            keep_old = (ok | exit_early)[finished]
            weights_out[:, cols] = np.where(keep_old, w_w[:, finished], new_w[:, finished])
            live &= ~finished
        if not live.any():
            break
        w_w = new_w if live.all() else np.where(live, new_w, w_w)
        if k - np.count_nonzero(live) >= max(1, k // 8):
            ids, y_w, w_w = ids[live], y_w[:, live], w_w[:, live]
            live = np.ones(ids.size, dtype=bool)
    return baseline, weights_out, iterations, converged


def _whittaker(name, x, y, lam, diff_order, max_iter, tol, rule, extra=None, airpls=False):
    x_arr, y2, lead = as_spectra(x, y)
    rule_name = {_asls_weights: "asls", _arpls_weights: "arpls", _airpls_weights: "airpls"}[rule]
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    order = x_arr.argsort(kind="mergesort")  # pybaselines sorts the data by x
    sort = not np.all(order[1:] > order[:-1])
    data = y2[:, order] if sort else y2
    bands = penalty_bands(x_arr.size, diff_order, lam)
    baseline = np.empty_like(data)
    weights = np.empty_like(data)
    iterations = np.empty(data.shape[0], dtype=np.int64)
    converged = np.empty(data.shape[0], dtype=bool)
    kernel = fused_whittaker()
    if kernel is not None:  # whole iteration per spectrum, compiled (_whittaker_fused)
        kernel(np.ascontiguousarray(data), bands, RULES[rule_name], int(max_iter), float(tol),
               float(extra) if extra is not None else 0.0, baseline, weights, iterations,
               converged)
    for start in range(0, data.shape[0] if kernel is None else 0, BLOCK):
        block = slice(start, start + BLOCK)
        z, w, it, ok = _whittaker_block(
            np.ascontiguousarray(data[block].T), bands, max_iter, tol, rule, extra, airpls
        )
        baseline[block], weights[block] = z.T, w.T
        iterations[block], converged[block] = it, ok
    if sort:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        baseline, weights = baseline[:, inverse], weights[:, inverse]
    warn_unconverged(name, converged, max_iter, stacklevel=4)
    info = {
        "iterations": restore(iterations, lead),
        "converged": restore(converged, lead),
        "tolerance": float(tol),
        "weights": restore(weights, lead),
    }
    return restore(baseline, lead), info


_WHITTAKER_RETURNS = """
    Returns
    -------
    baseline : ndarray of shape (..., n)
    info : dict
        ``"iterations"`` int array (...,): solves run, as ``len(tol_history)`` in pybaselines;
        ``"converged"`` bool array (...,): the last tolerance value was below ``tol``;
        ``"tolerance"`` float; ``"weights"`` array (..., n): the final weights, as pybaselines
        returns them.

    Warns
    -----
    ConvergenceWarning
        When a spectrum stops unconverged (``max_iter`` reached, or fewer than two points
        below the baseline, where pybaselines stops early).
"""


def asls(
    x: np.ndarray,
    y: np.ndarray,
    *,
    lam: float = 1e6,
    p: float = 1e-2,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
) -> tuple[np.ndarray, dict]:
    """Asymmetric least squares (AsLS) baseline, batched; equals ``pybaselines`` ``asls``.

    Weights ``p`` where ``y`` is above the current baseline and ``1 − p`` below; stops when
    the relative change of the weights is below ``tol``.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Axis (any unit); only its order matters (data are sorted by ``x`` as pybaselines does).
    y : ndarray of shape (..., n)
    lam : float
        Smoothing parameter λ (larger is smoother).
    p : float
        Asymmetry, 0 < p < 1.
    diff_order : int
        Order of the difference penalty.
    max_iter, tol
        pybaselines' iteration cap and tolerance.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p}")
    return _whittaker("AsLS", x, y, lam, diff_order, max_iter, tol, _asls_weights, p)


def arpls(
    x: np.ndarray,
    y: np.ndarray,
    *,
    lam: float = 1e5,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
) -> tuple[np.ndarray, dict]:
    """Asymmetrically reweighted penalized least squares (arPLS), batched; equals pybaselines.

    Weights ``expit(-2 (r - (2σ - μ)) / σ)`` from the mean ``μ`` and standard deviation ``σ``
    of the negative residuals ``r = y − z`` (Baek et al., *Analyst* 140, 250 (2015)).

    Parameters
    ----------
    x : ndarray of shape (n,)
    y : ndarray of shape (..., n)
    lam, diff_order, max_iter, tol
        As pybaselines ``arpls``.
    """
    return _whittaker("arPLS", x, y, lam, diff_order, max_iter, tol, _arpls_weights)


def airpls(
    x: np.ndarray,
    y: np.ndarray,
    *,
    lam: float = 1e6,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    normalize_weights: bool = False,
) -> tuple[np.ndarray, dict]:
    """Adaptive iteratively reweighted penalized least squares (airPLS), batched.

    Weights ``exp(t |r| / ‖r⁻‖₁)`` on negative residuals at iteration ``t`` (capped at 50),
    zero elsewhere; stops when ``‖r⁻‖₁ / ‖y‖₁ < tol`` (Zhang et al., *Analyst* 135,
    1138 (2010)); equals pybaselines ``airpls``.

    Parameters
    ----------
    x : ndarray of shape (n,)
    y : ndarray of shape (..., n)
    lam, diff_order, max_iter, tol, normalize_weights
        As pybaselines ``airpls``.
    """
    return _whittaker(
        "airPLS", x, y, lam, diff_order, max_iter, tol, _airpls_weights,
        normalize_weights, airpls=True,
    )


for _function in (asls, arpls, airpls):
    _function.__doc__ = (_function.__doc__ or "") + _WHITTAKER_RETURNS
