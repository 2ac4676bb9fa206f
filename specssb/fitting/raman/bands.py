"""Band maps: per-pixel band area, position, width and ratios of Raman maps.

Two routes from a map (a :class:`~specssb.spectrum.Spectrum` with leading dims, usually
``("y", "x")`` with coordinates in µm) to images of band quantities:

:func:`fit_band_maps`
    Every pixel fitted with a recipe on the batched engine (:func:`specssb.fitting.engine.fit`:
    one vectorized Levenberg–Marquardt over all pixels), then the fitted parameters laid back
    on the map: ``height``, ``center``, ``fwhm`` (and shape parameters), ``area``, ``fraction``
    and ``snr`` (height over the residual RMS) per component, with standard errors.
:func:`integrate_bands`
    No fitting: in each window, the area above a straight line drawn between the window's end
    points (each the mean of ``end_points`` channels), the height above that line, and the
    centroid position. Fast (one pass over the cube) and model-free; it cannot separate
    overlapping bands.

The result object
-----------------
A map of one quantity is a :class:`QuantityMap`: a small frozen dataclass holding the values
(shape = the map's leading shape), their standard errors, the unit, and the map's ``dims`` and
``coords`` (µm). A :class:`Spectrum` was not used because a band quantity has no spectral axis;
``QuantityMap.to_xarray()`` gives a labelled 2-D DataArray for plotting and
``to_dataframe()`` a tidy table (``y``, ``x``, value, stderr). :class:`BandMaps` holds every
(band, quantity) map of one analysis, indexed ``maps["lco_a1g", "center"]``, with the
per-pixel convergence and reduced χ², the tidy :attr:`BandMaps.frame`, and :meth:`BandMaps.ratio`.

Pixels whose spectra hold NaN in the fitted window (cells a map never measured) are not
fitted; their values are NaN and ``converged`` is False.

Physics checks
--------------
Both functions pass the ranges they use (a recipe's centre bounds, a window) to
:func:`specssb.library.raman_bands.check_overlaps`, which raises a
:class:`~specssb.errors.PhysicsWarning` where Li2O (≈523 cm-1) is used near Si (520.7 cm-1) or
the reverse.

Examples
--------
>>> import numpy as np
>>> from specssb.spectrum import Axis, Coord, Spectrum
>>> shift = np.linspace(350.0, 500.0, 301)
>>> centers = np.array([[424.0, 425.0], [426.0, 427.0]])
>>> data = 100 / (1 + ((shift - centers[..., None]) / 5.0) ** 2)
>>> raman = Spectrum(axis=Axis("raman_shift", "cm-1", shift), data=data, technique="raman",
...                  signal="counts", dims=("y", "x"),
...                  coords={"y": Coord("y", [0.0, 1.0], "um"), "x": Coord("x", [0.0, 1.0], "um")})
>>> maps = fit_band_maps(raman, "raman-ps4-band")
>>> np.round(maps["ps4", "center"].values, 3).tolist()
[[424.0, 425.0], [426.0, 427.0]]
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, FitError
from specssb.spectrum import Coord, Spectrum

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

    from specssb.fitting.recipe import Recipe
    from specssb.fitting.result import FitTable

__all__ = ["BandMaps", "QuantityMap", "band_ratio", "fit_band_maps", "integrate_bands"]


# ---------------------------------------------------------------------- result objects
@dataclass(frozen=True, eq=False)
class QuantityMap:
    """One scalar quantity over the positions of a map (a band area, a position, a score …).

    Attributes
    ----------
    name : str
        What it belongs to: a band (``"lco_a1g"``), a ratio (``"lco_eg/lco_a1g"``), a component
        (``"pc1"``), ``"cluster"``.
    quantity : str
        ``area``, ``center``, ``fwhm``, ``height``, ``snr``, ``ratio``, ``score``,
        ``abundance``, ``label`` …
    unit : str
        Unit of ``values`` (``cm-1`` for positions and widths, ``<signal unit>·cm-1`` for areas).
    values : ndarray of shape leading_shape
        One value per pixel; NaN where a pixel was not analysed.
    dims : tuple of str
        The map's leading dims, e.g. ``("y", "x")``.
    coords : Mapping of str to Coord
        The map's coordinates along those dims (µm for stage positions).
    stderr : ndarray of shape leading_shape or None
        Standard errors, where known.
    """

    name: str
    quantity: str
    unit: str
    values: np.ndarray
    dims: tuple[str, ...]
    coords: Mapping[str, Coord] = field(default_factory=dict)
    stderr: np.ndarray | None = None

    def __post_init__(self) -> None:
        values = np.array(self.values, copy=True)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        if values.ndim != len(self.dims):
            raise ValueError(f"values of shape {values.shape} do not match dims {self.dims}")
        if self.stderr is not None:
            stderr = np.array(self.stderr, dtype=float, copy=True)
            if stderr.shape != values.shape:
                raise ValueError(f"stderr {stderr.shape} and values {values.shape} differ in shape")
            stderr.setflags(write=False)
            object.__setattr__(self, "stderr", stderr)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the map (its leading shape)."""
        return tuple(self.values.shape)

    def coordinate(self, dim: str) -> np.ndarray:
        """Coordinate values along ``dim`` (the index 0, 1, … when the map has none)."""
        for coord in self.coords.values():
            if coord.dim == dim:
                return np.asarray(coord.values)
        return np.arange(self.shape[self.dims.index(dim)], dtype=float)

    def to_xarray(self) -> xr.DataArray:
        """A labelled :class:`xarray.DataArray` (dims and coords of the map; unit in attrs)."""
        import xarray as xr

        coords = {name: xr.Variable(c.dim, c.values, attrs={"units": c.unit})
                  for name, c in self.coords.items() if c.dim in self.dims}
        return xr.DataArray(np.array(self.values), dims=self.dims, coords=coords,
                            name=f"{self.name}_{self.quantity}", attrs={"units": self.unit})

    def to_dataframe(self) -> pd.DataFrame:
        """Tidy table: one row per pixel with its coordinates, ``value`` and ``stderr``."""
        grids = np.meshgrid(*[self.coordinate(d) for d in self.dims], indexing="ij")
        columns: dict[str, Any] = {d: g.ravel() for d, g in zip(self.dims, grids)}
        columns.update(name=self.name, quantity=self.quantity, value=self.values.ravel(),
                       stderr=(np.full(self.values.size, np.nan) if self.stderr is None
                               else self.stderr.ravel()), unit=self.unit)
        return pd.DataFrame(columns)


