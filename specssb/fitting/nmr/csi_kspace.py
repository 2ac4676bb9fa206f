"""Phase encoding for chemical-shift imaging: k-space positions, field of view, the centred
spatial Fourier transform, and the RF skin depth of a metal.

Acquisition model (a standard phase-encoded CSI, see the project's NMR notes §2): a gradient
pulse of fixed duration ``δ`` and stepped amplitude ``g_n`` precedes an acquisition without
gradient, so every FID keeps the whole chemical-shift spectrum and is one sample of k-space::

    S_n(t) = ∫ ρ(x, t) exp(-2πi k_n x) dx,        k_n = γ̄ g_n δ      (cycles/m)

with ``γ̄ = γ/2π`` (Hz/T). On a uniform grid ``k_n = (m_n + c) Δk`` (``m_n`` integers, ``c`` a
fractional offset, 0 when k = 0 is sampled) the image is

    ρ(x_j) = (1/M) Σ_n w(k_n) S_n exp(+2πi k_n x_j),    x_j = j Δx,  j = -M/2 … M/2-1

computed as ``fftshift(ifft(ifftshift(A)))`` of the array ``A`` that holds ``w·S`` at index
``m_n + M/2`` (k = 0 at the middle index, zeros elsewhere: zero filling to M points), times the
phase ramp ``exp(2πi c Δk x_j)`` for a grid that misses k = 0. Then

    FOV = 1/Δk = 1/(γ̄ · G_step · δ),     Δx = FOV/M   (nominal voxel FOV/N before zero fill)

and ``Σ_j ρ(x_j) = w(0) S_{k=0}``: the voxels share the total signal whatever the zero filling.
The sign of x follows the gradient's: a spectrometer or coil of the other handedness mirrors
the profile (``reverse=True`` in :func:`specssb.fitting.nmr.csi.reconstruct_csi`).

Gyromagnetic ratios γ̄ (MHz/T; CODATA 2018 / IUPAC 2001 nuclear values): 1H 42.577, 6Li 6.2661,
7Li 16.546, 19F 40.078, 23Na 11.262, 31P 17.235.

References
----------
P. T. Callaghan, *Principles of Nuclear Magnetic Resonance Microscopy*, Oxford (1991), ch. 3.
A. J. Ilott et al., "Visualizing skin effects in conductors with MRI", J. Magn. Reson. 245
(2014) 143 (arXiv 1403.6072).
S. Chandrashekar et al., "7Li MRI of Li batteries reveals location of microstructural lithium",
Nat. Mater. 11 (2012) 311.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Spectrum

__all__ = [
    "GAMMA_BAR_MHZ_PER_T",
    "LI_RESISTIVITY_OHM_M",
    "PhaseEncoding",
    "gamma_bar_hz_per_t",
    "k_space_window",
    "parse_gradient_list",
    "phase_encode_fov_mm",
    "phase_encoding",
    "skin_depth_m",
    "spatial_transform",
]

#: γ/2π of the nuclei met in battery imaging, MHz/T.
GAMMA_BAR_MHZ_PER_T: Mapping[str, float] = {
    "1H": 42.577, "6Li": 6.2661, "7Li": 16.546, "19F": 40.078, "23Na": 11.262, "31P": 17.235,
}

#: Electrical resistivity of Li metal at room temperature (Ω·m; CRC Handbook, 20 °C).
LI_RESISTIVITY_OHM_M = 9.28e-8

#: Vacuum permeability μ0 (H/m).
MU0 = 4.0e-7 * math.pi

#: Gradient units accepted in coordinates and list files, as T/m.
GRADIENT_UNITS: Mapping[str, float] = {"T/m": 1.0, "mT/m": 1e-3, "G/cm": 1e-2}

#: k-space windows: name -> w(u) for u = k / k_edge in [-1, 1] (w(0) = 1).
_WINDOWS = {
    "none": lambda u: np.ones_like(u),
    "hann": lambda u: 0.5 * (1.0 + np.cos(np.pi * u)),
    "hamming": lambda u: 0.54 + 0.46 * np.cos(np.pi * u),
    "gaussian": lambda u: np.exp(-0.5 * (u / 0.5) ** 2),  # σ = half the sampled half-width
}


def gamma_bar_hz_per_t(nucleus: str) -> float:
    """γ/2π of ``nucleus`` in Hz/T.

    Raises
    ------
    ConfigError
        For a nucleus not in :data:`GAMMA_BAR_MHZ_PER_T`.
    """
    try:
        return GAMMA_BAR_MHZ_PER_T[nucleus] * 1e6
    except KeyError:
        raise ConfigError(f"no gyromagnetic ratio for nucleus {nucleus!r}; known: "
                          f"{', '.join(GAMMA_BAR_MHZ_PER_T)} (or give fov_mm)",
                          key="nucleus") from None


def phase_encode_fov_mm(gradient_step_t_per_m: float, duration_s: float, nucleus: str) -> float:
    """Field of view of a phase-encoded dimension, ``FOV = 1/(γ̄ · G_step · δ)``, in mm.

    Parameters
    ----------
    gradient_step_t_per_m : float, T/m
        Gradient increment between consecutive phase-encode steps.
    duration_s : float, s
        Duration δ of the (rectangular) phase-encode gradient pulse.
    nucleus : str
        Observed nucleus, e.g. ``"7Li"``.

    Examples
    --------
    >>> round(phase_encode_fov_mm(1 / 32, 0.5e-3, "7Li"), 3)   # N=64, g_max = 1 T/m
    3.868
    """
    if not (gradient_step_t_per_m > 0 and duration_s > 0):
        raise ConfigError("gradient step and duration must be positive", key="gradient")
    return 1e3 / (gamma_bar_hz_per_t(nucleus) * gradient_step_t_per_m * duration_s)


def skin_depth_m(frequency_hz: float, resistivity_ohm_m: float = LI_RESISTIVITY_OHM_M) -> float:
    """RF skin depth of a non-magnetic conductor, ``δ = sqrt(2ρ/(ωμ0))``, in m.

    Examples
    --------
    >>> round(skin_depth_m(155.5e6) * 1e6, 1)      # Li metal at the 7Li frequency of 9.4 T
    12.3
    """
    if not (frequency_hz > 0 and resistivity_ohm_m > 0):
        raise ConfigError("frequency and resistivity must be positive", key="frequency")
    return math.sqrt(2.0 * resistivity_ohm_m / (2.0 * math.pi * frequency_hz * MU0))


@dataclass(frozen=True)
class PhaseEncoding:
    """One phase-encoded dimension: the k value of every acquired increment.

    Attributes
    ----------
    dim : str
        Leading dimension of the FID Spectrum it belongs to.
    k_per_m : ndarray of shape (n,)
        k = γ̄ g δ of each increment, in acquisition order (cycles/m).
    source : str
        Where the values came from (gradient list, GPZ ramp, fov_mm …), for the history.
    gradients_t_per_m : ndarray or None
        The gradient amplitudes (T/m) when known.
    duration_s : float or None
        Gradient pulse duration δ (s) when known.
    """

    dim: str
    k_per_m: np.ndarray
    source: str
    gradients_t_per_m: np.ndarray | None = None
    duration_s: float | None = None

    @property
    def n_steps(self) -> int:
        """Number of phase-encode steps acquired."""
        return int(self.k_per_m.size)

    @property
    def delta_k_per_m(self) -> float:
        """k-space step Δk (cycles/m), from the median spacing of the sorted k values."""
        steps = np.diff(np.sort(self.k_per_m))
        return float(np.median(steps[steps > 0]))

    @property
    def fov_mm(self) -> float:
        """Field of view 1/Δk in mm."""
        return 1e3 / self.delta_k_per_m

    @property
    def voxel_mm(self) -> float:
        """Nominal voxel FOV/N in mm (before zero filling and window broadening)."""
        return self.fov_mm / self.n_steps

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary for history steps and metadata."""
        out: dict[str, Any] = {"dim": self.dim, "n_steps": self.n_steps, "source": self.source,
                               "fov_mm": self.fov_mm, "voxel_mm": self.voxel_mm,
                               "delta_k_per_m": self.delta_k_per_m}
        if self.gradients_t_per_m is not None:
            steps = np.diff(np.sort(self.gradients_t_per_m))
            out["gradient_step_t_per_m"] = float(np.median(steps[steps > 0]))
            out["gradient_max_t_per_m"] = float(np.abs(self.gradients_t_per_m).max())
        if self.duration_s is not None:
            out["gradient_duration_s"] = self.duration_s
        return out


