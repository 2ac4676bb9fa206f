"""Physics checks of XPS fits: the mistakes the XPS literature finds in a third of published fits.

Each check returns findings (rows of a table) and, by default, raises one
:class:`~specssb.errors.PhysicsWarning` per finding, so they show on the command line and in
reports. The checks (``check`` column):

``singlet_in_doublet_region``
    A species fitted with one component in a region whose core level is spin–orbit split
    (p, d, f levels: S 2p, P 2p, Ti 2p, Zr 3d …). In the NIST XPS-STD study up to half of the
    doublets were assigned as singlets (Conny & Powell 1998; Major et al. 2020).
``doublet_ratio``
    The fitted area ratio of a doublet's two lines is more than ``ratio_tolerance`` (relative)
    away from the (2j+1) ratio of the level: p 1:2, d 2:3, f 3:4. Only a ratio the recipe
    frees (``free_ratio = true``) can move.
``fwhm_range``
    A fitted FWHM outside ``fwhm_range_ev`` (default 0.3–3.5 eV: below the resolution of lab
    spectrometers, or wider than one chemical state of a core line normally is).
``species_range``
    A fitted center of a species' main line (the 2p3/2, 3d5/2 … line: the first component of
    the species) outside the binding-energy range of the species, given by ``species_ranges``
    (name → (low, high) eV; by default the species table of the fit's region).
``no_charge_reference``
    An XPS Spectrum without a ``charge_correction`` step in its history: its binding energies
    are as measured (see :mod:`specssb.fitting.xps.charge`).
``residual_structure``
    The signs of the residual form too few runs (Wald–Wolfowitz runs test, z below
    ``runs_z``): a component or background is missing or misplaced. The test needs no noise
    model.

References
----------
G. H. Major et al., J. Vac. Sci. Technol. A 38, 061203 (2020).
J. M. Conny, C. J. Powell, Surf. Interface Anal. 29, 444 (2000); NIST XPS-STD pages.
A. Wald, J. Wolfowitz, Ann. Math. Stat. 11, 147 (1940) (runs test).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import PhysicsWarning
from specssb.fitting.result import FitTable
from specssb.spectrum import Spectrum

__all__ = ["CHECKS", "check_fit", "doublet_ratio_of"]

CHECKS = (
    "singlet_in_doublet_region", "doublet_ratio", "fwhm_range", "species_range",
    "no_charge_reference", "residual_structure",
)
_COLUMNS = ["check", "spectrum", "source", "block", "index", "species", "value", "expected", "message"]
_L = {"s": 0, "p": 1, "d": 2, "f": 3}


def doublet_ratio_of(region: str) -> float | None:
    """Area ratio (j = l − ½ over j = l + ½) of the core level named in ``region``.

    ``"S 2p"`` → 0.5, ``"Zr 3d"`` → 2/3, ``"Au 4f"`` → 0.75, ``"C 1s"`` → None (not split),
    ``"Survey"`` → None. The ratio is (2j₁+1)/(2j₂+1) = l/(l+1).
    """
    match = re.search(r"\b\d\s*([spdf])(?:\d/2)?\b", str(region).lower())
    if match is None:
        return None
    l = _L[match.group(1)]
    return None if l == 0 else l / (l + 1)


def check_fit(
    table: FitTable,
    spectra: Sequence[Spectrum] | None = None,
    *,
    fwhm_range_ev: tuple[float, float] = (0.3, 3.5),
    species_ranges: Mapping[str, tuple[float, float]] | None = None,
    ratio_tolerance: float = 0.1,
    runs_z: float = -3.5,
    warn: bool = True,
) -> pd.DataFrame:
    """Run every check on a fit and return the findings.

    Parameters
    ----------
    table : FitTable
        An XPS fit (binding-energy axis).
    spectra : sequence of Spectrum, optional
        The Spectra that were fitted: their ``meta["region"]`` tells which core level a fit is
        (needed by the doublet checks) and their history whether they were charge-corrected.
        Without them only the FWHM, species-range and residual checks run.
    fwhm_range_ev : (float, float)
        Physical FWHM range, eV.
    species_ranges : mapping, optional
        Species name → (low, high) binding energy, eV. Default: the ranges of the fit's
        region in ``specssb/library/xps_species.toml``
        (:func:`specssb.library.xps_tables.species_ranges`).
    ratio_tolerance : float
        Relative deviation of a doublet area ratio that is reported.
    runs_z : float
        Runs-test z-score below which a residual is reported.
    warn : bool
        Also raise one PhysicsWarning per finding.

    Returns
    -------
    pandas.DataFrame
        Columns ``check, spectrum, source, block, index, species, value, expected, message``.
    """
    regions = _regions(spectra or [])
    rows: list[dict[str, Any]] = []
    for first, batch in _batches(table):
        region = _batch_region(batch, regions)
        ranges = species_ranges if species_ranges is not None else _table_ranges(region)
        rows += _component_checks(batch, first, region, fwhm_range_ev, ranges, ratio_tolerance)
        rows += _residual_checks(batch, first, runs_z)
    rows += _charge_checks(spectra or [])
    findings = pd.DataFrame(rows, columns=_COLUMNS)
    if warn:
        for message in findings["message"]:
            warnings.warn(message, PhysicsWarning, stacklevel=2)
    return findings


def _table_ranges(region: str) -> dict[str, tuple[float, float]]:
    """The species table's ranges for a region ({} for a region the table does not hold)."""
    if not region:
        return {}
    from specssb.library.xps_tables import species_ranges

    return species_ranges(region)


