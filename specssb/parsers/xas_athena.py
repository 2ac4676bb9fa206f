"""Athena project files (``.prj``): every group of a project becomes one XAS Spectrum of mu(E).

Layout (verified on the ten projects in ``../shared/data/xas/larch/athena``)
---------------------------------------------------------------------------
A project is gzip-compressed (8 of the 10; ``align_merge.prj``, ``danger.prj`` and
``json_unzipped.prj`` are plain text) and comes in two dialects:

* **Perl** (Athena 0.8 and Demeter 0.9): Perl source written by ``Data::Dumper``. It opens with
  ``# Athena project file -- Athena version 0.8.056`` (or ``-- Demeter version 0.9.21``) and
  comment lines, then, per group, ``$old_group = 'vfil';`` (the group's hash key),
  ``@args = ('bkg_e0',6539,'label','Mn foil',...);`` (key/value pairs: every Athena
  parameter), ``@x = ('6380.0961',...);`` (energy, eV), ``@y = (...);`` (mu), optionally
  ``@i0``, ``@signal``, ``@stddev`` and ``$xdi = bless({...}, 'Xray::XDI');`` (the XDI header
  of the imported file, Demeter), and a ``[record]`` line. After the groups: ``@journal``,
  ``%plot_features``, ``@indicator``, ``%lcf_data``, ``1;``.
* **JSON** (Demeter 0.9.26, ``json_unzipped.prj``, ``Ni_FeNiS20_RT.prj``): one object with
  ``_____header1..3``, ``_____journal``, ``_____order`` (the group keys in order) and, per key,
  ``{"args": {...}, "x": [...], "y": [...], "signal": [...]}``.

Why not Larch: ``larch.io.read_athena`` (xraylarch 2026.3.1) reads the Perl dialect by turning
each line into Python syntax and running it through an ``asteval`` interpreter, i.e. it
*evaluates* the file (``danger.prj`` holds ``@journal = system("hephaestus");``, which Perl would
execute; asteval refuses that call only because its symbol table lacks it). It also keeps one
group per label (``NiO.prj`` holds 24 groups, Larch returns 22: the second ``NiO.000`` and
``Ref NiO.000`` overwrite the first), sorts and nudges energies, prints to stdout, and fails with
``OSError: failed to read`` on gzipped projects whenever ``sys.stdout`` has no encoding (e.g.
under ``contextlib.redirect_stdout``). So the format is read here: JSON with :mod:`json`, Perl
with :mod:`specssb.parsers._perl_data`, a tokenizer and recursive-descent parser that accepts
only data literals (strings, numbers, lists, hashes, ``bless``) and **never evaluates** anything.
A statement that is not a literal (the ``system(...)`` call) is skipped with a
:class:`MetadataWarning` when it holds metadata (journal, plot settings) and is a
:class:`ParseError` when it holds a group's ``args``, ``x`` or ``y``. Larch is the oracle in the
tests: the same energy and mu arrays for every group of every project.

What goes where
---------------
* ``axis``: ``energy`` (eV) = ``x`` **as stored**, in file order (Larch returns the same
  numbers). Athena's energy shift ``bkg_eshift`` is *not* applied: it is in ``raw_meta``.
  Energy must be finite and non-decreasing (repeats allowed), otherwise :class:`ParseError`.
* ``data`` = ``y``; ``signal`` ``mu`` for mu(E) groups (``is_xmu``), ``norm`` for normalized
  groups (``is_nor``); other record types (chi(k), difference spectra, ``is_bkg``...) are
  skipped with a :class:`MetadataWarning` (no energy axis).
* ``source.block`` = the group's label with surrounding blanks removed (Athena writes reference
  channels as ``"  Ref NiO.000"`` -> ``"Ref NiO.000"``); a label seen again gets ``" (2)"``...
* ``meta``: ``element`` and ``edge`` from the group's XDI header (``Element.symbol``,
  ``Element.edge``) when stored, else Larix's ``atsym``/``edge`` args, else Athena's ``bkg_z``
  and ``fft_edge`` (note: Athena fills ``bkg_z`` from its own guess from e0 unless the user set
  it); ``e0_ev`` = ``bkg_e0`` (Athena's E0 on the stored energy grid: ``d_Ref_NiO_000`` stores
  8331.748 with ``bkg_eshift`` 1.252, i.e. 8333.000 = Ni K after the shift); ``acquired_at`` from
  the XDI header's ``Scan.start_time`` (local time in the ``timezone`` option when it has no UTC
  offset); ``monochromator`` from the XDI header's ``Mono.name``. The detection mode is not
  stored by Athena and is not guessed.
* ``raw_meta``: ``athena`` (every ``args`` entry as written: str, int, float or list),
  ``athena_parameters`` (the processing parameters as floats/str: ``e0``, ``eshift``,
  ``pre1``, ``pre2``, ``nor1``, ``nor2``, ``nnorm``, ``rbkg``, ``kweight``, ``spl1``, ``spl2``,
  ``step``, ``element``, ``edge``, ``fft_kmin``, ``fft_kmax``, ``fft_dk``), ``label`` (verbatim),
  ``group`` (hash key), ``index`` (0-based position in the project), ``arrays`` (``i0``,
  ``signal``, ``stddev`` when stored with the same length), ``xdi`` (the XDI header hash, when
  stored), ``project_header`` (comment lines), ``journal`` (list of str), ``format_dialect``
  (``"perl"`` or ``"json"``), ``skipped_statements`` (what was not a literal, when any).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import ELEMENTS, make_source, read_bytes, time_zone
from specssb.parsers._perl_data import UnsupportedPerl, iter_statements, line_of
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_athena", "read_athena", "sniff_athena"]

FORMAT = "athena"
_MAGIC_TEXT = "Athena project file -- "
#: Largest decompressed project accepted (a guard against decompression bombs).
MAX_PROJECT_BYTES = 1 << 30
_EDGES = frozenset(
    "K L1 L2 L3 M1 M2 M3 M4 M5 N1 N2 N3 N4 N5 N6 N7 O1 O2 O3 O4 O5 O6 O7 P1 P2 P3".split()
)
_DATA_KEYS = ("x", "y")
#: Athena flags of groups that are not mu(E) on an energy axis (chi(k), R or q space, pixel
#: data, background or difference spectra).
_NOT_MU = ("is_chi", "is_rsp", "is_qsp", "is_pixel", "is_bkg", "is_diff")
_EXTRA_ARRAYS = ("i0", "signal", "stddev")
#: raw_meta["athena_parameters"] name -> Athena args key.
_PARAMETERS = {
    "e0": "bkg_e0", "eshift": "bkg_eshift", "pre1": "bkg_pre1", "pre2": "bkg_pre2",
    "nor1": "bkg_nor1", "nor2": "bkg_nor2", "nnorm": "bkg_nnorm", "rbkg": "bkg_rbkg",
    "kweight": "bkg_kw", "spl1": "bkg_spl1", "spl2": "bkg_spl2", "step": "bkg_step",
    "fft_kmin": "fft_kmin", "fft_kmax": "fft_kmax", "fft_dk": "fft_dk",
}  # fmt: skip


def _decompress(data: bytes, path: str) -> bytes:
    """The project's bytes, un-gzipped when they start with the gzip magic."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_PROJECT_BYTES)
    except zlib.error as exc:
        raise ParseError(path, f"corrupt gzip stream ({exc})") from exc
    if inflater.unconsumed_tail:
        raise ParseError(path, f"decompresses to more than {MAX_PROJECT_BYTES} bytes")
    if not inflater.eof:
        raise ParseError(path, "the gzip stream ends early (truncated file)",
                         position=f"byte {len(data)}")
    return out


