"""Shared reading of PHI MultiPak files (``.spe`` spectra, ``.pro`` depth profiles) (private).

Both file types are an ASCII header followed by a little-endian binary part; the layout below
was worked out from the real files in ``../shared/data/xps`` (PHI VersaProbe 4 and Quantera SXM
written by SmartSoft/MultiPak "SS 3.3"/"SS 3.6", PHI Quantum 2000 written by Compass V6.4)::

    SOFH<eol>                      start of file header (eol is CRLF, or LF in Compass files)
    Key: value<eol>                one per line; keys may repeat (SpectralRegDef, Channel Info…)
    …
    EOFH<eol>                      end of file header; the binary part starts on the next byte
    binary directory (16 bytes)    4 x uint32: 1, n_records, 96 * n_records, 16
    n_records x 96-byte records    24 x uint32 words each, see below
    data blocks                    float32 ('f4') or float64 ('f8'), at the offsets given

A directory record (word numbers 0-23, each 4 bytes)::

    w0      record number (1-based)
    w3      spectral region number (1..NoSpectralReg); 0 for derived depth-profile tables
    w5      values along the fast axis (points of a spectrum; levels of a profile table)
    w6      values along the slow axis (1 in a .spe; levels in a .pro; regions in a table)
    w8-9    fast-axis label, NUL-terminated text: 'pnt' (energy points) or 'cyc' (levels)
    w10-13  slow-axis label: 'sar' (spatial area), 'cyc' (levels), 'reg' (regions)
    w14-15  unit of the values: 'c/s' (counts per second), 's', 'c/s * eV'
    w18     value type: 'f4' (float32) or 'f8' (float64)
    w19     length of the data block in bytes (= w5 * w6 * item size)
    w20     offset of the data block from the first byte after ``EOFH<eol>``

Values are stored slow axis first: a region of a depth profile is ``(levels, points)``.
Other words (analysis area indices, uninitialised values in Compass files) are not used. Compass
V6.4 writes four more bytes after each data block (a float32 equal to the region's dwell time);
the offsets table skips them.

The spectral regions come from the header: ``NoSpectralReg`` and one ``SpectralRegDef`` line per
region (the ``…Full`` keys describe the acquisition set-up, not the data)::

    SpectralRegDef: <n> <order> <name> <Z> <points> <step> <start> <end> <s2> <e2> <dwell> <PE> <m>

with ``name`` e.g. ``Cu2p`` or ``Cu_LMM`` (``Su1s``/``1su`` and ``Z = 111`` for a survey), ``step``,
``start`` and ``end`` in eV of binding energy (``start + (points - 1) * step == end``), ``dwell``
the dwell time per point in s, ``PE`` the pass energy in eV and ``m`` the mode (``AREA``).
``SpectralRegDef2: <n> <range> <sweeps> …`` gives the number of sweeps. Names may contain a
space (``Cu LMM`` in a ``…Full`` line), so the fields are counted from the right.
"""

from __future__ import annotations

import datetime as _dt
import re
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import time_zone
from specssb.parsers._xps_energy import convert_energy
from specssb.spectrum import Axis, Coord, Source, Spectrum, Step

START = b"SOFH"
END = "EOFH"

_DIRECTORY = struct.Struct("<4I")
_RECORD_SIZE = 96
_DTYPES = {"f4": np.dtype("<f4"), "f8": np.dtype("<f8")}
_EOFH = re.compile(rb"(?:\r\n|\n|\r)EOFH(?:\r\n|\n|\r)?")
_FILE_TYPE = re.compile(rb"(?:\r\n|\n|\r)FileType:[ \t]*([A-Za-z]+)")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_ELEMENT_NAME = re.compile(r"^([A-Z][a-z]?)[\s_]*(.*)$")
#: Element symbols by atomic number (index 0 is a placeholder).
_SYMBOLS = (
    "- H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am "
    "Cm Bk Cf Es Fm Md No Lr"
).split()
#: PHI's atomic number for a survey region.
SURVEY_Z = 111
#: Photon energies of the usual anodes, eV, when ``XraySource`` gives no number.
_ANODES = {"al": 1486.6, "mg": 1253.6}


