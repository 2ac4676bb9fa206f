"""Horiba LabSpec exports: text (``.txt``, single spectra and maps) and LabSpec 6 XML (``.xml``).

Text layout, as verified on the datalab and hySpc.read.txt test files
---------------------------------------------------------------------
*Header* (optional): lines ``#key=<TAB>value`` in latin-1 (``#Range (cm-¹)=``,
``#X (µm)=``), including ``#AxisType[i]=`` / ``#AxisUnit[i]=`` (0 = intensity, e.g. ``Intens``
/ ``Cnt``; 1 = spectral axis, ``Spectr`` / ``1/cm``). Repeated keys (``#Base:Fit=`` after each
baseline step) are all kept.

*Data*, tab separated, recognised from the first data row:

* ``x<TAB>intensity`` rows: one spectrum;
* a row of 2 empty cells then the spectral axis, then rows ``X<TAB>Y<TAB>intensities…``: a map.
  A full grid of distinct X and Y becomes dims ``("y", "x")``; any other set of positions
  (the hySpc ``map.txt`` holds 380 points on a 19 × 20 grid plus 18 off-grid points) stays in
  measured order as dims ``("point",)`` with per-point ``x`` and ``y`` coordinates, because a
  text export has no map-area record that would tell a missing cell from an irregular area,
  and no spectrum should be dropped or invented (see :func:`~specssb.parsers._raman_common.
  map_layout`). Positions are in µm.
* a row of 1 empty cell then the axis, then rows ``t<TAB>intensities…``: a series, dims
  ``("scan",)`` with the first column as coordinate ``value`` (its meaning is not written).

Without ``#AxisUnit`` the spectral axis is taken as Raman shift (cm-1), and
``raw_meta["axis_unit_from"]`` says ``"assumed"``.

XML layout (LabSpec 6 "Save as XML", as in the RosettaSciIO test files)
-----------------------------------------------------------------------
``<LSX_Data>`` holds an ``<LSX_Tree>`` of ``<LSX Format=… ID=…>`` nodes and an ``<LSX_Matrix>``
of ``<LSX_Row>`` (one spectrum each, whitespace-separated values). Nodes are identified by
their ``ID`` attribute (tags carry no meaning): ``0x6D707974`` measurement type (``Spectrum``,
``SpIm`` …) and, inside axis nodes, the axis type; ``0x6C7469D9`` title; ``0x7B697861`` the
axes, whose children ``0x0`` (intensity), ``0x1`` (spectral), ``0x2`` (X) and ``0x3`` (Y) carry
values (``0x7D6CD4DB``) and a unit (``0x7C696E75``); ``0x6C62D4D9`` the acquisition settings,
each a node with a name (``0x6D6D616E``), a displayed value (``0x7D6C61DB``), sometimes an exact
value (``0x8736F70``, e.g. ``632.817`` for ``Laser (nm) = 633``) and a unit. Rows are in
lexicographic order, X fastest: a map is ``(ny, nx, n)`` with dims ``("y", "x")``. The file is
parsed with :mod:`xml.etree.ElementTree` after refusing any ``<!DOCTYPE`` or ``<!ENTITY``
(no entity expansion is possible then).

Metadata (both)
---------------
``meta``: ``laser_wavelength_nm`` (``Laser`` / ``Laser (nm)``; the XML's exact value),
``exposure_time_s`` (``Acq. time (s)``), ``n_accumulations``, ``instrument``, ``objective``,
``grating``, ``title``, ``sample``, ``acquired_at`` (``Acquired``, ``dd.mm.yyyy HH:MM:SS`` local
time read in the ``timezone`` option, default UTC), ``measurement_type``. ``raw_meta``: every
header key or XML setting (name → value, with the XML's exact value and unit).

A LabSpec 6 native ``.l6s`` file is recognised only to say it cannot be read (unpublished
binary layout): export it from LabSpec as ``.txt`` or ``.xml``.

References
----------
The meaning of the XML node IDs was checked against RosettaSciIO's ``jobinyvon`` reader
(https://github.com/hyperspy/rosettasciio, GPL-3; read for format facts, no code taken) and
against the two test files. The text layouts follow hySpc.read.txt's ``read_txt_Horiba``
description (MIT) and the files themselves.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._raman_common import (
    laser_wavelength_nm,
    map_layout,
    numeric_rows,
    signal_for_unit,
    spectral_axis,
)
from specssb.parsers._registry import register_parser
from specssb.spectrum import Coord, Source, Spectrum

__all__ = [
    "parse_jobinyvon_xml",
    "parse_labspec_txt",
    "read_jobinyvon_xml",
    "read_labspec6",
    "read_labspec_txt",
    "sniff_jobinyvon_xml",
    "sniff_labspec_txt",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEADER_LINE = re.compile(rb"^#[^=\r\n]{1,60}=\t", re.MULTILINE)
_MAP_START = re.compile(rb"^\t\t?[-+]?(?:\d|\.\d)")
_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_REFUSED_XML = (b"<!DOCTYPE", b"<!ENTITY")

# LSX node IDs (see the module docstring)
_ID_TYPE, _ID_TITLE = "0x6D707974", "0x6C7469D9"
_ID_AXES_GROUP, _ID_AXES = "0x7A74D9D6", "0x7B697861"
_ID_VALUES, _ID_UNIT, _ID_SETTINGS = "0x7D6CD4DB", "0x7C696E75", "0x6C62D4D9"
_ID_NAME, _ID_VALUE, _ID_EXACT = "0x6D6D616E", "0x7D6C61DB", "0x8736F70"


# --------------------------------------------------------------------------------- metadata
def _acquired_at(text: str, timezone: str) -> _dt.datetime | None:
    match = _DATE.match(text)
    if match is None:
        return None
    day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    local = _dt.datetime(year, month, day, hour, minute, second, tzinfo=time_zone(timezone))
    return local.astimezone(_dt.timezone.utc)


def _labspec_meta(settings: dict[str, str], exact: dict[str, str], *, timezone: str,
                  path: str) -> dict[str, Any]:
    """Normalized keys from LabSpec setting names (shared by the text and XML readers)."""
    meta: dict[str, Any] = {}
    problems: list[str] = []
    laser_text = exact.get("Laser (nm)") or settings.get("Laser (nm)") or settings.get("Laser")
    if laser_text:
        laser = laser_wavelength_nm(laser_text)
        if laser is None:
            problems.append(f"laser {laser_text!r} gives no wavelength in nm")
        else:
            meta["laser_wavelength_nm"] = laser
    for key, target, kind in (("Acq. time (s)", "exposure_time_s", float),
                              ("Accumulations", "n_accumulations", int)):
        if settings.get(key):
            try:
                meta[target] = kind(float(settings[key])) if kind is int else kind(settings[key])
            except ValueError:
                problems.append(f"{key} {settings[key]!r} is not a number")
    for key, target in (("Instrument", "instrument"), ("Objective", "objective"),
                        ("Grating", "grating"), ("Title", "title"), ("Sample", "sample")):
        if settings.get(key, "").strip():
            meta[target] = settings[key].strip()
    stamp = settings.get("Acquired") or settings.get("Date")
    if stamp:
        when = _acquired_at(stamp, timezone)
        if when is None:
            problems.append(f"acquisition date {stamp!r} is not dd.mm.yyyy HH:MM[:SS]")
        else:
            meta["acquired_at"] = when
    for problem in problems:
        warnings.warn(f"{path}: {problem}; the key is left out of meta", MetadataWarning,
                      stacklevel=3)
    return meta


# ------------------------------------------------------------------------------------- text
def sniff_labspec_txt(path: Path, head: bytes) -> bool:
    """True for a LabSpec text export: ``#key=<TAB>value`` header lines (three or more, or an
    ``#AxisUnit[`` line), or a headerless map/series whose first row starts with empty cells."""
    if head.startswith(b"#"):
        return b"#AxisUnit[" in head or len(_HEADER_LINE.findall(head)) >= 3
    if _MAP_START.match(head) is None:
        return False
    first, newline, rest = head.partition(b"\n")
    n_axis = len(first.rstrip(b"\r\t").split(b"\t"))
    if not newline or b"\n" not in rest:
        return n_axis >= 4  # a long axis row fills the whole head (hySpc map.txt)
    second = rest.split(b"\n", 1)[0]
    return n_axis >= 4 and len(second.rstrip(b"\r").split(b"\t")) == n_axis


