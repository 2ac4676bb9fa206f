"""CSI quantities built on :class:`~specssb.fitting.nmr.csi.CsiProfiles`: percentage change
against a pristine cell per voxel and per interface region, the position of a localized
signal (a filament), and per-voxel T2 from two or more echo times.

Uncertainties are propagated from the noise-based integral errors. Region sums account for the
noise correlation between neighbouring voxels that zero filling and the k-space window create:
for white k-space noise the correlation of the real parts of voxels j and j' is
``Re Σ_n w_n² exp(2πi k_n (x_j - x_j')) / Σ_n w_n²`` (separable in 2D).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.nmr.csi import CsiProfiles

__all__ = ["CsiComparison", "T2Map", "compare_to_pristine", "locate_peak", "t2_map"]

Region = tuple[float, float] | Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class CsiComparison:
    """Change of one window's integral between a pristine and a cycled acquisition.

    Attributes
    ----------
    window : str
        The shift window compared (e.g. ``"li_metal"``).
    percent : ndarray
        ``100 (I_cycled - I_pristine) / I_pristine`` per voxel; NaN where the pristine signal
        is below ``min_fraction`` of its maximum (no reference to compare with).
    percent_stderr : ndarray
        Its standard error from both acquisitions' noise.
    difference : ndarray
        ``I_cycled - I_pristine`` per voxel (signal × ppm), defined everywhere (new signal
        where the pristine cell had none, e.g. a filament in the electrolyte).
    difference_stderr : ndarray
        Its standard error.
    regions : DataFrame
        One row per region: name, bounds, n_voxels, pristine and cycled sums, percent,
        percent_stderr.
    metadata : dict
        The cycled profiles' metadata (caveats) and the comparison's settings.
    """

    window: str
    positions_mm: tuple[np.ndarray, ...]
    dims: tuple[str, ...]
    percent: np.ndarray
    percent_stderr: np.ndarray
    difference: np.ndarray
    difference_stderr: np.ndarray
    regions: pd.DataFrame
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per voxel: positions (mm), difference and percent with their errors."""
        grids = np.meshgrid(*self.positions_mm, indexing="ij")
        frame = pd.DataFrame({f"{d}_mm": g.ravel() for d, g in zip(self.dims, grids)})
        frame["window"] = self.window
        for name in ("difference", "difference_stderr", "percent", "percent_stderr"):
            frame[name] = getattr(self, name).ravel()
        frame.attrs["metadata"] = dict(self.metadata)
        return frame


def compare_to_pristine(
    cycled: CsiProfiles,
    pristine: CsiProfiles,
    *,
    window: str = "li_metal",
    regions: Mapping[str, Region] | None = None,
    min_fraction: float = 0.1,
) -> CsiComparison:
    """Percentage change of a window's integral per voxel and per region (cycled vs pristine).

    Both acquisitions must share the voxel grid (same gradients, FOV, zero filling); receiver
    gain, scans and recycle delay must also match (not checked: the caller's responsibility).

    Parameters
    ----------
    cycled, pristine : CsiProfiles
        Profiles of the same cell after and before cycling.
    window : str
        Window to compare.
    regions : Mapping of str to (low, high) mm, optional
        Interface regions, e.g. ``{"bottom": (-1.4, -1.0), "top": (1.0, 1.4)}``: bounds along
        the first position dim; for a 2D map a mapping ``{"y": (lo, hi), "x": (lo, hi)}``.
        The region's change is ``100 (ΣI_c - ΣI_p) / ΣI_p`` over its voxels.
    min_fraction : float
        Voxels whose pristine integral is below this fraction of the maximum get NaN percent.

    Returns
    -------
    CsiComparison

    Raises
    ------
    ConfigError
        Different voxel grids, an unknown window, or a region holding no voxel.
    """
    _same_grid(cycled, pristine)
    if window not in cycled.integrals or window not in pristine.integrals:
        raise ConfigError(f"window {window!r} is not in both profiles", key="window")
    ic, ip = cycled.integrals[window], pristine.integrals[window]
    sc, sp = cycled.stderr[window], pristine.stderr[window]
    reference = ip.max()
    if not reference > 0:
        raise FitError(f"the pristine {window!r} signal is nowhere positive")
    valid = ip >= min_fraction * reference
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(valid, 100.0 * (ic - ip) / ip, np.nan)
        percent_err = np.where(valid, 100.0 * np.sqrt(sc**2 + (ic / ip) ** 2 * sp**2) / ip,
                               np.nan)
    correlations = _voxel_correlations(cycled), _voxel_correlations(pristine)
    rows = [_region_row(name, bounds, cycled, ic, ip, sc, sp, correlations)
            for name, bounds in (regions or {}).items()]
    region_table = pd.DataFrame(rows, columns=["region", "bounds_mm", "n_voxels", "pristine",
                                               "pristine_stderr", "cycled", "cycled_stderr",
                                               "percent", "percent_stderr"])
    metadata = {**cycled.metadata, "comparison": {"window": window, "min_fraction":
                                                  min_fraction,
                                                  "regions": {k: _plain(v) for k, v in
                                                              (regions or {}).items()}}}
    positions = tuple(cycled.positions_mm(d) for d in cycled.dims)
    return CsiComparison(window, positions, cycled.dims, percent, percent_err, ic - ip,
                         np.sqrt(sc**2 + sp**2), region_table, metadata)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: [float(v) for v in b] for k, b in value.items()}
    return [float(v) for v in value]


