"""Figures of Raman maps: band maps, ratio maps, cluster and component maps with their spectra.

matplotlib's object API on a bare ``Figure`` (no pyplot state), so figures render on a headless
instrument PC; save with :func:`specssb.fitting.plots.save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from specssb.fitting.raman.bands import QuantityMap

__all__ = ["plot_clusters", "plot_map", "plot_maps"]


def _extent(quantity: QuantityMap) -> tuple[list[float] | None, str, str]:
    """imshow extent from the map's coordinates (pixel centres), and the axis labels."""
    if len(quantity.dims) != 2:
        raise ValueError(f"a map needs two position dims, got {quantity.dims}")
    y_dim, x_dim = quantity.dims
    try:
        x, y = quantity.coordinate(x_dim), quantity.coordinate(y_dim)
    except (KeyError, ValueError):
        return None, x_dim, y_dim
    unit = quantity.coords[x_dim].unit if x_dim in quantity.coords else ""
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1) / 2 if len(x) > 1 else 0.5
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1) / 2 if len(y) > 1 else 0.5
    label = f" ({unit})" if unit else ""
    return [x[0] - dx, x[-1] + dx, y[-1] + dy, y[0] - dy], f"{x_dim}{label}", f"{y_dim}{label}"


def plot_map(quantity: QuantityMap, *, ax: Any = None, cmap: str = "viridis",
             limits: tuple[float, float] | None = None) -> Any:
    """One quantity over the map, with the stage coordinates on the axes and a colour bar.

    Parameters
    ----------
    quantity : QuantityMap
        From :func:`~specssb.fitting.raman.bands.fit_band_maps`, ``BandMaps.ratio``,
        :func:`~specssb.fitting.raman.bands.integrate_bands` or a decomposition.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    cmap : str
        Colour map; NaN pixels (not analysed, not converged) are left white.
    limits : (low, high), optional
        Colour range; default: the 2nd to 98th percentile of the finite values.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if ax is None:
        figure = Figure(figsize=(5.2, 4.0), layout="constrained")
        ax = figure.subplots()
    figure = ax.figure
    extent, x_label, y_label = _extent(quantity)
    values = np.asarray(quantity.values, float)
    finite = values[np.isfinite(values)]
    if limits is None and finite.size:
        limits = (float(np.percentile(finite, 2)), float(np.percentile(finite, 98)))
    image = ax.imshow(values, extent=extent, cmap=cmap, interpolation="nearest",
                      vmin=None if limits is None else limits[0],
                      vmax=None if limits is None else limits[1])
    ax.set(xlabel=x_label, ylabel=y_label, title=f"{quantity.name} {quantity.quantity}")
    figure.colorbar(image, ax=ax, label=quantity.unit or quantity.quantity)
    return figure


def plot_maps(quantities: Sequence[QuantityMap], *, columns: int = 3) -> Any:
    """Several maps side by side (one panel each)."""
    from matplotlib.figure import Figure

    rows = -(-len(quantities) // columns)
    figure = Figure(figsize=(4.6 * min(columns, len(quantities)), 3.7 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, min(columns, len(quantities)))).ravel()
    for ax, quantity in zip(axes, quantities):
        plot_map(quantity, ax=ax)
    for ax in axes[len(quantities):]:
        ax.set_visible(False)
    return figure


def plot_clusters(clustering: Any) -> Any:
    """The cluster label map beside the mean spectrum of every cluster, in the same colours."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.0), layout="constrained")
    map_ax, spectra_ax = figure.subplots(1, 2, width_ratios=(1, 1.3))
    n = len(clustering.counts)
    colours = colormaps["tab10"](np.arange(n) % 10)
    labels = clustering.labels
    extent, x_label, y_label = _extent(labels)
    values = np.ma.masked_less(np.asarray(labels.values, float), 0)
    map_ax.imshow(values, extent=extent, cmap=ListedColormap(colours), vmin=-0.5, vmax=n - 0.5,
                  interpolation="nearest")
    map_ax.set(xlabel=x_label, ylabel=y_label, title=f"k-means, {n} clusters")
    centers = clustering.centers
    for k in range(n):
        spectra_ax.plot(centers.axis.values, np.asarray(centers.data)[k], color=colours[k],
                        label=f"cluster {k} ({int(clustering.counts[k])} px)")
    spectra_ax.set(xlabel=f"{centers.axis.name.replace('_', ' ')} ({centers.axis.unit})",
                   ylabel="mean spectrum", title="cluster means")
    spectra_ax.legend(fontsize=8)
    return figure
