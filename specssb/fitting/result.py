"""`FitTable`: the tidy result of a fit, with the curves behind every number.

One row per spectrum × component × quantity::

    spectrum source block index species quantity value stderr unit converged redchi recipe engine

``quantity`` is a line-shape parameter (``height``, ``center``, ``fwhm``, shape parameters), a
derived ``area`` (see each line shape's ``area``) or ``fraction`` (the component's share of the
summed component areas in that spectrum), or a fitted background term (species
``background``). Standard errors come from the scaled covariance of the free parameters,
propagated linearly through ties and expression constraints (the delta method, with the exact
derivatives of each expression at the solution) and, for ``area`` and ``fraction``, through
numerical gradients of the area formulas.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb._io import atomic_path, atomic_write_text, atomic_write_with
from specssb.fitting.model import CompiledModel

__all__ = ["FitBatch", "FitTable", "SpectrumLabels"]

COLUMNS = (
    "spectrum", "source", "block", "index", "species", "quantity", "value", "stderr", "unit",
    "converged", "redchi", "recipe", "engine",
)


@dataclass(frozen=True)
class SpectrumLabels(Sequence[tuple[str, str, str]]):
    """The ``(source, block, index)`` label of every spectrum of a batch, in fit order.

    Stored per input Spectrum (its source, block and leading shape), not per spectrum: a
    100 × 100 map is one entry, and its 10,000 index strings (``"i,j"``, row-major as
    ``numpy.ndindex``) are built only when asked for, in one vectorized pass.
    """

    sources: tuple[str, ...]
    blocks: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @property
    def counts(self) -> np.ndarray:
        """Spectra per input Spectrum."""
        return np.array([math.prod(shape) for shape in self.shapes], dtype=np.intp)

    def __len__(self) -> int:
        return int(self.counts.sum())

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        i = int(item) + (len(self) if int(item) < 0 else 0)
        if not 0 <= i < len(self):
            raise IndexError(f"spectrum {item} out of range for {len(self)} spectra")
        ends = np.cumsum(self.counts)
        k = int(np.searchsorted(ends, i, side="right"))
        within = i - (int(ends[k - 1]) if k else 0)
        index = np.unravel_index(within, self.shapes[k]) if self.shapes[k] else ()
        return self.sources[k], self.blocks[k], ",".join(str(int(v)) for v in index)

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        return (self[i] for i in range(len(self)))

    def input_of_spectrum(self) -> np.ndarray:
        """The input-Spectrum number of every spectrum, shape (m,)."""
        return np.repeat(np.arange(len(self.shapes)), self.counts)

    def index_strings(self) -> Any:
        """The ``index`` label of every spectrum as a pyarrow string array of length m."""
        import pyarrow as pa
        import pyarrow.compute as pc

        parts = []
        for shape in self.shapes:
            if not shape:
                parts.append(pa.array([""], type=pa.large_string()))
                continue
            digits = [pc.cast(pa.array(v), pa.large_string())
                      for v in np.unravel_index(np.arange(math.prod(shape)), shape)]
            parts.append(digits[0] if len(digits) == 1
                         else pc.binary_join_element_wise(*digits, pa.scalar(",", pa.large_string())))
        return pa.concat_arrays(parts) if parts else pa.array([], type=pa.large_string())

    @classmethod
    def concatenate(cls, labels: Sequence[SpectrumLabels]) -> SpectrumLabels:
        """The labels of several batches of spectra, one after the other."""
        return cls(*(tuple(x for lab in labels for x in getattr(lab, name))
                     for name in ("sources", "blocks", "shapes")))


@dataclass
class FitBatch:
    """Spectra fitted together on one axis, with everything needed to redraw the fits.

    Attributes
    ----------
    model : CompiledModel
    x : ndarray of shape (n,)
    y : ndarray of shape (m, n)
        Data as fitted (before subtracting the baseline). A view of the spectra given to
        :func:`~specssb.fit`, not a copy: a map kept on disk (a read-only ``numpy.memmap``)
        stays there.
    background : recipe background table or None
        The recipe's ``[background]``; :attr:`baseline` and :meth:`baseline_rows` recompute
        the subtracted baseline from it when asked (zeros when the background is fitted as a
        model term or absent), so no (m, n) array is kept.
    full : ndarray of shape (m, n_full)
        Best-fit full parameters.
    covariance : ndarray of shape (m, n_free, n_free)
    converged, redchi : ndarray of shape (m,)
    labels : SpectrumLabels
        ``(source, block, index)`` of each spectrum.
    axis_name, axis_unit, signal_unit : str
    engine : str
    statistics : dict, optional
        :func:`spectrum_statistics` of every spectrum, when the chunks computed them.
    """

    model: CompiledModel
    x: np.ndarray
    y: np.ndarray
    background: Any
    full: np.ndarray
    covariance: np.ndarray
    converged: np.ndarray
    redchi: np.ndarray
    labels: SpectrumLabels
    axis_name: str
    axis_unit: str
    signal_unit: str
    engine: str
    statistics: dict[str, np.ndarray] | None = None

    def baseline_rows(self, rows: slice) -> np.ndarray:
        """The baseline subtracted before the fit from the spectra ``y[rows]``, shape (k, n)."""
        from specssb.fitting.backgrounds import recipe_baseline

        data = np.atleast_2d(self.y[rows])
        baseline = recipe_baseline(self.background, self.x, data)
        return np.zeros(data.shape) if baseline is None else baseline

    @property
    def baseline(self) -> np.ndarray:
        """The baseline subtracted before the fit, shape (m, n) (computed on each access)."""
        return self.baseline_rows(slice(None))


class FitTable:
    """The result of :func:`specssb.fit`: a tidy table plus the fitted curves.

    Attributes
    ----------
    frame : pandas.DataFrame
        The tidy table (columns :data:`COLUMNS`).
    batches : list of FitBatch
    """

    def __init__(self, batches: list[FitBatch]):
        self.batches = batches
        offsets = np.cumsum([0] + [len(b.labels) for b in batches])
        frames = [_batch_frame(b, int(start)) for b, start in zip(batches, offsets[:-1])]
        if len(frames) == 1:
            self.frame = frames[0]
        else:
            self.frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> FitTable:
        """A table of results computed without a peak model (XAS edge positions, LCF, MCR …).

        ``frame`` must hold the :data:`COLUMNS` (extra columns, such as ``acquired_at``, are
        kept). Such a table has no batches, so :meth:`curves` is not available; the analysis
        that made it keeps its own curves.
        """
        missing = [column for column in COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"a FitTable frame needs the columns {missing}")
        table = cls([])
        table.frame = frame.reset_index(drop=True)
        return table

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        failed = int((~self.frame.groupby("spectrum")["converged"].first().astype(bool)).sum()) \
            if len(self.frame) else 0
        species = ", ".join(dict.fromkeys(self.frame["species"])) if len(self.frame) else "-"
        return (f"<FitTable {self.n_spectra} spectra, species {species}; {failed} not converged; "
                f"{len(self)} rows>")

    @property
    def n_spectra(self) -> int:
        """Number of spectra fitted."""
        if not self.batches:
            return int(self.frame["spectrum"].nunique()) if len(self.frame) else 0
        return sum(len(b.labels) for b in self.batches)

    def values(self, quantity: str = "area") -> pd.DataFrame:
        """Wide table of one quantity: one row per spectrum, one column per species."""
        rows = self.frame[self.frame["quantity"] == quantity]
        return rows.pivot(index="spectrum", columns="species", values="value")

    def curves(self, spectrum: int) -> dict[str, Any]:
        """The curves of one fitted spectrum, for plots.

        Parameters
        ----------
        spectrum : int
            The ``spectrum`` number in :attr:`frame`.

        Returns
        -------
        dict
            ``x`` (n,), ``data`` (n,), ``background`` (n,: subtracted baseline plus any fitted
            background term), ``components`` (dict name -> (n,), each without background),
            ``envelope`` (n,: background + components), ``residual`` (n,: data − envelope),
            ``label`` (source, block, index).
        """
        for batch in self.batches:
            if spectrum < len(batch.labels):
                parts = batch.model.evaluate(batch.x, batch.full[spectrum : spectrum + 1])
                data = np.asarray(batch.y[spectrum], dtype=float)
                background = batch.baseline_rows(slice(spectrum, spectrum + 1))[0] + parts["background"][0]
                envelope = background + parts["peaks"][0]
                return {
                    "x": batch.x,
                    "data": data,
                    "background": background,
                    "components": {
                        c.name: parts["components"][0, k] for k, c in enumerate(batch.model.components)
                    },
                    "envelope": envelope,
                    "residual": data - envelope,
                    "label": batch.labels[spectrum],
                }
            spectrum -= len(batch.labels)
        raise IndexError(f"no spectrum {spectrum} in this table of {self.n_spectra}")

    # ------------------------------------------------------------------ output
    def to_csv(self, path: str | Path) -> Path:
        """Write the tidy table as CSV (atomically)."""
        atomic_write_with(path, lambda stream: self.frame.to_csv(stream, index=False))
        return Path(path)

    def to_parquet(self, path: str | Path) -> Path:
        """Write the tidy table as Parquet (atomically), with the recipe in the metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        recipes = sorted({f"{b.model.recipe_name} {b.model.recipe_hash}" for b in self.batches})
        metadata = {**(table.schema.metadata or {}), b"specssb_recipes": json.dumps(recipes).encode()}
        with atomic_path(path) as temporary:
            pq.write_table(table.replace_schema_metadata(metadata), temporary)
        return Path(path)

    def to_json(self, path: str | Path) -> Path:
        """Write the tidy table as JSON records (atomically)."""
        atomic_write_text(path, self.frame.to_json(orient="records", indent=1) + "\n")
        return Path(path)


