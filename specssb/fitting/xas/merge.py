"""Merging repeated XAS scans with per-point uncertainty, and rebinning to an EXAFS grid.

:func:`merge` puts every scan on one energy grid and averages them. The grid is the first
scan's energies (or ``grid`` when given), restricted to the range that *every* scan covers, so
nothing is extrapolated (Larch's ``merge_groups(trim=True)`` also trims). Each scan is
interpolated onto it (``"linear"`` by default, or ``"cubic"`` splines as Larch's default);
the merged value is the mean, and its uncertainty the standard error of the mean,
``std(ddof=1) / sqrt(n)``. :class:`~specssb.spectrum.Spectrum` has no uncertainty field, so
:class:`MergedSpectrum` carries the mean Spectrum together with the standard error and standard
deviation arrays; the Spectrum's ``meta["n_scans"]`` is the number of scans merged and its
``merge`` history step lists every source.

:func:`rebin` resamples μ(E) onto the standard three-region XAFS grid that Larch's
``rebin_xafs`` builds (xraylarch 2026.3.1): ``pre_step`` in the pre-edge from ``pre1`` to
``pre2``, ``xanes_step`` from ``pre2`` to ``exafs1`` and constant ``exafs_kstep`` in k above
``exafs1`` (all relative to e0; each region is an evenly spaced ``linspace`` between its ends
with the end point left to the next region, and the very last point dropped, exactly as Larch).
Defaults here: 5 eV pre-edge steps up to e0 − 20 eV, XANES steps from e0 − 20 to e0 + 30 eV of
``e0/25000`` rounded down to 0.05 eV (0.35 eV at the Cu K edge, Larch's rule), and 0.05 Å⁻¹
above. Each new point is the mean of the measured points in its bin (bin edges halfway between
grid points, ``method="boxcar"``), or, when the bin holds fewer than ``min_points`` measured
points, a linear interpolation at the grid point. Larch assigns measured points to bins by index
midpoints instead, so on well-filled bins the two differ by a fraction of the noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import constants
from scipy.interpolate import CubicSpline

from specssb.errors import ConfigError
from specssb.spectrum import Axis, Spectrum

__all__ = ["MergedSpectrum", "merge", "rebin", "rebin_grid"]

#: E (eV) = KTOE · k² (Å⁻²), as Larch's ``xafsutils.KTOE``.
KTOE = 1e20 * constants.hbar**2 / (2 * constants.m_e * constants.e)


@dataclass(frozen=True, eq=False)
class MergedSpectrum:
    """Result of :func:`merge`.

    Attributes
    ----------
    spectrum : Spectrum
        The mean, with ``meta["n_scans"]`` and a ``merge`` history step.
    stderr : ndarray of shape (n,)
        Standard error of the mean at each grid point, in the units of the data.
    std : ndarray of shape (n,)
        Sample standard deviation (ddof=1) of the scans at each grid point.
    n_spectra : int
        Number of scans merged.
    """

    spectrum: Spectrum
    stderr: np.ndarray
    std: np.ndarray
    n_spectra: int


def merge(
    spectra: Spectrum | Sequence[Spectrum],
    *,
    grid: np.ndarray | None = None,
    interpolation: str = "linear",
) -> MergedSpectrum:
    """Average repeated scans on a common energy grid, with the standard error per point.

    Parameters
    ----------
    spectra : Spectrum or sequence of Spectrum
        At least two 1-D scans (same technique and signal), or one Spectrum with leading
        dimensions whose spectra are all merged.
    grid : ndarray of shape (m,), optional, eV
        Energies to merge onto; default the first scan's energies. Points outside the range of
        any scan are dropped.
    interpolation : {"linear", "cubic"}
        How each scan is put on the grid (cubic splines as Larch's ``merge_groups``).

    Returns
    -------
    MergedSpectrum

    Raises
    ------
    ConfigError
        Fewer than two scans, mixed signals, an unknown interpolation, or no common range.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb import Axis, Spectrum
    >>> e = np.linspace(8900.0, 9100.0, 201)
    >>> scans = [Spectrum(axis=Axis("energy", "eV", e), data=np.full(201, v), technique="xas",
    ...                   signal="mu") for v in (1.0, 2.0, 3.0)]
    >>> merged = merge(scans)
    >>> float(merged.spectrum.data[0]), round(float(merged.stderr[0]), 4)
    (2.0, 0.5774)
    """
    if interpolation not in ("linear", "cubic"):
        raise ConfigError(f"unknown interpolation {interpolation!r}; choose 'linear' or 'cubic'",
                          key="interpolation")
    scans = _as_scans(spectra)
    first = scans[0][1]
    target = np.asarray(first.axis.values if grid is None else grid, dtype=float)
    low = max(float(np.min(s.axis.values)) for _, s in scans)
    high = min(float(np.max(s.axis.values)) for _, s in scans)
    keep = (target >= low - 1e-9) & (target <= high + 1e-9)
    if keep.sum() < 2:
        raise ConfigError(f"the scans share no energy range on the grid ({low:g}–{high:g} eV)",
                          key="grid")
    target = target[keep]
    rows = np.stack([_interpolate(s.axis.values, data, target, interpolation)
                     for data, s in scans])
    mean = rows.mean(axis=0)
    std = rows.std(axis=0, ddof=1)
    stderr = std / np.sqrt(len(scans))
    sources = [dataclasses.asdict(s.source) if s.source else None for _, s in scans]
    common = {k: v for k, v in first.meta.items()
              if all(_same(s.meta.get(k), v) for _, s in scans)}
    parameters: dict[str, Any] = {
        "n_spectra": len(scans),
        "grid": "first spectrum" if grid is None else "given",
        "interpolation": interpolation,
        "range_ev": [float(target[0]), float(target[-1])],
        "n_points": int(target.size),
        "uncertainty": "standard error of the mean, std(ddof=1)/sqrt(n), in MergedSpectrum.stderr",
        "sources": sources,
    }
    merged = first.with_step("merge", parameters, dims=(), coords={},
                             meta={**common, "n_scans": len(scans)},
                             axis=Axis(first.axis.name, first.axis.unit, target), data=mean)
    return MergedSpectrum(spectrum=merged, stderr=stderr, std=std, n_spectra=len(scans))


def rebin_grid(
    energy: np.ndarray,
    e0: float,
    *,
    pre1: float | None = None,
    pre2: float = -20.0,
    pre_step: float = 5.0,
    xanes_step: float | None = None,
    exafs1: float = 30.0,
    exafs2: float | None = None,
    exafs_kstep: float = 0.05,
) -> np.ndarray:
    """The three-region XAFS energy grid, built as Larch's ``rebin_xafs`` builds it.

    Parameters
    ----------
    energy : ndarray of shape (n,), eV
        Measured energies (their range bounds the grid).
    e0 : float, eV
        Edge energy; ``pre1``, ``pre2``, ``exafs1``, ``exafs2`` are relative to it.
    pre1 : float, optional, eV
        Start; default ``pre_step · int((min(E) − e0) / pre_step)``.
    pre2 : float, eV
        End of the pre-edge region, start of the XANES region.
    pre_step : float, eV
        Pre-edge step.
    xanes_step : float, optional, eV
        XANES step; default ``0.05 · max(1, int(e0 / 1250))``.
    exafs1 : float, eV
        End of the XANES region, start of the constant-k region.
    exafs2 : float, optional, eV
        End; default ``max(E) − e0``.
    exafs_kstep : float, Å⁻¹
        k step above ``exafs1``.

    Returns
    -------
    ndarray of shape (m,), eV

    Examples
    --------
    >>> import numpy as np
    >>> grid = rebin_grid(np.arange(8780.0, 9500.0, 0.2), 8979.0)
    >>> float(grid[0]), round(float(grid[1] - grid[0]), 3)
    (8784.0, 5.0)
    """
    energy = np.asarray(energy, dtype=float)
    emin, emax = float(energy.min()) - e0, float(energy.max()) - e0
    if pre1 is None:
        pre1 = pre_step * int(emin / pre_step)
    if exafs2 is None:
        exafs2 = emax
    if xanes_step is None:
        xanes_step = 0.05 * max(1, int(e0 / 1250.0))
    if min(pre_step, xanes_step, exafs_kstep) <= 0:
        raise ConfigError("rebin steps must be positive", key="pre_step")
    pre1 = max(pre1, emin)
    pre2 = min(max(pre2, pre1 + pre_step), emax)
    exafs1 = min(max(exafs1, pre2 + xanes_step), emax)
    exafs2 = min(max(exafs2, exafs1 + 20 * exafs_kstep), emax)
    points: list[np.ndarray] = []
    for start, stop, step, in_k in ((pre1, pre2, pre_step, False),
                                    (pre2, exafs1, xanes_step, False),
                                    (exafs1, exafs2, exafs_kstep, True)):
        if start == stop:
            continue
        if in_k:
            start, stop = np.sqrt(start / KTOE), np.sqrt(stop / KTOE)
        count = 1 + int(0.1 + abs(stop - start) / step)
        region = np.linspace(start, stop, count)
        if in_k:
            region = KTOE * region**2
        points.append(e0 + region[:-1])
    return np.concatenate(points)


def rebin(
    spectrum: Spectrum,
    e0: float,
    *,
    pre1: float | None = None,
    pre2: float = -20.0,
    pre_step: float = 5.0,
    xanes_step: float | None = None,
    exafs1: float = 30.0,
    exafs2: float | None = None,
    exafs_kstep: float = 0.05,
    method: str = "boxcar",
    min_points: int = 3,
) -> Spectrum:
    """Rebin μ(E) (any leading dimensions) onto the standard XAFS grid of :func:`rebin_grid`.

    Parameters
    ----------
    spectrum : Spectrum
        XAS Spectrum on an ``energy`` axis.
    e0 : float, eV
        Edge energy the regions are placed around.
    pre1, pre2, pre_step, xanes_step, exafs1, exafs2, exafs_kstep
        As for :func:`rebin_grid`.
    method : {"boxcar", "linear"}
        Mean of the measured points in each bin (linear interpolation where a bin holds fewer
        than ``min_points``), or linear interpolation at every grid point.
    min_points : int, default 3
        Fewest measured points a bin needs for its mean (Larch uses 3).

    Returns
    -------
    Spectrum
        On the new grid, with a ``rebin`` history step holding every region parameter.

    Raises
    ------
    ConfigError
        Not an energy axis, or an unknown method.
    """
    if spectrum.axis.name != "energy":
        raise ConfigError(f"rebin() needs an 'energy' axis, got {spectrum.axis.name!r}",
                          key="axis")
    if method not in ("boxcar", "linear"):
        raise ConfigError(f"unknown method {method!r}; choose 'boxcar' or 'linear'", key="method")
    order = np.argsort(spectrum.axis.values, kind="stable")
    energy = spectrum.axis.values[order]
    data = np.asarray(spectrum.data)[..., order]
    options = {"pre1": pre1, "pre2": pre2, "pre_step": pre_step, "xanes_step": xanes_step,
               "exafs1": exafs1, "exafs2": exafs2, "exafs_kstep": exafs_kstep}
    grid = rebin_grid(energy, e0, **options)
    flat = data.reshape(-1, energy.size)
    interpolated = np.stack([np.interp(grid, energy, row) for row in flat])
    if method == "boxcar":
        edges = np.concatenate([[grid[0] - 0.5 * (grid[1] - grid[0])],
                                0.5 * (grid[1:] + grid[:-1]),
                                [grid[-1] + 0.5 * (grid[-1] - grid[-2])]])
        bounds = np.searchsorted(energy, edges, side="left")
        counts = np.diff(bounds)
        cumulative = np.concatenate([np.zeros((flat.shape[0], 1), dtype=flat.dtype),
                                     np.cumsum(flat, axis=1)], axis=1)
        sums = cumulative[:, bounds[1:]] - cumulative[:, bounds[:-1]]
        means = sums / np.maximum(counts, 1)
        values = np.where(counts >= min_points, means, interpolated)
    else:
        values = interpolated
    parameters = {"e0_ev": float(e0), **options, "method": method, "min_points": min_points,
                  "n_points": int(grid.size), "grid": "Larch rebin_xafs three-region grid"}
    return spectrum.with_step("rebin", parameters,
                              axis=Axis(spectrum.axis.name, spectrum.axis.unit, grid),
                              data=values.reshape(*spectrum.leading_shape, grid.size))


# ------------------------------------------------------------------------------ helpers
def _as_scans(spectra: Spectrum | Sequence[Spectrum]) -> list[tuple[np.ndarray, Spectrum]]:
    """(data row, its Spectrum) for every 1-D scan to merge."""
    if isinstance(spectra, Spectrum):
        rows = np.asarray(spectra.data).reshape(-1, spectra.axis.size)
        scans = [(row, spectra) for row in rows]
    else:
        scans = []
        for s in spectra:
            scans += [(row, s) for row in np.asarray(s.data).reshape(-1, s.axis.size)]
    if len(scans) < 2:
        raise ConfigError(f"merge() needs at least two scans, got {len(scans)}", key="spectra")
    kinds = {(s.technique, s.signal, s.axis.name) for _, s in scans}
    if len(kinds) != 1:
        raise ConfigError(f"merge() needs one technique, signal and axis; got {sorted(kinds)}",
                          key="spectra")
    return scans


def _interpolate(energy: np.ndarray, row: np.ndarray, target: np.ndarray, kind: str) -> np.ndarray:
    order = np.argsort(energy, kind="stable")
    x, y = energy[order], np.asarray(row)[order]
    if kind == "cubic":
        return CubicSpline(x, y)(target)
    return np.interp(target, x, y)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False
