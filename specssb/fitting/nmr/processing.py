"""The NMR processing chain: every step as a function, and :func:`process` for TopSpin's procs.

Each step is a pure function ``Spectrum -> Spectrum`` that records one history Step and works
on data of any leading shape ``(*leading, n)`` (pseudo-2D series, 2D ``ser`` rows, CSI voxels)
in one vectorized call:

============================  ==============================================================
step                          module
============================  ==============================================================
remove_digital_filter         :mod:`.timedomain` (Bruker GRPDLY or the DSPFVS/DECIM table)
dc_offset, truncate,          :mod:`.timedomain`
zero_fill
shift_to_echo_top,            :mod:`.echo` (solid-state echoes)
whole_echo
exponential, gaussian,        :mod:`.apodize` (TopSpin em, gm, sinm/qsin)
sine_bell
fft                           :mod:`.transform` (TopSpin's sign and ordering, ppm decreasing)
phase, autophase, magnitude   :mod:`.phase` (PHC0/PHC1 as TopSpin; ACME; peak minima)
baseline_correct              :mod:`.baseline` (polynomial on signal-free regions)
reference_from_file,          :mod:`.reference`
reference_to
============================  ==============================================================

:func:`process` runs the chain with the parameters TopSpin stored in ``pdata/N/procs`` and
reproduces TopSpin's ``1r`` (and ``1i``): correlation 1.000000 and the same peak points on the
Bruker test sets, absolute intensity included (see ``tests/fitting/nmr/test_process.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from specssb.errors import ConfigError, FitError, SpecssbError
from specssb.spectrum import Spectrum, owned

from ._common import real_number, require_nmr, require_time
from .apodize import exponential, gaussian, sine_bell
from .baseline import baseline_correct, signal_free_mask
from .echo import echo_top, shift_to_echo_top, whole_echo
from .phase import autophase, magnitude, phase
from .reference import reference_from_file, reference_to
from .timedomain import dc_offset, group_delay, remove_digital_filter, truncate, zero_fill
from .transform import fft

__all__ = [
    "TOPSPIN_DEFAULTS",
    "process_fids",
    "autophase",
    "baseline_correct",
    "dc_offset",
    "echo_top",
    "exponential",
    "fft",
    "gaussian",
    "group_delay",
    "magnitude",
    "phase",
    "process",
    "reference_from_file",
    "reference_to",
    "remove_digital_filter",
    "scale",
    "shift_to_echo_top",
    "signal_free_mask",
    "sine_bell",
    "truncate",
    "whole_echo",
    "zero_fill",
]

#: TopSpin procs values used when a key is missing from the mapping given to :func:`process`.
TOPSPIN_DEFAULTS: Mapping[str, Any] = {
    "WDW": 0, "LB": 0.0, "GB": 0.0, "SSB": 0.0, "PHC0": 0.0, "PHC1": 0.0, "PH_mod": 0,
    "BC_mod": 0, "TDeff": 0, "ABSG": 5,
}

#: TopSpin WDW codes understood (0 no, 1 em, 2 gm, 3 sine, 4 qsine).
WINDOWS = {0: "none", 1: "em", 2: "gm", 3: "sine", 4: "qsine"}
#: TopSpin BC_mod codes understood (0 no, 1 single, 2 quad).
DC_MODES = {0: None, 1: "single", 2: "quad"}
#: TopSpin PH_mod codes understood (0 no, 1 pk, 2 mc magnitude).
PHASE_MODES = {0: "none", 1: "pk", 2: "mc"}


def scale(spectrum: Spectrum, factor: float) -> Spectrum:
    """Multiply the data by ``factor`` (e.g. TopSpin's ``2**NC`` receiver scaling).

    Parameters
    ----------
    spectrum : Spectrum
        Any NMR spectrum or FID.
    factor : float
        Multiplier.

    Returns
    -------
    Spectrum
        Scaled copy.
    """
    operation = "nmr_scale"
    spectrum = require_nmr(spectrum, operation)
    factor = real_number(factor, "factor")
    return spectrum.with_step(operation, {"factor": factor}, data=owned(spectrum.data * factor))


def _code(params: Mapping[str, Any], key: str, table: Mapping[int, Any]) -> Any:
    value = params.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value in table:
        return table[int(value)]
    raise ConfigError(f"procs {key}={value!r} is not supported (supported: "
                      f"{', '.join(f'{k} {v}' for k, v in table.items())})", key=key)


def _procs(spectrum: Spectrum, procs: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(procs, str):
        if procs != "file":
            raise ConfigError(f"procs must be 'file' or a mapping of TopSpin parameters, not "
                              f"{procs!r}", key="procs")
        stored = spectrum.raw_meta.get("procs")
        if not isinstance(stored, Mapping):
            raise FitError("process(procs='file'): the data set has no pdata/N/procs (read the "
                           "experiment folder, or pass the parameters as a mapping)")
        return {**TOPSPIN_DEFAULTS, **stored}
    if not isinstance(procs, Mapping):
        raise ConfigError(f"procs must be 'file' or a mapping, got {type(procs).__name__}",
                          key="procs")
    return {**TOPSPIN_DEFAULTS, **procs}


def process(spectrum: Spectrum, procs: str | Mapping[str, Any] = "file", *,
            absolute: bool = True, baseline: bool = False) -> Spectrum:
    """Process an FID as TopSpin did (``ft`` + window + phase), from the stored procs.

    The chain: keep TDeff points (if set) -> DC offset (BC_mod single/quad) -> digital-filter
    removal (GRPDLY) -> window (WDW: EM with LB, GM with LB/GB, SINE/QSINE with SSB) -> zero
    fill or truncate to SI -> FFT (TopSpin's convention) -> phase (PH_mod pk: PHC0/PHC1;
    mc: magnitude) -> reference (SF, OFFSET, SW_p) -> scale by ``2**NC`` (acqus) -> optional
    polynomial baseline (``abs``, degree ABSG, automatic regions).

    Parameters
    ----------
    spectrum : Spectrum
        Raw FID(s) as the Bruker reader returns them (``raw_meta`` holds acqus and, for
        ``procs="file"``, procs); a ``ser`` is processed row by row in one call.
    procs : "file" or Mapping, default "file"
        ``"file"``: the values in ``raw_meta["procs"]``; or a mapping of TopSpin parameter
        names (WDW, LB, GB, SSB, SI, PHC0, PHC1, PH_mod, BC_mod, TDeff, SF, OFFSET, SW_p,
        ABSG); missing keys take :data:`TOPSPIN_DEFAULTS` (SI: the FID's length).
    absolute : bool, default True
        Multiply by ``2**NC`` (acqus) so the intensities are TopSpin's (those of ``1r`` as
        :func:`specssb.read` returns it, i.e. scaled by ``2**NC_proc``).
    baseline : bool, default False
        Apply an automatic polynomial baseline of degree ABSG afterwards. TopSpin's ``abs`` is
        a separate command whose use the procs file does not record, so it is off by default.

    Returns
    -------
    Spectrum
        Complex spectrum (real for PH_mod mc) on TopSpin's ppm axis; one Step per stage plus
        a final ``nmr_process`` Step naming the procs values used.

    Raises
    ------
    FitError
        Not an FID, NaN data, no procs for ``"file"``.
    ConfigError
        Unsupported procs modes (e.g. WDW trap, BC_mod spol, PH_mod ps) or bad values.

    Examples
    --------
    >>> import specssb
    >>> from specssb.fitting.nmr.processing import process
    >>> fid, = specssb.read("datalab/1")                                  # doctest: +SKIP
    >>> spectrum = process(fid)                                           # doctest: +SKIP
    """
    spectrum = require_time(spectrum, "process")
    params = _procs(spectrum, procs)
    window = _code(params, "WDW", WINDOWS)
    dc_mode = _code(params, "BC_mod", DC_MODES)
    phase_mode = _code(params, "PH_mod", PHASE_MODES)
    n = spectrum.axis.size
    td_eff = int(params.get("TDeff") or 0)
    if 0 < td_eff // 2 < n:
        spectrum = truncate(spectrum, td_eff // 2)
    if dc_mode is not None:
        spectrum = dc_offset(spectrum, mode=dc_mode)
    delay = group_delay(spectrum)
    if delay:
        spectrum = remove_digital_filter(spectrum, delay)
    spectrum = _window(spectrum, window, params)
    size = int(params.get("SI") or spectrum.axis.size)
    if size < spectrum.axis.size:
        spectrum = truncate(spectrum, size)
    elif size > spectrum.axis.size:
        spectrum = zero_fill(spectrum, size)
    spectrum = fft(spectrum)
    if phase_mode == "pk":
        spectrum = phase(spectrum, float(params["PHC0"]), float(params["PHC1"]))
    elif phase_mode == "mc":
        spectrum = magnitude(spectrum)
    if all(isinstance(params.get(k), (int, float)) for k in ("SF", "OFFSET", "SW_p")):
        spectrum = reference_from_file(spectrum, params)
    if absolute:
        nc = (spectrum.raw_meta.get("acqus") or {}).get("NC")
        if isinstance(nc, (int, float)) and nc != 0:
            spectrum = scale(spectrum, math.ldexp(1.0, int(nc)))
    if baseline:
        spectrum = baseline_correct(spectrum, degree=int(params.get("ABSG") or 5),
                                    real_only=True)
    used = {k: params.get(k) for k in ("WDW", "LB", "GB", "SSB", "SI", "TDeff", "PHC0", "PHC1",
                                       "PH_mod", "BC_mod", "SF", "OFFSET", "SW_p", "ABSG")
            if k in params}
    return spectrum.with_step("nmr_process", {"procs": "file" if isinstance(procs, str)
                                              else "given", "values": used,
                                              "absolute": absolute, "baseline": baseline})


def _window(spectrum: Spectrum, window: str, params: Mapping[str, Any]) -> Spectrum:
    if window == "em":
        return exponential(spectrum, float(params["LB"]))
    if window == "gm":
        return gaussian(spectrum, float(params["LB"]), float(params["GB"]))
    if window in ("sine", "qsine"):
        return sine_bell(spectrum, float(params["SSB"]), squared=window == "qsine")
    return spectrum


def process_fids(spectra: Sequence[Spectrum]) -> tuple[list[Spectrum], list[str]]:
    """Spectra as peak recipes need them: 1D FIDs processed from their stored procs (real part).

    Series (CSI data sets, pseudo-2D) and every other spectrum are returned unchanged, for their
    own chains. A FID that cannot be processed is kept raw.

    Returns
    -------
    spectra : list of Spectrum
        In input order.
    notes : list of str
        What was done to each FID, the warnings raised while processing, and the failures
        (``"FID not processed: …"``).
    """
    out, notes = [], []
    for spectrum in spectra:
        if spectrum.technique == "nmr" and spectrum.signal == "fid" and not spectrum.leading_shape:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    processed = process(spectrum)
                spectrum = processed.replace(data=processed.data.real)
                notes.append("FID processed as its procs say (Fourier transform, window, phase)")
                notes += [f"{w.category.__name__}: {w.message}" for w in caught]
            except SpecssbError as error:
                notes.append(f"FID not processed: {error}")
        out.append(spectrum)
    return out, notes

