"""Backgrounds (baselines): pure functions ``(x, y, **options) -> (baseline, info)`` by name.

Every background takes ``x`` of shape (n,) and ``y`` of shape (..., n): leading dimensions are
independent spectra (a series, a map) and the baseline comes back in ``y``'s shape. ``info``
is a dict whose keys each function documents; per-spectrum quantities are arrays of the
leading shape. Inputs are never modified. Look one up with :func:`get_background`, run it and
subtract with :func:`subtract_background`, add one with :func:`register_background`.

=============  ===========================================================================
name           algorithm
=============  ===========================================================================
``linear``     straight line between averaged end levels (CasaXPS "Linear")
``polynomial`` least-squares polynomial, optionally on signal-free regions only
``shirley``    iterative Shirley (Shirley 1972; Proctor & Sherwood 1982)
``tougaard``   Tougaard U2/U3 universal cross-section (CasaXPS order ``B C D T0``)
``asls``       asymmetric least squares (pybaselines ``asls``, batched)
``arpls``      arPLS (pybaselines ``arpls``, batched)
``airpls``     airPLS (pybaselines ``airpls``, batched)
``snip``       SNIP peak clipping (pybaselines ``snip``, batched)
``modpoly``    modified polynomial (pybaselines ``modpoly``, batched)
=============  ===========================================================================

For XPS fits that optimize the background inside the model, :func:`shirley_operator` and
:func:`tougaard_operator` give the background of a peak sum ``p`` as a matrix product.

Region convention (linear, shirley, tougaard): with ``limits`` or ``indices`` the background
is computed over that region and the baseline equals ``y`` outside it, as in CasaXPS exports,
so ``y - baseline`` is zero there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from specssb.errors import ConfigError
from specssb.fitting._bg_common import as_spectra, end_level, region, restore
from specssb.fitting._clipping import modpoly, snip
from specssb.fitting._whittaker import airpls, arpls, asls
from specssb.fitting._xps_backgrounds import (
    cross_section,
    shirley,
    shirley_operator,
    tougaard,
    tougaard_operator,
)

__all__ = [
    "BACKGROUNDS",
    "BackgroundFunction",
    "cross_section",
    "get_background",
    "list_backgrounds",
    "recipe_baseline",
    "register_background",
    "shirley_operator",
    "subtract_background",
    "tougaard_operator",
]

#: ``(x, y, **options) -> (baseline, info)``.
BackgroundFunction = Callable[..., tuple[np.ndarray, dict]]

_REGISTRY: dict[str, BackgroundFunction] = {}

#: Read-only view of the registry: name -> background function.
BACKGROUNDS: Mapping[str, BackgroundFunction] = MappingProxyType(_REGISTRY)


def register_background(name: str) -> Callable[[BackgroundFunction], BackgroundFunction]:
    """Decorator adding a background function to :data:`BACKGROUNDS` under ``name``.

    Parameters
    ----------
    name : str
        Lower-case registry name; must not be taken already.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Raises
    ------
    ValueError
        The name is empty or already registered.

    Examples
    --------
    >>> import numpy as np
    >>> @register_background("doc_zero")
    ... def zero(x, y):
    ...     return np.zeros_like(np.asarray(y, float)), {}
    >>> get_background("doc_zero") is zero
    True
    >>> _ = _REGISTRY.pop("doc_zero")
    """
    key = name.strip().lower()
    if not key:
        raise ValueError("a background needs a non-empty name")
    if key in _REGISTRY:
        raise ValueError(f"background '{key}' is already registered")

    def decorator(function: BackgroundFunction) -> BackgroundFunction:
        _REGISTRY[key] = function
        return function

    return decorator


def list_backgrounds() -> list[str]:
    """Sorted names of the registered backgrounds."""
    return sorted(_REGISTRY)


def get_background(name: str) -> BackgroundFunction:
    """The background function registered as ``name`` (case and surrounding space ignored).

    Raises
    ------
    ConfigError
        Unknown name (``key="background"``); the message lists the registered names.

    Examples
    --------
    >>> get_background("Shirley").__name__
    'shirley'
    """
    key = str(name).strip().lower()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ConfigError(
            f"unknown background '{name}'; choose one of: {', '.join(list_backgrounds())}",
            key="background",
        ) from None


def subtract_background(
    x: np.ndarray, y: np.ndarray, name: str, **options: object
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Compute the named background and subtract it.

    Parameters
    ----------
    x : ndarray of shape (n,)
    y : ndarray of shape (..., n)
    name : str
        A key of :data:`BACKGROUNDS`.
    **options
        Keyword options of that background function.

    Returns
    -------
    corrected : ndarray of shape (..., n)
        ``y - baseline``.
    baseline : ndarray of shape (..., n)
    info : dict
        The background function's info.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5.0)
    >>> corrected, baseline, _ = subtract_background(x, 2 * x + 1, "linear")
    >>> corrected.tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    function = get_background(name)
    baseline, info = function(x, y, **options)
    return np.asarray(y, dtype=float) - baseline, baseline, info


def recipe_baseline(background: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The baseline a recipe's ``[background]`` subtracts before fitting.

    Parameters
    ----------
    background : recipe background table or None
        ``kind`` (a key of :data:`BACKGROUNDS`), ``options``, ``fitted``.
    x : ndarray of shape (n,)
    y : ndarray of shape (m, n)
        The spectra as read (any float dtype; computed in float64).

    Returns
    -------
    ndarray of shape (m, n) or None
        None when nothing is subtracted: no background, ``kind = "none"``, or a background
        fitted as a term of the model. Every background function works row by row, so the
        baseline of a spectrum does not depend on the other rows given with it: the fit computes
        it chunk by chunk and :meth:`~specssb.fitting.result.FitTable.curves` again for the one
        spectrum it draws, without keeping an (m, n) array.
    """
    if background is None or getattr(background, "fitted", False) or background.kind in (None, "none"):
        return None
    options = dict(getattr(background, "options", {}) or {})
    baseline, _ = get_background(background.kind)(x, np.asarray(y, dtype=float), **options)
    return np.asarray(baseline, float)


