"""CasaXPS text exports (``.txt``): one XPS Spectrum per exported block, fit curves kept.

CasaXPS exports a spectrum, and the peak model fitted to it, as tab-separated text (the
layout pynxtools-xps calls "Columns of Tables"). Layout, as verified on two real exports
(``vms_txt_export.txt``: Ni and NiO surveys and Ni 2p, 4 blocks, no components;
``FeO_analyzed_lineshapes_cols.txt``: Fe 2p with 4 fitted components)::

    Cycle 0:FeO:Fe2p                                        title: "Cycle <n>:<group>:<region>"
    <TAB>Characteristic Energy eV<TAB>1.486610e+003<TAB>Acquisition Time s<TAB>2.000000e+000
    Name<TAB><TAB>Fe 2p<TAB>Fe 2p<TAB>...                   one field per component column
    Position<TAB><TAB>709.05<TAB>716.00<TAB>...             (empty after the label when the
    FWHM<TAB><TAB>3.86<TAB>...                               block has no components)
    Area<TAB><TAB>63507.37<TAB>...
    Lineshape<TAB><TAB>LF(0.54,10,80,100,6)<TAB>SGL(30)<TAB>...
    K.E.<TAB>Counts<TAB>c1<TAB>...<TAB>Background<TAB>Envelope<TAB><TAB>B.E.<TAB>CPS<TAB>c1<TAB>...
    7.366100e+002<TAB>1.251690e+004<TAB>...                 one row per channel

Blocks follow each other without a separator. The column header has two halves separated by
an empty field: the left half is on the kinetic-energy side in counts (``K.E.``, ``Counts``,
one column per component, ``Background``, ``Envelope``), the right half repeats it on the
binding-energy side in counts per second (``B.E.``, ``CPS``, components, ``Background CPS``,
``Envelope CPS``). Header rows (``Name``, ``Position``, ``FWHM``, ``Area``, ``Lineshape``)
are aligned field by field with the columns. Line ends are LF (``vms_txt_export.txt``) or
CRLF (the FeO export). Checked on the files: ``K.E. + B.E. = Characteristic Energy`` on every
row, ``CPS = Counts / Acquisition Time`` (the acquisition time is per channel: 2 s for FeO,
0.1 s and 0.3 s for the Ni files), each component column is **component + Background**
(Envelope − Background = Σ (component − Background) to 0.03 counts in the FeO file), and the
header positions are binding energies (709.05 eV for the first Fe 2p component).

CasaXPS's other text layout, "Rows of Tables" (all spectra side by side in one table, first
line holding ``Characteristic Energy``), was not available as a real file and is not read: the
sniffer does not claim it and the parser raises ParseError naming the layout.

What the vendor fields become
-----------------------------
``meta``: ``title`` (the title line), ``sample`` (group), ``region`` ("Fe 2p" for "Fe2p"),
``element``, ``transition``, ``excitation_energy_ev`` (Characteristic Energy),
``work_function_ev`` (0: CasaXPS kinetic energies are Fermi-level referenced, ``BE = hv − KE``
holds in the files). ``raw_meta``: ``title``, ``cycle``, ``group``, ``region label``, every
``<name> <unit>`` pair of the second line under its own name (``"Characteristic Energy eV"``,
``"Acquisition Time s"``), ``casa_header_rows`` (label -> list of the raw fields, aligned with
the columns), ``casa_columns`` (column label -> read-only array of every column in the block,
repeated labels numbered ``"Fe 2p (2)"``), ``block number``, and the fit (see below).

Fit curves in ``raw_meta`` (other parts of specssb compare their line shapes and Tougaard
background with these)
------------------------------------------------------------------------------------------
``casa_components``
    tuple of dicts, one per component, in column order: ``name`` (str), ``position_ev``
    (float, eV, as written; binding energy in CasaXPS exports), ``position_axis``
    (``"binding_energy"`` or ``"kinetic_energy"``: the block range the position falls in,
    None if neither), ``fwhm_ev`` (float, eV), ``area`` (float, CasaXPS area in CPS·eV),
    ``lineshape`` (str, e.g. ``"LF(0.54,10,80,100,6)"``), ``curve`` (read-only ndarray of
    shape (n,): **component + background**, in the unit of ``data``). Unreadable numbers are
    None (MetadataWarning).
``casa_background``, ``casa_envelope``
    read-only ndarrays of shape (n,), same unit as ``data``; absent when the block has none.
``casa_curve_signal``
    ``"counts"`` or ``"cps"``: which half of the table the curves come from (follows the
    ``signal`` option).
:func:`casa_curves` returns the bare component curves (component − background), the
background and the envelope, aligned with a Spectrum's axis.

Energy axis
-----------
The axis is built from the ``K.E.`` column. With ``energy="binding"`` (default) it becomes
``BE = hv − KE`` through :func:`~specssb.parsers._xps_energy.convert_energy` (a
``kinetic_to_binding_energy`` history step), hv being the Characteristic Energy; the result is
checked against the file's ``B.E.`` column: when they agree to 2 meV (the files' 7-digit
rounding) the axis takes the ``B.E.`` values as written (750.0, not 749.9999999999999), else
it stays ``hv − KE`` and a MetadataWarning says so (e.g. after a CasaXPS energy calibration). Without a readable Characteristic Energy the
file's ``B.E.`` column is used as is and a MetadataWarning says so. ``energy="kinetic"`` keeps
the ``K.E.`` column.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import ELEMENTS, decode_text, make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.parsers._xps_energy import ENERGY_KINDS, convert_energy
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["casa_curves", "parse_casa_txt", "read_casa_txt", "sniff_casa_txt"]

FORMAT = "casa-txt"
_SETTINGS_MARK = "Characteristic Energy"
_HEADER_ROWS = ("Name", "Position", "FWHM", "Area", "Lineshape", "Width")
_SIGNALS = {"counts": ("Counts", ""), "cps": ("CPS", " CPS")}
#: |hv − KE − B.E.| above this (eV) means the B.E. column was shifted (calibration).
_BE_TOLERANCE_EV = 2e-3
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SETTING = re.compile(r"^(.*\S)\s+(\S+)$")
_REGION = re.compile(r"^([A-Z][a-z]?)\s*(\d[spdf](?:\s*\d/2)?|[KLMN][KLMNV][KLMNV])$")


# --------------------------------------------------------------------------- sniffing
def sniff_casa_txt(path: Path, head: bytes) -> bool:
    """True when ``head`` starts like a CasaXPS text export block.

    The first non-blank line is a title (no tab), the second holds ``Characteristic Energy``
    and ``Acquisition Time``, the third starts with ``Name`` and a tab. Scienta SES ``.txt``
    (``[Info]``), SPECS ``.xy`` and plain two-column text never match.

    Parameters
    ----------
    path : Path
        The file (unused; content decides).
    head : bytes
        The first bytes of the file.
    """
    lines = [ln for ln in _LINE_BREAK.split(head.decode("latin-1")) if ln.strip()][:3]
    return (
        len(lines) == 3
        and "\t" not in lines[0].strip()
        and _SETTINGS_MARK in lines[1]
        and "Acquisition Time" in lines[1]
        and lines[2].startswith("Name\t")
    )


# --------------------------------------------------------------------------- parsing
@dataclass
class _Block:
    title: str
    line: int  # 0-based line of the title
    settings: dict[str, Any] = field(default_factory=dict)
    header_rows: dict[str, list[str]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    table: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))


def _fields(line: str) -> list[str]:
    """Tab-separated fields without trailing empty ones."""
    parts = line.split("\t")
    while parts and not parts[-1].strip():
        parts.pop()
    return parts


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_settings(line: str, index: int, messages: list[str]) -> dict[str, Any]:
    """``<TAB>Characteristic Energy eV<TAB>1486.61<TAB>Acquisition Time s<TAB>2`` -> dict."""
    parts = [p.strip() for p in line.split("\t")]
    parts = [p for p in parts if p]
    settings: dict[str, Any] = {}
    for key, value in zip(parts[::2], parts[1::2]):
        try:
            settings[key] = float(value)
        except ValueError:
            if not key.startswith(_SETTINGS_MARK):  # reported where hv is used
                messages.append(f"line {index + 1}: {key!r} is not a number ({value[:30]!r})")
            settings[key] = value
    if len(parts) % 2:
        settings[parts[-1]] = None
    return settings


def _parse_blocks(lines: list[str], path: str, messages: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    i, n = 0, len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        title = lines[i].strip()
        if _SETTINGS_MARK in title:
            raise ParseError(path, "this looks like a CasaXPS 'Rows of Tables' export, which is "
                             "not supported; export with 'Columns of Tables'",
                             position=f"line {i + 1}")
        block = _Block(title=title, line=i)
        if i + 1 >= n or _SETTINGS_MARK not in lines[i + 1]:
            found = lines[i + 1].strip()[:40] if i + 1 < n else "the end of the file"
            raise ParseError(path, f"expected the '{_SETTINGS_MARK}' line after the block "
                             f"title {title[:40]!r}, found {found!r}", position=f"line {i + 2}")
        block.settings = _parse_settings(lines[i + 1], i + 1, messages)
        i += 2
        while i < n and not lines[i].startswith("K.E."):
            fields = _fields(lines[i])
            if not fields or fields[0].strip() not in _HEADER_ROWS:
                found = lines[i].strip()[:40] if fields else "an empty line"
                raise ParseError(path, f"expected a component row ({', '.join(_HEADER_ROWS)}) "
                                 f"or the 'K.E.' column header, found {found!r}",
                                 position=f"line {i + 1}")
            block.header_rows[fields[0].strip()] = [f.strip() for f in fields]
            i += 1
        if i >= n:
            raise ParseError(path, f"the file ends before the column header of block "
                             f"{title[:40]!r} (truncated?)", position=f"line {n}")
        block.columns = [c.strip() for c in _fields(lines[i])]
        i = _parse_table(block, lines, i + 1, path)
        blocks.append(block)
    if not blocks:
        raise ParseError(path, "empty file: no CasaXPS block", position="line 1")
    return blocks


def _parse_table(block: _Block, lines: list[str], start: int, path: str) -> int:
    """Read data rows from ``start`` until a blank line, a non-numeric line or the end."""
    keep = [j for j, name in enumerate(block.columns) if name]
    width = len(block.columns)
    rows: list[list[float]] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            break
        fields = _fields(line)
        if not _is_number(fields[0]):
            break
        if len(fields) != width:
            raise ParseError(path, f"expected {width} tab-separated fields as in the column "
                             f"header, found {len(fields)} (truncated row?)",
                             position=f"line {i + 1}")
        try:
            row = [float(fields[j]) for j in keep]
        except ValueError:
            bad = next(fields[j] for j in keep if not _is_number(fields[j]))
            raise ParseError(path, f"expected a number, found {bad.strip()[:40]!r}",
                             position=f"line {i + 1}") from None
        rows.append(row)
        i += 1
    if len(rows) < 2:
        raise ParseError(path, f"block {block.title[:40]!r} has {len(rows)} data rows "
                         "(truncated?)", position=f"line {i + 1}")
    table = np.array(rows, dtype=np.float64)
    if not np.all(np.isfinite(table)):
        bad_row = int(np.nonzero(~np.all(np.isfinite(table), axis=1))[0][0])
        raise ParseError(path, "non-finite value in the table", position=f"line {start + bad_row + 1}")
    block.columns = [block.columns[j] for j in keep]
    block.table = table
    return i


# --------------------------------------------------------------------------- one Spectrum
def _unique_labels(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _column(block: _Block, name: str, where: str, path: str) -> np.ndarray:
    if name not in block.columns:
        raise ParseError(path, f"no {name!r} column in the column header "
                         f"({', '.join(block.columns)})", position=where)
    return block.table[:, block.columns.index(name)]


def _region(title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``Cycle 0:FeO:Fe2p`` -> (meta, raw_meta) entries."""
    meta: dict[str, Any] = {"title": title}
    raw: dict[str, Any] = {"title": title}
    parts = [p.strip() for p in title.split(":")]
    if len(parts) >= 3 and parts[0].startswith("Cycle"):
        raw["cycle"], raw["group"], raw["region label"] = parts[0], parts[1], ":".join(parts[2:])
        label = raw["region label"]
        meta["sample"] = parts[1] or None
        match = _REGION.match(label)
        if match and match.group(1) in ELEMENTS:
            meta["element"], meta["transition"] = match.group(1), match.group(2).replace(" ", "")
            meta["region"] = f"{match.group(1)} {meta['transition']}"
        else:
            meta["region"] = label or title
    else:
        meta["region"] = title
    return meta, raw