def _txt_header(lines: list[str]) -> tuple[dict[str, str], list[tuple[str, str]], int]:
    settings: dict[str, str] = {}
    entries: list[tuple[str, str]] = []
    start = 0
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            start = index
            break
        key, _, value = line[1:].partition("=")
        entries.append((key.strip(), value.strip()))
        settings.setdefault(key.strip(), value.strip())
    else:
        start = len(lines)
    return settings, entries, start


def parse_labspec_txt(text: str, *, source: Source, timezone: str = "UTC") -> list[Spectrum]:
    """Parse a LabSpec text export (single spectrum, map or series).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance of the file.
    timezone : str, default "UTC"
        IANA zone of the instrument clock, for ``acquired_at``.

    Returns
    -------
    list of Spectrum
        One Spectrum: 1-D, a ``("y", "x")`` map, a ``("point",)`` set of positions, or a
        ``("scan",)`` series (see the module docstring).

    Raises
    ------
    ParseError
        No data rows, ragged or non-numeric rows, too few points, an unknown or non-monotonic
        spectral axis.

    Warns
    -----
    MetadataWarning
        An unreadable laser, number or date in the header (left out of ``meta``).

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = "#Laser=\\t532nm_Edge\\n#AxisUnit[1]=1/cm\\n200\\t5\\n202\\t7\\n204\\t6\\n"
    >>> s = parse_labspec_txt(text, source=Source("z.txt", "", "labspec-txt"))[0]
    >>> s.axis.name, s.meta["laser_wavelength_nm"]
    ('raman_shift', 532.0)
    """
    time_zone(timezone)
    path = source.path
    lines = _LINE_BREAK.split(text.lstrip("\ufeff"))
    settings, entries, start = _txt_header(lines)
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        raise ParseError(path, "no data rows after the header", position=f"line {start + 1}")
    first = lines[start].split("\t")
    leading = 0
    while leading < len(first) and not first[leading].strip():
        leading += 1
    if leading > 2:
        raise ParseError(path, f"the first data row starts with {leading} empty cells "
                         "(1: series, 2: map)", position=f"line {start + 1}")
    axis_unit = next((v for k, v in settings.items() if k.startswith("AxisUnit[")
                      and settings.get(k.replace("Unit", "Type"), "").startswith("Spectr")),
                     settings.get("AxisUnit[1]", ""))
    intensity_unit = settings.get("AxisUnit[0]", "")
    raw: dict[str, Any] = {"header": entries,
                           "axis_unit_from": "header" if axis_unit else "assumed"}
    dims: tuple[str, ...] = ()
    coords: dict[str, Coord] = {}
    kind = "single"
    if leading == 0:
        table = numeric_rows(lines, start, path, delimiter="\t")
        if table.shape[1] < 2:
            raise ParseError(path, "a data row needs a spectral value and an intensity",
                             position=f"line {start + 1}")
        x, spectra = table[:, 0], table[:, 1:].T
        data: np.ndarray = spectra[0] if spectra.shape[0] == 1 else spectra
        if spectra.shape[0] > 1:
            dims, kind = ("spectrum",), "series"
            coords = {"index": Coord("spectrum", np.arange(spectra.shape[0]), "1")}
    else:
        n_fields = len(first[leading:]) + leading
        x = numeric_rows(lines[start:start + 1], 0, path, delimiter="\t", n_fields=n_fields,
                         skip_fields=leading)[0]
        body = numeric_rows(lines, start + 1, path, delimiter="\t", n_fields=n_fields)
        spectra = body[:, leading:]
        if leading == 2:
            data, dims, coords, placement = map_layout(body[:, 0], body[:, 1], spectra)
            kind = "map"
            raw["map_placement"] = placement
        else:
            data, dims, kind = spectra, ("scan",), "series"
            coords = {"value": Coord("scan", body[:, 0], "")}
    if x.size < 3:
        raise ParseError(path, f"only {x.size} spectral points; a spectrum needs at least 3",
                         position=f"line {start + 1}")
    axis, history = spectral_axis(axis_unit, x, path, position=f"line {start + 1}",
                                  default="raman_shift")
    if not np.isfinite(data).any():
        raise ParseError(path, "the spectra hold no finite value")
    signal, signal_unit = signal_for_unit(intensity_unit)
    meta = _labspec_meta(settings, {}, timezone=timezone, path=path)
    meta["measurement_type"] = kind
    return [Spectrum(axis=axis, data=data, technique="raman", signal=signal,
                     signal_unit=signal_unit, dims=dims, coords=coords, meta=meta, raw_meta=raw,
                     source=source, history=history)]


