"""A tiny, safe arithmetic language: tokenizer, parser and tree-walking evaluator (private).

Two users configure it with a :class:`Grammar`:

* ``--columns`` expressions over a file's columns (:mod:`specssb.parsers._column_expr`);
* recipe ``expr`` constraints over fit parameters (:mod:`specssb.fitting._expressions`).

The text is **never** passed to ``eval``, ``exec`` or ``compile``: a regular-expression
tokenizer and a recursive-descent parser accept only

* names (``[A-Za-z_][A-Za-z0-9_]*``; case-folded when the grammar says so) and numbers;
* ``+ - * /``, unary ``-``/``+``, parentheses, and ``**`` when the grammar allows it;
* calls of the grammar's one-argument functions, and the grammar's named constants.

Anything else (quotes, dots, brackets, commas, colons, keywords after a complete expression, a
call of a name that is not one of the grammar's functions) is refused with
:class:`ExpressionError` naming the character position. Input is limited to
:data:`MAX_LENGTH` characters and :data:`MAX_DEPTH` levels of nesting, so hostile input cannot
exhaust the interpreter's stack. Grammar::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("+" | "-") unary | power
    power   := primary ("**" unary)?          # only when Grammar.power; right-associative
    primary := NUMBER | CONSTANT | NAME | FUNCTION "(" expr ")" | "(" expr ")"

As in Python, ``-a**2`` is ``-(a**2)`` and ``a**b**c`` is ``a**(b**c)``.

Parsed trees are nested tuples: ``("num", value)``, ``("name", name)``, ``("neg", node)``,
``("call", function, node)`` or ``(op, left, right)`` with ``op`` in ``+ - * / **``. A named
constant is parsed to its ``("num", value)``. :func:`evaluate` walks a tree with numpy's
element-wise functions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "MAX_TREE_DEPTH", "ExpressionError", "Grammar", "evaluate",
           "names_in", "parse", "render"]

#: Longest expression accepted (characters), deepest nesting of parentheses, signs, calls and
#: powers, and deepest parsed tree (a chain ``a+b+c+…`` nests one level per operator).
MAX_LENGTH = 2000
MAX_DEPTH = 50
MAX_TREE_DEPTH = 200

Tree = tuple[Any, ...]

_NUMBER = r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_NAME = r"(?P<name>[A-Za-z_]\w*)"
_TOKEN = re.compile(rf"\s*(?:{_NUMBER}|{_NAME}|(?P<op>[-+*/()]))")
_TOKEN_POWER = re.compile(rf"\s*(?:{_NUMBER}|{_NAME}|(?P<op>\*\*|[-+*/()]))")
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}


@dataclass(frozen=True)
class Grammar:
    """What one use of the language accepts.

    Attributes
    ----------
    functions : mapping of str to callable
        One-argument element-wise functions a call may name (lower case when ``fold_case``).
    constants : mapping of str to float
        Named constants, e.g. ``{"pi": math.pi}``.
    power : bool
        Whether ``**`` is an operator.
    fold_case : bool
        Whether names and function names are matched case-insensitively (stored lower case).
    what_names_are : str
        How error messages call names (``"column names"``, ``"parameter names"``).
    """

    functions: Mapping[str, Callable[[Any], Any]]
    constants: Mapping[str, float] = field(default_factory=dict)
    power: bool = False
    fold_case: bool = False
    what_names_are: str = "names"

    def allowed(self) -> str:
        """The accepted vocabulary, for error messages."""
        operators = "+ - * / ** ( )" if self.power else "+ - * / ( )"
        constants = f", {' '.join(self.constants)}" if self.constants else ""
        return (f"{self.what_names_are}, numbers, {operators}{constants} and the functions "
                f"{' '.join(self.functions)}")


class ExpressionError(ValueError):
    """Text outside the grammar.

    Attributes
    ----------
    text : str
        The expression as written.
    position : int or None
        0-based character position of the problem (None for a problem of the whole text).
    reason : str
        What is wrong.
    """

    def __init__(self, text: str, position: int | None, reason: str) -> None:
        self.text, self.position, self.reason = text, position, reason
        if position is None:
            message = reason
        else:
            shown = text if len(text) <= 80 else text[:77] + "..."
            message = f"expression {shown!r}, character {position + 1}: {reason}"
        super().__init__(message)


# ---------------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, text: str, grammar: Grammar):
        self.text = text
        self.grammar = grammar
        self.tokens = self._tokenize(text)
        self.index = 0

    def _error(self, position: int | None, reason: str) -> ExpressionError:
        return ExpressionError(self.text, position, reason)

    def _tokenize(self, text: str) -> list[tuple[str, str, int]]:
        pattern = _TOKEN_POWER if self.grammar.power else _TOKEN
        tokens = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = pattern.match(text, position)
            if match is None or match.end() == position:
                start = position + len(text[position:]) - len(text[position:].lstrip())
                raise self._error(start, f"unexpected character {text[start]!r} (allowed: "
                                  f"{self.grammar.allowed()})")
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

    def at_op(self, *ops: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "op" and text in ops

    def parse(self) -> Tree:
        if not self.tokens:
            raise self._error(0, "empty expression")
        tree = self.expr(0)
        kind, text, position = self.peek()
        if kind != "end":
            raise self._error(position, f"unexpected {text!r} after a complete expression")
        return tree

    def expr(self, depth: int) -> Tree:
        node = self.term(depth)
        while self.at_op("+", "-"):
            op = self.take()[1]
            node = (op, node, self.term(depth))
        return node

    def term(self, depth: int) -> Tree:
        node = self.unary(depth)
        while self.at_op("*", "/"):
            op = self.take()[1]
            if self.at_op("*", "/"):
                raise self._error(self.peek()[2], f"{op}{self.peek()[1]} is not an operator")
            node = (op, node, self.unary(depth))
        return node

    def unary(self, depth: int) -> Tree:
        if depth > MAX_DEPTH:
            raise self._error(self.peek()[2], f"nested deeper than {MAX_DEPTH} levels")
        if self.at_op("+", "-"):
            sign = self.take()[1]
            operand = self.unary(depth + 1)
            return ("neg", operand) if sign == "-" else operand
        return self.power(depth)

    def power(self, depth: int) -> Tree:
        node = self.primary(depth)
        if self.at_op("**"):
            self.take()
            node = ("**", node, self.unary(depth + 1))
        return node

    def primary(self, depth: int) -> Tree:
        kind, text, position = self.take()
        grammar = self.grammar
        if kind == "number":
            return ("num", float(text))
        if kind == "name":
            name = text.lower() if grammar.fold_case else text
            if self.at_op("("):
                if name not in grammar.functions:
                    raise self._error(position, f"unknown function {text!r} (allowed: "
                                      f"{', '.join(grammar.functions)})")
                self.take()
                argument = self.expr(depth + 1)
                self.close(position)
                return ("call", name, argument)
            if name in grammar.constants:
                return ("num", float(grammar.constants[name]))
            return ("name", name)
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


def parse(text: str, grammar: Grammar) -> Tree:
    """Parse ``text`` into a tree (see the module notes).

    Raises
    ------
    ExpressionError
        For text that is not a string, is longer than :data:`MAX_LENGTH`, nests deeper than
        :data:`MAX_DEPTH` (or its tree deeper than :data:`MAX_TREE_DEPTH`), or holds anything
        outside the grammar.

    Examples
    --------
    >>> parse("-a**2", Grammar({}, power=True))
    ('neg', ('**', ('name', 'a'), ('num', 2.0)))
    """
    if not isinstance(text, str):
        raise ExpressionError(repr(text), None,
                              f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(text, None, f"expression longer than {MAX_LENGTH} characters")
    tree = _Parser(text, grammar).parse()
    if _depth(tree) > MAX_TREE_DEPTH:
        raise ExpressionError(text, None, f"expression with more than {MAX_TREE_DEPTH} nested "
                              "operations")
    return tree


def _depth(tree: Tree) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node[1:] if isinstance(child, tuple))
    return deepest


# ---------------------------------------------------------------------- walking
def names_in(tree: Tree) -> frozenset[str]:
    """The names a tree reads."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if node[0] == "name":
            found.add(node[1])
        stack.extend(child for child in node[1:] if isinstance(child, tuple))
    return frozenset(found)


