"""SPECS SpecsLab 2 XML (``.xml``): one XPS Spectrum per region and cycle.

Layout (checked on ``In-situ_PBTTT_XPS_SPECS.xml``, "CORBA XML document created by
XMLSerializer2 1.6 ... from SL 2.81"): a serialized CORBA value. Every element is typed by its
tag (``struct``, ``sequence length=n``, ``any``, ``string``, ``enum``, ``boolean``, ``ulong``,
``double`` ...) and named by a ``name`` attribute; a sequence of numbers is one element whose
text holds the ``length`` numbers separated by white space::

    any
      sequence RegionGroupSeq
        struct RegionGroup: name, regions (RegionDataSeq)
          struct RegionData: name, region (RegionDef), mcd_head, mcd_tail,
                             analyzer_info (name, detectors: position, shift, gain, parameters),
                             source_info (name, excitations, parameters: Anode ...),
                             cycles (CycleSeq), compact_cycles, transmission, parameters
            RegionDef: analysis_method, analyzer_lens, scan_mode (name, flags), num_scans,
                       curves_per_scan, values_per_curve, dwell_time, scan_delta,
                       excitation_energy, kinetic_energy, kinetic_energy_base, pass_energy,
                       bias_voltage, detector_voltage, effective_workfunction
            Cycle: time (Unix seconds), scans (ScanSeq: counts, scaling_factors), parameters

The real file holds one group ("PBTTT 1.2 V") with a survey (1403 points, 1 scan) and C1s
(201 points, 15 scans), Mg K-alpha 1253.6 eV, a 5-channel detector (MCD-5).

Multi-channel detector (verified on the file)
---------------------------------------------
The analyser images the energy dispersion onto several channels. For each scan, ``counts``
holds ``(values_per_curve + mcd_head + mcd_tail) * n_detectors`` raw counts, channel-fastest:
step ``k`` lists all channels, and the analyser's nominal kinetic energy at step ``k`` is
``kinetic_energy + (k - mcd_head) * scan_delta``. Channel ``j`` at step ``k`` counts electrons of
kinetic energy ``KE_k + shift_j * pass_energy`` (``shift`` is in units of the pass energy). This
was checked on both regions: ``mcd_head``/``mcd_tail`` equal ``max(shift) * pass_energy /
scan_delta`` and ``-min(shift) * pass_energy / scan_delta`` rounded (8.25 -> 8, 7.44 -> 7 for
the survey; 33.0 -> 33, 29.8 -> 30 for C1s), and with this sign the C1s maxima of the five
channels agree within 0.1 eV (the opposite sign spreads them over 6 eV).

The spectrum on the nominal grid ``KE_i = kinetic_energy + i * scan_delta`` is the sum over
channels of each channel's counts at ``KE_i``: linearly interpolated between steps when the
region parameter *Interpolation* is true (as in the real file; also when it is absent), from
the nearest step otherwise; a position up to one step beyond the recorded range (rounded
``mcd_head``/``mcd_tail``) takes the edge value. Channel gains are not applied (a
MetadataWarning says so when one differs from 1). The summation is recorded as an
``mcd_channel_sum`` step in ``history``. Only the *FixedAnalyzerTransmission* scan mode is
summed this way (its pass energy is constant); other scan modes with several shifted channels
raise ParseError.

Scans are summed (signal ``counts``) unless ``scans="separate"``: then they stay a leading
``scan`` dimension. Each cycle becomes its own Spectrum (``acquired_at`` from its Unix time).

Energy axis: kinetic energies are referenced to the spectrometer's Fermi level, so with
``energy="binding"`` (default) ``BE = hv - KE`` (work function 0; the regions' nominal windows
come out as round binding energies, 700 to -1 eV and 290 to 280 eV). See
:mod:`specssb.parsers.xps_vamas` for the same convention in Prodigy files.

``meta``: region name -> ``region`` (``element``/``transition`` when parseable), group ->
``sample``, analyser name -> ``instrument``, excitation_energy -> ``excitation_energy_ev``,
pass_energy -> ``pass_energy_ev``, dwell_time -> ``dwell_time_s``, scan mode ->
``analyser_mode`` (``FAT``), source name and anode -> ``source_label``, scans in the cycle ->
``n_scans``, cycle time -> ``acquired_at``, ``work_function_ev`` 0. ``raw_meta`` is the
region's whole record converted to Python values (numbers, strings, dicts, lists; parameter
sequences as dicts) without the raw counts, with ``group``, ``cycle`` (index, time,
parameters) and ``transmission`` (read-only array of shape (n,), as the quantification code
expects).

Safety: the file is parsed with :mod:`xml.etree.ElementTree`; a document declaring an entity
(``<!ENTITY``) is refused before parsing, so entity-expansion attacks cannot run.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.parsers._specs_common import analyser_mode, check_energy, region_label
from specssb.parsers._xps_energy import convert_energy
from specssb.spectrum import Axis, Coord, Source, Spectrum, Step

__all__ = ["parse_specs_xml", "read_specs_xml", "sniff_specs_xml"]

_INTEGERS = {"ulong", "long", "short", "ushort", "octet", "longlong", "ulonglong"}
_FLOATS = {"double", "float"}
_TEXTS = {"string", "enum", "char", "objectref"}
_SUMMABLE_MODES = {"FixedAnalyzerTransmission"}


# --------------------------------------------------------------------------- XML -> Python
def _value(element: ET.Element, path: str, where: str) -> Any:
    """The Python value of one serialized CORBA element (recursively)."""
    tag = element.tag
    text = (element.text or "").strip()
    if tag in _TEXTS:
        return element.text or ""
    if tag == "boolean":
        return text.lower() in ("1", "true")
    if tag in _INTEGERS or tag in _FLOATS:
        try:
            return int(text) if tag in _INTEGERS else float(text)
        except ValueError:
            raise ParseError(path, f"expected a {tag} value, found {text[:40]!r}",
                             position=where) from None
    if tag == "any":
        children = list(element)
        return _value(children[0], path, where) if children else None
    if tag == "struct":
        result: dict[str, Any] = {}
        for index, child in enumerate(element):
            name = child.get("name") or f"{child.tag}{index}"
            result[name] = _value(child, path, f"{where} / {name}")
        scans = element.find("sequence[@name='scans']")
        if element.get("type_name") == "Cycle" and scans is not None:
            result["scans_declared"] = int(scans.get("length", ""))  # validated by _sequence
        return result
    if tag in ("sequence", "array"):
        return _sequence(element, path, where)
    return text


def _sequence(element: ET.Element, path: str, where: str) -> Any:
    try:
        length = int(element.get("length", ""))
    except ValueError:
        raise ParseError(path, f"sequence without a valid length ({element.get('length')!r})",
                         position=where) from None
    children = list(element)
    if len(children) == 1 and (children[0].tag in _INTEGERS or children[0].tag in _FLOATS):
        try:  # a number sequence: one element holding all values
            values = np.array((children[0].text or "").split(), dtype=np.float64)
        except ValueError:
            raise ParseError(path, "non-numeric value in a number sequence",
                             position=where) from None
        if values.size != length:
            raise ParseError(path, f"sequence declares {length} values but holds {values.size} "
                             "(truncated file?)", position=where)
        values.setflags(write=False)
        return values
    # An item sequence may hold fewer items than its length says (the real file's C1s scan
    # sequence declares 15 scans and holds 2); what is present is read, see _raw_meta.
    items = [_value(child, path, f"{where}[{i}]") for i, child in enumerate(children)]
    if element.get("type_name") == "ParameterSeq":
        return {str(item.get("name", f"parameter {i}")): item.get("value")
                for i, item in enumerate(items) if isinstance(item, dict)}
    return items


def _groups(data: bytes, path: str) -> list[dict[str, Any]]:
    if b"<!ENTITY" in data:
        raise ParseError(path, "the document declares XML entities; refused (entity expansion "
                         "is a denial-of-service risk and SpecsLab never writes them)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ParseError(path, f"malformed XML ({exc.msg if hasattr(exc, 'msg') else exc})",
                         position=f"line {line}, column {column}") from exc
    except (LookupError, ValueError) as exc:  # unknown or multi-byte encoding declared
        raise ParseError(path, f"unusable XML encoding declaration ({exc})",
                         position="line 1") from exc
    sequence = root.find("sequence")
    if root.tag != "any" or sequence is None or sequence.get("type_name") != "RegionGroupSeq":
        raise ParseError(path, "not a SpecsLab 2 XML file: expected <any> holding a "
                         "RegionGroupSeq sequence", position="root element")
    groups = _sequence(sequence, path, "RegionGroupSeq")
    if not all(isinstance(g, dict) and isinstance(g.get("regions"), list) for g in groups):
        raise ParseError(path, "a RegionGroup without a regions sequence",
                         position="RegionGroupSeq")
    return groups


# --------------------------------------------------------------------------- detector sum
def _field(record: dict[str, Any], key: str, path: str, where: str, kind: type = float) -> Any:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseError(path, f"missing or invalid {key!r} ({value!r})", position=where)
    return kind(value)


def _channel_sum(
    counts: np.ndarray, shifts_steps: np.ndarray, n: int, head: int, interpolate: bool
) -> np.ndarray:
    """Sum channels onto the nominal grid; ``counts`` has shape (n_steps, n_channels)."""
    steps = np.arange(counts.shape[0], dtype=np.float64)
    total = np.zeros(n)
    for channel, shift in enumerate(shifts_steps):
        position = np.arange(n) + head - shift  # fractional step where channel sees KE_i
        if interpolate:
            total += np.interp(position, steps, counts[:, channel])
        else:
            index = np.clip(np.rint(position).astype(int), 0, counts.shape[0] - 1)
            total += counts[index, channel]
    return total


def _region_geometry(region: dict[str, Any], path: str, where: str) -> dict[str, Any]:
    definition = region.get("region")
    if not isinstance(definition, dict):
        raise ParseError(path, "RegionData without a RegionDef 'region' struct", position=where)
    geometry = {
        "n": _field(definition, "values_per_curve", path, where, int),
        "curves": _field(definition, "curves_per_scan", path, where, int),
        "delta": _field(definition, "scan_delta", path, where),
        "ke0": _field(definition, "kinetic_energy", path, where),
        "pass_energy": _field(definition, "pass_energy", path, where),
        "head": _field(region, "mcd_head", path, where, int),
        "tail": _field(region, "mcd_tail", path, where, int),
    }
    if geometry["n"] < 1 or geometry["delta"] == 0:
        raise ParseError(path, f"values_per_curve {geometry['n']} / scan_delta "
                         f"{geometry['delta']} define no energy grid", position=where)
    if geometry["curves"] != 1:
        raise ParseError(path, f"curves_per_scan is {geometry['curves']}: multi-curve (2-D "
                         "detector) regions are not supported", position=where)
    info = region.get("analyzer_info") or {}
    detectors = info.get("detectors") or [{"shift": 0.0, "gain": 1.0}]
    geometry["shifts"] = np.array([_field(d, "shift", path, f"{where} / detector", float)
                                   for d in detectors])
    geometry["gains"] = np.array([d.get("gain", 1.0) for d in detectors], dtype=float)
    mode = ((definition.get("scan_mode") or {}).get("name") or "").strip()
    if len(detectors) > 1 and np.any(geometry["shifts"] != 0) and mode not in _SUMMABLE_MODES:
        raise ParseError(path, f"summing shifted detector channels in scan mode {mode!r} is not "
                         "implemented (only FixedAnalyzerTransmission)", position=where)
    return geometry


# --------------------------------------------------------------------------- to Spectrum
def _cycle_spectrum(
    group: dict[str, Any], region: dict[str, Any], cycle_index: int, cycle: dict[str, Any],
    source: Source, *, energy: str, scans: str, warn: list[str], where: str,
) -> Spectrum:
    path = source.path
    geometry = _region_geometry(region, path, where)
    n, head, tail = geometry["n"], geometry["head"], geometry["tail"]
    n_channels = geometry["shifts"].size
    expected = (n + head + tail) * n_channels
    shifts_steps = geometry["shifts"] * geometry["pass_energy"] / geometry["delta"]
    interpolate = bool((region.get("parameters") or {}).get("Interpolation", True))
    summed = []
    for index, scan in enumerate(cycle.get("scans") or []):
        counts = scan.get("counts") if isinstance(scan, dict) else None
        if not isinstance(counts, np.ndarray) or counts.size != expected:
            size = counts.size if isinstance(counts, np.ndarray) else "no"
            raise ParseError(path, f"scan {index} holds {size} counts, expected {expected} = "
                             f"({n} values + {head} head + {tail} tail) x {n_channels} channels",
                             position=f"{where} / cycle {cycle_index}")
        if not np.all(np.isfinite(counts)):
            raise ParseError(path, "non-finite counts", position=f"{where} / scan {index}")
        if len(scan.get("scaling_factors", [])):
            warn.append(f"{where}: scan scaling factors present but not applied")
        summed.append(_channel_sum(counts.reshape(n + head + tail, n_channels), shifts_steps,
                                   n, head, interpolate))
    if np.any(geometry["gains"] != 1):
        warn.append(f"{where}: detector gains {geometry['gains'].tolist()} are not applied")
    stack = np.array(summed)
    data = stack.sum(axis=0) if scans == "sum" else stack
    dims = ("scan",) if scans == "separate" else ()

    definition = region["region"]
    kinetic = geometry["ke0"] + geometry["delta"] * np.arange(n, dtype=np.float64)
    base = definition.get("kinetic_energy_base", 0)
    if isinstance(base, (int, float)) and base != 0:
        warn.append(f"{where}: kinetic_energy_base {base} is not applied")
    hv = definition.get("excitation_energy")
    hv = float(hv) if isinstance(hv, (int, float)) and math.isfinite(hv) and hv > 0 else None
    if hv is None and energy == "binding":
        warn.append(f"{where}: no excitation energy, the axis stays kinetic energy")
    kind, values, converted = convert_energy("kinetic_energy", kinetic, hv=hv, energy=energy)
    step = Step("mcd_channel_sum", {
        "channels": n_channels,
        "shifts_ev": (geometry["shifts"] * geometry["pass_energy"]).tolist(),
        "method": "linear interpolation" if interpolate else "nearest step",
        "mcd_head": head, "mcd_tail": tail, "scans": scans,
    })
    raw_meta = _raw_meta(group, region, cycle_index, cycle)
    try:
        axis = Axis(kind, "eV", values)
    except ValueError as exc:
        raise ParseError(path, f"unusable energy axis: {exc}", position=where) from exc
    return Spectrum(
        axis=axis, data=data, technique="xps", signal="counts", dims=dims,
        coords={"scan": Coord("scan", np.arange(stack.shape[0]), "1")} if dims else {},
        meta=_meta(group, region, cycle, len(summed), hv), raw_meta=raw_meta, source=source,
        history=(step, *converted),
    )


def _raw_meta(group: dict[str, Any], region: dict[str, Any], index: int,
              cycle: dict[str, Any]) -> dict[str, Any]:
    raw = {key: value for key, value in region.items() if key not in ("cycles", "transmission")}
    raw["group"] = group.get("name")
    raw["cycle"] = {"index": index, **{k: v for k, v in cycle.items() if k != "scans"},
                    "scans_present": len(cycle.get("scans", [])),
                    "scaling_factors": [s.get("scaling_factors") for s in cycle.get("scans", [])]}
    transmission = region.get("transmission")
    if isinstance(transmission, np.ndarray) and transmission.size:
        raw["transmission"] = transmission
    return raw


def _meta(group: dict[str, Any], region: dict[str, Any], cycle: dict[str, Any], n_scans: int,
          hv: float | None) -> dict[str, Any]:
    definition = region["region"]
    name = str(region.get("name") or "")
    element, transition = region_label(name)
    source_info = region.get("source_info") or {}
    anode = (source_info.get("parameters") or {}).get("Anode")
    source_label = " ".join(str(p) for p in (source_info.get("name"), anode and f"({anode})") if p)
    mode = str((definition.get("scan_mode") or {}).get("name") or "")

    def number(key: str) -> float | None:
        value = definition.get(key)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    time = cycle.get("time")
    meta: dict[str, Any] = {
        "region": name or None,
        "element": element,
        "transition": transition,
        "sample": group.get("name") or None,
        "instrument": (region.get("analyzer_info") or {}).get("name") or None,
        "excitation_energy_ev": hv,
        "work_function_ev": 0.0,
        "source_label": source_label or None,
        "analyser_mode": analyser_mode(mode) if mode else None,
        "pass_energy_ev": number("pass_energy"),
        "dwell_time_s": number("dwell_time"),
        "n_scans": n_scans,
        "acquired_at": (_dt.datetime.fromtimestamp(time, _dt.UTC)
                        if isinstance(time, int) and time > 0 else None),
    }
    return {key: value for key, value in meta.items() if value is not None}


# --------------------------------------------------------------------------- public API
def parse_specs_xml(
    data: bytes, *, source: Source, energy: str = "binding", scans: str = "sum"
) -> list[Spectrum]:
    """Parse a SpecsLab 2 XML document: one Spectrum per region and measured cycle.

    Parameters
    ----------
    data : bytes
        The whole file (its XML declaration names the encoding).
    source : Source
        Provenance; ``block`` is replaced by ``"<group> / <region>"`` (``" / cycle <n>"``
        added when a region has several cycles).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return: ``BE = hv - KE`` (eV) or the measured kinetic energy.
    scans : {"sum", "separate"}, default "sum"
        Sum the scans of a cycle (1-D counts), or keep them as a leading ``scan`` dimension.

    Returns
    -------
    list of Spectrum
        Signal ``counts`` (detector channels summed, see the module docstring), in file order.

    Raises
    ------
    ParseError
        Malformed or truncated XML, entity declarations, not a SpecsLab 2 document, counts
        that do not match ``values_per_curve``/``mcd_head``/``mcd_tail``/detectors, no
        measured data.
    ConfigError
        Invalid ``energy`` or ``scans``.

    Warns
    -----
    MetadataWarning
        Regions or cycles without data (skipped), settings that are not applied.

    Examples
    --------
    >>> spectra = parse_specs_xml(open("In-situ_PBTTT_XPS_SPECS.xml", "rb").read(),
    ...     source=Source("In-situ_PBTTT_XPS_SPECS.xml", "", "specs-xml"))  # doctest: +SKIP
    >>> [(s.meta["region"], s.axis.size) for s in spectra]  # doctest: +SKIP
    [('Survey', 1403), ('C1s', 201)]
    """
    check_energy(energy)
    _check_scans(scans)
    path = source.path
    warn: list[str] = []
    spectra: list[Spectrum] = []
    for g_index, group in enumerate(_groups(data, path)):
        for r_index, region in enumerate(group["regions"]):
            if not isinstance(region, dict):
                raise ParseError(path, "a region that is not a RegionData struct",
                                 position=f"group {g_index}, region {r_index}")
            name = f"{group.get('name', '')} / {region.get('name', '')}"
            cycles = [c for c in region.get("cycles") or []
                      if isinstance(c, dict) and c.get("scans")]
            if region.get("compact_cycles"):
                warn.append(f"{name}: compact cycles are not read")
            if not cycles:
                warn.append(f"{name}: no measured scans, skipped")
                continue
            for c_index, cycle in enumerate(cycles):
                block = name + (f" / cycle {c_index}" if len(cycles) > 1 else "")
                block_source = Source(path, source.sha256, source.format, block,
                                      source.parser_version)
                spectra.append(_cycle_spectrum(group, region, c_index, cycle, block_source,
                                               energy=energy, scans=scans, warn=warn,
                                               where=f"region {name!r}"))
    if not spectra:
        raise ParseError(path, "no region holds measured scans")
    for message in dict.fromkeys(warn):
        warnings.warn(f"{path}: {message}", MetadataWarning, stacklevel=2)
    return spectra


def _check_scans(scans: str) -> None:
    if scans not in ("sum", "separate"):
        raise ConfigError(f"scans must be 'sum' or 'separate', not {scans!r}", key="scans")


def sniff_specs_xml(path: Path, head: bytes) -> bool:
    """True for an XML document written by SpecsLab's CORBA XML serializer."""
    text = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    if not text.startswith(b"<?xml"):
        return False
    return b"IDL:specs.de/Serializer" in head or (b"XMLSerializer" in head and b" from SL " in head)