def _components(block: _Block, signal: str, be: np.ndarray, ke: np.ndarray,
                messages: list[str], where: str) -> dict[str, Any]:
    """Component curves, background and envelope from the ``signal`` half of the table."""
    first = 2  # after K.E., Counts
    half = block.columns.index("B.E.")  # the halves were checked equal in _spectrum
    left = block.columns[:half]
    names_row = block.header_rows.get("Name", [])
    # Header rows are aligned with the columns *including* the empty separator, which sits
    # after the left half, so left-half indices are the same in both.
    component_columns = [
        j for j in range(first, len(left))
        if (j < len(names_row) and names_row[j]) or left[j] not in ("Background", "Envelope")
    ]
    offset = 0 if signal == "counts" else half
    suffix = _SIGNALS[signal][1]
    out: dict[str, Any] = {}

    def number(row: str, j: int) -> float | None:
        values = block.header_rows.get(row, [])
        text = values[j] if j < len(values) else ""
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            messages.append(f"{where}: component {row} {text[:30]!r} is not a number")
            return None

    components = []
    for j in component_columns:
        curve = _readonly(block.table[:, j + offset])
        position = number("Position", j)
        components.append({
            "name": names_row[j] if j < len(names_row) and names_row[j] else left[j],
            "position_ev": position,
            "position_axis": _position_axis(position, be, ke),
            "fwhm_ev": number("FWHM", j),
            "area": number("Area", j),
            "lineshape": (block.header_rows.get("Lineshape", []) + [""] * (j + 1))[j] or None,
            "curve": curve,
        })
    if components:
        out["casa_components"] = tuple(components)
    for key, label in (("casa_background", "Background"), ("casa_envelope", "Envelope")):
        found = [j for j in range(first, len(left))
                 if left[j] == label and j not in component_columns
                 and block.columns[j + offset] == label + suffix]
        if found:
            out[key] = _readonly(block.table[:, found[0] + offset])
    if out:
        out["casa_curve_signal"] = signal
    return out


