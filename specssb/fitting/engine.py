"""`fit()`: fit Spectra with a recipe on the batched engine or on lmfit.

Both engines fit the same :class:`~specssb.fitting.model.CompiledModel` with the same starting
values, bounds and ties, so they agree to the solvers' tolerances (a test asserts 1e-5
relative on every parameter):

``batched``
    :func:`~specssb.fitting.solver.levenberg_marquardt` on all spectra of one axis at once, with
    the model's analytic Jacobian. The default for series and maps.
``lmfit``
    An :class:`lmfit.Model` per spectrum: the reference path. It runs lmfit's
    ``least_squares`` method (scipy's trust-region reflective solver, bounds handled natively)
    with tolerances of 1e-12 and the compiled model's analytic Jacobian (lmfit's ``jac``
    option). Finite differences limited the reference's own precision: on a fitted linear
    background whose slope is 1 % of its standard error, lmfit's finite-difference answer sat
    7.6e-6 (relative) away from the exact linear least-squares slope at its own line
    parameters, the batched engine's 3.6e-11 away.

    lmfit's default method, ``leastsq`` (MINPACK), is not used: MINPACK's finite-difference
    step is relative to the *internal* (bound-transformed) parameter value, which is ~1e-16
    for a parameter that starts at the exact middle of its bounds (``arcsin(0)``), so the step
    is below one ulp of the parameter and its Jacobian column is zero. Such a parameter never
    moves (seen on the S 2p recipes, whose centers often start mid-range).
``auto``
    ``batched``; a recipe the batched engine cannot express falls back to ``lmfit`` with a
    message in the table's ``engine`` column: today a recipe with a non-linear ``expr``
    constraint (``"lmfit (auto: non-linear expr constraint on li2s_height)"``). Asked for
    explicitly, ``batched`` refuses such a recipe with a :class:`~specssb.errors.ConfigError`.

Expression constraints
    An ``expr`` affine in one parameter is an ordinary tie (both engines). A non-linear one is
    computed by the compiled model itself from the free parameters (our own tree walker, see
    :mod:`specssb.fitting._expressions`); lmfit only ever sees the free, fixed and linearly
    tied parameters, so no recipe text reaches lmfit's asteval interpreter.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from specssb._allocator import keep_freed_memory
from specssb._file_views import (
    SHARE_FROM_BYTES,
    FileView,
    file_view,
    row_views,
    shared_copy,
    shared_output,
)
from specssb._memory import check_allocation, memory_limit
from specssb.errors import ConfigError, ConvergenceWarning, FitError
from specssb.fitting._chunk_results import ChunkResults, ResultLayout
from specssb.fitting.backgrounds import recipe_baseline
from specssb.fitting.model import CompiledModel, compile_recipe
from specssb.fitting.result import FitBatch, FitTable, SpectrumLabels, spectrum_statistics
from specssb.fitting.solver import levenberg_marquardt
from specssb.parallel import cluster_snapshot, map_chunks, plan_chunks, shares_files, workers_see
from specssb.spectrum import Spectrum, is_mapped

__all__ = ["ENGINES", "fit"]

ENGINES = ("auto", "batched", "lmfit")


def fit(
    spectra: Spectrum | Sequence[Spectrum],
    recipe: Any,
    *,
    engine: str = "auto",
    weights: str | None = None,
    max_iterations: int = 200,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int | None = None,
) -> FitTable:
    """Fit every spectrum with a recipe.

    Parameters
    ----------
    spectra : Spectrum or sequence of Spectrum
        1-D spectra, series or maps; every 1-D spectrum they hold is fitted. Spectra on the
        same axis are fitted together in one batch.
    recipe : Recipe, str or Path
        A :class:`~specssb.fitting.recipe.Recipe`, a built-in recipe name or a TOML file.
    engine : {"auto", "batched", "lmfit"}
        See the module docstring.
    weights : {None, "poisson"}
        ``None``: unweighted least squares. ``"poisson"``: residuals divided by
        ``sqrt(max(y, 1))`` (counting statistics of raw counts).
    max_iterations : int
        Per-spectrum step limit of the batched engine.
    workers : int, default 1
        Local worker processes (see :mod:`specssb.parallel`).
    scheduler : str, optional
        dask.distributed scheduler address, or ``"local"`` for a local cluster of ``workers``.
    chunk_size : int, optional
        Spectra per chunk of work (default: about four chunks per worker).

    Returns
    -------
    FitTable

    Raises
    ------
    ConfigError
        Unknown engine or weights, or a recipe that does not compile.
    FitError
        Data the model cannot be fitted to (non-finite values, fewer points than parameters).

    Warns
    -----
    ConvergenceWarning
        When spectra did not converge; they carry ``converged=False`` in the table.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {ENGINES}", key="engine")
    if weights not in (None, "poisson"):
        raise ConfigError(f"unknown weights {weights!r}; choose None or 'poisson'", key="weights")
    recipe = _as_recipe(recipe)
    if not getattr(recipe, "component", None):
        hint = (" (an XAS recipe runs its [steps] with specssb.fitting.xas.analyze)"
                if getattr(recipe, "technique", None) == "xas" else "")
        raise ConfigError(f"recipe {getattr(recipe, 'name', '?')!r} has no [[component]] to fit{hint}",
                          key="component")
    groups = _group_by_axis([spectra] if isinstance(spectra, Spectrum) else list(spectra))
    with cluster_snapshot():  # a dask cluster is asked for its workers once
        batches = [_fit_group(group, recipe, engine, weights, max_iterations, workers, scheduler,
                              chunk_size) for group in groups]
    failed = sum(int((~b.converged).sum()) for b in batches)
    if failed:
        warnings.warn(
            f"{failed} of {sum(len(b.labels) for b in batches)} spectra did not converge; "
            "they are marked converged=False",
            ConvergenceWarning,
            stacklevel=2,
        )
    return FitTable(batches)


