"""CasaXPS processing lines in a VAMAS block comment: regions, components, calibrations (private).

:mod:`specssb.fitting.xps.casa` documents the public API and re-exports the dataclasses. The
layout below was read off ``FeO_analyzed.vms`` and ``Ti_references_irregular.vms``
(``../shared/data/xps``) and agrees with the field names of pynxtools-xps
(``vms/casa_data_model.py``, Apache-2.0, read for the format only).

Block comment as CasaXPS writes it (after ``Casa Info Follows``): counts of processing
operations, annotations, regions and components, each followed by its lines. The lines of
interest, tokens split on blanks with ``(*…*)`` groups kept whole::

    CASA region (*Fe 2p*) (*U 3 Tougaard*) 737.52081 786.7632 16.42 2 0 0 335.44588 551 436 3
                (*Fe 2p*) 55.8458 0 16.42
    name, background type, start, end (stored axis, eV), RSF, Av Width, Start Offset (%),
    End Offset (%), cross-section numbers (Tougaard B C D T0), tag, mass, ?, uncorrected RSF

    CASA comp (*Fe 2p*) (*LF(0.54,10,80,100,6)*) Area 63507.374 1e-020 6383903.5 -1 1
              MFWHM 3.8576238 1.07 26.75 -1 1 Position 777.56313 738.01 782.59919 -1 1
              RSF 16.42 MASS 55.8458 INDEX 0 (*Fe 2p*) CONST (**) UNCORRECTEDRSF 16.42
    each of Area, MFWHM, Position: value, lower bound, upper bound, link, link constant

    Calib M = 280,281 A = 285 BE ADD
    measured energy (or a range), aligned energy, energy type, operation

Links: the fourth number of a parameter is the 0-based index (in the block's component list)
of the component it is linked to, ``-1`` for none; the fifth is the link's constant, a factor
for Area and MFWHM (``target = factor × source``) and an offset in the stored energy unit for
Position (``target = source + offset``). Evidence: the unlinked Fe 2p1/2 component of
``FeO_analyzed.vms`` keeps ``-1 -13`` on its Position, a leftover of a ``+13 eV`` BE link to the
2p3/2 component written on the kinetic-energy scale; unused constants are ``1``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace

from specssb.errors import MetadataWarning

__all__ = [
    "CasaBlock",
    "CasaCalibration",
    "CasaComponent",
    "CasaParameter",
    "CasaRegion",
    "parse_casa_comments",
]

_TOKEN = re.compile(r"\(\*(.*?)\*\)|(\S+)")


@dataclass(frozen=True)
class CasaParameter:
    """One CasaXPS component parameter (Area, FWHM or Position) as stored.

    Attributes
    ----------
    value, lower, upper : float
        Value and bounds (Area in CPS·eV, widths and positions in eV).
    link : int or None
        0-based index of the component this parameter is linked to (file: ``-1`` for none).
    link_constant : float
        The link's factor (Area, FWHM) or offset (Position, eV, same energy scale as
        ``value``); kept as stored even without a link.
    """

    value: float
    lower: float
    upper: float
    link: int | None
    link_constant: float

    @property
    def fixed(self) -> bool:
        """True when CasaXPS cannot move it (equal bounds, e.g. ``MFWHM 1 1 1``)."""
        return self.lower == self.upper


@dataclass(frozen=True)
class CasaRegion:
    """A ``CASA region`` line.

    Attributes
    ----------
    name, background : str
        Region name and CasaXPS background type (``"U 3 Tougaard"``, ``"Shirley"`` …).
    start, end : float
        Region ends as stored (the block's abscissa, eV; kinetic energy in CasaXPS files).
    limits : (float, float)
        ``(low, high)`` on the energy scale of :attr:`CasaBlock.energy`, eV.
    rsf : float
        Relative sensitivity factor of the region.
    average_width : float
        CasaXPS "Av Width" (end-point averaging).
    start_offset, end_offset : float
        CasaXPS Start/End Offset, % of the end levels.
    cross_section : tuple of float
        The background's parameters (Tougaard ``B C D T0``), as stored.
    tag : str
        Tag (quantification label).
    trailing : tuple of str
        Every token after the tag, verbatim (mass, an undocumented number, uncorrected RSF).
    line : int
        1-based line number in the block comment.
    text : str
        The line, verbatim.
    """

    name: str
    background: str
    start: float
    end: float
    limits: tuple[float, float]
    rsf: float
    average_width: float
    start_offset: float
    end_offset: float
    cross_section: tuple[float, ...]
    tag: str
    trailing: tuple[str, ...]
    line: int
    text: str


@dataclass(frozen=True)
class CasaComponent:
    """A ``CASA comp`` line.

    Attributes
    ----------
    name : str
        Component name as written (``"Fe 2p"``; not unique).
    lineshape : str
        CasaXPS line shape, e.g. ``"LF(0.54,10,80,100,6)"``, ``"SGL(30)"``.
    area : CasaParameter
        CPS·eV.
    fwhm : CasaParameter
        CasaXPS "MFWHM", eV.
    position : CasaParameter
        On the energy scale of :attr:`CasaBlock.energy` (binding energy after conversion:
        value and bounds ``hv − KE − phi``, bounds swapped, link offset negated).
    stored_position : CasaParameter
        As written in the file.
    rsf, uncorrected_rsf, mass : float or None
        ``RSF``, ``UNCORRECTEDRSF``, ``MASS``.
    index : int or None
        ``INDEX`` (a quantification group, not the link index).
    tag, constraint : str
        The tag after ``INDEX`` and the ``CONST`` expression (often empty).
    line : int
        1-based line number in the block comment.
    text : str
        The line, verbatim.
    """

    name: str
    lineshape: str
    area: CasaParameter
    fwhm: CasaParameter
    position: CasaParameter
    stored_position: CasaParameter
    rsf: float | None
    uncorrected_rsf: float | None
    mass: float | None
    index: int | None
    tag: str
    constraint: str
    line: int
    text: str


@dataclass(frozen=True)
class CasaCalibration:
    """A ``Calib`` line: CasaXPS energy calibration.

    Attributes
    ----------
    measured : tuple of float
        ``M``: the measured energy, or the ends of the range searched for the peak (range
        calibration), eV.
    aligned : float
        ``A``: the energy it is moved to, eV.
    energy : str
        ``"binding"`` or ``"kinetic"`` (file: ``BE``/``KE``), or the token as written.
    operation : str
        As written, e.g. ``"ADD"``.
    line : int
    text : str
    """

    measured: tuple[float, ...]
    aligned: float
    energy: str
    operation: str
    line: int
    text: str

    @property
    def shift_ev(self) -> float | None:
        """``A − M`` for a single measured energy; None for a range calibration (the shift
        then depends on where CasaXPS found the peak in that range)."""
        if len(self.measured) != 1:
            return None
        return self.aligned - self.measured[0]


@dataclass(frozen=True)
class CasaBlock:
    """Everything CasaXPS stored in one block comment.

    Attributes
    ----------
    block : str
        Block name (for messages).
    regions, components, calibrations : tuple
        In file order.
    energy : str
        Energy scale of :attr:`CasaComponent.position` and :attr:`CasaRegion.limits`:
        ``"binding"`` after conversion, ``"stored"`` when no photon energy was given.
    excitation_energy_ev, work_function_ev : float or None
        The conversion used, ``BE = hv − KE − phi``.
    """

    block: str
    regions: tuple[CasaRegion, ...]
    components: tuple[CasaComponent, ...]
    calibrations: tuple[CasaCalibration, ...]
    energy: str
    excitation_energy_ev: float | None = None
    work_function_ev: float | None = None


class _Malformed(ValueError):
    """A CASA line that cannot be read; becomes a MetadataWarning."""


def _tokens(line: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(line)]


def _number(token: str, what: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise _Malformed(f"{what} is {token!r}, not a number") from None


def _at(tokens: list[str], index: int, what: str) -> str:
    if index >= len(tokens):
        raise _Malformed(f"the line ends before {what}")
    return tokens[index]


def _parameter(tokens: list[str], key: str) -> CasaParameter:
    if key not in tokens:
        raise _Malformed(f"no {key} field")
    start = tokens.index(key) + 1
    values = [_number(_at(tokens, start + i, f"{key} value {i + 1}"), f"{key} value {i + 1}")
              for i in range(5)]
    link = int(values[3]) if values[3].is_integer() else None
    if link is None:
        raise _Malformed(f"{key} link {values[3]!r} is not an integer component index")
    return CasaParameter(values[0], values[1], values[2], None if link < 0 else link, values[4])


def _keyword_number(tokens: list[str], key: str) -> float | None:
    if key not in tokens:
        return None
    position = tokens.index(key) + 1
    return _number(_at(tokens, position, key), key)


def _region(tokens: list[str], line: int, text: str) -> CasaRegion:
    name, background = _at(tokens, 2, "the region name"), _at(tokens, 3, "the background")
    numbers = [_number(_at(tokens, 4 + i, what), what) for i, what in enumerate(
        ("start", "end", "RSF", "Av Width", "Start Offset", "End Offset"))]
    rest = tokens[10:]
    section = []
    while rest and _is_float(rest[0]):
        section.append(float(rest.pop(0)))
    start, end = numbers[0], numbers[1]
    return CasaRegion(
        name=name, background=background, start=start, end=end,
        limits=(min(start, end), max(start, end)), rsf=numbers[2], average_width=numbers[3],
        start_offset=numbers[4], end_offset=numbers[5], cross_section=tuple(section),
        tag=rest[0] if rest else "", trailing=tuple(rest[1:]), line=line, text=text,
    )


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _component(tokens: list[str], line: int, text: str) -> CasaComponent:
    name, shape = _at(tokens, 2, "the component name"), _at(tokens, 3, "the line shape")
    position = _parameter(tokens, "Position")
    index = _keyword_number(tokens, "INDEX")
    tag = ""
    if "INDEX" in tokens and tokens.index("INDEX") + 2 < len(tokens):
        tag = tokens[tokens.index("INDEX") + 2]
    constraint = ""
    if "CONST" in tokens and tokens.index("CONST") + 1 < len(tokens):
        constraint = tokens[tokens.index("CONST") + 1]
    return CasaComponent(
        name=name, lineshape=shape, area=_parameter(tokens, "Area"),
        fwhm=_parameter(tokens, "MFWHM"), position=position, stored_position=position,
        rsf=_keyword_number(tokens, "RSF"),
        uncorrected_rsf=_keyword_number(tokens, "UNCORRECTEDRSF"),
        mass=_keyword_number(tokens, "MASS"),
        index=None if index is None else int(index), tag=tag, constraint=constraint,
        line=line, text=text,
    )


def _calibration(tokens: list[str], line: int, text: str) -> CasaCalibration:
    if "M" not in tokens or "A" not in tokens:
        raise _Malformed("expected 'M = <energy> A = <energy>'")
    measured_token = _at(tokens, tokens.index("M") + 2, "the measured energy")
    measured = tuple(_number(v, "the measured energy") for v in measured_token.split(","))
    aligned_at = tokens.index("A") + 2
    aligned = _number(_at(tokens, aligned_at, "the aligned energy"), "the aligned energy")
    kind = tokens[aligned_at + 1] if aligned_at + 1 < len(tokens) else ""
    energy = {"BE": "binding", "KE": "kinetic"}.get(kind, kind)
    operation = tokens[aligned_at + 2] if aligned_at + 2 < len(tokens) else ""
    return CasaCalibration(measured, aligned, energy, operation, line, text)


_KINDS = (("CASA region", "region", _region), ("CASA comp", "component", _component),
          ("Calib ", "calibration", _calibration))


def _to_binding(parameter: CasaParameter, hv: float, phi: float) -> CasaParameter:
    """Stored kinetic energy -> binding energy: value and bounds ``hv − KE − phi`` (bounds
    swapped), a position link offset changes sign."""
    return CasaParameter(hv - parameter.value - phi, hv - parameter.upper - phi,
                         hv - parameter.lower - phi, parameter.link, -parameter.link_constant)


def parse_casa_comments(
    comment: str,
    *,
    block: str = "",
    excitation_energy_ev: float | None = None,
    work_function_ev: float = 0.0,
) -> CasaBlock:
    """Read the CasaXPS region, component and calibration lines of a VAMAS block comment.

    Parameters
    ----------
    comment : str
        The block comment (``Spectrum.raw_meta["comment"]`` of the VAMAS reader).
    block : str
        Block name, used in warnings.
    excitation_energy_ev : float, optional
        Photon energy ``hv``, eV. Given: the stored (kinetic-energy) positions and region
        limits are converted to binding energy, ``BE = hv − KE − phi``.
    work_function_ev : float
        ``phi`` of that conversion, eV (0 for CasaXPS files, see the VAMAS reader).

    Returns
    -------
    CasaBlock

    Warns
    -----
    MetadataWarning
        For each malformed CASA/Calib line, naming the block and the line; it is skipped and
        reading goes on.

    Examples
    --------
    >>> text = ("CASA comp (*C 1s*) (*GL(30)*) Area 100 0 1000 -1 1 MFWHM 1.2 0.5 2 -1 1 "
    ...         "Position 1201.8 1201 1203 -1 1")
    >>> casa = parse_casa_comments(text, excitation_energy_ev=1486.6)
    >>> round(casa.components[0].position.value, 2), casa.components[0].lineshape
    (284.8, 'GL(30)')
    """
    regions: list[CasaRegion] = []
    components: list[CasaComponent] = []
    calibrations: list[CasaCalibration] = []
    found = {"region": regions, "component": components, "calibration": calibrations}
    for number, raw in enumerate(comment.splitlines(), start=1):
        text = raw.strip()
        for prefix, kind, reader in _KINDS:
            if not text.startswith(prefix):
                continue
            try:
                found[kind].append(reader(_tokens(text), number, raw))  # type: ignore[arg-type]
            except _Malformed as problem:
                warnings.warn(
                    f"block {block!r}, comment line {number}: malformed CasaXPS {kind} line "
                    f"({problem}); skipped: {text[:80]!r}",
                    MetadataWarning, stacklevel=2,
                )
            break
    energy = "stored"
    if excitation_energy_ev is not None:
        hv, phi = float(excitation_energy_ev), float(work_function_ev)
        components = [replace(c, position=_to_binding(c.stored_position, hv, phi))
                      for c in components]
        regions = [replace(r, limits=tuple(sorted((hv - r.start - phi, hv - r.end - phi))))
                   for r in regions]
        energy = "binding"
    return CasaBlock(
        block=block, regions=tuple(regions), components=tuple(components),
        calibrations=tuple(calibrations), energy=energy,
        excitation_energy_ev=excitation_energy_ev,
        work_function_ev=None if excitation_energy_ev is None else float(work_function_ev),
    )
