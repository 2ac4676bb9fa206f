"""Scienta SES text exports (``.txt``): one XPS Spectrum per region.

Layout, as verified on SES 1.3.1 files from an R3000 (``Ag_0001.txt``, ``Ag_0002.txt``) and an
R4000 (``Ru02_0063.txt``); line ends CRLF, CR or LF::

    [Info]
    Number of Regions=0001
    Version=1.3.1

    [Region 1]
    Region Name=Ag3d
    Dimension 1 name=Binding Energy [eV]      (or "Kinetic Energy [eV]")
    Dimension 1 size=361
    Dimension 1 scale=382 381.95 ... 364      (the energy axis, as written in [Data 1])
    Dimension 2 name=Y-Scale [deg]            (only for 2-D regions: angle, sweep ...)
    Dimension 2 size=...
    Dimension 2 scale=...

    [Info 1]
    Region Name=Ag3d
    Lens Mode=Transmission
    Pass Energy=50
    Number of Sweeps=2
    Excitation Energy=520
    Energy Scale=Binding
    Acquisition Mode=Swept
    Energy Unit=Kinetic                       (unit of Center/Low/High Energy)
    Center Energy=147 ... Step Time=203 ... Date=2023-03-08  Time=15:24:35 ...

    [Run Mode Information 1]                  (free lines, may be empty)

    [Data 1]
     3.82000000000000E+0002  1.57494897842407E+0001
     ...

Then ``[Region 2]`` ... for the next region. ``[Data n]`` holds one row per energy point: the
energy, then one count per value of dimension 2 (a single count for a 1-D region). The
Spectrum's data are ``(n,)`` for a 1-D region and ``(n_dim2, n)`` for a 2-D region, with the
dimension 2 scale as coordinate (dimension ``"angle"`` in degrees for ``Y-Scale [deg]``, else
the label in snake case). Regions with a third dimension are refused with a ParseError.

The energy axis is the first column of ``[Data n]`` (checked against ``Dimension 1 scale``);
its kind comes from ``Dimension 1 name``, else from ``Energy Scale``. With ``energy="binding"``
(default) a kinetic axis becomes ``BE = hv - KE`` (no work function: SES's own binding-energy
export satisfies it exactly, see :mod:`specssb.parsers._scienta_info`), recorded in
``history``. What the ``[Info n]`` keys become in ``meta`` is tabulated in that module;
``raw_meta`` holds the file ``[Info]`` fields, the ``[Region n]`` and ``[Info n]`` fields under
their SES names and the ``[Run Mode Information n]`` lines as a list.
"""

from __future__ import annotations

import re
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._registry import register_parser
from specssb.parsers._scienta_info import (
    SECTION,
    axis_kind,
    dimension,
    key_values,
    make_spectrum,
)
from specssb.spectrum import Source, Spectrum