@dataclass(frozen=True, eq=False)
class BandMaps:
    """Every (band, quantity) map of one analysis of a map.

    Attributes
    ----------
    maps : Mapping of (str, str) to QuantityMap
        ``maps[("lco_a1g", "center")]``; also reachable as ``band_maps["lco_a1g", "center"]``.
    converged : ndarray of bool, shape leading_shape
        Fit converged (integrals: the window held finite data).
    redchi : ndarray of shape leading_shape
        Reduced χ² of each pixel's fit (NaN for integrals).
    method : str
        ``"fit"`` or ``"integral"``.
    table : FitTable or None
        The engine's table (fits only; its spectra are the analysed pixels in C order).
    """

    maps: Mapping[tuple[str, str], QuantityMap]
    converged: np.ndarray
    redchi: np.ndarray
    method: str
    table: FitTable | None = None

    def __getitem__(self, key: tuple[str, str]) -> QuantityMap:
        if key not in self.maps:
            known = ", ".join(f"{b}/{q}" for b, q in self.maps)
            raise KeyError(f"no map {key!r}; have {known}")
        return self.maps[key]

    @property
    def bands(self) -> list[str]:
        """Band names, in order."""
        return list(dict.fromkeys(b for b, _ in self.maps))

    @property
    def quantities(self) -> list[str]:
        """Quantity names, in order."""
        return list(dict.fromkeys(q for _, q in self.maps))

    def ratio(self, numerator: str, denominator: str, quantity: str = "area") -> QuantityMap:
        """``numerator``'s map over ``denominator``'s map of one quantity (see :func:`band_ratio`)."""
        return band_ratio(self[numerator, quantity], self[denominator, quantity])

    @property
    def frame(self) -> pd.DataFrame:
        """Tidy table of every map: coordinates, name, quantity, value, stderr, unit,
        converged, redchi."""
        parts = []
        for quantity_map in self.maps.values():
            part = quantity_map.to_dataframe()
            part["converged"] = self.converged.ravel()
            part["redchi"] = self.redchi.ravel()
            parts.append(part)
        return pd.concat(parts, ignore_index=True)


