"""Species fractions along a depth profile or an operando series, and the overlay figure.

A depth profile (PHI ``.pro``: a leading ``level`` dimension with sputter-time coordinates) or a
series of measurements (one file per cycle, ``meta["cycle"]``) is fitted with one recipe in one
batched call (:func:`specssb.fit`). :func:`species_profile` then puts every spectrum's species
fractions next to its position along the profile:

* ``along`` names a coordinate of the Spectra (``spectrum.coords[along]``, e.g.
  ``"sputter_time_s"``): each fitted row takes the coordinate value at its index along the
  coordinate's dimension;
* or a normalized ``meta`` key (``"cycle"``, ``"potential_v"``, ``"depth_nm"`` …): every row
  of that Spectrum takes the same value.

Components that share a ``species`` label (the two lines of a doublet) are summed. A doublet's
partner is tied to its main line (area ratio fixed), so their uncertainties are fully
correlated and add linearly: ``σ(f_a + f_b) = σ_a + σ_b``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from specssb.errors import ConfigError
from specssb.fitting.result import FitTable
from specssb.spectrum import Spectrum

__all__ = ["plot_profile", "species_profile"]


def species_profile(table: FitTable, spectra: Sequence[Spectrum], *, along: str) -> pd.DataFrame:
    """Species fractions and areas of every fitted spectrum against a coordinate.

    Parameters
    ----------
    table : FitTable
        The fit of ``spectra`` (all of them, or the ones the recipe selected).
    spectra : sequence of Spectrum
        The fitted Spectra; rows of ``table`` are matched to them by source file and block.
    along : str
        A coordinate name or a normalized meta key (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per fitted spectrum and species, sorted by ``along``: ``along`` (value),
        ``unit``, ``species``, ``fraction``, ``fraction_stderr``, ``area``, ``area_stderr``,
        ``converged``, ``source``, ``block``, ``index``.

    Raises
    ------
    ConfigError
        When a fitted spectrum has no such coordinate or meta value, or no Spectrum matches a
        table row.
    """
    positions = _positions(spectra, along)
    species_of = {c.name: c.species for b in table.batches for c in b.model.components}
    frame = table.frame
    wanted = frame[frame["quantity"].isin(["fraction", "area"])].copy()
    wanted["species"] = wanted["species"].map(lambda name: species_of.get(name, name))
    rows = []
    keys = ["spectrum", "source", "block", "index", "species"]
    for (spectrum, source, block, index, species), group in wanted.groupby(keys, sort=False):
        key = (source, block)
        if key not in positions:
            raise ConfigError(f"no Spectrum given for the fitted rows of {source} block {block!r}",
                              key="spectra")
        value, unit = positions[key](index)
        by_quantity = group.groupby("quantity")
        summed = by_quantity["value"].sum()
        # tied partners: fully correlated; an unknown error stays unknown (NaN), never 0
        errors = by_quantity["stderr"].sum(min_count=1).where(~by_quantity["stderr"].apply(
            lambda e: e.isna().any()))
        rows.append({
            along: value, "unit": unit, "species": species,
            "fraction": summed["fraction"], "fraction_stderr": errors["fraction"],
            "area": summed["area"], "area_stderr": errors["area"],
            "converged": bool(group["converged"].all()), "source": source, "block": block,
            "index": index, "spectrum": spectrum,
        })
    result = pd.DataFrame(rows)
    return result.sort_values([along, "species", "spectrum"], kind="stable").reset_index(drop=True)


def _positions(spectra: Sequence[Spectrum], along: str) -> dict[tuple[str, str], Any]:
    """(source, block) -> function of the table's index string giving (value, unit)."""
    from specssb.spectrum import META_KEYS

    positions: dict[tuple[str, str], Any] = {}
    for spectrum in spectra:
        source = spectrum.source.path if spectrum.source is not None else "<memory>"
        block = "" if spectrum.source is None or spectrum.source.block is None else str(spectrum.source.block)
        if along in spectrum.coords:
            coord = spectrum.coords[along]
            axis = spectrum.dims.index(coord.dim)

            def at(index: str, coord: Any = coord, axis: int = axis) -> tuple[float, str]:
                return float(coord.values[int(index.split(",")[axis])]), coord.unit

            positions[(source, block)] = at
        elif along in spectrum.meta:
            value, unit = spectrum.meta[along], META_KEYS[along][1] if along in META_KEYS else ""
            positions[(source, block)] = lambda index, value=value, unit=unit: (value, unit)
        else:
            raise ConfigError(f"{source} block {block!r} has no coordinate or meta value {along!r} "
                              f"(coordinates: {', '.join(spectrum.coords) or 'none'})", key="along")
    return positions


def plot_profile(table: FitTable, profile: pd.DataFrame, *, along: str, title: str = "") -> Any:
    """Two panels: the fitted spectra overlaid, coloured by ``along``, and the species
    fractions against ``along`` with 1σ error bars.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    order = profile.drop_duplicates("spectrum")[[along, "spectrum"]]
    values = order[along].to_numpy(dtype=float)
    span = (values.min(), values.max()) if len(values) else (0.0, 1.0)
    norm = matplotlib.colors.Normalize(*span) if span[1] > span[0] else matplotlib.colors.Normalize(span[0] - 1, span[0] + 1)
    colours = matplotlib.colormaps["viridis"]
    for value, spectrum in zip(values, order["spectrum"]):
        curves = table.curves(int(spectrum))
        left.plot(curves["x"], curves["data"], lw=0.8, color=colours(norm(value)))
    batch = table.batches[0]
    left.set_xlabel(f"{batch.axis_name.replace('_', ' ')} ({batch.axis_unit})")
    left.set_ylabel(batch.signal_unit)
    if batch.axis_name == "binding_energy":
        left.invert_xaxis()
    figure.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colours), ax=left, label=along)
    for species, rows in profile.groupby("species", sort=False):
        right.errorbar(rows[along], 100 * rows["fraction"], yerr=100 * rows["fraction_stderr"],
                       marker="o", ms=3, capsize=2, label=str(species))
    unit = str(profile["unit"].iloc[0]) if len(profile) else ""
    right.set_xlabel(f"{along} ({unit})" if unit and unit != "1" else along)
    right.set_ylabel("fraction of the region's area (%)")
    right.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return figure