# --------------------------------------------------------------------------- sniffing
def file_type(head: bytes) -> str | None:
    """The ``FileType`` of a PHI file from its first bytes, or None when it is not a PHI file.

    Parameters
    ----------
    head : bytes
        The first few kB of the file.

    Returns
    -------
    str or None
        ``"SPECTRUM"``, ``"DEPTHPRO"`` …; ``""`` for a PHI header without a FileType line;
        None when the bytes do not start with an ``SOFH`` line.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    if not stripped.startswith(START) or stripped[4:5] not in (b"\r", b"\n"):
        return None
    match = _FILE_TYPE.search(stripped)
    return match.group(1).decode("ascii").upper() if match else ""


# --------------------------------------------------------------------------- header
@dataclass(frozen=True)
class PhiHeader:
    """The ASCII header of a PHI file.

    Attributes
    ----------
    fields : dict
        ``key -> value`` (str); a key that occurs several times maps to a list of str.
    line_of : dict
        ``key -> 1-based line number`` of its first occurrence (for error messages).
    binary_start : int
        Byte offset of the first byte after ``EOFH<eol>``.
    """

    fields: dict[str, Any]
    line_of: dict[str, int]
    binary_start: int

    def get(self, key: str) -> str | None:
        """The first value of ``key`` (stripped), or None."""
        value = self.fields.get(key)
        if isinstance(value, list):
            value = value[0]
        return value.strip() if isinstance(value, str) else None

    def all(self, key: str) -> list[str]:
        """Every value of ``key``, in file order."""
        value = self.fields.get(key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def number(self, key: str) -> float | None:
        """The first number in the value of ``key``, or None."""
        match = _NUMBER.search(self.get(key) or "")
        return float(match.group()) if match else None


def parse_header(data: bytes, path: str | PathLike[str]) -> PhiHeader:
    """Split off and parse the ``SOFH`` … ``EOFH`` header.

    Raises
    ------
    ParseError
        When the file does not start with ``SOFH``, or has no ``EOFH`` line.
    """
    start = len(data) - len(data.lstrip(b"\xef\xbb\xbf\r\n\t "))
    if not data[start:].startswith(START):
        found = data[start:start + 20].decode("latin-1", "replace")
        raise ParseError(path, f"not a PHI MultiPak file: expected 'SOFH' at the start, found "
                         f"{found!r}", position="byte 0")
    match = _EOFH.search(data, start)
    if match is None:
        raise ParseError(path, "the header has no 'EOFH' line (truncated file?)",
                         position=f"byte {len(data)}")
    text = data[start:match.start()].decode("latin-1")
    fields: dict[str, Any] = {}
    line_of: dict[str, int] = {}
    loose: list[str] = []
    for number, line in enumerate(re.split(r"\r\n|\n|\r", text)[1:], start=2):
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or not key:
            if line.strip():
                loose.append(line)
            continue
        value = value.strip()
        if key in fields:
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
            line_of[key] = number
    if loose:
        fields["lines without a key"] = loose
    return PhiHeader(fields, line_of, match.end())


# --------------------------------------------------------------------------- regions
@dataclass(frozen=True)
class PhiRegion:
    """One ``SpectralRegDef`` line (energies in eV of binding energy)."""

    number: int
    name: str
    atomic_number: int
    n_points: int
    step_ev: float
    start_ev: float
    end_ev: float
    dwell_time_s: float
    pass_energy_ev: float
    definition: str
    sweeps: int | None = None

    @property
    def is_survey(self) -> bool:
        """True for a survey region (``Z = 111``, name ``Su1s``/``1su``)."""
        return self.atomic_number == SURVEY_Z or self.name.lower() in ("su1s", "1su", "survey")

    def binding_energy(self) -> np.ndarray:
        """The region's binding-energy values, eV: ``start + i * step``, shape (n_points,)."""
        return self.start_ev + self.step_ev * np.arange(self.n_points, dtype=np.float64)

    def element_and_transition(self) -> tuple[str | None, str | None]:
        """Element symbol and transition from the name (``Sn3d5`` -> ``('Sn', '3d5')``).

        The atomic number decides the element when it is a valid one; the name when not.
        """
        if self.is_survey:
            return None, None
        match = _ELEMENT_NAME.match(self.name)
        by_z = _SYMBOLS[self.atomic_number] if 0 < self.atomic_number < len(_SYMBOLS) else None
        if match is None:
            return by_z, None
        symbol, rest = match.group(1), match.group(2).strip(" _") or None
        if by_z is not None and symbol != by_z:
            if self.name.startswith(by_z):
                rest = self.name[len(by_z):].strip(" _") or None
            else:
                rest = self.name
            symbol = by_z
        if symbol not in _SYMBOLS[1:]:
            return None, None
        return symbol, rest

    @property
    def label(self) -> str:
        """Region label for ``meta['region']``: ``'Sn 3d5'``, ``'Cu LMM'``, ``'Survey'``."""
        if self.is_survey:
            return "Survey"
        element, transition = self.element_and_transition()
        if element is None:
            return self.name
        return f"{element} {transition}" if transition else element


def parse_regions(header: PhiHeader, path: str | PathLike[str]) -> list[PhiRegion]:
    """The spectral regions of the data (``NoSpectralReg`` + ``SpectralRegDef`` lines).

    Raises
    ------
    ParseError
        A missing or non-integer ``NoSpectralReg``, a count that differs from the definitions,
        an unreadable definition, an empty region or a zero energy step.
    """
    count_text = header.get("NoSpectralReg")
    where = f"line {header.line_of.get('NoSpectralReg', 1)}"
    if count_text is None:
        raise ParseError(path, "the header has no 'NoSpectralReg' line", position="header")
    try:
        count = int(count_text)
    except ValueError:
        raise ParseError(path, f"NoSpectralReg is not an integer: {count_text[:40]!r}",
                         position=where) from None
    definitions = header.all("SpectralRegDef")
    if count < 1 or len(definitions) != count:
        raise ParseError(path, f"NoSpectralReg is {count} but the header holds "
                         f"{len(definitions)} SpectralRegDef lines", position=where)
    sweeps = _sweeps(header)
    first_line = header.line_of.get("SpectralRegDef", 1)
    regions = [_region(text, path, f"SpectralRegDef {index + 1} (from line {first_line})", sweeps)
               for index, text in enumerate(definitions)]
    numbers = [r.number for r in regions]
    if len(set(numbers)) != len(numbers):
        raise ParseError(path, f"SpectralRegDef region numbers repeat: {numbers}",
                         position=f"line {first_line}")
    return regions


def _region(text: str, path: str | PathLike[str], where: str,
            sweeps: dict[int, int]) -> PhiRegion:
    tokens = text.split()
    if len(tokens) < 13:
        raise ParseError(path, f"a SpectralRegDef needs 13 fields, found {len(tokens)}: "
                         f"{text[:60]!r}", position=where)
    name = " ".join(tokens[2:-10])
    try:
        number = int(tokens[0])
        atomic_number, n_points = int(tokens[-10]), int(tokens[-9])
        step, start, end = float(tokens[-8]), float(tokens[-7]), float(tokens[-6])
        dwell, pass_energy = float(tokens[-3]), float(tokens[-2])
    except ValueError:
        raise ParseError(path, f"unreadable number in SpectralRegDef {text[:60]!r}",
                         position=where) from None
    values = np.array([step, start, end])
    if n_points < 1 or not np.all(np.isfinite(values)) or step == 0.0:
        raise ParseError(path, f"region {name!r} has {n_points} points and energy step {step} "
                         "eV: no energy axis can be built", position=where)
    return PhiRegion(number, name, atomic_number, n_points, step, start, end, dwell,
                     pass_energy, text, sweeps.get(number))


def _sweeps(header: PhiHeader) -> dict[int, int]:
    """Region number -> number of sweeps (``SpectralRegDef2`` field 3), where readable."""
    found: dict[int, int] = {}
    for text in header.all("SpectralRegDef2"):
        tokens = text.split()
        try:
            found[int(tokens[0])] = int(tokens[2])
        except (ValueError, IndexError):
            continue
    return found


