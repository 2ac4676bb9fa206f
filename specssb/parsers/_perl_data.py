"""A safe reader for the Perl data literals that Athena writes into its project files (private).

Athena (Demeter) saves a project as Perl source: ``$old_group = 'abcd';``,
``@args = ('bkg_e0',7112,'label','Fe foil',...);``, ``@x = ('6911.98','6932.00',...);``,
``$xdi = bless( {'metadata' => {...}}, 'Xray::XDI' );``, ``[record]`` between groups, ``1;`` at
the end. Perl would *execute* that file; this module only **reads literals** and never evaluates
anything: a tokenizer and a recursive-descent parser accept quoted strings, numbers, ``undef``,
lists ``( )`` and ``[ ]``, hashes ``{ }`` with ``=>`` or ``,``, and ``bless(VALUE, 'Class')``.
Any other construct (a function call such as ``system("...")``, an operator, an interpolated
variable) is refused with :class:`UnsupportedPerl`, which names the byte offset, so the caller
can skip that one statement or reject the file.

Perl string rules followed: in single quotes only ``\\\\`` and ``\\'`` are escapes; in double
quotes ``\\n \\t \\r \\" \\\\ \\$ \\@ \\xHH \\x{HHHH}`` are decoded and a ``$``/``@`` is kept as
written (no interpolation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Statement", "UnsupportedPerl", "iter_statements", "line_of"]

#: Deepest nesting of lists/hashes accepted (Athena writes at most 4 levels).
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<sq>'(?:[^'\\]|\\.)*')
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<arrow>=>)
  | (?P<punct>[()\[\]{},;=])
  | (?P<variable>[$@%][A-Za-z_]\w*)
  | (?P<word>[A-Za-z_][\w:]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DQ_ESCAPE = re.compile(r"\\(x\{[0-9A-Fa-f]{1,8}\}|x[0-9A-Fa-f]{1,2}|.)", re.DOTALL)
_DQ_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "e": "\x1b", "f": "\f"}


class UnsupportedPerl(ValueError):
    """The text holds something other than a data literal (or is malformed) at ``offset``."""

    def __init__(self, offset: int, reason: str):
        self.offset = offset
        self.reason = reason
        super().__init__(f"byte {offset}: {reason}")


@dataclass(frozen=True)
class Statement:
    """One top-level statement.

    Attributes
    ----------
    kind : str
        ``"assign"`` (``$name = value;``), ``"record"`` (the ``[record]`` marker), ``"other"``
        (e.g. ``1;``), or ``"unsupported"`` (skipped: ``error`` says why).
    name : str
        Variable name without its sigil (``args``, ``x``), empty otherwise.
    sigil : str
        ``$``, ``@`` or ``%``.
    value : Any
        The literal: str, int, float, None, list or dict.
    offset : int
        Byte (character) offset of the statement in the text.
    error : UnsupportedPerl or None
        For ``"unsupported"`` statements.
    """

    kind: str
    name: str = ""
    sigil: str = ""
    value: Any = None
    offset: int = 0
    error: UnsupportedPerl | None = None


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        tokens.append((kind, match.group(), match.start()))
    return tokens


def _single_quoted(token: str) -> str:
    body = token[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\([\\'])", r"\1", body)


def _double_quoted(token: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape.startswith("x{"):
            return chr(int(escape[2:-1], 16))
        if escape.startswith("x") and len(escape) > 1:
            return chr(int(escape[1:], 16))
        return _DQ_SIMPLE.get(escape, escape)

    return _DQ_ESCAPE.sub(replace, token[1:-1])


def _number(token: str) -> int | float:
    if re.fullmatch(r"[-+]?\d+", token):
        return int(token)
    return float(token)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], end: int):
        self.tokens = tokens
        self.index = 0
        self.end = end

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        index = self.index + ahead
        return self.tokens[index] if index < len(self.tokens) else ("eof", "", self.end)

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        kind, value, offset = self.take()
        if kind == "eof":
            raise UnsupportedPerl(offset, f"file ends before {text!r} (truncated?)")
        if value != text or kind not in ("punct", "arrow"):
            raise UnsupportedPerl(offset, f"expected {text!r}, found {value[:20]!r}")

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise UnsupportedPerl(self.peek()[2], f"nesting deeper than {MAX_DEPTH} levels")
        kind, text, offset = self.take()
        if kind == "sq":
            return _single_quoted(text)
        if kind == "dq":
            return _double_quoted(text)
        if kind == "number":
            return _number(text)
        if kind == "punct" and text in "([{":
            close = {"(": ")", "[": "]", "{": "}"}[text]
            items = self.sequence(close, depth + 1)
            return _pairs_to_dict(items, offset) if text == "{" else items
        if kind == "word" and text == "undef" and self.peek()[1] != "(":
            return None
        if kind == "word" and text == "bless" and self.peek()[1] == "(":
            self.take()
            blessed = self.value(depth + 1)
            if self.peek()[1] == ",":
                self.take()
                self.value(depth + 1)  # the class name
            self.expect(")")
            return blessed
        if kind == "word" and self.peek()[1] == "=>":
            return text  # a bareword hash key
        if kind == "eof":
            raise UnsupportedPerl(offset, "file ends inside a value (truncated?)")
        if kind == "other" and text in "'\"":
            raise UnsupportedPerl(offset, "file ends inside a string (truncated?)")
        what = f"the call {text}(...)" if kind == "word" and self.peek()[1] == "(" else repr(text[:20])
        raise UnsupportedPerl(offset, f"{what} is not a data literal (not evaluated)")

    def sequence(self, close: str, depth: int) -> list[Any]:
        items: list[Any] = []
        while True:
            kind, text, offset = self.peek()
            if kind == "punct" and text == close:
                self.take()
                return items
            if kind == "eof":
                raise UnsupportedPerl(offset, f"file ends before the closing {close!r} (truncated?)")
            items.append(self.value(depth))
            kind, text, offset = self.peek()
            if (kind == "punct" and text == ",") or kind == "arrow":
                self.take()
            elif not (kind == "punct" and text == close):
                shown = "end of file" if kind == "eof" else repr(text[:20])
                raise UnsupportedPerl(offset, f"expected ',' or {close!r}, found {shown}")

    def skip_statement(self) -> None:
        """Move past the next ``;`` that is outside brackets (or to the end)."""
        depth = 0
        while True:
            kind, text, _ = self.take()
            if kind == "eof":
                return
            if kind == "punct" and text in "([{":
                depth += 1
            elif kind == "punct" and text in ")]}":
                depth = max(0, depth - 1)
            elif kind == "punct" and text == ";" and depth == 0:
                return


def _pairs_to_dict(items: list[Any], offset: int) -> dict[str, Any]:
    if len(items) % 2:
        raise UnsupportedPerl(offset, "a hash with an odd number of elements")
    return {str(items[i]): items[i + 1] for i in range(0, len(items), 2)}


def iter_statements(text: str) -> Iterator[Statement]:
    """The top-level statements of a Perl data file, in order.

    Parameters
    ----------
    text : str
        The decoded file.

    Yields
    ------
    Statement
        Assignments with their literal values, ``[record]`` markers, and unsupported
        statements (skipped up to their ``;``) carrying the reason.

    Raises
    ------
    UnsupportedPerl
        A statement whose start cannot be recognised or that is cut off (truncated text).
    """
    parser = _Parser(_tokens(text), len(text))
    while True:
        kind, token, offset = parser.peek()
        if kind == "eof":
            return
        if kind == "other":
            raise UnsupportedPerl(offset, f"unexpected character {token!r}")
        if kind == "punct" and token == "[" and parser.peek(1)[1] == "record":
            parser.index += 2
            parser.expect("]")
            yield Statement("record", offset=offset)
            continue
        if kind == "number" and parser.peek(1)[1] == ";":
            parser.index += 2
            yield Statement("other", offset=offset)
            continue
        if kind == "punct" and token == ";":
            parser.take()
            continue
        if kind != "variable" or parser.peek(1)[1] != "=":
            raise UnsupportedPerl(offset, f"expected an assignment such as '@x = (...);', "
                                  f"found {token[:20]!r}")
        parser.index += 2
        start = parser.index
        try:
            value = parser.value()
            parser.expect(";")
        except UnsupportedPerl as exc:
            if parser.peek()[0] == "eof" or exc.reason.startswith("file ends"):
                raise
            parser.index = start
            parser.skip_statement()
            yield Statement("unsupported", token[1:], token[0], None, offset, exc)
            continue
        sigil = token[0]
        if sigil == "%" and isinstance(value, list):
            value = _pairs_to_dict(value, offset)
        yield Statement("assign", token[1:], sigil, value, offset)
