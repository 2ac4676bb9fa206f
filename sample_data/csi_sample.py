"""Synthetic 7Li 1D chemical-shift imaging (CSI) of a Li | LLZO | Li symmetric cell.

Not part of the package: a deterministic generator, in the style of ``generate.py``, of
TopSpin-layout CSI experiments (:func:`writers.bruker.write_bruker_csi`) with their ground
truth, for the CSI analysis (``specssb.fitting.nmr.csi``) and its tests.

The cell, along the phase-encode gradient x (mm, 0 at the FOV centre)::

    bottom Li electrode  [-1.60, -0.90]   Knight-shifted Li metal, 258 ppm
    LLZO pellet          [-0.90,  0.90]   diamagnetic 7Li, 1 ppm
    top Li electrode     [ 0.90,  1.60]   Li metal, 258 ppm

After cycling: (1) a Li filament (dendrite) of 30 µm inside the LLZO at x = +0.30 mm, its
line at 262 ppm (microstructural Li resonates above bulk metal) and with a longer T2 than
bulk metal; (2) interfacial Li loss (stripping) of 30 % in the 0.375 mm of the bottom
electrode next to the LLZO. The metal "density" is the visible (skin-depth) metal per unit
length, as the images measure surface, not volume.

Acquisition: spin echo after a rectangular phase-encode gradient of δ = 0.5 ms, 64 steps
g_n = (n - 32) G_step (n = 0 … 63), G_step chosen for FOV = 1/(γ̄ G_step δ) = 4.0 mm
(γ̄(7Li) = 16.546 MHz/T → G_step = 3.0219 G/cm, max |g| = 96.7 G/cm = 64.5 % of a
150 G/cm probe); 7Li at BF1 = 155.5 MHz (9.4 T), carrier 100 ppm, SW 100 kHz, 512 complex
points, digital-filter delay GRPDLY = 76 points. Signal of step n::

    S_n(t) = Σ_c A_c e^{-TE/T2_c} ∫ρ_c(x) e^{-2πi k_n x} dx · e^{2πi ν_c t - π Δν_c t},
    k_n = γ̄ g_n δ

(box densities integrated analytically), plus complex Gaussian noise.

2D CSI (:func:`write_csi_2d`): the same cell imaged in the (y, x) plane, y across the stack
(the 1D axis above) and x along the electrode planes; two phase-encode gradients of
δ = 0.5 ms, 16 × 16 steps, FOV 4.0 mm (y) × 6.0 mm (x), written by
:func:`writers.bruker.write_bruker_csi_2d` (acqu3s = y, acqu2s = x). A Li filament of
60 µm × 60 µm cross-section sits in the LLZO at (y, x) = (+0.25, -0.75) mm: both are voxel
centres after 2× zero filling (Δy = 0.125 mm, Δx = 0.1875 mm), so the filament's voxel is
exact. ``S(k_y, k_x, t)`` of a rectangle is the product of two box transforms.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from writers.bruker import write_bruker_csi, write_bruker_csi_2d  # noqa: E402

__all__ = ["CELL", "CELL_2D", "box_k_space", "csi_ser", "write_csi_2d", "write_csi_session"]

SEED = 20260306
GAMMA_BAR_7LI_HZ_PER_T = 16.546e6
N_STEPS = 64
FOV_MM = 4.0
GRADIENT_DURATION_S = 0.5e-3
PROBE_MAX_G_PER_CM = 150.0
BF1_MHZ = 155.5
CARRIER_PPM = 100.0
SW_HZ = 100_000.0
N_POINTS = 512
GRPDLY = 76
SCALE = 2.0e5
NOISE = 60.0
ECHO_TIMES_S = (0.5e-3, 2.0e-3)
START = dt.datetime(2026, 3, 6, 9, 0, 0, tzinfo=dt.timezone.utc)

#: Geometry (mm), shifts (ppm), widths (Hz), T2 (s) and relative densities of the cell.
CELL: dict[str, Any] = {
    "bottom_electrode_mm": (-1.60, -0.90),
    "electrolyte_mm": (-0.90, 0.90),
    "top_electrode_mm": (0.90, 1.60),
    "metal": {"shift_ppm": 258.0, "fwhm_hz": 1500.0, "t2_s": 1.5e-3, "density": 1.0},
    "llzo": {"shift_ppm": 1.0, "fwhm_hz": 800.0, "t2_s": 5.0e-3, "density": 0.5},
    "filament": {"shift_ppm": 262.0, "fwhm_hz": 1500.0, "t2_s": 4.0e-3, "density": 2.0,
                 "center_mm": 0.30, "width_mm": 0.03},
    "loss": {"electrode": "bottom", "percent": 30.0, "layer_mm": (-1.275, -0.90)},
}


def gradient_step_g_per_cm() -> float:
    """G_step for FOV_MM: 1/(γ̄ FOV δ), in G/cm (1 G/cm = 0.01 T/m)."""
    return 1.0 / (GAMMA_BAR_7LI_HZ_PER_T * FOV_MM * 1e-3 * GRADIENT_DURATION_S) * 100.0


def gradients_g_per_cm() -> np.ndarray:
    """Phase-encode gradient of each step, acquisition order -N/2 … N/2-1 steps."""
    return (np.arange(N_STEPS) - N_STEPS // 2) * gradient_step_g_per_cm()


def box_k_space(k_per_m: np.ndarray, low_mm: float, high_mm: float) -> np.ndarray:
    """``∫_low^high exp(-2πi k x) dx`` (m) of a unit-density box, exactly."""
    a, b = low_mm * 1e-3, high_mm * 1e-3
    k = np.asarray(k_per_m, dtype=float)
    out = np.full(k.shape, b - a, dtype=complex)
    nonzero = k != 0
    kk = k[nonzero]
    out[nonzero] = (np.exp(-2j * np.pi * kk * a) - np.exp(-2j * np.pi * kk * b)) / (2j * np.pi * kk)
    return out


def csi_ser(
    boxes: list[tuple[float, float, float, dict[str, float]]],
    k_per_m: np.ndarray,
    *,
    echo_time_s: float,
    rng: np.random.Generator | None = None,
    noise: float = NOISE,
    grpdly: int = GRPDLY,
) -> np.ndarray:
    """The recorded ser (steps × points) of density boxes ``(low_mm, high_mm, density, line)``.

    ``line`` holds shift_ppm, fwhm_hz and t2_s. The digital filter delays every FID by
    ``grpdly`` points (circular, as in ``generate.make_nmr``). Values are rounded like an
    integer receiver.
    """
    sfo1 = BF1_MHZ + CARRIER_PPM * BF1_MHZ * 1e-6
    t = np.arange(N_POINTS) / SW_HZ
    ser = np.zeros((k_per_m.size, N_POINTS), dtype=complex)
    for low, high, density, line in boxes:
        offset_hz = (line["shift_ppm"] - CARRIER_PPM) * sfo1
        decay = np.exp(2j * np.pi * offset_hz * t - np.pi * line["fwhm_hz"] * t)
        weight = density * np.exp(-echo_time_s / line["t2_s"]) * 1e3  # per mm of density
        ser += weight * box_k_space(k_per_m, low, high)[:, None] * decay[None, :]
    ser *= SCALE
    if rng is not None:
        ser += rng.normal(0, noise, ser.shape) + 1j * rng.normal(0, noise, ser.shape)
    ser = np.roll(ser, grpdly, axis=-1)
    return np.round(ser.real, 3) + 1j * np.round(ser.imag, 3)


def cell_boxes(cycled: bool) -> list[tuple[float, float, float, dict[str, float]]]:
    """Density boxes of the pristine or cycled cell."""
    metal, llzo, fil, loss = CELL["metal"], CELL["llzo"], CELL["filament"], CELL["loss"]
    low, high = CELL["bottom_electrode_mm"]
    boxes = [(*CELL["electrolyte_mm"], llzo["density"], llzo),
             (*CELL["top_electrode_mm"], metal["density"], metal)]
    if not cycled:
        return boxes + [(low, high, metal["density"], metal)]
    lost_low, lost_high = loss["layer_mm"]
    kept = metal["density"] * (1.0 - loss["percent"] / 100.0)
    half = fil["width_mm"] / 2.0
    return boxes + [(low, lost_low, metal["density"], metal), (lost_low, lost_high, kept, metal),
                    (fil["center_mm"] - half, fil["center_mm"] + half, fil["density"], fil)]


def write_csi_session(out: str | Path, *, seed: int = SEED) -> dict[str, dict[str, Any]]:
    """Write the pristine and cycled 1D-CSI experiments under ``out``; return the ground truth.

    Experiments (TopSpin EXPNOs of one data set ``nmr/cell02_7Li_csi``): ``1`` pristine at
    TE = 0.5 ms, ``2`` cycled at TE = 0.5 ms, ``3`` cycled at TE = 2.0 ms (for T2).

    Returns
    -------
    dict
        Relative experiment path → truth (state, echo time, FOV, voxel, gradients, the cell
        geometry, filament position, loss percentage and region, T2 of each component).
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    gradients = gradients_g_per_cm()
    k = GAMMA_BAR_7LI_HZ_PER_T * gradients * 1e-2 * GRADIENT_DURATION_S
    sfo1 = BF1_MHZ + CARRIER_PPM * BF1_MHZ * 1e-6
    common = {
        "fov_mm": FOV_MM, "voxel_mm": FOV_MM / N_STEPS, "n_steps": N_STEPS,
        "gradient_step_g_per_cm": gradient_step_g_per_cm(),
        "gradient_duration_s": GRADIENT_DURATION_S, "probe_max_g_per_cm": PROBE_MAX_G_PER_CM,
        "noise_window_ppm": (-200.0, -100.0),
        "cell": {key: value for key, value in CELL.items()},
        "filament_position_mm": CELL["filament"]["center_mm"],
        "interfacial_loss_percent": -CELL["loss"]["percent"],
        "loss_region_mm": CELL["loss"]["layer_mm"],
    }
    truth: dict[str, dict[str, Any]] = {}
    plan = [("1", False, ECHO_TIMES_S[0]), ("2", True, ECHO_TIMES_S[0]),
            ("3", True, ECHO_TIMES_S[1])]
    for number, (expno, cycled, te) in enumerate(plan):
        name = f"nmr/cell02_7Li_csi/{expno}"
        ser = csi_ser(cell_boxes(cycled), k, echo_time_s=te, rng=rng)
        state = "cycled" if cycled else "pristine"
        write_bruker_csi(
            out / name, ser, gradients_g_per_cm=gradients,
            gradient_duration_s=GRADIENT_DURATION_S, gradient_max_g_per_cm=PROBE_MAX_G_PER_CM,
            nucleus="7Li", sfo1_mhz=sfo1, bf1_mhz=BF1_MHZ, sw_hz=SW_HZ,
            o1_hz=CARRIER_PPM * BF1_MHZ, acquired_at=START + dt.timedelta(hours=2 * number),
            title=f"cell02 Li|LLZO|Li 7Li 1D CSI, {state}, TE {te * 1e3:g} ms",
            echo_time_s=te, grpdly=float(GRPDLY))
        truth[name] = {"state": state, "echo_time_s": te, **common}
    return truth