def sniff_athena(path: Path, head: bytes) -> bool:
    """True for an Athena project (Perl or JSON, gzipped or not) from its first bytes."""
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 2048)
        except zlib.error:
            return False
    return _MAGIC_TEXT.encode() in head[:1024]


@register_parser(
    name=FORMAT,
    technique="xas",
    extensions=(".prj",),
    sniff=sniff_athena,
    description="Athena/Demeter project files (.prj, Perl or JSON, gzipped or plain)",
)
def read_athena(path: Path, *, timezone: str = "UTC") -> list[Spectrum]:
    """Read every group of an Athena project into XAS Spectra of mu(E).

    Parameters
    ----------
    path : Path
        The ``.prj`` file.
    timezone : str, default "UTC"
        IANA time zone of a stored XDI ``Scan.start_time`` without UTC offset.

    Returns
    -------
    list of Spectrum
        One per mu(E) or normalized group, in project order; axis ``energy`` (eV).

    Raises
    ------
    ParseError
        Not an Athena project, truncated or corrupt, or a group without usable energy/mu.
    ConfigError
        An unknown ``timezone``.

    Examples
    --------
    >>> spectra = read_athena(Path("Mn.prj"))  # doctest: +SKIP
    >>> spectra[0].source.block, spectra[0].meta["element"]  # doctest: +SKIP
    ('Mn foil', 'Mn')
    """
    data = read_bytes(path)
    return parse_athena(data, source=make_source(path, FORMAT, data=data), timezone=timezone)


