"""Write a small Bruker TopSpin 1D experiment folder (raw FID + optional processed spectrum).

Not part of the package: a deterministic generator of realistic Bruker data sets, laid out as
TopSpin 4 writes them (compare ``../shared/data/nmr/datalab/71`` and
``../shared/data/nmr/spectrochempy_data/cadmium/100``)::

    <folder>/acqus, acqu            JCAMP-DX 5.0 parameter files, ``##$KEY= value`` records
    <folder>/fid                    float64 little-endian (DTYPA=2, BYTORDA=0), or int32 as older
                                    TopSpin versions wrote (DTYPA=0), re/im interleaved,
                                    zero-padded to whole 1024-byte blocks
    <folder>/pulseprogram           a short pulse-programme stub
    <folder>/pdata/1/procs, proc    processing parameters (SI, SW_p, SF, OFFSET, NC_proc ...)
    <folder>/pdata/1/title          the title
    <folder>/pdata/1/1r, 1i         int32 little-endian (DTYPP=0), intensity = value * 2**NC_proc

A phase-encoded chemical-shift imaging (CSI) experiment (:func:`write_bruker_csi`) is a pseudo-2D
``ser``: one FID per phase-encode step, each starting on a 1024-byte boundary, with ``acqu2s``
(TD = number of steps, FnMODE = 1, QF) and a ``gradlist`` holding the gradient amplitude of
each step in acquisition order (G/cm, as TopSpin's DOSY ``difflist``; a ``# unit: G/cm`` comment
line names the unit). acqus carries the gradient pulse length P[16] (µs), GPZ[1] (% of the
probe's maximum gradient used by the largest step) and GPNAM[1].

A 2D phase-encoded CSI (:func:`write_bruker_csi_2d`) is a 3D ``ser``: acqus is the direct
(F3) dimension, ``acqu2s`` the x phase encoding (F2, inner loop, TD = n_x) and ``acqu3s`` the y
phase encoding (F1, outer loop, TD = n_y), AQSEQ = 0 ("321": F2 incremented first), so the
file is ``[y][x][t]``, one 1024-byte-aligned FID per (y, x) step. The gradients go to
``gradlist`` (x, the acqu2s dimension, as in 1D CSI) and ``gradlist3`` (y, the acqu3s
dimension): the specssb convention the Bruker reader documents. acqus GPX[1]/GPY[1] hold the
percentages of the probe maximum reached by the largest x/y steps.

TopSpin 4 stores new FIDs as float64 (DTYPA=2); processed files stay int32 with the NC_proc
exponent. TopSpin opens ``<dataset>/<expno>/``: name ``folder`` with an integer (``.../1``) if the
data are to be opened in TopSpin itself; specssb and nmrglue read any folder name.

Axis conventions written (TopSpin Processing Reference: SR, OFFSET): SF = BF1 (SR = 0), and
``OFFSET = (SFO1 - SF)/SF * 1e6 + SW_p / (2 SF)`` (the ppm of the first point) unless
``offset_ppm`` is given; the spectrum's ``ppm[i] = OFFSET - i * SW_p / (SF * SI)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_bruker_1d", "write_bruker_csi", "write_bruker_csi_2d"]

TOPSPIN = "TopSpin 4.1.4"
BLOCK_BYTES = 1024
OWNER = "specssb"

#: Digitiser rate / 2 (Hz) of an Avance III/NEO receiver: DECIM = ADC_RATE / SW_h.
ADC_HALF_RATE_HZ = 20.0e6


def write_bruker_1d(
    folder: str | PathLike[str],
    fid: np.ndarray,
    *,
    nucleus: str = "7Li",
    sfo1_mhz: float,
    bf1_mhz: float,
    sw_hz: float,
    o1_hz: float,
    acquired_at: dt.datetime,
    title: str,
    decim: float | None = None,
    dspfvs: int = 20,
    grpdly: float = 67.984375,
    mas_rate_hz: float = 0.0,
    n_scans: int = 16,
    pulse_program: str = "zg",
    spectrum: np.ndarray | None = None,
    offset_ppm: float | None = None,
    line_broadening_hz: float = 0.0,
    fid_dtype: str = "float64",
) -> Path:
    """Write a TopSpin-style 1D experiment folder.

    Parameters
    ----------
    folder : str or PathLike
        The experiment folder to create (``acqus`` goes directly inside).
    fid : complex ndarray of shape (n,)
        The FID as recorded (digital-filter group delay included); TD = 2n.
    nucleus : str
        Observed nucleus, e.g. ``"7Li"`` (NUC1).
    sfo1_mhz, bf1_mhz : float, MHz
        Transmitter and basic frequency; must satisfy ``SFO1 = BF1 + O1 * 1e-6``.
    sw_hz : float, Hz
        Spectral width SW_h (complex dwell time 1/SW_h).
    o1_hz : float, Hz
        Transmitter offset O1.
    acquired_at : datetime
        Timezone-aware start of acquisition (acqus DATE, seconds since 1970 UTC).
    title : str
        Written to ``pdata/1/title``.
    decim : float, optional
        DECIM; default ``20 MHz / SW_h`` as on an Avance III/NEO receiver.
    dspfvs : int
        DSP firmware version (20 for Avance III and later).
    grpdly : float, points
        Digital-filter group delay GRPDLY.
    mas_rate_hz : float, Hz
        MASR (0 for a static sample).
    n_scans : int
        NS.
    pulse_program : str
        PULPROG; a stub ``pulseprogram`` file is written under this name.
    spectrum : ndarray of shape (si,), optional
        Processed spectrum in TopSpin's order (decreasing ppm); real writes ``1r``, complex
        writes ``1r`` and ``1i``.
    offset_ppm : float, optional, ppm
        OFFSET (ppm of the first spectrum point); default from SFO1, SF and SW_p.
    line_broadening_hz : float, Hz
        The exponential window the processed ``spectrum`` was made with (procs ``WDW`` = 1,
        ``LB``); 0 writes no window.
    fid_dtype : {"float64", "int32"}
        How the FID is stored: float64 (DTYPA = 2, TopSpin 4) or int32 (DTYPA = 0, TopSpin 3 and
        earlier; the FID must then hold whole numbers within the int32 range).

    Returns
    -------
    Path
        The experiment folder.

    Raises
    ------
    ValueError
        For a non-complex or empty FID, a naive ``acquired_at``, inconsistent frequencies, or
        non-finite values.
    """
    fid = np.asarray(fid)
    if fid.ndim != 1 or fid.size == 0 or not np.iscomplexobj(fid):
        raise ValueError("fid must be a non-empty 1-D complex array")
    if not np.all(np.isfinite(fid)):
        raise ValueError("fid holds non-finite values")
    if acquired_at.utcoffset() is None:
        raise ValueError("acquired_at must be timezone-aware")
    if fid_dtype not in ("float64", "int32"):
        raise ValueError(f"fid_dtype must be 'float64' or 'int32', not {fid_dtype!r}")
    if fid_dtype == "int32" and not _whole_int32(fid):
        raise ValueError("an int32 FID must hold whole numbers within the int32 range")
    if not math.isclose(sfo1_mhz, bf1_mhz + o1_hz * 1e-6, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"SFO1={sfo1_mhz} MHz is not BF1 + O1 = {bf1_mhz + o1_hz * 1e-6} MHz")
    folder = Path(folder)
    (folder / "pdata" / "1").mkdir(parents=True, exist_ok=True)
    when = acquired_at.astimezone(dt.timezone.utc)
    acqus = _acqus(
        td=2 * fid.size, nucleus=nucleus, sfo1=sfo1_mhz, bf1=bf1_mhz, sw=sw_hz, o1=o1_hz,
        date=int(when.timestamp()), decim=ADC_HALF_RATE_HZ / sw_hz if decim is None else decim,
        dspfvs=dspfvs, grpdly=grpdly, masr=mas_rate_hz, ns=n_scans, pulprog=pulse_program,
    )
    acqus["DTYPA"] = 0 if fid_dtype == "int32" else 2
    for name in ("acqus", "acqu"):
        _write_jcamp(folder / name, acqus, when, f"{folder.name}/{name}", "go4")
    _write_fid(folder / "fid", fid, fid_dtype)
    (folder / "pulseprogram").write_bytes(_pulse_program(pulse_program).encode("ascii"))
    window = {"WDW": 1, "LB": float(line_broadening_hz)} if line_broadening_hz else {}
    _write_pdata(folder / "pdata" / "1", acqus, spectrum, offset_ppm, nucleus, when, folder.name,
                 window)
    (folder / "pdata" / "1" / "title").write_bytes(title.rstrip("\n").encode("utf-8") + b"\n")
    return folder


def write_bruker_csi(
    folder: str | PathLike[str],
    ser: np.ndarray,
    *,
    gradients_g_per_cm: np.ndarray,
    gradient_duration_s: float,
    gradient_max_g_per_cm: float,
    nucleus: str = "7Li",
    sfo1_mhz: float,
    bf1_mhz: float,
    sw_hz: float,
    o1_hz: float,
    acquired_at: dt.datetime,
    title: str,
    echo_time_s: float = 0.0,
    grpdly: float = 67.984375,
    n_scans: int = 64,
) -> Path:
    """Write a TopSpin-style 1D chemical-shift-imaging experiment (pseudo-2D ``ser``).

    Parameters
    ----------
    folder : str or PathLike
        The experiment folder to create.
    ser : complex ndarray of shape (n_steps, n)
        One FID per phase-encode step, in acquisition order (TD = 2n, acqu2s TD = n_steps).
    gradients_g_per_cm : ndarray of shape (n_steps,), G/cm
        Phase-encode gradient of every step (written to ``gradlist``).
    gradient_duration_s : float, s
        Gradient pulse length δ (acqus P[16], µs).
    gradient_max_g_per_cm : float, G/cm
        The probe's gradient at 100 %; GPZ[1] = 100 × max|g| / this.
    nucleus, sfo1_mhz, bf1_mhz, sw_hz, o1_hz, acquired_at, title, grpdly, n_scans
        As for :func:`write_bruker_1d`.
    echo_time_s : float, s
        Spin-echo time TE (acqus D[20] = TE/2); 0 for a pulse-acquire sequence.

    Returns
    -------
    Path
        The experiment folder.

    Raises
    ------
    ValueError
        For a non-complex or non-2D ``ser``, a gradient list of the wrong length, a naive
        ``acquired_at``, inconsistent frequencies or non-finite values.
    """
    ser = np.asarray(ser)
    gradients = np.asarray(gradients_g_per_cm, dtype=float)
    if ser.ndim != 2 or ser.size == 0 or not np.iscomplexobj(ser):
        raise ValueError("ser must be a non-empty 2-D complex array (steps, points)")
    if gradients.shape != (ser.shape[0],) or not np.all(np.isfinite(gradients)):
        raise ValueError(f"need {ser.shape[0]} finite gradients, got shape {gradients.shape}")
    if not np.all(np.isfinite(ser)):
        raise ValueError("ser holds non-finite values")
    if acquired_at.utcoffset() is None:
        raise ValueError("acquired_at must be timezone-aware")
    if not math.isclose(sfo1_mhz, bf1_mhz + o1_hz * 1e-6, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"SFO1={sfo1_mhz} MHz is not BF1 + O1 = {bf1_mhz + o1_hz * 1e-6} MHz")
    folder = Path(folder)
    (folder / "pdata" / "1").mkdir(parents=True, exist_ok=True)
    when = acquired_at.astimezone(dt.timezone.utc)
    acqus = _acqus(
        td=2 * ser.shape[1], nucleus=nucleus, sfo1=sfo1_mhz, bf1=bf1_mhz, sw=sw_hz, o1=o1_hz,
        date=int(when.timestamp()), decim=ADC_HALF_RATE_HZ / sw_hz, dspfvs=20, grpdly=grpdly,
        masr=0.0, ns=n_scans, pulprog="csi1d_se",
    )
    gpz = [0.0] * 32
    gpz[1] = round(100.0 * float(np.abs(gradients).max()) / gradient_max_g_per_cm, 6)
    acqus.update(PARMODE=1, GPZ=gpz, GPX=[0.0] * 32, GPY=[0.0] * 32,
                 GPNAM=["sine.100"] + ["RECT.1"] + ["sine.100"] * 30)
    acqus["P"][16] = round(gradient_duration_s * 1e6, 6)
    acqus["P"][2] = 5.0
    acqus["D"][16] = 200e-6
    acqus["D"][20] = echo_time_s / 2.0
    acqu2s = {"ACQT0": 0, "BF1": bf1_mhz, "FnMODE": 1, "NUC1": nucleus, "NusJSP": 0, "NusT2": 1,
              "NusTD": ser.shape[0], "O1": o1_hz, "SFO1": sfo1_mhz, "SW": 1.0,
              "SW_h": sfo1_mhz, "TD": ser.shape[0], "AQ_mod": 0, "PARMODE": 1}
    for name in ("acqus", "acqu"):
        _write_jcamp(folder / name, acqus, when, f"{folder.name}/{name}", "go4")
    for name in ("acqu2s", "acqu2"):
        _write_jcamp(folder / name, acqu2s, when, f"{folder.name}/{name}", "go4")
    with open(folder / "ser", "wb") as handle:
        for row in ser:
            handle.write(_fid_bytes(row))
    lines = ["# phase-encode gradient per increment", "# unit: G/cm"]
    lines += [f"{g:.6f}" for g in gradients]
    (folder / "gradlist").write_bytes(("\n".join(lines) + "\n").encode("ascii"))
    (folder / "pulseprogram").write_bytes(_csi_pulse_program().encode("ascii"))
    _write_pdata(folder / "pdata" / "1", acqus, None, None, nucleus, when, folder.name)
    (folder / "pdata" / "1" / "title").write_bytes(title.rstrip("\n").encode("utf-8") + b"\n")
    return folder


def write_bruker_csi_2d(
    folder: str | PathLike[str],
    ser: np.ndarray,
    *,
    gradients_y_g_per_cm: np.ndarray,
    gradients_x_g_per_cm: np.ndarray,
    gradient_duration_s: float,
    gradient_max_g_per_cm: float,
    nucleus: str = "7Li",
    sfo1_mhz: float,
    bf1_mhz: float,
    sw_hz: float,
    o1_hz: float,
    acquired_at: dt.datetime,
    title: str,
    echo_time_s: float = 0.0,
    grpdly: float = 67.984375,
    n_scans: int = 16,
    aqseq: int = 0,
) -> Path:
    """Write a TopSpin-style 2D chemical-shift-imaging experiment (3D ``ser``).

    Parameters
    ----------
    folder : str or PathLike
        The experiment folder to create.
    ser : complex ndarray of shape (n_y, n_x, n)
        One FID per (y, x) phase-encode step; TD = 2n, acqu2s TD = n_x, acqu3s TD = n_y.
    gradients_y_g_per_cm : ndarray of shape (n_y,), G/cm
        y phase-encode gradient of every outer step (``gradlist3``).
    gradients_x_g_per_cm : ndarray of shape (n_x,), G/cm
        x phase-encode gradient of every inner step (``gradlist``).
    gradient_duration_s : float, s
        Duration δ of both gradient pulses (acqus P[16], µs).
    gradient_max_g_per_cm : float, G/cm
        The probe's gradient at 100 % (for GPX[1], GPY[1]).
    nucleus, sfo1_mhz, bf1_mhz, sw_hz, o1_hz, acquired_at, title, grpdly, n_scans
        As for :func:`write_bruker_1d`.
    echo_time_s : float, s
        Spin-echo time TE (acqus D[20] = TE/2).
    aqseq : {0, 1}
        Loop order written (acqus AQSEQ): 0 (``321``) stores ``[y][x][t]``, 1 (``312``)
        ``[x][y][t]``.

    Returns
    -------
    Path
        The experiment folder.

    Raises
    ------
    ValueError
        For a non-complex or non-3D ``ser``, gradient lists of the wrong length, a naive
        ``acquired_at``, inconsistent frequencies or non-finite values.
    """
    ser = np.asarray(ser)
    g_y = np.asarray(gradients_y_g_per_cm, dtype=float)
    g_x = np.asarray(gradients_x_g_per_cm, dtype=float)
    if ser.ndim != 3 or ser.size == 0 or not np.iscomplexobj(ser):
        raise ValueError("ser must be a non-empty 3-D complex array (y steps, x steps, points)")
    for name, values, n in (("y", g_y, ser.shape[0]), ("x", g_x, ser.shape[1])):
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise ValueError(f"need {n} finite {name} gradients, got shape {values.shape}")
    if aqseq not in (0, 1):
        raise ValueError(f"aqseq must be 0 or 1, not {aqseq!r}")
    if not np.all(np.isfinite(ser)):
        raise ValueError("ser holds non-finite values")
    if acquired_at.utcoffset() is None:
        raise ValueError("acquired_at must be timezone-aware")
    if not math.isclose(sfo1_mhz, bf1_mhz + o1_hz * 1e-6, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"SFO1={sfo1_mhz} MHz is not BF1 + O1 = {bf1_mhz + o1_hz * 1e-6} MHz")
    folder = Path(folder)
    (folder / "pdata" / "1").mkdir(parents=True, exist_ok=True)
    when = acquired_at.astimezone(dt.timezone.utc)
    acqus = _acqus(
        td=2 * ser.shape[2], nucleus=nucleus, sfo1=sfo1_mhz, bf1=bf1_mhz, sw=sw_hz, o1=o1_hz,
        date=int(when.timestamp()), decim=ADC_HALF_RATE_HZ / sw_hz, dspfvs=20, grpdly=grpdly,
        masr=0.0, ns=n_scans, pulprog="csi2d_se",
    )
    gpx, gpy = [0.0] * 32, [0.0] * 32
    gpx[1] = round(100.0 * float(np.abs(g_x).max()) / gradient_max_g_per_cm, 6)
    gpy[1] = round(100.0 * float(np.abs(g_y).max()) / gradient_max_g_per_cm, 6)
    acqus.update(PARMODE=2, AQSEQ=aqseq, GPX=gpx, GPY=gpy, GPZ=[0.0] * 32,
                 GPNAM=["sine.100"] + ["RECT.1"] + ["sine.100"] * 30)
    acqus["P"][16] = round(gradient_duration_s * 1e6, 6)
    acqus["P"][2] = 5.0
    acqus["D"][16] = 200e-6
    acqus["D"][20] = echo_time_s / 2.0
    for name, steps in (("acqu2s", ser.shape[1]), ("acqu3s", ser.shape[0])):
        params = {"ACQT0": 0, "BF1": bf1_mhz, "FnMODE": 1, "NUC1": nucleus, "NusJSP": 0,
                  "NusT2": 1, "NusTD": steps, "O1": o1_hz, "SFO1": sfo1_mhz, "SW": 1.0,
                  "SW_h": sfo1_mhz, "TD": steps, "AQ_mod": 0, "PARMODE": 2, "AQSEQ": aqseq}
        for file in (name, name[:-1]):
            _write_jcamp(folder / file, params, when, f"{folder.name}/{file}", "go4")
    for name in ("acqus", "acqu"):
        _write_jcamp(folder / name, acqus, when, f"{folder.name}/{name}", "go4")
    rows = ser if aqseq == 0 else ser.transpose(1, 0, 2)
    with open(folder / "ser", "wb") as handle:
        for row in rows.reshape(-1, ser.shape[2]):
            handle.write(_fid_bytes(row))
    for file, axis, values in (("gradlist", "x (acqu2s, F2)", g_x),
                               ("gradlist3", "y (acqu3s, F1)", g_y)):
        lines = [f"# phase-encode gradient per increment of {axis}", "# unit: G/cm"]
        lines += [f"{g:.6f}" for g in values]
        (folder / file).write_bytes(("\n".join(lines) + "\n").encode("ascii"))
    (folder / "pulseprogram").write_bytes(_csi_2d_pulse_program().encode("ascii"))
    _write_pdata(folder / "pdata" / "1", acqus, None, None, nucleus, when, folder.name)
    (folder / "pdata" / "1" / "title").write_bytes(title.rstrip("\n").encode("utf-8") + b"\n")
    return folder


# ---------------------------------------------------------------------------- parameter sets
def _acqus(*, td: int, nucleus: str, sfo1: float, bf1: float, sw: float, o1: float, date: int,
           decim: float, dspfvs: int, grpdly: float, masr: float, ns: int,
           pulprog: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ACQT0": 0, "AQSEQ": 0, "AQ_mod": 3, "AUNM": "au_zg", "BYTORDA": 0, "CFDGTYP": 0,
        "CFRGTYP": 0, "CHEMSTR": "none", "DATE": date, "DE": 6.5, "DECIM": decim, "DIGMOD": 1,
        "DIGTYP": 12, "DQDMODE": 0, "DR": 22, "DS": 0, "DSPFIRM": 0, "DSPFVS": dspfvs,
        "DTYPA": 2, "EXP": "specssb sample", "FnMODE": 0, "FnTYPE": 0, "GRPDLY": grpdly,
        "HOLDER": 0, "INSTRUM": "spect", "LOCKED": False, "LOCNUC": "off", "MASR": masr,
        "NBL": 1, "NC": 0, "NS": ns, "NUC1": nucleus, "NUCLEUS": "off", "O1": o1, "PARMODE": 0,
        "PROBHD": "specssb sample probe", "PULPROG": pulprog, "RG": 101, "SFO1": sfo1,
        "SOLVENT": "none", "SW": sw / sfo1, "SW_h": sw, "TD": td, "TD0": 1, "TE": 298.0,
        "BF1": bf1, "VDLIST": "", "VCLIST": "", "VPLIST": "",
        "CNST": [1] * 64, "D": [0] * 64, "L": [1] * 32, "P": [0] * 64, "PLW": [0] * 64,
    }
    params["D"][1] = 1.0       # d1 relaxation delay, s
    params["P"][1] = 2.5       # p1 excitation pulse, us
    for channel in range(2, 9):
        params.update({f"BF{channel}": bf1, f"SFO{channel}": bf1, f"O{channel}": 0,
                       f"NUC{channel}": "off"})
    return params


def _procs(acqus: Mapping[str, Any], si: int, nc_proc: int, offset: float,
           nucleus: str) -> dict[str, Any]:
    sf = acqus["BF1"]  # SR = 0
    sw_p = acqus["SW_h"]
    return {
        "ABSF1": offset, "ABSF2": offset - (si - 1) * sw_p / (sf * si), "ABSG": 5, "ABSL": 3, "ALPHA": 0,
        "AUNMP": "proc_1d", "AXNUC": nucleus, "AXUNIT": "", "BC_mod": 0, "BYTORDP": 0,
        "DC": 0, "DTYPP": 0, "FTSIZE": si, "FT_mod": 6, "GB": 0, "LB": 0, "MC2": 0,
        "NC_proc": nc_proc, "OFFSET": offset, "PHC0": 0, "PHC1": 0, "PH_mod": 1, "PKNL": True,
        "REVERSE": False, "SF": sf, "SI": si, "SIOLD": si, "SREF_mod": 1, "SSB": 0,
        "STSI": si, "STSR": 0, "SW_p": sw_p, "TDeff": acqus["TD"], "TDoff": 0, "TI": "",
        "WDW": 0, "XDIM": 0, "YMAX_p": 0, "YMIN_p": 0,
    }


# ---------------------------------------------------------------------------- files
def _write_fid(path: Path, fid: np.ndarray, dtype: str = "float64") -> None:
    path.write_bytes(_fid_bytes(fid, dtype))


def _whole_int32(fid: np.ndarray) -> bool:
    parts = np.concatenate([fid.real, fid.imag])
    limit = np.iinfo(np.int32)
    return bool(np.all(parts == np.round(parts)) and parts.min() >= limit.min and parts.max() <= limit.max)


def _fid_bytes(fid: np.ndarray, dtype: str = "float64") -> bytes:
    """Little-endian float64 or int32, re/im interleaved, zero-padded to whole 1024-byte blocks."""
    interleaved = np.empty(2 * fid.size, dtype="<f8" if dtype == "float64" else "<i4")
    interleaved[0::2], interleaved[1::2] = fid.real, fid.imag
    raw = interleaved.tobytes()
    return raw + b"\0" * (-len(raw) % BLOCK_BYTES)


def _write_pdata(pdata: Path, acqus: Mapping[str, Any], spectrum: np.ndarray | None,
                 offset_ppm: float | None, nucleus: str, when: dt.datetime, name: str,
                 window: Mapping[str, Any] | None = None) -> None:
    sf, sw_p = acqus["BF1"], acqus["SW_h"]
    offset = ((acqus["SFO1"] - sf) / sf * 1e6 + sw_p / (2 * sf)) if offset_ppm is None \
        else float(offset_ppm)
    si = 1 << max(0, (acqus["TD"] // 2 - 1).bit_length())
    nc_proc = 0
    if spectrum is not None:
        spectrum = np.asarray(spectrum)
        if spectrum.ndim != 1 or spectrum.size == 0 or not np.all(np.isfinite(spectrum)):
            raise ValueError("spectrum must be a non-empty finite 1-D array")
        si = spectrum.size
        nc_proc = _nc_proc(spectrum)
    procs = {**_procs(acqus, si, nc_proc, offset, nucleus), **(window or {})}
    if spectrum is not None:
        parts = {"1r": spectrum.real} | ({"1i": spectrum.imag} if np.iscomplexobj(spectrum) else {})
        for file, values in parts.items():
            ints = np.rint(np.asarray(values, dtype=np.float64) / 2.0**nc_proc).astype("<i4")
            (pdata / file).write_bytes(ints.tobytes())
            if file == "1r":
                procs.update(YMAX_p=int(ints.max()), YMIN_p=int(ints.min()))
    for file in ("procs", "proc"):
        _write_jcamp(pdata / file, procs, when, f"{name}/pdata/1/{file}", "proc1d")


def _nc_proc(spectrum: np.ndarray) -> int:
    """Exponent that puts the largest |value| in [2**28, 2**29) as int32 (as TopSpin scales)."""
    peak = float(max(np.abs(spectrum.real).max(), np.abs(np.imag(spectrum)).max()))
    if peak == 0.0:
        return 0
    return int(math.floor(math.log2(peak))) - 28


def _format(value: Any) -> str:
    """A JCAMP value as TopSpin writes it: <text>, yes/no, integers, %.15g floats."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f"<{value}>"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot write the non-finite value {value!r}")
    return f"{number:.15g}"