__all__ = ["parse_scienta_txt", "read_scienta_txt"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NUMBERED = re.compile(r"^(?P<kind>Region|Info|Data|Run Mode Information)\s+(?P<n>\d+)$")


@dataclass
class _Section:
    name: str
    line: int  # 0-based index of the heading
    lines: list[str] = field(default_factory=list)


def _sections(lines: list[str], path: str) -> list[_Section]:
    sections: list[_Section] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        match = SECTION.match(stripped)
        if match:
            sections.append(_Section(match["name"].strip(), index))
        elif sections:
            sections[-1].lines.append(line)
        elif stripped:
            raise ParseError(path, f"not a Scienta SES text file: expected '[Info]', found "
                             f"{stripped[:60]!r}", position=f"line {index + 1}")
    if not sections or sections[0].name != "Info":
        found = sections[0].name if sections else "nothing"
        raise ParseError(path, f"not a Scienta SES text file: expected '[Info]' first, found "
                         f"{found[:60]!r}", position="line 1")
    return sections


def _int_field(fields: dict[str, str], key: str, path: str, where: str) -> int:
    text = fields.get(key)
    if text is None:
        raise ParseError(path, f"missing {key!r}", position=where)
    try:
        value = int(text)
    except ValueError:
        raise ParseError(path, f"{key} is not an integer: {text[:40]!r}", position=where) from None
    if value < 0:
        raise ParseError(path, f"{key} is negative ({value})", position=where)
    return value


def _floats(text: str, path: str, position: str, what: str) -> np.ndarray:
    try:
        return np.array(text.split(), dtype=np.float64)
    except ValueError:
        bad = next(t for t in text.split() if not _is_float(t))
        raise ParseError(path, f"{what}: not a number {bad[:40]!r}", position=position) from None


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _data_rows(section: _Section, n_rows: int, n_columns: int, path: str) -> np.ndarray:
    rows = [(section.line + 2 + i, line) for i, line in enumerate(section.lines) if line.strip()]
    if len(rows) != n_rows:
        raise ParseError(path, f"[{section.name}] holds {len(rows)} rows but Dimension 1 size "
                         f"is {n_rows} (truncated file?)", position=f"line {section.line + 1}")
    check_array((n_rows, n_columns), f"[{section.name}] table", path=path)
    table = np.empty((n_rows, n_columns), dtype=np.float64)
    for i, (number, line) in enumerate(rows):
        values = _floats(line, path, f"line {number}", f"[{section.name}] row")
        if values.size != n_columns:
            raise ParseError(path, f"expected {n_columns} numbers (energy + {n_columns - 1} "
                             f"counts), found {values.size} (truncated row?)",
                             position=f"line {number}")
        table[i] = values
    return table


def _dimensions(fields: dict[str, str], path: str, where: str) -> list[tuple[str, int, str]]:
    """(name, size, scale text) for each declared dimension, in order."""
    found = []
    number = 1
    while f"Dimension {number} name" in fields or f"Dimension {number} size" in fields:
        size = _int_field(fields, f"Dimension {number} size", path, where)
        found.append((fields.get(f"Dimension {number} name", ""), size,
                      fields.get(f"Dimension {number} scale", "")))
        number += 1
    if not found:
        raise ParseError(path, "missing 'Dimension 1 name' / 'Dimension 1 size'", position=where)
    if len(found) > 2:
        raise ParseError(path, f"{len(found)}-D regions are not supported (only energy and one "
                         "more dimension)", position=where)
    return found


def _region(number: int, parts: dict[str, _Section], file_info: dict[str, str], source: Source,
            *, energy: str, timezone: str, warnings: list[str]) -> Spectrum:
    path = source.path
    region, data = parts.get("Region"), parts.get("Data")
    if region is None or data is None:
        missing = "Region" if region is None else "Data"
        raise ParseError(path, f"region {number} has no [{missing} {number}] section "
                         "(truncated file?)")
    region_fields = key_values(region.lines)
    info = key_values(parts["Info"].lines) if "Info" in parts else {}
    name = info.get("Region Name") or region_fields.get("Region Name", "")
    where = f"region {number} ({name!r})"
    dims = _dimensions(region_fields, path, where)
    (energy_label, n_energy, energy_scale), *others = dims
    n_columns = 1 + (others[0][1] if others else 1)
    table = _data_rows(data, n_energy, n_columns, path)
    axis_values = table[:, 0]
    _check_scale(energy_scale, axis_values, path, where, warnings)

    kind = axis_kind(energy_label, info.get("Energy Scale"))
    if kind is None:
        raise ParseError(path, f"cannot tell kinetic from binding energy: Dimension 1 name is "
                         f"{energy_label[:40]!r} and Energy Scale is "
                         f"{info.get('Energy Scale', '')[:40]!r}", position=where)
    unit = dimension(energy_label)[1]
    if unit and unit.lower() != "ev":
        raise ParseError(path, f"the energy axis is in {unit!r}; only eV is supported",
                         position=where)

    leading = []
    counts = table[:, 1]
    if others:
        label, size, scale = others[0]
        dim, dim_unit = dimension(label)
        coords = _floats(scale, path, where, f"Dimension 2 scale ({label})") if scale else \
            np.arange(size, dtype=np.float64)
        if coords.size != size:
            raise ParseError(path, f"Dimension 2 scale has {coords.size} values but Dimension 2 "
                             f"size is {size}", position=where)
        leading.append((dim, dim_unit, coords))
        counts = table[:, 1:].T
    raw_meta: dict[str, Any] = {**file_info, **region_fields, **info}
    if "Run Mode Information" in parts:
        raw_meta["Run Mode Information"] = [
            line.strip() for line in parts["Run Mode Information"].lines if line.strip()]
    raw_meta["region number"] = number
    block = name or f"region {number}"
    return make_spectrum(
        kind=kind, axis_values=axis_values, data=counts, leading=leading, info=info,
        raw_meta=raw_meta, source=_with_block(source, block), where=where, energy=energy,
        timezone=timezone, warnings=warnings,
    )


def _check_scale(scale: str, axis: np.ndarray, path: str, where: str,
                 warnings: list[str]) -> None:
    if not scale:
        return
    values = _floats(scale, path, where, "Dimension 1 scale")
    if values.size != axis.size:
        raise ParseError(path, f"Dimension 1 scale has {values.size} values but Dimension 1 "
                         f"size is {axis.size}", position=where)
    if not np.allclose(values, axis, rtol=1e-9, atol=1e-6):
        warnings.append(f"{where}: Dimension 1 scale differs from the energy column of the data "
                        f"(by up to {np.max(np.abs(values - axis)):.3g} eV); the data column is "
                        "used")


def _with_block(source: Source, block: str) -> Source:
    return Source(path=source.path, sha256=source.sha256, format=source.format, block=block,
                  parser_version=source.parser_version)


def _check_options(energy: str, timezone: str) -> None:
    if energy not in ("binding", "kinetic"):
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")
    time_zone(timezone)


def parse_scienta_txt(
    text: str, *, source: Source, energy: str = "binding", timezone: str = "UTC"
) -> list[Spectrum]:
    """Parse the text of a Scienta SES ``.txt`` export into one XPS Spectrum per region.

    Parameters
    ----------
    text : str
        The whole file, decoded (line ends CRLF, CR or LF).
    source : Source
        Provenance of the file; ``block`` is set to each region's name.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return: a kinetic axis becomes ``BE = hv - KE`` (eV, no work function), a
        binding axis read with ``"kinetic"`` becomes ``KE = hv - BE``. Without an excitation
        energy the file's axis is kept and a MetadataWarning says so.
    timezone : str, default "UTC"
        IANA zone of the instrument PC clock: SES writes ``Date``/``Time`` as local time
        without a zone; ``acquired_at`` is that time in this zone, converted to UTC.

    Returns
    -------
    list of Spectrum
        In file order; technique ``"xps"``, signal ``"counts"``; data ``(n,)`` or, for a
        region with a second dimension, ``(n_dim2, n)`` with its coordinate. ``meta`` and
        ``raw_meta`` as described in :mod:`specssb.parsers._scienta_info`.

    Raises
    ------
    ParseError
        Not an SES file, a missing section, fewer regions or rows than declared, a row with the
        wrong number of values, an unreadable number, a non-monotonic or non-finite axis.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Warns
    -----
    MetadataWarning
        Unreadable optional fields (date, pass energy ...), a Dimension 1 scale that differs
        from the data's energy column, no excitation energy.
    """
    _check_options(energy, timezone)
    path = source.path
    sections = _sections(_LINE_BREAK.split(text.lstrip("\ufeff")), path)
    file_info = key_values(sections[0].lines)
    regions: dict[int, dict[str, _Section]] = {}
    for section in sections[1:]:
        match = _NUMBERED.match(section.name)
        if match:
            regions.setdefault(int(match["n"]), {})[match["kind"]] = section
    declared = file_info.get("Number of Regions")
    if declared is not None:
        n_declared = _int_field(file_info, "Number of Regions", path, "[Info]")
        if n_declared != len(regions):
            raise ParseError(path, f"Number of Regions is {n_declared} but the file holds "
                             f"{len(regions)} (truncated file?)", position="[Info]")
    if not regions:
        raise ParseError(path, "no [Region 1] section: not an SES region file, or truncated")
    warnings: list[str] = []
    spectra = [
        _region(number, parts, file_info, source, energy=energy, timezone=timezone,
                warnings=warnings)
        for number, parts in sorted(regions.items())
    ]
    for message in dict.fromkeys(warnings):
        _warnings.warn(f"{path}: {message}", MetadataWarning, stacklevel=2)
    return spectra


def _sniff(path: Path, head: bytes) -> bool:
    """SES text: starts with ``[Info]`` and declares regions (other ``.txt`` formats do not)."""
    stripped = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    return stripped.startswith(b"[Info]") and (
        b"Number of Regions=" in head or b"Region Name=" in head)


@register_parser(
    name="scienta-txt",
    technique="xps",
    extensions=(".txt",),
    description="Scienta SES text export ([Info]/[Region n]/[Data n] sections; 1-D and 2-D)",
    sniff=_sniff,
)
def read_scienta_txt(
    path: Path, *, encoding: str = "latin-1", energy: str = "binding", timezone: str = "UTC"
) -> list[Spectrum]:
    """Read a Scienta SES ``.txt`` export: one Spectrum per region.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding (SES writes Windows ANSI; latin-1 decodes every byte).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_scienta_txt` (``BE = hv - KE``, eV).
    timezone : str, default "UTC"
        IANA zone of the instrument clock (SES writes local time without a zone).

    Returns
    -------
    list of Spectrum
        See :func:`parse_scienta_txt`.

    Raises
    ------
    ParseError
        Missing, unreadable, truncated or malformed file.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> [ag3d] = specssb.read("Ag_0001.txt")  # doctest: +SKIP
    >>> ag3d.meta["region"], ag3d.axis.values[0]  # doctest: +SKIP
    ('Ag 3d', 382.0)
    """
    _check_options(energy, timezone)
    data = read_bytes(path)
    source = make_source(path, "scienta-txt", data=data)
    return parse_scienta_txt(decode_text(data, path, encoding), source=source, energy=energy,
                             timezone=timezone)
