"""BioLogic EC-Lab text exports (``.mpt``): one table with Battery Data Format column names.

An ``.mpt`` file starts with ``EC-Lab ASCII FILE`` and ``Nb header lines : N``; the N header
lines hold the technique name, ``key : value`` settings (``Acquisition started on``, device,
software versions …), the technique's parameter table (one fixed-width 20-character column per
sequence ``Ns``), an optional loop table (``Loop k from point number a to b``), and, as line N,
the tab-separated column names (``time/s``, ``Ewe/V``, ``<I>/mA``, ``cycle number`` …). The
data rows follow, tab-separated.

Output
------
A :class:`pandas.DataFrame` whose first columns carry Battery Data Format (BDF) names
(battery-data-alliance/battery-data-format, ontology 1.3), when the file has the source column:

=============================  ====================================================
BDF column                     from
=============================  ====================================================
``Test Time / s``              ``time/s``
``Voltage / V``                ``Ewe/V``, else ``Ecell/V``, else ``<Ewe>/V``
``Current / A``                ``I/mA``, else ``<I>/mA`` (× 1e-3)
``Cycle Count / 1``            ``cycle number`` (EC-Lab counts from 0; not renumbered)
``Step Index / 1``             ``Ns`` (the sequence of the technique)
``Step Count / 1``             1 + the number of sequence changes so far (``Ns`` changes
                               value or the ``Ns changes`` flag is set)
``Net Capacity / Ah``          ``(Q-Qo)/mA.h`` (× 1e-3)
``Charging Capacity / Ah``     ``Q charge/mA.h`` (× 1e-3)
``Discharging Capacity / Ah``  ``Q discharge/mA.h`` (× 1e-3)
``Step Time / s``, ``Power / W``  ``step time/s``, ``P/W``
``Unix Time / s``              acquisition start (UTC) + ``time/s``
``Date Time``                  the same as timezone-aware UTC pandas datetimes
=============================  ====================================================

Every original column follows under its own name (nothing is lost); the flag columns
(``mode``, ``Ns``, ``cycle number`` …) are integers. ``df.attrs`` holds ``source`` (a
:class:`~specssb.spectrum.Source`), ``raw_meta`` (``header``: the full header text;
``technique``; ``settings``: the ``key : value`` lines, indented sub-lines as lists and repeated
keys as lists; ``notes``: header lines without a key; ``parameters``: the parameter table, name ->
one text per sequence; ``loops``; ``decimal_separator``; ``acquisition_start``), ``units``
(column -> unit) and ``bdf_columns`` (BDF column -> the EC-Lab column it came from).

Decisions
---------
* **Current sign.** BDF: positive current charges the cell. EC-Lab: ``I`` is positive for an
  anodic (oxidation) current at the working electrode. With the usual battery connection (the
  working-electrode leads on the cell's positive terminal, so ``Ewe`` is the cell voltage), an
  oxidation current at the positive electrode is charging, so the sign is kept as it is. A cell
  wired the other way round (negative electrode as working electrode) needs its sign flipped
  by the user; the file does not say which way it was wired.
* **Time.** ``Acquisition started on`` is the potentiostat PC's local time, written
  ``MM/DD/YYYY HH:MM:SS.fff`` whatever the Windows locale (checked on the German-locale file
  ``gcpl.issue_149.mpt``, whose ``.mpr`` twin says 10 January 2024); ``MM.DD.YYYY``,
  ``MM-DD-YYYY`` and ``YYYY-MM-DD`` are accepted too. It is interpreted in the ``timezone``
  option (an IANA name, default ``"UTC"``) and converted to UTC; ``time/s`` counts from it.
  When the header has no start time (an export with 3 header lines), ``Unix Time / s`` and
  ``Date Time`` are left out and a :class:`MetadataWarning` says so.
* **Decimal separator.** EC-Lab writes numbers with the Windows locale's decimal mark
  (``3,4228721E+000`` on a German PC). The separator is taken from the data rows themselves
  (never from the reader's locale); a file mixing both is a :class:`ParseError`.
* **Defects** (no magic line, a header count the file cannot hold, a row with the wrong number
  of values, a value that is not a finite number, fewer rows than the loop table declares) are
  :class:`ParseError` with the line number.

References
----------
BioLogic, *EC-Lab Software: Techniques and Applications*, and *EC-Lab Software User's Manual*
(text export ``.mpt``). Battery Data Alliance, *Battery Data Format*,
https://github.com/battery-data-alliance/battery-data-format.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import warnings
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._registry import register_parser
from specssb.spectrum import Source

__all__ = ["BDF_SOURCES", "parse_biologic_mpt", "read_biologic_mpt"]

MAGIC = "EC-Lab ASCII FILE"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEADER_COUNT = re.compile(r"^Nb header lines\s*:\s*(\d+)\s*$")
_LOOP = re.compile(r"^Loop\s+(\d+)\s+from point number\s+(\d+)\s+to\s+(\d+)\s*$")
_SETTING = re.compile(r"^(\S[^:]*?)\s+:\s?(.*)$")
_DATE = re.compile(
    r"^(?:(?P<m>\d{1,2})(?P<sep>[/.-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2}))"
    r"[ T](?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?$"
)

#: BDF column -> (EC-Lab columns in order of preference, factor to the BDF unit).
BDF_SOURCES: dict[str, tuple[tuple[str, ...], float]] = {
    "Test Time / s": (("time/s",), 1.0),
    "Voltage / V": (("Ewe/V", "Ecell/V", "<Ewe>/V"), 1.0),
    "Current / A": (("I/mA", "<I>/mA"), 1e-3),
    "Cycle Count / 1": (("cycle number",), 1.0),
    "Step Index / 1": (("Ns",), 1.0),
    "Net Capacity / Ah": (("(Q-Qo)/mA.h",), 1e-3),
    "Charging Capacity / Ah": (("Q charge/mA.h",), 1e-3),
    "Discharging Capacity / Ah": (("Q discharge/mA.h",), 1e-3),
    "Step Time / s": (("step time/s",), 1.0),
    "Power / W": (("P/W",), 1.0),
}
_BDF_UNITS = {name: name.rsplit(" / ", 1)[1] for name in BDF_SOURCES}
#: EC-Lab columns that hold counters and flags: stored as integers when every value is whole.
_INTEGER_COLUMNS = frozenset(
    {
        "mode",
        "ox/red",
        "error",
        "control changes",
        "Ns changes",
        "counter inc.",
        "Ns",
        "I Range",
        "half cycle",
        "cycle number",
    }
)


@register_parser(
    name="biologic-mpt",
    technique="echem",
    extensions=(".mpt",),
    magic=(MAGIC.encode(),),
    description="BioLogic EC-Lab text export (.mpt)",
)
def read_biologic_mpt(
    path: Path, *, encoding: str = "latin-1", timezone: str = "UTC"
) -> pd.DataFrame:
    """Read a BioLogic EC-Lab ``.mpt`` text export into a Battery Data Format table.

    Parameters
    ----------
    path : Path
        The ``.mpt`` file.
    encoding : str, default "latin-1"
        Text encoding (EC-Lab writes the Windows code page; ``µ`` is byte 0xB5).
    timezone : str, default "UTC"
        IANA time zone of the potentiostat PC's clock, in which ``Acquisition started on``
        is interpreted.

    Returns
    -------
    pandas.DataFrame
        BDF columns (``Test Time / s``, ``Voltage / V``, ``Current / A`` in A, ``Cycle Count / 1``,
        ``Step Index / 1``, ``Step Count / 1``, ``Net Capacity / Ah`` …, ``Unix Time / s``,
        ``Date Time`` in UTC) followed by every original column; see the module notes for
        ``df.attrs``.

    Raises
    ------
    ParseError
        Not an EC-Lab text export, or a defect in the header count or the data rows.
    ConfigError
        An unknown ``timezone``.

    Examples
    --------
    >>> df = read_biologic_mpt(Path("gcpl.mpt"), timezone="Europe/Berlin")  # doctest: +SKIP
    >>> df[["Test Time / s", "Voltage / V", "Current / A"]].head()  # doctest: +SKIP
    """
    data = read_bytes(path)
    text = decode_text(data, path, encoding)
    source = make_source(path, "biologic-mpt", data=data)
    return parse_biologic_mpt(text, source=source, timezone=timezone)


def parse_biologic_mpt(text: str, *, source: Source, timezone: str = "UTC") -> pd.DataFrame:
    """Parse the text of an EC-Lab ``.mpt`` export (pure; no file access).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance to attach (its ``path`` names the file in errors).
    timezone : str, default "UTC"
        As in :func:`read_biologic_mpt`.

    Returns
    -------
    pandas.DataFrame
        See :func:`read_biologic_mpt`.

    Raises
    ------
    ParseError, ConfigError
        See :func:`read_biologic_mpt`.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = ("EC-Lab ASCII FILE\\nNb header lines : 5\\n\\nAcquisition started on : "
    ...         "07/26/2019 09:29:02.730\\ntime/s\\tEwe/V\\tI/mA\\tcycle number\\t\\n"
    ...         "0.0\\t3.10\\t0.5\\t0\\n10.0\\t3.20\\t0.5\\t0\\n")
    >>> df = parse_biologic_mpt(text, source=Source("x.mpt", "0" * 64, "biologic-mpt"))
    >>> df["Current / A"].tolist(), df["Date Time"].iloc[1].isoformat()
    ([0.0005, 0.0005], '2019-07-26T09:29:12.730000+00:00')
    """
    zone = time_zone(timezone)
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    n_header = _header_count(lines, source)
    names = _column_names(lines[n_header - 1], n_header, source)
    raw_meta = _parse_header(lines[: n_header - 1])
    raw_meta["header"] = "\n".join(lines[:n_header])
    raw_meta["n_header_lines"] = n_header
    rows, row_lines = _data_rows(lines, n_header, source)
    separator = _decimal_separator(rows, row_lines, source)
    raw_meta["decimal_separator"] = separator
    values = _parse_values(rows, row_lines, len(names), separator, source)
    _check_loops(raw_meta, len(rows), row_lines, source)  # after the data: warnings come last
    original = _original_columns(names, values, source)
    start = _acquisition_start(raw_meta, zone, source)
    return _bdf_table(original, start, raw_meta, source)


# ------------------------------------------------------------------------------------ header
def _header_count(lines: Sequence[str], source: Source) -> int:
    first = lines[0].lstrip("\ufeff").strip() if lines else ""
    if first != MAGIC:
        raise ParseError(
            source.path,
            f"not an EC-Lab text export: the first line is not {MAGIC!r}",
            position="line 1",
        )
    match = _HEADER_COUNT.match(lines[1]) if len(lines) > 1 else None
    if match is None:
        found = lines[1][:40] if len(lines) > 1 else "end of file"
        raise ParseError(
            source.path, f"expected 'Nb header lines : N', found {found!r}", position="line 2"
        )
    count = int(match.group(1))
    if count < 3 or count > len(lines):
        raise ParseError(
            source.path,
            f"the header claims {count} lines but the file has {len(lines)} (truncated or corrupt)",
            position="line 2",
        )
    return count


def _column_names(line: str, number: int, source: Source) -> list[str]:
    names = line.split("\t")
    if names and names[-1].strip() == "":
        names.pop()  # EC-Lab ends the names line with a tab
    if not names or any(not name.strip() for name in names):
        raise ParseError(
            source.path,
            f"expected tab-separated column names, found {line[:60]!r}",
            position=f"line {number}",
        )
    return names


def _parse_header(lines: Sequence[str]) -> dict[str, Any]:
    """Settings, notes, the parameter table and the loops of the header lines (after line 2)."""
    body = list(lines[2:])
    technique, first = "", 0
    for index, line in enumerate(body):
        if line.strip():
            if _SETTING.match(line) is None:
                technique, first = line.strip(), index + 1
            break
    settings: dict[str, Any] = {}
    notes: list[str] = []
    parameters: dict[str, list[str]] = {}
    loops: list[list[int]] = []
    last_key: str | None = None
    in_table = False
    for line in body[first:]:
        if not line.strip():
            in_table = False
            continue
        loop = _LOOP.match(line.strip())
        if loop is not None:
            loops.append([int(loop.group(1)), int(loop.group(2)), int(loop.group(3))])
            continue
        if line[0] in " \t" and last_key is not None:  # a sub-line of the previous setting
            value, sub = settings[last_key], line.strip()
            if isinstance(value, list):
                settings[last_key] = [*value, sub]
            else:
                settings[last_key] = [value, sub] if value else [sub]
            continue
        match = _SETTING.match(line)
        if in_table and (match is None or "  " in match.group(1)):
            _table_row(line, parameters)
            continue
        if match is None:
            notes.append(line.strip())
            continue
        last_key = match.group(1).strip()
        _add_setting(settings, last_key, match.group(2).strip())
        if last_key == "Cycle Definition":
            in_table = True
    return {
        "technique": technique,
        "settings": settings,
        "notes": notes,
        "parameters": parameters,
        "loops": loops,
    }


def _add_setting(settings: dict[str, Any], key: str, value: str) -> None:
    if key not in settings:
        settings[key] = value
    elif isinstance(settings[key], list):
        settings[key].append(value)
    else:
        settings[key] = [settings[key], value]


def _table_row(line: str, parameters: dict[str, list[str]]) -> None:
    """One row of the parameter table: a 20-character name, then 20 characters per sequence."""
    name = line[:20].strip()
    values = [line[i : i + 20].strip() for i in range(20, len(line.rstrip()), 20)]
    key, k = name, 2
    while key in parameters:  # e.g. "vs." follows several quantities
        key, k = f"{name} ({k})", k + 1
    parameters[key] = values


def _check_loops(
    raw_meta: dict[str, Any], n_rows: int, row_lines: list[int], source: Source
) -> None:
    if not raw_meta["loops"]:
        return
    declared = max(end for _, _, end in raw_meta["loops"]) + 1
    if n_rows < declared:
        raise ParseError(
            source.path,
            f"the loop table declares {declared} points but the file holds {n_rows} data rows "
            "(truncated?)",
            position=f"line {row_lines[-1]}",
        )
    if n_rows > declared:
        _warn(
            source, "header", f"{n_rows} data rows, but the loop table declares {declared} points"
        )


# -------------------------------------------------------------------------------------- data
def _data_rows(lines: Sequence[str], n_header: int, source: Source) -> tuple[list[str], list[int]]:
    rows, numbers = [], []
    for index in range(n_header, len(lines)):
        line = lines[index]
        if not line.strip():
            continue  # EC-Lab sometimes leaves empty lines between rows
        rows.append(line[:-1] if line.endswith("\t") else line)
        numbers.append(index + 1)
    if not rows:
        raise ParseError(
            source.path, "no data rows after the column names", position=f"line {n_header}"
        )
    return rows, numbers


def _decimal_separator(rows: Sequence[str], row_lines: Sequence[int], source: Source) -> str:
    """',' or '.', from the first row that shows one; a row showing both is a defect."""
    for row, number in zip(rows, row_lines):
        has_comma, has_point = "," in row, "." in row
        if has_comma and has_point:
            raise ParseError(
                source.path,
                "the row mixes ',' and '.' as decimal separators",
                position=f"line {number}",
            )
        if has_comma or has_point:
            return "," if has_comma else "."
    return "."


def _parse_values(
    rows: list[str], row_lines: list[int], width: int, separator: str, source: Source
) -> np.ndarray:
    """(n_rows, width) float64; fast path through pandas, exact diagnosis of the first defect."""
    for row, number in zip(rows, row_lines):
        if row.count("\t") != width - 1:
            raise ParseError(
                source.path,
                f"expected {width} tab-separated values, found {row.count(chr(9)) + 1}",
                position=f"line {number}",
            )
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(rows)),
            sep="\t",
            header=None,
            names=list(range(width)),
            index_col=False,
            dtype=np.float64,
            decimal=separator,
            na_filter=False,
            engine="c",
        )
        values = frame.to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError) as exc:
        _locate_defect(rows, row_lines, separator, source)
        raise ParseError(source.path, f"unreadable data rows ({exc})") from exc
    if values.shape != (len(rows), width) or not np.all(np.isfinite(values)):
        _locate_defect(rows, row_lines, separator, source)
        raise ParseError(source.path, "unreadable data rows")
    return values


def _locate_defect(
    rows: Sequence[str], row_lines: Sequence[int], separator: str, source: Source
) -> None:
    """Raise a ParseError naming the first value that is not a finite number."""
    number_pattern = re.compile(
        r"^[+-]?(?:\d+(?:%s\d*)?|%s\d+)(?:[eE][+-]?\d+)?$" % ((re.escape(separator),) * 2)
    )
    for row, number in zip(rows, row_lines):
        for column, token in enumerate(row.split("\t")):
            token = token.strip()
            if number_pattern.match(token) is None or not np.isfinite(
                float(token.replace(",", "."))
            ):
                raise ParseError(
                    source.path,
                    f"column {column + 1}: expected a number with decimal {separator!r}, "
                    f"found {token[:40]!r}",
                    position=f"line {number}",
                )


def _original_columns(
    names: list[str], values: np.ndarray, source: Source
) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for index, name in enumerate(names):
        key, k = name, 2
        while key in columns:
            key, k = f"{name} ({k})", k + 1
        if key != name:
            _warn(source, "header", f"duplicate column {name!r} renamed {key!r}")
        column = values[:, index]
        if name in _INTEGER_COLUMNS and np.all(column == np.round(column)):
            column = column.astype(np.int64)
        columns[key] = column
    return columns


# -------------------------------------------------------------------------------------- time


def _acquisition_start(
    raw_meta: dict[str, Any], zone: zoneinfo.ZoneInfo, source: Source
) -> _dt.datetime | None:
    """Acquisition start as an aware UTC datetime, or None (with a warning) when unknown."""
    text = raw_meta["settings"].get("Acquisition started on")
    if isinstance(text, list):
        text = text[0]
    if not text:
        _warn(
            source,
            "header",
            "no 'Acquisition started on' line: Unix Time / s and Date Time are not available",
        )
        return None
    local = _parse_date(text)
    if local is None:
        _warn(
            source,
            "header",
            f"'Acquisition started on : {text}' is not a MM/DD/YYYY HH:MM:SS date; "
            "Unix Time / s and Date Time are not available",
        )
        return None
    start = local.replace(tzinfo=zone).astimezone(_dt.UTC)
    raw_meta["acquisition_start"] = {"local": text, "timezone": zone.key, "utc": start.isoformat()}
    return start


def _parse_date(text: str) -> _dt.datetime | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    parts = match.groupdict()
    year, month, day = (
        (parts["y"], parts["m"], parts["d"])
        if parts["y"]
        else (parts["y2"], parts["m2"], parts["d2"])
    )
    fraction = (parts["f"] or "0").ljust(6, "0")
    try:
        return _dt.datetime(
            int(year),
            int(month),
            int(day),
            int(parts["H"]),
            int(parts["M"]),
            int(parts["S"]),
            int(fraction),
        )
    except ValueError:
        return None


# ------------------------------------------------------------------------------------- table
def _bdf_table(
    original: dict[str, np.ndarray],
    start: _dt.datetime | None,
    raw_meta: dict[str, Any],
    source: Source,
) -> pd.DataFrame:
    bdf: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, (candidates, factor) in BDF_SOURCES.items():
        found = next((c for c in candidates if c in original), None)
        if found is None:
            continue
        column = original[found]
        bdf[name] = column if factor == 1.0 else column.astype(np.float64) * factor
        origin[name] = found
        if name == "Step Index / 1":
            bdf["Step Count / 1"] = _step_count(column, original.get("Ns changes"))
            origin["Step Count / 1"] = "Ns, Ns changes" if "Ns changes" in original else "Ns"
    if start is not None and "Test Time / s" in bdf:
        seconds = np.asarray(bdf["Test Time / s"], dtype=np.float64)
        bdf["Unix Time / s"] = start.timestamp() + seconds
        bdf["Date Time"] = pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s")
        origin["Unix Time / s"] = origin["Date Time"] = "Acquisition started on + time/s"
    frame = pd.DataFrame({**bdf, **{k: v for k, v in original.items() if k not in bdf}})
    units = {**{k: _BDF_UNITS.get(k, "1") for k in bdf}, **{k: _unit_of(k) for k in original}}
    units.update({"Step Count / 1": "1", "Unix Time / s": "s", "Date Time": "UTC"})
    frame.attrs.update(
        {
            "source": source,
            "raw_meta": raw_meta,
            "units": {k: units[k] for k in frame.columns},
            "bdf_columns": origin,
        }
    )
    return frame


def _step_count(ns: np.ndarray, flags: np.ndarray | None) -> np.ndarray:
    """1 + the number of sequence changes so far (a new Ns value, or the Ns-changes flag)."""
    changed = np.zeros(ns.size, dtype=bool)
    changed[1:] = ns[1:] != ns[:-1]
    if flags is not None:
        changed[1:] |= flags[1:] != 0
    return 1 + np.cumsum(changed, dtype=np.int64)


def _unit_of(name: str) -> str:
    """The unit written after the last '/' of an EC-Lab column name ('' for counters)."""
    if name == "control/V/mA":
        return "V or mA"
    base = re.sub(r" \(\d+\)$", "", name)
    return base.rsplit("/", 1)[1] if "/" in base else ""


def _warn(source: Source, position: str, message: str) -> None:
    warnings.warn(f"{source.path} {position}: {message}", MetadataWarning, stacklevel=3)