# --------------------------------------------------------------------------- binary part
@dataclass(frozen=True)
class DataRecord:
    """One 96-byte record of the binary directory (see the module docstring)."""

    number: int
    region_number: int
    n_fast: int
    n_slow: int
    fast_label: str
    slow_label: str
    unit: str
    dtype: np.dtype
    n_bytes: int
    offset: int  # from the start of the binary part

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the values, slow axis first."""
        return self.n_slow, self.n_fast


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def parse_directory(data: bytes, header: PhiHeader,
                    path: str | PathLike[str]) -> list[DataRecord]:
    """The records of the binary directory, each checked against the file size.

    Raises
    ------
    ParseError
        A directory that is truncated or not the PHI layout, an unknown value type, a block
        length that does not match its shape, or a block past the end of the file.
    """
    base = header.binary_start
    if len(data) - base < _DIRECTORY.size:
        raise ParseError(path, "the binary part after EOFH is missing or truncated",
                         position=f"byte {base}")
    _, n_records, table_bytes, directory_bytes = _DIRECTORY.unpack_from(data, base)
    if directory_bytes != _DIRECTORY.size or table_bytes != _RECORD_SIZE * n_records \
            or n_records < 1:
        raise ParseError(path, f"unexpected binary directory ({n_records} records, "
                         f"{table_bytes} table bytes, {directory_bytes} header bytes): not "
                         "the PHI MultiPak layout", position=f"byte {base}")
    end_of_table = base + _DIRECTORY.size + table_bytes
    if end_of_table > len(data):
        raise ParseError(path, f"the binary directory lists {n_records} records but the file "
                         "ends inside it (truncated file?)", position=f"byte {len(data)}")
    records = []
    for index in range(n_records):
        at = base + _DIRECTORY.size + index * _RECORD_SIZE
        raw = data[at:at + _RECORD_SIZE]
        words = struct.unpack("<24I", raw)
        kind = _text(raw[72:76])
        if kind not in _DTYPES:
            raise ParseError(path, f"directory record {index + 1} has value type {kind!r} "
                             "(expected 'f4' or 'f8')", position=f"byte {at + 72}")
        record = DataRecord(
            number=words[0], region_number=words[3], n_fast=words[5], n_slow=words[6],
            fast_label=_text(raw[32:40]), slow_label=_text(raw[40:48]),
            unit=_text(raw[56:64]), dtype=_DTYPES[kind], n_bytes=words[19], offset=words[20],
        )
        expected = record.n_fast * record.n_slow * record.dtype.itemsize
        if record.n_bytes != expected:
            raise ParseError(path, f"directory record {index + 1} declares {record.n_bytes} "
                             f"bytes for {record.n_slow} x {record.n_fast} {kind} values "
                             f"({expected} bytes)", position=f"byte {at + 76}")
        if record.offset < end_of_table - base or base + record.offset + record.n_bytes > len(data):
            raise ParseError(path, f"data block {index + 1} ({record.n_bytes} bytes at binary "
                             f"offset {record.offset}) lies outside the file's "
                             f"{len(data) - base} binary bytes (truncated file?)",
                             position=f"byte {min(base + record.offset, len(data))}")
        records.append(record)
    return records


def record_values(data: bytes, header: PhiHeader, record: DataRecord) -> np.ndarray:
    """The values of one record as float64, shape ``(n_slow, n_fast)``."""
    start = header.binary_start + record.offset
    values = np.frombuffer(data, dtype=record.dtype, count=record.n_slow * record.n_fast,
                           offset=start)
    return values.astype(np.float64).reshape(record.shape)


def region_records(records: list[DataRecord], regions: list[PhiRegion],
                   path: str | PathLike[str]) -> dict[int, DataRecord]:
    """Region number -> its data record, checking that every region has one of its length.

    Raises
    ------
    ParseError
        A region without a data record, or with a different number of points.
    """
    by_region = {r.region_number: r for r in records if r.region_number > 0}
    for region in regions:
        record = by_region.get(region.number)
        if record is None:
            raise ParseError(path, f"region {region.number} ({region.name}) has no data record "
                             "in the binary directory", position="binary directory")
        if record.n_fast != region.n_points:
            raise ParseError(path, f"region {region.number} ({region.name}) is defined with "
                             f"{region.n_points} points but its data record holds "
                             f"{record.n_fast}", position=f"binary record {record.number}")
    return by_region


# --------------------------------------------------------------------------- metadata
def check_options(energy: str, timezone: str) -> None:
    """Validate the readers' ``energy`` and ``timezone`` options.

    Raises
    ------
    ConfigError
        For an energy other than "binding"/"kinetic" or an unknown time zone.
    """
    if energy not in ("binding", "kinetic"):
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")
    time_zone(timezone)


def excitation_energy(header: PhiHeader) -> float | None:
    """Photon energy in eV from ``XraySource`` (``'Al 1486.6 mono'``), or the anode's value."""
    value = header.number("XraySource")
    if value is not None and value > 0:
        return value
    source = (header.get("XraySource") or "").lower()
    return next((hv for anode, hv in _ANODES.items() if source.startswith(anode)), None)


