"""ISO 14976 VAMAS files (``.vms``, PHI MultiPak ``.npl``): one XPS Spectrum per block.

A VAMAS file is plain text with one value per line and no keys: the meaning of a line follows
from its position and from earlier values (experiment mode, scan mode, technique, counts). The
layout implemented here is ISO 14976:1998 (W. A. Dench, L. B. Hazell, M. P. Seah, *Surf.
Interface Anal.* 13, 63 (1988)), checked line by line against real files from CasaXPS, SPECS
Prodigy, Kratos ESCApe and PHI MultiPak (``../shared/data/xps``).

What is handled
---------------
* every experiment mode (MAP, MAPDP, MAPSV, MAPSVDP, NORM, SDP, SDPSV, SEM, NOEXP) and the
  mode- and technique-dependent fields they switch on;
* scan modes REGULAR (abscissa start and increment) and IRREGULAR (no abscissa start or
  increment; as written by CasaXPS the abscissa values are the *first corresponding variable*,
  interleaved with the ordinates: ``KE, counts, transmission, KE, counts, …``);
* the parameter inclusion/exclusion list (parameters left out of later blocks are taken from the
  first block), manually entered items, future-upgrade experiment and block entries;
* experimental variables, several corresponding variables (the first ordinate variable is the
  signal; the others, e.g. CasaXPS/SPECS "Transmission", are kept in ``raw_meta``);
* leading blank lines (Kratos), NUL bytes in labels (PHI MultiPak), CR, LF or CRLF line ends,
  the ISO null value ``1E+37`` for unknown reals, CasaXPS comments (kept verbatim).

Energy axis
-----------
The file's abscissa is kinetic or binding energy in eV. With ``energy="binding"`` (default) a
kinetic-energy abscissa becomes a binding-energy axis, point order unchanged::

    BE = hv - KE - phi

with ``hv`` the block's *analysis source characteristic energy* and ``phi = 0`` by default,
because the VAMAS writers in use (SPECS Prodigy, CasaXPS, Kratos ESCApe, PHI MultiPak) store
kinetic energies referenced to the spectrometer Fermi level, with the spectrometer work
function already applied. Checked on real files: ``regular.vms`` states an *analyser work
function* of 4.1082 eV, yet Prodigy's own binding-energy export of the same survey
(``MgFe2O4_small.xy``) is exactly ``1486.61 - KE``; the CasaXPS export of ``FeO_analyzed.vms``
has ``KE + BE = 1486.61`` in every row (777.563 KE -> 709.047 BE); the Kratos survey runs over
KE 286.69-1491.69 eV at hv 1486.69 eV, the instrument's standard BE window 1200 to -5 eV, although
its work-function field says -4.5. Only for a file whose kinetic energies are referenced to the
vacuum level, pass ``subtract_work_function=True``: then ``phi`` is the block field *analyser
work function or acceptance energy of atom or ion* (ISO 14976 block parameter 25). The
conversion is recorded as a ``kinetic_to_binding_energy`` step in ``history`` (or
``binding_to_kinetic_energy``, ``KE = hv - BE - phi``, for a binding-energy abscissa read with
``energy="kinetic"``).

References
----------
ISO 14976:1998, Surface chemical analysis - Data transfer format.
W. A. Dench, L. B. Hazell, M. P. Seah, Surf. Interface Anal. 13, 63-122 (1988).
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import ELEMENTS, decode_text, make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.parsers._xps_energy import convert_energy
from specssb.spectrum import Axis, Source, Spectrum, Step

__all__ = ["parse_vamas", "read_vamas"]

MAGIC = "VAMAS Surface Chemical Analysis Standard"
TERMINATOR = "end of experiment"

#: ISO 14976 writes this for an unknown real value.
NULL_VALUE = 1e37

_EXPERIMENT_MODES = ("MAP", "MAPDP", "MAPSV", "MAPSVDP", "NORM", "SDP", "SDPSV", "SEM", "NOEXP")
_REGION_MODES = {"MAP", "MAPDP", "NORM", "SDP"}
_MAP_MODES = {"MAP", "MAPDP"}
_DEPTH_MODES = {"MAPDP", "MAPSVDP", "SDP", "SDPSV"}
_FIELD_OF_VIEW_MODES = {"MAP", "MAPDP", "MAPSV", "MAPSVDP", "SEM"}
_LINESCAN_MODES = {"SEM", "MAPSV", "MAPSVDP"}
_ION_TECHNIQUES = {
    "FABMS", "FABMS energy spec", "ISS", "SIMS", "SIMS energy spec", "SNMS", "SNMS energy spec",
}
_ELECTRON_TECHNIQUES = {"AES diff", "AES dir", "EDX", "ELS", "UPS", "XPS", "XRF"}
_UNSPECIFIED = {"", "not specified", "none", "unknown"}
_CPS_WORDS = ("c/s", "cps", "counts/s", "counts per second", "counts/second")
_ANGLE_COMMENT = re.compile(r"SourceAnalyserAngle:\s*([-+0-9.eE]+)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# --------------------------------------------------------------------------- reading lines
class _Cursor:
    """Walks the lines of a VAMAS file; every error names the 1-based line."""

    def __init__(self, lines: list[str], start: int, path: str):
        self.lines = lines
        self.pos = start
        self.path = path
        self.warnings: dict[str, list[str]] = {}

    @property
    def line(self) -> str:
        return f"line {self.pos + 1}"

    @property
    def remaining(self) -> int:
        return len(self.lines) - self.pos

    def fail(self, reason: str, *, line: int | None = None) -> ParseError:
        where = f"line {line + 1}" if line is not None else self.line
        return ParseError(self.path, reason, position=where)

    def raw(self, what: str) -> str:
        """The next line, verbatim except for NUL bytes."""
        if self.pos >= len(self.lines):
            raise self.fail(f"the file ends where {what} was expected (truncated?)")
        value = self.lines[self.pos].replace("\x00", "")
        self.pos += 1
        return value

    def text(self, what: str) -> str:
        """The next line as a label: NUL bytes and surrounding blanks removed."""
        return self.raw(what).strip()

    def integer(self, what: str) -> int:
        token = self.text(what)
        try:
            return int(token)
        except ValueError:
            pass
        try:
            value = float(token)
        except ValueError:
            value = math.nan
        if not value.is_integer():
            raise self.fail(f"expected an integer ({what}), found {token[:40]!r}",
                            line=self.pos - 1)
        return int(value)

    def real(self, what: str) -> float:
        token = self.text(what)
        try:
            return float(token)
        except ValueError:
            raise self.fail(f"expected a number ({what}), found {token[:40]!r}",
                            line=self.pos - 1) from None

    def count(self, what: str, *, lines_each: int = 1, reserve: int = 0) -> int:
        """A non-negative count whose items (``lines_each`` lines each) must fit in the file."""
        number = self.integer(what)
        if number < 0:
            raise self.fail(f"{what} is negative ({number})", line=self.pos - 1)
        available = max(self.remaining - reserve, 0)
        if number * lines_each > available:
            raise self.fail(
                f"{what} is {number} but only {self.remaining} lines follow (truncated file?)",
                line=self.pos - 1,
            )
        return number

    def metadata_real(self, what: str) -> int | float | str:
        """A numeric metadata value (int when written as one); unreadable ones stay text."""
        token = self.text(what)
        try:
            return int(token)
        except ValueError:
            pass
        try:
            return float(token)
        except ValueError:
            self.warn(f"{what} is not a number ({token[:40]!r}, line {self.pos}); kept as text")
            return token

    def warn(self, message: str, block: str = "") -> None:
        self.warnings.setdefault(message, []).append(block)


# --------------------------------------------------------------------------- file header
@dataclass
class _Header:
    fields: dict[str, Any]
    experiment_mode: str
    scan_mode: str
    experimental_variables: list[tuple[str, str]]
    excluded: set[int]
    n_future_block_entries: int
    n_blocks: int
    analyser_angle_deg: float | None


def _parse_header(cur: _Cursor) -> _Header:
    fields: dict[str, Any] = {"format identifier": cur.text("the format identifier")}
    for key in ("institution identifier", "instrument model identifier",
                "operator identifier", "experiment identifier"):
        fields[key] = cur.text(f"the {key}")
    n_comment = cur.count("number of lines in the file comment")
    comment = [cur.raw("a file comment line") for _ in range(n_comment)]
    fields["file comment"] = "\n".join(comment)
    mode = cur.text("the experiment mode")
    if mode not in _EXPERIMENT_MODES:
        raise cur.fail(f"unknown experiment mode {mode[:40]!r}; expected one of "
                       f"{', '.join(_EXPERIMENT_MODES)}", line=cur.pos - 1)
    scan = cur.text("the scan mode")
    if scan == "MAPPING":
        raise cur.fail("scan mode MAPPING is not supported (only REGULAR and IRREGULAR)",
                       line=cur.pos - 1)
    if scan not in ("REGULAR", "IRREGULAR"):
        raise cur.fail(f"unknown scan mode {scan[:40]!r}; expected REGULAR or IRREGULAR",
                       line=cur.pos - 1)
    fields["experiment mode"], fields["scan mode"] = mode, scan
    if mode in _REGION_MODES:
        fields["number of spectral regions"] = cur.integer("the number of spectral regions")
    if mode in _MAP_MODES:
        for key in ("number of analysis positions",
                    "number of discrete x coordinates available in full map",
                    "number of discrete y coordinates available in full map"):
            fields[key] = cur.integer(f"the {key}")
    n_variables = cur.count("number of experimental variables", lines_each=2)
    variables = [(cur.text("an experimental variable label"),
                  cur.text("an experimental variable unit")) for _ in range(n_variables)]
    fields["experimental variables"] = [{"label": lab, "unit": unit} for lab, unit in variables]
    excluded = _parse_inclusion_list(cur, fields)
    n_manual = cur.count("number of manually entered items in block")
    fields["manually entered items"] = [cur.integer("a manually entered item prefix number")
                                        for _ in range(n_manual)]
    n_future_experiment = cur.count("number of future upgrade experiment entries")
    n_future_block = cur.count("number of future upgrade block entries")
    fields["future upgrade experiment entries"] = [
        cur.raw("a future upgrade experiment entry") for _ in range(n_future_experiment)
    ]
    fields["number of future upgrade block entries"] = n_future_block
    n_blocks = cur.count("number of blocks", lines_each=5)
    fields["number of blocks"] = n_blocks
    return _Header(fields, mode, scan, variables, excluded, n_future_block, n_blocks,
                   _analyser_angle(comment))


def _parse_inclusion_list(cur: _Cursor, fields: dict[str, Any]) -> set[int]:
    """Block parameters (ISO prefix numbers 1-40) that blocks after the first leave out."""
    signed = cur.integer("number of entries in the parameter inclusion or exclusion list")
    if abs(signed) > min(cur.remaining, 40):
        raise cur.fail(f"the parameter inclusion/exclusion list claims {abs(signed)} entries "
                       "(at most 40)", line=cur.pos - 1)
    numbers = [cur.integer("a parameter inclusion/exclusion prefix number")
               for _ in range(abs(signed))]
    if any(not 1 <= n <= 40 for n in numbers):
        raise cur.fail(f"parameter prefix numbers must lie in 1-40, found {numbers}",
                       line=cur.pos - 1)
    fields["parameter inclusion or exclusion list"] = {
        "kind": "inclusion" if signed > 0 else "exclusion" if signed < 0 else "none",
        "prefix numbers": numbers,
    }
    if signed > 0:  # only the listed parameters are repeated
        return set(range(1, 41)) - set(numbers)
    return set(numbers)


def _analyser_angle(comment: list[str]) -> float | None:
    """CasaXPS/Prodigy ``SourceAnalyserAngle: 56.5 d`` comment line, if present."""
    for line in comment:
        match = _ANGLE_COMMENT.search(line)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                return None
    return None


# --------------------------------------------------------------------------- blocks
@dataclass
class _Block:
    identifier: str
    groups: dict[int, dict[str, Any]]
    tail: dict[str, Any] = field(default_factory=dict)
    columns: np.ndarray | None = None  # shape (n_points, n_variables)

    @property
    def fields(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for number in sorted(self.groups):
            merged.update(self.groups[number])
        merged.update(self.tail)
        return merged

    def get(self, key: str, default: Any = None) -> Any:
        for group in self.groups.values():
            if key in group:
                return group[key]
        return default


def _parse_block(cur: _Cursor, header: _Header, first: _Block | None, index: int) -> _Block:
    identifier = cur.text("the block identifier")
    sample = cur.text("the sample identifier")
    groups: dict[int, dict[str, Any]] = {0: {"block identifier": identifier,
                                             "sample identifier": sample}}
    block = _Block(identifier, groups)
    label = f"block {index + 1} ({identifier!r})"
    mode, scan = header.experiment_mode, header.scan_mode

    def group(number: int, reader: Callable[[], dict[str, Any]]) -> None:
        if first is None or number not in header.excluded:
            groups[number] = reader()
        else:
            groups[number] = copy.deepcopy(first.groups.get(number, {}))

    def values(*keys: str) -> Callable[[], dict[str, Any]]:
        return lambda: {key: cur.metadata_real(f"{label} {key}") for key in keys}

    def texts(*keys: str) -> Callable[[], dict[str, Any]]:
        return lambda: {key: cur.text(f"{label} {key}") for key in keys}

    def when(condition: bool, reader: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        return reader if condition else dict

    for number, key in enumerate(("year", "month", "day", "hours", "minutes", "seconds",
                                  "number of hours in advance of GMT"), start=1):
        group(number, values(key))
    group(8, lambda: {"comment": "\n".join(
        cur.raw(f"{label} comment line")
        for _ in range(cur.count(f"{label} number of comment lines"))
    )})
    group(9, texts("technique"))
    technique = str(block.get("technique", ""))
    ions = mode in _DEPTH_MODES or technique in _ION_TECHNIQUES
    group(10, when(mode in _MAP_MODES, values("x coordinate", "y coordinate")))
    group(11, lambda: {"experimental variable values": [
        cur.metadata_real(f"{label} value of experimental variable {lab!r}")
        for lab, _ in header.experimental_variables
    ]})
    group(12, texts("analysis source label"))
    group(13, when(ions, values("sputtering ion or atom atomic number",
                                "number of atoms in sputtering ion or atom particle",
                                "sputtering ion or atom charge sign and number")))
    group(14, values("analysis source characteristic energy"))
    group(15, values("analysis source strength"))
    group(16, values("analysis source beam width x", "analysis source beam width y"))
    group(17, when(mode in _FIELD_OF_VIEW_MODES, values("field of view x", "field of view y")))
    group(18, when(mode in _LINESCAN_MODES, values(
        "first linescan start x coordinate", "first linescan start y coordinate",
        "first linescan finish x coordinate", "first linescan finish y coordinate",
        "last linescan finish x coordinate", "last linescan finish y coordinate")))
    group(19, values("analysis source polar angle of incidence"))
    group(20, values("analysis source azimuth"))
    group(21, texts("analyser mode"))
    group(22, values("analyser pass energy or retard ratio or mass resolution"))
    group(23, when(technique == "AES diff", values("differential width")))
    group(24, values("magnification of analyser transfer lens"))
    group(25, values("analyser work function or acceptance energy of atom or ion"))
    group(26, values("target bias"))
    group(27, values("analysis width x", "analysis width y"))
    group(28, values("analyser axis take off polar angle", "analyser axis take off azimuth"))
    group(29, texts("species label"))
    group(30, lambda: {"transition or charge state label": cur.text(f"{label} transition label"),
                       "charge of detected particle": cur.metadata_real(f"{label} charge")})
    group(31, when(scan == "REGULAR", lambda: {
        "abscissa label": cur.text(f"{label} abscissa label"),
        "abscissa units": cur.text(f"{label} abscissa units"),
        "abscissa start": cur.real(f"{label} abscissa start"),
        "abscissa increment": cur.real(f"{label} abscissa increment"),
    }))
    group(32, lambda: _read_variables(cur, label, scan))
    group(33, texts("signal mode"))
    group(34, values("signal collection time"))
    group(35, values("number of scans to compile this block"))
    group(36, values("signal time correction"))
    group(37, when(mode in _DEPTH_MODES and technique in _ELECTRON_TECHNIQUES, lambda: {
        **values("sputtering source energy", "sputtering source beam current",
                 "sputtering source width x", "sputtering source width y",
                 "sputtering source polar angle of incidence", "sputtering source azimuth")(),
        "sputtering mode": cur.text(f"{label} sputtering mode"),
    }))
    group(38, values("sample normal polar angle of tilt", "sample normal tilt azimuth"))
    group(39, values("sample rotation angle"))
    group(40, lambda: {"additional numerical parameters": [
        {"label": cur.text(f"{label} parameter label"), "unit": cur.text(f"{label} parameter unit"),
         "value": cur.metadata_real(f"{label} parameter value")}
        for _ in range(cur.count(f"{label} number of additional numerical parameters",
                                 lines_each=3))
    ]})
    block.tail["future upgrade block entries"] = [
        cur.raw(f"{label} future upgrade block entry") for _ in range(header.n_future_block_entries)
    ]
    _read_ordinates(cur, block, label)
    return block


def _read_variables(cur: _Cursor, label: str, scan: str) -> dict[str, Any]:
    n = cur.count(f"{label} number of corresponding variables", lines_each=2)
    needed = 2 if scan == "IRREGULAR" else 1
    if n < needed:
        raise cur.fail(f"{label} has {n} corresponding variables; a {scan} block needs at "
                       f"least {needed}", line=cur.pos - 1)
    variables = [{"label": cur.text(f"{label} corresponding variable label"),
                  "unit": cur.text(f"{label} corresponding variable unit")} for _ in range(n)]
    return {"corresponding variables": variables}


def _read_ordinates(cur: _Cursor, block: _Block, label: str) -> None:
    variables = block.get("corresponding variables")
    n_vars = len(variables)
    count_line = cur.pos
    n_values = cur.count(f"{label} number of ordinate values", reserve=2 * n_vars)
    if n_values == 0 or n_values % n_vars:
        raise cur.fail(f"{label}: {n_values} ordinate values cannot be split evenly into "
                       f"{n_vars} corresponding variables", line=count_line)
    limits = [(cur.metadata_real(f"{label} minimum ordinate value"),
               cur.metadata_real(f"{label} maximum ordinate value")) for _ in range(n_vars)]
    block.tail["number of ordinate values"] = n_values
    block.tail["ordinate limits"] = [{"minimum": lo, "maximum": hi} for lo, hi in limits]
    first = cur.pos
    tokens = cur.lines[first:first + n_values]
    try:
        flat = np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(i for i, t in enumerate(tokens) if not _is_number(t))
        raise cur.fail(f"{label}: expected ordinate value {bad + 1} of {n_values}, found "
                       f"{tokens[bad].strip()[:40]!r}", line=first + bad) from None
    cur.pos = first + n_values
    block.columns = flat.reshape(-1, n_vars)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- to Spectrum
def _real(value: Any) -> float | None:
    """A usable number: not text, not the ISO null 1E+37, finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or abs(value) >= NULL_VALUE:
        return None
    return float(value)