def _position_axis(position: float | None, be: np.ndarray, ke: np.ndarray) -> str | None:
    if position is None:
        return None
    if be.min() <= position <= be.max():
        return "binding_energy"
    if ke.min() <= position <= ke.max():
        return "kinetic_energy"
    return None


def _readonly(values: np.ndarray) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def _spectrum(block: _Block, index: int, source: Source, path: str, *, energy: str,
              signal: str, messages: list[str]) -> Spectrum:
    where = f"block {index + 1} ({block.title[:40]!r}, line {block.line + 1})"
    left = block.columns[: block.columns.index("B.E.")] if "B.E." in block.columns else []
    if left[:2] != ["K.E.", "Counts"] or block.columns[len(left):len(left) + 2] != ["B.E.", "CPS"]:
        raise ParseError(path, "expected the columns 'K.E.', 'Counts', ..., 'B.E.', 'CPS', ...; "
                         f"found {', '.join(block.columns)[:120]!r}", position=where)
    if len(block.columns) != 2 * len(left):
        raise ParseError(path, "the counts and CPS halves of the table have different columns",
                         position=where)
    ke = _column(block, "K.E.", where, path)
    be_file = _column(block, "B.E.", where, path)
    steps = np.diff(ke)
    if not (np.all(steps >= 0) or np.all(steps <= 0)):
        raise ParseError(path, "the K.E. column is not monotonic", position=where)
    data = _column(block, _SIGNALS[signal][0], where, path)

    found = block.settings.get("Characteristic Energy eV")
    hv = found if isinstance(found, float) and found > 0 else None
    if hv is None:
        messages.append(f"{where}: no Characteristic Energy (found {found!r}); the file's "
                        "B.E. column is used")
        kind, values, history = ENERGY_KINDS[energy], (be_file if energy == "binding" else ke), ()
    else:
        kind, values, history = convert_energy("kinetic_energy", ke, hv=hv, energy=energy)
        deviation = float(np.max(np.abs(hv - ke - be_file)))
        if deviation > _BE_TOLERANCE_EV:
            messages.append(f"{where}: the B.E. column differs from hv - K.E. by up to "
                            f"{deviation:.4g} eV (a CasaXPS calibration?); the axis is hv - K.E.")
        elif energy == "binding":
            values = be_file  # the same numbers as written (750.0, not 749.9999999999999)

    meta, raw = _region(block.title)
    if hv is not None:
        meta["excitation_energy_ev"] = hv
        meta["work_function_ev"] = 0.0
    raw.update(block.settings)
    raw["casa_header_rows"] = {k: v for k, v in block.header_rows.items()}
    raw["casa_columns"] = {
        label: _readonly(block.table[:, j])
        for j, label in enumerate(_unique_labels(block.columns))
    }
    raw["block number"] = index + 1
    raw.update(_components(block, signal, be_file, ke, messages, where))
    return Spectrum(
        axis=Axis(kind, "eV", values),
        data=data,
        technique="xps",
        signal=signal,
        meta={k: v for k, v in meta.items() if v is not None},
        raw_meta=raw,
        source=source,
        history=history,
    )