def _same_grid(a: CsiProfiles, b: CsiProfiles) -> None:
    if a.dims != b.dims or any(
            a.positions_mm(d).shape != b.positions_mm(d).shape
            or not np.allclose(a.positions_mm(d), b.positions_mm(d), atol=1e-9)
            for d in a.dims):
        raise ConfigError("the two acquisitions do not share one voxel grid (dims, FOV, zero "
                          "filling); reconstruct both with the same encoding", key="pristine")


def _voxel_correlations(profiles: CsiProfiles) -> list[np.ndarray]:
    """Per position dim: correlation matrix of the voxels' noise (real parts)."""
    step = next(s for s in reversed(profiles.image.history) if s.operation == "csi_reconstruct")
    out = []
    for dim, spatial in zip(profiles.dims, step.parameters["spatial"]):
        k = np.asarray(spatial["k_per_m"])
        w2 = np.asarray(spatial["k_weight"]) ** 2
        x = profiles.positions_mm(dim) * 1e-3
        diff = x[:, None] - x[None, :]
        phase = np.exp(2j * np.pi * k[None, None, :] * diff[:, :, None])
        out.append(np.real(phase @ w2) / w2.sum())
    return out


def _region_mask(bounds: Region, profiles: CsiProfiles, name: str) -> list[np.ndarray]:
    per_dim = bounds if isinstance(bounds, Mapping) else {profiles.dims[0]: bounds}
    masks = []
    for dim in profiles.dims:
        x = profiles.positions_mm(dim)
        if dim in per_dim:
            lo, hi = sorted(float(v) for v in per_dim[dim])
            mask = (x >= lo) & (x <= hi)
        else:
            mask = np.ones(x.size, bool)
        if not mask.any():
            raise ConfigError(f"region {name!r} {bounds} holds no voxel along {dim!r}",
                              key=name)
        masks.append(mask)
    unknown = set(per_dim) - set(profiles.dims)
    if unknown:
        raise ConfigError(f"region {name!r} names unknown dims {sorted(unknown)}", key=name)
    return masks


def _region_row(name: str, bounds: Region, profiles: CsiProfiles, ic: np.ndarray,
                ip: np.ndarray, sc: np.ndarray, sp: np.ndarray,
                correlations: tuple[list[np.ndarray], list[np.ndarray]]) -> dict[str, Any]:
    masks = _region_mask(bounds, profiles, name)
    index = np.ix_(*masks)
    sum_c, sum_p = float(ic[index].sum()), float(ip[index].sum())

    def sum_err(stderr: np.ndarray, corr: list[np.ndarray]) -> float:
        factor = np.prod([c[np.ix_(m, m)].sum() for c, m in zip(corr, masks)])
        return float(stderr.flat[0] * np.sqrt(factor))  # one noise level for all voxels

    err_c, err_p = sum_err(sc, correlations[0]), sum_err(sp, correlations[1])
    percent = 100.0 * (sum_c - sum_p) / sum_p if sum_p > 0 else float("nan")
    percent_err = (100.0 * np.sqrt(err_c**2 + (sum_c / sum_p) ** 2 * err_p**2) / sum_p
                   if sum_p > 0 else float("nan"))
    return {"region": name, "bounds_mm": _plain(bounds), "n_voxels": int(np.prod(
        [m.sum() for m in masks])), "pristine": sum_p, "pristine_stderr": err_p,
            "cycled": sum_c, "cycled_stderr": err_c, "percent": percent,
            "percent_stderr": float(percent_err)}


