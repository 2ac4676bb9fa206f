"""Shared plumbing of the background functions: input checks, regions, averaged end levels.

Private: the public API is :mod:`specssb.fitting.backgrounds`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

from specssb.errors import ConvergenceWarning

EnergyAxis = Literal["binding_energy", "kinetic_energy"]
_ENERGY_AXES = ("binding_energy", "kinetic_energy")


def as_spectra(x: object, y: object) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Check ``x`` (n,) and ``y`` (..., n); return ``x``, ``y`` as a fresh (m, n) copy, lead shape.

    Raises
    ------
    ValueError
        ``x`` is not 1-D with at least 3 finite values, ``y``'s last axis does not match, or
        ``y`` holds a non-finite value.
    """
    x_arr = np.asarray(x, dtype=float)
    if x_arr.ndim != 1 or x_arr.size < 3:
        raise ValueError(f"x must be 1-D with at least 3 points, got shape {x_arr.shape}")
    if not np.all(np.isfinite(x_arr)):
        raise ValueError("x must be finite")
    y_arr = np.array(y, dtype=float)  # a copy: callers may work in place
    if y_arr.ndim == 0 or y_arr.shape[-1] != x_arr.size:
        raise ValueError(
            f"y must have shape (..., {x_arr.size}) to match x, got {y_arr.shape}"
        )
    if not np.all(np.isfinite(y_arr)):
        raise ValueError("y must be finite (NaN or inf found)")
    lead = y_arr.shape[:-1]
    return x_arr, y_arr.reshape(-1, x_arr.size), lead


def restore(array: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    """Reshape a per-spectrum array (m, ...) back to the caller's leading shape."""
    return array.reshape(lead + array.shape[1:])


def check_monotonic(x: np.ndarray) -> None:
    """Raise ValueError unless ``x`` is strictly increasing or strictly decreasing."""
    step = np.diff(x)
    if not (np.all(step > 0) or np.all(step < 0)):
        raise ValueError("x must be strictly increasing or strictly decreasing")


def check_axis(axis: str) -> None:
    """Raise ValueError for an energy axis name other than binding or kinetic energy."""
    if axis not in _ENERGY_AXES:
        raise ValueError(f"axis must be one of {_ENERGY_AXES}, got {axis!r}")


def loss_order(x: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Channel order of increasing energy loss, and the loss coordinate in that order.

    Energy loss grows with binding energy and falls with kinetic energy. Returns ``order``
    (indices into ``x``) such that ``u = s * x[order]`` increases, with ``s = +1`` on a
    binding-energy axis and ``-1`` on a kinetic-energy axis.
    """
    check_axis(axis)
    check_monotonic(x)
    sign = 1.0 if axis == "binding_energy" else -1.0
    order = np.arange(x.size) if sign * (x[-1] - x[0]) > 0 else np.arange(x.size)[::-1]
    return order, sign * x[order]


def region(
    x: np.ndarray,
    limits: Sequence[float] | None,
    indices: Sequence[int] | None,
) -> tuple[int, int]:
    """Inclusive channel range ``(i0, i1)``, ``i0 < i1``, from x-limits or indices (or all).

    ``limits`` keeps the channels with ``min(limits) <= x <= max(limits)`` (CasaXPS region
    start/end); ``indices`` are inclusive channel numbers in ``x``'s order.
    """
    n = x.size
    if limits is not None and indices is not None:
        raise ValueError("give either limits (x values) or indices (channels), not both")
    if limits is not None:
        lo, hi = sorted(float(v) for v in limits)
        inside = np.flatnonzero((x >= lo) & (x <= hi))
        if inside.size < 3:
            raise ValueError(f"limits ({lo}, {hi}) hold fewer than 3 channels of x")
        i0, i1 = int(inside[0]), int(inside[-1])
        if i1 - i0 + 1 != inside.size:
            raise ValueError("limits must select a contiguous range of a monotonic x")
        return i0, i1
    if indices is not None:
        i0, i1 = sorted(int(v) for v in indices)
        if i0 < 0:
            i0 += n
        if i1 < 0:
            i1 += n
        i0, i1 = sorted((i0, i1))
        if not (0 <= i0 and i1 < n and i1 - i0 >= 2):
            raise ValueError(f"indices must select at least 3 channels of {n}, got {indices}")
        return i0, i1
    return 0, n - 1


def end_level(y: np.ndarray, index: int, average: int) -> np.ndarray:
    """Mean of the 2·average + 1 channels centred on ``index`` (clipped at the array ends).

    The window reaches outside a fitting region when data exist there, as CasaXPS does.
    """
    if average < 0:
        raise ValueError(f"average must be >= 0 channels, got {average}")
    lo = max(0, index - average)
    hi = min(y.shape[-1], index + average + 1)
    return y[:, lo:hi].mean(axis=1)


def warn_unconverged(
    name: str, converged: np.ndarray, max_iterations: int, *, stacklevel: int = 3
) -> None:
    """Emit one ConvergenceWarning naming how many spectra did not converge.

    ``stacklevel`` 3 points at the caller of a public background function that calls this
    directly; one more per intermediate private function.
    """
    failed = int(np.size(converged) - np.count_nonzero(converged))
    if failed:
        warnings.warn(
            f"{name} background did not converge for {failed} of {np.size(converged)} "
            f"spectra (iteration limit {max_iterations}); see info['converged']",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
