"""Scienta SES region metadata, shared by the ``.txt`` and ``.ibw`` readers (private).

SES (Scienta Omicron's acquisition software) describes a region with ``Key=Value`` lines: in a
``.txt`` export they form the ``[Info n]`` section, in an Igor ``.ibw`` export the same lines
(CR-separated) form the wave note under a ``[SES]`` heading. This module turns them into the
normalized ``meta`` of a :class:`~specssb.spectrum.Spectrum` and builds that Spectrum, so both
readers give the same ``meta`` and ``raw_meta`` for the same region.

Keys as verified on SES 1.2.5 / 1.3.1 files (``../shared/data/xps``):

=============================  ==================================================================
SES key                        becomes
=============================  ==================================================================
Region Name                    ``region`` ("Ag3d" -> "Ag 3d"), ``element``, ``transition``
Excitation Energy (eV)         ``excitation_energy_ev``, used for KE <-> BE
Pass Energy (eV)               ``pass_energy_ev``
Step Time (ms)                 ``dwell_time_s`` (= Step Time / 1000)
Number of Sweeps               ``n_scans``
Date + Time (local, no zone)   ``acquired_at`` (UTC; read in the ``timezone`` option, default UTC)
Sample / Instrument / User     ``sample`` / ``instrument`` / ``operator``
Comments                       ``title`` (when it holds more than punctuation)
Energy Scale                   the abscissa kind when the dimension label does not say it
=============================  ==================================================================

Everything else (Lens Mode, Acquisition Mode, Energy Unit, Center/Low/High Energy, Energy
Step, detector channels, Time per Spectrum Channel, DetectorMode, File, Sequence, Spectrum
Name, Location, Version ...) stays in ``raw_meta`` under the SES name, values as written.

Energy scale: SES writes kinetic energies referenced to the analyser's Fermi level and computes
its own binding-energy scale as ``BE = hv - KE`` with no work-function term. Verified on
``Ag_0001.txt``: Energy Scale=Binding, Low/High Energy (kinetic) 138/156 eV, hv 520 eV and the
written binding-energy axis runs exactly 382 -> 364 eV. The conversion here is therefore
:func:`~specssb.parsers._xps_energy.convert_energy` with ``phi = 0``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import ELEMENTS, time_zone
from specssb.parsers._xps_energy import convert_energy
from specssb.spectrum import Axis, Coord, Source, Spectrum

__all__ = [
    "SECTION",
    "axis_kind",
    "dimension",
    "key_values",
    "make_spectrum",
    "normalized_meta",
]

#: A section heading such as ``[Info 1]`` or ``[Data 2]``.
SECTION = re.compile(r"^\[(?P<name>[^\[\]]+)\]\s*$")

#: "Ag3d", "S 2p", "Ti2p3/2", "O_1s": element, then a core level.
_CORE_LEVEL = re.compile(r"^(?P<element>[A-Z][a-z]?)[\s_-]*(?P<level>\d[spdf](?:\s*\d/2)?)$")
_UNIT = re.compile(r"^(?P<label>.*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                 "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M")
_NOTHING = {"", ";", "-", "none", "n/a"}


def key_values(lines: Sequence[str]) -> dict[str, str]:
    """``Key=Value`` lines as a dict (values stripped, first ``=`` splits, other lines skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def _number(info: Mapping[str, str], key: str, warnings: list[str]) -> float | None:
    text = info.get(key, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        warnings.append(f"{key} is not a number ({text[:40]!r}); left out of meta")
        return None
    if not np.isfinite(value):
        warnings.append(f"{key} is not finite ({text[:40]!r}); left out of meta")
        return None
    return value


def axis_kind(label: str, energy_scale: str | None) -> str | None:
    """``binding_energy`` / ``kinetic_energy`` from a dimension label, else from Energy Scale.

    Parameters
    ----------
    label : str
        e.g. ``"Binding Energy [eV]"`` (SES dimension 1 name, or an Igor dimension unit).
    energy_scale : str or None
        The ``Energy Scale`` key (``Kinetic`` or ``Binding``).

    Returns
    -------
    str or None
        None when neither says which energy it is.
    """
    for text in (label, energy_scale or ""):
        lowered = text.lower()
        if "binding" in lowered:
            return "binding_energy"
        if "kinetic" in lowered:
            return "kinetic_energy"
    return None


def dimension(label: str) -> tuple[str, str]:
    """A leading-dimension name and unit from an SES label such as ``"Y-Scale [deg]"``.

    Angles (unit ``deg``) become ``"angle"``; anything else the label in snake case
    (``"Sweep"`` -> ``"sweep"``). The unit is the bracketed part (``""`` when absent).
    """
    match = _UNIT.match(label.strip())
    name, unit = (match["label"], match["unit"].strip()) if match else (label.strip(), "")
    if unit.lower() in ("deg", "degree", "degrees", "°"):
        return "angle", "deg"
    plain = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return plain or "dimension", unit


def _region(name: str) -> dict[str, str]:
    match = _CORE_LEVEL.match(name.strip())
    if match and match["element"] in ELEMENTS:
        level = match["level"].replace(" ", "")
        return {"region": f"{match['element']} {level}", "element": match["element"],
                "transition": level}
    return {"region": name.strip()} if name.strip() else {}


def _acquired_at(info: Mapping[str, str], timezone: str, warnings: list[str]) -> dict[str, Any]:
    date, clock = info.get("Date", "").strip(), info.get("Time", "").strip()
    if not date:
        return {}
    stamp = f"{date} {clock or '00:00:00'}"
    for pattern in _DATE_FORMATS:
        try:
            local = _dt.datetime.strptime(stamp, pattern)
        except ValueError:
            continue
        aware = local.replace(tzinfo=time_zone(timezone))
        return {"acquired_at": aware.astimezone(_dt.timezone.utc)}
    warnings.append(f"unreadable Date/Time {stamp[:40]!r}; acquired_at omitted")
    return {}


def normalized_meta(
    info: Mapping[str, str], *, timezone: str, warnings: list[str]
) -> tuple[dict[str, Any], float | None]:
    """The normalized ``meta`` of one SES region, and its excitation energy.

    Parameters
    ----------
    info : Mapping of str to str
        The region's ``Key=Value`` fields (``[Info n]`` or the ``.ibw`` note).
    timezone : str
        IANA zone the instrument clock ran in (SES writes local time without a zone).
    warnings : list of str
        Messages about unusable optional fields are appended here.

    Returns
    -------
    meta : dict
        Keys from :data:`~specssb.spectrum.META_KEYS` (see the module table).
    hv : float or None
        Excitation energy, eV.
    """
    meta: dict[str, Any] = dict(_region(info.get("Region Name", "")))
    hv = _number(info, "Excitation Energy", warnings)
    if hv is not None and hv <= 0:
        warnings.append(f"Excitation Energy is {hv:g} eV; ignored")
        hv = None
    meta["excitation_energy_ev"] = hv
    meta["work_function_ev"] = 0.0 if hv is not None else None
    meta["pass_energy_ev"] = _number(info, "Pass Energy", warnings)
    step_time_ms = _number(info, "Step Time", warnings)
    meta["dwell_time_s"] = None if step_time_ms is None else step_time_ms / 1000.0
    sweeps = _number(info, "Number of Sweeps", warnings)
    if sweeps is not None:
        if sweeps.is_integer() and sweeps > 0:
            meta["n_scans"] = int(sweeps)
        else:
            warnings.append(f"Number of Sweeps is {sweeps:g}, not a positive integer")
    for key, target in (("Sample", "sample"), ("Instrument", "instrument"), ("User", "operator"),
                        ("Comments", "title")):
        value = info.get(key, "").strip()
        if value.lower() not in _NOTHING and value.strip(";,. "):
            meta[target] = value
    meta.update(_acquired_at(info, timezone, warnings))
    return {k: v for k, v in meta.items() if v is not None}, hv


def make_spectrum(
    *,
    kind: str,
    axis_values: np.ndarray,
    data: np.ndarray,
    leading: Sequence[tuple[str, str, np.ndarray]],
    info: Mapping[str, str],
    raw_meta: dict[str, Any],
    source: Source,
    where: str,
    energy: str,
    timezone: str,
    warnings: list[str],
) -> Spectrum:
    """Check the arrays of one SES region and build its Spectrum.

    Parameters
    ----------
    kind : {"binding_energy", "kinetic_energy"}
        What the file's energy axis is.
    axis_values : ndarray of shape (n,)
        The energy axis as written, eV.
    data : ndarray of shape (*leading, n)
        The counts.
    leading : sequence of (dim, unit, values)
        One entry per leading dimension of ``data`` (angle, sweep ...).
    info : Mapping
        The region's SES fields (for :func:`normalized_meta`).
    raw_meta : dict
        The vendor fields to keep.
    source : Source
        Provenance, with ``block`` already set.
    where : str
        Position for error messages, e.g. ``"region 1 ('Ag3d')"``.
    energy : {"binding", "kinetic"}
        The wanted energy scale.
    timezone : str
        See :func:`normalized_meta`.
    warnings : list of str
        Collects metadata warnings (the caller emits them).

    Raises
    ------
    ParseError
        Non-finite or non-monotonic axis, non-finite counts, inconsistent shapes.
    """
    axis_values = np.asarray(axis_values, dtype=np.float64)
    if axis_values.size == 0:
        raise ParseError(source.path, "the region has no data points", position=where)
    if not np.all(np.isfinite(axis_values)):
        raise ParseError(source.path, "the energy axis holds non-finite values", position=where)
    steps = np.diff(axis_values)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ParseError(source.path, "the energy axis is not strictly monotonic", position=where)
    if not np.all(np.isfinite(data)):
        raise ParseError(source.path, "the counts hold non-finite values", position=where)
    meta, hv = normalized_meta(info, timezone=timezone, warnings=warnings)
    if hv is None and kind != f"{energy}_energy":
        warnings.append(f"{where}: no excitation energy; the axis stays {kind.replace('_', ' ')}")
    kind, values, history = convert_energy(kind, axis_values, hv=hv, phi=0.0, energy=energy)
    coords = {dim: Coord(dim, np.asarray(vals, dtype=np.float64), unit)
              for dim, unit, vals in leading}
    try:
        return Spectrum(
            axis=Axis(kind, "eV", values),
            data=data,
            technique="xps",
            signal="counts",
            dims=tuple(dim for dim, _, _ in leading),
            coords=coords,
            meta=meta,
            raw_meta=raw_meta,
            source=source,
            history=history,
        )
    except ValueError as exc:  # shapes or axis the checks above did not anticipate
        raise ParseError(source.path, f"inconsistent region: {exc}", position=where) from exc
