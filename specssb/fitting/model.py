"""A recipe compiled into one evaluable peak model with linear parameter ties.

Both engines use this object, so they fit exactly the same function:

* the batched Levenberg–Marquardt engine (:mod:`specssb.fitting.engine`) evaluates it and its
  analytic Jacobian for ``(n_spectra, n_points)`` at once;
* the lmfit engine wraps the same evaluation in an :class:`lmfit.Model`.

Parameters
----------
Every component parameter of the recipe is a *full* parameter named ``<component>_<name>``
(``li2s_center``). Each full parameter is either free, fixed, or tied linearly to another one
(``target = factor × source + offset``, as recipes write ties and doublets). Chains of ties are
resolved, so the full vector is an affine map of the free vector::

    full = M @ free + c        (M: one non-zero per row at most)

A recipe ``expr`` that is not affine in one parameter makes its parameter *derived*: its row of
``M`` and ``c`` is zero, and :meth:`CompiledModel.full` computes it afterwards from the other
full parameters by walking the parsed expression (:mod:`specssb.fitting._expressions`), in
dependency order. Its derivatives with respect to the free parameters (forward mode, exact)
enter the Jacobian and, by the delta method, the standard errors. A tie whose source is derived
is derived too.

Fitted backgrounds add their own full parameters (``background_level``, ``background_slope``,
``background_shirley``), free unless the recipe fixes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from specssb.errors import ConfigError
from specssb.fitting._expressions import (
    evaluate_constraint,
    evaluate_with_gradient,
    names_in,
    parse_constraint,
)
from specssb.fitting._kernels import component_arguments, fused_envelope, fused_jacobian

__all__ = ["CompiledModel", "FullParameter", "compile_recipe"]

#: Background terms that can be optimized inside the model, and their parameters.
FITTED_BACKGROUND_TERMS: Mapping[str, tuple[str, ...]] = {
    "none": (),
    "constant": ("background_level",),
    "linear": ("background_level", "background_slope"),
    "shirley": ("background_level", "background_shirley"),
}


@dataclass(frozen=True)
class FullParameter:
    """One model parameter after the recipe's ties are resolved.

    Attributes
    ----------
    name : str
        ``<component>_<parameter>`` or ``background_<term>``.
    component : str
        Component name, or ``"background"``.
    parameter : str
        Parameter of the line shape (``height``, ``center`` …) or background term.
    value, lower, upper : float
        Starting value (NaN for a height the recipe asks to guess from the data) and bounds
        (``-inf``/``inf`` when unbounded).
    free_index : int or None
        Index in the free vector, for a free parameter or one tied to a free parameter.
    factor, offset : float
        ``value = factor × free[free_index] + offset`` (``factor = 0`` for a fixed one).
    tie : str or None
        Human-readable tie, e.g. ``"0.5 * ps4_height"``, for the lmfit expression.
    expression : tuple or None
        For a derived parameter, its parsed expression over full parameter names
        (``free_index`` is then None and ``factor``, ``offset`` are 0).
    """

    name: str
    component: str
    parameter: str
    value: float
    lower: float
    upper: float
    free_index: int | None
    factor: float
    offset: float
    tie: str | None = None
    expression: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class _Component:
    name: str
    species: str
    shape_name: str
    columns: tuple[int, ...]  # full-parameter index of each of shape.parameters

    @property
    def shape(self) -> Any:
        """The :class:`~specssb.fitting.lineshapes.LineShape` (looked up by name, so a compiled
        model pickles to worker processes as plain data)."""
        from specssb.fitting.lineshapes import get_lineshape

        return get_lineshape(self.shape_name)


@dataclass
class CompiledModel:
    """A recipe as an evaluable model: components, background term, parameter map.

    Use :func:`compile_recipe` to build one.
    """

    components: list[_Component]
    parameters: list[FullParameter]
    background_term: str
    background_columns: tuple[int, ...]
    recipe_name: str = ""
    recipe_hash: str = ""
    _matrix: np.ndarray = field(init=False, repr=False)
    _constant: np.ndarray = field(init=False, repr=False)
    _derived: list[tuple[int, tuple[Any, ...]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_free = self.n_free
        matrix = np.zeros((len(self.parameters), n_free))
        constant = np.zeros(len(self.parameters))
        for i, p in enumerate(self.parameters):
            if p.free_index is not None:
                matrix[i, p.free_index] = p.factor
            constant[i] = p.offset
        self._matrix, self._constant = matrix, constant
        self._derived = _dependency_order(self.parameters)

    # ------------------------------------------------------------------ parameters
    @property
    def n_free(self) -> int:
        """Number of free parameters."""
        indices = [p.free_index for p in self.parameters if p.free_index is not None]
        return max(indices) + 1 if indices else 0

    @property
    def free_names(self) -> list[str]:
        """Name of each free parameter, in free-vector order."""
        names = [""] * self.n_free
        for p in self.parameters:
            if p.tie is None and p.free_index is not None:
                names[p.free_index] = p.name
        return names

    def free_start(self) -> np.ndarray:
        """Starting free vector from the recipe's values, shape (n_free,)."""
        start = np.zeros(self.n_free)
        for p in self.parameters:
            if p.tie is None and p.free_index is not None:
                start[p.free_index] = 0.0 if np.isnan(p.value) else p.value
        return start

    def start(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Starting free vectors for the spectra ``y`` (m, n): the recipe's values, and for
        each ``height = "guess"`` the documented guess below.

        Guess: the data (after any subtracted background) at the component's starting
        center, linearly interpolated, divided by the number of components whose starting
        centers lie within one starting FWHM of it (including doublet partners, whose heights
        follow by their ties), and clipped to the height's bounds.
        """
        y = np.atleast_2d(y)
        start = np.broadcast_to(self.free_start(), (y.shape[0], self.n_free)).copy()
        order = np.argsort(x)
        x_sorted, y_sorted = x[order], y[:, order]
        centers = {c.name: self._start_of(c, "center") for c in self.components}
        widths = {c.name: self._start_of(c, "fwhm") for c in self.components}
        for component in self.components:
            height = self.parameters[component.columns[0]]
            if not np.isnan(height.value) or height.free_index is None or height.tie is not None:
                continue
            center, width = centers[component.name], widths[component.name]
            crowd = sum(abs(other - center) <= width for other in centers.values() if np.isfinite(other))
            at_center = _interpolate_rows(x_sorted, y_sorted, center)
            guess = at_center / max(crowd, 1)
            start[:, height.free_index] = np.clip(guess, height.lower, height.upper)
        return start

    def _start_of(self, component: _Component, parameter: str) -> float:
        """Starting value of a component's parameter, following ties to their source."""
        index = component.shape.parameters.index(parameter)
        p = self.parameters[component.columns[index]]
        if p.expression is not None:
            return float(self.full(self.free_start()[None, :])[0, component.columns[index]])
        if p.free_index is None:
            return p.offset
        source = self.free_start()[p.free_index]
        return p.factor * source + p.offset

    def free_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the free vector."""
        lower, upper = np.full(self.n_free, -np.inf), np.full(self.n_free, np.inf)
        for p in self.parameters:
            if p.tie is None and p.free_index is not None:
                lower[p.free_index], upper[p.free_index] = p.lower, p.upper
        return lower, upper

    def full(self, free: np.ndarray) -> np.ndarray:
        """Full parameter vectors from free ones: ``(..., n_free) -> (..., n_full)``."""
        full = free @ self._matrix.T + self._constant
        return self.fill_expressions(full) if self._derived else full

    @property
    def expression_names(self) -> list[str]:
        """Names of the derived parameters (non-linear ``expr`` constraints), in model order."""
        return [p.name for p in self.parameters if p.expression is not None]

    def fill_expressions(self, full: np.ndarray) -> np.ndarray:
        """``full`` (..., n_full) with every derived parameter computed from the others."""
        if not self._derived:
            return full
        full = np.array(full, dtype=float)
        index = {p.name: j for j, p in enumerate(self.parameters)}
        for j, tree in self._derived:
            full[..., j] = evaluate_constraint(tree, lambda name: full[..., index[name]])
        return full

    def free_of(self, full: np.ndarray) -> np.ndarray:
        """The free vectors inside full ones: ``(..., n_full) -> (..., n_free)``."""
        columns = [0] * self.n_free
        for j, p in enumerate(self.parameters):
            if p.tie is None and p.expression is None and p.free_index is not None:
                columns[p.free_index] = j
        return np.asarray(full)[..., columns]

    def full_jacobian(self, free: np.ndarray) -> np.ndarray:
        """``∂full/∂free`` per spectrum, shape (m, n_full, n_free), from free vectors (m, n_free).

        The tie matrix for tied, fixed and free parameters; the exact derivative of its
        expression (forward mode) for a derived one.
        """
        free = np.atleast_2d(free)
        full = self.full(free)
        jacobian = np.broadcast_to(self._matrix, (free.shape[0], *self._matrix.shape)).copy()
        index = {p.name: j for j, p in enumerate(self.parameters)}
        for j, tree in self._derived:
            _, jacobian[:, j, :] = evaluate_with_gradient(
                tree, lambda name: (full[:, index[name]], jacobian[:, index[name], :]))
        return jacobian

    @property
    def tie_matrix(self) -> np.ndarray:
        """``M`` in ``full = M @ free + c``, shape (n_full, n_free)."""
        return self._matrix

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, x: np.ndarray, full: np.ndarray) -> dict[str, np.ndarray]:
        """Evaluate every part of the model.

        Parameters
        ----------
        x : ndarray of shape (n,)
            The spectral axis.
        full : ndarray of shape (m, n_full)
            Full parameter vectors, one row per spectrum.

        Returns
        -------
        dict
            ``components`` (m, k, n), ``peaks`` (m, n) their sum, ``background`` (m, n) the
            fitted background term (zeros when none), ``envelope`` (m, n).
        """
        full = np.atleast_2d(full)
        parts = np.stack(
            [c.shape.evaluate(x, *(full[:, j, None] for j in c.columns)) for c in self.components],
            axis=1,
        )
        peaks = parts.sum(axis=1)
        background = self._background(x, full, peaks)
        return {
            "components": parts,
            "peaks": peaks,
            "background": background,
            "envelope": peaks + background,
        }

    def _background(self, x: np.ndarray, full: np.ndarray, peaks: np.ndarray) -> np.ndarray:
        columns = self.background_columns
        if self.background_term == "none":
            return np.zeros_like(peaks)
        level = full[:, columns[0], None]
        if self.background_term == "constant":
            return np.broadcast_to(level, peaks.shape).copy()
        if self.background_term == "linear":
            return level + full[:, columns[1], None] * (x - x[0])
        return level + full[:, columns[1], None] * (peaks @ self._shirley(x).T)

    def _shirley(self, x: np.ndarray) -> np.ndarray:
        from specssb.fitting.backgrounds import shirley_operator

        cached = getattr(self, "_shirley_cache", None)
        if cached is None or cached[0].shape != x.shape or not np.array_equal(cached[0], x):
            cached = (np.array(x), shirley_operator(x))
            self._shirley_cache = cached
        return cached[1]

    def envelope(self, x: np.ndarray, free: np.ndarray) -> np.ndarray:
        """The model (peaks + fitted background) for free vectors ``(m, n_free) -> (m, n)``.

        Same numbers as ``evaluate(x, full(free))["envelope"]``, without keeping the
        components (the solver's trial steps only need their sum).
        """
        full = self.full(np.atleast_2d(free))
        peaks = np.zeros((full.shape[0], x.size))
        contiguous_x = np.ascontiguousarray(x, float)
        for c in self.components:
            fused = fused_envelope(c.shape_name)
            if fused is not None:
                fused(contiguous_x, component_arguments(full, c.columns), peaks)
            else:
                peaks += c.shape.evaluate(x, *(full[:, j, None] for j in c.columns))
        return peaks + self._background(x, full, peaks)

    def jacobian(self, x: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Envelope and its analytic Jacobian with respect to the free parameters.

        Each line shape's derivatives are added straight into the column of the free
        parameter they depend on (times the tie factor), so ties cost nothing here.

        Parameters
        ----------
        x : ndarray of shape (n,)
        free : ndarray of shape (m, n_free)

        Returns
        -------
        envelope : ndarray of shape (m, n)
        jacobian : ndarray of shape (m, n_free, n)
            One contiguous row per free parameter.
        """
        full = self.full(np.atleast_2d(free))
        m, n = full.shape[0], x.size
        jac = np.zeros((m, self.n_free, n))
        peaks = np.zeros((m, n))
        shirley = self.background_term == "shirley"
        d_peaks = np.zeros((m, self.n_free, n)) if shirley else jac
        contiguous_x = np.ascontiguousarray(x, float)
        derived = self.full_jacobian(free) if self._derived else None
        for c in self.components:
            fused = fused_jacobian(c.shape_name)
            uses_derived = any(self.parameters[j].expression is not None for j in c.columns)
            if fused is not None and not uses_derived:  # one compiled pass (see _kernels)
                index, factor = self._component_ties(c)
                fused(contiguous_x, component_arguments(full, c.columns), peaks, d_peaks, index, factor)
                continue
            args = [full[:, j, None] for j in c.columns]
            derivatives = c.shape.derivatives(x, *args)
            # every shape is height × a unit-height profile, and ∂y/∂height is that profile
            peaks += args[0] * derivatives[0]
            for j, derivative in zip(c.columns, derivatives):
                parameter = self.parameters[j]
                if parameter.expression is not None and derived is not None:  # chain rule
                    d_peaks += derived[:, j, :, None] * np.broadcast_to(derivative, (m, n))[:, None, :]
                elif parameter.free_index is not None:
                    d_peaks[:, parameter.free_index] += parameter.factor * derivative
        background = self._background(x, full, peaks)
        if self.background_term != "none":
            cols = [self.parameters[j].free_index for j in self.background_columns]
            if shirley:
                operator = self._shirley(x)
                scale = full[:, self.background_columns[1], None, None]
                jac += d_peaks + scale * (d_peaks @ operator.T)
                jac[:, cols[1]] = peaks @ operator.T
            elif self.background_term == "linear":
                jac[:, cols[1]] = x - x[0]
            jac[:, cols[0]] = 1.0
        return peaks + background, jac

    @property
    def jacobian_is_cheap(self) -> bool:
        """True when the Jacobian costs little more than the model itself: every component has
        a fused kernel (:mod:`specssb.fitting._kernels`) and no fitted Shirley term (whose
        Jacobian needs an (n, n) operator product). The solver then evaluates trial steps with
        the Jacobian and keeps it when the step is accepted."""
        return self.background_term != "shirley" and all(
            fused_jacobian(c.shape_name) is not None for c in self.components
        )

    def _component_ties(self, component: _Component) -> tuple[np.ndarray, np.ndarray]:
        """Free-parameter row (−1 when not free) and tie factor of each shape parameter."""
        parameters = [self.parameters[j] for j in component.columns]
        index = np.array([-1 if p.free_index is None else p.free_index for p in parameters], np.int64)
        factor = np.array([p.factor if p.free_index is not None else 0.0 for p in parameters])
        return index, factor

    def areas(self, full: np.ndarray) -> np.ndarray:
        """Area of each component, shape (m, k) (see each line shape's ``area``)."""
        full = np.atleast_2d(full)
        return np.stack(
            [np.asarray(c.shape.area(*(full[:, j] for j in c.columns)), float) for c in self.components],
            axis=1,
        )


def _dependency_order(parameters: list[FullParameter]) -> list[tuple[int, tuple[Any, ...]]]:
    """Derived parameters as ``(column, expression)``, each after the derived ones it reads."""
    index = {p.name: j for j, p in enumerate(parameters)}
    order: list[tuple[int, tuple[Any, ...]]] = []
    placed: set[int] = set()

    def place(j: int, seen: tuple[int, ...]) -> None:
        tree = parameters[j].expression
        if j in placed or tree is None:
            return
        if j in seen:
            raise ConfigError(f"expression cycle through {parameters[j].name}",
                              key=parameters[j].name)
        for name in sorted(names_in(tree)):
            place(index[name], (*seen, j))
        placed.add(j)
        order.append((j, tree))

    for j in range(len(parameters)):
        place(j, ())
    return order


def _interpolate_rows(x: np.ndarray, y: np.ndarray, at: float) -> np.ndarray:
    """Every row of ``y`` (m, n) linearly interpolated at ``at`` on the increasing axis ``x``
    (what ``np.interp`` gives row by row, ends held constant)."""
    if at <= x[0]:
        return y[:, 0].copy()
    if at >= x[-1]:
        return y[:, -1].copy()
    right = int(np.searchsorted(x, at, side="right"))
    left = right - 1
    t = (at - x[left]) / (x[right] - x[left])
    return y[:, left] + t * (y[:, right] - y[:, left])


def compile_recipe(recipe: Any, x: np.ndarray, y: np.ndarray | None = None) -> CompiledModel:
    """Compile a :class:`~specssb.fitting.recipe.Recipe` into a :class:`CompiledModel`.

    Parameters
    ----------
    recipe : Recipe
    x : ndarray of shape (n,)
        The axis the model will be evaluated on (for the fitted-background start values).
    y : ndarray of shape (m, n), optional
        Data, used only to start a fitted background's level at the median of the first and
        last 5 % of the channels (documented guess, recorded in the table), over at most
        4,096 evenly spaced spectra.

    Raises
    ------
    ConfigError
        For a background that cannot be fitted inside the model, or a tie that cannot be
        resolved.
    """
    from specssb.fitting.lineshapes import get_lineshape

    specs = list(recipe.parameter_specs())
    by_name = {s.name: s for s in specs}
    order = {s.name: i for i, s in enumerate(specs)}
    free_index: dict[str, int] = {}
    for spec in specs:
        if spec.tie is None and spec.vary:
            free_index[spec.name] = len(free_index)

    def resolve(name: str, seen: tuple[str, ...] = ()) -> tuple[int | None, float, float] | None:
        """``(free index, factor, offset)``, or None for a derived parameter."""
        if name in seen:
            raise ConfigError(f"tie cycle through {' -> '.join((*seen, name))}", key=name)
        spec = by_name[name]
        if getattr(spec, "expr", None) is not None:
            return None
        if spec.tie is None:
            if spec.vary:
                return free_index[name], 1.0, 0.0
            return None, 0.0, float(spec.value)
        resolved = resolve(spec.tie.source, (*seen, name))
        if resolved is None:
            return None
        index, factor, offset = resolved
        return index, spec.tie.factor * factor, spec.tie.factor * offset + spec.tie.offset

    parameters: list[FullParameter] = []
    for spec in specs:
        resolved = resolve(spec.name)
        tie = None
        if spec.tie is not None:
            tie = f"{spec.tie.factor!r} * {spec.tie.source} + {spec.tie.offset!r}"
        index, factor, offset = (None, 0.0, 0.0) if resolved is None else resolved
        parameters.append(
            FullParameter(
                name=spec.name, component=spec.component, parameter=spec.parameter,
                value=np.nan if spec.value is None else float(spec.value),
                lower=_bound(spec.min, -np.inf),
                upper=_bound(spec.max, np.inf), free_index=index, factor=factor,
                offset=offset, tie=None if resolved is None else tie,
                expression=None if resolved is not None else _derived_expression(spec),
            )
        )
    components = []
    for component in recipe.components():
        shape = get_lineshape(component.shape)
        columns = []
        for parameter in shape.parameters:
            name = f"{component.name}_{parameter}"
            if name not in order:
                raise ConfigError(
                    f"component {component.name!r} has no value for {parameter!r}", key=name
                )
            columns.append(order[name])
        components.append(_Component(component.name, component.species, shape.name, tuple(columns)))
    term = _background_term(recipe)
    background_columns = []
    for term_name in FITTED_BACKGROUND_TERMS[term]:
        start = _background_start(term_name, x, y)
        background_columns.append(len(parameters))
        parameters.append(
            FullParameter(
                name=term_name, component="background", parameter=term_name.split("_", 1)[1],
                value=start, lower=0.0 if term_name == "background_shirley" else -np.inf,
                upper=np.inf, free_index=len(free_index), factor=1.0, offset=0.0,
            )
        )
        free_index[term_name] = len(free_index)
    return CompiledModel(
        components=components,
        parameters=parameters,
        background_term=term,
        background_columns=tuple(background_columns),
        recipe_name=getattr(recipe, "name", "") or "",
        recipe_hash=getattr(recipe, "hash", "") or "",
    )


def _bound(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _derived_expression(spec: Any) -> tuple[Any, ...]:
    """The expression tree of a derived parameter: its own ``expr``, or its tie to a derived
    source written as ``factor * source + offset``."""
    if getattr(spec, "expr", None) is not None:
        return parse_constraint(spec.expr)
    tie = spec.tie
    return ("+", ("*", ("num", float(tie.factor)), ("name", tie.source)), ("num", float(tie.offset)))


def _background_term(recipe: Any) -> str:
    background = getattr(recipe, "background", None)
    if background is None or not getattr(background, "fitted", False):
        return "none"
    kind = background.kind
    if kind not in FITTED_BACKGROUND_TERMS:
        raise ConfigError(
            f"background {kind!r} cannot be optimized inside the model; fitted terms: "
            f"{', '.join(k for k in FITTED_BACKGROUND_TERMS if k != 'none')}",
            key="background.kind",
        )
    return str(kind)


#: Spectra of a batch that seed a fitted background level (evenly spaced through larger ones).
_LEVEL_SAMPLE = 4096


def _background_start(term: str, x: np.ndarray, y: np.ndarray | None) -> float:
    """Documented starting values of fitted background terms."""
    if term == "background_level":
        if y is None:
            return 0.0
        rows = np.atleast_2d(y)
        if len(rows) > _LEVEL_SAMPLE:  # a large map: evenly spaced rows, not a copy of all
            rows = rows[:: -(-len(rows) // _LEVEL_SAMPLE)]
        edge = max(1, rows.shape[-1] // 20)
        ends = np.concatenate([rows[:, :edge], rows[:, -edge:]], axis=1)
        return float(np.median(ends))
    if term == "background_shirley":
        return 0.01
    return 0.0

