"""SPECS SpecsLab Prodigy XY export (``.xy``): one XPS Spectrum per region and cycle.

Layout (checked on ``MgFe2O4_small.xy`` and ``MgFe2O4_with_transmission_function.xy``, both
written by SpecsLab Prodigy 4.100): plain text, every header line starts with the comment
prefix (``#``, named by the *Comment Prefix* setting), data rows are whitespace-separated numbers::

    # Created by:        SpecsLab Prodigy, Version 4.100.1-r111001
    # XY-Serializer Export Settings:
    #   Energy Axis:              Binding Energy        (or Kinetic Energy)
    #   Count Rate:               Counts per Second     (or Counts)
    #   Separate Scan Data:       yes                   (one data block per scan)
    #   Transmission Function:    yes                   (a "transmission" column)
    #   Time Zone Format:         UTC
    # Group:                        1 as-loaded
    # Region:                       Fe2p
    # Acquisition Date:             08/24/23 14:11:36 UTC
    # Scan Mode:                    FixedAnalyzerTransmission
    # Curves/Scan:                  1
    # Values/Curve:                 56
    # Dwell Time:                   0.3
    # Excitation Energy:            1486.61
    # Pass Energy:                  20
    # Eff. Workfunction:            4.1082
    # Source:                       XR 50
    # Comment:                      ...
    # Cycle: 0
    # Parameter: "Loop" = 1                             (optional, per cycle)
    # Number of Scans: 1
    # Cycle: 0, Curve: 0, Scan: 0                       (", Scan: s" only with separate scans)
    # Acquisition Date:             08/24/23 14:11:36 UTC
    # ColumnLabels:                 energy counts/s transmission
    750  5913.3234  ...

A *group* holds regions, a region holds *cycles* (Prodigy's loop iterations, each measured at
its own time: one Spectrum each), a cycle holds one data block per curve and, when the file was
exported with *Separate Scan Data: yes*, per scan. Without separate scans Prodigy writes one
block per curve with the scans already combined, and that block is read as it is.

What becomes of it
------------------
* The signal is the second column (``counts/s`` -> signal ``cps``, ``counts`` -> ``counts``;
  the *Count Rate* setting when there are no column labels).
* Blocks of one cycle whose index takes more than one value become leading dimensions, in the
  order ``scan``, ``curve``, ``channel`` (coordinates: the file's 0-based indices). A cycle
  with one scan is a 1-D Spectrum also in a file with separate scans.
* A ``transmission`` column (Prodigy's analyser transmission function at each point) goes to
  ``raw_meta["transmission"]`` as a read-only array of shape (n,), where
  :func:`specssb.fitting.xps.quantify.transmission_curve` finds it; other extra columns go to
  ``raw_meta["columns"]`` (label -> read-only array of the data's shape).
* ``FixedEnergies`` regions (alignment snapshots) have an ``index`` abscissa instead of an
  energy: their axis is ``channel`` (unit 1) and is never converted.
* Energy axis: the *Energy Axis* setting names the abscissa. ``energy="binding"`` (default)
  gives binding energy, ``BE = hv - KE``; ``energy="kinetic"`` gives kinetic energy,
  ``KE = hv - BE`` (work function 0: Prodigy's binding-energy export of the survey in
  ``MgFe2O4_small.xy`` equals ``1486.61 - KE`` of the same survey in ``regular.vms`` although
  the header states *Eff. Workfunction* 4.1082; see :mod:`specssb.parsers.xps_vamas`).
* Dates are ``MM/DD/YY hh:mm:ss`` followed by ``UTC`` when the export setting *Time Zone
  Format* is UTC (both real files). A date written with a zone (``UTC``, ``GMT``, ``+02:00``)
  is converted to UTC; a date written without one is read as local time in the ``timezone``
  option (default ``"UTC"``), and ``raw_meta["acquired_at_timezone"]`` records that the zone
  was assumed. ``acquired_at`` is the first data block's date (the cycle's start), else the
  region's.

Header keys become ``meta``: Region -> ``region`` (and ``element``/``transition`` when the name
reads like "Fe2p", "C 1s" or "Fe LMM"), Group -> ``sample``, Comment -> ``title``, Analyzer ->
``instrument``, Excitation Energy -> ``excitation_energy_ev``, Pass Energy ->
``pass_energy_ev``, Dwell Time -> ``dwell_time_s``, Source -> ``source_label``, Scan Mode ->
``analyser_mode`` (``FAT``, ``FRR``), Number of Scans -> ``n_scans``; ``work_function_ev`` is
the 0 eV used. ``raw_meta`` keeps every header line: the export settings, ``Group``, the
region's keys, ``Cycle``, ``Cycle parameters``, ``Number of Scans`` and ``blocks`` (each data
block's title indices and keys).
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._registry import register_parser
from specssb.parsers._specs_common import analyser_mode, check_energy, region_label
from specssb.parsers._xps_energy import convert_energy
from specssb.spectrum import Axis, Coord, Source, Spectrum, Step

__all__ = ["parse_specs_xy", "read_specs_xy", "sniff_specs_xy"]

_CREATED = "Created by:"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLOCK_TITLE = re.compile(r"^Cycle:\s*(\d+)\s*,(.*)$")
_CYCLE = re.compile(r"^Cycle:\s*(\d+)\s*$")
_PARAMETER = re.compile(r'^Parameter:\s*"(.*)"\s*=\s*(.*)$')
_KEY_VALUE = re.compile(r"^([^:]+?):\s*(.*)$")
_INDEX = re.compile(r"^\s*([A-Za-z ]+?)\s*:\s*(\d+)\s*$")
_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\s+(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)\s*(.*)$"
)
_ZONE = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$")
#: Leading dimensions, in this order, from the indices in the data-block titles.
_DIM_ORDER = ("scan", "curve", "channel")


# --------------------------------------------------------------------------- structure
@dataclass
class _Block:
    indices: dict[str, int]
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Cycle:
    index: int
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)


@dataclass
class _Region:
    group: str | None
    name: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    cycles: list[_Cycle] = field(default_factory=list)


def _prefix(lines: list[str], path: str) -> tuple[str, int]:
    """The comment prefix and the index of the first line (``# Created by: ...``)."""
    for number, line in enumerate(lines):
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        where = text.find(_CREATED)
        prefix = text[:where].strip()
        if where < 0 or not prefix or any(c.isalnum() for c in prefix):
            raise ParseError(path, f"not a SPECS Prodigy XY export: expected '# {_CREATED} "
                             f"SpecsLab Prodigy...', found {text[:60]!r}",
                             position=f"line {number + 1}")
        return prefix, number
    raise ParseError(path, "empty file: no SPECS Prodigy XY header", position="line 1")


def _structure(lines: list[str], path: str) -> tuple[dict[str, str], list[_Region]]:
    prefix, first = _prefix(lines, path)
    header: dict[str, str] = {}
    regions: list[_Region] = []
    group: str | None = None
    region: _Region | None = None
    cycle: _Cycle | None = None
    block: _Block | None = None
    for number in range(first, len(lines)):
        text = lines[number].strip()
        if not text:
            continue
        if not text.startswith(prefix):
            if block is None:
                raise ParseError(path, f"data row outside a data block: {text[:40]!r} (expected "
                                 "a '# Cycle: n, Curve: k' title first)",
                                 position=f"line {number + 1}")
            block.rows.append((number, text))
            continue
        content = text[len(prefix):].strip()
        if not content:
            continue
        if block is not None and block.rows:  # a header line ends the block's data
            block = None
        title = _BLOCK_TITLE.match(content)
        if title:
            if region is None:
                raise ParseError(path, "data block before any '# Region:' line",
                                 position=f"line {number + 1}")
            index = int(title.group(1))
            if cycle is None or cycle.index != index:
                cycle = _Cycle(index, number)
                region.cycles.append(cycle)
            block = _Block({"cycle": index, **_indices(title.group(2), path, number)}, number)
            cycle.blocks.append(block)
            continue
        if _CYCLE.match(content):
            if region is None:
                raise ParseError(path, "'# Cycle:' before any '# Region:' line",
                                 position=f"line {number + 1}")
            cycle, block = _Cycle(int(_CYCLE.match(content).group(1)), number), None
            region.cycles.append(cycle)
            continue
        parameter = _PARAMETER.match(content)
        if parameter and cycle is not None:
            cycle.parameters[parameter.group(1)] = parameter.group(2).strip()
            continue
        pair = _KEY_VALUE.match(content)
        key, value = (pair.group(1).strip(), pair.group(2).strip()) if pair else (content, "")
        if key == "Group":
            group, region, cycle, block = value, None, None, None
        elif key == "Region":
            region, cycle, block = _Region(group, value, number), None, None
            regions.append(region)
        elif block is not None:
            block.fields[key] = value
        elif cycle is not None:
            cycle.fields[key] = value
        elif region is not None:
            region.fields[key] = value
        elif group is None:
            header[key] = value
    if not regions:
        raise ParseError(path, "no '# Region:' header and no data: nothing to read (was the file "
                         "exported with 'Output Meta Data: yes'?)")
    return header, regions


def _indices(text: str, path: str, number: int) -> dict[str, int]:
    indices: dict[str, int] = {}
    for part in text.split(","):
        match = _INDEX.match(part)
        if match is None:
            raise ParseError(path, f"unreadable data-block title part {part.strip()[:40]!r} "
                             "(expected 'Curve: k' or 'Scan: s')", position=f"line {number + 1}")
        indices[match.group(1).strip().lower()] = int(match.group(2))
    return indices


# --------------------------------------------------------------------------- values
def _table(block: _Block, n_columns: int, path: str) -> np.ndarray:
    """The block's rows as an array of shape (n_rows, n_columns)."""
    if not block.rows:
        raise ParseError(path, "data block without data rows (truncated file?)",
                         position=f"line {block.line + 1}")
    try:
        table = np.array([row.split() for _, row in block.rows], dtype=np.float64)
    except ValueError:
        for number, row in block.rows:
            tokens = row.split()
            if len(tokens) != n_columns:
                raise ParseError(path, f"expected {n_columns} columns, found {len(tokens)} "
                                 f"({row[:40]!r}; truncated file?)",
                                 position=f"line {number + 1}") from None
            for token in tokens:
                try:
                    float(token)
                except ValueError:
                    raise ParseError(path, f"expected a number, found {token[:40]!r}",
                                     position=f"line {number + 1}") from None
        raise ParseError(path, "unreadable data rows", position=f"line {block.line + 1}") from None
    if table.ndim != 2 or table.shape[1] != n_columns:
        raise ParseError(path, f"expected {n_columns} columns per row",
                         position=f"line {block.rows[0][0] + 1}")
    bad = np.flatnonzero(~np.isfinite(table).all(axis=1))
    if bad.size:
        raise ParseError(path, "non-finite value in the data",
                         position=f"line {block.rows[bad[0]][0] + 1}")
    return table


def _number(fields: dict[str, str], key: str, warn: list[str], where: str) -> float | None:
    text = fields.get(key, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        warn.append(f"{where}: {key} {text[:40]!r} is not a number; left out of meta")
        return None


def _date(text: str, timezone: str) -> tuple[_dt.datetime, bool] | None:
    """(UTC datetime, zone assumed) from ``MM/DD/YY hh:mm:ss [zone]``; None if unreadable."""
    match = _DATE.match(text.strip())
    if match is None:
        return None
    month, day, year, hours, minutes = (int(match.group(i)) for i in range(1, 6))
    seconds = float(match.group(6))
    year += 2000 if year < 100 else 0
    zone_text = match.group(7).strip()
    assumed = not zone_text
    if zone_text.upper() in ("UTC", "GMT", "Z"):
        zone: _dt.tzinfo = _dt.UTC
    elif assumed:
        zone = time_zone(timezone)
    else:
        offset = _ZONE.match(zone_text.upper())
        if offset is None:
            return None
        sign = 1 if offset.group(1) == "+" else -1
        zone = _dt.timezone(sign * _dt.timedelta(hours=int(offset.group(2)),
                                                 minutes=int(offset.group(3) or 0)))
    try:
        stamp = _dt.datetime(year, month, day, hours, minutes, int(seconds),
                             int(round((seconds % 1) * 1e6)) % 1_000_000, tzinfo=zone)
    except ValueError:
        return None
    return stamp.astimezone(_dt.UTC), assumed


# --------------------------------------------------------------------------- to Spectrum
def _labels(cycle: _Cycle, header: dict[str, str], n_columns: int) -> list[str]:
    text = cycle.blocks[0].fields.get("ColumnLabels", "")
    if text:
        return text.split()
    rate = header.get("Count Rate", "").lower()
    labels = ["energy", "counts/s" if "second" in rate else "counts"]
    if header.get("Transmission Function", "").lower() == "yes":
        labels.append("transmission")
    return labels + [f"column {i + 1}" for i in range(len(labels), n_columns)]


def _grid(cycle: _Cycle, path: str) -> tuple[list[str], list[np.ndarray], list[tuple[int, ...]]]:
    """Leading dimension names, their coordinate values, and each block's grid position."""
    keys = [k for k in cycle.blocks[0].indices if k != "cycle"]
    if any(list(b.indices)[1:] != keys for b in cycle.blocks):
        raise ParseError(path, "data blocks of one cycle have different title indices",
                         position=f"line {cycle.line + 1}")
    varying = [k for k in keys if len({b.indices[k] for b in cycle.blocks}) > 1]
    dims = sorted(varying, key=lambda k: (_DIM_ORDER.index(k) if k in _DIM_ORDER else 99, k))
    values = [np.array(sorted({b.indices[k] for b in cycle.blocks})) for k in dims]
    positions = [tuple(int(np.searchsorted(v, b.indices[k])) for k, v in zip(dims, values))
                 for b in cycle.blocks]
    expected = int(np.prod([v.size for v in values])) if values else 1
    if len(set(positions)) != len(positions) or len(positions) != expected:
        raise ParseError(path, f"the cycle's {len(positions)} data blocks do not fill a "
                         f"{' x '.join(str(v.size) for v in values) or '1'} grid of "
                         f"{', '.join(dims) or 'one block'} (repeated or missing block?)",
                         position=f"line {cycle.line + 1}")
    return dims, values, positions


def _axis_kind(label: str, header: dict[str, str], path: str, where: str) -> str:
    if label.lower() != "energy":
        return "channel"
    setting = header.get("Energy Axis", "").lower()
    if "binding" in setting:
        return "binding_energy"
    if "kinetic" in setting:
        return "kinetic_energy"
    raise ParseError(path, f"export setting 'Energy Axis' is {header.get('Energy Axis')!r}: cannot "
                     "tell kinetic from binding energy", position=where)


def _cycle_spectrum(
    header: dict[str, str], region: _Region, cycle: _Cycle, source: Source, *, energy: str,
    timezone: str, warn: list[str],
) -> Spectrum:
    path = source.path
    where = f"line {cycle.line + 1}"
    if not cycle.blocks:
        raise ParseError(path, f"region {region.name!r} cycle {cycle.index} holds no data block "
                         "(truncated file?)", position=where)
    first = cycle.blocks[0]
    n_columns = len(first.rows[0][1].split()) if first.rows else 0
    labels = _labels(cycle, header, n_columns)
    if len(labels) < 2:
        raise ParseError(path, f"ColumnLabels {labels} name no signal column",
                         position=f"line {first.line + 1}")
    tables = [_table(block, len(labels), path) for block in cycle.blocks]
    expected = region.fields.get("Values/Curve", "").strip()
    for block, table in zip(cycle.blocks, tables):
        if expected.isdigit() and table.shape[0] != int(expected):
            raise ParseError(path, f"data block has {table.shape[0]} rows but Values/Curve is "
                             f"{expected} (truncated file?)", position=f"line {block.line + 1}")
        if table.shape[0] != tables[0].shape[0] or not np.allclose(table[:, 0], tables[0][:, 0]):
            raise ParseError(path, "data blocks of one cycle have different abscissae",
                             position=f"line {block.line + 1}")
    abscissa = tables[0][:, 0]
    steps = np.diff(abscissa)
    if abscissa.size > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
        raise ParseError(path, f"the {labels[0]!r} column is not strictly monotonic",
                         position=f"line {first.rows[0][0] + 1}")
    dims, coord_values, positions = _grid(cycle, path)
    shape = tuple(v.size for v in coord_values)
    columns = np.empty((len(labels), *shape, abscissa.size))
    for position, table in zip(positions, tables):
        columns[(slice(None), *position)] = table.T

    name = f"{region.group} / {region.name}" if region.group else region.name
    hv = _number(region.fields, "Excitation Energy", warn, name)
    kind = _axis_kind(labels[0], header, path, f"line {first.line + 1}")
    history: tuple[Step, ...] = ()
    if kind != "channel":
        if hv is None and kind != f"{energy}_energy":
            warn.append(f"{name}: no excitation energy, the axis stays {kind.replace('_', ' ')}")
        kind, abscissa, history = convert_energy(kind, abscissa, hv=hv, phi=0.0, energy=energy)

    raw_meta: dict[str, Any] = {**header, "Group": region.group, "Region": region.name,
                                **region.fields, "Cycle": cycle.index,
                                "Cycle parameters": dict(cycle.parameters), **cycle.fields,
                                "ColumnLabels": labels,
                                "blocks": [{"indices": b.indices, **b.fields}
                                           for b in cycle.blocks]}
    extra: dict[str, np.ndarray] = {}
    for label, values in zip(labels[2:], columns[2:]):
        if label.lower() == "transmission":
            flat = values.reshape(-1, values.shape[-1])
            if not np.allclose(flat, flat[0]):
                warn.append(f"{name}: the transmission differs between data blocks; the first "
                            "block's is kept")
            transmission = np.array(flat[0])
            transmission.setflags(write=False)
            raw_meta["transmission"] = transmission
        else:
            column = np.array(values)
            column.setflags(write=False)
            extra[label] = column
    if extra:
        raw_meta["columns"] = extra
    meta = _meta(region, cycle, hv, timezone, raw_meta, warn, name)
    signal_label = labels[1].lower()
    if signal_label in ("counts/s", "cps", "counts per second"):
        signal = "cps"
    elif signal_label == "counts":
        signal = "counts"
    else:
        signal = "cps" if "second" in header.get("Count Rate", "").lower() else "counts"
    data = columns[1] if dims else columns[1].reshape(-1)
    try:
        axis = Axis(kind, "eV" if kind != "channel" else "1", abscissa)
    except ValueError as exc:
        raise ParseError(path, f"unusable axis: {exc}", position=where) from exc
    return Spectrum(
        axis=axis, data=data, technique="xps", signal=signal, dims=tuple(dims),
        coords={d: Coord(d, v, "1") for d, v in zip(dims, coord_values)},
        meta=meta, raw_meta=raw_meta, source=source, history=history,
    )


def _meta(region: _Region, cycle: _Cycle, hv: float | None, timezone: str,
          raw_meta: dict[str, Any], warn: list[str], name: str) -> dict[str, Any]:
    fields = region.fields
    element, transition = region_label(region.name)
    meta: dict[str, Any] = {
        "region": region.name or None,
        "element": element,
        "transition": transition,
        "sample": region.group or None,
        "title": fields.get("Comment") or None,
        "instrument": fields.get("Analyzer") or None,
        "excitation_energy_ev": hv,
        "work_function_ev": 0.0,
        "source_label": fields.get("Source") or None,
        "analyser_mode": analyser_mode(fields["Scan Mode"]) if fields.get("Scan Mode") else None,
        "pass_energy_ev": _number(fields, "Pass Energy", warn, name),
        "dwell_time_s": _number(fields, "Dwell Time", warn, name),
    }
    scans = cycle.fields.get("Number of Scans", "").strip()
    if scans.isdigit() and int(scans) > 0:
        meta["n_scans"] = int(scans)
    date_text = (cycle.blocks[0].fields.get("Acquisition Date")
                 or fields.get("Acquisition Date", ""))
    if date_text:
        parsed = _date(date_text, timezone)
        if parsed is None:
            warn.append(f"{name}: Acquisition Date {date_text[:40]!r} is not MM/DD/YY hh:mm:ss "
                        "[zone]; acquired_at omitted")
        else:
            meta["acquired_at"] = parsed[0]
            raw_meta["acquired_at_timezone"] = {"zone": timezone if parsed[1] else "in file",
                                                "assumed": parsed[1]}
    return {key: value for key, value in meta.items() if value is not None}


# --------------------------------------------------------------------------- public API
def parse_specs_xy(
    text: str, *, source: Source, energy: str = "binding", timezone: str = "UTC"
) -> list[Spectrum]:
    """Parse the text of a SPECS Prodigy XY export: one Spectrum per region and cycle.

    Parameters
    ----------
    text : str
        The whole file, decoded (CR, LF or CRLF line ends).
    source : Source
        Provenance of the file; ``block`` is replaced per Spectrum by ``"<group> / <region>"``
        (``" / cycle <n>"`` added when a region has several cycles, ``" [<k>]"`` when the name
        repeats, k the 1-based position in the returned list).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return: ``BE = hv - KE`` or ``KE = hv - BE`` (eV, work function 0).
    timezone : str, default "UTC"
        IANA zone of acquisition dates written without a zone (Prodigy's local-time export).

    Returns
    -------
    list of Spectrum
        In file order; signal ``cps`` or ``counts``; leading dims ``scan`` (separate scans),
        ``curve``, ``channel`` where the file has more than one of them. See the module
        docstring for ``meta`` and ``raw_meta`` (``raw_meta["transmission"]``, shape (n,)).

    Raises
    ------
    ParseError
        Not a Prodigy XY file, a data row outside a block, a row with too few columns or a
        non-number, a block shorter than *Values/Curve*, a non-monotonic abscissa.
    ConfigError
        For an ``energy`` other than "binding"/"kinetic" or an unknown ``timezone``.

    Warns
    -----
    MetadataWarning
        An unreadable date or number in the header, a missing excitation energy.

    Examples
    --------
    >>> source = Source("MgFe2O4_small.xy", "", "specs-xy")
    >>> spectra = parse_specs_xy(open("MgFe2O4_small.xy").read(), source=source)  # doctest: +SKIP
    >>> [s.meta["region"] for s in spectra]  # doctest: +SKIP
    ['Survey', 'Fe2p']
    """
    check_energy(energy)
    time_zone(timezone)
    header, regions = _structure(_LINE_BREAK.split(text), source.path)
    warn: list[str] = []
    spectra = []
    names: list[str] = []
    for region in regions:
        if not region.cycles:
            raise ParseError(source.path, f"region {region.name!r} has no data (truncated file?)",
                             position=f"line {region.line + 1}")
        for cycle in region.cycles:
            name = f"{region.group} / {region.name}" if region.group else region.name
            if len(region.cycles) > 1:
                name += f" / cycle {cycle.index}"
            names.append(name)
            block_source = Source(path=source.path, sha256=source.sha256, format=source.format,
                                  block=name, parser_version=source.parser_version)
            spectra.append(_cycle_spectrum(header, region, cycle, block_source, energy=energy,
                                           timezone=timezone, warn=warn))
    for index, (name, spectrum) in enumerate(zip(names, spectra)):
        if names.count(name) > 1:
            spectra[index] = _renamed(spectrum, f"{name} [{index + 1}]")
    for message in dict.fromkeys(warn):
        warnings.warn(f"{source.path}: {message}", MetadataWarning, stacklevel=2)
    return spectra


def _renamed(spectrum: Spectrum, block: str) -> Spectrum:
    source = spectrum.source
    assert source is not None
    return Spectrum(axis=spectrum.axis, data=spectrum.data, technique=spectrum.technique,
                    signal=spectrum.signal, dims=spectrum.dims, coords=spectrum.coords,
                    meta=spectrum.meta, raw_meta=spectrum.raw_meta,
                    source=Source(source.path, source.sha256, source.format, block,
                                  source.parser_version),
                    history=spectrum.history)


def sniff_specs_xy(path: Path, head: bytes) -> bool:
    """True when the first line reads ``<prefix> Created by: SpecsLab Prodigy`` (or the header
    names the XY-Serializer), whatever the comment prefix."""
    text = head.decode("latin-1").lstrip("\ufeff\r\n\t ")
    first = text.split("\n", 1)[0]
    where = first.find(_CREATED)
    if where <= 0 or any(c.isalnum() for c in first[:where].strip()):
        return False
    return "Prodigy" in first or "XY-Serializer" in text


@register_parser(
    name="specs-xy",
    technique="xps",
    extensions=(".xy",),
    sniff=sniff_specs_xy,
    description="SPECS SpecsLab Prodigy XY export (groups, regions, cycles, scans, transmission)",
)
def read_specs_xy(
    path: Path, *, encoding: str = "latin-1", energy: str = "binding", timezone: str = "UTC"
) -> list[Spectrum]:
    """Read a SPECS SpecsLab Prodigy ``.xy`` export: one Spectrum per region and cycle.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding (latin-1 decodes every byte).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_specs_xy`.
    timezone : str, default "UTC"
        Zone of dates the file writes without one; see :func:`parse_specs_xy`.

    Returns
    -------
    list of Spectrum
        See :func:`parse_specs_xy`.

    Raises
    ------
    ParseError
        Missing, unreadable, truncated or malformed file.
    ConfigError
        Invalid ``energy`` or ``timezone``.

    Examples
    --------
    >>> import specssb
    >>> survey, fe2p = specssb.read("MgFe2O4_small.xy")  # doctest: +SKIP
    >>> fe2p.meta["element"], fe2p.meta["transition"]  # doctest: +SKIP
    ('Fe', '2p')
    """
    check_energy(energy)
    time_zone(timezone)
    data = read_bytes(path)
    source = make_source(path, "specs-xy", data=data)
    return parse_specs_xy(decode_text(data, path, encoding), source=source, energy=energy,
                          timezone=timezone)
