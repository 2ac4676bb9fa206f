"""Bruker TopSpin text files (private): JCAMP-DX parameter files and pseudo-2D list files.

The text parts of a Bruker data set that :mod:`specssb.parsers.nmr_bruker` reads, parsed from
their text with no file access:

- JCAMP-DX parameter files (``acqus``, ``acqu2s``, ``procs`` …), by
  :func:`parse_bruker_parameters`, into exactly the dictionary of nmrglue's
  ``bruker.read_jcamp``, except that a truncated file is an error rather than an endless loop;
- the pseudo-2D list files ``vdlist``, ``vplist`` (seconds, with TopSpin's unit suffixes) and
  ``vclist`` (counts), by :func:`parse_list_file`.

Both are public through :mod:`specssb.parsers.nmr_bruker`, which re-exports them.

References
----------
J. J. Helmus, C. P. Jaroniec, "Nmrglue: an open source Python package for the analysis of
multidimensional NMR data", J. Biomol. NMR 55 (2013) 355-367.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import MetadataWarning, ParseError

__all__ = ["LIST_UNITS", "parse_bruker_parameters", "parse_list_file"]

#: Unit suffixes TopSpin accepts in vdlist/vplist entries, as powers of ten of a second.
LIST_UNITS: Mapping[str, int] = {"": 0, "s": 0, "m": -3, "ms": -3, "u": -6, "us": -6, "n": -9,
                                 "ns": -9}


# --------------------------------------------------------------------------- JCAMP-DX
def parse_bruker_parameters(text: str, *, path: str | Path = "<text>") -> dict[str, Any]:
    """Parse a Bruker JCAMP-DX parameter file (``acqus``, ``acqu2s``, ``procs`` …).

    The result has nmrglue's layout (``nmrglue.bruker.read_jcamp``): ``##$KEY=`` records become
    ``dic["KEY"]`` (int, float, str without ``<>``, list for ``(0..n)`` arrays, bool for
    yes/no); other ``##`` records go to ``dic["_coreheader"]`` and ``$$`` lines to
    ``dic["_comments"]``. Unlike nmrglue, a truncated file (no ``##END=``) is an error rather
    than an endless loop, and blank lines are skipped rather than ending the file.

    Parameters
    ----------
    text : str
        The file's text.
    path : str or Path, optional
        Used in error messages.

    Returns
    -------
    dict
        The parameters.

    Raises
    ------
    ParseError
        If the text does not start with a ``##`` record or has no ``##END=`` line.

    Examples
    --------
    >>> p = parse_bruker_parameters("##TITLE= x\\n##$TD= 8\\n##$NUC1= <7Li>\\n##$P= (0..1)\\n1 2.5\\n##END=\\n")
    >>> p["TD"], p["NUC1"], p["P"]
    (8, '7Li', [1, 2.5])
    """
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not lines[first].lstrip().startswith("##"):
        raise ParseError(path, "not a JCAMP-DX parameter file (no '##' record at the start)",
                         position=f"line {1 if first is None else first + 1}")
    end = next((i for i, line in enumerate(lines) if line.startswith("##END=")), None)
    if end is None:
        raise ParseError(path, "truncated parameter file: no '##END=' line",
                         position=f"line {len(lines)}")
    lines = lines[:end]
    dic: dict[str, Any] = {"_coreheader": [], "_comments": []}
    extraneous: list[int] = []
    i = first
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line:
            continue
        if line.startswith("$$"):
            dic["_comments"].append(line)
        elif line.startswith("##$"):
            i = _parse_record(line, lines, i, dic, path)
        elif line.startswith("##"):
            dic["_coreheader"].append(line)
        else:
            extraneous.append(i)
    if extraneous:
        warnings.warn(f"{path}: {len(extraneous)} line(s) that are not JCAMP-DX records ignored "
                      f"(first at line {extraneous[0]})", MetadataWarning, stacklevel=2)
    return dic


def _parse_record(line: str, lines: list[str], i: int, dic: dict[str, Any],
                  path: str | Path) -> int:
    """Parse one ``##$KEY= value`` record starting at ``line``; return the next line index."""
    equals = line.find("=")
    if equals < 0:
        _warn_record(path, i, f"no '=' in {line[:40]!r}")
        return i
    key, text = line[3:equals], line[equals + 1:].lstrip()
    if "<" in text:  # a string, possibly over several lines
        while ">" not in text and i < len(lines) and not lines[i].startswith("##"):
            text += "\n" + lines[i].rstrip()
            i += 1
        if ">" not in text:
            _warn_record(path, i, f"unterminated string in ${key}")
        dic[key] = text[1:-1]
    elif "(" in text:  # an array (0..n) on the following lines
        try:
            count = int(line[line.index("..") + 2:line.index(")")]) + 1
        except ValueError:
            _warn_record(path, i, f"malformed array size in ${key}")
            return i
        values = [_jcamp_value(t) for t in line[line.index(")") + 1:].split()]
        while len(values) < count and i < len(lines) and not lines[i].startswith("##"):
            values.extend(_jcamp_value(t) for t in lines[i].split())
            i += 1
        if len(values) < count:
            _warn_record(path, i, f"${key} declares {count} values, found {len(values)}")
        dic[key] = values
    elif text in ("yes", "no"):
        dic[key] = text == "yes"
    else:
        dic[key] = _jcamp_value(text)
    return i


def _warn_record(path: str | Path, line: int, reason: str) -> None:
    warnings.warn(f"{path} line {line}: {reason}; kept as read", MetadataWarning, stacklevel=4)


def _jcamp_value(text: str) -> Any:
    """One value as nmrglue's ``parse_jcamp_value`` types it."""
    if text == "":
        return None
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    if "." in text or "e" in text or "inf" in text:
        try:
            return float(text)
        except ValueError:
            return text
    try:
        return int(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- list files
def parse_list_file(text: str, *, name: str = "vdlist") -> np.ndarray:
    """Parse a TopSpin ``vdlist``/``vplist`` (seconds) or ``vclist`` (counts).

    Entries are one per line; vdlist/vplist values may carry the unit suffixes TopSpin accepts
    (``s``, ``m`` = ms, ``u`` = µs, ``n`` = ns; e.g. ``10m``, ``5u``) and default to seconds.
    Blank lines and lines starting with ``#`` or ``;`` are skipped.

    Parameters
    ----------
    text : str
        The list file's text.
    name : {"vdlist", "vclist", "vplist"}
        Which list (vclist entries must be integers).

    Returns
    -------
    ndarray of shape (n,)
        Seconds (float64) for vdlist/vplist, integers for vclist.

    Raises
    ------
    ValueError
        For an entry that is not a number with a known unit.

    Examples
    --------
    >>> parse_list_file("1.0\\n10m\\n5u\\n").tolist()
    [1.0, 0.01, 5e-06]
    """
    values: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith(("#", ";")):
            continue
        match = re.fullmatch(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)", entry)
        if match is None or match.group(2).lower() not in LIST_UNITS:
            raise ValueError(f"line {number}: {entry[:40]!r} is not a number with a unit "
                             f"({', '.join(u for u in LIST_UNITS if u)})")
        value = Decimal(match.group(1)).scaleb(LIST_UNITS[match.group(2).lower()])
        if name == "vclist":
            if match.group(2) or value != int(value):
                raise ValueError(f"line {number}: vclist entry {entry!r} is not an integer")
            values.append(int(value))
        else:
            values.append(float(value))  # exact decimal scaling: "5u" -> 5e-06
    if not values:
        raise ValueError("the list is empty")
    return np.asarray(values, dtype=np.int64 if name == "vclist" else np.float64)
