"""Figures of the session report, as PNG data URIs that an HTML file can hold inline.

matplotlib's object API on bare ``Figure`` objects rendered by the Agg canvas (no pyplot state,
no display), like :mod:`specssb.fitting.plots`. Every figure is encoded as
``data:image/png;base64,…`` by :func:`figure_uri`, so the report is one file that makes no
network request.

The technique figures come from the fitting packages (:func:`specssb.fitting.plots.plot_fit`,
:func:`specssb.fitting.xas.plots.plot_series`, :func:`specssb.fitting.raman.plots.plot_maps`);
the ones here are the report's own: species versus cycle, an XAS series on the time axis of the
cycling curve, CSI profiles of several data sets, and the cycling record.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "figure_uri",
    "plot_csi_profiles",
    "plot_cycling",
    "plot_species_vs_cycle",
    "plot_xas_with_cycling",
    "representative_spectra",
]

#: Quantities drawn versus cycle, in this order (the others stay in the table).
CYCLE_QUANTITIES = ("fraction", "concentration", "integral", "area", "e0")
#: Species rows that are not species (fit background, LCF quality).
NOT_SPECIES = ("background", "lcf")
_HOUR_S = 3600.0


def figure_uri(figure: Any, *, dpi: int = 80) -> str:
    """Render a figure as a PNG ``data:`` URI.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    dpi : int, default 80
        Resolution: 80 keeps a report of a few dozen figures to a few MB.

    Returns
    -------
    str
        ``data:image/png;base64,…``
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # render with Agg whatever backend pyplot would pick
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def representative_spectra(n_spectra: int, count: int = 3) -> list[int]:
    """Spectrum numbers spread evenly over a table: first, …, last (at most ``count``)."""
    if n_spectra <= 0:
        return []
    return sorted({int(round(k)) for k in np.linspace(0, n_spectra - 1, min(count, n_spectra))})


