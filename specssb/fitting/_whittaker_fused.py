"""Compiled AsLS / arPLS / airPLS: the whole reweighting loop per spectrum, in cache (private).

:mod:`specssb.fitting._whittaker` is the reference: it runs each iteration as full-map numpy
passes (one banded solve of ``(W + λ DᵀD) z = W y`` across a block of 2,048 spectra, then the
weight rule and the stopping test as array operations). Every pass streams ~50 MB through
memory, so that path is bound by memory traffic, not arithmetic. The kernel here instead
keeps :data:`LANES` spectra in small ``(n, LANES)`` working arrays (≈0.4 MB for 1,000
points, in L2) and runs the complete iteration on them — system, banded Cholesky
factorization with the forward substitution fused in, backward substitution, weight update,
convergence test — until each one stops; a finished spectrum's lane is refilled at once with
the next spectrum, so the lanes stay busy. The loop over lanes is innermost, which lets LLVM
run the lanes in SIMD registers while the sequential dependence along the spectrum (each
pivot needs the previous one) sets the pace of each lane.

Arithmetic: the same operations in the same order as the numpy path (LAPACK ``dpbtf2`` /
``dpbtrs`` order for the solve, no ``fastmath``), so AsLS baselines are equal bit for bit;
sums along the spectrum (norms, residual statistics) run sequentially, as numpy reduces the
``(n, m)`` arrays along their first axis, except the weight-change norm, which numpy's
``einsum`` may add in another order (a few ulp in a number compared with ``tol``). arPLS's
``expit`` and airPLS's ``exp`` come from the C library instead of scipy/numpy's vectorized
versions (≤ 1 ulp apart). A test holds the two paths to 1e-10 relative with equal iteration
counts and convergence flags.

Used when numba is importable and ``SPECSSB_FUSED_KERNELS`` is not ``0``
(:func:`specssb.fitting._kernels.fused_kernels_enabled`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from specssb.fitting._kernels import fused_kernels_enabled

#: Spectra iterated side by side (one AVX-512 register of doubles).
LANES = 8
#: Weight rules understood by the kernel.
RULES = {"asls": 0, "arpls": 1, "airpls": 2}

_EPS = float(np.finfo(float).eps)  # pybaselines.utils._MIN_FLOAT
_LOG_MAX = float(np.log(np.finfo(float).max))
_EXP_CAP = float(_LOG_MAX - np.spacing(_LOG_MAX))  # airPLS clips its exponent here


def fused_whittaker() -> Any:
    """The compiled Whittaker-baseline kernel, or None (use the numpy path).

    ``kernel(y, bands, rule, max_iter, tol, extra, baseline, weights, iterations,
    converged)``: ``y`` (m, n) C-contiguous spectra, ``bands`` (kd + 1, n) the lower bands of
    ``λ DᵀD``, ``rule`` a value of :data:`RULES`, ``extra`` ``p`` (AsLS) or 1.0/0.0
    (airPLS ``normalize_weights``); fills ``baseline`` and ``weights`` (m, n),
    ``iterations`` (m,) int64 and ``converged`` (m,) bool as
    :func:`specssb.fitting._whittaker._whittaker_block` does.
    """
    return _compiled() if fused_kernels_enabled() else None


@cache
def _compiled() -> Any:
    try:
        from specssb.fitting import _whittaker_compiled
    except ImportError:  # numba is not installed
        return None
    return _whittaker_compiled.kernel