def phase_encoding(
    fid: Spectrum,
    dim: str | None = None,
    *,
    fov_mm: float | None = None,
    gradients_t_per_m: Sequence[float] | None = None,
    duration_s: float | None = None,
    gradient_max_t_per_m: float | None = None,
    gpz_index: int = 1,
) -> PhaseEncoding:
    """The k-space positions of one leading dimension of a CSI FID Spectrum.

    Sources, first match wins: ``fov_mm`` (k = (n - N/2)/FOV, acquisition order from the most
    negative step); ``gradients_t_per_m``; a gradient coordinate on ``dim`` (unit T/m, mT/m or
    G/cm, as the Bruker reader makes from a ``gradlist``); the ``gradlist`` text in
    ``raw_meta``; the acqus ``GPZ[gpz_index]`` percentage times the probe's
    ``gradient_max_t_per_m`` on the ramp ``(n - N/2)/(N/2)`` (TopSpin ``r1d``-style ramp).
    The gradient duration is ``duration_s`` or acqus ``P[16]`` (µs; Bruker's gradient-pulse
    length).

    Parameters
    ----------
    fid : Spectrum
        Raw CSI data, signal ``fid``, with the phase-encode dimension(s) leading.
    dim : str, optional
        The leading dimension; default the only one.
    fov_mm : float, optional, mm
        Field of view given explicitly.
    gradients_t_per_m : sequence of float, optional, T/m
        Gradient amplitude of every increment, in acquisition order.
    duration_s : float, optional, s
        Gradient pulse duration δ.
    gradient_max_t_per_m : float, optional, T/m
        Probe gradient at 100 % (its calibration), for the GPZ route.
    gpz_index : int, default 1
        Which GPZ entry drives the phase encoding.

    Returns
    -------
    PhaseEncoding

    Raises
    ------
    ConfigError
        When no source gives the gradients (name the missing option) or ``dim`` is unknown.
    """
    dim = _pick_dim(fid, dim)
    n = fid.leading_shape[fid.dims.index(dim)]
    centred = np.arange(n) - n // 2
    if fov_mm is not None:
        if not fov_mm > 0:
            raise ConfigError(f"fov_mm must be positive, got {fov_mm}", key="fov_mm")
        return PhaseEncoding(dim, centred * (1e3 / fov_mm), "fov_mm given")
    acqus = fid.raw_meta.get("acqus", {}) if isinstance(fid.raw_meta.get("acqus"), Mapping) else {}
    nucleus = fid.meta.get("nucleus")
    gradients, source = _gradients(fid, dim, n, gradients_t_per_m, gradient_max_t_per_m,
                                   gpz_index, acqus, centred)
    if duration_s is None:
        pulses = acqus.get("P")
        if isinstance(pulses, list) and len(pulses) > 16 and _positive(pulses[16]):
            duration_s = float(pulses[16]) * 1e-6
            source += "; duration acqus P[16]"
        else:
            raise ConfigError("no gradient duration: give duration_s (s) or fov_mm",
                              key="duration_s")
    if not _positive(duration_s):
        raise ConfigError(f"duration_s must be positive, got {duration_s}", key="duration_s")
    if not isinstance(nucleus, str):
        raise ConfigError("the FID has no meta['nucleus']; give fov_mm", key="nucleus")
    k = gamma_bar_hz_per_t(nucleus) * gradients * float(duration_s)
    return PhaseEncoding(dim, k, source, gradients, float(duration_s))