@register_parser(
    name="labspec-txt",
    technique="raman",
    extensions=(".txt",),
    sniff=sniff_labspec_txt,
    description="Horiba LabSpec text export (#key=value header; single spectrum, map with X/Y "
                "columns, or series)",
)
def read_labspec_txt(path: Path, *, encoding: str = "latin-1",
                     timezone: str = "UTC") -> list[Spectrum]:
    """Read a Horiba LabSpec ``.txt`` export.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding (LabSpec writes latin-1: ``cm-¹``, ``µm``, ``°C``).
    timezone : str, default "UTC"
        IANA zone of the instrument clock.

    Returns
    -------
    list of Spectrum
        See :func:`parse_labspec_txt`.

    Raises
    ------
    ParseError
        See :func:`parse_labspec_txt`.

    Examples
    --------
    >>> import specssb
    >>> zn = specssb.read("labspec_raman_example.txt")[0]  # doctest: +SKIP
    >>> zn.meta["laser_wavelength_nm"], zn.axis.size  # doctest: +SKIP
    (532.0, 341)
    """
    time_zone(timezone)
    data = read_bytes(path)
    source = make_source(path, "labspec-txt", data=data)
    return parse_labspec_txt(decode_text(data, path, encoding), source=source, timezone=timezone)


# -------------------------------------------------------------------------------------- XML
def sniff_jobinyvon_xml(path: Path, head: bytes) -> bool:
    """True for an XML document whose root element is ``<LSX_Data>``."""
    text = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    return (text.startswith(b"<?xml") or text.startswith(b"<LSX_Data")) and b"<LSX_Data" in head


