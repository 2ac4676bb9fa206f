"""The header of an XDI file (private): fields, comments, column labels and the metadata they give.

An XDI header is the version line (``# XDI/1.0 GSE/1.0``), then ``# Namespace.tag: value``
fields, an optional field-end line (``# ///``) followed by free-text user comments, the
header-end line (``# ----``) and an optional column-label line. :func:`read_header` reads it
into a :class:`Header` (each field with its line number) and finds where the data start;
:func:`normalized_meta` turns the defined fields (``Element.symbol``, ``Element.edge``,
``Mono.name``, ``Facility.*``, ``Scan.edge_energy``, ``Sample.temperature``,
``Scan.start_time`` …) into :class:`~specssb.spectrum.Spectrum` ``meta``. As the XDI
specification requires, a field that fails its definition is ignored, with a warning.

It also holds the diagnostics the whole XDI reader (:mod:`specssb.parsers.xas_xdi`) shares:
:func:`error` (a :class:`~specssb.errors.ParseError` at a line) and :func:`warn` (a
:class:`~specssb.errors.MetadataWarning` naming the line), whose warnings are held back inside
:func:`deferred_warnings` so that a file that then fails gives only its ParseError.

References
----------
XDI working group, *XAS Data Interchange Format*, version 1.0, and *Dictionary of XAS Data
Interchange Metadata*, version 1.0, https://github.com/XraySpectroscopy/XAS-Data-Interchange.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import time_zone
from specssb.spectrum import Source

__all__ = [
    "FIELD",
    "NUMBER",
    "Header",
    "deferred_warnings",
    "error",
    "field_line",
    "float_value",
    "normalized_meta",
    "read_header",
    "warn",
]

_VERSION = re.compile(r"^\s*#\s*XDI/(\S+)\s*(.*?)\s*$")
#: A ``Namespace.tag: value`` field (also ``# Outer.value:`` lines in the data section).
FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\.([A-Za-z0-9_-]+)\s*:\s*(.*?)\s*$")
_FIELD_END = re.compile(r"^/{3,}")  # Epics StepScan writes '///  Users Comments  ///'
_HEADER_END = re.compile(r"^-{3,}$")
#: A number as XDI writes it (header-less data detection, data values).
NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_FLOAT_UNIT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")

_ELEMENTS = frozenset(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As
    Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd
    Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am
    Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og Uut Uup Uus Uuo""".split()
)
_EDGES = frozenset(
    "K L L1 L2 L3 M M1 M2 M3 M4 M5 N N1 N2 N3 N4 N5 N6 N7 O O1 O2 O3 O4 O5 O6 O7".split()
)
_ANGSTROM = {unit: (1.0, 0.0) for unit in ("", "å", "a", "angstrom", "angstroms")}
#: Defined "float + units" fields: {unit: (scale, offset)} to the unit used, an exclusive
#: lower bound, and the wording of the warning.
_NUMBER_FIELDS: dict[str, tuple[dict[str, tuple[float, float]], float, str]] = {
    "Facility.energy": ({"gev": (1.0, 0.0), "mev": (1e-3, 0.0)}, 0.0, "a number in GeV or MeV"),
    "Facility.current": ({"ma": (1.0, 0.0), "a": (1e3, 0.0)}, -math.inf, "in mA or A"),
    "Mono.d_spacing": (_ANGSTROM, 0.0, "a positive number in Å"),
    "Scan.edge_energy": (
        {"": (1.0, 0.0), "ev": (1.0, 0.0), "kev": (1e3, 0.0)},
        0.0,
        "in eV or keV",
    ),
    "Sample.temperature": ({"k": (1.0, 0.0), "c": (1.0, 273.15)}, 0.0, "a number in K or C"),
}


@dataclass
class Header:
    """What the header section holds, with the line number (1-based) of each item."""

    version: str = ""
    applications: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # name as written -> value
    field_lines: dict[str, int] = field(default_factory=dict)  # lower-case name -> line
    comments: list[str] = field(default_factory=list)
    labels: list[str] | None = None
    ignored: list[str] = field(default_factory=list)
    has_header_end: bool = False

    def get(self, name: str) -> str | None:
        """Value of a field by case-insensitive name, without a trailing ``|| address``."""
        for key, value in self.fields.items():
            if key.lower() == name.lower():
                return value.split("||")[0].strip()
        return None