def _write_jcamp(path: Path, params: Mapping[str, Any], when: dt.datetime, where: str,
                 process: str) -> None:
    stamp = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d} +0000"
    lines = [
        f"##TITLE= Parameter file, {TOPSPIN}",
        "##JCAMPDX= 5.0",
        "##DATATYPE= Parameter Values",
        "##NPOINTS= 1\t$$ modification sequence number",
        "##ORIGIN= specssb sample-data writer (TopSpin 4 layout)",
        f"##OWNER= {OWNER}",
        f"$$ {stamp}  {OWNER}@sample",
        f"$$ /opt/topspin4.1.4/data/{OWNER}/nmr/{where}",
        f"$$ process /opt/topspin4.1.4/prog/mod/{process}",
    ]
    for key in sorted(params):
        value = params[key]
        if isinstance(value, list):
            lines.append(f"##${key}= (0..{len(value) - 1})")
            lines.extend(_wrap([_format(v) for v in value]))
        else:
            lines.append(f"##${key}= {_format(value)}")
    lines.append("##END=")
    path.write_bytes(("\n".join(lines) + "\n").encode("ascii"))


def _wrap(tokens: list[str], width: int = 72) -> list[str]:
    rows, row = [], ""
    for token in tokens:
        if row and len(row) + 1 + len(token) > width:
            rows.append(row)
            row = token
        else:
            row = f"{row} {token}" if row else token
    return [*rows, row]