# ------------------------------------------------------------------------------ 2D CSI
N_STEPS_2D = (16, 16)
FOV_2D_MM = (4.0, 6.0)
N_POINTS_2D = 256

#: The cell in the (y, x) plane (mm): rectangles ``(y_low, y_high, x_low, x_high)``.
CELL_2D: dict[str, Any] = {
    "bottom_electrode_mm": (-1.60, -0.90, -2.0, 2.0),
    "electrolyte_mm": (-0.90, 0.90, -2.0, 2.0),
    "top_electrode_mm": (0.90, 1.60, -2.0, 2.0),
    "metal": CELL["metal"],
    "llzo": CELL["llzo"],
    "filament": {"shift_ppm": 262.0, "fwhm_hz": 1500.0, "t2_s": 4.0e-3, "density": 4.0,
                 "center_mm": (0.25, -0.75), "width_mm": (0.06, 0.06)},
}


def gradients_2d_g_per_cm(n_steps: tuple[int, int] = N_STEPS_2D,
                          fov_mm: tuple[float, float] = FOV_2D_MM) -> tuple[np.ndarray, ...]:
    """(y, x) gradients of each step, -N/2 … N/2-1 steps of 1/(γ̄ FOV δ), in G/cm."""
    return tuple((np.arange(n) - n // 2) * 100.0 / (GAMMA_BAR_7LI_HZ_PER_T * f * 1e-3
                                                     * GRADIENT_DURATION_S)
                 for n, f in zip(n_steps, fov_mm))


