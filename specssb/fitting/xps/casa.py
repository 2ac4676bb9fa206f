"""Import a CasaXPS model stored in a VAMAS block as a :class:`~specssb.fitting.recipe.Recipe`.

CasaXPS keeps its fit in the comment of each VAMAS block: one ``CASA region`` line per region
(limits, background, RSF), one ``CASA comp`` line per component (line shape, Area, FWHM and
Position with bounds and links) and ``Calib`` lines for energy calibrations. The layout is
documented in :func:`parse_casa_comments`; :func:`casa_definitions` reads it off a Spectrum of
the VAMAS reader, :func:`recipe_from_casa` turns it into a Recipe, :func:`evaluate_recipe`
draws a recipe at its starting values (CasaXPS's own parameters, for an imported model) and
:func:`casa_parameters` converts fitted specssb parameters back to CasaXPS's Area, FWHM and
Position.

Conversions (every one, with its accuracy)
------------------------------------------
Energies
    CasaXPS stores positions and region limits on the block's kinetic-energy scale;
    they become binding energies with the reader's own conversion ``BE = hv − KE − phi``
    (the ``kinetic_to_binding_energy`` step of the Spectrum's history), bounds swapped,
    Position link offsets negated. Exact.
Region
    ``[select] window = [low, high]`` (BE) and the background's ``limits``. The engine fits the
    channels inside the window only, as CasaXPS fits the region.
Background
    ``U 2 Tougaard`` / ``U 3 Tougaard`` → ``tougaard`` with ``family``, ``b c d t0`` from the
    region's four cross-section numbers and ``fit_b = true`` (B rescaled so the background meets
    the high-BE end, which is what CasaXPS's stored B satisfies: 335.458 refitted vs 335.446
    stored on ``FeO_analyzed.vms``); ``Shirley`` → ``shirley``; ``Linear`` → ``linear``.
    CasaXPS's "Av Width" ``w`` → ``average = w // 2`` channels on each side (2·average + 1
    averaged): verified only for Av Width 2, where ``average = 1`` reproduces the exported
    background to 2.8 counts and ``average = 2`` misses by 26. When the engine fits, the
    window cuts the data first, so the end averages use only the channels inside the region
    (``average + 1`` of them); :func:`evaluate_recipe` uses the full spectrum as CasaXPS does.
    U 4, Step Up/Down, other types and non-zero Start/End Offsets raise ConfigError.
Line shapes
    ``SGL(m)`` → ``sgl`` and ``GL(m)`` → ``gl`` with ``m`` fixed: the same functions (SGL
    checked to 1.3e-6 of the peak, see ``get_lineshape("sgl").function``), ``fwhm = F`` and
    ``center = Position``. ``LF(α,β,w,m,k)``: CasaXPS does not publish how its w and m indices
    map to widths, so only the parameter sets of :data:`LF_STAND_INS` (fitted once to a CasaXPS
    export) are translated, to ``lf`` with ``fwhm = K_fwhm·F``, ``center = Position +
    K_center·F`` and fixed ``alpha``, ``beta``, ``tail_damping``, ``gauss_ratio``; any other LF
    set, LA, DS, reference-spectrum shapes (``&NAME``) and unknown shapes raise ConfigError
    naming the shape.
Heights
    ``height = Area · s · a / U`` with ``U`` the shape's analytic area at unit height (its
    ``area``), ``s`` the intensity scale (CasaXPS Areas are in CPS·eV: ``s = dwell_time_s ·
    n_scans`` for a counts spectrum, 1 for CPS; checked: the FeO export has CPS = counts/2 at
    2 s dwell and 1 scan) and ``a`` the shape's area factor (1, or the stand-in's: CasaXPS's LF
    Area is 0.12 % below the integral of the ``lf`` stand-in). Area bounds convert the same way
    at the starting FWHM. Reached on ``FeO_analyzed.vms``: SGL components within 0.14 % of
    their maximum (CasaXPS's Area is 0.09 % above the analytic SGL area), LF within 0.17 %.
Links
    Area ``target = f × source`` → height tie with factor ``f · (a_t/a_s) · (U_s/U_t)`` at
    the starting widths: exact when both components have the same shape and their FWHMs are
    linked too, otherwise a PhysicsWarning says the ratio holds at the starting widths only.
    FWHM ``target = r × source`` → fwhm tie, factor ``r · K_t/K_s`` (exact).
    Position ``target = source + o`` → center tie, offset
    ``o + K_center,t F_t − K_center,s F_s`` at the starting FWHMs (exact for SGL/GL; for the
    LF stand-in off by 0.0036 × the change of the FWHMs during the fit, < 1 meV for 0.2 eV).
Sensitivity factors
    ``[steps] rsf = {species = RSF}`` (the mapping :func:`specssb.fitting.xps.quantify.quantify`
    takes as ``rsf=``) and every CasaXPS field not used by the model under ``[steps.casa]``.
Species
    Component names made identifiers and deduplicated: ``Fe 2p`` ×4 → ``fe_2p``, ``fe_2p_2``,
    ``fe_2p_3``, ``fe_2p_4``.
Calibrations
    ``Calib`` lines are recorded under ``[steps.casa] calibrations`` and **not** applied (it is
    not documented whether stored positions are before or after calibration); a PhysicsWarning
    says so.

References
----------
CasaXPS manual, "Line Shapes", "Regions property page", "Quantification" (casaxps.com).
Field names as in pynxtools-xps ``vms/casa_data_model.py`` (Apache-2.0; read, not copied).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, PhysicsWarning
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.xps._casa_comments import (
    CasaBlock,
    CasaCalibration,
    CasaComponent,
    CasaParameter,
    CasaRegion,
    parse_casa_comments,
)
from specssb.spectrum import Spectrum

__all__ = [
    "LF_STAND_INS",
    "CasaBlock",
    "CasaCalibration",
    "CasaComponent",
    "CasaParameter",
    "CasaRegion",
    "LFStandIn",
    "casa_definitions",
    "casa_parameters",
    "evaluate_recipe",
    "parse_casa_comments",
    "recipe_from_casa",
]


@dataclass(frozen=True)
class LFStandIn:
    """specssb ``lf`` parameters equivalent to one CasaXPS LF(…) parameter set.

    Attributes
    ----------
    fwhm_factor : float
        ``lf`` fwhm / CasaXPS FWHM.
    center_per_fwhm : float
        (``lf`` center − CasaXPS Position) / CasaXPS FWHM.
    tail_damping, gauss_ratio : float
        Fixed ``lf`` shape parameters.
    area_factor : float
        ``height · lf area`` / CasaXPS Area (in the spectrum's intensity unit).
    verified_on : str
        Where the equivalence was established and how well it holds.
    """

    fwhm_factor: float
    center_per_fwhm: float
    tail_damping: float
    gauss_ratio: float
    area_factor: float
    verified_on: str


#: CasaXPS LF parameter sets (α, β, w, m, fifth number) with a verified ``lf`` equivalent.
#: The constants were fitted once to component 1 of ``FeO_analyzed_lineshapes_cols.txt``
#: (``tests/fitting/test_lineshapes.py``); components 1 and 3 then agree to 0.17 % of their
#: maximum, 0.24 % from the exported Area.
LF_STAND_INS: Mapping[tuple[float, ...], LFStandIn] = MappingProxyType({
    (0.54, 10.0, 80.0, 100.0, 6.0): LFStandIn(
        0.5177, -0.00357, 16.44, 1.556, 1.0012,
        "FeO_analyzed_lineshapes_cols.txt (pynxtools-xps), Fe 2p: 0.17 % of the peak",
    ),
})

_SHAPE = re.compile(r"^([A-Za-z]+)\(([^()]*)\)$")
_SUPPORTED_BACKGROUNDS = "Linear, Shirley, U 2 Tougaard, U 3 Tougaard"


@dataclass(frozen=True)
class _Translation:
    shape: str
    fixed: dict[str, float]
    fwhm_factor: float = 1.0
    center_per_fwhm: float = 0.0
    area_factor: float = 1.0


def _translate(lineshape: str) -> _Translation:
    """A CasaXPS line shape as a specssb shape, or ConfigError naming it."""
    match = _SHAPE.match(lineshape.strip())
    family = match.group(1).upper() if match else ""
    try:
        numbers = tuple(float(v) for v in match.group(2).split(",")) if match else ()
    except ValueError:
        numbers, family = (), ""
    if family in ("SGL", "GL") and len(numbers) == 1 and 0.0 <= numbers[0] <= 100.0:
        return _Translation(family.lower(), {"m": numbers[0]})
    if family == "LF" and numbers in LF_STAND_INS:
        lf = LF_STAND_INS[numbers]
        fixed = {"alpha": numbers[0], "beta": numbers[1], "tail_damping": lf.tail_damping,
                 "gauss_ratio": lf.gauss_ratio}
        return _Translation("lf", fixed, lf.fwhm_factor, lf.center_per_fwhm, lf.area_factor)
    if family in ("LF", "LA", "DS"):
        verified = ", ".join("LF(" + ",".join(f"{v:g}" for v in key) + ")" for key in LF_STAND_INS)
        reason = (f"CasaXPS line shape {lineshape!r} is not supported: CasaXPS does not publish "
                  f"how its {family} width indices map to widths, and specssb translates only "
                  f"the parameter sets verified against a CasaXPS export ({verified})")
    elif lineshape.startswith("&"):
        reason = (f"CasaXPS line shape {lineshape!r} is a reference-spectrum shape (built from "
                  "another block's data); specssb has no equivalent")
    else:
        reason = (f"CasaXPS line shape {lineshape!r} has no specssb equivalent (supported: "
                  "SGL(m), GL(m) and the verified LF sets)")
    raise ConfigError(reason, key="lineshape")


# ----------------------------------------------------------------------------- reading
def _block_name(spectrum: Spectrum) -> str:
    if spectrum.source is not None and spectrum.source.block is not None:
        return str(spectrum.source.block)
    return str(spectrum.meta.get("region", "<memory>"))


def _conversion(spectrum: Spectrum) -> tuple[float | None, float]:
    """``(hv, phi)`` of the reader's KE -> BE conversion; ``(None, 0)`` for a stored BE axis."""
    if spectrum.axis.name != "binding_energy":
        raise ConfigError(
            f"block {_block_name(spectrum)!r} has a {spectrum.axis.name} axis; CasaXPS models "
            "are imported on binding energy: read the file with energy='binding'",
            key="spectrum",
        )
    for step in spectrum.history:
        if step.operation == "kinetic_to_binding_energy":
            return (float(step.parameters["excitation_energy_ev"]),
                    float(step.parameters.get("work_function_ev", 0.0)))
    return None, 0.0


def casa_definitions(spectrum: Spectrum) -> CasaBlock:
    """The CasaXPS regions, components and calibrations of a VAMAS block, on binding energy.

    Parameters
    ----------
    spectrum : Spectrum
        One block of :func:`specssb.parsers.xps_vamas.read_vamas` (its ``raw_meta["comment"]``),
        read with ``energy="binding"``.

    Returns
    -------
    CasaBlock
        Positions and region limits converted with the Spectrum's own KE -> BE conversion (kept
        as stored when the file's abscissa already was binding energy).

    Raises
    ------
    ConfigError
        For a kinetic-energy axis.

    Warns
    -----
    MetadataWarning
        For each malformed CASA/Calib line (skipped).
    """
    hv, phi = _conversion(spectrum)
    comment = spectrum.raw_meta.get("comment", "")
    return parse_casa_comments(str(comment or ""), block=_block_name(spectrum),
                               excitation_energy_ev=hv, work_function_ev=phi)


def _choose_region(casa: CasaBlock, region: int | str | None) -> CasaRegion:
    names = [r.name for r in casa.regions]
    if not casa.regions:
        raise ConfigError(f"block {casa.block!r} has no CASA region line; a CasaXPS model "
                          "needs a region (limits and background)", key="region")
    if region is None:
        if len(casa.regions) > 1:
            raise ConfigError(f"block {casa.block!r} has {len(names)} CASA regions {names}; "
                              "choose one with region=<name or index>", key="region")
        return casa.regions[0]
    if isinstance(region, int):
        if not -len(names) <= region < len(names):
            raise ConfigError(f"region index {region} out of range for {names}", key="region")
        return casa.regions[region]
    if region not in names:
        raise ConfigError(f"no CASA region {region!r} in block {casa.block!r}; regions: {names}",
                          key="region")
    return casa.regions[names.index(region)]


def _background(region: CasaRegion, problems: list[str]) -> dict[str, Any]:
    kind = " ".join(region.background.split())
    table: dict[str, Any] = {"average": int(region.average_width // 2),
                             "limits": [float(v) for v in region.limits]}
    if region.start_offset or region.end_offset:
        problems.append(f"region {region.name!r}: Start/End Offset "
                        f"{region.start_offset:g}/{region.end_offset:g} % is not supported")
    if kind in ("U 2 Tougaard", "U 3 Tougaard"):
        if len(region.cross_section) < 4:
            problems.append(f"region {region.name!r}: {kind} needs 4 cross-section numbers "
                            f"(B C D T0), found {list(region.cross_section)}")
            return {}
        b, c, d, t0 = (float(v) for v in region.cross_section[:4])
        return {"kind": "tougaard", "family": "U" + kind[2], "b": b, "c": c, "d": d, "t0": t0,
                "fit_b": True, **table}
    if kind in ("Shirley", "Linear"):
        return {"kind": kind.lower(), **table}
    problems.append(f"region {region.name!r}: CasaXPS background {region.background!r} has no "
                    f"specssb equivalent (supported: {_SUPPORTED_BACKGROUNDS})")
    return {}


def _intensity_scale(spectrum: Spectrum) -> float:
    """Spectrum intensity per CasaXPS CPS: dwell time × scans for counts, 1 for CPS."""
    if spectrum.signal == "cps":
        return 1.0
    dwell = spectrum.meta.get("dwell_time_s")
    if spectrum.signal != "counts" or dwell is None or not dwell > 0:
        warnings.warn(
            f"block {_block_name(spectrum)!r}: signal {spectrum.signal!r} without a dwell time; "
            "CasaXPS Areas (CPS·eV) are taken in the spectrum's own intensity unit",
            MetadataWarning, stacklevel=3,
        )
        return 1.0
    return float(dwell) * float(spectrum.meta.get("n_scans", 1))


def _species_labels(names: list[str]) -> list[str]:
    """Identifiers from component names, deduplicated: fe_2p, fe_2p_2, …"""
    labels: list[str] = []
    for name in names:
        base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        if not base or not base[0].isalpha():
            base = f"c_{base}" if base else "component"
        label, count = base, 1
        while label in labels:
            count += 1
            label = f"{base}_{count}"
        labels.append(label)
    return labels


# ----------------------------------------------------------------------------- the recipe
def _free(value: float, lower: float, upper: float, what: str) -> float | dict[str, float]:
    """A Param table; fixed when the bounds are equal; bounds widened to hold the value."""
    lower, upper = sorted((float(lower), float(upper)))
    if lower == upper:
        return float(value)
    if not lower <= value <= upper:
        warnings.warn(f"{what}: CasaXPS value {value:g} outside its bounds [{lower:g}, "
                      f"{upper:g}]; bounds widened to hold it", MetadataWarning, stacklevel=4)
        lower, upper = min(lower, value), max(upper, value)
    return {"value": float(value), "min": lower, "max": upper}


def _unit_area(translation: _Translation, center: float, fwhm: float) -> float:
    shape = get_lineshape(translation.shape)
    fixed = [translation.fixed[p] for p in shape.parameters[3:]]
    return float(shape.area(1.0, center, fwhm, *fixed))


def _component_tables(
    components: tuple[CasaComponent, ...], translations: list[_Translation], labels: list[str],
    scale: float, block: str,
) -> list[dict[str, Any]]:
    tables = []
    starts = []  # (center, fwhm, unit area) per component, specssb units
    for comp, tr, label in zip(components, translations, labels):
        fwhm = tr.fwhm_factor * comp.fwhm.value
        shift = tr.center_per_fwhm * comp.fwhm.value
        center = comp.position.value + shift
        unit = _unit_area(tr, center, fwhm)
        starts.append((center, fwhm, unit))
        per_area = scale * tr.area_factor / unit
        where = f"block {block!r} component {label!r}"
        table: dict[str, Any] = {
            "species": label, "shape": tr.shape,
            "height": _free(comp.area.value * per_area, comp.area.lower * per_area,
                            comp.area.upper * per_area, f"{where} Area"),
            "center": _free(center, comp.position.lower + shift, comp.position.upper + shift,
                            f"{where} Position"),
            "fwhm": _free(fwhm, tr.fwhm_factor * comp.fwhm.lower,
                          tr.fwhm_factor * comp.fwhm.upper, f"{where} FWHM"),
        }
        table.update({k: float(v) for k, v in tr.fixed.items()})
        tables.append(table)
    for k, comp in enumerate(components):
        _add_ties(tables, k, components, translations, labels, starts, block)
    return tables


def _add_ties(
    tables: list[dict[str, Any]], k: int, components: tuple[CasaComponent, ...],
    translations: list[_Translation], labels: list[str],
    starts: list[tuple[float, float, float]], block: str,
) -> None:
    """Replace component ``k``'s linked parameters by ties (conversions: module docstring)."""
    comp, tr = components[k], translations[k]
    for key, parameter in (("height", comp.area), ("fwhm", comp.fwhm), ("center", comp.position)):
        source = parameter.link
        if source is None:
            continue
        if not 0 <= source < len(components) or source == k:
            raise ConfigError(f"block {block!r} component {labels[k]!r}: link to component "
                              f"index {source} (of {len(components)}) is not another component",
                              key="link")
        src = translations[source]
        constant = parameter.link_constant
        if key == "height":
            factor = (constant * tr.area_factor / src.area_factor
                      * starts[source][2] / starts[k][2])
            tie = {"tie": f"{labels[source]}.height", "factor": factor}
            if comp.fwhm.link != source or tr.shape != src.shape:
                warnings.warn(
                    f"block {block!r}: the Area link of {labels[k]!r} to {labels[source]!r} "
                    "becomes a height tie whose ratio holds at the starting widths only (their "
                    "FWHMs are not linked, or their shapes differ)", PhysicsWarning, stacklevel=4)
        elif key == "fwhm":
            tie = {"tie": f"{labels[source]}.fwhm",
                   "factor": constant * tr.fwhm_factor / src.fwhm_factor}
        else:
            offset = (constant + tr.center_per_fwhm * comp.fwhm.value
                      - src.center_per_fwhm * components[source].fwhm.value)
            tie = {"tie": f"{labels[source]}.center", "offset": offset}
        tables[k][key] = tie


def recipe_from_casa(
    spectrum: Spectrum, *, name: str | None = None, region: int | str | None = None
) -> Any:
    """The CasaXPS model stored in a VAMAS block, as a Recipe on binding energy.

    Parameters
    ----------
    spectrum : Spectrum
        One block of :func:`~specssb.parsers.xps_vamas.read_vamas` (``energy="binding"``).
    name : str, optional
        Recipe name; default ``casa-<block>``.
    region : int or str, optional
        Which CASA region (index or name) when the block has several.

    Returns
    -------
    Recipe
        Window and background from the region, one component per ``CASA comp`` line at
        CasaXPS's values (free within CasaXPS's bounds, tied where CasaXPS links), RSFs and
        every other CasaXPS field under ``[steps]``. The conversions and their accuracy are
        listed in the module documentation.

    Raises
    ------
    ConfigError
        The block holds no CASA definitions, several regions and no choice, a background or
        line shape specssb lacks (every one named), or a link to a missing component.

    Warns
    -----
    PhysicsWarning
        An Area link that holds at the starting widths only; calibrations recorded, not applied.
    MetadataWarning
        Malformed CASA lines (skipped); a value outside its bounds; no dwell time.

    Examples
    --------
    >>> from specssb.parsers.xps_vamas import read_vamas
    >>> recipe = recipe_from_casa(read_vamas("FeO_analyzed.vms")[0])  # doctest: +SKIP
    >>> [c.species for c in recipe.component]                          # doctest: +SKIP
    ['fe_2p', 'fe_2p_2', 'fe_2p_3', 'fe_2p_4']
    """
    from specssb.fitting.recipe import Recipe

    casa = casa_definitions(spectrum)
    if not casa.regions and not casa.components:
        raise ConfigError(f"block {casa.block!r} holds no CasaXPS region or component "
                          "definitions (no 'CASA region'/'CASA comp' comment lines)",
                          key="spectrum")
    chosen = _choose_region(casa, region)
    if not casa.components:
        raise ConfigError(f"block {casa.block!r} has a CASA region but no CASA comp line",
                          key="spectrum")
    problems: list[str] = []
    background = _background(chosen, problems)
    translations: list[_Translation] = []
    for comp in casa.components:
        try:
            translations.append(_translate(comp.lineshape))
        except ConfigError as error:
            problems.append(f"component {comp.name!r}: {error.reason}")
    if problems:
        raise ConfigError(f"block {casa.block!r}: " + "; ".join(problems), key="spectrum")
    labels = _species_labels([c.name for c in casa.components])
    scale = _intensity_scale(spectrum)
    document: dict[str, Any] = {
        "name": name or "casa-" + (re.sub(r"[^a-z0-9]+", "-", casa.block.lower()).strip("-")
                                    or "block"),
        "description": (f"CasaXPS model of block {casa.block!r}: region {chosen.name!r} "
                        f"({chosen.background}), {len(labels)} components"),
        "technique": "xps",
        "select": {"window": [float(v) for v in chosen.limits]},
        "background": background,
        "component": _component_tables(casa.components, translations, labels, scale, casa.block),
        "steps": {"rsf": {label: float(c.rsf) for label, c in zip(labels, casa.components)
                          if c.rsf is not None},
                  "casa": _steps(casa, chosen, labels, translations, scale)},
    }
    if spectrum.meta.get("region"):
        document["select"]["region"] = str(spectrum.meta["region"])
    if casa.calibrations:
        warnings.warn(f"block {casa.block!r}: {len(casa.calibrations)} CasaXPS energy "
                      "calibration(s) recorded under [steps.casa] calibrations, not applied",
                      PhysicsWarning, stacklevel=2)
    return Recipe.from_dict(document)


def _steps(casa: CasaBlock, region: CasaRegion, labels: list[str],
           translations: list[_Translation], scale: float) -> dict[str, Any]:
    """Every CasaXPS field the model does not use, TOML-ready (no None values)."""
    def clean(table: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in table.items() if v is not None}

    steps: dict[str, Any] = {
        "block": casa.block, "region": region.name, "background": region.background,
        "region_rsf": region.rsf, "average_width": region.average_width,
        "cross_section": list(region.cross_section), "region_tag": region.tag,
        "region_trailing": list(region.trailing), "intensity_scale": scale,
        "components": {
            label: clean({
                "name": c.name, "lineshape": c.lineshape, "rsf": c.rsf,
                "uncorrected_rsf": c.uncorrected_rsf, "mass": c.mass, "index": c.index,
                "tag": c.tag, "constraint": c.constraint, "fwhm_factor": tr.fwhm_factor,
                "center_per_fwhm": tr.center_per_fwhm, "area_factor": tr.area_factor,
            })
            for label, c, tr in zip(labels, casa.components, translations)
        },
    }
    if casa.excitation_energy_ev is not None:
        steps["excitation_energy_ev"] = casa.excitation_energy_ev
    if casa.calibrations:
        steps["calibrations"] = [
            {"measured": list(c.measured), "aligned": c.aligned, "energy": c.energy,
             "operation": c.operation} for c in casa.calibrations
        ]
    return steps


# ----------------------------------------------------------------------------- evaluation
def evaluate_recipe(recipe: Any, spectrum: Spectrum) -> dict[str, Any]:
    """A recipe's curves at its starting values on a spectrum's full axis.

    Uses the fit engine's own model (:func:`~specssb.fitting.model.compile_recipe` and
    :meth:`~specssb.fitting.model.CompiledModel.evaluate`) and the recipe's background from the
    backgrounds registry on the whole spectrum (a subtracted background sees the channels
    outside the window for its end averages, as CasaXPS does). For a recipe from
    :func:`recipe_from_casa` the starting values are CasaXPS's parameters.

    Parameters
    ----------
    recipe : Recipe
        Every height must have a starting value (no ``"guess"``).
    spectrum : Spectrum
        A 1-D spectrum.

    Returns
    -------
    dict
        ``x`` (n,), ``data`` (n,), ``background`` (n,: subtracted baseline plus any fitted
        background term), ``components`` (dict name -> (n,), without background),
        ``envelope`` (n,), ``inside`` (n,) bool: the recipe's window.

    Raises
    ------
    ConfigError
        For a guessed height (no value to evaluate at).
    """
    from specssb.fitting.backgrounds import get_background
    from specssb.fitting.model import compile_recipe

    x = spectrum.axis.values
    y = np.asarray(spectrum.data, dtype=float).reshape(-1, x.size)[0]
    guessed = [s.name for s in recipe.parameter_specs() if s.value is None and s.tie is None]
    if guessed:
        raise ConfigError(f"parameters {guessed} start from a guess; evaluate_recipe needs "
                          "values", key="height")
    model = compile_recipe(recipe, x, y[None, :])
    parts = model.evaluate(x, model.full(model.free_start()[None, :]))
    background = parts["background"][0].copy()
    if recipe.background is not None and not recipe.background.fitted:
        baseline, _ = get_background(recipe.background.kind)(x, y, **recipe.background.options)
        background += np.asarray(baseline, float)
    window = recipe.select.window
    inside = np.ones(x.size, bool) if window is None else (x >= min(window)) & (x <= max(window))
    return {
        "x": x, "data": y, "background": background,
        "components": {c.name: parts["components"][0, k] for k, c in enumerate(model.components)},
        "envelope": background + parts["peaks"][0], "inside": inside,
    }


def casa_parameters(recipe: Any, values: Any, *, spectrum: int = 0) -> dict[str, dict[str, float]]:
    """specssb parameters of a recipe from :func:`recipe_from_casa` as CasaXPS's Area, FWHM,
    Position.

    Parameters
    ----------
    recipe : Recipe
        From :func:`recipe_from_casa` (its ``[steps.casa]`` holds the conversion constants).
    values : FitTable or mapping
        A fit result (``spectrum`` selects the row) or ``{"<species>_<parameter>": value}``.
    spectrum : int
        Spectrum number in a FitTable.

    Returns
    -------
    dict
        ``species -> {"area": CPS·eV, "fwhm": eV, "position": eV binding energy}``, the inverse
        of the conversions of :func:`recipe_from_casa`.
    """
    if hasattr(values, "frame"):
        rows = values.frame[values.frame["spectrum"] == spectrum]
        values = {f"{s}_{q}": float(v) for s, q, v in
                  zip(rows["species"], rows["quantity"], rows["value"])}
    casa = recipe.steps.get("casa", {})
    scale = float(casa.get("intensity_scale", 1.0))
    out = {}
    for component in recipe.component:
        info = casa.get("components", {}).get(component.species, {})
        shape = get_lineshape(component.shape)
        params = [float(values[f"{component.species}_{p}"]) for p in shape.parameters]
        fwhm = params[2] / float(info.get("fwhm_factor", 1.0))
        unit = float(shape.area(1.0, *params[1:]))
        out[component.species] = {
            "area": params[0] * unit / (scale * float(info.get("area_factor", 1.0))),
            "fwhm": fwhm,
            "position": params[1] - float(info.get("center_per_fwhm", 0.0)) * fwhm,
        }
    return out