# ---------------------------------------------------------------------- species vs cycle
def plot_species_vs_cycle(table: pd.DataFrame, *, title: str = "") -> Any:
    """Species versus cycle with error bars: one panel per quantity, one line per species.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`specssb.report.tracking.species_vs_cycle` (``species``, ``quantity``,
        ``cycle``, ``value``, ``stderr``, ``unit``, ``analysis``), usually of one technique.
    title : str

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no row has a cycle and a quantity of :data:`CYCLE_QUANTITIES`.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = table[table["quantity"].isin(CYCLE_QUANTITIES) & ~table["species"].isin(NOT_SPECIES)]
    rows = rows[pd.to_numeric(rows["cycle"], errors="coerce").notna()]
    quantities = [q for q in CYCLE_QUANTITIES if q in set(rows["quantity"])][:3]
    if not quantities:
        return None
    figure = Figure(figsize=(4.6 * len(quantities), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(quantities)))
    for ax, quantity in zip(axes, quantities):
        of = rows[rows["quantity"] == quantity]
        lines = of.groupby(["analysis", "species"], sort=False)
        for (analysis, species), group in lines:
            group = group.sort_values("cycle")
            errors = pd.to_numeric(group["stderr"], errors="coerce").fillna(0.0).to_numpy(float)
            label = str(species) if len(set(of["analysis"])) == 1 else f"{species} ({analysis})"
            ax.errorbar(group["cycle"].to_numpy(float), group["value"].to_numpy(float),
                        yerr=errors, marker="o", ms=3, lw=1, capsize=2, label=label)
        units = sorted({str(u) for u in of["unit"].dropna() if str(u).strip()})
        ax.set(xlabel="cycle", ylabel=f"{quantity} ({', '.join(units) or '-'})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if lines.ngroups <= 12:
            ax.legend(fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


# ---------------------------------------------------------------------- XAS over time
def plot_xas_with_cycling(frame: pd.DataFrame, cycler: pd.DataFrame | None, *, title: str = "") -> Any:
    """Edge position and component fractions of an XAS series over time, the cycling curve beneath.

    The three panels share one time axis: hours since the first scan. The cycling curve
    (potential versus time) is drawn over the span of the scans, with each scan marked.

    Parameters
    ----------
    frame : pandas.DataFrame
        The series' fit table (``XasAnalysis.table.frame``: ``acquired_at``, ``species``,
        ``quantity``, ``value``, ``stderr``).
    cycler : pandas.DataFrame or None
        From :func:`specssb.report.echem.read_cycler_table` (``Date Time``, ``Voltage / V``).
    title : str

    Returns
    -------
    matplotlib.figure.Figure or None
        None when the scans carry no acquisition time.
    """
    from matplotlib.figure import Figure

    times = pd.to_datetime(frame["acquired_at"], utc=True, errors="coerce")
    if times.isna().all():
        return None
    origin = times.min()
    elapsed = (times - origin).dt.total_seconds() / _HOUR_S  # aligned with frame's index
    hours = elapsed.to_numpy(float)
    has_cycler = cycler is not None and {"Date Time", "Voltage / V"} <= set(cycler.columns)
    figure = Figure(figsize=(8.0, 7.2 if has_cycler else 5.0), layout="constrained")
    axes = figure.subplots(3 if has_cycler else 2, 1, sharex=True,
                           height_ratios=(1, 1, 0.8) if has_cycler else (1, 1))
    edge_ax, share_ax = axes[0], axes[1]
    for quantity, marker in (("e0", "o"), ("half_height_energy", "s"), ("white_line_energy", "^")):
        mask = ((frame["species"] == "edge") & (frame["quantity"] == quantity)).to_numpy()
        if mask.any():
            edge_ax.plot(hours[mask], frame["value"].to_numpy(float)[mask], marker=marker, ms=3,
                         lw=0.8, label=quantity.replace("_", " "))
    edge_ax.set(ylabel="energy (eV)", title="edge position")
    if edge_ax.lines:
        edge_ax.legend(fontsize=7)
    shares = frame["quantity"].isin(["fraction", "concentration"]).to_numpy()
    for (species, quantity), group in frame[shares].groupby(["species", "quantity"], sort=False):
        x = elapsed.loc[group.index].to_numpy(float)
        order = np.argsort(x)
        values = group["value"].to_numpy(float)[order]
        errors = pd.to_numeric(group["stderr"], errors="coerce").fillna(0.0).to_numpy(float)[order]
        kind = "LCF" if quantity == "fraction" else "MCR"
        share_ax.errorbar(x[order], values, yerr=errors, marker="o", ms=3, lw=0.8, capsize=2,
                          label=f"{species} ({kind})")
    share_ax.set(ylabel="fraction", title="components")
    if share_ax.lines:
        share_ax.legend(fontsize=7)
    if has_cycler:
        _draw_potential(axes[2], cycler, origin, hours)
    axes[-1].set_xlabel(f"time since first scan (h; first scan {origin:%Y-%m-%d %H:%M} UTC)")
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def _draw_potential(ax: Any, cycler: pd.DataFrame, origin: pd.Timestamp, hours: np.ndarray) -> None:
    """Potential versus hours since ``origin`` over the scans' span, scans marked."""
    when = pd.to_datetime(cycler["Date Time"], utc=True, errors="coerce")
    t = ((when - origin).dt.total_seconds() / _HOUR_S).to_numpy(float)
    potential = pd.to_numeric(cycler["Voltage / V"], errors="coerce").to_numpy(float)
    low, high = float(np.nanmin(hours)), float(np.nanmax(hours))
    margin = max(0.05 * (high - low), 0.25)
    inside = (t >= low - margin) & (t <= high + margin)
    ax.plot(t[inside], potential[inside], color="0.2", lw=0.8)
    for x in np.unique(hours[np.isfinite(hours)]):
        ax.axvline(x, color="crimson", lw=0.5, alpha=0.4)
    ax.set(ylabel="potential (V)", title="cycling (red lines: scans)")
    if not inside.any():
        ax.text(0.5, 0.5, "the cycler record does not cover these scans", ha="center",
                va="center", transform=ax.transAxes)


