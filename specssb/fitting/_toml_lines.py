"""Line numbers of the keys of a TOML document, and a small TOML writer.

:mod:`tomllib` returns plain dicts without positions. To say *where* a recipe is wrong, we scan
the (already valid) text once and record, for every key path, the 1-based line on which the key
is written. A key path is a tuple such as ``("component", 2, "center", "min")``: table names and
keys as strings, array (and array-of-tables) indices as ints, i.e. the same shape as a pydantic
error location. Handled: ``[table]`` and ``[a.b]`` headers, ``[[array.of.tables]]`` (counted per
parent element), dotted keys (``center.value = 1``), quoted keys, inline tables and arrays (also
spanning lines), all four string kinds, comments.

The writer (:func:`dumps`) covers what recipes hold: strings, numbers, booleans, dates, arrays
and nested tables (written inline).
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import math
import re
import tomllib
from collections.abc import Mapping
from typing import Any

__all__ = ["KeyPath", "dumps", "format_key", "format_value", "key_lines", "line_of"]

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = ",]}#\n"


class _Scanner:
    """One pass over valid TOML text, recording the line of every key path."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[KeyPath, int] = {}
        self._aot_counts: dict[KeyPath, int] = {}

    # ------------------------------------------------------------------ helpers
    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_right(self._starts, self.pos if pos is None else pos)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def skip(self, newlines: bool) -> None:
        """Skip blanks and comments (and newlines when ``newlines``)."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def record(self, path: KeyPath, line: int) -> None:
        self.lines.setdefault(path, line)

    # ------------------------------------------------------------------ keys
    def key(self) -> list[str]:
        """A possibly dotted key; leaves ``pos`` after it."""
        parts = []
        while True:
            self.skip(newlines=False)
            char = self.peek()
            if char in "\"'":
                start = self.pos
                self._string()
                parts.append(tomllib.loads(f"k = {self.text[start:self.pos]}")["k"])
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                if match is None:
                    return parts
                parts.append(match.group())
                self.pos = match.end()
            self.skip(newlines=False)
            if self.peek() != ".":
                return parts
            self.pos += 1

    # ------------------------------------------------------------------ values
    def _string(self) -> None:
        text, quote = self.text, self.peek()
        triple = self.peek(3) == quote * 3
        delimiter = quote * 3 if triple else quote
        self.pos += len(delimiter)
        while self.pos < len(text):
            if quote == '"' and text[self.pos] == "\\":
                self.pos += 2
            elif text.startswith(delimiter, self.pos):
                self.pos += len(delimiter)
                while triple and self.peek() == quote:  # up to two quotes may close the string
                    self.pos += 1
                return
            else:
                self.pos += 1

    def value(self, path: KeyPath) -> None:
        char = self.peek()
        if char in "\"'":
            self._string()
        elif char == "{":
            self._inline_table(path)
        elif char == "[":
            self._array(path)
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.pos += 1

    def _inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while True:
            self.skip(newlines=True)
            if self.peek() in ("}", ""):
                self.pos += 1
                return
            self._key_value(path)
            self.skip(newlines=True)
            if self.peek() == ",":
                self.pos += 1

    def _array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self.skip(newlines=True)
            if self.peek() in ("]", ""):
                self.pos += 1
                return
            self.record((*path, index), self.line())
            self.value((*path, index))
            index += 1
            self.skip(newlines=True)
            if self.peek() == ",":
                self.pos += 1

    def _key_value(self, table: KeyPath) -> None:
        line = self.line()
        parts = self.key()
        for depth in range(1, len(parts) + 1):
            self.record((*table, *parts[:depth]), line)
        self.skip(newlines=False)
        if self.peek() == "=":
            self.pos += 1
        self.skip(newlines=False)
        self.value((*table, *parts))

    # ------------------------------------------------------------------ tables
    def _resolve(self, parts: list[str]) -> KeyPath:
        """Table path with the current index of every array of tables it passes through."""
        path: KeyPath = ()
        for part in parts:
            path = (*path, part)
            if path in self._aot_counts:
                path = (*path, self._aot_counts[path])
        return path

    def _header(self) -> KeyPath:
        line = self.line()
        is_array = self.peek(2) == "[["
        self.pos += 2 if is_array else 1
        parts = self.key()
        self.skip(newlines=False)
        self.pos += 2 if is_array else 1
        if not is_array:
            path = self._resolve(parts)
            self.record(path, line)
            return path
        parent = self._resolve(parts[:-1])
        array = (*parent, parts[-1])
        index = self._aot_counts.get(array, -1) + 1
        self._aot_counts[array] = index
        self.record(array, line)
        self.record((*array, index), line)
        return (*array, index)

    def run(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            if self.peek() == "[":
                table = self._header()
            else:
                start = self.pos
                self._key_value(table)
                if self.pos == start:  # not valid TOML: stop rather than loop
                    return self.lines


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path of a valid TOML document to the 1-based line where it is written.

    Parameters
    ----------
    text : str
        TOML text that :func:`tomllib.loads` accepts.

    Returns
    -------
    dict
        ``{("component", 1, "center"): 17, ...}``. Arrays of tables map both the array
        (``("component",)``, its first header) and each element (``("component", 1)``, its
        header line).

    Examples
    --------
    >>> key_lines('a = 1\\n[[c]]\\nx = {v = 2}\\n[[c]]\\nx.v = 3\\n')[("c", 1, "x", "v")]
    5
    """
    return _Scanner(text).run()


def line_of(lines: Mapping[KeyPath, int], loc: KeyPath) -> int | None:
    """Line of the longest prefix of ``loc`` that is written in the file (None if none is)."""
    for depth in range(len(loc), 0, -1):
        line = lines.get(tuple(loc[:depth]))
        if line is not None:
            return line
    return None


# ---------------------------------------------------------------------- writer
def format_key(key: str) -> str:
    """A TOML key: bare when possible, else a quoted basic string."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def format_value(value: Any) -> str:
    """One TOML value on one line; tables become inline tables.

    Raises
    ------
    ValueError
        For values TOML cannot hold (None, NaN, unknown types).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("TOML recipes do not hold NaN")
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        items = ", ".join(f"{format_key(k)} = {format_value(v)}" for k, v in value.items())
        return "{" + items + "}" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    raise ValueError(f"cannot write {type(value).__name__} {value!r} to TOML")


def dumps(top: Mapping[str, Any], tables: list[tuple[str, Mapping[str, Any], bool]]) -> str:
    """Write top-level keys, then ``(name, content, is_array_element)`` tables in order."""
    out = [f"{format_key(k)} = {format_value(v)}" for k, v in top.items()]
    for name, content, is_array in tables:
        header = f"[[{format_key(name)}]]" if is_array else f"[{format_key(name)}]"
        out += ["", header]
        out += [f"{format_key(k)} = {format_value(v)}" for k, v in content.items()]
    return "\n".join(out) + "\n"