def _check_options(energy: str, signal: str) -> None:
    if energy not in ENERGY_KINDS:
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")
    if signal not in _SIGNALS:
        raise ConfigError(f"signal must be 'counts' or 'cps', not {signal!r}", key="signal")


def parse_casa_txt(
    text: str, *, source: Source, energy: str = "binding", signal: str = "counts"
) -> list[Spectrum]:
    """Parse a CasaXPS text export into one XPS Spectrum per block.

    Parameters
    ----------
    text : str
        The whole file, decoded (line ends LF, CR or CRLF).
    source : Source
        Provenance; ``block`` is replaced per block by its title (``"<title> [block <n>]"``
        when titles repeat).
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return: ``BE = hv − KE`` (eV) from the ``K.E.`` column, or the ``K.E.``
        column itself.
    signal : {"counts", "cps"}, default "counts"
        Which measured column is ``data``: ``Counts`` or ``CPS`` (counts divided by the
        per-channel Acquisition Time). The fit curves in ``raw_meta`` follow the same choice.

    Returns
    -------
    list of Spectrum
        1-D spectra in file order; ``meta`` and ``raw_meta`` as described in the module
        docstring (fit curves under ``casa_components``, ``casa_background``,
        ``casa_envelope``).

    Raises
    ------
    ParseError
        Not a CasaXPS export (or a "Rows of Tables" one), a truncated block, a row whose
        field count differs from the column header, a non-numeric or non-finite value, a
        non-monotonic K.E. column, missing K.E./Counts/B.E./CPS columns.
    ConfigError
        Invalid ``energy`` or ``signal``.

    Warns
    -----
    MetadataWarning
        A setting or component value that is not a number, a missing Characteristic Energy,
        a B.E. column that disagrees with hv − K.E. by more than 2 meV.
    """
    _check_options(energy, signal)
    path = source.path
    messages: list[str] = []
    lines = _LINE_BREAK.split(text.lstrip("\ufeff"))
    while lines and not lines[-1].strip():
        lines.pop()
    blocks = _parse_blocks(lines, path, messages)
    titles = [b.title for b in blocks]
    spectra = []
    for index, block in enumerate(blocks):
        name = block.title if titles.count(block.title) == 1 else f"{block.title} [block {index + 1}]"
        block_source = Source(path=source.path, sha256=source.sha256, format=source.format,
                              block=name, parser_version=source.parser_version)
        spectra.append(_spectrum(block, index, block_source, path, energy=energy,
                                 signal=signal, messages=messages))
    for message in dict.fromkeys(messages):
        warnings.warn(f"{path}: {message}", MetadataWarning, stacklevel=2)
    return spectra


