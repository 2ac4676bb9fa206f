"""7Li / 23Na chemical-shift imaging (CSI): phase-encoded raw data → voxel spectra → profiles
(1D) and maps (2D) of named shift windows, with noise-based uncertainties.

The chain (project NMR notes §2), every parameter recorded in the image's ``history``:

1. **Spectral dimension**, identical for every k-space row: digital-filter delay removed
   (circular shift by the integer part of GRPDLY, the fraction as a first-order phase after
   the FFT), first point halved, exponential line broadening, zero fill, FFT; the axis in ppm,
   decreasing as TopSpin draws it (``ppm = ((SFO1 - SF)·1e6 + f) / SF``; SF from ``sf_mhz`` or
   BF1, i.e. SR = 0).
2. **Spatial dimension(s)**: k-space window centred on k = 0, zero fill, centred inverse FFT
   (:mod:`specssb.fitting.nmr.csi_kspace`); FOV = 1/(γ̄ G_step δ).
3. **One phase for all voxels**: the zero-order phase that makes the summed spectrum absorptive
   (``-arg Σ S·|S|`` over the summed spectrum), applied to every voxel, so relative intensities
   and signs between voxels are kept.
4. **Integrals** of named shift windows per voxel (real part, trapezoid-free sum × |Δppm|) with a
   standard error from the noise of a signal-free window, propagated exactly through the linear
   chain (see :func:`csi_profiles`).

Comparison with a pristine cell, interface regions and per-voxel T2 are in
:mod:`specssb.fitting.nmr.csi_compare`.

Caveat carried with every result (``metadata["caveats"]``): RF penetrates a metal only to the
skin depth ``δ = sqrt(2ρ/(ωμ0))`` (Li: ρ = 9.28e-8 Ω·m → 12.3 µm at 155.5 MHz), so the metal
signal measures surface area and microstructure, not volume (Chandrashekar et al., Nat. Mater.
11 (2012) 311; Ilott et al., J. Magn. Reson. 245 (2014) 143).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.nmr.csi_kspace import (
    LI_RESISTIVITY_OHM_M,
    PhaseEncoding,
    k_space_window,
    phase_encoding,
    skin_depth_m,
    spatial_transform,
)
from specssb.spectrum import Axis, Coord, Spectrum

__all__ = [
    "CsiProfiles",
    "LI_WINDOWS_PPM",
    "csi_metadata",
    "csi_profiles",
    "profiles_from_recipe",
    "reconstruct_csi",
]

#: 7Li shift windows (ppm): Knight-shifted Li metal and diamagnetic Li (electrolyte, SEI).
LI_WINDOWS_PPM: Mapping[str, tuple[float, float]] = {
    "li_metal": (245.0, 270.0),
    "diamagnetic": (-10.0, 10.0),
}

#: Resistivity (Ω·m, 20 °C, CRC Handbook) of the metal whose Knight-shifted line a nucleus sees.
METAL_RESISTIVITY_OHM_M: Mapping[str, tuple[str, float]] = {
    "7Li": ("Li", LI_RESISTIVITY_OHM_M), "6Li": ("Li", LI_RESISTIVITY_OHM_M),
    "23Na": ("Na", 4.77e-8),
}

_OPERATION = "csi_reconstruct"


# ------------------------------------------------------------------------------ reconstruct
def reconstruct_csi(
    fid: Spectrum,
    encodings: PhaseEncoding | Sequence[PhaseEncoding] | None = None,
    *,
    fov_mm: float | Sequence[float] | None = None,
    window: str = "hamming",
    zero_fill: int = 2,
    line_broadening_hz: float = 0.0,
    spectral_size: int | None = None,
    phase_deg: float | None = None,
    reverse: bool = False,
    position_offset_mm: float | Sequence[float] = 0.0,
) -> Spectrum:
    """Voxel spectra of a phase-encoded CSI data set.

    Parameters
    ----------
    fid : Spectrum
        Raw data: signal ``fid``, complex, ``time`` axis (s), one (1D CSI) or two (2D CSI)
        leading phase-encode dimensions in acquisition order; ``meta`` needs ``sfo1_mhz``
        (and ``nucleus`` unless ``fov_mm`` is given). GRPDLY is taken from
        ``meta["digital_filter"]`` when present.
    encodings : PhaseEncoding or sequence, optional
        k values per leading dimension; default :func:`phase_encoding` of each dimension
        (gradient coordinate, ``gradlist`` or ``fov_mm``).
    fov_mm : float or sequence of float, optional, mm
        Field of view per encoded dimension, when the gradients are not in the data.
    window : {"hamming", "hann", "gaussian", "none"}
        k-space apodization against Gibbs ringing at the electrode edges (costs resolution).
    zero_fill : int, default 2
        Spatial zero filling: M = zero_fill × N voxels per dimension.
    line_broadening_hz : float, Hz
        Exponential line broadening (a few hundred Hz suits kHz-wide Li metal lines).
    spectral_size : int, optional
        Points after spectral zero filling; default the next power of two ≥ 2 × TD/2.
    phase_deg : float, optional, degrees
        Zero-order phase for all voxels; default from the summed spectrum.
    reverse : bool
        Mirror the position axis (spectrometers with the other gradient or frequency sense).
    position_offset_mm : float or sequence, mm
        Position of the FOV centre (added to the voxel coordinates).

    Returns
    -------
    Spectrum
        ``signal="spectrum"``, complex (real part absorptive), ``chemical_shift`` axis (ppm,
        decreasing), dims ``("position",)`` (1D) or ``("y", "x")`` (2D; y the outer loop) with
        coordinates in mm. Voxel intensities share the total signal (Σ voxels = signal at k = 0
        × w(0)), so they depend on the zero filling but their ratios do not.

    Raises
    ------
    FitError
        For data that are not a complex FID with one or two leading dimensions, or k values
        off a uniform grid.
    ConfigError
        For bad options or missing gradient information.

    Examples
    --------
    >>> image = reconstruct_csi(fid, fov_mm=4.0, line_broadening_hz=200)   # doctest: +SKIP
    >>> image.dims, image.coords["position"].unit                           # doctest: +SKIP
    (('position',), 'mm')
    """
    _check_fid(fid)
    encodings = _encodings(fid, encodings, fov_mm)
    spectra, ppm, spectral = _spectral(fid, line_broadening_hz, spectral_size)
    voxels, positions, info = spatial_transform(spectra, encodings, window=window,
                                                zero_fill=zero_fill)
    offsets = _per_dim(position_offset_mm, len(encodings), "position_offset_mm")
    positions = [(-p if reverse else p) + off for p, off in zip(positions, offsets)]
    if reverse:
        voxels = np.flip(voxels, axis=tuple(range(len(encodings))))
        positions = [p[::-1] for p in positions]
    summed = voxels.reshape(-1, ppm.size).sum(axis=0)
    chosen = "given" if phase_deg is not None else "summed spectrum: -arg(sum S|S|)"
    if phase_deg is None:
        phase_deg = float(-np.degrees(np.angle(np.sum(summed * np.abs(summed)))))
    voxels = voxels * np.exp(1j * np.radians(phase_deg))
    dims = ("position",) if len(encodings) == 1 else ("y", "x")
    coords = {d: Coord(d, p, "mm") for d, p in zip(dims, positions)}
    parameters = {
        "spectral": spectral,
        "phase_deg": phase_deg, "phase_from": chosen,
        "spatial": [{**i, "k_per_m": e.k_per_m.tolist(),
                     "k_weight": k_space_window(e.k_per_m, i["delta_k_per_m"], e.n_steps,
                                                window).tolist()}
                    for e, i in zip(encodings, info)],
        "reverse": reverse, "position_offset_mm": offsets, "zero_fill": zero_fill,
    }
    meta = {**fid.meta, "sf_mhz": spectral["sf_mhz"]}
    meta.pop("n_points", None)
    return fid.with_step(_OPERATION, parameters, axis=Axis("chemical_shift", "ppm", ppm),
                         data=voxels, signal="spectrum", signal_unit="", dims=dims,
                         coords=coords, meta=meta)


def _check_fid(fid: Spectrum) -> None:
    if fid.technique != "nmr" or fid.signal != "fid" or fid.axis.name != "time":
        raise FitError(f"CSI needs a raw NMR FID (signal 'fid', time axis); got "
                       f"{fid.technique}/{fid.signal} on {fid.axis.name}")
    if not np.iscomplexobj(fid.data):
        raise FitError("CSI needs complex (quadrature) FIDs")
    if len(fid.dims) not in (1, 2):
        raise FitError(f"CSI needs one or two leading phase-encode dims; got {fid.dims}")
    if not isinstance(fid.meta.get("sfo1_mhz"), (int, float)):
        raise FitError("the FID has no meta['sfo1_mhz']: the ppm axis cannot be built")


def _per_dim(value: Any, n: int, key: str) -> list[Any]:
    values = list(value) if isinstance(value, Sequence) else [value] * n
    if len(values) != n:
        raise ConfigError(f"{key} needs {n} values, got {len(values)}", key=key)
    return [float(v) for v in values]


def _encodings(fid: Spectrum, encodings: Any, fov_mm: Any) -> list[PhaseEncoding]:
    if isinstance(encodings, PhaseEncoding):
        encodings = [encodings]
    if encodings is None:
        fovs = [None] * len(fid.dims) if fov_mm is None else _per_dim(fov_mm, len(fid.dims),
                                                                       "fov_mm")
        encodings = [phase_encoding(fid, d, fov_mm=f) for d, f in zip(fid.dims, fovs)]
    encodings = list(encodings)
    if [e.dim for e in encodings] != list(fid.dims):
        raise ConfigError(f"encodings for dims {[e.dim for e in encodings]} do not match the "
                          f"data's {fid.dims}", key="encodings")
    for e, n in zip(encodings, fid.leading_shape):
        if e.n_steps != n:
            raise ConfigError(f"{e.n_steps} k values for {n} increments along {e.dim!r}",
                              key="encodings")
    return encodings


# ------------------------------------------------------------------------------ spectral
def _grpdly(fid: Spectrum) -> float:
    digital = fid.meta.get("digital_filter")
    value = digital.get("grpdly") if isinstance(digital, Mapping) else None
    if value is None:
        if digital is not None:
            warnings.warn("digital-filter group delay unknown: spectra are not corrected for "
                          "it (expect a strong first-order phase)", PhysicsWarning, stacklevel=4)
        return 0.0
    return float(value)


def spectral_kernel(n: int, dwell_s: float, grpdly: float, line_broadening_hz: float,
                    size: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-domain weights ``a_t`` (length ``size``, zero-filled) and the first-order phase
    ``θ_i`` (increasing frequency order) of the spectral processing.

    The processed spectrum of a FID ``s`` (already shifted by the integer part of GRPDLY) is
    ``S_i = e^{iθ_i} FFT(a·s)_i`` in fftshift order; the noise analysis of
    :func:`csi_profiles` uses the same kernel.
    """
    t = np.arange(n) * dwell_s
    a = np.zeros(size)
    a[:n] = np.exp(-np.pi * line_broadening_hz * t)
    a[0] *= 0.5
    fraction = grpdly - np.floor(grpdly)
    m = np.arange(size) - size // 2
    theta = 2.0 * np.pi * fraction * m / size
    return a, theta


def _spectral(fid: Spectrum, line_broadening_hz: float,
              spectral_size: int | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """FT of every row: returns spectra (rows, SI) in decreasing-ppm order, ppm, parameters."""
    if line_broadening_hz < 0:
        raise ConfigError("line_broadening_hz must be >= 0", key="line_broadening_hz")
    n = fid.axis.size
    dwell = float(fid.axis.values[1] - fid.axis.values[0]) if n > 1 else 1.0
    size = spectral_size or 1 << max(1, (2 * n - 1).bit_length())
    if size < n:
        raise ConfigError(f"spectral_size {size} is below the {n} acquired points",
                          key="spectral_size")
    grpdly = _grpdly(fid)
    shifted = np.roll(np.asarray(fid.data), -int(np.floor(grpdly)), axis=-1)
    a, theta = spectral_kernel(n, dwell, grpdly, line_broadening_hz, size)
    padded = np.zeros(fid.leading_shape + (size,), dtype=complex)
    padded[..., :n] = shifted
    spectra = np.fft.fftshift(np.fft.fft(padded * a, axis=-1), axes=-1) * np.exp(1j * theta)
    sw = 1.0 / dwell
    sfo1 = float(fid.meta["sfo1_mhz"])
    sf = float(fid.meta.get("sf_mhz") or fid.meta.get("bf1_mhz") or sfo1)
    freq = (np.arange(size) - size // 2) * sw / size
    ppm = ((sfo1 - sf) * 1e6 + freq) / sf
    parameters = {"grpdly": grpdly, "line_broadening_hz": line_broadening_hz,
                  "spectral_size": size, "n_points": n, "dwell_s": dwell, "sf_mhz": sf,
                  "sfo1_mhz": sfo1, "first_point": 0.5, "order": "decreasing ppm"}
    return spectra[..., ::-1], ppm[::-1], parameters


# ------------------------------------------------------------------------------ metadata
def csi_metadata(spectrum: Spectrum) -> dict[str, Any]:
    """Caveats and skin depth to carry with every CSI result.

    Returns
    -------
    dict
        ``skin_depth_um`` (for Li/Na nuclei with a known frequency), ``metal``,
        ``frequency_mhz``, ``caveats`` (list of str) and ``references``.
    """
    nucleus = spectrum.meta.get("nucleus")
    frequency = spectrum.meta.get("sfo1_mhz")
    out: dict[str, Any] = {"nucleus": nucleus, "frequency_mhz": frequency}
    caveats = []
    if nucleus in METAL_RESISTIVITY_OHM_M and isinstance(frequency, (int, float)):
        metal, rho = METAL_RESISTIVITY_OHM_M[nucleus]
        depth = skin_depth_m(float(frequency) * 1e6, rho) * 1e6
        out.update(metal=metal, resistivity_ohm_m=rho, skin_depth_um=depth)
        caveats.append(
            f"skin depth: RF penetrates {metal} metal only ~{depth:.1f} um at "
            f"{float(frequency):.1f} MHz (delta = sqrt(2 rho/(omega mu0)), rho = {rho:.3g} "
            "ohm m); only the surface layer of bulk metal is seen, so metal integrals measure "
            "surface area / microstructure, not volume; a rise of the metal signal means more "
            "surface (mossy or dendritic metal), not necessarily more metal")
    else:
        caveats.append("skin depth: metal signal comes from a surface layer only (not volume)")
    caveats += [
        "metal intensity depends on the orientation of the metal surfaces to B0 and B1",
        "T2 decay during the phase-encode gradient and the echo time weights the images",
        "7Li is spin 3/2: use short/small flip angles for quantitative intensities",
    ]
    out["caveats"] = caveats
    out["references"] = [
        "S. Chandrashekar et al., Nat. Mater. 11 (2012) 311",
        "A. J. Ilott et al., J. Magn. Reson. 245 (2014) 143 (arXiv 1403.6072)",
    ]
    return out


# ------------------------------------------------------------------------------ integrals
@dataclass(frozen=True)
class CsiProfiles:
    """Per-voxel integrals of shift windows: profiles (1D CSI) or maps (2D CSI).

    Attributes
    ----------
    image : Spectrum
        The voxel spectra they were integrated from (:func:`reconstruct_csi`).
    windows : dict
        Window name → (low, high) ppm.
    integrals : dict
        Window name → ndarray of the image's leading shape (signal × ppm).
    stderr : dict
        Window name → standard error of each integral (same shape), from the noise.
    noise_window : tuple of float
        The signal-free window (ppm) the noise came from.
    noise_point_std : float
        Standard deviation of one spectral point's real part in that window.
    metadata : dict
        :func:`csi_metadata` plus the processing summary.
    """

    image: Spectrum
    windows: Mapping[str, tuple[float, float]]
    integrals: Mapping[str, np.ndarray]
    stderr: Mapping[str, np.ndarray]
    noise_window: tuple[float, float]
    noise_point_std: float
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dims(self) -> tuple[str, ...]:
        """Position dims of the image."""
        return self.image.dims

    def positions_mm(self, dim: str | None = None) -> np.ndarray:
        """Voxel centres (mm) along ``dim`` (default the first position dim)."""
        return np.asarray(self.image.coords[dim or self.dims[0]].values, dtype=float)

    def profile(self, window: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(positions_mm, integral, stderr)`` of one window along a 1D CSI."""
        if len(self.dims) != 1:
            raise ConfigError("profile() is for 1D CSI; use integrals[...] for a 2D map")
        return self.positions_mm(), self.integrals[window], self.stderr[window]

    @property
    def table(self) -> pd.DataFrame:
        """Tidy table: one row per voxel × window (positions in mm, integral, stderr)."""
        grids = np.meshgrid(*[self.positions_mm(d) for d in self.dims], indexing="ij")
        rows = []
        for name in self.windows:
            frame = {f"{d}_mm": g.ravel() for d, g in zip(self.dims, grids)}
            frame.update(window=name, low_ppm=self.windows[name][0],
                         high_ppm=self.windows[name][1],
                         integral=self.integrals[name].ravel(),
                         stderr=self.stderr[name].ravel())
            rows.append(pd.DataFrame(frame))
        table = pd.concat(rows, ignore_index=True)
        table.attrs["metadata"] = dict(self.metadata)
        return table


def csi_profiles(
    image: Spectrum,
    windows: Mapping[str, tuple[float, float]] | None = None,
    *,
    noise_window: tuple[float, float],
) -> CsiProfiles:
    """Integrate shift windows in every voxel, with noise-based standard errors.

    The integral of window W in a voxel is ``|Δppm| Σ_{i∈W} Re S_i``. Its variance is
    ``var_point · |Δppm|² · G_W`` with ``var_point`` the variance of one point's real part,
    measured in ``noise_window`` (pooled over all voxels, each voxel's mean removed), and
    ``G_W = Σ_t |a_t h_t|² / Σ_t |a_t|²`` the exact gain of the linear spectral chain
    (``a_t`` apodization and zero filling, ``h_t = Σ_{i∈W} e^{iθ_i - 2πi i t/SI}``), so points
    correlated by zero filling and line broadening are counted correctly. Every voxel has the
    same noise (the spatial FFT of white k-space noise is stationary).

    Parameters
    ----------
    image : Spectrum
        Output of :func:`reconstruct_csi`.
    windows : Mapping of str to (float, float), optional, ppm
        Named windows; default :data:`LI_WINDOWS_PPM` (Li metal 245–270 ppm, diamagnetic Li
        −10–10 ppm).
    noise_window : (float, float), ppm
        A signal-free region of the spectrum (no line, no spinning sideband).

    Returns
    -------
    CsiProfiles

    Raises
    ------
    FitError
        If ``image`` was not made by :func:`reconstruct_csi`, or a window holds no point.
    """
    windows = dict(windows or LI_WINDOWS_PPM)
    step = next((s for s in reversed(image.history) if s.operation == _OPERATION), None)
    if step is None:
        raise FitError("csi_profiles needs an image made by reconstruct_csi")
    spectral = step.parameters["spectral"]
    ppm = image.axis.values
    delta = abs(float(ppm[1] - ppm[0]))
    real = np.real(image.data)
    noise = _mask(ppm, noise_window, "noise_window")
    if noise.sum() < 8:
        raise FitError(f"noise_window {noise_window} ppm holds {noise.sum()} points; need >= 8")
    a, theta = spectral_kernel(spectral["n_points"], spectral["dwell_s"], spectral["grpdly"],
                               spectral["line_broadening_hz"], spectral["spectral_size"])
    # Each voxel's noise window minus its straight-line fit (a line tail or baseline slope is
    # not noise); E Σ r² = var · trace((1 - H) C) with H the hat matrix of the line and C the
    # exact point correlation, so correlated points (zero fill, broadening) are counted right.
    values = real[..., noise].reshape(-1, int(noise.sum()))
    design = np.vander(np.arange(values.shape[1], dtype=float), 2)
    hat = design @ np.linalg.pinv(design)
    residual = values - values @ hat.T
    correlation = _point_correlation(noise[::-1], a, theta)
    dof = float(np.trace((np.eye(hat.shape[0]) - hat) @ correlation[::-1, ::-1]))
    var_point = float(np.sum(residual**2) / (dof * values.shape[0]))
    integrals, errors = {}, {}
    for name, bounds in windows.items():
        inside = _mask(ppm, bounds, name)
        integrals[name] = real[..., inside].sum(axis=-1) * delta
        gain = _window_gain(inside[::-1], a, theta)  # kernel is in increasing-frequency order
        sigma = np.sqrt(var_point * gain) * delta
        errors[name] = np.full(image.leading_shape, sigma)
        overlap = _mask(ppm, noise_window, "noise_window") & inside
        if overlap.any():
            raise ConfigError(f"noise_window {noise_window} overlaps window {name!r} {bounds}",
                              key="noise_window")
    metadata = {**csi_metadata(image), "processing": {k: v for k, v in step.parameters.items()
                                                       if k != "spatial"},
                "spatial": [{k: v for k, v in s.items() if k not in ("k_per_m", "k_weight")}
                            for s in step.parameters["spatial"]]}
    return CsiProfiles(image, windows, integrals, errors, tuple(noise_window),
                       float(np.sqrt(var_point)), metadata)


def _mask(ppm: np.ndarray, bounds: tuple[float, float], name: str) -> np.ndarray:
    try:
        lo, hi = sorted(float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigError(f"window {name!r} must be (low, high) in ppm, got {bounds!r}",
                          key=name) from None
    inside = (ppm >= lo) & (ppm <= hi)
    if not inside.any():
        raise FitError(f"window {name!r} [{lo}, {hi}] ppm holds no point of the axis "
                       f"({ppm.min():.1f} to {ppm.max():.1f} ppm)")
    return inside


def _point_correlation(inside_increasing: np.ndarray, a: np.ndarray,
                       theta: np.ndarray) -> np.ndarray:
    """Correlation of the real parts of the selected spectral points (increasing frequency).

    With white FID noise, point i is ``e^{iθ_i} Σ_t a_t ε_t e^{-2πi k_i t/SI}``, so
    ``corr(i, j) = Re Σ_t a_t² e^{i(θ_i-θ_j) - 2πi (k_i-k_j) t/SI} / Σ_t a_t²``.
    """
    size = a.size
    index = np.flatnonzero(inside_increasing)
    k = (index + size // 2) % size  # fftshift: output index i holds FFT bin (i - size/2) mod size
    vectors = np.exp(1j * theta[index])[:, None] * np.exp(
        -2j * np.pi * np.outer(k, np.arange(size)) / size) * a[None, :]
    return np.real(vectors @ vectors.conj().T) / np.sum(a**2)


def _window_gain(inside_increasing: np.ndarray, a: np.ndarray, theta: np.ndarray) -> float:
    """Variance of a window's sum over that of one point: the sum of the point correlations."""
    return float(_point_correlation(inside_increasing, a, theta).sum())


def profiles_from_recipe(fid: Spectrum, recipe: Any) -> CsiProfiles:
    """Reconstruct and integrate a CSI data set with a recipe's ``[steps.csi]`` options.

    Parameters
    ----------
    fid : Spectrum
        Raw CSI data (see :func:`reconstruct_csi`).
    recipe : Recipe or Mapping
        A :class:`~specssb.fitting.recipe.Recipe` with ``[steps.csi]`` (e.g. the built-in
        ``nmr-csi-li-profile``), or the ``[steps.csi]`` table itself.

    Returns
    -------
    CsiProfiles

    Raises
    ------
    ConfigError
        When the recipe has no valid ``[steps.csi]`` table.
    """
    from pydantic import ValidationError

    from specssb.fitting.nmr.steps import Csi

    table = recipe.steps.get("csi") if hasattr(recipe, "steps") else recipe
    if not isinstance(table, Mapping):
        raise ConfigError("the recipe has no [steps.csi] table", key="steps.csi")
    try:
        step = Csi.model_validate(dict(table))
    except ValidationError as error:
        raise ConfigError(f"[steps.csi]: {error.errors()[0]['msg']}", key="steps.csi") from None
    encodings = None
    if step.fov_mm is None and (step.gradient_duration_s or step.gradient_max_t_per_m):
        encodings = [phase_encoding(fid, d, duration_s=step.gradient_duration_s,
                                    gradient_max_t_per_m=step.gradient_max_t_per_m)
                     for d in fid.dims]
    image = reconstruct_csi(fid, encodings, fov_mm=step.fov_mm, window=step.k_window,
                            zero_fill=step.zero_fill,
                            line_broadening_hz=step.line_broadening_hz)
    windows = {name: (bounds[0], bounds[1]) for name, bounds in step.windows.items()}
    noise = (step.noise_window[0], step.noise_window[1])
    return csi_profiles(image, windows, noise_window=noise)