def _label(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text.lower() in _UNSPECIFIED else text


def _acquired_at(block: _Block, cur: _Cursor, name: str) -> _dt.datetime | None:
    parts = [block.get(k) for k in ("year", "month", "day", "hours", "minutes", "seconds")]
    offset = _real(block.get("number of hours in advance of GMT"))
    if all(p == 0 for p in parts[:3]):  # CasaXPS writes zeros when no date was recorded
        return None
    try:
        if any(_real(p) is None for p in parts) or offset is None or abs(offset) > 14:
            raise ValueError("missing or null field")
        year, month, day, hours, minutes = (int(p) for p in parts[:5])
        seconds = float(parts[5])
        if year < 1900 or not 0 <= seconds < 61:
            raise ValueError("out of range")
        local = _dt.datetime(year, month, day, hours, minutes, int(seconds),
                             int(round((seconds % 1) * 1e6)) % 1_000_000,
                             tzinfo=_dt.timezone(_dt.timedelta(hours=offset)))
    except (ValueError, TypeError, OverflowError):
        shown = " ".join("?" if p is None else f"{p:g}" if isinstance(p, float) else str(p)
                         for p in [*parts, block.get("number of hours in advance of GMT")])
        cur.warn(f"no valid acquisition date/time (year month day h min s GMT-offset: {shown}); "
                 "acquired_at omitted", name)
        return None
    return local.astimezone(_dt.timezone.utc)


def _signal_kind(block: _Block, variable: dict[str, str]) -> str:
    words = (variable["label"].lower(), variable["unit"].lower(), block.identifier.lower())
    if any(w in _CPS_WORDS or "per second" in w for w in words):
        return "cps"
    return "counts"


def _axis_kind(label: str, unit: str, cur: _Cursor, name: str) -> str:
    if unit.strip().lower() != "ev":
        raise ParseError(cur.path, f"the abscissa {label!r} is in {unit!r}; only energy axes in eV "
                         "are supported", position=name)
    lowered = label.lower()
    if "binding" in lowered:
        return "binding_energy"
    if "kinetic" not in lowered:
        cur.warn(f"abscissa label {label!r} names neither kinetic nor binding energy; read as "
                 "kinetic energy", name)
    return "kinetic_energy"


def _block_axis(
    block: _Block, scan: str, cur: _Cursor, name: str
) -> tuple[str, np.ndarray, np.ndarray]:
    """(axis name, axis values, ordinate columns without the abscissa)."""
    assert block.columns is not None
    columns = block.columns
    if scan == "REGULAR":
        start, step = block.get("abscissa start"), block.get("abscissa increment")
        if not (math.isfinite(start) and math.isfinite(step)) or step == 0:
            raise ParseError(cur.path, f"abscissa start {start} / increment {step} do not define "
                             "an axis", position=name)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow -> ParseError below
            values = start + step * np.arange(columns.shape[0], dtype=np.float64)
        kind = _axis_kind(block.get("abscissa label"), block.get("abscissa units"), cur, name)
        return kind, values, columns
    abscissa = block.get("corresponding variables")[0]
    values = columns[:, 0]
    steps = np.diff(values)
    # Spliced CasaXPS spectra repeat a point where two scans join (Ti_references_irregular.vms),
    # so the axis must be monotonic but not strictly.
    if not np.all(np.isfinite(values)) or not (np.all(steps >= 0) or np.all(steps <= 0)):
        raise ParseError(cur.path, f"the IRREGULAR abscissa {abscissa['label']!r} is not finite "
                         "and monotonic", position=name)
    return _axis_kind(abscissa["label"], abscissa["unit"], cur, name), values, columns[:, 1:]


def _convert_energy(
    kind: str, values: np.ndarray, hv: float | None, phi: float, energy: str, cur: _Cursor,
    name: str,
) -> tuple[str, np.ndarray, tuple[Step, ...]]:
    if hv is None and kind != f"{energy}_energy":
        cur.warn(f"no excitation energy: the axis stays {kind.replace('_', ' ')}", name)
    return convert_energy(kind, values, hv=hv, phi=phi, energy=energy)


def _spectrum(header: _Header, block: _Block, source: Source, name: str, cur: _Cursor, *,
              energy: str, subtract_work_function: bool) -> Spectrum:
    fields = block.fields
    variables = fields["corresponding variables"]
    kind, axis_values, ordinates = _block_axis(block, header.scan_mode, cur, name)
    signal_variables = variables[1:] if header.scan_mode == "IRREGULAR" else variables
    data = ordinates[:, 0]
    if not np.all(np.isfinite(data)):
        raise ParseError(cur.path, "the signal holds non-finite values", position=name)

    hv = _real(fields.get("analysis source characteristic energy"))
    phi = 0.0
    field_phi = _real(fields.get("analyser work function or acceptance energy of atom or ion"))
    if subtract_work_function:
        if field_phi is None:
            cur.warn("no analyser work function in the block: phi = 0 used", name)
        else:
            phi = field_phi
    kind, axis_values, history = _convert_energy(kind, axis_values, hv, phi, energy, cur, name)

    extra: dict[str, np.ndarray] = {}
    for i, variable in enumerate(signal_variables[1:], start=1):
        key = variable["label"] or f"variable {i + 1}"
        key = key if key not in extra else f"{key} ({i + 1})"
        column = np.array(ordinates[:, i], dtype=np.float64)
        column.setflags(write=False)
        extra[key] = column
    raw_meta: dict[str, Any] = {**header.fields, **fields, "corresponding_variables": extra}
    raw_meta["experimental variables"] = [
        {**var, "value": value} for var, value in
        zip(raw_meta["experimental variables"], fields.get("experimental variable values", []))
    ]
    raw_meta.pop("experimental variable values", None)
    try:
        axis = Axis(kind, "eV", axis_values)
    except ValueError as exc:  # e.g. start + n * increment overflows to inf
        raise ParseError(cur.path, f"unusable energy axis: {exc}", position=name) from exc
    return Spectrum(
        axis=axis,
        data=data,
        technique="xps",
        signal=_signal_kind(block, signal_variables[0]),
        meta=_meta(header, block, hv, phi, cur, name),
        raw_meta=raw_meta,
        source=source,
        history=history,
    )


def _meta(header: _Header, block: _Block, hv: float | None, phi: float, cur: _Cursor,
          name: str) -> dict[str, Any]:
    species = _label(block.get("species label")) or ""
    transition = _label(block.get("transition or charge state label")) or ""
    meta: dict[str, Any] = {
        "region": f"{species} {transition}".strip() or block.identifier,
        "element": species if species in ELEMENTS else None,
        "transition": transition or None,
        "sample": _label(block.get("sample identifier")),
        "title": _label(block.identifier),
        "instrument": _label(header.fields["instrument model identifier"]),
        "operator": _label(header.fields["operator identifier"]),
        "excitation_energy_ev": hv,
        "work_function_ev": phi,
        "source_label": _label(block.get("analysis source label")),
        "analyser_mode": _label(block.get("analyser mode")),
        "pass_energy_ev": _real(
            block.get("analyser pass energy or retard ratio or mass resolution")),
        "analyser_angle_deg": header.analyser_angle_deg,
        "dwell_time_s": _real(block.get("signal collection time")),
        "acquired_at": _acquired_at(block, cur, name),
    }
    scans = _real(block.get("number of scans to compile this block"))
    if scans is not None and scans.is_integer() and scans > 0:
        meta["n_scans"] = int(scans)
    return {key: value for key, value in meta.items() if value is not None}


# --------------------------------------------------------------------------- public API
def _check_energy(energy: str) -> None:
    if energy not in ("binding", "kinetic"):
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")


def _first_line(lines: list[str], path: str) -> int:
    for index, line in enumerate(lines):
        stripped = line.replace("\x00", "").strip().lstrip("\ufeff").removeprefix("ï»¿")
        if not stripped:
            continue
        if not stripped.startswith(MAGIC):
            raise ParseError(path, f"not a VAMAS file: expected {MAGIC!r}, found "
                             f"{stripped[:60]!r}", position=f"line {index + 1}")
        return index
    raise ParseError(path, "empty file: no VAMAS format identifier", position="line 1")


def parse_vamas(
    text: str,
    *,
    source: Source,
    energy: str = "binding",
    subtract_work_function: bool = False,
) -> list[Spectrum]:
    """Parse the text of an ISO 14976 VAMAS file into one XPS Spectrum per block.

    Parameters
    ----------
    text : str
        The whole file, decoded (line ends CR, LF or CRLF).
    source : Source
        Provenance of the file; ``block`` is replaced per block by the block identifier
        (``"<identifier> [block <n>]"`` when identifiers repeat in the file).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return. ``"binding"`` converts a kinetic-energy abscissa with
        ``BE = hv - KE - phi`` (eV); ``"kinetic"`` keeps it (and converts a binding-energy
        abscissa with ``KE = hv - BE - phi``). Without an excitation energy the file's axis is
        kept and a MetadataWarning says so.
    subtract_work_function : bool, default False
        ``phi`` is 0 eV unless this is True; then ``phi`` is the block field *analyser work
        function or acceptance energy of atom or ion* (see the module docstring for why the
        default is right for Prodigy, CasaXPS, Kratos and PHI files).

    Returns
    -------
    list of Spectrum
        1-D spectra (technique ``"xps"``, signal ``"counts"``, or ``"cps"`` when the variable,
        its unit or the block identifier says counts per second), in file order. ``meta`` holds
        region, element, transition, sample, title, instrument, operator,
        excitation_energy_ev, work_function_ev (the ``phi`` used), source_label,
        analyser_mode, pass_energy_ev, analyser_angle_deg (CasaXPS ``SourceAnalyserAngle``
        comment), dwell_time_s, n_scans and acquired_at (UTC) where the file gives them.
        ``raw_meta`` holds every file and block field under its ISO 14976 name, the block
        comment verbatim under ``"comment"``, and the corresponding variables after the
        first under ``"corresponding_variables"`` (label -> read-only array of shape (n,)).

    Raises
    ------
    ParseError
        Not a VAMAS file, a truncated file, a count that does not match the values present,
        an unreadable number in the structure or the data, a missing ``end of experiment``.
    ConfigError
        For an ``energy`` other than "binding" or "kinetic".

    Warns
    -----
    MetadataWarning
        Once per kind of defect in optional metadata (e.g. an invalid date), naming the blocks.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> spectra = parse_vamas(open("regular.vms", encoding="latin-1").read(),
    ...                       source=Source("regular.vms", "", "vamas"))  # doctest: +SKIP
    >>> spectra[0].meta["region"], spectra[0].axis.values[0]  # doctest: +SKIP
    ('Survey', 1350.0)
    """
    _check_energy(energy)
    lines = _LINE_BREAK.split(text)
    cur = _Cursor(lines, _first_line(lines, source.path), source.path)
    header = _parse_header(cur)
    blocks: list[_Block] = []
    for index in range(header.n_blocks):
        blocks.append(_parse_block(cur, header, blocks[0] if blocks else None, index))
    _check_terminator(cur)

    identifiers = [b.identifier for b in blocks]
    spectra = []
    for index, block in enumerate(blocks):
        name = block.identifier
        if identifiers.count(name) > 1:
            name = f"{name} [block {index + 1}]"
        block.tail["block number"] = index + 1
        spectra.append(_spectrum(
            header, block, _replace_block(source, name),
            f"block {index + 1} ({block.identifier!r})", cur,
            energy=energy, subtract_work_function=subtract_work_function,
        ))
    for message, where in cur.warnings.items():
        places = ", ".join(sorted({w for w in where if w}, key=where.index))
        warnings.warn(f"{source.path}: {message}" + (f" [{places}]" if places else ""),
                      MetadataWarning, stacklevel=2)
    return spectra


def _replace_block(source: Source, block: str) -> Source:
    return Source(path=source.path, sha256=source.sha256, format=source.format, block=block,
                  parser_version=source.parser_version)


def _check_terminator(cur: _Cursor) -> None:
    while cur.pos < len(cur.lines) and not cur.lines[cur.pos].strip():
        cur.pos += 1
    if cur.pos >= len(cur.lines):
        raise cur.fail(f"missing {TERMINATOR!r} after the last block (truncated file?)")
    found = cur.lines[cur.pos].replace("\x00", "").strip()
    if found.lower() != TERMINATOR:
        raise cur.fail(f"expected {TERMINATOR!r} after the last block, found {found[:40]!r} "
                       "(more values than declared?)")


@register_parser(
    name="vamas",
    technique="xps",
    extensions=(".vms", ".npl"),
    magic=(MAGIC.encode("ascii"),),
    description="ISO 14976 VAMAS (regular and irregular; CasaXPS, SPECS, Kratos, PHI .npl)",
)
def read_vamas(
    path: Path,
    *,
    encoding: str = "latin-1",
    energy: str = "binding",
    subtract_work_function: bool = False,
) -> list[Spectrum]:
    """Read an ISO 14976 VAMAS file (``.vms``, PHI MultiPak ``.npl``): one Spectrum per block.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding of labels and comments (latin-1 decodes every byte).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_vamas` (``BE = hv - KE - phi``, eV).
    subtract_work_function : bool, default False
        Subtract the block's *analyser work function or acceptance energy* field as ``phi``;
        leave False for files whose kinetic energies are Fermi-level referenced (all known
        writers).

    Returns
    -------
    list of Spectrum
        See :func:`parse_vamas`.

    Raises
    ------
    ParseError
        Missing, unreadable, truncated or malformed file.
    ConfigError
        Invalid ``energy``.

    Examples
    --------
    >>> import specssb
    >>> spectra = specssb.read("FeO_analyzed.vms")  # doctest: +SKIP
    >>> spectra[0].meta["region"], spectra[0].axis.name  # doctest: +SKIP
    ('Fe 2p', 'binding_energy')
    """
    _check_energy(energy)
    data = read_bytes(path)
    source = make_source(path, "vamas", data=data)
    return parse_vamas(decode_text(data, path, encoding), source=source, energy=energy,
                       subtract_work_function=subtract_work_function)