def csi_ser_2d(
    rectangles: list[tuple[tuple[float, float, float, float], float, dict[str, float]]],
    k_y_per_m: np.ndarray,
    k_x_per_m: np.ndarray,
    *,
    echo_time_s: float,
    n_points: int = N_POINTS_2D,
    rng: np.random.Generator | None = None,
    noise: float = NOISE,
    grpdly: int = GRPDLY,
) -> np.ndarray:
    """The recorded 3D ser (y steps × x steps × points) of density rectangles.

    Each entry is ``((y_low, y_high, x_low, x_high), density, line)``; the signal per mm² of
    density, then as :func:`csi_ser` (digital-filter shift, receiver rounding).
    """
    sfo1 = BF1_MHZ + CARRIER_PPM * BF1_MHZ * 1e-6
    t = np.arange(n_points) / SW_HZ
    ser = np.zeros((k_y_per_m.size, k_x_per_m.size, n_points), dtype=complex)
    for (y_low, y_high, x_low, x_high), density, line in rectangles:
        offset_hz = (line["shift_ppm"] - CARRIER_PPM) * sfo1
        decay = np.exp(2j * np.pi * offset_hz * t - np.pi * line["fwhm_hz"] * t)
        weight = density * np.exp(-echo_time_s / line["t2_s"]) * 1e6  # per mm² of density
        plane = np.outer(box_k_space(k_y_per_m, y_low, y_high),
                         box_k_space(k_x_per_m, x_low, x_high))
        ser += weight * plane[..., None] * decay
    ser *= SCALE
    if rng is not None:
        ser += rng.normal(0, noise, ser.shape) + 1j * rng.normal(0, noise, ser.shape)
    ser = np.roll(ser, grpdly, axis=-1)
    return np.round(ser.real, 3) + 1j * np.round(ser.imag, 3)