def parse_athena(data: bytes, *, source: Source, timezone: str = "UTC") -> list[Spectrum]:
    """Parse the bytes of an Athena project (pure; no file access).

    Parameters
    ----------
    data : bytes
        The file's bytes (gzipped or not).
    source : Source
        Provenance; its ``path`` names the file in errors. ``block`` is set per group.
    timezone : str, default "UTC"
        As in :func:`read_athena`.

    Returns
    -------
    list of Spectrum
        See :func:`read_athena`.

    Raises
    ------
    ParseError, ConfigError
        See :func:`read_athena`.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = (b"# Athena project file -- Demeter version 0.9.26\\n"
    ...         b"$old_group = 'abcd';\\n@args = ('label','Cu foil','bkg_z','Cu','fft_edge','k',"
    ...         b"'bkg_e0',8979,'is_xmu',1);\\n@x = ('8970','8980','8990');\\n"
    ...         b"@y = ('0.1','0.6','1.0');\\n[record]\\n1;\\n")
    >>> [s] = parse_athena(text, source=Source("cu.prj", "0" * 64, "athena"))
    >>> s.source.block, s.meta["element"], s.meta["edge"], s.axis.values.tolist()
    ('Cu foil', 'Cu', 'K', [8970.0, 8980.0, 8990.0])
    """
    zone = time_zone(timezone)
    path = source.path
    raw = _decompress(data, path)
    if _MAGIC_TEXT.encode() not in raw[:1024]:
        raise ParseError(path, "not an Athena project file (no 'Athena project file --' "
                         "line at the start)", position="byte 0")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    collected: list[tuple[str, str]] = []
    if text.lstrip().startswith("{"):
        records, project = _json_records(text, path)
    else:
        records, project = _perl_records(text, path, collected)
    if not records:
        raise ParseError(path, "the project holds no groups ([record] entries)")
    spectra: list[Spectrum] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        spectrum = _spectrum(record, index, project, source, seen, zone, collected)
        if spectrum is not None:
            spectra.append(spectrum)
    if not spectra:
        raise ParseError(path, "no group of the project holds mu(E) data")
    for where, message in collected:  # emitted only once the file has read
        warnings.warn(f"{path} {where}: {message}", MetadataWarning, stacklevel=3)
    return spectra