def _pick_dim(fid: Spectrum, dim: str | None) -> str:
    if dim is None:
        if len(fid.dims) != 1:
            raise ConfigError(f"the data have leading dims {fid.dims}; name the phase-encode "
                              "dim", key="dim")
        return fid.dims[0]
    if dim not in fid.dims:
        raise ConfigError(f"no leading dim {dim!r}; dims are {fid.dims}", key="dim")
    return dim


def _gradients(fid: Spectrum, dim: str, n: int, given: Sequence[float] | None,
               g_max: float | None, gpz_index: int, acqus: Mapping[str, Any],
               centred: np.ndarray) -> tuple[np.ndarray, str]:
    """Gradient amplitudes (T/m) of the ``n`` increments and where they came from."""
    if given is not None:
        values = np.asarray(given, dtype=float)
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise ConfigError(f"gradients_t_per_m needs {n} finite values, got shape "
                              f"{values.shape}", key="gradients_t_per_m")
        return values, "gradients given"
    for name, coord in fid.coords.items():
        if coord.dim == dim and coord.unit in GRADIENT_UNITS:
            return np.asarray(coord.values, float) * GRADIENT_UNITS[coord.unit], \
                f"coordinate {name!r} ({coord.unit})"
    text = fid.raw_meta.get("gradlist")
    if isinstance(text, str):
        values, unit = parse_gradient_list(text)
        if values.size >= n:
            return values[:n] * GRADIENT_UNITS[unit], f"gradlist ({unit})"
    gpz = acqus.get("GPZ")
    if g_max is not None and isinstance(gpz, list) and len(gpz) > gpz_index \
            and _positive(gpz[gpz_index]):
        ramp = centred / (n / 2.0)
        return ramp * float(gpz[gpz_index]) / 100.0 * float(g_max), \
            f"GPZ[{gpz_index}]={gpz[gpz_index]} % of {g_max} T/m on a -1 … 1 ramp"
    raise ConfigError("no phase-encode gradients found (no gradient coordinate or gradlist; "
                      "the GPZ route needs gradient_max_t_per_m): give fov_mm, "
                      "gradients_t_per_m or gradient_max_t_per_m", key="gradients_t_per_m")


