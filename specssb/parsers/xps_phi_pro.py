"""PHI MultiPak sputter depth profiles (``.pro``): one XPS Spectrum per region, levels leading.

Layout (verified on a PHI VersaProbe 4 profile, ``SnO2_10nm_1.pro``; shared details in
:mod:`specssb.parsers._phi_header`): the same ``SOFH`` … ``EOFH`` header as a ``.spe`` file, with
``FileType: DEPTHPRO`` and ``NoDPDataCyc`` (number of profile levels, 21 here), followed by the
binary directory and data. Each spectral region has one data block of ``levels x points``
float32 values in counts/s (directory axes ``pnt`` x ``cyc``), stored level by level. After the
regions come derived tables over ``cyc`` x ``reg`` (one row per region, in ``SpectralRegDef``
order), told apart by their unit:

* ``s`` — the cumulative sputter time before each level (0, 30, …, 600 s in the sample file);
* ``c/s * eV`` — MultiPak's peak area of each region at each level (the profile itself).

Returned Spectra
----------------
One per region, ``data`` of shape ``(levels, points)``, ``dims = ("level",)``, coordinates

* ``level`` — 0, 1, …: the number of sputter steps done before that level (0 = as received);
* ``sputter_time_s`` — cumulative sputter time in s, from the ``s`` table (absent if the file
  has none).

No depth coordinate is made: the files give sputter *times* only (``SputterRate``,
``GCIBSputterRate`` and the ``DepthCalDef`` rates are 0 in the sample); convert with a calibrated
rate. MultiPak's peak areas go to ``raw_meta["profile_area_cps_ev"]`` (read-only array, one per
level), the rest of ``raw_meta`` and ``meta`` are as for :mod:`specssb.parsers.xps_phi_spe`
(counts/s, binding-energy axis by default, ``energy="kinetic"`` converted with
``KE = hv - BE - phi``; acquired_at is the date of the file at midnight in ``timezone``, since
PHI headers carry no clock time).
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

__all__ = ["parse_phi_pro", "read_phi_pro"]

FORMAT = "phi-pro"


def sniff_phi_pro(path: Path, head: bytes) -> bool:
    """True for a PHI header (``SOFH`` line) with ``FileType: DEPTHPRO``."""
    return phi.file_type(head) == "DEPTHPRO"


def _levels(header: phi.PhiHeader, regions: list[phi.PhiRegion],
            records: dict[int, phi.DataRecord], path: str) -> int:
    declared = header.get("NoDPDataCyc")
    counts = {records[r.number].n_slow for r in regions}
    if len(counts) != 1:
        raise ParseError(path, f"the regions hold different numbers of levels: {sorted(counts)}",
                         position="binary directory")
    levels = counts.pop()
    if declared is not None:
        try:
            number = int(declared)
        except ValueError:
            raise ParseError(path, f"NoDPDataCyc is not an integer: {declared[:40]!r}",
                             position=f"line {header.line_of['NoDPDataCyc']}") from None
        if number != levels:
            raise ParseError(path, f"NoDPDataCyc is {number} but the data hold {levels} levels",
                             position=f"line {header.line_of['NoDPDataCyc']}")
    return levels


def _tables(data: bytes, header: phi.PhiHeader, all_records: list[phi.DataRecord],
            n_levels: int, n_regions: int) -> dict[str, np.ndarray]:
    """The ``cyc`` x ``reg`` tables by unit: ``{"s": (regions, levels), "c/s * eV": …}``."""
    tables = {}
    for record in all_records:
        if record.region_number == 0 and record.shape == (n_regions, n_levels):
            tables[record.unit] = phi.record_values(data, header, record)
    return tables


def parse_phi_pro(
    data: bytes,
    *,
    source: Source,
    energy: str = "binding",
    subtract_work_function: bool = False,
    timezone: str = "UTC",
) -> list[Spectrum]:
    """Parse the bytes of a PHI ``.pro`` depth profile: one Spectrum per region.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance; ``block`` is set per region to its label (``"Sn 3d5"``).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return: binding energy as stored, or ``KE = hv - BE - phi`` (eV).
    subtract_work_function : bool, default False
        Use ``AnalyserWorkFcn`` as ``phi`` for the kinetic axis (else ``phi = 0``).
    timezone : str, default "UTC"
        IANA zone of the instrument clock, used to place the header's date in UTC.

    Returns
    -------
    list of Spectrum
        In ``SpectralRegDef`` order; ``data`` of shape ``(levels, n)`` in counts/s,
        ``dims = ("level",)``, coordinates ``level`` (unit "1") and ``sputter_time_s`` (s).

    Raises
    ------
    ParseError
        Not a PHI depth profile, a truncated header or binary part, regions with different
        numbers of levels or a level count different from ``NoDPDataCyc``, a region without data.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> raw = open("SnO2_10nm_1.pro", "rb").read()  # doctest: +SKIP
    >>> spectra = parse_phi_pro(raw, source=Source("p.pro", "", "phi-pro"))  # doctest: +SKIP
    >>> spectra[3].shape, spectra[3].coords["sputter_time_s"].values[-1]  # doctest: +SKIP
    ((21, 101), 600.0)
    """
    phi.check_options(energy, timezone)
    header = phi.parse_header(data, source.path)
    kind = (header.get("FileType") or "").upper()
    if kind != "DEPTHPRO":
        raise ParseError(source.path, f"PHI FileType is {kind or 'missing'!r}, not DEPTHPRO: "
                         "not a depth profile (read spectra with format 'phi-spe')",
                         position=f"line {header.line_of.get('FileType', 2)}")
    regions = phi.parse_regions(header, source.path)
    all_records = phi.parse_directory(data, header, source.path)
    records = phi.region_records(all_records, regions, source.path)
    n_levels = _levels(header, regions, records, source.path)
    tables = _tables(data, header, all_records, n_levels, len(regions))
    times = next((t for unit, t in tables.items() if unit.strip() == "s"), None)
    areas = next((t for unit, t in tables.items() if "ev" in unit.replace(" ", "").lower()), None)
    row_of = {region.number: row for row, region in enumerate(regions)}

    def leading(region: phi.PhiRegion, record: phi.DataRecord, values: np.ndarray,
                ) -> tuple[np.ndarray, tuple[str, ...], dict[str, Coord], dict[str, Any]]:
        row = row_of[region.number]
        coords = {"level": Coord("level", np.arange(n_levels), "1")}
        raw: dict[str, Any] = {"levels": n_levels}
        if times is not None:
            coords["sputter_time_s"] = Coord("level", times[row] + 0.0, "s")  # -0.0 -> 0.0
        if areas is not None:
            profile = np.array(areas[row])
            profile.setflags(write=False)
            raw["profile_area_cps_ev"] = profile
        return values, ("level",), coords, raw

    return phi.build_spectra(data, header, regions, records, source=source, energy=energy,
                             subtract_work_function=subtract_work_function, timezone=timezone,
                             leading=leading)


@register_parser(
    name=FORMAT,
    technique="xps",
    extensions=(".pro",),
    description="PHI MultiPak XPS sputter depth profiles (levels x points per region)",
    sniff=sniff_phi_pro,
)
def read_phi_pro(
    path: Path,
    *,
    energy: str = "binding",
    subtract_work_function: bool = False,
    timezone: str = "UTC",
) -> list[Spectrum]:
    """Read a PHI ``.pro`` depth profile: one Spectrum per region with a ``level`` dimension.

    Parameters
    ----------
    path : Path
        The file.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_phi_pro`.
    subtract_work_function : bool, default False
        Use the header's ``AnalyserWorkFcn`` as ``phi`` in ``KE = hv - BE - phi``.
    timezone : str, default "UTC"
        IANA zone of the instrument clock (the file gives a date only, no zone).

    Returns
    -------
    list of Spectrum
        See :func:`parse_phi_pro`.

    Raises
    ------
    ParseError
        Missing, unreadable, truncated or malformed file.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> profile = specssb.read("SnO2_10nm_1.pro")  # doctest: +SKIP
    >>> [s.meta["region"] for s in profile]  # doctest: +SKIP
    ['Survey', 'C 1s', 'Si 2p', 'Sn 3d5']
    """
    phi.check_options(energy, timezone)
    data = read_bytes(path)
    return parse_phi_pro(data, source=make_source(path, FORMAT, data=data), energy=energy,
                         subtract_work_function=subtract_work_function, timezone=timezone)
