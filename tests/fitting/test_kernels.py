"""The fused line-shape kernels give the numpy line shapes' numbers (specssb.fitting._kernels)."""

from __future__ import annotations

import numpy as np
import pytest

from specssb.fitting import _kernels
from specssb.fitting.model import compile_recipe
from specssb.fitting.recipe import Recipe

pytestmark = pytest.mark.skipif(_kernels._compiled() is None, reason="numba is not installed")

SHAPE_PARAMETERS = {
    "gaussian": "",
    "lorentzian": "",
    "gl": "m = {value = 30, min = 0, max = 100}",
    "sgl": "m = {value = 40, min = 0, max = 100}",
}


def _recipe(shape: str, extra: str, background: str) -> Recipe:
    """Two components of one shape, the second tied to the first, and a background term."""
    return Recipe.from_text(f"""
name = "kernel-check"
technique = "xps"
[background]
kind = "{background}"
fitted = true
[[component]]
species = "main"
shape = "{shape}"
height = {{value = 100, min = 0}}
center = {{value = 161.5, min = 160, max = 163}}
fwhm = {{value = 1.1, min = 0.3, max = 3}}
{extra}
doublet = {{split = 1.18, ratio = 0.5}}
[[component]]
species = "other"
shape = "{shape}"
height = {{value = 40, min = 0}}
center = {{value = 160.2, min = 159, max = 161}}
fwhm = {{tie = "main"}}
{extra.replace("30,", "25,").replace("40,", "60,")}
""")


@pytest.mark.parametrize("shape", sorted(SHAPE_PARAMETERS))
@pytest.mark.parametrize("background", ["linear", "shirley"])
def test_fused_jacobian_and_envelope_equal_the_numpy_path(shape, background, monkeypatch):
    assert _kernels.fused_jacobian(shape) is not None
    x = np.linspace(168.0, 156.0, 240)
    recipe = _recipe(shape, SHAPE_PARAMETERS[shape], background)
    model = compile_recipe(recipe, x, np.full((1, x.size), 10.0))
    rng = np.random.default_rng(3)
    lower, upper = model.free_bounds()
    start = model.start(x, np.full((1, x.size), 10.0))[0]
    free = start * rng.uniform(0.9, 1.1, (7, start.size))
    free = np.clip(free, lower, upper)

    fused_envelope, fused_jac = model.envelope(x, free), model.jacobian(x, free)
    monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "0")
    assert _kernels.fused_jacobian(shape) is None and not model.jacobian_is_cheap
    numpy_envelope, numpy_jac = model.envelope(x, free), model.jacobian(x, free)

    scale = np.abs(numpy_envelope).max()
    assert np.abs(fused_envelope - numpy_envelope).max() <= 1e-12 * scale
    assert np.abs(fused_jac[0] - numpy_jac[0]).max() <= 1e-12 * scale
    for row in range(free.shape[1]):
        reference = numpy_jac[1][:, row]
        assert np.abs(fused_jac[1][:, row] - reference).max() <= 1e-12 * max(np.abs(reference).max(), 1e-300)


def test_trial_jacobian_only_when_it_is_cheap():
    x = np.linspace(168.0, 156.0, 50)
    linear = compile_recipe(_recipe("gl", SHAPE_PARAMETERS["gl"], "linear"), x, np.ones((1, 50)))
    shirley = compile_recipe(_recipe("gl", SHAPE_PARAMETERS["gl"], "shirley"), x, np.ones((1, 50)))
    assert linear.jacobian_is_cheap and not shirley.jacobian_is_cheap


def test_normal_equations_equal_stacked_matmul():
    rng = np.random.default_rng(3)
    jac, residual = rng.normal(size=(7, 5, 60)), rng.normal(size=(7, 60))
    weights = rng.uniform(0.5, 2.0, size=(7, 60))
    normal, gradient = _kernels.normal_equations(jac, residual, weights)
    weighted = jac * weights[:, None, :]
    np.testing.assert_allclose(normal, weighted @ weighted.transpose(0, 2, 1), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(gradient, (weighted @ (residual * weights)[:, :, None])[:, :, 0],
                               rtol=1e-13, atol=1e-12)
    assert np.array_equal(normal, normal.transpose(0, 2, 1))  # filled from one triangle


def test_fused_shirley_equals_the_numpy_iteration_bit_for_bit(monkeypatch):
    from specssb.fitting._xps_backgrounds import shirley

    rng = np.random.default_rng(4)
    x = np.linspace(170.0, 158.0, 240)  # decreasing binding energy, as instruments write it
    peak = 1000.0 * np.exp(-0.5 * ((x - 163.0) / 0.6) ** 2)
    step = 100.0 * np.cumsum(peak[::-1])[::-1] / peak.sum()
    y = 50.0 + peak + step + rng.normal(0.0, 5.0, (20, x.size))
    fused, fused_info = shirley(x, y, average=2, limits=(168.0, 159.0))
    monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "0")
    plain, plain_info = shirley(x, y, average=2, limits=(168.0, 159.0))
    assert np.array_equal(fused, plain)
    for key in ("k", "iterations", "converged"):
        assert np.array_equal(fused_info[key], plain_info[key])
    assert fused_info["iterations"].min() > 2  # the comparison covers several iterations


def test_fused_damped_step_equals_the_numpy_solve(monkeypatch):
    from specssb.fitting.solver import damped_step

    rng = np.random.default_rng(5)
    jac = rng.normal(size=(9, 6, 40))
    jac[:, 5] *= 1e-9  # a parameter with almost no effect: the floor keeps the matrix regular
    normal = jac @ jac.transpose(0, 2, 1)
    gradient = rng.normal(size=(9, 6))
    held = rng.random((9, 6)) < 0.2
    lam = 10.0 ** rng.uniform(-6, 2, 9)
    fused = damped_step(normal, gradient, held, lam)
    monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "0")
    plain = damped_step(normal, gradient, held, lam)
    np.testing.assert_allclose(fused, plain, rtol=1e-9, atol=1e-12 * np.abs(plain).max())
    assert np.all(fused[held] == 0.0)  # a held parameter does not move