# ----------------------------------------------------------------------------- header section
def read_header(lines: Sequence[str], source: Source) -> tuple[Header, int]:
    """Read the version line and header; return it and the index of the first data line."""
    match = _VERSION.match(lines[0].lstrip("\ufeff"))
    if match is None:
        found = lines[0][:40]
        raise error(source, 1, f"not an XDI file: line 1 must be '# XDI/1.0 ...', not {found!r}")
    header = Header(version=match.group(1), applications=match.group(2))
    if not header.version.startswith("1."):
        warn(source, "line 1", f"XDI version {header.version!r} is not 1.x; read as XDI 1.0")
    state = "fields"
    for index in range(1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            if header.has_header_end:  # after '# ----' every other line is data
                return header, index
            if _looks_like_data(stripped):
                warn(source, index + 1, "no header-end line '# ----' before the data")
                return header, index
            warn(source, index + 1, f"unrecognized comment line {stripped[:40]!r}; ignored")
            header.ignored.append(line)
            continue
        body = stripped[1:].strip()
        if state == "labels":  # the line after '# ----' (a second '#' line is a stray comment)
            if not body:
                continue
            if header.labels is None:
                header.labels = body.split()
            else:
                warn(source, index + 1, "comment line after the column labels; ignored")
                header.ignored.append(line)
        elif _HEADER_END.match(body):
            header.has_header_end = True
            state = "labels"
        elif state == "comments":
            header.comments.append(_comment_text(line))
        elif _FIELD_END.match(body):
            state = "comments"
        else:
            _read_field(header, body, index + 1, source)
    raise error(source, len(lines), "no data: the file ends in its header")


def _comment_text(line: str) -> str:
    """A user comment: the text after '#', minus one leading space and trailing white space."""
    text = line.lstrip()[1:]
    return (text[1:] if text.startswith(" ") else text).rstrip()


def _read_field(header: Header, body: str, line: int, source: Source) -> None:
    if not body:
        return  # an empty '#' line among the fields
    match = FIELD.match(body)
    if match is None:
        warn(source, line, f"not a 'Namespace.tag: value' field: {body[:60]!r}; ignored")
        header.ignored.append("# " + body)
        return
    name = f"{match.group(1)}.{match.group(2)}"
    value = match.group(3)
    if not value:
        warn(source, line, f"field {name} has no value")
    for key in [k for k in header.fields if k.lower() == name.lower()]:
        del header.fields[key]  # the last occurrence wins (XDI 1.0)
    header.fields[name] = value
    header.field_lines[name.lower()] = line


def _looks_like_data(stripped: str) -> bool:
    return bool(NUMBER.match(stripped.split()[0]))


# -------------------------------------------------------------------------------- metadata
def normalized_meta(header: Header, source: Source, timezone: str) -> dict[str, Any]:
    """``meta`` from the defined header fields (invalid ones warned about and left out)."""
    meta: dict[str, Any] = {}
    for key, name, valid, normal in (
        ("element", "Element.symbol", _ELEMENTS, str.capitalize),
        ("edge", "Element.edge", _EDGES, str.upper),
    ):
        value = header.get(name)
        if value is None:
            warn(source, "header", f"no {name} (required by XDI)")
        elif normal(value) in valid:
            meta[key] = normal(value)
        else:
            warn(source, field_line(header, name), f"{name} {value!r} is not valid")
    for key, name in (("monochromator", "Mono.name"), ("sample", "Sample.name")):
        if header.get(name):
            meta[key] = header.get(name)
    names = (header.get("Facility.name"), header.get("Beamline.name"))
    if any(names):
        meta["instrument"] = " ".join(v for v in names if v)
    numbers = {name: _field_number(header, name, source) for name in _NUMBER_FIELDS}
    for key, name in (("e0_ev", "Scan.edge_energy"), ("temperature_k", "Sample.temperature")):
        if numbers[name] is not None:
            meta[key] = numbers[name]
    meta.update(_start_time(header, source, timezone))
    return meta


def field_line(header: Header, name: str) -> str | int:
    """The line of a header field, or 'header' when the field is absent."""
    return header.field_lines.get(name.lower(), "header")


def float_value(text: str) -> float | None:
    """The number at the start of ``text`` when the rest is a unit or nothing, else None."""
    match = _FLOAT_UNIT.match(text)
    return float(match.group(1)) if match is not None else None


def _field_number(header: Header, name: str, source: Source) -> float | None:
    """A defined 'float + units' field in the unit of :data:`_NUMBER_FIELDS`, or None (warned)."""
    value = header.get(name)
    if not value:
        return None
    units, minimum, what = _NUMBER_FIELDS[name]
    match = _FLOAT_UNIT.match(value)
    unit = re.sub(r"degrees|deg|°|\s", "", match.group(2).lower()) if match else ""
    if match is None or unit not in units:
        warn(source, field_line(header, name), f"{name} {value!r} is not {what}")
        return None
    scale, offset = units[unit]
    number = float(match.group(1)) * scale + offset
    if not number > minimum:
        warn(source, field_line(header, name), f"{name} {value!r} is out of range")
        return None
    return number


def _start_time(header: Header, source: Source, timezone: str) -> dict[str, Any]:
    value = header.get("Scan.start_time")
    if not value:
        return {}
    try:
        stamp = _dt.datetime.fromisoformat(value)
    except ValueError:
        where = field_line(header, "Scan.start_time")
        warn(source, where, f"Scan.start_time {value!r} is not an ISO 8601 date and time")
        return {}
    assumed = stamp.utcoffset() is None
    if assumed:
        stamp = stamp.replace(tzinfo=time_zone(timezone))
    zone = timezone if assumed else str(stamp.tzinfo)
    return {
        "acquired_at": stamp.astimezone(_dt.UTC),
        "start_time_timezone": {"zone": zone, "assumed": assumed},
    }




# ------------------------------------------------------------------------------- diagnostics
def error(source: Source, where: str | int, reason: str) -> ParseError:
    """A ParseError at a line (an int) or a named place."""
    return ParseError(source.path, reason, position=_at(where))


def _at(where: str | int) -> str:
    """'line N' for a line number, else the text as given ('header')."""
    return f"line {where}" if isinstance(where, int) else where


#: Warnings of the parse in progress: held back so that a file that then fails gives only
#: its ParseError (a context variable, so parallel threads do not mix their warnings).
_PENDING: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "xdi_pending_warnings", default=None
)


def warn(source: Source, where: str | int, message: str) -> None:
    """A MetadataWarning naming the file and the line (an int) or part of the file."""
    _emit(f"{source.path} {_at(where)}: {message}")


def _emit(text: str) -> None:
    pending = _PENDING.get()
    if pending is None:
        warnings.warn(text, MetadataWarning, stacklevel=4)
    else:
        pending.append(text)


@contextlib.contextmanager
def deferred_warnings() -> Iterator[None]:
    """Hold the warnings of the enclosed parse; emit them only if it succeeds."""
    pending: list[str] = []
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
    for text in pending:
        _emit(text)
