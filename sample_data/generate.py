"""Generate the sample operando session in real instrument formats (deterministic, seeded).

The session: an all-solid-state cell ``cell01`` (NMC811 | Li6PS5Cl | Li-In) cycled twenty times
(galvanostatic, 0.1 mA between 3.0 and 4.3 V) while it was measured by four techniques. The
sulfide electrolyte decomposes at the interfaces as it cycles: the Li2S and Li3P fractions grow,
and Li metal microstructures appear at the anode. The ground truth written to ``truth.json``
lets later issues check that fitting recovers what was put in.

Run ``python sample_data/generate.py`` (or ``make sample-data``); the output is committed and a
test regenerates it and checks the bytes are identical.

Physical values used (see ``../shared/notes/``): S 2p3/2 of PS4^3- 161.7 eV and of Li2S
160.2 eV (spin-orbit splitting 1.18 eV, 2:1), P 2p3/2 of PS4^3- 132.0 eV and of Li3P 127.0 eV
(0.87 eV, 2:1), adventitious C 1s 284.8 eV; S K-edge e0 2472 eV; 7Li Knight shift of Li metal
258 ppm; PS4^3- Raman band 425 cm-1 and Li2S 372 cm-1.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from writers.biologic import write_biologic_mpt  # noqa: E402
from writers.bruker import write_bruker_1d  # noqa: E402
from writers.jcamp import write_jcamp_nmr  # noqa: E402
from writers.sif import write_sif  # noqa: E402
from csi_sample import write_csi_session  # noqa: E402
from raman_sample import write_composite_maps  # noqa: E402
from writers.vamas import write_vamas  # noqa: E402
from writers.xdi import write_xdi  # noqa: E402

SEED = 20260302
START = dt.datetime(2026, 3, 2, 8, 0, 0, tzinfo=dt.UTC)  # cycler clock is on UTC
CYCLE_HOURS = 10.0  # one charge + one discharge at C/10 on a 1 mAh cell
N_CYCLES = 20
JCAMP_EXPORT_CYCLE = 10  # the 7Li spectrum also exported as JCAMP-DX
SAMPLE = "cell01 NMC811|Li6PS5Cl|Li-In"

#: Fraction of the electrolyte's sulfur found as Li2S after n cycles (the interphase grows).
def li2s_fraction(cycle: int) -> float:
    return 0.05 + 0.25 * (1.0 - np.exp(-cycle / 4.0))


def li3p_fraction(cycle: int) -> float:
    return 0.02 + 0.12 * (1.0 - np.exp(-cycle / 4.0))


def li_metal_amplitude(cycle: int) -> float:
    return 0.0 if cycle == 0 else 0.02 * cycle


def acquired(cycle: int, minutes: float = 0.0) -> dt.datetime:
    """Spectra are measured at the end of each cycle's discharge (cycle 0: before cycling)."""
    hours = cycle * CYCLE_HOURS
    return START + dt.timedelta(hours=hours, minutes=minutes)


# ------------------------------------------------------------------------------- XPS
def gl(x: np.ndarray, center: float, fwhm: float, m: float = 30.0) -> np.ndarray:
    """CasaXPS GL(m) of unit height (product form), the line shape the XPS recipes fit:
    ``exp(-4 ln2 (1 - m/100) u²) / (1 + 4 (m/100) u²)`` with ``u = (x - center) / fwhm``."""
    u2 = ((x - center) / fwhm) ** 2
    return np.exp(-4.0 * np.log(2.0) * (1.0 - m / 100.0) * u2) / (1.0 + 4.0 * (m / 100.0) * u2)


def doublet(x: np.ndarray, center: float, split: float, fwhm: float) -> np.ndarray:
    return gl(x, center, fwhm) + 0.5 * gl(x, center + split, fwhm)


def shirley_like(x: np.ndarray, peaks: np.ndarray, step: float) -> np.ndarray:
    """A background rising towards high binding energy in proportion to the peak area above."""
    order = np.argsort(x)
    cumulative = np.cumsum(peaks[order])
    background = np.empty_like(x)
    background[order] = step * cumulative / cumulative[-1]
    return background