def linear(
    x: np.ndarray,
    y: np.ndarray,
    *,
    average: int = 0,
    limits: Sequence[float] | None = None,
    indices: Sequence[int] | None = None,
) -> tuple[np.ndarray, dict]:
    """Straight line through the averaged levels at the two region ends (CasaXPS "Linear").

    .. math:: B(x) = I_0 + (I_1 - I_0)\\,\\frac{x - x_{i_0}}{x_{i_1} - x_{i_0}}

    Parameters
    ----------
    x : ndarray of shape (n,)
        Any unit; monotonic when a region is given by ``limits``.
    y : ndarray of shape (..., n)
    average : int
        Each end level is the mean of ``2 * average + 1`` channels centred on the region end
        (CasaXPS "Av Width"; its value 2 in ``FeO_analyzed.vms`` averages 3 channels, i.e.
        ``average=1``).
    limits : (float, float), optional
        Region as x values (inclusive).
    indices : (int, int), optional
        Region as inclusive channel indices.

    Returns
    -------
    baseline : ndarray of shape (..., n)
        The line inside the region, ``y`` outside it.
    info : dict
        ``"levels"`` array (..., 2): ``I_0``, ``I_1`` at the first and last region channel (in
        the order of ``x``); ``"region"`` (i0, i1).

    Examples
    --------
    >>> import numpy as np
    >>> baseline, info = linear(np.arange(4.0), np.array([1.0, 5.0, 5.0, 4.0]))
    >>> baseline.tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    x_arr, y2, lead = as_spectra(x, y)
    i0, i1 = region(x_arr, limits, indices)
    first = end_level(y2, i0, average)
    last = end_level(y2, i1, average)
    fraction = (x_arr[i0 : i1 + 1] - x_arr[i0]) / (x_arr[i1] - x_arr[i0])
    baseline = y2.copy()
    baseline[:, i0 : i1 + 1] = first[:, None] + (last - first)[:, None] * fraction
    levels = np.stack([first, last], axis=1)
    return restore(baseline, lead), {"levels": restore(levels, lead), "region": (i0, i1)}


def polynomial(
    x: np.ndarray,
    y: np.ndarray,
    *,
    degree: int = 1,
    regions: Sequence[Sequence[float]] | None = None,
) -> tuple[np.ndarray, dict]:
    """Least-squares polynomial baseline, fitted to all channels or to signal-free regions.

    Fits ``B(x) = Σ_k a_k t^k`` with ``t = 2 (x - x_min) / (x_max - x_min) - 1`` (the axis
    mapped to [-1, 1] for conditioning, as :class:`numpy.polynomial.Polynomial` does) to the
    channels inside ``regions`` (every channel when None) and evaluates it on all of ``x``.

    Parameters
    ----------
    x : ndarray of shape (n,)
    y : ndarray of shape (..., n)
    degree : int
        Polynomial degree, >= 0.
    regions : sequence of (float, float), optional
        Signal-free x ranges (inclusive, either order); together they need more than
        ``degree`` channels.

    Returns
    -------
    baseline : ndarray of shape (..., n)
    info : dict
        ``"coefficients"`` array (..., degree + 1): ``a_k`` for increasing powers of ``t``;
        ``"domain"`` (x_min, x_max): the interval mapped to [-1, 1]; ``"degree"`` int;
        ``"points"`` int: channels fitted.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0.0, 10.0, 11)
    >>> baseline, info = polynomial(x, 3 + 0.5 * x ** 2, degree=2)
    >>> bool(np.allclose(baseline, 3 + 0.5 * x ** 2))
    True
    """
    x_arr, y2, lead = as_spectra(x, y)
    if degree < 0:
        raise ValueError(f"degree must be >= 0, got {degree}")
    if regions is None:
        mask = np.ones(x_arr.size, dtype=bool)
    else:
        mask = np.zeros(x_arr.size, dtype=bool)
        for bounds in regions:
            lo, hi = sorted(float(v) for v in bounds)
            mask |= (x_arr >= lo) & (x_arr <= hi)
    if mask.sum() <= degree:
        raise ValueError(
            f"a degree-{degree} polynomial needs more than {degree} channels in the fit "
            f"regions, found {int(mask.sum())}"
        )
    domain = (float(x_arr.min()), float(x_arr.max()))
    t = np.polynomial.polyutils.mapdomain(x_arr, np.array(domain), np.array([-1.0, 1.0]))
    vander = np.polynomial.polynomial.polyvander(t, degree)
    coefficients = np.linalg.lstsq(vander[mask], y2[:, mask].T, rcond=None)[0].T
    baseline = coefficients @ vander.T
    info = {
        "coefficients": restore(coefficients, lead),
        "domain": domain,
        "degree": int(degree),
        "points": int(mask.sum()),
    }
    return restore(baseline, lead), info


for _name, _function in (
    ("linear", linear),
    ("polynomial", polynomial),
    ("shirley", shirley),
    ("tougaard", tougaard),
    ("asls", asls),
    ("arpls", arpls),
    ("airpls", airpls),
    ("snip", snip),
    ("modpoly", modpoly),
):
    register_background(_name)(_function)