def _child(node: ET.Element, node_id: str) -> ET.Element | None:
    return next((c for c in node if c.get("ID") == node_id), None)


def _numbers(node: ET.Element, path: str, what: str) -> np.ndarray:
    text = (node.text or "").split()
    try:
        values = np.array([float(v) for v in text], dtype=np.float64)
    except ValueError:
        bad = next(v for v in text if not _is_number(v))
        raise ParseError(path, f"{what}: expected numbers, found {bad[:40]!r}") from None
    size = node.get("Size")
    if size is not None and size.isdigit() and int(size) != values.size:
        raise ParseError(path, f"{what} holds {values.size} values but Size={size} (truncated "
                         "file?)")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _xml_settings(tree: ET.Element) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """``(displayed values, exact values, raw)`` of every named setting node."""
    settings: dict[str, str] = {}
    exact: dict[str, str] = {}
    raw: dict[str, Any] = {}
    group = _child(tree, _ID_SETTINGS)
    for node in group.iter() if group is not None else ():
        name_node = _child(node, _ID_NAME)
        if name_node is None or not (name_node.text or "").strip():
            continue
        name = name_node.text.strip()
        value = _child(node, _ID_VALUE)
        exact_node = _child(node, _ID_EXACT)
        unit = _child(node, _ID_UNIT)
        entry = {"value": (value.text or "").strip() if value is not None else None}
        if exact_node is not None:
            entry["exact"] = (exact_node.text or "").strip()
        if unit is not None:
            entry["unit"] = (unit.text or "").strip()
        key = name
        while key in raw:
            key = f"{name} ({len([k for k in raw if k.startswith(name)]) + 1})"
        raw[key] = entry
        if entry["value"] is not None:
            settings.setdefault(name, entry["value"])
        if "exact" in entry:
            exact.setdefault(name, entry["exact"])
    return settings, exact, raw


def _xml_axes(tree: ET.Element, path: str) -> dict[str, dict[str, Any]]:
    group = _child(tree, _ID_AXES_GROUP)
    axes_node = _child(group, _ID_AXES) if group is not None else None
    if axes_node is None:
        raise ParseError(path, "no axis description (LSX node 0x7B697861) in the LSX_Tree")
    axes: dict[str, dict[str, Any]] = {}
    for node in axes_node:
        kind, unit = _child(node, _ID_TYPE), _child(node, _ID_UNIT)
        values = _child(node, _ID_VALUES)
        axes[node.get("ID", "")] = {
            "type": (kind.text or "").strip() if kind is not None else "",
            "unit": (unit.text or "").strip() if unit is not None else "",
            "values": _numbers(values, path, f"axis {node.get('ID')}") if values is not None
            else None,
        }
    if "0x1" not in axes or axes["0x1"]["values"] is None:
        raise ParseError(path, "no spectral axis values (LSX axis node 0x1)")
    return axes