def xps_block(region: str, element: str, transition: str, be: np.ndarray, signal: np.ndarray,
              cycle: int, minutes: float, rng: np.random.Generator, *, offset: float) -> dict:
    hv, phi = 1486.6, 4.5
    counts = rng.poisson(offset + signal).astype(float)
    # Analysers store KE referenced to the spectrometer (work function already applied):
    # BE = hv - KE, as Prodigy, CasaXPS and Kratos files show (see parsers/xps_vamas.py).
    ke = hv - be  # be decreasing -> ke increasing, as the analyser scans
    return {
        "region": region,
        "element": element,
        "transition": transition,
        "sample": SAMPLE,
        "acquired_at": acquired(cycle, minutes),
        "excitation_energy_ev": hv,
        "source_label": "Al Ka mono",
        "analyser_mode": "FAT",
        "pass_energy_ev": 20.0,
        "work_function_ev": phi,
        "kinetic_energy_start_ev": float(ke[0]),
        "step_ev": float(ke[1] - ke[0]),
        "counts": counts,
        "dwell_time_s": 0.1,
        "n_scans": 10,
        "comment": f"cycle {cycle}, after discharge to 3.0 V; transferred under Ar",
    }


def surface_carbonate(cycle: int) -> float:
    """Li2CO3 left on the NMC811 particle surfaces, relative to the pristine cell: the
    carbonate is oxidized above ~4.2 V during the first charges, then a remnant stays."""
    return 0.25 + 0.75 * np.exp(-cycle / 3.0)


def binder_lif(cycle: int) -> float:
    """LiF from the PVDF binder of the composite cathode, relative units (grows slowly)."""
    return 0.1 + 0.5 * (1.0 - np.exp(-cycle / 6.0))


def area_fractions(heights: dict[str, float], fwhm: dict[str, float]) -> dict[str, float]:
    """Each line's share of the region's peak area (same line shape: area ∝ height × FWHM)."""
    areas = {name: heights[name] * fwhm[name] for name in heights}
    total = sum(areas.values())
    return {name: area / total for name, area in areas.items()}


def singlets(be: np.ndarray, heights: dict[str, float], centers: dict[str, float],
             fwhm: dict[str, float]) -> np.ndarray:
    return sum(heights[name] * gl(be, centers[name], fwhm[name]) for name in heights)


