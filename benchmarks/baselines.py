"""The per-spectrum loops the batched engine is compared with (used by :mod:`benchmarks.fit`).

Every loop fits the same compiled model (:func:`specssb.fitting.model.compile_recipe`) from the
same start values and bounds as :func:`specssb.fitting.engine.fit`, subtracting the recipe's
background per spectrum when the recipe subtracts one, and returns the best-fit *full*
parameter vectors, so the answers can be compared number by number.

``lmfit_composite_loop``
    lmfit as people write it: one :class:`lmfit.Model` per peak (``prefix="<species>_"``),
    summed with ``+``, ties as parameter expressions, a fitted linear background as lmfit's
    ``LinearModel``, and ``Model.fit`` with lmfit's defaults (``leastsq``, finite-difference
    Jacobian). This is the "standard tool" of ``../shared/notes/performance.md`` §1 (there:
    four linked pseudo-Voigts plus a Shirley loop, 9.6 S 2p spectra/s) and of the issue's
    targets.
``lmfit_defaults_loop``
    lmfit driving the project's own compiled model (one model function for the whole
    envelope) with ``method="least_squares"`` and lmfit's default tolerances and
    finite-difference Jacobian.
``scipy_loop``
    :func:`scipy.optimize.least_squares` (TRF, bounds) with the compiled model's analytic
    Jacobian: the leanest per-spectrum loop, no table.

lmfit's default ``leastsq`` cannot move a parameter that starts at the exact middle of its
bounds (see :mod:`specssb.fitting.engine`); the benchmark recipes start their centers off the
middle so that the composite loop is a fair, working lmfit fit.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["lmfit_composite_loop", "lmfit_defaults_loop", "scipy_loop"]


def _fitted_rows(spectrum: Any, recipe: Any) -> tuple[np.ndarray, np.ndarray]:
    """The axis and the (m, n) rows inside the recipe's ``[select] window``."""
    from specssb.fitting.engine import _window

    x = spectrum.axis.values
    return _window(recipe, x, spectrum.data.reshape(-1, x.size))


def _subtracts(recipe: Any) -> bool:
    background = recipe.background
    return background is not None and not background.fitted and background.kind != "none"


def _minus_background(recipe: Any, x: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The row less the recipe's subtracted background (unchanged when it is fitted or none)."""
    from specssb.fitting.backgrounds import get_background

    if not _subtracts(recipe):
        return row
    background = recipe.background
    return row - get_background(background.kind)(x, row, **background.options)[0]


# ------------------------------------------------------------------- lmfit, as people write it
def _peak_function(shape: Any) -> Any:
    """A plain function ``f(x, height, center, fwhm, …)`` of one line shape, for lmfit.Model."""

    def peak(x: np.ndarray, **values: float) -> np.ndarray:
        return shape.evaluate(x, *(values[name] for name in shape.parameters))

    peak.__name__ = shape.name
    peak.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=1.0)
           for name in shape.parameters]
    )
    return peak


def lmfit_composite(model: Any, x: np.ndarray) -> tuple[Any, Any, list[str]]:
    """The compiled model rebuilt the way an lmfit user builds it.

    Returns
    -------
    composite : lmfit.Model
        Sum of one prefixed Model per component (and ``LinearModel`` or ``ConstantModel`` for a
        fitted linear or constant background; its intercept is referred to ``x[0]``).
    parameters : lmfit.Parameters
        Free parameters with the recipe's bounds, ties as expressions, fixed ones ``vary=False``.
    free_names : list of str
        lmfit names of the free parameters, in the compiled model's free-vector order.
    """
    import lmfit

    composite = None
    for component in model.components:
        part = lmfit.Model(_peak_function(component.shape), prefix=f"{component.name}_")
        composite = part if composite is None else composite + part
    if model.background_term not in ("none", "constant", "linear"):
        raise NotImplementedError(f"no lmfit counterpart for a fitted {model.background_term!r} term")
    if model.background_term != "none":
        kind = lmfit.models.LinearModel if model.background_term == "linear" else lmfit.models.ConstantModel
        composite = composite + kind(prefix="background_")
    parameters = composite.make_params()
    lmfit_name = {"background_level": "background_c" if model.background_term == "constant"
                  else "background_intercept", "background_slope": "background_slope"}
    names = {p.name: lmfit_name.get(p.name, p.name) for p in model.parameters}
    free_names = [names[name] for name in model.free_names]
    for p in model.parameters:
        target = parameters[names[p.name]]
        if p.free_index is None:
            target.set(value=p.offset, vary=False)
        elif p.tie is None:
            target.set(value=0.0 if np.isnan(p.value) else p.value, min=p.lower, max=p.upper)
        else:
            target.set(expr=f"{p.factor!r} * {free_names[p.free_index]} + {p.offset!r}")
    return composite, parameters, free_names