def _fit_group(
    group: tuple[np.ndarray, np.ndarray, SpectrumLabels, str, str, str], recipe: Any, engine: str,
    weights: str | None, max_iterations: int, workers: int, scheduler: str | None,
    chunk_size: int | None,
) -> FitBatch:
    """Fit the spectra of one axis (:func:`_group_by_axis`), chunk by chunk, wherever they run."""
    x, y, labels, axis_name, axis_unit, signal_unit = group
    x, y = _window(recipe, x, y)
    slices = plan_chunks(len(y), workers=workers, chunk_size=chunk_size, points=x.size)
    _check_finite(y, labels, slices)
    # y only seeds a fitted background's level here, and a fitted background is never
    # subtracted as well, so the raw data serve (the chunks subtract their own baseline)
    model = compile_recipe(recipe, x, y)
    if y.shape[1] <= model.n_free:
        raise FitError(f"{y.shape[1]} points cannot fit {model.n_free} free parameters")
    chosen, label = _engine_for(model, engine)
    _check_working_memory(model, slices, x.size, workers=1 if scheduler else workers)
    background = getattr(recipe, "background", None)
    # each chunk is a view of y, read when it runs; workers on this machine get the rows'
    # place in a file (a FileView) instead of their bytes (the map's own file when it is kept
    # on disk, a shared-memory copy of the fitted rows when it is held in memory), and write
    # their results into a shared file instead of returning them
    with _rows_for_workers(y, workers, scheduler) as (sent, by_place), \
            _results_from_workers(model, slices, by_place, workers, scheduler) as (outputs, collect):
        chunks = [(model, background, x, _chunk_rows(sent[s], by_place), weights, chosen,
                   max_iterations, output) for s, output in zip(slices, outputs)]
        full, covariance, converged, redchi, statistics = collect(
            map_chunks(_solve_chunk, chunks, workers=workers, scheduler=scheduler))
    return FitBatch(model, x, y, background, full, covariance, converged, redchi, labels,
                    axis_name, axis_unit, signal_unit, label, statistics)


def _check_working_memory(model: CompiledModel, slices: Sequence[slice], points: int, *,
                          workers: int) -> None:
    """Refuse chunks whose working arrays (on this machine, all running at once) exceed the
    memory ceiling (:mod:`specssb._memory`), before any is allocated.

    Per chunk of ``m`` spectra of ``n`` points and ``p`` free of ``q`` parameters the solver
    holds about ``m·n·(p + q + 6)`` float64 values (Jacobians, model, residual, data, baseline,
    weights) and ``4·m·p²`` for the normal equations; an upper estimate, not a measurement.
    """
    if not slices:
        return
    rows = max(s.stop - s.start for s in slices)
    p, q = model.n_free, len(model.parameters)
    per_chunk = 8.0 * rows * (points * (p + q + 6) + 4 * p * p)
    running = max(1, min(workers, len(slices)))
    check_allocation(running * per_chunk,
                     f"fit working arrays ({running} chunk(s) of {rows} spectra × {points} points × "
                     f"{p} free parameters; a smaller chunk_size or fewer workers need less)")


