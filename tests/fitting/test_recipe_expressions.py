"""Recipe ``expr`` constraints: parsed by our grammar, evaluated by our walker, never by Python.

Fits recover the truth through a non-linear constraint (lmfit), a linear one runs batched and
equals the equivalent tie, the constrained parameter's error is the delta-method one, and every
hostile expression is a ConfigError with file, line and key with nothing executed.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from specssb import Axis, Spectrum, _arithmetic
from specssb.errors import ConfigError
from specssb.fitting import _expressions
from specssb.fitting.engine import fit, lmfit_model
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.model import compile_recipe
from specssb.fitting.recipe import Recipe, Tie

GL = get_lineshape("gl")
PARTNER_HEIGHT = "0.5 * ps4_height * exp(-(ps4_fwhm - 1) / 2)"
# line 14 of RECIPE holds the partner's height (the key the hostile tests replace)
RECIPE = f"""
name = "expr-doublet"
technique = "xps"
[[component]]
species = "ps4"
shape = "gl"
height = {{value = 800, min = 0}}
center = {{value = 161.6, min = 160.8, max = 162.4}}
fwhm = {{value = 1.0, min = 0.5, max = 2.5}}
m = 30
[[component]]
species = "ps4_2p12"
shape = "gl"
height = {{expr = "{PARTNER_HEIGHT}"}}
center = {{expr = "ps4_center + 1.18"}}
fwhm = {{tie = "ps4"}}
m = {{tie = "ps4"}}
[[component]]
species = "li2s"
shape = "gl"
height = {{value = 300, min = 0}}
center = {{value = 160.1, min = 159.4, max = 160.9}}
fwhm = {{value = 1.0, min = 0.5, max = 2.5}}
m = 30
"""
HEIGHT_LINE = 14
TRUTH = {"ps4_height": 1000.0, "ps4_center": 161.7, "ps4_fwhm": 1.3, "li2s_height": 400.0,
         "li2s_center": 160.2, "li2s_fwhm": 0.9}


def partner_height(height: float, fwhm: float) -> float:
    return 0.5 * height * math.exp(-(fwhm - 1.0) / 2.0)


def synthetic(seed: int = 4, m: int = 3) -> Spectrum:
    rng = np.random.default_rng(seed)
    be = np.linspace(168.0, 156.0, 400)
    t = TRUTH
    y = (GL.evaluate(be, t["ps4_height"], t["ps4_center"], t["ps4_fwhm"], 30.0)
         + GL.evaluate(be, partner_height(t["ps4_height"], t["ps4_fwhm"]), t["ps4_center"] + 1.18,
                       t["ps4_fwhm"], 30.0)
         + GL.evaluate(be, t["li2s_height"], t["li2s_center"], t["li2s_fwhm"], 30.0))
    data = y + rng.normal(0.0, 8.0, (m, be.size))
    return Spectrum(axis=Axis("binding_energy", "eV", be), data=data, technique="xps",
                    signal="counts", dims=("scan",))


def values(frame, quantity: str, species: str):
    rows = frame[(frame["quantity"] == quantity) & (frame["species"] == species)]
    return rows["value"].to_numpy(), rows["stderr"].to_numpy()


# ---------------------------------------------------------------------- loading
def test_expressions_load_linear_ones_become_ties_others_stay_expressions():
    recipe = Recipe.from_text(RECIPE, path="doublet.toml")
    specs = {s.name: s for s in recipe.parameter_specs()}
    assert specs["ps4_2p12_center"].tie == Tie("ps4_center", 1.0, 1.18)
    assert specs["ps4_2p12_center"].expr is None
    height = specs["ps4_2p12_height"]
    assert height.expr == PARTNER_HEIGHT and height.tie is None and not height.vary
    assert height.value == pytest.approx(partner_height(800.0, 1.0))  # from the start values
    back = Recipe.from_text(recipe.to_toml())
    assert back.hash == recipe.hash and back.to_dict() == recipe.to_dict()


@pytest.mark.parametrize(
    ("text", "tie"),
    [
        ("2 * (ps4_fwhm + 0.5) / 4", Tie("ps4_fwhm", 0.5, 0.25)),
        ("-ps4_center + 3 * pi", Tie("ps4_center", -1.0, 3 * math.pi)),
        ("ps4_height * 0 + ps4_center", Tie("ps4_center", 1.0, 0.0)),
    ],
)
def test_affine_expressions_fold_into_ties(text, tie):
    recipe = Recipe.from_text(RECIPE.replace(PARTNER_HEIGHT, text))
    spec = next(s for s in recipe.parameter_specs() if s.name == "ps4_2p12_height")
    assert spec.tie.source == tie.source and spec.expr is None
    assert spec.tie.factor == pytest.approx(tie.factor) and spec.tie.offset == pytest.approx(tie.offset)


def test_a_constant_expression_is_a_fixed_value():
    recipe = Recipe.from_text(RECIPE.replace(PARTNER_HEIGHT, "2 ** 3 + sqrt(4)"))
    spec = next(s for s in recipe.parameter_specs() if s.name == "ps4_2p12_height")
    assert (spec.value, spec.vary, spec.tie, spec.expr) == (10.0, False, None, None)


# ---------------------------------------------------------------------- fitting
def test_a_non_linear_partner_height_recovers_the_truth_with_lmfit_on_auto():
    table = fit(synthetic(), Recipe.from_text(RECIPE))
    frame = table.frame
    assert frame["converged"].all()
    assert frame["engine"].iloc[0] == "lmfit (auto: non-linear expr constraint on ps4_2p12_height)"
    for name, truth in TRUTH.items():
        species, quantity = name.rsplit("_", 1)
        fitted, error = values(frame, quantity, species)
        assert np.all(np.abs(fitted - truth) < 5 * error + 1e-9), (name, fitted, error)
    height, _ = values(frame, "height", "ps4")
    fwhm, _ = values(frame, "fwhm", "ps4")
    partner, partner_error = values(frame, "height", "ps4_2p12")
    np.testing.assert_allclose(partner, [partner_height(h, w) for h, w in zip(height, fwhm)],
                               rtol=1e-12)
    expected = partner_height(TRUTH["ps4_height"], TRUTH["ps4_fwhm"])
    assert np.all(np.abs(partner - expected) < 5 * partner_error)
    center, _ = values(frame, "center", "ps4")
    np.testing.assert_allclose(values(frame, "center", "ps4_2p12")[0], center + 1.18, rtol=1e-12)


def test_the_constrained_parameters_error_is_the_delta_method_one():
    table = fit(synthetic(m=2), Recipe.from_text(RECIPE), engine="lmfit")
    batch = table.batches[0]
    model = batch.model
    column = [p.name for p in model.parameters].index("ps4_2p12_height")
    _, reported = values(table.frame, "height", "ps4_2p12")
    for i in range(2):
        free = model.free_of(batch.full[i])
        gradient = np.zeros(free.size)
        for k in range(free.size):  # central finite differences of the full vector
            step = 1e-6 * max(abs(free[k]), 1.0)
            up, down = free.copy(), free.copy()
            up[k] += step
            down[k] -= step
            gradient[k] = (model.full(up[None])[0, column] - model.full(down[None])[0, column]) / (2 * step)
        expected = np.sqrt(gradient @ batch.covariance[i] @ gradient)
        assert reported[i] == pytest.approx(expected, rel=1e-5)
        assert 0 < reported[i] < 0.05 * batch.full[i, column]


def test_the_analytic_jacobian_through_an_expression_matches_finite_differences(
    assert_jacobian_matches_differences,
):
    recipe = Recipe.from_text(RECIPE.replace(PARTNER_HEIGHT, "sqrt(ps4_height) * abs(sin(li2s_center)) "
                                             "+ ps4_fwhm ** li2s_fwhm / log(ps4_center) - cos(pi)"))
    x = np.linspace(168.0, 156.0, 200)
    model = compile_recipe(recipe, x)
    assert_jacobian_matches_differences(model, x, model.free_start()[None] * 1.01)


def test_a_linear_expression_runs_batched_and_equals_the_equivalent_tie():
    linear = RECIPE.replace(PARTNER_HEIGHT, "ps4_height / 2")
    tied = linear.replace('{expr = "ps4_height / 2"}', '{tie = "ps4", factor = 0.5}')
    assert 'tie = "ps4", factor = 0.5' in tied
    by_expression = fit(synthetic(), Recipe.from_text(linear), engine="batched").frame
    by_tie = fit(synthetic(), Recipe.from_text(tied), engine="batched").frame
    assert (by_expression["engine"] == "batched").all()
    np.testing.assert_array_equal(by_expression["value"], by_tie["value"])
    np.testing.assert_array_equal(by_expression["stderr"], by_tie["stderr"])


def test_batched_refuses_a_non_linear_expression_and_lmfit_takes_it():
    recipe = Recipe.from_text(RECIPE)
    with pytest.raises(ConfigError, match=r"ps4_2p12_height by a non-linear expr.*engine='lmfit'"):
        fit(synthetic(m=1), recipe, engine="batched")
    assert (fit(synthetic(m=1), recipe, engine="lmfit").frame["engine"] == "lmfit").all()


def test_lmfit_never_receives_the_expression_text():
    model = compile_recipe(Recipe.from_text(RECIPE), np.linspace(168, 156, 50))
    _, parameters, _ = lmfit_model(model)
    assert "ps4_2p12_height" not in parameters
    assert all(p.expr is None or p.expr.startswith(("1.0 * ps4_", "1.0 * li2s_"))
               for p in parameters.values())


# ---------------------------------------------------------------------- hostile input
HOSTILE = [
    ("__import__('os').system('x')", "unexpected character"),
    ("__import__(ps4_height)", "unknown function '__import__'"),
    ("eval(ps4_height)", "unknown function 'eval'"),
    ("open('f')", "unexpected character"),
    ("open(ps4_height)", "unknown function 'open'"),
    ("ps4_center.__class__", "unexpected character '.'"),
    ("ps4_center[0]", "unexpected character '['"),
    ("(lambda: 1)()", "unexpected character ':'"),
    ("[x for x in ()]", "unexpected character '['"),
    ('\\"a\\"', "unexpected character '\"'"),
    ("1 if 1 else 2", "unexpected 'if' after a complete expression"),
    ("ps4_height, ps4_fwhm", "unexpected character ','"),
    ("ps4_height; import os", "unexpected character ';'"),
    ("ps4_heigth * 0.5", "reads 'ps4_heigth', which is not a parameter of this recipe; "
                         "did you mean 'ps4_height'?"),
    ("PS4_height", "reads 'PS4_height'"),  # names are case-sensitive
    ("background_level", "not a parameter of this recipe"),
    ("exp", "reads 'exp'"),  # a function name alone is not a value
    ("ps4_2p12_height + 1", "cycle through an expression: ps4_2p12_height -> ps4_2p12_height"),
    ("-" * 300 + "ps4_height", "nested deeper than 50 levels"),
    ("(" * 60 + "ps4_height" + ")" * 60, "nested deeper than 50 levels"),
    ("ps4_height" + "+1" * 300, "more than 200 nested operations"),
    ("ps4_height+" * 400 + "1", "longer than 2000 characters"),
    ("", "empty expression"),
    ("ps4_height *", "ends too early"),
]


def load_recording_calls(monkeypatch, text: str) -> tuple[ConfigError | None, list]:
    """Load ``text`` while recording every call of __import__ (beyond the package's own lazy
    imports), eval, exec, compile, open and os.system; return the error and the calls."""
    Recipe.from_text(RECIPE)  # warm every lazy import first
    calls: list[tuple[str, tuple]] = []

    def recording(name, original):
        def wrapper(*args, **kwargs):
            calls.append((name, args))
            return original(*args, **kwargs)
        return wrapper

    real_import = builtins.__import__

    def importing(module, *args, **kwargs):
        if not module.startswith(("specssb", "pydantic")):
            calls.append(("__import__", (module,)))
        return real_import(module, *args, **kwargs)

    error = None
    with monkeypatch.context() as patch:
        for name in ("eval", "exec", "compile", "open"):
            patch.setattr(builtins, name, recording(name, getattr(builtins, name)))
        patch.setattr(os, "system", recording("os.system", lambda *a: 0))
        patch.setattr(builtins, "__import__", importing)  # last: setattr itself imports
        try:
            Recipe.from_text(text, path="hostile.toml")
        except ConfigError as caught:
            error = caught
        seen = list(calls)
    return error, seen


@pytest.mark.parametrize(("expression", "says"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_expressions_are_config_errors_with_line_and_key(expression, says, monkeypatch):
    error, calls = load_recording_calls(monkeypatch, RECIPE.replace(PARTNER_HEIGHT, expression))
    assert calls == []
    assert error is not None and says in error.reason
    assert (error.path, error.line, error.key) == ("hostile.toml", HEIGHT_LINE, "height")
    assert str(error).startswith(f"hostile.toml line {HEIGHT_LINE} key 'height': ")


@pytest.mark.parametrize(
    ("replacement", "says"),
    [
        ('{expr = "ps4_height", min = 0}', "takes no min"),
        ('{expr = "ps4_height", tie = "ps4"}', "takes no tie"),
        ("{expr = 3}", "expr must be text"),
    ],
)
def test_expr_takes_nothing_else_and_must_be_text(replacement, says):
    text = RECIPE.replace(f'{{expr = "{PARTNER_HEIGHT}"}}', replacement)
    with pytest.raises(ConfigError, match=says) as caught:
        Recipe.from_text(text, path="r.toml")
    assert (caught.value.line, caught.value.key) == (HEIGHT_LINE, "height")


def test_a_cycle_of_an_expression_and_a_tie_is_refused():
    lines = RECIPE.split("\n")
    ps4_fwhm, li2s_fwhm = (i for i, line in enumerate(lines) if line.startswith("fwhm = {value"))
    lines[ps4_fwhm] = 'fwhm = {tie = "li2s"}'
    lines[li2s_fwhm] = 'fwhm = {expr = "ps4_fwhm * 2"}'
    with pytest.raises(ConfigError, match=r"cycle through an expression: .*li2s_fwhm.*ps4_fwhm") as caught:
        Recipe.from_text("\n".join(lines), path="loop.toml")
    assert (caught.value.line, caught.value.key) == (li2s_fwhm + 1, "fwhm")


# ---------------------------------------------------------------------- the evaluator
@pytest.mark.parametrize("text", ["sqrt(a) * exp(-b)", "log(a) / b ** 2", "abs(sin(a) - cos(b))",
                                  "a ** b", "-a ** 2 + pi"])
def test_forward_derivatives_match_finite_differences(text):
    tree = _expressions.parse_constraint(text)
    point = {"a": np.array([1.7, 2.3]), "b": np.array([0.4, 1.1])}
    seeds = {"a": np.array([[1.0, 0.0]] * 2), "b": np.array([[0.0, 1.0]] * 2)}
    value, gradient = _expressions.evaluate_with_gradient(tree, lambda n: (point[n], seeds[n]))
    np.testing.assert_allclose(value, _expressions.evaluate_constraint(tree, point.__getitem__))
    for k, name in enumerate("ab"):
        up = {**point, name: point[name] + 1e-7}
        down = {**point, name: point[name] - 1e-7}
        numeric = (_expressions.evaluate_constraint(tree, up.__getitem__)
                   - _expressions.evaluate_constraint(tree, down.__getitem__)) / 2e-7
        np.testing.assert_allclose(gradient[:, k], numeric, rtol=1e-6)


def test_precedence_follows_python_for_powers():
    evaluate = lambda text: float(_expressions.evaluate_constraint(  # noqa: E731
        _expressions.parse_constraint(text), {"a": 2.0}.__getitem__))
    assert evaluate("-a ** 2") == -4.0
    assert evaluate("2 ** 3 ** 2") == 512.0
    assert evaluate("a ** -1") == 0.5
    assert evaluate("9 ** 9 ** 9") == math.inf  # overflow is inf, not an exception


def test_the_evaluator_walks_only_its_own_node_kinds():
    with pytest.raises(ValueError, match="not an expression node"):
        _arithmetic.evaluate(("attr", ("name", "a"), "__class__"), lambda n: 1.0, {})


@pytest.mark.parametrize("module", [_arithmetic, _expressions])
def test_the_expression_modules_never_call_eval_exec_compile_or_import(module):
    tree = ast.parse(inspect.getsource(module))
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "open"}


def test_the_worked_example_of_the_fitting_page_loads():
    page = (Path(__file__).resolve().parents[2] / "docs" / "fitting.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", page, flags=re.S) if "expr =" in b)
    specs = {s.name: s for s in Recipe.from_text('technique = "xps"\n' + block,
                                                 path="example.toml").parameter_specs()}
    assert specs["ps4_2p12_center"].tie == Tie("ps4_center", 1.0, 1.18)
    assert specs["ps4_2p12_height"].expr == PARTNER_HEIGHT
