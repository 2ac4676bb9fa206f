"""Synthetic Raman maps of a LiCoO2–argyrodite composite cathode before and after charge.

Not part of the package: a deterministic generator, in the style of ``generate.py``, of two
Renishaw WiRE ``.wdf`` maps (:func:`writers.wdf.write_wdf`) with their ground truth, for the
Raman band-map, decomposition and clustering analysis (``specssb.fitting.raman``) and its tests.

The sample: LiCoO2 (LCO) particles (discs of 2.5–4.5 µm radius) in a Li6PS5Cl matrix, mapped
on a 32 × 24 grid of 1 µm steps at 532 nm, 200–800 cm-1 (1 cm-1 steps, stored in decreasing
order as WiRE does). Each pixel mixes LCO (volume fraction ``lco_fraction``, partial volume
at particle edges over 1 µm) and electrolyte (``1 − lco_fraction``).

Bands (Lorentzians, areas ``π/2 · height · fwhm``):

=================  ===========================  ============  ==============================
band               centre, cm-1                 FWHM, cm-1    height, counts
=================  ===========================  ============  ==============================
LCO Eg             485 − 2 × soc                18            1800 f (1 − 0.6 soc)
LCO A1g            595 − 9 × soc                14            2800 f (1 − 0.3 soc)
PS4(3-) ν1         425                          9             3000 (1 − f)(1 − 0.4 b)
P2S7(4-)           407                          10            900 b
Li2S               374                          8             700 b
=================  ===========================  ============  ==============================

``soc`` is the local state of charge (0 discharged … 1 charged; the A1g downshift of
9 cm-1 and the intensity losses are a synthetic model in the direction reported for
delithiated Li1-xCoO2 — Baddour-Hadjean & Pereira-Ramos, Chem. Rev. 110, 1278 (2010) — not
literature numbers). ``b`` is the interphase amount (0 … 1).

* **Before charge** (``..._before.wdf``): soc = 0 everywhere, no interphase.
* **After charge** (``..._after.wdf``): particles in contact with the electrolyte network
  charge to soc ≈ 0.9 (± 0.03 from pixel to pixel); two *unreacted* particles (electronically
  isolated) stay at soc = 0.05, so their A1g band stays at the discharged position. Around
  the reacted particles an interphase (Li2S + P2S7(4-), PS4(3-) consumed) grows in a shell
  of 1.5 µm at the particle boundary (``boundary``).

Background and artefacts: a fluorescence background ``F · exp(−(shift − 200)/900)`` with F
varying smoothly over the map (600–2400 counts), a 150-count offset, Poisson noise on the
counts plus 5 counts of read noise, and cosmic-ray spikes (2 % of the pixels, one or two
channels, 2000–20000 counts) at recorded positions.

Ground truth (:func:`write_composite_maps` returns it; arrays are ``(ny, nx)``): grid,
fractions, masks, soc, every band's centre, height and area per map, the noise σ at the A1g
peak and the A1g signal-to-noise ratio ``snr_a1g`` (height / σ), and the spike list.
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

from writers.wdf import write_wdf  # noqa: E402

__all__ = ["BANDS", "SEED", "make_composite_maps", "write_composite_maps"]

SEED = 20260307
NX, NY, STEP_UM = 32, 24, 1.0
SHIFT = np.linspace(800.0, 200.0, 601)  # cm-1, decreasing as WiRE stores it
LASER_NM = 532.0
SAMPLE = "cell02 LiCoO2|Li6PS5Cl composite cathode"
START = dt.datetime(2026, 3, 7, 9, 0, 0, tzinfo=dt.UTC)

#: band -> (centre at soc 0, centre shift per unit soc, FWHM), cm-1
BANDS: dict[str, tuple[float, float, float]] = {
    "lco_eg": (485.0, -2.0, 18.0),
    "lco_a1g": (595.0, -9.0, 14.0),
    "ps4": (425.0, 0.0, 9.0),
    "p2s7": (407.0, 0.0, 10.0),
    "li2s": (374.0, 0.0, 8.0),
}
HEIGHTS = {"lco_eg": 1800.0, "lco_a1g": 2800.0, "ps4": 3000.0, "p2s7": 900.0, "li2s": 700.0}
#: particles: (x µm, y µm, radius µm, unreacted after charge)
PARTICLES = (
    (6.0, 6.0, 4.0, False), (17.0, 5.0, 3.5, True), (27.0, 7.0, 3.0, False),
    (8.0, 17.0, 3.5, False), (19.0, 16.0, 4.5, False), (28.5, 18.0, 3.0, True),
)
SOC_CHARGED, SOC_UNREACTED = 0.9, 0.05
SHELL_UM = 1.5
READ_NOISE = 5.0
OFFSET = 150.0


def _lorentzian(x: np.ndarray, center: np.ndarray, fwhm: float, height: np.ndarray) -> np.ndarray:
    return height[..., None] / (1.0 + ((x - center[..., None]) / (fwhm / 2.0)) ** 2)


def _geometry() -> dict[str, np.ndarray]:
    x_um, y_um = np.arange(NX) * STEP_UM, np.arange(NY) * STEP_UM
    yy, xx = np.meshgrid(y_um, x_um, indexing="ij")
    lco = np.zeros((NY, NX))
    unreacted = np.zeros((NY, NX), bool)
    shell = np.zeros((NY, NX))
    particle_id = np.full((NY, NX), -1)
    for k, (cx, cy, radius, isolated) in enumerate(PARTICLES):
        distance = np.hypot(xx - cx, yy - cy)
        inside = np.clip(radius - distance + 0.5, 0.0, 1.0)  # partial volume over 1 µm
        particle_id[inside > 0.5] = k
        lco = np.maximum(lco, inside)
        if isolated:
            unreacted |= inside > 0.5
        else:  # interphase grows in a shell at the boundary of particles that reacted
            shell = np.maximum(shell, np.clip(1.0 - np.abs(distance - radius) / SHELL_UM, 0.0, 1.0))
    return {"x_um": x_um, "y_um": y_um, "lco_fraction": lco, "unreacted": unreacted,
            "interphase": shell * (1.0 - 0.5 * lco), "particle": particle_id}


def _fluorescence(rng: np.random.Generator) -> np.ndarray:
    """Smooth amplitude map (600–2400 counts) from a few random Fourier modes."""
    yy, xx = np.mgrid[0:NY, 0:NX]
    field = np.zeros((NY, NX))
    for _ in range(4):
        kx, ky = rng.uniform(0.05, 0.2, 2)
        phase = rng.uniform(0, 2 * np.pi)
        field += np.cos(2 * np.pi * (kx * xx + ky * yy) + phase)
    field = (field - field.min()) / (field.max() - field.min())
    return 600.0 + 1800.0 * field


def make_composite_maps(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """The two maps (counts) and their ground truth.

    Returns
    -------
    shift : ndarray of shape (601,), cm-1 (decreasing)
    before, after : ndarray of shape (NY, NX, 601), counts
    truth : dict
        ``x_um``, ``y_um``; ``lco_fraction``, ``unreacted`` (bool), ``boundary`` (bool:
        interphase > 0.2), ``interphase``, ``particle`` (index or −1); ``fluorescence``; and for
        ``"before"`` and ``"after"`` each: ``soc``, ``center``/``height``/``area`` dicts by band
        name, ``noise_a1g`` (σ at the A1g peak, counts), ``snr_a1g``, ``spikes`` (list of
        (iy, ix, channel, counts)), ``clean`` (the spectra without noise and spikes).
    """
    rng = np.random.default_rng(seed)
    geometry = _geometry()
    lco, unreacted, interphase = geometry["lco_fraction"], geometry["unreacted"], geometry["interphase"]
    fluorescence = _fluorescence(rng)
    background = OFFSET + fluorescence[..., None] * np.exp(-(SHIFT - 200.0) / 900.0)
    truth: dict[str, Any] = {**geometry, "boundary": interphase > 0.2, "fluorescence": fluorescence,
                             "shift": SHIFT, "bands": BANDS}
    maps = []
    for state in ("before", "after"):
        if state == "before":
            soc = np.zeros((NY, NX))
            amount = np.zeros((NY, NX))
        else:
            soc = np.where(unreacted, SOC_UNREACTED, SOC_CHARGED + rng.normal(0, 0.03, (NY, NX)))
            soc = np.where(lco > 0, np.clip(soc, 0.0, 1.0), 0.0)
            amount = interphase
        heights = {
            "lco_eg": HEIGHTS["lco_eg"] * lco * (1 - 0.6 * soc),
            "lco_a1g": HEIGHTS["lco_a1g"] * lco * (1 - 0.3 * soc),
            "ps4": HEIGHTS["ps4"] * (1 - lco) * (1 - 0.4 * amount),
            "p2s7": HEIGHTS["p2s7"] * amount,
            "li2s": HEIGHTS["li2s"] * amount,
        }
        centers = {name: np.full((NY, NX), c0) + slope * soc for name, (c0, slope, _) in BANDS.items()}
        clean = background.copy()
        for name, (_, _, fwhm) in BANDS.items():
            clean += _lorentzian(SHIFT, centers[name], fwhm, heights[name])
        counts = rng.poisson(clean).astype(float) + rng.normal(0.0, READ_NOISE, clean.shape)
        spikes = []
        for flat in rng.choice(NX * NY, size=int(round(0.02 * NX * NY)), replace=False):
            iy, ix = divmod(int(flat), NX)
            channel = int(rng.integers(5, SHIFT.size - 6))
            height = float(rng.uniform(2000.0, 20000.0))
            width = int(rng.integers(1, 3))
            counts[iy, ix, channel : channel + width] += height
            spikes.append((iy, ix, channel, round(height, 3)))
        a1g_peak = np.take_along_axis(
            clean, np.abs(SHIFT[None, None, :] - centers["lco_a1g"][..., None]).argmin(-1)[..., None], -1)[..., 0]
        noise = np.sqrt(a1g_peak + READ_NOISE**2)
        truth[state] = {
            "soc": soc, "center": centers, "height": heights,
            "area": {n: np.pi / 2 * heights[n] * BANDS[n][2] for n in BANDS},
            "noise_a1g": noise, "snr_a1g": heights["lco_a1g"] / noise, "spikes": spikes, "clean": clean,
        }
        maps.append(counts)
    return SHIFT.copy(), maps[0], maps[1], truth


def write_composite_maps(out: Path | str, seed: int = SEED) -> dict[str, Any]:
    """Write ``raman/cell02_lco_lpscl_map_{before,after}.wdf`` under ``out``; return the truth.

    Returns
    -------
    dict
        The truth of :func:`make_composite_maps`, plus ``files``: ``{"before": Path,
        "after": Path}``.
    """
    shift, before, after, truth = make_composite_maps(seed)
    folder = Path(out) / "raman"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for hours, (state, data) in enumerate((("before", before), ("after", after))):
        path = folder / f"cell02_lco_lpscl_map_{state}.wdf"
        write_wdf(path, data, shift, axis_unit="raman_shift", laser_wavelength_nm=LASER_NM,
                  x_um=truth["x_um"], y_um=truth["y_um"],
                  title=f"{SAMPLE} map {state} charge", acquired_at=START + dt.timedelta(hours=12 * hours),
                  exposure_time_s=0.5, n_accumulations=1)
        files[state] = path
    truth["files"] = files
    return truth


if __name__ == "__main__":
    written = write_composite_maps(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print("\n".join(str(p) for p in written["files"].values()))