@register_parser(
    name="specs-xml",
    technique="xps",
    extensions=(".xml",),
    sniff=sniff_specs_xml,
    description="SPECS SpecsLab 2 XML (multi-channel detector summed, scans summed or separate)",
)
def read_specs_xml(path: Path, *, energy: str = "binding", scans: str = "sum") -> list[Spectrum]:
    """Read a SpecsLab 2 ``.xml`` file: one Spectrum per region and measured cycle.

    Parameters
    ----------
    path : Path
        The file.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return; see :func:`parse_specs_xml`.
    scans : {"sum", "separate"}, default "sum"
        Sum the scans or keep a leading ``scan`` dimension.

    Returns
    -------
    list of Spectrum
        See :func:`parse_specs_xml`.

    Raises
    ------
    ParseError
        Missing, unreadable, malformed or unsupported file.
    ConfigError
        Invalid ``energy`` or ``scans``.

    Examples
    --------
    >>> import specssb
    >>> survey, c1s = specssb.read("In-situ_PBTTT_XPS_SPECS.xml")  # doctest: +SKIP
    >>> c1s.meta["n_scans"], c1s.axis.values[0]  # doctest: +SKIP
    (15, 290.0)
    """
    check_energy(energy)
    _check_scans(scans)
    data = read_bytes(path)
    return parse_specs_xml(data, source=make_source(path, "specs-xml", data=data),
                           energy=energy, scans=scans)
