"""The safe column-expression language: values, precedence, and everything it must refuse."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import ConfigError, ParseError
from specssb.parsers._column_expr import parse_assignments, parse_expression

COLUMNS = {
    "I0": np.array([100.0, 200.0, 400.0]),
    "it": np.array([50.0, 50.0, 100.0]),
    "iref": np.array([25.0, 10.0, 50.0]),
    "ifch1": np.array([1.0, 2.0, 3.0]),
    "ifch2": np.array([4.0, 5.0, 6.0]),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ln(i0/it)", np.log([2.0, 4.0, 4.0])),
        ("LOG(I0 / It)", np.log([2.0, 4.0, 4.0])),  # names and functions are case-insensitive
        ("log10(i0)", [2.0, np.log10(200.0), np.log10(400.0)]),
        ("(ifch1+ifch2)/i0", [0.05, 0.035, 9.0 / 400.0]),
        ("ifch1+ifch2/i0", [1.04, 2.025, 3.015]),  # / binds tighter than +
        ("2*ifch1-ifch2", [-2.0, -1.0, 0.0]),  # left to right
        ("ifch2-ifch1-1", [2.0, 2.0, 2.0]),  # left associative: (a-b)-c
        ("-ifch1", [-1.0, -2.0, -3.0]),
        ("--ifch1", [1.0, 2.0, 3.0]),
        ("sqrt(abs(-i0))", [10.0, np.sqrt(200.0), 20.0]),
        ("exp(ln(it))", [50.0, 50.0, 100.0]),
        ("1.5e1 + .5", [15.5, 15.5, 15.5]),  # a constant broadcasts to the column length
        ("ln(it/iref)", np.log([2.0, 5.0, 2.0])),
    ],
)
def test_values_and_precedence(text, expected):
    assert np.allclose(parse_expression(text).evaluate(COLUMNS), expected, rtol=1e-12)


def test_names_lists_the_columns_read():
    assert parse_expression("ln(I0/it) + 2*ifch1").names == {"i0", "it", "ifch1"}


def test_division_by_zero_and_log_of_negative_give_non_finite_values_not_errors():
    values = parse_expression("ln(it - 60)").evaluate(COLUMNS)
    assert np.isnan(values[0]) and np.isfinite(values[2])
    assert np.isinf(parse_expression("i0/(it-50)").evaluate(COLUMNS)[0])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("__import__('os')", "unexpected character"),  # the quote never tokenizes
        ("__import__(os)", "unknown function '__import__'"),
        ("eval(i0)", "unknown function 'eval'"),
        ("i0.real", "unexpected character '.'"),  # no attribute access
        ("i0.__class__", "unexpected character '.'"),
        ("i0[0]", "unexpected character '['"),
        ("i0**2", "** is not an operator"),
        ("ln(i0, it)", "unexpected character ','"),
        ("lambda: 1", "unexpected character ':'"),
        ("i0 it", "unexpected 'it' after a complete expression"),
        ("ln(i0/it", "missing ')'"),
        ("(i0", "missing ')'"),
        ("i0/", "ends too early"),
        ("", "empty expression"),
        ("   ", "empty expression"),
        ("i0 ; import os", "unexpected character ';'"),
    ],
)
def test_anything_outside_the_language_is_refused(text, says):
    with pytest.raises(ConfigError) as caught:
        parse_expression(text)
    assert says in str(caught.value)
    assert isinstance(caught.value, ValueError) and not isinstance(caught.value, ParseError)


def test_error_names_the_character_position():
    with pytest.raises(ConfigError, match=r"character 7"):
        parse_expression("ln(i0)$")


def test_a_missing_column_names_the_available_ones():
    with pytest.raises(ConfigError, match=r"'ifluor'.*columns: i0, it"):
        parse_expression("ifluor/i0").evaluate({"i0": COLUMNS["I0"], "it": COLUMNS["it"]})


def test_deep_nesting_and_huge_input_are_refused_not_crashing():
    with pytest.raises(ConfigError, match="nested deeper"):
        parse_expression("-" * 500 + "i0")
    with pytest.raises(ConfigError, match="nested deeper"):
        parse_expression("(" * 60 + "i0" + ")" * 60)
    with pytest.raises(ConfigError, match="longer than"):
        parse_expression("i0+" * 1000 + "i0")


def test_render_shows_the_parsed_structure():
    assert str(parse_expression("a - b - c")) == "((a-b)-c)"
    assert str(parse_expression("ln(a/b)*2")) == "(ln((a/b))*2.0)"


def test_assignments():
    found = parse_assignments("energy = mono_energy; mu=ln(i0/it), reference=ln(it/iref)",
                              ("energy", "mu", "reference"))
    assert {k: v.text for k, v in found.items()} == {
        "energy": "mono_energy", "mu": "ln(i0/it)", "reference": "ln(it/iref)"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mu", "not an assignment"),
        ("chi=i0", "cannot assign 'chi'"),
        ("mu=i0; mu=it", "assigned twice"),
        ("mu=__import__('os').system('x')", "unexpected character"),
        (" ; ", "no assignment"),
        ("", "must be text"),
    ],
)
def test_bad_assignments(text, says):
    with pytest.raises(ConfigError, match=says):
        parse_assignments(text, ("energy", "mu"))