def parse_jobinyvon_xml(data: bytes, *, source: Source, timezone: str = "UTC") -> list[Spectrum]:
    """Parse a LabSpec 6 XML export (single spectrum, line or map).

    Parameters
    ----------
    data : bytes
        The file's bytes.
    source : Source
        Provenance of the file.
    timezone : str, default "UTC"
        IANA zone of the instrument clock, for ``acquired_at``.

    Returns
    -------
    list of Spectrum
        One Spectrum: 1-D, ``("y", "x")`` (coordinates ``x``, ``y`` in µm) or one navigation
        dimension (``("position",)`` for a spatial line, ``("scan",)`` otherwise).

    Raises
    ------
    ParseError
        A DTD or entity declaration, malformed XML (with line and column), a missing tree,
        matrix or spectral axis, rows whose length or count disagree with the axes.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> xml = (b'<LSX_Data><LSX_Tree><LSX ID="0x7A74D9D6"><LSX ID="0x7B697861">'
    ...        b'<LSX ID="0x1"><LSX ID="0x7D6CD4DB">100 101 102</LSX>'
    ...        b'<LSX ID="0x7C696E75">1/cm</LSX></LSX></LSX></LSX></LSX_Tree>'
    ...        b'<LSX_Matrix><LSX_Row>5 6 7</LSX_Row></LSX_Matrix></LSX_Data>')
    >>> parse_jobinyvon_xml(xml, source=Source("a.xml", "", "jobinyvon-xml"))[0].axis.name
    'raman_shift'
    """
    time_zone(timezone)
    path = source.path
    for refused in _REFUSED_XML:
        where = data.find(refused)
        if where >= 0:
            raise ParseError(path, f"{refused.decode()} declarations are refused (LabSpec never "
                             "writes them; they allow entity-expansion attacks)",
                             position=f"byte {where}")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ParseError(path, f"malformed XML ({exc.msg if hasattr(exc, 'msg') else exc})",
                         position=f"line {line}, column {column}") from exc
    except (LookupError, ValueError) as exc:  # unknown or multi-byte encoding declared
        raise ParseError(path, f"unusable XML encoding declaration ({exc})",
                         position="line 1") from exc
    if root.tag != "LSX_Data":
        raise ParseError(path, f"the root element is <{root.tag}>, not <LSX_Data>")
    tree, matrix = root.find("LSX_Tree"), root.find("LSX_Matrix")
    if tree is None or matrix is None:
        raise ParseError(path, "an LSX_Data document needs an LSX_Tree and an LSX_Matrix")
    axes = _xml_axes(tree, path)
    rows = [_numbers(row, path, f"LSX_Row {i}") for i, row in enumerate(matrix.findall("LSX_Row"))]
    spectral = axes["0x1"]
    n_points = spectral["values"].size
    if not rows:
        raise ParseError(path, "the LSX_Matrix holds no LSX_Row")
    for index, row in enumerate(rows):
        if row.size != n_points:
            raise ParseError(path, f"LSX_Row {index} has {row.size} values for {n_points} axis "
                             "points")
    spectra = np.vstack(rows)
    axis, history = spectral_axis(spectral["unit"], spectral["values"], path,
                                  position="LSX axis node 0x1")
    data_out, dims, coords, kind = _xml_layout(axes, spectra, path)
    settings, exact, raw_settings = _xml_settings(tree)
    title_node = _child(tree, _ID_TITLE)
    type_node = _child(tree, _ID_TYPE)
    meta = _labspec_meta(settings, exact, timezone=timezone, path=path)
    meta["measurement_type"] = kind
    if title_node is not None and (title_node.text or "").strip() and "title" not in meta:
        meta["title"] = title_node.text.strip()
    intensity = axes.get("0x0", {"type": "", "unit": ""})
    signal, signal_unit = signal_for_unit(intensity["unit"])
    raw: dict[str, Any] = {
        "measurement_type": (type_node.text or "").strip() if type_node is not None else "",
        "name": (title_node.text or "").strip() if title_node is not None else "",
        "settings": raw_settings,
        "axes": {k: {"type": v["type"], "unit": v["unit"]} for k, v in axes.items()},
    }
    return [Spectrum(axis=axis, data=data_out, technique="raman", signal=signal,
                     signal_unit=signal_unit, dims=dims, coords=coords, meta=meta, raw_meta=raw,
                     source=source, history=history)]