def parse_gradient_list(text: str) -> tuple[np.ndarray, str]:
    """Values and unit of a gradient list: one amplitude per line; ``#``/``;`` comment lines,
    one of which may name the unit (``# unit: G/cm``; default G/cm as TopSpin's difflist).

    Raises
    ------
    ConfigError
        For a line that is not a number or an unknown unit.
    """
    unit = "G/cm"
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if entry.startswith(("#", ";")):
            found = re.search(r"unit\s*[:=]\s*(\S+)", entry, re.I)
            if found:
                unit = found.group(1)
                if unit not in GRADIENT_UNITS:
                    raise ConfigError(f"gradient list line {number}: unknown unit {unit!r} "
                                      f"(known {', '.join(GRADIENT_UNITS)})", key="gradlist")
            continue
        if not entry:
            continue
        try:
            values.append(float(entry))
        except ValueError:
            raise ConfigError(f"gradient list line {number}: {entry[:40]!r} is not a number",
                              key="gradlist") from None
    return np.asarray(values, dtype=float), unit


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value > 0


# ------------------------------------------------------------------------------ transform
def k_space_window(k_per_m: np.ndarray, delta_k: float, n_steps: int,
                   window: str = "hamming") -> np.ndarray:
    """Apodization weight of each k value, centred on k = 0 (w(0) = 1).

    ``u = k / k_edge`` with ``k_edge = N Δk / 2`` (half the sampled span): Hann reaches 0 and
    Hamming 0.08 at the most negative step of a -N/2 … N/2-1 grid.

    Raises
    ------
    ConfigError
        For an unknown window name.
    """
    if window not in _WINDOWS:
        raise ConfigError(f"unknown k-space window {window!r}; choose from {list(_WINDOWS)}",
                          key="window")
    u = np.clip(np.asarray(k_per_m) / (n_steps * delta_k / 2.0), -1.0, 1.0)
    return _WINDOWS[window](u)


@dataclass(frozen=True)
class _Grid:
    """Integer k indices, fractional offset and zero-filled size of one dimension."""

    index: np.ndarray   # m_n + M/2: where each acquired row goes
    offset: float       # c in k = (m + c) Δk
    size: int           # M
    delta_k: float


