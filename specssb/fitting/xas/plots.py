"""Figures of an XAS series analysis: the normalized scans, the edge versus time, the fractions.

Uses matplotlib's object API on a bare ``Figure`` (no pyplot state), like
:mod:`specssb.fitting.plots`; save with :func:`specssb.fitting.plots.save_figure`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_series", "plot_lcf_fit"]


def _time_axis(analysis: Any) -> tuple[np.ndarray, str]:
    """Hours since the first scan when the scans are timed, else the scan number."""
    coords = analysis.series.coords
    if "elapsed_s" in coords:
        return np.asarray(coords["elapsed_s"].values, float) / 3600.0, "time since first scan (h)"
    return np.arange(analysis.series.n_spectra, dtype=float), "scan"


def plot_series(analysis: Any) -> Any:
    """Three panels: normalized scans coloured by time; edge energies; LCF/MCR fractions.

    Parameters
    ----------
    analysis : XasAnalysis
        From :func:`specssb.fitting.xas.pipeline.analyze`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    figure = Figure(figsize=(13, 4.2), layout="constrained")
    spectra_ax, edge_ax, fraction_ax = figure.subplots(1, 3)
    t, t_label = _time_axis(analysis)
    normalized = analysis.normalized
    energy = normalized.axis.values
    rows = np.asarray(normalized.data).reshape(-1, energy.size)
    colours = colormaps["viridis"](np.linspace(0.0, 1.0, max(len(rows), 2)))
    e0 = float(np.median(np.ravel(analysis.normalization.e0)))
    for row, colour in zip(rows, colours):
        spectra_ax.plot(energy, row, color=colour, lw=0.8)
    spectra_ax.set_xlim(e0 - 30.0, e0 + 60.0)
    spectra_ax.set(xlabel="energy (eV)", ylabel=f"normalized μ ({normalized.signal})",
                   title=f"{len(rows)} scans, early → late: dark → light")
    frame = analysis.table.frame
    for quantity, marker in (("e0", "o"), ("half_height_energy", "s"), ("white_line_energy", "^")):
        values = frame[(frame["species"] == "edge") & (frame["quantity"] == quantity)]
        if len(values):
            edge_ax.plot(t[values["spectrum"]], values["value"], marker=marker, ms=3, lw=0.8,
                         label=quantity.replace("_", " "))
    edge_ax.set(xlabel=t_label, ylabel="energy (eV)", title="edge position")
    edge_ax.legend(fontsize=8)
    shares = frame[frame["quantity"].isin(["fraction", "concentration"])]
    for (species, quantity), rows_of in shares.groupby(["species", "quantity"], sort=False):
        x = t[rows_of["spectrum"]]
        kind = "LCF" if quantity == "fraction" else "MCR"
        line = fraction_ax.plot(x, rows_of["value"], marker="o", ms=3, lw=0.8,
                                ls="-" if kind == "LCF" else "--", label=f"{species} ({kind})")[0]
        errors = rows_of["stderr"].to_numpy(float)
        if np.isfinite(errors).any():
            fraction_ax.fill_between(x, rows_of["value"] - errors, rows_of["value"] + errors,
                                     color=line.get_color(), alpha=0.2, lw=0)
    fraction_ax.set(xlabel=t_label, ylabel="fraction", title="components", ylim=(-0.05, 1.05))
    if len(shares):
        fraction_ax.legend(fontsize=8)
    return figure


def plot_lcf_fit(analysis: Any, spectrum: int = 0) -> Any:
    """One scan with its LCF: data, each weighted reference, the sum and the residual."""
    from matplotlib.figure import Figure

    if analysis.lcf is None:
        raise ValueError("this analysis ran no LCF step")
    result = analysis.lcf
    figure = Figure(figsize=(6.4, 4.8), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    fitted = result.weights[spectrum] @ result.basis
    top.plot(result.energy, result.data[spectrum], "k.", ms=3, label="data")
    for weight, label, basis in zip(result.weights[spectrum], result.references, result.basis):
        top.plot(result.energy, weight * basis, lw=0.8, label=f"{label} {weight:.3f}")
    top.plot(result.energy, fitted, "r-", lw=1.2, label="sum")
    top.set(ylabel="normalized μ", title=f"LCF of scan {spectrum}, R = {result.rfactor[spectrum]:.2e}")
    top.legend(fontsize=8)
    bottom.plot(result.energy, result.data[spectrum] - fitted, "k-", lw=0.8)
    bottom.set(xlabel="energy (eV)", ylabel="residual")
    return figure
