"""Charge correction of XPS binding energies: a fixed shift, or a reference line.

Insulating samples (solid electrolytes, cathode composites, SEI) charge under the X-ray beam and
every line of the measurement moves by the same amount. The correction adds one shift to the
binding-energy axis of *every region of the measurement*::

    BE_corrected = BE_measured + shift,     shift = BE_reference − BE_measured(reference line)

(on a kinetic-energy axis ``KE_corrected = KE_measured − shift``). The reference line is found in
the measurement's own region of that line (``meta["region"]``, e.g. "C 1s"): the largest
maximum within ``search_ev`` of the reference value (charging moves lines by up to several eV),
then a GL(30) peak on a fitted linear background over ±``half_width_ev`` around it, fitted with
specssb's engine, gives the line position and its standard error. Every corrected Spectrum
records a ``charge_correction`` step in its history with the shift, the reference, the measured
position and its uncertainty, and the region it came from.

Known limits (stated in the :class:`~specssb.errors.PhysicsWarning` raised whenever adventitious
carbon is the reference): adventitious C 1s has been placed at 284.08–286.74 eV on different
materials, because it aligns to the vacuum level rather than to the Fermi level (Greczynski &
Hultman 2020); IUPAC lists 284.6–285.2 eV in use. Samples that contain metallic Li show shifts
of several eV (Oswald et al. 2015, 2018; Wood & Teeter 2018); for those, binding-energy
*separations* between core levels are the better reference. A second warning is raised when
the measurement holds a Li 1s region whose main peak, after correction, lies below
:data:`LI_METAL_BELOW_EV` (metallic Li; Li compounds lie at 54.5–56.5 eV).

References
----------
G. Greczynski, L. Hultman, Prog. Mater. Sci. 107, 100591 (2020).
IUPAC Gold Book, "charge referencing" (goldbook 09305).
S. Oswald, Appl. Surf. Sci. 351, 492 (2015); S. Oswald et al., Batteries 4, 36 (2018).
K. N. Wood, G. Teeter, ACS Appl. Energy Mater. 1, 4493 (2018).
ISO 15472:2010, energy-scale calibration (Au 4f7/2 83.96, Ag 3d5/2 368.21, Cu 2p3/2 932.62 eV).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.spectrum import Spectrum

__all__ = [
    "LI_METAL_BELOW_EV",
    "REFERENCE_LINES",
    "ChargeCorrection",
    "ReferenceLine",
    "apply_charge_correction",
    "charge_correct",
    "charge_correct_with_recipe",
    "find_reference_line",
]


@dataclass(frozen=True)
class ReferenceLine:
    """A line used to reference binding energies.

    Attributes
    ----------
    line : str
        Line label, e.g. ``"C 1s"`` or ``"Au 4f7/2"``.
    region : str
        The region that holds it, e.g. ``"Au 4f"``.
    binding_energy_ev : float
        Its reference binding energy, eV.
    note : str
        What it is and where the value comes from.
    """

    line: str
    region: str
    binding_energy_ev: float
    note: str


#: Built-in references. ``"C 1s"`` is the adventitious-carbon convention (see the warnings).
REFERENCE_LINES: dict[str, ReferenceLine] = {
    "C 1s": ReferenceLine("C 1s", "C 1s", 284.8,
                          "adventitious carbon C-C/C-H, the common convention (IUPAC: 284.6-285.2 in use)"),
    "Au 4f7/2": ReferenceLine("Au 4f7/2", "Au 4f", 84.0,
                              "metallic Au (ISO 15472 calibration value 83.96 eV)"),
    "Ag 3d5/2": ReferenceLine("Ag 3d5/2", "Ag 3d", 368.21, "metallic Ag, ISO 15472"),
    "Cu 2p3/2": ReferenceLine("Cu 2p3/2", "Cu 2p", 932.62, "metallic Cu, ISO 15472"),
}

#: A Li 1s main peak below this binding energy (eV, after correction) indicates metallic Li.
LI_METAL_BELOW_EV = 54.0

_ADVENTITIOUS_LIMITS = (
    "adventitious C 1s referencing (284.8 eV) is approximate: placements of 284.08-286.74 eV "
    "are reported because this carbon aligns to the vacuum level, not the Fermi level "
    "(Greczynski & Hultman, Prog. Mater. Sci. 107, 100591 (2020)); compare lines only within "
    "one referencing convention"
)


@dataclass(frozen=True)
class ChargeCorrection:
    """The shift applied to a measurement and where it came from.

    Attributes
    ----------
    shift_ev : float
        Added to binding energies, eV.
    method : {"fixed", "reference line"}
    line : str or None
        Reference line label.
    reference_ev : float or None
        Its reference binding energy, eV.
    measured_ev, measured_stderr_ev : float or None
        The fitted position of the line before correction and its standard error, eV.
    region_source : str or None
        File and block of the region the line was found in.
    """

    shift_ev: float
    method: str
    line: str | None = None
    reference_ev: float | None = None
    measured_ev: float | None = None
    measured_stderr_ev: float | None = None
    region_source: str | None = None

    def as_parameters(self) -> dict[str, object]:
        """The correction as history-step parameters."""
        return {
            "shift_ev": self.shift_ev, "method": self.method, "line": self.line,
            "reference_ev": self.reference_ev, "measured_ev": self.measured_ev,
            "measured_stderr_ev": self.measured_stderr_ev, "region_source": self.region_source,
            "formula": "BE_corrected = BE_measured + shift",
        }


def charge_correct(
    spectra: Spectrum | Sequence[Spectrum],
    *,
    shift_ev: float | None = None,
    line: str = "C 1s",
    reference_ev: float | None = None,
    region: str | None = None,
    search_ev: float = 6.0,
    half_width_ev: float = 1.0,
) -> list[Spectrum]:
    """Charge-correct every region of each measurement.

    Spectra are grouped by measurement (their source file); each group is corrected by one
    shift: ``shift_ev`` when given, else from its own reference line.

    Parameters
    ----------
    spectra : Spectrum or sequence of Spectrum
        XPS regions on a binding- or kinetic-energy axis.
    shift_ev : float, optional
        A fixed shift, eV, added to binding energies (no reference line is searched).
    line : str, default "C 1s"
        A key of :data:`REFERENCE_LINES`, or any label of your own with ``reference_ev`` and
        ``region``.
    reference_ev : float, optional
        Reference binding energy, eV (default: the table's value for ``line``).
    region : str, optional
        Region that holds the line (default: the table's region, or ``line`` itself).
    search_ev : float, default 6
        The line is looked for within ± this many eV of ``reference_ev``.
    half_width_ev : float, default 1.0
        Half width of the window fitted around the maximum, eV. A neighbouring component
        1.5 eV away with a quarter of the height (C-O next to C-C) moves the fitted position by
        0.013 eV at 1.0 eV and by 0.022 eV at 1.5 eV (synthetic test data).

    Returns
    -------
    list of Spectrum
        In input order, each with a ``charge_correction`` history step. Spectra of a
        measurement without the reference region are returned unchanged, with a
        :class:`~specssb.errors.PhysicsWarning` ("no charge reference").

    Raises
    ------
    ConfigError
        Unknown line without ``reference_ev``, or a Spectrum that is not on an XPS energy axis.

    Warns
    -----
    PhysicsWarning
        Adventitious-carbon limits whenever C 1s is the reference; metallic Li; no reference.
    """
    items = [spectra] if isinstance(spectra, Spectrum) else list(spectra)
    for spectrum in items:
        if spectrum.axis.name not in ("binding_energy", "kinetic_energy"):
            raise ConfigError(f"charge correction needs an XPS energy axis, got {spectrum.axis.name!r}",
                              key="axis")
    reference = _reference(line, reference_ev, region)
    groups: dict[str, list[int]] = {}
    for i, spectrum in enumerate(items):
        groups.setdefault(_measurement(spectrum), []).append(i)
    out = list(items)
    for measurement, members in groups.items():
        group = [items[i] for i in members]
        if shift_ev is not None:
            correction = ChargeCorrection(float(shift_ev), "fixed")
        else:
            holder = _find_region(group, reference.region)
            if holder is None:
                warnings.warn(f"{measurement}: no charge reference: no {reference.region!r} region "
                              "in this measurement, its binding energies are left uncorrected",
                              PhysicsWarning, stacklevel=2)
                continue
            measured, stderr = find_reference_line(holder, reference.binding_energy_ev,
                                                   search_ev=search_ev, half_width_ev=half_width_ev)
            correction = ChargeCorrection(
                reference.binding_energy_ev - measured, "reference line", reference.line,
                reference.binding_energy_ev, measured, stderr, _label(holder),
            )
            if reference.line == "C 1s":
                warnings.warn(f"{measurement}: {_ADVENTITIOUS_LIMITS}", PhysicsWarning, stacklevel=2)
        corrected = apply_charge_correction(group, correction)
        for i, spectrum in zip(members, corrected):
            out[i] = spectrum
        if correction.line == "C 1s":
            _warn_if_metallic_li(corrected, measurement)
    return out


def charge_correct_with_recipe(spectra: Spectrum | Sequence[Spectrum], calibrate: dict) -> list[Spectrum]:
    """Charge-correct as a recipe's ``[calibrate]`` table says.

    Keys: ``reference`` (a line, e.g. ``"C 1s"``), ``value`` (its binding energy, eV),
    ``region`` (the region holding it), ``shift`` (a fixed shift in eV instead of a line),
    ``search`` (eV, see :func:`charge_correct`). An empty table changes nothing.

    Raises
    ------
    ConfigError
        For an unknown key (naming it) or a value of the wrong type.
    """
    items = [spectra] if isinstance(spectra, Spectrum) else list(spectra)
    if not calibrate:
        return items
    known = {"reference", "value", "region", "shift", "search"}
    unknown = sorted(set(calibrate) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} in [calibrate]; known: "
                          f"{', '.join(sorted(known))}", key=f"calibrate.{unknown[0]}")
    try:
        shift = calibrate.get("shift")
        value = calibrate.get("value")
        return charge_correct(
            items, shift_ev=None if shift is None else float(shift),
            line=str(calibrate.get("reference", "C 1s")),
            reference_ev=None if value is None else float(value),
            region=calibrate.get("region"), search_ev=float(calibrate.get("search", 6.0)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[calibrate]: {exc}", key="calibrate") from exc


def apply_charge_correction(spectra: Sequence[Spectrum], correction: ChargeCorrection) -> list[Spectrum]:
    """Shift the energy axis of every Spectrum by ``correction.shift_ev`` (recorded in history)."""
    shifted = []
    for spectrum in spectra:
        sign = 1.0 if spectrum.axis.name == "binding_energy" else -1.0
        axis = type(spectrum.axis)(spectrum.axis.name, spectrum.axis.unit,
                                   spectrum.axis.values + sign * correction.shift_ev)
        shifted.append(spectrum.with_step("charge_correction", correction.as_parameters(), axis=axis))
    return shifted


def find_reference_line(
    spectrum: Spectrum, expected_ev: float, *, search_ev: float = 6.0, half_width_ev: float = 1.0
) -> tuple[float, float]:
    """Position of the strongest line near ``expected_ev`` and its standard error, eV.

    The largest value of a 5-point moving average within ± ``search_ev`` locates the line; a
    GL(30) peak on a fitted linear background over ± ``half_width_ev`` around it gives the
    position. Series or maps use their summed spectrum.

    Raises
    ------
    FitError
        When the search window holds no data or the fit does not converge.
    """
    from specssb.fitting.engine import fit
    from specssb.fitting.recipe import Recipe

    x = spectrum.axis.values
    if spectrum.axis.name == "kinetic_energy":
        raise FitError(f"{_label(spectrum)}: find the reference line on a binding-energy axis "
                       "(read the file with energy='binding')")
    y = spectrum.data.reshape(-1, x.size).sum(axis=0)
    inside = np.abs(x - expected_ev) <= search_ev
    if inside.sum() < 7:
        raise FitError(f"{_label(spectrum)}: fewer than 7 points within {search_ev} eV of "
                       f"{expected_ev} eV, where the reference line should be")
    smooth = np.convolve(y, np.ones(5) / 5.0, mode="same")
    peak = float(x[inside][np.argmax(smooth[inside])])
    low, high = peak - half_width_ev, peak + half_width_ev
    recipe = Recipe.from_text(
        f'name = "charge-reference"\ntechnique = "xps"\n[select]\nwindow = [{low!r}, {high!r}]\n'
        '[background]\nkind = "linear"\nfitted = true\n[[component]]\nspecies = "reference"\n'
        f'shape = "gl"\nheight = {{value = "guess", min = 0}}\n'
        f"center = {{value = {peak!r}, min = {low!r}, max = {high!r}}}\n"
        f"fwhm = {{value = {min(1.2, half_width_ev)!r}, min = 0.2, max = {2 * half_width_ev!r}}}\n"
        "m = 30\n"
    )
    summed = Spectrum(axis=spectrum.axis, data=y, technique="xps", signal=spectrum.signal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = fit(summed, recipe, engine="batched").frame
    row = frame[(frame["species"] == "reference") & (frame["quantity"] == "center")].iloc[0]
    if not bool(row["converged"]) or not math.isfinite(row["value"]):
        raise FitError(f"{_label(spectrum)}: the fit of the reference line near {peak:.2f} eV "
                       "did not converge")
    return float(row["value"]), float(row["stderr"])


def _reference(line: str, reference_ev: float | None, region: str | None) -> ReferenceLine:
    known = REFERENCE_LINES.get(line)
    if known is None and reference_ev is None:
        raise ConfigError(f"unknown reference line {line!r}: pass reference_ev (and region), or "
                          f"use one of {', '.join(REFERENCE_LINES)}", key="line")
    if known is None:
        return ReferenceLine(line, region or line, float(reference_ev), "user-chosen line")  # type: ignore[arg-type]
    return ReferenceLine(known.line, region or known.region,
                         known.binding_energy_ev if reference_ev is None else float(reference_ev),
                         known.note)


def _region_key(text: str) -> str:
    return "".join(text.split()).lower()


def _find_region(spectra: Sequence[Spectrum], region: str) -> Spectrum | None:
    wanted = _region_key(region)
    for spectrum in spectra:
        meta = spectrum.meta
        names = [meta.get("region", ""), f"{meta.get('element', '')} {meta.get('transition', '')}"]
        if any(_region_key(str(name)) == wanted for name in names if str(name).strip()):
            return spectrum
    return None


def _measurement(spectrum: Spectrum) -> str:
    return spectrum.source.path if spectrum.source is not None else "<memory>"


def _label(spectrum: Spectrum) -> str:
    if spectrum.source is None:
        return f"<memory> {spectrum.meta.get('region', '')}".strip()
    block = f" block {spectrum.source.block}" if spectrum.source.block is not None else ""
    return f"{spectrum.source.path}{block}"


def _warn_if_metallic_li(spectra: Sequence[Spectrum], measurement: str) -> None:
    li = _find_region(spectra, "Li 1s")
    if li is None or li.axis.name != "binding_energy":
        return
    x = li.axis.values
    y = np.convolve(li.data.reshape(-1, x.size).sum(axis=0), np.ones(5) / 5.0, mode="same")
    inside = (x >= 50.0) & (x <= 60.0)
    if inside.sum() < 5:
        return
    position = float(x[inside][np.argmax(y[inside])])
    if position < LI_METAL_BELOW_EV:
        warnings.warn(
            f"{measurement}: the Li 1s main peak lies at {position:.2f} eV after C 1s referencing, "
            "which suggests metallic Li; samples containing metallic Li show binding-energy "
            "shifts of several eV against adventitious carbon (Oswald et al., Batteries 4, 36 "
            "(2018); Wood & Teeter, ACS Appl. Energy Mater. 1, 4493 (2018)): reference by "
            "binding-energy separations between core levels instead",
            PhysicsWarning, stacklevel=3,
        )