# ------------------------------------------------------------------------------ two dialects
def _perl_records(
    text: str, path: str, collected: list[tuple[str, str]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    header = [line for line in text.split("\n", 20)[:20] if line.startswith("#")]
    project: dict[str, Any] = {"format_dialect": "perl", "project_header": header}
    records: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    skipped: list[str] = []
    try:
        for statement in iter_statements(text):
            if statement.kind == "record":
                records.append(current)
                current = {}
            elif statement.kind == "unsupported":
                where = f"line {line_of(text, statement.offset)}"
                if statement.name in (*_DATA_KEYS, "args"):
                    raise ParseError(path, f"@{statement.name} is not a data literal: "
                                     f"{statement.error.reason if statement.error else ''}",
                                     position=where)
                skipped.append(f"{statement.sigil}{statement.name} ({where})")
                collected.append((where, f"{statement.sigil}{statement.name} is not a data "
                                  "literal; skipped without evaluating it"))
            elif statement.kind == "assign":
                if statement.name == "journal":
                    project["journal"] = _journal(statement.value)
                elif statement.name in ("plot_features", "indicator", "lcf_data"):
                    project[statement.name] = statement.value
                else:
                    current[statement.name] = statement.value
                    current.setdefault("_line", line_of(text, statement.offset))
    except UnsupportedPerl as exc:
        raise ParseError(path, exc.reason, position=f"line {line_of(text, exc.offset)}") from exc
    if any(key in current for key in _DATA_KEYS):
        raise ParseError(path, "the last group has no closing [record] line (truncated file?)",
                         position=f"line {current.get('_line', '?')}")
    for record in records:
        args = record.get("args", [])
        if isinstance(args, list):
            if len(args) % 2:
                raise ParseError(path, "@args holds an odd number of entries",
                                 position=f"line {record.get('_line', '?')}")
            record["args"] = {str(args[i]): args[i + 1] for i in range(0, len(args), 2)}
        elif not isinstance(args, dict):
            raise ParseError(path, "@args is not a list", position=f"line {record.get('_line')}")
    if skipped:
        project["skipped_statements"] = skipped
    return records, project


def _journal(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [] if value is None else [str(value)]


def _json_records(text: str, path: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON project ({exc.msg})",
                         position=f"line {exc.lineno}") from exc
    if not isinstance(document, dict):
        raise ParseError(path, "a JSON project must be one object")
    order = document.get("_____order")
    if not isinstance(order, list):
        order = [key for key in document if not key.startswith("_____")]
    records = []
    for key in order:
        record = document.get(key)
        if not isinstance(record, dict):
            raise ParseError(path, f"group {key!r} named in _____order is missing or not an object")
        args = record.get("args", {})
        if not isinstance(args, dict):
            raise ParseError(path, f"group {key!r}: 'args' is not an object")
        records.append({**record, "args": args, "old_group": str(key)})
    project = {
        "format_dialect": "json",
        "project_header": [str(v) for k, v in document.items() if k.startswith("_____head")],
        "journal": _journal(document.get("_____journal")),
    }
    return records, project


# -------------------------------------------------------------------------------- one group
def _array(record: Mapping[str, Any], key: str, path: str, where: str) -> np.ndarray:
    values = record.get(key)
    if not isinstance(values, list) or not values:
        raise ParseError(path, f"no @{key} array", position=where)
    try:
        array = np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParseError(path, f"@{key} holds a value that is not a number ({exc})",
                         position=where) from None
    if not np.all(np.isfinite(array)):
        bad = int(np.nonzero(~np.isfinite(array))[0][0])
        raise ParseError(path, f"@{key}[{bad}] is not a finite number", position=where)
    return array


def _flag(args: Mapping[str, Any], key: str) -> bool:
    value = args.get(key, 0)
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        return False


def _spectrum(
    record: dict[str, Any],
    index: int,
    project: dict[str, Any],
    source: Source,
    seen: dict[str, int],
    zone: dt.tzinfo,
    collected: list[tuple[str, str]],
) -> Spectrum | None:
    path = source.path
    args: dict[str, Any] = record["args"]
    label = str(args.get("label", record.get("old_group", f"group {index + 1}")))
    where = f"group {index + 1} ({label.strip()!r})"
    other = [flag for flag in _NOT_MU if _flag(args, flag)]
    if other or not (_flag(args, "is_xmu") or _flag(args, "is_nor") or "is_xmu" not in args):
        kind = args.get("recordtype") or (other[0] if other else "not mu(E)")
        collected.append((where, f"{kind} group skipped: it holds no mu(E) on an energy axis"))
        return None
    energy = _array(record, "x", path, where)
    mu = _array(record, "y", path, where)
    if energy.size != mu.size:
        raise ParseError(path, f"@x has {energy.size} values but @y has {mu.size}", position=where)
    steps = np.diff(energy)
    if np.any(steps < 0):
        at = int(np.nonzero(steps < 0)[0][0])
        raise ParseError(path, f"energy is not increasing: {energy[at]:g} eV is followed by "
                         f"{energy[at + 1]:g} eV (point {at + 2})", position=where)
    block = label.strip() or str(record.get("old_group", index + 1))
    seen[block] = seen.get(block, 0) + 1
    if seen[block] > 1:
        block = f"{block} ({seen[block]})"
    xdi = record.get("xdi") if isinstance(record.get("xdi"), dict) else None
    meta = _meta(args, xdi, zone, where, collected)
    raw_meta: dict[str, Any] = {
        "athena": args,
        "athena_parameters": _parameters(args),
        "label": label,
        "group": str(record.get("old_group", "")),
        "index": index,
        "arrays": _extra_arrays(record, energy.size),
        **{k: v for k, v in project.items() if k not in ("plot_features", "indicator", "lcf_data")},
    }
    if xdi is not None:
        raw_meta["xdi"] = xdi
    if re.match(r"\s*ref\b", label, re.IGNORECASE):
        raw_meta["reference_channel"] = True
    signal = "norm" if _flag(args, "is_nor") and not _flag(args, "is_xmu") else "mu"
    return Spectrum(
        axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal=signal,
        meta=meta, raw_meta=raw_meta,
        source=Source(source.path, source.sha256, source.format, block, source.parser_version),
    )  # fmt: skip


def _extra_arrays(record: Mapping[str, Any], size: int) -> dict[str, np.ndarray]:
    arrays = {}
    for key in _EXTRA_ARRAYS:
        values = record.get(key)
        if isinstance(values, list) and len(values) == size:
            try:
                array = np.array([float(v) for v in values], dtype=np.float64)
            except (TypeError, ValueError):
                continue
            array.setflags(write=False)
            arrays[key] = array
    return arrays


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _parameters(args: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, key in _PARAMETERS.items():
        number = _number(args.get(key))
        if number is not None:
            found[name] = number
    for name, key in (("element", "bkg_z"), ("edge", "fft_edge")):
        if isinstance(args.get(key), str) and args[key].strip():
            found[name] = args[key].strip()
    return found


def _element_edge(symbol: Any, edge: Any) -> tuple[str | None, str | None]:
    element = str(symbol).strip().capitalize() if isinstance(symbol, str) else None
    edge_name = str(edge).strip().upper() if isinstance(edge, str) else None
    return (element if element in ELEMENTS else None,
            edge_name if edge_name in _EDGES else None)


def _meta(
    args: Mapping[str, Any],
    xdi: Mapping[str, Any] | None,
    zone: dt.tzinfo,
    where: str,
    collected: list[tuple[str, str]],
) -> dict[str, Any]:
    metadata = xdi.get("metadata", {}) if xdi else {}
    metadata = metadata if isinstance(metadata, dict) else {}
    element_block = metadata.get("Element", {}) if isinstance(metadata.get("Element"), dict) else {}
    candidates = [
        _element_edge(element_block.get("symbol"), element_block.get("edge")),
        _element_edge(args.get("atsym"), args.get("edge")),
        _element_edge(args.get("bkg_z"), args.get("fft_edge")),
    ]
    meta: dict[str, Any] = {}
    for element, edge in candidates:
        if element and "element" not in meta:
            meta["element"] = element
        if edge and "edge" not in meta:
            meta["edge"] = edge
    e0 = _number(args.get("bkg_e0"))
    if e0 is not None and e0 > 0:
        meta["e0_ev"] = e0
    scan = metadata.get("Scan", {}) if isinstance(metadata.get("Scan"), dict) else {}
    start = scan.get("start_time")
    if isinstance(start, str) and start.strip():
        try:
            stamp = dt.datetime.fromisoformat(start.strip())
        except ValueError:
            collected.append((where, f"Scan.start_time {start[:40]!r} is not ISO 8601; ignored"))
        else:
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=zone)
            meta["acquired_at"] = stamp.astimezone(dt.timezone.utc)
    mono = metadata.get("Mono", {}) if isinstance(metadata.get("Mono"), dict) else {}
    if isinstance(mono.get("name"), str) and mono["name"].strip():
        meta["monochromator"] = mono["name"].strip()
    return meta