def _units(parameter: str, axis_unit: str, signal_unit: str) -> str:
    if parameter in ("center",) or "fwhm" in parameter or parameter in ("split", "width"):
        return axis_unit
    if parameter in ("height", "level"):
        return signal_unit
    if parameter == "slope":
        return f"{signal_unit}/{axis_unit}"
    if parameter == "area":
        return f"{signal_unit}·{axis_unit}"
    return "1"


def _area_gradients(model: CompiledModel, full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Areas (m, k) and their gradients with respect to the full parameters (m, k, n_full)."""
    areas = model.areas(full)
    gradient = np.zeros((*areas.shape, full.shape[1]))
    for k, component in enumerate(model.components):
        for j in component.columns:
            step = 1e-6 * np.maximum(np.abs(full[:, j]), 1e-6)
            up, down = full.copy(), full.copy()
            up[:, j] += step
            down[:, j] -= step
            gradient[:, k, j] = (model.areas(up)[:, k] - model.areas(down)[:, k]) / (2 * step)
    return areas, gradient


def _propagated(gradient: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """``sqrt(g C gᵀ)`` per spectrum and quantity, (m, k) from (m, k, n) and (m, n, n).

    A parameter whose error is unknown (NaN: it had no effect at the solution, e.g. the width of
    a peak whose height sits at 0) does not spoil the errors of quantities that do not depend on
    it (zero gradient); a quantity that does depend on it gets NaN.
    """
    unknown = np.isnan(np.einsum("mii->mi", covariance))
    variance = np.einsum("mki,mij,mkj->mk", gradient, np.nan_to_num(covariance, nan=0.0), gradient)
    std = np.sqrt(np.clip(variance, 0.0, None))
    depends = np.any((gradient != 0) & unknown[:, None, :], axis=2)
    return np.where(depends, np.nan, std)


def spectrum_statistics(model: CompiledModel, full: np.ndarray, covariance: np.ndarray) -> dict[str, np.ndarray]:
    """Standard errors of the full parameters, areas and fractions with theirs, per spectrum.

    Computed row by row, so it runs inside the chunks (on the workers) and the results do not
    depend on how the spectra were split.

    Returns
    -------
    dict
        ``std_full`` (m, n_full); ``area``, ``area_std``, ``fraction``, ``fraction_std`` (m, k).
    """
    matrix = model.tie_matrix
    # (n_full, p) @ (m, p, p) @ (p, n_full); a free parameter with unknown (NaN) errors makes
    # unknown only the full parameters that depend on it, not every entry (0·NaN is NaN)
    unknown_free = np.isnan(np.einsum("mii->mi", covariance))
    if getattr(model, "expression_names", None):
        # non-linear expr constraints: the delta method with ∂full/∂free at each solution
        matrix = model.full_jacobian(model.free_of(full))
        cov_full = matrix @ np.nan_to_num(covariance, nan=0.0) @ matrix.transpose(0, 2, 1)
        unknown_full = np.einsum("mp,mfp->mf", unknown_free.astype(float),
                                 (matrix != 0).astype(float)) > 0
    else:
        cov_full = matrix @ np.nan_to_num(covariance, nan=0.0) @ matrix.T
        unknown_full = (unknown_free.astype(float) @ (matrix != 0).T.astype(float)) > 0
    cov_full[unknown_full[:, :, None] | unknown_full[:, None, :]] = np.nan
    std_full = np.sqrt(np.clip(np.einsum("mii->mi", cov_full), 0.0, None))
    areas, gradient = _area_gradients(model, full)
    area_std = _propagated(gradient, cov_full)
    total = areas.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = areas / total
        summed = gradient.sum(axis=1, keepdims=True)
        fraction_gradient = (gradient * total[:, :, None] - areas[:, :, None] * summed) / total[:, :, None] ** 2
    fraction_std = _propagated(fraction_gradient, cov_full)
    return {"std_full": std_full, "area": areas, "area_std": area_std, "fraction": fraction,
            "fraction_std": fraction_std}


def _batch_frame(batch: FitBatch, first: int) -> pd.DataFrame:
    model = batch.model
    m = len(batch.labels)
    stats = batch.statistics or spectrum_statistics(model, batch.full, batch.covariance)
    std_full = stats["std_full"]
    species, quantities, values, errors, units = [], [], [], [], []

    def add(specie: str, quantity: str, value: np.ndarray, error: np.ndarray) -> None:
        species.append(specie)
        quantities.append(quantity)
        values.append(value)
        errors.append(error)
        units.append(_units(quantity, batch.axis_unit, batch.signal_unit))

    for j, parameter in enumerate(model.parameters):
        if parameter.component == "background":
            add("background", parameter.parameter, batch.full[:, j], std_full[:, j])
    for component in model.components:
        shape_parameters = component.shape.parameters
        for parameter, j in zip(shape_parameters, component.columns):
            add(component.name, parameter, batch.full[:, j], std_full[:, j])
    for k, component in enumerate(model.components):
        add(component.name, "area", stats["area"][:, k], stats["area_std"][:, k])
        add(component.name, "fraction", stats["fraction"][:, k], stats["fraction_std"][:, k])
    q = len(species)
    per_spectrum = np.repeat(np.arange(m), q)  # row -> spectrum of this batch
    labels = batch.labels
    per_input = labels.input_of_spectrum()[per_spectrum]
    return pd.DataFrame(
        {
            "spectrum": per_spectrum + first,
            "source": _strings(_taken(list(labels.sources), per_input)),
            "block": _strings(_taken(list(labels.blocks), per_input)),
            "index": _strings(_taken(labels.index_strings(), per_spectrum)),
            "species": _strings(_tiled(species, m)),
            "quantity": _strings(_tiled(quantities, m)),
            "value": np.stack(values, axis=1).ravel(),
            "stderr": np.stack(errors, axis=1).ravel(),
            "unit": _strings(_tiled(units, m)),
            "converged": np.repeat(batch.converged, q),
            "redchi": np.repeat(batch.redchi, q),
            "recipe": _strings(_tiled([f"{model.recipe_name} {model.recipe_hash}".strip()], m * q)),
            "engine": _strings(_tiled([batch.engine], m * q)),
        }
    )


# The string columns are built as Arrow arrays, not from Python objects: converting a repeated
# object array of 70,000 strings takes 2.7 ms, Arrow's take 0.3 ms and a tiled block of bytes
# 0.1 ms (a 10,000-spectrum map's table has eight such columns).


def _strings(array: Any) -> pd.Series:
    """A pandas string column on a pyarrow string array (no copy)."""
    return pd.Series(array, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _taken(values: Any, codes: np.ndarray) -> Any:
    """``values[codes]`` as a pyarrow string array (``values`` a list of str or such an array)."""
    import pyarrow as pa

    if isinstance(values, list) and len(values) == 1:
        return _tiled(values, len(codes))
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.large_string())
    return values.take(pa.array(codes))


def _tiled(values: list[str], times: int) -> Any:
    """``values`` one after the other, ``times`` over, as a pyarrow string array: the bytes of
    the block are tiled and the offsets computed, with no per-string work."""
    import pyarrow as pa

    encoded = [value.encode() for value in values]
    block = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    ends = np.cumsum([len(item) for item in encoded], dtype=np.int64)
    offsets = np.zeros(len(values) * times + 1, dtype=np.int64)
    offsets[1:] = (ends[None, :] + block.size * np.arange(times, dtype=np.int64)[:, None]).ravel()
    return pa.LargeStringArray.from_buffers(len(values) * times, pa.py_buffer(offsets),
                                            pa.py_buffer(np.tile(block, times)))
