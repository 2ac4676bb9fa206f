"""Expression constraints of recipes: ``height = {expr = "0.5 * ps4_height"}`` (private).

A recipe parameter may follow an arithmetic expression of other parameters of the same recipe,
named in full as :meth:`~specssb.fitting.recipe.Recipe.parameter_specs` names them
(``ps4_center``, ``ps4_b_height``). The language is :mod:`specssb._arithmetic` configured by
:data:`GRAMMAR`: parameter names (case-sensitive), numbers, ``+ - * / **``, unary ``-``,
parentheses, the constant ``pi`` and the functions ``sqrt exp log abs sin cos`` (``log`` is the
natural logarithm). The text is parsed when the recipe is loaded and never evaluated as Python;
anything else is a :class:`~specssb.errors.ConfigError` with the file, line and key.

How the engines run them
------------------------
The engines never see the text. An expression that is affine in one parameter (``a*x + b``,
found by folding the tree, :func:`affine_form`) becomes an ordinary linear
:class:`~specssb.fitting.recipe.Tie`, so the batched engine runs it. Any other expression makes
its parameter *derived*: :class:`~specssb.fitting.model.CompiledModel` computes it from the free
parameters with :func:`evaluate_constraint`, a walk of our own tree that knows only the node
kinds above, and differentiates it exactly with :func:`evaluate_with_gradient` (forward mode,
the chain rule node by node).

For lmfit we chose to compute derived parameters ourselves inside the model function (option
"a") rather than hand lmfit an expression string for asteval (option "b"): the compiled model
must evaluate them anyway (start values, the analytic Jacobian that the lmfit engine passes to
lmfit, the fitted values in the table), so one evaluator serves both engines, no user-derived
text reaches asteval at all, and no asteval symbol table needs hardening. Their standard errors
follow by the delta method, ``C_full = D C_free Dᵀ`` with ``D = ∂full/∂free`` at the solution
(the same first-order propagation lmfit applies to its ``expr`` parameters), in
:func:`~specssb.fitting.result.spectrum_statistics`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from specssb import _arithmetic
from specssb._arithmetic import ExpressionError, Grammar, names_in

__all__ = ["FUNCTIONS", "GRAMMAR", "ExpressionError", "affine_form", "evaluate_constraint",
           "evaluate_with_gradient", "expression_cycles", "names_in", "parse_constraint"]

Tree = tuple[Any, ...]

#: The functions an ``expr`` may call, with their derivatives.
FUNCTIONS: Mapping[str, Callable[[Any], Any]] = {
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs, "sin": np.sin, "cos": np.cos,
}  # fmt: skip
_DERIVATIVES: Mapping[str, Callable[[Any], Any]] = {
    "sqrt": lambda u: 0.5 / np.sqrt(u), "exp": np.exp, "log": lambda u: 1.0 / u,
    "abs": np.sign, "sin": np.cos, "cos": lambda u: -np.sin(u),
}  # fmt: skip
#: The recipe language: ``**`` allowed, ``pi`` a constant, names case-sensitive.
GRAMMAR = Grammar(FUNCTIONS, constants={"pi": math.pi}, power=True, fold_case=False,
                  what_names_are="parameter names")


@lru_cache(maxsize=1024)
def parse_constraint(text: str) -> Tree:
    """Parse an ``expr`` (cached: recipes are validated and expanded many times).

    Raises
    ------
    ExpressionError
        For anything outside :data:`GRAMMAR` (see :mod:`specssb._arithmetic`).

    Examples
    --------
    >>> parse_constraint("ps4_center - 1.18")
    ('-', ('name', 'ps4_center'), ('num', 1.18))
    """
    return _arithmetic.parse(text, GRAMMAR)


def evaluate_constraint(tree: Tree, lookup: Callable[[str], Any]) -> Any:
    """Value of a parsed constraint; ``lookup(name)`` gives each parameter's value(s)."""
    return _arithmetic.evaluate(tree, lookup, FUNCTIONS)