def lmfit_composite_loop(spectrum: Any, recipe: Any) -> np.ndarray:
    """Fit each spectrum with :func:`lmfit_composite` and ``Model.fit`` at lmfit's defaults.

    Returns
    -------
    ndarray of shape (m, n_full)
        Best-fit full parameter vectors (a linear background's intercept converted back to the
        compiled model's level at ``x[0]``).
    """
    from specssb.fitting.model import compile_recipe

    x, rows = _fitted_rows(spectrum, recipe)
    model = compile_recipe(recipe, x, None if _subtracts(recipe) else rows)
    composite, parameters, free_names = lmfit_composite(model, x)
    level = "background_intercept" if model.background_term == "linear" else None
    free = np.empty((len(rows), model.n_free))
    for i, row in enumerate(rows):
        data = _minus_background(recipe, x, row)
        start = model.start(x, data[None])[0]
        for name, value in zip(free_names, start):
            parameters[name].set(value=value)
        if level is not None:  # start and report the level at x[0], as the compiled model does
            parameters[level].set(value=start[free_names.index(level)]
                                  - start[free_names.index("background_slope")] * x[0])
        result = composite.fit(data, parameters, x=x)
        values = dict(result.params.valuesdict())
        if level is not None:
            values[level] += values["background_slope"] * x[0]
        free[i] = [values[name] for name in free_names]
    return model.full(free)


# ------------------------------------------------------------------- lmfit on the compiled model
def lmfit_defaults_loop(spectrum: Any, recipe: Any) -> np.ndarray:
    """lmfit on the project's compiled model: ``Model.fit(method="least_squares")`` with lmfit's
    default tolerances and finite-difference Jacobian.

    Returns
    -------
    ndarray of shape (m, n_full)
    """
    from specssb.fitting.engine import lmfit_model
    from specssb.fitting.model import compile_recipe

    x, rows = _fitted_rows(spectrum, recipe)
    model = compile_recipe(recipe, x, None if _subtracts(recipe) else rows)
    lm_model, parameters, free_names = lmfit_model(model)
    free = np.empty((len(rows), model.n_free))
    for i, row in enumerate(rows):
        data = _minus_background(recipe, x, row)
        for name, value in zip(free_names, model.start(x, data[None])[0]):
            parameters[name].set(value=value)
        result = lm_model.fit(data, parameters, x=x, method="least_squares")
        free[i] = [result.params[name].value for name in free_names]
    return model.full(free)


# ------------------------------------------------------------------------------ scipy
class _OneSpectrum:
    """Residual and analytic Jacobian of one spectrum, evaluated once per parameter vector."""

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray) -> None:
        self.model, self.x, self.y = model, x, y
        self.free: np.ndarray | None = None

    def _at(self, free: np.ndarray) -> None:
        if self.free is None or not np.array_equal(free, self.free):
            envelope, jacobian = self.model.jacobian(self.x, free[None])
            self.free, self.r, self.j = free.copy(), envelope[0] - self.y, jacobian[0].T

    def residual(self, free: np.ndarray) -> np.ndarray:
        self._at(free)
        return self.r

    def jacobian(self, free: np.ndarray) -> np.ndarray:
        self._at(free)
        return self.j


def scipy_loop(spectrum: Any, recipe: Any) -> tuple[np.ndarray, Any]:
    """Fit every spectrum on its own with :func:`scipy.optimize.least_squares` (TRF, bounds,
    analytic Jacobian, scipy's default tolerances 1e-8). No table is built.

    Returns
    -------
    full : ndarray of shape (m, n_full)
        Best-fit full parameter vectors.
    model : CompiledModel
    """
    from scipy.optimize import least_squares

    from specssb.fitting.model import compile_recipe

    x, rows = _fitted_rows(spectrum, recipe)
    model = compile_recipe(recipe, x, None if _subtracts(recipe) else rows)
    lower, upper = model.free_bounds()
    free = np.empty((len(rows), model.n_free))
    for i, row in enumerate(rows):
        data = _minus_background(recipe, x, row)
        start = np.clip(model.start(x, data[None])[0], lower, upper)
        problem = _OneSpectrum(model, x, data)
        free[i] = least_squares(problem.residual, start, jac=problem.jacobian,
                                bounds=(lower, upper), method="trf").x
    return model.full(free), model
