"""Phase correction of NMR spectra: manual (TopSpin PHC0/PHC1), ACME and peak-minima autophase.

TopSpin's convention, verified against ``1r``/``1i`` of the Bruker test sets: the spectrum from
:func:`~specssb.fitting.nmr.transform.fft` is multiplied by ``exp(1j * phi_i)`` with::

    phi_i = PHC0 + PHC1 * i / SI      (degrees; i = 0 is the first, left-most, highest-ppm point)

so the pivot of PHC1 is the left edge of the spectrum. This is also nmrglue's ``proc_base.ps``
formula (``p0 = PHC0, p1 = PHC1``) once the spectrum is transformed with TopSpin's sign
(``fft`` of the conjugated FID): the often-quoted ``p0 = -PHC0`` with a reversed axis is the
same thing seen through the conjugate.

References
----------
L. Chen, Z. Weng, L. Goh, M. Garland, "An efficient algorithm for automatic phase correction of
NMR spectra based on entropy minimization", J. Magn. Reson. 158 (2002) 164-168 (ACME).
nmrglue ``proc_autophase.autops`` ("acme", "peak_minima").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Spectrum, owned

from ._common import real_number, require_frequency

__all__ = ["AUTOPHASE_METHODS", "autophase", "magnitude", "phase", "phase_angles"]

#: Automatic phasing methods.
AUTOPHASE_METHODS = ("acme", "peak_minima")

#: Weight of the negative-intensity penalty in ACME (Chen et al. 2002 use 1000).
ACME_PENALTY = 1000.0


def phase_angles(size: int, p0: float, p1: float, pivot: float = 0.0) -> np.ndarray:
    """Phase of each point (radians): ``p0 + p1 * (i - pivot) / size`` degrees.

    Parameters
    ----------
    size : int
        Number of points.
    p0, p1 : float
        Zero-order phase at the pivot and first-order phase across the full width (degrees).
    pivot : float, default 0
        Fractional point index where the first-order term is zero (0: TopSpin's left edge).

    Returns
    -------
    ndarray of shape (size,), radians
    """
    return np.deg2rad(p0 + p1 * (np.arange(size) - pivot) / size)


def _pivot_index(spectrum: Spectrum, pivot_ppm: float | None) -> float:
    if pivot_ppm is None:
        return 0.0
    values = spectrum.axis.values
    step = values[1] - values[0]
    index = (pivot_ppm - values[0]) / step
    if not 0 <= index <= values.size - 1:
        raise ConfigError(f"pivot {pivot_ppm:g} {spectrum.axis.unit} lies outside the spectrum "
                          f"({values.min():g} … {values.max():g})", key="pivot")
    return float(index)


def phase(spectrum: Spectrum, p0: float = 0.0, p1: float = 0.0, *,
          pivot: float | None = None) -> Spectrum:
    """Zero- and first-order phase correction in TopSpin's convention.

    Parameters
    ----------
    spectrum : Spectrum
        Complex spectrum of shape ``(*leading, n)`` (every row gets the same phase).
    p0 : float, default 0
        Zero-order phase (degrees) at the pivot; TopSpin's PHC0 when ``pivot`` is None.
    p1 : float, default 0
        First-order phase (degrees) across the whole spectral width; TopSpin's PHC1.
    pivot : float, optional
        Axis value (ppm or Hz) where the first-order correction is zero; default the first
        point, as TopSpin stores PHC0.

    Returns
    -------
    Spectrum
        The phased complex spectrum; the Step records ``p0``, ``p1``, ``pivot`` and the
        equivalent TopSpin values ``phc0`` (phase at the first point) and ``phc1``.

    Raises
    ------
    FitError
        Time-domain, real (already phased away) or NaN input.
    ConfigError
        Non-numeric phases or a pivot outside the spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> s = Spectrum(axis=Axis("chemical_shift", "ppm", [2.0, 1.0]), data=np.array([1j, 1j]),
    ...              technique="nmr", signal="spectrum")
    >>> np.round(phase(s, -90.0).data, 12).tolist()
    [(1+0j), (1+0j)]
    """
    operation = "nmr_phase"
    spectrum = _complex_spectrum(spectrum, operation)
    p0 = real_number(p0, "p0")
    p1 = real_number(p1, "p1")
    index = _pivot_index(spectrum, pivot)
    size = spectrum.axis.size
    factor = np.exp(1j * phase_angles(size, p0, p1, index))
    phc0 = p0 - p1 * index / size
    parameters = {"p0": p0, "p1": p1, "pivot": pivot, "phc0": phc0, "phc1": p1}
    return spectrum.with_step(operation, parameters, data=owned(spectrum.data * factor))


def magnitude(spectrum: Spectrum) -> Spectrum:
    """Magnitude spectrum ``|S|`` (TopSpin ``mc``, PH_mod 2): real, phase-free.

    Parameters
    ----------
    spectrum : Spectrum
        Complex spectrum.

    Returns
    -------
    Spectrum
        Real spectrum.
    """
    operation = "nmr_magnitude"
    spectrum = _complex_spectrum(spectrum, operation)
    return spectrum.with_step(operation, {}, data=owned(np.abs(spectrum.data)))


def _complex_spectrum(spectrum: Spectrum, operation: str) -> Spectrum:
    spectrum = require_frequency(spectrum, operation)
    if not np.iscomplexobj(spectrum.data):
        raise FitError(f"{operation} needs the complex spectrum (real and imaginary parts); "
                       "this one is real")
    return spectrum


# --------------------------------------------------------------------------- automatic
def _acme_score(data: np.ndarray, p0: float, p1: float) -> float:
    """Entropy of the normalized first derivative plus the negative-intensity penalty."""
    real = (data * np.exp(1j * phase_angles(data.size, p0, p1))).real
    slope = np.abs(np.diff(real))
    total = slope.sum()
    if total == 0:
        return np.inf
    h = slope / total
    h = h[h > 0]
    entropy = float(-(h * np.log(h)).sum())
    negative = np.minimum(real, 0.0)
    penalty = ACME_PENALTY * float(negative @ negative) / float(real @ real + 1e-300)
    return entropy + penalty


def _acme(data: np.ndarray, first_order: bool) -> tuple[float, float]:
    """ACME: coarse grid over (p0[, p1]), then Nelder-Mead from the best grid point."""
    p0_grid = np.arange(0.0, 360.0, 10.0)
    p1_grid = np.arange(-360.0, 361.0, 30.0) if first_order else np.zeros(1)
    scores = [(_acme_score(data, a, b), a, b) for a in p0_grid for b in p1_grid]
    _, a0, b0 = min(scores)
    if first_order:
        simplex = np.array([[a0, b0], [a0 + 10.0, b0], [a0, b0 + 30.0]])
        result = optimize.minimize(lambda x: _acme_score(data, x[0], x[1]), [a0, b0],
                                   method="Nelder-Mead",
                                   options={"xatol": 0.01, "fatol": 1e-12, "maxiter": 4000,
                                            "initial_simplex": simplex})
        return float(result.x[0]), float(result.x[1])
    result = optimize.minimize_scalar(lambda a: _acme_score(data, a, 0.0),
                                      bracket=(a0 - 10.0, a0, a0 + 10.0))
    return float(result.x), 0.0


def _peak_minima(data: np.ndarray, p1: float) -> float:
    """Zero-order phase making the minima either side of the largest peak equal (absorption),
    the peak itself positive."""
    top = int(np.argmax(np.abs(data)))
    above = np.abs(data) >= 0.5 * np.abs(data[top])
    width = max(int(above.sum()), 2)
    span = 5 * width
    lo, hi = max(top - span, 0), min(top + span + 1, data.size)
    if top - lo < 2 or hi - top < 3:
        raise FitError("peak_minima: the largest peak is too close to the spectrum's edge")
    ramp = np.exp(1j * phase_angles(data.size, 0.0, p1))[lo:hi]
    window = data[lo:hi] * ramp
    centre = top - lo

    def score(p0: float) -> float:
        real = (window * np.exp(1j * np.deg2rad(p0))).real
        return abs(real[:centre].min() - real[centre + 1:].min()) / np.abs(window[centre])

    grid = np.arange(0.0, 360.0, 2.0)
    best = grid[np.argmin([score(a) for a in grid])]
    result = optimize.minimize_scalar(score, bounds=(best - 2.0, best + 2.0), method="bounded",
                                      options={"xatol": 1e-4})
    p0 = float(result.x)
    if (window[centre] * np.exp(1j * np.deg2rad(p0))).real < 0:
        p0 += 180.0
    return p0


def autophase(spectrum: Spectrum, method: str = "acme", *, first_order: bool = True,
              p1: float = 0.0, row: int | None = None) -> Spectrum:
    """Find and apply the phase automatically (one phase for every leading row).

    Parameters
    ----------
    spectrum : Spectrum
        Complex spectrum of shape ``(*leading, n)``.
    method : {"acme", "peak_minima"}, default "acme"
        ``"acme"``: minimum entropy of the real part's derivative with a penalty on negative
        intensity (Chen et al. 2002), over p0 and (``first_order``) p1. ``"peak_minima"``:
        zero-order phase making the minima either side of the largest peak equal, with ``p1``
        held at the value given.
    first_order : bool, default True
        ACME: fit p1 too (else p1 = 0).
    p1 : float, default 0
        peak_minima: the fixed first-order phase (degrees).
    row : int, optional
        Flat index of the leading row the phase is found on; default the row with the largest
        signal. The same phase is applied to every row (pseudo-2D series, CSI voxels).

    Returns
    -------
    Spectrum
        The phased spectrum; the Step records ``method``, ``p0`` and ``p1`` (TopSpin PHC0/PHC1
        convention: pivot at the first point) and the row used.

    Raises
    ------
    FitError
        Time-domain, real or NaN input; an all-zero spectrum.
    ConfigError
        Unknown method, or a row index out of range.
    """
    operation = "nmr_autophase"
    spectrum = _complex_spectrum(spectrum, operation)
    if method not in AUTOPHASE_METHODS:
        raise ConfigError(f"method must be one of {AUTOPHASE_METHODS}, not {method!r}",
                          key="method")
    rows = spectrum.data.reshape(-1, spectrum.axis.size)
    if row is None:
        row = int(np.argmax(np.abs(rows).max(axis=-1)))
    elif not 0 <= row < rows.shape[0]:
        raise ConfigError(f"row must lie in 0 … {rows.shape[0] - 1}, got {row}", key="row")
    data = rows[row]
    if not np.any(data):
        raise FitError(f"{operation}: the spectrum is all zeros")
    if method == "acme":
        p0, found_p1 = _acme(data, first_order)
    else:
        found_p1 = real_number(p1, "p1")
        p0 = _peak_minima(data, found_p1)
    p0 = float((p0 + 180.0) % 360.0 - 180.0)
    factor = np.exp(1j * phase_angles(spectrum.axis.size, p0, found_p1))
    parameters: dict[str, Any] = {"method": method, "p0": p0, "p1": found_p1, "row": row,
                                  "first_order": first_order if method == "acme" else False}
    return spectrum.with_step(operation, parameters, data=owned(spectrum.data * factor))