def _position_unit(unit: str) -> str:
    return {"µm": "um", "\xb5m": "um", "um": "um"}.get(unit.strip(), unit.strip())


def _xml_layout(axes: dict[str, dict[str, Any]], spectra: np.ndarray,
                path: str) -> tuple[np.ndarray, tuple[str, ...], dict[str, Coord], str]:
    nav = [axes[k] for k in ("0x2", "0x3") if k in axes and axes[k]["values"] is not None
           and axes[k]["values"].size > 1]
    n_rows = spectra.shape[0]
    if not nav:
        if n_rows != 1:
            raise ParseError(path, f"{n_rows} LSX_Rows but no navigation axis")
        return spectra[0], (), {}, "single"
    if len(nav) == 2:
        first, second = nav
        if first["values"].size * second["values"].size != n_rows:
            raise ParseError(path, f"{n_rows} LSX_Rows for a {second['values'].size} × "
                             f"{first['values'].size} map (truncated file?)")
        cube = spectra.reshape(second["values"].size, first["values"].size, -1)
        coords = {"x": Coord("x", first["values"], _position_unit(first["unit"])),
                  "y": Coord("y", second["values"], _position_unit(second["unit"]))}
        return cube, ("y", "x"), coords, "map"
    only = nav[0]
    if only["values"].size != n_rows:
        raise ParseError(path, f"{n_rows} LSX_Rows for {only['values'].size} positions "
                         "(truncated file?)")
    name = re.sub(r"[^a-z0-9_]", "_", only["type"].lower()) or "value"
    spatial = name in {"x", "y", "z"}
    dim = "position" if spatial else "scan"
    return spectra, (dim,), {name: Coord(dim, only["values"], _position_unit(only["unit"]))}, (
        "line" if spatial else "series")


@register_parser(
    name="jobinyvon-xml",
    technique="raman",
    extensions=(".xml",),
    sniff=sniff_jobinyvon_xml,
    description="Horiba LabSpec 6 XML export (<LSX_Data>; single spectrum, line or map)",
)
def read_jobinyvon_xml(path: Path, *, timezone: str = "UTC") -> list[Spectrum]:
    """Read a Horiba / Jobin Yvon LabSpec 6 ``.xml`` export.

    Parameters
    ----------
    path : Path
        The file.
    timezone : str, default "UTC"
        IANA zone of the instrument clock.

    Returns
    -------
    list of Spectrum
        See :func:`parse_jobinyvon_xml`.

    Raises
    ------
    ParseError
        See :func:`parse_jobinyvon_xml`.

    Examples
    --------
    >>> import specssb
    >>> m = specssb.read("jobinyvon_test_map_x3-y2.xml")[0]  # doctest: +SKIP
    >>> m.dims, m.shape  # doctest: +SKIP
    (('y', 'x'), (2, 3, 34))
    """
    time_zone(timezone)
    data = read_bytes(path)
    source = make_source(path, "jobinyvon-xml", data=data)
    return parse_jobinyvon_xml(data, source=source, timezone=timezone)


# ------------------------------------------------------------------------------ native .l6s
@register_parser(
    name="labspec6",
    technique="raman",
    extensions=(".l6s", ".l6m"),
    magic=(b"LabSpec6",),
    description="Horiba LabSpec 6 native binary (.l6s/.l6m): recognised only to explain that it "
                "cannot be read; export as .txt or .xml",
)
def read_labspec6(path: Path) -> list[Spectrum]:
    """Refuse a LabSpec 6 native file with a message saying what to do.

    Raises
    ------
    ParseError
        Always: the binary layout is unpublished and no tested library reads it.
    """
    head = read_bytes(path)[:8]
    what = ("a LabSpec 6 native binary file" if head.startswith(b"LabSpec6")
            else "not a LabSpec 6 file either (no 'LabSpec6' magic)")
    raise ParseError(path, f"{what}: its layout is unpublished and specssb cannot read it; in "
                     "LabSpec use File > Save As > .txt or .xml (both are read)",
                     position="byte 0")