@register_parser(
    name=FORMAT,
    technique="xps",
    extensions=(".txt",),
    sniff=sniff_casa_txt,
    description="CasaXPS text export (columns of tables; spectra with fitted components, "
                "background and envelope)",
)
def read_casa_txt(
    path: Path, *, encoding: str = "latin-1", energy: str = "binding", signal: str = "counts"
) -> list[Spectrum]:
    """Read a CasaXPS text export: one Spectrum per block, fit curves in ``raw_meta``.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding (latin-1 decodes every byte).
    energy : {"binding", "kinetic"}, default "binding"
        See :func:`parse_casa_txt`.
    signal : {"counts", "cps"}, default "counts"
        See :func:`parse_casa_txt`.

    Returns
    -------
    list of Spectrum
        See :func:`parse_casa_txt`.

    Raises
    ------
    ParseError, ConfigError
        See :func:`parse_casa_txt`.

    Examples
    --------
    >>> import specssb
    >>> fe = specssb.read("FeO_analyzed_lineshapes_cols.txt")[0]  # doctest: +SKIP
    >>> fe.meta["region"], len(fe.raw_meta["casa_components"])  # doctest: +SKIP
    ('Fe 2p', 4)
    """
    _check_options(energy, signal)
    data = read_bytes(path)
    source = make_source(path, FORMAT, data=data)
    return parse_casa_txt(decode_text(data, path, encoding), source=source, energy=energy,
                          signal=signal)