def band_ratio(numerator: QuantityMap, denominator: QuantityMap) -> QuantityMap:
    """Pixel-by-pixel ratio of two maps, with first-order error propagation.

    Parameters
    ----------
    numerator, denominator : QuantityMap
        Maps of the same shape (usually areas or heights of two bands).

    Returns
    -------
    QuantityMap
        ``name = "<numerator>/<denominator>"``, quantity ``ratio`` (unit ``1`` when the units
        agree); NaN where the denominator is zero or NaN. ``stderr`` is
        ``|r| sqrt((σa/a)² + (σb/b)²)`` when both maps have standard errors.

    Raises
    ------
    ValueError
        If the maps differ in shape.
    """
    if numerator.shape != denominator.shape:
        raise ValueError(f"maps differ in shape: {numerator.shape} and {denominator.shape}")
    a, b = np.asarray(numerator.values, float), np.asarray(denominator.values, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b != 0, a / b, np.nan)
        stderr = None
        if numerator.stderr is not None and denominator.stderr is not None:
            stderr = np.abs(ratio) * np.hypot(numerator.stderr / a, denominator.stderr / b)
    unit = "1" if numerator.unit == denominator.unit else f"({numerator.unit})/({denominator.unit})"
    return QuantityMap(f"{numerator.name}/{denominator.name}", "ratio", unit, ratio,
                       numerator.dims, numerator.coords, stderr)


