"""A tiny, safe arithmetic language over data columns: ``mu=ln(i0/it)`` (private).

Users name how mu (or the energy) is built from a file's columns, as on the command line::

    columns="mu=ln(i0/it)"
    columns="energy=mono_energy; mu=(ifch1+ifch2+ifch3+ifch4)/i0"

The text is **never** passed to ``eval``: the shared tokenizer and recursive-descent parser of
:mod:`specssb._arithmetic` (configured here by :data:`GRAMMAR`) accept only

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

from specssb import _arithmetic
from specssb._arithmetic import MAX_DEPTH, MAX_LENGTH, ExpressionError, Grammar
from specssb.errors import ConfigError

__all__ = ["FUNCTIONS", "GRAMMAR", "MAX_DEPTH", "MAX_LENGTH", "Expression", "parse_assignments",
           "parse_expression"]

#: The functions an expression may call (all element-wise numpy functions of one argument).
FUNCTIONS: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {
    "ln": np.log, "log": np.log, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt,
    "abs": np.abs,
}  # fmt: skip
#: The column language: no ``**``, no constants, names and functions ignore case.
GRAMMAR = Grammar(FUNCTIONS, power=False, fold_case=True, what_names_are="column names")


@dataclass(frozen=True)
class Expression:
    """A parsed expression: evaluate it on columns with :meth:`evaluate`.

    Attributes
    ----------
    text : str
        The expression as written.
    tree : tuple
        ``("num", value)``, ``("name", column)``, ``("neg", node)``, ``("call", func, node)``
        or ``(op, left, right)`` with ``op`` in ``+ - * /`` (:mod:`specssb._arithmetic`).
    """

    text: str
    tree: tuple[Any, ...]

    @property
    def names(self) -> frozenset[str]:
        """Lower-case column names the expression reads."""
        return _arithmetic.names_in(self.tree)

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
        result = _arithmetic.evaluate(self.tree, lower.__getitem__, FUNCTIONS)
        size = len(next(iter(lower.values()))) if lower else 1
        return np.broadcast_to(np.asarray(result, dtype=np.float64), (size,)).copy()

    def __str__(self) -> str:
        return _arithmetic.render(self.tree)


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
    try:
        tree = _arithmetic.parse(text, GRAMMAR)
    except ExpressionError as error:
        raise ConfigError(str(error), key="columns") from error
    return Expression(text.strip(), tree)


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
