"""JCAMP-DX NMR files (``.jdx``, ``.dx``): spectra and FIDs, AFFN or ASDF-compressed.

Layout (JCAMP-DX 4.24, McDonald & Wilks 1988; NMR extension 5.01, Davies & Lampen 1993)::

    ##TITLE= ...
    ##JCAMP-DX= 5.01
    ##DATA TYPE= NMR SPECTRUM              (or NMR FID)
    ##.OBSERVE FREQUENCY= 400.13           (MHz)       ##$SFO1= 400.13
    ##.OBSERVE NUCLEUS= ^1H                            ##$NUC1= <1H>
    ##XUNITS= HZ                           (HZ, PPM or SECONDS)
    ##FIRSTX= ...  ##LASTX= ...  ##NPOINTS= ...  ##XFACTOR= ...  ##YFACTOR= ...
    ##XYDATA= (X++(Y..Y))
    8192 123 456 ...                       (one abscissa, then ordinates)
    ##END=

or an ``##NTUPLES= NMR FID`` (``NMR SPECTRUM``) block whose pages hold
``##DATA TABLE= (X++(R..R)), XYDATA`` and ``(X++(I..I))``, combined here into one complex
vector, with ``##FIRST``/``##LAST``/``##FACTOR``/``##VAR_DIM``/``##UNITS`` per column.
``##XYPOINTS= (XY..XY)`` pairs are read too.

Labels are compared after removing spaces, ``-``, ``/``, ``_`` and upper-casing (the standard's
rule), so ``##DATA TYPE`` and ``##DATATYPE`` are the same label. Ordinate lines may be AFFN (free
numbers) or ASDF-compressed, decoded here by :func:`decode_asdf`:

- SQZ: ``@ A-I`` = 0 … 9 and ``a-i`` = -1 … -9 as the first digit of a value;
- DIF: ``% J-R`` = 0 … 9 and ``j-r`` = -1 … -9: a difference to the previous value;
- DUP: ``S-Z s`` = 1 … 9: the previous item (value or difference) counted that many times.

A line that ends in DIF form is followed by a line whose first ordinate repeats the last one
(the "Y check"): it is checked and dropped; a mismatch (a corrupt or missing line) is a
ParseError, and so is an ordinate count that differs from ``NPOINTS``/``VAR_DIM``.

Axes: ``SECONDS`` gives a ``time`` axis (``signal="fid"``); ``HZ`` a ``chemical_shift`` axis
``Hz / .OBSERVE FREQUENCY`` (ppm); ``PPM`` the ppm values as written. The abscissa runs
linearly from FIRSTX to LASTX (in units of XUNITS).

``meta``: ``nucleus`` (``.OBSERVE NUCLEUS`` / ``$NUC1``), ``sfo1_mhz`` (``.OBSERVE FREQUENCY``
/ ``$SFO1``), ``bf1_mhz`` (``$BF1``), ``sf_mhz`` (``$SF``), ``spectral_width_hz`` (``$SW_h``,
else from the abscissa range), ``n_points`` (``$TD``/2 when given, else the points read),
``n_scans`` (``$NS``), ``mas_rate_hz`` (``$MASR`` > 0), ``pulse_program`` (``.PULSE SEQUENCE``
/ ``$PULPROG``), ``title``, ``operator`` (``OWNER``). ``raw_meta`` holds every label as
written (first occurrence) and ``"_labels"`` in file order.

References
----------
R. S. McDonald, P. A. Wilks, "JCAMP-DX: a standard form for exchange of infrared spectra in
computer readable form", Appl. Spectrosc. 42 (1988) 151-162 (ASDF compression).
A. N. Davies, P. Lampen, "JCAMP-DX for NMR", Appl. Spectrosc. 47 (1993) 1093-1099.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes
from specssb.parsers._nmr_meta import check_finite, nucleus_label
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["decode_asdf", "parse_jcamp", "read_jcamp", "sniff_jcamp"]

FORMAT = "jcamp-nmr"

_SQZ = {c: (i, 1) for i, c in enumerate("@ABCDEFGHI")} | {c: (i + 1, -1) for i, c in
                                                            enumerate("abcdefghi")}
_DIF = {c: (i, 1) for i, c in enumerate("%JKLMNOPQR")} | {c: (i + 1, -1) for i, c in
                                                            enumerate("jklmnopqr")}
_DUP = {c: i + 1 for i, c in enumerate("STUVWXYZs")}
_AFFN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]\d+)?")


def _norm(label: str) -> str:
    return re.sub(r"[\s\-/_]", "", label).upper()


def sniff_jcamp(path: Path, head: bytes) -> bool:
    """True for JCAMP-DX text whose DATA TYPE names NMR (Bruker parameter files are not)."""
    text = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    if not text.startswith(b"##"):
        return False
    match = re.search(rb"##DATA\s*_?TYPE\s*=([^\r\n]*)", head, re.I)
    return bool(match and b"NMR" in match.group(1).upper())


@register_parser(
    name=FORMAT, technique="nmr", extensions=(".jdx", ".dx", ".jcamp"), sniff=sniff_jcamp,
    description="JCAMP-DX NMR spectrum or FID (XYDATA/NTUPLES, AFFN or ASDF compressed)",
)
def read_jcamp(path: Path, *, encoding: str = "latin-1") -> list[Spectrum]:
    """Read a JCAMP-DX NMR file.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding.

    Returns
    -------
    list of Spectrum
        One Spectrum: real (XYDATA) or complex (NTUPLES R/I pages) data on a ``time`` or
        ``chemical_shift`` axis.

    Raises
    ------
    ParseError
        Not NMR JCAMP-DX, missing FIRSTX/LASTX/NPOINTS, undecodable or inconsistent data.

    Examples
    --------
    >>> import specssb
    >>> spectrum, = specssb.read("ethanol_1h.jdx")      # doctest: +SKIP
    """
    path = Path(path)
    raw = read_bytes(path)
    return parse_jcamp(decode_text(raw, path, encoding),
                       source=make_source(path, FORMAT, data=raw))


# --------------------------------------------------------------------------- records
def _records(text: str, path: str) -> list[tuple[str, str, int, list[tuple[int, str]]]]:
    """``(normalized label, value, line number, data lines)`` for every ``##`` record."""
    records: list[tuple[str, str, int, list[tuple[int, str]]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("$$", 1)[0].rstrip() if not line.startswith("##$$") else ""
        if line.startswith("##") and not line.startswith("##$$"):
            label, _, value = line[2:].partition("=")
            records.append((_norm(label), value.split("$$", 1)[0].strip(), number, []))
        elif content.strip():
            if not records:
                raise ParseError(path, "not a JCAMP-DX file (no '##' record first)",
                                 position=f"line {number}")
            records[-1][3].append((number, content))
    if not records or records[0][0] != "TITLE":
        raise ParseError(path, "not a JCAMP-DX file (first record is not ##TITLE=)",
                         position="line 1")
    if not any(r[0] == "END" for r in records):
        raise ParseError(path, "truncated JCAMP-DX file: no ##END= record",
                         position=f"line {text.count(chr(10)) + 1}")
    return records


def _number(header: Mapping[str, str], key: str, path: str, *, required: bool = False,
            line: int | None = None) -> float | None:
    text = header.get(key)
    if text is None or not text.strip():
        if required:
            raise ParseError(path, f"missing ##{key}=")
        return None
    try:
        return float(text.strip().strip("<>").split()[0].rstrip(","))
    except (ValueError, IndexError):
        if required:
            raise ParseError(path, f"##{key}= must be a number, found {text[:40]!r}",
                             position=None if line is None else f"line {line}") from None
        return None


# --------------------------------------------------------------------------- ASDF
def _tokens(line: str, number: int, path: str) -> list[tuple[str, float]]:
    """Split one data line into ``("abs"|"dif"|"dup", value)`` items."""
    items: list[tuple[str, float]] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t,;":
            i += 1
            continue
        match = _AFFN.match(line, i) if (c.isdigit() or c in "+-.") else None
        if match:
            items.append(("abs", float(match.group())))
            i = match.end()
            continue
        j = i + 1
        while j < n and (line[j].isdigit() or line[j] == "."):
            j += 1
        rest = line[i + 1:j]
        if c in _SQZ or c in _DIF:
            digit, sign = _SQZ.get(c) or _DIF[c]
            items.append(("abs" if c in _SQZ else "dif", sign * float(f"{digit}{rest}")))
        elif c in _DUP:
            count = int(f"{_DUP[c]}{rest}") if "." not in rest else -1
            if count < 1:
                raise ParseError(path, f"invalid DUP count {line[i:j]!r}",
                                 position=f"line {number}, column {i + 1}")
            items.append(("dup", count))
        else:
            raise ParseError(path, f"unexpected character {c!r} in compressed data",
                             position=f"line {number}, column {i + 1}")
        i = j
    return items


def decode_asdf(lines: list[tuple[int, str]], *,
                path: str = "<text>") -> tuple[np.ndarray, np.ndarray]:
    """Decode ``(X++(Y..Y))`` data lines, AFFN or ASDF (SQZ/DIF/DUP), with Y checks.

    Parameters
    ----------
    lines : list of (int, str)
        ``(line number, text)`` of each data line, in order.
    path : str, optional
        Used in error messages.

    Returns
    -------
    x_first : ndarray of shape (n_lines,)
        The abscissa written at the start of each line (in file units, before XFACTOR).
    y : ndarray of shape (n,)
        All ordinates, in file units (before YFACTOR), Y-check values removed.

    Raises
    ------
    ParseError
        For an unknown character, a line without ordinates, a DIF or DUP with nothing before
        it, or a Y-check value that differs from the previous line's last ordinate.

    Examples
    --------
    >>> # 10, then +1 twice (DIF J=1, DUP T=2); next line: Y check 12, then +1
    >>> x, y = decode_asdf([(1, "0 A0JT"), (2, "3 A2J")])
    >>> y.tolist()
    [10.0, 11.0, 12.0, 13.0]
    """
    starts: list[float] = []
    values: list[float] = []
    previous_dif = False
    for number, line in lines:
        items = _tokens(line, number, path)
        if len(items) < 2 or items[0][0] != "abs":
            raise ParseError(path, "a data line needs an abscissa and at least one ordinate",
                             position=f"line {number}")
        starts.append(items[0][1])
        row: list[float] = []
        last_kind, last_dif = "abs", 0.0
        for kind, value in items[1:]:
            if kind == "abs":
                row.append(value)
                last_kind = "abs"
            elif kind == "dif":
                if not row:
                    raise ParseError(path, "DIF value with no ordinate before it on the line",
                                     position=f"line {number}")
                row.append(row[-1] + value)
                last_kind, last_dif = "dif", value
            else:
                if not row:
                    raise ParseError(path, "DUP count with no ordinate before it",
                                     position=f"line {number}")
                for _ in range(int(value) - 1):
                    row.append(row[-1] + (last_dif if last_kind == "dif" else 0.0))
        if previous_dif:
            if not values or not np.isclose(row[0], values[-1], rtol=1e-9, atol=1e-9):
                raise ParseError(path, f"Y-check value {row[0]:g} differs from the previous "
                                       f"line's last ordinate {values[-1] if values else 'none'}"
                                       " (corrupt or missing data line)",
                                 position=f"line {number}")
            row = row[1:]
        values.extend(row)
        previous_dif = last_kind == "dif"
    return np.asarray(starts, dtype=np.float64), np.asarray(values, dtype=np.float64)


# --------------------------------------------------------------------------- parse
def parse_jcamp(text: str, *, source: Source) -> list[Spectrum]:
    """Parse the text of a JCAMP-DX NMR file into Spectra.

    Parameters
    ----------
    text : str
        The whole file.
    source : Source
        Provenance.

    Returns
    -------
    list of Spectrum
        One Spectrum (see :func:`read_jcamp`).

    Raises
    ------
    ParseError
        See :func:`read_jcamp`.
    """
    path = source.path
    records = _records(text, path)
    header: dict[str, str] = {}
    for label, value, _, _ in records:
        header.setdefault(label, value)
    if "BLOCKS" in header or sum(r[0] == "TITLE" for r in records) > 1:
        raise ParseError(path, "compound (multi-block) JCAMP-DX files are not supported yet")
    kind = header.get("DATATYPE", "").upper()
    if "NMR" not in kind:
        raise ParseError(path, f"not an NMR JCAMP-DX file (DATA TYPE={kind!r})")
    if "NTUPLES" in header:
        x, values, x_unit = _ntuples(records, header, path)
    else:
        x, values, x_unit = _xydata(records, header, path)
    check_finite(values, path)
    check_finite(x, path)
    raw = {label: value for label, value in header.items()}
    raw["_labels"] = [r[0] for r in records]
    return [_spectrum(header, x, values, x_unit, kind, raw, source)]


def _xydata(records: list, header: Mapping[str, str],
            path: str) -> tuple[np.ndarray, np.ndarray, str]:
    record = next((r for r in records if r[0] in ("XYDATA", "XYPOINTS")), None)
    if record is None:
        raise ParseError(path, "no ##XYDATA= or ##XYPOINTS= record")
    label, form, line, lines = record
    npoints = _number(header, "NPOINTS", path, required=True)
    xfactor = _number(header, "XFACTOR", path) or 1.0
    yfactor = _number(header, "YFACTOR", path) or 1.0
    if label == "XYPOINTS":
        pairs = [_AFFN.findall(content) for _, content in lines]
        flat = [float(v) for row in pairs for v in row]
        if len(flat) % 2:
            raise ParseError(path, "XYPOINTS holds an odd number of values",
                             position=f"line {line}")
        x, y = np.asarray(flat[0::2]) * xfactor, np.asarray(flat[1::2]) * yfactor
    else:
        if _norm(form) != "(X++(Y..Y))":
            raise ParseError(path, f"unsupported XYDATA form {form!r}", position=f"line {line}")
        _, y = decode_asdf(lines, path=path)
        first = _number(header, "FIRSTX", path, required=True)
        last = _number(header, "LASTX", path, required=True)
        x = np.linspace(first, last, y.size) if y.size > 1 else np.asarray([first])
        y = y * yfactor
    if y.size != npoints:
        raise ParseError(path, f"{y.size} ordinates read; ##NPOINTS={npoints:g}",
                         position=f"line {lines[-1][0] if lines else line}")
    return x, y, _norm(header.get("XUNITS", ""))


def _columns(header: Mapping[str, str], key: str) -> list[str]:
    return [t.strip() for t in header.get(key, "").split(",")]


def _ntuples(records: list, header: Mapping[str, str],
             path: str) -> tuple[np.ndarray, np.ndarray, str]:
    symbols = [s.upper() for s in _columns(header, "SYMBOL")]
    if "X" not in symbols or "R" not in symbols:
        raise ParseError(path, f"NTUPLES needs X and R columns, found SYMBOL={symbols}")

    def column(key: str, symbol: str, default: float | None = None) -> float:
        values = _columns(header, key)
        index = symbols.index(symbol)
        try:
            return float(values[index])
        except (IndexError, ValueError):
            if default is not None:
                return default
            raise ParseError(path, f"##{key}= has no number for column {symbol}") from None

    parts: dict[str, np.ndarray] = {}
    for label, form, line, lines in records:
        if label != "DATATABLE":
            continue
        match = re.match(r"\(X\+\+\((\w)\.\.\w\)\)", _norm(form))
        if match is None or match.group(1) not in symbols:
            raise ParseError(path, f"unsupported DATA TABLE form {form!r}",
                             position=f"line {line}")
        symbol = match.group(1)
        _, y = decode_asdf(lines, path=path)
        parts[symbol] = y * column("FACTOR", symbol, 1.0)
    if "R" not in parts:
        raise ParseError(path, "no (X++(R..R)) data table in the NTUPLES block")
    n = int(column("VARDIM", "R"))
    for symbol, y in parts.items():
        if y.size != n:
            raise ParseError(path, f"{y.size} values read for column {symbol}; VAR_DIM={n}")
    values = parts["R"] + 1j * parts["I"] if "I" in parts else parts["R"]
    x = np.linspace(column("FIRST", "X"), column("LAST", "X"), n)
    units = _columns(header, "UNITS")
    x_unit = _norm(units[symbols.index("X")]) if len(units) > symbols.index("X") else ""
    return x, values, x_unit


def _spectrum(header: Mapping[str, str], x: np.ndarray, values: np.ndarray, x_unit: str,
              kind: str, raw: dict[str, Any], source: Source) -> Spectrum:
    path = source.path
    observe = _number(header, ".OBSERVEFREQUENCY", path) or _number(header, "$SFO1", path)
    n = values.size
    meta: dict[str, Any] = {}
    if x_unit in ("SECONDS", "SECOND", "S") or (not x_unit and "FID" in kind):
        axis = Axis("time", "s", x)
        signal = "fid"
        width = 1.0 / abs(x[1] - x[0]) if n > 1 and x[1] != x[0] else None
    elif x_unit in ("HZ", "HERTZ"):
        if not observe or observe <= 0:
            raise ParseError(path, "XUNITS=HZ needs ##.OBSERVE FREQUENCY= (MHz) for a ppm axis")
        axis = Axis("chemical_shift", "ppm", x / observe)
        signal = "spectrum"
        width = abs(x[-1] - x[0]) * n / (n - 1) if n > 1 else None
    elif x_unit == "PPM":
        axis = Axis("chemical_shift", "ppm", x)
        signal = "spectrum"
        width = abs(x[-1] - x[0]) * n / (n - 1) * observe if n > 1 and observe else None
    else:
        raise ParseError(path, f"unsupported abscissa unit {x_unit!r} (HZ, PPM or SECONDS)")
    nucleus = nucleus_label(header.get(".OBSERVENUCLEUS")) or nucleus_label(header.get("$NUC1"))
    if nucleus:
        meta["nucleus"] = nucleus
    if observe and observe > 0:
        meta["sfo1_mhz"] = observe
    for key, name in (("$BF1", "bf1_mhz"), ("$SF", "sf_mhz"), ("$MASR", "mas_rate_hz")):
        value = _number(header, key, path)
        if value and value > 0:
            meta[name] = value
    sw = _number(header, "$SWH", path) or width
    if sw and sw > 0:
        meta["spectral_width_hz"] = sw
    td = _number(header, "$TD", path)
    meta["n_points"] = int(td) // 2 if td and td > 0 and signal == "spectrum" else n
    scans = _number(header, "$NS", path)
    if scans is not None and scans >= 0 and scans == int(scans):
        meta["n_scans"] = int(scans)
    for keys, name in ((("TITLE",), "title"), (("OWNER",), "operator"),
                       ((".PULSESEQUENCE", "$PULPROG"), "pulse_program")):
        value = next((header[k].strip("<> ") for k in keys if header.get(k, "").strip("<> ")),
                     "")
        if value:
            meta[name] = value
    return Spectrum(axis=axis, data=values, technique="nmr", signal=signal, meta=meta,
                    raw_meta=raw, source=source)