def _grid(encoding: PhaseEncoding, zero_fill: int) -> _Grid:
    k = encoding.k_per_m
    if k.size < 2:
        raise FitError(f"phase encoding along {encoding.dim!r} needs at least 2 steps")
    delta_k = encoding.delta_k_per_m
    scaled = k / delta_k
    offset = float(np.angle(np.mean(np.exp(2j * np.pi * scaled))) / (2 * np.pi))  # in (-½, ½]
    m = np.round(scaled - offset).astype(int)
    deviation = float(np.max(np.abs(scaled - offset - m)))
    if deviation > 1e-3:
        raise FitError(f"the k values along {encoding.dim!r} are not on a uniform grid "
                       f"(deviation {deviation:.3g} Δk)")
    if np.unique(m).size != m.size:
        raise FitError(f"repeated k values along {encoding.dim!r}: average them first")
    size = int(zero_fill) * encoding.n_steps
    while size // 2 < -int(np.min(m)) or size - 1 - size // 2 < int(np.max(m)):
        size += 1  # k = 0 at index M//2: every acquired m must fit around it
    return _Grid(m + size // 2, offset, size, delta_k)


def spatial_transform(
    data: np.ndarray, encodings: Sequence[PhaseEncoding], *, window: str = "hamming",
    zero_fill: int = 2,
) -> tuple[np.ndarray, list[np.ndarray], list[dict[str, Any]]]:
    """k-space rows → voxels along the leading axes of ``data`` (one per encoding).

    Parameters
    ----------
    data : ndarray of shape (n_1, [n_2,] n_points)
        Rows in acquisition order (any last-axis content: FID or spectrum).
    encodings : sequence of PhaseEncoding
        One per leading axis, in axis order.
    window : str
        k-space apodization (``hamming``, ``hann``, ``gaussian``, ``none``).
    zero_fill : int, default 2
        Zero-filled size M = zero_fill × N along each encoded axis (at least 1).

    Returns
    -------
    voxels : ndarray of shape (M_1, [M_2,] n_points)
        ``Σ_voxels = w(0) S(k=0)`` (voxel intensities share the total signal).
    positions_mm : list of ndarray
        Voxel centres x_j = j FOV/M, j = -M/2 … M/2-1 (mm), per axis.
    info : list of dict
        Per axis: FOV, voxel, zero-filled size, k offset, window.
    """
    if zero_fill < 1:
        raise ConfigError(f"zero_fill must be >= 1, got {zero_fill}", key="zero_fill")
    grids = [_grid(e, zero_fill) for e in encodings]
    shape = tuple(g.size for g in grids) + data.shape[len(grids):]
    filled = np.zeros(shape, dtype=complex)
    weights = np.ones(data.shape[:len(grids)])
    for axis, (encoding, grid) in enumerate(zip(encodings, grids)):
        w = k_space_window(encoding.k_per_m, grid.delta_k, encoding.n_steps, window)
        weights = weights * w.reshape([-1 if a == axis else 1 for a in range(len(grids))])
    target = np.ix_(*[g.index for g in grids])
    filled[target] = data * weights[(...,) + (None,) * (data.ndim - len(grids))]
    axes = tuple(range(len(grids)))
    voxels = np.fft.fftshift(np.fft.ifftn(np.fft.ifftshift(filled, axes=axes), axes=axes),
                             axes=axes)
    positions, info = [], []
    for axis, (encoding, grid) in enumerate(zip(encodings, grids)):
        x_m = (np.arange(grid.size) - grid.size // 2) / (grid.size * grid.delta_k)
        if grid.offset:
            ramp = np.exp(2j * np.pi * grid.offset * grid.delta_k * x_m)
            voxels = voxels * ramp.reshape([-1 if a == axis else 1 for a in range(voxels.ndim)])
        positions.append(x_m * 1e3)
        info.append({**encoding.describe(), "zero_filled_size": grid.size,
                     "voxel_step_mm": 1e3 / (grid.size * grid.delta_k),
                     "k_offset_steps": grid.offset, "window": window})
    return voxels, positions, info

