"""Fused line-shape kernels for the batched engine (private).

The numpy line shapes of :mod:`specssb.fitting.lineshapes` make one pass over the
``(spectra × points)`` arrays per arithmetic operation: about twenty for a GL(m) profile and its
three derivatives, plus two per Jacobian column to add them into place. For the small, many
problems of a batched fit these passes, not the arithmetic, set the speed. The kernels here
compute a component's profile, its derivatives and their accumulation into the envelope and
the free-parameter Jacobian in compiled loops (numba), with the exponential evaluated by
numpy's vectorized ``exp`` in between. They evaluate the
same formulas as the numpy functions, in the same IEEE double arithmetic (no ``fastmath``), so
the two paths agree to rounding (a test holds them to 1e-12 relative), and the numpy functions
stay the documented reference.

Kernels exist for ``gaussian``, ``lorentzian``, ``gl`` and ``sgl``; other shapes, and every shape
when numba cannot be imported or ``SPECSSB_FUSED_KERNELS=0`` is set, take the numpy path.

Each kernel takes

``x`` (n,), ``params`` (m, q) (the component's full parameters, in the shape's order),
``peaks`` (m, n) (added to), and for the Jacobian kernels ``jac`` (m, p, n) (added to),
``index`` (q,) int64 (free-parameter row of each shape parameter, −1 when not free) and
``factor`` (q,) (the tie factor of each).

Reference: S. K. Lam, A. Pitrou, S. Seibert, "Numba: a LLVM-based Python JIT compiler",
LLVM-HPC 2015, doi:10.1145/2833157.2833162.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

__all__ = ["fused_envelope", "fused_jacobian", "fused_damped_step", "fused_kernels_enabled", "fused_shirley",
           "normal_equations"]

_K = 4.0 * math.log(2.0)  # exp(-_K u²) has FWHM 1, as in lineshapes.py


def fused_kernels_enabled() -> bool:
    """True when numba is importable and ``SPECSSB_FUSED_KERNELS`` is not ``0``."""
    return os.environ.get("SPECSSB_FUSED_KERNELS", "1") != "0" and _compiled() is not None


def fused_jacobian(shape_name: str) -> Callable[..., None] | None:
    """The fused value-and-Jacobian kernel of a line shape, or None (use the numpy path)."""
    kernels = _compiled() if fused_kernels_enabled() else None
    return None if kernels is None else kernels[0].get(shape_name)


def fused_envelope(shape_name: str) -> Callable[..., None] | None:
    """The fused value-only kernel of a line shape, or None (use the numpy path)."""
    kernels = _compiled() if fused_kernels_enabled() else None
    return None if kernels is None else kernels[1].get(shape_name)


@cache
def _compiled() -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Compile the kernels once per process (numba caches the machine code on disk)."""
    try:
        import numba
    except ImportError:
        return None
    jit = numba.njit(cache=True, nogil=True)

    # Shapes with an exponential are computed in three passes: a compiled loop writes the
    # exponent, numpy's SIMD exp evaluates it in place (numba's scalar exp is twice as slow
    # here), and a second compiled loop does the rest. A parameter that is not free has index
    # −1: it is written to row 0 with factor 0 (adding ±0.0 leaves every value unchanged),
    # which keeps the loops free of branches so that LLVM vectorizes them. The kernels call no
    # other compiled function of this closure: numba's cache keys a closure by its pickled cell
    # contents, and a captured dispatcher pickles with an id that is new in every process, so
    # such a kernel was compiled again (and added to the cache index) by every process.

    @jit
    def gauss_exponent(x, params, width, out):  # pragma: no cover - compiled
        # out = -a u², u = (x - center)/fwhm; a = K(1 - m/100) for GL (width = 3), K otherwise
        for s in range(out.shape[0]):
            center, fwhm = params[s, 1], params[s, 2]
            a = _K * (1.0 - params[s, 3] / 100.0) if width == 3 else _K
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                out[s, k] = -a * u * u

    @jit
    def gaussian_rest(x, params, e, peaks, jac, index, factor):  # pragma: no cover - compiled
        row, f = np.maximum(index, 0), np.where(index >= 0, factor, 0.0)
        for s in range(peaks.shape[0]):
            height, center, fwhm = params[s, 0], params[s, 1], params[s, 2]
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                g = e[s, k]
                peaks[s, k] += height * g
                d_center = 2.0 * _K * u * height * g / fwhm
                jac[s, row[0], k] += f[0] * g
                jac[s, row[1], k] += f[1] * d_center
                jac[s, row[2], k] += f[2] * d_center * u

    @jit
    def lorentzian_jacobian(x, params, peaks, jac, index, factor):  # pragma: no cover - compiled
        row, f = np.maximum(index, 0), np.where(index >= 0, factor, 0.0)
        for s in range(peaks.shape[0]):
            height, center, fwhm = params[s, 0], params[s, 1], params[s, 2]
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                lor = 1.0 / (1.0 + 4.0 * u * u)
                peaks[s, k] += height * lor
                d_center = 8.0 * u * height * lor * lor / fwhm
                jac[s, row[0], k] += f[0] * lor
                jac[s, row[1], k] += f[1] * d_center
                jac[s, row[2], k] += f[2] * d_center * u

    @jit
    def lorentzian_envelope(x, params, peaks):  # pragma: no cover - compiled
        for s in range(peaks.shape[0]):
            height, center, fwhm = params[s, 0], params[s, 1], params[s, 2]
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                peaks[s, k] += height / (1.0 + 4.0 * u * u)

    @jit
    def gl_rest(x, params, e, peaks, jac, index, factor):  # pragma: no cover - compiled
        # CasaXPS GL(m): exp(-K(1-p)u²)/(1 + 4p u²), p = m/100 (see lineshapes._gl)
        row, f = np.maximum(index, 0), np.where(index >= 0, factor, 0.0)
        for s in range(peaks.shape[0]):
            height, center, fwhm, p = params[s, 0], params[s, 1], params[s, 2], params[s, 3] / 100.0
            a, b = _K * (1.0 - p), 4.0 * p
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                u2 = u * u
                lor = 1.0 / (1.0 + b * u2)
                profile = e[s, k] * lor
                scaled = height * profile
                peaks[s, k] += scaled
                d_center = scaled * u * (2.0 * a + 2.0 * b * lor) / fwhm
                jac[s, row[0], k] += f[0] * profile
                jac[s, row[1], k] += f[1] * d_center
                jac[s, row[2], k] += f[2] * d_center * u
        if index[3] >= 0:
            for s in range(peaks.shape[0]):
                height, center, fwhm, p = params[s, 0], params[s, 1], params[s, 2], params[s, 3] / 100.0
                for k in range(x.size):
                    u = (x[k] - center) / fwhm
                    u2 = u * u
                    lor = 1.0 / (1.0 + 4.0 * p * u2)
                    jac[s, index[3], k] += factor[3] * height * e[s, k] * lor * u2 * (_K - 4.0 * lor) / 100.0

    @jit
    def gl_envelope_rest(x, params, e, peaks):  # pragma: no cover - compiled
        for s in range(peaks.shape[0]):
            height, center, fwhm, p = params[s, 0], params[s, 1], params[s, 2], params[s, 3] / 100.0
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                peaks[s, k] += height * e[s, k] / (1.0 + 4.0 * p * u * u)

    @jit
    def sgl_rest(x, params, e, peaks, jac, index, factor):  # pragma: no cover - compiled
        # CasaXPS SGL(m): (1-η) exp(-K u²) + η/(1 + 4u²), η = m/100 (see lineshapes._mixture)
        row, f = np.maximum(index, 0), np.where(index >= 0, factor, 0.0)
        for s in range(peaks.shape[0]):
            height, center, fwhm, eta = params[s, 0], params[s, 1], params[s, 2], params[s, 3] / 100.0
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                g = e[s, k]
                lor = 1.0 / (1.0 + 4.0 * u * u)
                profile = (1.0 - eta) * g + eta * lor
                peaks[s, k] += height * profile
                d_center = height * u * ((1.0 - eta) * 2.0 * _K * g + eta * 8.0 * lor * lor) / fwhm
                jac[s, row[0], k] += f[0] * profile
                jac[s, row[1], k] += f[1] * d_center
                jac[s, row[2], k] += f[2] * d_center * u
                jac[s, row[3], k] += f[3] * height * (lor - g) / 100.0

    @jit
    def sgl_envelope_rest(x, params, e, peaks):  # pragma: no cover - compiled
        for s in range(peaks.shape[0]):
            height, center, fwhm, eta = params[s, 0], params[s, 1], params[s, 2], params[s, 3] / 100.0
            for k in range(x.size):
                u = (x[k] - center) / fwhm
                peaks[s, k] += height * ((1.0 - eta) * e[s, k] + eta / (1.0 + 4.0 * u * u))

    @jit
    def gaussian_envelope_rest(x, params, e, peaks):  # pragma: no cover - compiled
        for s in range(peaks.shape[0]):
            height = params[s, 0]
            for k in range(x.size):
                peaks[s, k] += height * e[s, k]

    def with_exponential(rest: Any, width: int) -> tuple[Any, Any]:
        def exponential(x: np.ndarray, params: np.ndarray, n_spectra: int) -> np.ndarray:
            e = np.empty((n_spectra, x.size))
            gauss_exponent(x, params, width, e)
            return np.exp(e, out=e)

        def jacobian(x, params, peaks, jac, index, factor):  # type: ignore[no-untyped-def]
            rest[0](x, params, exponential(x, params, peaks.shape[0]), peaks, jac, index, factor)

        def envelope(x, params, peaks):  # type: ignore[no-untyped-def]
            rest[1](x, params, exponential(x, params, peaks.shape[0]), peaks)

        return jacobian, envelope

    gaussian = with_exponential((gaussian_rest, gaussian_envelope_rest), 2)
    gl = with_exponential((gl_rest, gl_envelope_rest), 3)
    sgl = with_exponential((sgl_rest, sgl_envelope_rest), 2)
    jacobians = {"gaussian": gaussian[0], "lorentzian": lorentzian_jacobian, "gl": gl[0], "sgl": sgl[0]}
    envelopes = {"gaussian": gaussian[1], "lorentzian": lorentzian_envelope, "gl": gl[1], "sgl": sgl[1]}
    return jacobians, envelopes