def evaluate_with_gradient(
    tree: Tree, lookup: Callable[[str], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Value and gradient of a parsed constraint (forward-mode differentiation).

    Parameters
    ----------
    tree : tuple
        From :func:`parse_constraint`.
    lookup : callable
        ``name -> (value, gradient)`` with shapes ``(m,)`` and ``(m, p)``: each parameter's
        values over ``m`` spectra and their derivatives with respect to ``p`` free parameters.

    Returns
    -------
    value : ndarray of shape (m,)
    gradient : ndarray of shape (m, p)
    """
    with np.errstate(all="ignore"):
        return _forward(tree, lookup)


def _forward(node: Tree, lookup: Callable[[str], tuple[Any, Any]]) -> tuple[Any, Any]:
    kind = node[0]
    if kind == "num":
        return np.float64(node[1]), np.float64(0.0)
    if kind == "name":
        return lookup(node[1])
    if kind == "neg":
        value, gradient = _forward(node[1], lookup)
        return -value, -gradient
    if kind == "call":
        value, gradient = _forward(node[2], lookup)
        return FUNCTIONS[node[1]](value), _col(_DERIVATIVES[node[1]](value)) * gradient
    (a, da), (b, db) = _forward(node[1], lookup), _forward(node[2], lookup)
    if kind == "+":
        return a + b, da + db
    if kind == "-":
        return a - b, da - db
    if kind == "*":
        return a * b, _col(b) * da + _col(a) * db
    if kind == "/":
        return a / b, da / _col(b) - _col(a / b**2) * db
    if kind == "**":
        value = np.power(a, b)
        gradient = _col(b * np.power(a, b - 1.0)) * da
        if names_in(node[2]):  # a variable exponent: d(a**b)/db = a**b · ln a
            gradient = gradient + _col(value * np.log(a)) * db
        return value, gradient
    raise ValueError(f"not an expression node: {kind!r}")


def _col(values: Any) -> Any:
    """Values of shape (m,) as (m, 1), to scale gradients of shape (m, p); scalars unchanged."""
    values = np.asarray(values)
    return values[..., None] if values.ndim else values


def affine_form(tree: Tree) -> tuple[dict[str, float], float] | None:
    """``({name: coefficient}, constant)`` when the tree is affine in its names, else None.

    Sub-trees without names are folded to numbers; zero coefficients are dropped; a form with a
    non-finite number is None (left to the general evaluator, which reports it).

    Examples
    --------
    >>> affine_form(parse_constraint("2 * (ps4_center - 1) / 4"))
    ({'ps4_center': 0.5}, -0.5)
    >>> affine_form(parse_constraint("ps4_height * li2s_height")) is None
    True
    """
    with np.errstate(all="ignore"):
        form = _affine(tree)
    if form is None:
        return None
    coefficients, constant = form
    numbers = [constant, *coefficients.values()]
    if not all(math.isfinite(number) for number in numbers):
        return None
    return {k: v for k, v in coefficients.items() if v != 0.0}, constant


def _affine(node: Tree) -> tuple[dict[str, float], float] | None:
    kind = node[0]
    if not names_in(node):
        return {}, float(evaluate_constraint(node, lambda name: 0.0))
    if kind == "name":
        return {node[1]: 1.0}, 0.0
    if kind == "neg":
        inner = _affine(node[1])
        return None if inner is None else _scaled(inner, -1.0)
    if kind in ("+", "-"):
        left, right = _affine(node[1]), _affine(node[2])
        if left is None or right is None:
            return None
        sign = 1.0 if kind == "+" else -1.0
        coefficients = dict(left[0])
        for name, value in right[0].items():
            coefficients[name] = coefficients.get(name, 0.0) + sign * value
        return coefficients, left[1] + sign * right[1]
    if kind in ("*", "/"):
        left, right = _affine(node[1]), _affine(node[2])
        if left is None or right is None or right[0] and (kind == "/" or left[0]):
            return None
        if kind == "/":
            return _scaled(left, 1.0 / right[1]) if right[1] != 0.0 else None
        return _scaled(left, right[1]) if not right[0] else _scaled(right, left[1])
    return None  # a call or a power of a parameter


def _scaled(form: tuple[dict[str, float], float], factor: float) -> tuple[dict[str, float], float]:
    return {k: factor * v for k, v in form[0].items()}, factor * form[1]


def expression_cycles(
    edges: Mapping[str, Iterable[str]], expression_targets: Iterable[str],
) -> list[list[str]]:
    """Cycles of a dependency graph that pass through at least one expression.

    Parameters
    ----------
    edges : mapping of str to iterable of str
        Every parameter → the parameters it is computed from (ties, doublets, expressions).
    expression_targets : iterable of str
        Parameters given by an ``expr``. Cycles of ties alone are not reported here.

    Returns
    -------
    list of list of str
        Each cycle once, as the parameters along it.
    """
    targets = set(expression_targets)
    cycles: list[list[str]] = []
    reported: set[frozenset[str]] = set()
    done: set[str] = set()
    for start in sorted(edges):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, Iterable[str] | None]] = [(start, None)]
        while stack:
            node, children = stack[-1]
            if children is None:
                path.append(node)
                on_path.add(node)
                children = iter(sorted(edges.get(node, ())))
                stack[-1] = (node, children)
            child = next(children, None)  # type: ignore[call-overload]
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                loop = path[path.index(child):]
                if targets & set(loop) and frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    cycles.append(loop)
            elif child not in done:
                stack.append((child, None))
    return cycles
