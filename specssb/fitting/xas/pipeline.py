"""Run an XAS recipe over a series: normalize, edge positions, LCF, PCA, MCR-ALS, EXAFS.

:func:`analyze` is what ``specssb fit`` calls for a recipe with ``technique = "xas"`` (its
``[steps]`` are documented in :mod:`specssb.fitting.xas.steps`). The scans are stacked in
acquisition order (:func:`specssb.fitting.xas.series.stack_scans`), normalized in one
vectorized pass, and every per-scan number lands in one tidy :class:`~specssb.FitTable`
(the columns of every fit table plus ``acquired_at``), ready for the report stage to join
with the cycler record by time:

========== ======================================================================= ==========
species    quantity                                                                unit
========== ======================================================================= ==========
edge       ``e0``, ``half_height_energy``, ``white_line_energy``                   eV
edge       ``edge_step`` (μ units), ``white_line_height`` (normalized)             1
<ref>      ``fraction`` (LCF weight, with its standard error; ``redchi`` column)   1
lcf        ``rfactor``                                                             1
<comp>     ``concentration`` (MCR-ALS)                                             1
exafs      ``r_peak``, ``r_peak_refined`` (Å), ``chir_max`` (Å⁻³ for kweight 2)    Å / Å⁻³
========== ======================================================================= ==========

Reference files named in a recipe are read with :func:`specssb.read` and normalized with the
recipe's own ``[steps.normalize]`` ranges (only e0 is found per reference).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError
from specssb.fitting.result import FitTable
from specssb.fitting.xas.steps import XasSteps
from specssb.spectrum import Spectrum

__all__ = ["XasAnalysis", "analyze", "resolve_references"]

ENGINE = "xas"


@dataclass(frozen=True, eq=False)
class XasAnalysis:
    """Everything an XAS recipe computed on one series.

    Attributes
    ----------
    series : Spectrum
        The raw μ(E) scans, stacked (dim ``scan``, coordinates ``time``, ``elapsed_s``).
    normalization : Normalization
    table : FitTable
        The tidy per-scan results.
    edges, lcf, pca, mcr, exafs
        The results of each step the recipe asked for (None otherwise).
    recipe_label : str
        ``"<name> <hash>"`` of the recipe, as in the table's ``recipe`` column.
    """

    series: Spectrum
    normalization: Any
    table: FitTable
    edges: Any = None
    lcf: Any = None
    pca: Any = None
    mcr: Any = None
    exafs: Any = None
    recipe_label: str = ""
    references: dict[str, Spectrum] = field(default_factory=dict)

    @property
    def normalized(self) -> Spectrum:
        """The normalized series (``norm`` or ``flat`` as the recipe chose)."""
        return self.normalization.spectrum


def analyze(
    scans: Sequence[Spectrum | str | os.PathLike[str]] | Spectrum,
    recipe: Any,
    *,
    references: Mapping[str, Spectrum | str | os.PathLike[str]] | None = None,
    base: str | os.PathLike[str] | None = None,
) -> XasAnalysis:
    """Apply an XAS recipe to a series of scans.

    Parameters
    ----------
    scans : Spectrum, or sequence of Spectrum or path
        The scans (a series Spectrum is used as it is).
    recipe : Recipe or str or path
        A recipe with ``technique = "xas"``.
    references : mapping of label to Spectrum or path, optional
        LCF (and MCR start) references; they replace the recipe's ``references`` tables.
    base : path, optional
        Folder that relative reference paths in the recipe are resolved against (see
        :func:`resolve_references`).

    Returns
    -------
    XasAnalysis

    Raises
    ------
    ConfigError
        Not an XAS recipe, LCF without references, or a reference file that is missing.
    FitError
        Data that cannot be analysed (see each step).
    """
    from specssb.fitting.engine import _as_recipe
    from specssb.fitting.xas.series import stack_scans

    recipe = _as_recipe(recipe)
    if recipe.technique != "xas":
        raise ConfigError(f"recipe {recipe.name!r} is for {recipe.technique}, not xas",
                          key="technique")
    steps = XasSteps.model_validate(recipe.steps)
    series = scans if isinstance(scans, Spectrum) else stack_scans(list(scans))
    label = f"{recipe.name} {getattr(recipe, 'hash', '') or ''}".strip()
    options = steps.normalize.model_dump(exclude={"use"})
    normalization = _normalize(series, options, steps.normalize.use)
    normalized = normalization.spectrum
    e0 = float(np.median(np.ravel(normalization.e0)))
    parts: dict[str, Any] = {}
    rows = [_edge_rows(normalization, steps)]
    if steps.edge is not None:
        from specssb.fitting.xas.normalize import edge_positions

        parts["edges"] = edge_positions(normalization, window=steps.edge.window)
        rows.append(_position_rows(parts["edges"]))
    wanted = dict(references or {})
    refs: dict[str, Spectrum] = {}
    if steps.lcf is not None:
        refs = _references(wanted or steps.lcf.references, base, options, steps.normalize.use,
                           what="[steps.lcf] references")
        from specssb.fitting.xas.lcf import fit_lcf

        parts["lcf"] = fit_lcf(normalized, refs, emin=steps.lcf.emin, emax=steps.lcf.emax, e0=e0,
                               nonnegative=steps.lcf.nonnegative, sum_to_one=steps.lcf.sum_to_one)
        rows.append(_lcf_rows(parts["lcf"]))
    if steps.pca is not None and normalized.n_spectra >= 3:
        from specssb.fitting.xas.decompose import pca

        parts["pca"] = pca(normalized, emin=steps.pca.emin, emax=steps.pca.emax,
                           e0=e0 if steps.pca.emin is not None else None)
    if steps.mcr is not None:
        from specssb.fitting.xas.decompose import mcr_als

        start: Any = "simplisma"
        if wanted or steps.mcr.references:
            start = refs or _references(wanted or steps.mcr.references, base, options,
                                        steps.normalize.use, what="[steps.mcr] references")
        windowed = steps.mcr.emin is not None or steps.mcr.emax is not None
        parts["mcr"] = mcr_als(
            normalized, None if isinstance(start, dict) else steps.mcr.n_components, init=start,
            emin=steps.mcr.emin, emax=steps.mcr.emax, e0=e0 if windowed else None,
            closure=steps.mcr.closure, max_iter=steps.mcr.max_iterations)
        rows.append(_mcr_rows(parts["mcr"]))
    if steps.exafs is not None:
        from specssb.fitting.xas.exafs import exafs

        parts["exafs"] = exafs(series, e0=normalization.e0, edge_step=normalization.edge_step,
                               **steps.exafs.model_dump())
        rows.append(_exafs_rows(parts["exafs"]))
    frame = _tidy(series, pd.concat(rows, ignore_index=True), label)
    return XasAnalysis(series=series, normalization=normalization, table=FitTable.from_frame(frame),
                       recipe_label=label, references=refs, **parts)


def resolve_references(
    references: Mapping[str, Spectrum | str | os.PathLike[str]],
    base: str | os.PathLike[str] | None,
) -> dict[str, Spectrum]:
    """Read the reference spectra named by a recipe or the command line.

    A relative path is tried against ``base`` (the recipe file's folder, or the data's), then
    the current folder. A file with several Spectra gives its first absorption spectrum.

    Raises
    ------
    ConfigError
        A missing file (naming the label and every place tried).
    """
    import specssb

    resolved: dict[str, Spectrum] = {}
    for label, item in references.items():
        if isinstance(item, Spectrum):
            resolved[label] = item
            continue
        path = Path(item)
        tried = [path] if path.is_absolute() else [Path(base) / path] if base is not None else []
        tried += [] if path.is_absolute() else [path]
        found = next((p for p in tried if p.is_file()), None)
        if found is None:
            raise ConfigError(f"reference {label!r}: no file {str(item)!r} (looked at "
                              f"{', '.join(str(p) for p in tried)})", key=label)
        read = specssb.read(found)
        spectra = [s for s in (read if isinstance(read, list) else [read])
                   if s.signal in ("mu", "norm", "flat")
                   and not (s.source is not None and s.source.block == "reference")]
        if not spectra:
            raise ConfigError(f"reference {label!r}: {found} holds no absorption spectrum", key=label)
        resolved[label] = spectra[0] if not spectra[0].leading_shape else spectra[0].isel(
            **{spectra[0].dims[0]: 0})
    return resolved


# ----------------------------------------------------------------------------- helpers
def _normalize(spectrum: Spectrum, options: dict[str, Any], use: str) -> Any:
    from specssb.fitting.xas.normalize import normalize

    return normalize(spectrum, output=use, **options)


def _references(wanted: Mapping[str, Any], base: Any, options: dict[str, Any], use: str, *,
                what: str) -> dict[str, Spectrum]:
    if not wanted:
        raise ConfigError(f"{what}: no reference spectra; name them in the recipe or with "
                          "--reference label=path", key="references")
    raw = resolve_references(wanted, base)
    given = {k: v for k, v in options.items() if k != "e0"}  # each reference finds its own e0
    return {label: _normalize(spectrum, given, use).spectrum for label, spectrum in raw.items()}


def _per_scan(values: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(values, float)).ravel()


def _rows(species: str, quantity: str, value: Any, unit: str, stderr: Any = None,
          redchi: Any = None) -> pd.DataFrame:
    value = _per_scan(value)
    return pd.DataFrame({
        "spectrum": np.arange(value.size), "species": species, "quantity": quantity,
        "value": value, "stderr": np.nan if stderr is None else _per_scan(stderr), "unit": unit,
        "redchi": np.nan if redchi is None else _per_scan(redchi),
    })


def _edge_rows(normalization: Any, steps: XasSteps) -> pd.DataFrame:
    return pd.concat([_rows("edge", "e0", normalization.e0, "eV"),
                      _rows("edge", "edge_step", normalization.edge_step, "1")], ignore_index=True)


def _position_rows(edges: Any) -> pd.DataFrame:
    return pd.concat([
        _rows("edge", "half_height_energy", edges.half_height_energy, "eV"),
        _rows("edge", "white_line_energy", edges.white_line_energy, "eV"),
        _rows("edge", "white_line_height", edges.white_line_height, "1"),
    ], ignore_index=True)


def _lcf_rows(result: Any) -> pd.DataFrame:
    parts = [_rows(label, "fraction", result.weights[:, j], "1", result.stderr[:, j], result.redchi)
             for j, label in enumerate(result.references)]
    parts.append(_rows("lcf", "rfactor", result.rfactor, "1", redchi=result.redchi))
    return pd.concat(parts, ignore_index=True)


def _mcr_rows(result: Any) -> pd.DataFrame:
    return pd.concat([_rows(label, "concentration", result.concentrations[:, j], "1")
                      for j, label in enumerate(result.labels)], ignore_index=True)


def _exafs_rows(result: Any) -> pd.DataFrame:
    table = result.table
    return pd.concat([_rows("exafs", "r_peak", table["r_peak"], "Å"),
                      _rows("exafs", "r_peak_refined", table["r_peak_refined"], "Å"),
                      _rows("exafs", "chir_max", table["chir_max"], "Å^-3")], ignore_index=True)


def _tidy(series: Spectrum, rows: pd.DataFrame, label: str) -> pd.DataFrame:
    """Add the per-scan labels (source file, index, time) and the common columns."""
    m = series.n_spectra
    coords = series.coords
    paths = coords["source_path"].values if "source_path" in coords else None
    source = np.array([str(paths[i]) if paths is not None else
                       (series.source.path if series.source is not None else "<memory>")
                       for i in range(m)], dtype=object)
    index = np.array([",".join(map(str, np.unravel_index(i, series.leading_shape)))
                      if series.leading_shape else "" for i in range(m)], dtype=object)
    spectrum = rows["spectrum"].to_numpy()
    frame = pd.DataFrame({
        "spectrum": spectrum, "source": source[spectrum], "block": "", "index": index[spectrum],
        "species": rows["species"], "quantity": rows["quantity"], "value": rows["value"],
        "stderr": rows["stderr"], "unit": rows["unit"],
        "converged": np.isfinite(rows["value"].to_numpy(float)), "redchi": rows["redchi"],
        "recipe": label, "engine": ENGINE,
    })
    if "time" in coords:
        frame["acquired_at"] = pd.to_datetime(coords["time"].values[spectrum]).tz_localize("UTC")
    return frame.sort_values(["spectrum"], kind="stable").reset_index(drop=True)
