"""Shared checks of the fitting tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _jacobian_matches_central_differences(model, x: np.ndarray, free: np.ndarray) -> None:
    """Assert that ``model.jacobian(x, free)`` (one spectrum, shape (1, n_free)) matches central
    differences of the envelope it returns, column by column (relative step 1e-6)."""
    _, jac = model.jacobian(x, free)
    for j in range(model.n_free):
        step = 1e-6 * max(abs(free[0, j]), 1.0)
        up, down = free.copy(), free.copy()
        up[0, j] += step
        down[0, j] -= step
        numeric = (model.jacobian(x, up)[0] - model.jacobian(x, down)[0]) / (2 * step)
        np.testing.assert_allclose(jac[0, j], numeric[0], rtol=1e-5, atol=1e-6 * np.abs(numeric).max())


@pytest.fixture()
def assert_jacobian_matches_differences() -> Callable[..., None]:
    """The analytic-Jacobian check: ``check(model, x, free)``."""
    return _jacobian_matches_central_differences
