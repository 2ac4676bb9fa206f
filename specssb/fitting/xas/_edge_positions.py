"""Edge positions of normalized XAS spectra: e0, half-height energy, white-line energy.

Three common definitions of "where the edge is", each computed for all spectra of a stack at
once (Athena offers the same choices for e0: derivative maximum, fraction of the edge step,
white-line peak; Demeter documentation, ``params/e0.rst``):

``e0``
    Larch's ``find_e0`` (maximum of dμ/dE), as used by :func:`~.normalize.normalize`.
``half_height_energy``
    Where ``norm`` rises through 0.5: of the upward crossings ``norm[i] < 0.5 <= norm[i+1]``,
    the one nearest e0, linearly interpolated between the two points. NaN without a crossing.
``white_line_energy``, ``white_line_height``
    Maximum of ``norm`` in ``[e0, e0 + window]``, refined by the parabola through the maximum
    and its two neighbours (kept on the grid point when the parabola does not open downwards
    or its vertex leaves the neighbours' interval).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from specssb.fitting.xas.normalize import Normalization
    from specssb.spectrum import Spectrum

__all__ = ["EdgePositions", "edge_positions"]


@dataclass(frozen=True, eq=False)
class EdgePositions:
    """Edge positions per spectrum (floats for one spectrum, arrays of the leading shape else).

    Attributes
    ----------
    e0 : float or ndarray, eV
        Maximum-derivative edge energy (Larch's ``find_e0``, or the e0 given to normalize).
    half_height_energy : float or ndarray, eV
        Energy where ``norm`` crosses 0.5 (NaN when it does not).
    white_line_energy : float or ndarray, eV
        Energy of the maximum of ``norm`` within the window above e0.
    white_line_height : float or ndarray
        ``norm`` at that maximum (parabolic estimate).
    """

    e0: float | np.ndarray
    half_height_energy: float | np.ndarray
    white_line_energy: float | np.ndarray
    white_line_height: float | np.ndarray

    def to_dict(self) -> dict[str, np.ndarray]:
        """Flat 1-D arrays, one entry per spectrum (C order of the leading dimensions)."""
        return {f.name: np.ravel(getattr(self, f.name)) for f in fields(self)}

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with one row per spectrum and one column per position."""
        import pandas as pd

        return pd.DataFrame(self.to_dict())


def half_height_rows(energy: np.ndarray, norm: np.ndarray, e0: np.ndarray, level: float = 0.5
                     ) -> np.ndarray:
    """Energy of the upward crossing of ``level`` nearest ``e0``, per row (NaN if none)."""
    below, above = norm[:, :-1], norm[:, 1:]
    rising = (below < level) & (above >= level)
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = energy[:-1] + (level - below) * np.diff(energy) / (above - below)
    distance = np.where(rising, np.abs(crossing - e0[:, None]), np.inf)
    best = np.argmin(distance, axis=1)
    rows = np.arange(norm.shape[0])
    return np.where(np.isfinite(distance[rows, best]), crossing[rows, best], np.nan)


def white_line_rows(energy: np.ndarray, norm: np.ndarray, e0: np.ndarray, window: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Parabolic maximum of ``norm`` in ``[e0, e0 + window]`` per row: (energy, height)."""
    rows = np.arange(norm.shape[0])
    inside = (energy[None, :] >= e0[:, None]) & (energy[None, :] <= e0[:, None] + window)
    score = np.where(inside & np.isfinite(norm), norm, -np.inf)
    peak = np.argmax(score, axis=1)
    found = np.isfinite(score[rows, peak])
    height = np.where(found, score[rows, peak], np.nan)
    position = np.where(found, energy[peak], np.nan)
    n = energy.size
    left, right = np.clip(peak - 1, 0, n - 1), np.clip(peak + 1, 0, n - 1)
    x0, x1, x2 = energy[left], energy[peak], energy[right]
    y0, y1, y2 = norm[rows, left], norm[rows, peak], norm[rows, right]
    with np.errstate(invalid="ignore", divide="ignore"):
        d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        curvature = (d12 - d01) / (x2 - x0)
        vertex = 0.5 * (x0 + x1) - d01 / (2.0 * curvature)
        top = y0 + d01 * (vertex - x0) + curvature * (vertex - x0) * (vertex - x1)
    usable = (
        found & (peak > 0) & (peak < n - 1) & (curvature < 0)
        & (vertex >= x0) & (vertex <= x2) & np.isfinite(y0) & np.isfinite(y2)
    )
    return np.where(usable, vertex, position), np.where(usable, top, height)


def edge_positions(result: Normalization | Spectrum, *, window: float = 30.0) -> EdgePositions:
    """Edge positions (e0, half-height, white line) for every spectrum of a normalization.

    Parameters
    ----------
    result : Normalization or Spectrum
        A :func:`~.normalize.normalize` result, or an XAS Spectrum of mu (normalized here with
        Larch's defaults).
    window : float, default 30, eV
        White-line search range above e0.

    Returns
    -------
    EdgePositions

    Examples
    --------
    >>> from specssb import Axis, Spectrum
    >>> from specssb.fitting.xas.normalize import normalize
    >>> energy = np.linspace(8900.0, 9200.0, 601)
    >>> mu = 0.5 + np.arctan((energy - 8980.0) / 1.0) / np.pi
    >>> s = Spectrum(axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal="mu")
    >>> p = edge_positions(normalize(s, pre1=-70, pre2=-30, norm1=50, norm2=200, nnorm=0))
    >>> float(p.e0), round(float(p.half_height_energy), 1)
    (8980.0, 8980.0)
    """
    from specssb.fitting.xas.normalize import Normalization, normalize

    if not isinstance(result, Normalization):
        result = normalize(result)
    energy = result.energy
    norm = result.norm.reshape(-1, energy.size)
    e0 = np.ravel(np.asarray(result.e0, dtype=np.float64))
    half = half_height_rows(energy, norm, e0)
    white, height = white_line_rows(energy, norm, e0, float(window))
    leading = np.shape(result.e0)

    def shaped(values: np.ndarray) -> Any:
        return float(values[0]) if leading == () else values.reshape(leading)

    return EdgePositions(
        e0=shaped(e0),
        half_height_energy=shaped(half),
        white_line_energy=shaped(white),
        white_line_height=shaped(height),
    )
