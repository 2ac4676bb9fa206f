"""The batched Levenberg–Marquardt solver against scipy on many small problems at once."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from specssb.fitting.solver import levenberg_marquardt

T = np.linspace(0.0, 5.0, 80)


def decay(free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y = a exp(-k t) + c with its analytic Jacobian, for rows of (a, k, c)."""
    a, k, c = (free[:, i, None] for i in range(3))
    e = np.exp(-k * T)
    model = a * e + c
    jac = np.stack([e, -a * T * e, np.ones_like(e)], axis=1)
    return model, jac


def data(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.column_stack([rng.uniform(1, 3, m), rng.uniform(0.5, 2, m), rng.uniform(-0.2, 0.2, m)])
    y = decay(truth)[0] + rng.normal(0, 0.01, (m, T.size))
    return truth, y


def test_batched_solution_equals_scipy_per_spectrum():
    truth, y = data(50)
    lower, upper = np.array([0.0, 0.0, -1.0]), np.array([10.0, 10.0, 1.0])
    result = levenberg_marquardt(decay, y, np.array([1.0, 1.0, 0.0]), lower, upper)
    assert result.converged.all()
    for i in range(len(y)):
        reference = least_squares(
            lambda p: decay(p[None])[0][0] - y[i], [1.0, 1.0, 0.0], method="lm", xtol=1e-15, ftol=1e-15
        )
        np.testing.assert_allclose(result.free[i], reference.x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(result.free, truth, atol=0.05)


def test_standard_errors_match_the_scaled_covariance_of_scipy():
    _, y = data(3, seed=1)
    result = levenberg_marquardt(decay, y, np.array([1.0, 1.0, 0.0]), np.full(3, -np.inf), np.full(3, np.inf))
    for i in range(3):
        reference = least_squares(lambda p: decay(p[None])[0][0] - y[i], result.free[i], method="lm")
        jac = reference.jac
        covariance = np.linalg.inv(jac.T @ jac) * (2 * reference.cost) / (T.size - 3)
        np.testing.assert_allclose(result.covariance[i], covariance, rtol=1e-4)


def test_bounds_are_respected_and_binding():
    _, y = data(5, seed=2)
    upper = np.array([10.0, 0.3, 1.0])  # below every true rate: the rate sticks at the bound
    result = levenberg_marquardt(decay, y, np.array([1.0, 0.1, 0.0]), np.array([0.0, 0.0, -1.0]), upper)
    assert np.all(result.free[:, 1] <= 0.3) and np.allclose(result.free[:, 1], 0.3)


def test_step_limit_reports_non_convergence():
    _, y = data(4, seed=3)
    result = levenberg_marquardt(decay, y, np.array([5.0, 5.0, 0.5]), np.full(3, -np.inf),
                                 np.full(3, np.inf), max_iterations=2)
    assert not result.converged.any() and np.all(result.iterations == 2)


@pytest.mark.parametrize("weights", [None, "uniform"])
def test_weights_scale_chi_square(weights):
    _, y = data(2, seed=4)
    w = None if weights is None else np.full(y.shape, 2.0)
    result = levenberg_marquardt(decay, y, np.array([1.0, 1.0, 0.0]), np.full(3, -np.inf), np.full(3, np.inf), weights=w)
    plain = levenberg_marquardt(decay, y, np.array([1.0, 1.0, 0.0]), np.full(3, -np.inf), np.full(3, np.inf))
    factor = 1.0 if weights is None else 4.0
    np.testing.assert_allclose(result.chisqr, factor * plain.chisqr, rtol=1e-8)
    np.testing.assert_allclose(result.free, plain.free, rtol=1e-7)


def test_parameters_of_very_different_size_converge_quickly():
    """A peak height of 1e8 beside a centre of 1: the damped step is solved in Jacobi scaling.

    An absolute floor added to every diagonal element (relative to the largest one) once froze
    the small parameters, and this fit crawled for 1000 iterations without converging.
    """
    x = np.linspace(-100.0, 400.0, 1500)

    def model(free):
        h1, c1, w1, h2, c2, w2, level, slope = free.T[..., None]
        lor = lambda h, c, w: h / (1.0 + 4.0 * ((x - c) / w) ** 2)  # noqa: E731
        return lor(h1, c1, w1) + lor(h2, c2, w2) + level + slope * x

    def jacobian(free):
        eps = 1e-6 * np.maximum(np.abs(free), 1e-3)
        columns = [(model(free + e) - model(free - e)) / (2 * e[:, [j]])
                   for j, e in ((j, np.where(np.arange(free.shape[1]) == j, eps, 0.0)) for j in range(free.shape[1]))]
        return model(free), np.stack(columns, axis=1)

    truth = np.array([[9.8e7, 1.19, 4.18, 1.02e7, 258.0, 8.08, 1.2e6, -19.5]])
    y = model(truth) + np.random.default_rng(1).normal(0.0, 3e5, x.size)
    start = np.array([[9.0e7, 1.0, 5.0, 0.8e7, 258.0, 10.0, 1.0e6, 0.0]])
    lower = np.array([0, -5, 0.2, 0, 240, 1, -np.inf, -np.inf], float)
    upper = np.array([np.inf, 5, 40, np.inf, 280, 60, np.inf, np.inf], float)
    result = levenberg_marquardt(jacobian, y, start, lower, upper)
    assert result.converged[0] and result.iterations[0] < 50
    np.testing.assert_allclose(result.free[0, [1, 2, 4, 5]], truth[0, [1, 2, 4, 5]], rtol=0.02)


def test_a_parameter_at_its_bound_that_the_coupled_step_would_push_out_is_held():
    """Parameter 0 sits at its lower bound with an inward gradient, but through its coupling to
    parameter 1 the damped step moves it outward: it is held and the step solved again."""
    from specssb.fitting.solver import _bounded_step, damped_step

    normal = np.array([[[1.0, 0.9], [0.9, 1.0]]])
    gradient = np.array([[0.1, 1.0]])
    held = np.zeros((1, 2), bool)
    lam = np.array([1e-3])
    theta, lower, upper = np.array([[0.0, 5.0]]), np.array([0.0, -10.0]), np.array([10.0, 10.0])
    assert damped_step(normal, gradient, held, lam)[0, 0] < 0  # outward, would be clipped
    step = _bounded_step(normal, gradient, held, lam, theta, lower, upper)
    assert step[0, 0] == 0.0
    np.testing.assert_allclose(step[0, 1], 1.0 / (1.0 + 1e-3 + 1e-12), rtol=1e-9)