def acquired_at(header: PhiHeader, timezone: str) -> tuple[_dt.datetime | None, str | None]:
    """Start of the acquisition day in UTC, and a warning text when the date is unreadable.

    PHI headers carry the date only (``AcqFileDate: 2017 6 6``, with a leading space in
    Compass files), no clock time and no time zone: the result is midnight of that day in
    ``timezone`` (default UTC), converted to UTC.
    """
    text = header.get("AcqFileDate") or header.get("FileDate")
    if text is None:
        return None, None
    try:
        year, month, day = (int(token) for token in text.split()[:3])
        local = _dt.datetime(year, month, day, tzinfo=time_zone(timezone))
    except ValueError:
        return None, f"unreadable acquisition date {text[:40]!r}; acquired_at left out"
    return local.astimezone(_dt.timezone.utc), None


def _sample(header: PhiHeader) -> str | None:
    area = header.get("SpatialAreaDesc")
    if area:
        text = area.split(None, 1)[1].strip() if len(area.split(None, 1)) > 1 else ""
        if text:
            return text
    description = header.get("FileDesc") or ""
    wrapped = re.fullmatch(r"\(\s*\d+\s*,\s*(.*?)\s*\)", description)
    return (wrapped.group(1) if wrapped else description) or None


def file_meta(header: PhiHeader) -> dict[str, Any]:
    """Normalized meta shared by every region of a file (None values are dropped later)."""
    return {
        "sample": _sample(header),
        "title": header.get("FileDesc") or None,
        "instrument": header.get("InstrumentModel") or None,
        "operator": header.get("Operator") or None,
        "source_label": header.get("XraySource") or None,
        "analyser_mode": header.get("AnalyserMode") or None,
        "analyser_angle_deg": header.number("SourceAnalyserAngle"),
    }


def region_meta(region: PhiRegion) -> dict[str, Any]:
    """Normalized meta of one region."""
    element, transition = region.element_and_transition()
    return {
        "region": region.label,
        "element": element,
        "transition": transition,
        "pass_energy_ev": region.pass_energy_ev,
        "dwell_time_s": region.dwell_time_s if region.dwell_time_s > 0 else None,
        "n_scans": region.sweeps if region.sweeps and region.sweeps > 0 else None,
    }


def region_raw_meta(header: PhiHeader, region: PhiRegion, record: DataRecord) -> dict[str, Any]:
    """The whole header plus this region's definition and directory record."""
    raw: dict[str, Any] = dict(header.fields)
    raw["region number"] = region.number
    raw["region name"] = region.name
    raw["region definition"] = region.definition
    raw["region atomic number"] = region.atomic_number
    raw["data unit"] = record.unit
    raw["data type"] = record.dtype.str
    coefficients = transmission_coefficients(header)
    if coefficients is not None:
        raw["intensity_calibration_coefficients"] = coefficients
    return raw


def transmission_coefficients(header: PhiHeader) -> tuple[float, float] | None:
    """``IntensityCalCoeff: a b`` as floats (PHI transmission-function coefficients)."""
    tokens = (header.get("IntensityCalCoeff") or "").split()
    try:
        return float(tokens[0]), float(tokens[1])
    except (ValueError, IndexError):
        return None


def signal_of(unit: str) -> tuple[str, str]:
    """``(signal, signal_unit)`` for a data unit written in the directory."""
    compact = unit.replace(" ", "").lower()
    if compact in ("c/s", "cps", "counts/s"):
        return "cps", "counts/s"
    if compact in ("c", "cnt", "counts"):
        return "counts", "counts"
    return "intensity", unit or "arb. units"