# ---------------------------------------------------------------------- fitted maps
def fit_band_maps(
    spectrum: Spectrum,
    recipe: Recipe | str | os.PathLike[str],
    *,
    engine: str = "auto",
    weights: str | None = None,
    max_iterations: int = 200,
    workers: int = 1,
) -> BandMaps:
    """Fit every pixel of a map with a recipe and lay the parameters out as maps.

    Parameters
    ----------
    spectrum : Spectrum
        A Raman map (or any Spectrum with leading dims; a single spectrum gives 0-D maps).
    recipe : Recipe, str or PathLike
        A recipe, a built-in recipe name (``"raman-lco-soc"``) or a TOML file.
    engine, weights, max_iterations, workers
        Passed to :func:`specssb.fitting.engine.fit`.

    Returns
    -------
    BandMaps
        For every component: ``height``, ``center``, ``fwhm`` (and shape parameters), ``area``,
        ``fraction`` and ``snr`` maps; fitted background terms under ``"background"``.

    Raises
    ------
    ConfigError
        A recipe for another technique, or one that does not load.
    FitError
        No pixel with finite data in the recipe's window.

    Warns
    -----
    PhysicsWarning
        A component whose centre bounds reach a band it cannot be told from (Li2O near Si).
    ConvergenceWarning
        Pixels that did not converge (they carry ``converged = False``).
    """
    from specssb.fitting.engine import fit
    from specssb.fitting.recipe import Recipe, load_recipe
    from specssb.library.raman_bands import check_overlaps

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    if recipe.technique != spectrum.technique:
        raise ConfigError(f"recipe {recipe.name!r} is for {recipe.technique}, the spectrum is "
                          f"{spectrum.technique}", key="technique")
    check_overlaps(_center_ranges(recipe), stacklevel=2)
    leading, n = spectrum.leading_shape, spectrum.axis.size
    rows = spectrum.data.reshape(-1, n)
    window = recipe.select.window
    inside = np.ones(n, bool) if window is None else (
        (spectrum.axis.values >= min(window)) & (spectrum.axis.values <= max(window)))
    usable = np.isfinite(rows[:, inside]).all(axis=1)
    if not usable.any():
        raise FitError(f"{_name(spectrum)}: no pixel has finite data in the recipe's window")
    pixels = spectrum.replace(data=rows[usable], dims=("pixel",), coords={})
    table = fit(pixels, recipe, engine=engine, weights=weights, max_iterations=max_iterations,
                workers=workers)
    batch = table.batches[0]
    model = batch.model
    stats = batch.statistics or {}
    if not stats:
        from specssb.fitting.result import spectrum_statistics

        stats = spectrum_statistics(model, batch.full, batch.covariance)

    def lay_out(values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        out = np.full(rows.shape[0], fill, dtype=np.result_type(values, type(fill)))
        out[usable] = values
        return out.reshape(leading)

    axis_unit, signal_unit = batch.axis_unit, batch.signal_unit
    area_unit = f"{signal_unit}·{axis_unit}"
    noise = np.sqrt(np.asarray(batch.redchi, float)) if weights is None else np.full(len(batch.redchi), np.nan)
    maps: dict[tuple[str, str], QuantityMap] = {}

    def add(name: str, quantity: str, unit: str, values: np.ndarray, stderr: np.ndarray | None) -> None:
        maps[(name, quantity)] = QuantityMap(
            name, quantity, unit, lay_out(values), spectrum.dims, dict(spectrum.coords),
            None if stderr is None else lay_out(stderr))

    for j, parameter in enumerate(model.parameters):
        if parameter.component == "background":
            add("background", parameter.parameter, _unit(parameter.parameter, axis_unit, signal_unit),
                batch.full[:, j], stats["std_full"][:, j])
    for k, component in enumerate(model.components):
        for parameter, j in zip(component.shape.parameters, component.columns):
            add(component.name, parameter, _unit(parameter, axis_unit, signal_unit),
                batch.full[:, j], stats["std_full"][:, j])
        add(component.name, "area", area_unit, stats["area"][:, k], stats["area_std"][:, k])
        add(component.name, "fraction", "1", stats["fraction"][:, k], stats["fraction_std"][:, k])
        height = batch.full[:, component.columns[component.shape.parameters.index("height")]]
        with np.errstate(divide="ignore", invalid="ignore"):
            add(component.name, "snr", "1", height / noise, None)
    return BandMaps(maps, lay_out(np.asarray(batch.converged, bool), False),
                    lay_out(np.asarray(batch.redchi, float)), "fit", table)


def _center_ranges(recipe: Recipe) -> dict[str, tuple[float, float]]:
    """Component → the range its centre may take: bounds, or the fixed value."""
    ranges = {}
    for spec in recipe.parameter_specs():
        if spec.parameter != "center" or spec.tie is not None:
            continue
        value = spec.value if spec.value is not None else np.nan
        low = spec.min if math.isfinite(spec.min) else value
        high = spec.max if math.isfinite(spec.max) else value
        if math.isfinite(low) and math.isfinite(high):
            ranges[spec.component] = (low, high)
    return ranges


def _unit(parameter: str, axis_unit: str, signal_unit: str) -> str:
    if parameter in ("center", "fwhm") or "fwhm" in parameter:
        return axis_unit
    if parameter in ("height", "level"):
        return signal_unit
    if parameter == "slope":
        return f"{signal_unit}/{axis_unit}"
    return "1"


def _name(spectrum: Spectrum) -> str:
    return spectrum.source.path if spectrum.source is not None else "<memory>"


# ---------------------------------------------------------------------- quick integrals
def integrate_bands(
    spectrum: Spectrum,
    windows: Mapping[str, tuple[float, float]],
    *,
    end_points: int = 3,
) -> BandMaps:
    """Band areas, heights and centroids in windows, above a straight line between the ends.

    For each window ``[low, high]`` (axis units, either order; the axis may decrease), the
    baseline is the straight line through the mean of the first ``end_points`` and the mean of
    the last ``end_points`` points of the window (each at the mean position of its points).
    Then, with ``s = y − baseline``:

    * ``area`` = ∫ s dx (trapezoid rule over increasing x), unit ``<signal>·<axis unit>``;
    * ``height`` = max(s);
    * ``centroid`` = ∫ x·max(s, 0) dx / ∫ max(s, 0) dx, axis unit (the first moment: biased
      towards overlapping neighbours, unlike a fitted centre).

    Parameters
    ----------
    spectrum : Spectrum
        A map, series or single spectrum.
    windows : Mapping of str to (float, float)
        Band name → window. Names from :mod:`specssb.library.raman_bands` enable the overlap
        check.
    end_points : int, default 3
        Points averaged at each end for the baseline (≥ 1; at most a quarter of the window).

    Returns
    -------
    BandMaps
        ``method = "integral"``; maps ``(name, "area")``, ``(name, "height")``,
        ``(name, "centroid")``; NaN where the window holds NaN.

    Raises
    ------
    ValueError
        A window with fewer than ``max(3, 2 × end_points)`` points, or ``end_points < 1``.

    Warns
    -----
    PhysicsWarning
        A window named for a band that reaches a band it cannot be told from (Li2O near Si).

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Axis, Spectrum
    >>> x = np.linspace(300.0, 500.0, 2001)
    >>> y = 2.0 + 0.01 * x + 50 / (1 + ((x - 425.0) / 0.5) ** 2)
    >>> s = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=y, technique="raman", signal="counts")
    >>> maps = integrate_bands(s, {"ps4": (400.0, 450.0)}, end_points=1)
    >>> round(float(maps["ps4", "centroid"].values), 3)
    425.0
    """
    from specssb.library.raman_bands import check_overlaps

    if end_points < 1:
        raise ValueError(f"end_points must be at least 1, got {end_points}")
    check_overlaps(dict(windows), stacklevel=2)
    x_all = spectrum.axis.values
    leading = spectrum.leading_shape
    rows = np.asarray(spectrum.data, float).reshape(-1, x_all.size)
    signal_unit, axis_unit = spectrum.signal_unit, spectrum.axis.unit
    maps: dict[tuple[str, str], QuantityMap] = {}
    finite_everywhere = np.ones(rows.shape[0], bool)
    for name, (low, high) in windows.items():
        keep = np.flatnonzero((x_all >= min(low, high)) & (x_all <= max(low, high)))
        if keep.size < max(3, 2 * end_points):
            raise ValueError(f"window {name!r} [{low}, {high}] holds {keep.size} points; need at "
                             f"least {max(3, 2 * end_points)} (end_points = {end_points})")
        keep = keep[np.argsort(x_all[keep])]
        x, y = x_all[keep], rows[:, keep]
        finite_everywhere &= np.isfinite(y).all(axis=1)
        x0, x1 = x[:end_points].mean(), x[-end_points:].mean()
        y0, y1 = y[:, :end_points].mean(axis=1), y[:, -end_points:].mean(axis=1)
        baseline = y0[:, None] + (y1 - y0)[:, None] * ((x - x0) / (x1 - x0))[None, :]
        net = y - baseline
        area = np.trapezoid(net, x, axis=1)
        positive = np.clip(net, 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            centroid = np.trapezoid(positive * x, x, axis=1) / np.trapezoid(positive, x, axis=1)
        for quantity, unit, values in (("area", f"{signal_unit}·{axis_unit}", area),
                                       ("height", signal_unit, net.max(axis=1)),
                                       ("centroid", axis_unit, centroid)):
            maps[(name, quantity)] = QuantityMap(name, quantity, unit, values.reshape(leading),
                                                 spectrum.dims, dict(spectrum.coords))
    return BandMaps(maps, finite_everywhere.reshape(leading), np.full(leading, np.nan), "integral")