Functions = Mapping[str, Callable[[Any], Any]]


def evaluate(tree: Tree, lookup: Callable[[str], Any], functions: Functions) -> Any:
    """Value of a tree: numpy's element-wise functions on what ``lookup(name)`` returns.

    Only the node kinds of the module notes are walked; any other node is a ``ValueError``.
    Overflow, division by zero and invalid operations give inf/nan without warnings (callers
    check finiteness).
    """
    with np.errstate(all="ignore"):
        return _evaluate(tree, lookup, functions)


def _evaluate(node: Tree, lookup: Callable[[str], Any], functions: Functions) -> Any:
    kind = node[0]
    if kind == "num":
        return np.float64(node[1])
    if kind == "name":
        return lookup(node[1])
    if kind == "neg":
        return np.negative(_evaluate(node[1], lookup, functions))
    if kind == "call":
        return functions[node[1]](_evaluate(node[2], lookup, functions))
    if kind in _BINARY:
        left = _evaluate(node[1], lookup, functions)
        return _BINARY[kind](left, _evaluate(node[2], lookup, functions))
    raise ValueError(f"not an expression node: {kind!r}")


def render(tree: Tree) -> str:
    """The tree as fully parenthesized text, e.g. ``((a-b)-c)``; parses back to the same tree."""
    kind = tree[0]
    if kind == "num":
        return repr(tree[1])
    if kind == "name":
        return str(tree[1])
    if kind == "neg":
        return f"-{render(tree[1])}"
    if kind == "call":
        return f"{tree[1]}({render(tree[2])})"
    return f"({render(tree[1])}{kind}{render(tree[2])})"