def _engine_for(model: CompiledModel, engine: str) -> tuple[str, str]:
    """The engine that runs ``model``, and the label of the table's ``engine`` column.

    Raises
    ------
    ConfigError
        ``engine="batched"`` for a model with non-linear expression constraints.
    """
    if engine == "lmfit":
        return "lmfit", "lmfit"
    derived = model.expression_names
    if not derived:
        return "batched", "batched"
    listed = ", ".join(derived[:3]) + (f" and {len(derived) - 3} more" if len(derived) > 3 else "")
    if engine == "batched":
        raise ConfigError(
            f"the batched engine fits linear ties only; recipe {model.recipe_name!r} constrains "
            f"{listed} by a non-linear expr: use engine='lmfit' (or 'auto', which falls back "
            "to lmfit), or write the constraint as a linear tie", key="engine")
    return "lmfit", f"lmfit (auto: non-linear expr constraint on {listed})"


def _as_recipe(recipe: Any) -> Any:
    if isinstance(recipe, (str, Path)):
        from specssb.fitting.recipe import load_recipe

        return load_recipe(recipe)
    return recipe


def _group_by_axis(
    spectra: list[Spectrum],
) -> list[tuple[np.ndarray, np.ndarray, SpectrumLabels, str, str, str]]:
    """Flatten every spectrum to rows of (m, n) and group the rows by identical axis.

    Finiteness is checked later, on the part of the axis that is fitted (:func:`_window`).
    """
    groups: dict[tuple[bytes, str], list[Any]] = {}
    for spectrum in spectra:
        if not isinstance(spectrum, Spectrum):
            raise FitError(f"fit() takes Spectra, got {type(spectrum).__name__}")
        if np.iscomplexobj(spectrum.data):
            raise FitError(f"{_name(spectrum)}: complex data (an FID?) must be processed first")
        axis = spectrum.axis
        key = (axis.values.tobytes(), axis.name)
        group = groups.setdefault(key, [axis.values, [], [], axis.name, axis.unit, spectrum.signal_unit])
        group[1].append(spectrum.data.reshape(-1, axis.size))
        block = "" if spectrum.source is None or spectrum.source.block is None else str(spectrum.source.block)
        group[2].append((_name(spectrum), block, tuple(spectrum.leading_shape)))
    return [
        (x, rows[0] if len(rows) == 1 else np.concatenate(rows),
         SpectrumLabels(*(tuple(column) for column in zip(*labels))), an, au, su)
        for x, rows, labels, an, au, su in groups.values()
    ]


def _check_finite(y: np.ndarray, labels: SpectrumLabels, slices: Sequence[slice]) -> None:
    """FitError naming the first spectrum whose fitted part holds NaN or infinite values.

    Checked chunk by chunk, so a map kept on disk is read once without a copy of it all.
    """
    finite = np.concatenate([np.isfinite(y[s]).all(axis=1) for s in slices])
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        source, block, index = labels[first]
        where = ", ".join(part for part in (block and f"block {block}", index and f"index {index}") if part)
        raise FitError(f"{source}{f' ({where})' if where else ''}: the data hold NaN or infinite "
                       f"values in the fitted range ({int((~finite).sum())} of {len(finite)} spectra)")


def _name(spectrum: Spectrum) -> str:
    return spectrum.source.path if spectrum.source is not None else "<memory>"