def make_xps(cycle: int, rng: np.random.Generator) -> tuple[list[dict], dict]:
    """The five core levels measured after every cycle, in the order the analyser took them.

    S 2p and P 2p carry the argyrodite's decomposition (Li2S, Li3P); C 1s, O 1s and Li 1s the
    cathode surface: Li2CO3 on NMC811 is oxidized away over the first cycles while LiF from
    the PVDF binder grows. The truth fractions are shares of each region's peak area.
    """
    be_s = np.round(np.arange(170.0, 155.0 - 1e-9, -0.1), 3)
    f_li2s = li2s_fraction(cycle)
    s_peaks = 4000.0 * ((1 - f_li2s) * doublet(be_s, 161.7, 1.18, 1.1) + f_li2s * doublet(be_s, 160.2, 1.18, 1.0))
    s_signal = s_peaks + shirley_like(-be_s, s_peaks, 300.0)
    be_p = np.round(np.arange(138.0, 123.0 - 1e-9, -0.1), 3)
    f_li3p = li3p_fraction(cycle)
    p_peaks = 2500.0 * ((1 - f_li3p) * doublet(be_p, 132.0, 0.87, 1.1) + f_li3p * doublet(be_p, 127.0, 0.87, 1.2))
    p_signal = p_peaks + shirley_like(-be_p, p_peaks, 150.0)

    carbonate = surface_carbonate(cycle)
    be_c = np.round(np.arange(294.0, 280.0 - 1e-9, -0.1), 3)
    c_h = {"c_c": 1500.0, "c_o": 300.0, "o_c_o": 150.0, "li2co3": 500.0 * carbonate}
    c_x = {"c_c": 284.8, "c_o": 286.3, "o_c_o": 288.8, "li2co3": 289.9}
    c_w = dict.fromkeys(c_h, 1.3)
    c_peaks = singlets(be_c, c_h, c_x, c_w)
    c_signal = c_peaks + shirley_like(-be_c, c_peaks, 80.0)

    be_o = np.round(np.arange(538.0, 524.0 - 1e-9, -0.1), 3)
    o_h = {"lattice_oxide": 1800.0, "carbonate_hydroxide": 2200.0 * carbonate}
    o_x = {"lattice_oxide": 529.2, "carbonate_hydroxide": 531.3}
    o_w = {"lattice_oxide": 1.1, "carbonate_hydroxide": 1.5}
    o_peaks = singlets(be_o, o_h, o_x, o_w)
    o_signal = o_peaks + shirley_like(-be_o, o_peaks, 200.0)

    be_li = np.round(np.arange(62.0, 48.0 - 1e-9, -0.1), 3)
    li_h = {"li2o": 300.0, "li2co3": 900.0 * carbonate, "lif": 900.0 * binder_lif(cycle)}
    li_x = {"li2o": 53.85, "li2co3": 55.25, "lif": 56.1}
    li_w = dict.fromkeys(li_h, 1.3)
    li_signal = singlets(be_li, li_h, li_x, li_w)  # no inelastic step under Li 1s (see recipe)

    blocks = [
        xps_block("S 2p", "S", "2p", be_s, s_signal, cycle, 5, rng, offset=800.0),
        xps_block("P 2p", "P", "2p", be_p, p_signal, cycle, 20, rng, offset=500.0),
        xps_block("C 1s", "C", "1s", be_c, c_signal, cycle, 35, rng, offset=400.0),
        xps_block("O 1s", "O", "1s", be_o, o_signal, cycle, 50, rng, offset=600.0),
        xps_block("Li 1s", "Li", "1s", be_li, li_signal, cycle, 65, rng, offset=300.0),
    ]
    c_fraction = area_fractions(c_h, c_w)
    o_fraction = area_fractions(o_h, o_w)
    li_fraction = area_fractions(li_h, li_w)
    truth = {"li2s_fraction_of_S": round(f_li2s, 6), "li3p_fraction_of_P": round(f_li3p, 6),
             "li2co3_fraction_of_C1s": round(c_fraction["li2co3"], 6),
             "carbonate_hydroxide_fraction_of_O1s": round(o_fraction["carbonate_hydroxide"], 6),
             "li2co3_fraction_of_Li1s": round(li_fraction["li2co3"], 6),
             "lif_fraction_of_Li1s": round(li_fraction["lif"], 6),
             "li2o_fraction_of_Li1s": round(li_fraction["li2o"], 6),
             "charge_reference_c1s_ev": 284.8}
    return blocks, truth


# ------------------------------------------------------------------------------- XAS
def sulfur_k_mu(energy: np.ndarray, f_li2s: float) -> np.ndarray:
    """Normalized S K-edge: argyrodite (white line 2472.6 eV) mixed with Li2S (2471.4, 2475.9)."""
    def edge(e0: float, width: float) -> np.ndarray:
        return 0.5 + np.arctan((energy - e0) / width) / np.pi

    def line(center: float, width: float) -> np.ndarray:
        return np.exp(-0.5 * ((energy - center) / width) ** 2)

    argyrodite = edge(2472.0, 0.8) + 1.6 * line(2472.6, 0.9) + 0.3 * line(2480.0, 3.0)
    li2s = edge(2471.0, 0.8) + 1.1 * line(2471.4, 0.8) + 0.7 * line(2475.9, 1.5)
    return (1 - f_li2s) * argyrodite + f_li2s * li2s


