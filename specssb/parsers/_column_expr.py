"""A tiny, safe arithmetic language over data columns: ``mu=ln(i0/it)`` (private).

Users name how mu (or the energy) is built from a file's columns, as on the command line::

    columns="mu=ln(i0/it)"
    columns="energy=mono_energy; mu=(ifch1+ifch2+ifch3+ifch4)/i0"

The text is **never** passed to ``eval``: a tokenizer and a recursive-descent parser accept only

* column names (``[A-Za-z_][A-Za-z0-9_]*``, matched case-insensitively) and numbers;
* ``+ - * /``, unary ``-``/``+`` and parentheses;
* the one-argument functions ``ln``, ``log`` (both natural logarithms, as numpy's ``log``),
  ``log10``, ``exp``, ``sqrt``, ``abs``.

Anything else (quotes, dots after a name, ``**``, commas inside an expression, an unknown
function such as ``__import__``) is refused with :class:`~specssb.errors.ConfigError` naming the
character position. Grammar::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("+" | "-") unary | primary
    primary := NUMBER | NAME | FUNC "(" expr ")" | "(" expr ")"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from specssb.errors import ConfigError

__all__ = ["Expression", "FUNCTIONS", "parse_assignments", "parse_expression"]

#: The functions an expression may call (all element-wise numpy functions of one argument).
FUNCTIONS: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {
    "ln": np.log, "log": np.log, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt,
    "abs": np.abs,
}  # fmt: skip
#: Longest expression accepted (characters) and deepest nesting.
MAX_LENGTH = 2000
MAX_DEPTH = 50

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>[-+*/()]))"
)


@dataclass(frozen=True)
class Expression:
    """A parsed expression: evaluate it on columns with :meth:`evaluate`.

    Attributes
    ----------
    text : str
        The expression as written.
    tree : tuple
        ``("num", value)``, ``("col", name)``, ``("neg", node)``, ``("call", func, node)`` or
        ``(op, left, right)`` with ``op`` in ``+ - * /``.
    """

    text: str
    tree: tuple[Any, ...]

    @property
    def names(self) -> frozenset[str]:
        """Lower-case column names the expression reads."""
        found: set[str] = set()

        def walk(node: tuple[Any, ...]) -> None:
            if node[0] == "col":
                found.add(node[1])
            for child in node[1:]:
                if isinstance(child, tuple):
                    walk(child)

        walk(self.tree)
        return frozenset(found)

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The expression's value, element-wise over the columns.

        Parameters
        ----------
        columns : mapping of str to ndarray of shape (n,)
            Columns by name (matched case-insensitively).

        Returns
        -------
        ndarray of shape (n,)
            float64; divisions by zero and logs of non-positive numbers give inf/nan (the
            caller checks finiteness).

        Raises
        ------
        ConfigError
            A column the mapping does not hold (the message lists those it does).
        """
        lower = {name.lower(): np.asarray(values, dtype=np.float64) for name, values in columns.items()}
        missing = sorted(self.names - set(lower))
        if missing:
            raise ConfigError(
                f"expression {self.text!r} uses column {missing[0]!r}, which the file does not "
                f"have (columns: {', '.join(lower) or 'none'})",
                key="columns",
            )
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            result = _evaluate(self.tree, lower)
        size = len(next(iter(lower.values()))) if lower else 1
        return np.broadcast_to(np.asarray(result, dtype=np.float64), (size,)).copy()

    def __str__(self) -> str:
        return _render(self.tree)


def _evaluate(node: tuple[Any, ...], columns: Mapping[str, np.ndarray]) -> Any:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "col":
        return columns[node[1]]
    if kind == "neg":
        return -_evaluate(node[1], columns)
    if kind == "call":
        return FUNCTIONS[node[1]](_evaluate(node[2], columns))
    left, right = _evaluate(node[1], columns), _evaluate(node[2], columns)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    return np.divide(left, right)