def _batches(table: FitTable) -> list[tuple[int, Any]]:
    out, first = [], 0
    for batch in table.batches:
        out.append((first, batch))
        first += len(batch.labels)
    return out


def _regions(spectra: Sequence[Spectrum]) -> dict[tuple[str, str], str]:
    regions = {}
    for s in spectra:
        source = s.source.path if s.source is not None else "<memory>"
        block = "" if s.source is None or s.source.block is None else str(s.source.block)
        regions[(source, block)] = str(s.meta.get("region", ""))
    return regions


def _batch_region(batch: Any, regions: Mapping[tuple[str, str], str]) -> str:
    for source, block, _ in batch.labels:
        if (source, block) in regions and regions[(source, block)]:
            return regions[(source, block)]
    return ""


def _where(batch: Any, first: int, i: int) -> dict[str, Any]:
    source, block, index = batch.labels[i]
    return {"spectrum": first + i, "source": source, "block": block, "index": index}


def _label(where: Mapping[str, Any]) -> str:
    block = f" block {where['block']}" if where["block"] else ""
    index = f" [{where['index']}]" if where["index"] else ""
    return f"{where['source']}{block}{index}"


def _component_checks(batch: Any, first: int, region: str, fwhm_range: tuple[float, float],
                      species_ranges: Mapping[str, tuple[float, float]], tolerance: float) -> list[dict]:
    model = batch.model
    rows: list[dict[str, Any]] = []
    by_species: dict[str, list[int]] = {}
    for k, component in enumerate(model.components):
        by_species.setdefault(component.species, []).append(k)
    ratio = doublet_ratio_of(region)
    areas = model.areas(batch.full)
    for m in range(len(batch.labels)):
        where = _where(batch, first, m)
        for species, members in by_species.items():
            if ratio is not None and len(members) == 1:
                rows.append({**where, "check": "singlet_in_doublet_region", "species": species,
                             "value": 1.0, "expected": 2.0, "message":
                             f"{_label(where)}: {species} is fitted as a singlet in the {region} region, "
                             f"whose lines are spin-orbit doublets (area ratio {ratio:.3g}): fit it as a doublet"})
            if ratio is not None and len(members) == 2:
                main, partner = areas[m, members[0]], areas[m, members[1]]
                if main > 0 and abs(partner / main - ratio) > tolerance * ratio:
                    rows.append({**where, "check": "doublet_ratio", "species": species,
                                 "value": partner / main, "expected": ratio, "message":
                                 f"{_label(where)}: the {species} doublet's area ratio is "
                                 f"{partner / main:.3f}, the {region} level's is {ratio:.3f}"})
        for k, component in enumerate(model.components):
            columns = dict(zip(component.shape.parameters, component.columns))
            fwhm, center = batch.full[m, columns["fwhm"]], batch.full[m, columns["center"]]
            if not fwhm_range[0] <= fwhm <= fwhm_range[1]:
                rows.append({**where, "check": "fwhm_range", "species": component.name, "value": fwhm,
                             "expected": float("nan"), "message":
                             f"{_label(where)}: {component.name} FWHM {fwhm:.2f} eV lies outside "
                             f"{fwhm_range[0]}-{fwhm_range[1]} eV"})
            low_high = species_ranges.get(component.species)
            is_main_line = by_species[component.species][0] == k  # ranges are of the main line
            if is_main_line and low_high is not None and not low_high[0] <= center <= low_high[1]:
                rows.append({**where, "check": "species_range", "species": component.name,
                             "value": center, "expected": float(np.mean(low_high)), "message":
                             f"{_label(where)}: {component.name} at {center:.2f} eV lies outside the "
                             f"{low_high[0]}-{low_high[1]} eV range of {component.species}"})
    return rows


def _residual_checks(batch: Any, first: int, runs_z: float) -> list[dict]:
    parts = batch.model.evaluate(batch.x, batch.full)
    residual = batch.y - batch.baseline - parts["envelope"]
    signs = residual > 0
    n_plus = signs.sum(axis=1).astype(float)
    n = signs.shape[1]
    n_minus = n - n_plus
    runs = 1 + (signs[:, 1:] != signs[:, :-1]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = 2 * n_plus * n_minus / n + 1
        variance = (mean - 1) * (mean - 2) / (n - 1)
        z = (runs - mean) / np.sqrt(variance)
    rows = []
    for m in np.flatnonzero(np.isfinite(z) & (z < runs_z)):
        where = _where(batch, first, int(m))
        rows.append({**where, "check": "residual_structure", "species": "", "value": float(z[m]),
                     "expected": 0.0, "message":
                     f"{_label(where)}: structure left in the residual ({runs[m]} runs of signs "
                     f"where {mean[m]:.0f} are expected, z = {z[m]:.1f}): a component or the "
                     "background is missing or misplaced"})
    return rows


def _charge_checks(spectra: Sequence[Spectrum]) -> list[dict]:
    rows = []
    seen = set()
    for s in spectra:
        if s.technique != "xps" or any(step.operation == "charge_correction" for step in s.history):
            continue
        source = s.source.path if s.source is not None else "<memory>"
        if source in seen:
            continue
        seen.add(source)
        rows.append({"check": "no_charge_reference", "spectrum": -1, "source": source, "block": "",
                     "index": "", "species": "", "value": float("nan"), "expected": float("nan"),
                     "message": f"{source}: no charge reference: binding energies are as measured "
                                "(specssb.fitting.xps.charge.charge_correct, or [calibrate] in the recipe)"})
    return rows