def make_xas(cycle: int, rng: np.random.Generator) -> tuple[dict, dict]:
    energy = np.round(np.concatenate([
        np.arange(2420.0, 2462.0, 2.0), np.arange(2462.0, 2490.0, 0.2), np.arange(2490.0, 2600.0, 1.0),
    ]), 3)
    mu = 0.4 + 0.002 * (energy - 2420.0) * 0.05 + 0.8 * sulfur_k_mu(energy, li2s_fraction(cycle))
    i0 = 2.0e5 * (1.0 - 0.0005 * np.arange(energy.size) / energy.size) + rng.normal(0, 50.0, energy.size)
    itrans = i0 * np.exp(-mu) * (1.0 + rng.normal(0, 2e-4, energy.size))
    irefer = itrans * np.exp(-0.6) * (1.0 + rng.normal(0, 2e-4, energy.size))
    columns = {"i0": np.round(i0, 2), "itrans": np.round(itrans, 3), "irefer": np.round(irefer, 3)}
    truth = {"li2s_fraction_of_S": round(li2s_fraction(cycle), 6), "e0_ev": 2472.0}
    return {"energy": energy, "columns": columns}, truth


# --------------------------------------------------------------- operando Ni K-edge
NI_SERIES_MINUTES = 40.0  # one Ni K-edge scan every 40 min during the first two cycles
NI_SERIES_COUNT = 30


