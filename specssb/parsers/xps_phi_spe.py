"""PHI MultiPak / SmartSoft / Compass spectrum files (``.spe``): one XPS Spectrum per region.

Layout (verified on PHI VersaProbe 4, Quantera SXM and Quantum 2000 files; details in
:mod:`specssb.parsers._phi_header`): an ASCII header between ``SOFH`` and ``EOFH`` lines
(``FileType: SPECTRUM``), then a little-endian binary part: a 16-byte directory header, one
96-byte record per region (points, value type ``f4``/``f8``, unit ``c/s``, byte offset) and the
data blocks. The regions (name, points, energy start and step, dwell time, pass energy) are the
header's ``SpectralRegDef`` lines, counted by ``NoSpectralReg``.

Intensity
---------
The stored values are **counts per second** (the directory says ``c/s``; ``signal="cps"``),
already averaged over sweeps and the multichannel detector. They are returned unchanged (float32
widened to float64). Checked: ULVAC-PHI's own export of the Quantera files (the M-DaC CSVs in
``../shared/data/xps/nims-mdac``, header ``#y,Intensity,cps``) equals the stored values printed
with four decimals, for every point of every region.

Energy axis
-----------
PHI defines each region in binding energy: point ``i`` is at ``start + i * step`` eV (``step``
is negative, so the axis decreases, in measured order), which is also the energy column of the
vendor export. ``energy="kinetic"`` gives ``KE = hv - BE - phi`` through
:func:`~specssb.parsers._xps_energy.convert_energy`, with ``hv`` from ``XraySource`` (``Al
1486.6 mono`` -> 1486.6 eV) and ``phi = 0`` (Fermi-level referenced, as PHI's own VAMAS export
writes BE = hv - KE), or ``AnalyserWorkFcn`` with ``subtract_work_function=True``.

Metadata
--------
``meta``: region (``'Cu 2p'``, ``'Cu LMM'``, ``'Survey'``), element (from the region's atomic
number, else its name: ``Sn3d5`` -> ``'Sn'``), transition (``'3d5'``, as PHI writes it),
excitation_energy_ev, pass_energy_ev, dwell_time_s (``SpectralRegDef``), n_scans (sweeps,
``SpectralRegDef2``), sample (``SpatialAreaDesc``, else ``FileDesc``), title (``FileDesc``),
instrument (``InstrumentModel``), operator, source_label (``XraySource``), analyser_mode,
analyser_angle_deg (``SourceAnalyserAngle``), work_function_ev (on a kinetic axis only), and
acquired_at. PHI headers give the **date only** (``AcqFileDate: 2017 6 6``; Compass writes
``" 2021 10 5"`` with a leading space) and no time zone: acquired_at is midnight of that day in
``timezone`` (default ``"UTC"``; name the instrument's zone, e.g. ``"Asia/Tokyo"``, when known),
converted to UTC, so it is exact to the day only.

``raw_meta`` holds every header line (repeated keys as lists), the region's definition line,
atomic number, data unit and type, and ``intensity_calibration_coefficients``: the ``(a, b)`` of
``IntensityCalCoeff``, PHI's analyser transmission-function coefficients (a function of kinetic
energy and pass energy; see the CasaXPS manual, FAQ 9). They are recorded, not applied.

Files whose ``FileType`` is ``DEPTHPRO`` belong to :mod:`specssb.parsers.xps_phi_pro`. The sniffer
claims only files that start with an ``SOFH`` line, so Princeton Instruments ``.spe`` camera
files (binary, no ``SOFH``) are left to their own reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers import _phi_header as phi
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.spectrum import Coord, Source, Spectrum

__all__ = ["parse_phi_spe", "read_phi_spe"]

FORMAT = "phi-spe"


def sniff_phi_spe(path: Path, head: bytes) -> bool:
    """True for a PHI header (``SOFH`` line) whose FileType is SPECTRUM or absent."""
    return phi.file_type(head) in ("SPECTRUM", "")


def _areas(region: phi.PhiRegion, record: phi.DataRecord, values: np.ndarray,
           ) -> tuple[np.ndarray, tuple[str, ...], dict[str, Coord], dict[str, Any]]:
    """One spatial area -> a 1-D spectrum; several -> a leading ``area`` dimension."""
    if values.shape[0] == 1:
        return values[0], (), {}, {}
    areas = np.arange(1, values.shape[0] + 1)
    return values, ("area",), {"area": Coord("area", areas, "1")}, {}


def parse_phi_spe(
    data: bytes,
    *,
    source: Source,
    energy: str = "binding",
    subtract_work_function: bool = False,
    timezone: str = "UTC",
) -> list[Spectrum]:
    """Parse the bytes of a PHI ``.spe`` file into one XPS Spectrum per spectral region.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance; ``block`` is set per region to its label (``"Cu 2p"``).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return: binding energy as stored, or ``KE = hv - BE - phi`` (eV).
    subtract_work_function : bool, default False
        Use ``AnalyserWorkFcn`` as ``phi`` for the kinetic axis (else ``phi = 0``).
    timezone : str, default "UTC"
        IANA zone of the instrument clock, used to place the header's date in UTC.

    Returns
    -------
    list of Spectrum
        In ``SpectralRegDef`` order; data of shape ``(n,)`` in counts/s (``signal="cps"``), or
        ``(n_areas, n)`` with dims ``("area",)`` when the file holds several analysis areas.
        See the module docstring for ``meta`` and ``raw_meta``.

    Raises
    ------
    ParseError
        Not a PHI file, a depth profile, a truncated header or binary part, a region without
        data or with a different number of points, an unreadable region definition.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Warns
    -----
    MetadataWarning
        Unreadable date, missing photon energy, inconsistent region end energy.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> raw = open("XPS_PHI_QUANTERA_narrow.spe", "rb").read()  # doctest: +SKIP
    >>> spectra = parse_phi_spe(raw, source=Source("narrow.spe", "", "phi-spe"))  # doctest: +SKIP
    >>> [s.meta["region"] for s in spectra]  # doctest: +SKIP
    ['Cu 2p', 'Cu LMM', 'O 1s', 'C 1s']
    """
    phi.check_options(energy, timezone)
    header = phi.parse_header(data, source.path)
    kind = (header.get("FileType") or "").upper()
    if kind == "DEPTHPRO":
        raise ParseError(source.path, "this is a PHI depth profile (FileType DEPTHPRO): read "
                         "it with format 'phi-pro'", position=f"line {header.line_of['FileType']}")
    if kind not in ("", "SPECTRUM"):
        raise ParseError(source.path, f"PHI FileType {kind!r} is not a spectrum file (only "
                         "SPECTRUM is read by 'phi-spe')",
                         position=f"line {header.line_of['FileType']}")
    regions = phi.parse_regions(header, source.path)
    records = phi.region_records(phi.parse_directory(data, header, source.path), regions,
                                 source.path)
    return phi.build_spectra(data, header, regions, records, source=source, energy=energy,
                             subtract_work_function=subtract_work_function, timezone=timezone,
                             leading=_areas)


@register_parser(
    name=FORMAT,
    technique="xps",
    extensions=(".spe",),
    description="PHI MultiPak / SmartSoft / Compass XPS spectra (SOFH header + binary data)",
    sniff=sniff_phi_spe,
)
def read_phi_spe(
    path: Path,
    *,
    energy: str = "binding",
    subtract_work_function: bool = False,
    timezone: str = "UTC",
) -> list[Spectrum]:
    """Read a PHI ``.spe`` spectrum file: one Spectrum (counts/s) per spectral region.

    Parameters
    ----------
    path : Path
        The file.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_phi_spe`.
    subtract_work_function : bool, default False
        Use the header's ``AnalyserWorkFcn`` as ``phi`` in ``KE = hv - BE - phi``.
    timezone : str, default "UTC"
        IANA zone of the instrument clock (the file gives a date only, no zone).

    Returns
    -------
    list of Spectrum
        See :func:`parse_phi_spe`.

    Raises
    ------
    ParseError
        Missing, unreadable, truncated or malformed file.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> spectra = specssb.read("XPS_PHI_QUANTERA_survey.spe")  # doctest: +SKIP
    >>> spectra[0].meta["region"], spectra[0].axis.values[0], spectra[0].signal  # doctest: +SKIP
    ('Survey', 1380.0, 'cps')
    """
    phi.check_options(energy, timezone)
    data = read_bytes(path)
    return parse_phi_spe(data, source=make_source(path, FORMAT, data=data), energy=energy,
                         subtract_work_function=subtract_work_function, timezone=timezone)