def energy_axis(region: PhiRegion, *, hv: float | None, phi: float,
                energy: str) -> tuple[Axis, tuple[Step, ...]]:
    """The region's axis on the wanted scale (binding energy as stored; kinetic converted)."""
    name, values, steps = convert_energy("binding_energy", region.binding_energy(), hv=hv,
                                         phi=phi, energy=energy)
    return Axis(name, "eV", values), steps


def work_function(header: PhiHeader, subtract: bool) -> float | None:
    """``phi`` for the KE <-> BE conversion: 0, or ``AnalyserWorkFcn`` (None when missing)."""
    if not subtract:
        return 0.0
    return header.number("AnalyserWorkFcn")


def end_mismatch(region: PhiRegion) -> str | None:
    """A warning text when ``start + (points - 1) * step`` misses the stated end energy."""
    computed = region.start_ev + (region.n_points - 1) * region.step_ev
    if abs(computed - region.end_ev) > 0.5 * abs(region.step_ev):
        return (f"region {region.number} ({region.name}): start {region.start_ev} + "
                f"{region.n_points - 1} x step {region.step_ev} = {computed:.4f} eV differs from "
                f"the stated end {region.end_ev} eV; the axis follows start and step")
    return None


# --------------------------------------------------------------------------- spectra
#: ``leading(region, record, values) -> (data, dims, coords, raw_extra)``
Leading = Callable[[PhiRegion, DataRecord, np.ndarray],
                   tuple[np.ndarray, tuple[str, ...], dict[str, Coord], dict[str, Any]]]


def build_spectra(
    data: bytes,
    header: PhiHeader,
    regions: list[PhiRegion],
    records: dict[int, DataRecord],
    *,
    source: Source,
    energy: str,
    subtract_work_function: bool,
    timezone: str,
    leading: Leading,
) -> list[Spectrum]:
    """One Spectrum per region, with the leading dimensions ``leading`` chooses.

    Raises
    ------
    ParseError
        When a region holds no finite value.

    Warns
    -----
    MetadataWarning
        Unreadable date, missing photon energy or work function, an end energy that does not
        follow from start and step; once per defect, naming the file.
    """
    problems: list[str] = []
    hv = excitation_energy(header)
    phi = work_function(header, subtract_work_function)
    if phi is None:
        problems.append("subtract_work_function=True but the header has no AnalyserWorkFcn; "
                        "phi = 0 eV used")
        phi = 0.0
    if hv is None and energy == "kinetic":
        problems.append("no photon energy in XraySource: the axis stays binding energy")
    when, date_problem = acquired_at(header, timezone)
    if date_problem:
        problems.append(date_problem)
    shared = file_meta(header)
    labels = [r.label for r in regions]
    spectra = []
    for region in regions:
        mismatch = end_mismatch(region)
        if mismatch:
            problems.append(mismatch)
        record = records[region.number]
        values = record_values(data, header, record)
        if not np.isfinite(values).any():
            raise ParseError(source.path, f"region {region.number} ({region.name}) holds no "
                             "finite value", position=f"byte {header.binary_start + record.offset}")
        array, dims, coords, raw_extra = leading(region, record, values)
        axis, steps = energy_axis(region, hv=hv, phi=phi, energy=energy)
        meta = {**shared, **region_meta(region), "excitation_energy_ev": hv,
                "acquired_at": when,
                "work_function_ev": phi if axis.name == "kinetic_energy" else None}
        signal, unit = signal_of(record.unit)
        block = region.label if labels.count(region.label) == 1 else \
            f"{region.label} [region {region.number}]"
        spectra.append(Spectrum(
            axis=axis, data=array, technique="xps", signal=signal, signal_unit=unit,
            dims=dims, coords=coords,
            meta={key: value for key, value in meta.items() if value is not None},
            raw_meta={**region_raw_meta(header, region, record), **raw_extra},
            source=Source(path=source.path, sha256=source.sha256, format=source.format,
                          block=block, parser_version=source.parser_version),
            history=steps,
        ))
    for message in dict.fromkeys(problems):
        warnings.warn(f"{source.path}: {message}", MetadataWarning, stacklevel=3)
    return spectra