def _pulse_program(name: str) -> str:
    return "\n".join([
        f";{name}",
        ";single-pulse acquisition (specssb sample-data stub of the pulse programme)",
        ";d1 : relaxation delay",
        ";p1 : excitation pulse at pl1",
        ";$CLASS=Solids",
        ";$DIM=1D",
        "",
        "1 ze",
        "2 d1",
        "  p1 ph1",
        "  go=2 ph31",
        "  wr #0",
        "exit",
        "",
        "ph1=0 2 2 0 1 3 3 1",
        "ph31=0 2 2 0 1 3 3 1",
        "",
    ])


def _csi_pulse_program() -> str:
    return "\n".join([
        ";csi1d_se",
        ";1D chemical-shift imaging: spin echo after a phase-encoding gradient pulse",
        ";(specssb sample-data stub of the pulse programme)",
        ";d1 : relaxation delay",
        ";d16: gradient recovery delay",
        ";d20: half the echo time TE/2",
        ";p1 : 90 degree pulse at pl1; p2 : 180 degree pulse at pl1",
        ";p16: phase-encode gradient pulse length",
        ";gpz1: % of the maximum gradient reached by the largest step (gradlist)",
        ";$CLASS=Imaging",
        ";$DIM=2D",
        "",
        "define list<gradient> glist=<gradlist>",
        "",
        "1 ze",
        "2 d1",
        "  p1 ph1",
        "  p16:gp1*glist",
        "  d16",
        "  d20",
        "  p2 ph2",
        "  d20",
        "  go=2 ph31",
        "  d1 wr #0 if #0 zd",
        "  glist.inc",
        "  lo to 2 times td1",
        "exit",
        "",
        "ph1=0 2",
        "ph2=1 1 3 3",
        "ph31=0 2 2 0",
        "",
    ])