# ---------------------------------------------------------------------- CSI
def plot_csi_profiles(profiles: Sequence[tuple[str, Any]], *, title: str = "") -> Any:
    """CSI integrals of several data sets (pristine, cycled, …): one panel per shift window.

    Parameters
    ----------
    profiles : sequence of (label, CsiProfiles)
        1D CSI: integral versus position with its standard error, one line per data set.
        2D CSI: one map per data set and window.
    title : str

    Returns
    -------
    matplotlib.figure.Figure or None
        None when ``profiles`` is empty.
    """
    from matplotlib.figure import Figure

    if not profiles:
        return None
    windows = list(dict.fromkeys(w for _, p in profiles for w in p.windows))
    if all(len(p.dims) == 1 for _, p in profiles):
        figure = Figure(figsize=(4.8 * len(windows), 3.2 + 0.22 * len(profiles)),
                        layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(windows)))
        for ax, window in zip(axes, windows):
            for label, item in profiles:
                if window not in item.windows:
                    continue
                position, integral, error = item.profile(window)
                ax.errorbar(position, np.real(integral), yerr=np.real(error), lw=0.9, ms=2,
                            marker=".", capsize=1.5, elinewidth=0.6, label=label)
            low, high = profiles[0][1].windows.get(window, (np.nan, np.nan))
            ax.set(xlabel="position (mm)", ylabel="integral (signal·ppm)",
                   title=f"{window} ({low:g} to {high:g} ppm)")
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", fontsize=7)
    else:
        figure = Figure(figsize=(3.6 * len(windows), 3.0 * len(profiles)), layout="constrained")
        axes = np.atleast_2d(figure.subplots(len(profiles), len(windows), squeeze=False))
        for row, (label, item) in zip(axes, profiles):
            for ax, window in zip(row, windows):
                if window not in item.windows:
                    ax.set_visible(False)
                    continue
                image = ax.imshow(np.real(item.integrals[window]), origin="lower", cmap="viridis")
                figure.colorbar(image, ax=ax)
                ax.set_title(f"{label}: {window}", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


# ---------------------------------------------------------------------- cycling
def plot_cycling(cycler: pd.DataFrame, summary: pd.DataFrame | None) -> Any:
    """The cycling record: potential versus time; capacities and Coulombic efficiency per cycle.

    Parameters
    ----------
    cycler : pandas.DataFrame
        From :func:`specssb.report.echem.read_cycler_table`.
    summary : pandas.DataFrame or None
        From :func:`specssb.report.echem.cycle_summary`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11.0, 3.6), layout="constrained")
    time_ax, capacity_ax = figure.subplots(1, 2, width_ratios=(1.6, 1))
    seconds = pd.to_numeric(cycler.get("Test Time / s"), errors="coerce")
    if seconds is not None and "Voltage / V" in cycler:
        time_ax.plot(seconds.to_numpy(float) / _HOUR_S, cycler["Voltage / V"].to_numpy(float),
                     color="0.2", lw=0.7)
    time_ax.set(xlabel="test time (h)", ylabel="potential (V)", title="cycling")
    if summary is not None and len(summary):
        cycles = summary["cycle"].to_numpy(float)
        capacity_ax.plot(cycles, summary["charge_capacity_mah"], "o-", ms=3, lw=0.8, label="charge")
        capacity_ax.plot(cycles, summary["discharge_capacity_mah"], "s-", ms=3, lw=0.8,
                         label="discharge")
        capacity_ax.set(xlabel="cycle", ylabel="capacity (mAh)", title="capacity per cycle")
        capacity_ax.legend(fontsize=7, loc="lower left")
        efficiency_ax = capacity_ax.twinx()
        efficiency_ax.plot(cycles, 100.0 * summary["coulombic_efficiency"].to_numpy(float), "^:",
                           color="crimson", ms=3, lw=0.8)
        efficiency_ax.set_ylabel("Coulombic efficiency (%)", color="crimson")
    else:
        capacity_ax.set_visible(False)
    return figure