# --------------------------------------------------------------------------- fit curves
def casa_curves(spectrum: Spectrum) -> dict[str, Any]:
    """The CasaXPS fit of a Spectrum read by ``casa-txt``, as bare curves on its axis.

    CasaXPS exports each component as *component + background*; this returns the bare
    components (component − background), the background and the envelope, aligned with
    ``spectrum.axis`` (also after :meth:`~specssb.spectrum.Spectrum.crop`, as long as the
    axis values were not shifted). The unit is that of the curves, ``raw_meta
    ["casa_curve_signal"]`` (counts or cps), which is the spectrum's own signal as read.

    Parameters
    ----------
    spectrum : Spectrum
        A spectrum from :func:`read_casa_txt` whose block has fitted components.

    Returns
    -------
    dict
        ``names`` (list of str, one per component), ``components`` (ndarray of shape
        (n_components, n): component − background), ``background`` (ndarray of shape (n,)),
        ``envelope`` (ndarray of shape (n,)), ``signal`` (``"counts"`` or ``"cps"``), plus
        ``positions_ev``, ``fwhms_ev``, ``areas`` and ``lineshapes`` (lists, header values).

    Raises
    ------
    ValueError
        If the spectrum carries no CasaXPS components, background and envelope, or its axis
        no longer matches the exported channels.

    Examples
    --------
    >>> import specssb
    >>> fe = specssb.read("FeO_analyzed_lineshapes_cols.txt")[0]  # doctest: +SKIP
    >>> curves = casa_curves(fe)  # doctest: +SKIP
    >>> curves["components"].shape  # doctest: +SKIP
    (4, 1121)
    """
    raw = spectrum.raw_meta
    missing = [k for k in ("casa_components", "casa_background", "casa_envelope") if k not in raw]
    if missing:
        raise ValueError(f"spectrum has no CasaXPS fit curves (missing {', '.join(missing)}); "
                         "read a CasaXPS export with fitted components (format 'casa-txt')")
    select = _channels(spectrum, raw)
    background = np.asarray(raw["casa_background"])[select]
    components = np.array([np.asarray(c["curve"])[select] - background
                           for c in raw["casa_components"]])
    return {
        "names": [c["name"] for c in raw["casa_components"]],
        "components": components,
        "background": background.copy(),
        "envelope": np.asarray(raw["casa_envelope"])[select].copy(),
        "signal": raw.get("casa_curve_signal", spectrum.signal),
        "positions_ev": [c["position_ev"] for c in raw["casa_components"]],
        "fwhms_ev": [c["fwhm_ev"] for c in raw["casa_components"]],
        "areas": [c["area"] for c in raw["casa_components"]],
        "lineshapes": [c["lineshape"] for c in raw["casa_components"]],
    }


def _channels(spectrum: Spectrum, raw: Mapping[str, Any]) -> np.ndarray:
    """Indices of the exported channels that make up ``spectrum.axis``."""
    columns = raw.get("casa_columns", {})
    label = "B.E." if spectrum.axis.name == "binding_energy" else "K.E."
    exported = np.asarray(columns.get(label, []), dtype=float)
    axis = spectrum.axis.values
    if exported.size == 0 or spectrum.data.ndim != 1:
        raise ValueError("spectrum is not a 1-D CasaXPS export block")
    nearest = np.abs(exported[None, :] - axis[:, None]).argmin(axis=1)
    if np.max(np.abs(exported[nearest] - axis)) > _BE_TOLERANCE_EV:
        raise ValueError("the spectrum's axis no longer matches the exported channels "
                         "(shifted or resampled?); the CasaXPS curves cannot be aligned")
    return nearest
