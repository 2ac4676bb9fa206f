"""Figures of fits: one spectrum with its components, and an overview of a whole table.

matplotlib with the non-interactive Agg canvas, so figures render on a headless beamline PC
or in CI; files are written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specssb._io import atomic_path
from specssb.fitting.result import FitTable

__all__ = ["plot_fit", "plot_overview", "save_figure"]

#: Axes drawn high-to-low, as spectroscopists read them.
_REVERSED_AXES = ("binding_energy", "chemical_shift")


def plot_fit(table: FitTable, spectrum: int, *, ax: Any = None) -> Any:
    """Draw one fitted spectrum: data, background, components, envelope, and the residual.

    Parameters
    ----------
    table : FitTable
    spectrum : int
        The ``spectrum`` number in ``table.frame``.
    ax : matplotlib Axes, optional
        Where to draw the fit (the residual goes in an inset below). A new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    curves = table.curves(spectrum)
    if ax is None:
        figure = Figure(figsize=(6.4, 4.8), layout="constrained")
        ax, residual_ax = figure.subplots(2, 1, sharex=True, height_ratios=(4, 1))
    else:
        figure = ax.figure
        residual_ax = ax.inset_axes((0.0, -0.28, 1.0, 0.2), sharex=ax)
    x = curves["x"]
    ax.plot(x, curves["data"], ".", ms=3, color="0.3", label="data")
    ax.plot(x, curves["background"], "--", color="0.5", lw=1, label="background")
    for name, component in curves["components"].items():
        ax.fill_between(x, curves["background"], curves["background"] + component, alpha=0.35, label=name)
    ax.plot(x, curves["envelope"], color="crimson", lw=1.2, label="envelope")
    residual_ax.plot(x, curves["residual"], color="0.3", lw=0.8)
    residual_ax.axhline(0.0, color="crimson", lw=0.8)
    batch = _batch_of(table, spectrum)
    source, block, index = curves["label"]
    ax.set_title(f"{Path(source).name} {block} {index}".strip(), fontsize=9)
    ax.set_ylabel(batch.signal_unit)
    residual_ax.set_ylabel("residual")
    residual_ax.set_xlabel(f"{batch.axis_name.replace('_', ' ')} ({batch.axis_unit})")
    if batch.axis_name in _REVERSED_AXES:
        ax.set_xlim(float(np.max(x)), float(np.min(x)))
    ax.legend(fontsize=7, ncols=2)
    return figure


def plot_overview(table: FitTable, *, quantity: str = "fraction") -> Any:
    """Plot one quantity of every species against the spectrum number, with error bars.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = figure.subplots()
    rows = table.frame[table.frame["quantity"] == quantity]
    for species, group in rows.groupby("species", sort=False):
        ax.errorbar(group["spectrum"], group["value"], yerr=group["stderr"].fillna(0.0),
                    marker="o", ms=3, lw=1, capsize=2, label=str(species))
        failed = group[~group["converged"].astype(bool)]
        ax.plot(failed["spectrum"], failed["value"], "x", color="k")
    ax.set_xlabel("spectrum")
    units = rows["unit"].iloc[0] if len(rows) else ""
    ax.set_ylabel(f"{quantity} ({units})")
    ax.legend(fontsize=7)
    return figure


def save_figure(figure: Any, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a figure as PNG atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=dpi)
    return Path(path)


def _batch_of(table: FitTable, spectrum: int) -> Any:
    for batch in table.batches:
        if spectrum < len(batch.labels):
            return batch
        spectrum -= len(batch.labels)
    raise IndexError(spectrum)

