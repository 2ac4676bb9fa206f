"""Beamline multi-column XAS text files: energy, I0, It, If, Iref ... columns -> mu(E).

Every XAS beamline writes its own text layout; they share one shape: header lines (commented
with ``#`` or ``;``, or not commented at all), a line of column labels somewhere in the
header, and a table of numbers. Verified on the 27 non-XDI files in ``../shared/data/xas``
(``larch/beamlines/*.dat``: APS 9-BM, 10-BM MRCAT, 12-BM spec, 13-ID Epics, 20-BM/20-ID
LabVIEW, CLS HXMA, ESRF SNBL spec, FDMNES, NSLS-II ISS, NSLS X23A2 XDAC, KEK-PF 9A/12C, SSRL;
``larch/xafsdata``: ``.xmu``, EMG003, mn_cpmnco3, znse_zn_xafs.001; ``araucaria/dnd_testfile*``,
headerless DND-CAT scans). XDI files (``# XDI/`` or ``#XDI/`` first line) belong to the
``xdi`` reader and Athena projects to ``athena``.

Layout read (table and labels: :mod:`specssb.parsers._column_table`)
--------------------------------------------------------------------
* **Data table**: the last run of lines whose fields (split at blanks, tabs or commas) are all
  numbers; its rows must have one width (a row of another width inside it, e.g. a truncated
  last row, is a :class:`ParseError` naming the line). spec files (``#S`` lines) hold one
  table per scan: each scan is read (``source.block`` ``"scan N"``).
* **Column labels**, first found of: ``Column.N: name`` fields; Epics ``; P1 = {Energy}``
  definitions; spec ``#L`` (fields split at two or more blanks); SSRL ``Data:`` (one label per
  line); else the last header lines, split by quotes, tabs, blanks (units in parentheses
  removed), two or more blanks, commas, or fixed-width fields; else ``col1 ... colN``. Labels
  become lower-case identifiers (``"Mono Energy *"`` -> ``mono_energy``, ``"1_Energy"`` ->
  ``energy``, ``"I0-32"`` -> ``i0_32``), as Larch names them, so that ``columns=`` can use them.
* **Energy**: the column named ``energy`` (or containing it, preferring an achieved/readback
  value to a requested one; ``e``, ``en``), else an ``angle``/``theta`` column converted by
  Bragg's law with ``d_spacing_angstrom`` (option, or ``D= 3.13551 A`` / ``d_spacing`` in the
  header; without one: :class:`ParseError`), else the first column when it is monotonic. keV
  (named in the label, or all values below 150 with a span under 10) becomes eV (recorded in
  ``history``). Energy must be finite and monotonic (repeats allowed).

Column roles and mu
-------------------
Roles come from the identifiers (whole ``_``-separated words): I0 ``i0``/``io``; It
``it``/``i1``/``itrans``; Iref ``iref``/``ir``/``i2``/``irefer``; If ``if``/``iff``/``ifluor``/
``flatot``/``lytle``, else the **sum** of a multi-channel set (``ifch1..4``, ``fla01..13``,
``mca1..8``, ``roi1..``, ``sca1_1..``, ``<el>_ka_mca1..``; preferring the edge element's
channels) recorded in ``raw_meta["fluorescence_channels"]`` (no dead-time correction is
applied); stored mu ``mu``/``xmu``/``mutrans``/``xmu_trans``/``mufluor``/``xanes``. Without the
``columns`` option mu is the stored mu column, else transmission ``ln(i0/it)``, else
fluorescence ``if/i0`` (a candidate that is not finite is skipped with a warning). With It and
Iref, the reference channel ``ln(it/iref)`` is a second Spectrum with ``source.block``
``"reference"``. Without any of these, every column is returned as its own ``intensity``
Spectrum (block = column name) with a :class:`MetadataWarning`.

The ``columns`` option is a tiny expression language (:mod:`specssb.parsers._column_expr`,
never ``eval``): ``"mu=ln(i0/it)"``, ``"energy=achieved_energy; mu=(ifch1+ifch2)/i0"``,
``"reference=ln(it/iref)"``; headerless columns are ``col1 ... colN`` (e.g.
``"mu=col18"`` for the DND-CAT files, whose column 18 is the transmission mu).

Metadata
--------
``meta``: ``mode`` and ``mu_expression``; ``element``/``edge`` only when the header states them
(``Element.symbol``/``Element.edge``, ``#%atom:``/``#%edge:``, ``element = Fe``, ``Fe K-edge``),
never guessed from e0 (notes/xas.md §4); ``e0_ev`` from a header ``E0 = 6540.00`` (eV, or keV
when below 150); ``acquired_at`` from the first ISO time stamp or C-style date
(``Tue Jul 09 14:44:45 2019``) in the header, local time in the ``timezone`` option. When
element and edge are known, e0 estimated as the energy of the largest dmu/dE is compared with
``xraydb.xray_edge``; more than 20 eV apart is a :class:`PhysicsWarning` (wrong edge,
calibration or column). ``raw_meta``: ``header`` (lines), ``labels`` (as written),
``columns`` (every column by identifier, read-only arrays), ``roles``, ``energy_column``,
``energy_unit``, ``column_layout`` (how the labels were found), ``scan`` (spec).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError, PhysicsWarning
from specssb.parsers._column_expr import Expression, parse_assignments, parse_expression
from specssb.parsers._column_table import Table, read_tables
from specssb.parsers._common import ELEMENTS, decode_text, make_source, read_bytes, time_zone
from specssb.parsers._registry import register_parser
from specssb.parsers.xas_xdi import HC_EV_ANGSTROM
from specssb.spectrum import Axis, Source, Spectrum, Step

__all__ = ["parse_xas_columns", "read_xas_columns", "sniff_xas_columns"]

FORMAT = "xas-columns"
#: Largest |e0 - tabulated edge| (eV) accepted without a PhysicsWarning.
E0_TOLERANCE_EV = 20.0
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_I0 = {"i0", "io"}
_IT = {"it", "i1", "itrans", "trans"}
_IREF = {"iref", "ir", "i2", "irefer"}
_IF = {"if", "iff", "ifluor", "flatot", "lytle", "fluo", "fluor"}
_MU = ("mu", "xmu", "mutrans", "mu_trans", "xmu_trans", "mufluor", "mu_fluor", "xanes")
_CHANNEL_PREFIXES = ("ifch", "fla", "mca", "roi", "sca1", "sca", "if", "ifluor", "fl")
_ENERGY_NAMES = {"e", "en", "ev", "kev", "ener", "energy"}
_EDGES = ("K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_CTIME = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w*\s+(" + "|".join(_MONTHS)
                    + r")\w*\s+(\d{1,2})\s+(\d{1,2}):(\d\d):(\d\d)\s+(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)")
#: PETRA III P65: "Scan started at 22-11-2020 01:47:54" (day first).
_P65_START = re.compile(r"Scan started at (\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)")



def sniff_xas_columns(path: Path, head: bytes) -> bool:
    """True for beamline XAS text whose header names an energy column and I0 or mu.

    XDI files, Athena projects and binary files are left alone; a file this test does not
    recognise is still read by extension (``.dat``, ``.xmu``) as the fallback (not ``.txt``:
    Raman, NMR and XPS programs write ``.txt`` too; name the format for those).
    """
    stripped = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    suffix = Path(path).suffix.lower() if path is not None else ""
    if suffix == ".prj" or (suffix == ".xdi" and not stripped.startswith(_P65_HEADER)):
        # a damaged XDI file or project belongs to its own reader's error message; PETRA III
        # P65 writes its own column format under the .xdi name
        return False
    if stripped.startswith(_P65_HEADER):
        return True
    if stripped.startswith((b"# XDI/", b"#XDI/", b"\x1f\x8b")) or b"Athena project" in head:
        return False
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 100:
        return False  # binary
    if stripped.startswith(b"; Epics Scan"):
        return True
    text = head.decode("latin-1")
    for line in _LINE_BREAK.split(text)[:-1]:
        words = set(re.findall(r"[a-z][a-z0-9]*", line.lower()))
        if ("energy" in words or "e" in words) and words & {"i0", "io", "mu", "xmu"}:
            return True
    return False


@register_parser(
    name=FORMAT,
    technique="xas",
    extensions=(".dat", ".xmu"),
    sniff=sniff_xas_columns,
    fallback=True,
    description="Beamline multi-column XAS text (energy, I0, It, If, Iref or mu columns)",
)
def read_xas_columns(
    path: Path,
    *,
    columns: str | None = None,
    d_spacing_angstrom: float | None = None,
    timezone: str = "UTC",
    encoding: str = "latin-1",
) -> list[Spectrum]:
    """Read a beamline multi-column XAS text file into Spectra of mu(E).

    Parameters
    ----------
    path : Path
        The file.
    columns : str, optional
        How to build the energy, mu and reference, e.g. ``"mu=ln(i0/it)"`` or
        ``"energy=col1; mu=col18"`` (see the module notes; never evaluated as Python).
    d_spacing_angstrom : float, optional
        Monochromator d-spacing (Å) to convert an angle column to energy (overrides the
        header).
    timezone : str, default "UTC"
        IANA time zone of header time stamps without UTC offset.
    encoding : str, default "latin-1"
        Text encoding.

    Returns
    -------
    list of Spectrum
        mu(E) (block None, or ``"scan N"``), plus ``"reference"`` when the file has It and Iref.

    Raises
    ------
    ParseError
        No numeric table, rows of unequal width, a non-monotonic or non-finite energy, an angle
        without d-spacing, or a ``columns`` expression that is not finite.
    ConfigError
        A malformed ``columns`` option or one naming an unknown column; an unknown timezone.
    """
    data = read_bytes(path)
    source = make_source(path, FORMAT, data=data)
    return parse_xas_columns(decode_text(data, path, encoding), source=source, columns=columns,
                             d_spacing_angstrom=d_spacing_angstrom, timezone=timezone)


def parse_xas_columns(
    text: str,
    *,
    source: Source,
    columns: str | None = None,
    d_spacing_angstrom: float | None = None,
    timezone: str = "UTC",
) -> list[Spectrum]:
    """Parse the text of a beamline multi-column file (pure; no file access).

    Parameters
    ----------
    text : str
        The decoded file.
    source : Source
        Provenance (its ``path`` names the file in errors).
    columns, d_spacing_angstrom, timezone
        As in :func:`read_xas_columns`.

    Returns
    -------
    list of Spectrum

    Raises
    ------
    ParseError, ConfigError
        As :func:`read_xas_columns`.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = "# energy i0 it\\n8970 100 50\\n8980 100 40\\n8990 100 30\\n"
    >>> [s] = parse_xas_columns(text, source=Source("a.dat", "0" * 64, "xas-columns"))
    >>> s.meta["mu_expression"], round(float(s.data[0]), 4)
    ('ln(i0/it)', 0.6931)
    """
    assignments = parse_assignments(columns, ("energy", "mu", "reference")) if columns else {}
    if d_spacing_angstrom is not None and not (
        isinstance(d_spacing_angstrom, (int, float)) and d_spacing_angstrom > 0
    ):
        raise ConfigError(f"d_spacing_angstrom must be a positive number, not "
                          f"{d_spacing_angstrom!r}", key="d_spacing_angstrom")
    zone = time_zone(timezone)
    lines = _LINE_BREAK.split(text)
    tables = read_tables(lines, source.path)
    pending: list[tuple[type[Warning], str]] = []
    spectra: list[Spectrum] = []
    for table in tables:
        spectra.extend(_spectra(table, len(tables), assignments, d_spacing_angstrom, zone,
                                source, pending))
    for category, message in pending:
        warnings.warn(f"{source.path}: {message}", category, stacklevel=3)
    return spectra


# ------------------------------------------------------------------------------ roles
def _words(name: str) -> set[str]:
    return set(name.split("_"))


def _first(names: list[str], words: set[str], exclude: tuple[str, ...] = ()) -> str | None:
    for name in names:
        if name in words:
            return name
    for name in names:
        if _words(name) & words and not name.startswith(exclude):
            return name
    return None


def _channels(names: list[str], element: str | None) -> list[str]:
    groups: dict[str, list[str]] = {}
    for name in names:
        match = re.match(r"^(.*?)_?(\d+)$", name)
        if match:
            groups.setdefault(match.group(1), []).append(name)
    candidates = []
    for prefix, members in groups.items():
        if len(members) < 2:
            continue
        last = prefix.split("_")[-1]
        if prefix in _CHANNEL_PREFIXES or (last == "mca" and "ka" in prefix) or last in ("ifch",):
            candidates.append((prefix, members))
    if element is not None:
        own = [c for c in candidates if f"{element.lower()}_ka" in c[0] or
               f"{element.lower()}ka" in c[0]]
        candidates = own or candidates
    return candidates[0][1] if candidates else []


#: First line of PETRA III P65 files (they are named .xdi but are not XDI).
_P65_HEADER = b"# PETRA III Extension Beamline P65"


def _roles(names: list[str], element: str | None) -> dict[str, Any]:
    if _first(names, _I0) is None and {"vfc01", "vfc02"} <= set(names):
        # PETRA III P65: voltage-to-frequency converters of the ion chambers in beam order,
        # VFC01 = I0, VFC02 = It, VFC03 = Iref (ln(VFC01/VFC02) gives the sample edge and
        # ln(VFC02/VFC03) the reference foil's, checked on the araucaria test files)
        return {"i0": "vfc01", "it": "vfc02", "iref": "vfc03" if "vfc03" in names else None,
                "if": None, "mu": None}
    roles: dict[str, Any] = {
        "i0": _first(names, _I0),
        "it": _first(names, _IT, exclude=("mu", "xmu")),
        "iref": _first(names, _IREF),
        "if": _first(names, _IF),
        "mu": next((n for n in names if n in _MU), None),
    }
    if roles["if"] is None:
        channels = _channels(names, element)
        if channels:
            roles["if_channels"] = channels
    return roles


def _energy_column(names: list[str]) -> str | None:
    ranked = []
    for index, name in enumerate(names):
        if name in _ENERGY_NAMES or "energy" in name:
            words = _words(name)
            if re.search(r"achiev|readback|rbv|fbk|actual|enc", name):
                rank = 0
            elif words & {"requested", "request", "sp", "set", "setpoint", "drive"}:
                rank = 2
            else:
                rank = 1
            ranked.append((rank, index, name))
    return min(ranked)[2] if ranked else None


# ------------------------------------------------------------------------------ energy
def _energy(
    table: Table, assignments: dict[str, Expression], d_spacing: float | None,
    columns: dict[str, np.ndarray], path: str,
) -> tuple[np.ndarray, str, str, list[Step]]:
    """(energy in eV, column/expression used, unit as read, history steps)."""
    steps: list[Step] = []
    if "energy" in assignments:
        expression = assignments["energy"]
        values, name = expression.evaluate(columns), str(expression.text)
    else:
        name = _energy_column(table.names)
        if name is None:
            angle = next((n for n in table.names if ("angle" in n or "theta" in n)
                          and "two" not in n), None)
            if angle is not None:
                return _from_angle(table, angle, d_spacing, columns, path)
            name = table.names[0]
            steps_first = np.diff(columns[name])
            if not (np.all(steps_first >= 0) or np.all(steps_first <= 0)) or np.ptp(columns[name]) == 0:
                raise ParseError(path, "no energy column: no label names one and the first "
                                 "column is not monotonic (name it with columns='energy=...')")
        values = columns[name]
    label = table.labels[table.names.index(name)] if name in table.names else name
    unit = "eV"
    named_kev = "kev" in label.lower() or table.units.get(label, "").lower() == "kev"
    finite = values[np.isfinite(values)]
    if named_kev or (finite.size and np.max(np.abs(finite)) < 150 and np.ptp(finite) < 10):
        unit = "keV"
        values = values * 1000.0
        steps.append(Step("energy_unit", {"from": "keV", "to": "eV", "factor": 1000.0,
                                          "reason": "label" if named_kev else "magnitude"}))
    return values, name, unit, steps


def _from_angle(
    table: Table, angle: str, d_spacing: float | None, columns: dict[str, np.ndarray], path: str
) -> tuple[np.ndarray, str, str, list[Step]]:
    if d_spacing is None:
        for line in table.header:
            match = re.search(r"\bD\s*=\s*([0-9]*\.[0-9]+)\s*A\b", line) or re.search(
                r"d[_ -]?spacing\s*[:=]\s*([0-9]*\.?[0-9]+)", line, re.IGNORECASE)
            if match:
                d_spacing = float(match.group(1))
                break
    if d_spacing is None or d_spacing <= 0:
        raise ParseError(path, f"the abscissa is a monochromator angle ({angle!r}) and no "
                         "d-spacing is given (pass d_spacing_angstrom=...)")
    theta = np.radians(columns[angle])
    if np.any(theta <= 0) or np.any(theta >= np.pi / 2):
        raise ParseError(path, f"{angle!r} holds angles outside (0, 90) degrees")
    energy = HC_EV_ANGSTROM / (2.0 * d_spacing * np.sin(theta))
    step = Step("angle_to_energy", {"formula": "E = hc / (2 d sin(theta))", "column": angle,
                                    "hc_ev_angstrom": HC_EV_ANGSTROM,
                                    "d_spacing_angstrom": d_spacing, "angle_unit": "deg"})
    return energy, angle, "deg", [step]


#: Largest energy reversal (eV) taken as encoder jitter of a continuous scan and sorted out;
#: a larger one is a ParseError (two scans in one table, a wrong column).
JITTER_EV = 0.2


def _check_energy(energy: np.ndarray, table: Table, path: str) -> np.ndarray | None:
    """None for a monotonic energy column; the sorting order when it only jitters backwards
    by up to :data:`JITTER_EV` (the encoder of a continuous, quick-EXAFS scan)."""
    bad = np.nonzero(~np.isfinite(energy))[0]
    if bad.size:
        raise ParseError(path, "energy is not a finite number", position=f"line {table.lines[bad[0]]}")
    steps = np.diff(energy)
    moving = np.nonzero(steps)[0]
    if not moving.size:
        return None
    direction = np.sign(steps[np.argmax(np.abs(steps))]) if steps.size else 1.0
    reversed_at = np.nonzero(steps * direction < 0)[0]
    if not reversed_at.size:
        return None
    worst = int(reversed_at[np.argmax(np.abs(steps[reversed_at]))])
    if abs(steps[worst]) > JITTER_EV or np.sign(energy[-1] - energy[0]) != direction:
        row = int(reversed_at[0]) + 1
        raise ParseError(path, f"energy is not monotonic: {energy[row - 1]:g} eV is followed "
                         f"by {energy[row]:g} eV", position=f"line {table.lines[row]}")
    order = np.argsort(energy * direction, kind="stable")
    return order


# -------------------------------------------------------------------------------- mu
def _signals(
    roles: dict[str, Any], columns: dict[str, np.ndarray], assignments: dict[str, Expression],
    table: Table, path: str, pending: list[tuple[type[Warning], str]],
) -> list[tuple[str, np.ndarray, dict[str, str], str | None]]:
    """[(signal, values, meta, block)]: mu (and reference), or every column as intensity."""
    built: list[tuple[str, np.ndarray, dict[str, str], str | None]] = []
    if "mu" in assignments:
        expression = assignments["mu"]
        values = _finite(expression.evaluate(columns), expression.text, table, path)
        built.append(("mu", values, {"mu_expression": expression.text}, None))
    else:
        for mode, text in _candidates(roles):
            values = parse_expression(text).evaluate(columns)
            if np.all(np.isfinite(values)):
                meta = {"mu_expression": text} | ({"mode": mode} if mode else {})
                built.append(("mu", values, meta, None))
                break
            pending.append((MetadataWarning, f"{text} is not finite (a zero or negative "
                            "intensity); not used as mu"))
    if "reference" in assignments:
        expression = assignments["reference"]
        values = _finite(expression.evaluate(columns), expression.text, table, path)
        built.append(("mu", values, {"mu_expression": expression.text, "mode": "transmission"},
                      "reference"))
    elif roles["it"] and roles["iref"] and built:
        text = f"ln({roles['it']}/{roles['iref']})"
        values = parse_expression(text).evaluate(columns)
        if np.all(np.isfinite(values)):
            built.append(("mu", values, {"mu_expression": text, "mode": "transmission"},
                          "reference"))
        else:
            pending.append((MetadataWarning, f"reference {text} is not finite; not returned"))
    if built:
        return built
    pending.append((MetadataWarning, "no mu column and no I0 with It or If among the columns "
                    f"{table.names}; every column is returned as its own 'intensity' Spectrum "
                    "(build mu with columns='mu=...')"))
    return [("intensity", columns[name], {}, name) for name in table.names]


def _candidates(roles: dict[str, Any]) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    if roles["mu"]:
        mode = "fluorescence" if "fluor" in roles["mu"] else (
            "transmission" if "trans" in roles["mu"] else None)
        found.append((mode, roles["mu"]))
    if roles["i0"] and roles["it"]:
        found.append(("transmission", f"ln({roles['i0']}/{roles['it']})"))
    if roles["i0"] and roles["if"]:
        found.append(("fluorescence", f"{roles['if']}/{roles['i0']}"))
    elif roles["i0"] and roles.get("if_channels"):
        found.append(("fluorescence", f"({'+'.join(roles['if_channels'])})/{roles['i0']}"))
    return found


def _finite(values: np.ndarray, text: str, table: Table, path: str) -> np.ndarray:
    bad = np.nonzero(~np.isfinite(values))[0]
    if bad.size:
        raise ParseError(path, f"{text} is not finite (a zero or negative intensity?)",
                         position=f"line {table.lines[bad[0]]}")
    return values


# ------------------------------------------------------------------------------ metadata
def _header_meta(header: list[str], zone: dt.tzinfo) -> dict[str, Any]:
    text = "\n".join(header)
    meta: dict[str, Any] = {}
    element = re.search(r"^[#;%!\s]*(?:Element\.symbol|atom|element)\s*[:=]\s*([A-Za-z][a-z]?)\b",
                        text, re.IGNORECASE | re.MULTILINE)
    edge = re.search(r"^[#;%!\s]*(?:Element\.edge|edge)\s*[:=]\s*([KLMklm][1-5]?)\b", text,
                     re.MULTILINE | re.IGNORECASE)
    phrase = re.search(r"\b([A-Z][a-z]?)\s+(K|L1|L2|L3)[- ]edge\b", text)
    symbol = element.group(1).capitalize() if element else (phrase.group(1) if phrase else None)
    if symbol in ELEMENTS:
        meta["element"] = symbol
    edge_name = edge.group(1).upper() if edge else (phrase.group(2) if phrase else None)
    if edge_name in _EDGES:
        meta["edge"] = edge_name
    e0 = re.search(r"\bE0\s*=\s*([0-9]+\.?[0-9]*)", text)
    if e0:
        value = float(e0.group(1))
        meta["e0_ev"] = value * 1000.0 if value < 150 else value
    stamp = _time_stamp(text, zone)
    if stamp is not None:
        meta["acquired_at"] = stamp
    return meta


def _time_stamp(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    iso = _ISO.search(text)
    ctime = _CTIME.search(text)
    p65 = _P65_START.search(text)
    try:
        if p65:
            day, month, year, hour, minute, second = (int(p) for p in p65.groups())
            stamp = dt.datetime(year, month, day, hour, minute, second)
        elif iso:
            parts = [int(p) for p in iso.groups()]
            stamp = dt.datetime(*parts)  # type: ignore[misc]
        elif ctime:
            month = _MONTHS.index(ctime.group(1)) + 1
            day, hour, minute, second, year = (int(ctime.group(i)) for i in range(2, 7))
            stamp = dt.datetime(year, month, day, hour, minute, second)
        else:
            return None
    except ValueError:
        return None
    return stamp.replace(tzinfo=zone).astimezone(dt.timezone.utc)


def _check_e0(energy: np.ndarray, mu: np.ndarray, meta: dict[str, Any],
              pending: list[tuple[type[Warning], str]], block: str | None) -> float | None:
    """Largest-derivative e0; a PhysicsWarning when far from the tabulated edge."""
    order = np.argsort(energy, kind="stable")
    e_sorted, mu_sorted = energy[order], mu[order]
    keep = np.concatenate(([True], np.diff(e_sorted) > 0))
    e_sorted, mu_sorted = e_sorted[keep], mu_sorted[keep]
    if e_sorted.size < 5:
        return None
    derivative = np.gradient(mu_sorted, e_sorted)
    skip = max(1, e_sorted.size // 20)  # ignore glitches at the very ends, as Larch does
    e0 = float(e_sorted[skip + int(np.argmax(derivative[skip:-skip]))])
    if "element" in meta and "edge" in meta:
        try:
            import xraydb  # lazy: SQLite-backed tables

            tabulated = float(xraydb.xray_edge(meta["element"], meta["edge"]).energy)
        except (ValueError, KeyError, AttributeError, TypeError):
            return e0
        if abs(e0 - tabulated) > E0_TOLERANCE_EV:
            what = f"{block} " if block else ""
            pending.append((PhysicsWarning, f"{what}e0 estimated at {e0:.1f} eV (largest dmu/dE) "
                            f"is {e0 - tabulated:+.1f} eV from the tabulated {meta['element']} "
                            f"{meta['edge']} edge ({tabulated:.1f} eV): wrong element/edge in the "
                            "header, an uncalibrated energy, or the wrong columns"))
    return e0


# ------------------------------------------------------------------------------ assembly
def _spectra(
    table: Table, n_tables: int, assignments: dict[str, Expression], d_spacing: float | None,
    zone: dt.tzinfo, source: Source, pending: list[tuple[type[Warning], str]],
) -> list[Spectrum]:
    path = source.path
    columns = {name: table.values[:, i] for i, name in enumerate(table.names)}
    columns.update({f"col{i + 1}": table.values[:, i] for i in range(table.values.shape[1])})
    header_meta = _header_meta(table.header, zone)
    energy, energy_column, unit, steps = _energy(table, assignments, d_spacing, columns, path)
    order = _check_energy(energy, table, path)
    if order is not None:
        reversals = int(np.count_nonzero(np.diff(energy) * np.sign(energy[-1] - energy[0]) < 0))
        energy = energy[order]
        columns = {name: values[order] for name, values in columns.items()}
        steps = [*steps, Step("sort_energy", {"reversed_steps": reversals, "jitter_ev": JITTER_EV})]
        pending.append((MetadataWarning, f"{reversals} energy steps go backwards by at most "
                        f"{JITTER_EV} eV (encoder jitter of a continuous scan); the points were "
                        "sorted by energy"))
    roles = _roles(table.names, header_meta.get("element"))
    signals = _signals(roles, columns, assignments, table, path, pending)
    readonly = {}
    for name in table.names:
        array = np.array(columns[name], dtype=np.float64)
        array.setflags(write=False)
        readonly[name] = array
    raw_meta: dict[str, Any] = {
        "header": list(table.header), "labels": list(table.labels), "columns": readonly,
        "roles": {k: v for k, v in roles.items() if v}, "energy_column": energy_column,
        "energy_unit": unit, "column_layout": table.layout,
    }  # fmt: skip
    if roles.get("if_channels"):
        raw_meta["fluorescence_channels"] = list(roles["if_channels"])
    if table.scan is not None:
        raw_meta["scan"] = table.scan
    axis = Axis("energy", "eV", energy)
    spectra = []
    for signal, values, signal_meta, block in signals:
        name = block
        if table.scan is not None and n_tables > 1:
            name = f"scan {table.scan}" + (f", {block}" if block else "")
        meta = {**header_meta, **signal_meta}
        raw = dict(raw_meta)
        if signal == "mu" and block != "reference":  # the header's element is the sample's
            e0 = _check_e0(energy, values, meta, pending, name)
            if e0 is not None:
                raw["e0_max_derivative_ev"] = e0
        spectra.append(Spectrum(
            axis=axis, data=values, technique="xas", signal=signal, meta=meta, raw_meta=raw,
            history=tuple(steps),
            source=Source(source.path, source.sha256, source.format, name, source.parser_version),
        ))  # fmt: skip
    return spectra