def _csi_2d_pulse_program() -> str:
    return "\n".join([
        ";csi2d_se",
        ";2D chemical-shift imaging: spin echo after two phase-encoding gradient pulses",
        ";(specssb sample-data stub of the pulse programme)",
        ";d1 : relaxation delay",
        ";d16: gradient recovery delay",
        ";d20: half the echo time TE/2",
        ";p1 : 90 degree pulse at pl1; p2 : 180 degree pulse at pl1",
        ";p16: phase-encode gradient pulse length (x and y together)",
        ";gpx1, gpy1: % of the maximum gradient reached by the largest x / y step",
        ";gradlist: x steps (F2, td2); gradlist3: y steps (F1, td1)",
        ";$CLASS=Imaging",
        ";$DIM=3D",
        "",
        "aqseq 321",
        "define list<gradient> glx=<gradlist>",
        "define list<gradient> gly=<gradlist3>",
        "",
        "1 ze",
        "2 d1",
        "3 d1",
        "  p1 ph1",
        "  p16:gp1*glx*gly",
        "  d16",
        "  d20",
        "  p2 ph2",
        "  d20",
        "  go=2 ph31",
        "  d1 wr #0 if #0 zd",
        "  glx.inc",
        "  lo to 3 times td2",
        "  glx.res",
        "  gly.inc",
        "  lo to 3 times td1",
        "exit",
        "",
        "ph1=0 2",
        "ph2=1 1 3 3",
        "ph31=0 2 2 0",
        "",
    ])