def normal_equations(
    jac: np.ndarray, residual: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The stacked normal matrices ``JᵀW²J`` (m, p, p) and gradients ``JᵀW²r`` (m, p).

    ``jac`` (m, p, n) holds one Jacobian row per parameter, ``residual`` (m, n) is ``y − f``
    and ``weights`` (m, n) the residual weights ``w`` (``None``: all 1). The compiled path
    reads each spectrum's Jacobian once, while it is in cache, and fills the symmetric matrix
    from its upper triangle; numpy's stacked ``matmul`` reads it twice and computes both
    triangles. Both sum in the same order per entry only up to rounding (about 1e-16 relative).
    """
    kernel = _compiled_normal() if fused_kernels_enabled() else None
    if kernel is not None and jac.flags.c_contiguous and jac.dtype == np.float64:
        m, p, _ = jac.shape
        normal, gradient = np.empty((m, p, p)), np.empty((m, p))
        r = np.ascontiguousarray(residual, dtype=np.float64)
        if weights is None:
            kernel[0](jac, r, normal, gradient)
        else:
            kernel[1](jac, r, np.ascontiguousarray(weights, dtype=np.float64), normal, gradient)
        return normal, gradient
    if weights is not None:
        jac, residual = jac * weights[:, None, :], residual * weights
    normal = jac @ jac.transpose(0, 2, 1)
    return normal, (jac @ residual[:, :, None])[:, :, 0]


@cache
def _compiled_normal() -> tuple[Any, Any] | None:
    """Compile the normal-equation kernels once per process (cached on disk by numba)."""
    try:
        import numba
    except ImportError:
        return None
    # Reassociation lets LLVM vectorize the dot products (sums of 4 partial sums).
    jit = numba.njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"})

    @jit
    def unweighted(jac, r, normal, gradient):  # pragma: no cover - compiled
        m, p, n = jac.shape
        for s in range(m):
            for i in range(p):
                total = 0.0
                for k in range(n):
                    total += jac[s, i, k] * r[s, k]
                gradient[s, i] = total
                for j in range(i, p):
                    total = 0.0
                    for k in range(n):
                        total += jac[s, i, k] * jac[s, j, k]
                    normal[s, i, j] = total
                    normal[s, j, i] = total

    @jit
    def weighted(jac, r, w, normal, gradient):  # pragma: no cover - compiled
        m, p, n = jac.shape
        w2 = np.empty(n)
        for s in range(m):
            for k in range(n):
                w2[k] = w[s, k] * w[s, k]
            for i in range(p):
                total = 0.0
                for k in range(n):
                    total += jac[s, i, k] * w2[k] * r[s, k]
                gradient[s, i] = total
                for j in range(i, p):
                    total = 0.0
                    for k in range(n):
                        total += jac[s, i, k] * w2[k] * jac[s, j, k]
                    normal[s, i, j] = total
                    normal[s, j, i] = total

    return unweighted, weighted


def fused_shirley() -> Callable[..., None] | None:
    """The compiled iterative-Shirley loop, or None (use the numpy path).

    ``kernel(data, low, step, half_steps, threshold, max_iterations, background, k,
    iterations, converged)`` iterates each spectrum (row of ``data``, region channels from the
    low-loss end) in turn while it is in cache, with the arithmetic of the numpy path in
    :func:`specssb.fitting._xps_backgrounds.shirley` in the same order, so both give the
    same numbers bit for bit (a test checks it).
    """
    return _compiled_shirley() if fused_kernels_enabled() else None


@cache
def _compiled_shirley() -> Any:
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def shirley(data, low, step, half_steps, threshold, max_iterations, background, k,
                iterations, converged):  # pragma: no cover - compiled
        m, r = data.shape
        integral = np.empty(r)
        for s in range(m):
            for i in range(r):
                background[s, i] = low[s]
            for iteration in range(1, max_iterations + 1):
                integral[0] = 0.0
                previous = data[s, 0] - background[s, 0]
                for i in range(1, r):
                    residual = data[s, i] - background[s, i]
                    integral[i] = integral[i - 1] + (residual + previous) * half_steps[i - 1]
                    previous = residual
                total = integral[r - 1]
                scale = step[s] / total if total != 0.0 else 0.0
                change = 0.0
                for i in range(r):
                    new = low[s] + scale * integral[i]
                    change = max(change, abs(new - background[s, i]))
                    background[s, i] = new
                k[s] = scale
                iterations[s] = iteration
                if change <= threshold[s]:
                    converged[s] = True
                    break

    return shirley


def fused_damped_step() -> Callable[..., None] | None:
    """The compiled Levenberg–Marquardt step, or None (use the numpy path).

    ``kernel(normal, gradient, held, lam, step)`` builds each spectrum's damped matrix as
    :func:`specssb.fitting.solver.damped_step` documents and solves it by Cholesky
    factorization (the matrix is symmetric positive definite), one small system at a time
    without the per-call overhead of a stacked LAPACK solve.
    """
    return _compiled_damped_step() if fused_kernels_enabled() else None


@cache
def _compiled_damped_step() -> Any:
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def damped_step(normal, gradient, held, lam, step):  # pragma: no cover - compiled
        m, p = gradient.shape
        a = np.empty((p, p))
        b = np.empty(p)
        scale = np.empty(p)
        for s in range(m):
            largest = 0.0
            for i in range(p):
                if not held[s, i]:
                    largest = max(largest, normal[s, i, i])
            floor = 1e-12 * max(largest, 1e-300)
            # Jacobi scaling: the damped matrix divided by sqrt(d_i d_j) has a unit diagonal
            # plus the damping, so parameters of very different size (a height of 1e8 beside a
            # centre of 1) do not wreck the factorization
            for i in range(p):
                d = 1.0 if held[s, i] else max(normal[s, i, i], floor)
                scale[i] = 1.0 / np.sqrt(d)
            for i in range(p):
                for j in range(p):
                    held_ij = held[s, i] or held[s, j]
                    a[i, j] = 0.0 if held_ij else normal[s, i, j] * scale[i] * scale[j]
                a[i, i] = (1.0 if held[s, i] else a[i, i]) + lam[s] + 1e-12
                b[i] = 0.0 if held[s, i] else gradient[s, i] * scale[i]
            # Cholesky a = L Lᵀ in place (lower triangle), then forward and back substitution
            for j in range(p):
                total = a[j, j]
                for k in range(j):
                    total -= a[j, k] * a[j, k]
                pivot = np.sqrt(total) if total > 0.0 else 1e-300
                a[j, j] = pivot
                for i in range(j + 1, p):
                    total = a[i, j]
                    for k in range(j):
                        total -= a[i, k] * a[j, k]
                    a[i, j] = total / pivot
            for i in range(p):
                total = b[i]
                for k in range(i):
                    total -= a[i, k] * b[k]
                b[i] = total / a[i, i]
            for i in range(p - 1, -1, -1):
                total = b[i]
                for k in range(i + 1, p):
                    total -= a[k, i] * b[k]
                b[i] = total / a[i, i]
            for i in range(p):
                step[s, i] = b[i] * scale[i]

    return damped_step


def component_arguments(full: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
    """The component's full parameters as a C-contiguous (m, q) float64 array."""
    return np.ascontiguousarray(full[:, list(columns)], dtype=np.float64)