def cell_rectangles_2d() -> list[tuple[tuple[float, float, float, float], float,
                                       dict[str, float]]]:
    """Density rectangles of the cycled cell in the (y, x) plane (electrodes, LLZO, filament)."""
    metal, llzo, fil = CELL_2D["metal"], CELL_2D["llzo"], CELL_2D["filament"]
    (yc, xc), (wy, wx) = fil["center_mm"], fil["width_mm"]
    return [(CELL_2D["electrolyte_mm"], llzo["density"], llzo),
            (CELL_2D["bottom_electrode_mm"], metal["density"], metal),
            (CELL_2D["top_electrode_mm"], metal["density"], metal),
            ((yc - wy / 2, yc + wy / 2, xc - wx / 2, xc + wx / 2), fil["density"], fil)]


def write_csi_2d(out: str | Path, *, seed: int = SEED, n_steps: tuple[int, int] = N_STEPS_2D,
                 fov_mm: tuple[float, float] = FOV_2D_MM, echo_time_s: float = 0.5e-3,
                 aqseq: int = 0) -> dict[str, dict[str, Any]]:
    """Write a 2D (y, x) CSI of the cycled Li|LLZO|Li cell under ``out``; return the truth.

    Parameters
    ----------
    out : str or Path
        Root folder; the experiment is ``nmr/cell02_7Li_csi2d/1``.
    seed : int
        Noise seed.
    n_steps : (int, int)
        Phase-encode steps (y, x).
    fov_mm : (float, float), mm
        Field of view (y, x); sets the gradient steps 1/(γ̄ FOV δ).
    echo_time_s : float, s
        Spin-echo time.
    aqseq : {0, 1}
        Bruker loop order written (0: x inner, 1: y inner); the read data do not depend on it.

    Returns
    -------
    dict
        Relative experiment path → truth: shape, dims, FOV, nominal voxel and zero-filled (2×)
        voxel step per dim, gradient steps (G/cm), gradient duration, filament centre (y, x),
        the cell rectangles, noise window.
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    g_y, g_x = gradients_2d_g_per_cm(n_steps, fov_mm)
    k_y, k_x = (GAMMA_BAR_7LI_HZ_PER_T * g * 1e-2 * GRADIENT_DURATION_S for g in (g_y, g_x))
    ser = csi_ser_2d(cell_rectangles_2d(), k_y, k_x, echo_time_s=echo_time_s, rng=rng)
    sfo1 = BF1_MHZ + CARRIER_PPM * BF1_MHZ * 1e-6
    name = "nmr/cell02_7Li_csi2d/1"
    write_bruker_csi_2d(
        out / name, ser, gradients_y_g_per_cm=g_y, gradients_x_g_per_cm=g_x,
        gradient_duration_s=GRADIENT_DURATION_S, gradient_max_g_per_cm=PROBE_MAX_G_PER_CM,
        nucleus="7Li", sfo1_mhz=sfo1, bf1_mhz=BF1_MHZ, sw_hz=SW_HZ,
        o1_hz=CARRIER_PPM * BF1_MHZ, acquired_at=START + dt.timedelta(hours=8),
        title=f"cell02 Li|LLZO|Li 7Li 2D CSI (y, x), cycled, TE {echo_time_s * 1e3:g} ms",
        echo_time_s=echo_time_s, grpdly=float(GRPDLY), aqseq=aqseq)
    truth = {
        "shape": (*n_steps, N_POINTS_2D), "dims": ("phase_encode_y", "phase_encode_x"),
        "fov_mm": tuple(fov_mm), "voxel_mm": tuple(f / n for f, n in zip(fov_mm, n_steps)),
        "voxel_step_mm_zero_fill_2": tuple(f / (2 * n) for f, n in zip(fov_mm, n_steps)),
        "gradient_step_g_per_cm": (float(g_y[1] - g_y[0]), float(g_x[1] - g_x[0])),
        "gradient_duration_s": GRADIENT_DURATION_S, "probe_max_g_per_cm": PROBE_MAX_G_PER_CM,
        "echo_time_s": echo_time_s, "aqseq": aqseq,
        "filament_position_mm": tuple(CELL_2D["filament"]["center_mm"]),
        "noise_window_ppm": (-200.0, -100.0),
        "cell": {key: value for key, value in CELL_2D.items()},
    }
    return {name: truth}