def _window(recipe: Any, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of the axis the recipe fits (``[select] window = [low, high]``).

    On a monotonic axis the window is one contiguous run of points, taken as a view (no copy
    of a large map).
    """
    window = getattr(getattr(recipe, "select", None), "window", None)
    if window is None:
        return x, y
    keep = (x >= min(window)) & (x <= max(window))
    if keep.sum() < 2:
        raise FitError(f"the recipe's window {list(window)} holds fewer than 2 points of the axis")
    inside = np.flatnonzero(keep)
    if inside[-1] - inside[0] + 1 == inside.size:
        run = slice(int(inside[0]), int(inside[-1]) + 1)
        return x[run], y[:, run]
    return x[keep], y[:, keep]


@contextmanager
def _rows_for_workers(y: np.ndarray, workers: int, scheduler: str | None,
                      ) -> Iterator[tuple[np.ndarray, bool]]:
    """The rows to cut the chunks from, and whether to send the chunks as their place in a file.

    Chunks fitted here, or sent to workers on other machines, are cut from ``y`` itself. Workers
    on this machine (:func:`~specssb.parallel.shares_files`) map their rows themselves: from the
    map's own file when ``y`` is kept on disk, otherwise from a copy of ``y`` written once to
    shared memory (:func:`~specssb._file_views.shared_copy`; from 1 MiB, within the memory
    ceiling, for the duration of the fit), provided they can open it
    (:func:`~specssb.parallel.workers_see`). In an interleaved A/B run of the fit benchmark's
    10,000-spectrum map on two dask workers (two cores, the scheduler in the client's
    process), the fit took 0.200 s with rows and results in shared files, 0.203 s with the
    rows only, and 0.210 s when every chunk's rows and results went through the scheduler.
    """
    elsewhere = workers > 1 or scheduler is not None
    if not elsewhere or not shares_files(workers, scheduler):
        yield y, False
    elif is_mapped(y):
        place = file_view(y[:1])
        yield y, place is not None and workers_see(place.filename, workers, scheduler)
    elif y.nbytes < SHARE_FROM_BYTES:
        yield y, False
    else:
        with shared_copy(y, limit=memory_limit()) as copy:
            if copy is not None and workers_see(copy.filename, workers, scheduler):
                yield copy, True
            else:
                yield y, False


@contextmanager
def _results_from_workers(model: CompiledModel, slices: Sequence[slice], by_file: bool,
                          workers: int, scheduler: str | None,
                          ) -> Iterator[tuple[list[FileView | None], Any]]:
    """Where each chunk puts its results, and how to gather them into whole arrays.

    With ``by_file`` (workers on this machine), each chunk writes its rows of results into a
    shared file (:func:`~specssb._file_views.shared_output`, :class:`ResultLayout`) and
    returns None: the dask scheduler then carries no result bytes. Otherwise, or when there
    is no room for the file, the chunks return their arrays.

    Yields
    ------
    outputs : list of FileView or None
        One per chunk.
    collect : callable
        ``collect(returned) -> (full, covariance, converged, redchi, statistics)`` for all
        spectra, from what :func:`~specssb.parallel.map_chunks` returned.
    """
    if not by_file or not slices:
        yield [None] * len(slices), _concatenated
        return
    layout = ResultLayout.of(model)
    shape = (slices[-1].stop, layout.width)
    with shared_output(shape, limit=memory_limit()) as path:
        if path is None or not workers_see(path, workers, scheduler):
            yield [None] * len(slices), _concatenated
            return
        rows = np.memmap(path, dtype=np.float64, mode="r", shape=shape)
        yield row_views(path, shape, np.float64, list(slices)), lambda _: layout.unpack(rows)


def _concatenated(parts: list[ChunkResults]) -> ChunkResults:
    """The results the chunks returned, one after the other."""
    full, covariance, converged, redchi = (np.concatenate(p) for p in list(zip(*parts))[:4])
    return full, covariance, converged, redchi, {
        key: np.concatenate([part[4][key] for part in parts]) for key in parts[0][4]}


def _chunk_rows(rows: np.ndarray, by_place: bool) -> FileView | np.ndarray:
    """A chunk's rows as sent: their place in the mapped file (a few numbers to pickle) when
    ``by_place`` and numpy's memmap says where they lie; otherwise the rows themselves."""
    return (file_view(rows) if by_place else None) or rows


def _solve_chunk(
    chunk: tuple[CompiledModel, Any, np.ndarray, np.ndarray | FileView, str | None, str, int,
                 FileView | None],
) -> ChunkResults | None:
    """Fit one block of spectra (module level, so worker processes can run it): read them
    (as float64), weight them, subtract the recipe's background, take the start values,
    solve. Every step is row by row, so the results do not depend on how the spectra are
    split into chunks.

    Returns
    -------
    full, covariance, converged, redchi, statistics
        Per spectrum, nothing of size (m, n): ``statistics`` are
        :func:`~specssb.fitting.result.spectrum_statistics` (computed here, so that workers
        share that work too); the baseline is recomputed when a curve is drawn. None when the
        chunk has an output place (its last item): then they are written there, packed as
        :class:`ResultLayout` rows.
    """
    model, background, x, y, weights, engine, max_iterations, output = chunk
    data = np.array(y.read() if isinstance(y, FileView) else y, dtype=float)
    w = None if weights is None else 1.0 / np.sqrt(np.maximum(data, 1.0))
    baseline = recipe_baseline(background, x, data)
    if baseline is not None:
        data -= baseline
    start = model.start(x, data)
    solve = _solve_batched if engine == "batched" else _solve_lmfit
    full, covariance, converged, redchi = solve(model, x, data, start, w, max_iterations)
    results = (full, covariance, converged, redchi, spectrum_statistics(model, full, covariance))
    if output is None:
        return results
    output.write(ResultLayout.of(model).pack(results))
    return None


def _solve_batched(
    model: CompiledModel, x: np.ndarray, y: np.ndarray, start: np.ndarray,
    weights: np.ndarray | None, max_iterations: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    keep_freed_memory()  # once per process, here so that worker processes do it too
    lower, upper = model.free_bounds()
    result = levenberg_marquardt(
        lambda free: model.jacobian(x, free), y, start, lower, upper,
        evaluate=None if model.jacobian_is_cheap else (lambda free: model.envelope(x, free)),
        weights=weights, max_iterations=max_iterations,
    )
    return model.full(result.free), result.covariance, result.converged, result.redchi


def _solve_lmfit(
    model: CompiledModel, x: np.ndarray, y: np.ndarray, start: np.ndarray,
    weights: np.ndarray | None, max_iterations: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lm_model, parameters, free_names = lmfit_model(model)
    m, p = y.shape[0], model.n_free

    def jacobian(params: Any, data: np.ndarray, weights: np.ndarray | None, x: np.ndarray) -> np.ndarray:
        """∂[(data − model)·w]/∂θ, shape (n_points, n_free): the compiled model's analytic one
        (lmfit's residual is ``(data − model)·weights``)."""
        free_now = np.array([[params[name].value for name in free_names]])
        jac = -model.jacobian(x, free_now)[1][0].T
        return jac if weights is None else jac * weights[:, None]

    free = np.zeros((m, p))
    covariance = np.full((m, p, p), np.nan)
    converged = np.zeros(m, bool)
    redchi = np.zeros(m)
    for i in range(m):
        for name, value in zip(free_names, start[i]):
            parameters[name].set(value=value)
        result = lm_model.fit(
            y[i], parameters, x=x, weights=None if weights is None else weights[i],
            method="least_squares",
            fit_kws={"ftol": 1e-12, "xtol": 1e-12, "gtol": 1e-12, "jac": jacobian},
        )
        free[i] = [result.params[name].value for name in free_names]
        if result.covar is not None:
            order = [result.var_names.index(name) for name in free_names]
            covariance[i] = result.covar[np.ix_(order, order)]
        converged[i] = bool(result.success)
        redchi[i] = result.redchi
    return model.full(free), covariance, converged, redchi


def lmfit_model(model: CompiledModel) -> tuple[Any, Any, list[str]]:
    """The compiled model as an :class:`lmfit.Model` with its :class:`lmfit.Parameters`.

    Ties become lmfit expressions (``target = factor * source + offset`` on free parameters,
    written here from numbers and validated names), fixed parameters ``vary=False``. Derived
    parameters (non-linear recipe ``expr``) are not lmfit parameters: the model function
    computes them from the others with :meth:`CompiledModel.fill_expressions`.

    Returns
    -------
    model : lmfit.Model
        Independent variable ``x``; one keyword parameter per full parameter.
    parameters : lmfit.Parameters
    free_names : list of str
        The lmfit names of the free parameters, in the free-vector order.
    """
    import lmfit

    names = [p.name for p in model.parameters]
    given = [p.name for p in model.parameters if p.expression is None]

    def envelope(x: np.ndarray, **values: float) -> np.ndarray:
        full = model.fill_expressions(np.array([[values.get(name, np.nan) for name in names]]))
        return model.evaluate(x, full)["envelope"][0]

    envelope.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=0.0) for n in given]
    )
    lm_model = lmfit.Model(envelope, independent_vars=["x"])
    parameters = lmfit.Parameters()
    free_names = model.free_names
    for p in model.parameters:  # free ones first, so expressions can refer to them
        if p.tie is None and p.free_index is not None:
            value = 0.0 if np.isnan(p.value) else p.value  # guesses are set per spectrum
            parameters.add(p.name, value=value, min=p.lower, max=p.upper, vary=True)
    for p in model.parameters:
        if p.expression is not None:
            continue
        if p.free_index is None:
            parameters.add(p.name, value=p.offset, vary=False)
        elif p.tie is not None:
            source = free_names[p.free_index]
            parameters.add(p.name, expr=f"{p.factor!r} * {source} + {p.offset!r}")
    return lm_model, parameters, free_names
