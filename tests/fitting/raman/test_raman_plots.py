"""Raman map figures put the stage coordinates on the axes and leave unanalysed pixels blank."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Coord, Spectrum
from specssb.fitting.raman.bands import QuantityMap
from specssb.fitting.raman.decompose import kmeans
from specssb.fitting.raman.plots import plot_clusters, plot_map, plot_maps


def _map(values):
    coords = {"x": Coord("x", np.arange(values.shape[1]) * 2.0, "um"),
              "y": Coord("y", np.arange(values.shape[0]) * 2.0, "um")}
    return QuantityMap("lco_a1g", "center", "cm-1", values, ("y", "x"), coords)


def test_map_extent_is_the_stage_coordinates_of_the_pixel_edges():
    values = np.arange(12.0).reshape(3, 4)
    values[1, 1] = np.nan
    figure = plot_map(_map(values))
    ax = figure.axes[0]
    left, right = ax.get_xlim()
    assert (left, right) == pytest.approx((-1.0, 7.0))  # x = 0, 2, 4, 6 µm; 2 µm pixels
    assert "x (um)" == ax.get_xlabel() and ax.get_title() == "lco_a1g center"
    image = ax.get_images()[0]
    assert np.ma.is_masked(image.get_array()[1, 1]) or np.isnan(image.get_array()[1, 1])
    assert len(plot_maps([_map(values), _map(values * 2)]).axes) >= 2
    with pytest.raises(ValueError, match="two position dims"):
        plot_map(QuantityMap("a", "area", "", np.ones(3), ("point",)))


def test_cluster_figure_shows_every_cluster_mean():
    rng = np.random.default_rng(0)
    axis = Axis("raman_shift", "cm-1", np.linspace(400.0, 600.0, 50))
    band = np.exp(-0.5 * ((axis.values - np.where(np.arange(6)[:, None] < 3, 450.0, 550.0)) / 8) ** 2)
    data = np.repeat(band[None], 4, axis=0).reshape(4, 6, 50) + rng.normal(0, 0.01, (4, 6, 50))
    spectrum = Spectrum(axis=axis, data=data, technique="raman", signal="intensity", dims=("y", "x"))
    clustering = kmeans(spectrum, 2)
    figure = plot_clusters(clustering)
    assert len(figure.axes[1].get_lines()) == 2
    assert "k-means, 2 clusters" == figure.axes[0].get_title()