# ------------------------------------------------------------------------------ peak
def locate_peak(
    values: np.ndarray, positions_mm: np.ndarray, *, within: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Position of the largest value of a 1D profile (e.g. a filament's metal signal).

    Parameters
    ----------
    values : ndarray of shape (n,)
        A profile: an integral or the difference cycled − pristine.
    positions_mm : ndarray of shape (n,), mm
        Voxel centres.
    within : (float, float), optional, mm
        Search only there (e.g. the electrolyte, away from the electrodes).

    Returns
    -------
    dict
        ``position_mm`` (voxel centre of the maximum), ``refined_mm`` (parabola through the
        maximum and its neighbours), ``value``, ``voxel_mm`` (grid step).
    """
    values, x = np.asarray(values, float), np.asarray(positions_mm, float)
    keep = np.ones(x.size, bool) if within is None else \
        (x >= min(within)) & (x <= max(within))
    if not keep.any():
        raise ConfigError(f"no voxel within {within} mm", key="within")
    index = int(np.flatnonzero(keep)[np.argmax(values[keep])])
    refined = x[index]
    if 0 < index < x.size - 1:
        y0, y1, y2 = values[index - 1:index + 2]
        curvature = y0 - 2 * y1 + y2
        if curvature < 0:
            refined = x[index] + 0.5 * (y0 - y2) / curvature * (x[index + 1] - x[index])
    return {"position_mm": float(x[index]), "refined_mm": float(refined),
            "value": float(values[index]), "voxel_mm": float(abs(x[1] - x[0]))}


# ------------------------------------------------------------------------------ T2
@dataclass(frozen=True)
class T2Map:
    """Per-voxel mono-exponential T2 of one window from an echo-time series.

    Attributes
    ----------
    t2_s, t2_stderr_s, amplitude : ndarray
        T2 (s), its standard error, and the intensity extrapolated to TE = 0; NaN where the
        first echo's signal is below ``min_snr`` standard errors or does not decay.
    """

    window: str
    echo_times_s: tuple[float, ...]
    positions_mm: tuple[np.ndarray, ...]
    dims: tuple[str, ...]
    t2_s: np.ndarray
    t2_stderr_s: np.ndarray
    amplitude: np.ndarray
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per voxel: positions (mm), T2 and its error (s), amplitude."""
        grids = np.meshgrid(*self.positions_mm, indexing="ij")
        frame = pd.DataFrame({f"{d}_mm": g.ravel() for d, g in zip(self.dims, grids)})
        frame["window"] = self.window
        frame["t2_s"], frame["t2_stderr_s"] = self.t2_s.ravel(), self.t2_stderr_s.ravel()
        frame["amplitude"] = self.amplitude.ravel()
        frame.attrs["metadata"] = dict(self.metadata)
        return frame


def t2_map(
    series: Sequence[CsiProfiles],
    echo_times_s: Sequence[float],
    *,
    window: str = "li_metal",
    min_snr: float = 5.0,
    min_fraction: float = 0.05,
) -> T2Map:
    """Per-voxel T2 from CSI acquisitions at two or more echo times.

    ``I(TE) = I0 exp(-TE/T2)`` is fitted per voxel by weighted least squares on ln I
    (weights (I/σ)²); two echoes give the closed form ``T2 = ΔTE / ln(I1/I2)``. The T2
    contrast separates components whose relaxation differs, e.g. dendritic from bulk metal
    (for 23Na the dendrites have the longer T2: Rees et al., Angew. Chem. 2021).

    Parameters
    ----------
    series : sequence of CsiProfiles
        Same cell, same voxel grid, different echo times.
    echo_times_s : sequence of float, s
        Echo time of each acquisition.
    window : str
        Window whose integral decays.
    min_snr : float
        Voxels whose shortest-echo integral is below ``min_snr`` × stderr are NaN.
    min_fraction : float
        ... or below this fraction of the largest shortest-echo integral (keeps the weak
        window sidelobes and line tails of strong voxels out of the map).

    Returns
    -------
    T2Map

    Raises
    ------
    ConfigError
        Fewer than two echoes, repeated echo times, or different voxel grids.
    """
    if len(series) != len(echo_times_s) or len(series) < 2:
        raise ConfigError("t2_map needs two or more acquisitions, one echo time each",
                          key="echo_times_s")
    te = np.asarray(echo_times_s, float)
    if np.unique(te).size != te.size:
        raise ConfigError(f"echo times must differ, got {te.tolist()}", key="echo_times_s")
    for other in series[1:]:
        _same_grid(series[0], other)
    values = np.stack([p.integrals[window] for p in series], axis=-1)
    errors = np.stack([p.stderr[window] for p in series], axis=-1)
    first = int(np.argmin(te))
    usable = ((values[..., first] >= min_snr * errors[..., first])
              & (values[..., first] >= min_fraction * values[..., first].max())
              & np.all(values > 0, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.where(values > 0, values, np.nan))
        w = np.where(values > 0, (values / errors) ** 2, 0.0)
    sw, swx, swxx = w.sum(-1), (w * te).sum(-1), (w * te**2).sum(-1)
    swy, swxy = np.nansum(w * y, -1), np.nansum(w * te * y, -1)
    det = sw * swxx - swx**2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (sw * swxy - swx * swy) / det
        intercept = (swxx * swy - swx * swxy) / det
        slope_err = np.sqrt(sw / det)
        decays = usable & (slope < 0)
        t2 = np.where(decays, -1.0 / slope, np.nan)
        t2_err = np.where(decays, slope_err / slope**2, np.nan)
        amplitude = np.where(decays, np.exp(intercept), np.nan)
    if np.any(usable & ~decays):
        warnings.warn(f"{int(np.sum(usable & ~decays))} voxels with signal do not decay with "
                      "TE (noise or wrong echo-time order): T2 left NaN there", PhysicsWarning,
                      stacklevel=2)
    if not decays.any():
        raise FitError(f"no voxel of window {window!r} has enough signal for a T2 fit")
    positions = tuple(series[0].positions_mm(d) for d in series[0].dims)
    metadata = {**series[0].metadata, "t2": {"window": window, "echo_times_s": te.tolist(),
                                             "min_snr": min_snr, "min_fraction": min_fraction,
                                             "model": "I0 exp(-TE/T2)"}}
    return T2Map(window, tuple(te.tolist()), positions, series[0].dims, t2, t2_err, amplitude,
                 metadata)