def _render(node: tuple[Any, ...]) -> str:
    kind = node[0]
    if kind == "num":
        return repr(node[1])
    if kind == "col":
        return str(node[1])
    if kind == "neg":
        return f"-{_render(node[1])}"
    if kind == "call":
        return f"{node[1]}({_render(node[2])})"
    return f"({_render(node[1])}{kind}{_render(node[2])})"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenize(text)
        self.index = 0

    def _error(self, position: int, reason: str) -> ConfigError:
        return ConfigError(f"expression {self.text!r}, character {position + 1}: {reason}",
                           key="columns")

    def _tokenize(self, text: str) -> list[tuple[str, str, int]]:
        tokens = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                start = position + len(text[position:]) - len(text[position:].lstrip())
                raise self._error(start, f"unexpected character {text[start]!r} (allowed: column "
                                  "names, numbers, + - * / ( ) and ln log log10 exp sqrt abs)")
            kind = match.lastgroup or "op"
            tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        return tokens

    def peek(self) -> tuple[str, str, int]:
        if self.index < len(self.tokens):
            return self.tokens[self.index]
        return ("end", "", len(self.text))

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        self.index += 1
        return token

    def parse(self) -> tuple[Any, ...]:
        if not self.tokens:
            raise self._error(0, "empty expression")
        tree = self.expr(0)
        kind, text, position = self.peek()
        if kind != "end":
            raise self._error(position, f"unexpected {text!r} after a complete expression")
        return tree

    def expr(self, depth: int) -> tuple[Any, ...]:
        node = self.term(depth)
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.term(depth))
        return node

    def term(self, depth: int) -> tuple[Any, ...]:
        node = self.unary(depth)
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            if self.peek()[1] in ("*", "/"):
                raise self._error(self.peek()[2], f"{op}{self.peek()[1]} is not an operator")
            node = (op, node, self.unary(depth))
        return node

    def unary(self, depth: int) -> tuple[Any, ...]:
        if depth > MAX_DEPTH:
            raise self._error(self.peek()[2], f"nested deeper than {MAX_DEPTH} levels")
        kind, text, position = self.peek()
        if kind == "op" and text in ("+", "-"):
            self.take()
            operand = self.unary(depth + 1)
            return ("neg", operand) if text == "-" else operand
        return self.primary(depth)

    def primary(self, depth: int) -> tuple[Any, ...]:
        kind, text, position = self.take()
        if kind == "number":
            return ("num", float(text))
        if kind == "name":
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                function = text.lower()
                if function not in FUNCTIONS:
                    raise self._error(position, f"unknown function {text!r} (allowed: "
                                      f"{', '.join(FUNCTIONS)})")
                self.take()
                argument = self.expr(depth + 1)
                self.close(position)
                return ("call", function, argument)
            return ("col", text.lower())
        if kind == "op" and text == "(":
            node = self.expr(depth + 1)
            self.close(position)
            return node
        if kind == "end":
            raise self._error(position, "the expression ends too early")
        raise self._error(position, f"unexpected {text!r}")

    def close(self, opened: int) -> None:
        kind, text, position = self.take()
        if not (kind == "op" and text == ")"):
            raise self._error(position if kind != "end" else opened,
                              "missing ')'" if kind == "end" else f"expected ')', found {text!r}")


def parse_expression(text: str) -> Expression:
    """Parse one expression such as ``ln(i0/it)``.

    Parameters
    ----------
    text : str

    Returns
    -------
    Expression

    Raises
    ------
    ConfigError
        Anything outside the language (see the module notes), with the character position.

    Examples
    --------
    >>> import numpy as np
    >>> e = parse_expression("ln(I0/It)")
    >>> sorted(e.names), float(e.evaluate({"i0": np.array([np.e]), "it": np.array([1.0])})[0])
    (['i0', 'it'], 1.0)
    """
    if not isinstance(text, str):
        raise ConfigError(f"an expression must be text, not {type(text).__name__}", key="columns")
    if len(text) > MAX_LENGTH:
        raise ConfigError(f"expression longer than {MAX_LENGTH} characters", key="columns")
    return Expression(text.strip(), _Parser(text).parse())


def parse_assignments(text: str, allowed: tuple[str, ...]) -> dict[str, Expression]:
    """Parse ``"energy=mono_energy; mu=ln(i0/it)"`` into ``{"energy": ..., "mu": ...}``.

    Parameters
    ----------
    text : str
        Assignments separated by ``;`` or ``,``; each ``target=expression``.
    allowed : tuple of str
        Target names that may be assigned (lower case).

    Returns
    -------
    dict of str to Expression

    Raises
    ------
    ConfigError
        An unknown or repeated target, a missing ``=``, or a bad expression.

    Examples
    --------
    >>> sorted(parse_assignments("mu=ln(i0/it), energy=e", ("energy", "mu")))
    ['energy', 'mu']
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("columns must be text such as 'mu=ln(i0/it)'", key="columns")
    found: dict[str, Expression] = {}
    for part in re.split(r"[;,]", text):
        if not part.strip():
            continue
        target, equals, expression = part.partition("=")
        target = target.strip().lower()
        if not equals:
            raise ConfigError(f"{part.strip()!r} is not an assignment; write e.g. "
                              "'mu=ln(i0/it)'", key="columns")
        if target not in allowed:
            raise ConfigError(f"cannot assign {target!r}; columns may set "
                              f"{', '.join(allowed)}", key="columns")
        if target in found:
            raise ConfigError(f"{target!r} is assigned twice", key="columns")
        found[target] = parse_expression(expression)
    if not found:
        raise ConfigError("columns holds no assignment such as 'mu=ln(i0/it)'", key="columns")
    return found