def state_of_charge(hours: float) -> float:
    """The cycler's state of charge at ``hours`` after START (the model of make_cycler)."""
    cycle = int(hours // CYCLE_HOURS)
    within = hours - cycle * CYCLE_HOURS
    fade = 1.0 - 0.01 * cycle
    half = CYCLE_HOURS / 2
    if within < half:  # constant-current charge until the faded capacity, then rest
        return min(within / half, fade)
    return max(fade - (within - half) / half, 0.0)


def ni_energy_grid() -> np.ndarray:
    """8183–8333 eV in 5 eV steps, the XANES in 0.3 eV steps, then 0.05 Å⁻¹ steps to k = 12."""
    e0 = 8333.0
    k = np.arange(2.8, 12.0 + 1e-9, 0.05)
    return np.round(np.concatenate([
        np.arange(e0 - 150.0, e0 - 20.0, 5.0), np.arange(e0 - 20.0, e0 + 30.0, 0.3),
        e0 + k**2 / 0.2624682917,
    ]), 3)


def ni_k_mu(energy: np.ndarray, charged: float) -> np.ndarray:
    """Normalized Ni K-edge of NMC811 as a mix of a discharged (Ni2+-like: edge 8343.0 eV,
    white line 8350.5 eV) and a charged (Ni4+-like: edge 8345.6 eV, white line 8352.6 eV)
    spectrum, with damped EXAFS wiggles (first shell Ni–O 2.05 / 1.88 Å)."""
    def one(e_edge: float, white: float, r_shell: float) -> np.ndarray:
        edge = 0.5 + np.arctan((energy - e_edge) / 1.6) / np.pi
        line = 0.55 * np.exp(-0.5 * ((energy - white) / 2.4) ** 2)
        k = np.sqrt(np.clip(energy - e_edge, 0.0, None) * 0.2624682917)
        wiggle = 0.12 * np.sin(2.0 * k * r_shell + 0.6) * np.exp(-2.0 * 0.006 * k**2) / np.maximum(k, 1.0)
        return edge * (1.0 + wiggle * (k > 1.0)) + line
    return (1.0 - charged) * one(8343.0, 8350.5, 2.05) + charged * one(8345.6, 8352.6, 1.88)


def half_height_energy(energy: np.ndarray, norm: np.ndarray) -> float:
    """First energy where the normalized curve reaches 0.5 (linear interpolation), eV."""
    i = int(np.flatnonzero(norm >= 0.5)[0])
    return float(energy[i - 1] + (0.5 - norm[i - 1]) * (energy[i] - energy[i - 1]) / (norm[i] - norm[i - 1]))


def make_ni_scan(energy: np.ndarray, charged: float, rng: np.random.Generator) -> dict:
    """Transmission columns i0, itrans of one Ni K-edge scan (edge step 1.2, 0.03 % noise)."""
    mu = 0.9 - 0.00008 * (energy - energy[0]) + 1.2 * ni_k_mu(energy, charged)
    i0 = 1.5e5 * (1.0 - 0.002 * np.arange(energy.size) / energy.size) + rng.normal(0, 30.0, energy.size)
    itrans = i0 * np.exp(-mu) * (1.0 + rng.normal(0, 3e-4, energy.size))
    return {"i0": np.round(i0, 2), "itrans": np.round(itrans, 3)}


def write_ni_series(out: Path, rng: np.random.Generator, truth: dict[str, dict]) -> None:
    """The operando Ni K-edge series (two cycles) and its two end-member reference scans."""
    energy = ni_energy_grid()
    fine = np.linspace(8320.0, 8370.0, 50001)
    for label, charged in (("discharged", 0.0), ("charged", 1.0)):
        name = f"xas/ni_references/NMC811_{label}_Ni_K.xdi"
        write_xdi(_target(out, name), energy, make_ni_scan(energy, charged, rng), element="Ni",
                  edge="K", sample=f"NMC811 reference, {label}", acquired_at=START - dt.timedelta(days=1),
                  facility="Simulated Light Source", beamline="BL-Ni (simulated)",
                  comments=[f"ex situ reference, {label} NMC811 (Ni K-edge)"])
        truth[name] = {"charged_fraction": charged,
                       "half_height_energy_ev": round(half_height_energy(fine, ni_k_mu(fine, charged)), 4)}
    for i in range(NI_SERIES_COUNT):
        minutes = 20.0 + NI_SERIES_MINUTES * i
        soc = state_of_charge(minutes / 60.0)
        name = f"xas/cell01_Ni_K_operando/cell01_Ni_K_{i + 1:03d}.xdi"
        write_xdi(_target(out, name), energy, make_ni_scan(energy, soc, rng), element="Ni", edge="K",
                  sample=SAMPLE, acquired_at=START + dt.timedelta(minutes=minutes),
                  facility="Simulated Light Source", beamline="BL-Ni (simulated)",
                  comments=[f"operando Ni K-edge scan {i + 1} of {NI_SERIES_COUNT}"])
        truth[name] = {"cycle": int(minutes // 60 // CYCLE_HOURS), "minutes_since_start": minutes,
                       "state_of_charge": round(soc, 6), "charged_fraction": round(soc, 6),
                       "half_height_energy_ev": round(half_height_energy(fine, ni_k_mu(fine, soc)), 4)}


# ------------------------------------------------------------------------------- NMR
LINE_BROADENING_HZ = 50.0  # the exponential window of the sample's processed 7Li spectra


def make_nmr(cycle: int, rng: np.random.Generator) -> tuple[dict, dict]:
    bf1 = 155.50  # MHz, 7Li at 9.4 T
    carrier_ppm = 100.0
    o1_hz = carrier_ppm * bf1
    sfo1 = bf1 + o1_hz * 1e-6
    sw_hz, n, grpdly = 100_000.0, 4096, 76
    t = np.arange(n) / sw_hz
    lines = [(1.2, 1.0, 600.0), (258.0, li_metal_amplitude(cycle), 1200.0)]  # ppm, amp, FWHM Hz
    fid = np.zeros(n, complex)
    for ppm, amplitude, fwhm in lines:
        offset_hz = (ppm - carrier_ppm) * sfo1
        fid += amplitude * np.exp(2j * np.pi * offset_hz * t - np.pi * fwhm * t)
    fid *= 2.0e6
    fid += rng.normal(0, 2.0e3, n) + 1j * rng.normal(0, 2.0e3, n)
    recorded = np.roll(fid, grpdly)  # the digital filter delays the echo by GRPDLY points
    # The processed spectrum as TopSpin makes it (procs WDW = EM, LB = 50 Hz; PHC0 = PHC1 = 0):
    # filter delay removed, the window counted from the true time origin, and
    # fftshift(fft(conj(fid))), whose first point is the highest frequency (Bruker's sign
    # convention, no reversal; reversing fft(fid) instead lands one point off).
    broadened = fid * np.exp(-np.pi * LINE_BROADENING_HZ * t)
    spectrum = np.fft.fftshift(np.fft.fft(np.conj(broadened))).real
    offset_ppm = carrier_ppm + (sw_hz / 2.0) / bf1
    settings = dict(nucleus="7Li", sfo1_mhz=sfo1, bf1_mhz=bf1, sw_hz=sw_hz, o1_hz=o1_hz,
                    grpdly=float(grpdly), spectrum=np.round(spectrum), offset_ppm=offset_ppm,
                    line_broadening_hz=LINE_BROADENING_HZ)
    truth = {"li_metal_shift_ppm": 258.0, "li_metal_relative_amplitude": li_metal_amplitude(cycle),
             "electrolyte_shift_ppm": 1.2}
    return {"fid": np.round(recorded.real) + 1j * np.round(recorded.imag), **settings}, truth


def write_nmr_cycle(out: Path, cycle: int, rng: np.random.Generator, truth: dict[str, dict]) -> None:
    """One static 7Li TopSpin dataset (EXPNO = cycle + 1), measured after that cycle; after
    the last cycle also its processed spectrum exported as JCAMP-DX."""
    nmr, t = make_nmr(cycle, rng)
    name = f"nmr/cell01_7Li/{cycle + 1}"
    write_bruker_1d(_target(out, name), nmr.pop("fid"), acquired_at=acquired(cycle, 70),
                    title=f"{SAMPLE} 7Li static, cycle {cycle}", fid_dtype="int32", **nmr)
    truth[name] = {"cycle": cycle, **t}
    if cycle == JCAMP_EXPORT_CYCLE:
        si, sf = nmr["spectrum"].size, nmr["bf1_mhz"]
        ppm = nmr["offset_ppm"] - np.arange(si) * nmr["sw_hz"] / (sf * si)
        export = f"nmr/cell01_7Li_cycle{cycle:02d}.jdx"
        write_jcamp_nmr(_target(out, export), ppm, nmr["spectrum"], nucleus="7Li", observe_mhz=sf,
                        title=f"{SAMPLE} 7Li static, cycle {cycle}", acquired_at=acquired(cycle, 70))
        truth[export] = {"cycle": cycle, **t}


# ------------------------------------------------------------------------------ echem
def make_cycler() -> pd.DataFrame:
    """GCPL at 0.1 mA between 3.0 and 4.3 V, ten cycles, one record every 3 minutes.

    The capacity fades by 1 % per cycle: each half cycle runs at constant current until the
    faded capacity is reached (charge to state of charge 1 − 0.01·cycle, discharge back to 0),
    then the cell rests at open circuit for the rest of its 5 h, so every cycle keeps its 10 h
    slot on the timeline the spectra are stamped with.
    """
    capacity_mah, current_ma, dt_s = 1.0, 0.1, 180.0
    rows = []
    time_s, q = 0.0, 0.0
    half_hours = CYCLE_HOURS / 2
    for cycle in range(N_CYCLES):
        fade = 1.0 - 0.01 * cycle
        for half, sign in ((0, 1.0), (1, -1.0)):
            steps = int(half_hours * 3600.0 / dt_s)
            active = int(round(steps * fade))  # records under current; the rest is a rest
            for k in range(steps):
                start = cycle * CYCLE_HOURS * 3600.0 + half * half_hours * 3600.0
                soc = state_of_charge((start + (k + 1) * dt_s) / 3600.0)
                flowing = k < active
                voltage = 3.45 + 0.75 * soc + 0.08 * np.tanh((soc - 0.1) * 12) + (sign * 0.04 if flowing else 0.0)
                current = sign * current_ma if flowing else 0.0
                q += current * dt_s / 3600.0
                time_s += dt_s
                rows.append({
                    "mode": 1 if flowing else 3, "ox/red": 1 if sign > 0 else 0, "error": 0,
                    "control changes": 1 if k in (0, active) else 0,
                    "Ns changes": 1 if k in (0, active) else 0,
                    "counter inc.": 0, "Ns": 1 + 2 * half + (0 if flowing else 1), "time/s": time_s,
                    "control/V/mA": current, "Ewe/V": round(voltage, 5),
                    "I/mA": round(current, 6), "dq/mA.h": round(current * dt_s / 3600, 7),
                    "(Q-Qo)/mA.h": round(q, 7), "cycle number": cycle,
                })
    return pd.DataFrame(rows)


SI_OFFSET_CM = 1.3  # the uncalibrated spectrometer reads the Si band this much too high


def write_silicon_reference(out: Path, rng: np.random.Generator) -> dict[str, dict]:
    """An Andor SIF silicon spectrum taken to calibrate the Raman shift axis (532 nm laser, a
    1024-pixel CCD on a 1800 l/mm grating): the Si band (520.7 cm-1, FWHM 3.5 cm-1) sits at
    520.7 + SI_OFFSET_CM on the spectrometer's own wavelength calibration."""
    laser = 532.0
    pixel = np.arange(1, 1025, dtype=float)
    coefficients = (533.5, 0.0205, -1.0e-7, 0.0)  # nm at 1-based pixel p: c0 + c1 p + c2 p²
    nm = coefficients[0] + coefficients[1] * pixel + coefficients[2] * pixel**2
    shift = 1e7 / laser - 1e7 / nm
    band = 1.0 / (1.0 + 4.0 * ((shift - (520.7 + SI_OFFSET_CM)) / 3.5) ** 2)
    counts = rng.poisson(12000.0 * band + 800.0 + 0.3 * (shift - shift[0])).astype(float)
    name = "raman/si_reference_532nm.sif"
    write_sif(_target(out, name), counts.reshape(1, 1, -1), coefficients=coefficients,
              laser_wavelength_nm=laser, x_text="Raman Shift", exposure_s=1.0,
              time_t=int((START - dt.timedelta(hours=1)).timestamp()),
              file_name=r"C:\\data\\si_reference_532nm.sif")
    return {name: {"si_band_cm-1": 520.7, "measured_offset_cm-1": SI_OFFSET_CM, "laser_nm": laser}}


def raman_composite_truth(composite: dict) -> dict[str, dict]:
    """truth.json entries of the LCO-argyrodite maps: per-pixel state of charge, A1g position,
    band areas and masks (rows y, columns x), rounded for a readable file."""
    def plain(values: np.ndarray, digits: int = 4) -> list:
        return np.round(np.asarray(values, float), digits).tolist()

    entries = {}
    for state in ("before", "after"):
        t = composite[state]
        entries[f"raman/cell02_lco_lpscl_map_{state}.wdf"] = {
            "state": f"{state} charge", "x_um": plain(composite["x_um"]),
            "y_um": plain(composite["y_um"]),
            "bands_cm-1": {name: list(values) for name, values in composite["bands"].items()},
            "unreacted_mask": np.asarray(composite["unreacted"], int).tolist(),
            "lco_fraction": plain(composite["lco_fraction"], 3),
            "state_of_charge": plain(t["soc"], 3),
            "a1g_position_cm-1": plain(t["center"]["lco_a1g"], 3),
            "a1g_snr": plain(t["snr_a1g"], 1),
            "areas": {name: plain(values, 1) for name, values in t["area"].items()},
            "spikes_y_x_index_height": [list(spike) for spike in t["spikes"]],
        }
    return entries


MANIFEST = """\
# The sample session's manifest (written by generate.py). Everything it does not name is
# planned automatically: formats sniffed, built-in recipes chosen by technique and region.
description = "operando study of cell01 (NMC811 | Li6PS5Cl | Li-In) over cycles 0-20, with cell02 (CSI, Raman)"
cycler = "echem/cell01_GCPL.mpt"
ignore = ["truth.json"]                 # the generator's ground truth, not a measurement

[options]
auto = true

# The composite cathode's C 1s carries Li2CO3 (~289.9 eV), which the automatic choice,
# the adventitious-carbon recipe, has no line for.
[[analysis]]
glob = "xps/*.vms"
recipe = "xps-c1s-carbonate"
"""


def _target(out: Path, name: str) -> Path:
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def main(out: Path = HERE) -> None:
    """Write every sample file under ``out`` (default: this folder)."""
    rng = np.random.default_rng(SEED)
    truth: dict[str, dict] = {}
    xps_rng = np.random.default_rng(SEED + 4)  # XPS: its own stream
    for cycle in range(N_CYCLES + 1):
        blocks, t = make_xps(cycle, xps_rng)
        name = f"xps/cell01_cycle{cycle:02d}.vms"
        write_vamas(_target(out, name), blocks, comment_lines=(f"specssb sample session, {SAMPLE}",))
        truth[name] = {"cycle": cycle, **t}
    for cycle in (0, 5, 10, 15, 20):
        xas, t = make_xas(cycle, rng)
        name = f"xas/cell01_S_K_cycle{cycle:02d}.xdi"
        write_xdi(_target(out, name), xas["energy"], xas["columns"], element="S", edge="K", sample=SAMPLE,
                  acquired_at=acquired(cycle, 50), facility="Simulated Light Source",
                  beamline="BL-S (simulated)", comments=[f"operando S K-edge, cycle {cycle}"])
        truth[name] = {"cycle": cycle, **t}
    write_ni_series(out, np.random.default_rng(SEED + 1), truth)  # own stream: the others stay as they were
    for cycle in (0, 10):
        write_nmr_cycle(out, cycle, rng, truth)
    middle = np.random.default_rng(SEED + 2)  # other cycles: own stream, the others stay as they were
    for cycle in range(1, N_CYCLES + 1):
        if cycle != 10:
            write_nmr_cycle(out, cycle, middle, truth)
    truth.update(write_csi_session(out))  # 7Li 1D CSI of a Li|LLZO|Li cell (own random stream)
    table = make_cycler()
    write_biologic_mpt(_target(out, "echem/cell01_GCPL.mpt"), table, acquired_at=START.replace(tzinfo=None))
    truth["echem/cell01_GCPL.mpt"] = {"cycles": N_CYCLES, "current_ma": 0.1, "capacity_fade_per_cycle": 0.01}
    try:  # the Raman writer is optional while WDF writing is being validated
        from writers.wdf import write_wdf
    except ImportError:
        write_wdf = None
    if write_wdf is not None:
        shift, ny, nx = np.round(np.linspace(650.0, 150.0, 501), 4), 4, 5
        yy, xx = np.mgrid[0:ny, 0:nx]
        f_li2s = np.clip(0.6 - 0.2 * np.hypot(yy, xx), 0.0, None)  # decomposition near a corner
        band = lambda c, w: 1.0 / (1.0 + 4.0 * ((shift - c) / w) ** 2)  # noqa: E731
        maps = 2000.0 * ((1 - f_li2s)[..., None] * band(425.0, 10.0) + f_li2s[..., None] * 0.6 * band(372.0, 12.0))
        maps = rng.poisson(maps + 300.0).astype(float)
        name = "raman/cell01_map_cycle10.wdf"
        write_wdf(_target(out, name), maps, shift, axis_unit="raman_shift", laser_wavelength_nm=532.0,
                  x_um=np.arange(nx) * 2.0, y_um=np.arange(ny) * 2.0, title=f"{SAMPLE} cathode map",
                  acquired_at=acquired(10, 90))
        truth[name] = {"cycle": 10, "li2s_fraction_map": np.round(f_li2s, 6).tolist(),
                       "bands_cm-1": {"PS4": 425.0, "Li2S": 372.0}}
    truth.update(raman_composite_truth(write_composite_maps(out)))
    truth.update(write_silicon_reference(out, np.random.default_rng(SEED + 3)))
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    (out / "session.toml").write_text(MANIFEST)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
