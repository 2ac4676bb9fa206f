"""The numeric table and column labels of beamline XAS text files (private).

Used by :mod:`specssb.parsers.xas_columns`, whose module notes describe the layouts: the data
table is the file's last run of numeric rows (one per spec scan), the labels come from
``Column.N`` fields, Epics ``P1 = {...}`` lines, spec ``#L``, SSRL ``Data:`` or the last header
lines, and become lower-case identifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from specssb.errors import ParseError

__all__ = ["Table", "blank", "is_comment", "read_tables"]

_COMMENT = ("#", ";", "%", "!", "*")
_SPLIT = re.compile(r"[,\s]+")
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?$|^[-+]?(?:nan|inf)$",
                     re.IGNORECASE)
_MARKERS = ("#S ", "#L ", "#N ")


@dataclass
class Table:
    """One numeric table: values (rows x columns), the file line of each row, header lines."""

    values: np.ndarray
    lines: list[int]
    header: list[str]
    scan: str | None = None
    names: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    layout: str = ""
    units: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------- the table
def blank(line: str) -> bool:
    """Empty, or only blanks and control characters (a DOS end-of-file ^Z)."""
    return not line.strip().strip("\x1a\x00")


def is_comment(line: str) -> bool:
    return line.lstrip().startswith(_COMMENT)


def _fields(line: str) -> list[str]:
    return [f for f in _SPLIT.split(line.strip()) if f]


def _numeric(line: str) -> bool:
    fields = _fields(line)
    return bool(fields) and all(_NUMBER.match(f) for f in fields)


def read_tables(lines: list[str], path: str) -> list[Table]:
    """One table per spec scan (``#S`` lines), else one table: the file's last numeric run."""
    starts = [i for i, line in enumerate(lines) if line.startswith("#S ")]
    if len(starts) > 1:
        tables = []
        for k, start in enumerate(starts):
            stop = starts[k + 1] if k + 1 < len(starts) else len(lines)
            segment = lines[:starts[0]] + lines[start:stop]
            offset = start - starts[0]
            scan = lines[start][3:].split()[0] if lines[start][3:].split() else str(k + 1)
            tables.append(_table(segment, path, scan, offset, starts[0]))
        return tables
    return [_table(lines, path, None, 0, len(lines))]


def _table(lines: list[str], path: str, scan: str | None, offset: int, split: int) -> Table:
    def file_line(index: int) -> int:
        return index + 1 + (offset if index >= split else 0)

    rows: list[int] = []
    index = len(lines) - 1
    while index >= 0:
        line = lines[index]
        if blank(line) or (is_comment(line) and not line.startswith(_MARKERS)):
            index -= 1
            continue
        if not _numeric(line):
            break
        rows.append(index)
        index -= 1
    rows.reverse()
    where = f"scan {scan}" if scan else "file"
    if len(rows) < 2:
        raise ParseError(path, f"no table of numbers found in the {where} (at least two rows of "
                         "numeric columns are needed)", position=f"line {file_line(len(lines) - 1)}")
    widths = [len(_fields(lines[i])) for i in rows]
    width = max(set(widths), key=widths.count)
    first = 0
    while first < len(rows) and widths[first] != width:
        first += 1  # numeric header lines of another width just before the table
    for k in range(first, len(rows)):
        if widths[k] != width:
            raise ParseError(path, f"expected {width} values (as on line {file_line(rows[first])}), "
                             f"found {widths[k]} (truncated row?)", position=f"line {file_line(rows[k])}")
    rows = rows[first:]
    if width < 2:
        raise ParseError(path, "one value per row: no data besides the abscissa",
                         position=f"line {file_line(rows[0])}")
    try:
        values = np.array([[float(f.replace("d", "e").replace("D", "e")) for f in _fields(lines[i])]
                           for i in rows], dtype=np.float64)
    except ValueError as exc:  # pragma: no cover - _NUMBER admits only floats
        raise ParseError(path, f"not a number ({exc})") from None
    header = [line for line in lines[:rows[0]]]
    table = Table(values, [file_line(i) for i in rows], header, scan)
    table.labels, table.layout, table.units = _labels(header, width)
    table.names = _identifiers(table.labels)
    return table


# -------------------------------------------------------------------------------- labels
def _strip_comment(line: str) -> str:
    text = line.strip()
    while text[:1] in _COMMENT and text:
        text = text[1:]
    text = re.sub(r"^\(\d+\)", "", text)  # CLS '#(1)'
    if re.match(r"^#[A-Z]\s", line.strip()):  # spec '#C', '#L' ...
        text = line.strip()[3:]
    return text.strip()


def _labels(header: list[str], width: int) -> tuple[list[str], str, dict[str, str]]:
    """(labels as written, how they were found, units by label)."""
    fields: dict[int, str] = {}
    for line in header:
        match = re.match(r"^\s*[#;]?\s*Column\.(\d+)\s*:\s*(\S+)", line)
        if match and 1 <= int(match.group(1)) <= width:
            fields[int(match.group(1))] = match.group(2)
    if len(fields) == width:
        return [fields[i + 1] for i in range(width)], "Column.N fields", {}
    epics = [m.group(1) for line in header
             if (m := re.match(r"^\s*;\s*[PD]\d+\s*=\s*\{([^}]*)\}", line))]
    if len(epics) == width:
        return epics, "Epics P/D definitions", {}
    for line in reversed(header):
        if line.startswith("#L "):
            labels = re.split(r"\s{2,}", line[3:].strip())
            if len(labels) == width:
                return labels, "spec #L", {}
    for k, line in enumerate(header):
        if line.strip().lower() == "data:":
            labels = [h.strip() for h in header[k + 1:] if h.strip()][:width]
            if len(labels) == width:
                return labels, "SSRL Data: block", {}
    candidates = [line for line in header if not blank(line)][-6:]
    for fixed in (False, True):
        for line in reversed(candidates):
            found = _split_label_line(line, width, fixed)
            if found is not None:
                return found[0], "label line" + (" (fixed width)" if fixed else ""), found[1]
    return [f"col{i + 1}" for i in range(width)], "none (col1 ... colN)", {}


def _fixed_width(line: str, width: int) -> list[list[str]]:
    """Fields of one fixed width that each start with a non-blank (LabVIEW headings)."""
    raw = line.rstrip().lstrip("#;")
    found = []
    for size in range(6, 41):
        chunks = [raw[i:i + size] for i in range(0, len(raw), size)]
        if len(chunks) == width and all(c[:1].strip() for c in chunks) and sum(
            chunks[k - 1].endswith(" ") for k in range(1, width)
        ) >= (width - 1) / 2:
            found.append([c.strip() for c in chunks])
    return found


def _split_label_line(
    line: str, width: int, fixed: bool
) -> tuple[list[str], dict[str, str]] | None:
    text = _strip_comment(line)
    if not text or not re.search(r"[A-Za-z]", text):
        return None
    units: dict[str, str] = {}
    for label, unit in re.findall(r"(\S+)\s*[(\[]\s*(k?eV)\s*[)\]]", text, flags=re.I):
        units[label] = unit
    if fixed:
        variants = _fixed_width(line, width)
    else:
        no_units = re.sub(r"\s*[(\[]\s*(k?eV|deg|s|sec|counts|mm)\s*[)\]]", "", text,
                          flags=re.I)
        variants = [
            re.findall(r'"([^"]*)"', text),
            [f.strip() for f in text.split("\t") if f.strip()],
            text.split(),
            no_units.split(),
            [f for f in re.split(r"\s*\*\s*|\s{2,}", text) if f],
            [f.strip() for f in text.split(",") if f.strip()],
        ]
    for labels in variants:
        if len(labels) == width and all(labels) and sum(
            bool(re.search(r"[A-Za-z]", label)) for label in labels
        ) >= max(1, width // 2) and not all(_NUMBER.match(label) for label in labels):
            return labels, units
    return None


def _identifiers(labels: list[str]) -> list[str]:
    names = []
    prefixed = all(re.match(r"^\d+_", label) for label in labels)
    for i, label in enumerate(labels):
        text = re.sub(r"^\d+_", "", label) if prefixed else label
        name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
        if not name or name[0].isdigit():
            name = f"col{i + 1}"
        names.append(name)
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique
