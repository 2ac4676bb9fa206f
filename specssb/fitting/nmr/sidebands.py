"""Spinning sidebands tied to the MAS rate, for deconvolution of MAS NMR spectra.

Under magic-angle spinning at :math:`\\nu_r` (Hz), an anisotropic interaction (chemical-shift
anisotropy, first-order quadrupolar satellite transitions, dipolar couplings) is refocused
into a centre band at the isotropic shift :math:`\\delta_0` and spinning sidebands at
multiples of the spinning rate (Maricq & Waugh 1979; Herzfeld & Berger 1980):

.. math::

    \\delta_n = \\delta_0 + n\\, \\frac{\\nu_r}{\\mathrm{SF}}, \\qquad n = \\pm 1, \\pm 2, \\ldots

with SF the spectrometer (reference) frequency in MHz, so :math:`\\nu_r/\\mathrm{SF}` is in ppm
(10 kHz at 155.5 MHz, 7Li at 9.4 T: 64.31 ppm). All bands of one site share the line width
(the isotropic part of the line is the same for every band), so the sideband components get

* ``center`` tied to the centre band by an **offset** of :math:`n\\nu_r/\\mathrm{SF}` ppm,
* ``fwhm`` and every shape parameter **equal** to the centre band's,
* ``height`` free (started from the data), or a fixed **ratio** of the centre band's height.

:func:`expand_sidebands` writes those ties into a new :class:`~specssb.fitting.recipe.Recipe`
(ordinary ``offset``/``equal``/``ratio`` ties), so the fit runs on either engine of
:func:`specssb.fitting.engine.fit` unchanged. The sideband intensities carry the anisotropy
(their Herzfeld–Berger analysis is not done here); the quantity a deconvolution usually needs
is the **whole manifold's area** (centre band + sidebands) per site: :func:`manifold_areas`.

References
----------
M. M. Maricq and J. S. Waugh, "NMR in rotating solids", *J. Chem. Phys.* 70 (1979) 3300.

J. Herzfeld and A. E. Berger, "Sideband intensities in NMR spectra of samples spinning at the
magic angle", *J. Chem. Phys.* 73 (1980) 6021.

D. Massiot et al., "Modelling one- and two-dimensional solid-state NMR spectra", *Magn. Reson.
Chem.* 40 (2002) 70 (dmfit: sideband manifolds in deconvolution of MAS spectra).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError
from specssb.fitting.recipe import Recipe
from specssb.fitting.result import COLUMNS, FitTable

__all__ = ["expand_sidebands", "manifold_areas", "sideband_name", "sideband_offset_ppm"]

_SIDEBAND = re.compile(r"^(?P<centre>.+)_ssb(?P<sign>[pm])(?P<order>\d+)$")


def sideband_offset_ppm(order: int, *, mas_rate_hz: float, sf_mhz: float) -> float:
    """Shift of the sideband of ``order`` from its centre band, ppm: ``order × ν_r / SF``.

    Examples
    --------
    >>> round(sideband_offset_ppm(1, mas_rate_hz=10_000, sf_mhz=155.5), 3)
    64.309
    """
    return order * mas_rate_hz / sf_mhz


def sideband_name(species: str, order: int) -> str:
    """Component name of a sideband: ``li2s_ssbp1`` (order +1), ``li2s_ssbm2`` (order −2)."""
    return f"{species}_ssb{'p' if order > 0 else 'm'}{abs(order)}"


def expand_sidebands(
    recipe: Recipe,
    *,
    mas_rate_hz: float,
    sf_mhz: float,
    orders: int | Sequence[int] = 2,
    species: Sequence[str] | None = None,
    height_ratio: float | Mapping[int, float] | None = None,
    window: Sequence[float] | None = None,
) -> Recipe:
    """A recipe whose centre-band components each gain spinning-sideband components.

    Parameters
    ----------
    recipe : Recipe
        The centre bands (``technique = "nmr"``, axis in ppm).
    mas_rate_hz : float
        Magic-angle spinning rate ν_r, Hz.
    sf_mhz : float
        Spectrometer reference frequency SF (``meta["sf_mhz"]``, or ``sfo1_mhz``), MHz.
    orders : int or sequence of int
        ``N`` for orders ±1 … ±N, or the explicit orders (non-zero integers).
    species : sequence of str, optional
        The components that get sidebands (default: every component written in the recipe).
    height_ratio : float or mapping of int to float, optional
        Fix each sideband's height to this ratio × its centre band's height (one number for
        every order, or one per order); default: heights free, started from the data.
    window : (low, high), ppm, optional
        Skip sidebands whose starting centre falls outside (a band outside the fitted axis has
        no data and cannot be fitted). Default: the recipe's ``[select] window``; none when
        that is absent.

    Returns
    -------
    Recipe
        The same recipe plus, after each chosen component, components
        :func:`sideband_name` (``<species>_ssbp1``, ``<species>_ssbm1`` …) with
        ``center = {tie = <species>, offset = n ν_r / SF}``, every other shape parameter tied
        equal, ``height`` free (``"guess"``, min 0) or ``{tie, factor = ratio}``. The MAS rate,
        SF and orders are written in the recipe's ``description`` (and the offsets in its ties,
        so they enter the recipe hash).

    Raises
    ------
    ConfigError
        For a non-positive rate or frequency, order 0, an unknown species, or a recipe that is
        not NMR.

    Examples
    --------
    >>> centre = Recipe.from_dict({"name": "li", "technique": "nmr", "component": [
    ...     {"species": "li2s", "shape": "lorentzian", "height": {"value": "guess", "min": 0},
    ...      "center": {"value": 2.3, "min": 1.5, "max": 3.0},
    ...      "fwhm": {"value": 1.0, "min": 0.2, "max": 5.0}}]})
    >>> full = expand_sidebands(centre, mas_rate_hz=10_000, sf_mhz=155.5, orders=1)
    >>> [c.name for c in full.components()]
    ['li2s', 'li2s_ssbp1', 'li2s_ssbm1']
    >>> next(s for s in full.parameter_specs() if s.name == "li2s_ssbm1_center").tie
    Tie(source='li2s_center', factor=1.0, offset=-64.30868167202573)
    """
    if recipe.technique != "nmr":
        raise ConfigError(f"spinning sidebands belong to NMR recipes, not {recipe.technique!r}",
                          key="technique")
    if not (mas_rate_hz > 0 and sf_mhz > 0):
        raise ConfigError(f"mas_rate_hz and sf_mhz must be positive, got {mas_rate_hz} and {sf_mhz}",
                          key="mas_rate_hz")
    wanted_orders = _orders(orders)
    written = [c.species for c in recipe.component]
    chosen = list(written if species is None else species)
    unknown = [s for s in chosen if s not in written]
    if unknown:
        raise ConfigError(f"no component {unknown} in recipe {recipe.name!r}; it has {written}",
                          key="species")
    ratios = _ratios(height_ratio, wanted_orders)
    if window is None:
        window = recipe.select.window
    starts = {s.name: s.value for s in recipe.parameter_specs()}
    document = recipe.to_dict()
    components: list[dict[str, Any]] = []
    for body in document.get("component", []):
        components.append(body)
        name = body["species"]
        if name not in chosen:
            continue
        centre_start = starts.get(f"{name}_center")
        for order in wanted_orders:
            offset = sideband_offset_ppm(order, mas_rate_hz=mas_rate_hz, sf_mhz=sf_mhz)
            if window is not None and centre_start is not None and not (
                    min(window) <= centre_start + offset <= max(window)):
                continue
            components.append(_sideband_body(body, order, offset, ratios.get(order)))
    document["component"] = components
    note = (f"spinning sidebands of {', '.join(chosen)}: MAS {mas_rate_hz:g} Hz, SF {sf_mhz:g} MHz, "
            f"orders {', '.join(f'{n:+d}' for n in wanted_orders)}")
    document["description"] = f"{document['description']}; {note}" if document.get("description") else note
    return Recipe.from_dict(document)


def _orders(orders: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(orders, (int, np.integer)):
        if orders < 1:
            raise ConfigError(f"orders must be >= 1, got {orders}", key="orders")
        return tuple(n for k in range(1, int(orders) + 1) for n in (k, -k))
    out = tuple(int(n) for n in orders)
    if not out or 0 in out or len(set(out)) != len(out):
        raise ConfigError(f"orders must be distinct non-zero integers, got {list(orders)}", key="orders")
    return out


def _ratios(height_ratio: float | Mapping[int, float] | None, orders: Sequence[int]) -> dict[int, float]:
    if height_ratio is None:
        return {}
    if isinstance(height_ratio, Mapping):
        ratios = {int(k): float(v) for k, v in height_ratio.items()}
        missing = [n for n in orders if n not in ratios]
        if missing:
            raise ConfigError(f"height_ratio gives no ratio for orders {missing}", key="height_ratio")
    else:
        ratios = {n: float(height_ratio) for n in orders}
    if any(not v > 0 for v in ratios.values()):
        raise ConfigError("height ratios must be positive", key="height_ratio")
    return ratios


def _sideband_body(centre: Mapping[str, Any], order: int, offset: float, ratio: float | None) -> dict[str, Any]:
    name = centre["species"]
    body: dict[str, Any] = {"species": sideband_name(name, order), "shape": centre["shape"]}
    for key in centre:
        if key in ("species", "shape"):
            continue
        if key == "doublet":
            body["doublet"] = {**centre["doublet"], "partner": f"{body['species']}_b"}
        elif key == "center":
            body["center"] = {"tie": name, "offset": offset}
        elif key == "height":
            body["height"] = ({"value": "guess", "min": 0.0} if ratio is None
                              else {"tie": name, "factor": ratio})
        else:
            body[key] = {"tie": name}
    return body


def manifold_areas(table: FitTable) -> FitTable:
    """Area of each site's whole sideband manifold (centre band + its sidebands), with errors.

    Parameters
    ----------
    table : FitTable
        The result of :func:`specssb.fitting.engine.fit` with a recipe from
        :func:`expand_sidebands` (it needs the table's batches, i.e. the fitted model and
        covariances).

    Returns
    -------
    FitTable
        Per spectrum × site: ``manifold_area`` (signal unit × ppm) and ``manifold_fraction``
        (share of the sum of all manifolds, unit 1). Standard errors propagate the full
        parameter covariance (with ties) through numerical gradients of the area formulas,
        as the table's own ``area`` rows do, so correlations between a centre band and its
        sidebands are counted.

    Raises
    ------
    ConfigError
        For a table without batches (built from a frame).
    """
    if not table.batches:
        raise ConfigError("manifold_areas() needs a table returned by fit() (with its batches)")
    frames, first = [], 0
    for batch in table.batches:
        model = batch.model
        names = [c.species for c in model.components]  # a doublet partner carries its main's
        owner = [_site_of(name, names) for name in names]
        sites = list(dict.fromkeys(owner))
        membership = np.array([[o == site for o in owner] for site in sites], float)
        areas, gradient = _area_gradients(model, batch.full)
        matrix = model.tie_matrix
        cov_full = matrix @ batch.covariance @ matrix.T
        site_area = areas @ membership.T  # (m, g)
        site_gradient = np.einsum("gk,mkn->mgn", membership, gradient)
        total = site_area.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = site_area / total
            total_gradient = site_gradient.sum(axis=1, keepdims=True)
            fraction_gradient = (site_gradient * total[:, :, None]
                                 - site_area[:, :, None] * total_gradient) / total[:, :, None] ** 2
        area_std = np.sqrt(np.clip(np.einsum("mgi,mij,mgj->mg", site_gradient, cov_full, site_gradient), 0, None))
        fraction_std = np.sqrt(np.clip(
            np.einsum("mgi,mij,mgj->mg", fraction_gradient, cov_full, fraction_gradient), 0, None))
        m, g = site_area.shape
        unit = f"{batch.signal_unit}·{batch.axis_unit}"
        for quantity, value, error, q_unit in (("manifold_area", site_area, area_std, unit),
                                              ("manifold_fraction", fraction, fraction_std, "1")):
            labels = [batch.labels[i] for i in range(m)]
            frames.append(pd.DataFrame({
                "spectrum": np.repeat(np.arange(m) + first, g),
                "source": np.repeat([lab[0] for lab in labels], g),
                "block": np.repeat([lab[1] for lab in labels], g),
                "index": np.repeat([lab[2] for lab in labels], g),
                "species": np.tile(sites, m),
                "quantity": quantity,
                "value": value.ravel(),
                "stderr": error.ravel(),
                "unit": q_unit,
                "converged": np.repeat(batch.converged, g),
                "redchi": np.repeat(batch.redchi, g),
                "recipe": f"{model.recipe_name} {model.recipe_hash}".strip(),
                "engine": batch.engine,
            }))
        first += m
    frame = pd.concat(frames, ignore_index=True).sort_values(["spectrum"], kind="stable")
    return FitTable.from_frame(frame[list(COLUMNS)])


def _site_of(name: str, names: Sequence[str]) -> str:
    """The centre band a component's species belongs to (itself when not a sideband)."""
    match = _SIDEBAND.match(name)
    if match is not None and match["centre"] in names:
        return _site_of(match["centre"], names)
    return name


def _area_gradients(model: Any, full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Areas (m, k) and their central-difference gradients over the full parameters (m, k, n)."""
    areas = model.areas(full)
    gradient = np.zeros((*areas.shape, full.shape[1]))
    for component in model.components:
        for j in component.columns:
            step = 1e-6 * np.maximum(np.abs(full[:, j]), 1e-6)
            up, down = full.copy(), full.copy()
            up[:, j] += step
            down[:, j] -= step
            gradient[:, :, j] = (model.areas(up) - model.areas(down)) / (2 * step[:, None])
    return areas, gradient
